"""The optimizer's inner vectors at a point of its path: the negative gradient, the update it
took, its momentum (negated: the way it pushes) and the per-coordinate scaling 1/(√v + eps) of
its second moment, all as the engine read them from the optimizer's ``state_dict()``.

Arrows show direction and size relative to the same vector's largest along the run (so a
gradient of 1e3 and an Adam step of 1e-3 are both visible), never shorter than MIN_SHARE of
the view's diagonal (near a minimum a run's vectors shrink to a pixel, inside its head
marker: they keep their direction at that length, and the legend says so); the scaling is a
box whose sides are in the ratio of the scaling along x and along y (round: both coordinates
scaled alike).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.quiver import Quiver

from optviz.results import Run

# (kind in Run.vectors, sign, colour, legend label)
ARROWS = (
    ("gradient", -1.0, "#c0392b", "−gradient"),
    ("momentum", -1.0, "#7d3c98", "−momentum"),
    ("update", 1.0, "#111111", "update taken"),
)
BOX_COLOUR = "#e67e22"
ARROW_SHARE = 0.14  # the longest arrow of a kind: this share of the view's diagonal
MIN_SHARE = 0.025  # the shortest arrow drawn (a nonzero vector): this share of the diagonal
BOX_SHARE = 0.05  # the box's longer half-side: this share of the view's diagonal
LIFTED = 1.5  # on a 3-D view, which the perspective shrinks, arrows this much longer


def _rows(run: Run, kind: str) -> np.ndarray | None:
    series = (run.vectors or {}).get(kind)
    if series is None:
        return None
    return np.array([row if row is not None else [np.nan, np.nan] for row in series],
                    dtype=float)


def _diagonal(ax: Axes) -> float:
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return float(np.hypot(x1 - x0, y1 - y0))


class VectorArtists:
    """The arrows and the scaling box of one run in ``ax``; ``show(i)`` puts them at point i
    (the vectors of step i + 1, taken from there), ``show(None)`` hides them.

    On a 3-D view (``heights``: the path's height at each point) the arrows and the box are
    lifted onto the surface: they start at the path's point on it and lie in the horizontal
    plane at its height, so they show the same x–y directions and lengths as on the contour
    (the surface's own slope there would tip them through it on a steep wall)."""

    def __init__(self, ax: Axes, run: Run, colour: str,
                 heights: np.ndarray | None = None) -> None:
        self.ax = ax
        self.run = run
        self.points = np.array(run.points, dtype=float)
        self.heights = None if heights is None else np.asarray(heights, dtype=float)
        diagonal = _diagonal(ax)
        self.shortest = MIN_SHARE * diagonal * (LIFTED if heights is not None else 1.0)
        self.arrows: list[tuple[str, float, np.ndarray, Any]] = []
        self.factors: dict[str, float] = {}
        self.segments: dict[str, list[np.ndarray]] = {}  # 3-D: each arrow's drawn segments
        for kind, sign, arrow_colour, _ in ARROWS:
            rows = _rows(run, kind)
            if rows is None:
                continue
            lengths = np.hypot(rows[:, 0], rows[:, 1])
            largest = np.nanmax(lengths) if np.isfinite(lengths).any() else 0.0
            share = ARROW_SHARE * (LIFTED if self.heights is not None else 1.0)
            factor = share * diagonal / largest if largest > 0 else 1.0
            self.factors[kind] = factor
            if self.heights is not None:
                from mpl_toolkits.mplot3d.art3d import Line3DCollection

                q = Line3DCollection([], colors=arrow_colour, linewidths=2.0, zorder=25)
                ax.add_collection(q)
            else:
                # With scale_units="xy", an arrow of (U, V) is |(U, V)| / scale data units.
                q = ax.quiver([np.nan], [np.nan], [0.0], [0.0], angles="xy", scale_units="xy",
                              scale=1.0 / factor, color=arrow_colour, width=0.005, zorder=25,
                              edgecolor=colour, linewidth=0.6)
            self.arrows.append((kind, sign, rows, q))
        self.scaling = _rows(run, "scaling")
        self.box: Any = None
        self.half = BOX_SHARE * diagonal
        if self.scaling is not None:
            if self.heights is not None:
                (self.box,) = ax.plot([], [], [], "--", color=BOX_COLOUR, lw=1.6, zorder=24)
            else:
                self.box = Rectangle((0, 0), 0, 0, fill=False, ec=BOX_COLOUR, lw=1.6,
                                     ls="--", zorder=24)
                ax.add_patch(self.box)
        _legend(ax, [k for k, *_ in self.arrows], self.box is not None)
        self.show(None)

    @property
    def artists(self) -> list:
        return [q for *_, q in self.arrows] + ([self.box] if self.box is not None else [])

    def vector(self, kind: str, i: int) -> np.ndarray:
        """The arrow drawn for ``kind`` at point i: the recorded vector, signed as drawn."""
        for k, sign, rows, _ in self.arrows:
            if k == kind:
                return sign * rows[i]
        raise KeyError(kind)

    def drawn(self, kind: str, vector: np.ndarray) -> np.ndarray:
        """The vector as drawn (before the kind's factor): itself, or along it at the
        shortest length drawn when it is shorter."""
        length = float(np.hypot(*vector)) * self.factors[kind]
        if 0 < length < self.shortest:
            return vector * (self.shortest / length)
        return vector

    def show(self, i: int | None) -> None:
        ok = i is not None and 0 <= i < len(self.points) - 1 and \
            bool(np.isfinite(self.points[i]).all())
        if ok and self.heights is not None:
            ok = bool(np.isfinite(self.heights[i]))
        for kind, sign, rows, q in self.arrows:
            visible = ok and bool(np.isfinite(rows[i]).all())
            q.set_visible(visible)
            if not visible:
                continue
            drawn = self.drawn(kind, sign * rows[i])
            if self.heights is None:
                _place(q, self.points[i])
                q.set_UVC([drawn[0]], [drawn[1]])
            else:
                base = np.array([*self.points[i], self.heights[i]])
                shaft = drawn * self.factors[kind]
                self.segments[kind] = _arrow3d(self.ax, base, shaft)
                q.set_segments(self.segments[kind])
        if self.box is not None:
            s = self.scaling[i] if ok else None
            visible = s is not None and bool(np.isfinite(s).all()) and float(s.max()) > 0
            self.box.set_visible(visible)
            if visible:
                hx, hy = self.half * s / float(s.max())
                x, y = self.points[i]
                if self.heights is None:
                    self.box.set_bounds(x - hx, y - hy, 2 * hx, 2 * hy)
                else:
                    self.box.set_data_3d([x - hx, x + hx, x + hx, x - hx, x - hx],
                                         [y - hy, y - hy, y + hy, y + hy, y - hy],
                                         [self.heights[i]] * 5)


def _arrow3d(ax: Axes, base: np.ndarray, shaft: np.ndarray, head: float = 0.3,
             angle: float = 22.0) -> list[np.ndarray]:
    """An arrow from ``base`` (x, y, z) along ``shaft`` (dx, dy) in the horizontal plane: the
    shaft and the two strokes of its head, turned ±angle in the view's own units (x and y
    each over its axis' span, so the head is not skewed where the spans differ)."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    span = np.array([x1 - x0 or 1.0, y1 - y0 or 1.0])
    tip = base[:2] + shaft
    back = -shaft / span * head
    segments = [np.array([base, [*tip, base[2]]])]
    for turn in (np.radians(angle), -np.radians(angle)):
        c, s = np.cos(turn), np.sin(turn)
        stroke = np.array([c * back[0] - s * back[1], s * back[0] + c * back[1]]) * span
        segments.append(np.array([[*tip, base[2]], [*(tip + stroke), base[2]]]))
    return segments


def _place(q: Quiver, xy: np.ndarray) -> None:
    """Move a one-arrow quiver to ``xy`` (``set_offsets`` alone leaves the arrow's own copy)."""
    q.X, q.Y = np.array([xy[0]]), np.array([xy[1]])
    q.XY = np.array([xy], dtype=float)
    q.set_offsets(q.XY)


def _legend(ax: Axes, kinds: Sequence[str], box: bool) -> None:
    """One legend of the vector kinds per axes (kept beside any legend the axes has)."""
    shown = getattr(ax, "_optviz_vector_kinds", set())
    shown |= set(kinds) | ({"scaling"} if box else set())
    ax._optviz_vector_kinds = shown  # type: ignore[attr-defined]
    handles = [Line2D([], [], color=c, lw=2.2, marker=">", ms=6, label=label)
               for kind, _, c, label in ARROWS if kind in shown]
    if "scaling" in shown:
        handles.append(Rectangle((0, 0), 1, 1, fill=False, ec=BOX_COLOUR, ls="--", lw=1.6,
                                 label="scaling 1/(√v+ε): x : y"))
    old = getattr(ax, "_optviz_vector_legend", None)
    if old is not None:
        old.remove()
    other = ax.get_legend()
    legend = ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.85,
                       title="vectors (length: vs. the run's largest, at least 2.5%)",
                       title_fontsize=7)
    if other is not None and other is not old:
        ax.add_artist(other)
    ax._optviz_vector_legend = legend  # type: ignore[attr-defined]


def draw_vectors_at(ax: Axes, run: Run, colour: str, steps: Sequence[int],
                    heights: np.ndarray | None = None) -> list[VectorArtists]:
    """A still picture's vectors: one set at each of ``steps`` (points 0..steps - 1); on a 3-D
    view lifted to the path's ``heights``."""
    out = []
    for step in steps:
        artists = VectorArtists(ax, run, colour, heights)
        artists.show(step)
        out.append(artists)
    return out
