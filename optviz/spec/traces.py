"""Trace files: the metric a ReduceLROnPlateau figure steps on, read from a CSV beside the
config (or anywhere, from the command line)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from optviz.errors import BadValueError
from optviz.spec.figures import ScheduleSpec

TRACE_COLUMNS = ("metric", "loss", "val_loss", "value")

TRACE_SUFFIXES = (".csv", ".tsv", ".txt")

def is_trace(text: str, folder: Path | None = None) -> bool:
    """Whether a metric names a trace file: a .csv/.tsv/.txt name, or a file that exists
    (looked up in ``folder`` when given)."""
    path = Path(text)
    if path.suffix.lower() in TRACE_SUFFIXES:
        return True
    return ((folder / path) if folder is not None else path).is_file()

def _metric_holders(spec: Any) -> list[Any]:
    """The parts of a schedule spec that may name a metric: the figure and its panels."""
    return [spec, *spec.panels] if isinstance(spec, ScheduleSpec) else []

def anchor_traces(spec: Any, folder: Path) -> Any:
    """The spec with every relative trace-file metric joined to ``folder``, the config's own:
    a config names its trace beside itself, wherever it is rendered from."""
    if not isinstance(spec, ScheduleSpec):
        return spec

    def anchored(metric: str | None) -> str | None:
        if metric is None or Path(metric).is_absolute() or not is_trace(metric, folder):
            return metric
        return str(folder / metric)

    panels = [p.model_copy(update={"metric": anchored(p.metric)}) for p in spec.panels]
    return spec.model_copy(update={"metric": anchored(spec.metric), "panels": panels})

def trace_files(spec: Any) -> list[Path]:
    """The trace files a spec reads, in order, each once: what a cached figure depends on
    besides its config."""
    paths = [Path(h.metric) for h in _metric_holders(spec) if h.metric and is_trace(h.metric)]
    return list(dict.fromkeys(paths))

def read_trace(path: Path) -> list[float]:
    """Numbers from a CSV trace: the column named metric/loss/val_loss/value if there is a
    header, else the last column."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise BadValueError(f"--metric {path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise BadValueError(f"--metric {path}: not UTF-8 text") from None
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    rows = [(line, r) for line, r in enumerate(csv.reader(text.splitlines(), dialect=dialect), 1)
            if any(c.strip() for c in r)]
    if not rows:
        raise BadValueError(f"--metric {path}: the file is empty")
    column = -1
    try:
        [float(c) for c in rows[0][1]]
    except ValueError:
        header = [c.strip().lower() for c in rows[0][1]]
        rows = rows[1:]
        column = next((header.index(c) for c in TRACE_COLUMNS if c in header), -1)
    values = []
    for line, row in rows:
        try:
            values.append(float(row[column]))
        except (ValueError, IndexError):
            raise BadValueError(f"--metric {path}: line {line} has no number in the metric "
                                f"column") from None
    return values
