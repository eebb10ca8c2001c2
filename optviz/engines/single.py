"""The engine: runs resolved optimizers on a problem with plain torch. No files, no drawing."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from optviz.devices import resolve_device
from optviz.engines.stepping import (
    back_propagate,
    checked_step,
    gradient_closure,
    take_step,
    zero_grad,
)
from optviz.engines.tracking import Extras
from optviz.errors import BadValueError, OptvizError
from optviz.hooks import Tick
from optviz.plan.optimizers import OptimizerPlan
from optviz.registry.functions import FunctionRecord
from optviz.results import Run, Surface, TrajectoryResult, finite_or_none

# A path counts as diverged once it is this many half-widths of the domain from its centre.
ESCAPE_FACTOR = 100.0

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def json_safe(value: Any) -> Any:
    """Hyperparameter values as JSON: tensors become numbers, tuples lists, objects text."""
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.tolist()
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return getattr(value, "__name__", None) or str(value)


def escape_bounds(domain: Sequence[Sequence[float]]) -> tuple[list[float], list[float]]:
    centre = [(lo + hi) / 2 for lo, hi in domain]
    reach = [ESCAPE_FACTOR * (hi - lo) / 2 for lo, hi in domain]
    return centre, reach


def rows_of(points: torch.Tensor) -> list[list[float | None]]:
    return [[finite_or_none(v) for v in row] for row in points.cpu().double().tolist()]


def _built(plan: OptimizerPlan, start: torch.Tensor) -> tuple[torch.Tensor, Any]:
    """The parameter (a fresh leaf at ``start``, a 1 x n matrix for matrix-only optimizers)
    and the optimizer over it; torch's refusal of the settings is one BadValueError."""
    shape = (1, start.numel()) if plan.record.matrix_param else (start.numel(),)
    x = start.detach().clone().reshape(shape).requires_grad_(True)
    try:
        return x, plan.build([x])
    except OptvizError:
        raise
    except Exception as exc:  # torch validates its own arguments; any failure here is input
        raise BadValueError(f"{plan.label}: {type(exc).__name__}: {exc}") from None


class _Path:
    """The recorded path of one run: a point and a loss per step (None where none), Lookahead's
    slow weights when the optimizer has them, and the step at which it diverged. Points are
    kept as Python floats, read once per step (one ``tolist``), not as tensor rows: the
    per-step tensor operations cost more than the optimizer's step on a 2-D point."""

    def __init__(self, x: torch.Tensor, start: torch.Tensor, steps: int,
                 domain: Sequence[Sequence[float]], slow_of: Callable[[], Any] | None) -> None:
        centre, reach = escape_bounds(domain)
        # A start far outside the domain is the user's choice, not a divergence: measure
        # escape from there too.
        far = (start.detach().reshape(-1).double().cpu() - torch.tensor(centre)).abs().tolist()
        reach = [max(r, ESCAPE_FACTOR * f) for r, f in zip(reach, far, strict=True)]
        self.centre = torch.tensor(centre, dtype=x.dtype, device=x.device)
        self.reach = torch.tensor(reach, dtype=x.dtype, device=x.device)
        self.dim = start.numel()
        self.points: list[list[float] | None] = [None] * (steps + 1)
        self.losses: list[float | None] = [None] * (steps + 1)
        self.slow_of = slow_of
        self.slow: list[list[float] | None] | None = [None] * (steps + 1) if slow_of else None
        self.diverged: int | None = None

    def keep(self, k: int, point: list[float], value: float) -> None:
        """Step ``k``'s point and loss (and slow weights)."""
        self.points[k] = point
        self.losses[k] = value
        if self.slow is not None:
            self.slow[k] = self.slow_of()[0].detach().reshape(-1).tolist()

    def after_step(self, k: int, x: torch.Tensor, value: torch.Tensor) -> bool:
        """Record step ``k``; False once nothing finite is left (the rest stays None, null in
        the export). A point far outside the view marks the divergence (the picture stops at
        the point before) but the run goes on and its finite points are kept."""
        flat = x.detach().reshape(-1)
        point, v = flat.tolist(), value.item()
        if not (math.isfinite(v) and all(map(math.isfinite, point))):
            self.diverged = self.diverged or k
            return False
        if self.diverged is None and not bool(((flat - self.centre).abs()
                                               <= self.reach).all()):
            self.diverged = k
        self.keep(k, point, v)
        return True

    def rows(self, rows: list[list[float] | None]) -> list[list[float | None]]:
        return [[finite_or_none(v) for v in row] if row is not None else [None] * self.dim
                for row in rows]


def _result(plan: OptimizerPlan, opt: Any, path: _Path, extras: Extras) -> Run:
    record = plan.record
    return Run(
        label=plan.label,
        optimizer=record.name,
        class_path=record.target,
        hyperparameters={k: json_safe(v) for k, v in opt.defaults.items()},
        points=path.rows(path.points),
        loss=[finite_or_none(v) if v is not None else None for v in path.losses],
        diverged=path.diverged,
        slow_points=path.rows(path.slow) if path.slow is not None else None,
        lr=extras.lr,
        state=extras.state,
        notes=extras.notes,
        vectors=extras.vectors,
        vector_keys=extras.vector_keys,
    )


def _loss_at(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
             graph: bool) -> torch.Tensor:
    """The loss at ``x``, with the graph to back-propagate it when ``graph``."""
    if graph:
        return fn(x).sum()
    with torch.no_grad():
        return fn(x).sum()


def run_one(
    fn: Callable[[torch.Tensor], torch.Tensor],
    plan: OptimizerPlan,
    start: torch.Tensor,
    steps: int,
    domain: Sequence[Sequence[float]],
    scheduler: Any = None,
    show_state: bool = False,
    vectors: bool = False,
    progress: Tick | None = None,
) -> Run:
    """Run one optimizer from ``start`` for ``steps`` steps, honouring the record's quirks;
    with a scheduler plan the LR each step used is recorded, with ``show_state`` the state.
    ``progress(done, total)`` is told the steps done, now and then (see ``ticker``)."""
    tick = ticker(progress, steps)
    x, opt = _built(plan, start)
    record = plan.record
    # Lookahead: its slow weights are drawn too.
    path = _Path(x, start, steps, domain, getattr(opt, "slow_weights", None))
    # Each point's loss is evaluated once, with its graph where a next step back-propagates
    # it (what a closure would evaluate again). LBFGS evaluates its own closure, as often as
    # it needs, and each point's drawn loss apart.
    own = record.needs_closure
    closure = gradient_closure(opt, [x], lambda: fn(x).sum(), record) if own else None
    value = _loss_at(fn, x, graph=not own)
    path.keep(0, x.detach().reshape(-1).tolist(), value.item())
    extras = Extras(opt, scheduler, show_state=show_state, label=plan.label, vectors=vectors)
    for k in range(1, steps + 1):
        tick(k - 1)
        extras.before_step()
        if closure is not None:
            take_step(plan, k, opt, closure)
        else:
            zero_grad(opt, record)
            back_propagate([x], value, record)
            checked_step(plan, k, opt)
        value = _loss_at(fn, x, graph=not own and k < steps)
        if not path.after_step(k, x, value.detach()):
            break
        extras.after_step(path.losses[k])
    extras.pad(steps)
    tick(steps)
    return _result(plan, opt, path, extras)


def run_trajectory(
    function: FunctionRecord,
    plans: Sequence[OptimizerPlan],
    start: Sequence[float] | None = None,
    steps: int = 100,
    device: str = "cpu",
    dtype: str = "float32",
    seed: int = 0,
    schedulers: Sequence[Any] | None = None,
    show_state: bool = False,
    vectors: bool = False,
    progress: Tick | None = None,
) -> TrajectoryResult:
    """Run every plan on ``function`` from ``start`` (the function's default when None);
    ``schedulers`` holds one scheduler plan (or None) per optimizer plan; ``progress(done,
    total)`` counts the steps of every run together."""
    start = start_of(function, start)
    dev = resolve_device(device)
    fn = function.load()
    start_t = torch.tensor(start, dtype=DTYPES[dtype], device=dev)
    _check_start(function, fn, start, start_t, dtype)
    result = TrajectoryResult(
        function=function.name,
        formula=function.formula,
        domain=[list(d) for d in function.domain],
        minima=[list(m) for m in function.minima],
        f_min=function.f_min,
        log_levels=function.log_levels,
        start=[float(v) for v in start],
        steps=steps,
        device=str(dev),
        dtype=dtype,
        seed=seed,
    )
    for i, plan in enumerate(plans):
        torch.manual_seed(seed)
        sched = schedulers[i] if schedulers else None
        part = offset(progress, i * steps, len(plans) * steps)
        result.runs.append(run_one(fn, plan, start_t, steps, function.domain, sched, show_state,
                                   vectors, part))
    return result


def ticker(progress: Tick | None, total: int, updates: int = 200) -> Callable[[int], None]:
    """``tick(done)`` that calls ``progress(done, total)`` about ``updates`` times in all
    (and at the end), so that a million steps cost a display only a few hundred updates."""
    if progress is None:
        return lambda done: None
    every = max(total // updates, 1)

    def tick(done: int) -> None:
        if done % every == 0 or done == total:
            progress(done, total)

    return tick


def offset(progress: Tick | None, before: int, total: int) -> Tick | None:
    """One part of a larger count: the part's ``(done, of)`` as ``(before + done, total)``."""
    if progress is None:
        return None
    return lambda done, of: progress(before + done, total)


def start_of(function: FunctionRecord, start: Sequence[float] | None) -> list[float]:
    """The start a run begins at: the given one, or the function's; one clear line when its
    number of coordinates is not the function's (the one place that checks it)."""
    start = list(function.start if start is None else start)
    if len(start) != function.dim:
        raise BadValueError(
            f"start needs {function.dim} coordinate(s) for {function.name}, got {len(start)}"
        )
    return [float(v) for v in start]


def _check_start(function: FunctionRecord, fn: Callable[[torch.Tensor], torch.Tensor],
                 start: Sequence[float], start_t: torch.Tensor, dtype: str) -> None:
    """A start whose coordinates or loss do not fit the run's number type would give a run
    of nothing but overflow; say so, and what to do, before anything runs."""
    where = ", ".join(f"{v:g}" for v in start)
    other = " (or --dtype float64)" if dtype == "float32" else ""
    if not bool(torch.isfinite(start_t).all()):
        raise BadValueError(f"start ({where}) is beyond what {dtype} holds (about "
                            f"{torch.finfo(start_t.dtype).max:.1e}); pick a start nearer "
                            f"{function.name}'s domain{other}")
    with torch.no_grad():
        value = fn(start_t.clone()).sum()
    if not bool(torch.isfinite(value)):
        raise BadValueError(f"{function.name} overflows {dtype} at the start ({where}): its "
                            f"value there is {float(value)}; pick a start nearer its "
                            f"domain {[list(d) for d in function.domain]}{other}")


def surface(
    function: FunctionRecord,
    view: Sequence[Sequence[float]] | None = None,
    resolution: int = 300,
) -> Surface:
    """The function on a regular grid over ``view`` (default: its domain), in one vectorised
    float64 call."""
    fn = function.load()
    view = function.domain if view is None else view
    xs = torch.linspace(*view[0], resolution, dtype=torch.float64)
    if function.dim == 1:
        with torch.no_grad():
            z = fn(xs[:, None])
        return Surface(xs=xs.numpy(), ys=None, z=z.numpy())
    ys = torch.linspace(*view[1], resolution, dtype=torch.float64)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    with torch.no_grad():
        z = fn(torch.stack([gx, gy], dim=-1))
    return Surface(xs=xs.numpy(), ys=ys.numpy(), z=np.asarray(z.numpy()))
