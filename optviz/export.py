"""Exports: a result as JSON or CSV text that a user can re-plot from."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from optviz.errors import BadValueError
from optviz.result import PanelsResult, ScheduleResult, TrajectoryResult

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


def to_json(result: Any) -> str:
    data = result.to_dict() if hasattr(result, "to_dict") else result
    return dumps(data) + "\n"


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


def panels_to_csv(result: PanelsResult) -> str:
    """The rows of every panel, each prefixed with the panel's index."""
    lines: list[str] = []
    for i, sub in enumerate(result.results):
        text = schedule_to_csv(sub) if isinstance(sub, ScheduleResult) else to_csv(sub)
        header, *rows = text.splitlines()
        if not lines:
            lines.append("panel," + header)
        lines.extend(f"{i},{row}" for row in rows)
    return "\n".join(lines) + "\n"


def ema_to_csv(data: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["beta", "steps_back", "weight"])
    for beta, weights in zip(data["betas"], data["weights"], strict=True):
        for i, w in enumerate(weights):
            writer.writerow([beta, i, repr(w)])
    return buf.getvalue()


def export_text(result: Any, path: Path) -> str:
    """The export of any result, JSON or CSV by the file's suffix."""
    if check_format(path) == ".json":
        return to_json(result)
    if isinstance(result, PanelsResult):
        return panels_to_csv(result)
    if isinstance(result, ScheduleResult):
        return schedule_to_csv(result)
    if isinstance(result, dict) and result.get("kind") == "ema":
        return ema_to_csv(result)
    if not isinstance(result, TrajectoryResult) and hasattr(result, "to_csv"):
        return result.to_csv()  # sweeps and basin maps write their own rows
    return to_csv(result)


def schedule_to_csv(result: ScheduleResult) -> str:
    """One row per run and optimizer step: the LR that step used, momentum where it cycles,
    every parameter group's LR when they differ, and the plateau metric where one was given."""
    groups = max((len(run.lr_groups or []) for run in result.runs), default=0)
    extra = [f"lr_group{g}" for g in range(groups)]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["run", "label", "scheduler", "step", "epoch", "lr", "momentum", *extra,
                     "metric"])

    def cell(value: Any) -> str:
        return "" if value is None else repr(value)

    for i, run in enumerate(result.runs):
        metric: dict[int, float | None] = {}
        if run.plateau is not None:
            metric = dict(zip(run.plateau.at, run.plateau.metric, strict=True))
        for step, lr in enumerate(run.lr):
            mom = run.momentum[step] if run.momentum is not None else None
            per_group = [cell(g[step]) for g in (run.lr_groups or [])]
            per_group += [""] * (groups - len(per_group))
            writer.writerow([i, run.label, run.scheduler, step, step // result.steps_per_epoch,
                             cell(lr), cell(mom), *per_group, cell(metric.get(step))])
    return buf.getvalue()
