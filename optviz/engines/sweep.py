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

The search (``search_lrs``): the batched coarse grid first, then one batch of the grid's
geometric midpoints (wherever either neighbour did not diverge: the tail loss against lr is
jagged, so a finer look everywhere pays before zooming in), then ``passes`` refining passes, each
one batch of ``points`` lrs log-spaced between the evaluated neighbours of each of the ``seeds``
best lrs found so far (the best few, not only the best: the tail loss against lr is jagged, and
a narrow good region may sit beside the second best coarse point). Every lr of every pass is a
candidate under the same objective; refinement points come after the grid in the candidate
order, so on a tie the grid's lr keeps winning.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from optviz.engines.batched import run_batch, with_lr
from optviz.engines.single import json_safe, run_trajectory, start_of
from optviz.errors import UnsupportedError
from optviz.plan.optimizers import sweep_label
from optviz.results import SweepResult, finite_or_none
from optviz.spec.sweep import AUTO_GRID, REFINE_PASSES, parse_lr_grid

if TYPE_CHECKING:
    from optviz.plan.optimizers import OptimizerPlan
    from optviz.registry.functions import FunctionRecord

DEFAULT_TOL = 1e-6

TAIL_FRACTION = 0.1

# The refinement's defaults: after the 61-lr coarse grid and its 60 midpoints, 3 passes
# (REFINE_PASSES, in spec/sweep.py: the sweep spec's default too) of 5 seeds x 8 lrs (120 runs
# in 3 batches): each pass narrows the spacing about 5x (12% -> 2.5% -> 0.5% -> 0.1%).
REFINE_SEEDS = 5
REFINE_POINTS = 8

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
    order = ranked(tail_loss, steps_to_tol, f_min, tol)
    return order[0] if order else None

def _key(loss: float | None, arrived: int | None, f_min: float | None, tol: float,
         i: int) -> tuple[float, float, float, int] | None:
    if loss is None or not math.isfinite(loss):
        return None
    gap = loss - f_min if f_min is not None else loss
    first = max(gap, tol) if f_min is not None else gap
    return (first, math.inf if arrived is None else arrived, gap, i)


def ranked(tail_loss: Sequence[float | None], steps_to_tol: Sequence[int | None],
           f_min: float | None, tol: float) -> list[int]:
    """Every run that did not diverge, best first under the module docstring's objective
    (``ranked(...)[0]`` is ``pick_best``)."""
    keys = [k for i, (loss, arrived) in enumerate(zip(tail_loss, steps_to_tol, strict=True))
            if (k := _key(loss, arrived, f_min, tol, i)) is not None]
    return [k[3] for k in sorted(keys)]


@dataclass
class Scores:
    """What the objective reads of each lr a search evaluated, in evaluation order, with the
    engine's other numbers alongside (``final_loss``, ``diverged``) for reports."""

    lr: list[float] = field(default_factory=list)
    tail_loss: list[float | None] = field(default_factory=list)
    steps_to_tol: list[int | None] = field(default_factory=list)
    final_loss: list[float | None] = field(default_factory=list)
    diverged: list[int | None] = field(default_factory=list)
    passes: int = 0  # batched passes run (the coarse grid is the first)

    def extend(self, other: Scores) -> None:
        for name in ("lr", "tail_loss", "steps_to_tol", "final_loss", "diverged"):
            getattr(self, name).extend(getattr(other, name))
        self.passes += 1


def refinement(lrs: Sequence[float], order: Sequence[int], seeds: int = REFINE_SEEDS,
               points: int = REFINE_POINTS, within: bool = False) -> list[float]:
    """The next pass's lrs: for each of the first ``seeds`` indices of ``order`` (best first),
    ``points`` lrs log-spaced strictly between its nearest evaluated neighbours (one spacing
    beyond the end where it is the smallest or largest, or with ``within`` only on its inner
    side, so that no lr leaves the range evaluated), leaving out lrs already evaluated."""
    import numpy as np

    known = sorted(set(lrs))
    out: list[float] = []
    for i in order[:seeds]:
        lr = lrs[i]
        at = known.index(lr)
        lo = known[at - 1] if at > 0 else None
        hi = known[at + 1] if at + 1 < len(known) else None
        if lo is None and hi is None:  # one lr only: a decade either side
            lo, hi = lr / 10, lr * 10
        if within:  # an end of the range: refine on its inner side only
            lo, hi = (lo if lo is not None else lr), (hi if hi is not None else lr)
        lo = lo if lo is not None else lr * lr / hi
        hi = hi if hi is not None else lr * lr / lo
        for v in np.geomspace(lo, hi, points + 2)[1:-1]:
            v = float(v)
            if all(abs(v - k) > 1e-9 * k for k in known + out):
                out.append(v)
    return out


def midpoints(lrs: Sequence[float], tail_loss: Sequence[float | None]) -> list[float]:
    """The geometric midpoint of each pair of neighbouring lrs (sorted) of which at least one
    did not diverge."""
    pairs = sorted(zip(lrs, tail_loss, strict=True), key=lambda pair: pair[0])
    out = []
    for (a, fa), (b, fb) in itertools.pairwise(pairs):
        ok = any(v is not None and math.isfinite(v) for v in (fa, fb))
        if ok and b > a * (1 + 1e-9):
            out.append(math.sqrt(a * b))
    return out


Search = Generator[list[float], Scores, tuple[Scores, int | None]]


def lr_search(grid: Sequence[float], f_min: float | None, tol: float,
              passes: int = REFINE_PASSES, seeds: int = REFINE_SEEDS,
              points: int = REFINE_POINTS, within: bool = False) -> Search:
    """``search_lrs`` as a generator: it yields each pass's lrs and is sent their scores, so
    that several searches can share batches (``optviz rank`` runs one optimizer's searches on
    every function in one). Returns (StopIteration's value) what ``search_lrs`` does."""
    scores = Scores()
    scores.extend((yield list(grid)))
    if passes > 0 and len(grid) > 1:
        middle = midpoints(scores.lr, scores.tail_loss)
        if middle:
            scores.extend((yield middle))
    for _ in range(passes):
        order = ranked(scores.tail_loss, scores.steps_to_tol, f_min, tol)
        if not order:
            break
        more = refinement(scores.lr, order, seeds, points, within)
        if not more:
            break
        scores.extend((yield more))
    return scores, pick_best(scores.tail_loss, scores.steps_to_tol, f_min, tol)


def search_lrs(evaluate: Callable[[list[float]], Scores], grid: Sequence[float],
               f_min: float | None, tol: float, passes: int = REFINE_PASSES,
               seeds: int = REFINE_SEEDS, points: int = REFINE_POINTS,
               within: bool = False) -> tuple[Scores, int | None]:
    """The coarse ``grid``, then (with ``passes`` > 0) its midpoints and ``passes`` refining
    passes (module docstring), each one call of ``evaluate`` (one batch); ``within`` keeps
    every lr inside the grid's range (a sweep's range is the user's). Returns every lr
    evaluated, in order, and the best's index."""
    search = lr_search(grid, f_min, tol, passes, seeds, points, within)
    lrs = next(search)
    while True:
        try:
            lrs = search.send(evaluate(lrs))
        except StopIteration as done:
            return done.value


def _none_if_nan(values: Any) -> list[float | None]:
    return [finite_or_none(float(x)) for x in values]


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
    refine: int = 0,
    within: bool = True,
) -> SweepResult:
    """Run ``plan`` at every lr of ``lrs`` from one start, in one batch, and pick the best
    by its tail loss (the module docstring's objective).

    ``refine`` refining passes (``search_lrs``) add lrs around the best few; the result then
    holds the grid's lrs and the refinement's, sorted by lr (the best picked in evaluation
    order, so ties still go to the grid); with ``within`` (a sweep: the range is the user's)
    they stay inside the grid's range.
    With ``with_path`` the best lr is run again alone (``run_trajectory``) for its path, which
    the tests check equals the batch's row.
    """

    start_pt = start_of(function, start)
    tol_ = tolerance(function, tol)
    tail = tail_steps(steps)
    batched = [True]
    passes = 1 + (1 + refine if refine > 0 else 0)
    done = [0]

    def step_progress(k: int, total: int) -> None:
        if progress is not None:
            progress(done[0] * total + k, passes * total)

    def evaluate(values: list[float]) -> Scores:
        plans = [with_lr(plan, lr) for lr in values]
        batch = run_batch(function.load(), plans, [start_pt] * len(plans), steps,
                          function.domain, device=device, dtype=dtype,
                          threshold=threshold(function, tol), tail=tail,
                          progress=step_progress, notify=notify if done[0] == 0 else None)
        done[0] += 1
        batched[0] = batch.batched
        return Scores(lr=[float(v) for v in values], tail_loss=_none_if_nan(batch.tail_loss),
                      steps_to_tol=[int(s) if s >= 0 else None for s in batch.steps_to_tol],
                      final_loss=_none_if_nan(batch.final_loss),
                      diverged=[int(d) if d > 0 else None for d in batch.diverged])

    scores, best = search_lrs(evaluate, lrs, function.f_min, tol_, passes=max(0, refine),
                              within=within)
    if scores.passes > 1:  # refined: sorted by lr for the figure and the export
        order = sorted(range(len(scores.lr)), key=lambda i: scores.lr[i])
        best = None if best is None else order.index(best)
        for name in ("lr", "tail_loss", "steps_to_tol", "final_loss", "diverged"):
            values = getattr(scores, name)
            setattr(scores, name, [values[i] for i in order])
    settings = {k: json_safe(v) for k, v in plan.kwargs.items() if k != "lr"}
    label = sweep_label(plan)
    result = SweepResult(
        function=function.name, formula=function.formula, optimizer=plan.record.name,
        label=label, hyperparameters=settings, start=start_pt, steps=steps,
        device=device, dtype=dtype, f_min=function.f_min, tol=tol_, lr=scores.lr,
        final_loss=scores.final_loss, steps_to_tol=scores.steps_to_tol,
        diverged=scores.diverged, best=best,
        batched=batched[0], tail=tail, tail_loss=scores.tail_loss,
    )
    lrs = result.lr
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
    refine: int = REFINE_PASSES,
) -> float:
    """The lr ``--lr auto`` picks for ``plan`` on ``function``: the best of a batched sweep
    over ``lrs`` (default: 1e-5 to 10, ten a decade) refined by ``refine`` batched passes
    around the best few (``search_lrs``), under the module's objective.
    """
    grid = parse_lr_grid(AUTO_GRID) if lrs is None else list(lrs)
    result = run_sweep(function, plan, grid, start=start, steps=steps, device=device,
                       dtype=dtype, tol=tol, with_path=False, progress=progress, notify=notify,
                       refine=refine, within=False)
    if result.best_lr is None:
        raise UnsupportedError(
            f"--lr auto: {plan.record.label} diverged on {function.name} at every lr from "
            f"{grid[0]:g} to {grid[-1]:g}; give an lr instead"
        )
    return result.best_lr
