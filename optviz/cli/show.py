"""``optviz show NAME``: signature, defaults and quirks of one optimizer or function."""

from __future__ import annotations

import typer


def show_cmd(name: str = typer.Argument(..., help="An optimizer or function name.")) -> None:
    """Show the signature, defaults and quirks of an optimizer, or the facts of a function."""
    from optviz.cli.tables import show

    show(name)


def register(app: typer.Typer) -> None:
    app.command("show")(show_cmd)
