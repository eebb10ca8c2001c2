"""Settings syntax shared by every command: ``NAME:key=value,...`` and ``--kebab-name VALUE``.

Values are YAML scalars or flow lists (``0.9``, ``1e-3``, ``true``, ``[0.9,0.99]``, ``0.9,0.99``).
Keys are checked against the factory's own signature.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from optviz.errors import BadValueError, UnknownSettingError
from optviz.names import did_you_mean

# YAML 1.2's floats without a dot (1e-8, 5E3), which YAML 1.1 (PyYAML) reads as text.
_EXPONENT_FLOAT = r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"


def _with_exponent_floats(base: Any) -> Any:
    """A subclass of a PyYAML Loader or Dumper that also resolves ``1e-8`` as a float: the
    loader reads it as a number, the dumper quotes a string that looks like one."""
    import re

    cls = type(f"Number{base.__name__}", (base,), {})
    cls.add_implicit_resolver(  # copies the base's table; the base is untouched
        "tag:yaml.org,2002:float", re.compile(_EXPONENT_FLOAT), list("-+0123456789."))
    return cls


@cache
def _number_loader() -> Any:
    """SafeLoader with YAML 1.2's floats: still constructs no objects."""
    import yaml

    return _with_exponent_floats(yaml.SafeLoader)


@cache
def number_dumper() -> Any:
    """SafeDumper that quotes the strings ``load_yaml`` would read as numbers (a title
    '2e5'), so that a dumped config reads back the same."""
    import yaml

    return _with_exponent_floats(yaml.SafeDumper)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` that reads ``1e-8`` as a number, as YAML 1.2 does: PyYAML follows
    YAML 1.1, whose floats need a dot (``1.0e-8``), and would hand torch the text '1e-8'."""
    import yaml

    return yaml.load(text, Loader=_number_loader())


def parse_value(text: str) -> Any:
    """A YAML scalar or flow list; numbers such as ``1e-3`` that YAML 1.1 leaves as text too."""
    import yaml

    text = text.strip()
    if "," in text and not text.startswith(("[", "{", "'", '"')):
        text = f"[{text}]"
    try:
        value = load_yaml(text) if text else None
    except yaml.YAMLError as exc:
        raise BadValueError(f"cannot read value {text!r}: {exc.problem}") from None
    return _numbers(value)


def _numbers(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
        try:
            return float(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    return value


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside brackets and quotes: ``a=1,b=[1,2]`` -> ``a=1``, ``b=[1,2]``."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[({":
            depth += 1
        elif ch in "])}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in (p.strip() for p in parts) if p]


def parse_inline(token: str) -> tuple[str, dict[str, Any]]:
    """``sgd:lr=0.01,momentum=0.9`` -> ``("sgd", {"lr": 0.01, "momentum": 0.9})``."""
    name, _, rest = token.partition(":")
    name = name.strip()
    if not name:
        raise BadValueError(f"missing name before ':' in {token!r}")
    settings: dict[str, Any] = {}
    for item in split_top_level(rest):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise BadValueError(f"setting {item!r} in {token!r} is not key=value")
        settings[key.strip()] = parse_value(value)
    return name, settings


def parse_cli_tokens(
    tokens: Iterable[str], flag_keys: set[str]
) -> tuple[list[str], dict[str, Any]]:
    """Split raw tokens into positional names and ``--kebab-name VALUE`` settings.

    A key in ``flag_keys`` (a boolean keyword) takes no value: ``--nesterov`` is True and
    ``--no-nesterov`` False; ``--key=value`` works for any key.
    """
    names: list[str] = []
    settings: dict[str, Any] = {}
    items = list(tokens)
    i = 0
    while i < len(items):
        tok = items[i]
        i += 1
        if not tok.startswith("--") or tok == "--":
            names.append(tok)
            continue
        body = tok[2:]
        if "=" in body:
            key, _, raw = body.partition("=")
            settings[key.replace("-", "_")] = parse_value(raw)
            continue
        key = body.replace("-", "_")
        if key.startswith("no_") and key[3:] in flag_keys:
            settings[key[3:]] = False
        elif key in flag_keys:
            settings[key] = True
        elif i < len(items) and not items[i].startswith("--"):
            settings[key] = parse_value(items[i])
            i += 1
        else:
            raise BadValueError(f"option --{body} needs a value")
    return names, settings


def signature_params(factory: Callable[..., Any], skip_first: bool = True) -> dict[str, Any]:
    """Keyword parameters of a factory with their defaults (``inspect.Parameter.empty`` if none)."""
    params = list(inspect.signature(factory).parameters.values())
    if skip_first and params:
        params = params[1:]
    return {
        p.name: p.default
        for p in params
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def check_settings(owner: str, settings: dict[str, Any], valid: dict[str, Any]) -> dict[str, Any]:
    """Refuse keys the factory does not take; make list values tuples where the default is one."""
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if key not in valid:
            raise UnknownSettingError(
                f"{owner} has no setting {key!r}{did_you_mean(key, valid)} "
                f"(valid: {', '.join(valid)})"
            )
        default = valid[key]
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        check_like_default(owner, key, value, default)
        out[key] = value
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_like_default(owner: str, key: str, value: Any, default: Any) -> None:
    """Refuse a value of another shape than the factory's default, where the default says
    plainly what it takes: true/false for a bool, a number for a number, so many numbers for
    a tuple of numbers (betas). Torch would fail later, at the first step, with a message
    about its own code ('float' object is not subscriptable). A None or missing default says
    nothing, so anything goes there."""
    where = f"{owner} setting {key!r}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise BadValueError(f"{where} must be true or false, got {value!r}")
    elif _is_number(default):
        if not _is_number(value):
            raise BadValueError(f"{where} must be a number, got {value!r}")
    elif (isinstance(default, tuple) and default and all(_is_number(v) for v in default)
          and not (isinstance(value, tuple) and len(value) == len(default)
                   and all(_is_number(v) for v in value))):
        shown = list(value) if isinstance(value, tuple) else value
        raise BadValueError(f"{where} must be {len(default)} numbers like "
                            f"{list(default)}, got {shown!r}")
