"""The engine: runs resolved optimizers on a problem with plain torch. No files, no drawing."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from optviz.devices import resolve_device
from optviz.errors import BadValueError
from optviz.functions import FunctionRecord
from optviz.optimizers import OptimizerPlan
from optviz.result import Run, Surface, TrajectoryResult, finite_or_none

# A path counts as diverged once it is this many half-widths of the domain from its centre.
ESCAPE_FACTOR = 100.0

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


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


def _escape_bounds(domain: Sequence[Sequence[float]]) -> tuple[list[float], list[float]]:
    centre = [(lo + hi) / 2 for lo, hi in domain]
    reach = [ESCAPE_FACTOR * (hi - lo) / 2 for lo, hi in domain]
    return centre, reach


def run_one(
    fn: Callable[[torch.Tensor], torch.Tensor],
    plan: OptimizerPlan,
    start: torch.Tensor,
    steps: int,
    domain: Sequence[Sequence[float]],
) -> Run:
    """Run one optimizer from ``start`` for ``steps`` steps, honouring the record's quirks."""
    record = plan.record
    shape = (1, start.numel()) if record.matrix_param else (start.numel(),)
    x = start.detach().clone().reshape(shape).requires_grad_(True)
    try:
        opt = plan.factory([x], **plan.kwargs)
    except Exception as exc:  # torch validates its own arguments; any failure here is input
        raise BadValueError(f"{plan.label}: {type(exc).__name__}: {exc}") from None

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = fn(x).sum()
        loss.backward()
        if record.sparse_grad:
            x.grad = x.grad.to_sparse()
        return loss

    centre, reach = _escape_bounds(domain)
    c = torch.tensor(centre, dtype=x.dtype, device=x.device)
    r = torch.tensor(reach, dtype=x.dtype, device=x.device)
    points = torch.full((steps + 1, start.numel()), math.nan, dtype=x.dtype, device=x.device)
    losses = torch.full((steps + 1,), math.nan, dtype=x.dtype, device=x.device)
    with torch.no_grad():
        points[0] = x.reshape(-1)
        losses[0] = fn(x).sum()
    diverged = None
    for k in range(1, steps + 1):
        if record.needs_closure:
            opt.step(closure)
        else:
            closure()
            opt.step()
        with torch.no_grad():
            flat = x.reshape(-1)
            value = fn(x).sum()
            ok = torch.isfinite(flat).all() & torch.isfinite(value) & ((flat - c).abs() <= r).all()
            if not bool(ok):
                diverged = k
                break
            points[k] = flat
            losses[k] = value
    return Run(
        label=plan.label,
        optimizer=record.name,
        class_path=record.target,
        hyperparameters={k: json_safe(v) for k, v in opt.defaults.items()},
        points=[[finite_or_none(v) for v in row] for row in points.cpu().double().tolist()],
        loss=[finite_or_none(v) for v in losses.cpu().double().tolist()],
        diverged=diverged,
    )


def run_trajectory(
    function: FunctionRecord,
    plans: Sequence[OptimizerPlan],
    start: Sequence[float] | None = None,
    steps: int = 100,
    device: str = "cpu",
    dtype: str = "float32",
    seed: int = 0,
) -> TrajectoryResult:
    """Run every plan on ``function`` from ``start`` (the function's default when None)."""
    start = list(function.start if start is None else start)
    if len(start) != function.dim:
        raise BadValueError(
            f"start needs {function.dim} coordinate(s) for {function.name}, got {len(start)}"
        )
    dev = resolve_device(device)
    fn = function.load()
    start_t = torch.tensor(start, dtype=_DTYPES[dtype], device=dev)
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
    for plan in plans:
        torch.manual_seed(seed)
        result.runs.append(run_one(fn, plan, start_t, steps, function.domain))
    return result


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
