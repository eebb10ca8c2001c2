"""``optviz show NAME``: signature, defaults and quirks of one optimizer, scheduler or function;
``optviz show picture.png``: the config a picture was drawn from."""

from __future__ import annotations

from pathlib import Path

import typer

PICTURES = (".png", ".svg")


def show_cmd(name: str = typer.Argument(..., help="An optimizer, scheduler or function name, "
                                                  "or a PNG/SVG written by optviz.")) -> None:
    """Show the signature, defaults and quirks of a name, or the config of a picture."""
    if Path(name).suffix.lower() in PICTURES and Path(name).is_file():
        from optviz.config import embedded_config
        from optviz.errors import BadValueError

        text = embedded_config(Path(name))
        if text is None:
            raise BadValueError(f"{name} carries no optviz config; only pictures written by "
                                "optviz 0.2 or later do")
        typer.echo(text, nl=False)
        return
    from optviz.cli.tables import show

    show(name)


def register(app: typer.Typer) -> None:
    app.command("show")(show_cmd)
