"""``optviz ...`` in a real process that starts warm, for the tests of the command line as a
process (its exit code, its one line on stderr, the files it writes or leaves alone).

The process is a fork of the forkserver optviz's own gallery workers come from
(``optviz.processes.worker_context``: torch, ``torch._dynamo`` and matplotlib imported once
per pytest worker), instead of a new interpreter importing them again, about 2 core-seconds
of every such test. It is still a process of its own: its environment (PYTHONPATH included),
working directory, stdout, stderr and exit code are its own, it imports the command line
afresh and ends the way ``python -m optviz`` does (``optviz.cli.main``: the exit functions,
then ``os._exit``). What only a new interpreter can show (which modules ``--help`` imports,
a hash seed, the interpreter's own teardown) is tested with ``subprocess`` as before.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path


def _child(args: list[str], code: str | None, env: dict[str, str], cwd: str, out: str,
           err: str) -> None:
    """In the forked process: stdout and stderr into files, the caller's environment and
    folder, PYTHONPATH and the folder on sys.path as ``python -m`` and ``-c`` put them, then
    the command line (or ``code``, with ``args`` as its sys.argv[1:])."""
    for fd, path in ((1, out), (2, err)):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:0] = [cwd, *extra]
    importlib.invalidate_caches()
    if code is not None:
        sys.argv = ["-c", *args]
        exec(compile(code, "<string>", "exec"), {"__name__": "__main__"})
        sys.stdout.flush()
        sys.stderr.flush()
        return
    sys.argv = ["optviz", *args]
    from optviz.cli import main

    main()


def _run(args: Sequence[str], code: str | None, env: Mapping[str, str] | None,
         cwd: Path | str | None, timeout: float) -> subprocess.CompletedProcess[str]:
    from optviz.processes import worker_context

    env = dict(os.environ if env is None else env)
    cwd = str(Path.cwd() if cwd is None else cwd)
    shown = ["python", "-c", code, *args] if code is not None else ["optviz", *args]
    with tempfile.TemporaryDirectory(prefix="optviz-forked-") as folder:
        out, err = os.path.join(folder, "stdout"), os.path.join(folder, "stderr")
        process = worker_context().Process(target=_child,
                                           args=(list(args), code, env, cwd, out, err))
        process.start()
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired(shown, timeout)
        out_text, err_text = (Path(p).read_text() if Path(p).exists() else ""
                              for p in (out, err))  # none when it failed before writing
        return subprocess.CompletedProcess(shown, process.exitcode, out_text, err_text)


def run_optviz(args: Sequence[str], *, env: Mapping[str, str] | None = None,
               cwd: Path | str | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m optviz *args`` run as a fork of the warm forkserver; the result as
    ``subprocess.run(..., capture_output=True, text=True)`` gives it."""
    return _run(args, None, env, cwd, timeout)


def run_code(code: str, *args: str, env: Mapping[str, str] | None = None,
             cwd: Path | str | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -c code *args`` likewise, for what the forkserver has not imported (a check
    that some module stays unimported must name one it does not preload: torch, matplotlib
    and optviz's config reader are)."""
    return _run(args, code, env, cwd, timeout)
