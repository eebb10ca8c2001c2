"""Optimizers from outside torch.optim: dotted import paths, entry points, pytorch_optimizer.

- ``mypkg.opt.Sophia`` or ``myopt.HalfStep``: any importable class or factory whose first
  argument is the parameters. A plugin may declare its quirks as a class attribute
  ``optviz_quirks = {"needs_closure": True, ...}`` (the OptimizerRecord flag names).
- Entry points in the group ``optviz.optimizers`` add names that ``optviz list`` shows.
- ``pytorch_optimizer.NAME`` resolves through that package's own registry when it is
  installed; its known quirks are data in ``PYTORCH_OPTIMIZER_QUIRKS``.
"""

from __future__ import annotations

import importlib.util
import inspect
from dataclasses import fields, replace
from typing import Any

from optviz.errors import UnknownNameError, UnsupportedError
from optviz.optimizers import OPTIMIZERS, OptimizerRecord
from optviz.registry import load_target

ENTRY_POINT_GROUP = "optviz.optimizers"
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

_FLAGS = {f.name for f in fields(OptimizerRecord)} - {
    "name", "target", "description", "display", "aliases", "defaults", "plugin"}


def _describe(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else f"plugin {obj!r}"


def _quirks(obj: Any) -> dict[str, Any]:
    declared = dict(getattr(obj, "optviz_quirks", {}) or {})
    unknown = set(declared) - _FLAGS
    if unknown:
        raise UnknownNameError(
            f"plugin {obj!r} declares unknown quirks {sorted(unknown)}; use {sorted(_FLAGS)}")
    return declared


def _import(path: str) -> Any:
    try:
        return load_target(path)
    except (ImportError, AttributeError, ValueError) as exc:
        raise UnknownNameError(f"cannot import optimizer {path!r}: {exc}") from None
    except Exception as exc:  # a plugin that breaks on import is still one clear line
        raise UnknownNameError(
            f"optimizer plugin {path!r} failed to import: {type(exc).__name__}: {exc}") from None


def record_for_path(path: str) -> OptimizerRecord | None:
    """An ad-hoc record for a dotted path to an optimizer class or factory."""
    if path.lower().startswith(PREFIX):
        return pytorch_optimizer_record(path[len(PREFIX):])
    obj = _import(path)
    if not callable(obj):
        raise UnknownNameError(f"{path!r} is not an optimizer class or factory")
    quirks = {"elementwise": False, **_quirks(obj)}  # unknown updates are not batched
    return OptimizerRecord(path, path, _describe(obj), display=getattr(obj, "__name__", path),
                           plugin="path", **quirks)


def record_for_entry_point(ep: Any) -> OptimizerRecord:
    """A record named by an entry point; the target is imported only when it is used."""
    dist = getattr(getattr(ep, "dist", None), "name", None) or "an installed package"
    return OptimizerRecord(ep.name, ep.value.replace(":", "."), f"plugin from {dist}",
                           display=ep.name, elementwise=False, plugin="entry point")


def pytorch_optimizer_record(short: str) -> OptimizerRecord:
    """``pytorch_optimizer.NAME`` through the package's own registry, with its quirks."""
    if importlib.util.find_spec("pytorch_optimizer") is None:
        raise UnknownNameError(
            f"{PREFIX}{short}: the package pytorch_optimizer is not installed "
            "(pip install pytorch_optimizer)")
    import pytorch_optimizer

    from optviz.names import did_you_mean

    supported = list(pytorch_optimizer.get_supported_optimizers())
    key = short.lower()
    if key not in supported:
        raise UnknownNameError(
            f"pytorch_optimizer has no optimizer {short!r}{did_you_mean(short, supported)}")
    cls = pytorch_optimizer.load_optimizer(key)
    quirks = dict(PYTORCH_OPTIMIZER_QUIRKS.get(key, {}))
    quirks.setdefault("elementwise", False)
    return OptimizerRecord(f"{PREFIX}{key}", f"{cls.__module__}.{cls.__qualname__}",
                           _describe(cls), display=cls.__name__, plugin="pytorch_optimizer",
                           **quirks)


def refine(record: OptimizerRecord, factory: Any) -> OptimizerRecord:
    """Once an entry-point plugin is imported, read the quirks it declares; refuse the ones
    that cannot run on a point."""
    if record.plugin == "entry point" and getattr(factory, "optviz_quirks", None):
        record = replace(record, **_quirks(factory))
    if record.unsupported:
        raise UnsupportedError(f"{record.name}: {record.unsupported}")
    return record


OPTIMIZERS.dynamic = record_for_path
OPTIMIZERS.enable_entry_points(ENTRY_POINT_GROUP, record_for_entry_point)
