"""The CLI through Typer's CliRunner and as a real subprocess: exit codes, one-line errors,
outputs whole or absent, start-up without torch, and the numbers that reach the files."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from forked import run_optviz
from typer.testing import CliRunner

from optviz.cli import app
from optviz.plan.labels import format_value
from optviz.registry.signatures import signature_params

FIG_PIXELS = (870, 1950)  # figsize (13, 5.8) inches at the PNG default 150 dpi

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})


def _env(debug: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "OPTVIZ_DEBUG"}
    env["COLUMNS"] = "200"
    if debug:
        env["OPTVIZ_DEBUG"] = "1"
    return env


class Background:
    """Real processes run one after another in a thread, started when the module starts, so
    that their start-ups overlap with the in-process tests instead of adding to them:
    ``-m optviz ...`` as a warm-started process (``forked.run_optviz``), anything else as a new
    ``python`` (the import probes need a fresh interpreter). Environments are fixed up front:
    CliRunner changes os.environ while it runs."""

    def __init__(self, jobs: dict[str, tuple[list[str], Path, dict[str, str]]]) -> None:
        self.jobs = jobs
        self.results: dict[str, subprocess.CompletedProcess] = {}
        self.done = {name: threading.Event() for name in jobs}
        self._stopped = False
        self._current: subprocess.Popen | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for name, (argv, cwd, env) in self.jobs.items():
            if self._stopped:
                break
            if argv[:2] == ["-m", "optviz"]:
                self.results[name] = run_optviz(argv[2:], env=env, cwd=cwd)
                self.done[name].set()
                continue
            self._current = subprocess.Popen(
                [sys.executable, *argv], cwd=cwd, env=env, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
            out, err = self._current.communicate()
            self.results[name] = subprocess.CompletedProcess(argv, self._current.returncode,
                                                             out, err)
            self.done[name].set()

    def result(self, name: str) -> subprocess.CompletedProcess:
        assert self.done[name].wait(timeout=300), f"{name} did not finish"
        return self.results[name]

    def cwd(self, name: str) -> Path:
        return self.jobs[name][1]

    def stop(self) -> None:
        self._stopped = True
        current = self._current
        if current is not None and current.poll() is None:
            current.kill()
        self._thread.join(timeout=60)


_IMPORT_PROBE = """
import atexit, json, sys
sys.argv = ["optviz", *json.loads(sys.argv[1])]
# The console script ends with os._exit once the exit functions have run: this one reports.
atexit.register(lambda: print("PROBE " + json.dumps({"torch": "torch" in sys.modules,
                                                    "matplotlib": "matplotlib" in sys.modules})))
from optviz.cli import main
main()
"""

PROBES = {"help": ["--help"], "list": ["list", "optimizers"]}


@pytest.fixture(scope="module", autouse=True)
def background(tmp_path_factory) -> Background:
    """Every subprocess of this module, queued when the module starts."""

    def cwd(name: str) -> Path:
        return tmp_path_factory.mktemp(name)

    m = ["-m", "optviz"]
    jobs = {
        "adam": ([*m, "trajectory", "adam", "--lr", "0.1", "-o", "adam.png", "--export",
                  "adam.json"], cwd("adam"), _env()),
        "unknown-optimizer": ([*m, "trajectory", "adamm", "-o", "x.png"], cwd("adamm"), _env()),
        "debug": ([*m, "trajectory", "adamm", "-o", "x.png"], cwd("debug"), _env(debug=True)),
    }
    for name, args in PROBES.items():
        jobs[name] = (["-c", _IMPORT_PROBE, json.dumps(args)], cwd(name), _env())
    queue = Background(jobs)
    yield queue
    queue.stop()


def torch_path(cls, steps: int, start=(4.0, 3.0), **kwargs) -> np.ndarray:
    """torch's own optimizer on x² + 10y², stepped by hand in float32 (optviz's default)."""
    x = torch.tensor(start, requires_grad=True)
    opt = cls([x], **kwargs)
    rows = [x.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        (x[0] ** 2 + 10 * x[1] ** 2).backward()
        opt.step()
        rows.append(x.detach().clone())
    return torch.stack(rows).double().numpy()


def assert_one_line_error(stderr: str, stdout: str = "") -> str:
    assert stderr.endswith("\n") and stderr.count("\n") == 1, repr(stderr)
    assert stderr.startswith("optviz: error: ")
    assert "Traceback" not in stderr + stdout
    return stderr


def png_size(path: Path, png_pixels) -> tuple[int, int]:
    return png_pixels(path).shape[:2]


# ---------------------------------------------------------------- success


def test_adam_lr_0_1_writes_png_and_json(out_dir, png_pixels):
    png, js = out_dir / "adam.png", out_dir / "adam.json"
    res = invoke("trajectory", "adam", "--lr", "0.1", "-o", str(png), "--export", str(js))
    assert res.exit_code == 0, res.output
    assert res.stderr == ""
    assert res.stdout.splitlines() == [f"wrote {png}", f"wrote {js}"]
    assert sorted(p.name for p in out_dir.iterdir()) == ["adam.json", "adam.png"]  # no temps
    assert png_size(png, png_pixels) == FIG_PIXELS
    data = json.loads(js.read_text())
    (run,) = data["runs"]
    expected = torch_path(torch.optim.Adam, 100, lr=0.1)
    assert run["points"][0] == [4.0, 3.0]
    assert run["points"][1] == pytest.approx(expected[1].tolist(), abs=1e-6)
    np.testing.assert_allclose(run["points"], expected, rtol=0, atol=1e-6)
    assert run["hyperparameters"]["lr"] == 0.1
    assert (data["function"], data["steps"]) == ("quadratic", 100)


def test_kebab_settings_reach_torch(out_dir):
    js = out_dir / "sgd.json"
    res = invoke("trajectory", "sgd", "--lr", "0.01", "--momentum", "0.9", "--nesterov",
                 "--steps", "5", "-o", str(out_dir / "sgd.png"), "--export", str(js))
    assert res.exit_code == 0, res.output
    run = json.loads(js.read_text())["runs"][0]
    assert run["hyperparameters"]["momentum"] == 0.9
    assert run["hyperparameters"]["nesterov"] is True
    expected = torch_path(torch.optim.SGD, 5, lr=0.01, momentum=0.9, nesterov=True)
    np.testing.assert_allclose(run["points"], expected, rtol=0, atol=1e-6)


def test_betas_list_and_exponent_lr(out_dir):
    js = out_dir / "adam.json"
    res = invoke("trajectory", "adam", "--lr", "1e-3", "--betas", "0.9,0.99", "--steps", "3",
                 "-o", str(out_dir / "adam.png"), "--export", str(js))
    assert res.exit_code == 0, res.output
    run = json.loads(js.read_text())["runs"][0]
    assert run["hyperparameters"]["lr"] == 0.001
    assert run["hyperparameters"]["betas"] == [0.9, 0.99]
    expected = torch_path(torch.optim.Adam, 3, lr=1e-3, betas=(0.9, 0.99))
    np.testing.assert_allclose(run["points"], expected, rtol=0, atol=1e-6)


def test_inline_settings_per_optimizer(out_dir):
    js = out_dir / "two.json"
    res = invoke("trajectory", "sgd:lr=0.01,momentum=0.9", "adam:lr=0.1,betas=[0.9,0.99]",
                 "--steps", "4", "-o", str(out_dir / "two.png"), "--export", str(js))
    assert res.exit_code == 0, res.output
    sgd, adam = json.loads(js.read_text())["runs"]
    np.testing.assert_allclose(sgd["points"],
                               torch_path(torch.optim.SGD, 4, lr=0.01, momentum=0.9),
                               rtol=0, atol=1e-6)
    np.testing.assert_allclose(adam["points"],
                               torch_path(torch.optim.Adam, 4, lr=0.1, betas=(0.9, 0.99)),
                               rtol=0, atol=1e-6)


def test_csv_export_through_the_cli(out_dir):
    path = out_dir / "gd.csv"
    res = invoke("trajectory", "gd", "--lr", "0.1", "--steps", "3", "-o",
                 str(out_dir / "gd.png"), "--export", str(path))
    assert res.exit_code == 0, res.output
    lines = path.read_text().splitlines()
    assert lines[0] == "run,label,optimizer,step,x,y,loss,diverged"
    assert len(lines) == 1 + 4
    # x_k = 4·0.8^k, y_k = 3·(−1)^k
    for k, line in enumerate(lines[1:]):
        cells = line.split(",")
        assert cells[3] == str(k)
        x, y, loss = map(float, cells[-4:-1])
        assert x == pytest.approx(4 * 0.8**k, rel=1e-6)
        assert y == pytest.approx(3 * (-1) ** k, rel=1e-6)
        assert loss == pytest.approx(x * x + 10 * y * y, rel=1e-6)


def test_diverged_run_is_reported_not_fatal(out_dir):
    js = out_dir / "p.json"
    res = invoke("trajectory", "sgd", "--lr", "1", "-f", "parabola", "--steps", "6", "-o",
                 str(out_dir / "p.png"), "--export", str(js))
    assert res.exit_code == 0, res.output
    # x_{k+1} = −7x_k from 2: 2, −14, 98, −686 (beyond 100 half-widths of [−3, 3]). The
    # export keeps the finite points after it (null only where not finite).
    assert res.stdout.splitlines()[0] == "SGD (lr=1): diverged at step 3"
    run = json.loads(js.read_text())["runs"][0]
    assert run["diverged"] == 3
    assert run["points"] == [[2.0 * (-7.0) ** k] for k in range(7)]
    assert run["loss"] == pytest.approx([4 * (2.0 * (-7.0) ** k) ** 2 for k in range(7)], rel=1e-6)
    overflow = invoke("trajectory", "gd:lr=1e38", "--steps", "3", "-o", str(out_dir / "o.png"),
                      "--export", str(js))
    assert overflow.exit_code == 0, overflow.output
    run = json.loads(js.read_text())["runs"][0]  # float32 overflows at step 1: null from there
    assert run["diverged"] == 1 and run["points"] == [[4.0, 3.0]] + [[None, None]] * 3


def test_derived_file_name_in_cwd(tmp_path, monkeypatch, png_pixels):
    monkeypatch.chdir(tmp_path)
    res = invoke("trajectory", "adam", "sgd:lr=0.2,momentum=0.5", "--steps", "3")
    assert res.exit_code == 0, res.output
    (path,) = tmp_path.iterdir()
    assert res.stdout.strip() == f"wrote {path.name}"
    name = path.name
    assert name.endswith(".png") and "quadratic" in name and "adam" in name and "sgd" in name
    assert not set(name) & set(":=,[] ")  # inline settings do not leak into the file name
    assert png_size(path, png_pixels) == FIG_PIXELS


# ---------------------------------------------------------------- errors

_NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")

ERROR_CASES = [
    pytest.param(["adamm"], "did you mean 'adam'", id="unknown-optimizer"),
    pytest.param(["adam", "--function", "rosenbrok"], "did you mean 'rosenbrock'",
                 id="unknown-function"),
    pytest.param(["adam", "--lr", "-1"], "--lr", id="negative-lr"),
    pytest.param(["adam", "--start", "1"], "2 coordinate", id="one-coordinate-start"),
    pytest.param(["adam", "--start", "1,x"], "--start", id="start-not-a-number"),
    # A start that is not a finite point is a bad value like any other (with a JSON export it
    # must not reach json.dumps, and no PNG may be left behind).
    pytest.param(["adam", "--start", "nan,1", "--export", "{out}/x.json"], "start",
                 id="start-nan"),
    pytest.param(["adam", "--start", "inf,1"], "start", id="start-inf"),
    pytest.param(["adam", "--steps", "0"], "--steps", id="zero-steps"),
    pytest.param(["sgd", "--momentm", "0.9"], "momentum, dampening", id="unknown-kebab-setting"),
    pytest.param(["sgd:momentm=0.9"], "did you mean 'momentum'", id="unknown-inline-setting"),
    pytest.param(["adam", "--nesterov"], "nesterov", id="setting-of-another-optimizer"),
    pytest.param(["adam:betas=[1.5,0.9]"], "beta", id="value-torch-refuses"),
    pytest.param(["adam", "--device", "gpu"], "unknown device", id="unknown-device"),
    pytest.param(["adam", "--device", "cuda"], "not available", id="unavailable-cuda",
                 marks=_NO_CUDA),
    pytest.param(["adam", "--export", "{out}/x.txt"], ".json", id="bad-export-suffix"),
    # The export is checked before the picture is drawn: no PNG may be left behind.
    pytest.param(["adam", "--export", "{out}/missing/x.json"], "does not exist",
                 id="export-dir-missing"),
]


@pytest.mark.parametrize(("args", "message"), ERROR_CASES)
def test_bad_input_is_one_line_exit_2_nothing_written(out_dir, args, message):
    args = [a.replace("{out}", str(out_dir)) for a in args]
    res = invoke("trajectory", *args, "-o", str(out_dir / "x.png"))
    assert res.exit_code == 2, res.output
    assert message in assert_one_line_error(res.stderr, res.stdout)
    assert res.stdout == ""
    assert list(out_dir.iterdir()) == []  # no PNG, no export, no temporary file


def test_unwritable_output_path(out_dir):
    res = invoke("trajectory", "adam", "-o", "/nonexistent/dir/x.png", "--export",
                 str(out_dir / "x.json"))
    assert res.exit_code == 2
    assert "/nonexistent/dir" in assert_one_line_error(res.stderr, res.stdout)
    assert list(out_dir.iterdir()) == []  # the export is not written either


def test_output_path_that_is_a_directory(out_dir):
    (out_dir / "x.png").mkdir()
    res = invoke("trajectory", "adam", "-o", str(out_dir / "x.png"))
    assert res.exit_code == 2
    assert "directory" in assert_one_line_error(res.stderr, res.stdout)
    assert [p.name for p in out_dir.iterdir()] == ["x.png"]
    assert list((out_dir / "x.png").iterdir()) == []


@pytest.mark.parametrize(("args", "message"), [
    (["show", "adamm"], "did you mean 'adam'"),
    (["show", "rosenbrok"], "did you mean 'rosenbrock'"),
    (["list", "things"], "optimizers, functions"),
    (["trajectory", "adam", "--steps", "many"], "--steps"),
])
def test_other_commands_bad_input(args, message):
    res = invoke(*args)
    assert res.exit_code == 2, res.output
    assert message in assert_one_line_error(res.stderr, res.stdout)


def test_debug_shows_the_exception():
    res = invoke("trajectory", "adamm", env={"OPTVIZ_DEBUG": "1"})
    assert res.exit_code != 0
    assert type(res.exception).__name__ == "UnknownNameError"
    assert "did you mean 'adam'" in str(res.exception)


def _failing_os(monkeypatch):
    """optviz.outputs sees an os whose rename fails as on a full disk."""
    import optviz.export.files

    fake = types.SimpleNamespace(**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")})

    def replace(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    fake.replace = replace
    monkeypatch.setattr(optviz.export.files, "os", fake)


def test_failed_write_leaves_no_file(out_dir, monkeypatch):
    _failing_os(monkeypatch)
    res = invoke("trajectory", "adam", "--steps", "2", "-o", str(out_dir / "x.png"))
    assert res.exit_code == 2
    assert os.strerror(errno.ENOSPC) in assert_one_line_error(res.stderr, res.stdout)
    assert list(out_dir.iterdir()) == []  # the temporary file is gone too


def test_failed_write_keeps_the_old_file(out_dir, monkeypatch):
    from optviz.errors import OutputError
    from optviz.export.files import atomic_write

    old = out_dir / "x.png"
    old.write_bytes(b"old picture")
    _failing_os(monkeypatch)
    with pytest.raises(OutputError, match=r"x\.png"):
        atomic_write(old, b"new picture")
    assert [p.name for p in out_dir.iterdir()] == ["x.png"]
    assert old.read_bytes() == b"old picture"
    monkeypatch.undo()
    atomic_write(old, b"new picture")
    assert [p.name for p in out_dir.iterdir()] == ["x.png"]
    assert old.read_bytes() == b"new picture"


# ---------------------------------------------------------------- discovery


def _table_rows(text: str) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        if line.startswith("│"):
            cells = [c.strip() for c in line.strip().strip("│").split("│")]
            rows[cells[0]] = cells[1:]
    return rows


def test_list_functions_wildcard():
    res = invoke("list", "functions", "ros*")
    assert res.exit_code == 0
    rows = _table_rows(res.stdout)
    assert list(rows) == ["rosenbrock"]
    assert "[-2, 2] × [-1, 3]" in rows["rosenbrock"]
    assert "(1, 1)" in rows["rosenbrock"]


def test_list_optimizers_wildcard_and_presets():
    rows = _table_rows(invoke("list", "optimizers", "adam*").stdout)
    assert list(rows) == ["adam", "adamax", "adamw"]
    assert rows["adamw"][0] == "torch.optim.AdamW"
    rows = _table_rows(invoke("list", "optimizers").stdout)
    assert rows["momentum"][:2] == ["torch.optim.SGD", "momentum=0.9"]
    assert rows["nesterov"][:2] == ["torch.optim.SGD", "momentum=0.9, nesterov=True"]
    assert "closure" in rows["lbfgs"][2]
    assert "sparse" in rows["sparse_adam"][2]
    assert "2-D" in rows["muon"][2]


def test_list_without_matches():
    res = invoke("list", "optimizers", "zz*")
    assert res.exit_code == 0
    assert "no optimizers match 'zz*'" in res.stdout


def test_list_without_a_kind_lists_all_three():
    from optviz.registry import FUNCTIONS, OPTIMIZERS, SCHEDULERS

    res = invoke("list")
    assert res.exit_code == 0
    rows = _table_rows(res.stdout)
    want = {*OPTIMIZERS.builtin_names(), *FUNCTIONS.names(), *SCHEDULERS.builtin_names()}
    assert want <= set(rows)


def test_show_adam_prints_signature_defaults():
    res = invoke("show", "adam")
    assert res.exit_code == 0
    assert res.stdout.startswith("adam  torch.optim.Adam(")
    rows = _table_rows(res.stdout)
    params = signature_params(torch.optim.Adam)
    assert set(params) <= set(rows)
    for key, default in params.items():
        assert rows[key][0] == format_value(default), key
    assert rows["lr"][0] == "0.001"
    assert rows["betas"][0] == "(0.9, 0.999)"
    assert rows["eps"][0] == "1e-08"
    assert "quirks: none" in res.stdout


def test_show_preset_marks_its_defaults():
    rows = _table_rows(invoke("show", "nesterov").stdout)
    assert rows["momentum"] == ["0", "0.9"]
    assert rows["nesterov"] == ["False", "True"]


def test_show_lbfgs_mentions_the_closure():
    res = invoke("show", "lbfgs")
    assert res.exit_code == 0
    assert "needs a closure" in res.stdout
    assert _table_rows(res.stdout)["max_iter"][0] == "20"


def test_show_function():
    res = invoke("show", "six-hump-camel")
    assert res.exit_code == 0
    assert "minimum value: -1.03163" in res.stdout
    assert "domain: [-3, 3] × [-2, 2]" in res.stdout


# ---------------------------------------------------------------- real subprocesses
# Last in the module: by now the background processes have had the in-process tests' time.


@pytest.fixture
def subprocess_adam(background):
    return background.result("adam"), background.cwd("adam")


def test_subprocess_adam_exit_code_and_files(subprocess_adam, png_pixels):
    proc, out = subprocess_adam
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout.splitlines() == ["wrote adam.png", "wrote adam.json"]
    assert sorted(p.name for p in out.iterdir()) == ["adam.json", "adam.png"]
    assert png_size(out / "adam.png", png_pixels) == FIG_PIXELS


def test_subprocess_adam_first_step_is_torchs(subprocess_adam):
    _, out = subprocess_adam
    data = json.loads((out / "adam.json").read_text())
    points = data["runs"][0]["points"]
    expected = torch_path(torch.optim.Adam, 100, lr=0.1)
    # Adam's first step is lr·sign(g): (4, 3) -> (3.9, 2.9).
    assert points[1] == pytest.approx([3.9, 2.9], abs=1e-6)
    assert points[1] == pytest.approx(expected[1].tolist(), abs=1e-6)
    np.testing.assert_allclose(points, expected, rtol=0, atol=1e-6)
    assert len(points) == len(data["runs"][0]["loss"]) == 101


def test_subprocess_bad_input(background):
    proc = background.result("unknown-optimizer")
    assert proc.returncode == 2
    assert "did you mean 'adam'" in assert_one_line_error(proc.stderr, proc.stdout)
    assert proc.stdout == ""
    assert list(background.cwd("unknown-optimizer").iterdir()) == []


def test_subprocess_debug_shows_traceback(background):
    proc = background.result("debug")
    assert proc.returncode not in (0, 2)
    assert "Traceback (most recent call last)" in proc.stderr
    assert "UnknownNameError: unknown optimizer 'adamm'" in proc.stderr
    assert list(background.cwd("debug").iterdir()) == []


@pytest.mark.parametrize("job", sorted(PROBES))
def test_help_and_list_do_not_import_torch_or_matplotlib(background, job):
    proc = background.result(job)
    body, _, probe = proc.stdout.rpartition("PROBE ")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(probe) == {"torch": False, "matplotlib": False}, proc.stderr
    assert {"help": "trajectory", "list": "adamw"}[job] in body


def test_the_console_script_collects_garbage_less_often(monkeypatch):
    """``optviz.cli.main`` (the console script) raises the collector's first threshold before
    running the command (issue 16: the collector's passes over torch's and matplotlib's
    objects were a tenth of one picture's time), keeping the other two."""
    import gc

    import optviz.cli as cli
    import optviz.cli.process as process
    from optviz.collector import GC_THRESHOLD

    saved = gc.get_threshold()
    seen, codes = [], []
    monkeypatch.setattr(cli, "app", lambda **kwargs: seen.append(gc.get_threshold()))
    monkeypatch.setattr(process, "finish", codes.append)  # not this test process's end
    try:
        gc.set_threshold(700, 10, 10)
        cli.main()
        assert seen == [(GC_THRESHOLD, 10, 10)] and GC_THRESHOLD == 100_000
        assert codes == [0]
    finally:
        gc.set_threshold(*saved)
