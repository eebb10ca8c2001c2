"""The batched engine: N independent trajectories through one optimizer, one step at a time.

For an element-wise optimizer (the record's ``elementwise`` flag) the N points are stacked into
one (n, dim) parameter tensor per hyperparameter group (torch param groups, so each group keeps
its own lr and settings) and the function's values are summed: the gradient of a sum of
independent terms is each term's own gradient, so every row moves exactly as a lone run would.
Any other optimizer (LBFGS, Muon, Adafactor) falls back to a loop over ``run_one``, with one
note through ``notify``. Pure torch: no files, no drawing, no terminal.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from optviz.devices import resolve_device
from optviz.engines.single import DTYPES, ESCAPE_FACTOR, escape_bounds, run_one
from optviz.engines.stepping import back_propagate, checked_step, zero_grad
from optviz.errors import BadValueError, OptvizError
from optviz.plan.optimizers import OptimizerPlan

Progress = Callable[[int, int], None]


@dataclass
class BatchResult:
    """What became of N trajectories, row i for start i and plan i, as numpy arrays.

    ``final_point`` is the last accepted point (the one before the divergence, if any);
    ``final_loss`` is f there, NaN for a diverged row; ``diverged`` the step at which a row
    left the domain's escape bounds or went non-finite (0: never); ``steps_to_tol`` the first
    step whose loss was at or below the threshold (-1: never, or no threshold given);
    ``tail_loss`` the worst (largest) loss of the last ``tail`` losses, NaN for a diverged row
    (with ``tail`` 1, the final loss).
    ``points`` (steps + 1, N, dim) and ``loss`` (steps + 1, N) are kept only on request, NaN
    from the step of divergence on, as ``run_one``'s runs are drawn (``Run.drawn``).
    """

    final_point: np.ndarray
    final_loss: np.ndarray
    diverged: np.ndarray
    steps_to_tol: np.ndarray
    batched: bool
    tail_loss: np.ndarray | None = None
    points: np.ndarray | None = None
    loss: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.final_loss.shape[0])


def with_lr(plan: OptimizerPlan, lr: float) -> OptimizerPlan:
    """The same plan with another learning rate (the label is left alone)."""
    return dataclasses.replace(plan, kwargs={**plan.kwargs, "lr": lr})


def _check_factory(plan: OptimizerPlan, kwargs: dict[str, Any], dtype: torch.dtype) -> None:
    # torch validates settings only for the constructor's defaults, not per param group, so
    # each distinct group is tried once on a throwaway tensor: bad input fails as run_one's does.
    shape = (1, 1) if plan.record.matrix_param else (1,)
    try:
        dataclasses.replace(plan, kwargs=kwargs, lookahead=None).build(
            [torch.zeros(shape, dtype=dtype, requires_grad=True)])
    except OptvizError:
        raise  # a plugin's own line (not an optimizer, could not be built)
    except Exception as exc:
        raise BadValueError(f"{plan.label}: {type(exc).__name__}: {exc}") from None


def _groups(plans: Sequence[OptimizerPlan]) -> list[tuple[dict[str, Any], list[int]]]:
    """Rows grouped by identical settings, each group's settings filled in with the factory's
    signature defaults: torch fills a group's missing keys from the *first* group's values,
    which would hand one group's momentum to a group that never set it."""
    from optviz.registry.signatures import signature_params

    valid = signature_params(plans[0].factory)
    keys = sorted({k for p in plans for k in p.kwargs})
    out: dict[str, tuple[dict[str, Any], list[int]]] = {}
    for i, plan in enumerate(plans):
        full = {k: plan.kwargs.get(k, valid.get(k)) for k in keys}
        tag = repr(sorted(full.items()))
        out.setdefault(tag, (full, []))[1].append(i)
    return list(out.values())


def run_batch(
    fn: Callable[[torch.Tensor], torch.Tensor],
    plans: OptimizerPlan | Sequence[OptimizerPlan],
    starts: torch.Tensor | Sequence[Sequence[float]],
    steps: int,
    domain: Sequence[Sequence[float]],
    *,
    device: str | torch.device = "cpu",
    dtype: str = "float32",
    threshold: float | Sequence[float] | None = None,
    record_paths: bool = False,
    tail: int = 1,
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
    row_domains: Sequence[Sequence[Sequence[float]]] | None = None,
    members: Sequence[int] | None = None,
) -> BatchResult:
    """Run one trajectory per row of ``starts`` (N, dim) for ``steps`` steps.

    ``plans`` is one plan for every row or one per row; rows may differ in any setting (lr,
    betas, ...) but not in the optimizer, unless ``members`` says which optimizer each row is
    stepped by: rows of one member share one optimizer, and the members, each element-wise, step
    in step on one evaluation of ``fn`` over every row and one backward (``optviz rank``:
    several optimizers on several functions, each function evaluated once per step).
    ``threshold`` is the loss at or below which a row counts as arrived (f* + tolerance), one
    for every row or one per row. ``row_domains`` (an element-wise optimizer only): each row's
    own domain for its escape bounds, where ``fn`` is several functions, each on its own rows
    (``optviz rank``: every function in one batch). ``tail`` is how many of the
    last losses (at steps ``steps - tail + 1`` to ``steps``, at most all ``steps + 1``)
    ``tail_loss`` takes the worst of. ``progress(done, total)`` is called as the work goes:
    steps of the batch, or trajectories when the optimizer falls back to a loop.
    """
    dev = resolve_device(device) if isinstance(device, str) else device
    torch_dtype = DTYPES[dtype]
    x0 = torch.as_tensor(starts, dtype=torch_dtype, device=dev)
    if x0.ndim != 2 or x0.shape[1] != len(domain):
        raise BadValueError(f"starts must be shaped (N, {len(domain)}), got {tuple(x0.shape)}")
    n = x0.shape[0]
    if tail < 1:
        raise BadValueError(f"tail must be at least 1, got {tail}")
    tail = min(tail, steps + 1)
    plan_list = [plans] * n if isinstance(plans, OptimizerPlan) else list(plans)
    if len(plan_list) != n:
        raise BadValueError(f"{len(plan_list)} plans for {n} starts")
    if n == 0:
        empty = np.zeros(0)
        return BatchResult(np.zeros((0, len(domain))), empty, empty.astype(np.int64),
                           empty.astype(np.int64), batched=True, tail_loss=empty)
    record = plan_list[0].record
    if members is not None:
        members = [int(m) for m in members]
        _check_members(plan_list, members)
    elif any(p.record.target != record.target for p in plan_list):
        raise BadValueError("a batch runs one optimizer; got several")
    if row_domains is not None and (len(row_domains) != n or not record.elementwise):
        raise BadValueError("row_domains needs one domain per row and an element-wise "
                            "optimizer")
    if not record.elementwise:
        if notify is not None:  # the caller's hook: the engine itself never prints
            notify(f"optviz: note: {record.label} {_not_elementwise(record)}, so the {n} "
                   "trajectories run one at a time")
        return _run_loop(fn, plan_list, x0, steps, domain, threshold, record_paths, tail,
                         progress)
    # Several functions on their rows (row_domains) or members: ``fn`` sees the caller's rows.
    by_caller = row_domains is not None or members is not None
    return _run_stacked(fn, plan_list, x0, steps, row_domains or [domain], threshold,
                        record_paths, tail, progress, members, by_caller)


def _check_members(plans: Sequence[OptimizerPlan], members: Sequence[int]) -> None:
    """Members step in step only where each is one element-wise optimizer that steps on the
    gradients of one backward (no closure of its own, dense first-order gradients)."""
    if len(members) != len(plans):
        raise BadValueError(f"members: {len(members)} for {len(plans)} rows; give one per row")
    targets: dict[int, OptimizerPlan] = {}
    for plan, member in zip(plans, members, strict=True):
        first = targets.setdefault(member, plan)
        if first.record.target != plan.record.target:
            raise BadValueError(f"member {member} has {first.label} and {plan.label}: the rows "
                                "of one member run one optimizer")
    if len(targets) < 2:
        return
    for plan in targets.values():
        r = plan.record
        if not r.elementwise or r.needs_closure or r.sparse_grad or r.create_graph:
            raise BadValueError(f"{plan.label} cannot step in step with other optimizers (it "
                                "is not element-wise, or needs a closure, sparse or "
                                "second-order gradients): run it in a batch of its own")


def _not_elementwise(record: Any) -> str:
    """Why a record falls back to lone runs. A plugin is not batched unless it says it may be,
    so nothing is known about its update: the note must not claim it mixes coordinates."""
    if record.plugin:
        return ("is a plugin that does not declare itself element-wise "
                "(optviz_quirks = {'elementwise': True})")
    return "is not element-wise (its update mixes coordinates)"


def _run_loop(
    fn: Callable[[torch.Tensor], torch.Tensor],
    plans: Sequence[OptimizerPlan],
    x0: torch.Tensor,
    steps: int,
    domain: Sequence[Sequence[float]],
    threshold: float | None,
    record_paths: bool,
    tail: int,
    progress: Progress | None,
) -> BatchResult:
    """The fallback: ``run_one`` per row, its results gathered into the batch's arrays."""
    n, dim = x0.shape
    points = np.full((steps + 1, n, dim), np.nan)
    loss = np.full((steps + 1, n), np.nan)
    diverged = np.zeros(n, dtype=np.int64)
    for i in range(n):
        run = run_one(fn, plans[i], x0[i], steps, domain).drawn()  # NaN from divergence on
        points[:, i] = np.array(run.points, dtype=float)
        loss[:, i] = np.array(run.loss, dtype=float)
        diverged[i] = run.diverged or 0
        if progress is not None:
            progress(i + 1, n)
    return _from_paths(points, loss, diverged, threshold, record_paths, tail, batched=False)


def _from_paths(points: np.ndarray, loss: np.ndarray, diverged: np.ndarray,
                threshold: float | None, record_paths: bool, tail: int,
                batched: bool) -> BatchResult:
    steps = loss.shape[0] - 1
    rows = np.arange(loss.shape[1])
    last = np.where(diverged > 0, diverged - 1, steps)
    final_loss = np.where(diverged > 0, np.nan, loss[last, rows])
    tail_loss = np.where(diverged > 0, np.nan, loss[steps + 1 - tail:].max(axis=0))
    reach = np.full(loss.shape[1], -1, dtype=np.int64)
    if threshold is not None:
        with np.errstate(invalid="ignore"):
            hit = loss <= threshold
        any_hit = hit.any(axis=0)
        reach[any_hit] = hit.argmax(axis=0)[any_hit]
    return BatchResult(
        final_point=points[last, rows], final_loss=final_loss, diverged=diverged,
        steps_to_tol=reach, batched=batched, tail_loss=tail_loss,
        points=points if record_paths else None, loss=loss if record_paths else None,
    )


@dataclasses.dataclass
class _Rows:
    """The per-row bookkeeping of a stacked run, in the rows' stacked order: which rows are
    alive, where and when they diverged, arrived, and what they recorded."""

    alive: torch.Tensor
    diverged: torch.Tensor
    arrived: torch.Tensor
    last: torch.Tensor  # the last accepted point
    current: torch.Tensor  # the rows' points as the parameters hold them now
    last_loss: torch.Tensor
    worst: torch.Tensor  # the worst loss of the tail so far
    points: torch.Tensor | None
    loss: torch.Tensor | None

    @classmethod
    def start(cls, x0: torch.Tensor, steps: int, record_paths: bool) -> _Rows:
        n, dim = x0.shape
        like = {"dtype": x0.dtype, "device": x0.device}
        points = loss = None
        if record_paths:
            points = torch.full((steps + 1, n, dim), math.nan, **like)
            loss = torch.full((steps + 1, n), math.nan, **like)
            points[0] = x0
        return cls(alive=torch.ones(n, dtype=torch.bool, device=x0.device),
                   diverged=torch.zeros(n, dtype=torch.int64, device=x0.device),
                   arrived=torch.full((n,), -1, dtype=torch.int64, device=x0.device),
                   last=x0.clone(), current=x0.clone(),
                   last_loss=torch.full((n,), math.nan, **like),
                   worst=torch.full((n,), -math.inf, **like), points=points, loss=loss)

    def judge_value(self, k: int, vals: torch.Tensor, in_tail: bool,
                    threshold: float | torch.Tensor | None) -> None:
        """Judge f at point k - 1 (never the start's own value, as run_one)."""
        nan = torch.tensor(math.nan, dtype=vals.dtype, device=vals.device)
        if k >= 2:
            bad = self.alive & ~torch.isfinite(vals)
            self.diverged = torch.where(bad, k - 1, self.diverged)
            self.alive = self.alive & ~bad
            if self.points is not None:
                self.points[k - 1] = torch.where(bad[:, None], nan, self.points[k - 1])
        self.last = torch.where(self.alive[:, None], self.current, self.last)
        self.last_loss = torch.where(self.alive, vals, self.last_loss)
        if in_tail:
            self.worst = torch.where(self.alive, torch.maximum(self.worst, vals), self.worst)
        if threshold is not None:
            hit = self.alive & (self.arrived < 0) & (vals <= threshold)
            self.arrived = torch.where(hit, k - 1, self.arrived)
        if self.loss is not None:
            self.loss[k - 1] = torch.where(self.alive, vals, nan)

    def judge_point(self, k: int, moved: torch.Tensor, centre: torch.Tensor,
                    reach: torch.Tensor) -> torch.Tensor:
        """Judge point k; a row that left its escape bounds (or went non-finite: |p - c| <= r
        is false for inf and NaN too) is frozen at its last point. Returns the rows' points."""
        ok = ((moved - centre).abs() <= reach).all(dim=1)
        bad = self.alive & ~ok
        self.diverged = torch.where(bad, k, self.diverged)
        self.alive = self.alive & ok
        self.current = torch.where(self.alive[:, None], moved, self.last)
        if self.points is not None:
            nan = torch.tensor(math.nan, dtype=moved.dtype, device=moved.device)
            self.points[k] = torch.where(self.alive[:, None], moved, nan)
        return self.current

    def result(self, order: torch.Tensor) -> BatchResult:
        """Back to the caller's row order, on the host."""
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(order.numel(), device=order.device)

        def host(t: torch.Tensor, axis: int = 0) -> np.ndarray:
            t = t.index_select(axis, inverse).detach().cpu()
            return t.double().numpy() if t.is_floating_point() else t.numpy()

        nan = torch.tensor(math.nan, dtype=self.last_loss.dtype, device=self.last.device)
        gone = self.diverged > 0
        return BatchResult(
            final_point=host(self.last), final_loss=host(torch.where(gone, nan, self.last_loss)),
            diverged=host(self.diverged), steps_to_tol=host(self.arrived), batched=True,
            tail_loss=host(torch.where(gone, nan, self.worst)),
            points=host(self.points, 1) if self.points is not None else None,
            loss=host(self.loss, 1) if self.loss is not None else None,
        )


def _escape_box(domains: Sequence[Sequence[Sequence[float]]], starts: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """run_one's escape bounds per row, from one domain for every row or one per row: a start
    far outside the domain widens its own bounds (computed in double, as run_one does, then
    cast), so escape is measured from there."""
    bounds = [escape_bounds(d) for d in domains]
    c64 = torch.tensor([c for c, _ in bounds], dtype=torch.float64, device=starts.device)
    r64 = torch.tensor([r for _, r in bounds], dtype=torch.float64, device=starts.device)
    if len(bounds) == 1:  # one domain: its centre broadcasts over the rows
        c64, r64 = c64[0], r64[0]
    r = torch.maximum(r64, ESCAPE_FACTOR * (starts.double() - c64).abs()).to(starts.dtype)
    return c64.to(starts.dtype), r


def _stacked_optimizer(plan: OptimizerPlan, plans: Sequence[OptimizerPlan], x0: torch.Tensor
                       ) -> tuple[Any, list[torch.Tensor], torch.Tensor, OptimizerPlan]:
    """One optimizer over the rows, one param group per distinct setting: the optimizer, the
    groups' parameters, the rows' stacked order, and the plan a failing step is named by."""
    groups = _groups(plans)
    for kwargs, _ in groups:
        _check_factory(plan, kwargs, x0.dtype)
    order = torch.tensor([i for _, rows in groups for i in rows], device=x0.device)
    sizes = [len(rows) for _, rows in groups]
    params = [t.clone().requires_grad_(True) for t in torch.split(x0[order], sizes)]
    # build() adds Lookahead when the plan asks for it; it is element-wise too.
    opt = dataclasses.replace(plan, kwargs=groups[0][0]).build(
        [{"params": [p], **kw} for p, (kw, _) in zip(params, groups, strict=True)])
    # A failing step names the settings every row shares: which group failed is not known.
    shared = {k: v for k, v in groups[0][0].items() if all(kw.get(k) == v for kw, _ in groups)}
    return opt, params, order, dataclasses.replace(plan, kwargs=shared)


@dataclass
class _Stack:
    """The optimizers of a stacked run, each over its own rows: ``opts`` (each optimizer with
    the plan a failing step is named by), their parameters in one stacked order, ``order``
    (the caller's row at each stacked position) and, where the function must see the
    caller's order and the stacked one is not it, ``inverse`` (each caller row's stacked
    position)."""

    opts: list[tuple[Any, OptimizerPlan]]
    params: list[torch.Tensor]
    order: torch.Tensor
    inverse: torch.Tensor | None = None

    def stacked(self) -> torch.Tensor:
        return self.params[0] if len(self.params) == 1 else torch.cat(self.params)

    def value(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """``fn`` of every row, in stacked order: one call for every group and member (cat
        and index_select are differentiable and hand each row's gradient back to its own
        parameter)."""
        x = self.stacked()
        if self.inverse is None:
            return fn(x)
        return fn(x.index_select(0, self.inverse)).index_select(0, self.order)


def _stack(plans: Sequence[OptimizerPlan], x0: torch.Tensor, members: Sequence[int] | None,
           by_caller: bool) -> _Stack:
    """One optimizer per member over its rows (``_stacked_optimizer``), stacked member by
    member; with ``by_caller``, the function sees the rows in the caller's order."""
    if members is None or len(set(members)) == 1:
        opt, params, order, stepper = _stacked_optimizer(plans[0], plans, x0)
        return _with_inverse(_Stack([(opt, stepper)], params, order), by_caller)
    opts, params, orders = [], [], []
    for member in dict.fromkeys(members):
        rows = [i for i, m in enumerate(members) if m == member]
        index = torch.tensor(rows, device=x0.device)
        opt, own, local, stepper = _stacked_optimizer(plans[rows[0]], [plans[i] for i in rows],
                                                      x0[index])
        opts.append((opt, stepper))
        params += own
        orders.append(index[local])
    return _with_inverse(_Stack(opts, params, torch.cat(orders)), by_caller)


def _with_inverse(stack: _Stack, by_caller: bool) -> _Stack:
    """The stack with ``inverse`` where the function must see the caller's order and the
    stacked order is not it (several param groups, or members)."""
    if not by_caller:
        return stack
    order = stack.order
    positions = torch.arange(order.numel(), device=order.device)
    if not torch.equal(order, positions):
        stack.inverse = torch.empty_like(order)
        stack.inverse[order] = positions
    return stack


def _run_stacked(
    fn: Callable[[torch.Tensor], torch.Tensor],
    plans: Sequence[OptimizerPlan],
    x0: torch.Tensor,
    steps: int,
    domains: Sequence[Sequence[Sequence[float]]],
    threshold: float | Sequence[float] | None,
    record_paths: bool,
    tail: int,
    progress: Progress | None,
    members: Sequence[int] | None = None,
    by_caller: bool = False,
) -> BatchResult:
    """All rows through one optimizer (or one per member, in step), escaping ``domains`` (one
    for every row, or one per row); see the module docstring for why this equals N runs.

    Divergence is decided per row with run_one's rule (a point outside the escape bounds, or a
    non-finite point or value). A diverged row is frozen: its point is put back to its last
    accepted point after every step. Its Adam moments (or momentum buffer, ...) go on being
    updated from the gradient at that point and may hold inf or NaN, but nothing reads them:
    the update is element-wise, so no other row's state or step ever sees them, and ``where``
    (not a multiplication by a 0/1 mask, which would turn inf into NaN) keeps the row finite.
    Freezing rather than dropping rows keeps every tensor's shape, so there is no host sync and
    no re-indexing of optimizer state inside the loop.
    """
    record = plans[0].record
    stack = _stack(plans, x0, members, by_caller)
    params, order = stack.params, stack.order
    sizes = [p.shape[0] for p in params]
    values: list[torch.Tensor] = []

    def closure() -> torch.Tensor:
        for opt, stepper in stack.opts:
            zero_grad(opt, stepper.record)
        vals = stack.value(fn)
        if not values:
            values.append(vals.detach())  # the first evaluation of a step is the one judged
        total = vals.sum()
        back_propagate(params, total, record)  # members: none has a quirk here (_check_members)
        return total

    if len(domains) > 1:
        domains = [domains[i] for i in order.tolist()]
    centre, reach = _escape_box(domains, x0[order])
    if threshold is not None and not isinstance(threshold, (int, float)):
        threshold = torch.as_tensor(threshold, dtype=x0.dtype, device=x0.device)[order]
    rows = _Rows.start(x0[order], steps, record_paths)
    # Iteration k evaluates f at point k - 1 (the forward pass of step k's gradient, so no
    # extra evaluation is needed), judges that value, then takes step k and judges point k.
    # The last iteration only evaluates the final point.
    for k in range(1, steps + 2):
        values.clear()
        if k <= steps:
            if record.needs_closure:  # one member only (run_batch checks)
                opt, stepper = stack.opts[0]
                checked_step(stepper, k, opt, closure)
            else:
                closure()
            vals = values[0]
        else:
            with torch.no_grad():
                vals = stack.value(fn)
        rows.judge_value(k, vals, in_tail=k - 1 > steps - tail, threshold=threshold)
        if k > steps:
            break
        if not record.needs_closure:
            for opt, stepper in stack.opts:
                checked_step(stepper, k, opt)
        with torch.no_grad():
            current = rows.judge_point(k, stack.stacked(), centre, reach)
            for p, part in zip(params, torch.split(current, sizes), strict=True):
                p.copy_(part)
        if progress is not None:
            progress(k, steps)
    return rows.result(order)
