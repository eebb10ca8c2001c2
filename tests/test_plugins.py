"""Issue 6: Lion, Lookahead, the article's optimizers as a plugin, dotted paths, entry points,
pytorch_optimizer. Every path is checked against torch, a reference package or a hand-written
formula."""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path

import pytest
import torch
from forked import run_optviz

from optviz.engines.single import run_trajectory
from optviz.errors import UnknownNameError, UnsupportedError
from optviz.optim import Lion, Lookahead
from optviz.plan.optimizers import plan_optimizer
from optviz.registry import FUNCTIONS, OPTIMIZERS
from optviz.spec.figures import OptimizerSpec

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "plugins_data"
EXAMPLES = ROOT / "examples" / "handwritten_optim"
QUAD = FUNCTIONS.resolve("quadratic")


def _grad_quadratic(p: torch.Tensor) -> torch.Tensor:
    return torch.stack([2 * p[0], 20 * p[1]])


def _run(name: str, steps: int = 30, **kw) -> list[list[float]]:
    plan = plan_optimizer(OptimizerSpec.model_validate(name), **kw)
    result = run_trajectory(QUAD, [plan], steps=steps, dtype="float64")
    return result.runs[0].points


# --- Lion -----------------------------------------------------------------------------------

def lion_by_hand(start, lr, betas, wd, steps):
    """The paper's update written out: c = b1*m + (1-b1)*g; x -= lr*(sign(c) + wd*x);
    m = b2*m + (1-b2)*g."""
    x = torch.tensor(start, dtype=torch.float64)
    m = torch.zeros_like(x)
    path = [x.tolist()]
    for _ in range(steps):
        g = _grad_quadratic(x)
        c = betas[0] * m + (1 - betas[0]) * g
        x = x - lr * (torch.sign(c) + wd * x)
        m = betas[1] * m + (1 - betas[1]) * g
        path.append(x.tolist())
    return path


def test_lion_resolves_and_has_paper_defaults():
    rec = OPTIMIZERS.resolve("lion")
    assert rec.load() is Lion
    opt = Lion([torch.zeros(2, requires_grad=True)])
    assert opt.defaults["betas"] == (0.9, 0.99)
    assert opt.defaults["weight_decay"] == 0.0


@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_lion_equals_its_update_by_hand(wd):
    got = _run(f"lion:lr=0.05,weight_decay={wd}", steps=40)
    want = lion_by_hand([4.0, 3.0], 0.05, (0.9, 0.99), wd, 40)
    assert torch.allclose(torch.tensor(got), torch.tensor(want), atol=1e-12)


def test_lion_equals_lion_pytorch_step_for_step():
    lion_pytorch = pytest.importorskip("lion_pytorch")
    torch.manual_seed(0)
    a = torch.randn(7, dtype=torch.float64, requires_grad=True)
    b = a.detach().clone().requires_grad_(True)
    ours = Lion([a], lr=0.01, betas=(0.9, 0.99), weight_decay=0.1)
    ref = lion_pytorch.Lion([b], lr=0.01, betas=(0.9, 0.99), weight_decay=0.1)
    for _ in range(25):
        for x, opt in ((a, ours), (b, ref)):
            opt.zero_grad()
            ((x**3).sum() + (x**2).sum()).backward()
            opt.step()
        assert torch.equal(a, b)


# --- Lookahead ------------------------------------------------------------------------------

def lookahead_sgd_by_hand(start, lr, k, alpha, steps):
    """Lookahead's definition around plain GD: every k-th step slow += alpha*(fast - slow),
    fast = slow. Returns (fast after each step, slow after each step)."""
    fast = torch.tensor(start, dtype=torch.float64)
    slow = fast.clone()
    fasts, slows = [fast.tolist()], [slow.tolist()]
    for t in range(1, steps + 1):
        fast = fast - lr * _grad_quadratic(fast)
        if t % k == 0:
            slow = slow + alpha * (fast - slow)
            fast = slow.clone()
        fasts.append(fast.tolist())
        slows.append(slow.tolist())
    return fasts, slows


@pytest.mark.parametrize(("k", "alpha"), [(5, 0.5), (3, 0.8)])
def test_lookahead_equals_definition(k, alpha):
    spec = OptimizerSpec.model_validate({"name": "gd", "lr": 0.02})
    plan = plan_optimizer(spec, lookahead=(k, alpha))
    run = run_trajectory(QUAD, [plan], steps=23, dtype="float64").runs[0]
    fasts, slows = lookahead_sgd_by_hand([4.0, 3.0], 0.02, k, alpha, 23)
    assert torch.allclose(torch.tensor(run.points), torch.tensor(fasts), atol=1e-12)
    assert torch.allclose(torch.tensor(run.slow_points), torch.tensor(slows), atol=1e-12)
    assert run.label == f"Lookahead(GD, k={k}, α={alpha:g}) (lr=0.02)"
    assert run.hyperparameters["k"] == k and run.hyperparameters["alpha"] == alpha


def test_lookahead_label_names_the_wrapped_optimizer():
    plan = plan_optimizer(OptimizerSpec(name="radam"), lookahead=(5, 0.5))
    assert plan.label.startswith("Lookahead(RAdam, k=5, α=0.5)")


def test_lookahead_state_dict_round_trips():
    def make():
        x = torch.tensor([4.0, 3.0], dtype=torch.float64, requires_grad=True)
        return x, Lookahead(torch.optim.Adam([x], lr=0.1), k=4, alpha=0.5)

    def steps(x, opt, n):
        for _ in range(n):
            opt.zero_grad()
            (x[0] ** 2 + 10 * x[1] ** 2).backward()
            opt.step()

    x1, o1 = make()
    steps(x1, o1, 6)
    # torch's state_dict holds references to live state, as torch.save would copy it, so do we
    saved_x, saved = x1.detach().clone(), copy.deepcopy(o1.state_dict())
    steps(x1, o1, 7)
    x2, o2 = make()
    with torch.no_grad():
        x2.copy_(saved_x)
    o2.load_state_dict(saved)
    steps(x2, o2, 7)
    assert torch.equal(x1, x2)
    assert torch.equal(o1.slow_weights()[0], o2.slow_weights()[0])


def test_lookahead_state_dict_round_trip_keeps_a_scheduler_driving_the_inner_lr():
    def make():
        x = torch.tensor([4.0, 3.0], dtype=torch.float64, requires_grad=True)
        opt = Lookahead(torch.optim.SGD([x], lr=0.04, momentum=0.5), k=3, alpha=0.5)
        return x, opt, torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    def steps(x, opt, sched, n):
        points, inner_lrs = [], []
        for _ in range(n):
            opt.zero_grad()
            (x[0] ** 2 + 10 * x[1] ** 2).backward()
            inner_lrs.append(opt.optimizer.param_groups[0]["lr"])  # what the step will use
            opt.step()
            sched.step()
            points.append(x.detach().clone())
        return torch.stack(points), inner_lrs

    x1, o1, s1 = make()
    steps(x1, o1, s1, 5)
    saved_x = x1.detach().clone()
    saved_opt, saved_sched = copy.deepcopy(o1.state_dict()), copy.deepcopy(s1.state_dict())
    want_points, want_lrs = steps(x1, o1, s1, 6)  # the uninterrupted run
    x2, o2, s2 = make()
    with torch.no_grad():
        x2.copy_(saved_x)
    o2.load_state_dict(saved_opt)
    s2.load_state_dict(saved_sched)
    got_points, got_lrs = steps(x2, o2, s2, 6)
    # StepLR(step_size=2, gamma=0.5) from 0.04, steps 5..10 of the run
    assert want_lrs == [0.04 * 0.5 ** (t // 2) for t in range(5, 11)]
    assert got_lrs == want_lrs
    assert o2.param_groups is o2.optimizer.param_groups
    assert torch.equal(got_points, want_points)


def test_lookahead_from_cli_and_yaml(tmp_path):
    from optviz.config import parse_config
    from optviz.figures.write import render_figure

    spec = parse_config(
        "optimizers: [{name: radam, lr: 0.1, lookahead: {k: 5, alpha: 0.5}}]\nsteps: 12\n",
        "x.yaml")
    run = render_figure(spec).result.runs[0]
    assert run.label.startswith("Lookahead(RAdam, k=5, α=0.5)")
    out = tmp_path / "la.json"
    proc = run_optviz(["trajectory", "radam", "--lookahead", "--lr", "0.1", "--steps", "12",
                       "-o", str(tmp_path / "la.png"), "--export", str(out)])
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())["runs"][0]
    assert data["points"] == run.points
    assert data["slow_points"] == run.slow_points


# --- plugins --------------------------------------------------------------------------------

@pytest.fixture
def on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(DATA))
    monkeypatch.syspath_prepend(str(EXAMPLES))


def test_plugin_class_on_pythonpath_runs(on_path):
    got = _run("myopt.HalfStep:lr=0.1", steps=10)
    # Half-step GD on x² + 10y²: x_k = 4·(1 − 0.05·2)^k, y_k = 3·(1 − 0.05·20)^k = 0 for k ≥ 1.
    for k, (x, y) in enumerate(got):
        assert x == pytest.approx(4 * 0.9**k, rel=1e-12)
        assert y == pytest.approx(3.0 if k == 0 else 0.0, abs=1e-12)
    rec = OPTIMIZERS.resolve("myopt.HalfStep")
    assert rec.elementwise  # declared by the plugin's optviz_quirks


def test_article_plugin_matches_torch(on_path):
    """The examples/ plugin follows the article; where the article is torch's formula, its
    paths equal torch's."""
    pairs = [
        ("handwritten_optim.GD:lr=0.1", "sgd:lr=0.1", 1e-12),
        ("handwritten_optim.MomentumGD:lr=0.01", "momentum:lr=0.01", 1e-12),
        ("handwritten_optim.NesterovGD:lr=0.01", "nesterov:lr=0.01", 1e-12),
        ("handwritten_optim.Adam:lr=0.1", "adam:lr=0.1", 1e-9),
        # eps inside the square root (article) vs outside (torch): 1e-8 apart at most here.
        ("handwritten_optim.RMSProp:lr=0.1", "rmsprop:lr=0.1,alpha=0.9", 1e-6),
        ("handwritten_optim.AdaGrad:lr=0.1", "adagrad:lr=0.1,eps=1e-8", 1e-6),
    ]
    for ours, theirs, tol in pairs:
        a, b = torch.tensor(_run(ours, 100)), torch.tensor(_run(theirs, 100))
        assert torch.allclose(a, b, atol=tol, rtol=0), (ours, (a - b).abs().max())


def test_unknown_or_broken_plugins_fail_with_one_line(on_path):
    with pytest.raises(UnknownNameError, match="No module named 'nosuchpkg'"):
        OPTIMIZERS.resolve("nosuchpkg.Opt")
    with pytest.raises(UnknownNameError, match="broken on purpose"):
        OPTIMIZERS.resolve("brokenopt.Opt")
    with pytest.raises(UnknownNameError, match="has no attribute"):
        OPTIMIZERS.resolve("myopt.Missing")
    env_path = f"{DATA}"
    proc = run_optviz(["trajectory", "brokenopt.Opt"],
                      env={**__import__("os").environ, "PYTHONPATH": env_path})
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "broken on purpose" in proc.stderr


def test_entry_point_plugins_are_listed_and_resolve(monkeypatch, on_path):
    from importlib import metadata

    from optviz.registry.core import Registry
    from optviz.registry.plugins import record_for_entry_point

    eps = [metadata.EntryPoint("hw_adam", "handwritten_optim:Adam", "optviz.optimizers"),
           metadata.EntryPoint("sgd", "handwritten_optim:GD", "optviz.optimizers")]
    monkeypatch.setattr(metadata, "entry_points",
                        lambda group=None: [e for e in eps if e.group == group])
    reg = Registry("optimizer")
    for rec in OPTIMIZERS:
        if not rec.plugin:
            reg.add(rec)
    reg.enable_entry_points("optviz.optimizers", record_for_entry_point)
    assert "hw_adam" in reg.names()
    assert reg.resolve("sgd").target == "torch.optim.SGD"  # a plugin cannot shadow a built-in
    rec = reg.resolve("hw_adam")
    assert rec.plugin == "entry point" and rec.target == "handwritten_optim.Adam"
    monkeypatch.setattr(OPTIMIZERS, "resolve", reg.resolve)
    got = _run("hw_adam:lr=0.1", 50)
    want = _run("adam:lr=0.1", 50)
    assert torch.allclose(torch.tensor(got), torch.tensor(want), atol=1e-9)


def test_pytorch_optimizer_prefix_resolves_with_quirks():
    po = pytest.importorskip("pytorch_optimizer")
    rec = OPTIMIZERS.resolve("pytorch_optimizer.adabelief")
    assert rec.load() is po.load_optimizer("adabelief")
    assert OPTIMIZERS.resolve("pytorch_optimizer.adahessian").create_graph
    with pytest.raises(UnsupportedError, match="BSAM"):
        plan_optimizer(OptimizerSpec(name="pytorch_optimizer.bsam"))
    with pytest.raises(UnknownNameError, match="did you mean 'adabelief'"):
        OPTIMIZERS.resolve("pytorch_optimizer.adabelif")
    # A run through optviz equals the class stepped by hand.
    got = _run("pytorch_optimizer.adabelief:lr=0.1", 20)
    x = torch.tensor([4.0, 3.0], dtype=torch.float64, requires_grad=True)
    opt = po.load_optimizer("adabelief")([x], lr=0.1)
    want = [x.tolist()]
    for _ in range(20):
        opt.zero_grad()
        (x[0] ** 2 + 10 * x[1] ** 2).backward()
        opt.step()
        want.append(x.tolist())
    assert torch.allclose(torch.tensor(got), torch.tensor(want), atol=1e-12)


def test_pytorch_optimizer_create_graph_runs():
    pytest.importorskip("pytorch_optimizer")
    points = _run("pytorch_optimizer.adahessian:lr=0.1", 10)
    assert all(v is not None for p in points for v in p)
    assert points[-1] != points[0]


def test_config_needs_allow_imports_for_plugins(on_path):
    from optviz.config import parse_config
    from optviz.errors import BadValueError

    text = "optimizers: [myopt.HalfStep]\nsteps: 3\n"
    with pytest.raises(BadValueError, match="--allow-imports"):
        parse_config(text, "c.yaml")
    assert parse_config(text, "c.yaml", allow_imports=True).optimizers[0].name == "myopt.HalfStep"
    # torch.optim and optviz paths need no permission
    parse_config("optimizers: [torch.optim.AdamW, optviz.optim.Lion]\n", "c.yaml")


# --- bad plugins and bad settings at run time: one line, exit code 2, nothing written ----------

BAD_PLUGINS = '''
import torch
from torch.optim import Optimizer


class StepFails(Optimizer):
    optviz_quirks = {"elementwise": True}

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})

    def step(self, closure=None):
        raise ValueError("kaput")


class FailsAtThree(Optimizer):
    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})
        self.count = 0

    def step(self, closure=None):
        self.count += 1
        if self.count == 3:
            raise RuntimeError("third time")


class NotOpt:
    pass


def returns_int(params, lr=0.1):
    return 42


returns_int.optviz_quirks = {"elementwise": True}


def raises_on_build(params, lr=0.1):
    raise RuntimeError("no GPU here")
'''


@pytest.fixture(scope="module")
def bad_plugin_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_plugins")
    (root / "optviz_t_badopt.py").write_text(BAD_PLUGINS)
    (root / "optviz_t_needsdep.py").write_text("import optviz_t_nosuchdep\n")
    return root


@pytest.fixture
def bad_plugins(bad_plugin_dir, monkeypatch, on_path):
    monkeypatch.syspath_prepend(str(bad_plugin_dir))


def _cli(*args: str):
    from typer.testing import CliRunner

    from optviz.cli import app

    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.mark.parametrize(("name", "line"), [
    ("lbfgs:line_search_fn=foo",  # torch checks line_search_fn only in step()
     "LBFGS failed at step 1: only 'strong_wolfe' is supported; "
     "check its settings (line_search_fn='foo')"),
    ("optviz_t_badopt.StepFails", "plugin optviz_t_badopt.StepFails failed at step 1: kaput"),
    ("optviz_t_badopt.FailsAtThree",
     "plugin optviz_t_badopt.FailsAtThree failed at step 3: third time"),
    ("optviz_t_badopt.NotOpt",
     "plugin optviz_t_badopt.NotOpt is not a torch.optim.Optimizer "
     "(class NotOpt does not subclass it)"),
    ("optviz_t_badopt.returns_int",
     "plugin optviz_t_badopt.returns_int is not a torch.optim.Optimizer (got int)"),
    ("optviz_t_badopt.raises_on_build",
     "plugin optviz_t_badopt.raises_on_build could not be built: RuntimeError: no GPU here"),
])
def test_an_optimizer_failing_at_run_time_is_one_line_and_writes_nothing(
        name, line, bad_plugins, out_dir):
    res = _cli("trajectory", name, "--steps", "5", "-o", str(out_dir / "t.png"),
               "--export", str(out_dir / "t.json"))
    assert res.exit_code == 2, res.output
    assert res.stderr == f"optviz: error: {line}\n"
    assert list(out_dir.iterdir()) == []


def test_a_step_failure_keeps_its_cause(bad_plugins):
    from optviz.engines.single import run_one
    from optviz.errors import BadValueError

    plan = plan_optimizer(OptimizerSpec(name="optviz_t_badopt.StepFails"))
    with pytest.raises(BadValueError, match="failed at step 1: kaput") as info:
        run_one(QUAD.load(), plan, torch.tensor([4.0, 3.0]), 5, QUAD.domain)
    assert isinstance(info.value.__cause__, ValueError)  # what OPTVIZ_DEBUG=1 shows


def test_a_step_failure_in_a_batch_is_one_line(bad_plugins):
    from dataclasses import replace

    from optviz.engines.batched import run_batch, with_lr
    from optviz.errors import BadValueError

    fn, starts = QUAD.load(), [[4.0, 3.0], [1.0, 1.0]]
    # stacked (the plugin declares itself element-wise) and the fallback loop alike
    for name in ("optviz_t_badopt.StepFails", "optviz_t_badopt.FailsAtThree"):
        plan = plan_optimizer(OptimizerSpec(name=name))
        step = 1 if name.endswith("StepFails") else 3
        with pytest.raises(BadValueError, match=rf"^plugin {name} failed at step {step}: "):
            run_batch(fn, plan, starts, 5, QUAD.domain, notify=lambda _: None)
    with pytest.raises(BadValueError, match=r"^plugin optviz_t_badopt.returns_int is not a "
                                            r"torch.optim.Optimizer \(got int\)$"):
        run_batch(fn, plan_optimizer(OptimizerSpec(name="optviz_t_badopt.returns_int")), starts,
                  5, QUAD.domain)
    # Bad betas that torch only unpacks in step(), with rows at two lrs: the line names the
    # settings the rows share, not one row's lr.
    adam = replace(plan_optimizer(OptimizerSpec(name="adam")), kwargs={"betas": (0.9, 0.99, 3)})
    with pytest.raises(BadValueError) as info:
        run_batch(fn, [adam, with_lr(adam, 0.5)], starts, 5, QUAD.domain)
    assert str(info.value) == ("Adam failed at step 1: too many values to unpack (expected 2); "
                               "check its settings (betas=(0.9, 0.99, 3))")
    assert isinstance(info.value.__cause__, ValueError)


def test_show_and_trajectory_name_a_broken_entry_point_alike(tmp_path):
    from test_scheduler_plugins import _install_fake_package, cli

    _install_fake_package(tmp_path)
    with (next(tmp_path.glob("*.dist-info")) / "entry_points.txt").open("a") as f:
        f.write("\n[optviz.optimizers]\nghost = nosuchmod:Ghost\n")
    path = os.pathsep.join([str(tmp_path), str(DATA)])
    line = ("optviz: error: cannot load optimizer 'ghost' (nosuchmod.Ghost): "
            "ModuleNotFoundError: No module named 'nosuchmod'\n")
    for args in (["show", "ghost"], ["trajectory", "ghost", "-o", str(tmp_path / "g.png")]):
        proc = cli(*args, pythonpath=path)
        assert (proc.returncode, proc.stderr) == (2, line), args
    assert not (tmp_path / "g.png").exists()
    shown = cli("show", "half_step", pythonpath=path)  # the package's good entry point still shows
    assert shown.returncode == 0, shown.stderr
    assert "myopt.HalfStep" in shown.stdout


def test_a_missing_plugin_module_says_where_it_is_looked_for(bad_plugins, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cwd = os.path.realpath(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path
                                      if os.path.realpath(p or os.curdir) != cwd])
    # the optviz console script: sys.path[0] is its bin folder, not the current folder
    res = _cli("trajectory", "optviz_t_mymodule.Opt")
    assert res.exit_code == 2
    assert res.stderr == ("optviz: error: cannot import optimizer 'optviz_t_mymodule.Opt': "
                          "No module named 'optviz_t_mymodule' (is its folder on PYTHONPATH? "
                          "the current folder is not searched)\n")
    # python -m optviz: the current folder is sys.path[0], so it is not said to be skipped
    monkeypatch.syspath_prepend("")
    res = _cli("trajectory", "optviz_t_mymodule.Opt")
    assert res.stderr.endswith("No module named 'optviz_t_mymodule' "
                               "(is its folder on PYTHONPATH?)\n")
    # a module the plugin imports is missing: PYTHONPATH is not the answer
    res = _cli("trajectory", "optviz_t_needsdep.Opt")
    assert res.stderr == ("optviz: error: cannot import optimizer 'optviz_t_needsdep.Opt': "
                          "No module named 'optviz_t_nosuchdep'\n")


def test_a_plugin_named_like_a_builtin_gets_its_path_in_the_legend(on_path, out_dir):
    out = out_dir / "t.json"
    res = _cli("trajectory", "handwritten_optim.Adam:lr=0.1", "adam:lr=0.1", "adam:lr=0.1",
               "--steps", "3",
               "-o", str(out_dir / "t.png"), "--export", str(out))
    assert res.exit_code == 0, res.output
    labels = [r["label"] for r in json.loads(out.read_text())["runs"]]
    # the same optimizer twice with the same settings is the user's business
    assert labels == ["handwritten_optim.Adam (lr=0.1)", "Adam (lr=0.1)", "Adam (lr=0.1)"]


def test_distinct_labels_leaves_given_labels_and_lone_plugins_alone(on_path):
    from optviz.plan.optimizers import distinct_labels

    def plans(*names):
        return [plan_optimizer(OptimizerSpec.model_validate(n)) for n in names]

    assert [p.label for p in distinct_labels(plans("handwritten_optim.Adam:lr=0.1",
                                                   "sgd:lr=0.1"))] == \
        ["Adam (lr=0.1)", "SGD (lr=0.1)"]
    given = plans({"name": "handwritten_optim.Adam", "lr": 0.1, "label": "Adam (lr=0.1)"},
                  "adam:lr=0.1")
    assert [p.label for p in distinct_labels(given)] == ["Adam (lr=0.1)"] * 2
    wrapped = [plan_optimizer(OptimizerSpec.model_validate(n), lookahead=(5, 0.5))
               for n in ("handwritten_optim.Adam:lr=0.1", "adam:lr=0.1")]
    assert [p.label for p in distinct_labels(wrapped)] == [
        "Lookahead(handwritten_optim.Adam, k=5, α=0.5) (lr=0.1)",
        "Lookahead(Adam, k=5, α=0.5) (lr=0.1)"]


@pytest.mark.parametrize("args", [
    ["trajectory", "optviz_t_badopt.FailsAtThree", "--model", "linear", "--epochs", "1"],
    ["schedule", "step", "--optimizer", "optviz_t_badopt.FailsAtThree"],
    ["schedule", "plateau", "--optimizer", "optviz_t_badopt.FailsAtThree"],  # trains the model
])
def test_a_step_failure_on_the_model_and_in_schedules_is_one_line(args, bad_plugins, out_dir):
    res = _cli(*args, "-o", str(out_dir / "t.png"))
    assert res.exit_code == 2, res.output
    assert res.stderr.endswith("optviz: error: plugin optviz_t_badopt.FailsAtThree failed at "
                               "step 3: third time\n")
    assert list(out_dir.iterdir()) == []


def test_a_plugin_named_like_a_builtin_is_told_apart_on_the_model_too(on_path, out_dir):
    js = out_dir / "m.json"
    res = _cli("trajectory", "handwritten_optim.Adam:lr=0.1", "adam:lr=0.1", "--model",
               "linear", "--in-features", "3", "--epochs", "1", "-o", str(out_dir / "m.png"),
               "--export", str(js))
    assert res.exit_code == 0, res.output
    import json

    labels = [r["label"] for r in json.loads(js.read_text())["runs"]]
    assert labels == ["handwritten_optim.Adam (lr=0.1)", "Adam (lr=0.1)"]
