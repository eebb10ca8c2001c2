"""How library code reaches the terminal without knowing it: progress and notes go through
hooks that the caller (the CLI, the gallery, a notebook) passes in. The defaults are silent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Tick = Callable[[int, int], None]


def _no_tick(done: int, total: int) -> None:
    pass


def _no_task(description: str) -> Tick:
    return _no_tick


def _silent(message: str) -> None:
    pass


@dataclass(frozen=True)
class Hooks:
    """``task(description)`` starts a progress display for one long piece of work and returns
    its ``tick(done, total)``; ``note(message)`` says one line (a fallback taken, a best lr at
    the edge of its grid)."""

    task: Callable[[str], Tick] = _no_task
    note: Callable[[str], None] = _silent


SILENT = Hooks()
