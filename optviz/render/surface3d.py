"""The 3-D view: the function as a surface with its contour projected beneath, and each path
lifted onto it (height = the loss at each point), beside the loss panel; or a grid of 3-D
panels.

Functions whose values span decades (those drawn with log contour levels: Rosenbrock, Beale,
Himmelblau, Goldstein-Price) are drawn at height log₁₀(f − f*), and the z axis says so.

The surface is grey (its heights in light and dark, not in hue), so that the paths, in their
optimizers' colours, read on it; the minimum is the stills' star outline, on top.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from optviz.render.model_fit import draw_fit, has_data
from optviz.render.style import (
    MINIMUM_STAR,
    MINIMUM_STAR_SIZE,
    Z_ENDS,
    Z_MINIMUM,
    Z_PATH,
    Z_PATH_STEP,
    styles_for,
)
from optviz.render.trajectory import draw_loss, draw_lr, draw_model_loss, draw_state, run_label
from optviz.results import Surface, TrajectoryResult

GRID = 60  # the surface's mesh: this many samples a side (the contour beneath keeps them all)
DECADES = 8  # log heights span at most this many decades below the top of the view
GREYS = (0.30, 0.93)  # the surface's colour map: this stretch of grey, dark (low) to light


def grey_map():
    """The surface's colour map: greys, no hue, so a blue path reads on a low surface."""
    import matplotlib
    from matplotlib.colors import ListedColormap, to_hex

    grey = matplotlib.colormaps["gray"]
    return ListedColormap([to_hex(grey(v)) for v in np.linspace(*GREYS, 64)], name="optviz_grey")


class Heights:
    """How a loss becomes a height: f itself, or log₁₀(f − f*) for steep functions, floored at
    the lowest value the drawn surface reaches (its mesh, averaged: ``mesh``; at most DECADES
    below the top). f* itself, the bottom of log's crease, and every point of a path below
    that floor are drawn on it: a path lower than the surface shows could only be drawn
    through it, and a minimum's star far below it, on the floor of the box (the loss panel
    beside keeps the exact values)."""

    def __init__(self, result: TrajectoryResult, surface: Surface) -> None:
        z = np.asarray(surface.z, dtype=float)
        self.log = bool(result.log_levels)
        self.base = result.f_min if result.f_min is not None else float(np.nanmin(z))
        top = float(np.nanmax(z)) - self.base
        self.floor = max(top, 1e-300) * 10.0 ** -DECADES
        if self.log:
            drawn = float(np.nanmin(mesh(surface)[2])) - self.base
            if drawn > 0:
                self.floor = max(self.floor, drawn)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        if not self.log:
            return values
        with np.errstate(invalid="ignore"):
            return np.log10(np.maximum(values - self.base, self.floor))

    def label(self) -> str:
        if not self.log:
            return "f(x, y)"
        return "log₁₀(f − f*)" if self.base else "log₁₀ f"


def _smooth(values: np.ndarray, width: int, axis: int) -> np.ndarray:
    """Running means of ``width`` samples along ``axis``, centred (shorter at the ends)."""
    values = np.moveaxis(values, axis, -1)
    pad = [(0, 0)] * (values.ndim - 1) + [(1, 0)]
    sums = np.cumsum(np.pad(values, pad), axis=-1)
    n = values.shape[-1]
    lo = np.clip(np.arange(n) - width // 2, 0, n)
    hi = np.clip(np.arange(n) + width - width // 2, 0, n)
    out = (np.take(sums, hi, axis=-1) - np.take(sums, lo, axis=-1)) / (hi - lo)
    return np.moveaxis(out, -1, axis)


def mesh(surface: Surface) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The surface's mesh, at most GRID nodes a side, each the mean of f over the samples within
    two mesh cells of it (before any log). Sampled at the nodes alone, log's deep, narrow crease
    along a valley floor (Rosenbrock's y = x²) fell at a different depth in every row of the
    mesh: a comb of spikes hanging from the valley like a curtain. Averaged, the floor is as
    deep as the mesh can show; the paths keep their exact heights."""
    xs, ys = np.asarray(surface.xs, dtype=float), np.asarray(surface.ys, dtype=float)
    z = np.asarray(surface.z, dtype=float)
    ex, ey = -(-len(xs) // GRID), -(-len(ys) // GRID)
    pz = _smooth(_smooth(z, 4 * ey + 1, 0), 4 * ex + 1, 1)
    rows = np.unique(np.linspace(0, len(ys) - 1, min(GRID, len(ys))).round().astype(int))
    cols = np.unique(np.linspace(0, len(xs) - 1, min(GRID, len(xs))).round().astype(int))
    gx, gy = np.meshgrid(xs[cols], ys[rows])
    return gx, gy, pz[np.ix_(rows, cols)]


def draw_surface3d(ax, result: TrajectoryResult, surface: Surface, title: str | None = None,
                   fontsize: float = 10) -> Heights:
    """Surface, projected contour, paths with end markers, start and minima on a 3-D axes."""
    heights = Heights(result, surface)
    xs, ys = np.asarray(surface.xs, dtype=float), np.asarray(surface.ys, dtype=float)
    h = heights(np.asarray(surface.z, dtype=float))
    gx, gy = np.meshgrid(xs, ys)
    mx, my, mz = mesh(surface)
    mh = heights(mz)
    lifted = [heights(np.array(run.loss, dtype=float)) for run in result.runs]
    fmin = result.f_min if result.f_min is not None else heights.base
    lows = [float(np.nanmin(v)) for v in lifted if np.isfinite(v).any()]
    if result.minima:
        lows.append(float(heights(np.array([fmin]))[0]))
    lo, hi = min([float(np.nanmin(h)), *lows]), float(np.nanmax(h))
    below = lo - 0.35 * (hi - lo if hi > lo else 1.0)
    ax.computed_zorder = False  # paths stay above the surface, drawn in this order
    greys = grey_map()
    ax.contourf(gx, gy, h, zdir="z", offset=below, levels=20, cmap=greys, alpha=0.55,
                zorder=0)
    ax.plot_surface(mx, my, mh, cmap=greys, alpha=0.6, linewidth=0, antialiased=False,
                    rcount=GRID, ccount=GRID, zorder=1)
    styles = styles_for([run.optimizer for run in result.runs])
    for k, (run, style) in enumerate(zip(result.runs, styles, strict=True)):
        pts = np.array(run.points, dtype=float)
        z = lifted[k]
        ax.plot(pts[:, 0], pts[:, 1], z, "-", marker=style.marker, ms=2.5, lw=1.6,
                color=style.colour, label=run_label(run), zorder=Z_PATH + Z_PATH_STEP * k)
        n = int(np.isfinite(pts[:, 0]).sum())
        if n > 1:
            ax.plot([pts[n - 1, 0]], [pts[n - 1, 1]], [z[n - 1]], "X" if run.diverged else "s",
                    color=style.colour, ms=7, mec="white", zorder=Z_ENDS)
    if result.runs:
        z0 = heights(np.array([result.runs[0].loss[0]], dtype=float))[0]
        ax.plot([result.start[0]], [result.start[1]], [z0], "o", color="white", mec="black",
                ms=8, zorder=Z_ENDS)
    for m in result.minima:
        zm = heights(np.array([fmin]))[0]
        for j, layer in enumerate(MINIMUM_STAR):  # the stills' outline star, on top
            ax.plot([m[0]], [m[1]], [zm], ls="", ms=MINIMUM_STAR_SIZE - 2,
                    zorder=Z_MINIMUM + 0.01 * j, **layer)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_zlim(below, hi)
    axes = result.problem["axes"] if result.problem else ["x", "y"]
    ax.set_xlabel(axes[0], fontsize=fontsize - 1)
    ax.set_ylabel(axes[1], fontsize=fontsize - 1)
    # Upright, whatever the camera: left to turn with the axis, a turning camera (--rotate)
    # put the label upside down, mirrored, once the z axis crossed to the other side.
    ax.zaxis.set_rotate_label(False)
    ax.set_zlabel(heights.label(), fontsize=fontsize - 1, rotation=90)
    ax.tick_params(labelsize=fontsize - 3)
    ax.view_init(elev=32, azim=-60)
    if title:
        ax.set_title(title, fontsize=fontsize)
    return heights


def surface3d_figure(result: TrajectoryResult, surface: Surface) -> Figure:
    """The 3-D overlay: the surface with the paths on the left; loss (and LR, state) right."""
    has_lr = any(run.lr is not None for run in result.runs)
    has_state = any(run.state is not None for run in result.runs)
    n_right = 1 + has_lr + has_state + has_data(result)
    fig = Figure(figsize=(13, 5.8 if n_right == 1 else 2.9 * n_right + 1.2), layout="constrained")
    grid = fig.add_gridspec(n_right, 2, width_ratios=[1.3, 1])
    left = fig.add_subplot(grid[:, 0], projection="3d")
    right = [fig.add_subplot(grid[i, 1]) for i in range(n_right)]
    styles = styles_for([run.optimizer for run in result.runs])
    if has_data(result):  # the linear model: its data and each run's fit
        draw_fit(right.pop(0), result, styles)
    if result.problem:
        title = f"{result.formula}: loss over the weights, {result.problem['epochs']} epochs"
        draw_model_loss(right[0], result, styles)
    else:
        title = f"{result.formula}  ({result.function}), {result.steps} steps"
        draw_loss(right[0], result.runs, styles, result.f_min)
    draw_surface3d(left, result, surface, title)
    if has_lr:
        draw_lr(right[1], result, styles)
    if has_state:
        draw_state(right[-1], result, styles)
    ncol = 1 if len(result.runs) <= 3 else 2 if len(result.runs) <= 8 else 3
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=ncol, fontsize=9,
               frameon=False)
    return fig


def panels3d_figure(panels: Sequence[tuple[str | None, TrajectoryResult, Surface, object]],
                    rows: int, cols: int, title: str | None = None) -> Figure:
    """A rows x cols grid of 3-D panels, one per panel result."""
    fig = Figure(figsize=(4.4 * cols, 4.0 * rows + (0.4 if title else 0)),
                 layout="constrained")
    for i, (panel_title, result, surface, _) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, i + 1, projection="3d")
        if panel_title is None and len(result.runs) == 1:
            panel_title = run_label(result.runs[0])
        draw_surface3d(ax, result, surface, panel_title, fontsize=9)
        if len(result.runs) > 1:
            ax.legend(fontsize=7, loc="upper right")
    if title:
        fig.suptitle(title)
    return fig
