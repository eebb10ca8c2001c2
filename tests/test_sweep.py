"""lr sweeps and ``--lr auto``: the grid syntax, the objective, the sweep's best against a
brute-force loop of lone runs, the picture's pixels, and the trajectory legend's "(auto)"."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from optviz.cli import app
from optviz.engines.single import run_one
from optviz.engines.sweep import (
    REFINE_PASSES,
    auto_lr,
    pick_best,
    run_sweep,
    tail_steps,
    threshold,
    tolerance,
)
from optviz.errors import OptvizError, UnsupportedError
from optviz.plan.optimizers import plan_optimizer
from optviz.registry import FUNCTIONS
from optviz.render.style import colours_for
from optviz.spec.figures import OptimizerSpec, TrajectorySpec, build
from optviz.spec.sweep import AUTO_GRID, parse_lr_grid

runner = CliRunner()
SWEEP_PIXELS = (870, 1950)  # Figure(13, 5.8) at the default 150 dpi


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def distinct_colours(pixels: np.ndarray) -> int:
    wide = pixels.astype(np.int64)  # int16 would overflow in the shift
    packed = (wide[..., 0] << 16) | (wide[..., 1] << 8) | wide[..., 2]
    return len(np.unique(packed))


def has_colour(pixels: np.ndarray, hex_colour: str, tol: int = 12) -> bool:
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return bool((np.abs(pixels - rgb).max(axis=-1) <= tol).any())


# ---------------------------------------------------------------- the grid


def test_log_grid_has_its_endpoints_and_a_constant_ratio():
    lrs = parse_lr_grid("1e-4:1:64")
    assert len(lrs) == 64 and lrs[0] == 1e-4 and lrs[-1] == 1.0
    ratios = np.array(lrs[1:]) / np.array(lrs[:-1])
    np.testing.assert_allclose(ratios, 10 ** (4 / 63), rtol=1e-12)
    assert parse_lr_grid(AUTO_GRID)[::10] == pytest.approx([1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10])


@pytest.mark.parametrize("value, expected", [
    ("0.1,0.01", [0.1, 0.01]), ("0.3", [0.3]), ([0.5, 1], [0.5, 1.0]), (0.2, [0.2]),
])
def test_lists_and_single_values(value, expected):
    assert parse_lr_grid(value) == expected


@pytest.mark.parametrize("text, message", [
    ("1:0.1:5", "0 < LO < HI"), ("0:1:5", "0 < LO < HI"), ("1e-4:1:1", "between 2"),
    ("1e-4:1", "LO:HI:N"), ("1e-4:1:x", "whole number"), ("a,b", "LO:HI:N or numbers"),
    ("0.1,-1", r"must be (finite numbers )?> 0"), ("", "at least one"),
])
def test_bad_grids_say_why(text, message):
    with pytest.raises(ValueError, match=message):
        parse_lr_grid(text)


# ---------------------------------------------------------------- the objective


def test_pick_best_ties_within_tolerance_go_to_the_fastest():
    # 1e-9 and 1e-12 are both within 1e-6: tied; the one within tolerance first wins.
    assert pick_best([1e-9, 1e-12, 0.5], [30, 50, None], f_min=0.0, tol=1e-6) == 0
    # Outside the tolerance the tail loss alone decides.
    assert pick_best([1e-3, 1e-4, 1e-2], [None, None, None], 0.0, 1e-6) == 1
    # Diverged runs (None or NaN) never win; all diverged: no best.
    assert pick_best([None, math.nan, 2.0], [None, None, None], 0.0, 1e-6) == 2
    assert pick_best([None, None], [None, None], 0.0, 1e-6) is None
    # Same steps: the lower tail loss, then the earlier lr.
    assert pick_best([1e-8, 1e-10, 1e-10], [7, 7, 7], 0.0, 1e-6) == 1
    # No known minimum (saddle): the lowest tail value.
    assert pick_best([-3.0, -7.0, 1.0], [None] * 3, None, 1e-6) == 1


def test_tolerance_scales_with_a_large_minimum():
    assert tolerance(FUNCTIONS.resolve("rosenbrock")) == 1e-6
    st = FUNCTIONS.resolve("styblinski_tang")
    assert tolerance(st) == pytest.approx(1e-6 * 78.332331)
    assert threshold(st) == pytest.approx(st.f_min + tolerance(st))
    assert threshold(FUNCTIONS.resolve("saddle")) is None
    assert tolerance(st, 0.5) == 0.5


def brute_force(function, plan, lrs, start, steps):
    """One run_one per lr: final loss, the worst of the last 10% of the losses (at least 2),
    steps to the tolerance, diverged."""
    fn = function.load()
    thr = threshold(function)
    final, tail, arrived, diverged = [], [], [], []
    for lr in lrs:
        p = plan_optimizer(OptimizerSpec(name=plan.record.name, lr=lr))
        run = run_one(fn, p, torch.tensor(start, dtype=torch.float32), steps, function.domain)
        loss = np.array(run.loss, dtype=float)
        final.append(None if run.diverged else run.loss[-1])
        tail.append(None if run.diverged else max(run.loss[-max(2, math.ceil(steps / 10)):]))
        hit = np.flatnonzero(loss <= thr)
        arrived.append(int(hit[0]) if hit.size else None)
        diverged.append(run.diverged)
    return final, tail, arrived, diverged


@pytest.mark.parametrize("name, function, grid, steps", [
    ("adam", "rosenbrock", "1e-3:1:16", 150),
    ("sgd", "quadratic", "0.01:0.2:40", 100),
    ("rprop", "beale", "1e-3:1:12", 80),
])
def test_sweep_best_equals_a_brute_force_loop(name, function, grid, steps):
    f = FUNCTIONS.resolve(function)
    plan = plan_optimizer(OptimizerSpec(name=name))
    lrs = parse_lr_grid(grid)
    result = run_sweep(f, plan, lrs, steps=steps, with_path=False)
    final, tail, arrived, diverged = brute_force(f, plan, lrs, list(f.start), steps)
    assert result.final_loss == final  # bit for bit: see test_batched.py
    assert result.tail_loss == tail
    assert result.steps_to_tol == arrived
    assert result.diverged == diverged
    # The brute force's own best, by the objective spelled out here: the tail loss.
    tol = tolerance(f)
    keys = [(max(v - f.f_min, tol), math.inf if a is None else a, v - f.f_min, i)
            for i, (v, a) in enumerate(zip(tail, arrived, strict=True)) if v is not None]
    assert result.best == min(keys)[3]
    assert result.best_lr == lrs[result.best]


def test_sgd_on_the_bowl_picks_the_fastest_of_the_converged():
    f = FUNCTIONS.resolve("quadratic")
    result = run_sweep(f, plan_optimizer(OptimizerSpec(name="sgd")), parse_lr_grid(
        "0.01:0.2:40"), steps=100, with_path=False)
    within = [i for i, v in enumerate(result.tail_loss) if v is not None and v <= result.tol]
    assert len(within) >= 2
    assert result.best in within
    assert result.steps_to_tol[result.best] == min(result.steps_to_tol[i] for i in within)
    assert any(d is not None for d in result.diverged)  # lr 0.2 > 2/20 diverges in y


def lion_losses(lr: float, steps: int) -> list[float]:
    """Lion (betas 0.9, 0.99) by its definition on x² + 10y² from (4, 3): the loss per step."""
    x = torch.tensor([4.0, 3.0], dtype=torch.float64)
    m = torch.zeros(2, dtype=torch.float64)
    scale = torch.tensor([1.0, 10.0], dtype=torch.float64)
    losses = [float((scale * x**2).sum())]
    for _ in range(steps):
        g = 2 * scale * x
        x = x - lr * torch.sign(0.9 * m + 0.1 * g)
        m = 0.99 * m + 0.01 * g
        losses.append(float((scale * x**2).sum()))
    return losses


def test_tail_steps_is_a_tenth_and_at_least_two():
    assert [tail_steps(n) for n in (1, 2, 5, 20, 98, 100, 101, 1000)] == [
        1, 2, 2, 2, 10, 10, 11, 100]


def test_a_one_step_sweep_is_judged_by_its_final_loss():
    # GD on x² + 10y² from (4, 3), one step: f = 16(1−2lr)² + 90(1−20lr)². Every run starts at
    # 106, so a tail holding the start would tie them all and pick the smallest lr.
    f = FUNCTIONS.resolve("quadratic")
    lrs = parse_lr_grid("0.01:0.2:5")
    result = run_sweep(f, plan_optimizer(OptimizerSpec(name="gd")), lrs, steps=1,
                       dtype="float64", with_path=False)
    by_hand = [16 * (1 - 2 * lr) ** 2 + 90 * (1 - 20 * lr) ** 2 for lr in lrs]
    assert result.tail == 1
    assert result.tail_loss == pytest.approx(by_hand, rel=1e-12)
    assert result.best == min(range(5), key=by_hand.__getitem__) == 2


def test_an_oscillating_run_that_ends_low_does_not_win():
    # Lion's steps have a fixed size: at lr 1/2 it hops between 2.75 and exactly 0 (the
    # positions are multiples of 1/2), landing on 0 at the last of 98 steps; at lr 1/32 it is
    # still on its way down. The final loss alone would pick 1/2; the worst of the last
    # 10 losses picks 1/32.
    slow, hop = lion_losses(1 / 32, 98), lion_losses(1 / 2, 98)
    assert hop[-10:] == [2.75, 0.0] * 5
    assert all(a > b for a, b in zip(slow[-10:-1], slow[-9:], strict=True))  # falling
    assert (slow[-1], max(slow[-10:])) == (0.91796875, 1.9638671875)
    f = FUNCTIONS.resolve("quadratic")
    result = run_sweep(f, plan_optimizer(OptimizerSpec(name="lion")), [1 / 32, 1 / 2],
                       steps=98, dtype="float64", with_path=False)
    assert result.tail == 10
    assert result.final_loss == [slow[-1], hop[-1]] == [0.91796875, 0.0]
    assert result.tail_loss == [max(slow[-10:]), max(hop[-10:])] == [1.9638671875, 2.75]
    # The old objective, the final loss, would have picked the hopping lr ...
    assert pick_best(result.final_loss, result.steps_to_tol, f.f_min, result.tol) == 1
    # ... the tail loss does not.
    assert result.best == 0 and result.best_lr == 1 / 32
    # --lr auto on the same two lrs without its refining passes picks the same.
    assert auto_lr(f, plan_optimizer(OptimizerSpec(name="lion")), steps=98, dtype="float64",
                   lrs=[1 / 32, 1 / 2], refine=0) == 1 / 32


def test_auto_lr_returns_the_sweeps_best_and_refuses_when_all_diverge():
    f = FUNCTIONS.resolve("quadratic")
    plan = plan_optimizer(OptimizerSpec(name="sgd"))
    lrs = parse_lr_grid("1e-3:0.2:24")
    assert auto_lr(f, plan, steps=60, lrs=lrs) == run_sweep(
        f, plan, lrs, steps=60, with_path=False, refine=REFINE_PASSES).best_lr
    assert auto_lr(f, plan, steps=60, lrs=lrs, refine=0) == run_sweep(
        f, plan, lrs, steps=60, with_path=False).best_lr
    with pytest.raises(UnsupportedError, match=r"diverged .* at every lr"):
        auto_lr(f, plan, steps=60, lrs=[5.0, 10.0])


# ---------------------------------------------------------------- --lr auto on trajectory


def test_lr_auto_is_validated_like_a_number():
    spec = build(TrajectorySpec, {"optimizers": ["adam", "sgd:lr=auto"], "lr": "AUTO"}, cli=True)
    assert spec.lr == "auto" and spec.optimizers[1].lr == "auto"
    for bad, message in (("fast", "a number > 0 or 'auto'"),
                         (0, r"must be (a finite number )?> 0")):
        with pytest.raises(OptvizError, match=message):
            build(TrajectorySpec, {"optimizers": ["adam"], "lr": bad}, cli=True)


def test_trajectory_lr_auto_labels_and_runs_the_picked_lr(out_dir):
    js = out_dir / "auto.json"
    res = invoke("trajectory", "adam", "sgd:lr=0.001", "gd:lr=auto", "--lr", "auto", "-f",
                 "rosenbrock", "-n", "40", "-o", str(out_dir / "auto.png"), "--export", str(js))
    assert res.exit_code == 0, res.output
    adam, sgd, gd = json.loads(js.read_text())["runs"]
    f = FUNCTIONS.resolve("rosenbrock")
    for run, name in ((adam, "adam"), (gd, "gd")):
        picked = auto_lr(f, plan_optimizer(OptimizerSpec(name=name)), steps=40)
        assert run["hyperparameters"]["lr"] == picked
        assert f"auto lr={picked:.2g}" in run["label"]
    assert sgd["hyperparameters"]["lr"] == 0.001 and "auto" not in sgd["label"]
    # The drawn path is the lone run at the picked lr.
    lone = run_one(f.load(), plan_optimizer(OptimizerSpec(name="adam",
                                                          lr=adam["hyperparameters"]["lr"])),
                   torch.tensor(f.start, dtype=torch.float32), 40, f.domain)
    assert adam["points"] == lone.points


def test_lr_auto_dumps_as_auto_and_refuses_what_it_cannot_tune(out_dir):
    res = invoke("trajectory", "adam", "--lr", "auto", "--dump-config")
    assert res.exit_code == 0 and "lr: auto" in res.stdout
    res = invoke("trajectory", "adam", "--lr", "auto", "--scheduler", "StepLR:step_size=5",
                 "-o", str(out_dir / "x.png"))
    assert res.exit_code == 2 and "without a scheduler" in res.stderr
    assert list(out_dir.iterdir()) == []


# ---------------------------------------------------------------- optviz sweep


@pytest.fixture(scope="module")
def sgd_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    png, js = out / "sweep.png", out / "sweep.json"
    res = invoke("sweep", "sgd", "-f", "quadratic", "--lr", "1e-3:0.2:24", "-n", "60", "-o",
                 str(png), "--export", str(js), "--refine", "0")
    return res, png, js


def test_sweep_cli_writes_the_export(sgd_sweep):
    res, png, js = sgd_sweep
    assert res.exit_code == 0, res.output
    assert res.stderr == ""  # no progress bar off a terminal
    lines = res.stdout.splitlines()
    assert lines[0].startswith("best lr 0.") and lines[1:] == [f"wrote {png}", f"wrote {js}"]
    data = json.loads(js.read_text())
    assert data["lr"] == parse_lr_grid("1e-3:0.2:24")
    f = FUNCTIONS.resolve("quadratic")
    result = run_sweep(f, plan_optimizer(OptimizerSpec(name="sgd")), data["lr"], steps=60,
                       with_path=False)
    assert data["final_loss"] == result.final_loss
    assert data["tail"] == 6 and data["tail_loss"] == result.tail_loss
    assert data["best"]["tail_loss"] == result.tail_loss[result.best]
    assert data["best"]["lr"] == result.best_lr and data["best"]["index"] == result.best
    assert len(data["best_path"]) == 61


def test_sweep_picture_pixels(sgd_sweep, png_pixels):
    _, png, _ = sgd_sweep
    pixels = png_pixels(png)
    assert pixels.shape[:2] == SWEEP_PIXELS
    assert distinct_colours(pixels) > 200  # not blank
    assert has_colour(pixels, colours_for(["sgd"])[0])  # the curve and the best path
    assert has_colour(pixels, "#b8860b")  # dark gold: the best lr's hollow star and its line
    assert has_colour(pixels, "#d62728", tol=20)  # red crosses: the lrs that diverged


def test_sweep_refines_its_best_like_lr_auto(out_dir):
    """``optviz sweep`` refines around its best lrs by default (``--refine 3``, as ``--lr auto``
    searches): on Adam/beale, 60 steps, the refined best's tail loss is strictly below the
    coarse grid's best, every coarse lr is still there, and ``--refine 0`` is the grid alone."""
    f = FUNCTIONS.resolve("beale")
    plan = plan_optimizer(OptimizerSpec(name="adam"))
    grid = parse_lr_grid("1e-3:10:13")
    coarse = run_sweep(f, plan, grid, steps=60, with_path=False, refine=0)
    refined = run_sweep(f, plan, grid, steps=60, with_path=False, refine=REFINE_PASSES)
    assert coarse.lr == grid and set(grid) < set(refined.lr)
    assert refined.lr == sorted(refined.lr) and len(refined.lr) > 2 * len(grid)
    best_coarse, best_refined = coarse.tail_loss[coarse.best], refined.tail_loss[refined.best]
    assert best_refined < best_coarse  # measured 0.0525 against 0.0924 (lr 0.392 vs 0.464)
    assert refined.best_lr not in grid
    assert refined.best_lr == auto_lr(f, plan, steps=60, lrs=grid)
    # The refined best's tail loss is its lone run's, stepped here.
    lone = plan_optimizer(OptimizerSpec(name="adam", lr=refined.best_lr))
    run = run_one(f.load(), lone, torch.tensor(f.start, dtype=torch.float32), 60, f.domain)
    assert max(run.loss[-tail_steps(60):]) == best_refined
    # The command: refined by default, the grid alone with --refine 0.
    for extra, lrs, best in (([], refined.lr, refined.best_lr),
                             (["--refine", "0"], grid, coarse.best_lr)):
        js = out_dir / f"beale{len(extra)}.json"
        res = invoke("sweep", "adam", "-f", "beale", "--lr", "1e-3:10:13", "-n", "60", "-o",
                     str(out_dir / "b.png"), "--export", str(js), *extra)
        assert res.exit_code == 0, res.output
        data = json.loads(js.read_text())
        assert data["lr"] == lrs and data["best"]["lr"] == best
    dumped = invoke("sweep", "adam", "--refine", "2", "--dump-config")
    assert "refine: 2" in dumped.stdout.splitlines()
    bad = invoke("sweep", "adam", "--refine", "11", "-o", str(out_dir / "x.png"))
    assert bad.exit_code == 2 and "--refine" in bad.stderr


def test_sweep_csv_and_fallback_note_once(out_dir):
    csv = out_dir / "l.csv"
    res = invoke("sweep", "lbfgs", "-f", "rosenbrock", "--lr", "0.1,1", "-n", "5", "-o",
                 str(out_dir / "l.png"), "--export", str(csv))
    assert res.exit_code == 0, res.output
    assert res.stderr.count("not element-wise") == 1
    rows = csv.read_text().splitlines()
    assert rows[0] == "lr,tail_loss,final_loss,steps_to_tol,diverged,best" and len(rows) == 3


@pytest.mark.parametrize("args, message", [
    (["adam:lr=0.1"], "the sweep sets the learning rate"),
    (["adam", "sgd"], "name one optimizer"),
    (["adam", "--lr", "1:0:3"], "--lr: LO:HI:N needs 0 < LO < HI"),
    (["adam", "--momentum", "0.9"], "momentum"),
])
def test_sweep_errors_are_one_line(args, message, out_dir):
    res = invoke("sweep", *args, "-o", str(out_dir / "x.png"))
    assert res.exit_code == 2
    assert res.stderr.startswith("optviz: error: ") and res.stderr.count("\n") == 1
    assert message in res.stderr
    assert list(out_dir.iterdir()) == []


def test_sweep_with_lookahead_equals_lone_lookahead_runs(out_dir):
    js = out_dir / "look.json"
    res = invoke("sweep", "adam", "-f", "quadratic", "--lr", "0.05:0.5:4", "-n", "30",
                 "--lookahead", "--lookahead-k", "3", "-o", str(out_dir / "look.png"),
                 "--export", str(js))
    assert res.exit_code == 0, res.output
    data = json.loads(js.read_text())
    assert data["label"] == "Lookahead(Adam, k=3, α=0.5)"
    f = FUNCTIONS.resolve("quadratic")
    for lr, final in zip(data["lr"], data["final_loss"], strict=True):
        plan = plan_optimizer(OptimizerSpec(name="adam", lr=lr), lookahead=(3, 0.5))
        run = run_one(f.load(), plan, torch.tensor(f.start, dtype=torch.float32), 30, f.domain)
        assert final == run.loss[-1]
    # Without the wrapper the numbers differ: the flag is not dropped on the way.
    plain = run_sweep(f, plan_optimizer(OptimizerSpec(name="adam")), data["lr"], steps=30,
                      with_path=False)
    assert plain.final_loss != data["final_loss"]


@pytest.mark.parametrize("command", ["sweep", "basin", "trajectory"])
@pytest.mark.parametrize("flag, value", [("--lookahead-k", "3"), ("--lookahead-alpha", "0.3")])
def test_lookahead_settings_without_lookahead_are_refused(command, flag, value, out_dir):
    res = invoke(command, "adam", flag, value, "-o", str(out_dir / "x.png"))
    assert res.exit_code == 2, res.output
    assert res.stderr == f"optviz: error: {flag} needs --lookahead\n"
    assert list(out_dir.iterdir()) == []


def test_lr_auto_reports_each_sweep_to_the_progress_hook():
    from optviz.figures.write import render_figure
    from optviz.hooks import Hooks

    seen: dict[str, list[tuple[int, int]]] = {}

    def start(description: str):
        seen[description] = []
        return lambda done, total: seen[description].append((done, total))

    spec = build(TrajectorySpec, {"optimizers": ["adam", "sgd"], "lr": "auto", "steps": 20})
    render_figure(spec, Hooks(task=start))
    assert list(seen) == ["lr auto: Adam", "lr auto: SGD"]
    for ticks in seen.values():
        # The coarse grid, its midpoints, the refining passes: one batch of 20 steps each.
        assert ticks[-1] == (20 * (2 + REFINE_PASSES),) * 2
    seen.clear()
    render_figure(spec)  # without hooks nothing is reported
    assert seen == {}


def test_sweep_panel_draws_the_final_and_the_tail_loss():
    from matplotlib.figure import Figure

    from optviz.render.sweep import draw_sweep

    f = FUNCTIONS.resolve("quadratic")
    result = run_sweep(f, plan_optimizer(OptimizerSpec(name="lion")), [1 / 32, 1 / 8, 1 / 2],
                       steps=98, dtype="float64", with_path=False)
    ax = Figure().subplots()
    draw_sweep(ax, result, "#ff7f0e")
    lines = {line.get_label(): line for line in ax.get_lines()}
    final = lines["Lion: final f(x)"]
    tail = lines["worst f(x) of the last 10 steps (picks the best)"]
    # No floor: losses of exactly 0 are masked on the log axis and marked on its bottom edge.
    assert list(final.get_xdata()) == result.lr
    assert list(final.get_ydata()) == result.final_loss
    assert list(tail.get_ydata()) == result.tail_loss
    star = lines[f"best lr = {result.best_lr:.3g}"]
    best = result.tail_loss[result.best]
    assert list(star.get_ydata()) == [best if best > 0 else ax.get_ylim()[0]]
    if 0.0 in result.tail_loss:
        assert "reached f* exactly" in lines


def test_a_best_lr_at_the_end_of_the_grid_is_noted():
    f = FUNCTIONS.resolve("quadratic")
    plan = plan_optimizer(OptimizerSpec(name="sgd"))
    notes: list[str] = []
    edge = run_sweep(f, plan, [1e-4, 1e-3, 1e-2], steps=20, with_path=False,
                     notify=notes.append)
    assert edge.best_lr == 1e-2  # every lr is stable on x² + 10y²; the largest gets furthest
    assert notes == ["optviz: note: the best lr for SGD, 0.01, is the largest of the grid "
                     "(0.0001 to 0.01); a better one may lie beyond it"]
    notes.clear()
    inside = run_sweep(f, plan, [1e-3, 0.05, 0.2], steps=20, with_path=False,
                       notify=notes.append)
    assert inside.best_lr == 0.05 and inside.diverged[2] is not None  # 0.2 > 2/20 diverges
    assert notes == []


def test_a_sweeps_refinement_stays_inside_its_range_and_lr_auto_may_step_past_it():
    """Adam on Rosenbrock, 200 steps, swept over 1e-4..1: the best coarse lr is the top of the
    range. The sweep's refinement adds lrs only below it (the range is the user's, and the
    picture's lr axis ends there); ``--lr auto`` over the same grid looks one spacing past."""
    from optviz.engines.sweep import refinement

    f = FUNCTIONS.resolve("rosenbrock")
    plan = plan_optimizer(OptimizerSpec(name="adam"))
    grid = parse_lr_grid("1e-4:1:9")
    swept = run_sweep(f, plan, grid, steps=200, with_path=False, refine=REFINE_PASSES)
    assert min(swept.lr) == grid[0] and max(swept.lr) == grid[-1]
    assert any(grid[-2] < lr < grid[-1] for lr in swept.lr)  # refined near the top, inside
    # At an end, the rule itself: inside only with ``within``, one spacing past without it.
    inner = refinement([0.1, 1.0], [1], seeds=1, points=3, within=True)
    outer = refinement([0.1, 1.0], [1], seeds=1, points=3)
    assert all(0.1 < v < 1.0 for v in inner) and len(inner) == 3
    assert max(outer) > 1.0 and math.isclose(max(outer), 10 ** 0.5)
