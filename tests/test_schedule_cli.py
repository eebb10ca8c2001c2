"""``optviz schedule`` through Typer's CliRunner and as real ``python -m optviz`` processes:
exit codes, one-line errors without tracebacks, warnings on stderr, files and their numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from forked import run_optviz
from typer.testing import CliRunner

from optviz.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["schedule", *args], env={"COLUMNS": "200"})


def one_line_error(stderr: str, stdout: str = "") -> str:
    assert stderr.startswith("optviz: error: "), stderr
    assert stderr.endswith("\n") and stderr.count("\n") == 1, repr(stderr)
    assert "Traceback" not in stderr + stdout
    return stderr


# The real processes start together when the first of their tests runs (not at import: every
# pytest-xdist worker imports every module, and would start them again), and run while the
# module's in-process tests do, so that their start-up (importing torch) is paid in parallel.
# conftest sends this module's tests to one worker.
_CWD = Path(__import__("tempfile").mkdtemp(prefix="optviz-schedule-cli-"))
_ENV = {**{k: v for k, v in os.environ.items() if k != "OPTVIZ_DEBUG"}, "COLUMNS": "200"}
_JOBS = {
    "onecycle": ["schedule", "onecycle", "--epochs", "4"],
    "unknown": ["schedule", "onecylce"],
    "help": ["--help"],
}
# What only a new interpreter shows (--help imports neither torch nor matplotlib).
_FRESH = {"help"}
_PROCS: dict[str, subprocess.Popen] = {}


@pytest.fixture(scope="module", autouse=True)
def _real_processes() -> Any:
    """Start the new interpreters with the module's first test; reap them after its last.
    The other jobs run when their test asks, as warm-started processes
    (``forked.run_optviz``)."""
    _PROCS.update({name: subprocess.Popen([sys.executable, "-m", "optviz", *argv], cwd=_CWD,
                                          env=_ENV, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True)
                   for name, argv in _JOBS.items() if name in _FRESH})
    yield
    for proc in _PROCS.values():
        if proc.poll() is None:  # its test did not run (deselected) or failed early
            proc.kill()
            proc.communicate()


def finished(name: str) -> tuple[int, str, str]:
    if name not in _FRESH:
        done = run_optviz(_JOBS[name], cwd=_CWD, env=_ENV)
        return done.returncode, done.stdout, done.stderr
    proc = _PROCS[name]
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


# -- in process -------------------------------------------------------------------------------

def test_onecycle_writes_the_derived_file(tmp_path: Path, monkeypatch, png_pixels):
    monkeypatch.chdir(tmp_path)
    res = invoke("onecycle", "--epochs", "4")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "wrote schedule_onecycle.png\n"
    # SGD has momentum 0, which OneCycleLR overrides: said once, on stderr.
    assert res.stderr.count("optviz: warning: OneCycleLR cycles momentum") == 1
    img = png_pixels(tmp_path / "schedule_onecycle.png")
    assert img.shape[1] == 1650
    assert sorted(p.name for p in tmp_path.iterdir()) == ["schedule_onecycle.png"]


def test_output_and_json_export(out_dir: Path):
    png, data = out_dir / "s.png", out_dir / "s.json"
    res = invoke("StepLR:step_size=3,gamma=0.7", "MultiStepLR:milestones=[5,11]", "--lr", "0.1",
                 "--epochs", "2", "--steps-per-epoch", "8", "-o", str(png), "--export", str(data))
    assert res.exit_code == 0, res.stderr
    assert res.stderr == ""
    assert res.stdout.splitlines() == [f"wrote {png}", f"wrote {data}"]
    runs = json.loads(data.read_text())["runs"]
    assert [r["scheduler"] for r in runs] == ["step", "multistep"]
    assert runs[0]["lr"] == pytest.approx([0.1 * 0.7 ** (i // 3) for i in range(16)])
    # MultiStepLR by its class name takes torch's own gamma (0.1), not the article's 0.5.
    assert runs[1]["lr"] == pytest.approx([0.1] * 5 + [0.01] * 6 + [0.001] * 5)
    assert runs[1]["parameters"]["milestones"] == [5, 11]


def test_kebab_settings_and_flags(out_dir: Path):
    data = out_dir / "s.json"
    res = invoke("onecycle", "exponential", "--gamma", "0.9", "--no-cycle-momentum",
                 "--three-phase", "-o", str(out_dir / "s.png"), "--export", str(data))
    assert res.exit_code == 0, res.stderr
    onecycle, exponential = json.loads(data.read_text())["runs"]
    assert onecycle["parameters"]["cycle_momentum"] is False
    assert onecycle["parameters"]["three_phase"] is True
    assert onecycle["momentum"] is None
    assert exponential["parameters"]["gamma"] == 0.9


def test_formula_option_keeps_its_commas(out_dir: Path):
    data = out_dir / "s.csv"
    res = invoke("lambda", "--lr-lambda", "min(1, (epoch+1)/4)", "--epochs", "1",
                 "-o", str(out_dir / "s.png"), "--export", str(data))
    assert res.exit_code == 0, res.stderr
    rows = data.read_text().splitlines()
    assert rows[0].startswith("run,label,scheduler,step,epoch,lr,momentum")
    assert [float(r.split(",")[-3]) for r in rows[1:5]] == pytest.approx(
        [0.00025, 0.0005, 0.00075, 0.001])


def test_plateau_metric_formula_and_grid(out_dir: Path, png_pixels):
    png = out_dir / "p.png"
    res = invoke("plateau", "step", "--metric", "max(8 - step, 0)", "--grid", "--log-y",
                 "-o", str(png))
    assert res.exit_code == 0, res.stderr
    assert res.stderr == ""
    assert png_pixels(png).shape[1] == round(9.2 * 150)


def test_interval_epoch_lint_on_stderr(out_dir: Path):
    res = invoke("multistep", "--interval", "epoch", "-o", str(out_dir / "e.png"))
    assert res.exit_code == 0
    assert "optviz: warning: MultiStepLR milestones=[8, 24, 28] counts scheduler steps" \
        in res.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["stepp"], "unknown scheduler 'stepp'; did you mean 'step'?"),
    (["StepLR:step_size=3,gama=0.7"], "(valid: step_size, gamma)"),
    (["step", "--gama", "0.7"], "--gama applies to none of StepLR"),
    (["lambda:lr_lambda=epoch.real"], "attribute access"),
    # Were it run, it would leave a file behind, which the test would see.
    (["lambda:lr_lambda=__import__('os').system('touch pwned')"], "is not allowed"),
    (["lambda", "--lr-lambda", "(lambda: open('pwned', 'w'))()"], "only calls of the listed"),
    (["step", "--lr", "-1"], "--lr: a learning rate must be a finite number > 0, got -1"),
    (["step", "--lr", "x"], "--lr: expected numbers"),
    (["step", "--interval", "batch"], "--interval"),
    (["step", "--epochs", "0"], "--epochs: must be >= 1"),
    (["plateau", "--metric", "missing.csv"], "cannot read it"),
    (["sequential:schedulers=[linear,plateau]"], "cannot hold ReduceLROnPlateau"),
    (["step", "-o", "/nonexistent/dir/x.png"], "/nonexistent/dir"),
    (["step", "--export", "x.txt"], "use a .json or .csv"),
    ([], "name at least one scheduler"),
    (["step:step_size=abc"], "'step_size' counts scheduler steps: it must be a whole number >= 1"),
    (["step:step_size=-3"], "got -3"),
    (["multistep:milestones=[2,x]"], "'milestones' counts scheduler steps"),
    (["cyclic:base_lr=abc"], "CyclicLR (base_lr=abc"),
    (["cyclic:base_lr=abc"], "unsupported operand type"),
    (["exponential:gamma=abc"], "ExponentialLR (gamma=abc): a setting has the wrong type"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = invoke(*args)
    assert res.exit_code == 2
    assert message in one_line_error(res.stderr, res.stdout)
    assert list(tmp_path.iterdir()) == []


def test_bad_lr_names_the_option_as_trajectory_does(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = invoke("step", "--lr", "-1")
    assert res.exit_code == 2
    assert one_line_error(res.stderr, res.stdout) == (
        "optviz: error: --lr: a learning rate must be a finite number > 0, got -1\n")


def lr_by_hand(make: Any, lr: float = 1e-3, steps: int = 32, per_epoch: int = 1) -> list[float]:
    """The LR each optimizer step used, with torch stepped by hand in the article's loop:
    optimizer.step(), record, then scheduler.step() (every ``per_epoch`` steps)."""
    import torch

    param = torch.nn.Parameter(torch.zeros(1, 2))
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = make(optimizer)
    out = []
    for i in range(steps):
        optimizer.step()
        out.append(optimizer.param_groups[0]["lr"])
        if (i + 1) % per_epoch == 0:
            scheduler.step()
    return out


def test_nested_colon_form_says_how_to_write_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = invoke("sequential:schedulers=[linear:start_factor=0.1,total_iters=4, cosine],"
                 "milestones=[4]")
    assert res.exit_code == 2
    assert one_line_error(res.stderr, res.stdout) == (
        "optviz: error: inside a list write linear(start_factor=0.1,total_iters=4), not "
        "linear:start_factor=0.1,total_iters=4 (commas in the list separate schedulers)\n")
    assert list(tmp_path.iterdir()) == []


def test_nested_call_as_the_error_suggests_equals_torch(out_dir: Path):
    from torch.optim import lr_scheduler as L

    data = out_dir / "s.json"
    res = invoke("sequential:schedulers=[linear(start_factor=0.1,total_iters=4), cosine],"
                 "milestones=[4]", "-o", str(out_dir / "s.png"), "--export", str(data))
    assert res.exit_code == 0, res.stderr
    assert res.stderr == ""
    expected = lr_by_hand(lambda opt: L.SequentialLR(opt, [
        L.LinearLR(opt, start_factor=0.1, total_iters=4),
        L.CosineAnnealingLR(opt, T_max=28, eta_min=1e-4)], milestones=[4]))
    assert json.loads(data.read_text())["runs"][0]["lr"] == pytest.approx(expected, rel=1e-12)


def test_sequential_milestone_past_the_run_is_one_warning(out_dir: Path):
    from torch.optim import lr_scheduler as L

    data = out_dir / "s.json"
    res = invoke("sequential:schedulers=[linear,cosine],milestones=[40]",
                 "-o", str(out_dir / "s.png"), "--export", str(data))
    assert res.exit_code == 0, res.stderr
    assert res.stderr == ("optviz: warning: SequentialLR: milestone 40 is at or after the run's "
                          "last scheduler step (32); cosine never runs\n")
    # The picture is what torch does: LinearLR all the way.
    expected = lr_by_hand(lambda opt: L.SequentialLR(opt, [
        L.LinearLR(opt, start_factor=0.5, total_iters=8),
        L.CosineAnnealingLR(opt, T_max=1, eta_min=1e-4)], milestones=[40]))
    assert json.loads(data.read_text())["runs"][0]["lr"] == pytest.approx(expected, rel=1e-12)


def test_sequential_milestone_per_epoch_counts_epochs(out_dir: Path):
    res = invoke("sequential:schedulers=[linear,cosine,step],milestones=[8,20]",
                 "--interval", "epoch", "-o", str(out_dir / "s.png"))
    assert res.exit_code == 0, res.stderr
    # Said once: not again as a per-step value, nor for the nested schedulers that never run.
    assert res.stderr == (
        "optviz: warning: SequentialLR: milestone 8 is at or after the run's last scheduler "
        "step (4); cosine and step never run (stepped once per epoch with --interval epoch: "
        "this looks like a per-step value; use --interval step, or divide by 8 steps per "
        "epoch)\n")
    quiet = invoke("sequential:schedulers=[linear(total_iters=2),cosine],milestones=[2]",
                   "--interval", "epoch", "-o", str(out_dir / "q.png"))
    assert quiet.exit_code == 0, quiet.stderr
    assert quiet.stderr == ""


def test_onecycle_stepped_past_its_total_is_said_once(out_dir: Path):
    data = out_dir / "s.json"
    res = invoke("onecycle:total_steps=20", "--optimizer", "sgd:momentum=0.9",
                 "-o", str(out_dir / "s.png"), "--export", str(data))
    assert res.exit_code == 0, res.stderr
    assert res.stderr == (
        "optviz: warning: OneCycleLR is planned for 20 steps but is stepped 32 times: torch "
        "raises 'Tried to step 21 times. The specified number of total steps is 20' there, so "
        "the LR after step 20 is not drawn\n")
    run = json.loads(data.read_text())["runs"][0]
    assert run["lr"][20] is not None and run["lr"][21:] == [None] * 11


def test_dump_config_renders_the_same_picture(out_dir: Path, png_pixels, monkeypatch):
    monkeypatch.chdir(out_dir)  # a config's own export must lie inside the current folder
    args = ["sequential:schedulers=[linear(start_factor=0.1,total_iters=4),cosine],"
            "milestones=[4]", "plateau", "--metric", "1/(1+step)", "--lr", "0.01",
            "--factor", "0.2"]
    direct = invoke(*args, "-o", str(out_dir / "direct.png"), "--export",
                    str(out_dir / "direct.json"))
    assert direct.exit_code == 0, direct.stderr
    dumped = invoke(*args, "--export", "again.json", "--dump-config")
    assert dumped.exit_code == 0, dumped.stderr
    assert "kind: schedule" in dumped.stdout
    config = out_dir / "c.yaml"
    config.write_text(dumped.stdout)
    res = runner.invoke(app, ["render", str(config), "-o", str(out_dir / "again.png")])
    assert res.exit_code == 0, res.stderr
    assert (out_dir / "again.json").read_text() == (out_dir / "direct.json").read_text()
    # Same numbers, same picture (up to a few anti-aliased pixels; see the render tests).
    diff = np.abs(png_pixels(out_dir / "again.png") - png_pixels(out_dir / "direct.png"))
    assert (diff.max(axis=-1) > 0).sum() < 200


def test_list_and_show():
    res = runner.invoke(app, ["list", "schedulers", "*warm*"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    for name in ("warm_restarts", "linear_warmup", "cosine_warmup", "constant_warmup"):
        assert name in res.stdout
    assert "onecycle" not in res.stdout
    res = runner.invoke(app, ["show", "OneCycleLR"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    assert "from the run: --lr" in res.stdout and "max_lr" in res.stdout
    res = runner.invoke(app, ["show", "get_cosine_schedule_with_warmup"], env={"COLUMNS": "200"})
    assert "cosine_warmup" in res.stdout and "num_cycles" in res.stdout


# -- real processes ---------------------------------------------------------------------------

def test_subprocess_onecycle(png_pixels):
    code, out, err = finished("onecycle")
    assert code == 0, err
    assert out == "wrote schedule_onecycle.png\n"
    assert "Traceback" not in err
    assert all(line.startswith("optviz: warning: ") for line in err.splitlines())
    assert png_pixels(_CWD / "schedule_onecycle.png").shape[1] == 1650


def test_subprocess_unknown_name():
    code, out, err = finished("unknown")
    assert code == 2
    assert "did you mean 'onecycle'" in one_line_error(err, out)


def test_subprocess_help_lists_schedule():
    code, out, err = finished("help")
    assert code == 0, err
    assert "schedule" in out


def test_help_imports_neither_torch_nor_matplotlib():
    code = ("import sys; from optviz.cli import app; import optviz.cli.schedule, "
            "optviz.registry.schedulers, optviz.cli.tables; "
            "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=_ENV, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(("args", "optimizer"), [
    ([], "SGD"),
    (["--lr", "1e-3,1e-4", "--optimizer", "sgd:momentum=0.9"], "SGD (momentum=0.9)"),
    (["--optimizer", "adam:betas=[0.8,0.9]"], "Adam (betas=(0.8, 0.9))"),
])
def test_the_optimizer_is_named_without_the_lr_the_figure_gives_per_group(
        args, optimizer, tmp_path):
    import json

    js = tmp_path / "s.json"
    res = invoke("step", *args, "-o", str(tmp_path / "s.png"), "--export", str(js))
    assert res.exit_code == 0, res.stderr
    assert json.loads(js.read_text())["optimizer"] == optimizer


def test_one_milestone_may_be_given_as_a_number(tmp_path):
    import json

    import torch

    js = tmp_path / "m.json"
    res = invoke("multistep:milestones=5", "-o", str(tmp_path / "m.png"), "--export", str(js))
    assert res.exit_code == 0, res.stderr
    want = lr_by_hand(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [5], gamma=0.5))
    assert json.loads(js.read_text())["runs"][0]["lr"] == want


def test_a_config_names_its_setting_and_the_command_line_its_flag(tmp_path: Path):
    """The same unknown setting for the whole call: from flags it is '--gama', from a
    config's ``settings:`` it is the setting 'gama' (a config has no flags)."""
    config = tmp_path / "c.yaml"
    config.write_text("kind: schedule\nschedulers: [step]\nsettings: {gama: 0.7}\n")
    res = runner.invoke(app, ["render", str(config), "-o", str(tmp_path / "c.png")],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 2
    assert one_line_error(res.stderr).startswith(
        "optviz: error: setting 'gama' applies to none of StepLR; did you mean 'gamma'?")
    res = invoke("step", "--gama", "0.7", "-o", str(tmp_path / "f.png"))
    assert res.exit_code == 2
    assert one_line_error(res.stderr).startswith(
        "optviz: error: --gama applies to none of StepLR; did you mean 'gamma'?")
    assert not list(tmp_path.glob("*.png"))


def test_lint_advice_is_worded_by_flag_or_by_setting(tmp_path: Path):
    """The same lint: from flags it says '--interval epoch', from a config 'interval=epoch'."""
    res = invoke("step:step_size=30", "--interval", "epoch", "-o", str(tmp_path / "f.png"))
    assert res.exit_code == 0, res.stderr
    assert "but with --interval epoch it is stepped only 4 times" in res.stderr
    assert "use --interval step, or divide by 8" in res.stderr
    config = tmp_path / "c.yaml"
    config.write_text("kind: schedule\nschedulers: ['step:step_size=30']\ninterval: epoch\n")
    res = runner.invoke(app, ["render", str(config), "-o", str(tmp_path / "c.png")],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.stderr
    assert "but with interval=epoch it is stepped only 4 times" in res.stderr
    assert "--" not in res.stderr


def test_trajectory_prints_its_schedulers_lints(tmp_path: Path):
    res = runner.invoke(app, ["trajectory", "sgd", "--lr", "0.05", "--scheduler", "onecycle",
                              "--steps", "20", "-o", str(tmp_path / "t.png")],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.stderr
    assert res.stderr == ("optviz: warning: OneCycleLR cycles momentum, but SGD was made with "
                          "momentum 0: the scheduler sets it between base_momentum and "
                          "max_momentum anyway (pass cycle_momentum=false to keep plain SGD)\n")
