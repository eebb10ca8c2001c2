"""``optviz render SOURCE``: draw the figure a YAML config describes, or draw again the figure
a picture (PNG, SVG), a gallery sidecar or an export carries the config of."""

from __future__ import annotations

from pathlib import Path, PurePath

import typer

from optviz.cli.common import DPI


def render_cmd(
    config: Path = typer.Argument(..., help="A YAML config ('optviz trajectory --dump-config'), "
                                            "or a PNG/SVG/JSON written by optviz."),
    output: Path = typer.Option(None, "--output", "-o",
                                help="Image to write: .png, .svg, .pdf or an interactive .html "
                                     "(overrides config)."),
    export: Path = typer.Option(None, "--export", "-e",
                                help="Also write the numbers (.json or .csv; overrides config)."),
    allow_imports: bool = typer.Option(False, "--allow-imports",
                                       help="Let the config name import paths outside "
                                            "torch.optim and optviz (runs their code)."),
    dpi: int = DPI,
    watch: bool = typer.Option(False, "--watch", help="Render again whenever the config (or a "
                               "trace file it reads) changes, printing each render's time."),
) -> None:
    """Render one config to an image. A YAML config's own output and export paths must stay in
    the current folder; -o and --export write anywhere. A picture renders to itself unless -o
    says otherwise."""
    from optviz.cli.report import write_and_report
    from optviz.config import load_any

    if watch:
        from optviz.cli.watch import watch_config

        watch_config(config, lambda: render_cmd(config, output, export, allow_imports, dpi,
                                                False),
                     allow_imports)
        return

    spec, picture = load_any(config, allow_imports=allow_imports)
    update = {}
    for key, given in (("output", output), ("export", export)):
        if given is not None:
            update[key] = str(given)
        elif getattr(spec, key, None):
            _inside_here(config, key, getattr(spec, key))
    if picture is not None and output is None:
        update["output"] = str(picture)
    if update:
        spec = spec.model_copy(update=update)
    write_and_report(spec, dpi, flags=False)  # a config's settings, not flags


def _inside_here(config: Path, key: str, value: str) -> None:
    """A config from elsewhere must not write outside the folder it is rendered in: neither
    by its path's text (absolute, ``..``) nor through a symbolic link on the way."""
    from optviz.errors import OutputError

    flag = "-o" if key == "output" else "--export"
    if "\0" in value:
        raise OutputError(f"{config}: {key} {value!r}: a file name cannot hold a NUL byte")
    path = PurePath(value)
    here = Path.cwd().resolve()
    if path.is_absolute() or ".." in path.parts \
            or not (here / path).resolve().is_relative_to(here):
        link = "" if path.is_absolute() or ".." in path.parts else " (a symbolic link leads out)"
        raise OutputError(f"{config}: {key} {value!r} must be a path inside the current "
                          f"folder{link}; give {flag} to write elsewhere")


def register(app: typer.Typer) -> None:
    app.command("render")(render_cmd)
