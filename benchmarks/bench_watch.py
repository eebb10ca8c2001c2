"""What ``optviz render --watch`` saves: a re-render after an edit, in the warm watching process,
against a cold render (a fresh ``optviz render`` process: imports, the first optimizer step,
the figure), measured side by side in one run.

    python benchmarks/bench_watch.py [--edits 5] [--repeat 3]

The config is the single picture of ``bench_picture.py`` (Adam, 100 steps, contour and loss
panel, 150 dpi PNG). Each edit changes the config's title, which re-runs the whole figure. The
watch prints each render's time; the median re-render is compared with the median cold
process. Target: at most 15%. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 0.15
CONFIG = "kind: trajectory\noptimizers: [adam]\nlr: 0.1\nsteps: 100\ntitle: edit {n}\n"


def optviz() -> list[str]:
    script = Path(sys.executable).with_name("optviz")
    return [str(script)] if script.exists() else [sys.executable, "-m", "optviz"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="cold processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = folder / "fig.yaml"
        config.write_text(CONFIG.format(n=0))
        cold = []
        for i in range(args.repeat + 1):
            t0 = time.perf_counter()
            subprocess.run([*optviz(), "render", str(config), "-o", str(folder / "cold.png")],
                           check=True, stdout=subprocess.DEVNULL, cwd=folder)
            if i:  # the first pays for a cold file cache
                cold.append(time.perf_counter() - t0)
        proc = subprocess.Popen([*optviz(), "render", "--watch", str(config), "-o",
                                 str(folder / "warm.png")], stdout=subprocess.PIPE, text=True,
                                cwd=folder)
        warm: list[float] = []
        first = None
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                found = re.search(r"rendered in ([0-9.]+) s", line)
                if not found:
                    continue
                if first is None:
                    first = float(found.group(1))
                else:
                    warm.append(float(found.group(1)))
                if len(warm) >= args.edits:
                    break
                time.sleep(0.5)
                config.write_text(CONFIG.format(n=len(warm) + 1))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    cold_med, warm_med = statistics.median(cold), statistics.median(warm)
    print(f"cold process (optviz render): median {cold_med:.2f} s  "
          f"({', '.join(f'{v:.2f}' for v in cold)})")
    print(f"watch: first render in process {first:.2f} s; re-renders median {warm_med:.3f} s  "
          f"({', '.join(f'{v:.3f}' for v in warm)})")
    ratio = warm_med / cold_med
    print(f"ratio re-render / cold: {ratio:.3f} (target <= {TARGET})")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
