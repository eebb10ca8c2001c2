"""Results: plain data (lists, numbers, None) that renderers and exporters read.

Non-finite numbers are stored as None, so a result is JSON as it stands.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


@dataclass
class Run:
    """One optimizer's path: ``points`` and ``loss`` have steps + 1 entries, the start first."""

    label: str
    optimizer: str
    class_path: str
    hyperparameters: dict[str, Any]
    points: list[list[float | None]]
    loss: list[float | None]
    diverged: int | None = None

    @property
    def steps(self) -> int:
        return len(self.points) - 1


@dataclass
class TrajectoryResult:
    """Every run of one trajectory figure, with the function's facts needed to draw it."""

    function: str
    formula: str
    domain: list[list[float]]
    minima: list[list[float]]
    f_min: float | None
    log_levels: bool
    start: list[float]
    steps: int
    device: str
    dtype: str
    seed: int
    runs: list[Run] = field(default_factory=list)

    @property
    def dim(self) -> int:
        return len(self.domain)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "trajectory"}
        out.update(asdict(self))
        for run in out["runs"]:
            if run["diverged"] is None:
                del run["diverged"]
        return out


@dataclass
class Surface:
    """A function sampled on a plotting grid: ``z[i][j]`` is f(xs[j], ys[i]); 1-D has no ys."""

    xs: Any
    ys: Any
    z: Any
