"""The batched engine against lone runs: N trajectories stacked in one optimizer must equal N
calls of ``run_one`` (different starts, different lrs and settings, divergence), and the
optimizers that are not element-wise must fall back to exactly those calls.

Bit for bit or 1e-6 relative, and why:

- On CPU the comparison is **bit for bit** on polynomial functions (rosenbrock, beale, ...).
  Every element of the stacked tensor goes through the same IEEE-754 operations as the lone
  run's: the summed loss's gradient is exactly 1 per row; +, −, ×, ÷ and √ are correctly
  rounded whether torch's kernel takes its vectorised loop (the big stacked tensor) or its
  scalar tail (a lone 2-element point); torch's CPU optimizers take their single-tensor path in
  both cases, and each param group steps with its own scalar lr as a lone optimizer would.
- Functions with cos and exp (rastrigin, ackley) are held to **1e-6 relative** only: a
  vectorised libm (SLEEF) and the scalar one may round these differently on some CPUs. (They
  are equal bit for bit on the x86 machines we tried, which the test does not rely on.)
- CUDA against CPU is a different set of kernels (foreach, fused multiply-add): within 1e-5,
  on contracting problems only, and skipped without a GPU.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from optviz.engines.batched import BatchResult, run_batch, with_lr
from optviz.engines.single import run_one
from optviz.errors import BadValueError, DeviceError
from optviz.plan.optimizers import plan_optimizer
from optviz.registry import FUNCTIONS
from optviz.spec.figures import OptimizerSpec

STEPS = 40
# Element-wise optimizers, each with lrs from gentle to divergent for the test's starts.
ELEMENTWISE = {
    "sgd": [1e-4, 3e-4, 1e-3, 2e-3, 5e-3, 2e-2],
    "momentum": [1e-4, 3e-4, 1e-3, 2e-3, 5e-3, 2e-2],
    "nesterov": [1e-4, 3e-4, 1e-3, 2e-3, 5e-3, 2e-2],
    "adam": [1e-3, 1e-2, 0.03, 0.1, 0.3, 1.0],
    "adamw": [1e-3, 1e-2, 0.03, 0.1, 0.3, 1.0],
    "adamax": [1e-3, 1e-2, 0.03, 0.1, 0.3, 1.0],
    "nadam": [1e-3, 1e-2, 0.03, 0.1, 0.3, 1.0],
    "radam": [1e-3, 1e-2, 0.03, 0.1, 0.3, 1.0],
    "sparse_adam": [1e-3, 1e-2, 0.03, 0.1, 0.3, 1.0],
    "rmsprop": [1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.3],
    "adagrad": [1e-3, 1e-2, 0.1, 0.3, 1.0, 3.0],
    "adadelta": [0.1, 0.3, 1.0, 3.0, 10.0, 30.0],
    "asgd": [1e-4, 3e-4, 1e-3, 2e-3, 5e-3, 2e-2],
    "rprop": [1e-3, 1e-2, 0.03, 0.1, 0.3, 1.0],
    "lion": [1e-3, 1e-2, 0.03, 0.1, 0.3, 1.0],
}
STARTS = [[-1.5, 2.0], [1.8, -0.5], [0.0, 0.0], [-1.9, -0.9], [1.2, 2.9], [0.3, 1.1]]


def lone(fn, plan, start, steps, domain, dtype=torch.float32):
    """``run_one`` as arrays: points (steps + 1, dim), loss (steps + 1,), diverged (0: none);
    as drawn (``Run.drawn``: NaN from the divergence on), which is what a batch records."""
    run = run_one(fn, plan, torch.tensor(start, dtype=dtype), steps, domain).drawn()
    return (np.array(run.points, dtype=float), np.array(run.loss, dtype=float),
            run.diverged or 0)


def assert_batch_equals_lone(batch: BatchResult, fn, plans, starts, steps, domain,
                             rtol: float = 0.0) -> None:
    for i, (plan, start) in enumerate(zip(plans, starts, strict=True)):
        points, loss, diverged = lone(fn, plan, start, steps, domain)
        assert batch.diverged[i] == diverged, (i, plan.kwargs)
        if rtol == 0:
            np.testing.assert_array_equal(batch.points[:, i], points, err_msg=f"row {i}")
            np.testing.assert_array_equal(batch.loss[:, i], loss, err_msg=f"row {i}")
        else:
            np.testing.assert_allclose(batch.points[:, i], points, rtol=rtol, atol=1e-12)
            np.testing.assert_allclose(batch.loss[:, i], loss, rtol=rtol, atol=1e-12)
        last = (diverged - 1) if diverged else steps
        np.testing.assert_array_equal(batch.final_point[i], points[last])
        if diverged:
            assert np.isnan(batch.final_loss[i])
        else:
            assert batch.final_loss[i] == loss[steps]


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_batch_equals_lone_runs_bit_for_bit(name):
    """Six different starts at six different lrs, in one optimizer with six param groups."""
    f = FUNCTIONS.resolve("rosenbrock")
    fn = f.load()
    base = plan_optimizer(OptimizerSpec(name=name))
    assert base.record.elementwise
    plans = [with_lr(base, lr) for lr in ELEMENTWISE[name]]
    batch = run_batch(fn, plans, STARTS, STEPS, f.domain, record_paths=True)
    assert batch.batched
    assert_batch_equals_lone(batch, fn, plans, STARTS, STEPS, f.domain)


def test_sgd_rows_diverge_alone_and_the_others_carry_on():
    """The divergent lrs of SGD leave the domain; their frozen rows change nothing else."""
    f = FUNCTIONS.resolve("rosenbrock")
    fn = f.load()
    plans = [with_lr(plan_optimizer(OptimizerSpec(name="sgd")), lr)
             for lr in ELEMENTWISE["sgd"]]
    batch = run_batch(fn, plans, STARTS, STEPS, f.domain, record_paths=True)
    assert (batch.diverged > 0).sum() >= 2 and (batch.diverged == 0).sum() >= 2
    assert np.isfinite(batch.final_point).all()  # frozen at their last accepted point
    calm = [i for i in range(len(plans)) if batch.diverged[i] == 0]
    alone = run_batch(fn, [plans[i] for i in calm], [STARTS[i] for i in calm], STEPS,
                      f.domain, record_paths=True)
    np.testing.assert_array_equal(alone.points, batch.points[:, calm])


def cliff(p: torch.Tensor) -> torch.Tensor:
    """Downhill to the right, and infinite past x = 2: a finite point with a non-finite value,
    run_one's third way to diverge, well inside the escape bounds."""
    return -p[..., 0] + p[..., 1] ** 2 + torch.where(p[..., 0] > 2, torch.inf, 0.0)


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_a_non_finite_value_diverges_its_row_at_the_right_step(name):
    domain = ((-5.0, 5.0), (-5.0, 5.0))
    plans = [with_lr(plan_optimizer(OptimizerSpec(name=name)), lr) for lr in (0.05, 0.2, 0.7)]
    starts = [[0.0, 1.0], [1.0, -1.0], [-3.0, 0.5]]
    batch = run_batch(cliff, plans, starts, 20, domain, record_paths=True)
    assert (batch.diverged > 0).sum() >= 2
    assert_batch_equals_lone(batch, cliff, plans, starts, 20, domain)


def test_many_starts_one_lr_and_mixed_settings_per_group():
    """Rows sharing a group, and groups whose settings differ beyond lr: torch fills a group's
    missing keys from the first group, so momentum=0.9 must not leak into a group without it."""
    f = FUNCTIONS.resolve("beale")
    fn = f.load()
    plain = plan_optimizer(OptimizerSpec(name="sgd", lr=1e-3))
    heavy = plan_optimizer(OptimizerSpec.model_validate("sgd:lr=1e-3,momentum=0.9"))
    nesterov = plan_optimizer(OptimizerSpec.model_validate("nesterov:lr=5e-4"))
    plans = [heavy, plain, nesterov, heavy, plain, nesterov]
    batch = run_batch(fn, plans, STARTS, 30, f.domain, record_paths=True)
    assert_batch_equals_lone(batch, fn, plans, STARTS, 30, f.domain)


def test_adam_betas_differ_per_row_and_lookahead_wraps_the_batch():
    f = FUNCTIONS.resolve("himmelblau")
    fn = f.load()
    plans = [plan_optimizer(OptimizerSpec.model_validate(t)) for t in
             ("adam:lr=0.1", "adam:lr=0.1,betas=[0.5,0.9]", "adam:lr=0.05,amsgrad=true")] * 2
    batch = run_batch(fn, plans, STARTS, 30, f.domain, record_paths=True)
    assert_batch_equals_lone(batch, fn, plans, STARTS, 30, f.domain)
    look = plan_optimizer(OptimizerSpec(name="adam", lr=0.1), lookahead=(3, 0.5))
    batch = run_batch(fn, look, STARTS, 20, f.domain, record_paths=True)
    assert_batch_equals_lone(batch, fn, [look] * len(STARTS), STARTS, 20, f.domain)


@pytest.mark.parametrize("function", ["rastrigin", "ackley"])
@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_transcendental_functions_within_1e_6_relative(function, name):
    f = FUNCTIONS.resolve(function)
    fn = f.load()
    lr = 0.05 if name == "adam" else 1e-3
    plan = plan_optimizer(OptimizerSpec(name=name, lr=lr))
    starts = [[0.4 * i - 2.1, 1.7 - 0.3 * i] for i in range(8)]
    batch = run_batch(fn, plan, starts, 25, f.domain, record_paths=True)
    assert_batch_equals_lone(batch, fn, [plan] * 8, starts, 25, f.domain, rtol=1e-6)


def test_float64_and_starts_outside_the_domain():
    """run_one widens the escape bounds around a start far outside the domain; so must the
    batch, row by row."""
    f = FUNCTIONS.resolve("quadratic")
    fn = f.load()
    plan = plan_optimizer(OptimizerSpec(name="sgd", lr=0.05))
    starts = [[4.0, 3.0], [900.0, -800.0], [1e4, 0.5]]
    batch = run_batch(fn, plan, starts, 15, f.domain, dtype="float64", record_paths=True)
    assert (batch.diverged == 0).all()
    for i, start in enumerate(starts):
        points, loss, _ = lone(fn, plan, start, 15, f.domain, dtype=torch.float64)
        np.testing.assert_array_equal(batch.points[:, i], points)
        np.testing.assert_array_equal(batch.loss[:, i], loss)


def test_steps_to_tolerance_is_the_first_step_within_the_threshold():
    f = FUNCTIONS.resolve("quadratic")
    fn = f.load()
    plans = [with_lr(plan_optimizer(OptimizerSpec(name="sgd")), lr)
             for lr in (0.01, 0.06, 0.08, 0.099, 0.2)]
    starts = [[4.0, 3.0]] * len(plans)
    batch = run_batch(fn, plans, starts, 60, f.domain, threshold=1e-4, record_paths=True)
    for i, plan in enumerate(plans):
        _, loss, _ = lone(fn, plan, starts[i], 60, f.domain)
        within = np.flatnonzero(loss <= 1e-4)
        assert batch.steps_to_tol[i] == (within[0] if within.size else -1)
    assert batch.steps_to_tol[-1] == -1 and batch.diverged[-1] > 0
    assert (batch.steps_to_tol[1:3] > 0).all()
    # Without a threshold nothing counts as arrived.
    assert (run_batch(fn, plans, starts, 5, f.domain).steps_to_tol == -1).all()


@pytest.mark.parametrize("name", ["lbfgs", "muon"])
def test_not_elementwise_falls_back_to_lone_runs_with_one_note(name):
    f = FUNCTIONS.resolve("rosenbrock")
    fn = f.load()
    base = plan_optimizer(OptimizerSpec(name=name))
    assert not base.record.elementwise
    plans = [with_lr(base, lr) for lr in (0.01, 0.1, 0.5)]
    starts = STARTS[:3]
    notes: list[str] = []
    ticks: list[tuple[int, int]] = []
    batch = run_batch(fn, plans, starts, 12, f.domain, record_paths=True, notify=notes.append,
                      progress=lambda done, total: ticks.append((done, total)))
    assert not batch.batched
    assert len(notes) == 1 and "not element-wise" in notes[0] and "3 trajectories" in notes[0]
    assert ticks == [(1, 3), (2, 3), (3, 3)]  # one tick per trajectory
    assert_batch_equals_lone(batch, fn, plans, starts, 12, f.domain)


@pytest.mark.parametrize(("name", "lrs"), [("sgd", ELEMENTWISE["sgd"]),
                                         ("lion", ELEMENTWISE["lion"]),
                                         ("lbfgs", [0.1, 0.5, 1.0])])
def test_tail_loss_is_the_worst_of_the_last_losses(name, lrs):
    """The sweep's objective: the largest of the last ``tail`` losses (all of them when tail
    exceeds steps + 1), NaN for a row that diverged; tail 1 is the final loss."""
    f = FUNCTIONS.resolve("rosenbrock")
    fn = f.load()
    plans = [with_lr(plan_optimizer(OptimizerSpec(name=name)), lr) for lr in lrs]
    starts = STARTS[: len(lrs)]  # LBFGS at lr 0.01 takes 20 evaluations a step: not here
    alone = [lone(fn, plan, start, STEPS, f.domain) for plan, start in zip(plans, starts,
                                                                            strict=True)]
    # LBFGS falls back to lone runs (up to 20 evaluations a step): its tails are the two ends,
    # the final loss alone and every loss, where the element-wise ones also take two between.
    for tail in ((1, 100) if name == "lbfgs" else (1, 7, 41, 100)):
        batch = run_batch(fn, plans, starts, STEPS, f.domain, tail=tail)
        for i, (_, loss, diverged) in enumerate(alone):
            if diverged:
                assert np.isnan(batch.tail_loss[i])
            else:
                assert batch.tail_loss[i] == loss[-min(tail, STEPS + 1):].max(), (i, tail)
        if name == "sgd":
            assert np.isnan(batch.tail_loss).any() and not np.isnan(batch.tail_loss).all()
        if tail == 1:
            np.testing.assert_array_equal(batch.tail_loss, batch.final_loss)
    with pytest.raises(BadValueError, match="tail must be at least 1, got 0"):
        run_batch(fn, plans, starts, 3, f.domain, tail=0)


def test_fallback_note_names_the_reason():
    f = FUNCTIONS.resolve("quadratic")
    notes: list[str] = []
    for name in ("lbfgs", "torch.optim.sgd.SGD"):  # a dotted path is a plugin: not batched
        run_batch(f.load(), plan_optimizer(OptimizerSpec(name=name)), [[1.0, 1.0]] * 2, 3,
                  f.domain, notify=notes.append)
    assert notes == [
        "optviz: note: LBFGS is not element-wise (its update mixes coordinates), so the 2 "
        "trajectories run one at a time",
        "optviz: note: SGD is a plugin that does not declare itself element-wise "
        "(optviz_quirks = {'elementwise': True}), so the 2 trajectories run one at a time",
    ]


def test_without_a_hook_the_engine_says_nothing(capsys, caplog):
    """Notes reach a terminal only through the hook the caller passes: the engine itself
    neither prints nor logs."""
    f = FUNCTIONS.resolve("quadratic")
    with caplog.at_level("DEBUG"):
        run_batch(f.load(), plan_optimizer(OptimizerSpec(name="lbfgs")), [[1.0, 1.0]] * 2, 3,
                  f.domain)
    assert caplog.records == []
    assert capsys.readouterr() == ("", "")


def test_progress_ticks_once_per_step():
    f = FUNCTIONS.resolve("quadratic")
    ticks: list[tuple[int, int]] = []
    run_batch(f.load(), plan_optimizer(OptimizerSpec(name="adam")), STARTS, 7, f.domain,
              progress=lambda done, total: ticks.append((done, total)))
    assert ticks == [(k, 7) for k in range(1, 8)]


def test_members_step_in_step_and_each_row_equals_a_lone_run():
    """Three optimizers, each with a param group per lr, their rows interleaved in one batch
    (``members``): one evaluation of the function and one backward per step for all of them,
    and every row still equals its lone run bit for bit, divergent SGD rows included; each
    member's numbers equal its own batch's (steps to tolerance, the tail's worst loss)."""
    f = FUNCTIONS.resolve("rosenbrock")
    fn = f.load()
    chosen = {"adam": [0.01, 0.3, 1.0], "sgd": [1e-3, 5e-3, 2e-2], "rmsprop": [1e-3, 0.03, 0.3]}
    plans, starts, members = [], [], []
    for k in range(3):  # interleaved: adam, sgd, rmsprop, adam, ...
        for m, (name, lrs) in enumerate(chosen.items()):
            plans.append(with_lr(plan_optimizer(OptimizerSpec(name=name)), lrs[k]))
            starts.append(STARTS[(m + 2 * k) % len(STARTS)])
            members.append(m)
    keep = {"record_paths": True, "threshold": 0.5, "tail": 7}
    batch = run_batch(fn, plans, starts, STEPS, f.domain, members=members, **keep)
    assert batch.batched and batch.diverged[members.index(1):].any()
    assert_batch_equals_lone(batch, fn, plans, starts, STEPS, f.domain)
    for m in range(3):
        rows = [i for i, owner in enumerate(members) if owner == m]
        alone = run_batch(fn, [plans[i] for i in rows], [starts[i] for i in rows], STEPS,
                          f.domain, **keep)
        for field in ("steps_to_tol", "tail_loss", "diverged", "final_loss"):
            np.testing.assert_array_equal(getattr(batch, field)[rows], getattr(alone, field),
                                          err_msg=field)


def test_several_functions_see_the_callers_rows_whatever_the_param_groups():
    """Rows 0-1 on booth and 2-3 on the quadratic bowl, at two lrs alternating (two param
    groups, so the stacked order is not the caller's): each function gets its own rows, with
    members or without, and each row equals its lone run on its function."""
    from optviz.engines.rank import _on_their_rows

    booth, bowl = FUNCTIONS.resolve("booth"), FUNCTIONS.resolve("quadratic")
    fn = _on_their_rows([booth.load(), bowl.load()], [2, 2])
    sgd = plan_optimizer(OptimizerSpec(name="sgd"))
    plans = [with_lr(sgd, lr) for lr in (0.01, 0.02, 0.01, 0.02)]
    starts = [[1.0, 2.0], [-2.0, 1.5], [2.0, -1.0], [0.5, 0.5]]
    domains = [booth.domain, booth.domain, bowl.domain, bowl.domain]
    for members in (None, [0, 0, 0, 0], [3, 3, 3, 3]):
        batch = run_batch(fn, plans, starts, 12, booth.domain, record_paths=True,
                          row_domains=domains, members=members)
        for i, f in enumerate((booth, booth, bowl, bowl)):
            points, loss, _ = lone(f.load(), plans[i], starts[i], 12, f.domain)
            np.testing.assert_array_equal(batch.points[:, i], points, err_msg=f"{members} {i}")
            np.testing.assert_array_equal(batch.loss[:, i], loss, err_msg=f"{members} {i}")


def test_members_must_each_be_one_element_wise_optimizer():
    f = FUNCTIONS.resolve("quadratic")
    adam, sgd = (plan_optimizer(OptimizerSpec(name=n)) for n in ("adam", "sgd"))
    lbfgs = plan_optimizer(OptimizerSpec(name="lbfgs"))
    with pytest.raises(BadValueError, match="one member run one optimizer"):
        run_batch(f.load(), [adam, sgd], STARTS[:2], 3, f.domain, members=[0, 0])
    with pytest.raises(BadValueError, match=r"LBFGS \(lr=1\) cannot step in step with other "
                       r"optimizers \(it is not element-wise.*run it in a batch of its own"):
        run_batch(f.load(), [adam, lbfgs], STARTS[:2], 3, f.domain, members=[0, 1])
    with pytest.raises(BadValueError, match="members: 1 for 2 rows; give one per row"):
        run_batch(f.load(), [adam, adam], STARTS[:2], 3, f.domain, members=[0])
    # One member is the plain batch: LBFGS alone falls back to its lone runs as always.
    one = run_batch(f.load(), [lbfgs, lbfgs], STARTS[:2], 3, f.domain, members=[5, 5])
    assert not one.batched


def test_bad_input_is_one_domain_error():
    f = FUNCTIONS.resolve("quadratic")
    plan = plan_optimizer(OptimizerSpec(name="adam"))
    with pytest.raises(BadValueError, match="shaped"):
        run_batch(f.load(), plan, [[1.0, 2.0, 3.0]], 3, f.domain)
    with pytest.raises(BadValueError, match="2 plans for 3 starts"):
        run_batch(f.load(), [plan, plan], STARTS[:3], 3, f.domain)
    with pytest.raises(BadValueError, match="Adam"):  # torch's own check, per group
        run_batch(f.load(), [plan, with_lr(plan, -1.0)], STARTS[:2], 3, f.domain)
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError):
            run_batch(f.load(), plan, STARTS, 3, f.domain, device="cuda")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", ["adam", "sgd", "rmsprop"])
def test_cuda_equals_cpu(name):
    """Different kernels (foreach on CUDA, FMA): equal within 1e-5 on a contracting bowl.
    (Not Lion or Rprop: a sign of a value near 0 may flip on an ulp and move a whole step.)"""
    f = FUNCTIONS.resolve("booth")
    fn = f.load()
    lrs = {"adam": 0.1, "sgd": 0.01, "rmsprop": 0.01}
    plan = plan_optimizer(OptimizerSpec(name=name, lr=lrs[name]))
    starts = np.stack(np.meshgrid(np.linspace(-9, 9, 16), np.linspace(-9, 9, 16)), -1)
    starts = starts.reshape(-1, 2)
    cpu = run_batch(fn, plan, starts, 50, f.domain, record_paths=True)
    gpu = run_batch(fn, plan, starts, 50, f.domain, device="cuda", record_paths=True)
    np.testing.assert_array_equal(gpu.diverged, cpu.diverged)
    np.testing.assert_allclose(gpu.points, cpu.points, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gpu.final_loss, cpu.final_loss, rtol=1e-4, atol=1e-6)


def test_cpu_groups_skip_torchs_device_probe_with_the_same_numbers(monkeypatch):
    """torch resolves ``foreach=None`` at every step by probing the parameters' devices; on
    the CPU that is always its single-tensor loop, so optviz's groups say False up front:
    no probe, the defaults (what figures report) still None, and the numbers of torch's own
    default loop, bit for bit."""
    import torch.optim.adam as adam_module

    f = FUNCTIONS.resolve("rosenbrock")
    fn = f.load()
    plans = [with_lr(plan_optimizer(OptimizerSpec(name="adam")), lr) for lr in (0.01, 0.1)]
    by_hand = []
    for plan, start in zip(plans, STARTS[:2], strict=True):
        x = torch.tensor(start, requires_grad=True)
        opt = torch.optim.Adam([x], lr=plan.kwargs["lr"])
        assert opt.param_groups[0]["foreach"] is None
        path = [x.detach().clone()]
        for _ in range(STEPS):
            opt.zero_grad()
            fn(x).sum().backward()
            opt.step()
            path.append(x.detach().clone())
        by_hand.append(torch.stack(path).numpy())

    def probed(*args, **kwargs):
        raise AssertionError("torch probed the devices")

    monkeypatch.setattr(adam_module, "_default_to_fused_or_foreach", probed)
    built = plans[0].build([torch.zeros(2, requires_grad=True)])
    assert built.param_groups[0]["foreach"] is False and built.defaults["foreach"] is None
    fused = plan_optimizer(OptimizerSpec(name="adam", settings={"fused": True}))
    assert fused.build([torch.zeros(2, requires_grad=True)]).param_groups[0]["foreach"] is None
    # Another library's None may mean another loop (pytorch_optimizer's foreach path, on the
    # CPU too): its groups are left as they are.
    lamb = plan_optimizer(OptimizerSpec(name="pytorch_optimizer.lamb"))
    assert not lamb.record.torch_own
    assert lamb.build([torch.zeros(2, requires_grad=True)]).param_groups[0]["foreach"] is None
    batch = run_batch(fn, plans, STARTS[:2], STEPS, f.domain, record_paths=True)
    for i, start in enumerate(STARTS[:2]):
        np.testing.assert_array_equal(batch.points[:, i], by_hand[i])
        run = run_one(fn, plans[i], torch.tensor(start), STEPS, f.domain)
        np.testing.assert_array_equal(np.array(run.points, dtype=np.float32), by_hand[i])
        assert run.hyperparameters["foreach"] is None
