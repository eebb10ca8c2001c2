"""How the console script's process ends: its exit functions run and its output is flushed,
then it leaves without tearing the interpreter down.

Tearing down a process that imported torch (and the ``torch._dynamo`` its first optimizer
step imports) takes about 0.8 s on a 2-core machine: every module's objects are freed one by
one and libtorch's static destructors run, long after the picture was written. Nothing the
user waits for happens then, so once a command has finished the console script runs what was
registered with ``atexit`` (logging's flush, multiprocessing's child clean-up, temporary
folders' finalizers), flushes stdout and stderr, and ends with ``os._exit`` (the technique of
Instagram's "Dismissing Python Garbage Collection"). Only the console script's process does
this, never a program that imports optviz; while any other Python thread is alive, the process
ends the ordinary way, so that thread is waited for as usual.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def exit_code(code: object) -> int:
    """What ``SystemExit(code)`` makes the process return: 0 for None, the int, else 1 (a
    message, which ``finish`` prints to stderr as Python would)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return 1


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe (``optviz list | head``), a closed file
            pass


def finish(code: object) -> NoReturn:
    """End the process with ``code`` (a ``SystemExit`` code) once its exit functions have run
    and its output is flushed, skipping the interpreter's teardown; the ordinary
    ``sys.exit`` when other threads are still running."""
    if threading.active_count() > 1:
        sys.exit(code)
    if not isinstance(code, int | None):
        sys.stderr.write(f"{code}\n")
    atexit._run_exitfuncs()
    _flush()
    os._exit(exit_code(code))
