"""A 100-frame GIF of a trajectory figure against the still PNG of the same figure.

Both sides start from the same computed runs (the optimizers are not timed) and include
everything after: the still draws its figure and encodes the PNG (150 dpi, the default); the
GIF draws the same figure once and renders, quantises and encodes its 101 frames (72 dpi, the
animation default). Target: the GIF at most 3x the PNG's time.

    python benchmarks/bench_animation.py [--steps 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

TARGET = 3.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="steps (frames: steps + 1)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side")
    args = parser.parse_args()

    from optviz.figures.kinds import kind_of
    from optviz.figures.write import render_figure
    from optviz.spec.figures import TrajectorySpec

    spec = TrajectorySpec(optimizers=["sgd", "momentum", "adam"], function="valley",
                          steps=args.steps)
    rendered = render_figure(spec)
    kind = kind_of(spec)

    def still() -> bytes:
        from optviz.figures.formats import figure_bytes

        return figure_bytes(kind.draw(rendered.computed, spec), ".png", None,
                            rendered.config_text())

    def gif() -> bytes:
        return rendered.image_bytes(".gif")

    sizes = {"png": len(still()), "gif": len(gif())}  # warm-up: fonts, palettes, imports
    times: dict[str, list[float]] = {"png": [], "gif": []}
    for _ in range(args.repeat):
        for name, fn in (("png", still), ("gif", gif)):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    png, anim = statistics.median(times["png"]), statistics.median(times["gif"])
    frames = args.steps + 1
    ratio = anim / png
    print(f"still PNG (150 dpi):      {png:.2f} s  ({sizes['png'] / 1e3:.0f} kB)")
    print(f"GIF, {frames} frames (72 dpi): {anim:.2f} s  ({sizes['gif'] / 1e3:.0f} kB, "
          f"{1e3 * anim / frames:.0f} ms a frame)")
    print(f"ratio: {ratio:.2f}x (target: at most {TARGET:g}x)")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
