"""Rich progress bars and one-line notes on stderr for the commands that run batches (basin,
sweep, and trajectory's ``--lr auto``)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

Tick = Callable[[int, int], None]
# What makes rich draw on a stream that is not a terminal (rich.console reads the same names).
_FORCED = ("FORCE_TERMINAL", "TTY_COMPATIBLE", "FORCE_COLOR")


def _ignore(done: int, total: int) -> None:
    pass


@contextmanager
def progress_tasks() -> Iterator[Callable[[str], Tick]]:
    """Yields ``start(description)``, which adds a bar and returns its ``tick(done, total)`` for
    the engine's ``progress`` hook. The display starts with the first bar, so a command that
    may have nothing to show (a trajectory without ``--lr auto``) shows nothing. Off a terminal
    (pipes, CI logs, tests) the bars are skipped, so captured output holds only the report; on
    one they are cleared when done. Off a terminal rich is not even imported (start-up time of
    one picture, issue 16)."""
    import os

    if not sys.stderr.isatty() and not any(os.environ.get(name) for name in _FORCED):
        yield lambda description: _ignore
        return
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda description: _ignore
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())
    with ExitStack() as stack:
        bars: list[Progress] = []

        def start(description: str) -> Tick:
            if not bars:
                bars.append(stack.enter_context(
                    Progress(*columns, console=console, transient=True)))
            bar = bars[0]
            task = bar.add_task(description, total=None)

            def tick(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return tick

        yield start


@contextmanager
def progress_bar(description: str) -> Iterator[Tick]:
    """One bar from the start: yields its ``tick(done, total)`` (see ``progress_tasks``)."""
    with progress_tasks() as start:
        yield start(description)


def note(message: str) -> None:
    """The engine's ``notify`` hook: one line on stderr, whatever logging is configured."""
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()
