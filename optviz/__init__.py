"""optviz: see how PyTorch optimizers and learning-rate schedulers move.

The Python API (see ``optviz.api``), loaded on first use so that ``import optviz`` stays free
of torch and matplotlib::

    import optviz
    pic = optviz.trajectory("adam", "sgd:momentum=0.9", function="rosenbrock", lr=0.01)
    pic.figure          # a matplotlib Figure
    pic.data            # what --export x.json writes
    pic.save("adam.svg")
"""

from __future__ import annotations

from typing import Any

__version__ = "0.2.0"

__all__ = ["OptvizError", "Picture", "__version__", "basin", "render", "schedule", "sweep",
           "trajectory"]

_API = {"trajectory", "schedule", "sweep", "basin", "render", "Picture"}


def __getattr__(name: str) -> Any:
    if name in _API:
        from optviz import api

        return getattr(api, name)
    if name == "OptvizError":
        from optviz.errors import OptvizError

        return OptvizError
    raise AttributeError(f"module 'optviz' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
