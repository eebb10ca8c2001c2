"""The ``panels`` layout of a schedule figure: a rows x cols grid of subfigures, each one an
overlay of its own schedulers on its own run (lr, optimizer, interval, length), with the
lint warnings of every panel gathered under the grid."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from optviz.render.schedule import (
    facts,
    figure_with_notes,
    names_of,
    overlay,
    overlay_styles,
    wrap,
)
from optviz.render.style import wrap_items
from optviz.results import ScheduleResult

PANEL_W = 6.4
PANEL_H = 4.6


def _heading(title: str | None, result: ScheduleResult) -> str:
    names = wrap_items(names_of(result.runs), 60)
    return (wrap(title, 60) if title else names) + "\n" + wrap(facts(result), 80)


def schedule_panels_figure(items: Sequence[tuple[str | None, ScheduleResult, bool]],
                           rows: int, cols: int, title: str | None = None) -> Figure:
    """``items`` are (panel title, result, log_y), in row-major order. Each panel's runs have
    their names' styles (a name repeated inside a panel shaded, with its own dash); each
    warning's footnote names its panel."""
    warnings: list[str] = []
    where: list[str] = []
    for panel_title, result, _ in items:
        place = panel_title or " · ".join(run.label.split(" (")[0] for run in result.runs)
        warnings += list(result.warnings)
        where += [place] * len(result.warnings)
    main_h = PANEL_H * rows + (0.6 if title else 0.0)
    fig, main = figure_with_notes(PANEL_W * cols, main_h, warnings, where)
    grid = main.subfigures(rows, cols, squeeze=False)
    cells = [cell for row in grid for cell in row]
    for cell, (panel_title, result, log_y) in zip(cells, items, strict=False):
        overlay(cell, result, overlay_styles(result.runs), log_y)
        cell.suptitle(_heading(panel_title, result), fontsize=9.5)
    if title:
        main.suptitle(title, fontsize=12.5, fontweight="bold")
    return fig
