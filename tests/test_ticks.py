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


def _mixed_figure() -> Any:
    """Aligned labels, shared axes, a secondary axis and a log axis on one figure."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    axes = fig.subplots(2, 2, sharex="col")
    for i, ax in enumerate(axes.flat):
        ax.plot([1, 10, 100], [1, 1e3 * (i + 1), 1e5], label=f"run {i}")
        ax.set_ylabel(f"loss {i}" * (i + 1))
    axes[0, 0].set_yscale("log")
    axes[0, 1].secondary_xaxis("top", functions=(lambda x: x / 8, lambda e: e * 8))
    fig.align_labels()
    return fig


@pytest.mark.parametrize("suffix", [".png", ".pdf"])
def test_aligned_shared_and_secondary_axes_give_the_same_bytes(
        suffix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    once = figure_bytes(_mixed_figure(), suffix)
    with monkeypatch.context() as m:
        _without_ticks_once(m)
        plain = figure_bytes(_mixed_figure(), suffix)
    assert once == plain


def test_3d_axes_are_left_as_matplotlib_made_them() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def measured(once: bool) -> list[list[float]]:
        fig = Figure(figsize=(5, 4))
        ax = fig.add_subplot(projection="3d")
        ax.plot([0, 1], [0, 1], [0, 1])
        ax.zaxis.set_ticks_position("both")  # each side's labels measured on one tick list
        FigureCanvasAgg(fig).draw()
        renderer = fig.canvas.get_renderer()
        with ticks.ticks_once(fig) if once else contextlib.nullcontext():
            assert not any("draw" in vars(a) for a in (ax.xaxis, ax.yaxis, ax.zaxis))
            boxes = [a.get_tightbbox(renderer) for a in (ax.zaxis, fig)]
        return [list(b.extents) for b in boxes]

    assert measured(True) == measured(False)


def test_blocks_ended_out_of_order_leave_no_wrapper_behind() -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    first, second = ticks.ticks_once(fig), ticks.ticks_once(fig)
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    second.__exit__(None, None, None)
    assert "draw" not in vars(ax.xaxis) and "get_tightbbox" not in vars(ax.yaxis)


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


def _old_minor_ticks(ax: Axes, xs: list[float]) -> None:
    """What the schedule did before: matplotlib's own minor ticks at every step."""
    ax.xaxis.set_minor_locator(MultipleLocator(1))


@pytest.mark.parametrize(("epochs", "per_epoch", "extra"), [
    (4, 8, {}), (7, 9, {"log_y": True}), (64, 1, {}),
    (4, 8, {"schedulers": ["step", "cyclic:base_lr=1e-4,max_lr=1e-3,step_size_up=4"],
            "grid": True}),
])
def test_step_marks_are_matplotlibs_minor_ticks_pixel_for_pixel(
        epochs: int, per_epoch: int, extra: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import optviz.render.schedule as schedule

    fields = {"schedulers": ["step", "onecycle"], "epochs": epochs,
              "steps_per_epoch": per_epoch, "optimizer": "sgd:momentum=0.9", **extra}
    rendered = render_figure(ScheduleSpec.model_validate(fields))
    ours = figure_bytes(rendered.figure)
    marked = [(ax, mark) for ax in _all_axes(rendered.figure) for mark in _marks(ax)]
    assert marked
    for ax, mark in marked:
        major = ax.xaxis.get_major_locator()()
        expected = [s for s in range(rendered.result.steps + 1)
                    if not np.isclose(major, s).any()]
        assert list(mark.line.get_xdata()) == expected
        assert mark.line.get_marker() == TICKDOWN and not mark.get_in_layout()
        assert mark not in ax.get_lines()  # the axes' lines are what the figure plots
    with monkeypatch.context() as m:
        m.setattr(schedule, "minor_marks", _old_minor_ticks)
        old = render_figure(ScheduleSpec.model_validate(fields)).figure
        theirs = figure_bytes(old)
        steps = rendered.result.steps  # the view is 0..steps: matplotlib draws those
        minor = [[float(x) for x in ax.xaxis.get_minorticklocs() if 0 <= x <= steps]
                 for ax in _all_axes(old)]
    ours_by_axes = [[list(m.line.get_xdata()) for m in _marks(ax)]
                    for ax in _all_axes(rendered.figure)]
    for old_locs, marks in zip(minor, ours_by_axes, strict=True):
        if marks:  # where the marks are, matplotlib had minor ticks at the same steps
            assert marks == [old_locs]
    assert np.array_equal(_pixels(ours), _pixels(theirs))


def test_ticks_that_do_not_point_out_are_matplotlibs_own() -> None:
    import matplotlib as mpl
    from matplotlib.figure import Figure

    with mpl.rc_context({"xtick.direction": "in"}):
        ax = Figure().subplots()
        assert ticks.minor_marks(ax, [1.0, 2.0, 3.0]) is None
        assert list(ax.xaxis.get_minor_locator()()) == [1.0, 2.0, 3.0]


def test_a_long_schedule_has_no_step_marks() -> None:
    spec = ScheduleSpec.model_validate({"schedulers": ["cosine"], "epochs": MAX_STEP_MARKS + 1,
                                        "steps_per_epoch": 1})
    fig = render_figure(spec).figure
    assert _all_axes(fig)
    assert not any(_marks(ax) for ax in _all_axes(fig))
