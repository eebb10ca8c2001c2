"""The rank figure's spec: optimizers x test functions, each optimizer at the lr tuned for each
function (the sweep's objective over several seeded starts), as a heatmap and a table."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from optviz.spec.figures import MAX_RUNS, MAX_SEED, OptimizerSpec, Title, _Spec

COLOURS = ("loss", "steps")


class RankSpec(_Spec):
    """``optviz rank``: empty ``optimizers`` means every torch.optim optimizer that batches,
    empty ``functions`` every test function with a known minimum."""

    kind: Literal["rank"] = "rank"
    title: Title = None
    optimizers: list[OptimizerSpec] = Field(default_factory=list, max_length=MAX_RUNS)
    settings: dict[str, Any] = Field(default_factory=dict)  # --kebab settings for every one
    functions: list[str] = Field(default_factory=list, max_length=100)
    starts: int = Field(5, ge=1, le=1000)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    steps: int = Field(500, ge=1, le=1_000_000)
    colour: Literal["loss", "steps"] = "loss"
    tol: float | None = Field(None, gt=0)
    device: str = "cpu"
    # Worker processes on a CPU (default: one per core when there are at least 8 pairs); the
    # numbers do not depend on it.
    jobs: int | None = Field(None, ge=1, le=256)
    # float64: the lr-as-a-factor batching (engines.rank) scales each step's update after
    # the fact, which float32 would round where the update is small against the point.
    dtype: Literal["float32", "float64"] = "float64"
    output: str | None = None
    export: str | None = None

    @field_validator("functions", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("optimizers")
    @classmethod
    def _no_own_lr(cls, value: list[OptimizerSpec]) -> list[OptimizerSpec]:
        for spec in value:
            if spec.lr is not None:
                raise ValueError(f"{spec.name}: rank tunes every optimizer's lr; drop lr=")
        return value
