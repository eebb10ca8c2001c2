"""Output formats by suffix: a rendered figure to the bytes of a PNG, SVG or PDF file.

Every format is deterministic (no dates, a fixed SVG hash salt) and carries the figure's
resolved config and optviz's version where the format has room for text (a PNG text chunk,
the SVG's metadata), so that a picture can be rendered again from itself. Adding a format is
one function and one line in ``FORMATS``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING

from optviz.config import CONFIG_KEY, VERSION_KEY

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEFAULT_DPI = 150
_SVG_SALT = "optviz"


def _version() -> str:
    from optviz.version import __version__

    return __version__


def _png(fig: Figure, dpi: int, config: str | None) -> bytes:
    meta = {"Software": None}
    if config is not None:
        meta |= {CONFIG_KEY: config, VERSION_KEY: _version()}
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata=meta)
    return buf.getvalue()


def _svg(fig: Figure, dpi: int, config: str | None) -> bytes:
    import matplotlib

    meta = {"Date": None, "Creator": f"optviz {_version()}"}
    if config is not None:
        meta["Description"] = config
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": _SVG_SALT}):
        fig.savefig(buf, format="svg", dpi=dpi, metadata=meta)
    return buf.getvalue()


def _pdf(fig: Figure, dpi: int, config: str | None) -> bytes:
    meta = {"CreationDate": None, "ModDate": None, "Creator": f"optviz {_version()}",
            "Producer": None}
    if config is not None:
        meta["Subject"] = config
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf", dpi=dpi, metadata=meta)
    return buf.getvalue()


FORMATS: dict[str, Callable[[Figure, int, str | None], bytes]] = {
    ".png": _png, ".svg": _svg, ".pdf": _pdf,
}


def figure_bytes(fig: Figure, suffix: str = ".png", dpi: int | None = None,
                 config: str | None = None) -> bytes:
    """``fig`` as the bytes of a ``suffix`` file, with ``config`` embedded where it fits."""
    return FORMATS[suffix.lower()](fig, dpi or DEFAULT_DPI, config)
