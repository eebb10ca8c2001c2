"""Frames of a trajectory figure: the still figure, drawn once, whose paths grow step by step.

The still picture (contour, colour bar, axes, legend) is drawn once by the same code as the PNG;
the artists that move are found in it by their data (a run's path, its end marker, the
per-step series of the loss, LR and state panels), taken out of that background and drawn
again on it for each frame, cut at the frame's step, with a head marker on each path, a cursor
on each per-step panel and the step in the corner. Only a camera turn (3-D, ``rotate``) redraws
the whole figure per frame.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from optviz.render.model_fit import FIT_ATTR, FitPanel
from optviz.render.style import Z_ENDS, Z_PATH, Z_PATH_STEP
from optviz.render.ticks import ticks_once
from optviz.render.trajectory import lookahead_jumps
from optviz.render.vectors import VectorArtists
from optviz.results import Run, TrajectoryResult

# Stacking in animations: the paths keep the still's layer (Z_PATH), the slowest run on top;
# the runs below are drawn up to WIDEN points wider, so that a path under another one still
# shows as its border; every head marker is above every path and end marker and below the
# minima, whose hollow star stays on top as in the still. Heads shrink from HEAD_MS[1] (the
# bottom run) to HEAD_MS[0] (the top one): heads on the same point show as rings.
Z_HEAD = Z_ENDS + 0.5
WIDEN = 1.6
HEAD_MS = (6.0, 11.0)
MAX_FRAMES = 150  # default: one frame per step up to this many frames
PAUSE_S = 1.0  # the last frame is held this long


def frame_steps(steps: int, frames: int | None = None) -> list[int]:
    """The step each frame shows. One frame per step (0..steps) when they fit in ``frames``
    (default 150); otherwise the first half of the frames show the first steps one by one,
    where paths move fastest, and the other half are spread evenly over the remaining steps,
    the last frame on the last step. Never more than one frame per step."""
    n = MAX_FRAMES if frames is None else frames
    if n >= steps + 1:
        return list(range(steps + 1))
    head = n // 2
    tail = np.rint(np.linspace(head, steps, n - head)).astype(int).tolist()
    return list(range(head)) + tail


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))


def _data(line: Line2D) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    xs = np.asarray(line.get_xdata(), dtype=float)
    ys = np.asarray(line.get_ydata(), dtype=float)
    zs = None
    if hasattr(line, "get_data_3d"):
        xs, ys, zs = (np.asarray(v, dtype=float) for v in line.get_data_3d())
    return xs, ys, zs


def _last_finite(xs: np.ndarray) -> int:
    finite = np.flatnonzero(np.isfinite(xs))
    return int(finite[-1]) if finite.size else -1


@dataclass
class _Path:
    """One run's path in one axes: its line(s), its end markers and its head marker."""

    run: Run
    xs: np.ndarray
    ys: np.ndarray
    zs: np.ndarray | None
    lines: list[Line2D] = field(default_factory=list)
    ends: list[Line2D] = field(default_factory=list)
    head: Line2D | None = None
    vectors: VectorArtists | None = None
    # Lookahead's slow weights: the line of the points where they moved, and those steps
    slow: list[tuple[Line2D, np.ndarray, np.ndarray]] = field(default_factory=list)
    # Lookahead's resets (the steps t whose move from t - 1 is a jump): the path's line has a
    # NaN before each such point; each jump's own dotted line, and the line of reset markers
    gaps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    jumps: list[tuple[Line2D, int]] = field(default_factory=list)
    resets: list[Line2D] = field(default_factory=list)

    @property
    def last(self) -> int:
        return _last_finite(self.xs)

    def show(self, step: int) -> None:
        k = min(step, self.xs.size - 1)
        n = k + 1 + int((self.gaps <= k).sum())  # the line's points up to point k
        gx = np.insert(self.xs, self.gaps, np.nan) if self.gaps.size else self.xs
        gy = np.insert(self.ys, self.gaps, np.nan) if self.gaps.size else self.ys
        for line in self.lines:
            if self.zs is not None:
                line.set_data_3d(self.xs[:k + 1], self.ys[:k + 1], self.zs[:k + 1])
            else:
                line.set_data(gx[:n], gy[:n])
        for end in self.ends:
            end.set_visible(k >= self.last)
        for line, at_steps, pts in self.slow:
            shown = pts[at_steps <= k]
            line.set_data(shown[:, 0], shown[:, 1])
        for line, t in self.jumps:
            line.set_visible(t <= k)
        done = self.gaps[self.gaps <= k]
        for line in self.resets:
            line.set_data(self.xs[done], self.ys[done])
        at = min(k, self.last)
        if self.head is not None:
            if at < 0:
                self.head.set_visible(False)
            else:
                self.head.set_visible(True)
                gone = bool(self.run.diverged) and k >= self.last
                self.head.set_marker("X" if gone else "o")
                if self.zs is not None:
                    self.head.set_data_3d([self.xs[at]], [self.ys[at]], [self.zs[at]])
                else:
                    self.head.set_data([self.xs[at]], [self.ys[at]])
        if self.vectors is not None:
            self.vectors.show(self.vectors_at(k))

    def vectors_at(self, step: int) -> int | None:
        """The point whose vectors show at ``step``: the step taken from the head; on the last
        point, from which no step is taken, the last step's, drawn from where it was taken
        (its update arrow ends on the head); none once a diverged run has stopped."""
        k = min(step, self.xs.size - 1)
        if k < self.run.steps and k <= self.last:
            return k
        if not self.run.diverged and self.run.steps > 0 and k >= self.run.steps:
            return self.run.steps - 1
        return None


def _path_values(result: TrajectoryResult, run: Run) -> tuple[np.ndarray, np.ndarray]:
    """A path as drawn: (x, y) on a contour or surface, (x, f(x)) on a 1-D curve."""
    pts = np.array(run.points, dtype=float)
    if result.dim == 1:
        return pts[:, 0], np.array(run.loss, dtype=float)
    return pts[:, 0], pts[:, 1]


def find_paths(ax: Axes, results: Sequence[TrajectoryResult]) -> list[_Path]:
    """Each run's path lines in ``ax`` (the same points; in 3-D at any heights) and its end
    markers (one-point lines on its last point)."""
    claimed: set[int] = set()
    found = []
    for result in results:
        for run in result.runs:
            xs, ys = _path_values(result, run)
            gaps = lookahead_jumps(run) if result.dim == 2 else np.zeros(0, dtype=int)
            gx, gy = np.insert(xs, gaps, np.nan), np.insert(ys, gaps, np.nan)
            path = None
            for line in ax.get_lines():
                lx, ly, lz = _data(line)
                if id(line) in claimed or lx.size < 2:
                    continue
                if lx.size == xs.size and _same(lx, xs) and _same(ly, ys):
                    path = path or _Path(run, xs, ys, lz)
                elif gaps.size and lz is None and _same(lx, gx) and _same(ly, gy):
                    path = path or _Path(run, xs, ys, None, gaps=gaps)
                else:
                    continue
                path.lines.append(line)
                claimed.add(id(line))
            if path is None:
                continue
            _find_jumps(ax, path, claimed)
            last = path.last
            for line in ax.get_lines():
                lx, ly, _ = _data(line)
                if lx.size == 1 and last > 0 and id(line) not in claimed and \
                        lx[0] == xs[last] and ly[0] == ys[last]:
                    path.ends.append(line)
                    claimed.add(id(line))
            _find_slow(ax, run, path, claimed)
            found.append(path)
    return found


def _find_jumps(ax: Axes, path: _Path, claimed: set[int]) -> None:
    """Lookahead's jumps in the still: a dotted two-point line from point t - 1 to the reset
    point t, and one line of markers on the reset points."""
    if not path.gaps.size:
        return
    xs, ys, gaps = path.xs, path.ys, path.gaps
    for line in ax.get_lines():
        lx, ly, _ = _data(line)
        if id(line) in claimed:
            continue
        if _same(lx, xs[gaps]) and _same(ly, ys[gaps]):
            path.resets.append(line)
            claimed.add(id(line))
            continue
        for t in gaps:
            if _same(lx, xs[t - 1:t + 1]) and _same(ly, ys[t - 1:t + 1]):
                path.jumps.append((line, int(t)))
                claimed.add(id(line))
                break


def _find_slow(ax: Axes, run: Run, path: _Path, claimed: set[int]) -> None:
    """Lookahead's slow-weights line: a point at each step where the slow weights moved."""
    if run.slow_points is None:
        return
    slow = np.array(run.slow_points, dtype=float)
    moved = np.concatenate([[True], np.any(np.diff(slow, axis=0) != 0, axis=1)])
    steps, pts = np.flatnonzero(moved), slow[moved]
    for line in ax.get_lines():
        lx, ly, _ = _data(line)
        if id(line) not in claimed and lx.size == len(pts) and _same(lx, pts[:, 0]) \
                and _same(ly, pts[:, 1]):
            path.slow.append((line, steps, pts))
            claimed.add(id(line))


def _length(ax: Axes, path: _Path) -> float:
    """How far a path travels, in shares of the view (x and y each over their axis' span)."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    pts = np.column_stack([path.xs / (x1 - x0 or 1.0), path.ys / (y1 - y0 or 1.0)])
    pts = pts[np.isfinite(pts).all(axis=1)]
    return float(np.hypot(*np.diff(pts, axis=0).T).sum()) if len(pts) > 1 else 0.0


def _stacking(ax: Axes, paths: Sequence[_Path]) -> list[tuple[int, int]]:
    """Each path's depth among those of ``ax`` (0: the bottom) and their number. The runs that
    travel furthest go below, those that barely move on top, so that a fast run's path never
    hides where a slow one is; ties keep the figure's order (later runs higher)."""
    lengths = [_length(ax, p) for p in paths]
    order = sorted(range(len(paths)), key=lambda i: (-lengths[i], i))
    depth = {i: d for d, i in enumerate(order)}
    return [(depth[i], len(paths)) for i in range(len(paths))]


def paths_in(fig: Figure, results: Sequence[TrajectoryResult]) -> list[_Path]:
    """Every run's path in every axes of ``fig`` (a run drawn in an inset appears twice)."""
    return [p for ax in fig.findobj(Axes) if ax.get_visible() for p in find_paths(ax, results)]


def _overlay(ax: Axes, above: float) -> list[Artist]:
    """The still artists of ``ax`` drawn above zorder ``above``: lines, markers, texts,
    patches and legends, not the axes' own spines, axis and background, nor inset axes."""
    from matplotlib.axis import Axis
    from matplotlib.spines import Spine

    skip = (Axis, Spine, Axes)
    return [a for a in ax.get_children() if a.get_visible() and a.get_zorder() > above
            and not isinstance(a, skip) and a is not ax.patch]


def rgb_of(rgba: np.ndarray) -> np.ndarray:
    """The RGB channels of an (h, w, 4) buffer as a new contiguous array, copied channel by
    channel: numpy copies each strided channel about five times faster than the 3-of-4
    ``rgba[..., :3].copy()``."""
    out = np.empty((*rgba.shape[:2], 3), dtype=rgba.dtype)
    for channel in range(3):
        out[..., channel] = rgba[..., channel]
    return out


class Animator:
    """Frames of ``fig``, a still trajectory figure drawn from ``results`` (each panel's drawn
    result, in order). ``frame(step)`` returns the RGB pixels of the figure at that step."""

    def __init__(self, fig: Figure, results: Sequence[TrajectoryResult], dpi: float,
                 vectors: bool = False, rotate: bool = False) -> None:
        self.fig = fig
        fig.set_dpi(dpi)
        self.canvas = FigureCanvasAgg(fig)
        self.results = list(results)
        self.steps = max((r.steps for r in self.results), default=0)
        self.rotate = rotate
        self.paths: list[_Path] = []
        self.series: list[tuple[Axes, Line2D, np.ndarray, np.ndarray]] = []
        self.cursors: list[tuple[Axes, Line2D, float]] = []
        self.events: list[tuple[Axes, Artist, float]] = []
        axes = [a for a in fig.findobj(Axes) if a.get_visible()]
        path_axes = set()
        for ax in axes:
            if self._find_paths(ax):
                path_axes.add(ax)
        self.fits: list[FitPanel] = []
        for ax in axes:
            fit = getattr(ax, FIT_ATTR, None)
            if fit is not None:
                self.fits.append(fit)
            elif ax not in path_axes and not hasattr(ax, "get_zlim"):
                self._find_series(ax)
        if vectors:
            for path in self.paths:
                if path.run.vectors and path.head is not None:
                    path.vectors = VectorArtists(path.head.axes, path.run,
                                                 path.head.get_color(), path.zs)
        self.label = fig.text(0.006, 0.008, "", ha="left", va="bottom", fontsize=10,
                              family="monospace", color="#222222", zorder=20)
        self.moving: list[Artist] = [self.label]
        for path in self.paths:
            self.moving += [*path.lines, *path.ends, *(line for line, _, _ in path.slow)]
            self.moving += [*(line for line, _ in path.jumps), *path.resets]
            if path.head is not None:
                self.moving.append(path.head)
            if path.vectors is not None:
                self.moving += path.vectors.artists
        self.moving += [line for _, line, _, _ in self.series]
        self.moving += [artist for fit in self.fits for artist in fit.artists]
        self.moving += [line for _, line, _ in self.cursors]
        self.moving += [artist for _, artist, _ in self.events]
        self.moving = self._in_draw_order(self.moving)
        self._background = None
        self._turn = [(ax, ax.azim) for ax in axes if hasattr(ax, "get_zlim")]

    # -- finding the moving artists in the still figure ---------------------------------------

    def _find_paths(self, ax: Axes) -> bool:
        found = find_paths(ax, self.results)
        for path, (depth, of) in zip(found, _stacking(ax, found), strict=True):
            colour = path.lines[0].get_color()
            top = of - 1 - depth  # 0: the top run, the slowest
            share = top / max(1, of - 1)
            style = dict(color=colour, ms=HEAD_MS[0] + (HEAD_MS[1] - HEAD_MS[0]) * share,
                         mec="black", mew=1.0, zorder=Z_HEAD + depth * Z_PATH_STEP)
            for line in path.lines:
                line.set_zorder(Z_PATH + depth * Z_PATH_STEP)
                line.set_linewidth(line.get_linewidth() + WIDEN * share)
            if path.zs is not None:
                (path.head,) = ax.plot([path.xs[0]], [path.ys[0]], [path.zs[0]], "o", **style)
            else:
                (path.head,) = ax.plot([path.xs[0]], [path.ys[0]], "o", **style)
        self.paths += found
        return bool(found)

    def _find_series(self, ax: Axes) -> None:
        """Per-step lines of the loss, LR and state panels: everything in data coordinates."""
        epochs = ax.get_xlabel() == "epoch"
        scale = 1.0
        if epochs:
            problem = next((r.problem for r in self.results if r.problem), None) or {}
            scale = problem.get("epochs", 1) / max(1, self.steps)
        mine = False
        for text in ax.texts:  # "reached 0 at step k": shown once the frame gets there
            xy = getattr(text, "xy", None)
            if xy is not None and isinstance(xy[0], (int, float)) and \
                    text.xycoords != "axes fraction":
                self.events.append((ax, text, float(xy[0])))
        for line in ax.get_lines():
            if line.get_transform() != ax.transData:
                xs = np.asarray(line.get_xdata(), dtype=float)
                if xs.size == 1:  # a marker on a step, drawn against the axis' edge
                    self.events.append((ax, line, float(xs[0])))
                continue  # axhline and the like: reference lines, not series
            xs, ys, _ = _data(line)
            if xs.size:
                self.series.append((ax, line, xs, ys))
                mine = True
        if mine:
            cursor = ax.axvline(0, color="#444444", lw=0.9, ls=":", zorder=1)
            self.cursors.append((ax, cursor, scale))

    def _in_draw_order(self, moving: list[Artist]) -> list[Artist]:
        """What each frame draws over the background, in the order a full draw would: per
        axes by zorder, with the still artists of a path's axes that lie above its paths (the
        start, the minima, legends) drawn again on top of them; the figure's own last."""
        mine = {id(a) for a in moving}
        by_axes: dict[int, list[Artist]] = {}
        axes_of: dict[int, Axes] = {}
        loose = []
        for artist in moving:
            ax = artist.axes
            if ax is None:
                loose.append(artist)
                continue
            by_axes.setdefault(id(ax), []).append(artist)
            axes_of[id(ax)] = ax
        path_axes = {id(p.head.axes) for p in self.paths if p.head is not None}
        order = []
        for key, artists in by_axes.items():
            ax = axes_of[key]
            if key in path_axes:
                low = min(a.get_zorder() for a in artists)
                artists = artists + [a for a in _overlay(ax, low) if id(a) not in mine]
            order += sorted(artists, key=lambda a: a.get_zorder())
        return order + loose

    def colours(self) -> list[tuple[int, int, int]]:
        """The opaque colours of the moving artists (0-255 RGB), for an animation's palette."""
        from matplotlib.colors import to_rgba

        found = []
        for artist in self.moving:
            values: list = []
            if isinstance(artist, Line2D):
                values = [artist.get_color(), artist.get_markerfacecolor(),
                          artist.get_markeredgecolor()]
            elif hasattr(artist, "get_facecolor") and hasattr(artist, "get_edgecolor"):
                values = [*np.atleast_2d(artist.get_facecolor()),
                          *np.atleast_2d(artist.get_edgecolor())]
            for value in values:
                try:
                    r, g, b, a = to_rgba(value)
                except (TypeError, ValueError):
                    continue
                if a > 0:
                    found.append((round(255 * r), round(255 * g), round(255 * b)))
        return list(dict.fromkeys(found))

    # -- drawing -------------------------------------------------------------------------------

    def _set(self, step: int) -> None:
        for path in self.paths:
            path.show(step)
        for fit in self.fits:
            fit.show(step)
        for _, line, xs, ys in self.series:
            keep = xs <= self._cursor_x(line.axes, step) + 1e-9
            line.set_data(xs[keep], ys[keep])
        for ax, artist, x in self.events:
            artist.set_visible(x <= self._cursor_x(ax, step) + 1e-9)
        for _, cursor, scale in self.cursors:
            x = step * scale
            cursor.set_xdata([x, x])
        width = len(str(self.steps))
        text = f"step {step:>{width}} / {self.steps}"
        if any(p.vectors is not None and p.vectors_at(step) is not None
               and p.vectors_at(step) < min(step, p.xs.size - 1) for p in self.paths):
            text += "   (vectors: last step's)"
        self.label.set_text(text)

    def _cursor_x(self, ax: Axes, step: int) -> float:
        for a, _, scale in self.cursors:
            if a is ax:
                return step * scale
        return float(step)

    def frame(self, step: int, turn: float = 0.0) -> np.ndarray:
        """The figure at ``step`` as an (h, w, 3) uint8 array; ``turn`` in degrees turns the
        camera of any 3-D axes from where the still figure put it."""
        self._set(step)
        if self.rotate and self._turn:
            for ax, azim in self._turn:
                ax.view_init(elev=ax.elev, azim=azim + turn)
        if self._background is None:
            self._draw_background()
        self.canvas.restore_region(self._background)
        renderer = self.canvas.get_renderer()
        for artist in self._redrawn:
            if artist.get_visible():
                artist.draw(renderer)
        return rgb_of(np.asarray(self.canvas.buffer_rgba()))

    def _draw_background(self) -> None:
        """Draw what no frame changes once, to restore before each frame; ``_redrawn`` is
        what each frame draws over it, in a full draw's order. A turning camera redraws its
        3-D axes whole (with their paths in them, depth-sorted with the surface) and then
        whatever the figure draws after them that could overlap them: its own texts and
        legends, and any later axes whose box meets theirs. The layout is solved once, by a
        full draw, and then kept."""
        turning = [ax for ax, _ in self._turn] if self.rotate else []
        self._redrawn = list(self.moving)
        with ticks_once(self.fig):
            if turning:
                self.canvas.draw()
                self.fig.set_layout_engine("none")
                self._redrawn = self._over_turning(turning)
            for artist in self._redrawn:  # left out of the full draw below
                artist.set_animated(True)
            self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)

    def _over_turning(self, turning: list[Axes]) -> list[Artist]:
        """The turning axes and what a full draw puts after them that may overlap them,
        then the moving artists of other axes and the figure's own, in draw order."""
        renderer = self.canvas.get_renderer()
        boxes = [ax.get_tightbbox(renderer) for ax in turning]
        children = sorted((a for a in self.fig.get_children() if a is not self.fig.patch),
                          key=lambda a: a.get_zorder())
        first = min(children.index(ax) for ax in turning)
        over: list[Artist] = []
        for artist in children[first:]:
            if artist in turning or not isinstance(artist, Axes):
                over.append(artist)
                continue
            box = artist.get_tightbbox(renderer)
            if box is not None and any(box.overlaps(b) for b in boxes):
                over.append(artist)
        inside = {id(a) for ax in over if isinstance(ax, Axes) for a in ax.get_children()}
        rest = [a for a in self.moving if id(a) not in inside and a not in over]
        return over + rest

    def frames(self, steps: Sequence[int], turn_per_frame: float = 0.0) -> Iterator[np.ndarray]:
        for i, step in enumerate(steps):
            yield self.frame(step, i * turn_per_frame)
