"""Learning-rate grids as specs write them: ``LO:HI:N`` (log-spaced) or a list. A leaf of the
spec layer, so that every spec that takes a grid (the sweep's ``lr``, the trajectory's
``explore_lrs``) reads it with one parser."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

MAX_LRS = 10_000


def parse_lr_grid(value: str | Sequence[float] | float) -> list[float]:
    """``"1e-4:1:64"`` (64 log-spaced values from 1e-4 to 1), ``"0.01,0.1"`` or a list."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        values = [float(value)]
    elif isinstance(value, str):
        text = value.strip()
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError(f"expected LO:HI:N, e.g. 1e-4:1:64, got {value!r}")
            try:
                lo, hi = float(parts[0]), float(parts[1])
                count = int(parts[2])
            except ValueError:
                raise ValueError(f"expected LO:HI:N with N a whole number, got {value!r}") \
                    from None
            if not (0 < lo < hi and math.isfinite(hi)):
                raise ValueError(f"LO:HI:N needs 0 < LO < HI, both finite, got {value!r}")
            if not 2 <= count <= MAX_LRS:
                raise ValueError(f"N must be between 2 and {MAX_LRS}, got {count}")
            import numpy as np

            return [float(v) for v in np.geomspace(lo, hi, count)]
        try:
            values = [float(p) for p in re.split(r"[,\s]+", text) if p]
        except ValueError:
            raise ValueError(f"expected LO:HI:N or numbers separated by commas, got {value!r}") \
                from None
    else:
        try:
            values = [float(v) for v in value]
        except (TypeError, ValueError):
            raise ValueError(f"expected a list of numbers, got {value!r}") from None
    if not values:
        raise ValueError("needs at least one learning rate")
    if len(values) > MAX_LRS:
        raise ValueError(f"at most {MAX_LRS} learning rates, got {len(values)}")
    for v in values:
        if not (v > 0 and math.isfinite(v)):
            raise ValueError(f"learning rates must be finite numbers > 0, got {v:g}")
    return values
