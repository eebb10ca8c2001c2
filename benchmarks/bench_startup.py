"""How fast ``optviz --help`` starts, against the floor of any Typer CLI: a bare
``python -c "import typer"``, measured side by side in the same run.

    python benchmarks/bench_startup.py [--repeat 7]

Each command runs ``--repeat`` times, alternating, and the median wall time is reported (the
first run of each is a warm-up and not counted: it pays for a cold file cache). It also checks
that ``--help`` imports neither torch nor matplotlib. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_SECONDS = 0.3

PROBE = """
import json, sys
sys.argv = ["optviz", "--help"]
from optviz.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps({m: m in sys.modules for m in ("torch", "matplotlib", "numpy", "pydantic")}))
"""


def optviz_command() -> list[str]:
    """The console script a user types, next to this Python; ``python -m optviz`` without it."""
    script = Path(sys.executable).with_name("optviz")
    if script.exists():
        return [str(script), "--help"]
    found = shutil.which("optviz")
    return [found, "--help"] if found else [sys.executable, "-m", "optviz", "--help"]


def wall(command: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each (default 7)")
    args = parser.parse_args()

    commands = {"python -c 'import typer'": [sys.executable, "-c", "import typer"],
                "optviz --help": optviz_command()}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():
        wall(command)  # warm-up
    for _ in range(args.repeat):
        for name, command in commands.items():
            times[name].append(wall(command))
    bare, cli = (statistics.median(t) for t in times.values())
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    imported = json.loads(out)

    print(f"start-up, median of {args.repeat} runs each ({' '.join(commands['optviz --help'])})")
    print(f"  python -c 'import typer': {bare:6.3f} s")
    print(f"  optviz --help:            {cli:6.3f} s  ({cli / bare:.2f}x the bare import, "
          f"+{(cli - bare) * 1e3:.0f} ms)")
    heavy = [m for m in ("torch", "matplotlib") if imported[m]]
    print(f"  --help imports torch or matplotlib: {', '.join(heavy) if heavy else 'no'}")
    verdict = "meets" if cli < TARGET_SECONDS else "MISSES"
    print(f"  {verdict} the {TARGET_SECONDS} s target")
    return 0 if cli < TARGET_SECONDS and not heavy else 1


if __name__ == "__main__":
    sys.exit(main())
