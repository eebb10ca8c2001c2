"""The EMA-weights figure kind of the torch.optim article: the weight (1 − β)·β^i that an
average with factor β gives the value i steps back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optviz.figures.kind import Computed, FigureKind
from optviz.hooks import Hooks
from optviz.render.ema import ema_figure, ema_weights
from optviz.spec.figures import EmaSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def compute(spec: EmaSpec, hooks: Hooks) -> Computed:
    """The weights of every β, as plain data."""
    weights = [ema_weights(b, spec.points) for b in spec.betas]
    return Computed({"kind": "ema", "betas": list(spec.betas), "weights": weights})


def draw(computed: Computed, spec: EmaSpec) -> Figure:
    data = computed.result
    return ema_figure(data["betas"], data["weights"], spec.title)


def stem(spec: EmaSpec) -> str:
    return "ema"


KIND = FigureKind("ema", EmaSpec, compute, draw, stem)
