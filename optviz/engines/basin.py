"""Basin maps: one optimizer from every start of a grid over the function's domain, in one
batched run; per start the final loss, or the steps needed to come within a tolerance of f*.

Starts are ``grid`` x ``grid`` points spanning the domain edge to edge, in row-major order:
start ``i * grid + j`` is (xs[j], ys[i]), so row i is one y and the array reshapes to an image.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from optviz.engines.batched import run_batch
from optviz.engines.single import json_safe
from optviz.engines.sweep import threshold, tolerance
from optviz.errors import UnsupportedError
from optviz.results import BasinResult
from optviz.spec.basin import Metric

if TYPE_CHECKING:
    from optviz.plan.optimizers import OptimizerPlan
    from optviz.registry.functions import FunctionRecord

Progress = Callable[[int, int], None]

def grid_starts(domain: Any, grid: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The x and y coordinates of the grid and its starts, (grid * grid, 2), row-major."""
    xs = np.linspace(*domain[0], grid)
    ys = np.linspace(*domain[1], grid)
    gx, gy = np.meshgrid(xs, ys)  # gx[i, j] = xs[j], gy[i, j] = ys[i]
    return xs, ys, np.stack([gx.ravel(), gy.ravel()], axis=1)

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

    if function.dim != 2:
        raise UnsupportedError(f"a basin map needs a 2-D function; {function.name} is "
                               f"{function.dim}-D")
    if metric == "steps" and function.f_min is None:
        raise UnsupportedError(f"--metric steps needs a known minimum, and {function.name} has "
                               "none (it is unbounded below); use --metric loss")
    if metric == "minimum" and not function.minima:
        raise UnsupportedError(f"--metric minimum colours each start by the known minimum it "
                               f"reaches, and {function.name} has none; use --metric loss")
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
        **(nearest_minimum(batch.final_point, batch.diverged, function.minima,
                           function.domain) if metric == "minimum" else {}),
    )


# A start reached a minimum when its last point lies within this fraction of the domain's
# larger side of it: far tighter than the minima's spacing, loose enough for a slow optimizer.
REACH = 0.02


def nearest_minimum(final: np.ndarray, diverged: np.ndarray, minima: Any, domain: Any
                    ) -> dict[str, Any]:
    """Per start, the index of the known minimum its last point is nearest to, if within
    REACH of the domain's size (-1: none, or diverged)."""
    radius = REACH * max(hi - lo for lo, hi in domain)
    m = np.asarray(minima, dtype=float)
    d = np.linalg.norm(np.asarray(final, dtype=float)[:, None, :] - m[None, :, :], axis=-1)
    nearest = d.argmin(axis=1)
    ok = (d.min(axis=1) <= radius) & (np.asarray(diverged) == 0)
    return {"reached": np.where(ok, nearest, -1).astype(np.int64), "reach_radius": radius}
