"""The rank picture: a heatmap, rows optimizers (best mean rank at the top), columns test
functions, colour the log of the tail f − f* at the tuned lr (or the steps to the tolerance),
the tuned lr written in each cell and each optimizer's mean rank beside its name."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from optviz.results import RankResult

CMAP = "viridis_r"  # light: good (low loss, few steps), dark: bad
# How a function's column is ranked: the caption says it, since on the easy functions every
# run reaches the tolerance and the steps alone decide (and so dominate the mean rank).
RANK_RULE = ("ranked per function by tail f − f*;\nruns tied at the tolerance by their steps "
             "to reach it (this decides most ranks)")
DIVERGED = "#d9d9d9"  # every lr diverged from some start, or (steps) never within tolerance
DIVERGED_TEXT = "diverged"
NEVER_TEXT = "never"


def values(result: RankResult) -> np.ndarray:
    """The coloured numbers, rows in ``result.order()``: log10 of max(tail f − f*, tol) (the
    tolerance is the floor: below it every run ties), or the slowest start's steps to the
    tolerance; NaN where a cell has none."""
    order = result.order()
    out = np.full((len(order), len(result.functions)), np.nan)
    for r, i in enumerate(order):
        for j, cell in enumerate(result.cells[i]):
            if result.colour == "steps":
                if cell.arrived is not None and cell.lr is not None:
                    out[r, j] = cell.arrived
            elif cell.score is not None:
                out[r, j] = math.log10(max(cell.score, result.tol[j]))
    return out


def floored_cells(result: RankResult) -> int:
    """How many cells' tail loss fell below the tolerance, so that their colour (the floor)
    means "this or less"."""
    return sum(1 for i, row in enumerate(result.cells) for j, cell in enumerate(row)
               if result.colour == "loss" and cell.score is not None
               and cell.score < result.tol[j])


def draw_rank(ax: Axes, result: RankResult) -> Axes:
    """The heatmap on ``ax``; grey cells have no number (diverged, or never within the
    tolerance), each labelled so."""
    data = values(result)
    order = result.order()
    finite = data[np.isfinite(data)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    norm = Normalize(lo, hi if hi > lo else lo + 1)
    ax.set_facecolor(DIVERGED)
    image = ax.imshow(np.ma.masked_invalid(data), cmap=CMAP, norm=norm, aspect="auto",
                      interpolation="nearest")
    cmap = image.get_cmap()
    for r, i in enumerate(order):
        for j, cell in enumerate(result.cells[i]):
            if np.isfinite(data[r, j]):
                rgba = cmap(norm(data[r, j]))
                light = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] > 0.5
                text = f"lr {cell.lr:.2g}"
                colour = "black" if light else "white"
            else:
                text = DIVERGED_TEXT if cell.lr is None else f"lr {cell.lr:.2g}\n{NEVER_TEXT}"
                colour = "#555555"
            ax.text(j, r, text, ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(len(result.functions)), result.functions, rotation=40, ha="right",
                  fontsize=8)
    ax.set_yticks(range(len(order)),
                  [f"{result.optimizers[i]}  ({result.mean_rank[i]:.1f})" for i in order],
                  fontsize=8)
    ax.set_xticks(np.arange(-0.5, len(result.functions)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(order)), minor=True)
    ax.grid(which="minor", color="white", linewidth=1)
    ax.tick_params(which="minor", length=0)
    return ax


def rank_figure(result: RankResult, title: str | None = None) -> Figure:
    """The heatmap with its colour bar and a title saying what the cells are."""
    width = 2.5 + 0.85 * len(result.functions)
    height = 2.2 + 0.42 * len(result.optimizers)
    fig = Figure(figsize=(max(6.0, width), max(3.5, height)), layout="constrained")
    ax = fig.subplots()
    draw_rank(ax, result)
    what = ("log10 of the mean tail f − f* over the starts" if result.colour == "loss"
            else "steps to the tolerance (slowest start)")
    floored = result.colour == "loss" and floored_cells(result) > 0
    if floored:
        # The pointed end: cells at the tolerance are "this or less", not exactly this.
        what += "\n(pointed end: at or below the tolerance)"
    bar = fig.colorbar(ax.images[0], ax=ax, shrink=0.9, pad=0.01,
                       extend="min" if floored else "neither")
    bar.set_label(what, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    starts = len(result.starts[0]) if result.starts else 0
    fig.suptitle(title or (
        f"Optimizers at their tuned lr (in each cell), mean rank in brackets\n"
        f"{RANK_RULE}\n"
        f"{result.steps} steps, {starts} starts per function"), fontsize=10)
    return fig
