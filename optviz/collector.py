"""How optviz's own processes collect cyclic garbage: less often than Python's default, and
never again over what a worker imported before its first figure."""

from __future__ import annotations

import gc

# optviz's own processes (the console script's and every worker's) collect cyclic garbage every
# this many allocations instead of 700: importing torch and matplotlib allocates millions of
# long-lived objects and frees almost none, and the collector's passes over them cost about a
# tenth of one picture's whole process (issue 16). Rendering gallery figures, the setting cuts
# the collector's own time by three quarters or more (benchmarks/bench_gc.py); a gain in the
# whole time was within the machine's noise there. Not a program that imports optviz: its
# collector is its own. Memory stays bounded (a few MB more).
GC_THRESHOLD = 100_000


def collect_less_often(freeze: bool = False) -> None:
    """This process's collector at ``GC_THRESHOLD`` (the other two thresholds kept);
    ``freeze``: what is alive now (a worker's preloaded modules) is never scanned again."""
    if freeze:
        gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
