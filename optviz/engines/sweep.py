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

import logging
import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, FiniteFloat, field_validator, model_validator

from optviz.errors import BadValueError, UnsupportedError
from optviz.spec.figures import OptimizerSpec, TrajectorySpec, _Spec

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from optviz.figures.write import Written
    from optviz.plan.optimizers import OptimizerPlan
    from optviz.registry.functions import FunctionRecord
    from optviz.results import TrajectoryResult

# Ten values a decade over six decades: wide enough for SGD on a steep function (1e-5) and for
# Adadelta's or Rprop's unit-scale steps (10).
AUTO_GRID = "1e-5:10:61"
DEFAULT_TOL = 1e-6
MAX_LRS = 10_000

OBJECTIVE = ("lowest tail loss: the worst f − f* over the last 10% of the steps (at least 2), "
             "every run whose tail stays within the tolerance tied; ties to the fewest steps to "
             "the tolerance, then the lower tail loss, then the earlier lr of the grid")
TAIL_FRACTION = 0.1

Progress = Callable[[int, int], None]

# What a command hands in to watch ``lr auto``'s sweeps (see ``auto_progress``).
_AUTO_PROGRESS: ContextVar[Callable[[str], Progress] | None] = ContextVar(
    "optviz_auto_progress", default=None)


@contextmanager
def auto_progress(start: Callable[[str], Progress]) -> Iterator[None]:
    """Report every ``lr auto`` sweep run inside the block: ``start(description)`` is called
    as each sweep begins and returns that sweep's ``progress(done, total)`` hook. A context,
    not an argument, so the figure keeps the one code path every command and config uses."""
    token = _AUTO_PROGRESS.set(start)
    try:
        yield
    finally:
        _AUTO_PROGRESS.reset(token)


def tail_steps(steps: int) -> int:
    """How many of a run's last losses the objective judges: 10% of the steps, at least 2
    (so one low step cannot win alone), never the start's (every lr shares it, so a one-step
    run is judged by its final loss alone)."""
    return min(steps, max(2, math.ceil(TAIL_FRACTION * steps)))


def parse_lr_grid(value: str | Sequence[float] | float) -> list[float]:
    """``"1e-4:1:64"`` (64 log-spaced values from 1e-4 to 1), ``"0.01,0.1"`` or a list."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        values = [float(value)]
    elif isinstance(value, str):
        text = value.strip()
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError(f"expected LO:HI:N, e.g. 1e-4:1:64, got {value!r}")
            try:
                lo, hi = float(parts[0]), float(parts[1])
                count = int(parts[2])
            except ValueError:
                raise ValueError(f"expected LO:HI:N with N a whole number, got {value!r}") \
                    from None
            if not (0 < lo < hi and math.isfinite(hi)):
                raise ValueError(f"LO:HI:N needs 0 < LO < HI, got {value!r}")
            if not 2 <= count <= MAX_LRS:
                raise ValueError(f"N must be between 2 and {MAX_LRS}, got {count}")
            import numpy as np

            return [float(v) for v in np.geomspace(lo, hi, count)]
        try:
            values = [float(p) for p in re.split(r"[,\s]+", text) if p]
        except ValueError:
            raise ValueError(f"expected LO:HI:N or numbers separated by commas, got {value!r}") \
                from None
    else:
        try:
            values = [float(v) for v in value]
        except (TypeError, ValueError):
            raise ValueError(f"expected a list of numbers, got {value!r}") from None
    if not values:
        raise ValueError("needs at least one learning rate")
    if len(values) > MAX_LRS:
        raise ValueError(f"at most {MAX_LRS} learning rates, got {len(values)}")
    for v in values:
        if not (v > 0 and math.isfinite(v)):
            raise ValueError(f"learning rates must be > 0, got {v:g}")
    return values


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


@dataclass
class SweepResult:
    """One optimizer's loss at every lr of a grid, and the best lr's path.

    ``final_loss[i]`` is f after the last step at ``lr[i]`` (None: diverged at
    ``diverged[i]``); ``tail_loss[i]`` the worst f of the last ``tail`` steps, which the
    best is picked by; ``steps_to_tol[i]`` the first step within ``tol`` of f* (None: never).
    """

    function: str
    formula: str
    optimizer: str
    label: str
    hyperparameters: dict[str, Any]
    start: list[float]
    steps: int
    device: str
    dtype: str
    f_min: float | None
    tol: float
    lr: list[float]
    final_loss: list[float | None]
    steps_to_tol: list[int | None]
    diverged: list[int | None]
    best: int | None
    batched: bool
    tail: int
    tail_loss: list[float | None]
    best_run: TrajectoryResult | None = field(default=None, repr=False)

    @property
    def best_lr(self) -> float | None:
        return None if self.best is None else self.lr[self.best]

    def to_dict(self) -> dict[str, Any]:
        best = None
        if self.best is not None:
            best = {"lr": self.lr[self.best], "index": self.best,
                    "tail_loss": self.tail_loss[self.best],
                    "final_loss": self.final_loss[self.best],
                    "steps_to_tol": self.steps_to_tol[self.best]}
        out: dict[str, Any] = {
            "kind": "sweep", "function": self.function, "optimizer": self.optimizer,
            "label": self.label, "hyperparameters": self.hyperparameters, "start": self.start,
            "steps": self.steps, "device": self.device, "dtype": self.dtype,
            "f_min": self.f_min, "tol": self.tol, "objective": OBJECTIVE, "tail": self.tail,
            "lr": self.lr, "tail_loss": self.tail_loss, "final_loss": self.final_loss,
            "steps_to_tol": self.steps_to_tol,
            "diverged": self.diverged, "best": best,
        }
        if self.best_run is not None and self.best_run.runs:
            out["best_path"] = self.best_run.runs[0].points
        return out

    def to_csv(self) -> str:
        rows = ["lr,tail_loss,final_loss,steps_to_tol,diverged,best"]
        for i, lr in enumerate(self.lr):
            cells = [repr(lr), _cell(self.tail_loss[i]), _cell(self.final_loss[i]),
                     _cell(self.steps_to_tol[i]),
                     _cell(self.diverged[i]), "1" if i == self.best else ""]
            rows.append(",".join(cells))
        return "\n".join(rows) + "\n"


def _cell(value: Any) -> str:
    return "" if value is None else repr(value)


def _none_if_nan(values: Any) -> list[float | None]:
    return [v if math.isfinite(v) else None for v in (float(x) for x in values)]


def sweep_label(plan: OptimizerPlan) -> str:
    """The optimizer as the sweep's legend names it: every setting but the swept lr."""
    from optviz.plan.labels import format_value

    name = plan.record.label
    if plan.lookahead is not None:
        name = f"Lookahead({name}, k={plan.lookahead[0]}, α={plan.lookahead[1]:g})"
    inner = ", ".join(f"{k}={format_value(v)}" for k, v in plan.kwargs.items() if k != "lr")
    return f"{name} ({inner})" if inner else name


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
    from optviz.engines.batched import run_batch, with_lr
    from optviz.engines.single import json_safe, run_trajectory

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
        say = notify or logging.getLogger("optviz").warning
        say(f"optviz: note: the best lr for {label}, {lrs[best]:.3g}, is the {end} of the grid "
            f"({min(lrs):g} to {max(lrs):g}); a better one may lie beyond it")
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
    ``progress`` defaults to a hook from the ``auto_progress`` block around the call, if any.
    """
    grid = parse_lr_grid(AUTO_GRID) if lrs is None else list(lrs)
    if progress is None and (start_task := _AUTO_PROGRESS.get()) is not None:
        progress = start_task(f"lr auto: {sweep_label(plan)}")
    result = run_sweep(function, plan, grid, start=start, steps=steps, device=device,
                       dtype=dtype, tol=tol, with_path=False, progress=progress, notify=notify)
    if result.best_lr is None:
        raise UnsupportedError(
            f"--lr auto: {plan.record.label} diverged on {function.name} at every lr from "
            f"{grid[0]:g} to {grid[-1]:g}; give an lr instead"
        )
    return result.best_lr


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
    notify: Callable[[str], None] | None = None,
) -> OptimizerPlan:
    """``plan_optimizer`` that also understands ``lr: auto`` (on the optimizer, or for every
    optimizer without its own lr): the lr is picked by ``auto_lr`` for exactly this function,
    start and number of steps, and the legend says so: ``Adam (lr=0.032 (auto))``."""
    from optviz.plan.labels import format_value
    from optviz.plan.optimizers import plan_optimizer

    if not wants_auto(spec, lr):
        return plan_optimizer(spec, lr=lr, common=common, lookahead=lookahead)
    base = plan_optimizer(spec.model_copy(update={"lr": None}), common=common,
                          lookahead=lookahead)
    best = auto_lr(function, base, start=start, steps=steps, device=device, dtype=dtype,
                   notify=notify)
    plan = plan_optimizer(spec.model_copy(update={"lr": best}), common=common,
                          lookahead=lookahead)
    if spec.label is None:
        plan = replace(plan, label=plan.label.replace(f"lr={format_value(best)}",
                                                      f"lr={best:.2g} (auto)", 1))
    return plan


def plan_trajectory(spec: TrajectorySpec, function: FunctionRecord,
                    lookahead: tuple[int, float] | None = None) -> list[OptimizerPlan]:
    """The plans of a trajectory figure, each ``auto`` lr picked by a batched sweep."""
    if any(wants_auto(o, spec.lr) for o in spec.optimizers):
        if spec.model is not None:
            raise UnsupportedError("lr auto picks an lr on a test function; the linear model "
                                   "needs a number")
        if spec.scheduler is not None:
            raise UnsupportedError("lr auto sweeps without a scheduler, so it cannot pick an "
                                   "lr for a scheduled run; give a number")
    from optviz.plan.optimizers import distinct_labels

    # Distinct legend labels here, so that the model's runs get them as the function's do.
    return distinct_labels([plan_with_auto(o, spec.lr, spec.settings, function, spec.start,
                                           spec.steps, spec.device, spec.dtype, lookahead)
                            for o in spec.optimizers])


# ---------------------------------------------------------------- spec, picture, files


class SweepSpec(_Spec):
    """An lr sweep figure: the loss the best is picked by against lr, beside the best lr's
    path."""

    kind: Literal["sweep"] = "sweep"
    title: str | None = None
    optimizer: OptimizerSpec
    settings: dict[str, Any] = Field(default_factory=dict)  # --kebab settings
    function: str = "quadratic"
    start: list[FiniteFloat] | None = None
    steps: int = Field(100, ge=1, le=1_000_000)
    lr: str | list[float] = AUTO_GRID
    tol: float | None = Field(None, gt=0)
    device: str = "cpu"
    dtype: Literal["float32", "float64"] = "float32"
    output: str | None = None
    export: str | None = None

    @field_validator("lr", mode="before")
    @classmethod
    def _grid(cls, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = [value]
        parse_lr_grid(value)
        return value

    @model_validator(mode="after")
    def _own_lr(self) -> SweepSpec:
        if self.optimizer.lr is not None:
            raise ValueError("the sweep sets the learning rate: drop lr= from the optimizer "
                             "and give the grid with --lr LO:HI:N")
        return self

    def lrs(self) -> list[float]:
        return parse_lr_grid(self.lr)


def spec_from_tokens(model: type[_Spec], command: str, tokens: list[str], flags: set[str],
                     lookahead: dict[str, Any] | None = None, **fields: Any) -> Any:
    """One optimizer name (with inline settings) and ``--kebab`` settings from the command
    line, with the other fields, into a validated sweep or basin spec. ``lookahead``
    (``--lookahead``) wraps the optimizer, as ``lookahead:`` on the config's optimizer does."""
    from optviz.spec.figures import build
    from optviz.spec.syntax import parse_cli_tokens, parse_inline

    names, common = parse_cli_tokens(tokens, flags)
    if len(names) != 1:
        got = f"; got {len(names)}: {' '.join(names)}" if names else ""
        raise BadValueError(f"name one optimizer, e.g. 'optviz {command} adam'{got}")
    if model is SweepSpec and OptimizerSpec.model_validate(names[0]).lr is not None:
        raise BadValueError(f"{names[0]}: the sweep sets the learning rate; drop lr= and give "
                            "the grid with --lr LO:HI:N")
    optimizer: Any = names[0]
    if lookahead is not None:
        name, settings = parse_inline(names[0])
        optimizer = {"name": name, "settings": settings, "lookahead": lookahead}
    return build(model, {"optimizer": optimizer, "settings": common, **fields}, cli=True)


def default_path(kind: str, function: str, optimizer: str) -> Path:
    """``sweep_rosenbrock_adam.png``: the command, the function and the optimizer."""
    stem = f"{kind}_{function}_{optimizer}"
    return Path(re.sub(r"[^A-Za-z0-9_.+-]+", "-", stem)[:120] + ".png")


def compute_sweep(spec: SweepSpec, progress: Progress | None = None,
                  notify: Callable[[str], None] | None = None) -> SweepResult:
    """Spec -> registries -> batched engine -> result."""
    from optviz.plan.optimizers import plan_optimizer
    from optviz.registry import FUNCTIONS

    function = FUNCTIONS.resolve(spec.function)
    plan = plan_optimizer(spec.optimizer, common=spec.settings)
    return run_sweep(function, plan, spec.lrs(), start=spec.start, steps=spec.steps,
                     device=spec.device, dtype=spec.dtype, tol=spec.tol, progress=progress,
                     notify=notify)


def draw_sweep_result(result: SweepResult, title: str | None = None) -> Figure:
    """Result -> figure, with the surface sampled over the best path's view."""
    from optviz.engines.single import surface
    from optviz.registry import FUNCTIONS
    from optviz.render.sweep import sweep_figure
    from optviz.render.trajectory import choose_view

    assert result.best_run is not None, "draw a sweep computed with its best path"
    view = choose_view(result.best_run)
    grid = surface(FUNCTIONS.resolve(result.function), view)
    return sweep_figure(result, grid, view, title)


def write_sweep(spec: SweepSpec, progress: Progress | None = None,
                notify: Callable[[str], None] | None = None) -> Written:
    """Run, draw and write a sweep: the PNG, and the export (.json or .csv) if asked for."""
    from optviz.export.files import check_outputs
    from optviz.render.style import png_bytes

    image = Path(spec.output) if spec.output else default_path(
        "sweep", spec.function, spec.optimizer.name)
    export = Path(spec.export) if spec.export else None
    check_outputs(image, export)
    result = compute_sweep(spec, progress=progress, notify=notify)
    return _write(image, export, png_bytes(draw_sweep_result(result, spec.title)), result)


def _write(image: Path, export: Path | None, png: bytes, result: Any) -> Written:
    """Shared by sweep and basin: both files whole or not at all, checked before any work."""
    from optviz.export.data import dumps
    from optviz.export.files import atomic_write
    from optviz.figures.write import Written

    atomic_write(image, png)
    if export is not None:
        text = dumps(result.to_dict()) + "\n" if export.suffix.lower() == ".json" \
            else result.to_csv()
        atomic_write(export, text)
    return Written(result=result, image=image, export=export)
