"""The schedule engine: steps an optimizer and a scheduler as a training loop would and records
the LR (and momentum) every optimizer step used. Pure torch: no files, no drawing.

The loop is the source article's: ``optimizer.step()``, record, ``scheduler.step()``, so lr[i]
is the LR that optimizer step i used. With ``interval="epoch"`` the scheduler steps after the
last optimizer step of each epoch instead.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import random
import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch

from optviz.engines.stepping import gradient_closure, take_step
from optviz.errors import BadValueError, OptvizError
from optviz.plan.optimizers import OptimizerPlan
from optviz.plan.schedulers import RunShape, SchedulerPlan
from optviz.results import PlateauTrace, ScheduleResult, ScheduleRun, finite_or_none

# An open-loop metric source gives ``n`` metric values for a run, one per scheduler step, from a
# seed. The default, LINEAR_METRIC, is closed-loop instead: the optimizer being scheduled trains
# the dummy linear model, so every LR reduction shows in the loss that follows it.
MetricSource = Callable[[int, int], list[float]]


def noisy_decay(n: int, seed: int = 0) -> list[float]:
    """A loss-like curve: exponential decay onto a floor, with seeded noise, so that a plateau
    (and with it ReduceLROnPlateau's reductions) appears in the last two thirds of any run."""
    rng = random.Random(seed)
    scale = max(n, 1) / 8.0
    return [0.2 + 0.8 * math.exp(-k / scale) + 0.02 * rng.gauss(0.0, 1.0) for k in range(n)]


METRIC_SOURCES: dict[str, MetricSource] = {"noisy_decay": noisy_decay}
LINEAR_METRIC = "linear"
DEFAULT_METRIC = LINEAR_METRIC
METRIC_NAMES = (LINEAR_METRIC, *METRIC_SOURCES)

# The model behind LINEAR_METRIC: Linear(2, 1) without bias, one per parameter group, trained with
# MSELoss on the linear problem's seeded data in shuffled mini-batches of LINEAR_BATCH,
# steps_per_epoch of them per epoch (with the defaults: 256 samples, 8 batches of 32).
LINEAR_BATCH = 32
LINEAR_NOISE = 0.1


class LinearObjective:
    """The dummy linear model's mini-batch training loss, as a closure over the optimizer's own
    parameters: each parameter group holds one (1, 2) weight, i.e. one Linear(2, 1, bias=False),
    started where ``make_optimizer`` put it."""

    def __init__(self, optimizer: Any, record: Any, run: RunShape, seed: int) -> None:
        from optviz.problems.linear import make_data

        self.optimizer = optimizer
        self.record = record
        self.per_epoch = run.steps_per_epoch
        self.data = make_data(samples=LINEAR_BATCH * run.steps_per_epoch, in_features=2,
                              out_features=1, bias=False, noise=LINEAR_NOISE, seed=seed)
        self.gen = torch.Generator().manual_seed(seed)
        self.order: torch.Tensor | None = None

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Step ``step``'s mini-batch: the data are shuffled afresh at the start of each epoch
        by a generator seeded with the run's seed, as a DataLoader with shuffle=True would."""
        b = step % self.per_epoch
        if b == 0 or self.order is None:
            self.order = torch.randperm(self.data.x.shape[0], generator=self.gen)
        rows = self.order[b * LINEAR_BATCH:(b + 1) * LINEAR_BATCH]
        return self.data.x[rows], self.data.y[rows]

    def closure(self, step: int) -> Callable[[], torch.Tensor]:
        """The loss of step ``step``'s batch, mean over the groups' models, with gradients."""
        xb, yb = self.batch(step)
        record = self.record

        weights = [g["params"][0] for g in self.optimizer.param_groups]

        def loss() -> torch.Tensor:
            return sum(torch.nn.functional.mse_loss(xb @ w.T, yb) for w in weights)

        closure = gradient_closure(self.optimizer, weights, loss, record)
        return lambda: closure().detach() / len(weights)


def _no_loss() -> torch.Tensor:
    return torch.zeros(())


def scheduled_step(optimizer: Any, plan: OptimizerPlan, objective: LinearObjective | None,
                   step: int) -> float | None:
    """One optimizer step: on the linear model's loss (returned) or, without an objective, on
    nothing at all (a zero loss), so that only the LR moves. What the optimizer raises is one
    error naming it and the step (``engine.checked_step``).

    Without an objective, an optimizer whose step does nothing when no parameter has a
    gradient (``OptimizerPlan.idle_without_gradients``: torch.optim's own) is stepped once,
    at the first step, as torch's schedulers ask (and check, once), and not again: the later
    steps would change nothing, and each is torch's whole step machinery (profiler record,
    hooks, the loop over parameters), about two thirds of a schedule run's time."""
    if objective is None:
        if step == 0 or not plan.idle_without_gradients:
            take_step(plan, step + 1, optimizer, _no_loss)
        return None
    return float(take_step(plan, step + 1, optimizer, objective.closure(step)))


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

_SETTING = re.compile(r"\[\[(\w+)=([^\]]*)\]\]")


class SettingText(str):
    """A warning whose advice names run settings. As a string it words them as settings
    (``interval=epoch``), as a config or the Python API gives them; ``flag_text()`` words them
    as the command line's flags (``--interval epoch``), which the CLI uses for settings it took
    from flags (as ``errors.CallSettingError`` does for its errors). Written with
    ``[[key=value]]`` where a setting is named."""

    template: str

    def __new__(cls, template: str) -> SettingText:
        self = super().__new__(cls, _SETTING.sub(lambda m: f"{m[1]}={m[2]}", template))
        self.template = template
        return self

    def flag_text(self) -> str:
        """The text with each setting as its flag."""
        return _SETTING.sub(lambda m: f"--{m[1].replace('_', '-')} {m[2]}", self.template)


@dataclasses.dataclass(frozen=True)
class OptimizerFacts:
    """What the lints read of an optimizer: its class's name and its defaults (momentum,
    betas), from a built optimizer or from a recorded run."""

    name: str
    defaults: dict[str, Any]

    @classmethod
    def of(cls, optimizer: Any) -> OptimizerFacts:
        return cls(type(optimizer).__name__, dict(optimizer.defaults))


def _has_momentum(optimizer: Any) -> bool:
    """Whether an optimizer (or its ``OptimizerFacts``) has momentum or beta1."""
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


def _unreached(plan: SchedulerPlan) -> tuple[int | None, tuple[SchedulerPlan, ...]]:
    """SequentialLR switches to its next scheduler when stepped ``milestone`` times: the first
    milestone at or after its last scheduler step (the run's, or its own part of it), and the
    nested schedulers that therefore never run."""
    milestones = plan.kwargs.get("milestones")
    if not plan.record.composite or not isinstance(milestones, (list, tuple)):
        return None, ()
    for i, milestone in enumerate(milestones):
        if isinstance(milestone, int) and milestone >= plan.span and plan.children[i + 1:]:
            return milestone, plan.children[i + 1:]
    return None, ()


def _reached(plan: SchedulerPlan) -> list[SchedulerPlan]:
    """``plan.walk()`` less the nested schedulers that never run (nothing of them to lint)."""
    _, unrun = _unreached(plan)
    out = [plan]
    for child in plan.children:
        if not any(child is u for u in unrun):
            out.extend(_reached(child))
    return out


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def lint(plan: SchedulerPlan, optimizer: Any, run: RunShape, metric_given: bool) -> list[str]:
    """Warnings about one scheduler on this run, each a plain sentence; ``optimizer`` is the
    built optimizer or its ``OptimizerFacts``. Advice that names a run setting is a
    ``SettingText``."""
    facts = optimizer if isinstance(optimizer, OptimizerFacts) else OptimizerFacts.of(optimizer)
    out: list[str] = []
    for p in _reached(plan):
        name = p.record.label
        milestone, unrun = _unreached(p)
        if unrun:
            names = " and ".join(c.record.name for c in unrun)
            per_epoch = (f" (stepped once per epoch with [[interval=epoch]]: this looks like a "
                         f"per-step value; use [[interval=step]], or divide by "
                         f"{run.steps_per_epoch} steps per epoch)"
                         if run.interval == "epoch" else "")
            out.append(SettingText(
                f"{name}: milestone {milestone} is at or after the run's last scheduler "
                f"step ({p.span}); {names} never run{'s' if len(unrun) == 1 else ''}"
                f"{per_epoch}"))
        if p.record.step_limit:
            total = _planned_total(p.kwargs)
            if total is not None and total < p.span:
                out.append(
                    f"{name} is planned for {total} steps but is stepped {_times(p.span)}: torch "
                    f"raises 'Tried to step {total + 1} times. The specified number of total "
                    f"steps is {total}' there, so the LR after step {total} is not drawn")
            elif total is not None and total > p.span:
                out.append(
                    f"{name} is planned for {total} steps but is stepped only {_times(p.span)}: "
                    f"the cycle stops {100 * p.span / total:.0f}% of the way through")
        if run.interval == "epoch":
            for key, kind in p.record.step_args.items():
                if key in p.derived or (unrun and key == "milestones"):
                    continue  # from the run, or said above
                value = _largest(p.kwargs.get(key))
                if value is None or value <= 0:
                    continue
                never = value >= p.span if kind == "event" else value > p.span
                if never:
                    shown = p.kwargs[key]
                    shown = list(shown) if isinstance(shown, tuple) else shown
                    out.append(SettingText(
                        f"{name} {key}={shown} counts scheduler steps, but with "
                        f"[[interval=epoch]] it is stepped only {_times(p.span)} (once per "
                        f"epoch): this looks like a per-step value (use [[interval=step]], or "
                        f"divide by {run.steps_per_epoch} steps per epoch)"))
        if p.record.cycles_momentum and p.kwargs.get("cycle_momentum", True):
            opt_name = facts.name
            if not _has_momentum(facts):
                out.append(
                    f"{name}'s momentum cycling is turned off for this picture: {opt_name} "
                    f"has neither momentum nor beta1 (torch would refuse cycle_momentum)")
            elif facts.defaults.get("momentum", None) == 0:
                out.append(
                    f"{name} cycles momentum, but {opt_name} was made with momentum 0: the "
                    f"scheduler sets it between base_momentum and max_momentum anyway "
                    f"(pass cycle_momentum=false to keep plain {opt_name})")
        if p.record.needs_metric and not metric_given:
            # The gist (up to the first bracket) is the figure's footnote: say what the drawn
            # metric is, not that there is none.
            out.append(SettingText(
                f"{name} steps on the training loss of a dummy linear model (no metric was "
                f"given): Linear(2, 1), MSE, batches of {LINEAR_BATCH}, trained by the scheduled "
                f"optimizer; give a metric ([[metric=trace.csv]], or a formula in step) for "
                f"your own"))
    return out


def fit_to_optimizer(plan: SchedulerPlan, optimizer: Any) -> SchedulerPlan:
    """The plan as it can drive ``optimizer``: with momentum cycling turned off where the
    optimizer has neither momentum nor beta1 (torch would refuse; ``lint`` says so), in a
    schedule and in a trajectory alike."""
    if plan.cycles_momentum and not _has_momentum(optimizer):
        return _without_momentum_cycling(plan)
    return plan


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
    objective = None
    if plan.record.needs_metric and metric is None and metric_source == LINEAR_METRIC:
        objective = LinearObjective(optimizer, optimizer_plan.record, run, seed)
    plan = fit_to_optimizer(plan, optimizer)
    if plan.record.needs_metric and objective is None and (
            metric is None or len(metric) < run.scheduler_steps):
        raise BadValueError(f"{plan.record.label} needs {run.scheduler_steps} metric values")

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            scheduler = plan.build(optimizer)
        except OptvizError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, ZeroDivisionError) as exc:
            raise BadValueError(f"{plan.label}: {exc}") from None
        step = functools.partial(scheduled_step, optimizer, optimizer_plan, objective)
        series = _loop(plan, optimizer, scheduler, run, metric, metric_source, step)
        caught = [plain_warning(str(w.message)) for w in seen if _from_the_run(w)]
    lrs, momenta, momentum_name, trace, error, reason = series
    for text in dict.fromkeys(caught):  # each torch warning once, however often it came
        notes.append(f"torch: {text}")
    if error and not any(reason and reason in note for note in notes):
        notes.append(error)  # unless a lint foresaw it, quoting torch's own words
    groups_differ = any(g != lrs[0] for g in lrs[1:])
    momenta_differ = plan.cycles_momentum and any(m != momenta[0] for m in momenta[1:])
    return ScheduleRun(
        label=plan.label,
        scheduler=plan.record.name,
        class_path=plan.record.target,
        parameters=plan.parameters(),
        lr=lrs[0],
        momentum=momenta[0] if plan.cycles_momentum else None,
        momentum_name=momentum_name if plan.cycles_momentum else None,
        lr_groups=lrs if groups_differ else None,
        momentum_groups=momenta if momenta_differ else None,
        plateau=trace,
        error=error,
        warnings=notes,
    )


def _loop(
    plan: SchedulerPlan, optimizer: Any, scheduler: Any, run: RunShape,
    metric: Sequence[float] | None, metric_source: str, step: Callable[[int], float | None],
) -> tuple[list[list[float | None]], list[list[float | None]], str, PlateauTrace | None,
           str | None, str | None]:
    """The recorded series, the LR and the momentum of every parameter group; on torch's
    refusal mid-run, also the error (what stopped where) and its reason (torch's own
    message)."""
    groups = optimizer.param_groups
    lrs: list[list[float | None]] = [[] for _ in groups]
    momenta: list[list[float | None]] = [[] for _ in groups]
    momentum_name = _momentum_of(groups[0])[0]
    needs_metric = plan.record.needs_metric
    trace = PlateauTrace(
        at=[], metric=[], best=[], bad_steps=[], cooldown=[], reductions=[],
        patience=int(plan.kwargs.get("patience", getattr(scheduler, "patience", 0))),
        cooldown_steps=int(plan.kwargs.get("cooldown", getattr(scheduler, "cooldown", 0))),
        source=metric_source,
    ) if needs_metric else None
    error: str | None = None
    reason: str | None = None
    k = 0  # scheduler steps taken
    seen: list[float] = []  # the model's losses since the scheduler last stepped
    for i in range(run.steps):
        if error:
            for series in (*lrs, *momenta):
                series.append(None)
            continue
        loss = step(i)
        if loss is not None:
            seen.append(loss)
        for g, group in enumerate(groups):
            lrs[g].append(finite_or_none(float(group["lr"])))
            value = _momentum_of(group)[1]
            momenta[g].append(None if value is None else finite_or_none(value))
        if run.interval == "epoch" and (i + 1) % run.steps_per_epoch:
            continue
        try:
            if trace is not None and (metric is not None or seen):
                # The model's loss: this step's batch, or the epoch's mean with --interval epoch.
                value = float(metric[k]) if metric is not None else sum(seen) / len(seen)
                seen.clear()
                before = float(groups[0]["lr"])
                scheduler.step(value)
                trace.at.append(i)
                trace.metric.append(finite_or_none(value))
                trace.best.append(finite_or_none(float(scheduler.best)))
                trace.bad_steps.append(int(scheduler.num_bad_epochs))
                trace.cooldown.append(int(scheduler.cooldown_counter))
                if float(groups[0]["lr"]) < before and i + 1 < run.steps:
                    trace.reductions.append(i + 1)
            else:
                scheduler.step()
        except OptvizError as exc:
            raise BadValueError(f"{plan.label}: {exc}") from None
        except TypeError as exc:  # a setting of the wrong type, met at its first use
            raise BadValueError(f"{plan.label}: a setting has the wrong type ({exc})") from None
        except (ValueError, ZeroDivisionError, OverflowError, IndexError, KeyError) as exc:
            # torch's own refusal mid-run (OneCycleLR stepped past its total): the run stops
            # here, as a training loop would.
            reason = str(exc)
            error = f"{plan.record.label}: torch raised after step {i}: {reason}"
        k += 1
    return lrs, momenta, momentum_name, trace, error, reason


def _without_lr(plan: OptimizerPlan) -> str:
    """The optimizer as the figure names it: its settings but not its lr, which the figure
    gives per param group (a plan's label holds only the first group's)."""
    if not plan.auto_label:
        return plan.label
    from optviz.plan.labels import format_value

    given = {k: v for k, v in plan.kwargs.items()
             if k != "lr" and (k not in plan.record.defaults or plan.record.defaults[k] != v)}
    inner = ", ".join(f"{k}={format_value(v)}" for k, v in given.items() if v is not None)
    return f"{plan.record.label} ({inner})" if inner else plan.record.label


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
        interval=run.interval, optimizer=_without_lr(optimizer_plan),
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
        result.warnings.append("a metric is used only by ReduceLROnPlateau (plateau), and no "
                               "scheduler here is one")
    return result
