"""The article's hand-written optimizers as torch.optim.Optimizer subclasses (an optviz plugin).

Each step follows the article's formulas for a parameter x with gradient g:

- GD:          x ← x − lr·g
- MomentumGD:  v ← μ·v + g;  x ← x − lr·v
- NesterovGD:  v ← μ·v + g;  x ← x − lr·(g + μ·v)
- AdaGrad:     h ← h + g²;  x ← x − lr·g / √(h + eps)
- RMSProp:     h ← α·h + (1 − α)·g²;  x ← x − lr·g / √(h + eps)
- Adam:        v ← β1·v + (1 − β1)·g;  h ← β2·h + (1 − β2)·g²;
               x ← x − lr·(v / (1 − β1ᵗ)) / (√(h / (1 − β2ᵗ)) + eps)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import torch
from torch.optim import Optimizer

__all__ = ["GD", "AdaGrad", "Adam", "MomentumGD", "NesterovGD", "RMSProp"]


class _Article(Optimizer):
    """Shared loop: call ``_update(p, grad, state, group)`` for every parameter with a grad."""

    # Each update reads one coordinate at a time, so optviz may batch these (issue 7).
    optviz_quirks: ClassVar[dict[str, bool]] = {"elementwise": True}

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, p.grad, self.state[p], group)
        return loss

    def _update(self, p: torch.Tensor, g: torch.Tensor, state: dict, group: dict) -> None:
        raise NotImplementedError


class GD(_Article):
    """Gradient descent: x ← x − lr·g."""

    def __init__(self, params: Iterable[Any], lr: float = 0.01) -> None:
        super().__init__(params, {"lr": lr})

    def _update(self, p, g, state, group):
        p.sub_(group["lr"] * g)


class MomentumGD(_Article):
    """Momentum: v ← μ·v + g;  x ← x − lr·v."""

    def __init__(self, params: Iterable[Any], lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum})

    def _update(self, p, g, state, group):
        v = state.setdefault("v", torch.zeros_like(p))
        v.mul_(group["momentum"]).add_(g)
        p.sub_(group["lr"] * v)


class NesterovGD(_Article):
    """Nesterov momentum, look-ahead form: v ← μ·v + g;  x ← x − lr·(g + μ·v)."""

    def __init__(self, params: Iterable[Any], lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum})

    def _update(self, p, g, state, group):
        v = state.setdefault("v", torch.zeros_like(p))
        v.mul_(group["momentum"]).add_(g)
        p.sub_(group["lr"] * (g + group["momentum"] * v))


class AdaGrad(_Article):
    """AdaGrad: h ← h + g²;  x ← x − lr·g / √(h + eps)."""

    def __init__(self, params: Iterable[Any], lr: float = 0.01, eps: float = 1e-8) -> None:
        super().__init__(params, {"lr": lr, "eps": eps})

    def _update(self, p, g, state, group):
        h = state.setdefault("h", torch.zeros_like(p))
        h.add_(g * g)
        p.sub_(group["lr"] * g / (h + group["eps"]) ** 0.5)


class RMSProp(_Article):
    """RMSProp: h ← α·h + (1 − α)·g²;  x ← x − lr·g / √(h + eps)."""

    def __init__(self, params: Iterable[Any], lr: float = 0.01, alpha: float = 0.9,
                 eps: float = 1e-8) -> None:
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps})

    def _update(self, p, g, state, group):
        h = state.setdefault("h", torch.zeros_like(p))
        h.mul_(group["alpha"]).add_((1 - group["alpha"]) * g * g)
        p.sub_(group["lr"] * g / (h + group["eps"]) ** 0.5)


class Adam(_Article):
    """Adam with bias correction: x ← x − lr·v̂ / (√ĥ + eps)."""

    def __init__(self, params: Iterable[Any], lr: float = 0.01, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8) -> None:
        super().__init__(params, {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps})

    def _update(self, p, g, state, group):
        b1, b2 = group["beta1"], group["beta2"]
        state["t"] = t = state.get("t", 0) + 1
        v = state.setdefault("v", torch.zeros_like(p))
        h = state.setdefault("h", torch.zeros_like(p))
        v.mul_(b1).add_((1 - b1) * g)
        h.mul_(b2).add_((1 - b2) * g * g)
        v_hat = v / (1 - b1**t)
        h_hat = h / (1 - b2**t)
        p.sub_(group["lr"] * v_hat / (h_hat.sqrt() + group["eps"]))
