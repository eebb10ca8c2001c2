"""Worker processes for the gallery: each renders one figure at a time, and the parent always
knows which figure each worker holds, so a worker that dies (an out-of-memory kill, a crash in
native code) fails only that figure and is replaced. Workers ignore Ctrl-C (the parent stops
them) and die with their parent, however the parent ends."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _on_death(sentinel: Any) -> None:
    from multiprocessing.connection import wait

    wait([sentinel])
    os._exit(1)


def die_with_parent() -> None:
    """End this worker when the process that started it ends, even by SIGKILL: the kernel's
    parent-death signal on its direct parent (``optviz.processes.started``: the forkserver,
    which then ends with that process), and a thread waiting on multiprocessing's sentinel
    of that process, a pipe the kernel closes when it ends (ready at once if it has)."""
    import multiprocessing

    from optviz.processes import started

    started(ignore_ctrl_c=True)
    parent = multiprocessing.parent_process()
    if parent is not None and parent.sentinel is not None:
        threading.Thread(target=_on_death, args=(parent.sentinel,), daemon=True).start()


def _worker_main(conn: Any, init: Callable[[], None], run: Callable[[Any], Any]) -> None:
    """A worker's life: receive a job, send back its outcome, until told to stop."""
    die_with_parent()
    init()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        conn.send(run(job))


@dataclass
class _Worker:
    process: Any
    conn: Any
    job: int | None = None  # the index of the job it is rendering


def _death(process: Any) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"its worker process was killed by {name}{hint}"
    return f"its worker process died (exit code {code}; a crash in native code?)"


class WorkerPool:
    """Up to ``size`` workers (forks of a warm forkserver, see ``optviz.processes``) running
    ``run(job)`` after ``init()``; both must be importable module-level functions (they are
    pickled by name)."""

    def __init__(self, size: int, init: Callable[[], None], run: Callable[[Any], Any],
                 fresh: bool = False) -> None:
        """``fresh``: a new process for every job (nothing a job leaves in its process, no
        cache, no state, can reach the next)."""
        from optviz.processes import worker_context

        # Forks of a forkserver that has only imported torch and matplotlib (optviz.processes),
        # never of this process: forking a process that may hold torch's or OpenMP's threads
        # can hang.
        self.context = worker_context()
        self.size, self.init, self.run, self.fresh = size, init, run, fresh
        self.workers: list[_Worker] = []

    def _start(self) -> _Worker:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_worker_main, daemon=True,
                                       args=(child, self.init, self.run))
        # A worker ignores Ctrl-C: the terminal sends SIGINT to the whole process group, and
        # the parent, not each worker, decides what happens. A spawned worker ignores it from
        # its first instruction (an ignored signal stays ignored across exec), one forked from
        # the forkserver from its first call (optviz.processes.started), whatever the
        # forkserver was started with.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) \
            if threading.current_thread() is threading.main_thread() else None
        try:
            process.start()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        child.close()
        worker = _Worker(process, parent)
        self.workers.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        self.workers.remove(worker)
        worker.conn.close()
        worker.process.join(timeout=1)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(timeout=1)

    def map(self, jobs: list[Any], done: Callable[[int, Any], None],
            failed: Callable[[int, str], None]) -> None:
        """Run every job; ``done(i, outcome)`` as each finishes, ``failed(i, reason)`` for a
        job whose worker died. Ctrl-C (KeyboardInterrupt) kills every worker and propagates."""
        from multiprocessing.connection import wait

        queue = deque(range(len(jobs)))
        try:
            while queue or any(w.job is not None for w in self.workers):
                self._assign(queue, jobs)
                busy = [w for w in self.workers if w.job is not None]
                ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                             timeout=1.0)
                for worker in busy:
                    if worker.conn in ready or worker.process.sentinel in ready:
                        self._collect(worker, done, failed)
            self.close()
        except BaseException:
            self.kill()
            raise

    def _assign(self, queue: deque[int], jobs: list[Any]) -> None:
        while queue:
            idle = [w for w in self.workers if w.job is None]
            if not idle and len(self.workers) >= self.size:
                return
            worker = idle[0] if idle else self._start()
            i = queue.popleft()
            try:
                worker.conn.send(jobs[i])
            except OSError:  # it died between jobs: the job never started, so try it again
                queue.appendleft(i)
                self._retire(worker)
                continue
            worker.job = i

    def _collect(self, worker: _Worker, done: Callable[[int, Any], None],
                 failed: Callable[[int, str], None]) -> None:
        i = worker.job
        assert i is not None
        try:
            if worker.conn.poll():
                outcome = worker.conn.recv()
                worker.job = None
                if self.fresh:
                    with contextlib.suppress(OSError):
                        worker.conn.send(None)
                    self._retire(worker)
                done(i, outcome)
                return
        except (EOFError, OSError):
            pass
        if worker.process.is_alive():
            return  # woken by something else; its result is still coming
        worker.process.join(timeout=1)
        worker.job = None
        self._retire(worker)
        failed(i, _death(worker.process))

    def close(self) -> None:
        """Tell idle workers to stop, and wait for them."""
        for worker in list(self.workers):
            with contextlib.suppress(OSError):
                worker.conn.send(None)
            self._retire(worker)

    def kill(self) -> None:
        """Kill every worker at once (Ctrl-C): a figure half rendered is lost, never half
        written, as every file is written through a temporary file and a rename."""
        for worker in self.workers:
            if worker.process.is_alive():
                worker.process.kill()
        for worker in list(self.workers):
            worker.process.join(timeout=2)
            worker.conn.close()
        self.workers.clear()
