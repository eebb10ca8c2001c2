"""``optviz schema``: the JSON Schema of config files, for editors (yaml-language-server)."""

from __future__ import annotations

from pathlib import Path

import typer


def schema_cmd(
    output: Path = typer.Option(None, "--output", "-o", help="Write to a file, not stdout."),
) -> None:
    """Print the JSON Schema of optviz YAML configs.

    Point an editor at it with a first line '# yaml-language-server: $schema=optviz.schema.json'.
    """
    from optviz.config import json_schema
    from optviz.export.data import dumps
    from optviz.export.files import atomic_write

    text = dumps(json_schema()) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        atomic_write(output, text)
        typer.echo(f"wrote {output}")


def register(app: typer.Typer) -> None:
    app.command("schema")(schema_cmd)
