"""The sweep figure's spec: one optimizer, a grid of learning rates (``LO:HI:N`` or a list),
a function, a start and a number of steps."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, FiniteFloat, field_validator, model_validator

from optviz.spec.figures import OptimizerSpec, Title, _Spec

# The grid parser lives in spec/grids.py, which the trajectory's explore_lrs reads too.
from optviz.spec.grids import MAX_LRS, parse_lr_grid  # noqa: F401  (re-exported)

# Ten values a decade over six decades: wide enough for SGD on a steep function (1e-5) and for
# Adadelta's or Rprop's unit-scale steps (10).
AUTO_GRID = "1e-5:10:61"
# Refining passes after the grid (engines.sweep.search_lrs): --lr auto's search, and the
# sweep's default. A grid of fewer than MIN_REFINED lrs is taken as given.
REFINE_PASSES = 3
MAX_REFINE = 10
MIN_REFINED = 3


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
    refine: int = Field(REFINE_PASSES, ge=0, le=MAX_REFINE)
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

    def refine_passes(self) -> int:
        """The refining passes the sweep runs: none on a grid of fewer than 3 lrs."""
        return self.refine if len(self.lrs()) >= MIN_REFINED else 0
