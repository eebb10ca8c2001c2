"""Sweep pictures: the final loss against learning rate, with the loss the best lr is picked
by (the worst of the last steps) beside it and the best marked, next to the best lr's path
on the contour."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from optviz.render.style import colours_for
from optviz.render.trajectory import draw_panel
from optviz.results import Surface

if TYPE_CHECKING:
    from optviz.results import SweepResult

DIVERGED = "#d62728"
BEST = "gold"
BEST_EDGE = "#b8860b"  # the best lr's hollow star and its vertical line
ARRIVED = "#7f7f7f"


def _values(values: Sequence[float | int | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def draw_sweep(ax: Axes, result: SweepResult, colour: str) -> Axes:
    """The final loss (minus f*, when known) against lr on log axes, solid with dots, and the
    tail loss, the worst of the last ``result.tail`` losses that the best is picked by, dashed;
    diverged lrs as red crosses along the top, the tolerance as a dotted line, the best lr as
    a star on the tail curve and a dashed vertical line, and the steps to the tolerance, where
    reached, as grey dots on a right-hand axis."""
    lrs = np.asarray(result.lr, dtype=float)
    final, tail = _values(result.final_loss), _values(result.tail_loss)
    if not np.isfinite(tail).any():
        # Nothing but crosses: fix the empty axis's range before anything autoscales it.
        ax.set_ylim(*((result.tol / 100, 1.0) if result.f_min is not None else (-1.0, 1.0)))
        ax.set_autoscaley_on(False)
        ax.text(0.5, 0.5, "every lr diverged", transform=ax.transAxes, ha="center",
                color=DIVERGED)
    f = "f(x)" if not result.f_min else "f(x) − f*"
    if result.f_min is not None:
        # No floor: a loss of exactly f* has no place on a log axis and is marked on its
        # bottom edge instead (below).
        y_final = final - result.f_min
        y = tail - result.f_min
        ax.set_yscale("log", nonpositive="mask")
    else:
        y_final, y = final, tail
        ax.set_yscale("symlog", linthresh=1e-2)
    ax.set_ylabel(f"{f} after {result.steps} steps")
    ax.plot(lrs, y_final, "-o", color=colour, lw=1.5, ms=3.5 if lrs.size <= 80 else 2,
            label=f"{result.label}: final {f}")
    ax.plot(lrs, y, "--", color=colour, lw=1.2, alpha=0.8,
            label=f"worst {f} of the last {result.tail} steps (picks the best)")
    if result.f_min is not None:
        _fit_log_axis(ax, result, np.concatenate([y_final, y]), lrs, y)
    diverged = np.array([d is not None for d in result.diverged])
    if diverged.any():
        top = blended_transform_factory(ax.transData, ax.transAxes)
        ax.plot(lrs[diverged], np.full(diverged.sum(), 0.97), "x", color=DIVERGED, ms=7,
                mew=1.6, transform=top, clip_on=False, label="diverged")
    if result.best is not None:
        b = result.best
        ax.axvline(lrs[b], ls="--", color=BEST_EDGE, lw=1.0, zorder=1)
        at = y[b] if np.isfinite(y[b]) and y[b] > 0 else ax.get_ylim()[0]
        # Hollow (a dark-gold outline on a white halo): the dip's bottom shows through it.
        ax.plot(lrs[b], at, "*", mfc="none", mec="white", mew=3.0, ms=17, zorder=6,
                clip_on=False)
        ax.plot(lrs[b], at, "*", mfc="none", mec=BEST_EDGE, mew=1.5, ms=17, zorder=6.01,
                clip_on=False, label=f"best lr = {lrs[b]:.3g}")
    ax.set_xscale("log")
    # The axis spans the swept grid exactly (no margin past its ends: lr 1 is the last).
    finite = lrs[np.isfinite(lrs) & (lrs > 0)]
    if finite.size > 1:
        ax.set_xlim(float(finite.min()), float(finite.max()))
    ax.set_xlabel("learning rate")
    ax.grid(True, which="major", alpha=0.3)
    arrived = _values(result.steps_to_tol)
    if np.isfinite(arrived).any():
        twin = ax.twinx()
        twin.plot(lrs, arrived, "o", color=ARRIVED, ms=3, alpha=0.6)
        twin.set_ylabel("steps to the tolerance (grey dots)", color=ARRIVED)
        twin.tick_params(axis="y", colors=ARRIVED)
        twin.set_ylim(0, result.steps * 1.05)
        ax.set_zorder(twin.get_zorder() + 1)  # the loss curve and the star stay on top
        ax.patch.set_visible(False)
    ax.legend(loc="best", fontsize=8, framealpha=0.85)
    title = f"loss against lr ({len(lrs)} values, {result.steps} steps each)"
    if result.f_min is not None:
        lo, hi = ax.get_ylim()
        if not lo <= result.tol <= hi:
            where = "below" if result.tol < lo else "above"
            title += f"\ntolerance {result.tol:.3g}: {where} the axis"
    if not diverged.any():
        title += ("; " if "\n" in title else "\n") + "no lr diverged"
    ax.set_title(title)
    return ax


def _fit_log_axis(ax: Axes, result: SweepResult, values: np.ndarray, lrs: np.ndarray,
                  tail: np.ndarray) -> None:
    """The y-axis spans the data (a third of a decade of room either side); the tolerance is a
    line where it falls inside that range and a note in the legend where it does not, so that it
    never squeezes the curves. Losses of exactly f* are triangles on the bottom edge."""
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size:
        lo, hi = float(positive.min()), float(positive.max())
        lo, hi = lo / 10 ** 0.35, max(hi * 10 ** 0.35, lo * 10)
        ax.set_ylim(lo, hi)
        ax.set_autoscaley_on(False)
    else:
        lo, hi = ax.get_ylim()
    if lo <= result.tol <= hi:
        ax.axhline(result.tol, ls=":", color=ARRIVED, lw=1.2,
                   label=f"tolerance {result.tol:.3g}")
    # Outside the range the tolerance is no line, so it gets no legend entry: the title says
    # where it is (draw_sweep).
    exact = np.isfinite(tail) & (tail <= 0)
    if exact.any():
        bottom = blended_transform_factory(ax.transData, ax.transAxes)
        ax.plot(lrs[exact], np.zeros(exact.sum()), "v", color=ARRIVED, mec="black", ms=7,
                transform=bottom, clip_on=False, label="reached f* exactly")


def sweep_figure(result: SweepResult, surface: Surface, view: Sequence[tuple[float, float]],
                 title: str | None = None) -> Figure:
    """The whole picture: the sweep on the left, the best lr's path on the right."""
    fig = Figure(figsize=(13, 5.8), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.1])
    (colour,) = colours_for([result.optimizer])
    draw_sweep(left, result, colour)
    assert result.best_run is not None
    if result.best is None:
        panel_title = "every lr diverged"
    else:
        b = result.best
        reached = result.steps_to_tol[b]
        when = f", within tolerance at step {reached}" if reached is not None else ""
        panel_title = f"best: lr = {result.lr[b]:.3g}{when}"
    draw_panel(right, result.best_run, surface, view, panel_title)
    # draw_panel colours by optimizer name, as the left panel does: the same colour on both.
    right.set_xlabel("x")
    right.set_ylabel("y" if len(result.best_run.domain) > 1 else "f(x)")
    fig.suptitle(title or f"{result.label} on {result.function} ({result.formula}): lr sweep")
    return fig
