"""The dummy linear model of the article on choosing an optimizer: torch.nn.Linear trained
with MSELoss on seeded synthetic regression data, and its exact least-squares solution."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class LinearData:
    """Inputs ``x`` (samples x in), targets ``y`` (samples x out) and the generating weights."""

    x: torch.Tensor
    y: torch.Tensor
    true_weight: torch.Tensor
    true_bias: torch.Tensor | None


def make_data(samples: int = 256, in_features: int = 10, out_features: int = 1,
              bias: bool = True, noise: float = 0.1, seed: int = 0,
              dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu"
              ) -> LinearData:
    """y = x·Wᵀ + b + noise·ε with x, W, b, ε standard normal, from one seeded generator."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, in_features, generator=gen, dtype=torch.float64)
    w = torch.randn(out_features, in_features, generator=gen, dtype=torch.float64)
    b = torch.randn(out_features, generator=gen, dtype=torch.float64) if bias else None
    y = x @ w.T + (b if b is not None else 0.0)
    y = y + noise * torch.randn(samples, out_features, generator=gen, dtype=torch.float64)
    cast = {"dtype": dtype, "device": device}
    return LinearData(x.to(**cast), y.to(**cast), w.to(**cast),
                      b.to(**cast) if b is not None else None)


def make_model(data: LinearData, bias: bool, seed: int) -> torch.nn.Linear:
    """torch's own initialisation of nn.Linear, seeded, on the data's device and dtype."""
    torch.manual_seed(seed)
    model = torch.nn.Linear(data.x.shape[1], data.y.shape[1], bias=bias)
    return model.to(dtype=data.x.dtype, device=data.x.device)


def flat_params(model: torch.nn.Linear) -> torch.Tensor:
    """Weights then bias, flattened: the point a path records."""
    parts = [model.weight.detach().reshape(-1)]
    if model.bias is not None:
        parts.append(model.bias.detach().reshape(-1))
    return torch.cat(parts)


def least_squares(data: LinearData, bias: bool) -> torch.Tensor:
    """The exact minimiser of the MSE, in the same flat layout as ``flat_params``."""
    x = data.x.double().cpu().numpy()
    if bias:
        x = np.concatenate([x, np.ones((x.shape[0], 1))], axis=1)
    y = data.y.double().cpu().numpy()
    # The normal equations, summed by einsum (no BLAS) and solved at (in+1) x (in+1): the
    # same bits every call. torch.linalg.lstsq's threaded QR differed in the last bits from
    # call to call, and with it the PCA plane and every exported point.
    gram, rhs = np.einsum("ni,nj->ij", x, x), np.einsum("ni,nk->ik", x, y)
    # lstsq, not solve: with fewer samples than weights the gram matrix is singular, and its
    # minimum-norm solution is the minimum-norm least-squares one.
    sol = torch.from_numpy(np.linalg.lstsq(gram, rhs, rcond=None)[0])  # (in[+1]) x out
    weight = sol[: data.x.shape[1]].T.reshape(-1)
    parts = [weight]
    if bias:
        parts.append(sol[-1].reshape(-1))
    return torch.cat(parts)


def mse_at(data: LinearData, theta: torch.Tensor, bias: bool) -> torch.Tensor:
    """Full-data MSE at flat parameters ``theta`` shaped (..., P): a batch in one call."""
    n_in, n_out = data.x.shape[1], data.y.shape[1]
    theta = theta.to(device=data.x.device, dtype=data.x.dtype)
    w = theta[..., : n_in * n_out].reshape(*theta.shape[:-1], n_out, n_in)
    pred = torch.einsum("si,...oi->...so", data.x, w)
    if bias:
        pred = pred + theta[..., n_in * n_out:].unsqueeze(-2)
    return ((pred - data.y) ** 2).mean(dim=(-2, -1))
