"""Worker processes that start warm. ``optviz gallery`` and ``optviz rank`` start workers from
a forkserver that has imported torch (with the ``torch._dynamo`` every first optimizer step
imports) and matplotlib once: each worker is then a fork of it, ready in a few milliseconds,
instead of a new interpreter importing them again (about 3.5 s of CPU on a 2-core machine,
paid by every figure of ``optviz gallery --check``, which renders each in a new process).

A forkserver's children share nothing with the parent that asked for them: they are forks of a
process that has only imported modules (no tensor made, no thread started), so a figure
rendered in one is as fresh as in a spawned interpreter, and forking it is safe. Where there
is no forkserver (Windows), workers are spawned as before.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

# Imported once, by the forkserver, before it forks any worker; an import that fails there is
# left to the worker to repeat and report.
PRELOAD = ("torch", "torch._dynamo", "matplotlib.figure", "matplotlib.backends.backend_agg")


def worker_context() -> Any:
    """The multiprocessing context to start workers with: a forkserver preloading
    ``PRELOAD`` where the platform has one, else spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return context
