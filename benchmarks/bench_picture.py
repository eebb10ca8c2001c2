"""One picture in a fresh process: ``optviz trajectory adam --lr 0.1`` against the script a user
writes by hand for the same picture (Adam, 100 steps on x² + 10y², contour, loss panel,
savefig at the same 150 dpi), measured side by side in one run.

    python benchmarks/bench_picture.py [--repeat 7]

The script is written here, to a temporary folder, and both commands run ``--repeat`` times,
alternating (the first of each not counted: it pays for a cold file cache); the medians of the
whole process's wall time and their ratio are printed. Both pay ``import torch`` and the first
optimizer step's ``torch._dynamo`` import; what optviz adds on top is its own. Target: a ratio
of at most 1.0. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 1.0

HANDWRITTEN = '''\
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

def f(x, y):
    return x ** 2 + 10 * y ** 2

p = torch.tensor([4.0, 3.0], requires_grad=True)
opt = torch.optim.Adam([p], lr=0.1)
path, losses = [p.detach().numpy().copy()], []
for _ in range(100):
    opt.zero_grad()
    loss = f(p[0], p[1])
    loss.backward()
    opt.step()
    path.append(p.detach().numpy().copy())
    losses.append(loss.item())
path = np.array(path)
X, Y = np.meshgrid(np.linspace(-5, 5, 200), np.linspace(-5, 5, 200))
fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(12, 5))
ax.contour(X, Y, f(X, Y), levels=30)
ax.plot(path[:, 0], path[:, 1], "o-", markersize=2, label="Adam (lr=0.1)")
ax.legend()
ax_loss.semilogy(losses)
fig.savefig(OUT, dpi=150)
'''


def optviz_command(out: Path) -> list[str]:
    script = Path(sys.executable).with_name("optviz")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "optviz"]
    return [*head, "trajectory", "adam", "--lr", "0.1", "-o", str(out)]


def timed(cmd: list[str], cpu: list[float] | None = None) -> float:
    """The wall time of ``cmd``; its CPU time (user + system) appended to ``cpu``. On a shared
    machine the CPU time moves less with the load than the wall time does."""
    before = os.times()
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = os.times()
    if cpu is not None:
        cpu.append(after.children_user - before.children_user
                   + after.children_system - before.children_system)
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        script = folder / "by_hand.py"
        script.write_text(HANDWRITTEN.replace("OUT", repr(str(folder / "by_hand.png"))))
        sides = {"by hand": [sys.executable, str(script)],
                 "optviz": optviz_command(folder / "optviz.png")}
        times: dict[str, list[float]] = {name: [] for name in sides}
        cpu: dict[str, list[float]] = {name: [] for name in sides}
        for cmd in sides.values():
            timed(cmd)  # warm-up: the file cache
        for _ in range(args.repeat):
            for name, cmd in sides.items():
                times[name].append(timed(cmd, cpu[name]))
        for name in sides:
            if not (folder / ("by_hand.png" if name == "by hand" else "optviz.png")).stat(
                    ).st_size:
                raise SystemExit(f"{name} wrote an empty picture")
    med = {name: statistics.median(v) for name, v in times.items()}
    for name, values in times.items():
        print(f"{name:8s} median {med[name]:.2f} s  (runs: "
              f"{', '.join(f'{v:.2f}' for v in values)})")
    for name, values in cpu.items():
        print(f"{name:8s} CPU median {statistics.median(values):.2f} s")
    ratio = med["optviz"] / med["by hand"]
    cpu_ratio = statistics.median(cpu["optviz"]) / statistics.median(cpu["by hand"])
    print(f"ratio optviz / by hand: {ratio:.3f} (target <= {TARGET_RATIO}); CPU time "
          f"{cpu_ratio:.3f}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
