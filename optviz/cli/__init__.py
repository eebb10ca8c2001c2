"""The ``optviz`` command: a Typer app with one thin module per command.

Every domain error is turned into one line on stderr and exit code 2 here, in one place;
``OPTVIZ_DEBUG=1`` shows the traceback instead. torch and matplotlib are imported only inside
the commands that need them, so ``optviz --help`` and ``optviz list`` start fast.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from optviz.errors import OptvizError

try:  # typer >= 0.22 vendors click; older releases use the click package
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover
    from click import exceptions as click_exc  # type: ignore[no-redef]


def _debug() -> bool:
    return os.environ.get("OPTVIZ_DEBUG", "") not in ("", "0")


def _fail(message: str, code: int) -> None:
    sys.stderr.write(f"optviz: error: {message}\n")
    sys.stderr.flush()
    sys.exit(code)


def _printed_help(exc: Exception) -> bool:
    """Whether click raised only after printing the help (a command run with no arguments)."""
    no_args = getattr(click_exc, "NoArgsIsHelpError", None)
    return (no_args is not None and isinstance(exc, no_args)) or not str(exc).strip()


def _version(value: bool) -> None:
    if value:
        from optviz.version import __version__

        typer.echo(f"optviz {__version__}")
        raise typer.Exit()


def _contradictions(args: list[str]) -> None:
    """``--bias --no-bias``: a flag and its negation in one call is a mistake, not 'the last
    one wins'."""
    from optviz.errors import BadValueError

    given = set(args[:args.index("--")] if "--" in args else args)
    for arg in sorted(given):
        if arg.startswith("--no-") and f"--{arg[5:]}" in given:
            raise BadValueError(f"--{arg[5:]} and {arg} contradict each other; give one")


class OptvizGroup(TyperGroup):
    """Runs commands in non-standalone mode so that errors are reported our way."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: Any = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            _contradictions(sys.argv[1:] if args is None else list(args))
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except OptvizError as exc:
            if _debug():
                raise
            _fail(str(exc), exc.exit_code)
        except typer.Abort:
            _fail("aborted", 130)
        except click_exc.ClickException as exc:
            if _printed_help(exc):
                sys.exit(0)  # bare ``optviz``: the help is the answer, not an error
            if _debug():
                raise
            where = exc.ctx.command_path if getattr(exc, "ctx", None) else "optviz"
            hint = f" (see '{where} --help')" if isinstance(exc, click_exc.UsageError) else ""
            _fail(exc.format_message() + hint, exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:  # a bug, not bad input: still one line unless debugging
            if _debug():
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} "
                  "(run again with OPTVIZ_DEBUG=1 for the traceback)", 1)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=OptvizGroup,
    name="optviz",
    help="See how PyTorch optimizers and learning-rate schedulers move.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print optviz's version and exit."),
) -> None:
    """See how PyTorch optimizers and learning-rate schedulers move."""


def _register() -> None:
    from optviz.cli import (
        basin,
        gallery,
        listing,
        render,
        schedule,
        schema,
        show,
        sweep,
        trajectory,
    )

    for module in (trajectory, sweep, basin, schedule, render, listing, show, schema, gallery):
        module.register(app)
    from optviz.cli import rank

    rank.register(app)


_register()


def main() -> None:
    """Console-script entry point: the command, then the process ends without the
    interpreter's teardown (``optviz.cli.process``)."""
    from optviz.cli.process import finish
    from optviz.collector import collect_less_often

    collect_less_often()
    try:
        app(prog_name="optviz")
    except SystemExit as exc:
        finish(exc.code)
    finish(0)
