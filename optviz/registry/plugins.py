"""Optimizers and schedulers from outside optviz: dotted import paths, entry points, and the
pytorch_optimizer package.

- ``mypkg.opt.Sophia`` or ``myopt.HalfStep``: any importable class or factory whose first
  argument is the parameters (an optimizer) or the optimizer (a scheduler). A plugin may
  declare its quirks as a class attribute ``optviz_quirks = {"needs_closure": True, ...}``,
  using the flag names of OptimizerRecord or SchedulerRecord (a scheduler may declare, for
  example, ``{"derived": {"total_steps": "steps", "max_lr": "lr"}}`` so that the run fills
  those arguments in).
- Entry points in the groups ``optviz.optimizers`` and ``optviz.schedulers`` add names that
  ``optviz list`` shows, without importing the package until a name is used.
- ``pytorch_optimizer.NAME`` resolves through that package's own registries when it is
  installed; the quirks of its optimizers and schedulers are data in the tables below.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from dataclasses import fields, replace
from typing import Any

from optviz.errors import UnknownNameError, UnsupportedError
from optviz.names import did_you_mean
from optviz.registry.core import Registry, load_target
from optviz.registry.optimizers import OptimizerRecord
from optviz.registry.schedulers import SchedulerRecord

ENTRY_POINT_GROUP = "optviz.optimizers"
SCHEDULER_ENTRY_POINT_GROUP = "optviz.schedulers"
PREFIX = "pytorch_optimizer."

# Quirks of pytorch_optimizer's optimizers that a point on a surface can or cannot meet.
PYTORCH_OPTIMIZER_QUIRKS: dict[str, dict[str, Any]] = {
    "adahessian": {"create_graph": True, "elementwise": False},
    "sophiah": {"create_graph": True, "elementwise": False},
    "alig": {"needs_closure": True},
    "lbfgs": {"needs_closure": True, "elementwise": False},
    "bsam": {"unsupported": "BSAM needs the training data's size and a closure per batch"},
    "lomo": {"unsupported": "LOMO fuses the backward pass and needs the model itself"},
    "adalomo": {"unsupported": "AdaLOMO fuses the backward pass and needs the model itself"},
    "distributedmuon": {"unsupported": "DistributedMuon needs torch.distributed"},
    "galore": {"matrix_param": True, "elementwise": False},
    "spectralsphere": {"matrix_param": True, "elementwise": False},
    "muon": {"unsupported": "Muon here needs parameter groups marked use_muon (a model's)"},
    "adamuon": {"unsupported": "AdaMuon needs parameter groups marked use_muon (a model's)"},
    "normuon": {"unsupported": "NorMuon needs parameter groups marked use_muon (a model's)"},
    "adago": {"unsupported": "AdaGO needs parameter groups marked use_muon (a model's)"},
    "adammini": {"unsupported": "AdamMini needs the model (it reads named_parameters)"},
    "muonclip": {"unsupported": "MuonClip needs the model and its attention layers"},
}

# pytorch_optimizer's own schedulers: which arguments come from the run (names of
# schedulers.QUANTITIES), and the ones that cannot drive an optimizer's LR. Its names for
# torch's classes (step, cyclic, one_cycle, ...) take over torch's records.
_WARMUP_BASE = {"derived": {"t_max": "steps", "max_lr": "lr"},
                "note": "sets every group's LR to min_lr until its first step"}
PYTORCH_OPTIMIZER_SCHEDULER_QUIRKS: dict[str, dict[str, Any]] = {
    "linear": _WARMUP_BASE,
    "cosine": _WARMUP_BASE,
    "poly": _WARMUP_BASE,
    "rex": {"derived": {"total_steps": "steps", "max_lr": "lr"}},
    "chebyshev": {"derived": {"num_epochs": "steps"}},
    "cosine_annealing_with_warmup": {"derived": {"first_cycle_steps": "steps", "max_lr": "lr"}},
    "warmup_stable_decay": {"derived": {"num_warmup_steps": "warmup",
                                        "num_stable_steps": "stable",
                                        "num_decay_steps": "decay"}},
    "proportion": {"unsupported": "ProportionScheduler wraps another scheduler to move SAM's "
                                  "rho, not an optimizer's LR"},
}

_COMMON = {"name", "target", "description", "display", "aliases", "plugin"}
_FLAGS = {f.name for f in fields(OptimizerRecord)} - _COMMON - {"defaults"}


def _scheduler_flags() -> set[str]:
    return {f.name for f in fields(SchedulerRecord)} - _COMMON - {"family", "composite"}


def _describe(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else f"plugin {obj!r}"


def _quirks(obj: Any, flags: set[str]) -> dict[str, Any]:
    declared = dict(getattr(obj, "optviz_quirks", {}) or {})
    unknown = set(declared) - flags
    if unknown:
        raise UnknownNameError(
            f"plugin {obj!r} declares unknown quirks {sorted(unknown)}; use {sorted(flags)}")
    return declared


def _cwd_searched() -> bool:
    """Whether imports look in the current folder: ``python -m optviz`` puts it first on
    sys.path, the ``optviz`` console script puts its own bin folder there instead."""
    cwd = os.path.realpath(os.getcwd())
    return any(os.path.realpath(entry or os.curdir) == cwd for entry in sys.path)


def _module_hint(path: str, exc: Exception) -> str:
    """Where to look when the plugin's own top-level module is not found (not a module that
    the plugin itself imports)."""
    if not isinstance(exc, ModuleNotFoundError) or exc.name != path.split(".", 1)[0]:
        return ""
    if _cwd_searched():
        return " (is its folder on PYTHONPATH?)"
    return " (is its folder on PYTHONPATH? the current folder is not searched)"


def _import(path: str, kind: str, registry: Registry[Any]) -> Any:
    try:
        return load_target(path)
    except (ImportError, AttributeError, ValueError) as exc:
        # torch.optim.Adamm: a misspelt path to a known class gets its suggestion too.
        raise UnknownNameError(
            f"cannot import {kind} {path!r}: {exc}{_module_hint(path, exc)}"
            f"{did_you_mean(path, registry.targets())}"
        ) from None
    except Exception as exc:  # a plugin that breaks on import is still one clear line
        raise UnknownNameError(
            f"{kind} plugin {path!r} failed to import: {type(exc).__name__}: {exc}") from None


def _distribution(ep: Any) -> str:
    return getattr(getattr(ep, "dist", None), "name", None) or "an installed package"


def _from_pytorch_optimizer(kind: str, short: str) -> tuple[str, Any]:
    """The key and the class (or factory) of ``pytorch_optimizer.SHORT``, an optimizer or a
    scheduler, from that package's own registries; one clear line when it is not there."""
    if importlib.util.find_spec("pytorch_optimizer") is None:
        raise UnknownNameError(
            f"{PREFIX}{short}: the package pytorch_optimizer is not installed "
            "(pip install pytorch_optimizer)")
    import pytorch_optimizer

    if kind == "optimizer":
        supported = pytorch_optimizer.get_supported_optimizers()
        load = pytorch_optimizer.load_optimizer
    else:
        supported = pytorch_optimizer.get_supported_lr_schedulers()
        load = pytorch_optimizer.load_lr_scheduler
    supported = list(supported)
    key = short.lower()
    if key not in supported:
        raise UnknownNameError(
            f"pytorch_optimizer has no {kind} {short!r}{did_you_mean(short, supported)}")
    return key, load(key)


# -- optimizers -------------------------------------------------------------------------------


def record_for_path(path: str, registry: Registry[OptimizerRecord]) -> OptimizerRecord | None:
    """An ad-hoc record for a dotted path to an optimizer class or factory (``registry``'s
    dotted paths are the suggestions for a misspelt one)."""
    if path.lower().startswith(PREFIX):
        return pytorch_optimizer_record(path[len(PREFIX):])
    obj = _import(path, "optimizer", registry)
    if not callable(obj):
        raise UnknownNameError(f"{path!r} is not an optimizer class or factory")
    quirks = {"elementwise": False, **_quirks(obj, _FLAGS)}  # unknown updates are not batched
    return OptimizerRecord(path, path, _describe(obj), display=getattr(obj, "__name__", path),
                           plugin="path", **quirks)


def record_for_entry_point(ep: Any) -> OptimizerRecord:
    """A record named by an entry point; the target is imported only when it is used."""
    return OptimizerRecord(ep.name, ep.value.replace(":", "."), f"plugin from {_distribution(ep)}",
                           display=ep.name, elementwise=False, plugin="entry point")


def pytorch_optimizer_record(short: str) -> OptimizerRecord:
    """``pytorch_optimizer.NAME`` through the package's own registry, with its quirks."""
    key, cls = _from_pytorch_optimizer("optimizer", short)
    quirks = dict(PYTORCH_OPTIMIZER_QUIRKS.get(key, {}))
    quirks.setdefault("elementwise", False)
    return OptimizerRecord(f"{PREFIX}{key}", f"{cls.__module__}.{cls.__qualname__}",
                           _describe(cls), display=cls.__name__, plugin="pytorch_optimizer",
                           **quirks)


def refine(record: OptimizerRecord, factory: Any) -> OptimizerRecord:
    """Once an entry-point plugin is imported, read the quirks it declares; refuse the ones
    that cannot run on a point."""
    if record.plugin == "entry point" and getattr(factory, "optviz_quirks", None):
        record = replace(record, **_quirks(factory, _FLAGS))
    if record.unsupported:
        raise UnsupportedError(f"{record.name}: {record.unsupported}")
    return record


# -- schedulers -------------------------------------------------------------------------------


def _scheduler_quirks(obj: Any) -> dict[str, Any]:
    """What a scheduler plugin declares, plus what its class says: a ReduceLROnPlateau
    subclass steps on a metric."""
    quirks = _quirks(obj, _scheduler_flags())
    from torch.optim.lr_scheduler import ReduceLROnPlateau

    if isinstance(obj, type) and issubclass(obj, ReduceLROnPlateau):
        quirks.setdefault("needs_metric", True)
    return quirks


def scheduler_record_for_path(path: str, registry: Registry[SchedulerRecord]
                              ) -> SchedulerRecord | None:
    """An ad-hoc record for a dotted path to a scheduler class or factory."""
    if path.lower().startswith(PREFIX):
        return pytorch_optimizer_scheduler_record(path[len(PREFIX):], registry)
    obj = _import(path, "scheduler", registry)
    if not callable(obj):
        raise UnknownNameError(f"{path!r} is not a scheduler class or factory")
    return SchedulerRecord(path, path, _describe(obj), display=getattr(obj, "__name__", path),
                           family="plugin", plugin="path", **_scheduler_quirks(obj))


def scheduler_record_for_entry_point(ep: Any) -> SchedulerRecord:
    """A scheduler record named by an entry point; imported only when it is used."""
    return SchedulerRecord(ep.name, ep.value.replace(":", "."),
                           f"plugin from {_distribution(ep)}", display=ep.name,
                           family="plugin", plugin="entry point")


def pytorch_optimizer_scheduler_record(short: str, registry: Registry[SchedulerRecord]
                                       ) -> SchedulerRecord:
    """``pytorch_optimizer.NAME`` through the package's scheduler registry. A name for one of
    torch's classes keeps that class's record in ``registry`` (presets, run-derived
    arguments)."""
    key, obj = _from_pytorch_optimizer("scheduler", short)
    target = f"{obj.__module__}.{obj.__qualname__}"
    name = f"{PREFIX}{key}"
    if target in registry:
        known = registry.resolve(target)
        return replace(known, name=name, aliases=(), plugin="pytorch_optimizer")
    quirks = dict(PYTORCH_OPTIMIZER_SCHEDULER_QUIRKS.get(key, {}))
    return SchedulerRecord(name, target, _describe(obj), display=obj.__name__,
                           family="pytorch_optimizer", plugin="pytorch_optimizer", **quirks)


def refine_scheduler(record: SchedulerRecord, factory: Any) -> SchedulerRecord:
    """Once an entry-point scheduler is imported, read the quirks it declares; refuse the
    ones optviz cannot drive."""
    if record.plugin == "entry point":
        quirks = _scheduler_quirks(factory)
        if quirks:
            record = replace(record, **quirks)
    if record.unsupported:
        raise UnsupportedError(f"{record.name}: {record.unsupported}")
    return record


def attach_optimizer_plugins(registry: Registry[OptimizerRecord]) -> Registry[OptimizerRecord]:
    """Give the optimizer registry its plugin hooks: dotted paths (and pytorch_optimizer's
    names) on first use, and the ``optviz.optimizers`` entry-point group."""
    registry.dynamic = lambda path: record_for_path(path, registry)
    registry.enable_entry_points(ENTRY_POINT_GROUP, record_for_entry_point)
    return registry


def attach_scheduler_plugins(registry: Registry[SchedulerRecord]) -> Registry[SchedulerRecord]:
    """Give the scheduler registry its plugin hooks, as ``attach_optimizer_plugins`` does."""
    registry.dynamic = lambda path: scheduler_record_for_path(path, registry)
    registry.enable_entry_points(SCHEDULER_ENTRY_POINT_GROUP, scheduler_record_for_entry_point)
    return registry
