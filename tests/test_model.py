"""Issue 5: the linear model, schedulers on trajectories, and the optimizer-state panel.
Numbers are checked against least squares, the analytic MSE, hand-written torch loops and the
optimizer's own state_dict()."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from optviz.config import parse_config
from optviz.engines.model import model_surface, pca_plane, project, run_linear
from optviz.figures.trajectory import run_trajectory_spec
from optviz.figures.write import render_figure
from optviz.plan.optimizers import plan_optimizer
from optviz.problems.linear import least_squares, make_data, make_model
from optviz.spec.figures import OptimizerSpec


def _plans(*names: str):
    return [plan_optimizer(OptimizerSpec.model_validate(n)) for n in names]


@pytest.mark.parametrize("name", [
    "sgd:lr=0.1", "momentum:lr=0.05", "nesterov:lr=0.05", "adam:lr=0.05", "rmsprop:lr=0.01",
    "adagrad:lr=0.5", "lbfgs:lr=1", "rprop:lr=0.01", "lion:lr=0.003",
    "adamw:lr=0.05,weight_decay=0",  # its default decay 0.01 pulls the weights off the optimum
    "nadam:lr=0.05", "radam:lr=0.05", "adamax:lr=0.05", "sparse_adam:lr=0.05",
])
def test_converging_optimizers_recover_least_squares(name):
    result = run_linear(_plans(name), in_features=3, samples=64, batch_size=0, epochs=400,
                        noise=0.1, dtype="float64")
    run = result.runs[0]
    theta_star = np.array(result.problem["least_squares"])
    final = np.array(run.weights[-1])  # 4 parameters: drawn on a PCA plane, weights kept
    tol = 2e-2 if name.startswith("lion") else 1e-4  # Lion's fixed-size sign steps dither
    assert np.abs(final - theta_star).max() < tol, (name, final, theta_star)
    assert run.loss[-1] == pytest.approx(result.f_min, rel=1e-2 if "lion" in name else 1e-6)


def test_two_parameter_surface_equals_analytic_mse():
    result = run_linear(_plans("sgd:lr=0.1"), in_features=1, bias=True, samples=50, epochs=3)
    assert result.problem["points_are"] == "weights"
    view = [(-1.0, 2.0), (-1.5, 1.0)]
    surf = model_surface(result, view, resolution=7)
    data = make_data(50, 1, 1, True, 0.1, 0)
    x, y = data.x.double().numpy()[:, 0], data.y.double().numpy()[:, 0]
    for i in (0, 3, 6):
        for j in (0, 2, 5):
            w, b = surf.xs[j], surf.ys[i]
            assert surf.z[i, j] == pytest.approx(np.mean((w * x + b - y) ** 2), rel=1e-9)
    # the same without bias: Linear(2, 1)
    result = run_linear(_plans("sgd:lr=0.1"), in_features=2, bias=False, samples=40, epochs=2)
    surf = model_surface(result, view, resolution=5)
    data = make_data(40, 2, 1, False, 0.1, 0)
    xx, yy = data.x.double().numpy(), data.y.double().numpy()[:, 0]
    w = np.array([surf.xs[1], surf.ys[4]])
    assert surf.z[4, 1] == pytest.approx(np.mean((xx @ w - yy) ** 2), rel=1e-9)


def test_pca_of_a_planar_path_reproduces_it():
    rng = np.random.default_rng(0)
    origin = rng.normal(size=11)
    basis, _ = np.linalg.qr(rng.normal(size=(11, 2)))
    ab = np.cumsum(rng.normal(size=(30, 2)), axis=0)
    path = origin + ab @ basis.T
    o, dirs, ratio = pca_plane([path])
    coords = project(path, o, dirs)
    assert np.allclose(o + coords @ dirs, path, atol=1e-10)
    assert ratio.sum() == pytest.approx(1.0)


def test_pca_plane_of_a_real_run_states_its_variance():
    result = run_linear(_plans("adam:lr=0.05", "sgd:lr=0.05"), epochs=5)
    p = result.problem
    assert p["points_are"] == "pca"
    assert "of variance" in p["axes"][0]
    dirs, origin = np.array(p["directions"]), np.array(p["origin"])
    for run in result.runs:
        w, c = np.array(run.weights), np.array(run.points)
        assert np.allclose(project(w, origin, dirs), c, atol=1e-9)


def _hand_linear(opt_cls, kwargs, sched_cls, sched_kwargs, epochs, batch, samples, seed,
                 per_epoch_sched):
    """The article's training loop written out with the same objects optviz uses."""
    data = make_data(samples, 10, 1, True, 0.1, seed)
    model = make_model(data, True, seed)
    opt = opt_cls(model.parameters(), **kwargs)
    sched = sched_cls(opt, **sched_kwargs)
    gen = torch.Generator().manual_seed(seed)
    lrs, thetas = [], []
    for _ in range(epochs):
        order = torch.randperm(samples, generator=gen)
        for b in range(math.ceil(samples / batch)):
            idx = order[b * batch:(b + 1) * batch]
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(data.x[idx]), data.y[idx]).backward()
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            thetas.append(torch.cat([model.weight.detach().reshape(-1), model.bias.detach()]))
            if not per_epoch_sched:
                sched.step()
        if per_epoch_sched:
            sched.step()
    return lrs, torch.stack(thetas)


@pytest.mark.parametrize("interval", ["step", "epoch"])
def test_model_with_scheduler_equals_hand_loop(interval):
    spec = parse_config(
        "optimizers: [{name: sgd, lr: 0.1, momentum: 0.9}]\nmodel: linear\nepochs: 4\n"
        f"batch_size: 64\nsamples: 256\ninterval: {interval}\n"
        "scheduler: StepLR:step_size=3,gamma=0.5\n", "x.yaml")
    run = run_trajectory_spec(spec).runs[0]
    lrs, thetas = _hand_linear(torch.optim.SGD, {"lr": 0.1, "momentum": 0.9},
                               torch.optim.lr_scheduler.StepLR, {"step_size": 3, "gamma": 0.5},
                               4, 64, 256, 0, interval == "epoch")
    assert run.lr == pytest.approx(lrs, rel=1e-12)
    assert np.allclose(np.array(run.weights[1:]), thetas.double().numpy(), atol=1e-6)


def test_function_with_scheduler_and_state_equals_hand_loop():
    spec = parse_config("optimizers: [adam]\nlr: 0.1\nsteps: 30\nshow_state: true\n"
                        "scheduler: StepLR:step_size=7,gamma=0.5\n", "x.yaml")
    run = run_trajectory_spec(spec).runs[0]
    x = torch.tensor([4.0, 3.0], requires_grad=True)
    opt = torch.optim.Adam([x], lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5)
    lrs, points, m_norm, v_norm, eff = [], [x.tolist()], [], [], []
    for _ in range(30):
        opt.zero_grad()
        (x[0] ** 2 + 10 * x[1] ** 2).backward()
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        points.append(x.tolist())
        st = opt.state_dict()["state"][0]
        m_norm.append(float(st["exp_avg"].norm()))
        v_norm.append(float(st["exp_avg_sq"].norm()))
        t = float(st["step"])
        eff.append(float((opt.param_groups[0]["lr"]
                          / ((st["exp_avg_sq"] / (1 - 0.999**t)).sqrt() + 1e-8)).mean()))
        sched.step()
    assert run.lr == pytest.approx(lrs)
    assert np.allclose(np.array(run.points), np.array(points), atol=1e-6)
    assert run.state["‖exp_avg‖"] == pytest.approx(m_norm, rel=1e-6)
    assert run.state["‖exp_avg_sq‖"] == pytest.approx(v_norm, rel=1e-6)
    # the effective step is read after scheduler.step() in the hand loop's next iteration;
    # optviz reads it right after optimizer.step(), before the scheduler moves the LR
    assert run.state["effective step (mean)"][:6] == pytest.approx(eff[:6], rel=1e-5)


def test_plateau_on_a_trajectory_gets_the_loss():
    spec = parse_config("optimizers: [sgd]\nlr: 0.01\nsteps: 40\nfunction: rastrigin\n"
                        "scheduler: plateau:patience=2,factor=0.5\n", "x.yaml")
    run = run_trajectory_spec(spec).runs[0]
    x = torch.tensor([-2.3, 3.6], requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.01)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=2, factor=0.5)
    from optviz.problems.analytic import rastrigin
    lrs = []
    for _ in range(40):
        opt.zero_grad()
        rastrigin(x).backward()
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        with torch.no_grad():
            sched.step(float(rastrigin(x)))
    assert run.lr == pytest.approx(lrs)
    assert min(lrs) < 0.01  # the plateau did reduce


def test_adagrad_sum_and_momentum_buffer_are_traced():
    spec = parse_config("optimizers: [adagrad, momentum]\nlr: 0.05\nsteps: 5\nshow_state: true\n",
                        "x.yaml")
    runs = run_trajectory_spec(spec).runs
    assert set(runs[0].state) == {"‖sum‖"}
    assert set(runs[1].state) == {"‖momentum_buffer‖"}
    # Adagrad's sum after step 1 is g0², with g0 = (8, 60) at (4, 3)
    assert runs[0].state["‖sum‖"][0] == pytest.approx(math.hypot(64, 3600), rel=1e-6)


def test_model_picture_and_export(tmp_path):
    from matplotlib.image import imread

    from optviz.render.style import colours_for

    spec = parse_config("optimizers: [adam, sgd]\nlr: 0.05\nmodel: linear\nepochs: 3\n"
                        "show_state: true\nscheduler: cosine\n", "x.yaml")
    rendered = render_figure(spec)
    path = tmp_path / "m.png"
    path.write_bytes(rendered.png)
    img = imread(path)[..., :3]
    assert img.shape[0] > 800 and img.shape[1] > 1200
    for colour in colours_for(["adam", "sgd"]):
        rgb = np.array([int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
        assert (np.abs(img - rgb).max(axis=2) < 0.08).sum() > 50, colour
    data = rendered.data
    assert data["problem"]["points_are"] == "pca"
    run = data["runs"][0]
    assert len(run["points"]) == len(run["loss"]) == 3 * 8 + 1
    assert len(run["lr"]) == 24 and len(run["epoch_loss"]) == 3
    assert len(run["weights"][0]) == 11


def test_cli_model_runs(tmp_path):
    from typer.testing import CliRunner

    from optviz.cli import app

    out = tmp_path / "m.json"
    res = CliRunner().invoke(app, ["trajectory", "adam", "sgd", "--model", "linear", "--epochs",
                                   "2", "--lr", "0.05", "-o", str(tmp_path / "m.png"),
                                   "--export", str(out)])
    assert res.exit_code == 0, res.output
    import json

    data = json.loads(out.read_text())
    assert [r["optimizer"] for r in data["runs"]] == ["adam", "sgd"]
    assert least_squares(make_data(), True).shape[0] == len(data["problem"]["least_squares"])


@pytest.mark.parametrize(("text", "message"), [
    ("optimizers: [adam]\nscheduler: {name: StepLR, step_size: abc}\nsteps: 5\n",
     "'step_size' counts scheduler steps"),
    ("optimizers: [adam]\nmodel: linear\nepochs: 2\nscheduler: 'cyclic:base_lr=abc'\n",
     r"CyclicLR \(base_lr=abc.*unsupported operand"),
    ("optimizers: [adam]\nscheduler: 'exponential:gamma=abc'\nsteps: 5\n",
     r"ExponentialLR \(gamma=abc\): a setting has the wrong type"),
])
def test_a_bad_scheduler_setting_on_a_trajectory_is_an_error_not_a_note(text, message):
    from optviz.errors import BadValueError

    with pytest.raises(BadValueError, match=message):
        render_figure(parse_config(text, "x.yaml"))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("in_features", [2, 5])  # the exact surface, and the PCA plane
def test_linear_model_on_cuda_equals_cpu(in_features):
    kw = {"in_features": in_features, "bias": False, "epochs": 3, "samples": 64,
          "batch_size": 16, "dtype": "float64"}
    cpu = run_linear(_plans("sgd:lr=0.05", "adam:lr=0.05"), device="cpu", **kw)
    gpu = run_linear(_plans("sgd:lr=0.05", "adam:lr=0.05"), device="cuda", **kw)
    for a, b in zip(cpu.runs, gpu.runs, strict=True):
        assert np.allclose(np.array(a.points), np.array(b.points), atol=1e-9)
        assert np.allclose(np.array(a.loss, dtype=float), np.array(b.loss, dtype=float),
                           rtol=1e-9)


def test_each_run_may_have_its_own_batch_size():
    """Gradient descent, SGD and mini-batch SGD in one figure: each run equals the same run
    trained alone with that batch size (same data, same initial weights)."""
    text = ("model: linear\nin_features: 1\nsamples: 64\nepochs: 3\ndtype: float64\n"
            "optimizers: ['sgd:lr=0.1,batch_size=0', 'sgd:lr=0.02,batch_size=1',\n"
            "             {name: sgd, lr: 0.1, batch_size: 16}]\n")
    spec = parse_config(text, "x.yaml")
    assert [o.batch_size for o in spec.optimizers] == [0, 1, 16]
    assert all("batch_size" not in o.settings for o in spec.optimizers)
    mixed = run_trajectory_spec(spec)
    assert [r.label for r in mixed.runs] == [
        "SGD (lr=0.1), full batch", "SGD (lr=0.02), batch 1 (SGD)", "SGD (lr=0.1), batch 16"]
    for run, (name, size) in zip(mixed.runs, [("sgd:lr=0.1", 0), ("sgd:lr=0.02", 1),
                                              ("sgd:lr=0.1", 16)], strict=True):
        alone = run_linear(_plans(name), in_features=1, samples=64, epochs=3, batch_size=size,
                           dtype="float64").runs[0]
        assert run.points == alone.points and run.batch_loss == alone.batch_loss
        assert len(run.batch_loss) == 3 * {0: 1, 1: 64, 16: 4}[size]
    # the figure compares them per epoch, so the runs share an axis
    from optviz.render.trajectory import in_epochs

    assert in_epochs(mixed)


def test_batch_size_on_a_test_function_is_refused():
    from optviz.errors import BadValueError

    with pytest.raises(BadValueError) as info:
        parse_config("optimizers: [adam, 'sgd:batch_size=4']\n", "x.yaml")
    assert str(info.value) == (
        "x.yaml:1 optimizers[1].batch_size: only the linear model reads it (a test function "
        "has no data to batch); add model: linear (--model linear), or drop it")
    with pytest.raises(BadValueError, match=r"^x.yaml:4 panels\[1\].optimizers\[0\].batch_size"):
        parse_config("optimizers: [adam]\npanels:\n  - {model: linear, optimizers: "
                     "[{name: sgd, batch_size: 1}]}\n  - {optimizers: [{name: sgd, "
                     "batch_size: 1}]}\n", "x.yaml")


def test_panels_take_the_model_scheduler_and_state(png_pixels):
    """A panels figure of the linear model with a scheduler and --show-state: each panel is
    the overlay spec of its keys, run alone; every cell has its LR and state strips."""
    from matplotlib.colors import to_rgb

    from optviz.render.style import colours_for

    text = ("layout: panels\nmodel: linear\nin_features: 1\nsamples: 64\nepochs: 4\n"
            "dtype: float64\noptimizers: ['sgd:lr=0.1']\nshow_state: true\n"
            "scheduler: 'step:step_size=2,gamma=0.5'\ninterval: epoch\n"
            "panels:\n  - {batch_size: 0}\n  - {batch_size: 8, optimizers: ['momentum:lr=0.05']}\n")
    spec = parse_config(text, "p.yaml")
    rendered = render_figure(spec)
    for i, (size, name) in enumerate([(0, "sgd:lr=0.1"), (8, "momentum:lr=0.05")]):
        alone = parse_config(
            f"model: linear\nin_features: 1\nsamples: 64\nepochs: 4\ndtype: float64\n"
            f"batch_size: {size}\noptimizers: ['{name}']\nshow_state: true\n"
            "scheduler: 'step:step_size=2,gamma=0.5'\ninterval: epoch\n", "a.yaml")
        want = run_trajectory_spec(alone).runs[0]
        got = rendered.result.results[i].runs[0]
        assert got.points == want.points and got.lr == want.lr and got.state == want.state
        # StepLR per epoch: the LR halves every 2 epochs of 1 (full batch) or 8 steps
        per_epoch, lr = {0: (1, 0.1), 8: (8, 0.05)}[size]
        assert got.lr == pytest.approx(
            [lr * 0.5 ** (k // per_epoch // 2) for k in range(4 * per_epoch)], rel=1e-12)
    pixels = png_pixels(rendered.png)
    height = pixels.shape[0]
    momentum = np.array(to_rgb(colours_for(["momentum"])[0])) * 255
    strips = pixels[int(height * 0.62):, pixels.shape[1] // 2:, :3].astype(float)
    # the momentum run's LR and state curves are drawn in its colour below its contour
    assert (np.abs(strips - momentum).max(axis=-1) < 10).sum() > 200


def test_pca_plane_is_the_svd_plane_and_repeats_bit_for_bit():
    """The plane equals numpy's SVD of the centred points (up to sign, which is fixed: the
    largest entry positive), and the same points give the same bits every call (the scatter
    matrix is summed without a threaded BLAS)."""
    from optviz.engines.model import pca_plane

    rng = np.random.default_rng(3)
    paths = [rng.normal(size=(3000, 11)) * np.arange(1, 12) for _ in range(3)]
    origin, dirs, ratio = pca_plane(paths)
    pts = np.concatenate(paths)
    _, sv, vt = np.linalg.svd(pts - pts.mean(axis=0), full_matrices=False)
    signs = np.sign(vt[:2][np.arange(2), np.abs(vt[:2]).argmax(axis=1)])
    np.testing.assert_allclose(dirs, vt[:2] * signs[:, None], atol=1e-12)
    np.testing.assert_allclose(ratio, (sv**2 / (sv**2).sum())[:2], rtol=1e-12)
    np.testing.assert_array_equal(origin, pts.mean(axis=0))
    for _ in range(5):
        again = pca_plane(paths)
        assert all(np.array_equal(a, b) for a, b in zip((origin, dirs, ratio), again,
                                                          strict=True))
    # A path along a line still gets a unit second direction, orthogonal to the first.
    line = [np.outer(np.linspace(0, 1, 20), [1.0, 2.0, 2.0])]
    _, dirs, ratio = pca_plane(line)
    np.testing.assert_allclose(dirs @ dirs.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(np.abs(dirs[0]), [1 / 3, 2 / 3, 2 / 3], atol=1e-12)
    assert ratio[0] == pytest.approx(1.0) and ratio[1] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(("args", "message"), [
    (["--in-features", "3"], "--in-features: only the linear model reads it; add model: linear "
                             "(--model linear), or drop it"),
    (["--no-bias"], "--bias: only the linear model reads it"),
    (["--scheduler", "step", "--interval", "epoch"],
     "--interval: epoch needs the linear model (a test function has no epochs)"),
    (["--model", "linear", "-f", "rosenbrock"],
     "--function: the linear model has no test function; drop it, or drop model: linear"),
    (["--model", "linear", "--steps", "50"],
     "--steps: the linear model trains for epochs (epochs, --epochs), not steps"),
    (["--model", "linear", "--start", "1,2"], "--start: the linear model has no test function"),
])
def test_a_key_the_figure_would_ignore_is_refused(args, message, tmp_path):
    from typer.testing import CliRunner

    from optviz.cli import app

    res = CliRunner().invoke(app, ["trajectory", "adam", *args, "-o", str(tmp_path / "x.png")])
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith(f"optviz: error: {message}") and res.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_ignored_keys_in_configs_name_the_line_and_panels_take_what_they_read():
    with pytest.raises(Exception, match=r"^c.yaml:3 epochs: only the linear model reads it"):
        parse_config("optimizers: [adam]\nsteps: 5\nepochs: 3\n", "c.yaml")
    with pytest.raises(Exception, match=r"^c.yaml:4 panels\[0\].steps: the linear model trains"):
        parse_config("optimizers: [adam]\nmodel: linear\npanels:\n  - {steps: 4}\n", "c.yaml")
    # A figure's key that some panel reads is fine; each panel gets only what it reads.
    spec = parse_config("optimizers: [adam]\nfunction: rosenbrock\nsteps: 7\nepochs: 3\n"
                        "panels:\n  - {}\n  - {model: linear}\n", "c.yaml")
    function_panel, model_panel = spec.panel_specs()
    assert (function_panel.function, function_panel.steps) == ("rosenbrock", 7)
    assert "epochs" not in function_panel.model_fields_set
    assert (model_panel.model, model_panel.epochs) == ("linear", 3)
    assert not {"function", "steps"} & model_panel.model_fields_set
    with pytest.raises(Exception, match=r"^c.yaml:2 epochs: only the linear model"):
        parse_config("optimizers: [adam]\nepochs: 3\npanels:\n  - {}\n  - {}\n", "c.yaml")


def test_a_one_weight_model_is_refused_and_two_weights_draw():
    with pytest.raises(Exception, match=r"^c.yaml:2 model: Linear\(1→1\) without a bias has "
                                        r"one weight"):
        parse_config("optimizers: [adam]\nmodel: linear\nin_features: 1\nbias: false\n",
                     "c.yaml")
    spec = parse_config("optimizers: ['adam:lr=0.1']\nmodel: linear\nin_features: 1\n"
                        "out_features: 2\nbias: false\nepochs: 2\n", "c.yaml")
    result = run_trajectory_spec(spec)
    assert result.problem["points_are"] == "weights" and result.dim == 2
