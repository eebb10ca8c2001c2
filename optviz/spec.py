"""Specs: the validated, plain-data description of one figure, built from CLI flags or YAML.

Everything a run needs is checked here, before any torch work starts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from optviz.errors import BadValueError
from optviz.settings import parse_inline


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OptimizerSpec(_Spec):
    """One optimizer of a figure: a name and the factory's keyword settings.

    Accepts ``"adam:lr=0.1"``, ``{name: adam, settings: {lr: 0.1}}`` and LightningCLI's
    ``{class_path: torch.optim.Adam, init_args: {lr: 0.1}}``.
    """

    name: str = Field(min_length=1)
    settings: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _forms(cls, data: Any) -> Any:
        if isinstance(data, str):
            name, settings = parse_inline(data)
            return {"name": name, "settings": settings}
        if isinstance(data, dict) and "class_path" in data:
            rest = {k: v for k, v in data.items() if k not in ("class_path", "init_args")}
            return {"name": data["class_path"], "settings": data.get("init_args") or {}, **rest}
        return data


class TrajectorySpec(_Spec):
    """A trajectory figure: optimizers run from one start on one function."""

    kind: Literal["trajectory"] = "trajectory"
    optimizers: list[OptimizerSpec] = Field(min_length=1)
    settings: dict[str, Any] = Field(default_factory=dict)  # --kebab settings, for every optimizer
    function: str = "quadratic"
    start: list[float] | None = None
    steps: int = Field(100, ge=1, le=1_000_000)
    lr: float | None = Field(None, gt=0)
    device: str = "cpu"
    dtype: Literal["float32", "float64"] = "float32"
    seed: int = 0
    output: str | None = None
    export: str | None = None


_PLAIN = {"greater_than": "must be > {gt}", "greater_than_equal": "must be >= {ge}",
          "less_than": "must be < {lt}", "less_than_equal": "must be <= {le}",
          "too_short": "needs at least {min_length} item(s)"}


def _where(loc: tuple[Any, ...], cli: bool) -> str:
    if cli and loc and isinstance(loc[0], str):
        return "--" + str(loc[0]).replace("_", "-")
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc]
    return "".join(parts).lstrip(".") or "config"


def build(model: type[_Spec], data: dict[str, Any], source: str = "", cli: bool = False) -> Any:
    """Validate ``data`` into ``model``; a failure becomes one BadValueError line that names
    the key (``optimizers[1].lr``) or, from the command line, the option (``--lr``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        template = _PLAIN.get(err["type"])
        msg = template.format(**err.get("ctx", {})) if template else err["msg"]
        msg = msg.removeprefix("Value error, ")
        prefix = f"{source} " if source else ""
        raise BadValueError(f"{prefix}{_where(err['loc'], cli)}: {msg}") from None
