"""YAML configs: one file describes one figure with the same keys as the CLI's flags.

Read with ``yaml.safe_load`` only, so a config can never construct Python objects. Errors name
the file, the line and the key: ``configs/x.yaml:7 optimizers[1].lr: must be > 0``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optviz.basin import BasinSpec
from optviz.errors import BadValueError, OptvizError, OutputError
from optviz.spec import EmaSpec, ScheduleSpec, TrajectorySpec, build
from optviz.sweep import SweepSpec

KINDS: dict[str, type] = {"trajectory": TrajectorySpec, "ema": EmaSpec,
                          "schedule": ScheduleSpec, "sweep": SweepSpec, "basin": BasinSpec}

# Dotted paths a config may name without --allow-imports: these import nothing of the user's.
SAFE_PREFIXES = ("torch.optim.", "optviz.")


def _compact(value: Any) -> Any:
    """Drop empty mappings and lists, and lift optimizer settings to the optimizer's own keys."""
    if isinstance(value, dict):
        out = {k: _compact(v) for k, v in value.items() if v not in ({}, [], None)}
        if "name" in out and isinstance(out.get("settings"), dict):
            out.update(out.pop("settings"))
        return out
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def dump_yaml(spec: Any) -> str:
    """The spec as a YAML config in its canonical form (short keys, flow-style number lists)."""
    import yaml

    # Only what differs from the defaults: the shortest config that renders the same figure.
    data = {"kind": spec.kind, **spec.model_dump(mode="json", exclude_defaults=True)}
    data = _compact(data)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None)


def line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest node of ``loc`` found in the YAML text."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if getattr(k, "value", None) == str(part)]
            if not match:
                break
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _names(spec: Any, loc: tuple[Any, ...] = ()) -> list[tuple[str, tuple[Any, ...]]]:
    """Every optimizer and scheduler name a validated spec holds, wherever it sits (a list,
    a panel, a figure's ``scheduler`` or ``optimizer``, a SequentialLR's children), with where
    it sits in the config."""
    from pydantic import BaseModel

    from optviz.spec import OptimizerSpec, SchedulerSpec

    found: list[tuple[str, tuple[Any, ...]]] = []
    if isinstance(spec, (OptimizerSpec, SchedulerSpec)):
        found.append((spec.name, loc))
    if isinstance(spec, BaseModel):
        for key in type(spec).model_fields:
            found.extend(_names(getattr(spec, key), (*loc, key)))
    elif isinstance(spec, (list, tuple)):
        for i, item in enumerate(spec):
            found.extend(_names(item, (*loc, i)))
    elif isinstance(spec, dict):
        for key, item in spec.items():
            found.extend(_names(item, (*loc, key)))
    return found


def _built_in(name: str) -> bool:
    """Whether ``name`` is one of optviz's own records (``transformers.get_..._with_warmup``
    names optviz's warmup code and imports nothing), not a plugin found by importing."""
    from optviz.optimizers import OPTIMIZERS
    from optviz.schedulers import SCHEDULERS

    for registry in (OPTIMIZERS, SCHEDULERS):
        if name in registry and not getattr(registry.resolve(name), "plugin", ""):
            return True
    return False


def check_imports(spec: Any, text: str, source: str, allow_imports: bool) -> None:
    """Refuse dotted paths outside torch.optim and optviz unless imports are allowed; the
    validated spec is walked, so no field that names a factory is missed."""
    if allow_imports:
        return
    for name, loc in _names(spec):
        if "." in name and not name.startswith(SAFE_PREFIXES) and not _built_in(name):
            line = line_of(text, loc)
            where = f"{source}:{line}" if line else source
            raise BadValueError(
                f"{where}: names {name!r}, an import path outside torch.optim and optviz; "
                "a config from elsewhere must not run code, so pass --allow-imports to allow it"
            )


def parse_config(text: str, source: str, allow_imports: bool = False) -> Any:
    """Validate YAML text into its spec; errors name ``source:line key``."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise BadValueError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise BadValueError(f"{source}: a config is a YAML mapping of keys to values")
    kind = data.get("kind", "trajectory")
    if kind not in KINDS:
        raise BadValueError(f"{source}: unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    try:
        spec = build(KINDS[kind], data, source=source)
    except BadValueError as exc:
        loc = getattr(exc, "loc", ())
        line = line_of(text, loc)
        if line is None:
            raise
        raise BadValueError(str(exc).replace(f"{source} ", f"{source}:{line} ", 1)) from None
    check_imports(spec, text, source, allow_imports)
    return spec


def load_config(path: Path | str, allow_imports: bool = False) -> Any:
    """Read and validate one config file into its spec."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise OptvizError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise OutputError(f"cannot read {path}: not UTF-8 text") from None
    return parse_config(text, str(path), allow_imports)


def json_schema() -> dict[str, Any]:
    """One JSON Schema for every config kind, told apart by ``kind``."""
    from typing import Annotated, Union

    from pydantic import Field, TypeAdapter

    union = Annotated[Union[tuple(KINDS.values())], Field(discriminator="kind")]  # noqa: UP007
    schema = TypeAdapter(union).json_schema()
    schema["title"] = "optviz config"
    return schema
