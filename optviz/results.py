"""Results: plain data (lists, numbers, None) that renderers and exporters read.

Non-finite numbers are stored as None, so a result is JSON as it stands.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


@dataclass
class Run:
    """One optimizer's path: ``points`` and ``loss`` have steps + 1 entries, the start first."""

    label: str
    optimizer: str
    class_path: str
    hyperparameters: dict[str, Any]
    points: list[list[float | None]]
    loss: list[float | None]
    diverged: int | None = None
    slow_points: list[list[float | None]] | None = None  # Lookahead's slow weights
    lr: list[float | None] | None = None  # with a scheduler: the LR step i used
    state: dict[str, list[float | None]] | None = None  # --show-state: norms after each step
    notes: list[str] = field(default_factory=list)
    weights: list[list[float | None]] | None = None  # model runs drawn on a PCA plane
    batch_loss: list[float | None] | None = None  # model runs: the mini-batch loss of each step
    epoch_loss: list[float | None] | None = None  # model runs: mean batch loss per epoch
    # --vectors: per step i (from point i to i + 1) the gradient, the update taken and, where
    # the optimizer keeps them, its momentum, second moment and scaling 1/(√v + eps), as read
    # from its state_dict(); vector_keys names the state_dict entries they were read from.
    vectors: dict[str, list[list[float | None] | None]] | None = None
    vector_keys: dict[str, str] | None = None

    @property
    def steps(self) -> int:
        return len(self.points) - 1

    def drawn(self) -> Run:
        """The run as pictures show it: a diverged run up to its last point in the view (the
        points after it, finite but far off, stay in the export, not in the view); the LR up
        to the step that left, the state up to the step before."""
        if not self.diverged:
            return self
        k = self.diverged
        gone = [None] * len(self.points[0]) if self.points else []

        def cut(series: list[Any] | None, keep: int, blank: Any = None) -> list[Any] | None:
            return None if series is None else [*series[:keep], *[blank] * (len(series) - keep)]

        return replace(
            self, points=cut(self.points, k, gone), loss=cut(self.loss, k),
            slow_points=cut(self.slow_points, k, gone), lr=cut(self.lr, k),
            state=None if self.state is None else
            {key: cut(v, k - 1) for key, v in self.state.items()})


@dataclass
class TrajectoryResult:
    """Every run of one trajectory figure, with the function's facts needed to draw it."""

    function: str
    formula: str
    domain: list[list[float]]
    minima: list[list[float]]
    f_min: float | None
    log_levels: bool
    start: list[float]
    steps: int
    device: str
    dtype: str
    seed: int
    runs: list[Run] = field(default_factory=list)
    # the linear model: sizes, axes, PCA plane, and its data (x, y) exactly as trained on
    problem: dict[str, Any] | None = None

    @property
    def dim(self) -> int:
        return len(self.domain)

    def drawn(self) -> TrajectoryResult:
        """The result as pictures show it (``Run.drawn``): diverged runs cut where they left."""
        return replace(self, runs=[run.drawn() for run in self.runs])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "trajectory"}
        out.update(asdict(self))
        if out["problem"] is None:
            del out["problem"]
        for run in out["runs"]:
            for key in ("diverged", "slow_points", "lr", "state", "weights", "batch_loss",
                        "epoch_loss", "vectors", "vector_keys"):
                if run[key] is None:
                    del run[key]
            if not run["notes"]:
                del run["notes"]
        return out


@dataclass
class PanelsResult:
    """The results of a panels figure, one per panel, with the panels' titles."""

    titles: list[str | None]
    results: list[Any]  # TrajectoryResult or ScheduleResult, all of one kind
    kind: str = "trajectory"

    def to_dict(self) -> dict[str, Any]:
        panels = []
        for title, result in zip(self.titles, self.results, strict=True):
            panels.append({"title": title, **result.to_dict()})
        return {"kind": self.kind, "layout": "panels", "panels": panels}


@dataclass
class Surface:
    """A function sampled on a plotting grid: ``z[i][j]`` is f(xs[j], ys[i]); 1-D has no ys."""

    xs: Any
    ys: Any
    z: Any


@dataclass
class PlateauTrace:
    """What ReduceLROnPlateau saw and did, one entry per scheduler step.

    ``at[k]`` is the optimizer step after which the k-th metric was given; ``reductions`` are
    the optimizer steps that first used a reduced LR.
    """

    at: list[int]
    metric: list[float | None]
    best: list[float | None]
    bad_steps: list[int]
    cooldown: list[int]
    reductions: list[int]
    patience: int
    cooldown_steps: int
    source: str


@dataclass
class ScheduleRun:
    """One scheduler's LR series: ``lr[i]`` is the LR that optimizer step i used (group 0).

    ``momentum`` is the momentum (or Adam's beta1) per step when the scheduler cycles it, else
    None; ``lr_groups`` and ``momentum_groups`` hold every parameter group's series when the
    groups differ (per-group base_lr, max_momentum...).
    """

    label: str
    scheduler: str
    class_path: str
    parameters: dict[str, Any]
    lr: list[float | None]
    momentum: list[float | None] | None = None
    momentum_name: str | None = None
    lr_groups: list[list[float | None]] | None = None
    momentum_groups: list[list[float | None]] | None = None
    plateau: PlateauTrace | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def steps(self) -> int:
        return len(self.lr)

    @property
    def diverged(self) -> int | None:
        # The shared "wrote ..." report asks every run this; an LR schedule has no path to lose.
        return None


@dataclass
class ScheduleResult:
    """Every run of one schedule figure, with the run's shape needed to draw it."""

    lr: list[float]
    epochs: int
    steps_per_epoch: int
    interval: str
    optimizer: str
    optimizer_name: str
    seed: int
    metric: str | None = None
    runs: list[ScheduleRun] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "schedule"}
        data = asdict(self)
        runs = data.pop("runs")
        out.update(data)
        out["steps"] = self.steps
        out["runs"] = []
        for run in runs:
            keep = {k: v for k, v in run.items()
                    if v is not None or k == "momentum"}
            if not keep.get("warnings"):
                keep.pop("warnings", None)
            out["runs"].append(keep)
        return out


# ------------------------------------------------------------------ sweeps and basin maps

OBJECTIVE = ("lowest tail loss: the worst f − f* over the last 10% of the steps (at least 2), "
             "every run whose tail stays within the tolerance tied; ties to the fewest steps to "
             "the tolerance, then the lower tail loss, then the earlier lr of the grid")


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


@dataclass
class BasinResult:
    """Per start of the grid: final loss (NaN: diverged), steps to the tolerance (-1: never)
    and the step of divergence (0: none), each a flat row-major array of grid * grid.
    With ``metric`` "minimum", ``reached`` holds the index (into ``minima``) of the known
    minimum each start ended at, -1 for none (or diverged), and ``reach_radius`` the distance
    from a minimum that counts as having reached it."""

    function: str
    formula: str
    optimizer: str
    label: str
    hyperparameters: dict[str, Any]
    domain: list[list[float]]
    minima: list[list[float]]
    f_min: float | None
    log_levels: bool
    grid: int
    steps: int
    metric: str
    tol: float
    device: str
    dtype: str
    batched: bool
    xs: np.ndarray
    ys: np.ndarray
    starts: np.ndarray
    final_loss: np.ndarray
    steps_to_tol: np.ndarray
    diverged: np.ndarray
    reached: np.ndarray | None = None
    reach_radius: float | None = None

    def to_dict(self) -> dict[str, Any]:
        def opt(values: np.ndarray, missing: Callable[[Any], bool]) -> list[Any]:
            return [None if missing(v) else v for v in values.tolist()]

        extra: dict[str, Any] = {}
        if self.reached is not None:
            extra = {"minima": self.minima, "reach_radius": self.reach_radius,
                     "reached": opt(self.reached, lambda v: v < 0)}
        return {**extra,
            "kind": "basin", "function": self.function, "optimizer": self.optimizer,
            "label": self.label, "hyperparameters": self.hyperparameters, "steps": self.steps,
            "metric": self.metric, "tol": self.tol, "f_min": self.f_min, "device": self.device,
            "dtype": self.dtype, "grid": self.grid, "order": "row-major: i * grid + j is "
            "(x[j], y[i])", "starts": self.starts.tolist(),
            "final_loss": opt(self.final_loss, lambda v: not math.isfinite(v)),
            "steps_to_tol": opt(self.steps_to_tol, lambda v: v < 0),
            "diverged": opt(self.diverged, lambda v: v == 0),
        }

    def to_csv(self) -> str:
        reached = self.reached.tolist() if self.reached is not None else None
        rows = ["x,y,final_loss,steps_to_tol,diverged" + (",reached" if reached else "")]
        for i, ((x, y), loss, arrived, div) in enumerate(zip(
                self.starts.tolist(), self.final_loss.tolist(), self.steps_to_tol.tolist(),
                self.diverged.tolist(), strict=True)):
            cells = [repr(x), repr(y), repr(loss) if math.isfinite(loss) else "",
                     str(arrived) if arrived >= 0 else "", str(div) if div else ""]
            if reached is not None:
                cells.append(str(reached[i]) if reached[i] >= 0 else "")
            rows.append(",".join(cells))
        return "\n".join(rows) + "\n"


@dataclass
class RankCell:
    """One optimizer on one function at its tuned lr, per start: the worst f of the last
    ``tail`` steps, the final f (None: diverged), the first step within the tolerance of f*
    (None: never) and the step of divergence (None: never). ``score`` is the tail loss the lr
    was tuned on (the mean over the starts, as f − f*; None when every lr diverged from some
    start), ``arrived`` the slowest start's steps to the tolerance, ``rank`` 1 for the best
    optimizer on this function."""

    lr: float | None
    tail_loss: list[float | None]
    final_loss: list[float | None]
    steps_to_tol: list[int | None]
    diverged: list[int | None]
    score: float | None
    arrived: int | None
    rank: int
    lrs_tried: int


@dataclass
class RankResult:
    """Optimizers x functions, each at its tuned lr: ``cells[i][j]`` for optimizer i on
    function j; ``starts[j]`` function j's starts; ``mean_rank[i]`` optimizer i's mean rank
    over the functions (1 = best everywhere)."""

    optimizers: list[str]
    hyperparameters: list[dict[str, Any]]
    functions: list[str]
    f_min: list[float]
    tol: list[float]
    starts: list[list[list[float]]]
    steps: int
    tail: int
    seed: int
    device: str
    dtype: str
    colour: str
    cells: list[list[RankCell]]
    mean_rank: list[float]
    batched: list[bool]
    lr_scaled: list[bool]

    def order(self) -> list[int]:
        """Optimizer indices by mean rank, best first (ties: the order given)."""
        return sorted(range(len(self.optimizers)), key=lambda i: (self.mean_rank[i], i))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "rank", "objective": OBJECTIVE, "steps": self.steps, "tail": self.tail,
            "seed": self.seed, "device": self.device, "dtype": self.dtype,
            "functions": [{"name": f, "f_min": m, "tol": t, "starts": s} for f, m, t, s in
                          zip(self.functions, self.f_min, self.tol, self.starts, strict=True)],
            "optimizers": [
                {"label": label, "hyperparameters": hp, "mean_rank": rank, "batched": b,
                 "lr_scaled": scaled,
                 "cells": {f: asdict(c) for f, c in zip(self.functions, row, strict=True)}}
                for label, hp, rank, b, scaled, row in zip(
                    self.optimizers, self.hyperparameters, self.mean_rank, self.batched,
                    self.lr_scaled, self.cells, strict=True)],
        }

    def to_csv(self) -> str:
        rows = ["optimizer,function,start,x,y,lr,tail_loss,final_loss,steps_to_tol,diverged,"
                "rank,mean_rank"]
        for i, label in enumerate(self.optimizers):
            for j, function in enumerate(self.functions):
                cell = self.cells[i][j]
                for s, point in enumerate(self.starts[j]):
                    xy = [*point, None][:2]
                    values = [_cell(xy[0]), _cell(xy[1]), _cell(cell.lr),
                              _cell(cell.tail_loss[s]), _cell(cell.final_loss[s]),
                              _cell(cell.steps_to_tol[s]), _cell(cell.diverged[s]),
                              str(cell.rank), repr(self.mean_rank[i])]
                    name = '"' + label.replace('"', '""') + '"' if "," in label else label
                    rows.append(",".join([name, function, str(s), *values]))
        return "\n".join(rows) + "\n"

    def to_markdown(self) -> str:
        """The table for a README: optimizers by mean rank, each cell the tuned lr and the
        mean tail f − f* over the starts (— where every lr diverged)."""
        head = ["optimizer", "mean rank", *self.functions]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for i in self.order():
            cells = []
            for cell in self.cells[i]:
                if cell.lr is None or cell.score is None:
                    cells.append("—")
                else:
                    cells.append(f"{cell.score:.1e} @ {cell.lr:.3g} (#{cell.rank})")
            lines.append(f"| {self.optimizers[i]} | {self.mean_rank[i]:.2f} | "
                         + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"
