"""Trajectory pictures: paths on a contour (or on the curve, in 1-D) beside loss-vs-step."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from optviz.render.contours import contour_set, grid_key
from optviz.render.model_fit import draw_fit, has_data
from optviz.render.style import (
    MINIMUM_STAR,
    MINIMUM_STAR_SIZE,
    Z_ENDS,
    Z_LABEL,
    Z_MINIMUM,
    Z_PATH,
    Z_PATH_STEP,
    Z_SLOW,
    Style,
    styles_for,
    wrap_items,
)
from optviz.results import Run, Surface, TrajectoryResult

# How far beyond the function's domain the view may grow to keep a path in sight.
MAX_OVERSHOOT = 0.5
# With equal scale on both axes, the view's longer side is at most this many times the shorter
# (the shorter is widened around its centre), so that no panel becomes a sliver.
MAX_RATIO = 2.0
# Paths with more points than this show every n-th marker only, so that markers do not merge
# into a solid band that hides the runs below.
MAX_MARKERS = 60
# Two runs whose points agree to this (relative to the view) are said to be the same path;
# to NEAR_PATH (1%: a few pixels), to follow it (the legend says "≈ its path").
SAME_PATH = 1e-6
NEAR_PATH = 0.01
# A path's line width, and how much wider a run is drawn per later run whose line covers it.
PATH_WIDTH = 1.4
UNDER_WIDTH = 1.2
MAX_WIDTH = 8.0


def _c(colour: str | Style) -> str:
    return colour.colour if isinstance(colour, Style) else colour


def _array(rows: Sequence[Sequence[float | None]] | Sequence[float | None]) -> np.ndarray:
    return np.array(rows, dtype=float)  # None becomes nan


def equal_scale(result: TrajectoryResult, aspect: str | None = None) -> bool:
    """Whether a contour view is drawn at equal scale: ``aspect`` "equal" or "auto" as asked;
    None chooses equal wherever x and y mean the same thing, which is every 2-D test function
    (their domains are coordinates of one plane) and the linear model's weights or PCA plane
    (both axes in weight units)."""
    if aspect is not None:
        return aspect == "equal"
    return result.dim == 2


def choose_view(result: TrajectoryResult, aspect: str | None = None
                ) -> list[tuple[float, float]]:
    """The domain, grown to take in the start (wherever the user put it) and to keep every
    finite point in sight, but never by more than half that width on a side, so that a
    diverging path cannot drag the view away. At equal scale the shorter side is widened to
    at least 1/MAX_RATIO of the longer, so the panel is not a sliver."""
    view = _grown_view(result)
    if len(view) == 2 and equal_scale(result, aspect):
        spans = [hi - lo for lo, hi in view]
        short = int(spans[1] < spans[0])
        need = max(spans) / MAX_RATIO
        if spans[short] < need:
            lo, hi = view[short]
            mid, half = (lo + hi) / 2, need / 2
            view[short] = (mid - half, mid + half)
    return view


def square_view(view: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The view with its shorter side widened about its centre to the longer: at equal scale
    every grid panel then gets the same box, whatever its path."""
    view = [tuple(v) for v in view]
    if len(view) != 2:
        return list(view)
    side = max(hi - lo for lo, hi in view)
    return [((lo + hi) / 2 - side / 2, (lo + hi) / 2 + side / 2) for lo, hi in view]


def fitted_view(result: TrajectoryResult, pad: float = 0.08) -> list[tuple[float, float]]:
    """A grid panel's view chosen from its own path: the start, every finite point and the
    known minimum nearest the path's end, padded, never wider than ``choose_view``'s (so a
    diverging path cannot drag it away), and square."""
    outer = choose_view(result)
    if result.dim != 2:
        return outer
    pts = [np.asarray(result.start, dtype=float)[None, :2]]
    ends = []
    for run in result.runs:
        p = _array(run.points)
        p = p[np.isfinite(p).all(axis=1)]
        p = p[(p[:, 0] >= outer[0][0]) & (p[:, 0] <= outer[0][1])
              & (p[:, 1] >= outer[1][0]) & (p[:, 1] <= outer[1][1])]
        if p.size:
            pts.append(p)
            ends.append(p[-1])
    if result.minima:
        minima = np.asarray(result.minima, dtype=float)
        for end in ends or [np.asarray(result.start, dtype=float)]:
            pts.append(minima[np.argmin(np.hypot(*(minima - end).T))][None, :])
    both = np.concatenate(pts)
    lo, hi = both.min(axis=0), both.max(axis=0)
    side = max(float((hi - lo).max()), 1e-3 * max(b - a for a, b in outer))
    half = side * (0.5 + pad)
    mid = (lo + hi) / 2
    view = [(float(mid[i] - half), float(mid[i] + half)) for i in range(2)]
    # Never wider than the outer view: shift inside it where it can, else take it whole.
    out = []
    for (a, b), (oa, ob) in zip(view, outer, strict=True):
        if b - a >= ob - oa:
            out.append((oa, ob))
        else:
            shift = max(0.0, oa - a) - max(0.0, b - ob)
            out.append((a + shift, b + shift))
    return square_view(out)


def _grown_view(result: TrajectoryResult) -> list[tuple[float, float]]:
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
    geometric in f − min for steep functions and quadratic otherwise (traced once per
    surface and levels in a process: ``optviz.render.contours``)."""
    z = np.asarray(surface.z, dtype=float)
    zmin = float(np.nanmin(z))
    span = max(float(np.nanmax(z)) - zmin, 1e-12)
    fill: dict[str, Any] = {"cmap": "Blues_r", "alpha": 0.35}
    if log:
        floor = span * 1e-5
        z = np.maximum(z - zmin, floor)
        levels = np.geomspace(floor, span, n)
        fill["norm"] = LogNorm(vmin=floor, vmax=span)
    else:
        levels = zmin + span * np.linspace(0.0, 1.0, n) ** 2
    key = grid_key(surface.xs, surface.ys, z)
    contour_set(ax, surface.xs, surface.ys, z, filled=True, key=key, levels=levels, **fill)
    contour_set(ax, surface.xs, surface.ys, z, filled=False, key=key, levels=levels,
                colors="#5a6b7b", linewidths=0.6, alpha=0.7)
    return ax


def closure_note(run: Run) -> str | None:
    """What one step of a closure optimizer is: LBFGS's ``step(closure)`` runs up to
    ``max_iter`` inner iterations, each a function evaluation (``max_eval`` with a line
    search), so its step counts are not comparable with the others' one-gradient steps."""
    hp = run.hyperparameters
    if "max_iter" not in hp or not run.class_path.endswith("LBFGS"):
        return None
    if hp.get("line_search_fn"):
        return f"a step: up to {hp.get('max_eval')} function evaluations"
    return f"a step: up to {hp['max_iter']} function evaluations"


def run_label(run: Run) -> str:
    """The run's legend label, with its divergence step and, for LBFGS, what a step is."""
    label = run.label
    note = closure_note(run)
    if note:
        label = f"{label} — {note}"
    return f"{label} — diverged at step {run.diverged}" if run.diverged else label


def same_paths(runs: Sequence[Run], view: Sequence[tuple[float, float]] | None = None,
               tolerance: float = SAME_PATH) -> dict[int, int]:
    """Runs whose path is another's, earlier run's to within ``tolerance`` of the view's size:
    {later index: earlier index}. Such runs are drawn dashed over the first, and the legend
    says "= the first" (or "≈ the first" when they agree only to within NEAR_PATH)."""
    scale = max((hi - lo for lo, hi in view), default=1.0) if view else 1.0
    arrays = [_array(run.points) for run in runs]
    out: dict[int, int] = {}
    for j, b in enumerate(arrays):
        for i in range(j):
            a = arrays[i]
            if i in out or a.shape != b.shape:
                continue
            both = np.isfinite(a) & np.isfinite(b)
            if (np.array_equal(np.isfinite(a), np.isfinite(b))
                    and np.all(np.abs(a[both] - b[both]) <= tolerance * scale)):
                out[j] = i
                break
    return out


def _segment_distance(points: np.ndarray, path: np.ndarray) -> np.ndarray:
    """Each point's distance to the polyline ``path`` (finite points only)."""
    a, b = path[:-1], path[1:]
    ab = b - a
    length = np.maximum((ab ** 2).sum(axis=1), 1e-300)
    rel = points[:, None, :] - a[None, :, :]
    t = np.clip((rel * ab[None]).sum(axis=2) / length[None], 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    return np.sqrt(((points[:, None, :] - nearest) ** 2).sum(axis=2)).min(axis=1)


def covered_by_later(runs: Sequence[Run], view: Sequence[tuple[float, float]] | None,
                     tolerance: float = 0.008, share: float = 0.6) -> dict[int, int]:
    """{run index: how many later runs' lines lie over most of its path}: a run counts as
    covered by a later one when ``share`` of its points lie within ``tolerance`` of the view's
    size (a few pixels) of the later path's line, whatever the speeds along it (sign-like
    methods on one diagonal). Such a run is drawn wider, one width step per covering run, so
    it shows as a band on both sides of the lines above it."""
    scale = max((hi - lo for lo, hi in view), default=1.0) if view else 1.0
    paths = []
    for run in runs:
        p = _array(run.points)[:, :2]
        p = p[np.isfinite(p).all(axis=1)]
        paths.append(p[:: max(1, len(p) // 200)] if len(p) > 1 else p)
    out: dict[int, int] = {}
    for k, mine in enumerate(paths):
        if len(mine) < 2 or np.ptp(mine, axis=0).max() < tolerance * scale:
            continue  # a run that stays on its start hides under nothing but the start ring
        count = 0
        for later in paths[k + 1:]:
            if len(later) < 2:
                continue
            near = _segment_distance(mine, later) <= tolerance * scale
            count += bool(near.mean() >= share)
        if count:
            out[k] = count
    return out


def _labels(runs: Sequence[Run], same: dict[int, int], near: dict[int, int] | None = None
            ) -> list[str]:
    near = near or {}
    out = []
    for k, run in enumerate(runs):
        label = run_label(run)
        if k in same:
            label += f" = {runs[same[k]].label}"
        elif k in near:
            label += f" ≈ {runs[near[k]].label}'s path"
        out.append(label)
    return out


def _near_minimum(result: TrajectoryResult | None, x: float, y: float,
                  view: Sequence[tuple[float, float]] | None) -> bool:
    """Whether a point lies under a minimum's star (within 3% of the view's size)."""
    if result is None or not view:
        return False
    size = max(hi - lo for lo, hi in view)
    if result.dim == 1:  # the height follows the curve: the place along x decides
        return any(abs(x - m[0]) <= 0.03 * size for m in result.minima)
    return any(math.hypot(x - m[0], y - m[1]) <= 0.03 * size for m in result.minima)


def lookahead_jumps(run: Run) -> np.ndarray:
    """The steps t at which Lookahead moved its slow weights and reset the fast ones onto
    them: point t is then not where an inner step went but where the reset put the weights,
    so the move from t − 1 to t is a jump, not a step of the path."""
    if run.slow_points is None:
        return np.zeros(0, dtype=int)
    slow = _array(run.slow_points)
    moved = np.any(np.diff(slow, axis=0) != 0, axis=1) & np.all(np.isfinite(slow[1:]), axis=1)
    return np.flatnonzero(moved) + 1


def draw_path(ax: Axes, run: Run, colour: str | Style, values: np.ndarray | None = None,
              order: int = 0, label: str | None = None, twin: bool = False,
              result: TrajectoryResult | None = None,
              view: Sequence[tuple[float, float]] | None = None,
              width: float | None = None) -> Axes:
    """One path with markers and an end marker; in 1-D ``values`` gives the heights. ``order``
    (the run's place in the figure) lifts later runs a little above earlier ones; ``twin``
    (the same path as an earlier run) draws it dashed, without markers, so the first shows.
    The path takes its style's dash, which the legend shows; ``width`` its line width (wider
    for a run that later ones cover, ``covered_by_later``). Lookahead's resets are jumps: a
    gap in the path bridged by a thin dotted line. The end marker is filled; a minimum's star
    above it is an outline, so both show."""
    style = colour if isinstance(colour, Style) else Style(colour)
    pts = _array(run.points)
    xs = pts[:, 0]
    ys = pts[:, 1] if values is None else values
    n = int(np.isfinite(xs).sum())
    ms = 3.5 if n <= MAX_MARKERS else 2.5
    every = max(1, -(-n // MAX_MARKERS))
    z = Z_PATH + order * Z_PATH_STEP
    jumps = lookahead_jumps(run) if values is None else np.zeros(0, dtype=int)
    px, py = xs, ys
    if jumps.size:
        # A NaN before each reset point breaks the line there; the jump is drawn apart.
        px = np.insert(xs.astype(float), jumps, np.nan)
        py = np.insert(np.asarray(ys, dtype=float), jumps, np.nan)
    if twin:
        ax.plot(px, py, "--", color=style.colour, lw=width or 1.6, alpha=0.95, zorder=z,
                label=label or run_label(run))
    else:
        ax.plot(px, py, style.dash, marker=style.marker, color=style.colour,
                lw=width or PATH_WIDTH, ms=ms,
                markevery=every, alpha=0.85, label=label or run_label(run), zorder=z)
    if jumps.size:
        for t in jumps:
            ax.plot(xs[t - 1:t + 1], ys[t - 1:t + 1], ":", color=style.colour, lw=0.9,
                    alpha=0.9, zorder=z)
        ax.plot(xs[jumps], ys[jumps], "o", mfc="white", mec=style.colour, mew=1.0, ms=3.5,
                ls="", zorder=z + Z_PATH_STEP / 2,
                label=f"{run.label}: reset onto the slow weights (a jump)")
    if run.slow_points is not None and values is None:
        # Lookahead's slow weights move only every k steps: a point per move, joined. A reset
        # of the fast weights onto the slow ones is not a move of the slow weights.
        slow = _array(run.slow_points)
        keep = np.concatenate([[True], np.any(np.diff(slow, axis=0) != 0, axis=1)])
        ax.plot(slow[keep, 0], slow[keep, 1], "--D", color=style.colour, lw=1.2, ms=4,
                alpha=0.45, zorder=Z_SLOW, label=f"{run.label}: slow weights")
    if n:
        # Filled, always: the star above it is an outline, so its colour shows through.
        end = "X" if run.diverged else "s"
        ax.plot(xs[n - 1], ys[n - 1], end, color=style.colour, ms=7, mec="white",
                mew=1.0, zorder=Z_ENDS)
    return ax


def draw_minimum(ax: Axes, x: float, y: float, ms: float = MINIMUM_STAR_SIZE) -> Axes:
    """A known minimum: a star outline (``style.MINIMUM_STAR``: a thin dark edge on a white
    halo, no fill) above every path and end marker, so a run that ends on it shows both."""
    for k, layer in enumerate(MINIMUM_STAR):
        ax.plot(x, y, ls="", ms=ms, zorder=Z_MINIMUM + 0.01 * k, **layer)
    return ax


def draw_marks(ax: Axes, result: TrajectoryResult, heights: Sequence[float] | None = None) -> Axes:
    """The start (a black ring) and the known minima (hollow gold stars, on top of
    everything)."""
    if result.dim == 1:
        fmin = result.f_min if result.f_min is not None else 0.0
        for m in result.minima:
            draw_minimum(ax, m[0], fmin)
        ax.plot(result.start[0], heights[0] if heights else 0.0, "o", mfc="none",
                mec="black", mew=1.6, ms=9, zorder=Z_ENDS)
        return ax
    for m in result.minima:
        draw_minimum(ax, m[0], m[1])
    # A ring, not a disc: a run that barely leaves the start still shows under it.
    ax.plot(*result.start, "o", mfc="none", mec="black", mew=1.6, ms=9, zorder=Z_ENDS)
    return ax


def _minimum_handle(label: str = "known minimum") -> Line2D:
    return Line2D([], [], ls="", marker="*", mfc="none", mec=MINIMUM_STAR[-1]["mec"], mew=1.0,
                  ms=11, label=label)


def reached_zero(loss: np.ndarray) -> int | None:
    """The first step whose loss (minus f*) is 0 or below, after which a log axis has nothing
    to draw; None when it stays positive."""
    hits = np.flatnonzero(np.isfinite(loss) & (loss <= 0))
    return int(hits[0]) if hits.size else None


def front_loaded(runs: Sequence[Run], f_min: float | None) -> bool:
    """Whether most of the descent happens in the first few percent of a long run: 90% of the
    fall (in decades, on the log axis) within the first 3% of the steps, in every run that
    falls. Then the step axis is logarithmic, or the descent is one pixel column."""
    longest = max((len(run.loss) for run in runs), default=0)
    if longest < 1000:
        return False
    verdicts = []
    for run in runs:
        loss = _array(run.loss) - (f_min or 0.0)
        if f_min is None or not np.isfinite(loss[0]) or loss[0] <= 0:
            continue
        logs = np.log10(np.where(loss > 0, loss, np.nan))
        finite = np.isfinite(logs)
        if finite.sum() < 2:
            continue
        drop = logs[0] - np.nanmin(logs)
        if drop < 1:
            continue
        done = np.flatnonzero(finite & (logs <= logs[0] - 0.9 * drop))[0]
        verdicts.append(done <= 0.03 * len(loss))
    return bool(verdicts) and all(verdicts)


def draw_loss(ax: Axes, runs: Sequence[Run], colours: Sequence[str | Style],
              f_min: float | None, twins: Sequence[int] = ()) -> Axes:
    """Loss (minus the known minimum, when there is one) against step, on a log axis that
    spans the data: nothing is clamped. A run that reaches f* exactly ends with a down-pointing
    marker on the axis' floor and says at which step. ``twins`` (runs whose path follows an
    earlier one's) are dashed, as on the contour, so the curve under them shows. A diverged
    run gets an X on the top edge at the step it diverged, "off the scale"."""
    low = []
    zeros: list[tuple[int, Style]] = []
    diverged: list[tuple[int, Style]] = []
    for k, (run, colour) in enumerate(zip(runs, colours, strict=True)):
        style = colour if isinstance(colour, Style) else Style(colour)
        loss = _array(run.loss)
        steps = np.arange(loss.size)
        if f_min is not None:
            loss = loss - f_min
            zero = reached_zero(loss)
            if zero is not None:
                zeros.append((zero, style))
                loss = np.where(steps < zero, loss, np.nan)
            positive = loss[np.isfinite(loss) & (loss > 0)]
            if positive.size:
                low.append(float(positive.min()))
        dash = "--" if k in twins else style.dash if style.dash != ":" else "-"
        ax.plot(steps, loss, dash, color=style.colour,
                lw=1.6, marker=style.marker if loss.size <= 40 else None, ms=3,
                zorder=Z_PATH + k * Z_PATH_STEP, alpha=0.9)
        if run.diverged:
            diverged.append((run.diverged, style))
    # The whole run on the axis, in whole steps, even when every run diverged early.
    longest = max((len(run.loss) - 1 for run in runs), default=0)
    if front_loaded(runs, f_min):
        ax.set_xscale("symlog", linthresh=1, linscale=0.2)
        ax.set_xlim(0, longest * 1.05)
        ax.set_xlabel("step (log scale: most of the descent is in the first steps)")
    else:
        if longest:
            ax.set_xlim(-0.03 * longest, 1.03 * longest)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("step")
    if f_min is not None:
        ax.set_yscale("log")
        ax.set_ylabel("f(x) − f*" if f_min != 0 else "f(x)")
        if low:
            top = ax.get_ylim()[1]
            floor = min(low) / 10 ** 0.3
            ax.set_ylim(floor, max(top, floor * 10))
        what = "0" if f_min == 0 else "f*"
        bottom = blended_transform_factory(ax.transData, ax.transAxes)
        for i, (zero, style) in enumerate(zeros):
            ax.plot(zero, 0.0, "v", color=style.colour, mec="black", mew=0.6, ms=9,
                    transform=bottom, clip_on=False, zorder=Z_LABEL)
            ax.annotate(f"reached {what} at step {zero}", (zero, 0.0), xycoords=bottom,
                        xytext=(6, 8 + 12 * i), textcoords="offset points", fontsize=8,
                        color=style.colour, zorder=Z_LABEL)
    else:
        ax.set_yscale("symlog", linthresh=1e-2)
        ax.set_ylabel("f(x)")
    # A divergence at its own step, on the top edge: its loss is off the scale (or gone).
    top = blended_transform_factory(ax.transData, ax.transAxes)
    for i, (step, style) in enumerate(diverged):
        ax.plot(step, 1.0, "X", color=style.colour, mec="white", mew=0.8, ms=9,
                transform=top, clip_on=False, zorder=Z_LABEL)
        ax.annotate(f"step {step}: off the scale", (step, 1.0), xycoords=top,
                    xytext=(7, -4 - 10 * i), textcoords="offset points", ha="left",
                    va="top", fontsize=7, color=style.colour, zorder=Z_LABEL)
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


def draw_model_loss(ax: Axes, result: TrajectoryResult, colours: Sequence[str | Style]) -> Axes:
    """A model's training loss: each step's mini-batch loss, and the mean of each epoch."""
    for run, colour in zip(result.runs, colours, strict=True):
        batch = _array(run.batch_loss or [])
        per_epoch = _model_steps_per_epoch(result, run)
        # Per step: thin and light, under the epoch means, which carry the panel (a batch of
        # one sample's loss jumps by decades from step to step).
        ax.plot(_x(result, run, np.arange(1, batch.size + 1)), batch, "-", color=_c(colour),
                lw=0.5, alpha=0.22, zorder=Z_SLOW)
        means = _array(run.epoch_loss or [])
        ax.plot(_x(result, run, per_epoch * np.arange(1, means.size + 1)), means, "-o",
                color=_c(colour), lw=1.8, ms=4, mec="white", mew=0.6, zorder=Z_PATH)
        if run.diverged:
            ax.plot(_x(result, run, np.array(run.diverged)),
                    np.nanmax(batch) if np.isfinite(batch).any() else 1.0, "X",
                    color=_c(colour), ms=9, mec="white")
    if result.f_min is not None and result.f_min > 0:
        # Grey, not gold: gold is the minima's colour, and a gold line sat close to Adam's
        # orange.
        ax.axhline(result.f_min, color="#555555", lw=1, ls=(0, (5, 3)),
                   label="least-squares loss")
        ax.legend(fontsize=8, loc="upper right")
    ax.set_yscale("log")
    clipped = _fit_model_loss_axis(ax, result)
    ax.set_xlabel("epoch" if in_epochs(result) else "step")
    ax.set_ylabel("MSE (lowest steps below the axis)" if clipped else "MSE")
    ax.set_title("training loss: per step (faint) and epoch mean (dots)")
    ax.grid(True, which="major", alpha=0.3)
    return ax


def _fit_model_loss_axis(ax: Axes, result: TrajectoryResult) -> bool:
    """The loss axis spans what the panel is about: the epoch means, the least-squares loss
    and all but the lowest 5% of the per-step losses (a single sample's loss can come
    arbitrarily close to 0, and a few such steps would stretch the axis over decades that hold
    nothing else). True when some per-step losses fall below the axis."""
    means = np.concatenate([_array(r.epoch_loss or []) for r in result.runs] or [[]])
    batch = np.concatenate([_array(r.batch_loss or []) for r in result.runs] or [[]])
    means = means[np.isfinite(means) & (means > 0)]
    batch = batch[np.isfinite(batch) & (batch > 0)]
    if not means.size and not batch.size:
        return False
    keep = [means] if means.size else []
    if batch.size:
        keep.append(np.array([np.percentile(batch, 5), batch.max()]))
    if result.f_min is not None and result.f_min > 0:
        keep.append(np.array([result.f_min]))
    values = np.concatenate(keep)
    lo, hi = float(values.min()) / 10 ** 0.25, float(values.max()) * 10 ** 0.25
    ax.set_ylim(lo, hi)
    return bool(batch.size and batch.min() < lo)


def draw_lr(ax: Axes, result: TrajectoryResult, colours: Sequence[str | Style]) -> Axes:
    """The LR each step used: a scheduled run's as it moved, a run without a scheduler as its
    flat constant LR (dashed, "no scheduler" in the panel)."""
    flat = []
    for run, colour in zip(result.runs, colours, strict=True):
        if run.lr is not None:
            lr = _array(run.lr)
            ax.plot(_x(result, run, np.arange(lr.size)), lr, "-", color=_c(colour), lw=1.5,
                    drawstyle="steps-post",
                    marker="o" if lr.size <= 60 else None, ms=3)
        elif isinstance(run.hyperparameters.get("lr"), (int, float)):
            lr_value = float(run.hyperparameters["lr"])
            steps = max(1, len(run.loss) - 1)
            ax.plot(_x(result, run, np.array([0, steps - 1])), [lr_value, lr_value], "--",
                    color=_c(colour), lw=1.5, drawstyle="steps-post")
            flat.append(lr_value)
    if flat:
        lrs = ", ".join(f"{v:g}" for v in dict.fromkeys(flat))
        ax.text(0.5, 0.12, f"no scheduler:\nconstant LR {lrs} (dashed)", ha="center",
                va="bottom", transform=ax.transAxes, fontsize=8)
        top = max(flat + [float(np.nanmax(_array(r.lr))) for r in result.runs
                          if r.lr is not None and np.isfinite(_array(r.lr)).any()])
        ax.set_ylim(0, top * 1.15)
    elif all(run.lr is None for run in result.runs):
        ax.text(0.5, 0.5, "no scheduler", ha="center", va="center", transform=ax.transAxes,
                fontsize=8)
        ax.set_yticks([])
    ax.set_xlabel("epoch" if in_epochs(result) else "step")
    ax.set_ylabel("learning rate")
    ax.set_title("learning rate used by each step")
    ax.grid(True, alpha=0.3)
    return ax


# The state panel's quantities are not optimizers: they take a neutral family of their own
# (black and greys, a dash and a marker each), never an optimizer's colour.
_QUANTITY_STYLES = (("#000000", "-", "o"), ("#555555", "--", "s"), ("#8c8c8c", ":", "^"),
                    ("#000000", "-.", "D"), ("#555555", "-", "v"), ("#8c8c8c", "--", "P"))
_STYLES = ("-", "--", ":", "-.")
# What each state_dict entry is, in a few words, for the legend.
STATE_MEANING = {
    "‖exp_avg‖": "1st moment m (a momentum of g)",
    "‖exp_avg_sq‖": "2nd moment v (a mean of g²)",
    "‖max_exp_avg_sq‖": "largest v so far (AMSGrad)",
    "‖momentum_buffer‖": "momentum buffer",
    "‖square_avg‖": "running mean of g²",
    "‖sum‖": "sum of g²",
    "‖acc_delta‖": "running mean of update²",
    "‖exp_inf‖": "∞-norm moment u",
    "‖ax‖": "averaged weights",
    "‖prev‖": "previous gradient",
    "‖step_size‖": "per-coordinate step sizes",
    "effective step (mean)": "lr / (√v̂ + ε), mean over coordinates",
}


def state_label(key: str) -> str:
    """A state curve's legend entry: the state_dict key and what it is."""
    meaning = STATE_MEANING.get(key)
    return f"{key}: {meaning}" if meaning else key


def draw_state(ax: Axes, result: TrajectoryResult, colours: Sequence[str | Style],
               legend: bool = True) -> Axes:
    """Norms of the optimizer's state tensors after each step (log axis). One run: a neutral
    style per quantity (black and greys with a dash and marker each; never an optimizer's
    colour); several runs: the run's colour, a dash per quantity. The legend says what each
    quantity is and sits below the panel, off the curves (``legend`` False: none, the caller
    gathers one for several panels)."""
    shown = False
    alone = len(result.runs) == 1
    for run, colour in zip(result.runs, colours, strict=True):
        style = colour if isinstance(colour, Style) else Style(colour)
        for i, (key, series) in enumerate(sorted((run.state or {}).items())):
            values = _array(series)
            if not np.isfinite(values).any():
                continue
            xs = _x(result, run, np.arange(1, values.size + 1))
            if alone:
                c, dash, marker = _QUANTITY_STYLES[i % len(_QUANTITY_STYLES)]
                ax.plot(xs, np.abs(values), dash, color=c, lw=1.3, marker=marker, ms=3.5,
                        markevery=max(1, values.size // 8), label=state_label(key))
            else:
                ax.plot(xs, np.abs(values), _STYLES[i % len(_STYLES)], color=style.colour,
                        lw=1.3, label=f"{run.optimizer}: {state_label(key)}")
            shown = True
    if shown:
        ax.set_yscale("log")
        if legend:
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncols=2,
                      frameon=False, handlelength=3)
    else:
        ax.text(0.5, 0.5, "no state: the optimizer keeps none\n(SGD without momentum)",
                ha="center", va="center", transform=ax.transAxes, fontsize=8)
        ax.set_yticks([])
    ax.set_xlabel("epoch" if in_epochs(result) else "step")
    ax.set_title("optimizer state (state_dict) after each step")
    ax.grid(True, alpha=0.3)
    return ax


def _paths(ax: Axes, result: TrajectoryResult, surface: Surface,
           view: Sequence[tuple[float, float]], styles: Sequence[Style],
           aspect: str | None) -> Axes:
    """The contour (or curve) with every path, the start and the minima, in the view, at equal
    scale where ``equal_scale`` says so."""
    same = same_paths(result.runs, view)
    near = {k: i for k, i in same_paths(result.runs, view, NEAR_PATH).items() if k not in same}
    labels = _labels(result.runs, same, near)
    if result.dim == 1:
        ax.plot(surface.xs, surface.z, color="#5a6b7b", lw=1.5)
        for k, (run, style) in enumerate(zip(result.runs, styles, strict=True)):
            draw_path(ax, run, style, values=_array(run.loss), order=k, label=labels[k],
                      twin=k in same or k in near, result=result, view=view)
        draw_marks(ax, result, heights=[result.runs[0].loss[0]] if result.runs else None)
        ax.set_xlim(*view[0])
        zmin, zmax = float(np.min(surface.z)), float(np.max(surface.z))
        pad = 0.05 * (zmax - zmin)
        lanes = _lanes(ax, result, styles, zmin - pad, 0.06 * (zmax - zmin))
        ax.set_ylim(lanes, zmax + pad)
        return ax
    draw_contour(ax, surface, result.log_levels)
    # Later runs never fully hide earlier ones: a run under later lines is drawn wider.
    under = covered_by_later(result.runs, view)
    for k, (run, style) in enumerate(zip(result.runs, styles, strict=True)):
        width = min(MAX_WIDTH, PATH_WIDTH + UNDER_WIDTH * under.get(k, 0))
        draw_path(ax, run, style, order=k, label=labels[k], twin=k in same or k in near,
                  result=result, view=view, width=width)
    draw_marks(ax, result)
    ax.set_xlim(*view[0])
    ax.set_ylim(*view[1])
    if equal_scale(result, aspect):
        ax.set_aspect("equal", adjustable="box")
    return ax


def _lanes(ax: Axes, result: TrajectoryResult, styles: Sequence[Style], top: float,
           height: float) -> float:
    """1-D runs on one curve cover each other: with two runs or more, each also gets a lane
    under the curve where its points sit at their x (its colour and marker, joined thinly in
    step order), so that where each run went reads apart. Returns the lanes' bottom."""
    if len(result.runs) < 2:
        return top
    for k, (run, style) in enumerate(zip(result.runs, styles, strict=True)):
        xs = _array(run.points)[:, 0]
        y = top - height * (k + 0.5)
        ax.plot(xs, np.full(xs.shape, y), style.dash, color=style.colour, lw=0.6, alpha=0.5,
                marker=style.marker, ms=3.5, mec="white", mew=0.3, zorder=Z_PATH + k * Z_PATH_STEP,
                label="_lane")
    ax.axhline(top, color="#999999", lw=0.6, zorder=1)
    ax.text(0.005, top - 0.15 * height, "where each run's steps fell (a lane per run)",
            transform=blended_transform_factory(ax.transAxes, ax.transData), fontsize=7,
            va="top", color="#555555", zorder=Z_LABEL)
    return top - height * (len(result.runs) + 0.6)


def end_box(result: TrajectoryResult, view: Sequence[tuple[float, float]] | None = None,
            tail: float = 0.3) -> tuple[float, float, float, float]:
    """The box (x0, x1, y0, y1) around the last ``tail`` of every run's finite points and the
    minima inside it, padded, and at least 4% of the view wide (a run that stopped on a point
    is not magnified a million times): what the zoom inset shows."""
    pts = []
    for run in result.runs:
        p = _array(run.points)
        p = p[np.isfinite(p).all(axis=1)]
        if p.size:
            pts.append(p[int(len(p) * (1 - tail)):])
    both = np.concatenate(pts) if pts else np.zeros((1, 2))
    x0, y0 = both.min(axis=0)
    x1, y1 = both.max(axis=0)
    for m in result.minima:
        if x0 <= m[0] <= x1 or y0 <= m[1] <= y1:
            x0, x1 = min(x0, m[0]), max(x1, m[0])
            y0, y1 = min(y0, m[1]), max(y1, m[1])
    floor = 0.04 * max(hi - lo for lo, hi in view) if view else 1e-12
    size = max(x1 - x0, y1 - y0, floor)
    pad = 0.15 * size
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = size / 2 + pad
    return cx - half, cx + half, cy - half, cy + half


def _free_corner(result: TrajectoryResult, view: Sequence[tuple[float, float]]) -> list[float]:
    """Where an inset covers the fewest path points and neither the end of the run (the
    frame the inset magnifies) nor a minimum: one of the four corners (axes fraction)."""
    (vx0, vx1), (vy0, vy1) = view
    pts = np.concatenate([_array(r.points) for r in result.runs] or [np.zeros((0, 2))])
    pts = pts[np.isfinite(pts).all(axis=1)]
    fx = (pts[:, 0] - vx0) / (vx1 - vx0)
    fy = (pts[:, 1] - vy0) / (vy1 - vy0)
    corners = [[0.6, 0.03], [0.03, 0.03], [0.6, 0.6], [0.03, 0.6]]
    bx0, bx1, by0, by1 = end_box(result, view)
    keep_clear = [((bx0 - vx0) / (vx1 - vx0), (bx1 - vx0) / (vx1 - vx0),
                   (by0 - vy0) / (vy1 - vy0), (by1 - vy0) / (vy1 - vy0))]
    keep_clear += [((m[0] - vx0) / (vx1 - vx0),) * 2 + ((m[1] - vy0) / (vy1 - vy0),) * 2
                   for m in result.minima]

    def cost(c: list[float]) -> float:
        inside = ((fx >= c[0]) & (fx <= c[0] + 0.38) & (fy >= c[1]) & (fy <= c[1] + 0.38))
        blocked = any(a <= c[0] + 0.38 and b >= c[0] and lo <= c[1] + 0.38 and hi >= c[1]
                      for a, b, lo, hi in keep_clear)
        return int(inside.sum()) + (10**9 if blocked else 0)

    best = min(corners, key=cost)
    return [best[0], best[1], 0.37, 0.37]


# The inset is drawn only when the end of the run is this many times smaller than the view.
MIN_MAGNIFICATION = 4.0


def zoom_needed(result: TrajectoryResult, view: Sequence[tuple[float, float]]) -> bool:
    """Whether the end of the run is small enough in the view to need an inset."""
    x0, x1, _, _ = end_box(result, view)
    return (view[0][1] - view[0][0]) / (x1 - x0) >= MIN_MAGNIFICATION


class _Magnification(Text):
    """The inset's caption, whose "× k" is measured when drawn: the inset's width on the
    canvas over the width its box takes in the panel (the real magnification, whatever the
    layout did to either)."""

    def __init__(self, inset: Axes, parent: Axes, box: tuple[float, float, float, float],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._inset, self._parent, self._box = inset, parent, box

    def magnification(self) -> float:
        x0, x1, y0, _ = self._box
        (px0, _), (px1, _) = self._parent.transData.transform([(x0, y0), (x1, y0)])
        width = self._inset.get_window_extent().width
        return float(width / abs(px1 - px0)) if px1 != px0 else float("inf")

    def draw(self, renderer: Any) -> None:
        # Both axes have placed themselves (layout, aspect) before their texts are drawn.
        self.set_text(f"end of the run (× {self.magnification():.0f})")
        super().draw(renderer)


def draw_zoom(ax: Axes, result: TrajectoryResult, surface: Surface,
              view: Sequence[tuple[float, float]], styles: Sequence[Style],
              fine: Surface | None = None) -> Axes | None:
    """An inset on the end of the run: the last 30% of every path and the minima near it,
    magnified, with a frame on the main view showing where it is (a frame only: connector
    lines would cross the panel's labels). ``fine`` is the surface sampled over the inset's
    own box (``end_box``), so its contours are smooth; without it the panel's grid is reused.
    None when the end is already large enough."""
    from matplotlib.patches import Rectangle

    if not zoom_needed(result, view):
        return None
    x0, x1, y0, y1 = end_box(result, view)
    inset = ax.inset_axes(_free_corner(result, view), zorder=Z_LABEL)
    draw_contour(inset, fine if fine is not None else surface, result.log_levels, n=40)
    for k, (run, style) in enumerate(zip(result.runs, styles, strict=True)):
        pts = _array(run.points)
        inset.plot(pts[:, 0], pts[:, 1], style.dash, marker=style.marker, color=style.colour,
                   lw=1.2, ms=2.5, alpha=0.85, zorder=Z_PATH + k * Z_PATH_STEP)
        n = int(np.isfinite(pts[:, 0]).sum())
        if n:
            inset.plot(pts[n - 1, 0], pts[n - 1, 1], "s", color=style.colour, mec="white",
                       mew=1.0, ms=6, zorder=Z_ENDS)
    for m in result.minima:
        draw_minimum(inset, m[0], m[1], ms=13)
    inset.set_xlim(x0, x1)
    inset.set_ylim(y0, y1)
    inset.set_aspect("equal", adjustable="box")  # the box is square in data: no limits move
    inset.set_xticks([])  # the magnification in its title says the scale
    inset.set_yticks([])
    # The caption inside the inset: above it, it would cross the panel's frame and title.
    caption = _Magnification(inset, ax, (x0, x1, y0, y1), x=0.03, y=0.97,
                             text="end of the run", transform=inset.transAxes, ha="left",
                             va="top", fontsize=6.5, zorder=Z_LABEL + 1,
                             bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                                   "alpha": 0.85})
    inset._add_text(caption)
    inset.patch.set_facecolor("white")
    for spine in inset.spines.values():
        spine.set_edgecolor("#333333")
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="#333333",
                           lw=1.0, zorder=Z_LABEL))
    return inset


def _legend_handles(ax: Axes, result: TrajectoryResult) -> list:
    handles = list(ax.get_legend_handles_labels()[0])
    if result.minima:
        handles.append(_minimum_handle("least-squares solution" if result.problem
                                       else "known minimum"))
    return handles


def trajectory_figure(result: TrajectoryResult, surface: Surface,
                      view: Sequence[tuple[float, float]], aspect: str | None = None,
                      zoom: bool = False, inset: Surface | None = None) -> Figure:
    """The whole picture: contour (or curve) with paths; on the right the loss, and the LR and
    optimizer state when the runs recorded them; legend and title. ``zoom`` adds an inset on
    the end of the run (``inset``: the surface over its box, see ``draw_zoom``)."""
    has_lr = any(run.lr is not None for run in result.runs)
    has_state = any(run.state is not None for run in result.runs)
    n_right = 1 + has_lr + has_state + has_data(result)  # a model: its data and fit
    (x0, x1), *rest = view
    wide = bool(rest) and equal_scale(result, aspect) and \
        (x1 - x0) >= 1.5 * (rest[0][1] - rest[0][0])
    if wide and n_right >= 3:
        # A wide view (the PCA plane) in a tall left column would be a strip: the contour
        # takes the whole width on top, the other panels two by two below it.
        below = -(-n_right // 2)
        fig = Figure(figsize=(13, 5.6 + 3.1 * below + 1.4), layout="constrained")
        grid = fig.add_gridspec(1 + below, 2, height_ratios=[5.6] + [3.1] * below)
        left = fig.add_subplot(grid[0, :])
        right = [fig.add_subplot(grid[1 + i // 2, i % 2]) for i in range(n_right - 1)]
        last = n_right - 1
        right.append(fig.add_subplot(grid[1 + last // 2, :] if n_right % 2
                                     else grid[1 + last // 2, 1]))
    else:
        fig = Figure(figsize=(13, 5.8 if n_right == 1 else 2.9 * n_right + 1.2),
                     layout="constrained")
        grid = fig.add_gridspec(n_right, 2, width_ratios=[1.25, 1])
        left = fig.add_subplot(grid[:, 0])
        right = [fig.add_subplot(grid[i, 1]) for i in range(n_right)]
    styles = styles_for([run.optimizer for run in result.runs])
    if has_data(result):
        draw_fit(right.pop(0), result, styles)
    _paths(left, result, surface, view, styles, aspect)
    if result.dim == 1:
        left.set_xlabel("x")
        left.set_ylabel("f(x)")
    else:
        axes = result.problem["axes"] if result.problem else ["x", "y"]
        left.set_xlabel(axes[0])
        left.set_ylabel(axes[1])
        if zoom:
            draw_zoom(left, result, surface, view, styles, inset)
    if result.problem:
        where = "weights" if result.problem["points_are"] == "weights" else \
            "weights projected on the plane of their top two principal directions " \
            "(equal scale)"
        left.set_title(wrap_items([f"{result.formula}:", f"{where},",
                                   f"{result.problem['epochs']} epochs"],
                                  110 if wide and n_right >= 3 else 60, " "), fontsize=10)
        draw_model_loss(right[0], result, styles)
    else:
        left.set_title(wrap_items([f"{result.formula}  ({result.function})",
                                   f"{result.steps} steps"], 60, ", "))
        twins = same_paths(result.runs, view, NEAR_PATH) if result.dim == 2 else {}
        draw_loss(right[0], result.runs, styles, result.f_min, twins=list(twins))
    if has_lr:
        draw_lr(right[1], result, styles)
    if has_state:
        draw_state(right[-1], result, styles)
    handles = _legend_handles(left, result)
    ncol = 1 if len(handles) <= 3 else 2 if len(handles) <= 8 else 3
    _thin_handles(fig.legend(handles=handles, loc="outside lower center", ncols=ncol,
                             fontsize=9, frameon=False, handlelength=3))
    return fig


def panel_title(result: TrajectoryResult, title: str | None, lines: int = 0) -> str:
    """A grid cell's title (its run's label when it has one run and no title), wrapped between
    words at 44 characters, with blank lines above it up to ``lines`` lines."""
    if title is None and len(result.runs) == 1:
        title = run_label(result.runs[0])
    if not title:
        return ""
    text = wrap_items([title], 44)
    return "\n" * max(0, lines - text.count("\n") - 1) + text


def _thin_handles(legend: Any) -> Any:
    """A legend whose lines are drawn at most 2.5 wide: a run drawn wide because later runs
    cover it (``covered_by_later``) keeps an ordinary legend entry."""
    for line in legend.get_lines():
        line.set_linewidth(min(line.get_linewidth(), 2.5))
    return legend


def draw_panel(ax: Axes, result: TrajectoryResult, surface: Surface,
               view: Sequence[tuple[float, float]], title: str | None = None,
               aspect: str | None = None, zoom: bool = False,
               inset: Surface | None = None, lines: int = 0) -> Axes:
    """One contour panel with its paths (no loss curve): the article's 2 x 4 grid cell;
    ``zoom`` adds an inset on the end of the run (``inset``: the surface over its box). The
    title is padded to ``lines`` lines, so that grid cells whose titles wrap differently keep
    contour boxes of one size."""
    styles = styles_for([run.optimizer for run in result.runs])
    _paths(ax, result, surface, view, styles, aspect)
    if zoom and result.dim == 2:
        draw_zoom(ax, result, surface, view, styles, inset)
    if result.dim == 1:
        ax.set_xlabel("x", fontsize=8)
        ax.set_ylabel("f(x)", fontsize=8)
    else:
        axes = result.problem["axes"] if result.problem else ["x", "y"]
        ax.set_xlabel(axes[0], fontsize=8, labelpad=1)
        ax.set_ylabel(axes[1], fontsize=8, labelpad=1)
    title = panel_title(result, title, lines)
    if title:
        ax.set_title(title, fontsize=10)
    if len(result.runs) > 1 or (result.runs and result.runs[0].diverged and title):
        _thin_handles(ax.legend(fontsize=7, loc="best", framealpha=0.8,
                                handlelength=3)).set_zorder(Z_LABEL)
    ax.tick_params(labelsize=8)
    return ax


def panels_figure(panels: Sequence[tuple[str | None, TrajectoryResult, Surface,
                                         Sequence[tuple[float, float]]]],
                  rows: int, cols: int, title: str | None = None,
                  aspect: str | None = None, zoom: bool = False,
                  insets: Sequence[Surface | None] | None = None) -> Figure:
    """A rows x cols grid of contour panels; empty cells are hidden. When a panel's runs
    recorded the LR (a scheduler) or the optimizer's state, every cell gains strips below its
    contour for them, so the grid stays aligned; 1-D panels (a path on a curve, whose speed
    the curve cannot show) gain a loss strip on a log axis. ``insets``: per panel, the surface
    over its zoom inset's box."""
    fines = list(insets) if insets is not None else [None] * len(panels)
    # Every cell's title as many lines as the longest: wrapped titles no longer shrink boxes.
    lines = max((panel_title(res, t).count("\n") + 1 for t, res, _, _ in panels
                 if panel_title(res, t)), default=0)
    loss_strip = bool(panels) and all(res.dim == 1 and res.problem is None
                                      for _, res, _, _ in panels)
    lr_strip = any(r.lr is not None for _, res, _, _ in panels for r in res.runs)
    state_strip = any(r.state is not None for _, res, _, _ in panels for r in res.runs)
    strips = int(loss_strip) + int(lr_strip) + int(state_strip)
    cell_h = 3.6 + 1.5 * strips + 0.5 * int(state_strip)
    if state_strip:
        cell_h += 1.0 / rows  # the state legend, once, under the grid
    fig = Figure(figsize=(4 * cols, cell_h * rows + (0.4 if title else 0)),
                 layout="constrained")
    if not strips:
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
        for ax, (title_, result, surface, view), fine in zip(axes, panels, fines,
                                                                 strict=False):
            draw_panel(ax, result, surface, view, title_, aspect, zoom, fine, lines)
        for ax in axes[len(panels):]:
            ax.set_visible(False)
    else:
        cells = np.atleast_1d(fig.subfigures(rows, cols, squeeze=False)).ravel()
        heights = [3.6] + [1.5] * (strips - int(state_strip)) + [2.0] * int(state_strip)
        state_axes: list[Axes] = []
        for cell, (title_, result, surface, view), fine in zip(cells, panels, fines,
                                                                   strict=False):
            axes = cell.subplots(1 + strips, 1, height_ratios=heights, squeeze=False)[:, 0]
            draw_panel(axes[0], result, surface, view, title_, aspect, zoom, fine, lines)
            styles = styles_for([run.optimizer for run in result.runs])
            below = list(axes[1:])
            if loss_strip:
                _strip(draw_loss(below.pop(0), result.runs, styles, result.f_min))
            if lr_strip:
                _strip(draw_lr(below.pop(0), result, styles))
            if state_strip:
                state_axes.append(_strip(draw_state(below.pop(0), result, styles,
                                                    legend=False)))
        _state_legend(fig, state_axes)
    if title:
        fig.suptitle(wrap_items([title], int(4 * cols * 72 / (12 * 0.6))))
    return fig


def _state_legend(fig: Figure, axes: Sequence[Axes]) -> None:
    """One legend under the grid for the state strips' quantities (the same in every cell
    with one optimizer), each entry once."""
    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    if handles:
        width = fig.get_size_inches()[0]
        fig.legend(list(handles.values()), list(handles), loc="outside lower center",
                   ncols=max(1, min(3, len(handles), int(width // 5))), fontsize=8,
                   frameon=False, handlelength=3)


def _strip(ax: Axes) -> Axes:
    """An LR or state panel shrunk to a strip under a grid cell's contour."""
    ax.set_title(ax.get_title(), fontsize=8)
    ax.xaxis.label.set_fontsize(8)
    ax.yaxis.label.set_fontsize(8)
    ax.tick_params(labelsize=7)
    for text in ax.texts:
        text.set_fontsize(7)
    legend = ax.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            text.set_fontsize(6)
    return ax
