"""The transformers-equivalent warmup schedules against the values transformers' own tests
publish (lr 10, 2 warmup steps, 10 steps in all), through torch directly and through optviz."""

from __future__ import annotations

import math

import pytest
import torch

from optviz import warmup
from optviz.errors import BadValueError
from optviz.export.data import to_json
from optviz.figures.schedule import run_schedule_spec
from optviz.plan.schedulers import RunShape, plan_scheduler
from optviz.registry import SCHEDULERS
from optviz.spec.figures import SchedulerSpec, ScheduleSpec

COMMON = {"num_warmup_steps": 2, "num_training_steps": 10}

# transformers tests/optimization/test_optimization.py, ScheduleInitTest.test_schedulers
PUBLISHED = {
    "get_constant_schedule_with_warmup": (
        {"num_warmup_steps": 4}, [0.0, 2.5, 5.0, 7.5, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0]),
    "get_linear_schedule_with_warmup": (
        COMMON, [0.0, 5.0, 10.0, 8.75, 7.5, 6.25, 5.0, 3.75, 2.5, 1.25]),
    "get_cosine_schedule_with_warmup": (
        COMMON, [0.0, 5.0, 10.0, 9.61, 8.53, 6.91, 5.0, 3.08, 1.46, 0.38]),
    "get_cosine_with_hard_restarts_schedule_with_warmup": (
        {**COMMON, "num_cycles": 2}, [0.0, 5.0, 10.0, 8.53, 5.0, 1.46, 10.0, 8.53, 5.0, 1.46]),
    "get_polynomial_decay_schedule_with_warmup": (
        {**COMMON, "power": 2.0, "lr_end": 1e-7},
        [0.0, 5.0, 10.0, 7.656, 5.625, 3.906, 2.5, 1.406, 0.625, 0.156]),
    "get_inverse_sqrt_schedule": (
        {"num_warmup_steps": 2},
        [0.0, 5.0, 10.0, 8.165, 7.071, 6.325, 5.774, 5.345, 5.0, 4.714]),
}


def _optimizer(lr: float = 10.0) -> torch.optim.Optimizer:
    return torch.optim.AdamW([torch.nn.Parameter(torch.zeros(3))], lr=lr)


def _unwrap(scheduler, steps: int = 10) -> list[float]:
    out = []
    for _ in range(steps):
        out.append(scheduler.get_last_lr()[0])
        scheduler.optimizer.step()
        scheduler.step()
    return out


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_values_through_torch(name):
    kwargs, expected = PUBLISHED[name]
    factory = getattr(warmup, name)
    assert _unwrap(factory(_optimizer(), **kwargs)) == pytest.approx(expected, abs=1e-2)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_values_through_optviz(name):
    # The run has 10 steps, so num_training_steps comes from the run when not given.
    kwargs, expected = PUBLISHED[name]
    settings = {k: v for k, v in kwargs.items() if k != "num_training_steps"}
    spec = ScheduleSpec(schedulers=[SchedulerSpec(name=name, settings=settings)], lr=[10.0],
                        epochs=1, steps_per_epoch=10)
    result = run_schedule_spec(spec)
    assert result.runs[0].lr == pytest.approx(expected, abs=1e-2)


def test_the_issues_numbers_exactly():
    spec = ScheduleSpec(schedulers=["linear_warmup:num_warmup_steps=2",
                                    "cosine_warmup:num_warmup_steps=2"],
                        lr=[10.0], epochs=1, steps_per_epoch=10)
    linear, cosine = run_schedule_spec(spec).runs
    assert linear.lr == pytest.approx([0, 5, 10, 8.75, 7.5, 6.25, 5, 3.75, 2.5, 1.25],
                                      abs=1e-12)
    # transformers publishes these cut (not rounded) to two decimals, checked to 1e-2.
    assert cosine.lr == pytest.approx([0, 5, 10, 9.61, 8.53, 6.91, 5.0, 3.08, 1.46, 0.38],
                                      abs=1e-2)
    assert cosine.lr[3] == pytest.approx(10 * 0.5 * (1 + math.cos(math.pi / 8)))


def test_wsd_from_its_formula():
    # warmup 2, decay 2, stable 10 - 2 - 2 = 6, floor 0.1: warmup starts at the floor.
    s = warmup.get_wsd_schedule(_optimizer(), num_warmup_steps=2, num_decay_steps=2,
                                num_training_steps=10, min_lr_ratio=0.1)
    assert _unwrap(s, 12) == pytest.approx([1.0, 5.5, 10, 10, 10, 10, 10, 10, 10, 5.5, 1.0, 1.0])


@pytest.mark.parametrize(("warm", "decay", "values"), [
    ("cosine", "linear", [0.0, 5.0, 10.0, 10.0, 5.0]),
    ("1-sqrt", "1-sqrt", [0.0, 10 * (1 - math.sqrt(0.5)), 10.0, 10.0, 10 * (1 - math.sqrt(0.5))]),
])
def test_wsd_shapes(warm, decay, values):
    s = warmup.get_wsd_schedule(_optimizer(), num_warmup_steps=2, num_decay_steps=2,
                                num_stable_steps=1, warmup_type=warm, decay_type=decay)
    assert _unwrap(s, 5) == pytest.approx(values)


def test_wsd_refuses_unknown_shapes_and_missing_lengths():
    with pytest.raises(ValueError, match="warmup type"):
        warmup.get_wsd_schedule(_optimizer(), 2, 2, 10, warmup_type="exp")
    with pytest.raises(ValueError, match="num_training_steps or num_stable_steps"):
        warmup.get_wsd_schedule(_optimizer(), 2, 2)


def test_cosine_with_min_lr():
    s = warmup.get_cosine_with_min_lr_schedule_with_warmup(
        _optimizer(), num_warmup_steps=0, num_training_steps=4, min_lr=1.0)
    # Half a cosine from 10 down to 1: 10, 1 + 9 * (1 + cos(pi/4)) / 2, 5.5, ...
    assert _unwrap(s, 5) == pytest.approx(
        [10.0, 1 + 9 * (1 + math.cos(math.pi / 4)) / 2, 5.5,
         1 + 9 * (1 + math.cos(3 * math.pi / 4)) / 2, 1.0])
    with pytest.raises(ValueError, match="Only one"):
        warmup.get_cosine_with_min_lr_schedule_with_warmup(_optimizer(), 0, 4, min_lr=1.0,
                                                           min_lr_rate=0.1)


def test_inverse_sqrt_timescale_defaults():
    # No warmup: the timescale falls back to 10 000 steps, as in transformers.
    s = warmup.get_inverse_sqrt_schedule(_optimizer(), num_warmup_steps=0)
    assert _unwrap(s, 2) == pytest.approx([10.0, 10.0 / math.sqrt(10_001 / 10_000)])
    # With warmup the timescale is the warmup: the LR falls as 1/sqrt(step / warmup).
    s = warmup.get_inverse_sqrt_schedule(_optimizer(), num_warmup_steps=4)
    assert _unwrap(s, 6)[4:] == pytest.approx([10.0, 10.0 / math.sqrt(5 / 4)])


@pytest.mark.parametrize(("alias", "name"), [
    ("get_linear_schedule_with_warmup", "linear_warmup"),
    ("transformers.get_cosine_schedule_with_warmup", "cosine_warmup"),
    ("transformers.optimization.get_inverse_sqrt_schedule", "inverse_sqrt"),
    ("get_cosine_with_hard_restarts_schedule_with_warmup", "cosine_restarts_warmup"),
    ("get_polynomial_decay_schedule_with_warmup", "polynomial_warmup"),
    ("get_constant_schedule_with_warmup", "constant_warmup"),
    ("get_wsd_schedule", "wsd"),
    ("warmup_stable_decay", "wsd"),
    ("Cosine-Warmup", "cosine_warmup"),
    ("optviz.warmup.get_linear_schedule_with_warmup", "linear_warmup"),
])
def test_resolves_by_transformers_names(alias, name):
    assert SCHEDULERS.resolve(alias).name == name


def test_run_length_and_warmup_come_from_the_run():
    run = RunShape(epochs=3, steps_per_epoch=10)
    plan = plan_scheduler(SchedulerSpec(name="wsd"), run)
    assert plan.kwargs["num_training_steps"] == 30
    assert plan.kwargs["num_warmup_steps"] == 3  # 10 % of the run
    assert plan.kwargs["num_decay_steps"] == 6  # 20 % of the run
    given = plan_scheduler(SchedulerSpec(name="wsd", settings={"num_stable_steps": 5}), run)
    assert "num_training_steps" not in given.kwargs


def test_polynomial_refuses_lr_end_above_lr():
    spec = ScheduleSpec(schedulers=["polynomial_warmup:lr_end=0.5"], lr=[0.1])
    with pytest.raises(BadValueError, match=r"lr_end \(0.5\) must be smaller"):
        run_schedule_spec(spec)


def test_exported_series_is_the_recorded_one():
    import json

    spec = ScheduleSpec(schedulers=["linear_warmup:num_warmup_steps=2"], lr=[10.0], epochs=1,
                        steps_per_epoch=10)
    data = json.loads(to_json(run_schedule_spec(spec)))
    assert data["runs"][0]["lr"] == pytest.approx([0, 5, 10, 8.75, 7.5, 6.25, 5, 3.75, 2.5,
                                                   1.25])
    assert data["runs"][0]["parameters"]["num_training_steps"] == 10


def test_the_transformers_names_take_the_transformers_defaults():
    """No optviz preset on a transformers function: num_cycles defaults to 1, as there."""
    from optviz.registry import SCHEDULERS

    rec = SCHEDULERS.resolve("get_cosine_with_hard_restarts_schedule_with_warmup")
    assert rec.defaults == {}
    for r in SCHEDULERS:
        if r.family == "transformers":
            assert r.defaults.keys() <= {"min_lr_rate"}, r.name  # transformers requires one
