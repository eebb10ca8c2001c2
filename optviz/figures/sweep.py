"""The sweep figure kind: one optimizer at every lr of a grid in one batched run, the loss the
best is picked by against lr, beside the best lr's path."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optviz.engines.single import surface
from optviz.engines.sweep import run_sweep
from optviz.figures.budget import check_budget, sweep_cost
from optviz.figures.kind import Computed, FigureKind, safe_stem
from optviz.hooks import Hooks
from optviz.plan.optimizers import plan_optimizer
from optviz.registry import FUNCTIONS
from optviz.render.sweep import sweep_figure
from optviz.render.trajectory import choose_view
from optviz.results import SweepResult
from optviz.spec.sweep import SweepSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def summary(result: SweepResult) -> str:
    """The line a sweep reports: the best lr and the loss it was picked by."""
    if result.best is None:
        return f"every lr diverged ({result.lr[0]:g} to {result.lr[-1]:g})"
    b = result.best
    what = "f" if result.f_min is None else "f − f*"
    tail = result.tail_loss[b] - (result.f_min or 0.0)
    gap = result.final_loss[b] - (result.f_min or 0.0)
    reached = result.steps_to_tol[b]
    when = f", within {result.tol:g} at step {reached}" if reached is not None else ""
    return (f"best lr {result.lr[b]:.4g}: worst {what} of the last {result.tail} steps "
            f"{tail:.3g} (final {gap:.3g}){when}")


def compute(spec: SweepSpec, hooks: Hooks) -> Computed:
    """Spec -> registries -> batched engine -> result, with the best lr's path and the
    surface under it."""
    function = FUNCTIONS.resolve(spec.function)
    check_budget("sweep", sweep_cost(spec), hooks.note)  # refuse what cannot fit, say how long
    plan = plan_optimizer(spec.optimizer, common=spec.settings)
    result = run_sweep(function, plan, spec.lrs(), start=spec.start, steps=spec.steps,
                       device=spec.device, dtype=spec.dtype, tol=spec.tol,
                       progress=hooks.task("sweep"), notify=hooks.note,
                       refine=spec.refine_passes())
    assert result.best_run is not None
    view = choose_view(result.best_run)
    return Computed(result, {"surface": surface(function, view), "view": view},
                    summary=[summary(result)])


def draw(computed: Computed, spec: SweepSpec) -> Figure:
    """The sweep beside the best lr's path."""
    inputs = computed.draw_inputs
    return sweep_figure(computed.result, inputs["surface"], inputs["view"], spec.title)


def stem(spec: SweepSpec) -> str:
    """``sweep_rosenbrock_adam``: the command, the function and the optimizer."""
    return safe_stem(f"sweep_{spec.function}_{spec.optimizer.name}")


KIND = FigureKind("sweep", SweepSpec, compute, draw, stem)
