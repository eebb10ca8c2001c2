"""Figure kinds: one small record per kind of picture (its spec class, how it is computed,
how it is drawn, how its default file is named), and the registry of them.

Adding a kind is its own module plus one line in ``build_kinds``; the write path
(``optviz.figures.write``) and every output format work for it unchanged.
"""

from __future__ import annotations

from typing import Any

from optviz.errors import BadValueError
from optviz.figures.kind import FigureKind


def build_kinds() -> dict[str, FigureKind]:
    """Every figure kind, by the ``kind:`` a config names."""
    from optviz.figures import basin, ema, rank, schedule, sweep, trajectory

    kinds = [trajectory.KIND, schedule.KIND, sweep.KIND, basin.KIND, ema.KIND]
    kinds.append(rank.KIND)
    return {k.name: k for k in kinds}


_KINDS: dict[str, FigureKind] = {}


def kind_of(spec: Any) -> FigureKind:
    """The kind that draws ``spec``. Where the kind's module is named after it (every built-in
    kind), only that module is imported: one picture should not pay for every other kind's
    imports (start-up time, issue 16)."""
    if spec.kind not in _KINDS:
        import importlib

        try:
            own = importlib.import_module(f"optviz.figures.{spec.kind}").KIND
        except (ImportError, AttributeError, ValueError):
            own = None
        if own is not None and own.name == spec.kind:
            _KINDS[spec.kind] = own
    if spec.kind not in _KINDS:
        _KINDS.update(build_kinds())
    try:
        return _KINDS[spec.kind]
    except KeyError:
        raise BadValueError(f"unknown figure kind {spec.kind!r}; use one of "
                            f"{', '.join(sorted(_KINDS))}") from None
