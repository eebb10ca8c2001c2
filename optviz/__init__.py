"""optviz: see how PyTorch optimizers and learning-rate schedulers move.

The Python API (``optviz.api``), loaded on first use so that ``import optviz`` stays free of
torch and matplotlib::

    import optviz
    pic = optviz.trajectory("adam", "sgd:momentum=0.9", function="rosenbrock", lr=0.01)
    pic.figure          # a matplotlib Figure
    pic.data            # what --export x.json writes
    pic.save("adam.svg")
"""

from __future__ import annotations

import sys
import types
from typing import Any

from optviz.version import __version__

__all__ = ["OptvizError", "Picture", "__version__", "basin", "render", "schedule", "sweep",
           "trajectory"]

_API = {"trajectory", "schedule", "sweep", "basin", "Picture"}


class _Render:
    """``optviz.render(config)``, the API call, which is also the name of the drawing layer's
    package: called, it renders a config; an attribute (``optviz.render.trajectory``) is the
    subpackage's."""

    def __call__(self, config: Any, allow_imports: bool = False) -> Any:
        from optviz.api import render

        return render(config, allow_imports=allow_imports)

    def __getattr__(self, name: str) -> Any:
        import importlib

        return getattr(importlib.import_module("optviz.render"), name)

    def __repr__(self) -> str:
        return "<function optviz.render(config)>"


class _Package(types.ModuleType):
    """The package module: importing the ``optviz.render`` subpackage must not replace the
    ``optviz.render`` function (the import system sets the attribute on its parent)."""

    _render = _Render()

    @property
    def render(self) -> _Render:
        return self._render

    @render.setter
    def render(self, module: types.ModuleType) -> None:
        pass  # the subpackage stays reachable in sys.modules and through the proxy


sys.modules[__name__].__class__ = _Package


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
