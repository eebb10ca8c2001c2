"""``optviz rank``'s searches on every function in one batch per pass (``tune_together``)
against one search per function (``tune_pair``), and every optimizer's searches in step
(``tune_in_step``: one evaluation of each function and one backward per step for all the
optimizers) against one optimizer at a time together, side by side in one process, one torch
thread, on the same starts; all must give the same lrs.

    python benchmarks/bench_rank_together.py [--optimizers adam,sgd,rmsprop] [--starts 5]
        [--steps 500] [--repeat 1]

The functions are every one with a known minimum (the default table's), 2-D ones together
(the 1-D parabola alone on both sides). Not part of the test suite: it prints each optimizer's
two times and their ratio, the totals, then the optimizers in step against the total of
"together".
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--optimizers", default="adam,sgd,momentum,rmsprop,adagrad")
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    import torch

    from optviz.engines.rank import (
        default_functions,
        lr_is_a_factor,
        seeded_starts,
        tune_in_step,
        tune_pair,
        tune_together,
    )
    from optviz.plan.optimizers import plan_optimizer
    from optviz.registry import FUNCTIONS
    from optviz.spec.figures import OptimizerSpec

    torch.set_num_threads(1)
    functions = [FUNCTIONS.resolve(n) for n in default_functions()]
    flat = [f for f in functions if f.dim == 2]
    starts = [seeded_starts(f, args.starts, 0) for f in flat]
    totals = [0.0, 0.0]
    print(f"{len(flat)} 2-D functions, {args.starts} starts, {args.steps} steps, 1 thread")
    print(f"{'optimizer':<10} {'one by one':>11} {'together':>9} {'ratio':>6}")
    plans, lrs = [], []
    for name in args.optimizers.split(","):
        plan = plan_optimizer(OptimizerSpec(name=name))
        plans.append(plan)
        assert lr_is_a_factor(plan), f"{name}: its lr is not a factor; rank runs it by pairs"
        times = [[], []]
        for _ in range(args.repeat):
            start = time.perf_counter()
            alone = [tune_pair(f, plan, s, args.steps, scaled=True)[0]
                     for f, s in zip(flat, starts, strict=True)]
            times[0].append(time.perf_counter() - start)
            start = time.perf_counter()
            together = [t[0] for t in tune_together(flat, plan, starts, args.steps)]
            times[1].append(time.perf_counter() - start)
            assert together == alone, f"{name}: the lrs differ"
        lrs.append(together)
        one, both = min(times[0]), min(times[1])
        totals[0] += one
        totals[1] += both
        print(f"{name:<10} {one:>10.2f}s {both:>8.2f}s {both / one:>6.3f}")
    print(f"{'total':<10} {totals[0]:>10.2f}s {totals[1]:>8.2f}s {totals[1] / totals[0]:>6.3f}")
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        in_step = tune_in_step(flat, plans, starts, args.steps)
        times.append(time.perf_counter() - start)
        assert [[t[0] for t in row] for row in in_step] == lrs, "in step: the lrs differ"
    print(f"{'in step':<10} {totals[1]:>10.2f}s {min(times):>8.2f}s "
          f"{min(times) / totals[1]:>6.3f}   (every optimizer in step against 'together')")


if __name__ == "__main__":
    main()
