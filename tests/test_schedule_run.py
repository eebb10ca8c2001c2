"""Schedules from spec to result: names and settings, values from the run, nested schedulers,
the plateau metric, lints, torch's warnings and errors, parameter groups and exports."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from optviz.engines.schedule import plain_warning
from optviz.errors import BadValueError, UnknownNameError, UnknownSettingError, UnsupportedError
from optviz.export.data import export_text, schedule_to_csv, to_json
from optviz.figures.schedule import run_schedule_spec
from optviz.plan.schedulers import RunShape, plan_scheduler
from optviz.registry import SCHEDULERS
from optviz.spec.figures import SchedulerSpec, ScheduleSpec, build
from optviz.spec.syntax import parse_scheduler_token
from optviz.spec.traces import read_trace


def run(*schedulers: Any, **fields: Any):
    return run_schedule_spec(ScheduleSpec.model_validate({"schedulers": list(schedulers),
                                                          **fields}))


# -- names ------------------------------------------------------------------------------------

CLASSES = ["StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR",
           "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR",
           "ReduceLROnPlateau", "LambdaLR", "MultiplicativeLR", "SequentialLR",
           "ChainedScheduler"]
SHORT = ["step", "multistep", "constant", "linear", "exponential", "polynomial", "cosine",
         "warm_restarts", "cyclic", "onecycle", "plateau", "lambda", "multiplicative",
         "sequential", "chained"]


@pytest.mark.parametrize(("short", "cls"), list(zip(SHORT, CLASSES, strict=True)))
def test_every_torch_class_resolves_three_ways(short, cls):
    rec = SCHEDULERS.resolve(short)
    assert rec.class_name == cls
    assert SCHEDULERS.resolve(cls) is rec
    assert SCHEDULERS.resolve(cls.lower()) is rec
    assert SCHEDULERS.resolve(f"torch.optim.lr_scheduler.{cls}") is rec


def test_registry_covers_torch():
    from torch.optim import lr_scheduler

    classes = {n for n in lr_scheduler.__all__ if n != "LRScheduler"}
    assert classes == {r.class_name for r in SCHEDULERS if r.family == "torch"}


def test_unknown_name_suggests():
    with pytest.raises(UnknownNameError, match="did you mean 'onecycle'"):
        run("onecyle")


def test_unknown_setting_lists_the_valid_ones():
    with pytest.raises(UnknownSettingError) as info:
        run("StepLR:step_size=3,gama=0.7")
    assert "did you mean 'gamma'" in str(info.value)
    assert "(valid: step_size, gamma)" in str(info.value)


def test_common_setting_must_apply_somewhere():
    result = run("step", "exponential", "cosine", settings={"gamma": 0.7})
    assert [r.parameters.get("gamma") for r in result.runs] == [0.7, 0.7, None]
    with pytest.raises(UnknownSettingError, match="setting 'eta_minn' applies to none") as info:
        run("step", "cosine", settings={"eta_minn": 0.1})
    # The plan names the setting; the CLI words the same text as its flag.
    assert info.value.key == "eta_minn"
    assert info.value.flag_text().startswith("--eta-minn applies to none of StepLR, "
                                             "CosineAnnealingLR")
    assert "--" not in str(info.value)


def test_last_epoch_is_not_a_setting():
    with pytest.raises(UnknownSettingError, match="last_epoch"):
        run("step:last_epoch=3")


# -- inline syntax ---------------------------------------------------------------------------

def test_inline_formula_keeps_its_commas():
    assert parse_scheduler_token("lambda:lr_lambda=min(1, (epoch+1)/5)") == {
        "name": "lambda", "settings": {"lr_lambda": "min(1, (epoch+1)/5)"}}


def test_inline_nested_schedulers():
    token = ("sequential:schedulers=[linear(start_factor=0.1,total_iters=4),"
             "'cosine:eta_min=0'],milestones=[4]")
    spec = SchedulerSpec.model_validate(token)
    assert spec.settings == {"milestones": [4]}
    assert [(s.name, s.settings) for s in spec.schedulers] == [
        ("linear", {"start_factor": 0.1, "total_iters": 4}), ("cosine", {"eta_min": 0})]


def test_yaml_forms_are_the_same_spec():
    inline = SchedulerSpec.model_validate("sequential:schedulers=[linear,cosine],milestones=[8]")
    mapping = SchedulerSpec.model_validate(
        {"name": "sequential", "milestones": [8], "schedulers": ["linear", {"name": "cosine"}]})
    lightning = SchedulerSpec.model_validate(
        {"class_path": "torch.optim.lr_scheduler.SequentialLR",
         "init_args": {"milestones": [8], "schedulers": [
             {"class_path": "torch.optim.lr_scheduler.LinearLR",
              "init_args": {"start_factor": 0.5, "total_iters": 8}}, "cosine"]}})
    series = [run(s).runs[0].lr for s in (inline, mapping, lightning)]
    assert series[0] == series[1] == series[2]


def test_bad_inline_setting():
    with pytest.raises(BadValueError, match="is not key=value"):
        SchedulerSpec.model_validate("step:gamma")


@pytest.mark.parametrize(("token", "message"), [
    ("sequential:schedulers=[linear:start_factor=0.1,total_iters=4, cosine],milestones=[4]",
     "inside a list write linear(start_factor=0.1,total_iters=4), not "
     "linear:start_factor=0.1,total_iters=4 (commas in the list separate schedulers)"),
    ("sequential:schedulers=[cosine, linear(start_factor=0.1),total_iters=4]",
     "inside a list write linear(start_factor=0.1,total_iters=4), not "
     "linear(start_factor=0.1),total_iters=4 (commas in the list separate schedulers)"),
    ("chained:schedulers=[constant:factor=0.5,total_iters=2,gamma=0.9]",
     "inside a list write constant(factor=0.5,total_iters=2,gamma=0.9), not "
     "constant:factor=0.5,total_iters=2,gamma=0.9 (commas in the list separate schedulers)"),
    ("sequential:schedulers=[total_iters=4, cosine]",
     "'total_iters=4' in schedulers=[...] is a setting, not a scheduler: inside a list write "
     "NAME(total_iters=4)"),
    ("total_iters=4",
     "'total_iters=4' is a setting, not a scheduler: it goes after the scheduler's name, as "
     "NAME:total_iters=4 (or NAME(total_iters=4) inside a list)"),
])
def test_settings_loose_in_a_nested_list(token, message):
    with pytest.raises(BadValueError) as err:
        parse_scheduler_token(token)
    assert str(err.value) == message


def test_nested_forms_that_stay_unambiguous():
    # One setting after a colon, or a quoted colon form, still reads as one scheduler each.
    for token in ("sequential:schedulers=[linear:start_factor=0.1, cosine],milestones=[4]",
                  "sequential:schedulers=['linear:start_factor=0.1,total_iters=4', cosine],"
                  "milestones=[4]"):
        parsed = parse_scheduler_token(token)
        assert [s["name"] for s in parsed["schedulers"]] == ["linear", "cosine"]
    quoted = parse_scheduler_token("sequential:schedulers=['linear:start_factor=0.1,"
                                   "total_iters=4', cosine]")
    assert quoted["schedulers"][0]["settings"] == {"start_factor": 0.1, "total_iters": 4}


# -- values from the run ---------------------------------------------------------------------

def test_onecycle_takes_lr_epochs_and_steps_from_the_run():
    plan = plan_scheduler(SchedulerSpec(name="onecycle"), RunShape(lrs=(0.1,), epochs=3,
                                                                    steps_per_epoch=5))
    assert plan.kwargs["max_lr"] == 0.1
    assert (plan.kwargs["epochs"], plan.kwargs["steps_per_epoch"]) == (3, 5)
    assert set(plan.derived) == {"max_lr", "epochs", "steps_per_epoch"}
    total = plan_scheduler(SchedulerSpec(name="onecycle", settings={"total_steps": 15}),
                           RunShape(epochs=3, steps_per_epoch=5))
    assert "epochs" not in total.kwargs


def test_onecycle_just_works_per_epoch():
    result = run("onecycle", interval="epoch")
    assert result.runs[0].parameters["epochs"] == 4
    assert result.runs[0].parameters["steps_per_epoch"] == 1
    assert not [w for w in result.warnings if "planned for" in w]


def test_sequential_children_fit_their_part_of_the_run():
    plan = plan_scheduler(SchedulerSpec.model_validate("sequential"), RunShape())
    _, cosine = plan.children
    assert plan.kwargs["milestones"] == [8]  # from LinearLR's total_iters
    assert cosine.kwargs["T_max"] == 24  # the 32 - 8 steps after the milestone
    even = plan_scheduler(SchedulerSpec.model_validate("sequential:schedulers=[step,cosine]"),
                          RunShape())
    assert even.kwargs["milestones"] == [16]


@pytest.mark.parametrize(("token", "message"), [
    ("sequential:schedulers=[linear,cosine],milestones=[8,9]", "one milestone fewer"),
    ("sequential:schedulers=[linear,cosine],milestones=[0]", "must increase from above 0"),
    ("sequential:schedulers=[linear,plateau]", "cannot hold ReduceLROnPlateau"),
    ("chained:schedulers=[plateau]", "cannot hold ReduceLROnPlateau"),
    ("step:schedulers=[linear]", "takes no nested schedulers"),
])
def test_composite_errors(token, message):
    with pytest.raises((BadValueError, UnsupportedError), match=message):
        run(token)


def test_chained_multiplies_factors():
    got = run("chained:schedulers=[constant(factor=0.1,total_iters=2),"
              "exponential(gamma=0.9)]", lr=[0.05], epochs=1, steps_per_epoch=4).runs[0].lr
    assert got == pytest.approx([0.005, 0.0045, 0.0405, 0.03645], rel=1e-12)


# -- plateau metric ---------------------------------------------------------------------------

def test_plateau_on_a_formula_metric():
    # A metric that stops improving after step 4: patience 3 -> reduced after step 8.
    result = run("plateau", metric="max(4 - step, 0)")
    trace = result.runs[0].plateau
    assert trace.metric[:6] == [4, 3, 2, 1, 0, 0]
    assert trace.reductions[0] == 9
    assert result.runs[0].lr[8] == pytest.approx(1e-3)
    assert result.runs[0].lr[9] == pytest.approx(5e-4)
    assert not [w for w in result.warnings if "no metric" in w]


def test_plateau_on_a_trace_file(tmp_path: Path):
    path = tmp_path / "trace.csv"
    path.write_text("epoch,loss\n" + "".join(f"{i},{1 / (i + 1)}\n" for i in range(40)))
    result = run("plateau", metric=str(path))
    assert result.runs[0].plateau.metric == pytest.approx([1 / (i + 1) for i in range(32)])
    assert result.metric == str(path)


def test_trace_file_errors(tmp_path: Path):
    short = tmp_path / "short.csv"
    short.write_text("0.5\n0.4\n")
    with pytest.raises(BadValueError, match="2 value"):
        run("plateau", metric=str(short))
    bad = tmp_path / "bad.csv"
    bad.write_text("loss\n0.5\nabc\n")
    with pytest.raises(BadValueError, match="line 3"):
        read_trace(bad)
    with pytest.raises(BadValueError, match="cannot read"):
        run("plateau", metric=str(tmp_path / "missing.csv"))


def test_plateau_per_epoch_uses_one_metric_per_epoch():
    result = run("plateau", interval="epoch", metric="step")
    assert result.runs[0].plateau.at == [7, 15, 23, 31]
    assert result.runs[0].plateau.metric == [7, 15, 23, 31]


# -- lints, torch's warnings and torch's errors -------------------------------------------

def test_onecycle_too_short_stops_where_torch_stops():
    result = run("onecycle:total_steps=20")
    lr = result.runs[0].lr
    assert all(v is not None for v in lr[:21]) and all(v is None for v in lr[21:])
    assert any("Tried to step 21 times" in w and "planned for 20" in w for w in result.warnings)
    assert "torch raised after step 20" in result.runs[0].error
    # The lint quoted torch's refusal: the refusal itself is not said a second time.
    assert [w for w in result.warnings if "Tried to step" in w] == [
        "OneCycleLR is planned for 20 steps but is stepped 32 times: torch raises 'Tried to "
        "step 21 times. The specified number of total steps is 20' there, so the LR after "
        "step 20 is not drawn"]


def test_nested_onecycle_too_short_is_said_once():
    result = run("sequential:schedulers=[onecycle(total_steps=5),cosine],milestones=[10]",
                 optimizer="sgd:momentum=0.9")
    assert result.warnings == [
        "OneCycleLR is planned for 5 steps but is stepped 10 times: torch raises 'Tried to "
        "step 6 times. The specified number of total steps is 5' there, so the LR after step 5 "
        "is not drawn"]
    assert "SequentialLR: torch raised after step 5" in result.runs[0].error


def test_torch_refusal_no_lint_foresaw_is_a_note(monkeypatch: pytest.MonkeyPatch):
    from torch.optim import lr_scheduler

    real_step = lr_scheduler.StepLR.step

    def refuse(self, *args, **kwargs):
        if self.last_epoch >= 3:  # the constructor's own step, and three more, go through
            raise ValueError("refused")
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(lr_scheduler.StepLR, "step", refuse)
    result = run("step")
    assert result.warnings == ["StepLR: torch raised after step 3: refused"]


@pytest.mark.parametrize(("token", "fields", "message"), [
    ("sequential:schedulers=[linear,cosine],milestones=[40]", {},
     "SequentialLR: milestone 40 is at or after the run's last scheduler step (32); "
     "cosine never runs"),
    ("sequential:schedulers=[linear,cosine],milestones=[32]", {},
     "SequentialLR: milestone 32 is at or after the run's last scheduler step (32); "
     "cosine never runs"),
    ("sequential:schedulers=[linear,cosine,step],milestones=[8,32]", {},
     "SequentialLR: milestone 32 is at or after the run's last scheduler step (32); "
     "step never runs"),
    ("sequential:schedulers=[constant(total_iters=2),cosine],milestones=[4]",
     {"interval": "epoch", "epochs": 4},
     "SequentialLR: milestone 4 is at or after the run's last scheduler step (4); cosine "
     "never runs (stepped once per epoch with interval=epoch: this looks like a per-step "
     "value; use interval=step, or divide by 8 steps per epoch)"),
])
def test_sequential_milestone_past_the_run(token, fields, message):
    assert run(token, **fields).warnings == [message]


def test_sequential_milestone_inside_the_run_is_quiet():
    assert run("sequential:schedulers=[linear,cosine],milestones=[31]").warnings == []
    assert run("sequential:schedulers=[linear(total_iters=2),cosine],milestones=[3]",
               interval="epoch").warnings == []


def test_onecycle_too_long_is_a_warning():
    result = run("onecycle:total_steps=64")
    assert any("stops 50% of the way" in w for w in result.warnings)
    assert None not in result.runs[0].lr


def test_per_step_values_stepped_per_epoch():
    result = run("step", "cosine", interval="epoch")
    assert any(w.startswith("StepLR step_size=4 counts scheduler steps") for w in result.warnings)
    # T_max came from the run (4 epochs): nothing to warn about.
    assert not [w for w in result.warnings if "CosineAnnealingLR" in w]


def test_momentum_cycling_without_momentum():
    result = run("cyclic", optimizer="adagrad")
    assert any("Adagrad has neither momentum nor beta1" in w for w in result.warnings)
    assert result.runs[0].parameters["cycle_momentum"] is False
    assert result.runs[0].momentum is None
    sgd = run("onecycle")
    assert any("momentum 0" in w for w in sgd.warnings)
    quiet = run("onecycle", optimizer="sgd:momentum=0.9")
    assert quiet.warnings == []


def test_beta1_is_recorded_for_adam():
    result = run("onecycle", optimizer="adam")
    r = result.runs[0]
    assert r.momentum_name == "beta1"
    assert r.momentum[0] == pytest.approx(0.95)
    assert min(r.momentum) == pytest.approx(0.85, abs=1e-3)


def test_plateau_without_metric_and_unused_metric():
    # What the footnote shows (the warning up to its first bracket) names the metric drawn.
    (text,) = [w for w in run("plateau").warnings if "ReduceLROnPlateau" in w]
    assert text.startswith("ReduceLROnPlateau steps on the training loss of a dummy linear "
                           "model (no metric was given)")
    assert any("a metric is used only by" in w for w in run("step", metric="1/(1+step)").warnings)


def test_torch_warnings_in_plain_words():
    assert plain_warning("Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
                         "In PyTorch 1.1.0 ...") == (
        "the scheduler was stepped before the optimizer, so torch skips the schedule's first LR")
    assert plain_warning("Something odd. See https://x") == "Something odd"


def test_torch_warnings_are_caught_and_shown_once(monkeypatch: pytest.MonkeyPatch):
    import warnings

    from torch.optim import lr_scheduler

    real_step = lr_scheduler.StepLR.step

    def noisy_step(self, *args, **kwargs):
        warnings.warn("To get the last learning rate computed by the scheduler, please use "
                      "`get_last_lr()`.", UserWarning, stacklevel=2)
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(lr_scheduler.StepLR, "step", noisy_step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none may escape the simulation
        result = run("step")
    once = ["torch: get_lr() was called outside step(); torch advises get_last_lr()"]
    assert result.warnings == once
    assert result.runs[0].warnings == once


def test_torch_refusal_at_construction_is_one_error():
    with pytest.raises(BadValueError, match="CyclicLR"):
        run("cyclic:mode=sideways")


def test_formula_error_while_running():
    with pytest.raises(BadValueError, match="division by zero"):
        run("lambda:lr_lambda=1/(epoch-3)")


# -- spec validation --------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "message"), [
    ({"lr": -1}, "--lr: a learning rate must be a finite number > 0, got -1"),
    ({"lr": [1e-3, 0]}, "must be a finite number > 0, got 0"),
    ({"epochs": 0}, "--epochs: must be >= 1"),
    ({"interval": "batch"}, "--interval"),
    ({"epochs": 1000, "steps_per_epoch": 1000}, "at most"),
    ({"optimizer": "sgd:lr=0.1"}, "set the learning rate with lr"),
])
def test_spec_errors_name_the_option(data, message):
    with pytest.raises(BadValueError, match=message):
        build(ScheduleSpec, {"schedulers": ["step"], **data}, cli=True)


# -- parameter groups and exports -------------------------------------------------------------

def test_one_curve_per_parameter_group():
    result = run("cyclic", "step", lr=[1e-3, 1e-4])
    cyclic, step = result.runs
    assert cyclic.lr_groups is not None
    assert cyclic.lr_groups[1] == pytest.approx([v / 10 for v in cyclic.lr_groups[0]])
    assert cyclic.parameters["max_lr"] == [1e-3, 1e-4]
    assert step.lr_groups[1][0] == pytest.approx(1e-4)
    same = run("step", lr=[1e-3, 1e-3])
    assert same.runs[0].lr_groups is None


def test_json_export_shape():
    data = json.loads(to_json(run("onecycle", "step")))
    assert data["kind"] == "schedule"
    for entry in data["runs"]:
        assert {"label", "scheduler", "parameters", "lr", "momentum"} <= set(entry)
        assert len(entry["lr"]) == 32
    onecycle, step = data["runs"]
    assert onecycle["parameters"]["max_lr"] == 1e-3
    assert onecycle["lr"][0] == pytest.approx(1e-3 / 25)
    assert len(onecycle["momentum"]) == 32
    assert step["momentum"] is None
    assert step["parameters"] == {"step_size": 4, "gamma": 0.5}


def test_csv_export_one_row_per_run_and_step():
    result = run("plateau", "cyclic", lr=[1e-3, 1e-4])
    rows = list(csv.DictReader(io.StringIO(schedule_to_csv(result))))
    assert len(rows) == 2 * 32
    assert rows[0]["scheduler"] == "plateau" and rows[32]["scheduler"] == "cyclic"
    assert float(rows[33]["lr"]) == pytest.approx(result.runs[1].lr[1])
    assert float(rows[33]["momentum"]) == pytest.approx(result.runs[1].momentum[1])
    assert float(rows[33]["lr_group1"]) == pytest.approx(result.runs[1].lr_groups[1][1])
    assert float(rows[5]["metric"]) == pytest.approx(result.runs[0].plateau.metric[5])
    assert rows[5]["epoch"] == "0" and rows[8]["epoch"] == "1"
    assert export_text(result, Path("x.csv")) == schedule_to_csv(result)


def test_results_are_json_safe_and_deterministic():
    a = to_json(run("plateau", "onecycle"))
    b = to_json(run("plateau", "onecycle"))
    assert a == b
    assert not any(isinstance(v, float) and not math.isfinite(v)
                   for v in json.loads(a)["runs"][0]["lr"])


# -- lint advice by setting; the same lints for a trajectory's scheduler ----------------------


def test_lint_advice_names_settings_and_words_them_as_flags_on_request():
    result = run("step:step_size=30", "plateau", interval="epoch")
    per_epoch, dummy = result.warnings
    # A config and the Python API set 'interval: epoch' and 'metric:', so the advice names
    # the settings; the command line's report asks for flags (flag_text).
    assert per_epoch == ("StepLR step_size=30 counts scheduler steps, but with interval=epoch "
                         "it is stepped only 4 times (once per epoch): this looks like a "
                         "per-step value (use interval=step, or divide by 8 steps per epoch)")
    assert "--" not in per_epoch + dummy
    assert per_epoch.flag_text() == per_epoch.replace("interval=epoch", "--interval epoch") \
        .replace("interval=step", "--interval step")
    assert "(--metric trace.csv, or a formula in step)" in dummy.flag_text()
    assert "(metric=trace.csv, or a formula in step)" in dummy


def _trajectory(**fields: Any):
    from optviz.figures.write import render_figure
    from optviz.spec.figures import TrajectorySpec

    defaults = {} if fields.get("model") else {"steps": 20}
    return render_figure(TrajectorySpec.model_validate({**defaults, **fields}))


ONECYCLE_SGD = ("OneCycleLR cycles momentum, but SGD was made with momentum 0: the scheduler "
                "sets it between base_momentum and max_momentum anyway (pass "
                "cycle_momentum=false to keep plain SGD)")


def test_trajectory_with_a_scheduler_gets_the_schedule_lints():
    from matplotlib.text import Text

    rendered = _trajectory(optimizers=["sgd:lr=0.05"], scheduler="onecycle")
    assert rendered.computed.warnings == [ONECYCLE_SGD]
    # ... and what optviz schedule says for the same scheduler and optimizer
    assert ONECYCLE_SGD in run("onecycle").warnings
    fig = rendered.figure
    notes = [t for t in fig.findobj(Text) if t.get_text().startswith("⚠")]
    assert [t.get_text() for t in notes] == ["⚠ OneCycleLR cycles momentum, but SGD was made "
                                             "with momentum 0."]
    # The note lies below the legend and every axes, inside the canvas.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    note = notes[0].get_window_extent(renderer)
    above = [fig.legends[0].get_window_extent(renderer),
             *(ax.get_tightbbox(renderer) for ax in fig.axes)]
    assert note.y0 >= 0 and note.x1 <= fig.bbox.x1
    assert all(box.y0 > note.y1 for box in above)
    # With momentum, or without a scheduler: nothing to say.
    assert _trajectory(optimizers=["sgd:lr=0.05,momentum=0.9"],
                       scheduler="onecycle").computed.warnings == []
    quiet = _trajectory(optimizers=["sgd:lr=0.05"])
    assert quiet.computed.warnings == []
    assert not [t for t in quiet.figure.findobj(Text) if "⚠" in t.get_text()]


def test_trajectory_lints_every_run_and_panel_once():
    rendered = _trajectory(optimizers=["sgd:lr=0.05", "sgd:lr=0.01", "adam:lr=0.1"],
                           scheduler="onecycle")
    assert rendered.computed.warnings == [ONECYCLE_SGD]  # once, though two SGD runs
    panels = _trajectory(optimizers=["sgd:lr=0.05"], scheduler="onecycle", layout="panels",
                         panels=[{"title": "a"}, {"title": "b", "optimizers": ["adam:lr=0.1"]}])
    assert panels.computed.warnings == [ONECYCLE_SGD]
    # A per-step value on a per-epoch scheduler of the linear model, by setting.
    model = _trajectory(optimizers=["sgd"], model="linear", epochs=5, interval="epoch",
                        scheduler="step:step_size=30")
    (text,) = model.computed.warnings
    assert text.startswith("StepLR step_size=30 counts scheduler steps, but with "
                           "interval=epoch it is stepped only 5 times")
    assert "--interval epoch" in text.flag_text()


def test_a_trajectory_under_onecycle_on_adagrad_turns_momentum_cycling_off_as_schedule_does():
    """Adagrad has neither momentum nor beta1: torch's OneCycleLR refuses it unless
    cycle_momentum is off. The trajectory turns it off, says so, and its LRs are torch's
    OneCycleLR(cycle_momentum=False) stepped by hand."""
    import torch

    from optviz.figures.write import render_figure
    from optviz.spec.figures import TrajectorySpec

    spec = TrajectorySpec.model_validate({"optimizers": ["adagrad"], "steps": 40,
                                          "scheduler": "onecycle"})
    rendered = render_figure(spec)
    assert any(w.startswith("OneCycleLR's momentum cycling is turned off for this picture: "
                            "Adagrad has neither momentum nor beta1")
               for w in rendered.computed.warnings)
    from optviz.render.schedule import footnotes

    assert footnotes(rendered.computed.warnings, 120) == [
        "⚠ OneCycleLR's momentum cycling is turned off for this picture."]
    p = torch.zeros(2, requires_grad=True)
    opt = torch.optim.Adagrad([p], lr=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=40,
                                                cycle_momentum=False)
    want = []
    for _ in range(40):
        want.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert rendered.result.runs[0].lr == pytest.approx(want, rel=1e-12)


# -- the optimizer's steps without a model ----------------------------------------------------

class HalvingSGD(torch.optim.SGD):
    """Not torch.optim's own: an optimizer whose step halves its LR, so that only stepping it
    at every step draws its schedule right."""

    def step(self, closure: Any = None) -> Any:
        out = super().step(closure)
        for group in self.param_groups:
            group["lr"] *= 0.5
        return out


def test_torch_optimizers_step_once_without_a_model_and_others_at_every_step():
    """Without a model nothing has a gradient, so torch.optim's own step changes nothing: it
    is taken at the first step (torch's schedulers check it was) and not again, with the
    same LRs as stepping it every time. Any other optimizer steps every time."""
    from torch.optim.optimizer import register_optimizer_step_post_hook

    stepped: list[str] = []
    handle = register_optimizer_step_post_hook(
        lambda opt, args, kwargs: stepped.append(type(opt).__name__))
    try:
        got = run("cosine:T_max=12,eta_min=0", optimizer="adam", epochs=12, steps_per_epoch=1)
        assert stepped == ["Adam"]
        stepped.clear()
        param = torch.nn.Parameter(torch.zeros(1, 2))
        adam = torch.optim.Adam([param], lr=1e-3)
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(adam, T_max=12)
        by_hand = []
        for _ in range(12):  # the article's loop, the optimizer stepped every time
            adam.step()
            by_hand.append(adam.param_groups[0]["lr"])
            cosine.step()
        assert len(stepped) == 12 and got.runs[0].lr == by_hand  # bit for bit
        assert got.runs[0].warnings == []  # torch saw the optimizer step before the scheduler
        stepped.clear()
        halving = run("constant:factor=1,total_iters=1", optimizer="test_schedule_run.HalvingSGD",
                      lr=0.1, epochs=6, steps_per_epoch=1)
        assert set(stepped) == {"HalvingSGD"}
        assert halving.runs[0].lr == pytest.approx([0.1 * 0.5 ** t for t in range(1, 7)])
    finally:
        handle.remove()
