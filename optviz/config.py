"""YAML configs: one file describes one figure with the same keys as the CLI's flags.

Read with a ``yaml.SafeLoader`` only (``settings.load_yaml``), so a config can never construct
Python objects. Errors name the file, the line and the key:
``configs/x.yaml:7 optimizers[1].lr: must be > 0``; an unknown name or setting, found when the
names are resolved, names the file and the line: ``configs/x.yaml:7: SGD has no setting ...``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optviz.errors import BadValueError, OptvizError, OutputError
from optviz.plan.schedulers import check_scheduler_settings, check_step_counts
from optviz.registry import FUNCTIONS, OPTIMIZERS, SCHEDULERS
from optviz.registry.plugins import refine, refine_scheduler
from optviz.registry.schedulers import valid_settings
from optviz.registry.signatures import check_settings, signature_params
from optviz.spec.basin import BasinSpec
from optviz.spec.figures import (
    EmaSpec,
    OptimizerSpec,
    SchedulerSpec,
    ScheduleSpec,
    TrajectorySpec,
    build,
)
from optviz.spec.rank import RankSpec
from optviz.spec.sweep import SweepSpec
from optviz.spec.syntax import MAX_YAML_BYTES, YamlLimitError, load_yaml, number_dumper
from optviz.spec.traces import anchor_traces

KINDS: dict[str, type] = {"trajectory": TrajectorySpec, "ema": EmaSpec,
                          "schedule": ScheduleSpec, "sweep": SweepSpec, "basin": BasinSpec}
KINDS["rank"] = RankSpec

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

    return yaml.dump(data, Dumper=number_dumper(), sort_keys=False, allow_unicode=True,
                     default_flow_style=None)


def line_of(text: str, loc: tuple[Any, ...], exact: bool = False) -> int | None:
    """The 1-based line of the deepest node of ``loc`` found in the YAML text; with ``exact``,
    None unless the whole of ``loc`` is found."""
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
                return None if exact else line
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return None if exact else line
            node = node.value[part]
        else:
            return None if exact else line
        line = node.start_mark.line + 1
    return line


def _named(spec: Any, loc: tuple[Any, ...] = ()) -> list[tuple[str, Any, tuple[Any, ...]]]:
    """Every optimizer, scheduler and test function a validated spec names, wherever it sits
    (a list, a panel, a figure's ``scheduler`` or ``optimizer``, a SequentialLR's children),
    as (kind, spec or function name, where it sits in the config)."""
    from pydantic import BaseModel

    found: list[tuple[str, Any, tuple[Any, ...]]] = []
    if isinstance(spec, OptimizerSpec):
        found.append(("optimizer", spec, loc))
    elif isinstance(spec, SchedulerSpec):
        found.append(("scheduler", spec, loc))
    if isinstance(spec, BaseModel):
        for key in type(spec).model_fields:
            value = getattr(spec, key)
            if key == "function" and isinstance(value, str):
                found.append(("function", value, (*loc, key)))
            else:
                found.extend(_named(value, (*loc, key)))
    elif isinstance(spec, (list, tuple)):
        for i, item in enumerate(spec):
            found.extend(_named(item, (*loc, i)))
    elif isinstance(spec, dict):
        for key, item in spec.items():
            found.extend(_named(item, (*loc, key)))
    return found


def _names(spec: Any, loc: tuple[Any, ...] = ()) -> list[tuple[str, tuple[Any, ...]]]:
    """Every optimizer and scheduler name a validated spec holds, with where it sits."""
    return [(node.name, where) for kind, node, where in _named(spec, loc) if kind != "function"]


def _built_in(name: str) -> bool:
    """Whether ``name`` is one of optviz's own records (``transformers.get_..._with_warmup``
    names optviz's warmup code and imports nothing), not a plugin found by importing."""

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


# Scheduler keywords optviz sets itself: plan_scheduler refuses them with its own message.
_SET_BY_OPTVIZ = ("optimizer", "last_epoch")


def _setting_line(text: str, loc: tuple[Any, ...], key: str) -> int | None:
    """The line of setting ``key`` of the factory at ``loc``: under ``settings`` or
    ``init_args``, among the mapping's own keys, or else the factory's own line (inline)."""
    for where in ((*loc, "settings", key), (*loc, "init_args", key), (*loc, key)):
        line = line_of(text, where, exact=True)
        if line is not None:
            return line
    return line_of(text, loc)


def _check_named(kind: str, node: Any) -> tuple[Any, dict[str, Any], Any] | None:
    """Resolve one name as the pipeline will; for optviz's own optimizers and schedulers the
    factory's label and valid keywords (the factory is imported, nothing is constructed), and
    for a scheduler its record, whose ``step_args`` say which values count scheduler steps.
    None where settings are not checked here: a test function has none, and a plugin's
    factory (an import path, an entry point) is imported only when the figure is run."""

    if kind == "function":
        FUNCTIONS.resolve(node)
        return None
    registry: Any = OPTIMIZERS if kind == "optimizer" else SCHEDULERS
    name = node.name
    if "." in name and name not in registry and not name.startswith(SAFE_PREFIXES):
        return None  # resolving would import the user's module (allowed, but not yet)
    record = registry.resolve(name)
    if getattr(record, "plugin", ""):
        return None
    factory = record.load_checked(kind, name)
    if kind == "optimizer":
        return refine(record, factory).label, signature_params(factory), None
    refined = refine_scheduler(record, factory)
    return refined.label, valid_settings(factory), refined


def check_names(spec: Any, text: str, source: str) -> None:
    """Resolve every optimizer, scheduler and function name of a validated spec and check
    each one's settings against its factory, and a scheduler's step counts (step_size,
    milestones, total_iters) as whole numbers (the pipeline's own checks), so that an unknown
    name or setting, or a bad step count, is one line naming the file and line, before
    anything is run."""

    for kind, node, loc in _named(spec):
        try:
            checked = _check_named(kind, node)
        except OptvizError as exc:
            raise _located(exc, source, line_of(text, loc)) from None
        if checked is None:
            continue
        label, valid, record = checked
        for key, value in node.settings.items():
            if kind == "scheduler" and key in _SET_BY_OPTVIZ:
                continue
            try:
                setting = (check_settings(label, {key: value}, valid) if record is None
                           else check_scheduler_settings(record, {key: value}, valid))
                if record is not None:
                    check_step_counts(record, setting)
            except OptvizError as exc:
                raise _located(exc, source, _setting_line(text, loc, key)) from None


def _located(exc: OptvizError, source: str, line: int | None) -> BadValueError:
    """A resolution error as one line that starts with ``source:line``."""
    where = f"{source}:{line}" if line else source
    return BadValueError(f"{where}: {exc}")


def parse_config(text: str, source: str, allow_imports: bool = False) -> Any:
    """Validate YAML text into its spec; errors name ``source:line key``."""
    import yaml

    try:
        data = load_yaml(text)  # yaml.safe_load, reading 1e-8 as a number, with limits
    except YamlLimitError as exc:
        where = f"{source}:{exc.line}" if exc.line else source
        raise BadValueError(f"{where}: {exc.problem}") from None
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
    check_names(spec, text, source)
    if getattr(spec, "layout", None) == "panels":
        try:  # each panel is the figure's keys with its own: check the combination now
            spec.panel_specs()
        except BadValueError as exc:
            line = line_of(text, getattr(exc, "loc", ()))
            raise BadValueError(f"{source}:{line} {exc}" if line else f"{source} {exc}") from None
    return spec


def read_text_limited(path: Path, limit: int = MAX_YAML_BYTES) -> str:
    """A config file's text; one line if it cannot be read, is not UTF-8 or is too big to be
    a config (read no further than the limit, so a huge file costs nothing)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise OptvizError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:  # a NUL byte in the path
        raise BadValueError(f"cannot read {path!r}: {exc}") from None
    if len(raw) > limit:
        raise BadValueError(f"{path}: more than {limit} bytes; a config is a short YAML file")
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise OutputError(f"cannot read {path}: not UTF-8 text") from None


def load_config(path: Path | str, allow_imports: bool = False) -> Any:
    """Read and validate one config file into its spec; a relative trace file it names as a
    metric is read beside it."""
    text = read_text_limited(Path(path))
    return anchor_traces(parse_config(text, str(path), allow_imports), Path(path).parent)


# Where a picture keeps the config it was drawn from (see optviz.figures.formats).
CONFIG_KEY = "optviz:config"
VERSION_KEY = "optviz:version"
PICTURE_SUFFIXES = (".png", ".svg")


def embedded_config(path: Path) -> str | None:
    """The config a PNG (text chunk) or SVG (metadata) written by optviz carries, or None."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".png":
            from PIL import Image

            with Image.open(path) as img:
                img.load()
                return getattr(img, "text", {}).get(CONFIG_KEY)
        import xml.etree.ElementTree as ET

        root = ET.parse(path).getroot()
    except OSError as exc:
        raise OptvizError(f"cannot read {path}: {exc.strerror or exc}") from None
    except Exception as exc:  # not a PNG or SVG after all
        raise BadValueError(f"{path}: not a readable {suffix[1:].upper()} ({exc})") from None
    for node in root.iter("{http://purl.org/dc/elements/1.1/}description"):
        return node.text
    return None


def load_any(path: Path | str, allow_imports: bool = False) -> tuple[Any, Path | None]:
    """A spec from a YAML config, from a picture that carries its config (then also the
    picture's path, which it renders to by default), or from a JSON sidecar holding one."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in PICTURE_SUFFIXES:
        text = embedded_config(path)
        if text is None:
            raise BadValueError(f"{path} carries no optviz config; only pictures written by "
                                "optviz 0.2 or later do")
        return parse_config(text, f"{path} (embedded config)", allow_imports), path
    if suffix == ".json":
        return _from_json(path, allow_imports), None
    return load_config(path, allow_imports), None


def _from_json(path: Path, allow_imports: bool) -> Any:
    """A spec from a JSON file that holds a ``config`` (a gallery sidecar)."""
    import json

    import yaml

    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise OptvizError(f"cannot read {path}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadValueError(f"{path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise BadValueError(f"{path}: nested too deep to be a config") from None
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        raise BadValueError(f"{path} holds no config (an export holds data only); render the "
                            "config or the picture it came with")
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    return anchor_traces(parse_config(text, f"{path} (config)", allow_imports), path.parent)


def json_schema() -> dict[str, Any]:
    """One JSON Schema for every config kind, told apart by ``kind``."""
    from typing import Annotated, Union

    from pydantic import Field, TypeAdapter

    union = Annotated[Union[tuple(KINDS.values())], Field(discriminator="kind")]  # noqa: UP007
    schema = TypeAdapter(union).json_schema()
    schema["title"] = "optviz config"
    return schema
