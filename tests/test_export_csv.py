"""The CSV export carries every per-step quantity of the JSON export, through real CLI calls:
each CSV cell is compared with the JSON value of the same call (repr round-trips exactly)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import torch
from typer.testing import CliRunner

from optviz.cli import app

BASE = ["run", "label", "optimizer", "step", "x", "y", "loss", "diverged"]


def export_both(tmp_path: Path, *args: str, command: str = "trajectory"
                ) -> tuple[list[str], list[dict[str, str]], dict[str, Any]]:
    """Run one call twice, exporting CSV then JSON: the CSV header, its rows and the JSON."""
    out: dict[str, Any] = {}
    for suffix in ("csv", "json"):
        path = tmp_path / f"f.{suffix}"
        res = CliRunner().invoke(app, [command, *args, "--export", str(path),
                                       "-o", str(tmp_path / f"f_{suffix}.png")],
                                 env={"COLUMNS": "200"})
        assert res.exit_code == 0, res.output
        out[suffix] = path.read_text()
    header = next(csv.reader(out["csv"].splitlines()))
    rows = list(csv.DictReader(out["csv"].splitlines()))
    assert "nan" not in out["csv"] and "inf" not in out["csv"]
    return header, rows, json.loads(out["json"])


def cell(value: float | None) -> str:
    return "" if value is None else repr(value)


def per_run(rows: list[dict[str, str]], run: int) -> list[dict[str, str]]:
    mine = [r for r in rows if r["run"] == str(run)]
    assert [int(r["step"]) for r in mine] == list(range(len(mine)))
    return mine


def test_plain_run_header_is_unchanged(tmp_path):
    header, rows, data = export_both(tmp_path, "adam", "sgd", "--lr", "0.1", "--steps", "5")
    assert header == BASE
    for i, run in enumerate(data["runs"]):
        for k, row in enumerate(per_run(rows, i)):
            assert [float(row["x"]), float(row["y"])] == run["points"][k]
            assert float(row["loss"]) == run["loss"][k]


def test_scheduler_lr_column_is_step_lr_stepped_by_hand(tmp_path):
    header, rows, data = export_both(tmp_path, "sgd", "--lr", "0.1", "--scheduler",
                                     "step:step_size=3,gamma=0.5", "--steps", "10")
    assert header == [*BASE, "lr"]
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    expected = []
    for _ in range(10):
        expected.append(opt.param_groups[0]["lr"])  # the LR this step uses
        opt.step()
        sched.step()
    assert expected[:4] == [0.1, 0.1, 0.1, 0.05]
    mine = per_run(rows, 0)
    assert len(mine) == 11
    # Row k is the point after k steps; its lr is the LR step k + 1 uses (JSON lr[k]).
    assert [float(r["lr"]) for r in mine[:10]] == expected == data["runs"][0]["lr"]
    assert mine[10]["lr"] == ""  # no step leaves the last point


def test_show_state_columns_equal_the_json_state(tmp_path):
    header, rows, data = export_both(tmp_path, "adam", "sgd", "--lr", "0.1", "--show-state",
                                     "--steps", "6")
    adam, sgd = data["runs"]
    assert set(adam["state"]) == {"‖exp_avg‖", "‖exp_avg_sq‖", "effective step (mean)"}
    assert header == [*BASE, "state_effective_step_mean", "state_exp_avg", "state_exp_avg_sq"]
    names = {"‖exp_avg‖": "state_exp_avg", "‖exp_avg_sq‖": "state_exp_avg_sq",
             "effective step (mean)": "state_effective_step_mean"}
    mine = per_run(rows, 0)
    assert all(mine[0][c] == "" for c in names.values())  # no state before the first step
    for key, column in names.items():
        # Row k holds the state after step k: the JSON's state[key][k - 1].
        assert [float(r[column]) for r in mine[1:]] == adam["state"][key]
    assert sgd["state"] == {}  # SGD without momentum keeps no state: its cells stay empty
    assert all(r[c] == "" for r in per_run(rows, 1) for c in names.values())


def test_lookahead_slow_columns_equal_the_json_slow_points(tmp_path):
    header, rows, data = export_both(tmp_path, "adam", "--lr", "0.1", "--lookahead",
                                     "--lookahead-k", "3", "--steps", "7")
    assert header == [*BASE, "slow_x", "slow_y"]
    slow = data["runs"][0]["slow_points"]
    assert slow[3] != slow[0]  # the slow weights moved at the first sync
    assert [[float(r["slow_x"]), float(r["slow_y"])] for r in per_run(rows, 0)] == slow


def test_diverged_run_has_empty_cells_for_every_column(tmp_path):
    header, rows, data = export_both(tmp_path, "gd", "--lr", "0.2", "--scheduler",
                                     "step:step_size=1000", "--show-state", "--steps", "120")
    run = data["runs"][0]
    k = run["diverged"]
    assert 0 < k < 120
    mine = per_run(rows, 0)
    assert [r["x"] for r in mine] == [cell(p[0]) for p in run["points"]]
    assert [r["loss"] for r in mine] == list(map(cell, run["loss"]))
    assert [r["lr"] for r in mine[:-1]] == list(map(cell, run["lr"]))
    state = [c for c in header if c.startswith("state_")]
    # y_k = 3·(−3)^k leaves the view at k and overflows float32 later: the rows between keep
    # their finite numbers, and from the overflow on every cell is empty.
    gone = next(i for i, r in enumerate(mine) if r["loss"] == "")
    assert k < gone < 120
    assert all(r[c] != "" for r in mine[:gone] for c in ("x", "y", "loss"))
    assert all(r[c] == "" for r in mine[gone:] for c in ("x", "y", "loss", "lr", *state))
    assert {r["diverged"] for r in mine} == {str(k)}


def test_linear_model_names_pca_axes_and_carries_weights(tmp_path):
    header, rows, data = export_both(tmp_path, "sgd", "adam", "--model", "linear",
                                     "--in-features", "3", "--samples", "64", "--epochs", "2",
                                     "--lr", "0.05", "--scheduler", "step:step_size=3")
    problem = data["problem"]
    assert problem["points_are"] == "pca"
    params = problem["parameters"]
    assert params == ["w[0,0]", "w[0,1]", "w[0,2]", "bias"]
    assert header == ["run", "label", "optimizer", "step", "pc1", "pc2", "loss", "diverged",
                      "lr", "batch_loss", "epoch_loss", *params]
    for i, run in enumerate(data["runs"]):
        mine = per_run(rows, i)
        assert len(mine) == len(run["points"]) == 2 * 2 + 1
        assert [[float(r["pc1"]), float(r["pc2"])] for r in mine] == run["points"]
        assert [[float(r[p]) for p in params] for r in mine] == run["weights"]
        assert [float(r["lr"]) for r in mine[:-1]] == run["lr"]
        assert mine[0]["batch_loss"] == ""
        assert [float(r["batch_loss"]) for r in mine[1:]] == run["batch_loss"]
        # The epoch's mean batch loss sits on the epoch's last step (2 steps per epoch).
        assert [r["epoch_loss"] for r in mine] == ["", "", cell(run["epoch_loss"][0]), "",
                                                  cell(run["epoch_loss"][1])]


def test_two_parameter_model_keeps_x_y(tmp_path):
    header, rows, data = export_both(tmp_path, "sgd", "--model", "linear", "--in-features", "1",
                                     "--samples", "64", "--epochs", "1", "--lr", "0.05")
    assert data["problem"]["points_are"] == "weights"
    assert header == [*BASE, "batch_loss", "epoch_loss"]  # x, y are the weights themselves
    assert [[float(r["x"]), float(r["y"])] for r in rows] == data["runs"][0]["points"]


def test_panels_share_one_header_with_every_panel_column(tmp_path):
    config = tmp_path / "p.yaml"
    config.write_text(
        "kind: trajectory\nfunction: quadratic\nsteps: 6\nlayout: panels\npanels:\n"
        "  - {optimizers: [{name: sgd, lr: 0.05}]}\n"
        "  - {optimizers: [{name: sgd, lr: 0.05}], scheduler: 'step:step_size=2'}\n"
        "  - {optimizers: [{name: adam, lr: 0.1}], lookahead: {k: 3}}\n"
        "  - {optimizers: [{name: sgd, lr: 0.05}], function: parabola, start: [2]}\n")
    header, rows, data = export_both(tmp_path, str(config), command="render")
    assert header == ["panel", *BASE, "lr", "slow_x", "slow_y"]
    assert [int(r["panel"]) for r in rows] == [p for p in range(4) for _ in range(7)]
    panels = data["panels"]
    for p, panel in enumerate(panels):
        mine = [r for r in rows if r["panel"] == str(p)]
        run = panel["runs"][0]
        assert [float(r["x"]) for r in mine] == [pt[0] for pt in run["points"]]
        assert [r["y"] for r in mine] == [cell(pt[1] if len(pt) > 1 else None)
                                         for pt in run["points"]]
        assert [r["lr"] for r in mine] == [cell(v) for v in run.get("lr", [])] + [""] * (
            7 - len(run.get("lr", [])))
        slow = run.get("slow_points") or [[None, None]] * 7
        assert [(r["slow_x"], r["slow_y"]) for r in mine] == [(cell(a), cell(b))
                                                              for a, b in slow]


def test_schedule_panels_still_export(tmp_path):
    config = tmp_path / "s.yaml"
    config.write_text(
        "kind: schedule\nepochs: 4\nlayout: panels\npanels:\n"
        "  - {schedulers: ['step:step_size=2']}\n"
        "  - {schedulers: ['exponential:gamma=0.5']}\n")
    header, rows, data = export_both(tmp_path, str(config), command="render")
    assert header[:7] == ["panel", "run", "label", "scheduler", "step", "epoch", "lr"]
    for p, panel in enumerate(data["panels"]):
        mine = [r for r in rows if r["panel"] == str(p)]
        assert [float(r["lr"]) for r in mine] == panel["runs"][0]["lr"]
