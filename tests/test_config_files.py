"""YAML configs: --dump-config round trips, file:line errors, safe loading, import rules, both
spellings of a name (inline and class_path/init_args), panels overrides and the JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from optviz.cli import app
from optviz.config import json_schema, parse_config
from optviz.errors import BadValueError
from optviz.gallery.build import find_configs

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("call", [
    ["trajectory", "adam", "sgd:momentum=0.9", "--lr", "0.1", "--steps", "30"],
    ["trajectory", "rmsprop", "--function", "rosenbrock", "--start", "-1,2", "--alpha", "0.9"],
    ["schedule", "onecycle", "--epochs", "4"],
    ["schedule", "step:step_size=3,gamma=0.7", "cosine", "--grid", "--log-y"],
])
def test_dump_config_renders_the_same_picture(
        call: list[str], tmp_path: Path, png_pixels: Callable) -> None:
    text = invoke(*call, "--dump-config")
    config = tmp_path / "c.yaml"
    config.write_text(text)
    invoke(*call, "-o", str(tmp_path / "direct.png"))
    invoke("render", str(config), "-o", str(tmp_path / "config.png"))
    direct, via = png_pixels(tmp_path / "direct.png"), png_pixels(tmp_path / "config.png")
    assert direct.shape == via.shape
    assert np.any(direct != via, axis=-1).mean() < 0.001
    # The dump is the canonical form: dumping the parsed config again gives the same text.
    assert parse_config(text, "c.yaml") == parse_config(text, "again.yaml")


def test_errors_name_the_file_the_line_and_the_key() -> None:
    text = ("kind: trajectory\n"
            "function: quadratic\n"
            "optimizers:\n"
            "  - adam\n"
            "  - name: sgd\n"
            "    momentum: 0.9\n"
            "    lr: -1\n")
    with pytest.raises(BadValueError) as err:
        parse_config(text, "configs/x.yaml")
    assert str(err.value) == ("configs/x.yaml:7 optimizers[1].lr: a learning rate must be a "
                              "finite number > 0, got -1")


@pytest.mark.parametrize(("text", "message"), [
    ("kind: trajectory\noptimizers: [adam]\nstepz: 5\n",
     "x.yaml:3 stepz: unknown key; did you mean steps?"),
    ("kind: nope\n", "unknown kind 'nope'"),
    ("kind: schedule\nschedulers: [step]\nepochs: 0\n", "x.yaml:3 epochs: must be >= 1"),
    ("- a list\n", "a config is a YAML mapping"),
    ("kind: [unclosed\n", "not valid YAML"),
])
def test_bad_configs_get_one_line(text: str, message: str) -> None:
    with pytest.raises(BadValueError, match=message.replace("[", r"\[")) as err:
        parse_config(text, "x.yaml")
    assert "\n" not in str(err.value)


def test_yaml_tags_that_build_python_objects_are_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = (f"kind: trajectory\noptimizers: !!python/object/apply:os.system "
            f"['touch {marker}']\n")
    with pytest.raises(BadValueError, match="not valid YAML"):
        parse_config(text, "evil.yaml")
    assert not marker.exists()


def test_imports_outside_torch_and_optviz_need_allow_imports() -> None:
    safe = ("kind: schedule\nschedulers:\n"
            "  - torch.optim.lr_scheduler.StepLR:step_size=2\n"
            "  - transformers.get_cosine_schedule_with_warmup\n"
            "  - class_path: optviz.warmup.get_linear_schedule_with_warmup\n")
    spec = parse_config(safe, "ok.yaml")
    assert len(spec.schedulers) == 3
    assert spec.schedulers[0].name == "torch.optim.lr_scheduler.StepLR"
    for name in ("os.system", "mypkg.opt.Sophia", "pytorch_optimizer.adabelief"):
        text = f"kind: trajectory\noptimizers: [{name}]\n"
        with pytest.raises(BadValueError, match="--allow-imports"):
            parse_config(text, "x.yaml")
        assert parse_config(text, "x.yaml", allow_imports=True).optimizers[0].name == name


@pytest.mark.parametrize(("text", "line"), [
    ("optimizers: [adam]\nscheduler: evilmod.Sched\n", 2),
    ("optimizers: [adam]\nscheduler:\n  class_path: evilmod.Sched\n", 3),
    ("kind: schedule\nschedulers: [step]\noptimizer: evilmod.Opt\n", 3),
    ("kind: sweep\noptimizer: evilmod.Opt\n", 2),
    ("kind: basin\noptimizer: {name: evilmod.Opt, lr: 0.1}\n", 2),
    ("kind: schedule\nschedulers:\n  - step\n"
     "  - 'sequential:schedulers=[step,evilmod.Sched],milestones=[4]'\n", 4),
    ("layout: panels\npanels:\n  - optimizers: [adam]\n  - optimizers: [sgd, evilmod.Opt]\n",
     4),
])
def test_every_field_that_names_a_factory_needs_allow_imports(
        text: str, line: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A module that leaves a mark when imported: refusing must happen before any import.
    (tmp_path / "evilmod.py").write_text(
        "import pathlib\npathlib.Path(__file__).with_name('imported').touch()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    refused = rf"^x.yaml:{line}: names 'evilmod\.\w+'.*--allow-imports"
    with pytest.raises(BadValueError, match=refused):
        parse_config(text, "x.yaml")
    assert not (tmp_path / "imported").exists()
    parse_config(text, "x.yaml", allow_imports=True)  # allowed: validated, still not imported
    assert not (tmp_path / "imported").exists()


def _sgd_valid() -> str:
    import torch

    from optviz.registry.signatures import signature_params

    return ", ".join(signature_params(torch.optim.SGD))


_MOMENTUMM = "SGD has no setting 'momentumm'; did you mean 'momentum'? (valid: {valid})"


@pytest.mark.parametrize(("text", "line", "message"), [
    ("kind: trajectory\noptimizers:\n  - adam\n  - sgd\nfunction: rosenbrok\n", 5,
     "unknown function 'rosenbrok'; did you mean 'rosenbrock'?"),
    ("kind: trajectory\noptimizers:\n  - sgd\n  - adamm\nfunction: rosenbrock\n", 4,
     "unknown optimizer 'adamm'; did you mean 'adam' or 'radam' or 'nadam'?"),
    ("optimizers:\n  - adam\n  - sgd:lr=0.1,momentumm=0.9\n", 3, _MOMENTUMM),
    ("optimizers:\n  - adam\n  - name: sgd\n    settings:\n      lr: 0.1\n"
     "      momentumm: 0.9\n", 6, _MOMENTUMM),
    ("optimizers:\n  - adam\n  - name: sgd\n    lr: 0.1\n    momentumm: 0.9\n", 5,
     _MOMENTUMM),
    ("optimizers:\n  - class_path: torch.optim.SGD\n    init_args:\n      lr: 0.1\n"
     "      momentumm: 0.9\n", 5, _MOMENTUMM),
    ("kind: schedule\nlr: 0.1\nschedulers:\n  - step\n  - cosinee\n", 5,
     "unknown scheduler 'cosinee'; did you mean 'cosine' or 'cosine_annealing' or "
     "'cosine_warmup'?"),
    ("kind: schedule\nschedulers:\n  - cosine\n  - name: step\n    step_sise: 3\n", 5,
     "StepLR has no setting 'step_sise'; did you mean 'step_size'? (valid: step_size, gamma)"),
    ("kind: schedule\nschedulers:\n  - 'sequential:schedulers=[step:step_sise=3,cosine]'\n",
     3, "StepLR has no setting 'step_sise'; did you mean 'step_size'? "
        "(valid: step_size, gamma)"),
    ("optimizers: [adam]\nsteps: 10\nscheduler: 'step:step_sise=3'\n", 3,
     "StepLR has no setting 'step_sise'; did you mean 'step_size'? (valid: step_size, gamma)"),
    ("optimizers: [adam]\npanels:\n  - {title: a}\n  - title: b\n    function: beal\n", 5,
     "unknown function 'beal'; did you mean 'beale'?"),
    ("optimizers: [adam]\npanels:\n  - {title: a}\n  - title: b\n"
     "    optimizers: [sgd, adamm]\n", 5,
     "unknown optimizer 'adamm'; did you mean 'adam' or 'radam' or 'nadam'?"),
    ("kind: schedule\nschedulers: [step]\npanels:\n  - {}\n  - schedulers:\n"
     "      - cosine\n      - cosinee\n", 7,
     "unknown scheduler 'cosinee'; did you mean 'cosine' or 'cosine_annealing' or "
     "'cosine_warmup'?"),
], ids=["function", "optimizer", "inline-setting", "settings-mapping", "flat-setting",
        "init-args-setting", "scheduler", "scheduler-setting", "nested-scheduler-setting",
        "figure-scheduler-setting", "panel-function", "panel-optimizer", "panel-scheduler"])
def test_unknown_names_and_settings_name_the_file_and_line(
        text: str, line: int, message: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    expected = message.format(valid=_sgd_valid()) if "{valid}" in message else message
    assert _render_refused(text, tmp_path, monkeypatch) == f"x.yaml:{line}: {expected}"


def _render_refused(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``optviz render x.yaml`` of ``text``: refused with exit 2, one line on stderr and no
    traceback, nothing written beside the config; the line without its ``optviz: error:``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.yaml").write_text(text)
    result = runner.invoke(app, ["render", "x.yaml"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("optviz: error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.yaml"]
    return result.stderr.removeprefix("optviz: error: ").removesuffix("\n")


_COUNTS = ("{label} setting {key!r} counts scheduler steps: it must be a whole number >= "
           "{least}, got {got}")


@pytest.mark.parametrize(("text", "line", "message"), [
    ("kind: schedule\nschedulers: [{name: step, step_size: 0}]\n", 2,
     _COUNTS.format(label="StepLR", key="step_size", least=1, got=0)),
    ("kind: schedule\nschedulers:\n  - cosine\n  - name: step\n    gamma: 0.5\n"
     "    step_size: 2.5\n", 6, _COUNTS.format(label="StepLR", key="step_size", least=1,
                                              got=2.5)),
    ("kind: schedule\nschedulers:\n  - class_path: torch.optim.lr_scheduler.LinearLR\n"
     "    init_args:\n      start_factor: 0.1\n      total_iters: -1\n", 6,
     _COUNTS.format(label="LinearLR", key="total_iters", least=0, got=-1)),
    ("kind: schedule\nschedulers:\n  - name: sequential\n    schedulers: [linear, cosine]\n"
     "    milestones: [x]\n", 5,
     _COUNTS.format(label="SequentialLR", key="milestones", least=0, got="[x]")),
    ("kind: schedule\nschedulers:\n  - name: sequential\n    schedulers:\n      - linear\n"
     "      - name: multistep\n        milestones: [2, -4]\n", 7,
     _COUNTS.format(label="MultiStepLR", key="milestones", least=0, got="[2, -4]")),
    ("optimizers: [adam]\nscheduler: {name: StepLR, step_size: -2}\n", 2,
     _COUNTS.format(label="StepLR", key="step_size", least=1, got=-2)),
    ("optimizers: [adam]\nsteps: 10\nscheduler:\n  name: onecycle\n  total_steps: 0.5\n", 5,
     _COUNTS.format(label="OneCycleLR", key="total_steps", least=0, got=0.5)),
    ("optimizers: [adam]\npanels:\n  - scheduler: step\n"
     "  - scheduler: {name: StepLR, step_size: -2}\n", 4,
     _COUNTS.format(label="StepLR", key="step_size", least=1, got=-2)),
], ids=["schedule-flow", "schedule-block", "init-args", "sequential-milestones",
        "nested-setting", "trajectory-scheduler", "trajectory-block", "panel-scheduler"])
def test_step_counts_name_the_file_and_line(
        text: str, line: int, message: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert _render_refused(text, tmp_path, monkeypatch) == f"x.yaml:{line}: {message}"


def test_good_step_counts_still_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.yaml").write_text(
        "kind: schedule\nlr: 0.1\nschedulers:\n  - {name: step, step_size: 3, gamma: 0.5}\n"
        "  - name: sequential\n    schedulers: [linear, cosine]\n    milestones: [4]\n"
        "export: x.json\n")
    result = runner.invoke(app, ["render", "x.yaml", "-o", "x.png"])
    assert result.exit_code == 0, result.output
    step = json.loads((tmp_path / "x.json").read_text())["runs"][0]["lr"]
    assert step == pytest.approx([0.1 * 0.5 ** (i // 3) for i in range(32)], rel=1e-12)


def test_parse_config_raises_the_located_error() -> None:
    text = ("kind: trajectory\noptimizers:\n  - adamm\n  - sgd:lr=0.1,momentumm=0.9\n"
            "function: rosenbrok\n")
    with pytest.raises(BadValueError, match=r"^bad\.yaml:3: unknown optimizer 'adamm'"):
        parse_config(text, "bad.yaml")


def test_class_path_init_args_equals_the_short_form() -> None:
    short = parse_config("optimizers: ['adamw:lr=0.05,weight_decay=0.1']\n"
                         "scheduler: 'step:step_size=3'\n", "a.yaml")
    lightning = parse_config(
        "optimizers:\n"
        "  - class_path: torch.optim.AdamW\n"
        "    init_args: {lr: 0.05, weight_decay: 0.1}\n"
        "scheduler:\n"
        "  class_path: torch.optim.lr_scheduler.StepLR\n"
        "  init_args: {step_size: 3}\n", "b.yaml")
    assert lightning.optimizers[0].lr == short.optimizers[0].lr == 0.05
    assert lightning.optimizers[0].settings == short.optimizers[0].settings == {
        "weight_decay": 0.1}
    assert lightning.scheduler.settings == short.scheduler.settings == {"step_size": 3}
    from optviz.registry import OPTIMIZERS, SCHEDULERS

    assert OPTIMIZERS.resolve(lightning.optimizers[0].name) is OPTIMIZERS.resolve("adamw")
    assert SCHEDULERS.resolve(lightning.scheduler.name) is SCHEDULERS.resolve("step")


def test_panels_take_the_shared_keys_and_override_some() -> None:
    spec = parse_config("function: rosenbrock\nsteps: 50\nlr: 0.01\noptimizers: [adam]\n"
                        "panels:\n  - {title: a}\n  - {title: b, lr: 0.1, function: beale}\n",
                        "p.yaml")
    a, b = spec.panel_specs()
    assert (a.function, a.steps, a.lr) == ("rosenbrock", 50, 0.01)
    assert (b.function, b.steps, b.lr) == ("beale", 50, 0.1)
    sched = parse_config("kind: schedule\nschedulers: [onecycle]\nlr: 0.01\nrows: 2\n"
                         "panels:\n  - {}\n  - {optimizer: adam, schedulers: [cosine]}\n"
                         "  - {interval: epoch, epochs: 10}\n", "s.yaml")
    assert sched.panel_grid() == (2, 2)
    one, two, three = sched.panel_specs()
    assert [s.name for s in one.schedulers] == ["onecycle"] and one.lr == [0.01]
    assert two.optimizer.name == "adam" and [s.name for s in two.schedulers] == ["cosine"]
    assert (three.interval, three.epochs, three.steps_per_epoch) == ("epoch", 10, 8)


def test_schedule_panels_export_has_one_result_per_panel(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a config's export path is taken from the working directory
    config = tmp_path / "s.yaml"
    out = tmp_path / "s.json"
    config.write_text("kind: schedule\nschedulers: ['step:step_size=2']\nexport: s.json\n"
                      "panels:\n  - {title: lr 1e-3}\n  - {title: lr 0.1, lr: 0.1}\n")
    result = runner.invoke(app, ["render", str(config), "-o", str(tmp_path / "s.png")],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["kind"] == "schedule" and data["layout"] == "panels"
    first, second = data["panels"]
    assert first["title"] == "lr 1e-3" and second["title"] == "lr 0.1"
    assert first["runs"][0]["lr"] == pytest.approx([1e-3 * 0.5 ** (i // 2) for i in range(32)])
    assert second["runs"][0]["lr"] == pytest.approx([0.1 * 0.5 ** (i // 2) for i in range(32)])


def test_every_shipped_config_satisfies_the_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in find_configs(ROOT / "configs"):
        data = yaml.safe_load(path.read_text())
        data.setdefault("kind", "trajectory")
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == [], path
    assert list(validator.iter_errors({"kind": "trajectory", "optimizers": ["adam"],
                                       "stepz": 3}))


def test_schema_command_prints_the_schema() -> None:
    assert json.loads(invoke("schema")) == json.loads(json.dumps(json_schema()))


def test_sweep_and_basin_configs_render_and_export(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text("kind: sweep\noptimizer: sgd\nfunction: quadratic\n"
                                     "steps: 20\nlr: [0.01, 0.04]\nexport: s.json\n")
    (tmp_path / "b.yaml").write_text("kind: basin\noptimizer: sgd\nfunction: quadratic\n"
                                     "lr: 0.01\ngrid: 3\nsteps: 10\nexport: b.json\n")
    invoke("render", "s.yaml", "-o", "s.png")
    invoke("render", "b.yaml", "-o", "b.png")
    sweep = json.loads((tmp_path / "s.json").read_text())
    # GD on x² + 10y² from (4, 3): x and y shrink by (1 - 2·lr) and (1 - 20·lr) a step.
    expected = [16 * (1 - 2 * lr) ** 40 + 90 * (1 - 20 * lr) ** 40 for lr in (0.01, 0.04)]
    assert sweep["lr"] == [0.01, 0.04]
    assert sweep["final_loss"] == pytest.approx(expected, rel=1e-4)
    basin = json.loads((tmp_path / "b.json").read_text())
    assert basin["grid"] == 3 and len(basin["starts"]) == 9
    for (x, y), loss in zip(basin["starts"], basin["final_loss"], strict=True):
        assert loss == pytest.approx(x * x * 0.98**20 + 10 * y * y * 0.8**20, rel=1e-4,
                                     abs=1e-6)
