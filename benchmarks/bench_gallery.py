"""How much the gallery's worker pool saves: N small configs rendered by one
``optviz gallery`` call against one ``optviz render`` process per figure, in the same run.

    python benchmarks/bench_gallery.py [-n 12] [--jobs N] [--steps 100]

Not part of the test suite: it only prints times. Both sides run as fresh processes, so both
pay Python's and the CLI's start-up; the difference is torch's and matplotlib's imports (and
torch._dynamo's warm-up), paid once per worker against once per figure.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OPTIMIZERS = ["adam", "sgd", "rmsprop", "adagrad", "adamw", "nadam", "adadelta", "adamax"]
FUNCTIONS = ["quadratic", "rosenbrock", "himmelblau", "beale"]


def write_configs(folder: Path, n: int, steps: int) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for i in range(n):
        path = folder / f"fig{i:03d}.yaml"
        path.write_text(f"optimizers: [{OPTIMIZERS[i % len(OPTIMIZERS)]}]\n"
                        f"function: {FUNCTIONS[i % len(FUNCTIONS)]}\nlr: 0.01\nsteps: {steps}\n")
        paths.append(path)
    return paths


def timed(commands: list[list[str]]) -> float:
    start = time.perf_counter()
    for command in commands:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=12, help="configs to render (default 12)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="gallery workers (default: one per core)")
    parser.add_argument("--steps", type=int, default=100, help="optimizer steps per figure")
    args = parser.parse_args()

    optviz = [sys.executable, "-m", "optviz"]
    with tempfile.TemporaryDirectory(prefix="optviz-bench-") as tmp:
        root = Path(tmp)
        configs = write_configs(root / "configs", args.n, args.steps)
        jobs = ["--jobs", str(args.jobs)] if args.jobs else []
        gallery = timed([[*optviz, "gallery", str(root / "configs"), "--out",
                          str(root / "gallery"), "--force", *jobs]])
        (root / "single").mkdir()
        single = timed([[*optviz, "render", str(c), "-o", str(root / "single" / f"{c.stem}.png")]
                        for c in configs])
        # The same pictures both ways, or the comparison means nothing.
        for c in configs:
            same = ((root / "gallery" / f"{c.stem}.png").read_bytes()
                    == (root / "single" / f"{c.stem}.png").read_bytes())
            if not same:
                sys.exit(f"{c.name}: the two ways drew different PNGs")

    workers = args.jobs or os.cpu_count()
    print(f"{args.n} figures, {args.steps} steps each, {os.cpu_count()} cores")
    print(f"optviz gallery --jobs {workers}: {gallery:7.2f} s  ({gallery / args.n:.2f} s/figure)")
    print(f"optviz render x {args.n}:      {single:7.2f} s  ({single / args.n:.2f} s/figure)")
    print(f"gallery is {single / gallery:.1f}x faster")


if __name__ == "__main__":
    main()
