"""Schedule pictures: LR against optimizer step, epochs marked, overlaid or one panel each.

Plain result data in, a matplotlib ``Figure`` out; nothing here knows torch.optim.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, MultipleLocator

from optviz.render.style import colours_for, wrap_items
from optviz.results import ScheduleResult, ScheduleRun

WARN_COLOUR = "#b35900"
METRIC_COLOUR = "#6f6f6f"
PATIENCE_COLOUR = "#d62728"
COOLDOWN_COLOUR = "#1f77b4"
GROUP_STYLES = ("-", "--", ":", "-.")
MAX_EPOCH_LINES = 16  # more epoch grid lines than this turn into a grey wash


def _array(values: Sequence[float | None]) -> np.ndarray:
    return np.array(values, dtype=float)  # None becomes nan, which matplotlib leaves out


def _breaks(text: str) -> list[int]:
    """Where a label may break: at a space outside brackets or inside its settings' brackets
    (between settings), or between the named items of a list (``[LinearLR (...), Cosine...]``),
    never inside a value such as ``[30, 60]``."""
    out, depth = [], 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == " " and (depth <= 1 or (text[i - 1] == "," and text[i + 1:i + 2].isalpha())):
            out.append(i)
    return out


def wrap(text: str, width: int) -> str:
    """``text`` on lines of at most ``width`` characters where it can be, broken only at
    ``_breaks``; continuation lines indented."""
    lines, start, last = [], 0, None
    for at in [*_breaks(text), len(text)]:
        if at - start > width and last is not None:
            lines.append(text[start:last])
            start = last + 1
        last = at
    lines.append(text[start:])
    return "\n  ".join(line for line in lines if line) or text


def _marker_size(n: int) -> float:
    return 3.5 if n <= 64 else 2.2 if n <= 200 else 0.0


def epoch_step(epochs: int) -> int:
    """Epochs between grid lines: every epoch, or a 1-2-5 multiple when there are many."""
    if epochs <= MAX_EPOCH_LINES:
        return 1
    raw = epochs / MAX_EPOCH_LINES
    base = 10 ** math.floor(math.log10(raw))
    return int(next(m * base for m in (1, 2, 5, 10) if m * base >= raw))


def draw_epochs(ax: Axes, steps: int, steps_per_epoch: int, top_axis: bool = True) -> Axes:
    """Steps on the x-axis from 0 to the run's length, a grid line at every epoch boundary and
    (``top_axis``) a second x-axis in epochs, as in the source article's plotting code."""
    epochs = max(1, steps // steps_per_epoch)
    every = epoch_step(epochs)
    ax.set_xlim(0, steps)
    ax.xaxis.set_major_locator(MultipleLocator(steps_per_epoch * every))
    if steps <= 64:
        ax.xaxis.set_minor_locator(MultipleLocator(1))
    ax.grid(True, which="major", axis="x", color="#9a9a9a", alpha=0.6, lw=0.8)
    ax.grid(True, which="major", axis="y", alpha=0.25)
    ax.spines[["right"]].set_visible(False)
    if top_axis:
        top = ax.secondary_xaxis(
            "top", functions=(lambda s: s / steps_per_epoch, lambda e: e * steps_per_epoch))
        top.xaxis.set_major_locator(FixedLocator(list(range(0, epochs + 1, every))))
        top.set_xlabel("epoch", fontsize=9)
        top.tick_params(labelsize=8)
    return ax


def draw_lr(ax: Axes, run: ScheduleRun, colour: str, label: str | None = None) -> Axes:
    """One run's LR per step with markers; every parameter group when they differ; an X where
    torch stopped the run."""
    series = run.lr_groups or [run.lr]
    ms = _marker_size(len(run.lr))
    for g, values in enumerate(series):
        ys = _array(values)
        name = label if label is not None else run.label
        if run.lr_groups:
            name = f"{name} — group {g}"
        # The LR is constant over each optimizer step: drawn as steps (a ramp between two
        # values would claim LRs no step used).
        ax.plot(np.arange(ys.size), ys, linestyle=GROUP_STYLES[g % len(GROUP_STYLES)],
                marker="o" if g == 0 else "s", ms=ms if g == 0 else max(ms - 0.8, 0),
                color=colour, lw=1.5, label=name, zorder=3, drawstyle="steps-post")
    if run.error:
        ys = _array(run.lr)
        finite = np.flatnonzero(np.isfinite(ys))
        if finite.size:
            last = int(finite[-1])
            ax.plot(last, ys[last], "X", color=colour, ms=10, mec="white", zorder=5)
            ax.annotate("torch raised here", (last, ys[last]), xytext=(-8, 10),
                        textcoords="offset points", ha="right", fontsize=8, color=colour)
    return ax


def lr_limits(ax: Axes, runs: Sequence[ScheduleRun], log_y: bool) -> Axes:
    """Linear axes start at 0, as in the article; log axes leave zeros out."""
    values = np.concatenate([_array(v) for run in runs for v in (run.lr_groups or [run.lr])])
    values = values[np.isfinite(values)]
    if log_y:
        ax.set_yscale("log", nonpositive="mask")
        return ax
    # Plain numbers (0.0005), not an offset "1e-3" that collides with the epoch axis.
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
    if values.size:
        lo, hi = float(values.min()), float(values.max())
        top = hi * 1.08 if hi > 0 else 1.0
        ax.set_ylim(min(0.0, lo * 1.08), top)
    return ax


def draw_momentum(ax: Axes, runs: Sequence[ScheduleRun], colours: Sequence[str],
                  show_label: bool = True) -> Axes:
    """Momentum (SGD) or beta1 (Adam-like) per step, for runs that cycle it."""
    names = set()
    for run, colour in zip(runs, colours, strict=True):
        if run.momentum is None:
            continue
        names.add(run.momentum_name or "momentum")
        ys = _array(run.momentum)
        ax.plot(np.arange(ys.size), ys, "-", marker="o", ms=max(_marker_size(ys.size) - 1, 0),
                color=colour, lw=1.2, alpha=0.85, drawstyle="steps-post")
    if show_label:
        ax.set_ylabel(" / ".join(sorted(names)) or "momentum")
    return ax


def draw_plateau(ax: Axes, run: ScheduleRun, colour: str, metric_axis: Axes | None = None,
                 show_metric: bool = True) -> Axes | None:
    """ReduceLROnPlateau's view: the metric (and best so far) on a second y-axis, shaded
    patience windows and cooldowns, and a marker where the LR was reduced."""
    trace = run.plateau
    if trace is None:
        return metric_axis
    at = np.array(trace.at, dtype=float)
    twin = metric_axis
    if show_metric:
        twin = metric_axis or ax.twinx()
        twin.plot(at, _array(trace.metric), "-", color=METRIC_COLOUR, lw=1.0, alpha=0.9,
                  marker=".", ms=3, zorder=2)
        twin.plot(at, _array(trace.best), "--", color=METRIC_COLOUR, lw=0.9, alpha=0.7, zorder=2)
        metric = _array(trace.metric)
        metric = metric[np.isfinite(metric)]
        # A training loss falls by decades and then plateaus: on a linear axis the plateau
        # that the scheduler reacts to is a flat line at zero, so such a metric goes on a log
        # axis.
        if metric.size and metric.min() > 0 and metric.max() / metric.min() > 100:
            twin.set_yscale("log")
        twin.set_ylabel(f"metric ({_source(trace.source)})", color=METRIC_COLOUR, fontsize=9)
        twin.tick_params(axis="y", colors=METRIC_COLOUR, labelsize=8)
    bad = trace.bad_steps
    for k, a in enumerate(trace.at):
        if trace.cooldown[k] > 0:
            ax.axvspan(a + 0.5, a + 1.5, color=COOLDOWN_COLOUR, alpha=0.08, lw=0)
    lr = _array(run.lr)
    for r in trace.reductions:
        k = trace.at.index(r - 1) if (r - 1) in trace.at else None
        if k is not None:
            start = k
            while start > 0 and bad[start - 1] > 0:
                start -= 1
            ax.axvspan(trace.at[start] - 0.5, trace.at[k] + 0.5, color=PATIENCE_COLOUR,
                       alpha=0.07, lw=0)
        ax.axvline(r - 0.5, color=colour, ls=":", lw=1.1, alpha=0.9)
        if r < lr.size and np.isfinite(lr[r]):
            ax.plot(r, lr[r], "v", color=colour, ms=8, mec="white", zorder=6)
    return twin


def _source(source: str) -> str:
    named = {"noisy_decay": "built-in curve", "linear": "linear model loss"}
    return named.get(source) or wrap(source, 30)


def plateau_handles(runs: Sequence[ScheduleRun]) -> list[tuple[object, str]]:
    """Legend entries explaining the plateau marks, when any run has them."""
    if not any(r.plateau for r in runs):
        return []
    out: list[tuple[object, str]] = [
        (Line2D([], [], color=METRIC_COLOUR, marker=".", lw=1.0), "metric"),
        (Line2D([], [], color=METRIC_COLOUR, ls="--", lw=0.9), "best so far"),
    ]
    if any(r.plateau and r.plateau.reductions for r in runs):
        out.append((Line2D([], [], color="#444444", marker="v", ls=":", lw=1.0), "LR reduced"))
        out.append((Patch(color=PATIENCE_COLOUR, alpha=0.15), "patience ran out"))
    if any(r.plateau and any(r.plateau.cooldown) for r in runs):
        out.append((Patch(color=COOLDOWN_COLOUR, alpha=0.15), "cooldown"))
    return out


def facts(result: ScheduleResult) -> str:
    """The run in one line: base LR, length, stepping, optimizer."""
    lrs = ", ".join(f"{v:g}" for v in result.lr)
    groups = f" ({len(result.lr)} param groups)" if len(result.lr) > 1 else ""
    return (f"lr {lrs}{groups} · {result.epochs} epochs × {result.steps_per_epoch} steps · "
            f"scheduler stepped per {result.interval} · {result.optimizer}")


def names_of(runs: Sequence[ScheduleRun]) -> list[str]:
    """Each scheduler's class named once: ``PolynomialLR ×2 · CosineAnnealingLR``."""
    counts: dict[str, int] = {}
    for run in runs:
        name = run.label.split(" (")[0]
        counts[name] = counts.get(name, 0) + 1
    return [name if n == 1 else f"{name} ×{n}" for name, n in counts.items()]


def footnote(text: str, width: int) -> str:
    """A warning's gist in one short line: up to its first ':' or ';' past the name (what
    happened, not the explanation), at most ``width`` characters."""
    cut = len(text)
    for mark in (": ", "; ", " (", ", so ", ": torch"):
        at = text.find(mark, 20)
        if 0 < at < cut:
            cut = at
    gist = text[:cut].rstrip(" ,.")
    if len(gist) > width - 2:
        gist = gist[:width - 3].rstrip() + "…"
    return "⚠ " + gist


def footnotes(warnings: Sequence[str], width: int) -> list[str]:
    """One line per kind of warning (two warnings with the same gist are one line); the full
    texts go to stderr, which the last line says."""
    lines = list(dict.fromkeys(footnote(t, width - 26) for t in warnings))
    if lines:
        lines[-1] += "  (full text on stderr)"
    return lines


def _notes_text(warnings: Sequence[str], width: int) -> tuple[str, int]:
    lines = footnotes(warnings, width)
    return "\n".join(lines), len(lines)


def _draw_notes(sub: SubFigure, text: str) -> None:
    sub.text(0.012, 0.96, text, ha="left", va="top", fontsize=8.5, color=WARN_COLOUR,
             linespacing=1.35)


def figure_with_notes(width: float, main_h: float,
                      warnings: Sequence[str]) -> tuple[Figure, Figure | SubFigure]:
    """A figure ``width`` wide with ``main_h`` inches for the plots and, below them, the
    warnings wrapped to the width: the figure and the part to draw the plots in."""
    notes, lines = _notes_text(warnings, int(width * 72 / (8.5 * 0.64)))
    notes_h = 0.25 + 0.19 * lines if lines else 0.0
    fig = Figure(figsize=(width, main_h + notes_h), layout="constrained")
    if not lines:
        return fig, fig
    main, bottom = fig.subfigures(2, 1, height_ratios=[main_h, notes_h])
    _draw_notes(bottom, notes)
    return fig, main


def overlay(sub: SubFigure | Figure, result: ScheduleResult, colours: Sequence[str],
            log_y: bool) -> list[Axes]:
    """Every run on one LR panel, with a momentum panel below when a run cycles momentum."""
    runs = result.runs
    with_momentum = any(r.momentum is not None for r in runs)
    if with_momentum:
        ax, mom = sub.subplots(2, 1, sharex=True, height_ratios=[3, 1.25])
    else:
        ax, mom = sub.subplots(1, 1), None
    for run, colour in zip(runs, colours, strict=True):
        draw_lr(ax, run, colour, label=wrap(run.label, 90))
    lr_limits(ax, runs, log_y)
    twin = None
    for run, colour in zip(runs, colours, strict=True):
        # Every plateau run of one figure sees the same metric: draw it once.
        twin = draw_plateau(ax, run, colour, twin, show_metric=twin is None) or twin
    draw_epochs(ax, result.steps, result.steps_per_epoch)
    ax.set_ylabel("learning rate")
    if mom is not None:
        draw_momentum(mom, runs, colours)
        draw_epochs(mom, result.steps, result.steps_per_epoch, top_axis=False)
        mom.set_xlabel("step")
        ax.tick_params(labelbottom=False)
    else:
        ax.set_xlabel("step")
    handles, labels = ax.get_legend_handles_labels()
    for handle, label in plateau_handles(runs):
        handles.append(handle)
        labels.append(label)
    ncol = 1 if len(labels) <= 4 else 2
    sub.legend(handles, labels, loc="outside lower center", ncols=ncol, fontsize=8.5,
               frameon=False)
    return [a for a in (ax, mom) if a is not None]


def grid(sub: SubFigure | Figure, result: ScheduleResult, colours: Sequence[str],
         log_y: bool) -> list[Axes]:
    """One panel per run (the article's summary figure); momentum and metrics on a second
    y-axis of their panel."""
    runs = result.runs
    n = len(runs)
    cols = 1 if n == 1 else 2 if n <= 4 else 3 if n <= 9 else 4
    rows = -(-n // cols)
    axes = np.atleast_1d(sub.subplots(rows, cols, squeeze=False)).ravel()
    for ax, run, colour in zip(axes, runs, colours, strict=False):
        draw_lr(ax, run, colour)
        lr_limits(ax, [run], log_y)
        draw_epochs(ax, result.steps, result.steps_per_epoch)
        if run.momentum is not None:
            twin = ax.twinx()
            draw_momentum(twin, [run], [colour], show_label=False)
            for line in twin.get_lines():
                line.set_alpha(0.45)
                line.set_linestyle("--")
            # Named in the panel's title, not beside its right axis, where the label would sit
            # next to the following panel and read as its own.
            twin.tick_params(labelsize=7)
        draw_plateau(ax, run, colour)
        title = wrap(run.label, 48)
        if run.momentum is not None:
            title += f"\n(dashed: {run.momentum_name or 'momentum'}, right axis)"
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=8)
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax in axes[:n][-cols:]:
        ax.set_xlabel("step", fontsize=9)
    for ax in axes[:n][::cols]:
        ax.set_ylabel("learning rate", fontsize=9)
    handles = plateau_handles(runs)
    if handles:
        sub.legend([h for h, _ in handles], [t for _, t in handles], loc="outside lower center",
                   ncols=min(len(handles), 5), fontsize=8.5, frameon=False)
    return list(axes[:n])


def schedule_figure(result: ScheduleResult, grid_layout: bool = False, log_y: bool = False,
                    title: str | None = None) -> Figure:
    """The whole picture: LR panels (overlaid or a grid), a title naming every scheduler with
    its settings, the run's facts, and the lint warnings under it all."""
    runs = result.runs
    colours = colours_for([run.scheduler for run in runs])
    n = len(runs)
    if grid_layout:
        cols = 1 if n == 1 else 2 if n <= 4 else 3 if n <= 9 else 4
        rows = -(-n // cols)
        width = max(8.0, 4.6 * cols)
        main_h = 3.4 * rows + 0.9 + (0.35 if any(r.plateau for r in runs) else 0.0)
    else:
        width = 11.0
        legend_lines = sum(len(textwrap.wrap(r.label, 90)) for r in runs)
        legend_lines = legend_lines if legend_lines <= 4 else -(-legend_lines // 2)
        legend_lines += 2 if any(r.plateau for r in runs) else 0
        main_h = 5.2 + 0.22 * legend_lines
        if any(r.momentum is not None for r in runs):
            main_h += 1.8
    fig, main = figure_with_notes(width, main_h, result.warnings)
    if grid_layout:
        grid(main, result, colours, log_y)
    else:
        overlay(main, result, colours, log_y)
    if title:
        heading = title
    elif n == 1 and not grid_layout:
        heading = runs[0].label
    elif grid_layout:
        heading = "LR schedules"
    else:
        heading = " · ".join(names_of(runs))
    title_width = int(width * 72 / (12 * 0.6))
    text = wrap_items(names_of(runs), title_width) if heading == " · ".join(names_of(runs)) \
        else wrap(heading, title_width)
    main.suptitle(text + "\n" + wrap(facts(result), title_width), fontsize=11)
    return fig
