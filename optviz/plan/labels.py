"""How values and runs read in legends, titles and exports: one formatting for every label."""

from __future__ import annotations

from typing import Any


def format_value(value: Any) -> str:
    """Compact text for a setting in a legend: ``0.1``, ``1e-05``, ``(0.9, 0.99)``."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    return str(value)
