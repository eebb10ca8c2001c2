"""A rich progress bar and one-line notes on stderr for the batched commands (basin, sweep)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """Yields ``tick(done, total)`` for the engine's ``progress`` hook. Off a terminal (pipes,
    CI logs, tests) the bar is skipped, so captured output holds only the report; on one it is
    cleared when done."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda done, total: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield tick


def note(message: str) -> None:
    """The engine's ``notify`` hook: one line on stderr, whatever logging is configured."""
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()
