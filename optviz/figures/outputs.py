"""Every output a figure can be written as, by file suffix: the still formats (PNG, SVG, PDF)
and the kinds that need more than one still figure (animations, interactive pages).

A writer takes the rendered figure (spec, computed result, the still ``Figure``) and the dpi,
and returns the file's bytes. Adding an output is its own module plus one line in
``build_outputs``; every command, config and the gallery then write it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from optviz.errors import BadValueError
from optviz.figures.formats import FORMATS, figure_bytes
from optviz.figures.kind import Computed

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class Rendered(Protocol):
    """What a writer reads of a rendered figure (``optviz.figures.write.Rendered``)."""

    spec: Any
    kind: Any  # the FigureKind that computed and draws it
    computed: Computed

    @property
    def figure(self) -> Figure: ...

    def config_text(self) -> str: ...


Writer = Callable[[Rendered, "int | None"], bytes]


def _still(suffix: str) -> Writer:
    def write(rendered: Rendered, dpi: int | None) -> bytes:
        return figure_bytes(rendered.figure, suffix, dpi, rendered.config_text())

    return write


def _lazy(module: str, name: str) -> Writer:
    """The writer ``name`` of ``optviz.figures.<module>``, imported when first called: a PNG
    does not pay for the animation and HTML modules' imports (start-up time, issue 16)."""
    def write(rendered: Rendered, dpi: int | None) -> bytes:
        import importlib

        writer: Writer = getattr(importlib.import_module(f"optviz.figures.{module}"), name)
        return writer(rendered, dpi)

    return write


def build_outputs() -> dict[str, Writer]:
    """Every output by suffix."""
    outputs: dict[str, Writer] = {suffix: _still(suffix) for suffix in FORMATS}
    outputs[".gif"] = _lazy("animate", "write_gif")
    outputs[".mp4"] = _lazy("animate", "write_mp4")
    outputs[".html"] = _lazy("explore", "write_html")
    return outputs


_OUTPUTS: dict[str, Writer] = {}


def outputs() -> dict[str, Writer]:
    if not _OUTPUTS:
        _OUTPUTS.update(build_outputs())
    return _OUTPUTS


def check_suffix(path: Path | str) -> str:
    """The output a file name asks for; one line listing the supported ones if none."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in outputs():
        supported = ", ".join(outputs())
        raise BadValueError(f"output {path}: unknown format {suffix or '(no suffix)'!r}; use "
                            f"one of {supported}")
    return suffix


def output_bytes(rendered: Any, suffix: str, dpi: int | None = None) -> bytes:
    """The bytes of ``rendered`` written as a ``suffix`` file."""
    return outputs()[check_suffix(Path(f"x{suffix}"))](rendered, dpi)
