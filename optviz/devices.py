"""Turning ``--device`` text into a torch device, or one clear error if it is not here."""

from __future__ import annotations

import re

import torch

from optviz.errors import BadValueError, DeviceError

_PATTERN = re.compile(r"^(cpu|auto|mps|cuda(:\d+)?)$")


def resolve_device(name: str) -> torch.device:
    """``cpu``, ``cuda``, ``cuda:N``, ``mps`` or ``auto`` (the best one available)."""
    text = name.strip().lower()
    if not _PATTERN.match(text):
        raise BadValueError(f"unknown device {name!r}; use cpu, cuda, cuda:N, mps or auto")
    if text == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if text.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(f"device {name!r} is not available: this torch sees no CUDA GPU")
        index = int(text.split(":")[1]) if ":" in text else 0
        if index >= torch.cuda.device_count():
            raise DeviceError(
                f"device {name!r} is not available: only {torch.cuda.device_count()} CUDA GPU(s)"
            )
    if text == "mps" and not torch.backends.mps.is_available():
        raise DeviceError("device 'mps' is not available on this machine")
    return torch.device(text)
