"""Trajectory pictures: paths on a contour (or on the curve, in 1-D) beside loss-vs-step."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from optviz.render.style import colours_for
from optviz.results import Run, Surface, TrajectoryResult

# How far beyond the function's domain the view may grow to keep a path in sight.
MAX_OVERSHOOT = 0.5
LOSS_FLOOR = 1e-16


def _array(rows: Sequence[Sequence[float | None]] | Sequence[float | None]) -> np.ndarray:
    return np.array(rows, dtype=float)  # None becomes nan


def choose_view(result: TrajectoryResult) -> list[tuple[float, float]]:
    """The domain, grown to take in the start (wherever the user put it) and to keep every
    finite point in sight, but never by more than half that width on a side, so that a
    diverging path cannot drag the view away."""
    view = []
    for axis, (lo, hi) in enumerate(result.domain):
        if axis < len(result.start) and math.isfinite(result.start[axis]):
            pad = 0.04 * (hi - lo)
            lo = min(lo, result.start[axis] - pad)
            hi = max(hi, result.start[axis] + pad)
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
    if run.slow_points is not None and values is None:
        # Lookahead's slow weights: a fainter path that moves only every k steps.
        slow = _array(run.slow_points)
        keep = np.concatenate([[True], np.any(np.diff(slow, axis=0) != 0, axis=1)])
        ax.plot(slow[keep, 0], slow[keep, 1], "--D", color=colour, lw=1.2, ms=4, alpha=0.45,
                zorder=2, label=f"{run.label}: slow weights")
    if n:
        end = "X" if run.diverged else "s"
        # Above the minimum's star: a run that converged ends on it, and its end must show.
        ax.plot(xs[n - 1], ys[n - 1], end, color=colour, ms=7, mec="white", mew=1.0, zorder=7)
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
    # The whole run on the axis, in whole steps, even when every run diverged early.
    longest = max((len(run.loss) - 1 for run in runs), default=0)
    if longest:
        ax.set_xlim(-0.03 * longest, 1.03 * longest)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
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


def _model_steps_per_epoch(result: TrajectoryResult, run: Run) -> int:
    epochs = result.problem["epochs"] if result.problem else 1
    return max(1, len(run.batch_loss or []) // max(1, epochs))


def in_epochs(result: TrajectoryResult) -> bool:
    """Whether a model's runs step at different rates (their own batch sizes): then the
    per-step panels share an axis of epochs, so that runs compare at the same data seen."""
    if result.problem is None:
        return False
    return len({_model_steps_per_epoch(result, r) for r in result.runs}) > 1


def _x(result: TrajectoryResult, run: Run, steps: np.ndarray) -> np.ndarray:
    """Step numbers, or epochs (steps over the run's steps per epoch) when runs differ."""
    if in_epochs(result):
        return steps / _model_steps_per_epoch(result, run)
    return steps


def draw_model_loss(ax: Axes, result: TrajectoryResult, colours: Sequence[str]) -> Axes:
    """A model's training loss: each step's mini-batch loss, and the mean of each epoch."""
    for run, colour in zip(result.runs, colours, strict=True):
        batch = _array(run.batch_loss or [])
        per_epoch = _model_steps_per_epoch(result, run)
        ax.plot(_x(result, run, np.arange(1, batch.size + 1)), batch, "-", color=colour,
                lw=0.8, alpha=0.45)
        means = _array(run.epoch_loss or [])
        ax.plot(_x(result, run, per_epoch * np.arange(1, means.size + 1)), means, "-o",
                color=colour, lw=1.6, ms=3.5)
        if run.diverged:
            ax.plot(_x(result, run, np.array(run.diverged)),
                    np.nanmax(batch) if np.isfinite(batch).any() else 1.0, "X",
                    color=colour, ms=9, mec="white")
    if result.f_min is not None and result.f_min > 0:
        ax.axhline(result.f_min, color="goldenrod", lw=1, ls="--", label="least-squares loss")
        ax.legend(fontsize=8, loc="upper right")
    ax.set_yscale("log")
    ax.set_xlabel("epoch" if in_epochs(result) else "step")
    ax.set_ylabel("MSE")
    ax.set_title("training loss: per step (faint) and epoch mean (dots)")
    ax.grid(True, which="major", alpha=0.3)
    return ax


def draw_lr(ax: Axes, result: TrajectoryResult, colours: Sequence[str]) -> Axes:
    """The LR each step used, for runs with a scheduler."""
    for run, colour in zip(result.runs, colours, strict=True):
        if run.lr is not None:
            lr = _array(run.lr)
            ax.plot(_x(result, run, np.arange(lr.size)), lr, "-", color=colour, lw=1.5,
                    drawstyle="steps-post",
                    marker="o" if lr.size <= 60 else None, ms=3)
    if all(run.lr is None for run in result.runs):  # a panel without a scheduler, in a grid
        lrs = ", ".join(f"{run.hyperparameters['lr']:g}" for run in result.runs
                        if isinstance(run.hyperparameters.get("lr"), (int, float)))
        ax.text(0.5, 0.5, f"no scheduler: the LR stays at {lrs}" if lrs else "no scheduler",
                ha="center", va="center", transform=ax.transAxes, fontsize=8)
        ax.set_yticks([])
    ax.set_xlabel("epoch" if in_epochs(result) else "step")
    ax.set_ylabel("learning rate")
    ax.set_title("learning rate used by each step")
    ax.grid(True, alpha=0.3)
    return ax


_STYLES = ("-", "--", ":", "-.")


def draw_state(ax: Axes, result: TrajectoryResult, colours: Sequence[str]) -> Axes:
    """Norms of the optimizer's state tensors after each step (log axis)."""
    shown = False
    for run, colour in zip(result.runs, colours, strict=True):
        for i, (key, series) in enumerate(sorted((run.state or {}).items())):
            values = _array(series)
            if not np.isfinite(values).any():
                continue
            ax.plot(_x(result, run, np.arange(1, values.size + 1)), np.abs(values),
                    _STYLES[i % len(_STYLES)],
                    color=colour, lw=1.3, label=f"{run.optimizer}: {key}")
            shown = True
    if shown:
        ax.set_yscale("log")
        ax.legend(fontsize=7, loc="best", ncols=2)
    else:
        ax.text(0.5, 0.5, "no state: the optimizer keeps none\n(SGD without momentum)",
                ha="center", va="center", transform=ax.transAxes, fontsize=8)
        ax.set_yticks([])
    ax.set_xlabel("epoch" if in_epochs(result) else "step")
    ax.set_title("optimizer state (state_dict) after each step")
    ax.grid(True, alpha=0.3)
    return ax


def trajectory_figure(result: TrajectoryResult, surface: Surface,
                      view: Sequence[tuple[float, float]]) -> Figure:
    """The whole picture: contour (or curve) with paths; on the right the loss, and the LR and
    optimizer state when the runs recorded them; legend and title."""
    has_lr = any(run.lr is not None for run in result.runs)
    has_state = any(run.state is not None for run in result.runs)
    n_right = 1 + has_lr + has_state
    fig = Figure(figsize=(13, 5.8 if n_right == 1 else 2.9 * n_right + 1.2), layout="constrained")
    grid = fig.add_gridspec(n_right, 2, width_ratios=[1.25, 1])
    left = fig.add_subplot(grid[:, 0])
    right = [fig.add_subplot(grid[i, 1]) for i in range(n_right)]
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
        axes = result.problem["axes"] if result.problem else ["x", "y"]
        left.set_xlabel(axes[0])
        left.set_ylabel(axes[1])
    if result.problem:
        where = "weights" if result.problem["points_are"] == "weights" else \
            "weights projected on the plane of their top two principal directions"
        left.set_title(f"{result.formula}: {where}, {result.problem['epochs']} epochs\n"
                       f"(gold star: least-squares solution)", fontsize=10)
        draw_model_loss(right[0], result, colours)
    else:
        left.set_title(f"{result.formula}  ({result.function}), {result.steps} steps")
        draw_loss(right[0], result.runs, colours, result.f_min)
    if has_lr:
        draw_lr(right[1], result, colours)
    if has_state:
        draw_state(right[-1], result, colours)
    ncol = 1 if len(result.runs) <= 3 else 2 if len(result.runs) <= 8 else 3
    fig.legend(handles=left.get_lines() and left.get_legend_handles_labels()[0],
               loc="outside lower center", ncols=ncol, fontsize=9, frameon=False)
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
        if result.problem:
            ax.set_xlabel(result.problem["axes"][0], fontsize=8)
            ax.set_ylabel(result.problem["axes"][1], fontsize=8)
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
    """A rows x cols grid of contour panels; empty cells are hidden. When a panel's runs
    recorded the LR (a scheduler) or the optimizer's state, every cell gains strips below its
    contour for them, so the grid stays aligned."""
    lr_strip = any(r.lr is not None for _, res, _, _ in panels for r in res.runs)
    state_strip = any(r.state is not None for _, res, _, _ in panels for r in res.runs)
    strips = int(lr_strip) + int(state_strip)
    cell_h = 3.6 + 1.5 * strips
    fig = Figure(figsize=(4 * cols, cell_h * rows + (0.4 if title else 0)),
                 layout="constrained")
    if not strips:
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
        for ax, (panel_title, result, surface, view) in zip(axes, panels, strict=False):
            draw_panel(ax, result, surface, view, panel_title)
        for ax in axes[len(panels):]:
            ax.set_visible(False)
    else:
        cells = np.atleast_1d(fig.subfigures(rows, cols, squeeze=False)).ravel()
        for cell, (panel_title, result, surface, view) in zip(cells, panels, strict=False):
            axes = cell.subplots(1 + strips, 1, height_ratios=[3.6] + [1.5] * strips,
                                 squeeze=False)[:, 0]
            draw_panel(axes[0], result, surface, view, panel_title)
            colours = colours_for([run.optimizer for run in result.runs])
            below = list(axes[1:])
            if lr_strip:
                _strip(draw_lr(below.pop(0), result, colours))
            if state_strip:
                _strip(draw_state(below.pop(0), result, colours))
    if title:
        fig.suptitle(title)
    return fig


def _strip(ax: Axes) -> None:
    """An LR or state panel shrunk to a strip under a grid cell's contour."""
    ax.set_title(ax.get_title(), fontsize=8)
    ax.xaxis.label.set_fontsize(8)
    ax.yaxis.label.set_fontsize(8)
    ax.tick_params(labelsize=7)
    legend = ax.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            text.set_fontsize(6)
