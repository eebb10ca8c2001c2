"""The basin map figure's spec: one optimizer run from every start of a grid over the
function's domain, coloured by final loss or by the steps to the tolerance."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from optviz.spec.figures import Lr, OptimizerSpec, Title, _Spec

# minimum: which known minimum each start ended at (the basins of attraction).
Metric = Literal["loss", "steps", "minimum"]


# The largest grid whose numbers are exported (a JSON or CSV export, a gallery sidecar's data):
# 1024 x 1024 starts are about 80 MB of JSON.
MAX_EXPORT_GRID = 1024


class BasinSpec(_Spec):
    """A basin map figure: final loss (or steps to the tolerance) from every start of a grid."""

    kind: Literal["basin"] = "basin"
    title: Title = None
    optimizer: OptimizerSpec
    settings: dict[str, Any] = Field(default_factory=dict)  # --kebab settings
    function: str = "rosenbrock"
    grid: int = Field(256, ge=2, le=4096)
    steps: int = Field(500, ge=1, le=1_000_000)
    lr: Lr = None
    metric: Metric = "loss"
    tol: float | None = Field(None, gt=0)
    device: str = "cpu"
    dtype: Literal["float32", "float64"] = "float32"
    output: str | None = None
    export: str | None = None

    @model_validator(mode="after")
    def _export_size(self) -> BasinSpec:
        # Every start is a row of the export: a 4096 grid would write 1.3 GB of JSON.
        if self.export and self.grid > MAX_EXPORT_GRID:
            raise ValueError(f"an export of a {self.grid} x {self.grid} grid holds "
                             f"{self.grid ** 2:,} starts, too many to be of use; export at grid "
                             f"{MAX_EXPORT_GRID} or less (the picture can be finer)")
        return self

    @model_validator(mode="after")
    def _size(self) -> BasinSpec:
        if self.grid * self.grid * self.steps > 10**11:
            raise ValueError("grid² x steps must be at most 1e11 (a 4096 x 4096 grid of "
                             "6000 steps)")
        return self
