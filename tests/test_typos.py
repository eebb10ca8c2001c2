"""Misspelt names get "did you mean": a command's own options on the command line (not taken
for an optimizer setting), and unknown keys in a YAML config, with the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from optviz.cli import app
from optviz.config import parse_config
from optviz.errors import BadValueError

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.mark.parametrize(("args", "line"), [
    (["trajectory", "adam", "--stpes", "10"], "no such option: --stpes; did you mean --steps?"),
    (["trajectory", "adam", "--lookahed"], "no such option: --lookahed; did you mean --lookahead?"),
    (["trajectory", "adam", "--funtion=rosenbrock"],
     "no such option: --funtion; did you mean --function?"),
    (["basin", "adam", "--gird", "8"], "no such option: --gird; did you mean --grid?"),
    (["sweep", "adam", "--tool", "1e-3"], "no such option: --tool; did you mean --tol?"),
])
def test_a_misspelt_option_is_named_as_one(args, line, tmp_path: Path):
    res = invoke(*args, "-o", str(tmp_path / "x.png"))
    assert res.exit_code == 2, res.output
    assert res.stderr == f"optviz: error: {line}\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ["trajectory", "adam", "--eps", "1e-3", "-n", "3"],  # eps is close to --steps: a setting
    ["trajectory", "rprop", "--step-sizes", "[1e-6,1]", "-n", "3"],
    ["trajectory", "sgd", "--no-nesterov", "-n", "3"],
])
def test_optimizer_settings_close_to_an_option_are_settings(args, tmp_path: Path):
    res = invoke(*args, "-o", str(tmp_path / "x.png"))
    assert res.exit_code == 0, res.output


def test_a_setting_that_no_optimizer_of_the_call_takes_keeps_its_message(tmp_path: Path):
    res = invoke("trajectory", "sgd", "--momentm", "0.9", "-o", str(tmp_path / "x.png"))
    assert res.exit_code == 2
    assert res.stderr.startswith("optviz: error: --momentm is not a setting of SGD; did you "
                                 "mean 'momentum'?")


@pytest.mark.parametrize(("text", "message"), [
    ("optimizers: [adam]\nfucntion: rosenbrock\n",
     "c.yaml:2 fucntion: unknown key; did you mean function?"),
    ("kind: basin\noptimizer: adam\ngird: 8\n", "c.yaml:3 gird: unknown key; did you mean grid?"),
    ("optimizers: [adam]\nlookahead: {alpa: 0.3}\n",
     "c.yaml:2 lookahead.alpa: unknown key; did you mean alpha?"),
    ("optimizers: [adam]\npanels:\n  - {stpes: 3}\n",
     "c.yaml:3 panels[0].stpes: unknown key; did you mean steps?"),
    ("kind: schedule\nschedulers: [step]\nepoch: 3\n",
     "c.yaml:3 epoch: unknown key; did you mean epochs?"),
])
def test_an_unknown_config_key_gets_did_you_mean_and_its_line(text, message):
    with pytest.raises(BadValueError) as info:
        parse_config(text, "c.yaml")
    assert str(info.value) == message


def test_an_unknown_key_with_nothing_close_lists_the_valid_ones():
    with pytest.raises(BadValueError) as info:
        parse_config("kind: ema\nzzzz: 1\n", "c.yaml")
    assert str(info.value) == ("c.yaml:2 zzzz: unknown key; valid: title, betas, points, "
                               "output, export")


def test_an_option_value_that_names_no_optimizer_does_not_break_the_typo_check(tmp_path):
    res = invoke("trajectory", "adam", "--stpes", "3", "--foo", "builtins.dict", "-o",
                 str(tmp_path / "x.png"))
    assert res.exit_code == 2
    assert res.stderr == "optviz: error: no such option: --stpes; did you mean --steps?\n"


@pytest.mark.parametrize(("command", "flag", "value", "message"), [
    ("trajectory", "--lookahead-k", "0", "--lookahead-k: must be >= 1"),
    ("sweep", "--lookahead-alpha", "2", "--lookahead-alpha: must be <= 1"),
    ("basin", "--lookahead-k", "0", "--lookahead-k: must be >= 1"),
])
def test_lookahead_values_name_their_option(command, flag, value, message, tmp_path):
    res = invoke(command, "adam", "--lookahead", flag, value, "-o", str(tmp_path / "x.png"))
    assert res.exit_code == 2
    assert res.stderr == f"optviz: error: {message}\n"


@pytest.mark.parametrize(("text", "message"), [
    ("kind: schedule\nschedulers: [cosine]\npanels:\n  - {}\n  - {lr: [-1]}\n",
     "c.yaml:5 panels[1] lr: a learning rate must be a finite number > 0, got -1"),
    ("optimizers: [adam]\nmodel: linear\nin_features: 1\nbias: false\npanels:\n  - {}\n",
     "c.yaml:6 panels[0] model: Linear(1→1) without a bias has one weight, and optviz draws "
     "paths in two or more: keep the bias, or in_features >= 2"),
])
def test_a_panel_is_checked_with_the_figure_keys_when_the_config_is_read(text, message):
    with pytest.raises(BadValueError) as info:
        parse_config(text, "c.yaml")
    assert str(info.value) == message
