"""A figure kind as a record: its spec class, how it is computed, how it is drawn, how its
default file is named; and what compute hands to draw and to the report."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from optviz.hooks import Hooks


@dataclass
class Computed:
    """What a kind's compute step gives its draw step and the write path: the result (what
    ``--export`` writes), anything else drawing needs (a sampled surface, a view), and what the
    report says (lint warnings, diverged runs, summary lines)."""

    result: Any
    draw_inputs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    diverged: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)

    @property
    def data(self) -> dict[str, Any]:
        """Exactly what ``--export x.json`` writes."""
        result = self.result
        return result if isinstance(result, dict) else result.to_dict()


@dataclass(frozen=True)
class FigureKind:
    """One kind of figure. ``compute(spec, hooks)`` runs the engines; ``draw(computed, spec)``
    returns a matplotlib ``Figure``; ``stem(spec)`` names the default output file."""

    name: str
    spec: type
    compute: Callable[[Any, Hooks], Computed]
    draw: Callable[[Computed, Any], Figure]
    stem: Callable[[Any], str]


def safe_stem(text: str) -> str:
    """A file-name stem from free text: unsafe characters become '-', at most 120 long."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", text)[:120]
