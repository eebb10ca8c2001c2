"""Trajectory pictures: paths on a contour (or on the curve, in 1-D) beside loss-vs-step."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from optviz.render.style import colours_for
from optviz.result import Run, Surface, TrajectoryResult

# How far beyond the function's domain the view may grow to keep a path in sight.
MAX_OVERSHOOT = 0.5
LOSS_FLOOR = 1e-16


def _array(rows: Sequence[Sequence[float | None]] | Sequence[float | None]) -> np.ndarray:
    return np.array(rows, dtype=float)  # None becomes nan


def choose_view(result: TrajectoryResult) -> list[tuple[float, float]]:
    """The domain, grown to keep every finite point in sight, but never by more than half the
    domain's width on a side, so that a diverging path cannot drag the view away."""
    view = []
    for axis, (lo, hi) in enumerate(result.domain):
        span = hi - lo
        vals = np.concatenate(
            [_array(run.points)[:, axis] for run in result.runs] or [np.array([])]
        )
        vals = vals[np.isfinite(vals)]
        vals = vals[(vals >= lo - MAX_OVERSHOOT * span) & (vals <= hi + MAX_OVERSHOOT * span)]
        if vals.size:
            pad = 0.04 * span
            lo, hi = min(lo, vals.min() - pad), max(hi, vals.max() + pad)
        view.append((float(lo), float(hi)))
    return view


def draw_contour(ax: Axes, surface: Surface, log: bool, n: int = 24) -> Axes:
    """Faint filled contours with darker lines on top, dense near the minimum: levels are
    geometric in f − min for steep functions and quadratic otherwise."""
    z = np.asarray(surface.z, dtype=float)
    zmin = float(np.nanmin(z))
    span = max(float(np.nanmax(z)) - zmin, 1e-12)
    if log:
        floor = span * 1e-5
        height = np.maximum(z - zmin, floor)
        levels = np.geomspace(floor, span, n)
        norm = LogNorm(vmin=floor, vmax=span)
        ax.contourf(surface.xs, surface.ys, height, levels=levels, cmap="Blues_r", norm=norm,
                    alpha=0.35)
        ax.contour(surface.xs, surface.ys, height, levels=levels, colors="#5a6b7b",
                   linewidths=0.6, alpha=0.7)
        return ax
    levels = zmin + span * np.linspace(0.0, 1.0, n) ** 2
    ax.contourf(surface.xs, surface.ys, z, levels=levels, cmap="Blues_r", alpha=0.35)
    ax.contour(surface.xs, surface.ys, z, levels=levels, colors="#5a6b7b", linewidths=0.6,
               alpha=0.7)
    return ax


def run_label(run: Run) -> str:
    return f"{run.label} — diverged at step {run.diverged}" if run.diverged else run.label


def draw_path(ax: Axes, run: Run, colour: str, values: np.ndarray | None = None) -> Axes:
    """One path with markers and an end marker; in 1-D ``values`` gives the heights."""
    pts = _array(run.points)
    xs = pts[:, 0]
    ys = pts[:, 1] if values is None else values
    n = int(np.isfinite(xs).sum())
    ms = 3.5 if n <= 60 else 2.5
    ax.plot(xs, ys, "-o", color=colour, lw=1.4, ms=ms, alpha=0.9, label=run_label(run),
            zorder=3)
    if n:
        end = "X" if run.diverged else "s"
        ax.plot(xs[n - 1], ys[n - 1], end, color=colour, ms=8, mec="white", mew=1.0, zorder=5)
    return ax


def draw_marks(ax: Axes, result: TrajectoryResult, heights: Sequence[float] | None = None) -> Axes:
    """The start (white dot) and the known minima (gold stars)."""
    if result.dim == 1:
        fmin = result.f_min if result.f_min is not None else 0.0
        for m in result.minima:
            ax.plot(m[0], fmin, "*", color="gold", mec="black", ms=15, zorder=6)
        ax.plot(result.start[0], heights[0] if heights else 0.0, "o", color="white",
                mec="black", ms=9, zorder=6)
        return ax
    for m in result.minima:
        ax.plot(m[0], m[1], "*", color="gold", mec="black", ms=15, zorder=6)
    ax.plot(*result.start, "o", color="white", mec="black", ms=9, zorder=6)
    return ax


def draw_loss(ax: Axes, runs: Sequence[Run], colours: Sequence[str], f_min: float | None) -> Axes:
    """Loss (minus the known minimum, when there is one) against step, on a log axis."""
    for run, colour in zip(runs, colours, strict=True):
        loss = _array(run.loss)
        steps = np.arange(loss.size)
        if f_min is not None:
            loss = np.maximum(loss - f_min, LOSS_FLOOR)
        ax.plot(steps, loss, "-", color=colour, lw=1.6, marker="o" if loss.size <= 40 else None,
                ms=3)
        if run.diverged:
            k = run.diverged - 1
            ax.plot(k, loss[k], "X", color=colour, ms=9, mec="white")
    if f_min is not None:
        ax.set_yscale("log")
        ax.set_ylabel("f(x) − f*" if f_min != 0 else "f(x)")
    else:
        ax.set_yscale("symlog", linthresh=1e-2)
        ax.set_ylabel("f(x)")
    ax.set_xlabel("step")
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title("loss")
    return ax


def trajectory_figure(result: TrajectoryResult, surface: Surface,
                      view: Sequence[tuple[float, float]]) -> Figure:
    """The whole picture: contour (or curve) with paths, loss panel, legend and title."""
    fig = Figure(figsize=(13, 5.8), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1.25, 1])
    colours = colours_for([run.optimizer for run in result.runs])
    if result.dim == 1:
        left.plot(surface.xs, surface.z, color="#5a6b7b", lw=1.5)
        for run, colour in zip(result.runs, colours, strict=True):
            heights = _array(run.loss)
            draw_path(left, run, colour, values=heights)
        draw_marks(left, result, heights=[result.runs[0].loss[0]] if result.runs else None)
        left.set_xlim(*view[0])
        zmin, zmax = float(np.min(surface.z)), float(np.max(surface.z))
        pad = 0.05 * (zmax - zmin)
        left.set_ylim(zmin - pad, zmax + pad)
        left.set_xlabel("x")
        left.set_ylabel("f(x)")
    else:
        draw_contour(left, surface, result.log_levels)
        for run, colour in zip(result.runs, colours, strict=True):
            draw_path(left, run, colour)
        draw_marks(left, result)
        left.set_xlim(*view[0])
        left.set_ylim(*view[1])
        left.set_xlabel("x")
        left.set_ylabel("y")
        left.set_aspect("auto")
    left.set_title(f"{result.formula}  ({result.function}), {result.steps} steps")
    draw_loss(right, result.runs, colours, result.f_min)
    ncol = 1 if len(result.runs) <= 3 else 2 if len(result.runs) <= 8 else 3
    fig.legend(loc="outside lower center", ncols=ncol, fontsize=9, frameon=False)
    return fig


def draw_panel(ax: Axes, result: TrajectoryResult, surface: Surface,
               view: Sequence[tuple[float, float]], title: str | None = None) -> Axes:
    """One contour panel with its paths (no loss curve): the article's 2 x 4 grid cell."""
    colours = colours_for([run.optimizer for run in result.runs])
    if result.dim == 1:
        ax.plot(surface.xs, surface.z, color="#5a6b7b", lw=1.2)
        for run, colour in zip(result.runs, colours, strict=True):
            draw_path(ax, run, colour, values=_array(run.loss))
        draw_marks(ax, result, heights=[result.runs[0].loss[0]] if result.runs else None)
        ax.set_xlim(*view[0])
        zmin, zmax = float(np.min(surface.z)), float(np.max(surface.z))
        ax.set_ylim(zmin - 0.05 * (zmax - zmin), zmax + 0.05 * (zmax - zmin))
    else:
        draw_contour(ax, surface, result.log_levels)
        for run, colour in zip(result.runs, colours, strict=True):
            draw_path(ax, run, colour)
        draw_marks(ax, result)
        ax.set_xlim(*view[0])
        ax.set_ylim(*view[1])
    if title is None and len(result.runs) == 1:
        title = run_label(result.runs[0])
    if title:
        ax.set_title(title, fontsize=10)
    if len(result.runs) > 1 or (result.runs and result.runs[0].diverged and title):
        ax.legend(fontsize=7, loc="best", framealpha=0.8)
    ax.tick_params(labelsize=8)
    return ax


def panels_figure(panels: Sequence[tuple[str | None, TrajectoryResult, Surface,
                                         Sequence[tuple[float, float]]]],
                  rows: int, cols: int, title: str | None = None) -> Figure:
    """A rows x cols grid of contour panels; empty cells are hidden."""
    fig = Figure(figsize=(4 * cols, 3.6 * rows + (0.4 if title else 0)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, (panel_title, result, surface, view) in zip(axes, panels, strict=False):
        draw_panel(ax, result, surface, view, panel_title)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig
