"""A figure's PNG bytes: optviz's encoder (layout engine run once, Pillow RGB at zlib level 3)
against matplotlib's ``savefig`` PNG (layout in a draw of its own, RGBA at level 6), side by side
in one process on the same drawn figures, alternating; both must have the same pixels.

    python benchmarks/bench_png.py [--configs showcase/all_beale,...] [--repeat 3]

Not part of the test suite: it prints each figure's two medians, their ratio and both sizes,
then the totals.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ("showcase/all_beale,showcase/sweep_adam_rosenbrock,seed/handwritten_2x4,"
           "schedules/summary,showcase/rank_all,showcase/basin_adam_rosenbrock")


def _savefig_png(fig, dpi: int) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _pixels(data: bytes):
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from optviz.config import load_config
    from optviz.figures.formats import DEFAULT_DPI, figure_bytes
    from optviz.figures.write import render_figure

    totals = [0.0, 0.0]
    print(f"{'figure':36} {'savefig':>9} {'optviz':>9} {'ratio':>6} {'sizes (kB)':>14}")
    for name in args.configs.split(","):
        # one figure per side and repeat, drawn before the clock starts: a figure's first
        # save lays it out, and each side must start from a figure never saved
        figs = [[render_figure(load_config(ROOT / "configs" / f"{name}.yaml")).figure
                 for _ in range(args.repeat)] for _ in range(2)]
        times: list[list[float]] = [[], []]
        out: list[bytes] = [b"", b""]
        for r in range(args.repeat):
            for side, encode in enumerate((lambda f: _savefig_png(f, DEFAULT_DPI),
                                           lambda f: figure_bytes(f, ".png"))):
                start = time.perf_counter()
                out[side] = encode(figs[side][r])
                times[side].append(time.perf_counter() - start)
        assert (_pixels(out[0]) == _pixels(out[1])).all(), f"{name}: the pixels differ"
        a, b = (statistics.median(t) for t in times)
        totals[0] += a
        totals[1] += b
        print(f"{name:36} {a:8.3f}s {b:8.3f}s {b / a:6.3f} "
              f"{len(out[0]) // 1000:6} {len(out[1]) // 1000:6}")
    print(f"{'total':36} {totals[0]:8.3f}s {totals[1]:8.3f}s {totals[1] / totals[0]:6.3f}")


if __name__ == "__main__":
    main()
