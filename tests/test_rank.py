"""``optviz rank``: the lr-as-a-factor batching against param groups, the tuned lr against lone
runs, ranks and mean ranks, seeded starts, the heatmap's numbers, the CLI and configs."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from optviz.cli import app
from optviz.engines.batched import run_batch, with_lr
from optviz.engines.rank import (
    default_functions,
    default_optimizers,
    lr_factor_plan,
    lr_is_a_factor,
    run_rank,
    seeded_starts,
    tune_in_step,
    tune_pair,
    tune_together,
)
from optviz.engines.single import run_one
from optviz.engines.sweep import pick_best
from optviz.errors import BadValueError
from optviz.plan.optimizers import plan_optimizer
from optviz.registry import FUNCTIONS
from optviz.spec.figures import OptimizerSpec, build
from optviz.spec.rank import RankSpec

runner = CliRunner()


def plan(name: str, **settings):
    return plan_optimizer(OptimizerSpec(name=name, settings=settings))


def test_defaults_are_the_batching_torch_optimizers_and_the_functions_with_a_minimum():
    names = default_optimizers()
    assert {"adam", "sgd", "momentum", "nesterov", "rmsprop", "rprop", "asgd"} <= set(names)
    # Not element-wise, sparse gradients, not torch.optim, or the same as sgd: left out.
    assert not {"lbfgs", "muon", "adafactor", "sparse_adam", "lion", "gd"} & set(names)
    assert "saddle" not in default_functions() and "rosenbrock" in default_functions()
    assert all(FUNCTIONS.resolve(f).f_min is not None for f in default_functions())


@pytest.mark.parametrize("name, factor", [
    ("adam", True), ("sgd", True), ("momentum", True), ("rmsprop", True), ("adagrad", True),
    ("rprop", False), ("asgd", False),
])
def test_lr_is_a_factor_of_the_update_for_most_but_not_rprop_or_asgd(name, factor):
    assert lr_is_a_factor(plan(name)) is factor


def test_one_group_scaled_by_lr_equals_one_group_per_lr():
    rosenbrock = FUNCTIONS.resolve("rosenbrock")
    lrs = [1e-3, 0.05, 0.5, 3.0]
    starts = [[-1.5, 2.0], [0.5, -0.5], [1.2, 1.4], [-0.3, 0.9]]
    adam = plan("adam")
    groups = run_batch(rosenbrock.load(), [with_lr(adam, lr) for lr in lrs], starts, 80,
                       rosenbrock.domain, dtype="float64", record_paths=True)
    scaled = run_batch(rosenbrock.load(), lr_factor_plan(adam, lrs), starts, 80,
                       rosenbrock.domain, dtype="float64", record_paths=True)
    np.testing.assert_allclose(scaled.points, groups.points, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(scaled.diverged, groups.diverged)


def test_the_tuned_lr_is_the_best_by_the_mean_tail_and_each_start_equals_a_lone_run():
    quadratic = FUNCTIONS.resolve("quadratic")
    starts = seeded_starts(quadratic, 3, 0)
    lr, scores, detail, batched = tune_pair(quadratic, plan("momentum"), starts, 60)
    assert batched and lr is not None
    best = scores.lr.index(lr)
    assert best == pick_best(scores.tail_loss, scores.steps_to_tol, 0.0, 1e-6)
    for s, start in enumerate(starts):
        run = run_one(quadratic.load(), plan_optimizer(OptimizerSpec(name="momentum"), lr=lr),
                      torch.tensor(start, dtype=torch.float64), 60, quadratic.domain)
        assert detail[lr].tail[s] == pytest.approx(max(run.loss[-6:]), rel=1e-9, abs=1e-15)
        assert detail[lr].final[s] == pytest.approx(run.loss[-1], rel=1e-9, abs=1e-15)
    assert scores.tail_loss[best] == pytest.approx(np.mean(detail[lr].tail))


def test_the_groups_path_gives_the_same_lr_as_the_scaled_path():
    booth = FUNCTIONS.resolve("booth")
    starts = seeded_starts(booth, 2, 1)
    fast = tune_pair(booth, plan("adam"), starts, 40, scaled=True)
    slow = tune_pair(booth, plan("adam"), starts, 40, scaled=False)
    assert fast[0] == pytest.approx(slow[0], rel=1e-12)


def test_searches_on_every_function_in_one_batch_equal_one_function_at_a_time():
    """tune_together (rank's path for an optimizer whose lr is a factor) runs every
    function's passes as rows of one batch: each function's lrs, scores and per-start numbers
    are exactly those of its own search, a function without a known minimum included (none
    of its rows arrives)."""
    names = ["rosenbrock", "booth", "saddle", "six_hump_camel"]
    functions = [FUNCTIONS.resolve(n) for n in names]
    assert functions[2].f_min is None
    starts = [seeded_starts(f, 2, 3) if f.f_min is not None else [[0.5, 0.4], [-0.2, 0.3]]
              for f in functions]
    together = tune_together(functions, plan("adam"), starts, 60)
    for f, pts, (lr, scores, detail, batched) in zip(functions, starts, together, strict=True):
        alone = tune_pair(f, plan("adam"), pts, 60, scaled=True)
        assert batched and lr == alone[0], f.name
        assert scores == alone[1], f.name  # every lr evaluated, with its numbers, bit for bit
        assert detail == alone[2], f.name
    assert all(a is None for per in together[2][2].values() for a in per.arrived)


def test_optimizers_searching_in_step_get_each_their_own_searches():
    """tune_in_step (rank's path for optimizers whose lr is a factor: one backward for the
    rows of every optimizer, each optimizer stepping its own rows, each function called on
    each optimizer's rows apart) gives each pair exactly its own search: lrs, scores and
    per-start numbers bit for bit, whichever optimizers share the batch. styblinski_tang's
    x**4 rounds by where an element sits in a tensor on some CPUs (vector body or scalar
    tail): each pair's rows are laid out as in its own search."""
    names = ["rosenbrock", "booth", "saddle", "six_hump_camel", "styblinski_tang"]
    functions = [FUNCTIONS.resolve(n) for n in names]
    starts = [seeded_starts(f, 3, 11) if f.f_min is not None else [[0.5, 0.4], [-0.2, 0.3]]
              for f in functions]
    plans = [plan("nadam"), plan("sgd", momentum=0.9), plan("rmsprop"), plan("adam")]
    told = []
    in_step = tune_in_step(functions, plans, starts, 50,
                           progress=lambda done, pairs: told.append(done))
    for i, p in enumerate(plans):
        for j, f in enumerate(functions):
            alone = tune_pair(f, p, starts[j], 50, scaled=True)
            assert in_step[i][j] == alone, (p.label, f.name)
    two = tune_in_step(functions, plans[2:], starts, 50)  # other company, the same numbers
    assert two == in_step[2:]
    assert len({lr for row in in_step for lr, *_ in row}) > 4  # the optimizers differ
    # Progress in pairs, fractions of a pair as the passes go: never backwards, never past
    # the pairs (run_rank's own count then ends whole).
    assert told == sorted(told) and told[-1] <= 20 and len(set(told)) > 50
    with pytest.raises(BadValueError, match="one dimension"):
        tune_in_step([functions[0], FUNCTIONS.resolve("parabola")], plans[:1],
                     [starts[0], [[1.0]]], 5)


@pytest.mark.parametrize("name", [f.name for f in FUNCTIONS if f.position_free])
def test_a_position_free_function_gives_each_row_the_same_bits_anywhere_in_a_batch(name):
    """What ``position_free`` promises (rank evaluates such a function once on the rows of
    every optimizer searching in step): a row's value and gradient are the same bits in a
    batch of 1000 rows, at any place in a window of it, and alone."""
    f = FUNCTIONS.resolve(name)
    fn = f.load()
    gen = torch.Generator().manual_seed(7)
    lo = torch.tensor([d[0] for d in f.domain], dtype=torch.float64)
    hi = torch.tensor([d[1] for d in f.domain], dtype=torch.float64)
    rows = lo + (hi - lo) * torch.rand(1000, f.dim, generator=gen, dtype=torch.float64)

    def value_and_grad(x):
        x = x.clone().requires_grad_(True)
        value = fn(x)
        value.sum().backward()
        return value.detach(), x.grad

    every, grads = value_and_grad(rows)
    for start, stop in ((0, 1), (3, 20), (17, 1000), (100, 117), (999, 1000)):
        part, part_grads = value_and_grad(rows[start:stop])
        assert torch.equal(part, every[start:stop]), (start, stop)
        assert torch.equal(part_grads, grads[start:stop]), (start, stop)
    alone = [value_and_grad(rows[k:k + 1]) for k in range(0, 1000, 37)]
    assert torch.equal(torch.cat([v for v, _ in alone]), every[::37])
    assert torch.equal(torch.cat([g for _, g in alone]), grads[::37])


def test_rank_tables_do_not_depend_on_batching_functions_together():
    """run_rank batches an lr-factor optimizer's functions of one dimension together (the
    1-D parabola apart from the 2-D ones) and each cell is still its own pair's search."""
    functions = [FUNCTIONS.resolve(n) for n in ("quadratic", "parabola", "booth")]
    result = run_rank(functions, [plan("adam")], starts=2, steps=20)
    for j, f in enumerate(functions):
        lr, scores, _, _ = tune_pair(f, plan("adam"), result.starts[j], 20)
        assert result.cells[0][j].lr == lr and result.cells[0][j].lrs_tried == len(scores.lr)


def test_starts_are_seeded_on_the_domain_and_do_not_depend_on_the_other_functions():
    beale = FUNCTIONS.resolve("beale")
    a = seeded_starts(beale, 5, 0)
    assert a == seeded_starts(beale, 5, 0) and a != seeded_starts(beale, 5, 1)
    assert len(a) == 5 and all(-4.5 <= v <= 4.5 for p in a for v in p)
    result = run_rank([FUNCTIONS.resolve("quadratic"), beale], [plan("sgd")], starts=5,
                      steps=5)
    assert result.starts[1] == a


def test_ranks_per_function_and_mean_rank():
    functions = [FUNCTIONS.resolve(f) for f in ("quadratic", "booth", "rosenbrock")]
    plans = [plan("sgd"), plan("adam"), plan("rmsprop")]
    ticks = []
    result = run_rank(functions, plans, starts=2, steps=50,
                      progress=lambda done, total: ticks.append((done, total)))
    # In pairs, fractions of a pair as the searches' passes go: never backwards, moving
    # all along (not only at the end), ending whole.
    assert ticks[-1] == (9, 9) and all(total == 9 for _, total in ticks)
    done = [d for d, _ in ticks]
    assert done == sorted(done) and sum(d < 4.5 for d in done) > 20
    for j, function in enumerate(functions):
        ranks = sorted(row[j].rank for row in result.cells)
        assert ranks == [1, 2, 3]
        # The rank follows the objective on each optimizer's mean tail at its tuned lr.
        tails = [row[j].score + function.f_min for row in result.cells]
        arrived = [row[j].arrived for row in result.cells]
        first = pick_best(tails, arrived, function.f_min, result.tol[j])
        assert result.cells[first][j].rank == 1
    for i, row in enumerate(result.cells):
        assert result.mean_rank[i] == pytest.approx(np.mean([c.rank for c in row]))
    assert result.order() == sorted(range(3), key=lambda i: (result.mean_rank[i], i))
    table = result.to_markdown().splitlines()
    assert table[0] == "| optimizer | mean rank | quadratic | booth | rosenbrock |"
    assert table[2].startswith(f"| {result.optimizers[result.order()[0]]} |")


def test_heatmap_numbers_and_cell_labels():
    from matplotlib.figure import Figure

    from optviz.render.rank import draw_rank, values

    functions = [FUNCTIONS.resolve(f) for f in ("quadratic", "booth")]
    result = run_rank(functions, [plan("sgd"), plan("adam")], starts=2, steps=40)
    ax = Figure().subplots()
    draw_rank(ax, result)
    shown = np.ma.filled(ax.images[0].get_array(), np.nan)
    order = result.order()
    for r, i in enumerate(order):
        for j, cell in enumerate(result.cells[i]):
            expected = math.log10(max(cell.score, result.tol[j]))
            assert shown[r, j] == pytest.approx(expected)
    np.testing.assert_allclose(shown, values(result))
    texts = {(t.get_position(), t.get_text()) for t in ax.texts}
    assert ((1, 0), f"lr {result.cells[order[0]][1].lr:.2g}") in texts
    assert ax.get_yticklabels()[0].get_text().endswith(
        f"({result.mean_rank[order[0]]:.1f})")


def test_colour_bar_has_a_pointed_end_where_cells_are_floored_at_the_tolerance():
    from optviz.render.rank import floored_cells, rank_figure

    functions = [FUNCTIONS.resolve(f) for f in ("quadratic", "rosenbrock")]
    result = run_rank(functions, [plan("adam"), plan("sgd")], starts=2, steps=150)
    below = sum(c.score is not None and c.score < result.tol[j]
                for row in result.cells for j, c in enumerate(row))
    assert below >= 1 and floored_cells(result) == below  # adam on the bowl: well below 1e-6
    fig = rank_figure(result)
    bar = fig.axes[0].images[0].colorbar
    assert bar.extend == "min"
    assert "at or below the tolerance" in bar.ax.get_ylabel()
    # Nothing floored (a short run on rosenbrock only): no pointed end.
    hard = run_rank([FUNCTIONS.resolve("rosenbrock")], [plan("sgd")], starts=2, steps=20)
    assert floored_cells(hard) == 0
    assert rank_figure(hard).axes[0].images[0].colorbar.extend == "neither"


def test_steps_colour_shows_the_slowest_start():
    from optviz.render.rank import values

    functions = [FUNCTIONS.resolve("quadratic")]
    result = run_rank(functions, [plan("momentum")], starts=3, steps=200, colour="steps")
    cell = result.cells[0][0]
    assert cell.arrived == max(cell.steps_to_tol)
    assert values(result)[0, 0] == cell.arrived


def test_cli_writes_heatmap_csv_and_markdown(tmp_path, png_pixels):
    png, table, md = tmp_path / "r.png", tmp_path / "r.csv", tmp_path / "r.md"
    res = runner.invoke(app, ["rank", "adam", "sgd:momentum=0.9", "--functions",
                              "quadratic,booth", "--steps", "30", "--starts", "2", "-o",
                              str(png), "--export", str(table), "--markdown", str(md)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert len(rows) == 2 * 2 * 2
    assert {r["optimizer"] for r in rows} == {"Adam", "SGD (momentum=0.9)"}
    assert md.read_text().splitlines()[0] == "| optimizer | mean rank | quadratic | booth |"
    assert md.read_text() in res.output + "\n"
    pixels = png_pixels(png)
    assert pixels.shape[0] > 300 and pixels.std() > 10


def test_rank_refuses_an_lr_and_reads_from_a_config(tmp_path):
    res = runner.invoke(app, ["rank", "adam:lr=0.1", "--functions", "quadratic"])
    assert res.exit_code == 2
    from optviz.config import parse_config

    spec = parse_config("kind: rank\noptimizers: [adam, 'sgd:momentum=0.9']\n"
                        "functions: [quadratic, booth]\nstarts: 3\nsteps: 100\n", "r.yaml")
    assert isinstance(spec, RankSpec)
    assert spec.functions == ["quadratic", "booth"] and spec.starts == 3
    assert build(RankSpec, {"functions": "beale, booth"}).functions == ["beale", "booth"]


def test_worker_processes_give_the_same_table(tmp_path, monkeypatch):
    """jobs=2 runs the searches in a pool; inside ``in_this_process`` (``gallery --jobs 1``)
    and in a gallery with one job, the same call starts none; the same table every way."""
    import concurrent.futures

    from optviz.gallery.build import build_gallery
    from optviz.processes import in_this_process, may_start_workers

    pools = []
    real = concurrent.futures.ProcessPoolExecutor

    def counted(*args, **kwargs):
        pools.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", counted)
    functions = [FUNCTIONS.resolve(f) for f in ("quadratic", "booth")]
    plans = [plan("sgd"), plan("adam")]
    one = run_rank(functions, plans, starts=2, steps=20, jobs=1)
    assert pools == [] and may_start_workers()
    with in_this_process():
        assert not may_start_workers()
        here = run_rank(functions, plans, starts=2, steps=20, jobs=2)
    assert pools == [] and may_start_workers()
    two = run_rank(functions, plans, starts=2, steps=20, jobs=2)
    assert len(pools) == 1
    assert one.to_dict() == two.to_dict() == here.to_dict()
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "r.yaml").write_text("kind: rank\noptimizers: [sgd, adam]\n"
                                           "functions: [quadratic, booth]\nstarts: 2\n"
                                           "steps: 20\njobs: 2\n")
    summary = build_gallery(tmp_path / "c", tmp_path / "out", jobs=1)
    assert [e.status for e in summary.entries] == ["rendered"] and len(pools) == 1


@pytest.mark.parametrize("args, message", [
    (["--functions", "nosuch"], "unknown function 'nosuch'"),
    (["adam", "--colour", "bad"], "--colour: Input should be 'loss' or 'steps'"),
    (["nosuchopt", "--functions", "booth"], "unknown optimizer 'nosuchopt'"),
    (["adam", "--starts", "0"], "--starts: must be >= 1"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    res = runner.invoke(app, ["rank", *args, "--steps", "5"])
    assert res.exit_code == 2
    assert res.output == f"optviz: error: {message}\n"


def test_the_rank_caption_says_ties_at_the_tolerance_are_broken_by_steps():
    """On the easy functions every run reaches the tolerance, the steps decide the rank and
    so dominate the mean rank: the caption says so."""
    from optviz.render.rank import rank_figure

    result = run_rank([FUNCTIONS.resolve("quadratic")], [plan("adam"), plan("sgd")], starts=2,
                      steps=20)
    lines = rank_figure(result)._suptitle.get_text().splitlines()
    assert lines[1:3] == ["ranked per function by tail f − f*;", "runs tied at the tolerance "
                          "by their steps to reach it (this decides most ranks)"]
    assert lines[3] == "20 steps, 2 starts per function"
    assert rank_figure(result, "mine")._suptitle.get_text() == "mine"
