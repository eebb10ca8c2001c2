"""Issue 6, schedulers: dotted paths on PYTHONPATH, entry points of an installed package (a real
dist-info folder, read by importlib.metadata in a child process), and pytorch_optimizer's
schedulers. Every LR series is checked against a closed form or the class stepped by hand."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import torch
from forked import run_optviz

from optviz.errors import BadValueError, UnknownNameError, UnknownSettingError, UnsupportedError
from optviz.export.data import to_json
from optviz.figures.schedule import run_schedule_spec
from optviz.registry import SCHEDULERS
from optviz.registry.schedulers import valid_settings
from optviz.spec.figures import ScheduleSpec

DATA = Path(__file__).parent / "plugins_data"
LR = 0.01
RUN = {"lr": LR, "epochs": 4, "steps_per_epoch": 8}  # 32 steps


@pytest.fixture
def on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(DATA))


def lrs(name: str, **fields: Any) -> list[float]:
    spec = ScheduleSpec.model_validate({"schedulers": [name], **RUN, **fields})
    return json.loads(to_json(run_schedule_spec(spec)))["runs"][0]["lr"]


def by_hand(make: Any, steps: int = 32, lr: float = LR) -> list[float]:
    """The article's loop with torch alone: optimizer step, record the LR, scheduler step."""
    from test_schedule_cli import lr_by_hand

    return lr_by_hand(make, lr=lr, steps=steps)


def cli(*args: str, pythonpath: str = str(DATA)) -> subprocess.CompletedProcess[str]:
    """``python -m optviz`` as a real (warm-started) process with ``pythonpath``."""
    env = {**os.environ, "PYTHONPATH": pythonpath, "COLUMNS": "250"}  # rich folds narrow tables
    return run_optviz(args, env=env)


# -- dotted paths -----------------------------------------------------------------------------

def test_scheduler_class_on_pythonpath_equals_its_closed_form(on_path):
    got = lrs("mysched.HalveEvery:every=5")
    assert got == pytest.approx([LR * 0.5 ** (t // 5) for t in range(32)], rel=1e-12)
    rec = SCHEDULERS.resolve("mysched.HalveEvery")
    assert rec.plugin == "path" and rec.target == "mysched.HalveEvery"


def test_factory_declares_what_the_run_fills_in(on_path):
    # total_steps is required; the plugin's optviz_quirks says it is the run's length.
    got = lrs("mysched.linear_to_zero")
    assert got == pytest.approx([LR * (1 - t / 32) for t in range(32)], rel=1e-12)
    assert lrs("mysched.linear_to_zero:total_steps=16") == pytest.approx(
        [LR * max(0.0, 1 - t / 16) for t in range(32)], rel=1e-12, abs=1e-18)


def test_plateau_subclass_steps_on_the_metric(on_path):
    rec = SCHEDULERS.resolve("mysched.Patient")
    assert rec.needs_metric
    spec = {"metric": "noisy_decay"}
    assert lrs("mysched.Patient:factor=0.5,patience=2", **spec) == lrs(
        "plateau:factor=0.5,patience=2", **spec)


def test_unknown_settings_and_broken_plugins_are_one_line(on_path):
    with pytest.raises(UnknownNameError, match="No module named 'nosuchpkg'"):
        SCHEDULERS.resolve("nosuchpkg.Sched")
    with pytest.raises(UnknownNameError, match="broken on purpose"):
        SCHEDULERS.resolve("brokenopt.Sched")
    with pytest.raises(UnknownNameError, match="wants_coffee"):
        SCHEDULERS.resolve("mysched.bad_quirks")
    with pytest.raises(UnknownSettingError, match=r"no setting 'evry'.*did you mean 'every'"):
        lrs("mysched.HalveEvery:evry=5")
    proc = cli("schedule", "brokenopt.Sched")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "broken on purpose" in proc.stderr


def test_trajectory_scheduler_plugin_records_its_lr(tmp_path):
    out = tmp_path / "t.json"
    proc = cli("trajectory", "sgd", "--lr", "0.05", "--steps", "12", "--dtype", "float64",
               "--scheduler",
               "mysched.HalveEvery:every=3", "-o", str(tmp_path / "t.png"), "--export", str(out))
    assert proc.returncode == 0, proc.stderr
    run = json.loads(out.read_text())["runs"][0]
    assert run["lr"] == pytest.approx([0.05 * 0.5 ** (t // 3) for t in range(12)], rel=1e-12)
    # GD on x² + 10y² with that LR: x_{t+1} = (1 - 2 lr_t) x_t from (4, 3).
    x = 4.0
    for t, point in enumerate(run["points"][1:]):
        x *= 1 - 2 * 0.05 * 0.5 ** (t // 3)
        assert point[0] == pytest.approx(x, rel=1e-9)


def test_config_needs_allow_imports_for_a_scheduler_plugin(on_path):
    from optviz.config import parse_config

    text = "kind: schedule\nschedulers: [mysched.HalveEvery]\n"
    with pytest.raises(BadValueError, match="--allow-imports"):
        parse_config(text, "c.yaml")
    spec = parse_config(text, "c.yaml", allow_imports=True)
    assert spec.schedulers[0].name == "mysched.HalveEvery"


# -- entry points of an installed package ---------------------------------------------------------

def _install_fake_package(root: Path) -> None:
    """A dist-info folder is what pip leaves behind: importlib.metadata reads the entry points
    of every one on sys.path."""
    info = root / "optviz_fake_plugins-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: optviz-fake-plugins\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[optviz.schedulers]\nhalve_every = mysched:HalveEvery\n"
        "linear_to_zero = mysched:linear_to_zero\nstep = mysched:HalveEvery\n\n"
        "[optviz.optimizers]\nhalf_step = myopt:HalfStep\n")


def test_entry_points_are_listed_and_resolve(tmp_path):
    _install_fake_package(tmp_path)
    path = os.pathsep.join([str(tmp_path), str(DATA)])
    listed = cli("list", "schedulers", pythonpath=path)
    assert listed.returncode == 0, listed.stderr
    assert "halve_every" in listed.stdout and "linear_to_zero" in listed.stdout
    assert "half_step" in cli("list", "optimizers", pythonpath=path).stdout

    out = tmp_path / "s.json"
    proc = cli("schedule", "halve_every:every=2", "linear_to_zero", "step", "--lr", "0.01",
               "-o", str(tmp_path / "s.png"), "--export", str(out), pythonpath=path)
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(out.read_text())["runs"]
    assert runs[0]["lr"] == pytest.approx([LR * 0.5 ** (t // 2) for t in range(32)], rel=1e-12)
    # the quirks the factory declares are read once it is imported
    assert runs[1]["lr"] == pytest.approx([LR * (1 - t / 32) for t in range(32)], rel=1e-12)
    # a plugin cannot shadow a built-in name: step is still StepLR with the article's preset
    assert runs[2]["class_path"] == "torch.optim.lr_scheduler.StepLR"
    assert runs[2]["lr"] == pytest.approx([LR * 0.5 ** (t // 4) for t in range(32)], rel=1e-12)


# -- pytorch_optimizer ------------------------------------------------------------------------

def _po() -> Any:
    return pytest.importorskip("pytorch_optimizer")


@pytest.mark.parametrize(("name", "settings", "make"), [
    ("rex", "", lambda po, o: po.load_lr_scheduler("rex")(o, total_steps=32, max_lr=LR)),
    ("linear", "warmup_steps=4",
     lambda po, o: po.load_lr_scheduler("linear")(o, t_max=32, max_lr=LR, warmup_steps=4)),
    ("cosine", "min_lr=0.001",
     lambda po, o: po.load_lr_scheduler("cosine")(o, t_max=32, max_lr=LR, min_lr=0.001)),
    ("poly", "poly_order=1.0,warmup_steps=4",
     lambda po, o: po.load_lr_scheduler("poly")(o, poly_order=1.0, t_max=32, max_lr=LR,
                                                 warmup_steps=4)),
    ("chebyshev", "", lambda po, o: po.load_lr_scheduler("chebyshev")(o, num_epochs=32)),
    ("cosine_annealing_with_warmup", "warmup_steps=4",
     lambda po, o: po.load_lr_scheduler("cosine_annealing_with_warmup")(
         o, first_cycle_steps=32, max_lr=LR, warmup_steps=4)),
    ("warmup_stable_decay", "",
     lambda po, o: po.load_lr_scheduler("warmup_stable_decay")(
         o, num_warmup_steps=3, num_stable_steps=23, num_decay_steps=6)),
    # pytorch_optimizer's names for torch's classes keep torch's records and presets
    ("step", "", lambda po, o: torch.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.5)),
    ("one_cycle", "", lambda po, o: torch.optim.lr_scheduler.OneCycleLR(
        o, max_lr=LR, epochs=4, steps_per_epoch=8)),
])
def test_pytorch_optimizer_schedulers_equal_the_package_by_hand(name, settings, make):
    po = _po()
    spec = f"pytorch_optimizer.{name}" + (f":{settings}" if settings else "")
    want = by_hand(lambda o: make(po, o))
    assert lrs(spec) == pytest.approx(want, rel=1e-12, abs=1e-18)
    assert SCHEDULERS.resolve(f"pytorch_optimizer.{name}").plugin == "pytorch_optimizer"


def test_pytorch_optimizer_kwargs_settings_come_from_the_base_class():
    po = _po()
    valid = valid_settings(po.load_lr_scheduler("poly"))
    assert {"poly_order", "t_max", "max_lr", "min_lr", "init_lr", "warmup_steps"} <= set(valid)


def test_pytorch_optimizer_refusals_are_one_line():
    _po()
    with pytest.raises(UnsupportedError, match="wraps another scheduler"):
        lrs("pytorch_optimizer.proportion")
    with pytest.raises(UnknownNameError, match="did you mean 'chebyshev'"):
        SCHEDULERS.resolve("pytorch_optimizer.chebyshv")
    proc = cli("schedule", "pytorch_optimizer.proportion")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_show_names_a_plugin_scheduler(on_path):
    proc = cli("show", "mysched.HalveEvery")
    assert proc.returncode == 0, proc.stderr
    assert "every" in proc.stdout and "settings" in proc.stdout
    if _po():
        shown = cli("show", "pytorch_optimizer.rex")
        assert shown.returncode == 0, shown.stderr
        assert "from the run" in shown.stdout and "total_steps" in shown.stdout


@pytest.mark.parametrize(("args", "suggestion"), [
    (["trajectory", "torch.optim.Adamm"], "did you mean 'torch.optim.Adam'"),
    (["schedule", "torch.optim.lr_scheduler.StepLRR"],
     "did you mean 'torch.optim.lr_scheduler.StepLR'"),
])
def test_a_misspelt_dotted_path_gets_a_suggestion(args, suggestion, tmp_path):
    proc = cli(*args, "-o", str(tmp_path / "x.png"))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert suggestion in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []
