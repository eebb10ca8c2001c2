"""The scheduler registry: every torch.optim.lr_scheduler class, the article's presets, the
transformers-equivalent warmup schedules, and how a scheduler is planned against a run.

Quirks are data on the record (``needs_metric``, ``cycles_momentum``, ``composite``, which
arguments are formulas, which come from the run); the engine reads them and never asks for a
name.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from optviz.errors import (
    BadValueError,
    UnknownSettingError,
    UnsupportedError,
)
from optviz.names import did_you_mean
from optviz.optimizers import format_value
from optviz.registry import Record, Registry
from optviz.settings import check_settings, parse_value, signature_params, split_top_level

if TYPE_CHECKING:
    from optviz.spec import SchedulerSpec

# Arguments a user never sets: the optimizer is built by the run, and last_epoch resumes a
# schedule, which needs state ('initial_lr') that a fresh run does not have.
HIDDEN = ("optimizer", "last_epoch", "verbose")

# Settings whose value is kept as raw text on the command line: formulas contain commas and
# parentheses that the YAML value syntax would split, and nested scheduler lists contain
# their own settings.
RAW_KEYS = ("lr_lambda", "scale_fn", "schedulers")

WARMUP_FRACTION = 0.1  # transformers' common recipe (and the source article): warm up 10 %
DECAY_FRACTION = 0.2  # warmup-stable-decay: the last 20 % of the run decays

# How each run quantity reads in listings and help.
QUANTITIES = {
    "steps": "the scheduler steps in the run",
    "lr": "--lr",
    "lr/10": "--lr / 10",
    "epochs": "--epochs",
    "steps_per_epoch": "--steps-per-epoch",
    "warmup": f"{WARMUP_FRACTION:.0%} of the run",
    "decay": f"{DECAY_FRACTION:.0%} of the run",
    "stable": f"the run less its warmup ({WARMUP_FRACTION:.0%}) and decay "
              f"({DECAY_FRACTION:.0%})",
}


@dataclass(frozen=True)
class SchedulerRecord(Record):
    """One scheduler name: its factory, preset and the quirks the engine must honour."""

    # "torch", "transformers" (a warmup schedule written as LambdaLR), "pytorch_optimizer" or
    # "plugin"
    family: str = "torch"
    needs_metric: bool = False  # step(metric): ReduceLROnPlateau
    cycles_momentum: bool = False  # changes momentum / beta1 while cycle_momentum is on
    composite: bool = False  # built from nested schedulers (SequentialLR, ChainedScheduler)
    step_limit: bool = False  # raises once stepped past its planned total (OneCycleLR)
    # argument -> variable: the argument is a formula compiled by optviz.formula
    formulas: dict[str, str] = field(default_factory=dict, hash=False)
    # argument -> run quantity ("steps", "lr", "lr/10", "epochs", "steps_per_epoch", "warmup",
    # "decay"): filled from the run when the user did not give it
    derived: dict[str, str] = field(default_factory=dict, hash=False)
    # argument -> arguments that, when given, make deriving it wrong (OneCycleLR's total_steps
    # replaces epochs x steps_per_epoch)
    derive_unless: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    # arguments counted in scheduler steps: "event" (something happens at that step) or
    # "length" (a phase that long); checked against the run when stepping per epoch
    step_args: dict[str, str] = field(default_factory=dict, hash=False)
    note: str = ""
    unsupported: str = ""  # why it cannot run in optviz (it wraps no optimizer); refused
    plugin: str = ""  # where a record from outside optviz came from

    @property
    def quirks(self) -> list[str]:
        out = []
        if self.unsupported:
            out.append(f"cannot run here: {self.unsupported}")
        if self.needs_metric:
            out.append("steps on a metric: optviz feeds it a metric curve (see --metric)")
        if self.cycles_momentum:
            out.append("cycles momentum (SGD) or beta1 (Adam-like) inversely to the LR")
        if self.composite:
            out.append("built from nested schedulers")
        if self.step_limit:
            out.append("raises once stepped more often than its total steps")
        for key, var in self.formulas.items():
            out.append(f"{key} is a formula in {var!r}, checked by a safe evaluator")
        if self.derived:
            out.append("from the run unless given: " + ", ".join(
                f"{k} = {QUANTITIES[v]}" for k, v in self.derived.items()))
        if self.note:
            out.append(self.note)
        return out


SCHEDULERS: Registry[SchedulerRecord] = Registry("scheduler")

_L = "torch.optim.lr_scheduler."
_W = "optviz.warmup."
_EVENT, _LENGTH = "event", "length"
_CYCLIC = {"base_lr": "lr/10", "max_lr": "lr"}
_CYCLIC_STEPS = {"step_size_up": _LENGTH, "step_size_down": _LENGTH}
_ONECYCLE = {"max_lr": "lr", "epochs": "epochs", "steps_per_epoch": "steps_per_epoch"}
_ONECYCLE_UNLESS = {"epochs": ("total_steps",), "steps_per_epoch": ("total_steps",)}
_ONECYCLE_STEPS = {"total_steps": _LENGTH}
_WARM = {"num_warmup_steps": "warmup", "num_training_steps": "steps"}
_WARM_STEPS = {"num_warmup_steps": _LENGTH, "num_training_steps": _LENGTH}


def _transformers(name: str) -> tuple[str, ...]:
    # The transformers spellings, so that a config copied from a training script resolves.
    return (f"transformers.{name}", f"transformers.optimization.{name}")


for _rec in (
    SchedulerRecord("step", _L + "StepLR", "Multiply the LR by gamma every step_size steps",
                    display="StepLR", defaults={"step_size": 4, "gamma": 0.5},
                    step_args={"step_size": _EVENT}),
    SchedulerRecord("multistep", _L + "MultiStepLR", "Multiply the LR by gamma at each milestone",
                    display="MultiStepLR", aliases=("multi_step",),
                    defaults={"milestones": [8, 24, 28], "gamma": 0.5},
                    step_args={"milestones": _EVENT}),
    SchedulerRecord("constant", _L + "ConstantLR",
                    "LR times factor until total_iters, then the LR itself",
                    display="ConstantLR", defaults={"factor": 0.5, "total_iters": 8},
                    step_args={"total_iters": _LENGTH}),
    SchedulerRecord("linear", _L + "LinearLR",
                    "LR factor moved linearly from start_factor to end_factor over total_iters",
                    display="LinearLR", defaults={"start_factor": 0.5, "total_iters": 8},
                    step_args={"total_iters": _LENGTH}),
    SchedulerRecord("exponential", _L + "ExponentialLR", "Multiply the LR by gamma every step",
                    display="ExponentialLR", aliases=("exp",), defaults={"gamma": 0.5}),
    SchedulerRecord("polynomial", _L + "PolynomialLR",
                    "Polynomial decay of the LR to 0 over total_iters",
                    display="PolynomialLR", aliases=("poly",),
                    defaults={"total_iters": 8, "power": 1.0},
                    step_args={"total_iters": _LENGTH}),
    SchedulerRecord("cosine", _L + "CosineAnnealingLR",
                    "Half a cosine from the LR down to eta_min over T_max steps",
                    display="CosineAnnealingLR", aliases=("cosine_annealing",),
                    defaults={"eta_min": 1e-4}, derived={"T_max": "steps"},
                    step_args={"T_max": _LENGTH}),
    SchedulerRecord("warm_restarts", _L + "CosineAnnealingWarmRestarts",
                    "Cosine annealing restarted every T_i steps (SGDR), T_i growing by T_mult",
                    display="CosineAnnealingWarmRestarts",
                    aliases=("cosine_warm_restarts", "sgdr"),
                    defaults={"T_0": 8, "T_mult": 1, "eta_min": 1e-4},
                    step_args={"T_0": _LENGTH}),
    SchedulerRecord("cyclic", _L + "CyclicLR",
                    "Cyclical LR between base_lr and max_lr (triangular)",
                    display="CyclicLR", aliases=("clr",), defaults={"step_size_up": 4},
                    cycles_momentum=True, derived=_CYCLIC, step_args=_CYCLIC_STEPS,
                    formulas={"scale_fn": "x"}),
    SchedulerRecord("cyclic_triangular2", _L + "CyclicLR",
                    "Cyclical LR whose amplitude halves every cycle",
                    display="CyclicLR", aliases=("triangular2",),
                    defaults={"step_size_up": 4, "mode": "triangular2"},
                    cycles_momentum=True, derived=_CYCLIC, step_args=_CYCLIC_STEPS,
                    formulas={"scale_fn": "x"}),
    SchedulerRecord("cyclic_exp_range", _L + "CyclicLR",
                    "Cyclical LR whose amplitude shrinks by gamma**step",
                    display="CyclicLR", aliases=("exp_range",),
                    defaults={"step_size_up": 4, "mode": "exp_range", "gamma": 0.95},
                    cycles_momentum=True, derived=_CYCLIC, step_args=_CYCLIC_STEPS,
                    formulas={"scale_fn": "x"}),
    SchedulerRecord("onecycle", _L + "OneCycleLR",
                    "1cycle: up from max_lr/div_factor to max_lr, then annealed far below",
                    display="OneCycleLR", aliases=("one_cycle", "1cycle"),
                    cycles_momentum=True, step_limit=True, derived=_ONECYCLE,
                    derive_unless=_ONECYCLE_UNLESS, step_args=_ONECYCLE_STEPS),
    SchedulerRecord("onecycle_linear", _L + "OneCycleLR", "1cycle with linear annealing",
                    display="OneCycleLR", defaults={"anneal_strategy": "linear"},
                    cycles_momentum=True, step_limit=True, derived=_ONECYCLE,
                    derive_unless=_ONECYCLE_UNLESS, step_args=_ONECYCLE_STEPS),
    SchedulerRecord("plateau", _L + "ReduceLROnPlateau",
                    "Multiply the LR by factor when a metric stops improving for patience steps",
                    display="ReduceLROnPlateau", aliases=("reduce_on_plateau",),
                    defaults={"factor": 0.5, "patience": 3}, needs_metric=True,
                    note="preset patience 3, factor 0.5 so that a 32-step run shows reductions"),
    SchedulerRecord("lambda", _L + "LambdaLR", "LR times a formula of the step (epoch)",
                    display="LambdaLR", aliases=("lambda_lr",),
                    defaults={"lr_lambda": "0.95**epoch"}, formulas={"lr_lambda": "epoch"}),
    SchedulerRecord("multiplicative", _L + "MultiplicativeLR",
                    "Previous LR times a formula of the step (epoch), from step 1",
                    display="MultiplicativeLR", defaults={"lr_lambda": "0.95"},
                    formulas={"lr_lambda": "epoch"}),
    SchedulerRecord("sequential", _L + "SequentialLR",
                    "Nested schedulers one after another, switching at milestones",
                    display="SequentialLR", composite=True,
                    defaults={"schedulers": ["linear", "cosine"]},
                    step_args={"milestones": _EVENT},
                    note="milestones default to the nested schedulers' total_iters, "
                         "else equal parts of the run"),
    SchedulerRecord("chained", _L + "ChainedScheduler",
                    "Nested schedulers all stepped together, their factors multiplied",
                    display="ChainedScheduler", aliases=("chain",), composite=True,
                    defaults={"schedulers": ["constant", "exponential:gamma=0.9"]}),
    # transformers' warmup schedules, as LambdaLR factories written from their formulas.
    SchedulerRecord("constant_warmup", _W + "get_constant_schedule_with_warmup",
                    "Linear warmup from 0, then the constant LR (transformers)",
                    display="constant with warmup", family="transformers",
                    aliases=("constant_with_warmup",
                             *_transformers("get_constant_schedule_with_warmup")),
                    derived={"num_warmup_steps": "warmup"},
                    step_args={"num_warmup_steps": _LENGTH}),
    SchedulerRecord("linear_warmup", _W + "get_linear_schedule_with_warmup",
                    "Linear warmup from 0, then linear decay to 0 (transformers)",
                    display="linear with warmup", family="transformers",
                    aliases=_transformers("get_linear_schedule_with_warmup"),
                    derived=_WARM, step_args=_WARM_STEPS),
    SchedulerRecord("cosine_warmup", _W + "get_cosine_schedule_with_warmup",
                    "Linear warmup from 0, then cosine decay to 0 (transformers)",
                    display="cosine with warmup", family="transformers",
                    aliases=_transformers("get_cosine_schedule_with_warmup"),
                    derived=_WARM, step_args=_WARM_STEPS),
    SchedulerRecord("cosine_restarts_warmup",
                    _W + "get_cosine_with_hard_restarts_schedule_with_warmup",
                    "Linear warmup, then num_cycles cosine decays with hard restarts "
                    "(transformers)",
                    display="cosine with hard restarts", family="transformers",
                    aliases=("cosine_hard_restarts_warmup", "cosine_with_restarts",
                             *_transformers("get_cosine_with_hard_restarts_schedule_with_warmup")),
                    derived=_WARM, step_args=_WARM_STEPS),
    SchedulerRecord("cosine_min_lr_warmup", _W + "get_cosine_with_min_lr_schedule_with_warmup",
                    "Linear warmup, then cosine decay to min_lr_rate times the LR (transformers)",
                    display="cosine with min lr", family="transformers",
                    aliases=("cosine_with_min_lr",
                             *_transformers("get_cosine_with_min_lr_schedule_with_warmup")),
                    defaults={"min_lr_rate": 0.1}, derived=_WARM, step_args=_WARM_STEPS,
                    derive_unless={"min_lr_rate": ("min_lr",)}),
    SchedulerRecord("polynomial_warmup", _W + "get_polynomial_decay_schedule_with_warmup",
                    "Linear warmup, then polynomial decay to lr_end (transformers)",
                    display="polynomial with warmup", family="transformers",
                    aliases=("polynomial_decay_warmup",
                             *_transformers("get_polynomial_decay_schedule_with_warmup")),
                    derived=_WARM, step_args=_WARM_STEPS),
    SchedulerRecord("inverse_sqrt", _W + "get_inverse_sqrt_schedule",
                    "Linear warmup, then LR / sqrt(step / timescale) (transformers)",
                    display="inverse sqrt", family="transformers",
                    aliases=("inverse_sqrt_warmup", *_transformers("get_inverse_sqrt_schedule")),
                    derived={"num_warmup_steps": "warmup"},
                    step_args={"num_warmup_steps": _LENGTH}),
    SchedulerRecord("wsd", _W + "get_wsd_schedule",
                    "Warmup, stable, then decay to min_lr_ratio times the LR (transformers)",
                    display="warmup-stable-decay", family="transformers",
                    aliases=("warmup_stable_decay", *_transformers("get_wsd_schedule")),
                    derived={**_WARM, "num_decay_steps": "decay"},
                    derive_unless={"num_training_steps": ("num_stable_steps",)},
                    step_args={**_WARM_STEPS, "num_decay_steps": _LENGTH,
                               "num_stable_steps": _LENGTH}),
):
    SCHEDULERS.add(_rec)


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
        if _takes_optimizer_keyword(self.factory):
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
        return {k: _plain(v) for k, v in out.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str, dict)):
        return value
    return str(value)


def valid_settings(factory: Any) -> dict[str, Any]:
    """The keyword arguments a user may set on a scheduler factory, with their defaults.

    The optimizer is the parameter named ``optimizer`` (ChainedScheduler takes it second), or
    else the first one, whatever a plugin calls it. A class whose ``__init__`` passes
    ``**kwargs`` on to its base (pytorch_optimizer's PolyScheduler) also takes the base's
    keywords, so those are read from the classes up its MRO.
    """
    params = signature_params(factory, skip_first=not _takes_optimizer_keyword(factory))
    if isinstance(factory, type) and _passes_kwargs(factory.__init__):
        for base in factory.__mro__[1:]:
            init = base.__dict__.get("__init__")
            if init is None or base is object:
                continue
            for key, default in signature_params(init, skip_first=False).items():
                if key not in ("self", "optimizer"):
                    params.setdefault(key, default)
            if not _passes_kwargs(init):
                break
    return {k: v for k, v in params.items() if k not in HIDDEN}


def _takes_optimizer_keyword(factory: Any) -> bool:
    return "optimizer" in signature_params(factory, skip_first=False)


def _passes_kwargs(func: Any) -> bool:
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


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
    from optviz.plugins import refine_scheduler

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
    from optviz.spec import SchedulerSpec

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


# -- the command-line form of a scheduler -----------------------------------------------------


def parse_scheduler_token(token: str) -> dict[str, Any]:
    """``StepLR:step_size=3,gamma=0.7`` -> ``{"name": ..., "settings": {...}}``.

    Like ``settings.parse_inline`` but formulas stay raw text (``lr_lambda=min(1, epoch/5)``)
    and ``schedulers=[linear(total_iters=4), cosine]`` becomes nested scheduler forms.
    """
    name, colon, rest = token.partition(":")
    if "(" in name and not colon:  # the nested form linear(total_iters=4)
        name, _, rest = token.partition("(")
        rest = rest.rstrip()
        if not rest.endswith(")"):
            raise BadValueError(f"missing ')' in {token!r}")
        rest = rest[:-1]
    name = name.strip()
    if not name:
        raise BadValueError(f"missing scheduler name in {token!r}")
    if _SETTING_ITEM.match(token):
        raise BadValueError(
            f"{token.strip()!r} is a setting, not a scheduler: it goes after the scheduler's "
            f"name, as NAME:{token.strip()} (or NAME({token.strip()}) inside a list)")
    settings: dict[str, Any] = {}
    schedulers: list[Any] | None = None
    for item in split_top_level(rest):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise BadValueError(f"setting {item!r} in {token!r} is not key=value")
        if key == "schedulers":
            schedulers = [parse_scheduler_token(t) for t in _nested_tokens(value)]
        elif key in RAW_KEYS:
            items = _raw_list(value)
            settings[key] = items if value.strip().startswith("[") else items[0]
        else:
            settings[key] = parse_value(value)
    out: dict[str, Any] = {"name": name, "settings": settings}
    if schedulers is not None:
        out["schedulers"] = schedulers
    return out


# ``key=value``: a setting. No scheduler name holds '=', so a list item of this shape is
# a setting that came loose from its scheduler (``[linear:a=1,b=2, cosine]``).
_SETTING_ITEM = re.compile(r"\s*[A-Za-z_]\w*\s*=")


def _nested_tokens(value: str) -> list[str]:
    """The scheduler tokens of ``schedulers=[...]``. Commas there separate schedulers, so
    ``linear:start_factor=0.1,total_iters=4`` inside the list falls apart; the settings that
    came loose are refused with the form that works, ``linear(start_factor=0.1,...)``."""
    items = _raw_list(value)
    for i, item in enumerate(items):
        if not _SETTING_ITEM.match(item):
            continue
        stray = [item]
        for later in items[i + 1:]:
            if not _SETTING_ITEM.match(later):
                break
            stray.append(later)
        if i == 0:
            raise BadValueError(
                f"{item!r} in schedulers=[...] is a setting, not a scheduler: inside a list "
                f"write NAME({','.join(stray)})")
        owner = items[i - 1]
        name, own = _nested_parts(owner)
        good = f"{name}({','.join([*([own] if own else []), *stray])})"
        raise BadValueError(
            f"inside a list write {good}, not {owner},{','.join(stray)} "
            f"(commas in the list separate schedulers)")
    return items


def _nested_parts(item: str) -> tuple[str, str]:
    """``linear:a=1`` or ``linear(a=1)`` -> ``("linear", "a=1")``."""
    name, colon, rest = item.partition(":")
    if "(" in name and not colon:
        name, _, rest = item.partition("(")
        rest = rest.rstrip().removesuffix(")")
    return name.strip(), rest.strip()


def _raw_list(text: str) -> list[str]:
    """``[a, 'b,c', d(x=1,y=2)]`` -> ``["a", "b,c", "d(x=1,y=2)"]``; a bare item is one."""
    text = text.strip()
    bracketed = text.startswith("[") and text.endswith("]")
    parts = split_top_level(text[1:-1]) if bracketed else [text]
    return [_unquote(p) for p in parts]


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


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


# Plugins hook into SCHEDULERS (dotted paths, entry points, pytorch_optimizer); imported last.
from optviz.plugins import attach_schedulers  # noqa: E402

attach_schedulers(SCHEDULERS)
