"""The schedule engine: steps an optimizer and a scheduler as a training loop would and records
the LR (and momentum) every optimizer step used. Pure torch: no files, no drawing.

The loop is the source article's: ``optimizer.step()``, record, ``scheduler.step()``, so lr[i]
is the LR that optimizer step i used. With ``interval="epoch"`` the scheduler steps after the
last optimizer step of each epoch instead.
"""

from __future__ import annotations

import dataclasses
import math
import random
import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch

from optviz.errors import BadValueError, OptvizError
from optviz.optimizers import OptimizerPlan
from optviz.result import PlateauTrace, ScheduleResult, ScheduleRun, finite_or_none
from optviz.schedulers import RunShape, SchedulerPlan

# A metric source gives ``n`` metric values for a run, one per scheduler step, from a seed.
# ReduceLROnPlateau is driven by one when the user gives no metric of their own; the linear-model
# problem will register its training loss here.
MetricSource = Callable[[int, int], list[float]]


def noisy_decay(n: int, seed: int = 0) -> list[float]:
    """A loss-like curve: exponential decay onto a floor, with seeded noise, so that a plateau
    (and with it ReduceLROnPlateau's reductions) appears in the last two thirds of any run."""
    rng = random.Random(seed)
    scale = max(n, 1) / 8.0
    return [0.2 + 0.8 * math.exp(-k / scale) + 0.02 * rng.gauss(0.0, 1.0) for k in range(n)]


METRIC_SOURCES: dict[str, MetricSource] = {"noisy_decay": noisy_decay}
DEFAULT_METRIC = "noisy_decay"

# torch's scheduler warnings, in plain words (matched on the start of the message).
_PLAIN_WARNINGS = (
    (r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`",
     "the scheduler was stepped before the optimizer, so torch skips the schedule's first LR"),
    (r"Seems like `optimizer.step\(\)` has been overridden",
     "optimizer.step() was replaced after the scheduler was made; torch cannot check the order"),
    (r"The epoch parameter in `scheduler.step\(\)`",
     "passing an epoch to scheduler.step() is deprecated in torch"),
    (r"To get the last learning rate computed by the scheduler",
     "get_lr() was called outside step(); torch advises get_last_lr()"),
)


def plain_warning(message: str) -> str:
    """One torch warning as one plain line."""
    for pattern, text in _PLAIN_WARNINGS:
        if re.match(pattern, message):
            return text
    first = message.strip().splitlines()[0] if message.strip() else message
    return first.split(" See ")[0].split(" Please ")[0].rstrip(". ")


def _from_the_run(record: warnings.WarningMessage) -> bool:
    """Whether a caught warning came from torch or optviz stepping the schedule, and not from
    something the garbage collector happened to finalise meanwhile (an unclosed file)."""
    if issubclass(record.category, ResourceWarning):
        return False
    path = str(record.filename).replace("\\", "/")
    return "/torch/" in path or "/optviz/" in path


# -- lints: what would surprise a user, found before the run ---------------------------------


def _has_momentum(optimizer: Any) -> bool:
    return "momentum" in optimizer.defaults or "betas" in optimizer.defaults


def _planned_total(kwargs: dict[str, Any]) -> int | None:
    # OneCycleLR's own rule: total_steps wins over epochs x steps_per_epoch.
    if kwargs.get("total_steps") is not None:
        return int(kwargs["total_steps"])
    if kwargs.get("epochs") is not None and kwargs.get("steps_per_epoch") is not None:
        return int(kwargs["epochs"]) * int(kwargs["steps_per_epoch"])
    return None


def _largest(value: Any) -> float | None:
    if isinstance(value, (list, tuple)):
        numbers = [v for v in value if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return max(numbers) if numbers else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def lint(plan: SchedulerPlan, optimizer: Any, run: RunShape, metric_given: bool) -> list[str]:
    """Warnings about one scheduler on this run, each a plain sentence."""
    out: list[str] = []
    for p in plan.walk():
        name = p.record.label
        if p.record.step_limit:
            total = _planned_total(p.kwargs)
            if total is not None and total < p.span:
                out.append(
                    f"{name} is planned for {total} steps but is stepped {p.span} times: torch "
                    f"raises 'Tried to step {total + 1} times. The specified number of total "
                    f"steps is {total}' there, so the LR after step {total} is not drawn")
            elif total is not None and total > p.span:
                out.append(
                    f"{name} is planned for {total} steps but is stepped only {p.span} times: "
                    f"the cycle stops {100 * p.span / total:.0f}% of the way through")
        if run.interval == "epoch":
            for key, kind in p.record.step_args.items():
                if key in p.derived:
                    continue
                value = _largest(p.kwargs.get(key))
                if value is None or value <= 0:
                    continue
                never = value >= p.span if kind == "event" else value > p.span
                if never:
                    shown = p.kwargs[key]
                    shown = list(shown) if isinstance(shown, tuple) else shown
                    out.append(
                        f"{name} {key}={shown} counts scheduler steps, but with --interval epoch "
                        f"it is stepped only {p.span} times (once per epoch): this looks like a "
                        f"per-step value (use --interval step, or divide by "
                        f"{run.steps_per_epoch} steps per epoch)")
        if p.record.cycles_momentum and p.kwargs.get("cycle_momentum", True):
            opt_name = type(optimizer).__name__
            if not _has_momentum(optimizer):
                out.append(
                    f"{name} cycles momentum, but {opt_name} has neither momentum nor beta1 "
                    f"(torch would refuse): cycle_momentum is turned off for this picture")
            elif optimizer.defaults.get("momentum", None) == 0:
                out.append(
                    f"{name} cycles momentum, but {opt_name} was made with momentum 0: the "
                    f"scheduler sets it between base_momentum and max_momentum anyway "
                    f"(pass cycle_momentum=false to keep plain {opt_name})")
        if p.record.needs_metric and not metric_given:
            out.append(
                f"{name} has no metric: it is driven by a built-in seeded noisy decaying curve; "
                f"give --metric trace.csv or a formula in step for your own")
    return out


def _without_momentum_cycling(plan: SchedulerPlan) -> SchedulerPlan:
    children = tuple(_without_momentum_cycling(c) for c in plan.children)
    kwargs = dict(plan.kwargs)
    if plan.record.cycles_momentum:
        kwargs["cycle_momentum"] = False
    return dataclasses.replace(plan, kwargs=kwargs, children=children)


# -- the run ----------------------------------------------------------------------------------


def make_optimizer(plan: OptimizerPlan, lrs: Sequence[float], seed: int = 0) -> Any:
    """The optimizer on one small 2-D parameter per group (the model never matters: nothing
    has a gradient, so optimizer.step() leaves the parameters alone and only the LR moves)."""
    torch.manual_seed(seed)
    # 2-D so that matrix-only optimizers (Muon) accept it; the article used Linear(2, 1).
    groups = [{"params": [torch.nn.Parameter(torch.randn(1, 2))], "lr": lr} for lr in lrs]
    try:
        return plan.build(groups)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise BadValueError(f"{plan.label}: {exc}") from None


def _momentum_of(group: dict[str, Any]) -> tuple[str, float | None]:
    if "momentum" in group:
        return "momentum", float(group["momentum"])
    if "betas" in group:
        return "beta1", float(group["betas"][0])
    return "momentum", None


def simulate(
    plan: SchedulerPlan,
    optimizer_plan: OptimizerPlan,
    run: RunShape,
    metric: Sequence[float] | None = None,
    metric_source: str = DEFAULT_METRIC,
    seed: int = 0,
) -> ScheduleRun:
    """Step one optimizer and scheduler through the run and record what each step used."""
    optimizer = make_optimizer(optimizer_plan, run.lrs, seed)
    notes = lint(plan, optimizer, run, metric_given=metric_source != DEFAULT_METRIC)
    if plan.cycles_momentum and not _has_momentum(optimizer):
        plan = _without_momentum_cycling(plan)
    if plan.record.needs_metric and (metric is None or len(metric) < run.scheduler_steps):
        raise BadValueError(f"{plan.record.label} needs {run.scheduler_steps} metric values")

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            scheduler = plan.build(optimizer)
        except OptvizError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, ZeroDivisionError) as exc:
            raise BadValueError(f"{plan.label}: {exc}") from None
        series = _loop(plan, optimizer, scheduler, run, metric, metric_source)
        caught = [plain_warning(str(w.message)) for w in seen if _from_the_run(w)]
    lrs, momentum, momentum_name, trace, error = series
    for text in dict.fromkeys(caught):  # each torch warning once, however often it came
        notes.append(f"torch: {text}")
    if error:
        notes.append(error)
    groups_differ = any(g != lrs[0] for g in lrs[1:])
    return ScheduleRun(
        label=plan.label,
        scheduler=plan.record.name,
        class_path=plan.record.target,
        parameters=plan.parameters(),
        lr=lrs[0],
        momentum=momentum if plan.cycles_momentum else None,
        momentum_name=momentum_name if plan.cycles_momentum else None,
        lr_groups=lrs if groups_differ else None,
        plateau=trace,
        error=error,
        warnings=notes,
    )


def _loop(
    plan: SchedulerPlan, optimizer: Any, scheduler: Any, run: RunShape,
    metric: Sequence[float] | None, metric_source: str,
) -> tuple[list[list[float | None]], list[float | None], str, PlateauTrace | None, str | None]:
    groups = optimizer.param_groups
    lrs: list[list[float | None]] = [[] for _ in groups]
    momentum: list[float | None] = []
    momentum_name = _momentum_of(groups[0])[0]
    needs_metric = plan.record.needs_metric
    trace = PlateauTrace(
        at=[], metric=[], best=[], bad_steps=[], cooldown=[], reductions=[],
        patience=int(plan.kwargs.get("patience", getattr(scheduler, "patience", 0))),
        cooldown_steps=int(plan.kwargs.get("cooldown", getattr(scheduler, "cooldown", 0))),
        source=metric_source,
    ) if needs_metric else None
    error: str | None = None
    k = 0  # scheduler steps taken
    for i in range(run.steps):
        if error:
            for series in lrs:
                series.append(None)
            momentum.append(None)
            continue
        optimizer.step()
        for g, group in enumerate(groups):
            lrs[g].append(finite_or_none(float(group["lr"])))
        value = _momentum_of(groups[0])[1]
        momentum.append(None if value is None else finite_or_none(value))
        if run.interval == "epoch" and (i + 1) % run.steps_per_epoch:
            continue
        try:
            if trace is not None and metric is not None:
                before = float(groups[0]["lr"])
                scheduler.step(float(metric[k]))
                trace.at.append(i)
                trace.metric.append(finite_or_none(float(metric[k])))
                trace.best.append(finite_or_none(float(scheduler.best)))
                trace.bad_steps.append(int(scheduler.num_bad_epochs))
                trace.cooldown.append(int(scheduler.cooldown_counter))
                if float(groups[0]["lr"]) < before and i + 1 < run.steps:
                    trace.reductions.append(i + 1)
            else:
                scheduler.step()
        except OptvizError as exc:
            raise BadValueError(f"{plan.label}: {exc}") from None
        except (ValueError, ZeroDivisionError, OverflowError, IndexError, KeyError) as exc:
            # torch's own refusal mid-run (OneCycleLR stepped past its total): the run stops
            # here, as a training loop would.
            error = f"{plan.record.label}: torch raised after step {i}: {exc}"
        k += 1
    return lrs, momentum, momentum_name, trace, error


def run_schedules(
    plans: Sequence[SchedulerPlan],
    optimizer_plan: OptimizerPlan,
    run: RunShape,
    metric: Sequence[float] | None = None,
    metric_source: str = DEFAULT_METRIC,
    seed: int = 0,
) -> ScheduleResult:
    """Simulate every plan on a fresh optimizer; collect the runs and their warnings."""
    result = ScheduleResult(
        lr=list(run.lrs), epochs=run.epochs, steps_per_epoch=run.steps_per_epoch,
        interval=run.interval, optimizer=optimizer_plan.label,
        optimizer_name=optimizer_plan.record.name, seed=seed,
        metric=metric_source if any(p.record.needs_metric for p in plans) else None,
    )
    for plan in plans:
        needs = plan.record.needs_metric
        sim = simulate(plan, optimizer_plan, run, metric if needs else None, metric_source, seed)
        result.runs.append(sim)
        for text in sim.warnings:
            if text not in result.warnings:
                result.warnings.append(text)
    if metric_source != DEFAULT_METRIC and not any(p.record.needs_metric for p in plans):
        result.warnings.append("--metric is used only by ReduceLROnPlateau (plateau), and no "
                               "scheduler here is one")
    return result
