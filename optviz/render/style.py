"""Shared look: a palette with a stable colour per name."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

# tab10 with black in place of its grey, which vanishes on grey contours.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#000000",
)


def colours_for(names: Sequence[str]) -> list[str]:
    """A colour per name: the name's own colour (from a hash, so it is the same in every
    figure) unless an earlier name in this figure took it, then the next free one."""
    taken: set[int] = set()
    out = []
    for name in names:
        idx = zlib.crc32(name.encode()) % len(PALETTE)
        for _ in range(len(PALETTE)):
            if idx not in taken:
                break
            idx = (idx + 1) % len(PALETTE)
        taken.add(idx)
        if len(taken) == len(PALETTE):
            taken.clear()
        out.append(PALETTE[idx])
    return out
