"""Pixel helpers for the picture tests: which pixels are near a colour, and each pixel's
darkest channel. Channel by channel: numpy reduces a last axis of three slowly."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def within(pixels: np.ndarray, rgb: Sequence[float] | np.ndarray, tol: float) -> np.ndarray:
    """(h, w) mask of the pixels within ``tol`` of ``rgb`` in every channel."""
    near = np.ones(pixels.shape[:2], dtype=bool)
    for channel, value in enumerate(np.asarray(rgb).tolist()):
        near &= np.abs(pixels[..., channel] - value) <= tol
    return near


def darkest(pixels: np.ndarray) -> np.ndarray:
    """(h, w): each pixel's smallest channel (near 255 only where it is near white)."""
    return np.minimum(np.minimum(pixels[..., 0], pixels[..., 1]), pixels[..., 2])
