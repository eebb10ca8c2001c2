"""Schedulers planned against a run: a spec resolved through the registry, its arguments
checked against the factory and filled in from the run (T_max, total_steps, warmup...)."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from optviz.errors import (
    BadValueError,
    CallSettingError,
    UnknownSettingError,
    UnsupportedError,
)
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
    the preset of the name (short names only: ``SchedulerRecord.uses_preset``), ``--kebab``
    settings for the whole call (where the factory takes them), then the spec's own inline
    settings. A preset or derived value is left out where a given argument replaces it
    (``fill_unless``: min_lr replaces the preset min_lr_rate).
    """
    record = SCHEDULERS.resolve(spec.name)
    factory = record.load_checked("scheduler", spec.name)
    record = refine_scheduler(record, factory)
    valid = valid_settings(factory)
    span = run.scheduler_steps if span is None else span
    explicit = _explicit_settings(record, spec, common, valid)
    given = _with_preset(record, spec.name, explicit)
    _check_formulas(record, given)
    children: tuple[SchedulerPlan, ...] = ()
    if record.composite:
        nested = _nested_specs(record, spec)
        children, milestones = _plan_children(record, nested, given, run, common, span)
        if milestones is not None:
            given["milestones"] = milestones
    elif spec.schedulers is not None:
        raise BadValueError(f"{record.label} takes no nested schedulers")
    derived = _from_the_run(record, given, run, span)
    check_step_counts(record, given)
    check_group_counts(record, given, len(run.lrs))
    # The signature's order, so that labels and exports read like the call would.
    merged = {**derived, **given}
    kwargs = {k: merged[k] for k in valid if k in merged}
    _check_required(record, spec.name, kwargs, valid)
    text = _settings_text({k: v for k, v in kwargs.items() if k != "schedulers"}, record,
                          children)
    name = shown_name(record, kwargs)
    label = spec.label or (f"{name} ({text})" if text else name)
    return SchedulerPlan(record=record, factory=factory, kwargs=kwargs, derived=tuple(derived),
                         label=label, span=span, children=children)


def shown_name(record: SchedulerRecord, kwargs: dict[str, Any]) -> str:
    """The scheduler's name as a legend shows it: what is drawn, so a warmup schedule given no
    warmup steps reads ``linear, no warmup``, not ``linear with warmup``."""
    if kwargs.get("num_warmup_steps") == 0:
        return record.label.replace(" with warmup", "") + ", no warmup"
    return record.label


def _explicit_settings(record: SchedulerRecord, spec: SchedulerSpec,
                       common: dict[str, Any] | None, valid: dict[str, Any]) -> dict[str, Any]:
    """What the user set: ``--kebab`` settings the factory takes, then the inline ones,
    checked against the signature (nested schedulers are planned apart)."""
    explicit = {k: v for k, v in (common or {}).items() if k in valid}
    explicit.update(spec.settings)
    for key in ("optimizer", "last_epoch"):
        if key in explicit:
            raise UnknownSettingError(
                f"{record.label}: {key!r} is set by optviz, not by a setting "
                f"(valid: {', '.join(valid)})")
    explicit = check_scheduler_settings(record, explicit, valid)
    explicit.pop("schedulers", None)
    return explicit


def _with_preset(record: SchedulerRecord, name: str, explicit: dict[str, Any]
                 ) -> dict[str, Any]:
    """The preset the name carries (none for a class name or dotted path), less what a
    given argument replaces, under the explicit settings."""
    preset = {k: v for k, v in record.preset(name).items()
              if k != "schedulers" and not _replaced(record, k, explicit)}
    given = {**preset, **explicit}
    milestones = given.get("milestones")
    if isinstance(milestones, int) and not isinstance(milestones, bool):
        given["milestones"] = [milestones]  # one milestone: milestones=5 is [5]
    return given


def _replaced(record: SchedulerRecord, key: str, given: dict[str, Any]) -> bool:
    """Whether an argument given makes filling ``key`` in (preset or run) wrong."""
    return any(k in given for k in record.fill_unless.get(key, ()))


def _check_formulas(record: SchedulerRecord, given: dict[str, Any]) -> None:
    """Refuse a bad formula (lr_lambda, scale_fn) before any run."""
    from optviz.formula import compile_formula

    for key, variable in record.formulas.items():
        value = given.get(key)
        for text in value if isinstance(value, list) else [value]:
            if text is not None:
                compile_formula(text, (variable,))


def _nested_specs(record: SchedulerRecord, spec: SchedulerSpec) -> list[SchedulerSpec]:
    """A composite's nested schedulers: given, else the short name's preset."""
    if spec.schedulers is not None:
        return list(spec.schedulers)
    from optviz.spec.figures import SchedulerSpec

    preset = record.preset(spec.name).get("schedulers", [])
    return [SchedulerSpec.model_validate(item) for item in preset]


def _from_the_run(record: SchedulerRecord, given: dict[str, Any], run: RunShape,
                  span: int) -> dict[str, Any]:
    """Arguments filled in from the run: those nobody set and no given argument replaces."""
    return {key: run.quantity(what, span) for key, what in record.derived.items()
            if key not in given and not _replaced(record, key, given)}


def _check_required(record: SchedulerRecord, name: str, kwargs: dict[str, Any],
                    valid: dict[str, Any]) -> None:
    missing = [k for k, d in valid.items() if d is inspect.Parameter.empty and k not in kwargs
               and k != "schedulers"]
    if missing:
        raise BadValueError(f"{record.label} needs {', '.join(missing)}: set it inline, "
                            f"e.g. {name}:{missing[0]}=VALUE")


def check_scheduler_settings(record: SchedulerRecord, settings: dict[str, Any],
                             valid: dict[str, Any]) -> dict[str, Any]:
    """``check_settings``, except that an argument torch takes per parameter group
    (``record.per_group``) may also be a list, each item a number (a formula for
    lr_lambda). The list's length is checked against the run (``check_group_counts``)."""
    lists = {k: v for k, v in settings.items()
             if k in record.per_group and isinstance(v, (list, tuple))}
    out = check_settings(record.label, {k: v for k, v in settings.items() if k not in lists},
                         valid)
    for key, value in lists.items():
        want = "formula" if key in record.formulas else "number"
        ok = (lambda v: isinstance(v, str)) if key in record.formulas else _is_number
        if not value or not all(ok(v) for v in value):
            raise BadValueError(
                f"{record.label} setting {key!r} must be a {want}, or one {want} per parameter "
                f"group, got {format_setting(list(value))}")
        out[key] = list(value)
    return {k: out[k] for k in settings if k in out}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_group_counts(record: SchedulerRecord, given: dict[str, Any], groups: int) -> None:
    """A per-group list holds one value per parameter group (lr ``1e-3,1e-4``: two)."""
    for key in record.per_group:
        value = given.get(key)
        if isinstance(value, (list, tuple)) and len(value) != groups:
            raise BadValueError(
                f"{record.label} setting {key}={format_setting(value)} has {len(value)} values "
                f"but the run has {groups} parameter group{'s' if groups != 1 else ''} "
                f"(one per lr value)")


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


def _plan_children(
    record: SchedulerRecord, nested: Sequence[SchedulerSpec], given: dict[str, Any],
    run: RunShape, common: dict[str, Any] | None, span: int,
) -> tuple[tuple[SchedulerPlan, ...], list[int] | None]:
    """Nested plans, each planned against the part of the run it covers; for SequentialLR
    also the milestones (given, else from the children's lengths, else equal parts)."""
    if not nested:
        raise BadValueError(f"{record.label} needs at least one nested scheduler, e.g. "
                            f"{record.class_name}:schedulers=[linear,cosine]")
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
        # The child's own total_iters: given, its name's preset, or the class's default.
        default = valid_settings(record.load()).get("total_iters")
        length = child.settings.get("total_iters",
                                    record.preset(child.name).get("total_iters", default))
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
    """A setting for the whole call (``--kebab`` on the command line) must apply to at least
    one scheduler of the call; else a ``CallSettingError`` naming the setting."""
    valid: dict[str, None] = {}
    for plan in plans:
        for p in plan.walk():
            valid.update(dict.fromkeys(valid_settings(p.factory)))
    for key in common:
        if key not in valid:
            names = ", ".join(p.record.label for p in plans)
            raise CallSettingError(key, (
                "{setting} applies to none of " f"{names}"
                f"{did_you_mean(key, valid)} (valid: {', '.join(valid)})"))




def plan_for_run(sched: SchedulerSpec, plan: Any, steps: int, epochs: int = 1,
                 interval: str = "step") -> SchedulerPlan:
    """Plan a scheduler against one optimizer's run: its LR and length fill T_max etc."""
    lr = plan.kwargs.get("lr", signature_params(plan.factory).get("lr", 1e-3))
    return plan_scheduler(sched, run_for(float(lr), steps, epochs, interval))


def run_for(lr: float, steps: int, epochs: int = 1, interval: str = "step") -> RunShape:
    """The run a trajectory's scheduler is planned against: ``steps`` optimizer steps in
    ``epochs`` epochs from ``lr`` (``plan_for_run``; the trajectory lints plan the same)."""
    return RunShape(lrs=(lr,), epochs=epochs, steps_per_epoch=max(1, steps // epochs),
                    interval=interval)
