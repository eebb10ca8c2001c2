"""Scheduler arguments as torch and transformers take them (issue 15): the min_lr form, torch's
own defaults behind torch's own names, per-group lists, the transformers names, and a finite,
positive learning rate wherever one is read. Every case against torch stepped by hand or
transformers' formula written out here (transformers itself is not needed)."""

from __future__ import annotations

import csv
import inspect
import io
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
import torch
from forked import run_code
from torch.optim import lr_scheduler as L
from typer.testing import CliRunner

from optviz.cli import app
from optviz.config import parse_config
from optviz.errors import BadValueError, OptvizError
from optviz.export.data import schedule_to_csv
from optviz.figures.schedule import run_schedule_spec
from optviz.plan.schedulers import RunShape, plan_scheduler
from optviz.registry import SCHEDULERS
from optviz.spec.figures import SchedulerSpec, ScheduleSpec
from optviz.spec.syntax import parse_inline

runner = CliRunner()


def run(*schedulers: Any, **fields: Any):
    return run_schedule_spec(ScheduleSpec.model_validate({"schedulers": list(schedulers),
                                                          **fields}))


def lrs(*schedulers: Any, **fields: Any) -> list[float]:
    return run(*schedulers, **fields).runs[0].lr


def by_hand(make: Callable[[Any], Any], lrs: tuple[float, ...] = (1e-3,), steps: int = 32,
            momentum: float = 0.0, metric: Callable[[int], float] | None = None
            ) -> tuple[list[list[float]], list[list[float]]]:
    """Every group's LR and momentum per optimizer step, torch stepped in the article's loop
    (optimizer.step(), record, scheduler.step()), the SGD built with the first lr as its
    default, as optviz builds it."""
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1, 2))], "lr": lr} for lr in lrs]
    optimizer = torch.optim.SGD(groups, lr=lrs[0], momentum=momentum)
    scheduler = make(optimizer)
    lr_out: list[list[float]] = [[] for _ in lrs]
    mom_out: list[list[float]] = [[] for _ in lrs]
    for k in range(steps):
        optimizer.step()
        for g, group in enumerate(optimizer.param_groups):
            lr_out[g].append(group["lr"])
            mom_out[g].append(group["momentum"])
        if metric is not None:
            scheduler.step(metric(k))
        else:
            scheduler.step()
    return lr_out, mom_out


def one_line(res: Any) -> str:
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr)
    assert res.stderr.startswith("optviz: error: ") and res.stderr.count("\n") == 1, res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    return res.stderr


# -- 1. cosine_min_lr_warmup with min_lr: the preset min_lr_rate steps aside -------------------

def transformers_cosine_min_lr(step: int, warmup: int, total: int, rate: float,
                               cycles: float = 0.5) -> float:
    """transformers' _get_cosine_schedule_with_warmup_lr_lambda, written out."""
    if step < warmup:
        return step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    factor = 0.5 * (1.0 + math.cos(math.pi * cycles * 2.0 * progress))
    return max(0.0, factor * (1 - rate) + rate)


def test_min_lr_equals_transformers_with_min_lr():
    # transformers: min_lr_rate = min_lr / optimizer.defaults["lr"]
    got = lrs("cosine_min_lr_warmup:num_warmup_steps=10,num_training_steps=100,min_lr=1e-4",
              lr=1e-3, epochs=1, steps_per_epoch=100)
    expected = [1e-3 * transformers_cosine_min_lr(s, 10, 100, 1e-4 / 1e-3) for s in range(100)]
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-18)
    assert got[-1] == pytest.approx(1e-4 + 0.5 * (1 + math.cos(math.pi * 89 / 90)) * 9e-4)


def test_min_lr_through_the_cli_and_its_parameters(tmp_path):
    out = tmp_path / "s.json"
    res = runner.invoke(app, [
        "schedule", "cosine_min_lr_warmup:num_warmup_steps=10,num_training_steps=100,min_lr=1e-4",
        "--epochs", "1", "--steps-per-epoch", "100", "-o", str(tmp_path / "s.png"),
        "--export", str(out)])
    assert res.exit_code == 0, res.stderr
    run_ = json.loads(out.read_text())["runs"][0]
    assert run_["parameters"]["min_lr"] == 1e-4
    assert run_["parameters"]["min_lr_rate"] is None
    assert "min_lr_rate" not in run_["label"]


def test_min_lr_rate_given_and_the_preset():
    expected = [1e-3 * transformers_cosine_min_lr(s, 3, 32, 0.3) for s in range(32)]
    assert lrs("cosine_min_lr_warmup:min_lr_rate=0.3") == pytest.approx(expected, rel=1e-12)
    preset = [1e-3 * transformers_cosine_min_lr(s, 3, 32, 0.1) for s in range(32)]
    assert lrs("cosine_min_lr_warmup") == pytest.approx(preset, rel=1e-12)


def test_both_min_lr_and_min_lr_rate_is_transformers_refusal():
    with pytest.raises(BadValueError, match="Only one of min_lr or min_lr_rate should be set"):
        run("cosine_min_lr_warmup:min_lr=1e-4,min_lr_rate=0.2")


def test_transformers_name_has_no_preset_min_lr_rate():
    # transformers' own function requires one of them: its name carries no preset.
    with pytest.raises(BadValueError, match="One of min_lr or min_lr_rate should be set"):
        run("transformers.get_cosine_with_min_lr_schedule_with_warmup")
    got = lrs("transformers.get_cosine_with_min_lr_schedule_with_warmup:min_lr=2e-4")
    assert got == pytest.approx([1e-3 * transformers_cosine_min_lr(s, 3, 32, 0.2)
                                 for s in range(32)], rel=1e-12)


# -- 2. torch's names get torch's defaults; the short names the article's presets -------------

TORCH_DEFAULTS = [
    # (name as typed, torch factory by hand)
    ("PolynomialLR:power=0.9", lambda o: L.PolynomialLR(o, power=0.9)),  # total_iters 5
    ("torch.optim.lr_scheduler.PolynomialLR:power=0.9", lambda o: L.PolynomialLR(o, power=0.9)),
    ("CosineAnnealingLR:T_max=10", lambda o: L.CosineAnnealingLR(o, T_max=10)),  # eta_min 0
    ("CosineAnnealingLR", lambda o: L.CosineAnnealingLR(o, T_max=32)),  # T_max from the run
    ("ConstantLR", lambda o: L.ConstantLR(o)),
    ("LinearLR", lambda o: L.LinearLR(o)),
    ("StepLR:step_size=3", lambda o: L.StepLR(o, step_size=3)),  # gamma 0.1
    ("MultiStepLR:milestones=[4,9]", lambda o: L.MultiStepLR(o, milestones=[4, 9])),
    ("ExponentialLR:gamma=0.8", lambda o: L.ExponentialLR(o, gamma=0.8)),
    ("CosineAnnealingWarmRestarts:T_0=6", lambda o: L.CosineAnnealingWarmRestarts(o, T_0=6)),
    # base_lr, max_lr from the run; step_size_up torch's 2000
    ("CyclicLR", lambda o: L.CyclicLR(o, base_lr=1e-4, max_lr=1e-3)),
    ("torch.optim.lr_scheduler.OneCycleLR",
     lambda o: L.OneCycleLR(o, max_lr=1e-3, epochs=4, steps_per_epoch=8)),
    ("SequentialLR:schedulers=[LinearLR,ExponentialLR(gamma=0.9)]",
     lambda o: L.SequentialLR(o, [L.LinearLR(o), L.ExponentialLR(o, gamma=0.9)],
                              milestones=[5])),  # LinearLR's own total_iters (5)
]

PRESETS = [
    ("polynomial:power=0.9", lambda o: L.PolynomialLR(o, total_iters=8, power=0.9)),
    ("poly:power=0.9", lambda o: L.PolynomialLR(o, total_iters=8, power=0.9)),
    ("cosine", lambda o: L.CosineAnnealingLR(o, T_max=32, eta_min=1e-4)),
    ("cosine_annealing", lambda o: L.CosineAnnealingLR(o, T_max=32, eta_min=1e-4)),
    ("multistep", lambda o: L.MultiStepLR(o, milestones=[8, 24, 28], gamma=0.5)),
    ("cyclic", lambda o: L.CyclicLR(o, base_lr=1e-4, max_lr=1e-3, step_size_up=4)),
]


@pytest.mark.parametrize(("name", "make"), TORCH_DEFAULTS + PRESETS,
                         ids=[n for n, _ in TORCH_DEFAULTS + PRESETS])
def test_names_equal_torch_by_hand(name, make):
    lr, momentum = by_hand(make)
    result = run(name)
    assert result.runs[0].lr == pytest.approx(lr[0], rel=1e-12, abs=1e-18)
    if result.runs[0].momentum is not None:
        assert result.runs[0].momentum == pytest.approx(momentum[0], rel=1e-12)


def test_class_name_parameters_are_torchs():
    params = {name: run(name).runs[0].parameters for name in (
        "PolynomialLR", "polynomial", "ReduceLROnPlateau", "plateau", "CyclicLR", "cyclic")}
    assert params["PolynomialLR"]["total_iters"] == 5
    assert params["polynomial"]["total_iters"] == 8
    assert (params["ReduceLROnPlateau"]["factor"], params["ReduceLROnPlateau"]["patience"]) \
        == (0.1, 10)
    assert (params["plateau"]["factor"], params["plateau"]["patience"]) == (0.5, 3)
    assert params["CyclicLR"]["step_size_up"] == 2000
    assert params["cyclic"]["step_size_up"] == 4


def test_reduce_on_plateau_class_name_equals_torch_by_hand():
    metric = "max(12 - step, 0)"  # stops improving after step 12
    lr, _ = by_hand(lambda o: L.ReduceLROnPlateau(o), steps=40,
                    metric=lambda k: max(12 - k, 0))
    assert lrs("torch.optim.lr_scheduler.ReduceLROnPlateau", metric=metric, epochs=5) \
        == pytest.approx(lr[0], rel=1e-12)
    assert lr[0][23] == 1e-3 and lr[0][24] == pytest.approx(1e-4)  # patience 10, factor 0.1
    short, _ = by_hand(lambda o: L.ReduceLROnPlateau(o, factor=0.5, patience=3), steps=40,
                       metric=lambda k: max(12 - k, 0))
    assert lrs("plateau", metric=metric, epochs=5) == pytest.approx(short[0], rel=1e-12)


def test_preset_rule_for_every_record():
    for record in SCHEDULERS:
        if record.plugin:
            continue
        assert record.uses_preset(record.name)
        for alias in record.aliases:
            assert record.uses_preset(alias) is ("." not in alias), alias
        # lambda_lr is LambdaLR's class name once case and '_' are folded: torch's defaults
        assert not record.uses_preset(record.class_name.lower())
        assert not record.uses_preset(record.class_name)
        assert not record.uses_preset(record.target)
        assert record.preset(record.class_name) == {}


def test_a_torch_name_needs_what_torch_needs():
    with pytest.raises(BadValueError, match=r"StepLR needs step_size: set it inline, e\.g\. "
                                            r"StepLR:step_size=VALUE"):
        run("StepLR")
    with pytest.raises(BadValueError, match="SequentialLR needs at least one nested scheduler"):
        run("SequentialLR")
    # the short name's preset makes the same class run
    assert lrs("step") == pytest.approx([1e-3 * 0.5 ** (i // 4) for i in range(32)])


def test_show_states_the_rule():
    res = runner.invoke(app, ["show", "PolynomialLR"], env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.stderr
    assert ("preset: only polynomial, poly carry it; PolynomialLR and dotted paths get torch's "
            "defaults. PolynomialLR gets torch's defaults") in res.stdout
    res = runner.invoke(app, ["show", "poly"], env={"COLUMNS": "300"})
    assert "poly carries the preset" in res.stdout
    res = runner.invoke(app, ["list", "schedulers"], env={"COLUMNS": "300"})
    assert "presets belong to the short names" in res.stdout


# -- 3. per-group lists -----------------------------------------------------------------------

TWO = (1e-3, 1e-4)


def test_cyclic_momentum_lists_per_group():
    make = lambda o: L.CyclicLR(o, base_lr=[1e-4, 1e-5], max_lr=[1e-3, 1e-4],  # noqa: E731
                                step_size_up=4, base_momentum=[0.8, 0.7],
                                max_momentum=[0.9, 0.95])
    lr, momentum = by_hand(make, lrs=TWO, momentum=0.9)
    result = run("cyclic:base_momentum=[0.8,0.7],max_momentum=[0.9,0.95]", lr=list(TWO),
                 optimizer="sgd:momentum=0.9")
    got = result.runs[0]
    assert got.lr_groups == [pytest.approx(lr[0], rel=1e-12), pytest.approx(lr[1], rel=1e-12)]
    assert got.momentum_groups == [pytest.approx(momentum[0], rel=1e-12),
                                   pytest.approx(momentum[1], rel=1e-12)]
    assert got.momentum == pytest.approx(momentum[0], rel=1e-12)
    assert got.momentum_groups[1][0] == pytest.approx(0.95)  # starts at max_momentum
    # the export: JSON and CSV
    data = result.to_dict()["runs"][0]
    assert data["momentum_groups"][1] == pytest.approx(momentum[1], rel=1e-12)
    rows = list(csv.DictReader(io.StringIO(schedule_to_csv(result))))
    assert [float(r["momentum_group1"]) for r in rows] == pytest.approx(momentum[1], rel=1e-12)
    assert [float(r["lr_group1"]) for r in rows] == pytest.approx(lr[1], rel=1e-12)


def test_same_momentum_in_every_group_exports_no_groups():
    result = run("cyclic", lr=list(TWO), optimizer="sgd:momentum=0.9")
    assert result.runs[0].momentum_groups is None
    assert "momentum_groups" not in result.to_dict()["runs"][0]
    assert "momentum_group0" not in schedule_to_csv(result).splitlines()[0]


def test_cyclic_lr_lists_by_class_name():
    make = lambda o: L.CyclicLR(o, base_lr=[2e-4, 3e-5], max_lr=[1e-3, 1e-4],  # noqa: E731
                                step_size_up=5)
    lr, _ = by_hand(make, lrs=TWO, momentum=0.9)
    got = run("CyclicLR:base_lr=[2e-4,3e-5],step_size_up=5", lr=list(TWO),
              optimizer="sgd:momentum=0.9").runs[0]
    assert got.lr_groups == [pytest.approx(lr[0], rel=1e-12), pytest.approx(lr[1], rel=1e-12)]


def test_onecycle_lists():
    make = lambda o: L.OneCycleLR(o, max_lr=[1e-2, 1e-3], epochs=4,  # noqa: E731
                                  steps_per_epoch=8, base_momentum=[0.85, 0.8])
    lr, momentum = by_hand(make, lrs=TWO, momentum=0.9)
    got = run("onecycle:max_lr=[1e-2,1e-3],base_momentum=[0.85,0.8]", lr=list(TWO),
              optimizer="sgd:momentum=0.9").runs[0]
    assert got.lr_groups == [pytest.approx(lr[0], rel=1e-12), pytest.approx(lr[1], rel=1e-12)]
    assert got.momentum_groups == [pytest.approx(momentum[0], rel=1e-12),
                                   pytest.approx(momentum[1], rel=1e-12)]


def test_plateau_min_lr_list_in_a_config():
    text = ("kind: schedule\n"
            "lr: [0.001, 0.0001]\n"
            "epochs: 5\n"
            "metric: max(4 - step, 0)\n"
            "schedulers:\n"
            "  - name: ReduceLROnPlateau\n"
            "    factor: 0.1\n"
            "    patience: 2\n"
            "    min_lr: [0.00005, 0.00002]\n")
    spec = parse_config(text, "c.yaml")
    lr, _ = by_hand(lambda o: L.ReduceLROnPlateau(o, factor=0.1, patience=2,
                                                  min_lr=[5e-5, 2e-5]),
                    lrs=TWO, steps=40, metric=lambda k: max(4 - k, 0))
    got = run_schedule_spec(spec).runs[0]
    assert got.lr_groups == [pytest.approx(lr[0], rel=1e-12), pytest.approx(lr[1], rel=1e-12)]
    assert min(lr[0]) == pytest.approx(5e-5) and min(lr[1]) == pytest.approx(2e-5)


def test_lambda_list_per_group():
    lr, _ = by_hand(lambda o: L.LambdaLR(o, [lambda e: 0.9**e, lambda e: 1 / (e + 1)]),
                    lrs=TWO)
    got = run("LambdaLR:lr_lambda=[0.9**epoch,1/(epoch+1)]", lr=list(TWO)).runs[0]
    assert got.lr_groups == [pytest.approx(lr[0], rel=1e-12), pytest.approx(lr[1], rel=1e-12)]


@pytest.mark.parametrize(("args", "message"), [
    (["cyclic:base_momentum=[0.8,0.85,0.9]", "--lr", "1e-3,1e-4"],
     "CyclicLR setting base_momentum=[0.8, 0.85, 0.9] has 3 values but the run has 2 parameter "
     "groups (one per lr value)"),
    (["plateau:min_lr=[0.1,0.2]"],
     "ReduceLROnPlateau setting min_lr=[0.1, 0.2] has 2 values but the run has 1 parameter "
     "group (one per lr value)"),
    (["onecycle:max_lr=[0.1,x]", "--lr", "1e-3,1e-4"],
     "OneCycleLR setting 'max_lr' must be a number, or one number per parameter group, "
     "got [0.1, x]"),
    (["cyclic:base_momentum=[]", "--lr", "1e-3,1e-4"], "'base_momentum' must be a number"),
    # a list where torch takes none stays refused
    (["StepLR:step_size=3,gamma=[0.1,0.2]", "--lr", "1e-3,1e-4"],
     "StepLR setting 'gamma' must be a number, got [0.1, 0.2]"),
])
def test_bad_lists_are_one_line(args, message, tmp_path):
    res = runner.invoke(app, ["schedule", *args, "-o", str(tmp_path / "x.png")],
                        env={"COLUMNS": "300"})
    assert message in one_line(res)
    assert not list(tmp_path.iterdir())


def test_group_count_is_checked_in_the_plan():
    spec = SchedulerSpec.model_validate("cyclic:max_momentum=[0.9,0.95]")
    plan = plan_scheduler(spec, RunShape(lrs=TWO))
    assert plan.kwargs["max_momentum"] == [0.9, 0.95]
    with pytest.raises(BadValueError, match="has 2 values but the run has 3 parameter groups"):
        plan_scheduler(spec, RunShape(lrs=(1e-3, 1e-4, 1e-5)))


# -- 4. the transformers names ----------------------------------------------------------------

def transformers_lr_rate(step: int, warmup: int, total: int, rate: float,
                         warmup_rate: float | None = None, cycles: float = 0.5) -> float:
    """transformers' _get_cosine_with_min_lr_schedule_with_warmup_lr_rate_lambda, written out."""
    if step < warmup:
        if warmup_rate is None:
            return (step + 1.0) / max(1.0, warmup)
        return warmup_rate + (1.0 - warmup_rate) * step / max(1, warmup - 1)
    progress = (step - warmup + 1.0) / max(1.0, total - warmup)
    factor = 0.5 * (1.0 + math.cos(math.pi * cycles * 2.0 * progress))
    return max(0.0, factor * (1 - rate) + rate)


@pytest.mark.parametrize("name", ["get_constant_schedule", "transformers.get_constant_schedule",
                                  "transformers.optimization.get_constant_schedule",
                                  "constant_schedule"])
def test_get_constant_schedule(name):
    assert lrs(name, lr=0.05) == [0.05] * 32


@pytest.mark.parametrize("name", [
    "transformers.get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate"])
def test_cosine_with_min_lr_lr_rate(name):
    got = lrs(f"{name}:num_warmup_steps=10,num_training_steps=100,min_lr=1e-4",
              epochs=1, steps_per_epoch=100)
    assert got == pytest.approx([1e-3 * transformers_lr_rate(s, 10, 100, 0.1)
                                 for s in range(100)], rel=1e-12)
    got = lrs(f"{name}:num_warmup_steps=10,num_training_steps=100,min_lr_rate=0.05,"
              "warmup_lr_rate=0.2", epochs=1, steps_per_epoch=100)
    assert got == pytest.approx([1e-3 * transformers_lr_rate(s, 10, 100, 0.05, 0.2)
                                 for s in range(100)], rel=1e-12)
    assert got[0] == pytest.approx(2e-4) and got[9] == pytest.approx(1e-3)


def test_cosine_with_min_lr_lr_rate_short_name_has_the_preset():
    assert lrs("cosine_warmup_with_min_lr") == pytest.approx(
        [1e-3 * transformers_lr_rate(s, 3, 32, 0.1) for s in range(32)], rel=1e-12)
    assert lrs("cosine_warmup_with_min_lr:min_lr=5e-4") == pytest.approx(
        [1e-3 * transformers_lr_rate(s, 3, 32, 0.5) for s in range(32)], rel=1e-12)


def test_get_reduce_on_plateau_schedule_is_torchs_with_torchs_defaults():
    from optviz.warmup import get_reduce_on_plateau_schedule

    ours = inspect.signature(get_reduce_on_plateau_schedule).parameters
    theirs = inspect.signature(L.ReduceLROnPlateau).parameters
    for key, param in ours.items():
        if key != "optimizer":
            assert param.default == theirs[key].default, key
    metric = "max(12 - step, 0)"
    lr, _ = by_hand(lambda o: L.ReduceLROnPlateau(o, patience=2), steps=40,
                    metric=lambda k: max(12 - k, 0))
    for name in ("transformers.get_reduce_on_plateau_schedule",
                 "transformers.optimization.get_reduce_on_plateau_schedule",
                 "get_reduce_on_plateau_schedule"):
        result = run(f"{name}:patience=2", metric=metric, epochs=5)
        assert result.runs[0].lr == pytest.approx(lr[0], rel=1e-12)
        assert result.runs[0].plateau is not None and result.runs[0].plateau.reductions


def test_transformers_names_do_not_import_transformers():
    code = ("import sys, optviz.api as api\n"
            "for n in ('transformers.get_constant_schedule',\n"
            "          'transformers.get_reduce_on_plateau_schedule',\n"
            "          'transformers.get_cosine_with_min_lr_schedule_with_warmup_lr_rate"
            ":min_lr=1e-4'):\n"
            "    api.schedule(n).data\n"
            "print('transformers' in sys.modules)\n")
    proc = run_code(code)  # a process whose imports are torch's and optviz's, not transformers'
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"


# -- 5. a finite, positive learning rate everywhere -------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (["schedule", "cosine", "--lr", "nan"],
     "--lr: a learning rate must be a finite number > 0, got nan"),
    (["schedule", "cosine", "--lr", "1e-3,inf"],
     "--lr: a learning rate must be a finite number > 0, got inf"),
    (["trajectory", "adam", "--lr", "inf"],
     "--lr: a learning rate must be a finite number > 0, got inf"),
    (["trajectory", "adam", "--lr", "-inf"],
     "--lr: a learning rate must be a finite number > 0, got -inf"),
    (["trajectory", "adam:lr=inf"], "a learning rate must be a finite number > 0, got inf"),
    (["trajectory", "adam:lr=nan"], "a learning rate must be a finite number > 0, got nan"),
    (["trajectory", "adam:lr="], "setting 'lr' in 'adam:lr=' has no value"),
    (["trajectory", "adam:lr=,betas=[0.9,0.99]"], "setting 'lr' in"),
    (["sweep", "adam", "--lr", "1e-3,inf"], "learning rates must be finite numbers > 0, got inf"),
    (["sweep", "adam", "--lr", "1e-3:inf:5"], "LO:HI:N needs 0 < LO < HI, both finite"),
    (["sweep", "adam", "--lr", "nan:1:5"], "LO:HI:N needs 0 < LO < HI, both finite"),
])
def test_non_finite_lr_is_one_line(args, message, tmp_path):
    res = runner.invoke(app, [*args, "-o", str(tmp_path / "x.png")], env={"COLUMNS": "300"})
    err = one_line(res)
    assert message in err
    assert "coordinates" not in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("text", "line"), [
    ("kind: schedule\nschedulers: [cosine]\nlr: .inf\n", 3),
    ("kind: schedule\nschedulers: [cosine]\nlr: [0.001, .nan]\n", 3),
    ("function: quadratic\noptimizers: [adam]\nlr: .inf\n", 3),
    ("function: quadratic\noptimizers:\n  - name: adam\n    lr: .nan\n", 4),
])
def test_non_finite_lr_in_yaml(text, line):
    with pytest.raises(OptvizError, match="must be a finite number > 0") as info:
        parse_config(text, "c.yaml")
    assert str(info.value).startswith(f"c.yaml:{line}")


def test_empty_inline_value_is_an_error_and_a_given_one_is_kept():
    with pytest.raises(BadValueError, match="has no value"):
        parse_inline("adam:lr=")
    with pytest.raises(BadValueError, match=r"'eps' in 'adam:lr=0\.1,eps= ' has no value"):
        parse_inline("adam:lr=0.1,eps= ")
    assert parse_inline("adam:lr=0.1") == ("adam", {"lr": 0.1})


# -- 6. trajectory --scheduler plateau: fed the loss after the step ----------------------------

def plateau_on_quadratic_by_hand(feed: str, steps: int = 40, lr: float = 0.1) -> list[float]:
    """SGD on x² + 10y² from (4, 3) with ReduceLROnPlateau (the preset: factor 0.5, patience
    3), fed f after the step (what optviz does) or the loss the step computed (before it)."""
    x = torch.tensor([4.0, 3.0], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([x], lr=lr)
    scheduler = L.ReduceLROnPlateau(optimizer, factor=0.5, patience=3)
    out = []
    for _ in range(steps):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.zero_grad()
        loss = x[0] ** 2 + 10 * x[1] ** 2
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            after = x[0] ** 2 + 10 * x[1] ** 2
        scheduler.step(float(after if feed == "after" else loss.detach()))
    return out


def test_trajectory_plateau_is_fed_the_loss_after_the_step():
    from optviz.api import trajectory

    data = trajectory("sgd", lr=0.1, steps=40, scheduler="plateau", dtype="float64").data
    got = data["runs"][0]["lr"]
    after = plateau_on_quadratic_by_hand("after")
    before = plateau_on_quadratic_by_hand("before")
    assert got == pytest.approx(after, rel=1e-12)
    assert min(after) < 0.1  # it reduced
    # As the README says: here lr[21] is halved, in the other loop only lr[22].
    assert (got[20], got[21]) == (0.1, 0.05)
    assert (before[21], before[22]) == (0.1, 0.05)
