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
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, MultipleLocator

from optviz.render.style import PALETTE, Style, delta_e, lab, style_of, styles_for, wrap_items
from optviz.render.ticks import minor_marks
from optviz.results import PlateauTrace, ScheduleResult, ScheduleRun

WARN_COLOUR = "#b35900"
METRIC_COLOUR = "#6f6f6f"
PATIENCE_COLOUR = "#d62728"
COOLDOWN_COLOUR = "#1f77b4"
GROUP_STYLES = ("-", "--", ":", "-.")
MAX_EPOCH_LINES = 16  # more epoch grid lines than this turn into a grey wash
LOG_DECADES = 2.0  # a grid panel whose positive LRs span more decades than this is drawn log
NO_WARMUP = "_no_warmup"


def _array(values: Sequence[float | None]) -> np.ndarray:
    return np.array(values, dtype=float)  # None becomes nan, which matplotlib leaves out


def _breaks(text: str) -> list[int]:
    """Where a label may break: at a space outside brackets or between its own settings
    (``StepLR (step_size=4, gamma=0.5)``), or between the named items of a list
    (``[LinearLR (...), CosineAnnealingLR (...)]``); never inside an item's own settings or a
    value such as ``[30, 60]``."""
    out: list[int] = []
    opened: list[str] = []
    for i, ch in enumerate(text):
        if ch in "([{":
            opened.append(ch)
        elif ch in ")]}":
            if opened:
                opened.pop()
        elif ch == " ":
            between_items = (opened and opened[-1] == "[" and text[i - 1] == ","
                             and text[i + 1:i + 2].isalpha())
            if len(opened) <= 1 or between_items:
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


# Settings that make a scheduler draw what another registered name draws: such a run takes that
# name's style (CyclicLR in mode triangular2 is cyclic_triangular2, in any figure).
_VARIANTS = {
    "cyclic": ("mode", {"triangular2": "cyclic_triangular2", "exp_range": "cyclic_exp_range"}),
    "onecycle": ("anneal_strategy", {"linear": "onecycle_linear"}),
}


def style_key(run: ScheduleRun) -> str:
    """The name a run is styled by: its scheduler's, or the registered variant it draws, or for
    a warmup schedule given no warmup (labelled "..., no warmup") a name of its own."""
    name = run.scheduler
    key, variants = _VARIANTS.get(name, ("", {}))
    if key and run.parameters.get(key) in variants:
        return variants[run.parameters[key]]
    if run.parameters.get("num_warmup_steps") == 0:
        return f"{name}{NO_WARMUP}"
    return name


def run_style(key: str) -> Style:
    """The style of a ``style_key``: the name's own; for a warmup schedule given no warmup,
    dashed in the palette's hue farthest from its warmup name's (of those dark enough to read
    on white), the same in any company, so the two never read as one curve."""
    if not key.endswith(NO_WARMUP):
        return style_of(key)
    base = style_of(key[:-len(NO_WARMUP)]).colour
    readable = [c for c in PALETTE if 25 <= lab(c)[0] <= 62]
    return Style(max(readable, key=lambda c: delta_e(c, base)), "--", "s")


def overlay_styles(runs: Sequence[ScheduleRun]) -> list[Style]:
    """The styles of runs drawn on one axes: each run's name's (``style_key``), a repeat shaded
    with its own dash; a dash only for repeats and where another run shares the colour (a lone
    variant, such as cyclic_triangular2, is drawn solid like any other curve)."""
    keys = [style_key(run) for run in runs]
    styles = [run_style(k) if k.endswith(NO_WARMUP) and keys.count(k) == 1 else s
              for s, k in zip(styles_for(keys), keys, strict=True)]
    colours = [s.colour for s in styles]
    # (the no-warmup run keeps its dash: it says "the same schedule, without its warmup")
    return [s if colours.count(s.colour) > 1 or keys.count(k) > 1 or s.dash == "-"
            or k.endswith(NO_WARMUP) else Style(s.colour, "-", s.marker)
            for s, k in zip(styles, keys, strict=True)]


def _marker_size(n: int) -> float:
    return 3.5 if n <= 64 else 2.2 if n <= 200 else 0.0


def epoch_step(epochs: int) -> int:
    """Epochs between grid lines: every epoch, or a 1-2-5 multiple when there are many."""
    if epochs <= MAX_EPOCH_LINES:
        return 1
    raw = epochs / MAX_EPOCH_LINES
    base = 10 ** math.floor(math.log10(raw))
    return int(next(m * base for m in (1, 2, 5, 10) if m * base >= raw))


# A short run gets a minor tick mark at every step.
MAX_STEP_MARKS = 64


def _step_marks(ax: Axes, steps: int, major: int) -> None:
    """A minor tick mark at every step but the epoch ticks, as one artist (``render.ticks``:
    the same pixels as a minor locator, without a tick object for each step)."""
    xs = [float(s) for s in range(steps + 1) if s % major]
    if xs:
        minor_marks(ax, xs)


def draw_epochs(ax: Axes, steps: int, steps_per_epoch: int, top_axis: bool = True) -> Axes:
    """Steps on the x-axis from 0 to the run's length, a grid line at every epoch boundary and
    (``top_axis``) a second x-axis in epochs, as in the source article's plotting code."""
    epochs = max(1, steps // steps_per_epoch)
    every = epoch_step(epochs)
    ax.set_xlim(0, steps)
    ax.xaxis.set_major_locator(MultipleLocator(steps_per_epoch * every))
    if steps <= MAX_STEP_MARKS:
        _step_marks(ax, steps, steps_per_epoch * every)
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


def _steps_to_end(values: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
    """x and y of a piecewise-constant series drawn as steps: value i holds over step i, from
    i to i + 1, so the last one is drawn to the end of the run (one point more, unmarked)."""
    ys = _array(values)
    if not ys.size:
        return np.arange(0), ys
    return np.arange(ys.size + 1), np.append(ys, ys[-1])


def draw_lr(ax: Axes, run: ScheduleRun, colour: str | Style, label: str | None = None) -> Axes:
    """One run's LR per step with markers, as steps (a ramp between two values would claim LRs
    no step used), in the run's style (a repeated name's dash); every parameter group when
    they differ; an X where torch stopped the run."""
    style = colour if isinstance(colour, Style) else Style(colour)
    colour = style.colour
    series = run.lr_groups or [run.lr]
    ms = _marker_size(len(run.lr))
    for g, values in enumerate(series):
        xs, ys = _steps_to_end(values)
        name = label if label is not None else run.label
        if run.lr_groups:
            name = f"{name} — group {g}"
            dash = GROUP_STYLES[g % len(GROUP_STYLES)]
        else:
            dash = style.dash
        # Markers (the value each step used) are not clipped at the axes' edges: an LR of 0
        # sits on the bottom spine and stays whole.
        ax.plot(xs, ys, linestyle=dash, marker=style.marker if g == 0 else "s",
                markevery=list(range(xs.size - 1)), ms=ms if g == 0 else max(ms - 0.8, 0),
                color=colour, lw=1.5, label=name, zorder=3, drawstyle="steps-post",
                clip_on=False)
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
        positive = values[values > 0]
        if positive.size:
            # Every decade labelled (every second one past a dozen), and half a decade of room
            # above the first LR and below the last, so that the LR the run starts at reads off
            # a labelled tick instead of sitting unlabelled against the top edge.
            lo, hi = float(positive.min()), float(positive.max())
            decades = math.log10(hi / lo) if hi > lo else 0.0
            ax.set_ylim(lo / 10 ** 0.5, hi * 10 ** 0.5)
            subs = (1.0,) if decades <= 12 else None
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs, numticks=14))
        return ax
    # Plain numbers (0.0005), not an offset "1e-3" that collides with the epoch axis.
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
    if values.size:
        lo, hi = float(values.min()), float(values.max())
        top = hi * 1.08 if hi > 0 else 1.0
        ax.set_ylim(min(0.0, lo * 1.08), top)
    return ax


def draw_momentum(ax: Axes, runs: Sequence[ScheduleRun], colours: Sequence[str | Style],
                  show_label: bool = True) -> Axes:
    """Momentum (SGD) or beta1 (Adam-like) per step, for runs that cycle it, as steps like the
    LR; room above and below so that the markers at the cycle's ends stay whole."""
    names = set()
    for run, colour in zip(runs, colours, strict=True):
        if run.momentum is None:
            continue
        style = colour if isinstance(colour, Style) else Style(colour)
        names.add(run.momentum_name or "momentum")
        xs, ys = _steps_to_end(run.momentum)
        ax.plot(xs, ys, linestyle=style.dash, marker=style.marker,
                markevery=list(range(xs.size - 1)), ms=max(_marker_size(ys.size - 1) - 1, 0),
                color=style.colour, lw=1.2, alpha=0.85, drawstyle="steps-post")
    ax.margins(y=0.15)
    if show_label:
        ax.set_ylabel(" / ".join(sorted(names)) or "momentum")
    return ax


def draw_plateau(ax: Axes, run: ScheduleRun, colour: str, metric_axis: Axes | None = None,
                 show_metric: bool = True, axis_label: bool = True) -> Axes | None:
    """ReduceLROnPlateau's view: the metric (and best so far) on a second y-axis, shaded
    patience windows and cooldowns, and a marker where the LR was reduced. Without
    ``axis_label`` the metric's axis is left unnamed (a grid names it in the panel's title,
    as a label beside the right axis would read as the next panel's)."""
    trace = run.plateau
    if trace is None:
        return metric_axis
    # Step i is drawn from i to i + 1: a metric measured after step i sits at i + 1, where the
    # LR it reduces begins.
    at = np.array(trace.at, dtype=float) + 1
    twin = metric_axis
    if show_metric:
        twin = metric_axis or ax.twinx()
        twin.plot(at, _array(trace.metric), "-", color=METRIC_COLOUR, lw=1.0, alpha=0.9,
                  marker=".", ms=3, zorder=2, clip_on=False)
        twin.plot(at, _array(trace.best), "--", color=METRIC_COLOUR, lw=0.9, alpha=0.7, zorder=2)
        metric = _array(trace.metric)
        metric = metric[np.isfinite(metric)]
        # A training loss falls by decades and then plateaus: on a linear axis the plateau
        # that the scheduler reacts to is a flat line at zero, so such a metric goes on a log
        # axis.
        if metric.size and metric.min() > 0 and metric.max() / metric.min() > 100:
            twin.set_yscale("log")
        if axis_label:
            twin.set_ylabel(f"metric ({metric_source(trace.source)})", color=METRIC_COLOUR,
                            fontsize=9)
        twin.tick_params(axis="y", colors=METRIC_COLOUR, labelsize=8)
    _plateau_spans(ax, trace, colour)
    lr = _array(run.lr)
    for r in trace.reductions:
        if r < lr.size and np.isfinite(lr[r]):
            ax.plot(r, lr[r], "v", color=colour, ms=8, mec="white", zorder=6, clip_on=False)
    return twin


def patience_gap(steps: int) -> float:
    """Steps left unshaded on each side of a patience span, so that two spans that meet (a
    reduction, then at once the next run-out) read as two: 0.4% of the run."""
    return 0.004 * steps


def _plateau_spans(ax: Axes, trace: PlateauTrace, colour: str) -> None:
    """Shade the steps whose metric counted: the bad ones that ran out the patience before a
    reduction (red, each run-out its own outlined span, a gap between two that meet), the
    cooldown after it (blue); a dotted line where the LR was reduced. The measurement after
    step ``at[k]`` covers the steps since the one before it."""
    ends = [a + 1 for a in trace.at]  # where each measured stretch of steps ends
    starts = [0, *ends[:-1]]
    gap = patience_gap(ends[-1] if ends else 0)
    for k, end in enumerate(ends):
        if trace.cooldown[k] > 0 and k + 1 < len(ends):
            ax.axvspan(end, ends[k + 1], color=COOLDOWN_COLOUR, alpha=0.08, lw=0)
    for r in trace.reductions:
        if r in ends:
            k = first = ends.index(r)
            while first > 0 and trace.bad_steps[first - 1] > 0:
                first -= 1
            ax.axvspan(starts[first] + gap, ends[k] - gap, facecolor=(*_rgb(PATIENCE_COLOUR), 0.07),
                       edgecolor=(*_rgb(PATIENCE_COLOUR), 0.55), lw=0.9)
        ax.axvline(r, color=colour, ls=":", lw=1.1, alpha=0.9)


def _rgb(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(colour)


def metric_source(source: str) -> str:
    """Where a plateau metric came from, in words."""
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
        out.append((Patch(facecolor=(*_rgb(PATIENCE_COLOUR), 0.15),
                          edgecolor=(*_rgb(PATIENCE_COLOUR), 0.55), lw=0.9),
                    "patience ran out (one span each)"))
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


def footnote(text: str, width: int, where: str = "") -> str:
    """A warning's gist in one short line: up to its first ':' or ';' past the name (what
    happened, not the explanation), at most ``width`` characters; ``where`` (a panel's title)
    goes before it, so that the cut never falls on the place instead of the warning."""
    cut = len(text)
    for mark in (": ", "; ", " (", ", so ", ": torch"):
        at = text.find(mark, 20)
        if 0 < at < cut:
            cut = at
    gist = text[:cut].rstrip(" ,.")
    if where:
        gist = f"{where}: {gist}"
    if len(gist) > width - 3:
        # Cut at a word, never inside one, and still end the sentence.
        return "⚠ " + gist[:width - 4].rsplit(" ", 1)[0].rstrip(" ,;:") + " …"
    return "⚠ " + gist + "."


def footnotes(warnings: Sequence[str], width: int, where: Sequence[str] = ()) -> list[str]:
    """One line per kind of warning (two warnings with the same gist are one line), each
    after its place in ``where`` if given: a short sentence that stands on its own (the full
    texts go to stderr, but a picture in a README has none)."""
    places = list(where) or [""] * len(warnings)
    return list(dict.fromkeys(footnote(t, width, w)
                              for t, w in zip(warnings, places, strict=True)))


def add_footnotes(fig: Figure, warnings: Sequence[str]) -> Figure:
    """A footnote per kind of warning under a finished (constrained-layout) figure of another
    kind, a trajectory with a scheduler: the figure grows by the lines it adds, the layout
    keeps to the space above them (so the plots keep their size), and a legend outside the
    plots' lower edge moves up with that space, never onto the notes."""
    if not warnings:
        return fig
    from matplotlib.layout_engine import ConstrainedLayoutEngine
    from matplotlib.transforms import Bbox, TransformedBbox

    width, height = fig.get_size_inches()
    notes = footnotes(warnings, int(width * 72 / (8.5 * 0.64)))
    notes_h = 0.14 + 0.19 * len(notes)
    fig.set_size_inches(width, height + notes_h)
    frac = notes_h / (height + notes_h)
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(rect=(0, frac, 1, 1 - frac))
        above = TransformedBbox(Bbox.from_bounds(0, frac, 1, 1 - frac), fig.transFigure)
        for legend in fig.legends:
            if getattr(legend, "_outside_loc", None) == "lower":
                # The layout still reserves the legend's height (its anchor is unset); it is
                # drawn at the bottom of the laid-out space instead of the figure's.
                legend.get_bbox_to_anchor = lambda box=above: box
    fig.text(0.012, (notes_h - 0.06) / (height + notes_h), "\n".join(notes), ha="left",
             va="top", fontsize=8.5, color=WARN_COLOUR, linespacing=1.35, in_layout=False)
    return fig


def _draw_notes(sub: SubFigure, text: str) -> None:
    sub.text(0.012, 0.96, text, ha="left", va="top", fontsize=8.5, color=WARN_COLOUR,
             linespacing=1.35)


def figure_with_notes(width: float, main_h: float, warnings: Sequence[str],
                      where: Sequence[str] = ()) -> tuple[Figure, Figure | SubFigure]:
    """A figure ``width`` wide with ``main_h`` inches for the plots and, below them, a
    footnote per kind of warning (each after its place in ``where``, if given): the figure
    and the part to draw the plots in."""
    notes = footnotes(warnings, int(width * 72 / (8.5 * 0.64)), where)
    text, lines = "\n".join(notes), len(notes)
    notes_h = 0.25 + 0.19 * lines if lines else 0.0
    fig = Figure(figsize=(width, main_h + notes_h), layout="constrained")
    if not lines:
        return fig, fig
    main, bottom = fig.subfigures(2, 1, height_ratios=[main_h, notes_h])
    _draw_notes(bottom, text)
    return fig, main


def overlay(sub: SubFigure | Figure, result: ScheduleResult, colours: Sequence[str | Style],
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
        twin = draw_plateau(ax, run, _colour(colour), twin, show_metric=twin is None) or twin
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


def _colour(style: str | Style) -> str:
    return style.colour if isinstance(style, Style) else style


def multiplicative(run: ScheduleRun) -> bool:
    """Whether a run decays multiplicatively, as far as a linear axis cannot show: an
    ExponentialLR, or positive LRs that span more than ``LOG_DECADES`` decades and stay below
    a hundredth of the largest for a fifth of the run or more (a StepLR halving on and on). A
    ramp to zero (linear or cosine decay, a warmup from 0) spans decades only in its last or
    first few steps, and stays on a linear axis, which draws its shape."""
    if run.scheduler == "exponential":
        return True
    values = np.concatenate([_array(v) for v in (run.lr_groups or [run.lr])])
    values = values[np.isfinite(values) & (values > 0)]
    if not values.size or math.log10(values.max() / values.min()) <= LOG_DECADES:
        return False
    return bool((values < values.max() / 100).mean() >= 0.2)


def grid(sub: SubFigure | Figure, result: ScheduleResult, colours: Sequence[str | Style],
         log_y: bool) -> list[Axes]:
    """One panel per run (the article's summary figure); momentum and metrics on a second
    y-axis of their panel, named in the panel's title (a label beside the right axis would
    sit next to the following panel and read as its own). A panel whose LR decays
    multiplicatively (``multiplicative``) is on a log LR axis even without ``log_y``, which its
    axis label says, so that the later steps do not vanish at zero."""
    runs = result.runs
    n = len(runs)
    cols = 1 if n == 1 else 2 if n <= 4 else 3 if n <= 9 else 4
    rows = -(-n // cols)
    axes = np.atleast_1d(sub.subplots(rows, cols, squeeze=False)).ravel()
    logs = [log_y or multiplicative(run) for run in runs]
    for ax, run, colour, log in zip(axes, runs, colours, logs, strict=False):
        draw_lr(ax, run, colour)
        lr_limits(ax, [run], log)
        draw_epochs(ax, result.steps, result.steps_per_epoch)
        notes = []
        if run.momentum is not None:
            twin = ax.twinx()
            draw_momentum(twin, [run], [Style(_colour(colour), "--", "")], show_label=False)
            for line in twin.get_lines():
                line.set_alpha(0.75)
                line.set_linewidth(1.0)
            twin.tick_params(labelsize=7)
            notes.append(f"dashed: {run.momentum_name or 'momentum'}")
        if run.plateau is not None:
            draw_plateau(ax, run, _colour(colour), axis_label=False)
            notes.append(f"grey: metric, {metric_source(run.plateau.source)}")
        title = wrap(run.label, 48)
        if notes:
            title += f"\n({'; '.join(notes)}; right axis)"
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=8)
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax in axes[:n][-cols:]:
        ax.set_xlabel("step", fontsize=9)
    for i, ax in enumerate(axes[:n]):
        if logs[i] and not log_y:
            ax.set_ylabel("learning rate (log axis)", fontsize=9)
        elif i % cols == 0:
            ax.set_ylabel("learning rate (log axis)" if log_y else "learning rate", fontsize=9)
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
    # Overlaid, a repeated name keeps its hue, shaded, with its own dash; in a grid every
    # panel is alone, so each run has its name's own style (no repeat washed out to grey).
    names = [style_key(run) for run in runs]
    # (solid in a grid, where the dash is the momentum's).
    colours = ([Style(run_style(name).colour, "-", run_style(name).marker) for name in names]
               if grid_layout else overlay_styles(runs))
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
