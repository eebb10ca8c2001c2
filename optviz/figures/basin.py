"""The basin map figure kind: one optimizer from every start of a grid over the function's
domain, in one batched run, coloured by final loss or by the steps to the tolerance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optviz.engines.basin import run_basin
from optviz.engines.single import surface
from optviz.figures.auto import plan_with_auto
from optviz.figures.budget import basin_cost, check_budget
from optviz.figures.kind import Computed, FigureKind, safe_stem
from optviz.hooks import Hooks
from optviz.registry import FUNCTIONS
from optviz.render.basin import basin_figure
from optviz.results import BasinResult
from optviz.spec.basin import BasinSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def summary(result: BasinResult) -> str:
    """The line a basin map reports: how many starts, how many diverged or arrived."""
    n = result.grid * result.grid
    diverged = int((result.diverged > 0).sum())
    line = f"{n} starts, {result.steps} steps each"
    if diverged:
        line += f"; diverged from {diverged}"
    if result.f_min is not None:
        line += f"; within {result.tol:g} of f* from {int((result.steps_to_tol >= 0).sum())}"
    return line


def compute(spec: BasinSpec, hooks: Hooks) -> Computed:
    """Spec -> registries -> batched engine -> result; ``lr: auto`` is picked by a sweep from
    the function's default start over the same number of steps."""
    function = FUNCTIONS.resolve(spec.function)
    check_budget("basin", basin_cost(spec), hooks.note)  # refuse what cannot fit, say how long
    plan = plan_with_auto(spec.optimizer, spec.lr, spec.settings, function, None, spec.steps,
                          spec.device, spec.dtype, hooks=hooks)
    result = run_basin(function, plan, grid=spec.grid, steps=spec.steps, metric=spec.metric,
                       tol=spec.tol, device=spec.device, dtype=spec.dtype,
                       progress=hooks.task("basin"), notify=hooks.note)
    return Computed(result, {"surface": surface(function, result.domain)},
                    summary=[summary(result)])


def draw(computed: Computed, spec: BasinSpec) -> Figure:
    """The basin map with its colour bar, under the contour lines."""
    return basin_figure(computed.result, computed.draw_inputs["surface"], spec.title)


def stem(spec: BasinSpec) -> str:
    """``basin_rosenbrock_adam``: the command, the function and the optimizer."""
    return safe_stem(f"basin_{spec.function}_{spec.optimizer.name}")


KIND = FigureKind("basin", BasinSpec, compute, draw, stem)
