"""LR series that optviz records and exports, against closed forms (torch's own scheduler tests)
and against every registered scheduler stepped by hand with torch in the article's loop."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch.optim import lr_scheduler as L

from optviz.engines.schedule import noisy_decay
from optviz.export.data import to_json
from optviz.figures.schedule import run_schedule_spec
from optviz.registry import OPTIMIZERS, SCHEDULERS
from optviz.spec.figures import ScheduleSpec


def exported(*schedulers: str, **fields: Any) -> list[dict[str, Any]]:
    """The runs of optviz's JSON export for a call."""
    spec = ScheduleSpec.model_validate({"schedulers": list(schedulers), **fields})
    return json.loads(to_json(run_schedule_spec(spec)))["runs"]


def lrs(*schedulers: str, **fields: Any) -> list[float]:
    return exported(*schedulers, **fields)[0]["lr"]


# -- closed forms (torch's test_lrscheduler.py), lr 0.05, 10 steps ----------------------------

RUN10 = {"lr": 0.05, "epochs": 1, "steps_per_epoch": 10}


def test_step_lr():
    expected = [0.05] * 3 + [0.005] * 3 + [0.0005] * 3 + [0.00005]
    assert lrs("StepLR:step_size=3,gamma=0.1", **RUN10) == pytest.approx(expected, rel=1e-12)


def test_multi_step_lr():
    expected = [0.05] * 2 + [0.005] * 3 + [0.0005] * 4 + [0.00005]
    got = lrs("MultiStepLR:milestones=[2,5,9],gamma=0.1", **RUN10)
    assert got == pytest.approx(expected, rel=1e-12)


def test_exponential_lr():
    expected = [0.05 * 0.9**i for i in range(10)]
    assert lrs("ExponentialLR:gamma=0.9", **RUN10) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_polynomial_lr(power):
    expected = [0.05 * (1 - min(i, 4) / 4) ** power for i in range(10)]
    got = lrs(f"PolynomialLR:total_iters=4,power={power}", **RUN10)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_cosine_annealing_lr():
    eta_min = 1e-10
    expected = [eta_min + (0.05 - eta_min) * (1 + math.cos(math.pi * i / 10)) / 2
                for i in range(10)]
    got = lrs(f"CosineAnnealingLR:T_max=10,eta_min={eta_min}", **RUN10)
    assert got == pytest.approx(expected, rel=1e-10)


def test_cosine_annealing_t_max_comes_from_the_run():
    expected = [1e-4 + (1e-3 - 1e-4) * (1 + math.cos(math.pi * i / 32)) / 2 for i in range(32)]
    assert lrs("cosine") == pytest.approx(expected, rel=1e-10)


def test_linear_lr():
    start = 1 / 3
    expected = [0.05 * (start + (1 - start) * min(i, 4) / 4) for i in range(10)]
    got = lrs("LinearLR:start_factor=0.3333333333333333,total_iters=4", **RUN10)
    assert got == pytest.approx(expected, rel=1e-12)


def test_constant_lr():
    expected = [0.05 / 3] * 4 + [0.05] * 6
    got = lrs("ConstantLR:factor=0.3333333333333333,total_iters=4", **RUN10)
    assert got == pytest.approx(expected, rel=1e-12)


def test_cyclic_lr_triangular():
    got = lrs("CyclicLR:base_lr=1,max_lr=5,step_size_up=4", lr=1.0, epochs=1,
              steps_per_epoch=11)
    assert got == pytest.approx([1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3], rel=1e-12)


def test_warm_restarts_closed_form():
    expected = [1e-4 + (1e-3 - 1e-4) * (1 + math.cos(math.pi * (i % 8) / 8)) / 2
                for i in range(32)]
    assert lrs("warm_restarts") == pytest.approx(expected, rel=1e-10)


def test_lambda_formula():
    assert lrs("lambda:lr_lambda=min(1, (epoch+1)/5)", **RUN10) == pytest.approx(
        [0.05 * min(1, (i + 1) / 5) for i in range(10)], rel=1e-12)
    assert lrs("multiplicative:lr_lambda=0.9", **RUN10) == pytest.approx(
        [0.05 * 0.9**i for i in range(10)], rel=1e-12)


def test_step_interval_epoch():
    got = lrs("step:step_size=1,gamma=0.5", interval="epoch")
    assert got == pytest.approx([1e-3 * 0.5 ** (i // 8) for i in range(32)], rel=1e-12)


# -- every registered scheduler, stepped by hand with torch ------------------------------------

W, N = 3, 32  # warmup (10 % of the run) and the run's length at the article's defaults


def _p(s: int) -> float:
    return (s - W) / (N - W)


def _warm(rest: Callable[[int], float]) -> Callable[[int], float]:
    return lambda s: s / W if s < W else rest(s)


def _wsd(s: int) -> float:
    # warmup 3, stable 32 - 3 - 6 = 23, decay 6 (20 % of the run), cosine down to 0
    if s < W:
        return s / W
    if s < W + 23:
        return 1.0
    return 0.5 * (1 + math.cos(math.pi * (s - W - 23) / 6)) if s < N else 0.0


def _restarts(s: int, cycles: int = 1) -> float:
    """transformers' hard restarts; its default num_cycles is 1 (one decay, no restart)."""
    p = _p(s)
    return 0.0 if p >= 1 else 0.5 * (1 + math.cos(math.pi * ((cycles * p) % 1.0)))


HAND: dict[str, Callable[[torch.optim.Optimizer], Any]] = {
    "step": lambda o: L.StepLR(o, step_size=4, gamma=0.5),
    "multistep": lambda o: L.MultiStepLR(o, milestones=[8, 24, 28], gamma=0.5),
    "constant": lambda o: L.ConstantLR(o, factor=0.5, total_iters=8),
    "linear": lambda o: L.LinearLR(o, start_factor=0.5, total_iters=8),
    "exponential": lambda o: L.ExponentialLR(o, gamma=0.5),
    "polynomial": lambda o: L.PolynomialLR(o, total_iters=8, power=1),
    "cosine": lambda o: L.CosineAnnealingLR(o, T_max=32, eta_min=1e-4),
    "warm_restarts": lambda o: L.CosineAnnealingWarmRestarts(o, T_0=8, T_mult=1, eta_min=1e-4),
    "cyclic": lambda o: L.CyclicLR(o, base_lr=1e-4, max_lr=1e-3, step_size_up=4),
    "cyclic_triangular2": lambda o: L.CyclicLR(o, base_lr=1e-4, max_lr=1e-3, step_size_up=4,
                                               mode="triangular2"),
    "cyclic_exp_range": lambda o: L.CyclicLR(o, base_lr=1e-4, max_lr=1e-3, step_size_up=4,
                                             mode="exp_range", gamma=0.95),
    "onecycle": lambda o: L.OneCycleLR(o, max_lr=1e-3, epochs=4, steps_per_epoch=8),
    "onecycle_linear": lambda o: L.OneCycleLR(o, max_lr=1e-3, epochs=4, steps_per_epoch=8,
                                              anneal_strategy="linear"),
    "plateau": lambda o: L.ReduceLROnPlateau(o, factor=0.5, patience=3),
    "lambda": lambda o: L.LambdaLR(o, lambda e: 0.95**e),
    "multiplicative": lambda o: L.MultiplicativeLR(o, lambda e: 0.95),
    "sequential": lambda o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.5, total_iters=8),
            L.CosineAnnealingLR(o, T_max=24, eta_min=1e-4)], milestones=[8]),
    "chained": lambda o: L.ChainedScheduler(
        [L.ConstantLR(o, factor=0.5, total_iters=8), L.ExponentialLR(o, gamma=0.9)]),
    "constant_warmup": lambda o: L.LambdaLR(o, _warm(lambda s: 1.0)),
    "linear_warmup": lambda o: L.LambdaLR(o, _warm(lambda s: max(0.0, (N - s) / (N - W)))),
    "cosine_warmup": lambda o: L.LambdaLR(
        o, _warm(lambda s: max(0.0, 0.5 * (1 + math.cos(math.pi * _p(s)))))),
    "cosine_restarts_warmup": lambda o: L.LambdaLR(o, _warm(_restarts)),
    "cosine_min_lr_warmup": lambda o: L.LambdaLR(
        o, _warm(lambda s: 0.5 * (1 + math.cos(math.pi * _p(s))) * 0.9 + 0.1)),
    "polynomial_warmup": lambda o: L.LambdaLR(
        o, _warm(lambda s: ((1e-3 - 1e-7) * (1 - _p(s)) + 1e-7) / 1e-3)),
    "inverse_sqrt": lambda o: L.LambdaLR(o, _warm(lambda s: 1 / math.sqrt(s / W))),
    "wsd": lambda o: L.LambdaLR(o, _wsd),
    "constant_schedule": lambda o: L.LambdaLR(o, lambda s: 1.0),
    # transformers' get_reduce_on_plateau_schedule passes its kwargs to torch: torch's defaults.
    "reduce_on_plateau_schedule": lambda o: L.ReduceLROnPlateau(o),
    # transformers' _lr_rate variant: warmup (s + 1) / W, the decay one step ahead.
    "cosine_warmup_with_min_lr": lambda o: L.LambdaLR(
        o, lambda s: (s + 1) / W if s < W
        else 0.5 * (1 + math.cos(math.pi * (s - W + 1) / (N - W))) * 0.9 + 0.1),
}


def by_hand(name: str) -> tuple[list[float], list[float]]:
    """The article's loop: Linear(2, 1), SGD at 1e-3, 4 epochs of 8 steps, the LR recorded
    after optimizer.step() and before scheduler.step()."""
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    scheduler = HAND[name](optimizer)
    if isinstance(scheduler, L.ReduceLROnPlateau):
        return plateau_on_linear_by_hand(make=HAND[name])
    lr, momentum = [], []
    for _i in range(N):
        optimizer.step()
        lr.append(optimizer.param_groups[0]["lr"])
        momentum.append(optimizer.param_groups[0]["momentum"])
        scheduler.step()
    return lr, momentum


def linear_data_by_hand(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """y = x·wᵀ + 0.1·ε, 256 samples of 2 features, drawn in this order from one generator."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(256, 2, generator=gen, dtype=torch.float64)
    w = torch.randn(1, 2, generator=gen, dtype=torch.float64)
    y = x @ w.T + 0.1 * torch.randn(256, 1, generator=gen, dtype=torch.float64)
    return x.float(), y.float()


def plateau_on_linear_by_hand(interval: str = "step", epochs: int = 4,
                              make: Callable[[Any], Any] = HAND["plateau"]):
    """ReduceLROnPlateau's default metric written out: SGD at 1e-3 trains Linear(2, 1) without
    bias on shuffled batches of 32, and the scheduler steps on the batch loss (per step) or on
    the epoch's mean batch loss (per epoch)."""
    x, y = linear_data_by_hand()
    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(1, 2))
    optimizer = torch.optim.SGD([weight], lr=1e-3)
    scheduler = make(optimizer)
    order_gen = torch.Generator().manual_seed(0)
    lr, metric, losses = [], [], []
    for _epoch in range(epochs):
        order = torch.randperm(256, generator=order_gen)
        for b in range(8):
            rows = order[b * 32:(b + 1) * 32]
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(x[rows] @ weight.T, y[rows])
            loss.backward()
            optimizer.step()
            lr.append(optimizer.param_groups[0]["lr"])
            losses.append(float(loss.detach()))
            if interval == "step" or b == 7:
                metric.append(sum(losses) / len(losses))
                losses.clear()
                scheduler.step(metric[-1])
    plateau_on_linear_by_hand.metric = metric
    return lr, [0.0] * len(lr)


def test_hand_table_covers_the_registry():
    assert sorted(HAND) == SCHEDULERS.names()


@pytest.mark.parametrize("name", sorted(HAND))
def test_every_scheduler_equals_torch_by_hand(name):
    run = exported(name)[0]
    lr, momentum = by_hand(name)
    assert len(run["lr"]) == N
    assert run["lr"] == pytest.approx(lr, rel=1e-12, abs=1e-18)
    if SCHEDULERS.resolve(name).cycles_momentum:
        assert run["momentum"] == pytest.approx(momentum, rel=1e-12)
    else:
        assert run["momentum"] is None


def test_plateau_reduces_on_the_linear_models_loss_by_default():
    run = exported("plateau")[0]
    lr, _ = plateau_on_linear_by_hand()
    # The batch loss is noisy: at least one reduction, each halving the LR.
    values = sorted(set(run["lr"]), reverse=True)
    assert len(values) >= 2
    assert values[1] == pytest.approx(values[0] / 2)
    assert run["plateau"]["reductions"]
    assert run["plateau"]["source"] == "linear"
    assert run["plateau"]["metric"] == pytest.approx(plateau_on_linear_by_hand.metric, rel=1e-6)
    assert run["lr"] == pytest.approx(lr, rel=1e-12)


def test_plateau_per_epoch_steps_on_the_epoch_mean_loss():
    run = exported("plateau", interval="epoch", epochs=12)[0]
    lr, _ = plateau_on_linear_by_hand("epoch", epochs=12)
    assert run["plateau"]["metric"] == pytest.approx(plateau_on_linear_by_hand.metric, rel=1e-6)
    assert run["lr"] == pytest.approx(lr, rel=1e-12)


def test_plateau_can_still_use_the_noisy_curve():
    run = exported("plateau", metric="noisy_decay")[0]
    assert run["plateau"]["metric"] == pytest.approx(noisy_decay(N, 0))


@pytest.mark.parametrize("optimizer", OPTIMIZERS.names())
def test_every_optimizer_drives_a_schedule_and_trains_the_plateau_model(optimizer):
    # Closure optimizers (LBFGS), sparse gradients (SparseAdam) and 2-D-only ones (Muon) included.
    assert lrs("step", optimizer=optimizer) == pytest.approx(
        [1e-3 * 0.5 ** (i // 4) for i in range(N)], rel=1e-12)
    run = exported("plateau", optimizer=optimizer)[0]
    metric = run["plateau"]["metric"]
    assert len(metric) == N and all(m is not None and math.isfinite(m) for m in metric)
    assert len(set(metric)) > 1  # real batch losses, not a constant
