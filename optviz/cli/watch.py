"""``--watch``: render again whenever a config, or a trace file it reads, changes, and say how
long each render took. The process stays up, so every render after the first pays no imports
and no first optimizer step: only the figure's own work. Uses watchfiles (the OS's file
events, not a polling loop of ours)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import typer

from optviz.errors import OptvizError

Echo = Callable[..., None]


def config_files(config: Path, allow_imports: bool = False) -> set[Path]:
    """The config and every trace file it reads (a config that does not read now is watched
    alone: fixing it is the change that will be seen)."""
    files = {Path(config).resolve()}
    try:
        from optviz.config import load_any
        from optviz.spec.traces import trace_files

        spec, _ = load_any(config, allow_imports=allow_imports)
        files |= {p.resolve() for p in trace_files(spec)}
    except OptvizError:
        pass
    return files


def gallery_files(config_dir: Path) -> Callable[[Path], bool]:
    """Whether a changed path matters to a gallery: a config or a trace file under it."""
    from optviz.gallery.build import CONFIG_SUFFIXES
    from optviz.spec.traces import TRACE_SUFFIXES

    suffixes = (*CONFIG_SUFFIXES, *TRACE_SUFFIXES)
    return lambda path: path.suffix.lower() in suffixes and not path.name.startswith(".")


def watch_loop(
    render: Callable[[], Any],
    folders: Callable[[], Iterable[Path]],
    wanted: Callable[[Path], bool],
    echo: Echo = typer.echo,
    renders: int | None = None,
    stop: threading.Event | None = None,
    debounce_ms: int = 200,
) -> int:
    """Render now, then again after every change to a file under ``folders()`` that
    ``wanted`` accepts, printing each render's time; a render that fails is one line on
    stderr and the loop goes on. Stops after ``renders`` renders (tests), when ``stop`` is
    set, or on Ctrl-C; returns the number of renders."""
    import watchfiles

    count = 0

    def once(why: str) -> None:
        nonlocal count
        t0 = time.perf_counter()
        try:
            render()
        except OptvizError as exc:
            echo(f"optviz: error: {exc}", err=True)
            echo(f"{why}: failed after {time.perf_counter() - t0:.2f} s; watching for changes")
        else:
            echo(f"{why}: rendered in {time.perf_counter() - t0:.2f} s; watching for changes "
                 "(Ctrl-C stops)")
        count += 1

    once("first render")
    stop = stop or threading.Event()
    while not stop.is_set() and (renders is None or count < renders):
        where = sorted({Path(f) for f in folders()})
        changed = False
        for changes in watchfiles.watch(
                *where, watch_filter=lambda _change, path: wanted(Path(path)),
                debounce=debounce_ms, step=50, stop_event=stop, rust_timeout=500,
                yield_on_timeout=False, raise_interrupt=False):
            names = sorted({Path(p).name for _, p in changes})
            once(", ".join(names) + " changed")
            changed = True
            if renders is not None and count >= renders:
                break
            if sorted({Path(f) for f in folders()}) != where:
                break  # the config now reads another trace file: watch its folder too
        if not changed:
            break  # interrupted (Ctrl-C) or stopped
    return count


def watch_config(config: Path, render: Callable[[], Any], allow_imports: bool = False,
                 echo: Echo = typer.echo, renders: int | None = None,
                 stop: threading.Event | None = None) -> int:
    """``optviz render --watch CONFIG``: ``render`` again whenever the config or a trace file
    it reads changes."""
    files: set[Path] = set()

    def folders() -> list[Path]:
        files.clear()
        files.update(config_files(config, allow_imports))
        return [p.parent for p in files]

    folders()
    return watch_loop(render, folders, lambda path: path.resolve() in files, echo, renders,
                      stop)


def watch_gallery(config_dir: Path, render: Callable[[], Any], echo: Echo = typer.echo,
                  renders: int | None = None, stop: threading.Event | None = None) -> int:
    """``optviz gallery --watch``: build again (unchanged figures are skipped) whenever a
    config or a trace file under ``config_dir`` changes."""
    return watch_loop(render, lambda: [Path(config_dir).resolve()], gallery_files(config_dir),
                      echo, renders, stop)
