"""How good and how cheap ``--lr auto``'s search is: the batched coarse grid plus refining passes
against a 200-evaluation hyperopt TPE search of the same objective, on every pair of a set of
torch optimizers and the test functions with a known minimum, at the picture's own steps.

    python benchmarks/bench_lr_search.py [--steps 100] [--evals 200] [--optimizers adam,sgd]
    nice python benchmarks/bench_lr_search.py --checkpoint /tmp/lr.jsonl   # resumable
    python benchmarks/bench_lr_search.py --checkpoint /tmp/lr.jsonl --report --markdown

Both searches judge an lr by the sweep's objective: the worst f − f* of the last 10% of the
steps (``tail_steps``), a diverged run counting as infinitely bad. TPE searches lr log-uniform
over the same range as the coarse grid (1e-5 to 10), one lone run (``run_one``, as the picture
runs it) per evaluation. The lr each search picks is then run alone and its tail loss compared:
ours "no worse" when max(gap, tol) is at most TPE's (tol: the sweep's tolerance). Both are timed
in this warm process (torch and the first optimizer step imported beforehand), in wall time and
in CPU time (``time.process_time``: on a shared machine, what a niced run's wall time hides).
hyperopt is a benchmark-only dependency (``pip install -e .[bench]``).

The whole set takes hours on a shared 2-core machine: ``--checkpoint FILE`` appends each finished
pair to FILE as one JSON line and skips the pairs already there, so a stopped run resumes (several
processes may share one file, each given its own ``--optimizers``); ``--report`` only summarises
the file.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from optviz.engines.single import run_one
from optviz.engines.sweep import auto_lr, tail_steps, tolerance
from optviz.errors import UnsupportedError
from optviz.plan.optimizers import plan_optimizer
from optviz.registry import FUNCTIONS
from optviz.spec.figures import OptimizerSpec

OPTIMIZERS = ("adam", "adamw", "sgd", "momentum", "rmsprop", "adagrad", "nadam", "lion")
TARGET_SHARE = 0.9  # of pairs where ours is no worse
TARGET_TIME = 0.2  # ours / TPE
LO, HI = 1e-5, 10.0
KEYS = ("optimizer", "function", "ours_lr", "ours_gap", "tpe_lr", "tpe_gap", "ratio", "ours_s",
        "tpe_s")


def gap_at(function, name: str, lr: float, start, steps: int) -> float:
    """The objective of one lone run: the worst f − f* of its last steps, inf if it diverged."""
    plan = plan_optimizer(OptimizerSpec(name=name), lr=lr)
    run = run_one(function.load(), plan, torch.tensor(start, dtype=torch.float32), steps,
                  function.domain)
    if run.diverged:
        return math.inf
    tail = max(float(v) for v in run.loss[-tail_steps(steps):])
    return tail - function.f_min if math.isfinite(tail) else math.inf


def tpe_search(function, name: str, start, steps: int, evals: int, seed: int) -> float:
    from hyperopt import STATUS_OK, Trials, fmin, hp, tpe

    def objective(lr: float) -> dict:
        gap = gap_at(function, name, lr, start, steps)
        return {"loss": gap if math.isfinite(gap) else 1e30, "status": STATUS_OK}

    best = fmin(objective, hp.loguniform("lr", math.log(LO), math.log(HI)), algo=tpe.suggest,
                max_evals=evals, trials=Trials(), rstate=np.random.default_rng(seed),
                show_progressbar=False)
    return float(best["lr"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="the trajectory's default")
    parser.add_argument("--evals", type=int, default=200)
    parser.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    parser.add_argument("--functions", default=None, help="default: every one with a minimum")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--markdown", action="store_true", help="the per-pair table too")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="a JSON-lines file of finished pairs: appended to, and resumed from")
    parser.add_argument("--report", action="store_true",
                        help="only summarise the pairs in --checkpoint (of the chosen sets)")
    args = parser.parse_args()
    try:
        import hyperopt  # noqa: F401
    except ImportError:
        print("needs hyperopt: pip install -e .[bench]", file=sys.stderr)
        return 2
    import logging

    logging.getLogger("hyperopt").setLevel(logging.WARNING)
    names = args.optimizers.split(",")
    functions = ([FUNCTIONS.resolve(f) for f in args.functions.split(",")] if args.functions
                 else [f for f in FUNCTIONS if f.f_min is not None])
    done = {}
    if args.checkpoint is not None and args.checkpoint.exists():
        for line in args.checkpoint.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                if row["steps"] == args.steps and row["evals"] == args.evals:
                    done[row["optimizer"], row["function"]] = row
    if not args.report:
        # Warm: torch, the first optimizer step (torch._dynamo), hyperopt.
        gap_at(functions[0], names[0], 1e-3, functions[0].start, 5)
    rows = []
    t_ours = t_tpe = cpu_ours = cpu_tpe = 0.0
    cpu_pairs = 0
    for name in names:
        for function in functions:
            if (name, function.name) in done or args.report:
                row = done.get((name, function.name))
                if row is not None:
                    rows.append(tuple(row[k] for k in KEYS))
                    t_ours += row["ours_s"]
                    t_tpe += row["tpe_s"]
                    if "ours_cpu_s" in row:
                        cpu_ours += row["ours_cpu_s"]
                        cpu_tpe += row["tpe_cpu_s"]
                        cpu_pairs += 1
                continue
            start, tol = list(function.start), tolerance(function)
            plan = plan_optimizer(OptimizerSpec(name=name))
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                ours: float | None = auto_lr(function, plan, start=start, steps=args.steps)
            except UnsupportedError:  # diverged at every lr of the grid (SGD on goldstein_price)
                ours = None
            t1, c1 = time.perf_counter(), time.process_time()
            theirs = tpe_search(function, name, start, args.steps, args.evals, args.seed)
            t2, c2 = time.perf_counter(), time.process_time()
            cpu_ours += c1 - c0
            cpu_tpe += c2 - c1
            cpu_pairs += 1
            t_ours += t1 - t0
            t_tpe += t2 - t1
            g_ours = (math.inf if ours is None
                      else max(gap_at(function, name, ours, start, args.steps), tol))
            g_tpe = max(gap_at(function, name, theirs, start, args.steps), tol)
            ratio = g_ours / g_tpe if math.isfinite(g_tpe) else (1.0 if math.isinf(g_ours)
                                                                  else 0.0)
            rows.append((name, function.name, ours, g_ours, theirs, g_tpe, ratio,
                         t1 - t0, t2 - t1))
            if args.checkpoint is not None:
                record = dict(zip(KEYS, rows[-1], strict=True), steps=args.steps,
                              evals=args.evals, ours_cpu_s=c1 - c0, tpe_cpu_s=c2 - c1)
                with args.checkpoint.open("a") as out:  # one short line: appended whole
                    out.write(json.dumps(record) + "\n")
            print(f"{name:9s} {function.name:16s} ours lr {ours or math.nan:9.3g} "
                  f"gap {g_ours:9.2e}  "
                  f"TPE lr {theirs:9.3g} gap {g_tpe:9.2e}  ratio {ratio:8.3g}  "
                  f"{t1 - t0:5.2f} s vs {t2 - t1:5.2f} s", flush=True)
    if not rows:
        print("no finished pairs", file=sys.stderr)
        return 1
    no_worse = sum(r[6] <= 1 + 1e-9 for r in rows)
    share = no_worse / len(rows)
    median = statistics.median(r[6] for r in rows)
    time_ratio = t_ours / t_tpe
    if args.markdown:
        print("\n| optimizer | function | ours: lr | ours: tail f − f* | TPE: lr "
              "| TPE: tail f − f* | ratio | ours s | TPE s |")
        print("|---|---|---|---|---|---|---|---|---|")
        def gap(v: float) -> str:
            return f"{v:.2e}" if math.isfinite(v) else "diverged"

        for r in rows:
            lr = "—" if r[2] is None else f"{r[2]:.3g}"
            print(f"| {r[0]} | {r[1]} | {lr} | {gap(r[3])} | {r[4]:.3g} | {gap(r[5])} "
                  f"| {r[6]:.3g} | {r[7]:.2f} | {r[8]:.2f} |")
    print(f"\n{len(names)} optimizers x {len(functions)} functions, {args.steps} steps, "
          f"TPE {args.evals} evaluations; {len(rows)}/{len(names) * len(functions)} pairs done")
    print(f"no worse than TPE: {no_worse}/{len(rows)} pairs ({share:.0%}, target "
          f"{TARGET_SHARE:.0%}); median ratio of max(gap, tol) {median:.3g} (target <= 1)")
    print(f"time: ours {t_ours:.1f} s, TPE {t_tpe:.1f} s, ratio {time_ratio:.3f} "
          f"(target <= {TARGET_TIME})")
    if cpu_pairs:  # CPU time: what a loaded machine's wall time hides (process_time)
        print(f"CPU time on the {cpu_pairs} pairs that recorded it: ours {cpu_ours:.1f} s, "
              f"TPE {cpu_tpe:.1f} s, ratio {cpu_ours / cpu_tpe:.3f}")
    complete = len(rows) == len(names) * len(functions)
    ok = complete and share >= TARGET_SHARE and median <= 1 and time_ratio <= TARGET_TIME
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
