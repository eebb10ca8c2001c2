"""Tick work matplotlib repeats, done once: each axis' ticks worked out once per measurement
or draw (``ticks_once``), and many minor tick marks drawn as one artist (``minor_marks``).

matplotlib's ``Axis.get_tightbbox`` (what constrained layout measures every axes with, twice
per layout) and ``Axis.draw`` each update the axis' ticks (locations, labels, tick artists)
three times and measure the tick labels twice: for themselves, again to place the axis label
(``_update_label_position``), and once more inside the spine's extent. Nothing changes the
axis between those calls, so the answers repeat. Within ``ticks_once(fig)`` each axis of
``fig`` answers the repeats inside one ``get_tightbbox`` or ``draw`` call from that call's
first answers; every call still starts afresh, so a layout that moves the axes between calls
gets new ticks. A many-panel figure's PNG takes about a sixth less time, with the same
pixels (``tests/test_ticks.py`` compares them).

Only the figure's own axes are changed, only while the block runs (instance attributes,
removed at its end). Where matplotlib's axes lack the two methods (a future version), the
figure is drawn as usual.

A minor locator makes a tick object of five artists (two lines, a grid line, two texts) for
each mark, made, measured and drawn one by one: for a mark at every step of a short schedule,
about a third of the figure's time. ``minor_marks`` draws the same marks (the same marker,
size, width and colour, unclipped, left out of the layout as ticks are) as one line of markers,
with the same pixels.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.lines import TICKDOWN, Line2D

_TICKS = "_update_ticks"
_BOXES = "_get_ticklabel_bboxes"
_SCOPED = ("get_tightbbox", "draw")


def _once_per_call(axis: Axis, method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` of ``axis``, with the axis' tick updates and tick label boxes answered
    once inside each call."""
    cls = type(axis)

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        if _TICKS in vars(axis):  # nested (a 3-D axis measures inside its draw): the outer
            return method(*args, **kwargs)  # call's answers already hold
        ticks = getattr(cls, _TICKS)(axis)
        boxes: dict[tuple[int, int], Any] = {}

        def label_boxes(drawn: list[Any], renderer: Any) -> Any:
            key = (id(drawn), id(renderer))
            if key not in boxes:
                boxes[key] = getattr(cls, _BOXES)(axis, drawn, renderer)
            return boxes[key]

        setattr(axis, _TICKS, lambda: ticks)
        setattr(axis, _BOXES, label_boxes)
        try:
            return method(*args, **kwargs)
        finally:
            delattr(axis, _TICKS)
            delattr(axis, _BOXES)

    return call


@contextlib.contextmanager
def ticks_once(fig: Figure) -> Iterator[None]:
    """Within: each axis of ``fig`` works its ticks out once per ``get_tightbbox`` or
    ``draw`` call (see the module's docstring)."""
    axes = [a for a in fig.findobj(Axis) if isinstance(a, Axis)]
    if not all(hasattr(type(a), _TICKS) and hasattr(type(a), _BOXES) for a in axes):
        yield
        return
    before = [{name: vars(axis).get(name) for name in _SCOPED} for axis in axes]
    for axis in axes:
        for name in _SCOPED:
            setattr(axis, name, _once_per_call(axis, getattr(axis, name)))
    try:
        yield
    finally:
        for axis, own in zip(axes, before, strict=True):
            for name, value in own.items():
                if value is None:
                    vars(axis).pop(name, None)
                else:  # an enclosing block's
                    setattr(axis, name, value)


class MinorMarks(Artist):
    """Minor tick marks below an x-axis, drawn by one line of markers. An artist of its own,
    not a line: the axes' lines (``ax.get_lines()``) stay what the figure plots."""

    def __init__(self, ax: Axes, xs: list[float]) -> None:
        import matplotlib as mpl

        super().__init__()
        colour = mpl.rcParams["xtick.color"]
        self.line = Line2D(
            xs, [0.0] * len(xs), transform=ax.get_xaxis_transform(which="tick1"),
            linestyle="none", marker=TICKDOWN, markersize=mpl.rcParams["xtick.minor.size"],
            markeredgewidth=mpl.rcParams["xtick.minor.width"], color=colour,
            markeredgecolor=colour, clip_on=False)
        self.set_zorder(ax.xaxis.get_zorder())  # drawn where the axis draws its ticks
        self.set_in_layout(False)

    def set_figure(self, fig: Any) -> None:
        super().set_figure(fig)
        self.line.set_figure(fig)

    def draw(self, renderer: Any) -> None:
        if self.get_visible():
            self.line.draw(renderer)
        self.stale = False


def minor_marks(ax: Axes, xs: list[float]) -> MinorMarks:
    """Minor tick marks at ``xs`` (data) below ``ax``'s x-axis, as matplotlib draws minor
    ticks without labels, in one artist (see the module's docstring)."""
    marks = MinorMarks(ax, xs)
    ax.add_artist(marks)
    return marks
