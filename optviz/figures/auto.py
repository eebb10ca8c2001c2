"""``lr: auto`` where figures are planned: each optimizer that asks for it gets the lr that a
batched sweep picks for exactly the figure's function, start and number of steps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from optviz.engines.sweep import auto_lr
from optviz.errors import UnsupportedError
from optviz.hooks import Hooks
from optviz.plan.labels import format_value
from optviz.plan.optimizers import OptimizerPlan, distinct_labels, plan_optimizer, sweep_label
from optviz.registry.functions import FunctionRecord
from optviz.spec.figures import OptimizerSpec, TrajectorySpec


def wants_auto(spec: OptimizerSpec, lr: float | str | None) -> bool:
    """Whether this optimizer's lr is ``auto``: its own, or the figure's when it has none."""
    return spec.lr == "auto" or (spec.lr is None and lr == "auto")


def plan_with_auto(
    spec: OptimizerSpec,
    lr: float | str | None,
    common: dict[str, Any] | None,
    function: FunctionRecord,
    start: Sequence[float] | None,
    steps: int,
    device: str = "cpu",
    dtype: str = "float32",
    lookahead: tuple[int, float] | None = None,
    hooks: Hooks | None = None,
) -> OptimizerPlan:
    """``plan_optimizer`` that also understands ``lr: auto`` (on the optimizer, or for every
    optimizer without its own lr): the lr is picked by ``auto_lr`` for exactly this function,
    start and number of steps, and the legend says so: ``Adam (auto lr=0.032)``."""
    if not wants_auto(spec, lr):
        return plan_optimizer(spec, lr=lr, common=common, lookahead=lookahead)
    base = plan_optimizer(spec.model_copy(update={"lr": None}), common=common,
                          lookahead=lookahead)
    hooks = hooks or Hooks()
    best = auto_lr(function, base, start=start, steps=steps, device=device, dtype=dtype,
                   progress=hooks.task(f"lr auto: {sweep_label(base)}"), notify=hooks.note)
    plan = plan_optimizer(spec.model_copy(update={"lr": best}), common=common,
                          lookahead=lookahead)
    if spec.label is None:
        plan = replace(plan, label=plan.label.replace(f"lr={format_value(best)}",
                                                      f"auto lr={best:.2g}", 1))
    return plan


def plan_trajectory(spec: TrajectorySpec, function: FunctionRecord,
                    lookahead: tuple[int, float] | None = None,
                    hooks: Hooks | None = None) -> list[OptimizerPlan]:
    """The plans of a trajectory figure, each ``auto`` lr picked by a batched sweep."""
    if any(wants_auto(o, spec.lr) for o in spec.optimizers):
        if spec.model is not None:
            raise UnsupportedError("lr auto picks an lr on a test function; the linear model "
                                   "needs a number")
        if spec.scheduler is not None:
            raise UnsupportedError("lr auto sweeps without a scheduler, so it cannot pick an "
                                   "lr for a scheduled run; give a number")
    # Distinct legend labels here, so that the model's runs get them as the function's do.
    return distinct_labels([plan_with_auto(o, spec.lr, spec.settings, function, spec.start,
                                           spec.steps, spec.device, spec.dtype, lookahead,
                                           hooks)
                            for o in spec.optimizers])
