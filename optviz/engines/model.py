"""The engine for the linear-model problem: optimizers train torch.nn.Linear on seeded
synthetic data, full-batch or mini-batch; paths are the weights, drawn on the exact loss
surface (two parameters) or on the plane of the paths' top two principal directions
(Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets"). No files, no drawing."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from optviz.devices import resolve_device
from optviz.engines.single import DTYPES, json_safe, offset, rows_of, ticker
from optviz.engines.stepping import checked_step, gradient_closure, take_step, zero_grad
from optviz.engines.tracking import Extras
from optviz.errors import BadValueError, OptvizError, UnsupportedError
from optviz.hooks import Tick
from optviz.plan.optimizers import OptimizerPlan
from optviz.problems.linear import flat_params, least_squares, make_data, make_model, mse_at
from optviz.results import Run, Surface, TrajectoryResult, finite_or_none


def _param_names(in_features: int, out_features: int, bias: bool) -> list[str]:
    if in_features * out_features == 1:
        names = ["weight"]
    else:
        names = [f"w[{o},{i}]" for o in range(out_features) for i in range(in_features)]
    if bias:
        names += ["bias"] if out_features == 1 else [f"b[{o}]" for o in range(out_features)]
    return names


def effective_batch(batch_size: int, samples: int) -> int:
    """The mini-batch size a run trains with: 0 or anything >= samples is the full batch."""
    return samples if batch_size <= 0 else min(batch_size, samples)


def batch_label(batch_size: int, samples: int) -> str:
    """How a legend names a batch size: the survey article's gradient descent, SGD and
    mini-batch SGD."""
    size = effective_batch(batch_size, samples)
    if size == samples:
        return "full batch"
    return "batch 1 (SGD)" if size == 1 else f"batch {size}"


def _optimizer(plan: OptimizerPlan, params: list[torch.Tensor], bias: bool) -> Any:
    """The plan's optimizer over the model's parameters; a constructor's own complaint
    becomes one line naming the optimizer."""
    if plan.record.matrix_param and bias:
        raise UnsupportedError(f"{plan.label} takes only 2-D parameters and the bias is 1-D; "
                               "use --no-bias")
    try:
        return plan.build(params)
    except OptvizError:
        raise
    except Exception as exc:
        raise BadValueError(f"{plan.label}: {type(exc).__name__}: {exc}") from None


def _batches(data: Any, size: int, per_epoch: int, gen: torch.Generator
             ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch's mini-batches (x, y): the data reshuffled by ``gen``, or the full batch."""
    samples = data.x.shape[0]
    order = torch.randperm(samples, generator=gen) if size < samples else None
    for b in range(per_epoch):
        if order is None:
            yield data.x, data.y
        else:
            idx = order[b * size:(b + 1) * size].to(data.x.device)
            yield data.x[idx], data.y[idx]


@dataclass
class _Trace:
    """What one training run records as it goes: the weights and full-data loss after each
    step (the start first), each step's mini-batch loss, each epoch's mean of them."""

    points: list[torch.Tensor]
    losses: list[torch.Tensor]
    batch_loss: list[float | None] = field(default_factory=list)
    epoch_loss: list[float | None] = field(default_factory=list)
    diverged: int | None = None


def _train_epoch(plan: OptimizerPlan, model: torch.nn.Linear, opt: Any, data: Any, bias: bool,
           batches: Iterator[tuple[torch.Tensor, torch.Tensor]], per_epoch: int,
           trace: _Trace, extras: Extras, tick: Callable[[int], None]) -> None:
    """Step once per mini-batch; stop at the first non-finite weight or loss (``diverged``)."""
    params = [p for p in (model.weight, model.bias) if p is not None]
    seen = []
    for b, (xb, yb) in enumerate(batches):

        def batch_mse(xb: torch.Tensor = xb, yb: torch.Tensor = yb) -> torch.Tensor:
            return torch.nn.functional.mse_loss(model(xb), yb)

        closure = gradient_closure(opt, params, batch_mse, plan.record)
        tick(len(trace.batch_loss))
        extras.before_step()
        value = float(take_step(plan, len(trace.batch_loss) + 1, opt, closure).detach())
        theta = flat_params(model)
        with torch.no_grad():
            full = mse_at(data, theta, bias)
        trace.batch_loss.append(finite_or_none(value))
        seen.append(value)
        if not (torch.isfinite(theta).all() and torch.isfinite(full)):
            trace.diverged = len(trace.points)
            break
        trace.points.append(theta)
        trace.losses.append(full)
        extras.after_step(float(full), end_of_epoch=b == per_epoch - 1)
    trace.epoch_loss.append(finite_or_none(float(np.mean(seen))) if seen else None)


def _padded_run(plan: OptimizerPlan, opt: Any, trace: _Trace, extras: Extras, steps: int,
                epochs: int) -> Run:
    """The run, every series padded to its full length (steps + 1 points, steps batch
    losses, epochs means) with NaN points and None after a divergence."""
    pts = torch.full((steps + 1, trace.points[0].numel()), math.nan, dtype=torch.float64)
    pts[: len(trace.points)] = torch.stack(trace.points).double().cpu()
    loss = [finite_or_none(float(v)) for v in trace.losses]
    loss += [None] * (steps + 1 - len(loss))
    batch_loss = trace.batch_loss + [None] * (steps - len(trace.batch_loss))
    epoch_loss = trace.epoch_loss + [None] * (epochs - len(trace.epoch_loss))
    return Run(label=plan.label, optimizer=plan.record.name, class_path=plan.record.target,
               hyperparameters={k: json_safe(v) for k, v in opt.defaults.items()},
               points=rows_of(pts), loss=loss, diverged=trace.diverged, lr=extras.lr,
               state=extras.state, notes=extras.notes, batch_loss=batch_loss,
               epoch_loss=epoch_loss)


def train(plan: OptimizerPlan, data: Any, bias: bool, epochs: int, batch_size: int, seed: int,
          scheduler: Any = None, interval: str = "step", show_state: bool = False,
          progress: Tick | None = None) -> Run:
    """Train one model with one optimizer; points are the flat weights after each step;
    ``progress(done, total)`` is told the steps done, now and then."""
    model = make_model(data, bias, seed)
    opt = _optimizer(plan, [p for p in (model.weight, model.bias) if p is not None], bias)
    samples = data.x.shape[0]
    size = effective_batch(batch_size, samples)
    per_epoch = math.ceil(samples / size)
    steps = epochs * per_epoch
    tick = ticker(progress, steps)
    gen = torch.Generator().manual_seed(seed)
    start = flat_params(model)
    with torch.no_grad():
        trace = _Trace(points=[start], losses=[mse_at(data, start, bias)])
    extras = Extras(opt, scheduler, interval=interval, show_state=show_state, label=plan.label)
    for _epoch in range(epochs):
        batches = _batches(data, size, per_epoch, gen)
        _train_epoch(plan, model, opt, data, bias, batches, per_epoch, trace, extras, tick)
        if trace.diverged:
            break
    extras.pad(steps)
    tick(steps)
    return _padded_run(plan, opt, trace, extras, steps, epochs)


def trains_over_lrs(plan: OptimizerPlan) -> bool:
    """Whether ``train_lrs`` can train the plan at many lrs at once: an optimizer that steps
    each param group on its own from its gradients (no closure, no Lookahead wrapper, dense
    first-order gradients, any parameter shape)."""
    record = plan.record
    return not (record.needs_closure or record.sparse_grad or record.create_graph
                or record.matrix_param or plan.lookahead is not None)


def train_lrs(plan: OptimizerPlan, lrs: Sequence[float], *, in_features: int,
              out_features: int, bias: bool, samples: int, batch_size: int, epochs: int,
              noise: float, seed: int, device: str = "cpu", dtype: str = "float32"
              ) -> tuple[np.ndarray, np.ndarray]:
    """``train`` (without a scheduler) at every lr of ``lrs`` in one optimizer, one param group
    of its own model copy per lr: the same data, start and mini-batches, and each group
    stepped by torch on its own, so each row is the lone run's, bit for bit, with one Python
    loop for all. Returns the flat weights (K, steps + 1, P) and the full-data loss
    (K, steps + 1), NaN from a run's first non-finite weight or loss on (where ``train``
    stops it)."""
    dev = resolve_device(device)
    data = make_data(samples, in_features, out_features, bias, noise, seed, DTYPES[dtype], dev)
    model = make_model(data, bias, seed)
    base = [p for p in (model.weight, model.bias) if p is not None]
    rows = [[p.detach().clone().requires_grad_() for p in base] for _ in lrs]
    opt = _optimizer(plan, [{"params": row, "lr": lr} for row, lr in zip(rows, lrs,
                                                                          strict=True)], bias)
    size = effective_batch(batch_size, samples)
    per_epoch = math.ceil(samples / size)
    start = flat_params(model)
    points = np.full((len(lrs), epochs * per_epoch + 1, start.numel()), np.nan)
    losses = np.full(points.shape[:2], np.nan)
    points[:, 0] = start.double().cpu().numpy()
    with torch.no_grad():
        losses[:, 0] = float(mse_at(data, start, bias))
    alive, gen, k = list(range(len(lrs))), torch.Generator().manual_seed(seed), 0
    for _epoch in range(epochs):
        for xb, yb in _batches(data, size, per_epoch, gen):
            k += 1
            alive = _step_rows(plan, k, opt, rows, alive, xb, yb, data, bias, points, losses)
        if not alive:
            break
    return points, losses


def _step_rows(plan: OptimizerPlan, k: int, opt: Any, rows: list[list[torch.Tensor]],
               alive: list[int], xb: torch.Tensor, yb: torch.Tensor, data: Any, bias: bool,
               points: np.ndarray, losses: np.ndarray) -> list[int]:
    """Step ``k`` of every run still alive, each on its own graph (the sum's gradient is 1 for
    each term, as a lone run's backward starts); record where each one is; the runs still
    alive after it (a run whose weights or loss turn non-finite stops, its grads left None)."""
    zero_grad(opt, plan.record)
    total = sum(torch.nn.functional.mse_loss(torch.nn.functional.linear(xb, *rows[r]), yb)
                for r in alive)
    total.backward()  # type: ignore[union-attr]
    checked_step(plan, k, opt)
    with torch.no_grad():
        thetas = [torch.cat([p.detach().reshape(-1) for p in rows[r]]) for r in alive]
        full = [float(mse_at(data, theta, bias)) for theta in thetas]  # each as a lone run's
        weights = torch.stack(thetas).double().cpu().numpy()
    finite = np.isfinite(weights).all(axis=1) & np.isfinite(full)
    points[alive, k] = np.where(finite[:, None], weights, np.nan)
    losses[alive, k] = np.where(finite, full, np.nan)
    return [r for r, ok in zip(alive, finite.tolist(), strict=True) if ok]


def pca_plane(paths: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Origin (mean), two unit directions (rows) and their explained-variance ratios, from
    every finite point of every path."""
    pts = np.concatenate([p[np.isfinite(p).all(axis=1)] for p in paths])
    origin = pts.mean(axis=0)
    centred = pts - origin
    # The eigenvectors of the small (d, d) scatter matrix, not an SVD of the (N, d) points:
    # a threaded BLAS sums the big products in an order that varies from call to call, so the
    # same config gave PNGs and exports differing in the last bits. einsum without
    # ``optimize`` does not call BLAS, and LAPACK on a d x d matrix is deterministic.
    scatter = np.einsum("ni,nj->ij", centred, centred)
    var, vecs = np.linalg.eigh(scatter)
    keep = np.argsort(var)[::-1][: min(len(var), max(len(pts) - 1, 1))]
    var = np.clip(var[keep], 0.0, None)
    ratio = var / var.sum() if var.sum() > 0 else np.zeros_like(var)
    dirs = vecs[:, keep[:2]].T.copy()
    # A sign convention so that pictures do not flip between runs: the largest entry positive.
    for i in range(dirs.shape[0]):
        if dirs[i, np.argmax(np.abs(dirs[i]))] < 0:
            dirs[i] = -dirs[i]
    if dirs.shape[0] < 2:  # a path along a line: any orthogonal second direction
        extra = np.eye(len(origin))[np.argmin(np.abs(dirs[0]))]
        extra = extra - dirs[0] * (extra @ dirs[0])
        dirs = np.vstack([dirs, extra / np.linalg.norm(extra)])
        ratio = np.append(ratio, 0.0)
    return origin, dirs, ratio[:2]


def project(points: np.ndarray, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    return (points - origin) @ dirs.T


def run_linear(plans: Sequence[OptimizerPlan], *, in_features: int = 10, out_features: int = 1,
               bias: bool = True, samples: int = 256, batch_size: int | Sequence[int] = 32,
               epochs: int = 20,
               noise: float = 0.1, seed: int = 0, device: str = "cpu", dtype: str = "float32",
               schedulers: Sequence[Any] | None = None, interval: str = "step",
               show_state: bool = False, progress: Tick | None = None) -> TrajectoryResult:
    """Train every plan on the same data from the same initial weights; ``batch_size`` is one
    size for every plan, or one per plan; ``progress(done, total)`` counts every run's steps
    together."""
    dev = resolve_device(device)
    data = make_data(samples, in_features, out_features, bias, noise, seed, DTYPES[dtype], dev)
    sizes = [batch_size] * len(plans) if isinstance(batch_size, int) else list(batch_size)
    counts = [epochs * math.ceil(samples / effective_batch(b, samples)) for b in sizes]
    runs = [train(plan, data, bias, epochs, sizes[i], seed,
                  schedulers[i] if schedulers else None, interval, show_state,
                  offset(progress, sum(counts[:i]), sum(counts)))
            for i, plan in enumerate(plans)]
    theta_star = least_squares(data, bias).numpy()
    f_min = float(mse_at(data, torch.as_tensor(theta_star), bias))
    names = _param_names(in_features, out_features, bias)
    weights = [np.array(r.points, dtype=float) for r in runs]
    problem: dict[str, Any] = {
        "model": "linear", "in_features": in_features, "out_features": out_features,
        "bias": bias, "samples": samples,
        "batch_size": sizes[0] if len(set(sizes)) == 1 else sizes, "epochs": epochs,
        "noise": noise, "parameters": names, "least_squares": theta_star.tolist(),
        # the data exactly as trained on, for the picture of the fit
        "data": {"x": data.x.double().cpu().tolist(), "y": data.y.double().cpu().tolist()},
    }
    if len(names) == 2:
        coords = weights
        star = theta_star
        problem.update(points_are="weights", axes=names)
    else:
        origin, dirs, ratio = pca_plane([*weights, theta_star[None, :]])
        coords = [project(w, origin, dirs) for w in weights]
        star = project(theta_star[None, :], origin, dirs)[0]
        problem.update(points_are="pca", origin=origin.tolist(), directions=dirs.tolist(),
                       explained_variance=ratio.tolist(),
                       axes=[f"PC1 ({ratio[0]:.1%} of variance)",
                             f"PC2 ({ratio[1]:.1%} of variance)"])
        for run, w in zip(runs, weights, strict=True):
            run.weights = rows_of(torch.as_tensor(w))
    for run, c in zip(runs, coords, strict=True):
        run.points = rows_of(torch.as_tensor(c))
    finite = np.concatenate([c[np.isfinite(c).all(axis=1)] for c in coords] + [star[None, :]])
    lo, hi = finite.min(axis=0), finite.max(axis=0)
    pad = np.maximum(0.15 * (hi - lo), 0.05)
    domain = [[float(lo[i] - pad[i]), float(hi[i] + pad[i])] for i in range(2)]
    result = TrajectoryResult(
        function="linear",
        formula=f"MSE of Linear({in_features}→{out_features}{', bias' if bias else ''})",
        domain=domain, minima=[star.tolist()], f_min=f_min, log_levels=True,
        start=[float(v) for v in coords[0][0]] if coords else [0.0, 0.0],
        steps=runs[0].steps if runs else 0, device=str(dev), dtype=dtype, seed=seed, runs=runs,
    )
    result.problem = problem
    return result


def model_surface(result: TrajectoryResult, view: Sequence[Sequence[float]],
                  resolution: int = 200) -> Surface:
    """The exact full-data MSE over the view: on the weights themselves (two parameters) or on
    the PCA plane origin + a·d1 + b·d2. The data are regenerated from the seed."""
    p = result.problem
    # The data exactly as trained on (in the run's dtype), evaluated in float64.
    data = make_data(p["samples"], p["in_features"], p["out_features"], p["bias"], p["noise"],
                     result.seed, DTYPES[result.dtype])
    data.x, data.y = data.x.double(), data.y.double()
    xs = torch.linspace(*view[0], resolution, dtype=torch.float64)
    ys = torch.linspace(*view[1], resolution, dtype=torch.float64)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    ab = torch.stack([gx, gy], dim=-1)
    if p["points_are"] == "weights":
        theta = ab
    else:
        origin = torch.tensor(p["origin"], dtype=torch.float64)
        dirs = torch.tensor(p["directions"], dtype=torch.float64)
        theta = origin + ab @ dirs
    with torch.no_grad():
        z = mse_at(data, theta, p["bias"])
    return Surface(xs=xs.numpy(), ys=ys.numpy(), z=z.cpu().numpy())
