"""Worker processes that start warm. ``optviz gallery`` and ``optviz rank`` start workers from
a forkserver that has imported torch (with the ``torch._dynamo`` every first optimizer step
imports) and matplotlib once: each worker is then a fork of it, ready in a few milliseconds,
instead of a new interpreter importing them again (about 3.5 s of CPU on a 2-core machine,
paid by every figure of ``optviz gallery --check``, which renders each in a new process).

A forkserver's children share nothing with the parent that asked for them: they are forks of a
process that has only imported modules (no tensor made, no thread started), so a figure
rendered in one is as fresh as in a spawned interpreter, and forking it is safe. Only on
Linux: macOS's system libraries may start threads that a fork cannot carry (Python spawns
there by default), and Windows has no forkserver; both spawn workers as before.

Every worker calls ``started`` first, so that it ends with the process that asked for it
however that process ends (even by SIGKILL) and handles Ctrl-C as its parent wants.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from optviz.collector import collect_less_often

# Imported once, by the forkserver, before it forks any worker; an import that fails there is
# left to the worker to repeat and report. optviz's own modules every figure needs (the config
# reader with pydantic and YAML, the writer, the style) spare each new worker another 0.15 s.
# ``optviz.preloaded``, last, freezes the collector over all of it in the forkserver.
PRELOAD = ("torch", "torch._dynamo", "matplotlib.figure", "matplotlib.backends.backend_agg",
           "optviz.config", "optviz.figures.write", "optviz.render.style", "optviz.preloaded")

# Set while a caller that has decided the parallelism itself (``optviz gallery --jobs 1``)
# renders: what it renders then starts no worker processes of its own.
_ONE_PROCESS: ContextVar[bool] = ContextVar("optviz_one_process", default=False)

# prctl's option that makes the kernel signal a process when its parent ends (Linux).
_PR_SET_PDEATHSIG = 1


def worker_context() -> Any:
    """The multiprocessing context to start workers with: on Linux a forkserver preloading
    ``PRELOAD``, elsewhere spawn."""
    if not sys.platform.startswith("linux") or \
            "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return context


def _leave_forkserver_alive_pipe() -> None:
    """A forkserver runs until every holder of its 'alive' pipe has ended, and each of its
    children holds one: closed here, it ends with the process that started it, and then
    the kernel ends its children (``_PR_SET_PDEATHSIG``)."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if isinstance(fd, int) and multiprocessing.parent_process() is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
        server._forkserver_alive_fd = None  # type: ignore[union-attr]


def started(ignore_ctrl_c: bool) -> None:
    """A worker's first call: end when its direct parent (the forkserver, or the process
    that spawned it) ends, by the kernel's parent-death signal on Linux; take Ctrl-C the
    parent's way (``ignore_ctrl_c``: the parent alone decides what happens, else a
    KeyboardInterrupt ends the worker as a spawned one's would); collect garbage as the
    console script does, the forkserver's preloaded modules frozen."""
    collect_less_often(freeze=True)
    signal.signal(signal.SIGINT, signal.SIG_IGN if ignore_ctrl_c else signal.default_int_handler)
    if not sys.platform.startswith("linux"):
        return
    direct = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        if ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL,
                                                   0, 0, 0) == 0 and os.getppid() != direct:
            os._exit(1)  # the parent ended before prctl: already orphaned
    _leave_forkserver_alive_pipe()


@contextlib.contextmanager
def in_this_process() -> Iterator[None]:
    """Within: ``may_start_workers`` is False, so that a figure that could fan out (a rank
    table's searches) runs in this process, as the caller asked."""
    token = _ONE_PROCESS.set(True)
    try:
        yield
    finally:
        _ONE_PROCESS.reset(token)


def may_start_workers() -> bool:
    """Whether this code may start worker processes: not inside ``in_this_process``, and not
    in a daemonic process (a gallery's worker), which multiprocessing forbids to."""
    return not _ONE_PROCESS.get() and not multiprocessing.current_process().daemon
