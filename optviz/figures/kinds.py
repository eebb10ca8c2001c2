"""Figure kinds: one small record per kind of picture (its spec class, how it is computed,
how it is drawn, how its default file is named), and the registry of them.

Adding a kind is its own module plus one line in ``build_kinds``; the write path
(``optviz.figures.write``) and every output format work for it unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from optviz.errors import BadValueError

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


def build_kinds() -> dict[str, FigureKind]:
    """Every figure kind, by the ``kind:`` a config names."""
    from optviz.figures import basin, ema, schedule, sweep, trajectory

    kinds = [trajectory.KIND, schedule.KIND, sweep.KIND, basin.KIND, ema.KIND]
    return {k.name: k for k in kinds}


_KINDS: dict[str, FigureKind] = {}


def kind_of(spec: Any) -> FigureKind:
    """The kind that draws ``spec``."""
    if not _KINDS:
        _KINDS.update(build_kinds())
    try:
        return _KINDS[spec.kind]
    except KeyError:
        raise BadValueError(f"unknown figure kind {spec.kind!r}; use one of "
                            f"{', '.join(sorted(_KINDS))}") from None
