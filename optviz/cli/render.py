"""``optviz render CONFIG.yaml``: draw the figure a YAML config describes."""

from __future__ import annotations

from pathlib import Path

import typer


def render_cmd(
    config: Path = typer.Argument(..., help="A YAML config ('optviz trajectory --dump-config')."),
    output: Path = typer.Option(None, "--output", "-o", help="PNG to write (overrides config)."),
    allow_imports: bool = typer.Option(False, "--allow-imports",
                                       help="Let the config name import paths outside torch."),
) -> None:
    """Render one YAML config to a PNG."""
    from optviz.cli.trajectory import report
    from optviz.config import load_config
    from optviz.pipeline import write_figure

    spec = load_config(config, allow_imports=allow_imports)
    if output is not None:
        spec = spec.model_copy(update={"output": str(output)})
    report(write_figure(spec))


def register(app: typer.Typer) -> None:
    app.command("render")(render_cmd)
