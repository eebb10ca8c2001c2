"""Shared fixtures: an empty output directory, a PNG-to-pixels loader and a clean environment."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

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
    from matplotlib.image import imread

    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    img = imread(io.BytesIO(data), format="png")
    # RGB as 0..255 integers; the alpha channel of a savefig PNG is opaque.
    return np.round(img[..., :3] * 255).astype(np.int16)


@pytest.fixture(scope="session")
def png_pixels() -> Callable[[Path | bytes], np.ndarray]:
    """Returns a loader: PNG file or bytes -> (height, width, 3) int array of 0..255 RGB."""
    return _load_png
