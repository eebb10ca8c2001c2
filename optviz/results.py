"""Results: plain data (lists, numbers, None) that renderers and exporters read.

Non-finite numbers are stored as None, so a result is JSON as it stands.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any


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
    problem: dict[str, Any] | None = None  # the linear model: sizes, axes, PCA plane

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
                        "epoch_loss"):
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
    None; ``lr_groups`` holds every parameter group's series when the groups differ.
    """

    label: str
    scheduler: str
    class_path: str
    parameters: dict[str, Any]
    lr: list[float | None]
    momentum: list[float | None] | None = None
    momentum_name: str | None = None
    lr_groups: list[list[float | None]] | None = None
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
