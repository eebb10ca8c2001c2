"""The schedule figure kind: learning rate (and momentum) against step for LR schedulers, as a
training loop sees it; one overlay, a summary grid, or a grid of panels. Lint warnings go to
the report, whichever command or config drew it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optviz.engines.schedule import (
    DEFAULT_METRIC,
    LINEAR_METRIC,
    METRIC_SOURCES,
    OptimizerFacts,
    lint,
    run_schedules,
)
from optviz.errors import BadValueError
from optviz.figures.kind import Computed, FigureKind, safe_stem
from optviz.formula import compile_formula
from optviz.hooks import Hooks
from optviz.plan.optimizers import plan_optimizer
from optviz.plan.schedulers import RunShape, check_common, plan_scheduler, run_for
from optviz.render.schedule import add_footnotes, schedule_figure
from optviz.render.schedule_panels import schedule_panels_figure
from optviz.results import PanelsResult, ScheduleResult, TrajectoryResult
from optviz.spec.figures import ScheduleSpec, TrajectorySpec
from optviz.spec.traces import is_trace, read_trace

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def schedule_metric(text: str | None, run: Any, seed: int = 0
                    ) -> tuple[list[float] | None, str]:
    """The metric ReduceLROnPlateau steps on, one value per scheduler step, and where it came
    from: a trace file (``trace.csv``), a formula in ``step``, a built-in source by name, or
    (by default, values None) the loss of the linear model the scheduled optimizer trains."""
    n = run.scheduler_steps
    if text is None or text == LINEAR_METRIC:
        return None, DEFAULT_METRIC
    if text in METRIC_SOURCES:
        return METRIC_SOURCES[text](n, seed), text
    path = Path(text)
    if is_trace(text):
        values = read_trace(path)
        if len(values) < n:
            raise BadValueError(f"metric {path}: {len(values)} value(s), but the run steps "
                                f"the scheduler {n} times and needs one per step")
        return values[:n], str(path)
    formula = compile_formula(text, ("step", "epoch"))
    # The metric is measured at the optimizer step after which the scheduler steps.
    at = range(n) if run.interval == "step" else (
        (k + 1) * run.steps_per_epoch - 1 for k in range(n))
    return [formula(i, i // run.steps_per_epoch) for i in at], text


def run_schedule_spec(spec: ScheduleSpec) -> ScheduleResult:
    """Resolve names and run the schedule engine: spec -> registries -> engine -> result."""
    run = RunShape(lrs=tuple(spec.lr), epochs=spec.epochs, steps_per_epoch=spec.steps_per_epoch,
                   interval=spec.interval)
    plans = [plan_scheduler(s, run, spec.settings) for s in spec.schedulers]
    check_common(spec.settings, plans)
    optimizer = plan_optimizer(spec.optimizer, lr=spec.lr[0])
    metric, source = schedule_metric(spec.metric, run, spec.seed)
    return run_schedules(plans, optimizer, run, metric, source, spec.seed)


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def compute(spec: ScheduleSpec, hooks: Hooks) -> Computed:
    """Run the schedulers (of every panel); their lint warnings go into the report."""
    if spec.layout != "panels":
        result = run_schedule_spec(spec)
        return Computed(result, {}, warnings=list(result.warnings))
    items, results = [], []
    for panel, sub in zip(spec.panels, spec.panel_specs(), strict=True):
        result = run_schedule_spec(sub)
        items.append((panel.title, result, sub.log_y))
        results.append(result)
    panels = PanelsResult(titles=[p.title for p in spec.panels], results=results,
                          kind="schedule")
    return Computed(panels, {"panels": items},
                    warnings=_unique([w for r in results for w in r.warnings]))


def draw(computed: Computed, spec: ScheduleSpec) -> Figure:
    """The overlay (or summary grid) picture, or the grid of panels."""
    if spec.layout != "panels":
        return schedule_figure(computed.result, grid_layout=spec.grid, log_y=spec.log_y,
                               title=spec.title)
    rows, cols = spec.panel_grid()
    return schedule_panels_figure(computed.draw_inputs["panels"], rows, cols, spec.title)


def stem(spec: ScheduleSpec) -> str:
    """``schedule_step+cosine`` (or ``schedule_panels``)."""
    names = "+".join(s.name for s in spec.schedulers) if spec.layout == "overlay" else ""
    return safe_stem("schedule_" + (names or "panels"))


KIND = FigureKind("schedule", ScheduleSpec, compute, draw, stem)


# -- the same lints for a trajectory's scheduler ----------------------------------------------


def trajectory_lints(spec: TrajectorySpec, result: TrajectoryResult | PanelsResult
                     ) -> list[str]:
    """The lint warnings ``optviz schedule`` gives, for the scheduler of a trajectory figure
    (each panel's), read from what each run recorded: its optimizer's class and defaults, its
    LR and length. Planned as the trajectory planned it (``plan.schedulers.run_for``); the
    metric of a ReduceLROnPlateau is the run's own loss, so no dummy-model warning."""
    pairs = (zip(spec.panel_specs(), result.results, strict=True)
             if isinstance(result, PanelsResult) else [(spec, result)])
    out: list[str] = []
    for sub, res in pairs:
        if sub.scheduler is None:
            continue
        model = sub.model is not None
        for run in res.runs:
            lr = run.hyperparameters.get("lr")
            if run.lr is None or not isinstance(lr, (int, float)) or isinstance(lr, bool):
                continue
            shape = run_for(float(lr), len(run.lr), sub.epochs if model else 1,
                            sub.interval if model else "step")
            plan = plan_scheduler(sub.scheduler, shape)
            name = run.class_path.replace(":", ".").rsplit(".", 1)[-1]
            for text in lint(plan, OptimizerFacts(name, dict(run.hyperparameters)), shape,
                             metric_given=True):
                if text not in out:
                    out.append(text)
    return out


ComputeFn = Callable[[Any, Hooks], Computed]
DrawFn = Callable[[Computed, Any], "Figure"]


def with_scheduler_lints(compute: ComputeFn) -> ComputeFn:
    """A trajectory ``compute`` whose warnings (stderr, through the report) also hold its
    scheduler's lints (``trajectory_lints``)."""

    @functools.wraps(compute)
    def linted(spec: Any, hooks: Hooks) -> Computed:
        computed = compute(spec, hooks)
        for text in trajectory_lints(spec, computed.result):
            if text not in computed.warnings:
                computed.warnings.append(text)
        return computed

    return linted


def with_footnotes(draw: DrawFn) -> DrawFn:
    """A ``draw`` whose figure gets a footnote line per kind of its warnings."""

    @functools.wraps(draw)
    def noted(computed: Computed, spec: Any) -> Figure:
        return add_footnotes(draw(computed, spec), computed.warnings)

    return noted

