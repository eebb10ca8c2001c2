"""Lookahead (Zhang et al. 2019, "Lookahead Optimizer: k steps forward, 1 step back").

The inner optimizer moves the fast weights; every k steps the slow weights move a fraction
alpha towards them, and the fast weights restart from there:

    every k-th step:  slow ← slow + α·(fast − slow);  fast ← slow
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.optim import Optimizer


class Lookahead(Optimizer):
    """Wraps any optimizer. It shares the inner optimizer's param_groups, so an LR scheduler
    attached to the wrapper drives the inner optimizer."""

    def __init__(self, optimizer: Optimizer, k: int = 5, alpha: float = 0.5) -> None:
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"Invalid k: {k} (an integer >= 1)")
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"Invalid alpha: {alpha} (0 < alpha <= 1)")
        self.optimizer = optimizer
        self.k = k
        self.alpha = alpha
        # Optimizer.__init__ appends the very same group dicts, so both see one set of groups.
        super().__init__(optimizer.param_groups, dict(optimizer.defaults))
        self.defaults.update({"k": k, "alpha": alpha})
        self.steps_taken = 0
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["slow"] = p.detach().clone()

    def slow_weights(self) -> list[torch.Tensor]:
        """The slow weights, in parameter order."""
        return [self.state[p]["slow"] for g in self.param_groups for p in g["params"]]

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self.optimizer.step() if closure is None else self.optimizer.step(closure)
        self.steps_taken += 1
        if self.steps_taken % self.k == 0:
            for group in self.param_groups:
                for p in group["params"]:
                    slow = self.state[p]["slow"]
                    slow.add_(p - slow, alpha=self.alpha)
                    p.copy_(slow)
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict[str, Any]:
        slow = {i: s.clone() for i, s in enumerate(self.slow_weights())}
        return {"inner": self.optimizer.state_dict(), "slow": slow,
                "steps_taken": self.steps_taken, "k": self.k, "alpha": self.alpha}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state_dict["inner"])
        # torch's load_state_dict puts new group dicts in the inner optimizer; share them again,
        # or a scheduler attached to the wrapper would set an lr the inner optimizer never reads.
        self.param_groups = self.optimizer.param_groups
        for i, p in enumerate(p for g in self.param_groups for p in g["params"]):
            self.state[p]["slow"] = state_dict["slow"][i].to(p.device, p.dtype).clone()
        self.steps_taken = int(state_dict["steps_taken"])
        self.k = int(state_dict["k"])
        self.alpha = float(state_dict["alpha"])
        self.defaults.update({"k": self.k, "alpha": self.alpha})
