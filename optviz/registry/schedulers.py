"""The scheduler registry: every torch.optim.lr_scheduler class, the article's presets, the
transformers-equivalent warmup schedules, and how a scheduler is planned against a run.

Quirks are data on the record (``needs_metric``, ``cycles_momentum``, ``composite``, which
arguments are formulas, which come from the run); the engine reads them and never asks for a
name.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from optviz.names import normalise
from optviz.registry.core import Record, Registry
from optviz.registry.signatures import signature_params

# Arguments a user never sets: the optimizer is built by the run, and last_epoch resumes a
# schedule, which needs state ('initial_lr') that a fresh run does not have.
HIDDEN = ("optimizer", "last_epoch", "verbose")


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
    # argument -> arguments that, when given, make filling it in wrong, from the run or from
    # the preset (OneCycleLR's total_steps replaces epochs x steps_per_epoch; a given min_lr
    # replaces the preset min_lr_rate)
    fill_unless: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    # arguments torch takes as one value per parameter group (a list as long as the groups)
    per_group: tuple[str, ...] = ()
    # arguments counted in scheduler steps: "event" (something happens at that step) or
    # "length" (a phase that long); checked against the run when stepping per epoch
    step_args: dict[str, str] = field(default_factory=dict, hash=False)
    note: str = ""
    unsupported: str = ""  # why it cannot run in optviz (it wraps no optimizer); refused
    plugin: str = ""  # where a record from outside optviz came from

    def uses_preset(self, name: str) -> bool:
        """Whether ``name`` carries the record's preset (``defaults``): the short name and its
        short aliases do (the article's values); the class name, the function name and any
        dotted path (``torch.optim.lr_scheduler.PolynomialLR``, ``transformers.get_...``) get
        the library's own defaults, as the class itself would."""
        short = {normalise(self.name)} | {normalise(a) for a in self.aliases if "." not in a}
        return normalise(name) in short - {normalise(self.class_name)}

    def preset(self, name: str) -> dict[str, Any]:
        """The preset that ``name`` carries: ``defaults``, or nothing (see ``uses_preset``)."""
        return dict(self.defaults) if self.uses_preset(name) else {}

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
        if self.per_group:
            out.append("one value per parameter group (a list) allowed for "
                       + ", ".join(self.per_group))
        if self.derived:
            out.append("from the run unless given: " + ", ".join(
                f"{k} = {QUANTITIES[v]}" for k, v in self.derived.items()))
        if self.note:
            out.append(self.note)
        return out



_L = "torch.optim.lr_scheduler."
_W = "optviz.warmup."
_EVENT, _LENGTH = "event", "length"
_CYCLIC = {"base_lr": "lr/10", "max_lr": "lr"}
_CYCLIC_STEPS = {"step_size_up": _LENGTH, "step_size_down": _LENGTH}
_MIN_LR_UNLESS = {"min_lr_rate": ("min_lr",), "min_lr": ("min_lr_rate",)}
_ONECYCLE = {"max_lr": "lr", "epochs": "epochs", "steps_per_epoch": "steps_per_epoch"}
_ONECYCLE_UNLESS = {"epochs": ("total_steps",), "steps_per_epoch": ("total_steps",)}
_ONECYCLE_STEPS = {"total_steps": _LENGTH}
# What the CyclicLR and OneCycleLR records share (several presets per class).
_CYCLIC_KW: dict[str, Any] = {
    "cycles_momentum": True, "derived": _CYCLIC, "step_args": _CYCLIC_STEPS,
    "formulas": {"scale_fn": "x"},
    "per_group": ("base_lr", "max_lr", "base_momentum", "max_momentum")}
_ONECYCLE_KW: dict[str, Any] = {
    "cycles_momentum": True, "step_limit": True, "derived": _ONECYCLE,
    "fill_unless": _ONECYCLE_UNLESS, "step_args": _ONECYCLE_STEPS,
    "per_group": ("max_lr", "base_momentum", "max_momentum")}
_WARM = {"num_warmup_steps": "warmup", "num_training_steps": "steps"}
_WARM_STEPS = {"num_warmup_steps": _LENGTH, "num_training_steps": _LENGTH}


def _transformers(name: str) -> tuple[str, ...]:
    # The transformers spellings, so that a config copied from a training script resolves.
    return (f"transformers.{name}", f"transformers.optimization.{name}")


SCHEDULER_RECORDS: tuple[SchedulerRecord, ...] = (
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
                    **_CYCLIC_KW),
    SchedulerRecord("cyclic_triangular2", _L + "CyclicLR",
                    "Cyclical LR whose amplitude halves every cycle",
                    display="CyclicLR", aliases=("triangular2",),
                    defaults={"step_size_up": 4, "mode": "triangular2"},
                    **_CYCLIC_KW),
    SchedulerRecord("cyclic_exp_range", _L + "CyclicLR",
                    "Cyclical LR whose amplitude shrinks by gamma**step",
                    display="CyclicLR", aliases=("exp_range",),
                    defaults={"step_size_up": 4, "mode": "exp_range", "gamma": 0.95},
                    **_CYCLIC_KW),
    SchedulerRecord("onecycle", _L + "OneCycleLR",
                    "1cycle: up from max_lr/div_factor to max_lr, then annealed far below",
                    display="OneCycleLR", aliases=("one_cycle", "1cycle"),
                    **_ONECYCLE_KW),
    SchedulerRecord("onecycle_linear", _L + "OneCycleLR", "1cycle with linear annealing",
                    display="OneCycleLR", defaults={"anneal_strategy": "linear"},
                    **_ONECYCLE_KW),
    SchedulerRecord("plateau", _L + "ReduceLROnPlateau",
                    "Multiply the LR by factor when a metric stops improving for patience steps",
                    display="ReduceLROnPlateau", aliases=("reduce_on_plateau",),
                    defaults={"factor": 0.5, "patience": 3}, needs_metric=True,
                    per_group=("min_lr",),
                    note="preset patience 3, factor 0.5 so that a 32-step run shows reductions "
                         "(ReduceLROnPlateau by its class name: torch's 10 and 0.1)"),
    SchedulerRecord("lambda", _L + "LambdaLR", "LR times a formula of the step (epoch)",
                    display="LambdaLR",
                    defaults={"lr_lambda": "0.95**epoch"}, formulas={"lr_lambda": "epoch"},
                    per_group=("lr_lambda",)),
    SchedulerRecord("multiplicative", _L + "MultiplicativeLR",
                    "Previous LR times a formula of the step (epoch), from step 1",
                    display="MultiplicativeLR", defaults={"lr_lambda": "0.95"},
                    formulas={"lr_lambda": "epoch"}, per_group=("lr_lambda",)),
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
    # transformers' schedules, as LambdaLR factories written from their formulas.
    SchedulerRecord("constant_schedule", _W + "get_constant_schedule",
                    "The LR itself, unchanged (transformers' constant)",
                    display="constant (transformers)", family="transformers",
                    aliases=_transformers("get_constant_schedule")),
    SchedulerRecord("reduce_on_plateau_schedule", _W + "get_reduce_on_plateau_schedule",
                    "ReduceLROnPlateau with torch's defaults (transformers' "
                    "reduce_lr_on_plateau)",
                    display="ReduceLROnPlateau", family="transformers",
                    aliases=_transformers("get_reduce_on_plateau_schedule"),
                    needs_metric=True, per_group=("min_lr",)),
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
                    fill_unless=_MIN_LR_UNLESS),
    SchedulerRecord("cosine_warmup_with_min_lr",
                    _W + "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
                    "cosine_min_lr_warmup whose warmup starts above 0 and whose decay runs one "
                    "step ahead (transformers' cosine_warmup_with_min_lr)",
                    display="cosine warmup with min lr", family="transformers",
                    aliases=("cosine_min_lr_warmup_lr_rate", *_transformers(
                        "get_cosine_with_min_lr_schedule_with_warmup_lr_rate")),
                    defaults={"min_lr_rate": 0.1}, derived=_WARM, step_args=_WARM_STEPS,
                    fill_unless=_MIN_LR_UNLESS),
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
                    fill_unless={"num_training_steps": ("num_stable_steps",)},
                    step_args={**_WARM_STEPS, "num_decay_steps": _LENGTH,
                               "num_stable_steps": _LENGTH}),
)


def register_schedulers(registry: Registry[SchedulerRecord]) -> Registry[SchedulerRecord]:
    """Add every built-in scheduler record (torch's classes, the article's presets, the
    transformers-equivalent warmup schedules) to ``registry``."""
    for record in SCHEDULER_RECORDS:
        registry.add(record)
    return registry


def plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    if isinstance(value, list):
        return [plain(v) for v in value]
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
    params = signature_params(factory, skip_first=not takes_optimizer_keyword(factory))
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


def takes_optimizer_keyword(factory: Any) -> bool:
    return "optimizer" in signature_params(factory, skip_first=False)


def _passes_kwargs(func: Any) -> bool:
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


