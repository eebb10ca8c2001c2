"""Warm workers: ``optviz gallery --check`` (a new process for every figure) with workers
forked from the warm forkserver (``optviz.processes``) against spawned workers, each a new
interpreter importing torch, torch._dynamo and matplotlib again; side by side in one run.

    python benchmarks/bench_workers.py [-n 8] [--jobs 2] [--steps 50]

Both sides render the same N small configs into their own folder with ``check_gallery``
(``fresh=True``), and must find them in step with a gallery built first. Not part of the test
suite: it prints the two times and their ratio.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_gallery import write_configs


def _spawned() -> object:
    return multiprocessing.get_context("spawn")


def check(configs: Path, gallery: Path, jobs: int, spawned: bool) -> float:
    import optviz.processes
    from optviz.gallery.build import check_gallery

    original = optviz.processes.worker_context
    if spawned:
        optviz.processes.worker_context = _spawned
    try:
        start = time.perf_counter()
        found = check_gallery(configs, gallery, jobs=jobs, fresh=True)
        seconds = time.perf_counter() - start
    finally:
        optviz.processes.worker_context = original
    if found.out_of_step or found.summary.failed:
        raise SystemExit(f"{'spawned' if spawned else 'forked'} workers: out of step: "
                         f"{found.out_of_step}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=8, help="configs (default 8)")
    parser.add_argument("--jobs", type=int, default=2, help="workers (default 2)")
    parser.add_argument("--steps", type=int, default=50, help="optimizer steps per figure")
    args = parser.parse_args()
    from optviz.gallery.build import build_gallery

    with tempfile.TemporaryDirectory(prefix="optviz-bench-") as tmp:
        root = Path(tmp)
        write_configs(root / "configs", args.n, args.steps)
        import optviz.processes

        # Built with spawned workers, so that the forked side starts the forkserver itself
        # (its imports are counted there, as in a fresh 'optviz gallery --check').
        original, optviz.processes.worker_context = optviz.processes.worker_context, _spawned
        build_gallery(root / "configs", root / "gallery", jobs=args.jobs)
        optviz.processes.worker_context = original
        forked = check(root / "configs", root / "gallery", args.jobs, spawned=False)
        spawned = check(root / "configs", root / "gallery", args.jobs, spawned=True)
    print(f"gallery --check, {args.n} figures, a new process each, {args.jobs} at a time")
    print(f"  forked from the warm forkserver: {forked:6.1f} s (its start included)")
    print(f"  spawned interpreters:            {spawned:6.1f} s")
    print(f"  ratio spawned / forked: {spawned / forked:.1f}x")


if __name__ == "__main__":
    main()
