"""Optimizers optviz ships beyond torch.optim: Lion and the Lookahead wrapper."""

from optviz.optim.lion import Lion
from optviz.optim.lookahead import Lookahead

__all__ = ["Lion", "Lookahead"]
