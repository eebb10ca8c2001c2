"""What a run records beside its path: the LR each step used (with a scheduler attached) and
the optimizer's internal state (momentum buffers, Adam's moments, Adagrad's sum).

Shared by the analytic-function engine and the linear-model engine, so both step a scheduler
and read state the same way.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch

from optviz.engines.schedule import fit_to_optimizer
from optviz.errors import BadValueError, OptvizError
from optviz.results import finite_or_none


def state_norms(optimizer: Any) -> dict[str, float]:
    """The norm of each tensor in the optimizer's ``state_dict()`` state (over all parameters),
    and for Adam-like state the mean effective step lr / (√v̂ + eps) per coordinate."""
    inner = getattr(optimizer, "optimizer", optimizer)  # Lookahead: the wrapped optimizer
    sd = inner.state_dict()
    per_key: dict[str, list[torch.Tensor]] = {}
    for state in sd["state"].values():
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and value.dim() > 0:  # not step counters
                per_key.setdefault(key, []).append(value.detach().reshape(-1).double().cpu())
    out = {f"‖{k}‖": float(torch.cat(v).norm()) for k, v in per_key.items()}
    group = sd["param_groups"][0]
    if "exp_avg_sq" in per_key and "betas" in group and "eps" in group:
        first = next(iter(sd["state"].values()))
        t = float(first.get("step", 0))
        if t > 0:
            v = torch.cat(per_key["exp_avg_sq"])
            bc2 = 1 - group["betas"][1] ** t
            eff = float(group["lr"]) / ((v / bc2).sqrt() + group["eps"])
            out["effective step (mean)"] = float(eff.mean())
    return out


# The state tensors drawn as vectors, by the name torch gives them in ``state_dict()``.
MOMENTUM_KEYS = ("momentum_buffer", "exp_avg")  # SGD's momentum, Adam's first moment
SECOND_MOMENT_KEYS = ("exp_avg_sq", "square_avg", "sum")  # Adam's, RMSprop's, Adagrad's


def _flat(tensors: list[torch.Tensor]) -> list[float | None]:
    values = torch.cat([t.detach().to_dense().reshape(-1).double().cpu() for t in tensors])
    return [finite_or_none(v) for v in values.tolist()]


def inner_vectors(optimizer: Any, grads: list[torch.Tensor]) -> dict[str, list[float | None]]:
    """The vectors of one step, read from the optimizer itself: the gradient it stepped on,
    its momentum buffer and second moment as its ``state_dict()`` holds them after the step,
    and the per-coordinate scaling 1/(√v + eps) of that second moment."""
    inner = getattr(optimizer, "optimizer", optimizer)  # Lookahead: the wrapped optimizer
    sd = inner.state_dict()
    out: dict[str, list[float | None]] = {"gradient": _flat(grads)}
    states = [sd["state"].get(i, {}) for i in range(len(grads))]
    group = sd["param_groups"][0]
    for name, keys in (("momentum", MOMENTUM_KEYS), ("second_moment", SECOND_MOMENT_KEYS)):
        for key in keys:
            if all(isinstance(s.get(key), torch.Tensor) for s in states):
                out[name] = _flat([s[key] for s in states])
                out[f"{name}_key"] = key  # type: ignore[assignment]
                break
    if "second_moment" in out:
        v = torch.cat([s[out["second_moment_key"]].detach().reshape(-1).double().cpu()
                       for s in states])  # type: ignore[index]
        eps = float(group.get("eps", 0.0) or 0.0)
        out["scaling"] = [finite_or_none(x) for x in (1.0 / (v.sqrt() + eps)).tolist()]
    return out


class Extras:
    """Steps an optional scheduler after each optimizer step (or epoch) and records the LR each
    step used and, if asked, the optimizer's state after each step and its inner vectors
    (gradient, update, momentum, scaling) at each step."""

    def __init__(self, optimizer: Any, scheduler_plan: Any = None, interval: str = "step",
                 show_state: bool = False, label: str = "", vectors: bool = False) -> None:
        self.optimizer = optimizer
        self.vectors: dict[str, list[list[float | None]]] | None = {} if vectors else None
        self.vector_keys: dict[str, str] | None = {} if vectors else None
        self._before: list[torch.Tensor] = []
        self.plan = scheduler_plan
        self.interval = interval
        self.show_state = show_state
        self.lr: list[float | None] | None = [] if scheduler_plan is not None else None
        self.state: dict[str, list[float | None]] | None = {} if show_state else None
        self.notes: list[str] = []
        self._steps = 0
        self.scheduler = None
        if scheduler_plan is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    self.scheduler = fit_to_optimizer(scheduler_plan, optimizer).build(optimizer)
                except OptvizError:
                    raise
                except Exception as exc:
                    raise BadValueError(f"{scheduler_plan.label} on {label}: {exc}") from None

    def _params(self) -> list[torch.Tensor]:
        return [p for g in self.optimizer.param_groups for p in g["params"]]

    def before_step(self) -> None:
        if self.vectors is not None:
            self._before = [p.detach().clone() for p in self._params()]
        if self.lr is not None:
            self.lr.append(finite_or_none(float(self.optimizer.param_groups[0]["lr"])))

    def after_step(self, loss: float, end_of_epoch: bool = True) -> None:
        self._steps += 1
        if self.vectors is not None:
            self._record_vectors()
        if self.state is not None:
            norms = state_norms(self.optimizer)
            # In order of first appearance: a set's order would change with the hash seed.
            for key in dict.fromkeys([*self.state, *norms]):
                series = self.state.setdefault(key, [None] * (self._steps - 1))
                series.append(finite_or_none(norms[key]) if key in norms else None)
        if self.scheduler is None or (self.interval == "epoch" and not end_of_epoch):
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's order warnings; the order here is right
            try:
                if self.plan.record.needs_metric:
                    self.scheduler.step(loss if math.isfinite(loss) else float("inf"))
                else:
                    self.scheduler.step()
            except TypeError as exc:  # a setting of the wrong type, met at its first use
                raise BadValueError(f"{self.plan.label}: a setting has the wrong type "
                                    f"({exc})") from None
            except Exception as exc:
                # torch refusing mid-run (OneCycleLR past its total): keep the last LR.
                note = f"{self.plan.record.label} stopped after step {self._steps}: {exc}"
                if note not in self.notes:
                    self.notes.append(note)
                self.scheduler = None

    def _record_vectors(self) -> None:
        """Step k's vectors: the gradient the step used (what ``.grad`` holds after it), the
        update it made (the parameters after minus before), and the state it left."""
        params = self._params()
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        found = inner_vectors(self.optimizer, grads)
        found["update"] = _flat([p.detach() - b for p, b in zip(params, self._before,
                                                                 strict=True)])
        for name, value in found.items():
            if name.endswith("_key"):
                self.vector_keys[name[:-4]] = value  # type: ignore[index]
            else:
                series = self.vectors.setdefault(name, [None] * (self._steps - 1))  # type: ignore[union-attr]
                series.append(value)

    def pad(self, steps: int) -> None:
        """Fill the series up to ``steps`` entries when a run stopped early (diverged)."""
        if self.lr is not None:
            self.lr.extend([None] * (steps - len(self.lr)))
        if self.state is not None:
            for series in self.state.values():
                series.extend([None] * (steps - len(series)))
        if self.vectors is not None:
            for series in self.vectors.values():
                series.extend([None] * (steps - len(series)))
