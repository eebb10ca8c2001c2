"""``optviz render CONFIG.yaml``: draw the figure a YAML config describes."""

from __future__ import annotations

from pathlib import Path, PurePath

import typer


def render_cmd(
    config: Path = typer.Argument(..., help="A YAML config ('optviz trajectory --dump-config')."),
    output: Path = typer.Option(None, "--output", "-o", help="PNG to write (overrides config)."),
    export: Path = typer.Option(None, "--export", "-e",
                                help="Also write the numbers (.json or .csv; overrides config)."),
    allow_imports: bool = typer.Option(False, "--allow-imports",
                                       help="Let the config name import paths outside "
                                            "torch.optim and optviz (runs their code)."),
) -> None:
    """Render one YAML config to a PNG. A config's own output and export paths must stay in
    the current folder; -o and --export write anywhere."""
    from optviz.cli.trajectory import report
    from optviz.config import load_config
    from optviz.figures.write import write_figure

    spec = load_config(config, allow_imports=allow_imports)
    update = {}
    for key, given in (("output", output), ("export", export)):
        if given is not None:
            update[key] = str(given)
        elif getattr(spec, key, None):
            _inside_here(config, key, getattr(spec, key))
    if update:
        spec = spec.model_copy(update=update)
    report(write_figure(spec))


def _inside_here(config: Path, key: str, value: str) -> None:
    """A config from elsewhere must not write outside the folder it is rendered in."""
    from optviz.errors import OutputError

    path = PurePath(value)
    if path.is_absolute() or ".." in path.parts:
        raise OutputError(f"{config}: {key} {value!r} must be a path inside the current folder; "
                          f"give {'-o' if key == 'output' else '--export'} to write elsewhere")


def register(app: typer.Typer) -> None:
    app.command("render")(render_cmd)
