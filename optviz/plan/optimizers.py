"""Optimizers planned for a run: a spec resolved through the registry, its settings checked
against the factory's signature, and the legend label made once, here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from optviz.errors import BadValueError, CallSettingError, OptvizError
from optviz.names import did_you_mean
from optviz.plan.labels import format_value
from optviz.registry import OPTIMIZERS
from optviz.registry.optimizers import OptimizerRecord
from optviz.registry.plugins import refine
from optviz.registry.signatures import check_settings, signature_params
from optviz.spec.figures import OptimizerSpec


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
    def idle_without_gradients(self) -> bool:
        """Whether the optimizer this plan builds changes nothing in a step without gradients:
        its record says so of the class (``OptimizerRecord.idle_without_gradients``), and no
        Lookahead wraps it."""
        return self.record.idle_without_gradients and self.lookahead is None

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
            if self.record.torch_own:
                without_device_probe(opt)
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


def without_device_probe(opt: Any) -> None:
    """For one of torch.optim's own classes (``record.torch_own``): param groups whose
    ``foreach`` is torch's default (None) and whose parameters are all on the CPU get
    ``foreach=False``. At every step torch resolves None by probing each parameter's type and
    device (``_default_to_fused_or_foreach``, about a tenth of a batched run's time with a
    group per lr), and on the CPU torch's answer is always the single-tensor loop: the same
    loop, without the probe. Not for other libraries' classes, whose None may mean another
    loop (pytorch_optimizer takes its foreach path on the CPU too). The optimizer's
    ``defaults``, which figures and exports report, keep None; a fused group is left alone."""
    for group in getattr(opt, "param_groups", ()):
        if (group.get("foreach", False) is None and not group.get("fused")
                and all(p.device.type == "cpu" for p in group["params"])):
            group["foreach"] = False


def distinct_labels(plans: Sequence[OptimizerPlan]) -> list[OptimizerPlan]:
    """The plans of one figure, a plugin's made-up label naming its dotted path
    (``handwritten_optim.Adam (lr=0.1)``) where it would read the same as another
    optimizer's (torch's ``Adam (lr=0.1)``), case aside (``RMSProp`` against ``RMSprop``).
    The same optimizer twice keeps its label."""
    # Labels that differ only by case read the same ("RMSProp" and "RMSprop"): one target.
    targets: dict[str, set[str]] = {}
    for plan in plans:
        targets.setdefault(plan.label.casefold(), set()).add(plan.record.name)
    out = []
    for plan in plans:
        record = plan.record
        if (len(targets[plan.label.casefold()]) > 1 and plan.auto_label and record.plugin
                and record.label != record.name):
            plan = replace(plan, label=plan.label.replace(record.label, record.name, 1))
        out.append(plan)
    return out


def plan_optimizer(
    spec: OptimizerSpec,
    lr: float | None = None,
    common: dict[str, Any] | None = None,
    lookahead: tuple[int, float] | None = None,
) -> OptimizerPlan:
    """Resolve a spec against the registry and the factory's signature.

    Precedence, lowest first: the record's preset, ``common`` settings for the whole call
    (``--kebab`` on the command line), ``lr``, then the spec's own inline settings. A common
    setting that does not apply is a ``CallSettingError`` naming the setting.
    """

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
                raise CallSettingError(key, (
                    "{setting} is not a setting of " f"{record.label}"
                    f"{did_you_mean(key, valid)} (valid: {', '.join(valid)})"))
            if key not in valid:
                raise CallSettingError(key, (
                    "{setting} does not apply to " f"{record.label}, which takes: "
                    f"{', '.join(valid)}; set it per optimizer instead (NAME:{key}=VALUE)"))
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
    if spec.lookahead is not None:
        lookahead = (spec.lookahead.k, spec.lookahead.alpha)
    name = lookahead_label(record.label, lookahead)
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


def lookahead_label(name: str, lookahead: tuple[int, float] | None) -> str:
    """An optimizer's name as legends show it, wrapped when Lookahead wraps it: the one
    place that spells ``Lookahead(Adam, k=5, α=0.5)``."""
    if lookahead is None:
        return name
    return f"Lookahead({name}, k={lookahead[0]}, α={lookahead[1]:g})"


def sweep_label(plan: OptimizerPlan) -> str:
    """The optimizer as a sweep's legend names it: every setting but the swept lr."""
    name = lookahead_label(plan.record.label, plan.lookahead)
    inner = ", ".join(f"{k}={format_value(v)}" for k, v in plan.kwargs.items() if k != "lr")
    return f"{name} ({inner})" if inner else name
