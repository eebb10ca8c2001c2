"""What a factory takes: its keyword parameters and defaults, and the check that a user's
settings fit them (names, and values of the default's shape)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from optviz.errors import BadValueError, UnknownSettingError
from optviz.names import did_you_mean


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
