"""Tick work done once: ``render.ticks.ticks_once`` (each axis' ticks worked out once per
measurement or draw) and a short schedule's step marks (one artist instead of a minor tick
object per step) give the pixels matplotlib's own way gives, with less work."""

from __future__ import annotations

import contextlib
import io
from collections import Counter
from typing import Any

import matplotlib.axis as maxis
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.lines import TICKDOWN
from matplotlib.ticker import MultipleLocator

import optviz.render.ticks as ticks
from optviz.figures.formats import figure_bytes
from optviz.figures.write import render_figure
from optviz.render.schedule import MAX_STEP_MARKS
from optviz.spec.figures import ScheduleSpec, TrajectorySpec


def _pixels(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGBA"))


@pytest.fixture
def tick_updates(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Counts every axis' tick updates (``Axis._update_ticks``, matplotlib's own)."""
    calls: Counter = Counter()
    own = maxis.Axis._update_ticks

    def counted(self: maxis.Axis) -> Any:
        calls["updates"] += 1
        return own(self)

    monkeypatch.setattr(maxis.Axis, "_update_ticks", counted)
    return calls


def _without_ticks_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ticks, "ticks_once", lambda fig: contextlib.nullcontext())


SMALL = {  # several panels, log axes, a secondary axis; quick to compute
    "panels": (TrajectorySpec, {
        "function": "rosenbrock", "steps": 30, "layout": "panels",
        "panels": [{"optimizers": [name]} for name in ("adam", "sgd", "rmsprop", "momentum")]}),
    "schedule": (ScheduleSpec, {
        "schedulers": ["step", "onecycle", "exponential"], "layout": "panels", "epochs": 4,
        "panels": [{"schedulers": [name]} for name in ("step", "onecycle", "exponential")],
        "optimizer": "sgd:momentum=0.9"}),
}


@pytest.mark.parametrize(("figure", "suffix"), [("panels", ".png"), ("schedule", ".png"),
                                                ("schedule", ".svg")])
def test_the_same_bytes_with_half_the_tick_updates(figure: str, suffix: str,
                                                   tick_updates: Counter,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    kind, fields = SMALL[figure]
    rendered = render_figure(kind.model_validate(fields))
    once = figure_bytes(rendered.figure, suffix)
    fewer = tick_updates["updates"]
    tick_updates.clear()
    rendered.__dict__.pop("figure")  # drawn again, from scratch
    with monkeypatch.context() as m:
        _without_ticks_once(m)
        plain = figure_bytes(rendered.figure, suffix)
    assert once == plain
    assert fewer <= 0.55 * tick_updates["updates"]


def test_the_axes_get_their_own_methods_back_even_after_an_error() -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    axes = [ax.xaxis, ax.yaxis]
    with pytest.raises(RuntimeError), ticks.ticks_once(fig):
        assert all("draw" in vars(a) and "get_tightbbox" in vars(a) for a in axes)
        raise RuntimeError
    assert not any({"draw", "get_tightbbox", "_update_ticks"} & set(vars(a)) for a in axes)


def test_nested_blocks_restore_the_enclosing_blocks_methods() -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    with ticks.ticks_once(fig):
        outer = vars(ax.xaxis)["draw"]
        with ticks.ticks_once(fig):
            assert vars(ax.xaxis)["draw"] is not outer
        assert vars(ax.xaxis)["draw"] is outer
        fig.canvas.draw()  # the inner wrapper defers to the outer call's answers
    assert "draw" not in vars(ax.xaxis)


def test_an_axis_without_the_two_methods_is_drawn_as_usual(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    monkeypatch.setattr(ticks, "_BOXES", "_a_name_this_matplotlib_does_not_have")
    with ticks.ticks_once(fig):
        assert "draw" not in vars(ax.xaxis)


# -- a short schedule's step marks --------------------------------------------------------------


def _marks(ax: Any) -> list[ticks.MinorMarks]:
    return [a for a in ax.get_children() if isinstance(a, ticks.MinorMarks)]


def _all_axes(fig: Any) -> list[Axes]:
    return [a for a in fig.findobj(Axes) if isinstance(a, Axes)]


@pytest.mark.parametrize(("epochs", "per_epoch"), [(4, 8), (7, 9), (64, 1)])
def test_step_marks_are_matplotlibs_minor_ticks_pixel_for_pixel(epochs: int,
                                                                 per_epoch: int) -> None:
    spec = ScheduleSpec.model_validate({"schedulers": ["step", "onecycle"], "epochs": epochs,
                                        "steps_per_epoch": per_epoch,
                                        "optimizer": "sgd:momentum=0.9"})
    rendered = render_figure(spec)
    fig = rendered.figure
    ours = figure_bytes(fig)
    marked = [(ax, mark) for ax in _all_axes(fig) for mark in _marks(ax)]
    assert marked
    for ax, mark in marked:
        major = ax.xaxis.get_major_locator()()
        expected = [s for s in range(rendered.result.steps + 1)
                    if not np.isclose(major, s).any()]
        assert list(mark.line.get_xdata()) == expected
        assert mark.line.get_marker() == TICKDOWN and not mark.get_in_layout()
        assert mark not in ax.get_lines()  # the axes' lines are what the figure plots
        mark.remove()
        ax.xaxis.set_minor_locator(MultipleLocator(1))  # matplotlib's own minor ticks
    assert np.array_equal(_pixels(figure_bytes(fig)), _pixels(ours))


def test_a_long_schedule_has_no_step_marks() -> None:
    spec = ScheduleSpec.model_validate({"schedulers": ["cosine"], "epochs": MAX_STEP_MARKS + 1,
                                        "steps_per_epoch": 1})
    fig = render_figure(spec).figure
    assert _all_axes(fig)
    assert not any(_marks(ax) for ax in _all_axes(fig))
