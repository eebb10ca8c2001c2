"""Exports: a result as JSON or CSV text that a user can re-plot from."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from optviz.errors import BadValueError
from optviz.result import TrajectoryResult

FORMATS = (".json", ".csv")


def check_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise BadValueError(f"export {path}: use a .json or .csv file name")
    return suffix


def dumps(obj: Any, indent: int = 0) -> str:
    """JSON with one key per line but number lists (and lists of them) kept on one line each,
    so that a 1000-step path stays readable."""
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict) and obj:
        items = [f"{inner}{json.dumps(str(k))}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and obj and all(isinstance(v, list) for v in obj):
        rows = [inner + json.dumps(v, allow_nan=False) for v in obj]
        return "[\n" + ",\n".join(rows) + "\n" + pad + "]"
    if isinstance(obj, list) and any(isinstance(v, dict) for v in obj):
        rows = [inner + dumps(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(rows) + "\n" + pad + "]"
    return json.dumps(obj, allow_nan=False, ensure_ascii=False)


def to_json(result: TrajectoryResult) -> str:
    return dumps(result.to_dict()) + "\n"


def to_csv(result: TrajectoryResult) -> str:
    """One row per run and step; empty cells where a diverged run has no finite value."""
    axes = ["x", "y"][: result.dim]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["run", "label", "optimizer", "step", *axes, "loss", "diverged"])
    for i, run in enumerate(result.runs):
        for step, (point, loss) in enumerate(zip(run.points, run.loss, strict=True)):
            cells = ["" if v is None else repr(v) for v in (*point, loss)]
            writer.writerow([i, run.label, run.optimizer, step, *cells, run.diverged or ""])
    return buf.getvalue()


def export_text(result: TrajectoryResult, path: Path) -> str:
    return to_json(result) if check_format(path) == ".json" else to_csv(result)
