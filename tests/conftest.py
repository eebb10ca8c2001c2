"""Shared fixtures: an empty output directory, a PNG-to-pixels loader and a clean environment."""

from __future__ import annotations

import io
import os

# The suite's tensors are tiny: one OpenMP thread per process. Two xdist workers on a 2-core
# machine, each with a pool of a thread per core (and the processes tests start, which inherit
# this), spin against each other; set before anything imports torch.
os.environ.setdefault("OMP_NUM_THREADS", "1")
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's OPTVIZ_DEBUG=1 would turn every one-line error into a traceback.
    monkeypatch.delenv("OPTVIZ_DEBUG", raising=False)


@pytest.fixture(autouse=True)
def _registries_as_built() -> Iterator[None]:
    # Resolving a plugin's dotted path adds it to the process's registry, as it should; a test
    # must not leave its plugins in the listings another test reads.
    from optviz.registry import OPTIMIZERS, SCHEDULERS

    saved = [(r, r.snapshot()) for r in (OPTIMIZERS, SCHEDULERS)]
    yield
    for registry, snapshot in saved:
        registry.restore(snapshot)


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """An empty directory for a test's outputs, so 'nothing else was written' can be checked."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def _load_png(source: Path | bytes) -> np.ndarray:
    from PIL import Image

    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    with Image.open(io.BytesIO(data)) as img:
        # RGB as 0..255 integers; the alpha channel of a savefig PNG is opaque.
        return np.asarray(img.convert("RGB"), dtype=np.int16)


@pytest.fixture(scope="session")
def png_pixels() -> Callable[[Path | bytes], np.ndarray]:
    """Returns a loader: PNG file or bytes -> (height, width, 3) int array of 0..255 RGB."""
    return _load_png


def _texts_off_canvas(fig: Any, laid_out: bool = False) -> list[str]:
    """What is drawn past the canvas' edge: the tight box of everything drawn (titles, labels,
    tick labels that are drawn, legends, annotations) against the canvas; each text that
    sticks out is named. ``laid_out``: the figure was just saved, so savefig's draw has laid
    it out and placed every artist where the picture has it (ticks made, titles and labels
    moved, 3-D texts projected); the boxes are measured on that state, at the figure's dpi,
    rather than drawn again (a draw costs about as much as the measuring itself)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    from optviz.render.ticks import ticks_once

    canvas = FigureCanvasAgg(fig)
    with ticks_once(fig):  # as the picture is saved: the same layout, ticks worked out once
        if not laid_out:
            # Laid out and drawn with drawing itself switched off: every text's place and
            # size is known, no pixel is painted.
            fig.draw_without_rendering()
        renderer = canvas.get_renderer()
        tight = fig.get_tightbbox(renderer)
    w, h = fig.get_size_inches()
    if tight.x0 >= -0.01 and tight.y0 >= -0.01 and tight.x1 <= w + 0.01 and tight.y1 <= h + 0.01:
        return []
    bad = []
    for text in fig.findobj(Text):
        if not text.get_visible() or not text.get_text().strip():
            continue
        box = text.get_window_extent(renderer)
        if box.x0 < -1 or box.y0 < -1 or box.x1 > fig.bbox.width + 1 \
                or box.y1 > fig.bbox.height + 1:
            bad.append(f"{text.get_text()!r} at {box.bounds}")
    return bad or [f"something drawn at {tight.bounds}, canvas {w} x {h} in"]


@pytest.fixture(scope="session")
def texts_off_canvas() -> Callable[..., list[str]]:
    """Returns a checker: figure (and whether it was just saved: ``laid_out``) -> the texts
    drawn past the canvas' edge (none: [])."""
    return _texts_off_canvas



# Modules whose module-scoped fixtures are expensive (the whole gallery rendered, a browser
# launched, background processes started): under pytest-xdist each worker that runs one of a
# module's tests sets its fixtures up again. With ``-n N`` (``--dist load``, the default) the
# scheduler below sends all of such a module's tests to one worker, so the setup is paid once,
# and spreads every other test on its own over the workers as they free up.
_ONE_WORKER = {"test_gallery", "test_explorer", "test_core_cli",
               "test_core_render", "test_core_engine", "test_basin", "test_plugins",
               "test_sweep", "test_gallery_browser", "test_schedule_cli"}

try:
    import xdist
except ImportError:  # pragma: no cover - the suite also runs without pytest-xdist
    xdist = None

if xdist is not None:
    def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
        if config.getvalue("dist") != "load":
            return None  # --dist each, loadfile, worksteal...: xdist's own
        from xdist.scheduler import LoadScopeScheduling

        class CostlyModulesTogether(LoadScopeScheduling):
            def _split_scope(self, nodeid: str) -> str:
                path = nodeid.split("::", 1)[0]
                return path if Path(path).stem in _ONE_WORKER else nodeid

        return CostlyModulesTogether(config, log)


# The longest modules start first, so that no worker is left running one of them alone at the
# end (test_configs renders every gallery figure; run on one worker, it is the critical path).
_FIRST = ("test_configs", "test_gallery", "test_pictures")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def first(item: pytest.Item) -> int:
        stem = Path(str(item.fspath)).stem
        return _FIRST.index(stem) if stem in _FIRST else len(_FIRST)

    items.sort(key=first)  # stable: each module keeps its own order


def pytest_collection_finish(session: pytest.Session) -> None:
    """Each process that runs tests collects garbage as optviz's own processes do (the
    console script, each worker): less often, never again over what the test modules
    imported (torch, matplotlib, plotly), which is frozen once they are collected."""
    from optviz.collector import collect_less_often

    collect_less_often(freeze=True)
