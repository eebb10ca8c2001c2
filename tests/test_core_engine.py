"""Engine numbers: optviz's paths against the hand-written optimizers of the article, closed
forms, and torch's own optimizers run by hand; the exports carry those same numbers."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest
import torch

from optviz.engines.single import ESCAPE_FACTOR, run_trajectory
from optviz.export.data import to_csv, to_json
from optviz.plan.optimizers import plan_optimizer
from optviz.registry import FUNCTIONS, OPTIMIZERS
from optviz.results import Run, TrajectoryResult
from optviz.spec.figures import OptimizerSpec

STEPS = 100  # the article's MAX_ITER
START = (4.0, 3.0)


def _plan(token: str, **kw):
    return plan_optimizer(OptimizerSpec.model_validate(token), **kw)


def _points(run: Run) -> np.ndarray:
    return np.array(run.points, dtype=float)  # None -> nan


# ---------------------------------------------------------------- the article's optimizers
# Written again as in the article (f = x1² + 10·x2², start (4, 3), 100 iterations), in float64
# so that a difference of formula is not hidden by float32 rounding.


def fun(x):
    return x[0] ** 2 + 10 * x[1] ** 2


class GD:
    def __init__(self, x, lr=0.01):
        self.x, self.lr = x, lr

    def step(self):
        with torch.no_grad():
            self.x -= self.lr * self.x.grad


class MomentumGD:
    def __init__(self, x, lr=0.01, momentum=0.9):
        self.x, self.lr, self.momentum = x, lr, momentum
        self.v = torch.zeros_like(x)

    def step(self):
        with torch.no_grad():
            self.v = self.momentum * self.v + self.x.grad
            self.x -= self.lr * self.v


class NesterovGD:
    def __init__(self, x, lr=0.01, momentum=0.9):
        self.x, self.lr, self.momentum = x, lr, momentum
        self.v = torch.zeros_like(x)

    def step(self):
        with torch.no_grad():
            self.v = self.momentum * self.v + self.x.grad
            self.x -= self.lr * (self.x.grad + self.momentum * self.v)


class AdaGrad:
    """The article's full listing: eps inside the root, sqrt(h + eps), eps = 1e-8."""

    def __init__(self, x, lr=0.01, eps=1e-8):
        self.x, self.lr, self.eps = x, lr, eps
        self.h = torch.zeros_like(x)

    def step(self):
        with torch.no_grad():
            self.h += self.x.grad**2
            self.x -= self.lr * self.x.grad / (self.h + self.eps) ** 0.5


class AdaGradSnippet:
    """The article's prose snippet, sqrt(h) + eps, which is torch's formula. ``h0`` plays
    torch's ``initial_accumulator_value`` (0 by default, like the article's zeros)."""

    def __init__(self, x, lr=0.01, eps=1e-8, h0=0.0):
        self.x, self.lr, self.eps = x, lr, eps
        self.h = torch.full_like(x, h0)

    def step(self):
        with torch.no_grad():
            self.h += self.x.grad**2
            self.x -= self.lr * self.x.grad / (self.h**0.5 + self.eps)


class RMSProp:
    """The article's listing: alpha = 0.9 and eps inside the root, sqrt(h + eps)."""

    def __init__(self, x, lr=0.01, alpha=0.9, eps=1e-8):
        self.x, self.lr, self.alpha, self.eps = x, lr, alpha, eps
        self.h = torch.zeros_like(x)

    def step(self):
        with torch.no_grad():
            self.h = self.alpha * self.h + (1 - self.alpha) * self.x.grad**2
            self.x -= self.lr * self.x.grad / (self.h + self.eps) ** 0.5


class RMSPropTorchForm:
    """torch.optim.RMSprop's formula (centered=False, momentum=0): sqrt(h) + eps."""

    def __init__(self, x, lr=0.01, alpha=0.99, eps=1e-8):
        self.x, self.lr, self.alpha, self.eps = x, lr, alpha, eps
        self.h = torch.zeros_like(x)

    def step(self):
        with torch.no_grad():
            self.h = self.alpha * self.h + (1 - self.alpha) * self.x.grad**2
            self.x -= self.lr * self.x.grad / (self.h.sqrt() + self.eps)


class Adam:
    def __init__(self, x, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
        self.x, self.lr, self.beta1, self.beta2, self.eps = x, lr, beta1, beta2, eps
        self.v = torch.zeros_like(x)
        self.h = torch.zeros_like(x)
        self.t = 0

    def step(self):
        self.t += 1
        with torch.no_grad():
            self.v = self.beta1 * self.v + (1 - self.beta1) * self.x.grad
            self.h = self.beta2 * self.h + (1 - self.beta2) * self.x.grad**2
            v_hat = self.v / (1 - self.beta1**self.t)
            h_hat = self.h / (1 - self.beta2**self.t)
            self.x -= self.lr * v_hat / (h_hat.sqrt() + self.eps)


def article_path(make, steps: int = STEPS) -> np.ndarray:
    """The article's test loop; the start is kept as row 0, like optviz's points."""
    x = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = make(x)
    rows = [x.detach().clone()]
    for _ in range(steps):
        fun(x).backward()
        opt.step()
        x.grad.zero_()
        rows.append(x.detach().clone())
    return torch.stack(rows).numpy()


ARTICLE_TOKENS = (
    "gd:lr=0.1", "gd:lr=0.01", "momentum:lr=0.01", "nesterov:lr=0.01", "adam:lr=0.1",
    "adagrad:lr=0.1", "adagrad:lr=0.1,eps=1e-8", "adagrad:lr=0.1,initial_accumulator_value=1",
    "rmsprop:lr=0.1", "rmsprop:lr=0.1,alpha=0.9",
)


@pytest.fixture(scope="module")
def optviz_paths() -> dict[str, np.ndarray]:
    """optviz's paths for the article's panels (and the settings that bridge the gaps)."""
    result = run_trajectory(FUNCTIONS.resolve("quadratic"), [_plan(t) for t in ARTICLE_TOKENS],
                            steps=STEPS, dtype="float64")
    assert result.start == list(START)
    out = {}
    for token, run in zip(ARTICLE_TOKENS, result.runs, strict=True):
        assert run.diverged is None, token
        assert len(run.points) == len(run.loss) == STEPS + 1
        out[token] = _points(run)
    return out


@pytest.mark.parametrize(
    ("token", "make"),
    [
        ("gd:lr=0.1", lambda x: GD(x, lr=0.1)),
        ("gd:lr=0.01", lambda x: GD(x, lr=0.01)),
        ("momentum:lr=0.01", lambda x: MomentumGD(x, lr=0.01)),
        ("nesterov:lr=0.01", lambda x: NesterovGD(x, lr=0.01)),
        ("adam:lr=0.1", lambda x: Adam(x, lr=0.1)),
    ],
    ids=["GD-0.1", "GD-0.01", "MomentumGD", "NesterovGD", "Adam"],
)
def test_article_optimizers_with_torchs_formulas(optviz_paths, token, make):
    # torch's SGD starts its momentum buffer at the first gradient, which equals the article's
    # v = 0.9·0 + g; its Nesterov step g + μ·v is the article's; Adam's bias corrections are
    # folded differently in torch but are algebraically the article's.
    np.testing.assert_allclose(optviz_paths[token], article_path(make), rtol=0, atol=1e-6)


def test_article_panels_are_distinct(optviz_paths):
    # The comparisons above have teeth: the panels differ by far more than 1e-6.
    ends = [optviz_paths[t][-1] for t in ("gd:lr=0.01", "momentum:lr=0.01", "nesterov:lr=0.01")]
    assert np.abs(ends[0] - ends[1]).max() > 0.1
    assert np.abs(ends[1] - ends[2]).max() > 1e-3


def test_gd_lr_0_1_closed_form(optviz_paths):
    # x_{k+1} = x_k − 0.1·2x_k = 0.8 x_k and y_{k+1} = y_k − 0.1·20 y_k = −y_k: the article's
    # "too large" panel, where y bounces between 3 and −3 for ever.
    k = np.arange(STEPS + 1)
    expected = np.stack([4.0 * 0.8**k, 3.0 * (-1.0) ** k], axis=1)
    np.testing.assert_allclose(optviz_paths["gd:lr=0.1"], expected, rtol=1e-12, atol=1e-12)


def test_adagrad_against_the_article(optviz_paths):
    # The article differs from torch.optim.Adagrad in two ways:
    #   * its full listing divides by sqrt(h + eps) (eps inside the root, eps = 1e-8), while its
    #     prose snippet and torch divide by sqrt(h) + eps;
    #   * torch's default eps is 1e-10, not 1e-8.
    # torch's initial_accumulator_value (default 0) is the article's h = zeros, and torch's
    # lr_decay (default 0) keeps the step size constant, as in the article.
    torch_default = article_path(lambda x: AdaGradSnippet(x, lr=0.1, eps=1e-10))
    np.testing.assert_allclose(optviz_paths["adagrad:lr=0.1"], torch_default, rtol=0, atol=1e-12)
    # With eps = 1e-8, optviz is exactly the article's snippet.
    snippet = article_path(lambda x: AdaGradSnippet(x, lr=0.1, eps=1e-8))
    np.testing.assert_allclose(optviz_paths["adagrad:lr=0.1,eps=1e-8"], snippet, rtol=0,
                               atol=1e-12)
    # initial_accumulator_value is the starting h.
    h0 = article_path(lambda x: AdaGradSnippet(x, lr=0.1, eps=1e-10, h0=1.0))
    np.testing.assert_allclose(optviz_paths["adagrad:lr=0.1,initial_accumulator_value=1"], h0,
                               rtol=0, atol=1e-12)
    # The full listing's formula: close (h grows to hundreds, so 1e-8 inside the root barely
    # matters) but measurably not the same path.
    listing = article_path(lambda x: AdaGrad(x, lr=0.1))
    for token in ("adagrad:lr=0.1", "adagrad:lr=0.1,eps=1e-8"):
        gap = np.abs(optviz_paths[token] - listing).max()
        assert 1e-13 < gap < 1e-8, (token, gap)


def test_rmsprop_against_the_article(optviz_paths):
    # The article's RMSProp uses alpha = 0.9 and sqrt(h + eps); torch.optim.RMSprop defaults to
    # alpha = 0.99 and divides by sqrt(h) + eps (eps = 1e-8 in both).
    np.testing.assert_allclose(
        optviz_paths["rmsprop:lr=0.1,alpha=0.9"],
        article_path(lambda x: RMSPropTorchForm(x, lr=0.1, alpha=0.9)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        optviz_paths["rmsprop:lr=0.1"],
        article_path(lambda x: RMSPropTorchForm(x, lr=0.1, alpha=0.99)), rtol=0, atol=1e-12)
    article = article_path(lambda x: RMSProp(x, lr=0.1))
    # With the article's alpha, only the eps placement differs: the paths agree to 1e-7 but
    # not exactly (the gap shows where h is tiny, near the minimum).
    gap = np.abs(optviz_paths["rmsprop:lr=0.1,alpha=0.9"] - article).max()
    assert 1e-11 < gap < 1e-7, gap
    # With torch's default alpha, the path is a different one: it does not redraw the
    # article's panel.
    assert np.abs(optviz_paths["rmsprop:lr=0.1"] - article).max() > 0.1


# ---------------------------------------------------------------- 4x², the torch.optim article


@pytest.fixture(scope="module")
def parabola_runs() -> dict[str, dict[str, Run]]:
    parabola = FUNCTIONS.resolve("parabola")
    plans = [_plan("sgd:lr=0.125"), _plan("sgd:lr=0.2"), _plan("sgd:lr=1")]
    out = {}
    for dtype in ("float32", "float64"):
        result = run_trajectory(parabola, plans, steps=30, dtype=dtype)
        assert result.start == [2.0]
        out[dtype] = dict(zip(("0.125", "0.2", "1"), result.runs, strict=True))
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parabola_lr_0_125_reaches_zero_in_one_step(parabola_runs, dtype):
    run = parabola_runs[dtype]["0.125"]
    # f' = 8x, so x1 = 2 − 0.125·16 = 0 exactly, and then it stays there.
    assert run.points[0] == [2.0]
    assert run.loss[0] == 16.0
    assert run.points[1:] == [[0.0]] * 30
    assert run.loss[1:] == [0.0] * 30
    assert run.diverged is None


def test_parabola_lr_0_2_closed_form(parabola_runs):
    run = parabola_runs["float64"]["0.2"]
    k = np.arange(31)
    expected = 2.0 * (1 - 8 * 0.2) ** k  # x_k = x0·(1 − 8·lr)^k, |1 − 1.6| < 1: converges
    np.testing.assert_allclose(_points(run)[:, 0], expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(run.loss, 4 * expected**2, rtol=1e-12, atol=1e-15)
    assert run.diverged is None
    assert abs(run.points[-1][0]) < 1e-6
    run32 = parabola_runs["float32"]["0.2"]
    np.testing.assert_allclose(_points(run32)[:, 0], expected, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parabola_lr_1_diverges_and_is_reported(parabola_runs, dtype):
    run = parabola_runs[dtype]["1"]
    # x_{k+1} = x_k − 8x_k = −7x_k; the run diverges at the first point farther from the
    # domain's centre (0) than ESCAPE_FACTOR half-widths (3 each). Its points go on, finite,
    # until the arithmetic overflows: null only where not finite, as the export promises.
    xs = [2.0 * (-7.0) ** k for k in range(31)]  # exact in binary until float32 rounds them
    k_div = next(k for k, x in enumerate(xs) if abs(x) > ESCAPE_FACTOR * 3.0)
    x, by_hand = torch.tensor(2.0, dtype=getattr(torch, dtype)), []
    for _ in range(31):  # the same iteration in the run's dtype
        by_hand.append((x.item(), (4 * x * x).item()))
        x = x - 1.0 * (8 * x)
    k_inf = next((k for k, (_, f) in enumerate(by_hand) if not math.isfinite(f)), 31)
    assert k_inf == (23 if dtype == "float32" else 31)  # 4x² overflows float32 at 7^23
    xs = [p for p, _ in by_hand]
    assert type(run.diverged) is int
    assert run.diverged == k_div == 3
    assert len(run.points) == len(run.loss) == 31
    assert run.points[:k_inf] == [[x] for x in xs[:k_inf]]
    assert run.loss[:k_inf] == [f for _, f in by_hand[:k_inf]]
    assert run.points[k_inf:] == [[None]] * (31 - k_inf)
    assert run.loss[k_inf:] == [None] * (31 - k_inf)
    # The picture stops where the run left: the drawn run is cut at k_div.
    drawn = run.drawn()
    assert drawn.points == [[x] for x in xs[:k_div]] + [[None]] * (31 - k_div)
    assert drawn.loss == [f for _, f in by_hand[:k_div]] + [None] * (31 - k_div)


def test_overflow_is_reported_as_divergence():
    # A step so large that float32 overflows: the point is inf, not merely far away.
    result = run_trajectory(FUNCTIONS.resolve("quadratic"), [_plan("gd:lr=1e38")], steps=5)
    run = result.runs[0]
    assert run.diverged == 1
    assert run.points == [[4.0, 3.0]] + [[None, None]] * 5
    assert run.loss == [4.0**2 + 10 * 3.0**2] + [None] * 5


# ---------------------------------------------------------------- every optimizer, every function

@pytest.mark.parametrize("function", FUNCTIONS.names())  # every 2-D function, and the 1-D one
def test_every_optimizer_runs_on_every_function(function):
    rec = FUNCTIONS.resolve(function)
    names = OPTIMIZERS.names()
    result = run_trajectory(rec, [_plan(n) for n in names], steps=20)
    fn = rec.load()
    assert [r.optimizer for r in result.runs] == names
    for name, run in zip(names, result.runs, strict=True):
        assert len(run.points) == len(run.loss) == 21, name
        assert all(len(p) == rec.dim for p in run.points), name
        assert run.points[0] == pytest.approx(list(rec.start), rel=1e-6)
        k = 21 if run.diverged is None else run.diverged
        if run.diverged is not None:
            assert type(run.diverged) is int and 1 <= run.diverged <= 20, name
            drawn = run.drawn()
            assert drawn.points[k:] == [[None] * rec.dim] * (21 - k), name
            assert drawn.loss[k:] == [None] * (21 - k), name
            # After it left: finite values, then only nulls once anything is not finite.
            kept = [p is not None and all(v is not None for v in p) for p in run.points]
            assert kept == sorted(kept, reverse=True), name
            assert [v is not None for v in run.loss] == kept, name
        pts = np.array(run.points[:k], dtype=float)
        assert np.isfinite(pts).all(), name
        # The loss is f at the stored point (evaluated in float32, like the run).
        values = fn(torch.tensor(pts, dtype=torch.float32)).double().numpy()
        np.testing.assert_allclose(run.loss[:k], values, rtol=1e-5, atol=1e-6, err_msg=name)
        if run.diverged is None:
            assert pts[1:].tolist() != [pts[0].tolist()] * 20, f"{name} never moved"
    assert sum(r.diverged is None for r in result.runs) >= len(names) // 2


# ---------------------------------------------------------------- quirks against torch by hand


def _by_hand(cls, shape, steps, *, sparse=False, closure=False, **kwargs) -> np.ndarray:
    fn = FUNCTIONS.resolve("quadratic").load()
    x = torch.tensor(START, dtype=torch.float64).reshape(shape).requires_grad_(True)
    opt = cls([x], **kwargs)
    rows = [x.detach().reshape(-1).clone()]

    def loss_closure():
        opt.zero_grad()
        loss = fn(x).sum()
        loss.backward()
        if sparse:
            x.grad = x.grad.to_sparse()
        return loss

    for _ in range(steps):
        if closure:
            opt.step(loss_closure)
        else:
            loss_closure()
            opt.step()
        rows.append(x.detach().reshape(-1).clone())
    return torch.stack(rows).numpy()


@pytest.fixture(scope="module")
def quirk_runs() -> dict[str, Run]:
    tokens = ("muon:lr=0.1", "sparse_adam:lr=0.1", "lbfgs:lr=0.5", "lbfgs")
    result = run_trajectory(FUNCTIONS.resolve("quadratic"), [_plan(t) for t in tokens], steps=10,
                            dtype="float64")
    return dict(zip(tokens, result.runs, strict=True))


def test_muon_runs_as_a_1xd_matrix(quirk_runs):
    with pytest.raises(ValueError, match="2D"):  # why optviz adapts: Muon refuses a vector
        torch.optim.Muon([torch.zeros(2, requires_grad=True)])
    run = quirk_runs["muon:lr=0.1"]
    expected = _by_hand(torch.optim.Muon, (1, 2), 10, lr=0.1)
    np.testing.assert_allclose(_points(run), expected, rtol=0, atol=1e-12)
    assert np.abs(expected[-1] - expected[0]).max() > 0.1  # it did move
    assert OPTIMIZERS.resolve("muon").matrix_param
    assert run.diverged is None
    assert all(len(p) == 2 for p in run.points)


def test_muon_point_is_exported_as_x_y(quirk_runs):
    result = TrajectoryResult(function="quadratic", formula="", domain=[[-5, 5], [-5, 5]],
                              minima=[], f_min=0.0, log_levels=False, start=list(START),
                              steps=10, device="cpu", dtype="float64", seed=0,
                              runs=[quirk_runs["muon:lr=0.1"]])
    data = json.loads(to_json(result))
    points = data["runs"][0]["points"]
    assert all(isinstance(p, list) and len(p) == 2 for p in points)
    assert points == quirk_runs["muon:lr=0.1"].points
    header, *rows = list(csv.reader(io.StringIO(to_csv(result))))
    assert header[4:6] == ["x", "y"]
    assert float(rows[3][4]) == points[3][0] and float(rows[3][5]) == points[3][1]


def test_sparse_adam_gets_sparse_gradients(quirk_runs):
    x = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SparseAdam([x])
    x.pow(2).sum().add(x.sum()).backward()
    with pytest.raises(RuntimeError, match="dense"):  # why optviz converts the gradient
        opt.step()
    expected = _by_hand(torch.optim.SparseAdam, (2,), 10, sparse=True, lr=0.1)
    np.testing.assert_allclose(_points(quirk_runs["sparse_adam:lr=0.1"]), expected, rtol=0,
                               atol=1e-12)
    assert np.abs(expected[1] - expected[0]).max() == pytest.approx(0.1)  # Adam's first step


@pytest.mark.parametrize(("token", "kwargs"), [("lbfgs:lr=0.5", {"lr": 0.5}), ("lbfgs", {})])
def test_lbfgs_with_closure_equals_torch(quirk_runs, token, kwargs):
    expected = _by_hand(torch.optim.LBFGS, (2,), 10, closure=True, **kwargs)
    np.testing.assert_allclose(_points(quirk_runs[token]), expected, rtol=0, atol=1e-12)
    # One LBFGS step runs up to 20 inner iterations: on a quadratic it lands near the minimum.
    assert np.abs(expected[1]).max() < 1e-3


# ---------------------------------------------------------------- export


@pytest.fixture(scope="module")
def export_result() -> TrajectoryResult:
    # gd lr 0.2 on x² + 10y²: x_k = 4·0.6^k, y_k = 3·(−3)^k, which escapes.
    plans = [_plan("adam:lr=0.1"), _plan("gd:lr=0.2")]
    return run_trajectory(FUNCTIONS.resolve("quadratic"), plans, steps=8)


def _escape_step_quadratic_gd02() -> int:
    return next(k for k in range(100) if abs(3.0 * (-3.0) ** k) > ESCAPE_FACTOR * 5.0)


def _no_constants(name):
    raise AssertionError(f"JSON holds {name}")


def test_json_export_schema_and_values(export_result):
    data = json.loads(to_json(export_result), parse_constant=_no_constants)
    assert data["kind"] == "trajectory"
    assert data["function"] == "quadratic"
    assert data["steps"] == 8
    assert data["start"] == [4.0, 3.0]
    adam, gd = data["runs"]
    for run in (adam, gd):
        assert {"label", "optimizer", "hyperparameters", "points", "loss"} <= set(run)
        assert len(run["points"]) == len(run["loss"]) == 9
    assert (adam["optimizer"], gd["optimizer"]) == ("adam", "gd")
    assert adam["label"] == "Adam (lr=0.1)"
    assert adam["hyperparameters"]["lr"] == 0.1
    assert adam["hyperparameters"]["betas"] == [0.9, 0.999]
    assert gd["hyperparameters"]["lr"] == 0.2
    assert gd["hyperparameters"]["momentum"] == 0
    assert gd["hyperparameters"]["nesterov"] is False
    assert "diverged" not in adam
    k_div = _escape_step_quadratic_gd02()
    assert gd["diverged"] == k_div
    # The run keeps its length and its finite points past the divergence (null only where not
    # finite; here nothing overflows in 8 steps): x_k = 4·0.6^k, y_k = 3·(−3)^k.
    assert k_div < 9
    for k in range(9):
        assert gd["points"][k] == pytest.approx([4 * 0.6**k, 3 * (-3.0) ** k], rel=1e-6)
        x, y = gd["points"][k]
        assert gd["loss"][k] == pytest.approx(x * x + 10 * y * y, rel=1e-6)
    # The first Adam step is lr·sign(g) (bias-corrected m/sqrt(v) = ±1).
    assert adam["points"][1] == pytest.approx([3.9, 2.9], abs=1e-6)


def test_json_export_round_trips(export_result):
    data = json.loads(to_json(export_result))
    body = {k: v for k, v in data.items() if k not in ("kind", "runs")}
    again = TrajectoryResult(**body, runs=[Run(**r) for r in data["runs"]])
    assert again.to_dict() == data
    assert again.runs[1].diverged == _escape_step_quadratic_gd02()


def test_csv_export_one_row_per_run_and_step(export_result):
    rows = list(csv.DictReader(io.StringIO(to_csv(export_result))))
    assert len(rows) == 2 * 9
    assert list(rows[0]) == ["run", "label", "optimizer", "step", "x", "y", "loss", "diverged"]
    k_div = _escape_step_quadratic_gd02()
    for row in rows:
        i, step = int(row["run"]), int(row["step"])
        run = export_result.runs[i]
        assert row["optimizer"] == run.optimizer and row["label"] == run.label
        point, loss = run.points[step], run.loss[step]
        if point[0] is None:
            assert (row["x"], row["y"], row["loss"]) == ("", "", "")
            assert step >= k_div
        else:
            assert [float(row["x"]), float(row["y"])] == point  # repr round-trips exactly
            assert float(row["loss"]) == loss
        assert row["diverged"] == ("" if run.diverged is None else str(run.diverged))
    assert [int(r["step"]) for r in rows] == list(range(9)) * 2


def test_csv_export_1d_has_no_y_column(parabola_runs):
    result = TrajectoryResult(function="parabola", formula="4x²", domain=[[-3, 3]],
                              minima=[[0.0]], f_min=0.0, log_levels=False, start=[2.0],
                              steps=30, device="cpu", dtype="float64", seed=0,
                              runs=[parabola_runs["float64"]["0.2"]])
    header, *rows = list(csv.reader(io.StringIO(to_csv(result))))
    assert header == ["run", "label", "optimizer", "step", "x", "loss", "diverged"]
    assert len(rows) == 31
    assert float(rows[2][4]) == pytest.approx(2.0 * 0.36)
    assert float(rows[2][5]) == pytest.approx(4 * (2.0 * 0.36) ** 2)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_start_is_refused_before_anything_is_written(tmp_path, bad):
    # The CLI's --start parser refuses nan/inf, but a YAML config reaches the spec directly
    # ("start: [.nan, 1]"): the spec must refuse it too, as a one-line bad value, not let the
    # PNG be written and then fail in json.dumps.
    from optviz.errors import BadValueError
    from optviz.figures.write import write_figure
    from optviz.spec.figures import TrajectorySpec, build

    with pytest.raises(BadValueError, match="start"):
        spec = build(TrajectorySpec, {"optimizers": ["adam"], "start": [bad, 1.0], "steps": 3,
                                      "output": str(tmp_path / "x.png"),
                                      "export": str(tmp_path / "x.json")})
        write_figure(spec)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- device


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("function", ["quadratic", "rosenbrock", "parabola"])
def test_cuda_equals_cpu(function):
    rec = FUNCTIONS.resolve(function)
    tokens = ["gd:lr=0.01", "momentum:lr=0.01", "nesterov:lr=0.01", "adam:lr=0.01",
              "adamw:lr=0.01", "rmsprop:lr=0.01", "adagrad:lr=0.1"]
    plans = [_plan(t) for t in tokens]
    cpu = run_trajectory(rec, plans, steps=100, device="cpu")
    gpu = run_trajectory(rec, plans, steps=100, device="cuda")
    assert gpu.device.startswith("cuda")
    for token, a, b in zip(tokens, cpu.runs, gpu.runs, strict=True):
        assert a.diverged == b.diverged, token
        np.testing.assert_allclose(_points(b), _points(a), rtol=1e-5, atol=1e-5, err_msg=token)
        np.testing.assert_allclose(np.array(b.loss, dtype=float), np.array(a.loss, dtype=float),
                                   rtol=1e-5, atol=1e-5, err_msg=token)


def test_reported_start_and_dtype():
    result = run_trajectory(FUNCTIONS.resolve("quadratic"), [_plan("gd:lr=0.01")],
                            start=[1.0, -2.0], steps=3, dtype="float64")
    assert result.start == [1.0, -2.0]
    assert result.dtype == "float64" and result.device == "cpu"
    # x_k = 0.98^k, y_k = −2·0.8^k
    expected = [[0.98**k, -2.0 * 0.8**k] for k in range(4)]
    np.testing.assert_allclose(_points(result.runs[0]), expected, rtol=1e-12)
    assert math.isclose(result.runs[0].loss[3], 0.98**6 + 10 * 4 * 0.8**6, rel_tol=1e-12)


@pytest.mark.parametrize(("common", "setting", "flag"), [
    ({"momentm": 0.9}, "setting 'momentm' is not a setting of SGD; did you mean 'momentum'?",
     "--momentm is not a setting of SGD; did you mean 'momentum'?"),
    ({"betas": [0.9, 0.99]}, "setting 'betas' does not apply to SGD, which takes: lr,",
     "--betas does not apply to SGD, which takes: lr,"),
])
def test_plan_errors_name_the_setting_and_the_cli_words_the_flag(common, setting, flag):
    from optviz.errors import CallSettingError

    with pytest.raises(CallSettingError) as info:
        plan_optimizer(OptimizerSpec(name="sgd"), lr=0.1, common=common)
    assert str(info.value).startswith(setting)
    assert "--" not in str(info.value)
    assert info.value.key == next(iter(common))
    assert info.value.flag_text().startswith(flag)


def _counted(fn):
    calls = []

    def counting(x: torch.Tensor) -> torch.Tensor:
        calls.append(torch.is_grad_enabled())
        return fn(x)

    return counting, calls


@pytest.mark.parametrize("token", ["adam:lr=0.05", "sgd:lr=0.0005,momentum=0.9",
                                   "rmsprop:lr=0.01"])
def test_a_lone_run_evaluates_each_point_once_and_steps_as_torchs_loop(token):
    """Each point's loss is evaluated once, with its graph, and is also what the next step
    back-propagates: the same path and losses as torch's own loop (zero_grad, loss, backward,
    step, then the new point's loss), bit for bit, with steps + 1 evaluations, not 2·steps + 1."""
    from optviz.engines.single import run_one

    f = FUNCTIONS.resolve("rosenbrock")
    fn, calls = _counted(f.load())
    plan = _plan(token)
    run = run_one(fn, plan, torch.tensor([-1.5, 2.0]), 30, f.domain)
    assert len(calls) == 31 and calls[:-1] == [True] * 30 and calls[-1] is False
    x = torch.tensor([-1.5, 2.0], requires_grad=True)
    opt = plan.factory([x], **plan.kwargs)
    points, losses = [x.tolist()], [f.load()(x).sum().item()]
    for _ in range(30):
        opt.zero_grad()
        f.load()(x).sum().backward()
        opt.step()
        points.append(x.tolist())
        with torch.no_grad():
            losses.append(f.load()(x).sum().item())
    assert run.points == points and run.loss == losses


def test_lbfgs_evaluates_its_own_closure_and_a_plugins_zero_grad_is_called(
        tmp_path, monkeypatch):
    from optviz.engines.single import run_one

    f = FUNCTIONS.resolve("quadratic")
    fn, calls = _counted(f.load())
    run = run_one(fn, _plan("lbfgs:lr=0.5"), torch.tensor([4.0, 3.0]), 3, f.domain)
    assert len(calls) > 2 * 3 + 1  # its closure, up to 20 times a step
    assert run.loss[-1] < run.loss[0]
    # Only torch.optim's own classes have their gradients cleared by hand.
    assert OPTIMIZERS.resolve("adam").plain_zero_grad
    (tmp_path / "optviz_t_counting.py").write_text(
        "import torch\nCLEARED = []\n"
        "class SGD(torch.optim.SGD):\n"
        "    def zero_grad(self, set_to_none=True):\n"
        "        CLEARED.append(1)\n"
        "        super().zero_grad(set_to_none)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    plugin = plan_optimizer(OptimizerSpec(name="optviz_t_counting.SGD", lr=0.01))
    assert not plugin.record.plain_zero_grad
    run_one(f.load(), plugin, torch.tensor([4.0, 3.0]), 5, f.domain)
    import optviz_t_counting

    assert len(optviz_t_counting.CLEARED) == 5
