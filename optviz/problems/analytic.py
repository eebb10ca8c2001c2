"""Torch implementations of the analytic test functions.

Each takes a tensor of points shaped (..., dim) and returns the values shaped (...), so the same
code evaluates one point, a batch of paths, or a whole plotting grid in one call.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

_TAU = 2 * math.pi


def quadratic(p: Tensor) -> Tensor:
    x, y = p[..., 0], p[..., 1]
    return x**2 + 10 * y**2


def parabola(p: Tensor) -> Tensor:
    return 4 * p[..., 0] ** 2


def rosenbrock(p: Tensor) -> Tensor:
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def rastrigin(p: Tensor) -> Tensor:
    return 10 * p.shape[-1] + (p**2 - 10 * torch.cos(_TAU * p)).sum(-1)


def beale(p: Tensor) -> Tensor:
    x, y = p[..., 0], p[..., 1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def himmelblau(p: Tensor) -> Tensor:
    x, y = p[..., 0], p[..., 1]
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def booth(p: Tensor) -> Tensor:
    x, y = p[..., 0], p[..., 1]
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


def ackley(p: Tensor) -> Tensor:
    x, y = p[..., 0], p[..., 1]
    # The tiny offset keeps the gradient finite at the origin, where sqrt is not differentiable;
    # it moves the value there by about 4e-11.
    r = torch.sqrt(0.5 * (x**2 + y**2) + 1e-20)
    return (
        -20 * torch.exp(-0.2 * r)
        - torch.exp(0.5 * (torch.cos(_TAU * x) + torch.cos(_TAU * y)))
        + math.e
        + 20
    )


def saddle(p: Tensor) -> Tensor:
    x, y = p[..., 0], p[..., 1]
    return x**2 - y**2


def six_hump_camel(p: Tensor) -> Tensor:
    x, y = p[..., 0], p[..., 1]
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


def styblinski_tang(p: Tensor) -> Tensor:
    return 0.5 * (p**4 - 16 * p**2 + 5 * p).sum(-1)


def goldstein_price(p: Tensor) -> Tensor:
    x, y = p[..., 0], p[..., 1]
    a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    return a * b


def valley(p: Tensor) -> Tensor:
    # u runs along the valley floor (direction (0.8, 0.6)), v across it.
    x, y = p[..., 0], p[..., 1]
    u = 0.8 * x + 0.6 * y
    v = 0.8 * y - 0.6 * x
    return 5 * u**2 + 500 * v**2


def plateau_saddle(p: Tensor) -> Tensor:
    # A degenerate saddle: along y the slope near 0 is only y³, so plain steps crawl there.
    x, y = p[..., 0], p[..., 1]
    return x**2 + y**6 / 6 - y**4 / 4
