"""Output formats by suffix: a rendered figure to the bytes of a PNG, SVG or PDF file.

Every format is deterministic (no dates, a fixed SVG hash salt) and carries the figure's
resolved config and optviz's version where the format has room for text (a PNG text chunk,
the SVG's metadata), so that a picture can be rendered again from itself. Adding a format is
one function and one line in ``FORMATS``.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from optviz.config import CONFIG_KEY, VERSION_KEY

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEFAULT_DPI = 150
_SVG_SALT = "optviz"


def _version() -> str:
    from optviz.version import __version__

    return __version__


# zlib level for PNGs: 3 compresses an RGB figure within 2% of matplotlib's default 6 at about
# two thirds of its time (a many-panel figure: 1.89 MB in 168 ms against 1.86 MB in 215 ms).
PNG_COMPRESS_LEVEL = 3


def _png(fig: Figure, dpi: int, config: str | None) -> bytes:
    """The figure drawn by matplotlib's Agg at ``dpi`` and encoded by Pillow: RGB where every
    pixel is opaque (a figure's white face; a tenth smaller and faster than the RGBA that
    ``savefig`` writes), RGBA otherwise, with the config and version as text chunks."""
    import numpy as np
    from PIL import Image, PngImagePlugin

    raw = io.BytesIO()
    with _agg_canvas(fig, dpi) as canvas:
        fig.savefig(raw, format="raw", dpi=dpi)
        height, width = int(canvas.renderer.height), int(canvas.renderer.width)
    data = raw.getvalue()
    pixels = np.frombuffer(data, dtype=np.uint8).reshape(height, width, 4)
    if pixels[..., 3].min() == 255:  # unpacked by Pillow ("RGBX"): no strided copy
        image = Image.frombytes("RGB", (width, height), data, "raw", "RGBX")
    else:
        image = Image.fromarray(pixels)
    info = PngImagePlugin.PngInfo()
    if config is not None:
        info.add_text(CONFIG_KEY, config)
        info.add_text(VERSION_KEY, _version())
    out = io.BytesIO()
    image.save(out, format="png", pnginfo=info, dpi=(dpi, dpi),
               compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


@contextlib.contextmanager
def _agg_canvas(fig: Figure, dpi: int) -> Iterator[Any]:
    """Within: ``fig`` on an Agg canvas (yielded), laid out by its layout engine for ``dpi``
    with the engine set aside. matplotlib's ``savefig`` draws a figure that has a layout
    engine twice, once with drawing turned off just to run the engine, then for real; the
    engine run alone, on an Agg renderer at the same dpi, gives the same layout (the same
    pixels) without the first draw, a fifth of a many-panel figure's time. The figure gets
    its canvas, engine and dpi back."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.layout_engine import ConstrainedLayoutEngine, TightLayoutEngine

    engine = fig.get_layout_engine()
    canvas, old_dpi = fig.canvas, fig.dpi
    try:
        agg = FigureCanvasAgg(fig)
        if isinstance(engine, ConstrainedLayoutEngine | TightLayoutEngine) and fig.axes:
            fig.dpi = dpi
            agg.get_renderer()  # what the engine measures text with
            engine.execute(fig)
            _without_layout_engine(fig)
        yield agg
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
        fig.dpi = old_dpi
        fig.set_canvas(canvas)


def _without_layout_engine(fig: Figure) -> None:
    """No layout engine at all: ``set_layout_engine("none")`` leaves a placeholder engine, for
    which ``savefig`` still draws the figure a first time (None, read with the rc settings
    that would turn an engine back on switched off)."""
    import matplotlib

    with matplotlib.rc_context({"figure.autolayout": False,
                                "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)


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
    """``fig`` as the bytes of a ``suffix`` file, with ``config`` embedded where it fits;
    each axis works its ticks out once per measurement and draw (``render.ticks``)."""
    from optviz.render.ticks import ticks_once

    with ticks_once(fig):
        return FORMATS[suffix.lower()](fig, dpi or DEFAULT_DPI, config)
