"""The optimizer registry: every torch.optim class, the article's presets, and their quirks.

Quirks are data on the record (``needs_closure``, ``sparse_grad``, ``matrix_param``,
``elementwise``); the engine reads the flags and never asks for a name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING, Any

from optviz.errors import BadValueError, OptvizError, UnknownSettingError
from optviz.names import did_you_mean
from optviz.registry import Record, Registry
from optviz.settings import check_settings, signature_params

if TYPE_CHECKING:
    from optviz.spec import OptimizerSpec


@dataclass(frozen=True)
class OptimizerRecord(Record):
    """One optimizer name: its factory, defaults and the quirks the engine must honour."""

    needs_closure: bool = False  # step(closure) re-evaluates the loss (LBFGS)
    sparse_grad: bool = False  # gradients must be handed over as sparse tensors (SparseAdam)
    matrix_param: bool = False  # only 2-D parameters: a point is run as a 1 x D matrix (Muon)
    elementwise: bool = True  # the update of one coordinate depends on that coordinate alone
    create_graph: bool = False  # backward(create_graph=True): Hessian-vector products
    unsupported: str = ""  # why it cannot run on a point (e.g. it needs the model); refused
    plugin: str = ""  # where a record from outside optviz came from

    @property
    def quirks(self) -> list[str]:
        out = []
        if self.needs_closure:
            out.append("needs a closure: optviz passes one that re-evaluates the function")
        if self.sparse_grad:
            out.append("needs sparse gradients: optviz converts each gradient to a sparse tensor")
        if self.matrix_param:
            out.append("takes only 2-D parameters: optviz runs the point as a 1 x D matrix")
        if self.create_graph:
            out.append("needs second derivatives: optviz calls backward(create_graph=True)")
        if not self.elementwise:
            out.append("not element-wise: coordinates interact in the update")
        if self.unsupported:
            out.append(f"cannot run here: {self.unsupported}")
        return out

    @property
    def external(self) -> bool:
        """Code from outside optviz and torch: a dotted path or an entry point (not optviz's
        own records, nor pytorch_optimizer's, whose classes are known optimizers)."""
        return self.plugin in ("path", "entry point")


OPTIMIZERS: Registry[OptimizerRecord] = Registry("optimizer")

_T = "torch.optim."

for _rec in (
    OptimizerRecord("sgd", _T + "SGD", "Stochastic gradient descent, optional (Nesterov) momentum",
                    display="SGD"),
    OptimizerRecord("adam", _T + "Adam", "Adam: momentum plus per-coordinate RMS scaling",
                    display="Adam"),
    OptimizerRecord("adamw", _T + "AdamW", "Adam with decoupled weight decay", display="AdamW"),
    OptimizerRecord("adamax", _T + "Adamax", "Adam with an infinity-norm second moment",
                    display="Adamax"),
    OptimizerRecord("nadam", _T + "NAdam", "Adam with Nesterov momentum", display="NAdam"),
    OptimizerRecord("radam", _T + "RAdam", "Rectified Adam: variance-corrected warm start",
                    display="RAdam"),
    OptimizerRecord("rmsprop", _T + "RMSprop", "RMSProp: steps scaled by a running RMS of grads",
                    display="RMSprop"),
    OptimizerRecord("adagrad", _T + "Adagrad", "AdaGrad: steps scaled by accumulated squared grads",
                    display="Adagrad"),
    OptimizerRecord("adadelta", _T + "Adadelta", "AdaDelta: AdaGrad with unit-corrected steps",
                    display="Adadelta"),
    OptimizerRecord("asgd", _T + "ASGD", "Averaged SGD", display="ASGD"),
    OptimizerRecord("rprop", _T + "Rprop", "Resilient backprop: sign-based adaptive steps",
                    display="Rprop"),
    OptimizerRecord("lbfgs", _T + "LBFGS", "Limited-memory BFGS quasi-Newton method",
                    display="LBFGS", needs_closure=True, elementwise=False),
    OptimizerRecord("sparse_adam", _T + "SparseAdam", "Adam for sparse gradients (lazy updates)",
                    display="SparseAdam", sparse_grad=True),
    OptimizerRecord("adafactor", _T + "Adafactor", "Adafactor: factored second-moment estimates",
                    display="Adafactor", elementwise=False),
    OptimizerRecord("muon", _T + "Muon", "Muon: momentum orthogonalised by Newton-Schulz",
                    display="Muon", matrix_param=True, elementwise=False),
    OptimizerRecord("lion", "optviz.optim.Lion", "Lion: sign of interpolated momentum (2023)",
                    display="Lion"),
    # Presets of the hand-written-optimizer article (GD, MomentumGD, NesterovGD).
    OptimizerRecord("gd", _T + "SGD", "Plain gradient descent (SGD without momentum)",
                    display="GD", aliases=("GradientDescent",)),
    OptimizerRecord("momentum", _T + "SGD", "Gradient descent with momentum 0.9",
                    display="Momentum", aliases=("MomentumGD",), defaults={"momentum": 0.9}),
    OptimizerRecord("nesterov", _T + "SGD", "Gradient descent with Nesterov momentum 0.9",
                    display="Nesterov", aliases=("NesterovGD", "nag"),
                    defaults={"momentum": 0.9, "nesterov": True}),
):
    OPTIMIZERS.add(_rec)


@dataclass(frozen=True)
class OptimizerPlan:
    """A resolved optimizer: record, factory, checked keyword arguments and legend label;
    ``lookahead`` is (k, alpha) when the optimizer is wrapped in Lookahead; ``auto_label``
    says the label was made from the record's name (not given by the user), so
    ``distinct_labels`` may qualify it."""

    record: OptimizerRecord
    factory: Any
    kwargs: dict[str, Any]
    label: str
    lookahead: tuple[int, float] | None = None
    auto_label: bool = False

    @property
    def is_plugin(self) -> bool:
        """An optimizer from outside optviz and torch: a dotted path or an entry point."""
        return self.record.external

    def build(self, params: list[Any]) -> Any:
        """The torch optimizer over ``params`` (wrapped in Lookahead if asked). A built-in's
        constructor errors propagate as they are (the callers name the settings); a plugin's
        become one BadValueError, as does a plugin that returns something else than an
        optimizer."""
        if not self.is_plugin:
            opt = self.factory(params, **self.kwargs)
        else:
            from torch.optim import Optimizer

            try:
                opt = self.factory(params, **self.kwargs)
            except OptvizError:
                raise
            except Exception as exc:
                raise BadValueError(f"plugin {self.record.name} could not be built: "
                                    f"{type(exc).__name__}: {exc}") from exc
            if not isinstance(opt, Optimizer):
                raise BadValueError(f"plugin {self.record.name} is not a torch.optim.Optimizer "
                                    f"(got {type(opt).__name__})")
        if self.lookahead is not None:
            from optviz.optim import Lookahead

            opt = Lookahead(opt, k=self.lookahead[0], alpha=self.lookahead[1])
        return opt

    def step_failed(self, step: int, exc: Exception) -> BadValueError:
        """The error for an optimizer whose ``step()`` raised at run time (torch checks some
        settings only then, e.g. the length of ``betas``); raise it ``from exc``."""
        reason = str(exc) or type(exc).__name__
        if self.is_plugin:
            return BadValueError(f"plugin {self.record.name} failed at step {step}: {reason}")
        settings = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        hint = f"; check its settings ({settings})" if settings else ""
        return BadValueError(f"{self.record.label} failed at step {step}: {reason}{hint}")


def distinct_labels(plans: Sequence[OptimizerPlan]) -> list[OptimizerPlan]:
    """The plans of one figure, a plugin's made-up label naming its dotted path
    (``handwritten_optim.Adam (lr=0.1)``) where it would read the same as another
    optimizer's (torch's ``Adam (lr=0.1)``). The same optimizer twice keeps its label."""
    targets: dict[str, set[str]] = {}
    for plan in plans:
        targets.setdefault(plan.label, set()).add(plan.record.name)
    out = []
    for plan in plans:
        record = plan.record
        if (len(targets[plan.label]) > 1 and plan.auto_label and record.plugin
                and record.label != record.name):
            plan = replace(plan, label=plan.label.replace(record.label, record.name, 1))
        out.append(plan)
    return out


def format_value(value: Any) -> str:
    """Compact text for a setting in a legend: ``0.1``, ``1e-05``, ``(0.9, 0.99)``."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    return str(value)


def plan_optimizer(
    spec: OptimizerSpec,
    lr: float | None = None,
    common: dict[str, Any] | None = None,
    lookahead: tuple[int, float] | None = None,
) -> OptimizerPlan:
    """Resolve a spec against the registry and the factory's signature.

    Precedence, lowest first: the record's preset, ``--kebab`` settings for the whole call,
    ``--lr``, then the spec's own inline settings.
    """
    from optviz.plugins import refine

    record = OPTIMIZERS.resolve(spec.name)
    factory = record.load_checked("optimizer", spec.name)
    record = refine(record, factory)
    if record.external and isinstance(factory, type):
        from torch.optim import Optimizer

        if not issubclass(factory, Optimizer):
            raise BadValueError(f"plugin {record.name} is not a torch.optim.Optimizer "
                                f"(class {factory.__name__} does not subclass it)")
    valid = signature_params(factory)
    if common:
        for key in common:
            if key not in valid and did_you_mean(key, valid):
                raise UnknownSettingError(
                    f"--{key.replace('_', '-')} is not a setting of {record.label}"
                    f"{did_you_mean(key, valid)} (valid: {', '.join(valid)})")
            if key not in valid:
                raise UnknownSettingError(
                    f"--{key.replace('_', '-')} does not apply to {record.label}, which takes: "
                    f"{', '.join(valid)}; set it per optimizer instead (NAME:{key}=VALUE)"
                )
    explicit = dict(common or {})
    if lr is not None:
        explicit["lr"] = lr
    explicit.update(spec.settings)
    if spec.lr is not None:
        explicit["lr"] = spec.lr
    explicit = check_settings(record.label, explicit, valid)
    kwargs = {**record.defaults, **explicit}
    shown = {"lr": kwargs.get("lr", valid.get("lr")), **explicit}
    inner = ", ".join(f"{k}={format_value(v)}" for k, v in shown.items() if v is not None)
    name = record.label
    if spec.lookahead is not None:
        lookahead = (spec.lookahead.k, spec.lookahead.alpha)
    if lookahead is not None:
        name = f"Lookahead({record.label}, k={lookahead[0]}, α={lookahead[1]:g})"
    label = spec.label or (f"{name} ({inner})" if inner else name)
    return OptimizerPlan(record=record, factory=factory, kwargs=kwargs, label=label,
                         lookahead=lookahead, auto_label=not spec.label)


@cache
def _builtin_params() -> tuple[dict[str, Any], ...]:
    """The keyword parameters of every optimizer optviz registers itself (no plugins), read
    once per process."""
    return tuple(signature_params(record.load()) for record in OPTIMIZERS if not record.plugin)


def builtin_settings() -> set[str]:
    """Every keyword some registered optimizer takes."""
    return {key for params in _builtin_params() for key in params}


def boolean_settings() -> set[str]:
    """Keywords with a boolean default in any registered factory: these are bare flags."""
    return {key for params in _builtin_params() for key, default in params.items()
            if isinstance(default, bool)}


# Plugins hook into OPTIMIZERS (dotted paths, entry points); imported last, as it needs it.
from optviz import plugins as _plugins  # noqa: E402,F401
