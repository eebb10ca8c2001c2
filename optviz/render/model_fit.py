"""The linear model's data panel: what the weights mean for the data they are fitted to.

With one input feature (and one output), the data as a scatter of (x, y) and each run's
regression line ŷ = w·x + b at its weights; with more, the fitted values against the targets
(every output pooled), one colour per run, and the diagonal ŷ = y where a perfect fit lies.
The still shows the weights at the end of each run; an animation moves them step by step
(``FitPanel.show``), so the line turns onto the data while the loss falls.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from optviz.render.style import Style
from optviz.results import Run, TrajectoryResult

DATA_COLOUR = "#7f8c8d"
FIT_ATTR = "_optviz_fit"  # the axes attribute that holds its FitPanel, for the animator


def has_data(result: TrajectoryResult) -> bool:
    """Whether the result carries the data its model was trained on."""
    return bool(result.problem and result.problem.get("data"))


def model_data(result: TrajectoryResult) -> tuple[np.ndarray, np.ndarray]:
    """The inputs (samples x in) and targets (samples x out) the runs were trained on."""
    data = result.problem["data"]
    return np.array(data["x"], dtype=float), np.array(data["y"], dtype=float)


def weights_of(result: TrajectoryResult, run: Run) -> np.ndarray:
    """A run's flat weights per point (steps + 1 rows; NaN rows after a divergence): the
    points themselves when they are the weights, else the weights kept beside the PCA plane."""
    rows = run.weights if run.weights is not None else run.points
    return np.array(rows, dtype=float)


def split(result: TrajectoryResult, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat weights -> (W of shape out x in, b of shape out; zeros without a bias)."""
    p = result.problem
    n_in, n_out = p["in_features"], p["out_features"]
    w = theta[: n_in * n_out].reshape(n_out, n_in)
    b = theta[n_in * n_out:] if p["bias"] else np.zeros(n_out)
    return w, b


def one_feature(result: TrajectoryResult) -> bool:
    p = result.problem
    return p["in_features"] == 1 and p["out_features"] == 1


def _last_finite(rows: np.ndarray) -> int:
    finite = np.flatnonzero(np.isfinite(rows).all(axis=1))
    return int(finite[-1]) if finite.size else -1


class FitPanel:
    """The data panel of ``result`` in ``ax``: ``show(step)`` puts every run's fit at its
    weights after ``step`` steps (a diverged run keeps its last finite weights)."""

    def __init__(self, ax: Axes, result: TrajectoryResult, styles: Sequence[Style]) -> None:
        self.ax = ax
        self.result = result
        self.x, self.y = model_data(result)
        self.weights = [weights_of(result, run) for run in result.runs]
        self.simple = one_feature(result)
        ax.scatter(self.x[:, 0] if self.simple else self.y.ravel(),
                   self.y[:, 0] if self.simple else self.y.ravel(),
                   s=10, color=DATA_COLOUR, alpha=0.55, lw=0, zorder=2,
                   label="data" if self.simple else None)
        self.fits: list[Line2D] = []
        for k, style in enumerate(styles):
            if self.simple:
                (line,) = ax.plot([], [], "-", color=style.colour, lw=2.0, zorder=4 + 0.01 * k)
            else:
                (line,) = ax.plot([], [], "o", color=style.colour, ms=2.6, alpha=0.6, mew=0,
                                  zorder=4 + 0.01 * k)
            self.fits.append(line)
        if self.simple:
            lo, hi = float(self.x.min()), float(self.x.max())
            pad = 0.05 * (hi - lo if hi > lo else 1.0)
            self.span = np.array([lo - pad, hi + pad])
            w, b = split(result, np.array(result.problem["least_squares"], dtype=float))
            ax.plot(self.span, w[0, 0] * self.span + b[0], "--", color="#333333", lw=1.0,
                    zorder=3, label="least-squares line")
            ax.set_xlim(*self.span)
            ax.set_xlabel("x (the input feature)")
            ax.set_ylabel("y")
            ax.set_title("the data and each run's regression line ŷ = w·x + b")
        else:
            ys = self.y.ravel()
            lo, hi = float(ys.min()), float(ys.max())
            pad = 0.08 * (hi - lo if hi > lo else 1.0)
            ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], "--", color="#333333", lw=1.0,
                    zorder=3, label="ŷ = y (a perfect fit)")
            ax.set_xlim(lo - pad, hi + pad)
            ax.set_ylim(lo - pad, hi + pad)
            ax.set_xlabel("target y")
            ax.set_ylabel("fitted ŷ")
            ax.set_title("fitted values against the targets, every sample")
        self._fix_ylim()
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="best", framealpha=0.85)
        setattr(ax, FIT_ATTR, self)
        self.show(None)

    def _fix_ylim(self) -> None:
        """Limits that hold every frame: the data and, for one feature, the lines at every
        step's weights (clipped to 3 times the data's span, so a wild early line cannot
        shrink the data to a stripe)."""
        if not self.simple:
            return
        y = self.y[:, 0]
        lo, hi = float(y.min()), float(y.max())
        span = hi - lo if hi > lo else 1.0
        ends = [self.line_at(k, i)[1] for k in range(len(self.fits))
                for i in range(len(self.weights[k]))]
        ends = [e for e in ends if np.isfinite(e).all()]
        if ends:
            both = np.concatenate(ends)
            lo = max(min(lo, float(both.min())), lo - span)
            hi = min(max(hi, float(both.max())), hi + span)
        pad = 0.05 * (hi - lo)
        self.ax.set_ylim(lo - pad, hi + pad)

    @property
    def artists(self) -> list[Line2D]:
        return list(self.fits)

    def at(self, k: int, step: int | None) -> int:
        """The point run k shows at ``step`` (None: its end): its last finite one at most."""
        last = _last_finite(self.weights[k])
        return last if step is None else min(step, last)

    def line_at(self, k: int, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Run k's regression line at point i: two points (x, ŷ) across the data's x range."""
        w, b = split(self.result, self.weights[k][i])
        return self.span, w[0, 0] * self.span + b[0]

    def fitted_at(self, k: int, i: int) -> np.ndarray:
        """Run k's fitted values at point i, every sample and output (samples x out)."""
        w, b = split(self.result, self.weights[k][i])
        return self.x @ w.T + b

    def show(self, step: int | None) -> None:
        for k, line in enumerate(self.fits):
            i = self.at(k, step)
            if i < 0:
                line.set_data([], [])
            elif self.simple:
                line.set_data(*self.line_at(k, i))
            else:
                line.set_data(self.y.ravel(), self.fitted_at(k, i).ravel())


def draw_fit(ax: Axes, result: TrajectoryResult, styles: Sequence[Style]) -> FitPanel:
    """The data panel at the end of every run (the still picture's)."""
    return FitPanel(ax, result, styles)
