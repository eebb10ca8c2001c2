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


class Extras:
    """Steps an optional scheduler after each optimizer step (or epoch) and records the LR each
    step used and, if asked, the optimizer's state after each step."""

    def __init__(self, optimizer: Any, scheduler_plan: Any = None, interval: str = "step",
                 show_state: bool = False, label: str = "") -> None:
        self.optimizer = optimizer
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
                    self.scheduler = scheduler_plan.build(optimizer)
                except OptvizError:
                    raise
                except Exception as exc:
                    raise BadValueError(f"{scheduler_plan.label} on {label}: {exc}") from None

    def before_step(self) -> None:
        if self.lr is not None:
            self.lr.append(finite_or_none(float(self.optimizer.param_groups[0]["lr"])))

    def after_step(self, loss: float, end_of_epoch: bool = True) -> None:
        self._steps += 1
        if self.state is not None:
            norms = state_norms(self.optimizer)
            for key in norms.keys() | self.state.keys():
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

    def pad(self, steps: int) -> None:
        """Fill the series up to ``steps`` entries when a run stopped early (diverged)."""
        if self.lr is not None:
            self.lr.extend([None] * (steps - len(self.lr)))
        if self.state is not None:
            for series in self.state.values():
                series.extend([None] * (steps - len(series)))
