"""Hostile and broken input: YAML limits (alias bombs, nesting, sizes), spec limits, and values
that used to end in 'internal error'; each is one line naming the file and line, or the flag."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optviz.cli import app
from optviz.config import load_config, parse_config
from optviz.errors import BadValueError
from optviz.spec import syntax
from optviz.spec.figures import MAX_RUNS, MAX_TITLE, TrajectorySpec, build

runner = CliRunner()


def _bomb(levels: int, width: int = 9) -> str:
    """``&a0 [1 x width]``, then ``&aN [*aN-1 x width]``: width**levels values once expanded."""
    lines = [f"    l0: &a0 [{', '.join(['1'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"    l{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def _refused(text: str, source: str = "bad.yaml") -> str:
    start = time.perf_counter()
    with pytest.raises(BadValueError) as err:
        parse_config(text, source)
    # Refused before anything walks the expanded structure (the bomb took 244 s); generous,
    # as a loaded machine is slow: it takes milliseconds.
    assert time.perf_counter() - start < 20
    message = str(err.value)
    assert "\n" not in message
    return message


def test_alias_bomb_under_foreach_is_refused_with_its_line() -> None:
    text = ("kind: trajectory\noptimizers: [adam]\nsettings:\n  foreach:\n" + _bomb(6))
    assert 300 < len(text) < 700  # small as text: 9**6 = 531441 values once expanded
    message = _refused(text)
    assert message.startswith("bad.yaml:")
    assert "aliases" in message and str(syntax.MAX_NODES) in message
    line = int(message.split(":")[1])
    assert 5 <= line <= 10  # a line of the bomb itself, not the top of the file


def test_alias_bomb_in_an_optimizer_key_is_refused() -> None:
    text = "optimizers:\n  - name: adam\n    weird:\n" + _bomb(7).replace("    ", "      ")
    assert "aliases" in _refused(text)


def test_a_small_alias_is_still_read() -> None:
    text = "optimizers:\n  - {name: adam, betas: &b [0.9, 0.99]}\n  - {name: adamw, betas: *b}\n"
    spec = parse_config(text, "ok.yaml")
    assert [o.settings["betas"] for o in spec.optimizers] == [[0.9, 0.99], [0.9, 0.99]]


def test_recursive_alias_is_refused() -> None:
    assert "recursive" in _refused("settings:\n  x: &a [1, *a]\n")


@pytest.mark.parametrize("depth", [60, 5000])
def test_deep_nesting_is_one_line_not_recursion_error(depth: int) -> None:
    message = _refused("title: t\nsettings:\n  x: " + "[" * depth + "]" * depth + "\n")
    assert message == f"bad.yaml:3: nested deeper than {syntax.MAX_DEPTH} levels"


def test_nesting_within_the_limit_is_read() -> None:
    depth = syntax.MAX_DEPTH - 2
    data = syntax.load_yaml("x: " + "[" * depth + "]" * depth)
    for _ in range(depth):
        data = data["x"] if isinstance(data, dict) else data[0]
    assert data == []


def test_a_huge_string_names_its_line() -> None:
    message = _refused("kind: trajectory\ntitle: " + "x" * 100_000 + "\n")
    assert message == ("bad.yaml:2: a text of 100000 characters; at most "
                       f"{syntax.MAX_STRING} are read")


def test_a_title_longer_than_a_figure_can_show_names_the_key() -> None:
    message = _refused("kind: trajectory\ntitle: " + "x" * (MAX_TITLE + 1) + "\n")
    assert message == f"bad.yaml:2 title: takes at most {MAX_TITLE} characters"


def test_a_huge_list_is_refused() -> None:
    text = "optimizers: [" + ", ".join(["adam"] * 20_000) + "]\n"
    assert _refused(text) == f"bad.yaml:1: a list of 20000 entries; at most {syntax.MAX_ITEMS}"


def test_more_optimizers_than_a_figure_holds_names_the_key() -> None:
    text = "optimizers: [" + ", ".join(["adam"] * (MAX_RUNS + 1)) + "]\n"
    assert _refused(text) == f"bad.yaml:1 optimizers: takes at most {MAX_RUNS} items"


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with open(path, "wb") as fh:  # 50 MB: only the first megabyte is ever read
        fh.write(b"title: ")
        fh.truncate(50_000_000)
    start = time.perf_counter()
    with pytest.raises(BadValueError) as err:
        load_config(path)
    assert time.perf_counter() - start < 2
    assert str(err.value) == (f"{path}: more than {syntax.MAX_YAML_BYTES} bytes; a config is a "
                              "short YAML file")


def test_deep_json_sidecar_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"config": ' + "[" * 100_000 + "]" * 100_000 + "}")
    result = runner.invoke(app, ["render", str(path)])
    assert result.exit_code == 2
    assert "nested too deep" in result.output


@pytest.mark.parametrize(("args", "expected"), [
    (["--seed", "99999999999999999999999"], "--seed: must be <= 9.22337e+18"),
    (["--model", "linear", "--epochs", "2", "--noise", "inf"],
     "--noise: Input should be a finite number"),
    (["--model", "linear", "--epochs", "2", "--samples", "10000000", "--in-features", "10000"],
     "samples x (in_features + out_features) is 1e+11"),
])
def test_values_that_were_internal_errors_are_one_line(args: list[str], expected: str) -> None:
    result = runner.invoke(app, ["trajectory", "sgd:lr=0.1", *args, "--dump-config"])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "internal error" not in result.output


def test_an_over_long_cli_value_is_one_line() -> None:
    result = runner.invoke(app, ["trajectory", "sgd", "--momentum", "1" * 20_000, "--dump-config"])
    assert result.exit_code == 2
    assert "at most 10000" in result.output


def test_spec_limits_hold_for_the_python_api() -> None:
    with pytest.raises(BadValueError, match="takes at most 100 items"):
        build(TrajectorySpec, {"optimizers": ["sgd"] * 101})


# -- confinement through symbolic links ------------------------------------------------------


@pytest.mark.parametrize("key", ["output", "export"])
def test_render_refuses_a_config_path_through_a_symlink_leading_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    here, outside = tmp_path / "here", tmp_path / "outside"
    here.mkdir()
    outside.mkdir()
    (here / "link").symlink_to(outside)
    name = "link/x.png" if key == "output" else "link/x.json"
    (here / "c.yaml").write_text(f"optimizers: ['sgd:lr=0.1']\nsteps: 3\n{key}: {name}\n")
    monkeypatch.chdir(here)
    result = runner.invoke(app, ["render", "c.yaml"])
    assert result.exit_code == 2
    assert result.stderr == (f"optviz: error: c.yaml: {key} '{name}' must be a path inside the "
                             "current folder (a symbolic link leads out); give "
                             f"{'-o' if key == 'output' else '--export'} to write elsewhere\n")
    assert list(outside.iterdir()) == []


def test_render_still_writes_through_a_symlink_that_stays_inside(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, png_pixels) -> None:
    (tmp_path / "figs").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "figs")
    (tmp_path / "c.yaml").write_text("optimizers: ['sgd:lr=0.1']\nsteps: 3\noutput: link/x.png\n")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["render", "c.yaml"])
    assert result.exit_code == 0, result.output
    assert png_pixels(tmp_path / "figs" / "x.png").shape[2] == 3


def test_a_nul_byte_in_a_config_output_is_refused_before_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "c.yaml").write_text('optimizers: [sgd]\nsteps: 1000000\noutput: "a\\0b.png"\n')
    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    result = runner.invoke(app, ["render", "c.yaml"])
    assert time.perf_counter() - start < 60  # not after a million steps (minutes)
    assert result.exit_code == 2
    assert "cannot hold a NUL byte" in result.stderr


# -- extreme values: one line, no warnings ---------------------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    (["--start", "1e20,1e20"], "quadratic overflows float32 at the start (1e+20, 1e+20): its "
                               "value there is inf; pick a start nearer its domain"),
    (["--start", "1e308,1e308"], "start (1e+308, 1e+308) is beyond what float32 holds"),
    (["--start", "1e39,1"], "start (1e+39, 1) is beyond what float32 holds"),
    (["-f", "rosenbrock", "--start", "1e10,1e10"], "rosenbrock overflows float32 at the start"),
    (["--start", "1e200,1e200", "--dtype", "float64"], "quadratic overflows float64"),
])
def test_far_starts_are_one_line(args: list[str], expected: str, tmp_path: Path) -> None:
    # In this process, with every warning recorded ("always": none is hidden because an
    # earlier test already showed it); the real processes below check a whole run's stderr.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = runner.invoke(app, ["trajectory", "adam:lr=0.1", *args, "--steps", "5", "-o",
                                  str(tmp_path / "t.png")], env={"COLUMNS": "200"})
    assert res.exit_code == 2, res.stderr
    assert res.stderr.startswith(f"optviz: error: {expected}")
    assert len(res.stderr.splitlines()) == 1  # no numpy or matplotlib warning
    assert [str(w.message) for w in caught] == []
    assert not (tmp_path / "t.png").exists()


_CALLS = """
import json, sys
from optviz.cli import app
for call in json.loads(sys.argv[1]):
    app(call, standalone_mode=False)
"""


def test_a_far_start_in_float64_and_a_huge_schedule_lr_draw_without_warnings(
        tmp_path: Path) -> None:
    """Two calls in one real process: nothing but the 'wrote' lines, no warning at exit."""
    import json
    import subprocess
    import sys

    far = ["trajectory", "sgd:lr=0.1", "--start", "1e20,1e20", "--dtype", "float64",
           "--steps", "3", "-o", "t.png", "--export", "t.json"]
    huge = ["schedule", "cosine", "--lr", "1e308", "-o", "s.png"]
    proc = subprocess.run([sys.executable, "-c", _CALLS, json.dumps([far, huge])],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.splitlines() == ["wrote t.png", "wrote t.json", "wrote s.png"]
    run = json.loads((tmp_path / "t.json").read_text())["runs"][0]
    # x² + 10y², gradient (2x, 20y): SGD with lr 0.1 multiplies x by 0.8 and y by -1.
    assert run["points"][1] == pytest.approx([0.8e20, -1e20], rel=1e-12)


# -- long runs: a progress bar through the hooks ---------------------------------------------


def _recording_hooks() -> tuple[object, list[str], list[tuple[int, int]]]:
    from optviz.hooks import Hooks

    tasks: list[str] = []
    ticks: list[tuple[int, int]] = []

    def task(description: str):
        tasks.append(description)
        return lambda done, total: ticks.append((done, total))

    return Hooks(task=task), tasks, ticks


@pytest.mark.parametrize(("data", "name", "total"), [
    ({"optimizers": ["sgd:lr=0.01", "adam:lr=0.1"], "steps": 1000}, "trajectory", 2000),
    # 64 samples in batches of 16: 4 steps an epoch, 30 epochs, two runs
    ({"optimizers": ["sgd:lr=0.01", "adam:lr=0.1"], "model": "linear", "samples": 64,
      "batch_size": 16, "epochs": 30}, "training", 240),
])
def test_a_long_run_ticks_a_progress_bar_through_the_hooks(
        monkeypatch: pytest.MonkeyPatch, data: dict, name: str, total: int) -> None:
    from optviz.figures import trajectory

    hooks, tasks, ticks = _recording_hooks()
    monkeypatch.setattr(trajectory._bar_if_long, "__defaults__", (0.0,))  # any run is long
    result = trajectory.run_trajectory_spec(build(TrajectorySpec, data), hooks)
    assert tasks == [name]
    assert ticks[-1] == (total, total)
    done = [d for d, _ in ticks]
    assert done == sorted(done) and all(t == total for _, t in ticks)
    assert len(ticks) <= 2 * 205  # a few hundred updates, not one per step
    assert len(result.runs) == 2


def test_a_short_run_shows_no_bar() -> None:
    from optviz.figures import trajectory

    hooks, tasks, ticks = _recording_hooks()
    trajectory.run_trajectory_spec(build(TrajectorySpec, {"optimizers": ["sgd"], "steps": 50}),
                                   hooks)
    assert tasks == [] and ticks == []


def test_progress_does_not_change_the_path() -> None:
    import torch

    from optviz.engines.single import run_trajectory
    from optviz.figures.auto import plan_trajectory
    from optviz.registry import FUNCTIONS

    spec = build(TrajectorySpec, {"optimizers": ["sgd:lr=0.01"], "steps": 30,
                                  "start": [1.5, -2.0]})
    function = FUNCTIONS.resolve("quadratic")
    plans = plan_trajectory(spec, function, None, None)
    ticks: list[tuple[int, int]] = []
    run = run_trajectory(function, plans, start=[1.5, -2.0], steps=30,
                         progress=lambda d, t: ticks.append((d, t))).runs[0]
    x = torch.tensor([1.5, -2.0], requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.01)
    for k in range(1, 31):
        opt.zero_grad()
        (x[0] ** 2 + 10 * x[1] ** 2).backward()
        opt.step()
        assert run.points[k] == pytest.approx(x.tolist(), rel=1e-6)
    assert ticks == [(k, 30) for k in range(31)]


# -- size estimates before big work ------------------------------------------------------------


def test_a_basin_export_too_large_to_use_is_refused_at_once() -> None:
    start = time.perf_counter()
    result = runner.invoke(app, ["basin", "sgd", "--lr", "0.01", "--grid", "4096", "--steps",
                                 "5", "--export", "b.json", "-o", "b.png"])
    assert time.perf_counter() - start < 60  # refused before the 8 GB run, not after it
    assert result.exit_code == 2
    assert "an export of a 4096 x 4096 grid holds 16,777,216 starts" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_what_cannot_fit_in_memory_is_refused_and_long_work_is_announced() -> None:
    from optviz.figures.budget import basin_cost, check_budget, sweep_cost, trajectory_cost
    from optviz.spec.basin import BasinSpec
    from optviz.spec.sweep import SweepSpec

    notes: list[str] = []
    big = build(BasinSpec, {"optimizer": "sgd", "lr": 0.01, "grid": 4096, "steps": 5000})
    with pytest.raises(BadValueError) as err:
        check_budget("basin", basin_cost(big), notes.append, memory=4 * 2**30)
    assert str(err.value) == ("basin: a 4096 x 4096 grid of 5000 steps needs about 7.8 GB of "
                              "memory and 4.0 GB is free; make it smaller")
    check_budget("basin", basin_cost(big), notes.append, memory=64 * 2**30)
    assert notes == ["optviz: note: basin: a 4096 x 4096 grid of 5000 steps will take about "
                     "2.3 h (a rough estimate)"]
    notes.clear()
    small = build(BasinSpec, {"optimizer": "sgd", "lr": 0.01, "grid": 64, "steps": 100})
    check_budget("basin", basin_cost(small), notes.append)
    assert notes == []
    long = build(TrajectorySpec, {"optimizers": ["sgd", "adam"], "steps": 1_000_000})
    check_budget("trajectory", trajectory_cost(long), notes.append, memory=64 * 2**30)
    assert notes == ["optviz: note: trajectory: 2 run(s) of 1000000 steps will take about "
                     "7 min (a rough estimate)"]
    sweep = build(SweepSpec, {"optimizer": "sgd", "lr": "1e-5:1:10000", "steps": 1_000_000})
    with pytest.raises(BadValueError, match="10000 lrs x 1000000 steps needs about"):
        check_budget("sweep", sweep_cost(sweep), notes.append, memory=64 * 2**30)


def test_a_gallery_basin_too_fine_to_store_keeps_a_line_not_its_numbers() -> None:
    from types import SimpleNamespace

    from optviz.gallery.build import _sidecar_data
    from optviz.spec.basin import MAX_EXPORT_GRID, BasinSpec

    rendered = SimpleNamespace(data={"values": [1.0]})
    fine = build(BasinSpec, {"optimizer": "sgd", "lr": 0.01, "grid": MAX_EXPORT_GRID + 1})
    assert "too many to store" in _sidecar_data(fine, rendered)["omitted"]
    ok = build(BasinSpec, {"optimizer": "sgd", "lr": 0.01, "grid": MAX_EXPORT_GRID})
    assert _sidecar_data(ok, rendered) == {"values": [1.0]}


@pytest.mark.parametrize("args", [
    ["trajectory", "sgd", "--model", "linear", "--bias", "--no-bias"],
    ["trajectory", "sgd:lr=0.1", "--no-nesterov", "--momentum", "0.9", "--nesterov"],
])
def test_a_flag_and_its_negation_together_are_refused(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--dump-config"])
    assert result.exit_code == 2
    flag = args[-1] if args[-1] != "--no-bias" else "--bias"
    name = flag.removeprefix("--").removeprefix("no-")
    assert result.stderr == (f"optviz: error: --{name} and --no-{name} contradict each other; "
                             "give one\n")


def test_one_flag_alone_still_works() -> None:
    result = runner.invoke(app, ["trajectory", "sgd", "--model", "linear", "--no-bias",
                                 "--epochs", "2", "--dump-config"])
    assert result.exit_code == 0, result.output
    assert "bias: false" in result.stdout
