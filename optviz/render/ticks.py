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

Only the figure's own 2-D axes are changed, only while the block runs (instance attributes,
removed at its end). Axes whose two methods are not matplotlib's 2-D ones (3-D axes, which
measure each side's labels on one tick list moved in between; a future version's) are drawn
as usual.

A minor locator makes a tick object of five artists (two lines, a grid line, two texts) for
each mark, made, measured and drawn one by one: for a mark at every step of a short schedule,
about a third of the figure's time. ``minor_marks`` draws the same marks (the same marker,
size, width and colour, unclipped, left out of the layout as ticks are) as one line of markers,
with the same pixels; where ticks do not point out below the axis (other rcParams), it sets
matplotlib's own minor ticks at the same places instead.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

import matplotlib as mpl
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.lines import TICKDOWN, Line2D
from matplotlib.ticker import FixedLocator

_TICKS = "_update_ticks"
_BOXES = "_get_ticklabel_bboxes"
# The two calls that repeat the tick work, as matplotlib's 2-D axes define them. Other axes (a
# 3-D axis measures each side's labels on the same tick list, moved in between) are left alone.
_OWN = {"get_tightbbox": Axis.get_tightbbox, "draw": Axis.draw}


def _once_per_call(axis: Axis, method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` of ``axis``, with the axis' tick updates and tick label boxes worked out on
    first use inside each call and answered from there for the rest of that call."""
    cls = type(axis)

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        if _TICKS in vars(axis):  # an enclosing call on this axis holds the answers
            return method(*args, **kwargs)
        ticks: list[Any] = []
        boxes: dict[tuple[int, int], Any] = {}

        def update() -> Any:
            if not ticks:
                ticks.append(getattr(cls, _TICKS)(axis))
            return ticks[0]

        def label_boxes(drawn: Any, renderer: Any) -> Any:
            key = (id(drawn), id(renderer))
            if key not in boxes:
                boxes[key] = getattr(cls, _BOXES)(axis, drawn, renderer)
            return boxes[key]

        setattr(axis, _TICKS, update)
        setattr(axis, _BOXES, label_boxes)
        try:
            return method(*args, **kwargs)
        finally:
            delattr(axis, _TICKS)
            delattr(axis, _BOXES)

    return call


def _plain_2d(axis: Axis) -> bool:
    """Whether ``axis`` measures and draws as matplotlib's 2-D axes do (what the memo is for)."""
    cls = type(axis)
    return (all(getattr(cls, name, None) is own for name, own in _OWN.items())
            and hasattr(cls, _TICKS) and hasattr(cls, _BOXES))


Wrappers = dict[str, Callable[..., Any]]


def _undo(axes: list[Axis], ours: list[Wrappers], before: list[dict[str, Any]]) -> None:
    """Each axis gets back what it had before the block, where the block's wrapper is still
    in place (a block ended out of order leaves the later one's); an enclosing block's
    wrapper only while that block is open."""
    for wrappers in ours:
        for wrapper in wrappers.values():
            wrapper.ended = True  # type: ignore[attr-defined]
    for axis, wrappers, own in zip(axes, ours, before, strict=True):
        for name, wrapper in wrappers.items():
            if vars(axis).get(name) is not wrapper:
                continue
            if own[name] is None or getattr(own[name], "ended", False):
                del vars(axis)[name]
            else:
                setattr(axis, name, own[name])


@contextlib.contextmanager
def ticks_once(fig: Figure) -> Iterator[None]:
    """Within: each 2-D axis of ``fig`` works its ticks out once per ``get_tightbbox`` or
    ``draw`` call (see the module's docstring)."""
    unique = {id(a): a for a in fig.findobj(Axis) if isinstance(a, Axis)}
    axes = [a for a in unique.values() if _plain_2d(a)]
    ours: list[Wrappers] = [{name: _once_per_call(a, getattr(a, name)) for name in _OWN}
                            for a in axes]
    before = [{name: vars(a).get(name) for name in _OWN} for a in axes]
    for axis, wrappers in zip(axes, ours, strict=True):
        for name, wrapper in wrappers.items():
            setattr(axis, name, wrapper)
    try:
        yield
    finally:
        _undo(axes, ours, before)


class MinorMarks(Artist):
    """Minor tick marks below an x-axis, drawn by one line of markers. An artist of its own,
    not a line: the axes' lines (``ax.get_lines()``) stay what the figure plots."""

    def __init__(self, ax: Axes, xs: list[float]) -> None:
        """Marks as the x axis' minor ticks look under the rcParams of now, pointing out
        (``minor_marks`` makes them only where ticks point out)."""
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
        if self.get_visible() and self.axes is not None and self.axes.xaxis.get_visible():
            self.line.draw(renderer)
        self.stale = False


def minor_marks(ax: Axes, xs: list[float]) -> MinorMarks | None:
    """Minor tick marks at ``xs`` (data) below ``ax``'s x-axis, as matplotlib draws minor
    ticks without labels, in one artist (see the module's docstring); None where the ticks
    are matplotlib's own (rcParams with ticks that do not point out below the axis)."""
    rc = mpl.rcParams
    if rc["xtick.direction"] != "out" or not (rc["xtick.bottom"] and rc["xtick.minor.bottom"]):
        ax.xaxis.set_minor_locator(FixedLocator(xs))
        return None
    marks = MinorMarks(ax, xs)
    ax.add_artist(marks)
    return marks
