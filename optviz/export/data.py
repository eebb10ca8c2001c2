"""Exports: a result as JSON or CSV text that a user can re-plot from."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Any

from optviz.errors import BadValueError
from optviz.results import PanelsResult, ScheduleResult, TrajectoryResult

FORMATS = (".json", ".csv")
_STATE_PREFIX = "state_"


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


def _cell(value: Any) -> str:
    """A number as it round-trips (repr), or empty where it is missing or not finite."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return repr(value)


def _state_columns(keys: set[str]) -> dict[str, str]:
    """A column name for each state key: ``state_`` and the key's word characters, so that
    ``‖exp_avg_sq‖`` becomes ``state_exp_avg_sq``; a clash gets a numeric suffix."""
    names: dict[str, str] = {}
    for key in sorted(keys):
        base = _STATE_PREFIX + (re.sub(r"\W+", "_", key).strip("_") or "value")
        name, n = base, 2
        while name in names.values():
            name, n = f"{base}_{n}", n + 1
        names[key] = name
    return names


def _axes(result: TrajectoryResult) -> list[str]:
    """x, y: the parameters themselves (a function's point, or a two-parameter model's
    weights); pc1, pc2: the linear model's weights projected on its PCA plane."""
    if result.problem is not None and result.problem.get("points_are") == "pca":
        return ["pc1", "pc2"][: result.dim]
    return ["x", "y"][: result.dim]


def _weight_names(result: TrajectoryResult, width: int) -> list[str]:
    names = list((result.problem or {}).get("parameters") or [])
    return names if len(names) == width else [f"w{i}" for i in range(width)]


def _trajectory_columns(results: list[TrajectoryResult]) -> tuple[list[str], dict[str, str]]:
    """The header shared by ``results``: the fixed columns first (as they always were), then
    each per-step quantity that at least one run records; and the state keys' columns."""
    runs = [run for result in results for run in result.runs]
    axes: list[str] = []
    for result in results:
        axes += [a for a in _axes(result) if a not in axes]
    state = _state_columns({key for run in runs for key in (run.state or {})})
    slow: list[str] = []
    weights: list[str] = []
    for result in results:
        for run in result.runs:
            if run.slow_points is not None:
                slow += [f"slow_{a}" for a in _axes(result) if f"slow_{a}" not in slow]
            if run.weights:
                width = max(len(row) for row in run.weights)
                weights += [w for w in _weight_names(result, width) if w not in weights]
    columns = ["run", "label", "optimizer", "step", *axes, "loss", "diverged"]
    if any(run.lr is not None for run in runs):
        columns.append("lr")
    columns += sorted(state.values())
    columns += slow
    if any(run.batch_loss is not None for run in runs):
        columns.append("batch_loss")
    if any(run.epoch_loss is not None for run in runs):
        columns.append("epoch_loss")
    columns += weights
    return columns, state


def _trajectory_rows(result: TrajectoryResult, state: dict[str, str]) -> list[dict[str, Any]]:
    """One row per run and step k, the point after k optimizer steps. ``lr`` is the LR set on
    the optimizer then, which step k + 1 uses (the JSON's ``lr[k]``; as in the schedule
    export and the LR panel); the state columns, ``batch_loss`` and the slow weights are those
    after step k (the JSON's ``state[key][k - 1]``, ``batch_loss[k - 1]``); ``epoch_loss`` is
    on the last step of each epoch."""
    axes = _axes(result)
    epochs = (result.problem or {}).get("epochs") or 1
    rows: list[dict[str, Any]] = []
    for i, run in enumerate(result.runs):
        per_epoch = max(1, len(run.batch_loss or []) // epochs)
        names = _weight_names(result, len(run.weights[0])) if run.weights else []
        for step, (point, loss) in enumerate(zip(run.points, run.loss, strict=True)):
            row: dict[str, Any] = {"run": i, "label": run.label, "optimizer": run.optimizer,
                                   "step": step, "loss": _cell(loss),
                                   "diverged": run.diverged or ""}
            row.update((a, _cell(v)) for a, v in zip(axes, point, strict=False))
            if run.lr is not None and step < len(run.lr):
                row["lr"] = _cell(run.lr[step])
            after = step - 1  # the index of step k's entry in the per-step series
            for key, series in (run.state or {}).items():
                if 0 <= after < len(series):
                    row[state[key]] = _cell(series[after])
            if run.slow_points is not None and step < len(run.slow_points):
                row.update((f"slow_{a}", _cell(v))
                           for a, v in zip(axes, run.slow_points[step], strict=False))
            if run.batch_loss is not None and 0 <= after < len(run.batch_loss):
                row["batch_loss"] = _cell(run.batch_loss[after])
            if run.epoch_loss is not None and step > 0 and step % per_epoch == 0:
                epoch = step // per_epoch - 1
                if epoch < len(run.epoch_loss):
                    row["epoch_loss"] = _cell(run.epoch_loss[epoch])
            if run.weights is not None and step < len(run.weights):
                row.update((w, _cell(v)) for w, v in zip(names, run.weights[step], strict=False))
            rows.append(row)
    return rows


def _write(columns: list[str], rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def to_csv(result: TrajectoryResult) -> str:
    """One row per run and step: ``run,label,optimizer,step,x,y,loss,diverged`` (``pc1,pc2``
    for points on the linear model's PCA plane), then a column for each further per-step
    quantity the JSON export carries, present only when some run records it: ``lr``,
    ``state_<key>``, ``slow_x,slow_y``, ``batch_loss``, ``epoch_loss`` and the model's
    weights, one column per parameter. Cells are empty where a run lacks the quantity or
    its value is missing or not finite (a diverged run)."""
    columns, state = _trajectory_columns([result])
    return _write(columns, _trajectory_rows(result, state))


def _merge_headers(headers: list[list[str]]) -> list[str]:
    """Every column of every header, each new one placed after the column before it in its
    own header, so that each header's order is kept."""
    merged: list[str] = []
    for header in headers:
        for j, name in enumerate(header):
            if name not in merged:
                merged.insert(merged.index(header[j - 1]) + 1 if j else 0, name)
    return merged


def panels_to_csv(result: PanelsResult) -> str:
    """The rows of every panel, each prefixed with the panel's index, under one header that
    has the columns of every panel (empty cells where a panel lacks one)."""
    trajectories = [sub for sub in result.results if isinstance(sub, TrajectoryResult)]
    columns, state = _trajectory_columns(trajectories)
    tables: list[tuple[list[str], list[dict[str, Any]]]] = []
    for sub in result.results:
        if isinstance(sub, ScheduleResult):
            reader = csv.DictReader(io.StringIO(schedule_to_csv(sub)))
            tables.append((list(reader.fieldnames or []), list(reader)))
        else:
            tables.append((columns, _trajectory_rows(sub, state)))
    merged = _merge_headers([header for header, _ in tables])
    rows = [{"panel": i, **row} for i, (_, table) in enumerate(tables) for row in table]
    return _write(["panel", *merged], rows)


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
    every parameter group's LR (``lr_group0``...) and momentum (``momentum_group0``...) when
    the groups differ, and the plateau metric where one was given."""
    groups = max((len(run.lr_groups or []) for run in result.runs), default=0)
    momentum_groups = max((len(run.momentum_groups or []) for run in result.runs), default=0)
    extra = [f"lr_group{g}" for g in range(groups)]
    extra += [f"momentum_group{g}" for g in range(momentum_groups)]
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
            per_group += [cell(g[step]) for g in (run.momentum_groups or [])]
            per_group += [""] * (groups + momentum_groups - len(per_group))
            writer.writerow([i, run.label, run.scheduler, step, step // result.steps_per_epoch,
                             cell(lr), cell(mom), *per_group, cell(metric.get(step))])
    return buf.getvalue()
