"""Helpers the command modules share: turning raw CLI input into a validated spec."""

from __future__ import annotations

import math
from typing import Any

from optviz.errors import BadValueError


def parse_floats(option: str, text: str | None) -> list[float] | None:
    """``"4,3"`` -> ``[4.0, 3.0]``; a bad number is one clear error naming the option."""
    if text is None:
        return None
    try:
        values = [float(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise BadValueError(f"{option}: expected numbers separated by commas, got {text!r}") \
            from None
    if not all(math.isfinite(v) for v in values):
        raise BadValueError(f"{option}: coordinates must be finite numbers, got {text!r}")
    return values


def spec_from_cli(tokens: list[str], flags: set[str], **fields: Any) -> Any:
    """Split names from ``--kebab`` settings and build the trajectory spec."""
    from optviz.settings import parse_cli_tokens
    from optviz.spec import TrajectorySpec, build

    names, common = parse_cli_tokens(tokens, flags)
    if not names:
        raise BadValueError("name at least one optimizer, e.g. 'optviz trajectory adam --lr 0.1'")
    return build(TrajectorySpec, {"optimizers": names, "settings": common, **fields}, cli=True)


def print_config(spec: Any) -> None:
    """The spec as YAML on stdout: ``optviz render`` of that file draws the same picture."""
    from optviz.config import dump_yaml

    print(dump_yaml(spec), end="")
