"""A tiny optimizer plugin on PYTHONPATH, for the tests: it halves the step of plain GD."""

import torch
from torch.optim import Optimizer


class HalfStep(Optimizer):
    """Gradient descent with half the learning rate: x <- x - lr/2 * g."""

    optviz_quirks = {"elementwise": True}  # noqa: RUF012

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.sub_(0.5 * group["lr"] * p.grad)


def not_an_optimizer():
    """Returns a string, so building it as an optimizer fails."""
    return "nope"
