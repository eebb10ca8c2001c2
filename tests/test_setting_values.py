"""A setting's value of another shape than the factory's default is one clear line before
anything runs, and YAML's 1e-8 is a number (PyYAML alone reads it as text)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from optviz.cli import app
from optviz.config import parse_config
from optviz.figures.trajectory import run_trajectory_spec
from optviz.spec.syntax import load_yaml, parse_value

runner = CliRunner()


@pytest.mark.parametrize(("args", "line"), [
    (["trajectory", "adam", "--betas", "0.9"],
     "Adam setting 'betas' must be 2 numbers like [0.9, 0.999], got 0.9"),
    (["trajectory", "adam:betas=[0.9,0.99,3]"],
     "Adam setting 'betas' must be 2 numbers like [0.9, 0.999], got [0.9, 0.99, 3]"),
    (["trajectory", "sgd:momentum=[1,2]"], "SGD setting 'momentum' must be a number, got [1, 2]"),
    (["trajectory", "adam:eps=abc"], "Adam setting 'eps' must be a number, got 'abc'"),
    (["trajectory", "sgd:nesterov=1"], "SGD setting 'nesterov' must be true or false, got 1"),
    (["schedule", "step", "--gamma", "abc"],
     "StepLR setting 'gamma' must be a number, got 'abc'"),
])
def test_a_value_unlike_the_default_is_one_line(args, line, tmp_path: Path):
    res = runner.invoke(app, [*args, "-o", str(tmp_path / "x.png")], env={"COLUMNS": "200"})
    assert res.exit_code == 2, res.output
    assert res.stderr == f"optviz: error: {line}\n"
    assert list(tmp_path.iterdir()) == []


def test_yaml_reads_exponent_numbers_as_numbers_and_nothing_else():
    text = "a: [1e-8, 5E3, -1e-2, +3e1, 1.e5, .5e1, 2e3x, '1e-8', 10, 1.5]"
    assert yaml.safe_load("a: 1e-8") == {"a": "1e-8"}  # why load_yaml exists
    assert load_yaml(text) == {"a": [1e-8, 5e3, -1e-2, 30.0, 1e5, 5.0, "2e3x", "1e-8", 10, 1.5]}
    assert parse_value("1e-8") == 1e-8 and parse_value("[0.9,1e-1]") == [0.9, 0.1]
    assert yaml.safe_load("b: 1e-8") == {"b": "1e-8"}  # SafeLoader itself is left alone
    with pytest.raises(yaml.constructor.ConstructorError):
        load_yaml("!!python/object/apply:os.system ['true']")


def test_a_config_with_exponent_settings_runs_them_as_numbers():
    spec = parse_config("optimizers:\n  - {name: adam, eps: 1e-1, betas: [0.5, 9e-1]}\n"
                        "steps: 3\nlr: 1e-1\n", "c.yaml")
    assert spec.optimizers[0].settings == {"eps": 0.1, "betas": [0.5, 0.9]}
    run = run_trajectory_spec(spec).runs[0]
    x = torch.tensor([4.0, 3.0], requires_grad=True)
    opt = torch.optim.Adam([x], lr=0.1, eps=0.1, betas=(0.5, 0.9))
    want = [x.detach().tolist()]
    for _ in range(3):
        opt.zero_grad()
        (x[0] ** 2 + 10 * x[1] ** 2).backward()
        opt.step()
        want.append(x.detach().tolist())
    assert run.points == want


def test_a_dumped_config_reads_back_the_same_even_with_number_like_text():
    from optviz.config import dump_yaml

    spec = parse_config("optimizers: [{name: adam, label: '1e3', betas: [0.9, 1e-1]}]\n"
                        "title: '2e5'\nlr: 1e-2\n", "a.yaml")
    assert (spec.title, spec.optimizers[0].label, spec.lr) == ("2e5", "1e3", 0.01)
    text = dump_yaml(spec)
    assert "title: '2e5'" in text and "label: '1e3'" in text
    assert parse_config(text, "b.yaml") == spec
