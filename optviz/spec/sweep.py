"""The sweep figure's spec: one optimizer, a grid of learning rates (``LO:HI:N`` or a list),
a function, a start and a number of steps."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, FiniteFloat, field_validator, model_validator

from optviz.spec.figures import OptimizerSpec, Title, _Spec

# Ten values a decade over six decades: wide enough for SGD on a steep function (1e-5) and for
# Adadelta's or Rprop's unit-scale steps (10).
AUTO_GRID = "1e-5:10:61"

MAX_LRS = 10_000


def parse_lr_grid(value: str | Sequence[float] | float) -> list[float]:
    """``"1e-4:1:64"`` (64 log-spaced values from 1e-4 to 1), ``"0.01,0.1"`` or a list."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        values = [float(value)]
    elif isinstance(value, str):
        text = value.strip()
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError(f"expected LO:HI:N, e.g. 1e-4:1:64, got {value!r}")
            try:
                lo, hi = float(parts[0]), float(parts[1])
                count = int(parts[2])
            except ValueError:
                raise ValueError(f"expected LO:HI:N with N a whole number, got {value!r}") \
                    from None
            if not (0 < lo < hi and math.isfinite(hi)):
                raise ValueError(f"LO:HI:N needs 0 < LO < HI, both finite, got {value!r}")
            if not 2 <= count <= MAX_LRS:
                raise ValueError(f"N must be between 2 and {MAX_LRS}, got {count}")
            import numpy as np

            return [float(v) for v in np.geomspace(lo, hi, count)]
        try:
            values = [float(p) for p in re.split(r"[,\s]+", text) if p]
        except ValueError:
            raise ValueError(f"expected LO:HI:N or numbers separated by commas, got {value!r}") \
                from None
    else:
        try:
            values = [float(v) for v in value]
        except (TypeError, ValueError):
            raise ValueError(f"expected a list of numbers, got {value!r}") from None
    if not values:
        raise ValueError("needs at least one learning rate")
    if len(values) > MAX_LRS:
        raise ValueError(f"at most {MAX_LRS} learning rates, got {len(values)}")
    for v in values:
        if not (v > 0 and math.isfinite(v)):
            raise ValueError(f"learning rates must be finite numbers > 0, got {v:g}")
    return values

class SweepSpec(_Spec):
    """An lr sweep figure: the loss the best is picked by against lr, beside the best lr's
    path."""

    kind: Literal["sweep"] = "sweep"
    title: Title = None
    optimizer: OptimizerSpec
    settings: dict[str, Any] = Field(default_factory=dict)  # --kebab settings
    function: str = "quadratic"
    start: list[FiniteFloat] | None = None
    steps: int = Field(100, ge=1, le=1_000_000)
    lr: str | list[float] = AUTO_GRID
    tol: float | None = Field(None, gt=0)
    device: str = "cpu"
    dtype: Literal["float32", "float64"] = "float32"
    output: str | None = None
    export: str | None = None

    @field_validator("lr", mode="before")
    @classmethod
    def _grid(cls, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = [value]
        parse_lr_grid(value)
        return value

    @model_validator(mode="after")
    def _own_lr(self) -> SweepSpec:
        if self.optimizer.lr is not None:
            raise ValueError("the sweep sets the learning rate: drop lr= from the optimizer "
                             "and give the grid with --lr LO:HI:N")
        return self

    def lrs(self) -> list[float]:
        return parse_lr_grid(self.lr)
