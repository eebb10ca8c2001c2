"""``optviz gallery [CONFIG_DIR]``: render a folder of YAML configs into a browsable gallery."""

from __future__ import annotations

from pathlib import Path

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
) -> None:
    """Render every config in a folder, skipping unchanged figures; a bad config fails alone
    (exit code 1, the table says why)."""
    from optviz.gallery.build import build_gallery

    build_gallery(config_dir, out, jobs=jobs, force=force,
                  allow_imports=allow_imports).raise_if_failed()


def register(app: typer.Typer) -> None:
    app.command("gallery")(gallery_cmd)
