"""Run every benchmark, one fresh process each, and say which missed its target.

    python -m benchmarks            # from the repository root
    python -m benchmarks --quick    # small sizes: a smoke run in under a minute

Each ``bench_*.py`` here is also a script of its own with its own options (``--help``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The order: start-up first, while nothing else has warmed the file cache for it.
ORDER = ("bench_startup.py", "bench_picture.py", "bench_watch.py", "bench_batched.py",
         "bench_gallery.py", "bench_workers.py", "bench_lr_search.py", "bench_rank.py")
QUICK = {
    "bench_startup.py": ["--repeat", "3"],
    "bench_png.py": ["--configs", "showcase/sweep_adam_rosenbrock", "--repeat", "1"],
    "bench_ticks.py": ["--configs", "schedules/plateau", "--repeat", "4"],
    "bench_gc.py": ["--configs", "seed/parabola_lr,schedules/step", "--repeat", "1"],
    "bench_batched.py": ["--grid", "64", "--steps", "100", "--sample", "8"],
    "bench_gallery.py": ["-n", "4"],
    "bench_workers.py": ["-n", "4"],
    "bench_animation.py": ["--steps", "30", "--repeat", "1"],
    "bench_picture.py": ["--repeat", "3"],
    "bench_watch.py": ["--edits", "3", "--repeat", "1"],
    "bench_lr_search.py": ["--optimizers", "adam,sgd", "--functions", "rosenbrock,beale",
                           "--evals", "50"],
    "bench_rank.py": ["--optimizers", "adam,sgd", "--functions", "booth", "--starts", "2",
                      "--steps", "100", "--evals", "30"],
}
FULL = {"bench_rank.py": ["--full"]}  # the default table's wall time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (the targets are set for the full ones)")
    args = parser.parse_args()
    found = sorted(p.name for p in HERE.glob("bench_*.py"))
    scripts = [n for n in ORDER if n in found] + [n for n in found if n not in ORDER]
    failed = []
    for name in scripts:
        extra = QUICK.get(name, []) if args.quick else FULL.get(name, [])
        print(f"== {name} {' '.join(extra)}".rstrip(), flush=True)
        t0 = time.perf_counter()
        code = subprocess.run([sys.executable, str(HERE / name), *extra]).returncode
        print(f"   ({time.perf_counter() - t0:.0f} s{', exit code ' + str(code) if code else ''})"
              "\n", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"missed a target or failed: {', '.join(failed)}")
    else:
        print(f"all {len(scripts)} benchmarks met their targets")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
