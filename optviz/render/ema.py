"""The exponentially-weighted-average figure of the torch.optim article: weight vs steps back."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from optviz.render.style import colours_for


def ema_weights(beta: float, points: int) -> list[float]:
    """The weight (1 − β)·β^i of the value i steps back, for i = 0 .. points − 1."""
    return [(1 - beta) * beta**i for i in range(points)]


def draw_ema(ax: Axes, betas: Sequence[float], weights: Sequence[Sequence[float]]) -> Axes:
    for beta, w, colour in zip(betas, weights, colours_for([f"beta{b}" for b in betas]),
                               strict=True):
        steps = np.arange(len(w))
        horizon = 1 / (1 - beta)
        ax.plot(steps, w, "-o", ms=2.5, lw=1.4, color=colour,
                label=f"β = {beta:g}  (memory ≈ 1/(1−β) = {horizon:.0f} steps)")
    ax.set_xlabel("steps back (i)")
    ax.set_ylabel("weight (1 − β)·βⁱ")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax


def ema_figure(betas: Sequence[float], weights: Sequence[Sequence[float]],
               title: str | None = None) -> Figure:
    fig = Figure(figsize=(9, 5), layout="constrained")
    ax = fig.subplots()
    draw_ema(ax, betas, weights)
    ax.set_title(title or "Exponentially weighted average: weight of each past value")
    return fig
