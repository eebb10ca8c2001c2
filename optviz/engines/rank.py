"""Ranking optimizers: every optimizer on every test function at the lr tuned for that function,
from several seeded starts, and the mean rank per optimizer. Pure torch: no files, no drawing.

Each (optimizer, function) pair is one ``search_lrs`` (the coarse grid of ``--lr auto`` and its
refining passes); every pass runs every lr from every start as rows of one batch. An lr's tail
loss over the starts is their mean, an lr from which any start diverged counts as diverged, and
its steps to the tolerance are the slowest start's, so one lucky start cannot decide a rank.
Optimizers rank per function under the sweep's objective (module ``optviz.engines.sweep``); an
optimizer that diverged at every lr ranks last.

Where torch's param groups would make every lr its own group (one Python pass over the groups
per step, the cost of a sweep), an optimizer whose update is its lr times something that does
not depend on the lr (SGD, Adam, RMSprop, ...: checked by running both ways, ``lr_is_a_factor``)
runs at lr 1 in one group and each row's step is scaled by its own lr (``LrFactor``): the same
numbers up to rounding, in one tensor.
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from optviz.engines.batched import BatchResult, run_batch, with_lr
from optviz.engines.single import json_safe, offset
from optviz.engines.sweep import (
    Scores,
    lr_search,
    ranked,
    search_lrs,
    tail_steps,
    threshold,
    tolerance,
)
from optviz.errors import BadValueError
from optviz.plan.optimizers import OptimizerPlan
from optviz.registry import FUNCTIONS, OPTIMIZERS
from optviz.registry.functions import FunctionRecord
from optviz.results import RankCell, RankResult
from optviz.spec.sweep import AUTO_GRID, REFINE_PASSES, parse_lr_grid

# (pairs done, pairs): while searches run in step in this process, in fractions of a pair.
PairProgress = Callable[[float, int], None]

PROBE_LRS = (1e-4, 1e-2, 0.3)
PROBE_STEPS = 100


def default_optimizers() -> list[str]:
    """Every torch.optim optimizer that batches (element-wise, dense gradients), one name per
    distinct factory and preset (``sgd``, not also ``gd``)."""
    seen: dict[tuple[str, str], str] = {}
    for record in OPTIMIZERS:
        if (not record.target.startswith("torch.optim.") or not record.elementwise
                or record.sparse_grad or record.unsupported or record.plugin):
            continue
        key = (record.target, repr(sorted(record.defaults.items())))
        own = record.name == record.target.rsplit(".", 1)[1].lower()
        if key not in seen or own:
            seen[key] = record.name
    return sorted(seen.values())


def default_functions() -> list[str]:
    """Every test function with a known (finite) minimum."""
    return [f.name for f in FUNCTIONS if f.f_min is not None]


def seeded_starts(function: FunctionRecord, count: int, seed: int) -> list[list[float]]:
    """``count`` starts drawn uniformly over the function's domain, from a generator seeded by
    ``seed`` and the function's name (so a function's starts do not depend on which others are
    ranked), rounded to 4 decimals so they read back exactly from an export."""
    rng = np.random.default_rng([seed, zlib.crc32(function.name.encode())])
    lo = np.array([d[0] for d in function.domain], dtype=float)
    hi = np.array([d[1] for d in function.domain], dtype=float)
    points = lo + (hi - lo) * rng.random((count, function.dim))
    return [[round(float(v), 4) for v in p] for p in points]


class LrFactor:
    """An optimizer built at lr 1 whose step for row i is scaled by ``lrs[i]`` afterwards:
    x ← x + lr·(x' − x), x' the lr-1 step. Equal to lr-``lrs[i]`` runs for an optimizer whose
    update is lr times something that does not depend on lr (``lr_is_a_factor`` checks)."""

    def __init__(self, opt: Any, lrs: Sequence[float]):
        self.opt = opt
        self.lrs = list(lrs)
        self.scale: torch.Tensor | None = None

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return self.opt.param_groups

    @property
    def state(self) -> Any:
        return self.opt.state

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.opt.zero_grad(set_to_none=set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        params = [p for g in self.opt.param_groups for p in g["params"]]
        before = [p.detach().clone() for p in params]
        out = self.opt.step() if closure is None else self.opt.step(closure)
        with torch.no_grad():
            for p, b in zip(params, before, strict=True):
                if self.scale is None or self.scale.device != p.device:
                    self.scale = torch.tensor(self.lrs, dtype=p.dtype, device=p.device)[:, None]
                p.copy_(torch.addcmul(b, self.scale, p - b))
        return out


def lr_factor_plan(plan: OptimizerPlan, lrs: Sequence[float]) -> OptimizerPlan:
    """``plan`` for a batch whose row i runs at ``lrs[i]``, in one param group (``LrFactor``)."""
    factory = plan.factory

    def build(params: Any, **kwargs: Any) -> LrFactor:
        return LrFactor(factory(params, **{**kwargs, "lr": 1.0}), lrs)

    build.__wrapped__ = factory  # type: ignore[attr-defined]  # its signature is the factory's
    return dataclasses.replace(plan, factory=build, kwargs={**plan.kwargs, "lr": 1.0})


_FACTOR: dict[tuple[Any, ...], bool] = {}


def lr_is_a_factor(plan: OptimizerPlan, device: str = "cpu", dtype: str = "float64") -> bool:
    """Whether ``plan``'s lr is a plain factor of its update: three lrs from 1e-4 to 0.3 for
    100 steps on the quadratic bowl, as lone groups and scaled in one group, give the same
    losses at every step (to 1e-6). Rprop (its lr seeds step sizes clamped to a fixed range)
    and ASGD (its lr enters a decay) do not; they run with one group per lr."""
    if not plan.record.elementwise:
        return False
    key = (plan.record.target, repr(sorted(plan.kwargs.items())), plan.lookahead, device,
           dtype)
    if key not in _FACTOR:
        bowl = FUNCTIONS.resolve("quadratic")
        starts = [list(bowl.start)] * len(PROBE_LRS)
        try:
            groups = run_batch(bowl.load(), [with_lr(plan, lr) for lr in PROBE_LRS], starts,
                               PROBE_STEPS, bowl.domain, device=device, dtype=dtype,
                               record_paths=True)
            scaled = run_batch(bowl.load(), lr_factor_plan(plan, PROBE_LRS), starts,
                               PROBE_STEPS, bowl.domain, device=device, dtype=dtype,
                               record_paths=True)
            same = (np.array_equal(groups.diverged, scaled.diverged) and np.allclose(
                groups.loss, scaled.loss, rtol=1e-6, atol=1e-12, equal_nan=True))
        except Exception:  # the real run reports the optimizer's own error
            same = False
        _FACTOR[key] = bool(same)
    return _FACTOR[key]


@dataclasses.dataclass
class _PerLr:
    tail: list[float | None]
    final: list[float | None]
    arrived: list[int | None]
    diverged: list[int | None]


def _nan_none(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def _scores_of(batch: Any, lrs: Sequence[float], n: int, first: int,
               detail: dict[float, _PerLr]) -> Scores:
    """The search's scores of ``lrs``, each run from ``n`` starts in rows ``first`` on of
    ``batch`` (lr by lr): the means over the starts (module docstring); each lr's per-start
    numbers go into ``detail``."""
    out = Scores(lr=list(lrs))
    for k, lr in enumerate(lrs):
        part = slice(first + k * n, first + (k + 1) * n)
        per = _PerLr(
            tail=[_nan_none(v) for v in batch.tail_loss[part]],
            final=[_nan_none(v) for v in batch.final_loss[part]],
            arrived=[int(v) if v >= 0 else None for v in batch.steps_to_tol[part]],
            diverged=[int(v) if v > 0 else None for v in batch.diverged[part]])
        detail[lr] = per
        ok = all(v is not None for v in per.tail)
        out.tail_loss.append(float(np.mean(per.tail)) if ok else None)
        out.steps_to_tol.append(max(per.arrived) if all(a is not None for a in per.arrived)
                                else None)
        out.final_loss.append(float(np.mean(per.final)) if ok else None)
        out.diverged.append(None if ok else min(
            (d for d in per.diverged if d is not None), default=None))
    return out


Tuned = tuple[float | None, Scores, dict[float, _PerLr], bool]


def tune_pair(function: FunctionRecord, plan: OptimizerPlan, starts: Sequence[Sequence[float]],
              steps: int, tol: float | None = None, device: str = "cpu",
              dtype: str = "float64", grid: Sequence[float] | None = None,
              scaled: bool | None = None) -> Tuned:
    """One optimizer on one function: the lr search over every start at once. Returns the
    tuned lr (None: diverged at every lr), the search's scores (the means over the starts),
    each lr's per-start numbers, and whether the optimizer batched."""
    grid = parse_lr_grid(AUTO_GRID) if grid is None else list(grid)
    fn = function.load()
    if scaled is None:
        scaled = lr_is_a_factor(plan, device, dtype)
    detail: dict[float, _PerLr] = {}
    batched = [True]

    def evaluate(lrs: list[float]) -> Scores:
        rows = [lr for lr in lrs for _ in starts]
        plans: Any = (lr_factor_plan(plan, rows) if scaled
                      else [with_lr(plan, lr) for lr in rows])
        batch = run_batch(fn, plans, [list(s) for lr in lrs for s in starts], steps,
                          function.domain, device=device, dtype=dtype,
                          threshold=threshold(function, tol), tail=tail_steps(steps),
                          notify=lambda _: None)
        batched[0] = batch.batched
        return _scores_of(batch, lrs, len(starts), 0, detail)

    scores, best = search_lrs(evaluate, grid, function.f_min, tolerance(function, tol))
    return (None if best is None else scores.lr[best]), scores, detail, batched[0]


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value  # nothing is <= NaN: no row arrives


def _on_their_rows(fns: Sequence[Callable[[torch.Tensor], torch.Tensor]],
                   counts: Sequence[int]) -> Callable[[torch.Tensor], torch.Tensor]:
    """One function of the stacked rows: ``fns[j]`` on the ``counts[j]`` rows after those
    of the functions before it."""
    ends = np.cumsum(counts).tolist()
    spans = [(end - c, end) for end, c in zip(ends, counts, strict=True) if c]
    used = [f for f, c in zip(fns, counts, strict=True) if c]

    def value(x: torch.Tensor) -> torch.Tensor:
        return torch.cat([f(x[a:b]) for f, (a, b) in zip(used, spans, strict=True)])

    return value


def tune_together(functions: Sequence[FunctionRecord], plan: OptimizerPlan,
                  starts: Sequence[Sequence[Sequence[float]]], steps: int,
                  tol: float | None = None, device: str = "cpu", dtype: str = "float64",
                  grid: Sequence[float] | None = None) -> list[Tuned]:
    """``tune_pair(functions[j], plan, starts[j], ..., scaled=True)`` for every j, the
    searches in step (``tune_in_step`` with one optimizer)."""
    return tune_in_step(functions, [plan], starts, steps, tol, device, dtype, grid)[0]


def tune_in_step(functions: Sequence[FunctionRecord], plans: Sequence[OptimizerPlan],
                 starts: Sequence[Sequence[Sequence[float]]], steps: int,
                 tol: float | None = None, device: str = "cpu", dtype: str = "float64",
                 grid: Sequence[float] | None = None,
                 progress: PairProgress | None = None) -> list[list[Tuned]]:
    """``tune_pair(functions[j], plans[i], starts[j], ..., scaled=True)`` for every i and j,
    the searches in step: each pass runs every optimizer's lrs on every function, from the
    function's starts, as rows of one batch (functions of one dimension; optimizers whose lr
    is a factor, ``LrFactor``: the caller checks, with ``lr_is_a_factor``), with one backward
    for all and each optimizer stepping its own rows (``run_batch``'s members). A
    position-free function is called once on the rows of every optimizer, any other on each
    optimizer's rows apart, laid out as in that pair's own search (``_InStepPass._spans``), so
    the numbers are each pair's own bit for bit, whichever optimizers share the batch.
    ``progress(done, pairs)`` is told how many of the pairs are done, in fractions of a pair
    as the passes go. Returns ``out[i][j]``."""
    if len({f.dim for f in functions}) > 1:
        raise BadValueError("searches in step need functions of one dimension")
    grid = parse_lr_grid(AUTO_GRID) if grid is None else list(grid)
    searches = {(i, j): lr_search(grid, f.f_min, tolerance(f, tol))
                for i in range(len(plans)) for j, f in enumerate(functions)}
    asked = {pair: next(search) for pair, search in searches.items()}
    details: dict[tuple[int, int], dict[float, _PerLr]] = {pair: {} for pair in searches}
    done: dict[tuple[int, int], tuple[Scores, int | None]] = {}
    pass_, passes = _InStepPass(functions, plans, starts, steps, tol, device, dtype), 0
    while asked:
        share = _share_of_a_pair(len(done), len(asked), len(searches), passes, progress)
        order = sorted(asked, key=lambda pair: (pair[1], pair[0]))  # function by function
        batch = pass_.run(order, asked, share)
        passes += 1
        first = 0
        for i, j in order:
            scores = _scores_of(batch, asked[i, j], len(starts[j]), first, details[i, j])
            first += len(asked[i, j]) * len(starts[j])
            try:
                asked[i, j] = searches[i, j].send(scores)
            except StopIteration as end:
                done[i, j] = end.value
                del asked[i, j]

    def tuned(pair: tuple[int, int]) -> Tuned:
        scores, best = done[pair]
        return (None if best is None else scores.lr[best]), scores, details[pair], True

    return [[tuned((i, j)) for j in range(len(functions))] for i in range(len(plans))]


# A search's passes at most: the coarse grid, its midpoints, the refining passes.
MAX_PASSES = 2 + REFINE_PASSES


def _share_of_a_pair(ended: int, searching: int, pairs: int, passes: int,
                     progress: PairProgress | None) -> Callable[[int, int], None] | None:
    """A batch's ``progress(step, steps)`` for pass ``passes`` of ``searching`` searches in
    step (``ended`` of the ``pairs`` are done): the pairs done so far, each search still going
    counted as the share of its passes run (at most ``MAX_PASSES``, so never past 1)."""
    if progress is None:
        return None

    def tick(step: int, steps: int) -> None:
        progress(ended + searching * min((passes + step / steps) / MAX_PASSES, 1.0), pairs)

    return tick


@dataclasses.dataclass
class _InStepPass:
    """The fixed parts of ``tune_in_step``'s passes."""

    functions: Sequence[FunctionRecord]
    plans: Sequence[OptimizerPlan]
    starts: Sequence[Sequence[Sequence[float]]]
    steps: int
    tol: float | None
    device: str
    dtype: str
    fns: list[Callable[[torch.Tensor], torch.Tensor]] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.fns = [f.load() for f in self.functions]  # once, not every pass

    def run(self, pairs: list[tuple[int, int]], asked: dict[tuple[int, int], list[float]],
            progress: Callable[[int, int], None] | None) -> BatchResult:
        """One pass: the rows of every (optimizer, function) pair in ``pairs`` order
        (function by function), each lr from each of the function's starts."""
        each = [(i, j, lr) for i, j in pairs for lr in asked[i, j] for _ in self.starts[j]]
        scaled = {i: lr_factor_plan(self.plans[i], [lr for m, _, lr in each if m == i])
                  for i in dict.fromkeys(i for i, _ in pairs)}
        f = self.functions
        return run_batch(
            self._spans(pairs, asked), [scaled[i] for i, _, _ in each],
            [list(p) for i, j in pairs for _ in asked[i, j] for p in self.starts[j]],
            self.steps, f[pairs[0][1]].domain, device=self.device, dtype=self.dtype,
            threshold=[_or_nan(threshold(f[j], self.tol)) for _, j, _ in each],
            row_domains=[f[j].domain for _, j, _ in each], tail=tail_steps(self.steps),
            members=[i for i, _, _ in each], progress=progress)

    def _spans(self, pairs: list[tuple[int, int]], asked: dict[tuple[int, int], list[float]]
               ) -> Callable[[torch.Tensor], torch.Tensor]:
        """The batch's function: a position-free function (``FunctionRecord.position_free``)
        once on the rows of every optimizer, any other on each optimizer's rows apart, laid
        out as in that pair's own search (its value at a row may depend on where the row
        sits)."""
        fns, counts = [], []
        for at, (i, j) in enumerate(pairs):
            rows = len(asked[i, j]) * len(self.starts[j])
            if at and pairs[at - 1][1] == j and self.functions[j].position_free:
                counts[-1] += rows
            else:
                fns.append(self.fns[j])
                counts.append(rows)
        return _on_their_rows(fns, counts)


# At most this many optimizers search in step in one worker task (more tasks: a finer
# progress bar and the workers kept busy; fewer: fewer evaluations of the functions).
IN_STEP = 4


@dataclasses.dataclass
class _Task:
    """Some optimizers' searches on some functions: in step in one batch per pass
    (``tune_in_step``, optimizers whose lr is a factor) or, for one optimizer on one function,
    alone (``tune_pair``)."""

    optimizers: list[int]
    js: list[int]
    functions: list[FunctionRecord]
    plans: list[OptimizerPlan]
    starts: list[list[list[float]]]
    steps: int
    tol: float | None
    device: str
    dtype: str
    scaled: bool

    def run(self, progress: PairProgress | None = None) -> list[list[Tuned]]:
        """``out[a][b]``: optimizer ``optimizers[a]`` on function ``js[b]``; ``progress``
        as ``tune_in_step``'s."""
        if self.scaled:
            return tune_in_step(self.functions, self.plans, self.starts, self.steps, self.tol,
                                self.device, self.dtype, progress=progress)
        return [[tune_pair(self.functions[0], self.plans[0], self.starts[0], self.steps,
                           self.tol, self.device, self.dtype, scaled=False)]]

    def pairs(self) -> list[tuple[int, int]]:
        return [(i, j) for i in self.optimizers for j in self.js]


def _in_worker(task: _Task) -> tuple[_Task, list[list[Tuned]]]:
    """A task in a worker process (one torch thread: the workers share the cores); only the
    tuned lr's per-start numbers travel back."""
    torch.set_num_threads(1)
    out = [[(lr, scores, {lr: detail[lr]} if lr is not None else {}, batched)
            for lr, scores, detail, batched in row] for row in task.run()]
    return task, out


def _tasks(functions: Sequence[FunctionRecord], plans: Sequence[OptimizerPlan],
           points: list[list[list[float]]], steps: int, tol: float | None, device: str,
           dtype: str, scaled: list[bool], chunk: int) -> list[_Task]:
    """Optimizers whose lr is a factor search the functions of each dimension in step, up to
    ``chunk`` optimizers a task; the others (one param group per lr) one function at a time,
    and first, so that no worker is left with them last."""
    groups: dict[int, list[int]] = {}
    for j, f in enumerate(functions):
        groups.setdefault(f.dim, []).append(j)
    factor = [i for i in range(len(plans)) if scaled[i]]
    tasks = [_Task([i], [j], [functions[j]], [plans[i]], [points[j]], steps, tol, device, dtype,
                   False) for i in range(len(plans)) if not scaled[i]
             for j in range(len(functions))]
    for js in groups.values():
        for at in range(0, len(factor), chunk):
            ids = factor[at:at + chunk]
            tasks.append(_Task(ids, js, [functions[j] for j in js], [plans[i] for i in ids],
                               [points[j] for j in js], steps, tol, device, dtype, True))
    return tasks


def _tune_all(functions: Sequence[FunctionRecord], plans: Sequence[OptimizerPlan],
              points: list[list[list[float]]], steps: int, tol: float | None, device: str,
              dtype: str, scaled: list[bool], jobs: int,
              progress: PairProgress | None) -> dict[tuple[int, int], Any]:
    """The tuning of every pair, in ``jobs`` worker processes where that is more than one
    (on a CPU: tasks are independent, and each is one Python loop on one core); the results
    do not depend on ``jobs``. ``progress`` counts pairs (in fractions of a pair, as their
    passes go, while searches in step run in this process)."""
    from optviz.processes import may_start_workers, started, worker_context

    total = len(plans) * len(functions)
    workers = jobs > 1 and str(device).startswith("cpu") and may_start_workers()
    # Inline: every such optimizer in step; in workers, enough tasks to keep them all busy.
    chunk = min(IN_STEP, -(-sum(scaled) // jobs)) if workers else len(plans)
    tasks = _tasks(functions, plans, points, steps, tol, device, dtype, scaled, max(chunk, 1))
    out: dict[tuple[int, int], Any] = {}

    def keep(task: _Task, tuned: list[list[Tuned]]) -> None:
        for pair, value in zip(task.pairs(), [t for row in tuned for t in row], strict=True):
            out[pair] = value
        if progress is not None:
            progress(len(out), total)

    if not workers or len(tasks) < 2:
        for task in tasks:
            keep(task, task.run(offset(progress, len(out), total)))  # type: ignore[arg-type]
        return out
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=worker_context(),
                             initializer=started, initargs=(False,)) as pool:
        for future in as_completed([pool.submit(_in_worker, task) for task in tasks]):
            keep(*future.result())
    return out


def run_rank(
    functions: Sequence[FunctionRecord],
    plans: Sequence[OptimizerPlan],
    starts: int = 5,
    seed: int = 0,
    steps: int = 500,
    tol: float | None = None,
    device: str = "cpu",
    dtype: str = "float64",
    colour: str = "loss",
    progress: PairProgress | None = None,
    jobs: int = 1,
) -> RankResult:
    """Every plan on every function at its tuned lr (module docstring), the pairs in ``jobs``
    worker processes on a CPU; ``progress(done, total)`` counts pairs (``_tune_all``)."""
    points = [seeded_starts(f, starts, seed) for f in functions]
    scaled = [lr_is_a_factor(p, device, dtype) for p in plans]
    tuned = _tune_all(functions, plans, points, steps, tol, device, dtype, scaled, jobs,
                      progress)
    cells: list[list[RankCell]] = []
    batched: list[bool] = []
    raw: list[list[tuple[float | None, int | None]]] = []
    for i, _plan in enumerate(plans):
        row, raw_row, all_batched = [], [], True
        for j, (function, pts) in enumerate(zip(functions, points, strict=True)):
            lr, scores, detail, was_batched = tuned[i, j]
            all_batched &= was_batched
            if lr is None:
                n = len(pts)
                per = _PerLr([None] * n, [None] * n, [None] * n,
                             [1] * n)
                score_f, arrived = None, None
            else:
                per = detail[lr]
                at = scores.lr.index(lr)
                score_f, arrived = scores.tail_loss[at], scores.steps_to_tol[at]
            raw_row.append((score_f, arrived))
            gap = None if score_f is None else score_f - (function.f_min or 0.0)
            row.append(RankCell(lr=lr, tail_loss=per.tail, final_loss=per.final,
                                steps_to_tol=per.arrived, diverged=per.diverged, score=gap,
                                arrived=arrived, rank=0, lrs_tried=len(scores.lr)))
        cells.append(row)
        raw.append(raw_row)
        batched.append(all_batched)
    for j, function in enumerate(functions):
        order = ranked([raw[i][j][0] for i in range(len(plans))],
                       [raw[i][j][1] for i in range(len(plans))], function.f_min,
                       tolerance(function, tol))
        for place, i in enumerate(order):
            cells[i][j].rank = place + 1
        for i in range(len(plans)):
            if cells[i][j].rank == 0:  # diverged at every lr: last
                cells[i][j].rank = len(plans)
    mean_rank = [float(np.mean([c.rank for c in row])) if row else math.nan for row in cells]
    return RankResult(
        optimizers=[p.label for p in plans],
        hyperparameters=[{k: json_safe(v) for k, v in p.kwargs.items() if k != "lr"}
                         for p in plans],
        functions=[f.name for f in functions], f_min=[float(f.f_min or 0.0) for f in functions],
        tol=[tolerance(f, tol) for f in functions], starts=points, steps=steps,
        tail=tail_steps(steps), seed=seed, device=device, dtype=dtype, colour=colour,
        cells=cells, mean_rank=mean_rank, batched=batched, lr_scaled=scaled)
