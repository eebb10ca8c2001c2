"""Basin maps: per start on a grid, the final loss (on a log colour scale) or the steps to the
tolerance (on a linear one) as an image under the function's contour lines, minima marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap, LogNorm, Normalize, SymLogNorm, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from optviz.render.style import MINIMUM_STAR, wrap_items
from optviz.render.trajectory import draw_contour, draw_minimum
from optviz.results import Surface

if TYPE_CHECKING:
    from optviz.results import BasinResult

CMAP = "viridis"
DIVERGED = "#d62728"
NOT_REACHED = "#d9d9d9"
# One colour per known minimum (--metric minimum), none of them the diverged red or gold.
MINIMUM_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
                   "#17becf", "#bcbd22")
NONE = "#ffffff"
# draw_contour fills at zorder 1 and draws its lines at 2: the image sits between, covering
# the fill and keeping the lines on top.
IMAGE_Z = 1.5


def basin_values(result: BasinResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The image (grid x grid, row i = ys[i]) of the metric, NaN where it has no value, and
    the masks of the diverged and (for steps) the never-arrived starts."""
    shape = (result.grid, result.grid)
    diverged = (np.asarray(result.diverged) > 0).reshape(shape)
    if result.metric == "steps":
        steps = np.asarray(result.steps_to_tol, dtype=float).reshape(shape)
        missing = (steps < 0) & ~diverged
        values = np.where((steps < 0) | diverged, np.nan, steps)
        return values, diverged, missing
    if result.metric == "minimum" and result.reached is not None:
        reached = np.asarray(result.reached, dtype=float).reshape(shape)
        values = np.where(diverged, np.nan, reached)  # -1: no known minimum
        return values, diverged, np.zeros(shape, dtype=bool)
    loss = np.asarray(result.final_loss, dtype=float).reshape(shape)
    if result.f_min is not None:
        # No floor: a start that lands on f* exactly (0) is drawn in the colour bar's lowest
        # colour, which the bar's pointed end says means "this or less".
        loss = loss - result.f_min
    values = np.where(diverged, np.nan, loss)
    return values, diverged, np.zeros(shape, dtype=bool)


def _norm(values: np.ndarray, result: BasinResult) -> Normalize:
    finite = values[np.isfinite(values)]
    if result.metric == "steps":
        # Step counts of the starts that arrive cluster within a factor of a few: a linear
        # scale from the fastest to the slowest start separates them; a log one does not.
        lo = float(finite.min()) if finite.size else 0.0
        hi = float(finite.max()) if finite.size else 1.0
        return Normalize(vmin=lo, vmax=max(hi, lo + 1))
    if result.f_min is None:  # unbounded below: the values may be negative
        return SymLogNorm(linthresh=1e-2, vmin=float(finite.min()) if finite.size else -1.0,
                          vmax=float(finite.max()) if finite.size else 1.0)
    positive = finite[finite > 0]
    hi = float(positive.max()) if positive.size else 1.0
    lo = float(positive.min()) if positive.size else hi / 10
    # Twelve decades at most, so a few starts that landed (nearly) on f* do not wash out the
    # colours of all the others; the colour bar's pointed end says the lowest colour means
    # "this or less".
    lo = max(lo, hi * 1e-12)
    return LogNorm(vmin=lo, vmax=max(hi, lo * 10), clip=True)


def draw_basin(ax: Axes, result: BasinResult, surface: Surface) -> Axes:
    """The metric image with the diverged (and never-arrived) starts in their own colours,
    the contour lines over it and the minima as outlined stars (``style.MINIMUM_STAR``);
    ``ax.images[0]`` holds the metric, for a colour bar."""
    values, diverged, missing = basin_values(result)
    (x0, x1), (y0, y1) = result.domain
    # Starts lie on the grid's nodes, edge to edge: each pixel is centred on its start.
    dx = (x1 - x0) / (result.grid - 1) / 2
    dy = (y1 - y0) / (result.grid - 1) / 2
    extent = (x0 - dx, x1 + dx, y0 - dy, y1 + dy)
    if result.metric == "minimum":
        k = len(result.minima)
        cmap = ListedColormap([NONE, *[MINIMUM_COLOURS[i % len(MINIMUM_COLOURS)]
                                       for i in range(k)]])
        ax.imshow(np.ma.masked_invalid(values + 1), origin="lower", extent=extent, cmap=cmap,
                  norm=Normalize(vmin=-0.5, vmax=k + 0.5), interpolation="nearest",
                  aspect="auto", zorder=IMAGE_Z, alpha=0.8)
    else:
        ax.imshow(np.ma.masked_invalid(values), origin="lower", extent=extent, cmap=CMAP,
                  norm=_norm(values, result), interpolation="nearest", aspect="auto",
                  zorder=IMAGE_Z)
    overlay = np.zeros((*values.shape, 4))
    overlay[diverged] = to_rgba(DIVERGED)
    overlay[missing] = to_rgba(NOT_REACHED)
    if diverged.any() or missing.any():
        ax.imshow(overlay, origin="lower", extent=extent, interpolation="nearest",
                  aspect="auto", zorder=IMAGE_Z)
    draw_contour(ax, surface, result.log_levels)
    for i, m in enumerate(result.minima):
        draw_minimum(ax, m[0], m[1])
        if result.metric == "minimum" and len(result.minima) > 1:
            ax.annotate(str(i + 1), (m[0], m[1]), xytext=(7, 5), textcoords="offset points",
                        fontsize=9, fontweight="bold", zorder=9,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.8,
                              "lw": 0})
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("start x")
    ax.set_ylabel("start y")
    handles = []
    if result.metric == "minimum":
        counts = np.bincount(np.nan_to_num(values, nan=-1).astype(int).ravel() + 1,
                             minlength=len(result.minima) + 1)
        for i, m in enumerate(result.minima):
            colour = MINIMUM_COLOURS[i % len(MINIMUM_COLOURS)]
            name = f"{i + 1}: " if len(result.minima) > 1 else ""
            handles.append(Patch(color=colour, alpha=0.8, label=f"reached minimum {name}"
                                 f"({m[0]:.3g}, {m[1]:.3g}): {int(counts[i + 1])} starts"))
        handles.append(Patch(fc=NONE, ec="#999999", label=f"no known minimum: "
                             f"{int(counts[0])} starts"))
    elif result.minima:
        handles.append(Line2D([], [], ls="", marker="*", mfc="none",
                              mec=MINIMUM_STAR[-1]["mec"], mew=1.0, ms=12,
                              label="known minimum"))
    if diverged.any():
        handles.append(Patch(color=DIVERGED, label=f"diverged ({int(diverged.sum())})"))
    if missing.any():
        handles.append(Patch(color=NOT_REACHED, label=f"not within tolerance "
                                                      f"({int(missing.sum())})"))
    if handles:
        if result.metric == "minimum":  # beside the map: it would cover a basin
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                      fontsize=8, frameon=False)
        else:
            ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.85
                      ).set_zorder(9)
    return ax


def basin_figure(result: BasinResult, surface: Surface, title: str | None = None) -> Figure:
    """The whole picture: the basin map with its colour bar and a title saying what ran."""
    # --metric minimum keeps its legend beside the map: a wider, lower canvas.
    size = (11, 6.6) if result.metric == "minimum" else (8.4, 7)
    fig = Figure(figsize=size, layout="constrained")
    ax = fig.subplots()
    draw_basin(ax, result, surface)
    ax.set_aspect("equal", adjustable="box")
    if result.metric == "minimum":
        what = "the known minimum each start reaches"
        if result.reach_radius is not None:
            what += f" (ends within {result.reach_radius:.2g})"
    elif result.metric == "steps":
        what = f"steps to f − f* ≤ {result.tol:.3g}"
    elif result.f_min not in (None, 0):
        what = "final f(x) − f*"
    else:
        what = "final f(x)"
    if result.metric != "minimum":
        fig.colorbar(ax.images[0], ax=ax, label=what, shrink=0.9,
                     extend="min" if result.metric == "loss" else "neither")
    if result.metric == "steps":
        values = basin_values(result)[0]
        arrived = values[np.isfinite(values)]
        run = f"within {result.steps} steps"
        if arrived.size:
            # The colour bar spans the starts that arrived, not the budget: say both.
            run = f"within {result.steps} steps (slowest start: {int(arrived.max())})"
    else:
        run = f"after {result.steps} steps"
    heading = title or wrap_items([f"{result.label} on {result.function}:", what, f"{run},",
                                   f"from each of {result.grid}\u00a0×\u00a0{result.grid} starts"],
                                  60, " ")
    fig.suptitle(heading, fontsize=11)
    return fig
