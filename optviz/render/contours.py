"""Contour sets whose lines are computed once per process for the same surface and levels.

Tracing a surface's contours (contourpy, through matplotlib) is most of a contour's cost, and
the same surface is traced again and again: every panel of a grid on one function, every
re-render of ``--watch``, every figure of a gallery on the same view. ``contour_set`` draws
``ax.contour``/``ax.contourf``'s contour set, but takes the traced lines from a small cache
keyed by everything they depend on (the grid's and heights' bytes, the levels as traced, with
any ``extend`` levels, the lowest height, filled or not, log scale, matplotlib's contour
algorithm, corner mask and chunk size); each set's paths are built afresh from the cached
vertices and codes, as matplotlib builds them, so they take the rcParams of their time.
The colours, norm, limits and artists are matplotlib's own, built as ``ax.contourf`` builds
them. Where matplotlib has no such step to take over (it is private), or names what the key
reads otherwise, it traces every time.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.contour import QuadContourSet
from matplotlib.path import Path

# Traced line sets kept (a filled and a line set per surface): a grid of panels on one
# function, with an inset each, keeps its panels' set. Up to about 3 MB each (rastrigin's
# filled and line sets on a 300 x 300 grid), most well under 1 MB.
CACHE_SIZE = 8

Traced = list[tuple[np.ndarray, np.ndarray | None]]
_TRACED: OrderedDict[tuple[Any, ...], Traced] = OrderedDict()
_HOOK = "_make_paths_from_contour_generator"


def grid_key(xs: Any, ys: Any, z: Any) -> bytes:
    """A digest of a surface's grid and heights (values, shapes and dtypes)."""
    digest = hashlib.blake2b(digest_size=20)
    for array in (xs, ys, z):
        a = np.ascontiguousarray(array)
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.digest()


class _Traced(QuadContourSet):
    """A QuadContourSet that looks up its traced lines before tracing them."""

    def __init__(self, ax: Axes, *args: Any, surface_key: bytes, **kwargs: Any) -> None:
        self._surface_key = surface_key
        super().__init__(ax, *args, **kwargs)

    def _key(self) -> tuple[Any, ...]:
        """What the traced lines depend on besides the surface (AttributeError where this
        matplotlib names it otherwise)."""
        levels = np.asarray(self._levels, dtype=float)  # with extend's levels, as traced
        return (self._surface_key, bool(self.filled), levels.tobytes(), float(self.zmin),
                bool(self.logscale), self._algorithm, self._corner_mask, self.nchunk)

    def _make_paths_from_contour_generator(self) -> list[Path]:
        if self._paths is not None:
            return self._paths
        try:
            key = self._key()
        except AttributeError:
            return super()._make_paths_from_contour_generator()
        if key in _TRACED:
            _TRACED.move_to_end(key)
        else:
            traced = super()._make_paths_from_contour_generator()
            _TRACED[key] = [(p.vertices.copy(), None if p.codes is None else p.codes.copy())
                            for p in traced]  # its own arrays: the set's may be changed
            while len(_TRACED) > CACHE_SIZE:
                _TRACED.popitem(last=False)
            return traced
        return [Path(v.copy(), None if c is None else c.copy()) for v, c in _TRACED[key]]


def contour_set(ax: Axes, xs: Any, ys: Any, z: Any, *, filled: bool, key: bytes | None = None,
                **kwargs: Any) -> QuadContourSet:
    """``ax.contourf(xs, ys, z, **kwargs)`` (``filled``) or ``ax.contour(...)``, its traced
    lines shared with earlier sets of the same surface; ``key`` is ``grid_key(xs, ys, z)``
    when the caller has it already."""
    if not hasattr(QuadContourSet, _HOOK):  # a matplotlib without the step: trace as usual
        return (ax.contourf if filled else ax.contour)(xs, ys, z, **kwargs)
    key = grid_key(xs, ys, z) if key is None else key
    contours = _Traced(ax, xs, ys, z, filled=filled, surface_key=key, **kwargs)
    ax._request_autoscale_view()  # as Axes.contour does after building its set
    return contours
