"""The collector setting of optviz's processes (``optviz.collector``: threshold 100,000, what is
imported frozen) against Python's default (700): a fresh process per side renders the same
gallery configs from a cold start (imports and first figures included, as each CLI process and
each new gallery worker does), then renders them again warm; the sides alternate.

    python benchmarks/bench_gc.py [--configs showcase/adaptive_side_by_side,...] [--repeat 2]

Both sides render each figure's image and interactive twin and must write the same bytes. Not
part of the test suite: it prints, per side, the time spent in the collector (timed with
``gc.callbacks``), the number of collections and the whole time, cold and warm, then the
ratios.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ("showcase/adaptive_side_by_side,motion/valley_race,schedules/plateau,"
           "showcase/sweep_adam_rosenbrock,seed/handwritten_2x4,showcase/warmup_schedules")
SIDES = ("default", "optviz")


class Collector:
    """Seconds spent in the collector and collections made since it was made."""

    def __init__(self) -> None:
        self.seconds, self.count, self._start = 0.0, 0, 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.count += 1


def _render(name: str) -> bytes:
    from optviz.config import load_config
    from optviz.figures.write import render_figure
    from optviz.gallery.build import output_name, twin_files

    spec = load_config(ROOT / "configs" / f"{name}.yaml")
    image = output_name(PurePosixPath(f"{name}.yaml"), spec, ROOT / "gallery")
    rendered = render_figure(spec)
    twins = twin_files(rendered, image, "plotly.min.js")
    return rendered.image_bytes(image.suffix) + b"".join(twins.values())


def _side(side: str, names: list[str]) -> None:
    """One side in this (fresh) process: prints its numbers as one JSON line."""
    collector = Collector()
    if side == "optviz":
        from optviz.collector import collect_less_often

        collect_less_often(freeze=True)
    import torch

    torch.set_num_threads(1)
    out: dict[str, object] = {}
    digest = hashlib.sha256()
    for phase in ("cold", "warm"):
        seconds, count, start = collector.seconds, collector.count, time.perf_counter()
        for name in names:
            digest.update(_render(name))
        out[phase] = [collector.seconds - seconds, collector.count - count,
                      time.perf_counter() - start]
    out["digest"] = digest.hexdigest()
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = args.configs.split(",")
    if args.side:
        _side(args.side, names)
        return
    totals = {side: {"cold": [0.0, 0, 0.0], "warm": [0.0, 0, 0.0]} for side in SIDES}
    digests = set()
    for r in range(args.repeat):
        for side in (SIDES if r % 2 == 0 else SIDES[::-1]):
            line = subprocess.run([sys.executable, __file__, "--side", side, "--configs",
                                   args.configs], capture_output=True, text=True, check=True,
                                  env={"OMP_NUM_THREADS": "1", **os.environ})
            got = json.loads(line.stdout.strip().splitlines()[-1])
            digests.add(got["digest"])
            for phase in ("cold", "warm"):
                totals[side][phase] = [a + b for a, b in zip(totals[side][phase], got[phase],
                                                             strict=True)]
    assert len(digests) == 1, "the two sides wrote different bytes"
    print(f"{'side':10} {'phase':6} {'collector':>10} {'collections':>12} {'whole':>9}")
    for side in SIDES:
        for phase in ("cold", "warm"):
            seconds, count, whole = totals[side][phase]
            print(f"{side:10} {phase:6} {seconds:9.2f}s {int(count):12,} {whole:8.2f}s")
    for phase in ("cold", "warm"):
        (ga, _, wa), (gb, _, wb) = (totals[s][phase] for s in SIDES)
        print(f"{phase}: collector {ga:.2f}s -> {gb:.2f}s, whole {wa:.2f}s -> {wb:.2f}s "
              f"(ratio {wb / wa:.3f})")


if __name__ == "__main__":
    main()
