"""Basin maps: per start on a grid, the final loss (on a log colour scale) or the steps to the
tolerance (on a linear one) as an image under the function's contour lines, minima marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm, Normalize, SymLogNorm, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from optviz.render.trajectory import LOSS_FLOOR, draw_contour
from optviz.results import Surface

if TYPE_CHECKING:
    from optviz.results import BasinResult

CMAP = "viridis"
DIVERGED = "#d62728"
NOT_REACHED = "#d9d9d9"
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
    loss = np.asarray(result.final_loss, dtype=float).reshape(shape)
    if result.f_min is not None:
        loss = np.maximum(loss - result.f_min, LOSS_FLOOR)
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
    hi = float(finite.max()) if finite.size else 1.0
    lo = float(finite.min()) if finite.size else hi / 10
    # Twelve decades at most, so a few starts that landed exactly on f* do not wash out the
    # colours of all the others.
    lo = max(lo, hi * 1e-12, LOSS_FLOOR)
    return LogNorm(vmin=lo, vmax=max(hi, lo * 10))


def draw_basin(ax: Axes, result: BasinResult, surface: Surface) -> Axes:
    """The metric image with the diverged (and never-arrived) starts in their own colours,
    the contour lines over it and the minima as gold stars; ``ax.images[0]`` holds the
    metric, for a colour bar."""
    values, diverged, missing = basin_values(result)
    (x0, x1), (y0, y1) = result.domain
    # Starts lie on the grid's nodes, edge to edge: each pixel is centred on its start.
    dx = (x1 - x0) / (result.grid - 1) / 2
    dy = (y1 - y0) / (result.grid - 1) / 2
    extent = (x0 - dx, x1 + dx, y0 - dy, y1 + dy)
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
    for m in result.minima:
        ax.plot(m[0], m[1], "*", color="gold", mec="black", ms=15, zorder=6)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("start x")
    ax.set_ylabel("start y")
    handles = []
    if result.minima:
        handles.append(Line2D([], [], ls="", marker="*", color="gold", mec="black", ms=12,
                              label="minimum"))
    if diverged.any():
        handles.append(Patch(color=DIVERGED, label=f"diverged ({int(diverged.sum())})"))
    if missing.any():
        handles.append(Patch(color=NOT_REACHED, label=f"not within tolerance "
                                                      f"({int(missing.sum())})"))
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.85)
    return ax


def basin_figure(result: BasinResult, surface: Surface, title: str | None = None) -> Figure:
    """The whole picture: the basin map with its colour bar and a title saying what ran."""
    fig = Figure(figsize=(8.4, 7), layout="constrained")
    ax = fig.subplots()
    draw_basin(ax, result, surface)
    if result.metric == "steps":
        what = f"steps to f − f* ≤ {result.tol:.3g}"
    elif result.f_min not in (None, 0):
        what = "final f(x) − f*"
    else:
        what = "final f(x)"
    fig.colorbar(ax.images[0], ax=ax, label=what, shrink=0.9)
    if result.metric == "steps":
        run = f"within {result.steps} steps"
    else:
        run = f"after {result.steps} steps"
    ax.set_title(title or f"{result.label} on {result.function}: {what}\n"
                 f"{run}, from each of {result.grid} × {result.grid} starts",
                 fontsize=11)
    return fig
