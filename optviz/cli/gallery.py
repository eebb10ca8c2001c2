"""``optviz gallery [CONFIG_DIR]``: render a folder of YAML configs into a browsable gallery."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def gallery_cmd(
    config_dir: Path = typer.Argument(Path("configs"), help="Folder of *.yaml / *.yml configs "
                                      "(searched recursively)."),
    out: Path = typer.Option(Path("gallery"), "--out", "-o",
                             help="Output folder: PNGs, JSON sidecars, README.md, index.html."),
    jobs: int = typer.Option(None, "--jobs", "-j",
                             help="Worker processes (default: one per core; 1: no workers)."),
    force: bool = typer.Option(False, "--force", help="Render unchanged figures again."),
    allow_imports: bool = typer.Option(
        False, "--allow-imports",
        help="Let configs name classes outside torch.optim and optviz (runs their code)."),
    check: bool = typer.Option(
        False, "--check",
        help="Write nothing: render every config afresh, each in a new process, and compare "
             "the bytes with the pictures, interactive twins and sidecars in --out (exit 1 "
             "lists those out of step)."),
    watch: bool = typer.Option(False, "--watch", help="Build again whenever a config or trace "
                               "file changes (unchanged figures are skipped), printing times."),
) -> None:
    """Render every config in a folder, skipping unchanged figures; a bad config fails alone
    (exit code 1, the table says why). Ctrl-C stops it, writes the index of what is done and
    exits 130."""
    from optviz.cli.progress import note, progress_tasks
    from optviz.gallery.build import GalleryError, build_gallery, check_gallery
    from optviz.hooks import Hooks

    if watch and not check:
        from optviz.cli.watch import watch_gallery

        watch_gallery(config_dir, lambda: build_gallery(
            config_dir, out, jobs=jobs, force=force, allow_imports=allow_imports,
            report=print_summary).raise_if_failed())
        return

    if not check:
        with progress_tasks() as start:
            summary = build_gallery(config_dir, out, jobs=jobs, force=force,
                                    allow_imports=allow_imports,
                                    hooks=Hooks(task=start, note=note), report=print_summary)
        summary.raise_if_failed()
        return
    found = check_gallery(config_dir, out, jobs=jobs, allow_imports=allow_imports).out_of_step
    for name, why in found.items():
        typer.echo(f"{name}: {why}")
    if found:
        raise GalleryError(f"{len(found)} figure(s) out of step with {config_dir}; run "
                           f"'optviz gallery {config_dir} --out {out}'")
    typer.echo(f"every figure in {out} is in step with {config_dir}")


def print_summary(summary: Any) -> None:
    """A table of every config: rendered, skipped or failed, and why."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Text, not markup strings: messages such as 'optimizers[1].lr' hold square brackets.
    colours = {"rendered": "green", "skipped": "dim", "failed": "bold red"}
    table = Table(title=f"optviz gallery: {summary.config_dir} -> {summary.out_dir}")
    table.add_column("config", overflow="fold")
    table.add_column("status")
    table.add_column("output", overflow="fold")
    table.add_column("note", overflow="fold")
    for e in summary.entries:
        note = e.reason if e.status != "rendered" else f"{e.seconds:.1f} s"
        output = e.png.as_posix() if e.png else ""
        table.add_row(Text(e.name), Text(e.status, style=colours[e.status]), Text(output),
                      Text(note))
    console = Console(highlight=False)
    console.print(table)
    counts = ", ".join(f"{len(summary.with_status(s))} {s}"
                       for s in ("rendered", "skipped", "failed"))
    index = (f"index not written: {summary.index_error}" if summary.index_error
             else f"index: {summary.readme}, {summary.index}")
    console.print(Text(f"{counts}; {index}"))


def register(app: typer.Typer) -> None:
    app.command("gallery")(gallery_cmd)
