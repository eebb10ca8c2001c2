"""Specs: the validated, plain-data description of one figure, built from CLI flags or YAML.

Everything a run needs is checked here, before any torch work starts.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from optviz.errors import BadValueError
from optviz.spec.syntax import parse_inline

# Size limits: what a figure can show, far below what would exhaust time or memory.
MAX_TEXT = 4096  # characters in any text value (a path, a name)
MAX_TITLE = 500  # characters in a title or a legend label
MAX_RUNS = 100  # optimizers (or schedulers) in one figure
MAX_SEED = 2**63 - 1  # torch.manual_seed takes a 64-bit integer
MAX_MODEL_VALUES = 50_000_000  # the linear model's samples x (in + out features), ~200 MB
Title = Annotated[str | None, Field(max_length=MAX_TITLE)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=MAX_TEXT)


def _lr(value: Any) -> float | str | None:
    """A learning rate: a finite number > 0, or ``auto`` (picked by an lr sweep:
    optviz.sweep)."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None if value is None else "auto"
    try:
        if isinstance(value, bool):
            raise TypeError
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number > 0 or 'auto', got {value!r}") from None
    return check_lr(number)


def check_lr(number: float) -> float:
    """A learning rate must be a finite number > 0: inf or nan would only draw a diverged
    run (or, in a schedule, no curve at all)."""
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"a learning rate must be a finite number > 0, got {number:g}")
    return number


# One validator rather than a union, so an error names the key (``--lr``), not a union branch.
Lr = Annotated[
    float | Literal["auto"] | None,
    PlainValidator(_lr),
    WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"const": "auto"},
                              {"type": "null"}]}),
]


class LookaheadSpec(_Spec):
    """Lookahead around an optimizer: every k steps the slow weights move alpha of the way."""

    k: int = Field(5, ge=1, le=10_000)
    alpha: float = Field(0.5, gt=0, le=1)


def _named_mapping(data: Any, own_keys: tuple[str, ...], lifted: tuple[str, ...]) -> Any:
    """A named factory's mapping forms, normalised: LightningCLI's ``class_path`` +
    ``init_args`` become ``name`` + ``settings``; keys that are not the spec's own are the
    factory's settings; ``lifted`` given inline among the settings (``lr``, the nested
    ``schedulers``) moves up to the spec's own field."""
    if isinstance(data, dict) and "class_path" in data:
        rest = {k: v for k, v in data.items() if k not in ("class_path", "init_args")}
        data = {"name": data["class_path"], "settings": data.get("init_args") or {}, **rest}
    if not isinstance(data, dict):
        return data
    own = {k: v for k, v in data.items() if k in own_keys}
    settings = dict(own.get("settings") or {})
    settings.update({k: v for k, v in data.items() if k not in own})
    for key in lifted:
        if key in settings and key not in own:
            own[key] = settings.pop(key)
    return {**own, "settings": settings}


def _inline_or_mapping_schema(core_schema: Any, handler: Any) -> dict[str, Any]:
    """The schema editors see for a named factory: the inline string form, or a mapping whose
    extra keys are the factory's settings (what ``_named_mapping`` accepts)."""
    schema = dict(handler.resolve_ref_schema(handler(core_schema)))
    schema["additionalProperties"] = True
    schema.pop("required", None)
    inline = {"type": "string", "description": "NAME or NAME:key=value,key=value"}
    return {"anyOf": [inline, schema]}


class OptimizerSpec(_Spec):
    """One optimizer of a figure: a name and the factory's keyword settings.

    Accepts ``"adam:lr=0.1"``, ``{name: adam, lr: 0.1, betas: [0.9, 0.99]}`` (keys other than
    ``name``, ``lr``, ``label``, ``lookahead``, ``batch_size`` and ``settings`` are settings),
    and LightningCLI's ``{class_path: torch.optim.Adam, init_args: {lr: 0.1}}``.
    ``batch_size`` (the linear model only) gives this run its own mini-batch size, so that
    gradient descent, SGD and mini-batch SGD can be drawn in one figure.
    """

    name: str = Field(min_length=1)
    lr: Lr = None
    settings: dict[str, Any] = Field(default_factory=dict)
    label: Title = None
    lookahead: LookaheadSpec | None = None
    batch_size: int | None = Field(None, ge=0)  # the linear model: this run's (0: full batch)

    @model_validator(mode="before")
    @classmethod
    def _forms(cls, data: Any) -> Any:
        if isinstance(data, str):
            name, settings = parse_inline(data)
            data = {"name": name, "settings": settings}
        return _named_mapping(
            data, ("name", "lr", "settings", "label", "lookahead", "batch_size"),
            ("lr", "batch_size"))

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        return _inline_or_mapping_schema(core_schema, handler)


def panel_grid(n: int, rows: int | None, cols: int | None, widest: int = 4) -> tuple[int, int]:
    """Rows and columns for ``n`` panels: as given, or at most ``widest`` to a row."""
    if rows and cols:
        return rows, cols
    if cols:
        return -(-n // cols), cols
    if rows:
        return rows, -(-n // rows)
    cols = min(n, widest) if n > 1 else 1
    return -(-n // cols), cols


# Keys that only the linear model reads (its data, its shape, its mini-batches and epochs), and
# keys that only a test function reads. A key the figure would ignore is refused, not dropped.
MODEL_KEYS = ("in_features", "out_features", "bias", "samples", "batch_size", "epochs", "noise")
FUNCTION_KEYS = ("function", "start", "steps")


def _ignored(given: set[str], model: str | None, interval: str | None) -> list[str]:
    """Of the keys ``given``, those a figure with this ``model`` (None: a test function) does
    not read; ``interval`` counts when it is ``epoch`` on a test function (no epochs)."""
    if model is not None:
        return [k for k in FUNCTION_KEYS if k in given]
    keys = [k for k in MODEL_KEYS if k in given]
    return [*keys, "interval"] if interval == "epoch" and "interval" in given else keys


class KeyedError(ValueError):
    """A model validator's error about one key: ``build`` names ``loc`` (``--in-features``
    on the command line, ``panels[0].epochs`` and its line in a config) as for a field's."""

    def __init__(self, loc: tuple[Any, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def _ignored_error(loc: tuple[Any, ...], key: str) -> KeyedError:
    if key in FUNCTION_KEYS:
        what = ("the linear model trains for epochs (epochs, --epochs), not steps"
                if key == "steps" else "the linear model has no test function")
        return KeyedError((*loc, key), f"{what}; drop it, or drop model: linear")
    what = ("epoch needs the linear model (a test function has no epochs)" if key == "interval"
            else "only the linear model reads it")
    return KeyedError((*loc, key), f"{what}; add model: linear (--model linear), or drop it")


class PanelSpec(_Spec):
    """One panel of a ``panels`` figure: any of the figure's keys, overriding the shared ones."""

    optimizers: list[OptimizerSpec] | None = Field(None, max_length=MAX_RUNS)
    settings: dict[str, Any] | None = None
    lookahead: LookaheadSpec | None = None
    scheduler: SchedulerSpec | None = None
    show_state: bool | None = None
    interval: Literal["step", "epoch"] | None = None
    model: Literal["linear"] | None = None
    in_features: int | None = Field(None, ge=1, le=10_000)
    out_features: int | None = Field(None, ge=1, le=1_000)
    bias: bool | None = None
    samples: int | None = Field(None, ge=1, le=10_000_000)
    batch_size: int | None = Field(None, ge=0)
    epochs: int | None = Field(None, ge=1, le=100_000)
    noise: FiniteFloat | None = Field(None, ge=0)
    function: str | None = None
    start: list[FiniteFloat] | None = None
    steps: int | None = Field(None, ge=1, le=1_000_000)
    lr: Lr = None
    title: Title = None


MAX_EXPLORE_LRS = 256  # the HTML explorer's lr grid: every path at every lr is in the page


class TrajectorySpec(_Spec):
    """A trajectory figure: optimizers run from one start on one function.

    ``layout: overlay`` (the default) draws every optimizer on one contour beside a loss panel;
    ``layout: panels`` draws a rows x cols grid, one panel per entry of ``panels``, each taking
    the figure's keys and overriding some of them.
    """

    kind: Literal["trajectory"] = "trajectory"
    title: Title = None
    optimizers: list[OptimizerSpec] = Field(default_factory=list, max_length=MAX_RUNS)
    settings: dict[str, Any] = Field(default_factory=dict)  # --kebab settings, for every optimizer
    lookahead: LookaheadSpec | None = None  # wraps every optimizer of the figure
    scheduler: SchedulerSpec | None = None  # attached to every optimizer of the figure
    show_state: bool = False  # trace the optimizer's state (momentum, moments) per step
    interval: Literal["step", "epoch"] = "step"  # when the scheduler steps (epoch: models)
    model: Literal["linear"] | None = None  # train torch.nn.Linear instead of a function
    in_features: int = Field(10, ge=1, le=10_000)
    out_features: int = Field(1, ge=1, le=1_000)
    bias: bool = True
    samples: int = Field(256, ge=1, le=10_000_000)
    batch_size: int = Field(32, ge=0)  # 0 or >= samples: full batch
    epochs: int = Field(20, ge=1, le=100_000)
    noise: FiniteFloat = Field(0.1, ge=0)
    function: str = "quadratic"
    start: list[FiniteFloat] | None = None
    steps: int = Field(100, ge=1, le=1_000_000)
    lr: Lr = None
    device: str = "cpu"
    dtype: Literal["float32", "float64"] = "float32"
    seed: int = Field(0, ge=0, le=MAX_SEED)
    layout: Literal["overlay", "panels"] = "overlay"
    rows: int | None = Field(None, ge=1, le=12)
    cols: int | None = Field(None, ge=1, le=12)
    panels: list[PanelSpec] = Field(default_factory=list)
    # How the figure is shown. aspect None: equal scale where the function's domain is
    # isotropic. animate: frames even where the output's suffix does not ask for them.
    aspect: Literal["auto", "equal"] | None = None
    zoom: bool = False  # an inset on the end of the run when its last steps are tiny
    view: Literal["2d", "3d"] = "2d"  # 3d: the surface, with the paths lifted onto it
    animate: bool = False
    fps: int = Field(20, ge=1, le=60)
    frames: int | None = Field(None, ge=2, le=1000)  # None: every step up to a cap
    rotate: bool = False  # 3d animations: a slow turn of the camera
    vectors: bool = False  # gradient, update, momentum and scaling at the current point
    vectors_at: list[int] | None = None  # the steps a still picture draws them at
    explore_lrs: str | None = None  # HTML explorer: the lr grid, LO:HI:N (default 33 values)
    output: str | None = None
    export: str | None = None

    @field_validator("explore_lrs")
    @classmethod
    def _explore_lrs(cls, value: str | None) -> str | None:
        """The explorer's lr grid, checked when the spec is read (at most 256 lrs)."""
        if value is not None:
            from optviz.spec.grids import parse_lr_grid

            if len(parse_lr_grid(value)) > MAX_EXPLORE_LRS:
                raise ValueError(f"at most {MAX_EXPLORE_LRS} lrs in an explorer")
        return value

    @model_validator(mode="after")
    def _model_keys(self) -> TrajectorySpec:
        """A key the figure would ignore (the linear model's on a test function, a function's
        on the model) is refused, naming where it sits; a figure's key counts as read when
        any of its panels reads it."""
        for key in self.unread_keys():
            if key in self.model_fields_set:
                raise _ignored_error((), key)
        for i, panel in enumerate(self.panels):
            given = {k for k in panel.model_fields_set if getattr(panel, k) is not None}
            for key in _ignored(given, panel.model or self.model, panel.interval):
                raise _ignored_error(("panels", i), key)
        for loc, model in self._runs_and_models():
            if model is None and self._optimizer_at(loc).batch_size is not None:
                raise KeyedError((*loc, "batch_size"), "only the linear model reads it (a "
                                 "test function has no data to batch); add model: linear "
                                 "(--model linear), or drop it")
        weights = self.in_features * self.out_features + (self.out_features if self.bias else 0)
        if self.model == "linear" and not self.panels and weights < 2:
            raise KeyedError(("model",), "Linear(1→1) without a bias has one weight, and "
                             "optviz draws paths in two or more: keep the bias, or "
                             "in_features >= 2")
        return self

    def _runs_and_models(self) -> list[tuple[tuple[Any, ...], str | None]]:
        """Where each optimizer sits (``("optimizers", 0)``, ``("panels", 1, "optimizers",
        0)``) and the model it trains (None: a test function)."""
        found = [(("optimizers", j), self.model) for j in range(len(self.optimizers))]
        for i, panel in enumerate(self.panels):
            found += [(("panels", i, "optimizers", j), panel.model or self.model)
                      for j in range(len(panel.optimizers or []))]
        return found

    def _optimizer_at(self, loc: tuple[Any, ...]) -> OptimizerSpec:
        if loc[0] == "optimizers":
            return self.optimizers[loc[1]]
        return (self.panels[loc[1]].optimizers or [])[loc[3]]

    def unread_keys(self) -> list[str]:
        """The figure's keys that no part of it reads (a test function's figure does not read
        the linear model's keys or interval: epoch, nor the model a function's): refused when
        given, and left out of the resolved form, which would otherwise not validate again."""
        models = [p.model or self.model for p in self.panels] or [self.model]
        return [k for k in (*MODEL_KEYS, *FUNCTION_KEYS, "interval")
                if all(k in _ignored({k}, m, self.interval) for m in models)]

    @model_validator(mode="after")
    def _model_size(self) -> TrajectorySpec:
        # The data set is held in memory whole (and a copy per mini-batch): refuse what
        # cannot fit before anything is allocated.
        values = self.samples * (self.in_features + self.out_features)
        if self.model == "linear" and values > MAX_MODEL_VALUES:
            raise ValueError(f"samples x (in_features + out_features) is {values:.3g}; the "
                             f"linear model holds at most {MAX_MODEL_VALUES:.0e} values")
        return self

    @model_validator(mode="after")
    def _layout(self) -> TrajectorySpec:
        if self.panels and "layout" not in self.model_fields_set:
            object.__setattr__(self, "layout", "panels")
        if self.layout == "overlay":
            if self.panels:
                raise ValueError("'panels' needs layout: panels")
            if not self.optimizers:
                raise ValueError("name at least one optimizer")
            return self
        if not self.panels:
            raise ValueError("layout: panels needs a 'panels' list")
        for i, panel in enumerate(self.panels):
            if not (panel.optimizers or self.optimizers):
                raise ValueError(f"panel {i} has no optimizers and the figure gives none")
        rows, cols = self.grid()
        if rows * cols < len(self.panels):
            raise ValueError(f"{len(self.panels)} panels do not fit in {rows} x {cols}")
        return self

    def grid(self) -> tuple[int, int]:
        """Rows and columns of a panels figure: as given, or as square as possible."""
        return panel_grid(len(self.panels), self.rows, self.cols)

    def panel_specs(self) -> list[TrajectorySpec]:
        """Each panel as an overlay spec of its own: the figure's keys with its overrides."""
        # Only the keys the figure sets: a panel's spec must not count defaults as given.
        base = self.model_dump(exclude_unset=True, exclude={
            "layout", "rows", "cols", "panels", "title", "output", "export"})
        out = []
        for i, panel in enumerate(self.panels):
            data = dict(base)
            # The figure's keys that this panel does not read are there for other panels.
            for key in _ignored(set(base), panel.model or self.model, base.get("interval")):
                data.pop(key)
            data.update(panel.model_dump(exclude_none=True))
            out.append(_panel(TrajectorySpec, data, i))
        return out


class EmaSpec(_Spec):
    """The torch.optim article's figure of exponentially weighted averages: the weight
    (1 − β)·β^i that an average with factor β gives the value i steps back."""

    kind: Literal["ema"] = "ema"
    title: Title = None
    betas: list[float] = Field(default_factory=lambda: [0.98, 0.95, 0.9, 0.8], min_length=1,
                               max_length=MAX_RUNS)
    points: int = Field(100, ge=2, le=100_000)
    output: str | None = None
    export: str | None = None

    @model_validator(mode="after")
    def _range(self) -> EmaSpec:
        for b in self.betas:
            if not 0 < b < 1:
                raise ValueError(f"beta {b} must be between 0 and 1")
        return self


_PLAIN = {"greater_than": "must be > {gt:g}", "greater_than_equal": "must be >= {ge:g}",
          "less_than": "must be < {lt:g}", "less_than_equal": "must be <= {le:g}",
          "too_short": "needs at least {min_length} item(s)",
          "too_long": "takes at most {max_length} items",
          "string_too_long": "takes at most {max_length} characters"}


def _where(loc: tuple[Any, ...], cli: bool) -> str:
    if cli and len(loc) == 1 and isinstance(loc[0], str):
        return "--" + str(loc[0]).replace("_", "-")
    if cli and len(loc) >= 2 and loc[-2] == "lookahead":  # --lookahead-k, --lookahead-alpha
        return f"--lookahead-{loc[-1]}"
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc]
    return "".join(parts).lstrip(".") or "config"


def _panel(model: type[_Spec], data: dict[str, Any], i: int) -> Any:
    """Panel ``i`` as a spec of its own; an error names the panel, and its ``loc`` points
    into the panel so that a config reader can give its line."""
    try:
        return build(model, data, source=f"panels[{i}]")
    except BadValueError as exc:
        exc.loc = ("panels", i, *getattr(exc, "loc", ()))
        raise


def resolved_config(spec: Any) -> dict[str, Any]:
    """The spec in its canonical, fully resolved form (every default written out), as the
    gallery's sidecars keep it; it validates back to the same spec."""
    data = spec.model_dump(mode="json")
    if isinstance(spec, TrajectorySpec):
        for key in spec.unread_keys():
            data.pop(key)
    return data


def _spec_in(annotation: Any) -> type[_Spec] | None:
    """The spec class an annotation holds (``list[OptimizerSpec] | None`` -> OptimizerSpec)."""
    if isinstance(annotation, type) and issubclass(annotation, _Spec):
        return annotation
    for arg in get_args(annotation):
        found = _spec_in(arg)
        if found is not None:
            return found
    return None


def _unknown_key(model: type[_Spec], loc: tuple[Any, ...], cli: bool) -> str:
    """An unknown key's message, with the closest keys of the mapping it sits in."""
    from optviz.names import suggest

    spec: type[_Spec] | None = model
    for part in loc[:-1]:
        if spec is None:
            break
        if isinstance(part, str):
            field = spec.model_fields.get(part)
            spec = _spec_in(field.annotation) if field is not None else None
    keys = [k for k in spec.model_fields if k != "kind"] if spec is not None else []
    close = suggest(str(loc[-1]), keys, n=1)
    if not close:
        return f"unknown key; valid: {', '.join(keys)}" if keys else "unknown key"
    hint = "--" + close[0].replace("_", "-") if cli and len(loc) == 1 else close[0]
    return f"unknown key; did you mean {hint}?"


def build(model: type[_Spec], data: dict[str, Any], source: str = "", cli: bool = False) -> Any:
    """Validate ``data`` into ``model``; a failure becomes one BadValueError line that names
    the key (``optimizers[1].lr``) or, from the command line, the option (``--lr``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        keyed = err.get("ctx", {}).get("error")
        if isinstance(keyed, KeyedError):
            err = {**err, "loc": (*err["loc"], *keyed.loc), "ctx": {}}
        if err["type"] == "extra_forbidden":
            err = {**err, "msg": _unknown_key(model, tuple(err["loc"]), cli)}
        template = _PLAIN.get(err["type"])
        msg = template.format(**err.get("ctx", {})) if template else err["msg"]
        msg = msg.removeprefix("Value error, ")
        prefix = f"{source} " if source else ""
        error = BadValueError(f"{prefix}{_where(err['loc'], cli)}: {msg}")
        error.loc = tuple(err["loc"])  # lets a config reader name the line
        raise error from None


class SchedulerSpec(_Spec):
    """One LR scheduler of a schedule figure: a name, the factory's keyword settings, and for
    SequentialLR / ChainedScheduler the nested schedulers.

    Accepts ``"step:step_size=3,gamma=0.7"``,
    ``"sequential:schedulers=[linear(total_iters=4),cosine],milestones=[4]"``,
    ``{name: step, step_size: 3}`` (keys other than ``name``, ``settings``, ``schedulers`` and
    ``label`` are settings) and ``{class_path: torch.optim.lr_scheduler.StepLR, init_args: ...}``.
    """

    name: str = Field(min_length=1)
    settings: dict[str, Any] = Field(default_factory=dict)
    schedulers: list[SchedulerSpec] | None = Field(None, max_length=MAX_RUNS)
    label: Title = None

    @model_validator(mode="before")
    @classmethod
    def _forms(cls, data: Any) -> Any:
        if isinstance(data, str):
            from optviz.spec.syntax import parse_scheduler_token

            data = parse_scheduler_token(data)
        return _named_mapping(data, ("name", "settings", "schedulers", "label"),
                              ("schedulers",))

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        return _inline_or_mapping_schema(core_schema, handler)


MAX_SCHEDULE_STEPS = 200_000


# A schedule's LR: one per parameter group; a single number is one group.
_LR_SCHEMA = {"type": "number", "exclusiveMinimum": 0}
LrList = Annotated[list[float], WithJsonSchema({"anyOf": [
    _LR_SCHEMA, {"type": "array", "items": _LR_SCHEMA, "minItems": 1}]})]


def _scalar_lr(data: Any) -> Any:
    """``lr: 0.1`` as the one-group list ``[0.1]``."""
    if isinstance(data, dict) and isinstance(data.get("lr"), (int, float)) \
            and not isinstance(data.get("lr"), bool):
        data = {**data, "lr": [data["lr"]]}
    return data


class SchedulePanelSpec(_Spec):
    """One panel of a ``panels`` schedule figure: any of the figure's run keys, overriding the
    shared ones; its schedulers are overlaid on the panel."""

    schedulers: list[SchedulerSpec] | None = Field(None, max_length=MAX_RUNS)
    settings: dict[str, Any] | None = None
    lr: LrList | None = None
    epochs: int | None = Field(None, ge=1, le=100_000)
    steps_per_epoch: int | None = Field(None, ge=1, le=100_000)
    interval: Literal["step", "epoch"] | None = None
    optimizer: OptimizerSpec | None = None
    metric: str | None = None
    log_y: bool | None = None
    title: Title = None

    @model_validator(mode="before")
    @classmethod
    def _scalars(cls, data: Any) -> Any:
        return _scalar_lr(data)


class ScheduleSpec(_Spec):
    """A schedule figure: LR schedulers stepped through one run of epochs x steps_per_epoch
    optimizer steps.

    ``layout: overlay`` (the default) draws every scheduler on one LR panel, or with ``grid``
    one small panel per scheduler (the article's summary figure); ``layout: panels`` draws a
    rows x cols grid, one panel per entry of ``panels``, each an overlay with its own overrides
    of the figure's keys (a different lr, optimizer, interval or run length per panel).
    """

    kind: Literal["schedule"] = "schedule"
    title: Title = None
    schedulers: list[SchedulerSpec] = Field(default_factory=list, max_length=MAX_RUNS)
    settings: dict[str, Any] = Field(default_factory=dict)  # --kebab settings, every scheduler
    lr: LrList = Field(default_factory=lambda: [1e-3], min_length=1)  # one per group
    epochs: int = Field(4, ge=1, le=100_000)
    steps_per_epoch: int = Field(8, ge=1, le=100_000)
    interval: Literal["step", "epoch"] = "step"
    optimizer: OptimizerSpec = Field(default_factory=lambda: OptimizerSpec(name="sgd"))
    metric: str | None = None  # trace.csv, a formula in step, or a source name; None: linear model
    grid: bool = False
    log_y: bool = False
    seed: int = Field(0, ge=0, le=MAX_SEED)
    layout: Literal["overlay", "panels"] = "overlay"
    rows: int | None = Field(None, ge=1, le=12)
    cols: int | None = Field(None, ge=1, le=12)
    panels: list[SchedulePanelSpec] = Field(default_factory=list)
    output: str | None = None
    export: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _scalars(cls, data: Any) -> Any:
        return _scalar_lr(data)

    @model_validator(mode="after")
    def _check(self) -> ScheduleSpec:
        if self.panels and "layout" not in self.model_fields_set:
            object.__setattr__(self, "layout", "panels")
        if self.layout == "overlay":
            if self.panels:
                raise ValueError("'panels' needs layout: panels")
            if not self.schedulers:
                raise ValueError("name at least one scheduler")
        else:
            if not self.panels:
                raise ValueError("layout: panels needs a 'panels' list")
            if self.grid:
                raise ValueError("grid (one panel per scheduler) and layout: panels exclude "
                                 "each other")
            for i, panel in enumerate(self.panels):
                if not (panel.schedulers or self.schedulers):
                    raise ValueError(f"panel {i} has no schedulers and the figure gives none")
            rows, cols = self.panel_grid()
            if rows * cols < len(self.panels):
                raise ValueError(f"{len(self.panels)} panels do not fit in {rows} x {cols}")
        for value in self.lr:
            try:
                check_lr(value)
            except ValueError as exc:
                raise KeyedError(("lr",), str(exc)) from None
        if self.epochs * self.steps_per_epoch > MAX_SCHEDULE_STEPS:
            raise ValueError(f"epochs x steps_per_epoch must be at most {MAX_SCHEDULE_STEPS}")
        if self.optimizer.lr is not None:
            raise ValueError("set the learning rate with lr (--lr), not on the optimizer")
        return self

    def panel_grid(self) -> tuple[int, int]:
        """Rows and columns of a panels figure: as given, or at most three to a row."""
        return panel_grid(len(self.panels), self.rows, self.cols, widest=3)

    def panel_specs(self) -> list[ScheduleSpec]:
        """Each panel as an overlay spec of its own: the figure's keys with its overrides."""
        base = self.model_dump(exclude={"layout", "rows", "cols", "panels", "title", "output",
                                        "export"})
        out = []
        for i, panel in enumerate(self.panels):
            data = dict(base)
            data.update(panel.model_dump(exclude_none=True, exclude={"title"}))
            out.append(_panel(ScheduleSpec, data, i))
        return out

TrajectorySpec.model_rebuild()
PanelSpec.model_rebuild()
