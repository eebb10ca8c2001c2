"""Tick work done once (``optviz.render.ticks``): a figure's PNG written with each axis'
ticks worked out once per measurement and draw, against matplotlib's own repeats, side by side
in one process on freshly drawn figures, alternating; both must give the same bytes.

    python benchmarks/bench_ticks.py [--configs schedules/summary,...] [--repeat 5]

Not part of the test suite: it prints each figure's two medians (CPU time) and their ratio,
then the totals. The schedule's step marks (one artist instead of a tick object per step) are
in both sides; ``tests/test_ticks.py`` compares their pixels with matplotlib's minor ticks.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ("showcase/all_beale,seed/handwritten_2x4,schedules/summary,schedules/plateau,"
           "showcase/sweep_adam_rosenbrock,showcase/linear_gd_sgd_minibatch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import optviz.render.ticks as ticks
    from optviz.config import load_config
    from optviz.figures.formats import figure_bytes
    from optviz.figures.write import render_figure

    once = ticks.ticks_once
    sides = {"once": once, "matplotlib": lambda fig: contextlib.nullcontext()}
    totals = dict.fromkeys(sides, 0.0)
    print(f"{'figure':36} {'matplotlib':>11} {'once':>9} {'ratio':>6}")
    for name in args.configs.split(","):
        rendered = render_figure(load_config(ROOT / "configs" / f"{name}.yaml"))
        times: dict[str, list[float]] = {side: [] for side in sides}
        out: dict[str, bytes] = {}
        for r in range(args.repeat):
            order = list(sides.items())
            for side, scope in order if r % 2 else order[::-1]:  # each side first in turn
                ticks.ticks_once = scope
                rendered.__dict__.pop("figure", None)  # a figure never laid out or drawn
                fig = rendered.figure
                start = time.process_time()
                out[side] = figure_bytes(fig, ".png")
                times[side].append(time.process_time() - start)
        ticks.ticks_once = once
        assert out["once"] == out["matplotlib"], f"{name}: the bytes differ"
        a, b = (statistics.median(times[side]) for side in ("matplotlib", "once"))
        totals["matplotlib"] += a
        totals["once"] += b
        print(f"{name:36} {a:10.3f}s {b:8.3f}s {b / a:6.3f}")
    a, b = totals["matplotlib"], totals["once"]
    print(f"{'total':36} {a:10.3f}s {b:8.3f}s {b / a:6.3f}")


if __name__ == "__main__":
    main()
