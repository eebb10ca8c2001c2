"""What ``optviz rank`` costs: the default table's wall time, and a small subset both ways: the
batched lr search over every start at once against a hyperopt TPE search per pair (the recipe of
kozistr/pytorch_optimizer's and AidinHamedi/Optimizer-Benchmark's visualisations: one search of
hundreds of trials per optimizer x function, one run per trial).

    python benchmarks/bench_rank.py                  # the subset, both ways
    python benchmarks/bench_rank.py --full           # also the default table (target < 300 s)

Both sides judge an lr by the same objective (the mean over the starts of the worst f − f* of
the last 10% of the steps; a start that diverges makes the lr diverged). Timed in this warm
process. hyperopt is a benchmark-only dependency (``pip install -e .[bench]``).
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
import torch

from optviz.engines.rank import default_functions, default_optimizers, run_rank, seeded_starts
from optviz.engines.single import run_one
from optviz.engines.sweep import tail_steps, tolerance
from optviz.plan.optimizers import plan_optimizer
from optviz.registry import FUNCTIONS
from optviz.spec.figures import OptimizerSpec

TARGET_SECONDS = 300.0


def mean_tail(function, name, lr, starts, steps) -> float:
    plan = plan_optimizer(OptimizerSpec(name=name), lr=lr)
    tails = []
    for start in starts:
        run = run_one(function.load(), plan, torch.tensor(start, dtype=torch.float64), steps,
                      function.domain)
        if run.diverged:
            return math.inf
        tails.append(max(float(v) for v in run.loss[-tail_steps(steps):]))
    return float(np.mean(tails)) - function.f_min


def tpe_pair(function, name, starts, steps, evals) -> tuple[float, float]:
    from hyperopt import STATUS_OK, Trials, fmin, hp, tpe

    def objective(lr: float) -> dict:
        gap = mean_tail(function, name, lr, starts, steps)
        return {"loss": gap if math.isfinite(gap) else 1e30, "status": STATUS_OK}

    best = fmin(objective, hp.loguniform("lr", math.log(1e-5), math.log(10.0)),
                algo=tpe.suggest, max_evals=evals, trials=Trials(),
                rstate=np.random.default_rng(0), show_progressbar=False)
    lr = float(best["lr"])
    return lr, mean_tail(function, name, lr, starts, steps)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optimizers", default="adam,sgd,rmsprop")
    parser.add_argument("--functions", default="rosenbrock,beale")
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--evals", type=int, default=200, help="TPE trials per pair")
    parser.add_argument("--full", action="store_true", help="time the default table too")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    import logging

    logging.getLogger("hyperopt").setLevel(logging.WARNING)
    names = args.optimizers.split(",")
    functions = [FUNCTIONS.resolve(f) for f in args.functions.split(",")]
    plans = [plan_optimizer(OptimizerSpec(name=n)) for n in names]
    mean_tail(functions[0], names[0], 1e-3, [list(functions[0].start)], 3)  # warm torch
    t0 = time.perf_counter()
    ours = run_rank(functions, plans, starts=args.starts, steps=args.steps, device=args.device)
    t_ours = time.perf_counter() - t0
    t_tpe = 0.0
    worse = 0
    try:
        import hyperopt  # noqa: F401
    except ImportError:
        print("needs hyperopt for the comparison: pip install -e .[bench]", file=sys.stderr)
        return 2
    for i, name in enumerate(names):
        for j, function in enumerate(functions):
            starts = seeded_starts(function, args.starts, 0)
            t0 = time.perf_counter()
            lr, gap = tpe_pair(function, name, starts, args.steps, args.evals)
            t_tpe += time.perf_counter() - t0
            cell = ours.cells[i][j]
            tol = tolerance(function)
            mine = math.inf if cell.score is None else cell.score
            worse += max(mine, tol) > max(gap, tol) * (1 + 1e-9)
            print(f"{name:8s} {function.name:12s} rank: lr {cell.lr or math.nan:9.3g} tail "
                  f"{mine:9.2e}   TPE: lr {lr:9.3g} tail {gap:9.2e}", flush=True)
    pairs = len(names) * len(functions)
    print(f"\nsubset {len(names)} optimizers x {len(functions)} functions, {args.starts} starts,"
          f" {args.steps} steps: optviz rank {t_ours:.1f} s, TPE ({args.evals} trials a pair) "
          f"{t_tpe:.1f} s, ratio {t_tpe / t_ours:.0f}x; rank worse than TPE on {worse}/{pairs}")
    code = 0
    if args.full:
        names = default_optimizers()
        functions = [FUNCTIONS.resolve(f) for f in default_functions()]
        t0 = time.perf_counter()
        run_rank(functions, [plan_optimizer(OptimizerSpec(name=n)) for n in names],
                 device=args.device)
        full = time.perf_counter() - t0
        print(f"default table ({len(names)} optimizers x {len(functions)} functions, 5 starts, "
              f"500 steps) on {args.device}: {full:.1f} s (target < {TARGET_SECONDS:.0f} s)")
        code = 0 if full < TARGET_SECONDS else 1
    return code


if __name__ == "__main__":
    sys.exit(main())
