"""Basin maps: one optimizer from every start of a grid over the function's domain, in one
batched run; per start the final loss, or the steps needed to come within a tolerance of f*.

Starts are ``grid`` x ``grid`` points spanning the domain edge to edge, in row-major order:
start ``i * grid + j`` is (xs[j], ys[i]), so row i is one y and the array reshapes to an image.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from optviz.errors import UnsupportedError
from optviz.spec.figures import Lr, OptimizerSpec, _Spec

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from optviz.figures.write import Written
    from optviz.plan.optimizers import OptimizerPlan
    from optviz.registry.functions import FunctionRecord

Progress = Callable[[int, int], None]
Metric = Literal["loss", "steps"]


def grid_starts(domain: Any, grid: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The x and y coordinates of the grid and its starts, (grid * grid, 2), row-major."""
    xs = np.linspace(*domain[0], grid)
    ys = np.linspace(*domain[1], grid)
    gx, gy = np.meshgrid(xs, ys)  # gx[i, j] = xs[j], gy[i, j] = ys[i]
    return xs, ys, np.stack([gx.ravel(), gy.ravel()], axis=1)


@dataclass
class BasinResult:
    """Per start of the grid: final loss (NaN: diverged), steps to the tolerance (-1: never)
    and the step of divergence (0: none), each a flat row-major array of grid * grid."""

    function: str
    formula: str
    optimizer: str
    label: str
    hyperparameters: dict[str, Any]
    domain: list[list[float]]
    minima: list[list[float]]
    f_min: float | None
    log_levels: bool
    grid: int
    steps: int
    metric: str
    tol: float
    device: str
    dtype: str
    batched: bool
    xs: np.ndarray
    ys: np.ndarray
    starts: np.ndarray
    final_loss: np.ndarray
    steps_to_tol: np.ndarray
    diverged: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        def opt(values: np.ndarray, missing: Callable[[Any], bool]) -> list[Any]:
            return [None if missing(v) else v for v in values.tolist()]

        return {
            "kind": "basin", "function": self.function, "optimizer": self.optimizer,
            "label": self.label, "hyperparameters": self.hyperparameters, "steps": self.steps,
            "metric": self.metric, "tol": self.tol, "f_min": self.f_min, "device": self.device,
            "dtype": self.dtype, "grid": self.grid, "order": "row-major: i * grid + j is "
            "(x[j], y[i])", "starts": self.starts.tolist(),
            "final_loss": opt(self.final_loss, lambda v: not math.isfinite(v)),
            "steps_to_tol": opt(self.steps_to_tol, lambda v: v < 0),
            "diverged": opt(self.diverged, lambda v: v == 0),
        }

    def to_csv(self) -> str:
        rows = ["x,y,final_loss,steps_to_tol,diverged"]
        for (x, y), loss, arrived, div in zip(self.starts.tolist(), self.final_loss.tolist(),
                                               self.steps_to_tol.tolist(),
                                               self.diverged.tolist(), strict=True):
            cells = [repr(x), repr(y), repr(loss) if math.isfinite(loss) else "",
                     str(arrived) if arrived >= 0 else "", str(div) if div else ""]
            rows.append(",".join(cells))
        return "\n".join(rows) + "\n"


def run_basin(
    function: FunctionRecord,
    plan: OptimizerPlan,
    grid: int = 256,
    steps: int = 500,
    metric: Metric = "loss",
    tol: float | None = None,
    device: str = "cpu",
    dtype: str = "float32",
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
) -> BasinResult:
    """Run ``plan`` from every start of a ``grid`` x ``grid`` grid over the domain, batched."""
    from optviz.engines.batched import run_batch
    from optviz.engines.single import json_safe
    from optviz.engines.sweep import threshold, tolerance

    if function.dim != 2:
        raise UnsupportedError(f"a basin map needs a 2-D function; {function.name} is "
                               f"{function.dim}-D")
    if metric == "steps" and function.f_min is None:
        raise UnsupportedError(f"--metric steps needs a known minimum, and {function.name} has "
                               "none (it is unbounded below); use --metric loss")
    xs, ys, starts = grid_starts(function.domain, grid)
    batch = run_batch(function.load(), plan, starts, steps, function.domain, device=device,
                      dtype=dtype, threshold=threshold(function, tol), progress=progress,
                      notify=notify)
    return BasinResult(
        function=function.name, formula=function.formula, optimizer=plan.record.name,
        label=plan.label, hyperparameters={k: json_safe(v) for k, v in plan.kwargs.items()},
        domain=[list(d) for d in function.domain], minima=[list(m) for m in function.minima],
        f_min=function.f_min, log_levels=function.log_levels, grid=grid, steps=steps,
        metric=metric, tol=tolerance(function, tol), device=device, dtype=dtype,
        batched=batch.batched, xs=xs, ys=ys, starts=starts, final_loss=batch.final_loss,
        steps_to_tol=batch.steps_to_tol, diverged=batch.diverged,
    )


class BasinSpec(_Spec):
    """A basin map figure: final loss (or steps to the tolerance) from every start of a grid."""

    kind: Literal["basin"] = "basin"
    title: str | None = None
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
    def _size(self) -> BasinSpec:
        if self.grid * self.grid * self.steps > 10**11:
            raise ValueError("grid² x steps must be at most 1e11 (a 4096 x 4096 grid of "
                             "6000 steps)")
        return self


def compute_basin(spec: BasinSpec, progress: Progress | None = None,
                  notify: Callable[[str], None] | None = None) -> BasinResult:
    """Spec -> registries -> batched engine -> result; ``lr: auto`` is picked by a sweep from
    the function's default start over the same number of steps."""
    from optviz.engines.sweep import plan_with_auto
    from optviz.registry import FUNCTIONS

    function = FUNCTIONS.resolve(spec.function)
    plan = plan_with_auto(spec.optimizer, spec.lr, spec.settings, function, None, spec.steps,
                          spec.device, spec.dtype, notify=notify)
    return run_basin(function, plan, grid=spec.grid, steps=spec.steps, metric=spec.metric,
                     tol=spec.tol, device=spec.device, dtype=spec.dtype, progress=progress,
                     notify=notify)


def draw_basin_result(result: BasinResult, title: str | None = None) -> Figure:
    """Result -> figure, with the contour surface sampled over the domain."""
    from optviz.engines.single import surface
    from optviz.registry import FUNCTIONS
    from optviz.render.basin import basin_figure

    grid = surface(FUNCTIONS.resolve(result.function), result.domain)
    return basin_figure(result, grid, title)


def write_basin(spec: BasinSpec, progress: Progress | None = None,
                notify: Callable[[str], None] | None = None) -> Written:
    """Run, draw and write a basin map: the PNG, and the export (.json or .csv) if asked for."""
    from optviz.engines.sweep import _write, default_path
    from optviz.export.files import check_outputs
    from optviz.render.style import png_bytes

    image = Path(spec.output) if spec.output else default_path(
        "basin", spec.function, spec.optimizer.name)
    export = Path(spec.export) if spec.export else None
    check_outputs(image, export)
    result = compute_basin(spec, progress=progress, notify=notify)
    return _write(image, export, png_bytes(draw_basin_result(result, spec.title)), result)
