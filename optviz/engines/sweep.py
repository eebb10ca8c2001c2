"""Learning-rate sweeps: one optimizer at many lrs in one batched run, the best one picked, and
``--lr auto`` for the other commands.

The objective of ``auto`` (and of the sweep's "best"): the lowest *tail loss*, the worst
(largest) loss over the last 10% of the steps the picture uses (at least the last 2, see
``tail_steps``), where every run whose tail stays within the tolerance of the known minimum
counts as tied; ties go to the run that first came within the tolerance, then to the lower tail
loss, then to the earlier lr of the grid (the smaller, for LO:HI:N). Judging the end of the
whole horizon, not the distance covered early on, keeps fast starters that stall from winning;
judging the worst of its last steps, not the very last one, keeps a run that oscillates (Lion's
fixed-size steps hop across the minimum, high and low in turn) from winning on a low step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from optviz.engines.batched import run_batch, with_lr
from optviz.engines.single import json_safe, run_trajectory
from optviz.errors import BadValueError, UnsupportedError
from optviz.plan.optimizers import sweep_label
from optviz.results import SweepResult
from optviz.spec.sweep import AUTO_GRID, parse_lr_grid

if TYPE_CHECKING:
    from optviz.plan.optimizers import OptimizerPlan
    from optviz.registry.functions import FunctionRecord

DEFAULT_TOL = 1e-6

TAIL_FRACTION = 0.1

Progress = Callable[[int, int], None]


def tail_steps(steps: int) -> int:
    """How many of a run's last losses the objective judges: 10% of the steps, at least 2
    (so one low step cannot win alone), never the start's (every lr shares it, so a one-step
    run is judged by its final loss alone)."""
    return min(steps, max(2, math.ceil(TAIL_FRACTION * steps)))

def tolerance(function: FunctionRecord, tol: float | None = None) -> float:
    """The tolerance on f − f*: ``tol``, or 1e-6 scaled by |f*| where that is above 1 (float32
    cannot resolve 1e-6 next to f* = −78)."""
    if tol is not None:
        return tol
    return DEFAULT_TOL * max(1.0, abs(function.f_min or 0.0))

def threshold(function: FunctionRecord, tol: float | None = None) -> float | None:
    """The loss at or below which a run has arrived: f* + tolerance; None without a known f*."""
    if function.f_min is None:
        return None
    return function.f_min + tolerance(function, tol)

def pick_best(tail_loss: Sequence[float | None], steps_to_tol: Sequence[int | None],
              f_min: float | None, tol: float) -> int | None:
    """The index of the best run under the objective in the module docstring, given each run's
    tail loss (the worst of its last ``tail_steps`` losses); None when every run diverged (a
    diverged run's tail loss is None or NaN)."""
    keys = []
    for i, (loss, arrived) in enumerate(zip(tail_loss, steps_to_tol, strict=True)):
        if loss is None or not math.isfinite(loss):
            continue
        gap = loss - f_min if f_min is not None else loss
        first = max(gap, tol) if f_min is not None else gap
        keys.append((first, math.inf if arrived is None else arrived, gap, i))
    return min(keys)[3] if keys else None

def _none_if_nan(values: Any) -> list[float | None]:
    return [v if math.isfinite(v) else None for v in (float(x) for x in values)]

def _start(function: FunctionRecord, start: Sequence[float] | None) -> list[float]:
    start = list(function.start if start is None else start)
    if len(start) != function.dim:
        raise BadValueError(
            f"start needs {function.dim} coordinate(s) for {function.name}, got {len(start)}"
        )
    return [float(v) for v in start]

def run_sweep(
    function: FunctionRecord,
    plan: OptimizerPlan,
    lrs: Sequence[float],
    start: Sequence[float] | None = None,
    steps: int = 100,
    device: str = "cpu",
    dtype: str = "float32",
    tol: float | None = None,
    with_path: bool = True,
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
) -> SweepResult:
    """Run ``plan`` at every lr of ``lrs`` from one start, in one batch, and pick the best
    by its tail loss (the module docstring's objective).

    With ``with_path`` the best lr is run again alone (``run_trajectory``) for its path, which
    the tests check equals the batch's row.
    """

    start_pt = _start(function, start)
    tol_ = tolerance(function, tol)
    plans = [with_lr(plan, lr) for lr in lrs]
    tail = tail_steps(steps)
    batch = run_batch(function.load(), plans, [start_pt] * len(plans), steps, function.domain,
                      device=device, dtype=dtype, threshold=threshold(function, tol),
                      tail=tail, progress=progress, notify=notify)
    final = _none_if_nan(batch.final_loss)
    tail_loss = _none_if_nan(batch.tail_loss)
    arrived = [int(s) if s >= 0 else None for s in batch.steps_to_tol]
    best = pick_best(tail_loss, arrived, function.f_min, tol_)
    settings = {k: json_safe(v) for k, v in plan.kwargs.items() if k != "lr"}
    label = sweep_label(plan)
    result = SweepResult(
        function=function.name, formula=function.formula, optimizer=plan.record.name,
        label=label, hyperparameters=settings, start=start_pt, steps=steps,
        device=device, dtype=dtype, f_min=function.f_min, tol=tol_, lr=[float(v) for v in lrs],
        final_loss=final, steps_to_tol=arrived,
        diverged=[int(d) if d > 0 else None for d in batch.diverged], best=best,
        batched=batch.batched, tail=tail, tail_loss=tail_loss,
    )
    if best is not None and len(set(lrs)) >= 3 and lrs[best] in (min(lrs), max(lrs)):
        end = "smallest" if lrs[best] == min(lrs) else "largest"
        if notify is not None:
            notify(f"optviz: note: the best lr for {label}, {lrs[best]:.3g}, is the {end} of "
                   f"the grid ({min(lrs):g} to {max(lrs):g}); a better one may lie beyond it")
    if with_path:
        # No runs when every lr diverged: the panel still shows the contour and the start.
        best_plans = [] if best is None else [replace(
            with_lr(plan, lrs[best]), label=f"{label}, lr={lrs[best]:.3g}")]
        result.best_run = run_trajectory(function, best_plans, start=start_pt, steps=steps,
                                         device=device, dtype=dtype)
    return result

def auto_lr(
    function: FunctionRecord,
    plan: OptimizerPlan,
    start: Sequence[float] | None = None,
    steps: int = 100,
    device: str = "cpu",
    dtype: str = "float32",
    lrs: Sequence[float] | None = None,
    tol: float | None = None,
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
) -> float:
    """The lr ``--lr auto`` picks for ``plan`` on ``function``: the best of a batched sweep
    over ``lrs`` (default: 1e-5 to 10, ten a decade) under the module's objective.
    """
    grid = parse_lr_grid(AUTO_GRID) if lrs is None else list(lrs)
    result = run_sweep(function, plan, grid, start=start, steps=steps, device=device,
                       dtype=dtype, tol=tol, with_path=False, progress=progress, notify=notify)
    if result.best_lr is None:
        raise UnsupportedError(
            f"--lr auto: {plan.record.label} diverged on {function.name} at every lr from "
            f"{grid[0]:g} to {grid[-1]:g}; give an lr instead"
        )
    return result.best_lr
