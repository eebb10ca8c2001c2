"""The lr search behind ``--lr auto``: the coarse grid then batched refining passes around the
best few, judged by the same objective and tie rule as the sweep."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from optviz.engines.single import run_one
from optviz.engines.sweep import (
    REFINE_PASSES,
    Scores,
    midpoints,
    pick_best,
    ranked,
    refinement,
    run_sweep,
    search_lrs,
)
from optviz.plan.optimizers import plan_optimizer
from optviz.registry import FUNCTIONS
from optviz.spec.figures import OptimizerSpec
from optviz.spec.sweep import AUTO_GRID, parse_lr_grid


def test_the_refinement_finds_adams_narrow_region_on_rosenbrock():
    # The example: the coarse grid's best, 1.585, ends at f = 3.5e-4; the good region
    # near 1.08 is about 1% wide, between two grid points.
    rosenbrock = FUNCTIONS.resolve("rosenbrock")
    adam = plan_optimizer(OptimizerSpec(name="adam"))
    # One refined search; its first pass is the coarse grid, judged alone here as auto_lr with
    # refine=0 judges it (the same runs: a batch's rows do not depend on the other rows).
    result = run_sweep(rosenbrock, adam, parse_lr_grid(AUTO_GRID), start=[-2.0, 2.0],
                       steps=500, with_path=False, refine=REFINE_PASSES)
    grid = [result.lr.index(v) for v in parse_lr_grid(AUTO_GRID)]
    coarse = grid[pick_best([result.tail_loss[i] for i in grid],
                            [result.steps_to_tol[i] for i in grid], 0.0, result.tol)]
    assert result.lr[coarse] == pytest.approx(parse_lr_grid(AUTO_GRID)[52])  # 10 ** 0.2
    lr = result.best_lr  # what auto_lr returns (it is this run_sweep: test_sweep.py)
    assert 1.07 < lr < 1.09
    run = run_one(rosenbrock.load(), plan_optimizer(OptimizerSpec(name="adam"), lr=lr),
                  torch.tensor([-2.0, 2.0]), 500, rosenbrock.domain)
    assert np.abs(np.array(run.points[-1]) - 1.0).max() < 1e-3


def test_the_refined_sweep_holds_every_lr_sorted_and_each_row_equals_a_lone_run():
    rosenbrock = FUNCTIONS.resolve("rosenbrock")
    adam = plan_optimizer(OptimizerSpec(name="adam"))
    grid = parse_lr_grid("0.1:3:6")
    result = run_sweep(rosenbrock, adam, grid, start=[-2.0, 2.0], steps=200, with_path=False,
                       refine=2)
    assert len(result.lr) > len(grid) and set(grid) <= set(result.lr)
    assert result.lr == sorted(result.lr)
    best = result.best
    assert best == pick_best(result.tail_loss, result.steps_to_tol, 0.0, result.tol)
    coarse_best = min(result.tail_loss[result.lr.index(v)] for v in grid)
    assert result.tail_loss[best] <= coarse_best
    # The best row against a lone run at its lr: the same tail loss (the worst of the last 20).
    run = run_one(rosenbrock.load(), plan_optimizer(OptimizerSpec(name="adam"),
                                                    lr=result.lr[best]),
                  torch.tensor([-2.0, 2.0]), 200, rosenbrock.domain)
    assert result.tail_loss[best] == pytest.approx(max(run.loss[-20:]), rel=1e-6)


def test_refinement_points_lie_between_the_seeds_neighbours():
    lrs = [0.01, 0.1, 1.0, 10.0]
    more = refinement(lrs, [2, 0], seeds=2, points=3)
    around_1 = [v for v in more if 0.1 < v < 10]
    np.testing.assert_allclose(around_1, [10 ** -0.5, 10 ** 0.5])  # 1.0 itself: known
    # The smallest lr is refined one spacing beyond the grid's end too (0.01: known).
    below = sorted(v for v in more if v < 0.1)
    np.testing.assert_allclose(below, [10 ** -2.5, 10 ** -1.5])
    assert len(more) == 4


def test_search_keeps_the_tie_rule_the_grid_wins_ties():
    # Every lr at or below 1 arrives within tolerance at step 5: tied on the first two keys;
    # the tail loss breaks ties, then the earlier candidate, and the grid comes first.
    def evaluate(values: list[float]) -> Scores:
        return Scores(lr=values, tail_loss=[0.0 if v <= 1 else 1.0 for v in values],
                      steps_to_tol=[5 if v <= 1 else None for v in values],
                      final_loss=[0.0] * len(values), diverged=[None] * len(values))

    scores, best = search_lrs(evaluate, [0.1, 1.0, 10.0], 0.0, 1e-6, passes=2)
    assert best == 0 and scores.lr[best] == 0.1
    assert scores.passes == 4 and len(scores.lr) > 3  # the grid, its midpoints, 2 passes


def test_search_stops_when_every_lr_diverged():
    calls = []

    def evaluate(values: list[float]) -> Scores:
        calls.append(values)
        return Scores(lr=values, tail_loss=[math.nan] * len(values),
                      steps_to_tol=[None] * len(values), final_loss=[None] * len(values),
                      diverged=[1] * len(values))

    _, best = search_lrs(evaluate, [1.0, 2.0], 0.0, 1e-6)
    assert best is None and len(calls) == 1


def test_ranked_orders_by_the_objective():
    assert ranked([1e-3, 1e-9, None, 1e-12], [None, 40, None, 50], 0.0, 1e-6) == [1, 3, 0]
    assert REFINE_PASSES >= 1


def test_midpoints_skip_pairs_that_both_diverged():
    mids = midpoints([1.0, 4.0, 16.0, 64.0], [0.5, None, math.nan, None])
    assert mids == [2.0]  # 4-16 and 16-64 both diverged
