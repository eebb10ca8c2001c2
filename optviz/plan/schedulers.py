"""Schedulers planned against a run: a spec resolved through the registry, its arguments
checked against the factory and filled in from the run (T_max, total_steps, warmup...)."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from optviz.errors import BadValueError, UnknownSettingError, UnsupportedError
from optviz.names import did_you_mean
from optviz.plan.labels import format_value
from optviz.registry import SCHEDULERS
from optviz.registry.plugins import refine_scheduler
from optviz.registry.schedulers import (
    DECAY_FRACTION,
    WARMUP_FRACTION,
    SchedulerRecord,
    plain,
    takes_optimizer_keyword,
    valid_settings,
)
from optviz.registry.signatures import check_settings, signature_params
from optviz.spec.figures import SchedulerSpec

_EVENT = "event"

# -- the run a scheduler is planned against ---------------------------------------------------


@dataclass(frozen=True)
class RunShape:
    """How long a schedule runs and on what: everything derived arguments come from."""

    lrs: tuple[float, ...] = (1e-3,)
    epochs: int = 4
    steps_per_epoch: int = 8
    interval: str = "step"

    @property
    def steps(self) -> int:
        """Optimizer steps: the length of every recorded series."""
        return self.epochs * self.steps_per_epoch

    @property
    def scheduler_steps(self) -> int:
        """How often scheduler.step() is called in the run."""
        return self.steps if self.interval == "step" else self.epochs

    def quantity(self, what: str, span: int) -> Any:
        """The value of a derived argument for a scheduler that runs ``span`` scheduler steps
        (the whole run, or its segment of a SequentialLR)."""
        per_group = len(self.lrs) > 1
        if what == "steps":
            return span
        if what in ("lr", "lr/10"):
            scale = 0.1 if what == "lr/10" else 1.0
            values = [lr * scale for lr in self.lrs]
            return values if per_group else values[0]
        whole = self.interval == "step" and span == self.steps
        if what == "epochs":
            return self.epochs if whole else span
        if what == "steps_per_epoch":
            return self.steps_per_epoch if whole else 1
        if what == "warmup":
            return max(1, round(WARMUP_FRACTION * span))
        if what == "decay":
            return max(1, round(DECAY_FRACTION * span))
        if what == "stable":
            return max(0, span - self.quantity("warmup", span) - self.quantity("decay", span))
        raise ValueError(f"unknown run quantity {what!r}")  # a registry bug, not user input


# -- plans ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchedulerPlan:
    """A resolved scheduler: record, factory, checked keyword arguments (plain data: formulas
    as text), which of them came from the run, nested plans, and the legend label."""

    record: SchedulerRecord
    factory: Any
    kwargs: dict[str, Any]
    derived: tuple[str, ...]
    label: str
    span: int
    children: tuple[SchedulerPlan, ...] = ()

    @property
    def cycles_momentum(self) -> bool:
        """Whether the built scheduler will change momentum / beta1."""
        own = self.record.cycles_momentum and bool(self.kwargs.get("cycle_momentum", True))
        return own or any(c.cycles_momentum for c in self.children)

    def walk(self) -> list[SchedulerPlan]:
        """This plan and every nested one, depth first."""
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out

    def build(self, optimizer: Any) -> Any:
        """The torch scheduler on ``optimizer``; the caller turns torch's errors into ours."""
        from optviz.formula import compile_formula

        kwargs = dict(self.kwargs)
        for key, variable in self.record.formulas.items():
            if key in kwargs and kwargs[key] is not None:
                value = kwargs[key]
                if isinstance(value, list):
                    kwargs[key] = [compile_formula(v, (variable,)) for v in value]
                else:
                    kwargs[key] = compile_formula(value, (variable,))
        if self.record.composite:
            kwargs["schedulers"] = [child.build(optimizer) for child in self.children]
        if takes_optimizer_keyword(self.factory):
            return self.factory(optimizer=optimizer, **kwargs)
        return self.factory(optimizer, **kwargs)  # a plugin's own name for it, first

    def parameters(self) -> dict[str, Any]:
        """The fully resolved arguments (factory defaults included), as plain data."""
        out: dict[str, Any] = {}
        for key, default in valid_settings(self.factory).items():
            if key in self.kwargs:
                out[key] = self.kwargs[key]
            elif default is not inspect.Parameter.empty:
                out[key] = default
        if self.record.composite:
            out["schedulers"] = [
                {"scheduler": c.record.name, "class_path": c.record.target,
                 "parameters": c.parameters()} for c in self.children
            ]
        return {k: plain(v) for k, v in out.items()}


def boolean_settings() -> set[str]:
    """Keywords with a boolean default in any registered scheduler: these are bare flags."""
    keys: set[str] = set()
    for record in SCHEDULERS:
        if record.plugin:
            continue
        for key, default in valid_settings(record.load()).items():
            if isinstance(default, bool):
                keys.add(key)
    return keys


def _settings_text(kwargs: dict[str, Any], record: SchedulerRecord,
                   children: Sequence[SchedulerPlan]) -> str:
    if record.composite:
        inner = ", ".join(c.label for c in children)
        milestones = kwargs.get("milestones")
        return f"[{inner}]" + (f" at {format_setting(milestones)}" if milestones else "")
    parts = []
    for key, value in kwargs.items():
        if value is None:
            continue
        parts.append(f"{key}={format_setting(value)}")
    return ", ".join(parts)


def format_setting(value: Any) -> str:
    """A setting as it would be typed inline: ``0.5``, ``[8, 24, 28]``, ``0.95**epoch``."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_setting(v) for v in value) + "]"
    return format_value(value)


def plan_scheduler(
    spec: SchedulerSpec, run: RunShape, common: dict[str, Any] | None = None,
    span: int | None = None,
) -> SchedulerPlan:
    """Resolve a spec against the registry, the factory's signature and the run.

    Precedence, lowest first: values derived from the run (only for arguments nobody set),
    the record's preset, ``--kebab`` settings for the whole call (where the factory takes
    them), then the spec's own inline settings.
    """
    from optviz.formula import compile_formula

    record = SCHEDULERS.resolve(spec.name)
    factory = record.load_checked("scheduler", spec.name)
    record = refine_scheduler(record, factory)
    valid = valid_settings(factory)
    span = run.scheduler_steps if span is None else span
    explicit = {k: v for k, v in (common or {}).items() if k in valid}
    explicit.update(spec.settings)
    for key in ("optimizer", "last_epoch"):
        if key in explicit:
            raise UnknownSettingError(
                f"{record.label}: {key!r} is set by optviz, not by a setting "
                f"(valid: {', '.join(valid)})")
    explicit = check_settings(record.label, explicit, valid)
    nested = spec.schedulers
    if nested is None and record.composite:
        nested = _default_children(record)
    if nested is not None and not record.composite:
        raise BadValueError(f"{record.label} takes no nested schedulers")
    explicit.pop("schedulers", None)

    given = {**record.defaults, **explicit}
    given.pop("schedulers", None)
    if isinstance(given.get("milestones"), int) and not isinstance(given["milestones"], bool):
        given["milestones"] = [given["milestones"]]  # one milestone: milestones=5 is [5]
    for key, variable in record.formulas.items():
        value = given.get(key)
        for text in value if isinstance(value, list) else [value]:
            if text is not None:
                compile_formula(text, (variable,))  # refuse a bad formula before any run

    children: tuple[SchedulerPlan, ...] = ()
    if record.composite:
        children, milestones = _plan_children(record, nested or [], given, run, common, span)
        if milestones is not None:
            given["milestones"] = milestones

    derived: dict[str, Any] = {}
    for key, what in record.derived.items():
        blocked = any(k in given for k in record.derive_unless.get(key, ()))
        if key not in given and not blocked:
            derived[key] = run.quantity(what, span)
    merged = {**derived, **given}
    check_step_counts(record, given)
    # The signature's order, so that labels and exports read like the call would.
    kwargs = {k: merged[k] for k in valid if k in merged}
    missing = [k for k, d in valid.items() if d is inspect.Parameter.empty and k not in kwargs
               and k != "schedulers"]
    if missing:
        raise BadValueError(f"{record.label} needs {', '.join(missing)}: set it inline, "
                            f"e.g. {record.name}:{missing[0]}=VALUE")
    shown = {k: v for k, v in kwargs.items() if k != "schedulers"}
    text = _settings_text(shown, record, children)
    label = spec.label or (f"{record.label} ({text})" if text else record.label)
    return SchedulerPlan(record=record, factory=factory, kwargs=kwargs, derived=tuple(derived),
                         label=label, span=span, children=children)


def check_step_counts(record: SchedulerRecord, given: dict[str, Any]) -> None:
    """Arguments counted in scheduler steps are whole numbers: an event's step (step_size) at
    least 1, a phase's length or a milestone at least 0. torch checks few of them and fails
    mid-run, or draws nonsense, on the rest. A config reader runs it per setting, to name the
    setting's line."""
    for key, kind in record.step_args.items():
        value = given.get(key)
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        least = 1 if kind == _EVENT and not isinstance(value, (list, tuple)) else 0
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int) or v < least:
                raise BadValueError(
                    f"{record.label} setting {key!r} counts scheduler steps: it must be a whole "
                    f"number >= {least}, got {format_setting(value)}")


def _default_children(record: SchedulerRecord) -> list[SchedulerSpec]:
    from optviz.spec.figures import SchedulerSpec

    return [SchedulerSpec.model_validate(item) for item in record.defaults.get("schedulers", [])]


def _plan_children(
    record: SchedulerRecord, nested: Sequence[SchedulerSpec], given: dict[str, Any],
    run: RunShape, common: dict[str, Any] | None, span: int,
) -> tuple[tuple[SchedulerPlan, ...], list[int] | None]:
    """Nested plans, each planned against the part of the run it covers; for SequentialLR
    also the milestones (given, else from the children's lengths, else equal parts)."""
    if not nested:
        raise BadValueError(f"{record.label} needs at least one nested scheduler")
    for child in nested:
        if SCHEDULERS.resolve(child.name).needs_metric:
            raise UnsupportedError(
                f"{record.label} cannot hold ReduceLROnPlateau: torch steps nested schedulers "
                f"without a metric; use plateau on its own")
    if "milestones" not in valid_settings(record.load()):
        return tuple(plan_scheduler(c, run, common, span) for c in nested), None
    milestones = given.get("milestones")
    if milestones is None:
        milestones = _default_milestones(nested, span)
    if isinstance(milestones, int):
        milestones = [milestones]
    if not isinstance(milestones, (list, tuple)) or not all(
            isinstance(m, int) and not isinstance(m, bool) for m in milestones):
        raise BadValueError(f"{record.label} milestones must be whole numbers, got {milestones!r}")
    milestones = list(milestones)
    if len(milestones) != len(nested) - 1:
        raise BadValueError(
            f"{record.label} needs one milestone fewer than schedulers: got {len(nested)} "
            f"scheduler(s) and milestones {milestones}")
    if any(b <= a for a, b in zip([0, *milestones], milestones, strict=False)):
        raise BadValueError(f"{record.label} milestones must increase from above 0, "
                            f"got {milestones}")
    bounds = [0, *milestones, max(span, milestones[-1] + 1 if milestones else span)]
    plans = tuple(plan_scheduler(c, run, common, max(1, bounds[i + 1] - bounds[i]))
                  for i, c in enumerate(nested))
    return plans, milestones


def _default_milestones(nested: Sequence[SchedulerSpec], span: int) -> list[int]:
    lengths = []
    for child in nested[:-1]:
        record = SCHEDULERS.resolve(child.name)
        length = child.settings.get("total_iters", record.defaults.get("total_iters"))
        if not isinstance(length, int):
            length = None
        lengths.append(length)
    if all(n is not None for n in lengths):
        out, total = [], 0
        for n in lengths:
            total += n
            out.append(total)
        if out and out[-1] < span:
            return out
    parts = len(nested)
    return [round(span * k / parts) for k in range(1, parts)]


def check_common(common: dict[str, Any], plans: Sequence[SchedulerPlan]) -> None:
    """A ``--kebab`` setting must apply to at least one scheduler of the call."""
    valid: dict[str, None] = {}
    for plan in plans:
        for p in plan.walk():
            valid.update(dict.fromkeys(valid_settings(p.factory)))
    for key in common:
        if key not in valid:
            names = ", ".join(p.record.label for p in plans)
            raise UnknownSettingError(
                f"--{key.replace('_', '-')} applies to none of {names}"
                f"{did_you_mean(key, valid)} (valid: {', '.join(valid)})")




def plan_for_run(sched: SchedulerSpec, plan: Any, steps: int, epochs: int = 1,
                 interval: str = "step") -> SchedulerPlan:
    """Plan a scheduler against one optimizer's run: its LR and length fill T_max etc."""
    lr = plan.kwargs.get("lr", signature_params(plan.factory).get("lr", 1e-3))
    run = RunShape(lrs=(float(lr),), epochs=epochs, steps_per_epoch=max(1, steps // epochs),
                   interval=interval)
    return plan_scheduler(sched, run)
