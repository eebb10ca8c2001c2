"""The trajectory figure kind: optimizer paths on a test function (or a linear model's loss
surface), beside loss, LR and state panels; one overlay or a grid of panels."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from optviz.engines.model import batch_label, effective_batch, run_linear
from optviz.engines.single import run_trajectory
from optviz.figures.auto import plan_trajectory
from optviz.figures.budget import check_budget, trajectory_cost
from optviz.figures.kind import Computed, FigureKind, safe_stem
from optviz.figures.schedule import with_footnotes, with_scheduler_lints
from optviz.figures.surfaces import inset_surface, surface_for
from optviz.hooks import Hooks, Tick
from optviz.plan.optimizers import OptimizerPlan
from optviz.plan.schedulers import plan_for_run
from optviz.registry import FUNCTIONS
from optviz.render.trajectory import (
    choose_view,
    equal_scale,
    fitted_view,
    panels_figure,
    square_view,
    trajectory_figure,
)
from optviz.results import PanelsResult, TrajectoryResult
from optviz.spec.figures import TrajectorySpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def run_trajectory_spec(spec: TrajectorySpec, hooks: Hooks | None = None) -> TrajectoryResult:
    """Resolve names and run the engine: spec -> registry -> engine -> result."""
    function = FUNCTIONS.resolve(spec.function)
    lookahead = (spec.lookahead.k, spec.lookahead.alpha) if spec.lookahead else None
    # plan_optimizer for each optimizer, with any lr: auto picked by a batched lr sweep.
    plans = plan_trajectory(spec, function, lookahead, hooks)
    from optviz.figures.animate import check_motion

    check_motion(spec, 2 if spec.model else function.dim, spec.steps)
    if spec.model == "linear":
        if spec.vectors or spec.vectors_at:
            from optviz.errors import BadValueError

            raise BadValueError("--vectors draws on test functions only (the linear model's "
                                "gradient lives in all of its weights)")
        return _run_model_spec(spec, plans, hooks)
    schedulers = [plan_for_run(spec.scheduler, p, spec.steps) for p in plans] \
        if spec.scheduler else None
    return run_trajectory(function, plans, start=spec.start, steps=spec.steps,
                          device=spec.device, dtype=spec.dtype, seed=spec.seed,
                          schedulers=schedulers, show_state=spec.show_state,
                          vectors=spec.vectors or bool(spec.vectors_at),
                          progress=_bar_if_long(hooks, "trajectory"))


def _bar_if_long(hooks: Hooks | None, description: str, after: float = 2.0) -> Tick:
    """The engine's ``progress`` tick: a bar (``hooks.task``) only once the run has gone on
    for ``after`` seconds, so that the usual short run shows none."""
    import time

    started, bar = time.monotonic(), []

    def tick(done: int, total: int) -> None:
        if not bar:
            if time.monotonic() - started < after or hooks is None:
                return
            bar.append(hooks.task(description))
        bar[0](done, total)

    return tick


def _run_model_spec(spec: TrajectorySpec, plans: list[OptimizerPlan],
                    hooks: Hooks | None = None) -> TrajectoryResult:
    """The linear model: steps are epochs x batches; the scheduler is planned on that. A run
    with its own batch_size says so in its label when the figure mixes batch sizes."""
    sizes = [spec.batch_size if o.batch_size is None else o.batch_size for o in spec.optimizers]
    if len(set(sizes)) > 1:
        plans = [p if o.label else replace(p, label=f"{p.label}, {batch_label(b, spec.samples)}")
                 for p, o, b in zip(plans, spec.optimizers, sizes, strict=True)]
    schedulers = None
    if spec.scheduler:
        schedulers = []
        for plan, size in zip(plans, sizes, strict=True):
            steps = spec.epochs * math.ceil(spec.samples / effective_batch(size, spec.samples))
            schedulers.append(plan_for_run(spec.scheduler, plan, steps, spec.epochs,
                                           spec.interval))
    return run_linear(plans, in_features=spec.in_features, out_features=spec.out_features,
                      bias=spec.bias, samples=spec.samples, batch_size=sizes,
                      epochs=spec.epochs, noise=spec.noise, seed=spec.seed, device=spec.device,
                      dtype=spec.dtype, schedulers=schedulers, interval=spec.interval,
                      show_state=spec.show_state, progress=_bar_if_long(hooks, "training"))


def panel_view(result: TrajectoryResult, spec: TrajectorySpec) -> Any:
    """A grid cell's view. With ``zoom`` each panel's view is chosen from its own path (the
    start, the path, the minimum nearest its end); at equal scale every view is square, so
    that all the grid's panels get boxes of one size."""
    if spec.zoom and result.dim == 2 and result.problem is None:
        return fitted_view(result)
    view = choose_view(result, spec.aspect)
    return square_view(view) if equal_scale(result, spec.aspect) else view


def draw_trajectory(result: TrajectoryResult) -> Figure:
    """One result drawn alone: a diverged run stops where it left the view."""
    drawn = result.drawn()
    grid, view = surface_for(drawn)
    return trajectory_figure(drawn, grid, view)


def _diverged(results: list[TrajectoryResult]) -> list[str]:
    return [f"{run.label}: diverged at step {run.diverged}"
            for result in results for run in result.runs if run.diverged]


def compute(spec: TrajectorySpec, hooks: Hooks) -> Computed:
    """Run every panel (or the one overlay) and sample the surface under its drawn paths."""
    for part in spec.panel_specs() if spec.layout == "panels" else [spec]:
        check_budget("trajectory", trajectory_cost(part), hooks.note)
    if spec.layout != "panels":
        result = run_trajectory_spec(spec, hooks)
        drawn = result.drawn()  # a diverged run stops in the picture where it left the view
        grid, view = surface_for(drawn)
        return Computed(result, {"panels": [(None, drawn, grid, view)],
                                 "insets": [inset_surface(drawn, view, spec)]},
                        diverged=_diverged([result]))
    items, results, insets = [], [], []
    for panel, sub in zip(spec.panels, spec.panel_specs(), strict=True):
        result = run_trajectory_spec(sub, hooks)
        drawn = result.drawn()
        grid, view = surface_for(drawn, panel_view(drawn, spec))
        items.append((panel.title, drawn, grid, view))
        insets.append(inset_surface(drawn, view, spec))
        results.append(result)
    panels = PanelsResult(titles=[p.title for p in spec.panels], results=results)
    return Computed(panels, {"panels": items, "insets": insets}, diverged=_diverged(results))


def draw(computed: Computed, spec: TrajectorySpec) -> Figure:
    """The overlay picture, or the grid of panels."""
    if spec.view == "3d" or spec.vectors_at or spec.vectors:  # the motion options' stills
        from optviz.figures.animate import draw_still

        return draw_still(computed, spec, draw)
    items = computed.draw_inputs["panels"]
    insets = computed.draw_inputs.get("insets")
    if spec.layout != "panels":
        _, drawn, grid, view = items[0]
        fig = trajectory_figure(drawn, grid, view, aspect=spec.aspect, zoom=spec.zoom,
                                inset=insets[0] if insets else None)
        if spec.title:
            fig.suptitle(spec.title, fontsize=13)
        return fig
    rows, cols = spec.grid()
    return panels_figure(items, rows, cols, spec.title, aspect=spec.aspect, zoom=spec.zoom,
                         insets=insets)


def stem(spec: TrajectorySpec) -> str:
    """``trajectory_quadratic_adam+sgd``: the command, the function (or model), the names."""
    if spec.layout == "panels":
        return safe_stem(f"trajectory_{spec.function}_panels")
    where = spec.model or spec.function
    return safe_stem(f"trajectory_{where}_" + "+".join(o.name for o in spec.optimizers))


# A scheduler's lints (as optviz schedule gives them) go to the report and a footnote.
KIND = FigureKind("trajectory", TrajectorySpec, with_scheduler_lints(compute),
                  with_footnotes(draw), stem)
