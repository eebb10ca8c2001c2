"""The interactive HTML explorer (``-o explore.html``): what the page needs, computed when the
file is written, as plain data for ``optviz.render.html``.

A trajectory page holds every run at every lr of a log grid (by default 33 values over two
decades around the run's own lr, or ``explore_lrs``), run through the batched engine; a
schedule page holds each scheduler's curve at every combination of a few of its numeric
settings; sweep and basin pages hold their own results. The command (or config) that draws
the view on show is made here too, token by token, so that the page only joins strings.
"""

from __future__ import annotations

import math
import shlex
from itertools import product
from typing import TYPE_CHECKING, Any

import numpy as np

from optviz.errors import OptvizError, UnsupportedError
from optviz.hooks import Hooks

if TYPE_CHECKING:
    from optviz.results import TrajectoryResult
    from optviz.spec.figures import SchedulerSpec, ScheduleSpec, TrajectorySpec

# What a writer reads (optviz.figures.outputs.Rendered); not imported, as outputs imports us.
Rendered = Any

# The default lr grid: 33 values over two decades centred on the run's own lr (the middle
# value is that lr exactly, so that the page opens on the still picture's paths).
GRID_POINTS = 33
GRID_DECADES = 2.0
# A surface sampled finer than this adds bytes, not information, at a browser's size.
SURFACE_RESOLUTION = 120
# A schedule page keeps at most this many LR values in all (combinations x steps), and at
# most this many sliders per scheduler.
MAX_SCHEDULE_VALUES = 120_000
MAX_SCHEDULE_SLIDERS = 3
MAX_PAGE_SLIDERS = 12  # a summary of many schedulers gets fewer sliders each


def write_html(rendered: Rendered, dpi: int | None = None) -> bytes:
    """The output writer for ``.html``: one self-contained page, plotly.js inlined."""
    return html_page(rendered).encode("utf-8")


def html_page(rendered: Rendered, plotly_src: str | None = None) -> str:
    """The page's text; ``plotly_src`` names a shared plotly.js file beside the page (the
    gallery) instead of inlining the library."""
    from optviz.render.html import page

    return page(explorer_data(rendered), plotly_src=plotly_src)


def explorer_data(rendered: Rendered) -> dict[str, Any]:
    """The plain data of a figure's page, by kind."""
    hooks = getattr(rendered, "hooks", None) or Hooks()
    kind = rendered.spec.kind
    makers = {"trajectory": trajectory_data, "schedule": schedule_data, "sweep": sweep_data,
              "basin": basin_data}
    if kind not in makers:
        raise UnsupportedError(f"the {kind} figure has no interactive page; write it as "
                               ".png, .svg or .pdf")
    data = makers[kind](rendered, hooks)
    data["config"] = rendered.config_text()
    return data


# -- numbers and tokens as the command line reads them ----------------------------------------


def format_value(value: Any) -> str:
    """A setting as typed inline or after a flag: ``0.1``, ``true``, ``[0.9,0.99]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    return str(value)


def _inline(name: str, settings: dict[str, Any]) -> str:
    items = ",".join(f"{k}={format_value(v)}" for k, v in settings.items())
    return f"{name}:{items}" if items else name


def _kebab(settings: dict[str, Any]) -> list[str]:
    """``--kebab VALUE`` settings, booleans as bare flags."""
    out: list[str] = []
    for key, value in settings.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            out.append(flag if value else "--no-" + key.replace("_", "-"))
        elif isinstance(value, (list, tuple)):
            out += [flag, ",".join(format_value(v) for v in value)]
        else:
            out += [flag, format_value(value)]
    return out


def scheduler_token(spec: SchedulerSpec, settings: dict[str, Any] | None = None,
                    nested: bool = False) -> str:
    """A scheduler as the command line writes it: ``step:step_size=3,gamma=0.7``, nested ones
    inside a list as ``linear(total_iters=4)``."""
    settings = dict(spec.settings if settings is None else settings)
    items = [f"{k}={format_value(v)}" for k, v in settings.items()]
    if spec.schedulers:
        inner = ",".join(scheduler_token(s, nested=True) for s in spec.schedulers)
        items.append(f"schedulers=[{inner}]")
    body = ",".join(items)
    if nested:
        return f"{spec.name}({body})" if body else spec.name
    return f"{spec.name}:{body}" if body else spec.name


def _join(tokens: list[str]) -> str:
    return " ".join(shlex.quote(t) for t in tokens)


# -- the lr grid -------------------------------------------------------------------------------


def lr_grid(centre: float, explore_lrs: str | None = None) -> tuple[list[float], int]:
    """The lrs a run is explored at and the index the page opens on: ``explore_lrs``
    (``LO:HI:N`` or a list) and the value nearest the run's own lr, or 33 values over two
    decades with the run's own lr in the middle, exactly."""
    if explore_lrs is not None:
        from optviz.spec.grids import parse_lr_grid

        grid = parse_lr_grid(explore_lrs)
        return grid, int(np.argmin([abs(math.log(g / centre)) for g in grid]))
    half = 10 ** (GRID_DECADES / 2)
    grid = [float(v) for v in np.geomspace(centre / half, centre * half, GRID_POINTS)]
    middle = GRID_POINTS // 2
    grid[middle] = centre
    return grid, middle


# -- trajectory --------------------------------------------------------------------------------


def _run_lr(run: Any) -> float:
    lr = run.hyperparameters.get("lr")
    if isinstance(lr, (int, float)) and not isinstance(lr, bool) and lr > 0:
        return float(lr)
    raise UnsupportedError(f"{run.label}: the explorer varies the lr, and this optimizer has "
                           "no single numeric lr")


def _fixed_lr_spec(spec: TrajectorySpec, lrs: list[float]) -> TrajectorySpec:
    """The spec with every optimizer's lr written out (``auto`` resolved to the lr it gave)."""
    optimizers = [o.model_copy(update={"lr": lr}) for o, lr in zip(spec.optimizers, lrs,
                                                                   strict=True)]
    return spec.model_copy(update={"optimizers": optimizers, "lr": None})


def _arrays(run: Any, plane: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """A run's drawn points (projected onto the figure's plane for a model on PCA) and loss."""
    from optviz.engines.model import project

    drawn = run.drawn()
    if plane is not None and drawn.weights is not None:
        weights = np.array(drawn.weights, dtype=float)
        if drawn.diverged:  # Run.drawn cuts the points, not the weights they come from
            weights[drawn.diverged:] = np.nan
        points = project(weights, *plane)
    else:
        points = np.array(drawn.points, dtype=float)
    return points, np.array(drawn.loss, dtype=float)


def _plan_of(spec: TrajectorySpec, i: int) -> Any:
    """Optimizer ``i``'s plan, as the figure planned it (with its Lookahead, if any)."""
    from optviz.figures.auto import plan_trajectory
    from optviz.registry import FUNCTIONS

    lookahead = (spec.lookahead.k, spec.lookahead.alpha) if spec.lookahead else None
    return plan_trajectory(spec.model_copy(update={"optimizers": [spec.optimizers[i]]}),
                           FUNCTIONS.resolve(spec.function), lookahead)[0]


def _batched_paths(spec: TrajectorySpec, i: int, grid: list[float], hooks: Hooks
                   ) -> tuple[np.ndarray, np.ndarray] | None:
    """Run optimizer ``i`` at every lr of ``grid`` in one batch: points (n, steps+1, dim) and
    loss (n, steps+1). None where a batch cannot stand for the figure's own runs (a
    scheduler, the linear model)."""
    if spec.model is not None or spec.scheduler is not None:
        return None
    from optviz.engines.batched import run_batch, with_lr
    from optviz.registry import FUNCTIONS

    function = FUNCTIONS.resolve(spec.function)
    plan = _plan_of(spec, i)
    start = list(function.start if spec.start is None else spec.start)
    batch = run_batch(function.load(), [with_lr(plan, lr) for lr in grid],
                      [start] * len(grid), spec.steps, function.domain, device=spec.device,
                      dtype=spec.dtype, record_paths=True, notify=hooks.note,
                      progress=hooks.task(f"explorer: {plan.label}, {len(grid)} lrs"))
    assert batch.points is not None and batch.loss is not None
    return np.transpose(batch.points, (1, 0, 2)), batch.loss.T


def _batched_model_paths(spec: TrajectorySpec, i: int, grid: list[float], plane: Any
                         ) -> tuple[np.ndarray, np.ndarray] | None:
    """The linear model trained at every lr of ``grid`` in one optimizer (``train_lrs``: each
    row the lone run's, bit for bit); None where it cannot be (a scheduler, Lookahead, a
    closure, sparse or second-order gradients)."""
    from optviz.engines.model import project, train_lrs, trains_over_lrs

    if spec.model is None or spec.scheduler is not None:
        return None
    plan = _plan_of(spec, i)
    if not trains_over_lrs(plan):
        return None
    size = spec.optimizers[i].batch_size
    weights, loss = train_lrs(
        plan, grid, in_features=spec.in_features, out_features=spec.out_features,
        bias=spec.bias, samples=spec.samples,
        batch_size=spec.batch_size if size is None else size, epochs=spec.epochs,
        noise=spec.noise, seed=spec.seed, device=spec.device, dtype=spec.dtype)
    if plane is None:
        return weights, loss
    return np.stack([project(w, *plane) for w in weights]), loss


def _lone_paths(spec: TrajectorySpec, i: int, grid: list[float], plane: Any
                ) -> tuple[np.ndarray, np.ndarray]:
    """Optimizer ``i`` at every lr of ``grid``, one run each, as the figure runs it, without
    recording what the page does not show (the optimizer's state and vectors, which only
    read the run and cost a fifth of it)."""
    from optviz.figures.trajectory import run_trajectory_spec

    points, losses = [], []
    for lr in grid:
        one = spec.model_copy(update={"optimizers": [spec.optimizers[i].model_copy(
            update={"lr": lr})], "show_state": False, "vectors": False})
        run = run_trajectory_spec(one).runs[0]
        p, loss = _arrays(run, plane)
        points.append(p)
        losses.append(loss)
    return np.stack(points), np.stack(losses)


def _plane(result: TrajectoryResult) -> Any:
    problem = result.problem
    if problem is None or problem.get("points_are") != "pca":
        return None
    return np.array(problem["origin"]), np.array(problem["directions"])


def trajectory_data(rendered: Rendered, hooks: Hooks) -> dict[str, Any]:
    """Every run at every lr of its grid, the surface under the figure's view, the tokens of
    the command that draws each view."""
    from optviz.render.trajectory import choose_view

    spec: TrajectorySpec = rendered.spec
    if spec.layout == "panels":
        raise UnsupportedError("the HTML explorer shows one overlay; a panels figure has no "
                               "explorer (write it as .png, or explore each panel alone)")
    result: TrajectoryResult = rendered.computed.result
    centres = [_run_lr(run) for run in result.runs]
    fixed = _fixed_lr_spec(spec, centres)
    plane = _plane(result)
    runs = []
    for i, run in enumerate(result.runs):
        grid, first = lr_grid(centres[i], spec.explore_lrs)
        found = _batched_paths(fixed, i, grid, hooks) if spec.model is None else \
            _batched_model_paths(fixed, i, grid, plane)
        if found is None:
            why = "the linear model" if spec.model else "a scheduler"
            hooks.note(f"optviz: note: the explorer runs {why} once per lr (no batch): "
                       f"{len(grid)} runs of {run.label}")
        points, loss = found if found is not None else _lone_paths(fixed, i, grid, plane)
        if grid[first] == centres[i]:
            # The figure's own run, exactly: the page opens on the still picture.
            points[first], loss[first] = _arrays(run, plane)
        diverged = []
        for row in loss:
            bad = np.flatnonzero(~np.isfinite(row))
            diverged.append(int(bad[0]) if bad.size else None)
        tokens = [_optimizer_token(fixed.optimizers[i], lr) for lr in grid]
        runs.append({"label": run.label, "labels": _labels(run.label, centres[i], grid),
                     "optimizer": run.optimizer, "lrs": grid,
                     "initial": first, "points": _drawn_points(points, loss), "loss": loss,
                     "diverged": diverged, "tokens": tokens})
    drawn = result.drawn()
    view = choose_view(drawn)
    grid_surface = _surface(result, view)
    axes = (result.problem or {}).get("axes") or ["x", "y"]
    minima = [list(m[:2]) for m in result.minima]
    start = list(_arrays(result.runs[0], plane)[0][0][:2]) if result.runs else []
    if result.dim == 1:  # the curve f(x), each path drawn on it at (x, f(x))
        axes = ["x", "f(x)"]
        minima = [[m[0], result.f_min] for m in result.minima] if result.f_min is not None \
            else []
        start = [runs[0]["points"][runs[0]["initial"], 0, 0],
                 runs[0]["loss"][runs[0]["initial"], 0]] if runs else []
    return {
        "kind": "trajectory",
        "title": spec.title or _trajectory_title(result),
        "formula": result.formula,
        "view": [list(v) for v in view],
        "axes": list(axes),
        "surface": grid_surface,
        "minima": minima,
        "start": start,
        "f_min": result.f_min,
        "loss_label": "loss (full data)" if spec.model else "f",
        "step_label": "step",
        "runs": runs,
        "shared": all(r["lrs"] == runs[0]["lrs"] for r in runs),
        "command": {"prefix": "optviz trajectory", "suffix": _join(_trajectory_flags(fixed))},
        "dtype": spec.dtype,
    }


def _drawn_points(points: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """The points as the page draws them: (x, y) in 2-D, (x, f(x)) on a 1-D curve."""
    if points.shape[-1] == 1:
        return np.stack([points[..., 0], loss], axis=-1)
    return points[..., :2]


def _trajectory_title(result: TrajectoryResult) -> str:
    where = result.formula if result.problem else result.function
    return f"{where}: the paths at every lr"


def _labels(label: str, centre: float, grid: list[float]) -> list[str]:
    """The run's legend label at each lr of its grid (``Adam (lr=0.01)`` at 0.01 says
    ``Adam (lr=0.0018)`` at 0.0018)."""
    from optviz.plan.labels import format_value as legend_value

    said = f"lr={legend_value(centre)}"
    if said not in label:
        return [label] * len(grid)
    return [label.replace(said, f"lr={lr:.2g}", 1) for lr in grid]


def _surface(result: TrajectoryResult, view: Any) -> dict[str, Any]:
    from optviz.engines.model import model_surface
    from optviz.engines.single import surface
    from optviz.registry import FUNCTIONS

    if result.problem is not None:
        grid = model_surface(result, view, resolution=SURFACE_RESOLUTION)
    else:
        grid = surface(FUNCTIONS.resolve(result.function), view, resolution=SURFACE_RESOLUTION)
    if grid.ys is None:  # 1-D: the curve itself
        return {"xs": np.asarray(grid.xs), "curve": np.asarray(grid.z).reshape(-1)}
    return {"xs": np.asarray(grid.xs), "ys": np.asarray(grid.ys), "z": np.asarray(grid.z),
            "log": bool(result.log_levels)}


def _optimizer_token(opt: Any, lr: float) -> str:
    settings = {**opt.settings, "lr": lr}
    if opt.batch_size is not None:
        settings["batch_size"] = opt.batch_size
    return shlex.quote(_inline(opt.name, settings))


# The trajectory command's flags for spec keys that are not the optimizers (display keys
# that only animations or the explorer read are left out: the command draws the still).
_TRAJECTORY_FLAGS = ("function", "start", "steps", "device", "dtype", "seed", "scheduler",
                     "interval", "show_state", "lookahead", "model", "in_features",
                     "out_features", "bias", "samples", "batch_size", "epochs", "noise",
                     "aspect", "zoom", "view")


def _trajectory_flags(spec: TrajectorySpec) -> list[str]:
    out: list[str] = []
    given = spec.model_dump(exclude_defaults=True)
    for key in _TRAJECTORY_FLAGS:
        if key not in given:
            continue
        value = getattr(spec, key)
        flag = "--" + key.replace("_", "-")
        if key == "scheduler":
            out += [flag, scheduler_token(value)]
        elif key == "lookahead":
            out += ["--lookahead", "--lookahead-k", str(value.k), "--lookahead-alpha",
                    format_value(value.alpha)]
        elif key == "start":
            out += [flag, ",".join(format_value(v) for v in value)]
        elif isinstance(value, bool):
            out.append(flag if value else "--no-" + key.replace("_", "-"))
        else:
            out += [flag, format_value(value)]
    return out + _kebab(spec.settings)


# -- schedule ----------------------------------------------------------------------------------


def setting_grid(key: str, value: Any, steps: int) -> list[Any] | None:
    """The values a slider offers for one numeric setting, the given one among them: whole
    numbers from a quarter to twice it (step sizes, T_max, warmup steps, within the run), a
    factor in (0, 1) (gamma, pct_start, a warmup fraction) over (0, 1), a scale (max_lr,
    div_factor, power) from a quarter to four times it. None: not a slider (booleans, text,
    lists, zero)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value == 0:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    if isinstance(value, int):
        values = {max(1, round(value * f)) for f in (0.25, 0.5, 0.75, 1, 1.5, 2)}
        values = {v for v in values if v <= max(steps, value)} | {value}
        return sorted(values)
    if 0.05 <= value < 1:
        return sorted({0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, value})
    return sorted({value * f for f in (0.25, 0.5, 2.0, 4.0)} | {value})


def _sliders(spec: ScheduleSpec, sched: SchedulerSpec, most: int = MAX_SCHEDULE_SLIDERS
             ) -> list[dict[str, Any]]:
    """A scheduler's sliders: its numeric settings, the ones given first, then the ones the
    run supplies (T_max, total_iters), then the preset's; as many as fit the size budget."""
    from optviz.plan.schedulers import RunShape, plan_scheduler

    if sched.schedulers or sched.name.lower() in ("sequential", "sequentiallr", "chained",
                                                  "chainedscheduler"):
        return []  # nested schedulers' settings are not sliders (their plans are shared)
    run = RunShape(lrs=tuple(spec.lr), epochs=spec.epochs, steps_per_epoch=spec.steps_per_epoch,
                   interval=spec.interval)
    plan = plan_scheduler(sched, run, spec.settings)
    steps = spec.epochs * spec.steps_per_epoch
    order = [k for k in plan.kwargs if k in sched.settings]
    order += [k for k in plan.kwargs if k in plan.derived and k not in order]
    order += [k for k in plan.kwargs if k not in order]
    sliders: list[dict[str, Any]] = []
    combos = 1
    for key in order:
        if len(sliders) == most:
            break
        values = setting_grid(key, plan.kwargs[key], run.scheduler_steps)
        if not values or len(values) < 2:
            continue
        if combos * len(values) * steps > MAX_SCHEDULE_VALUES:
            continue
        combos *= len(values)
        sliders.append({"key": key, "values": values,
                        "initial": values.index(plan.kwargs[key])})
    return sliders


def _schedule_flags(spec: ScheduleSpec) -> list[str]:
    out = ["--lr", ",".join(format_value(v) for v in spec.lr)]
    given = spec.model_dump(exclude_defaults=True)
    for key in ("epochs", "steps_per_epoch", "interval", "metric", "seed", "title"):
        if key in given:
            out += ["--" + key.replace("_", "-"), format_value(getattr(spec, key))]
    if "optimizer" in given:
        out += ["--optimizer", _inline(spec.optimizer.name, spec.optimizer.settings)]
    if spec.grid:
        out.append("--grid")
    if spec.log_y:
        out.append("--log-y")
    return out + _kebab(spec.settings)


def schedule_data(rendered: Rendered, hooks: Hooks) -> dict[str, Any]:
    """Each scheduler's LR at every combination of its sliders' values."""
    from optviz.figures.schedule import run_schedule_spec
    from optviz.render.schedule import overlay_styles

    spec: ScheduleSpec = rendered.spec
    if spec.layout == "panels":
        raise UnsupportedError("the HTML explorer shows one overlay of schedulers; a panels "
                               "figure has no explorer (write it as .png)")
    result = rendered.computed.result
    steps = spec.epochs * spec.steps_per_epoch
    styles = overlay_styles(result.runs)  # the PNG's colours: variants and repeats included
    scheds = []
    for s, (sched, run) in enumerate(zip(spec.schedulers, result.runs, strict=True)):
        sliders = _sliders(spec, sched, max(1, min(MAX_SCHEDULE_SLIDERS,
                                                   MAX_PAGE_SLIDERS // len(spec.schedulers))))
        combos = list(product(*[sl["values"] for sl in sliders]))
        tick = hooks.task(f"explorer: {run.label}, {len(combos)} settings")
        curves, errors, tokens = [], [], []
        for n, values in enumerate(combos):
            # A setting goes into the command when given, or when moved off the planned value.
            settings = {**sched.settings, **{
                sl["key"]: v for sl, v in zip(sliders, values, strict=True)
                if sl["key"] in sched.settings or v != sl["values"][sl["initial"]]}}
            one = sched.model_copy(update={"settings": settings})
            tokens.append(shlex.quote(scheduler_token(one)))
            if all(v == sl["values"][sl["initial"]] for sl, v in zip(sliders, values,
                                                                     strict=True)):
                lr, error = run.lr, run.error  # the figure's own curve, exactly
            else:
                try:
                    other = run_schedule_spec(spec.model_copy(update={"schedulers": [one]}))
                    lr, error = other.runs[0].lr, other.runs[0].error
                except OptvizError as exc:
                    lr, error = [], str(exc)
            row = np.full(steps, np.nan)
            if lr:
                row[:len(lr)] = [np.nan if v is None else v for v in lr[:steps]]
            curves.append(row)
            errors.append(error)
            tick(n + 1, len(combos))
        scheds.append({"label": run.label, "name": sched.name, "sliders": sliders,
                       "curves": np.stack(curves), "errors": errors, "tokens": tokens,
                       "index": s, "colour": styles[s].colour})
    return {
        "kind": "schedule",
        "title": spec.title or "LR schedules: " + ", ".join(r.label for r in result.runs),
        "steps": steps,
        "steps_per_epoch": spec.steps_per_epoch,
        "log_y": spec.log_y,
        "schedulers": scheds,
        "command": {"prefix": "optviz schedule", "suffix": _join(_schedule_flags(spec))},
    }


# -- sweep and basin ---------------------------------------------------------------------------


def sweep_data(rendered: Rendered, hooks: Hooks) -> dict[str, Any]:
    """The sweep's losses against lr, the best lr marked, beside the best lr's path."""
    from optviz.engines.single import surface
    from optviz.registry import FUNCTIONS
    from optviz.render.trajectory import choose_view

    result = rendered.computed.result
    best_run = result.best_run
    function = FUNCTIONS.resolve(result.function)
    view = choose_view(best_run) if best_run is not None else function.domain
    grid = surface(function, view, resolution=SURFACE_RESOLUTION)
    path = np.array(best_run.runs[0].drawn().points, dtype=float) if best_run else None
    return {
        "kind": "sweep",
        "title": rendered.spec.title or f"lr sweep: {result.label} on {result.function}",
        "label": result.label,
        "optimizer": result.optimizer,
        "lr": result.lr, "tail_loss": result.tail_loss, "final_loss": result.final_loss,
        "steps_to_tol": result.steps_to_tol, "diverged": result.diverged,
        "best": result.best, "f_min": result.f_min, "tail": result.tail, "tol": result.tol,
        "view": [list(v) for v in view],
        "surface": {"xs": np.asarray(grid.xs), "ys": np.asarray(grid.ys),
                    "z": np.asarray(grid.z), "log": bool(function.log_levels)},
        "minima": [list(m[:2]) for m in function.minima],
        "path": path,
    }


def basin_data(rendered: Rendered, hooks: Hooks) -> dict[str, Any]:
    """Every start's final loss (and steps to the tolerance, and divergence) as a map."""
    result = rendered.computed.result
    n = result.grid
    return {
        "kind": "basin",
        "title": rendered.spec.title or f"basins: {result.label} on {result.function}",
        "label": result.label,
        "xs": np.asarray(result.xs, dtype=float), "ys": np.asarray(result.ys, dtype=float),
        "final_loss": np.asarray(result.final_loss, dtype=float).reshape(n, n),
        "steps_to_tol": np.asarray(result.steps_to_tol).reshape(n, n).tolist(),
        "diverged": np.asarray(result.diverged).reshape(n, n).tolist(),
        "f_min": result.f_min, "log": bool(result.log_levels), "steps": result.steps,
        "tol": result.tol, "minima": [list(m[:2]) for m in result.minima],
        "domain": [list(d) for d in result.domain],
    }



def plotly_library() -> str:
    """plotly.js itself, for a folder of pages that share one copy (the gallery)."""
    from optviz.render.html import plotly_js

    return plotly_js()


def page_assets() -> dict[str, str]:
    """The pages' program and style, for a folder of pages sharing one copy, by file name."""
    from optviz.render.html import shared_assets

    return shared_assets()
