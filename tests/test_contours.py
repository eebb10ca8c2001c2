"""Contour sets traced once per surface and levels (optviz.render.contours): the same lines,
colours and limits as matplotlib's own ``contourf``/``contour``, traced only when new."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from matplotlib.colors import LogNorm
from matplotlib.contour import QuadContourSet
from matplotlib.figure import Figure

from optviz.render import contours

XS = np.linspace(-2.0, 2.0, 61)
YS = np.linspace(-1.0, 3.0, 47)
Z = (1 - XS[None, :]) ** 2 + 100 * (YS[:, None] - XS[None, :] ** 2) ** 2  # Rosenbrock
LEVELS = Z.min() + (Z.max() - Z.min()) * np.linspace(0.0, 1.0, 24) ** 2


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """An empty cache, and one entry per time matplotlib traces lines (filled or not)."""
    monkeypatch.setattr(contours, "_TRACED", type(contours._TRACED)())
    calls: list[bool] = []
    trace = QuadContourSet._make_paths_from_contour_generator

    def counted(self: QuadContourSet) -> Any:
        calls.append(bool(self.filled))
        return trace(self)

    monkeypatch.setattr(QuadContourSet, "_make_paths_from_contour_generator", counted)
    return calls


def _sets(z: np.ndarray = Z, levels: np.ndarray = LEVELS, **kw: Any) -> tuple[Any, Any]:
    ax = Figure().add_subplot()
    filled = contours.contour_set(ax, XS, YS, z, filled=True, levels=levels, cmap="Blues_r",
                                  alpha=0.35, **kw)
    lines = contours.contour_set(ax, XS, YS, z, filled=False, levels=levels, colors="#5a6b7b",
                                 linewidths=0.6, alpha=0.7)
    return filled, lines


def _matplotlibs(z: np.ndarray = Z, levels: np.ndarray = LEVELS, **kw: Any) -> tuple[Any, Any]:
    ax = Figure().add_subplot()
    filled = ax.contourf(XS, YS, z, levels=levels, cmap="Blues_r", alpha=0.35, **kw)
    lines = ax.contour(XS, YS, z, levels=levels, colors="#5a6b7b", linewidths=0.6, alpha=0.7)
    return filled, lines


def assert_same_set(a: Any, b: Any) -> None:
    assert len(a.get_paths()) == len(b.get_paths())
    for p, q in zip(a.get_paths(), b.get_paths(), strict=True):
        np.testing.assert_array_equal(p.vertices, q.vertices)
        np.testing.assert_array_equal(p.codes, q.codes)
    np.testing.assert_array_equal(a.get_facecolor(), b.get_facecolor())
    np.testing.assert_array_equal(a.get_edgecolor(), b.get_edgecolor())
    np.testing.assert_array_equal(a.levels, b.levels)
    assert (a.zmin, a.zmax) == (b.zmin, b.zmax)
    assert a.sticky_edges.x == b.sticky_edges.x and a.sticky_edges.y == b.sticky_edges.y
    assert a.axes.dataLim.bounds == b.axes.dataLim.bounds
    assert a.axes.get_xlim() == b.axes.get_xlim() and a.axes.get_ylim() == b.axes.get_ylim()


def test_a_second_set_of_one_surface_is_matplotlibs_without_tracing_again(
        traced: list[bool]) -> None:
    first = _sets()
    assert traced == [True, False]
    again = _sets()
    assert traced == [True, False]  # from the cache
    plain = _matplotlibs()
    for ours in (first, again):
        for a, b in zip(ours, plain, strict=True):
            assert_same_set(a, b)
    # each set has its own paths: changing one leaves the other and the cache alone
    again[0].get_paths()[3].vertices[:] = 0.0
    assert_same_set(_sets()[0], plain[0])


def test_log_levels_and_a_norm_are_matplotlibs_too(traced: list[bool]) -> None:
    floor = float(Z.max() - Z.min()) * 1e-5
    height = np.maximum(Z - Z.min(), floor)
    levels = np.geomspace(floor, float(Z.max() - Z.min()), 24)
    norm = {"norm": LogNorm(vmin=floor, vmax=levels[-1])}
    ours = _sets(height, levels, **norm)
    plain = _matplotlibs(height, levels, norm=LogNorm(vmin=floor, vmax=levels[-1]))
    for a, b in zip(ours, plain, strict=True):
        assert_same_set(a, b)


@pytest.mark.parametrize("change", ["heights", "levels", "grid", "extend", "log"])
def test_anything_the_lines_depend_on_traces_them_again(traced: list[bool], change: str) -> None:
    _sets(Z + 1.0, LEVELS + 1.0)  # heights above 0, for the log scale
    xs, z, levels, kw = XS, Z + 1.0, LEVELS + 1.0, {}
    if change == "heights":
        z[10, 10] += 1e-9  # one height, by a hair
    elif change == "levels":
        levels[5] *= 1.0 + 1e-12
    elif change == "grid":
        xs = XS + 1e-12
    elif change == "extend":
        kw = {"extend": "both"}  # two more levels traced, past the ends
    else:
        kw = {"norm": LogNorm(vmin=levels[0], vmax=levels[-1])}
    got = contours.contour_set(Figure().add_subplot(), xs, YS, z, filled=True, levels=levels,
                               **kw)
    assert traced == [True, False, True]
    assert_same_set(got, Figure().add_subplot().contourf(xs, YS, z, levels=levels, **kw))


def test_each_set_gets_its_own_paths_made_under_its_own_settings(traced: list[bool]) -> None:
    from matplotlib import rc_context

    first = _sets()
    first[0].get_paths()[3].vertices[:] = 0.0  # a set's paths changed: the cache's are not
    with rc_context({"path.simplify": False}):
        unsimplified = _sets()
    later = _sets()
    assert traced == [True, False]  # traced once, by the first
    with rc_context({"path.simplify": False}):
        theirs_unsimplified = _matplotlibs()
    for ours, theirs in ((unsimplified, theirs_unsimplified), (later, _matplotlibs())):
        for a, b in zip(ours, theirs, strict=True):
            assert_same_set(a, b)
            assert [p.should_simplify for p in a.get_paths()] == [
                p.should_simplify for p in b.get_paths()]
    assert any(p.should_simplify for p in later[1].get_paths())
    assert not any(p.should_simplify for p in unsimplified[1].get_paths())


def test_the_cache_keeps_the_latest_sets_only(traced: list[bool],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contours, "CACHE_SIZE", 3)
    for k in range(4):
        _sets(Z + k)
    assert len(contours._TRACED) == 3
    assert len(traced) == 8
    _sets(Z + 3)  # the latest two sets: still there
    assert len(traced) == 8
    _sets(Z + 0)  # the oldest: gone, traced again
    assert len(traced) == 10


def test_without_matplotlibs_tracing_step_it_is_plain_contourf(
        traced: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contours, "_HOOK", "_no_such_step")
    filled, lines = _sets()
    assert type(filled) is QuadContourSet and type(lines) is QuadContourSet
    assert traced == [True, False] and not contours._TRACED
    for a, b in zip((filled, lines), _matplotlibs(), strict=True):
        assert_same_set(a, b)
