"""``optviz list [optimizers|functions|schedulers] [PATTERN]``: rich tables of what resolves
(all three when no kind is given)."""

from __future__ import annotations

import typer

from optviz.errors import UnknownNameError
from optviz.names import did_you_mean

KINDS = ("optimizers", "functions", "schedulers")


def list_cmd(
    kind: str = typer.Argument(None, help="What to list: optimizers, functions or schedulers "
                                          "(all three if left out)."),
    pattern: str = typer.Argument(None, help="Shell-style filter, e.g. 'adam*'."),
) -> None:
    """List registered names with descriptions, optionally filtered by a wildcard."""
    from optviz.cli.tables import print_table

    if kind is None:
        for each in KINDS:
            print_table(each, None)
        return
    matches = [k for k in KINDS if k.startswith(kind.lower().rstrip("s"))]
    if not matches:
        raise UnknownNameError(f"cannot list {kind!r}{did_you_mean(kind, KINDS)}; "
                               f"choose from {', '.join(KINDS)}")
    print_table(matches[0], pattern)


def register(app: typer.Typer) -> None:
    app.command("list")(list_cmd)
