"""``optviz sweep OPT --lr LO:HI:N``: loss against learning rate, and the best lr's path."""

from __future__ import annotations

from pathlib import Path

import typer

from optviz.cli.common import (
    DEVICE,
    DPI,
    DTYPE,
    DUMP_CONFIG,
    LOOKAHEAD,
    LOOKAHEAD_ALPHA,
    LOOKAHEAD_K,
    check_option_typos,
    export_option,
    output_option,
)
from optviz.results import OBJECTIVE

EPILOG = (
    f"The best lr has the {OBJECTIVE} (--tol). Other settings go as --kebab-name VALUE "
    "(e.g. --momentum 0.9) or inline: sgd:momentum=0.9."
)


def sweep_cmd(
    ctx: typer.Context,
    optimizer: list[str] = typer.Argument(
        None, metavar="OPT[:key=value,...]", help="One optimizer, with inline settings."),
    function: str = typer.Option("quadratic", "--function", "-f",
                                 help="Test function (see 'optviz list functions')."),
    lr: str = typer.Option("1e-5:10:61", "--lr",
                           help="Learning rates: LO:HI:N (N log-spaced values) or a,b,c."),
    start: str = typer.Option(None, "--start", help="Start point X,Y (default: the function's)."),
    steps: int = typer.Option(100, "--steps", "-n", help="Optimizer steps per lr."),
    tol: float = typer.Option(None, "--tol", help="Tolerance on f − f* (default 1e-6, times "
                              "|f*| when that is above 1)."),
    refine: int = typer.Option(None, "--refine", min=0, max=10,
                               help="Refining passes around the best lrs after the grid, as "
                                    "--lr auto searches (default 3; 0: the grid alone; a grid "
                                    "of under 3 lrs is taken as given)."),
    device: str = DEVICE,
    dtype: str = DTYPE,
    output: Path = output_option(".png, .svg, .pdf or an interactive .html",
                                 "sweep_FUNCTION_OPT.png"),
    export: Path = export_option("lr, losses and best"),
    lookahead: bool = LOOKAHEAD,
    lookahead_k: int = LOOKAHEAD_K,
    lookahead_alpha: float = LOOKAHEAD_ALPHA,
    dpi: int = DPI,
    dump_config: bool = DUMP_CONFIG,
) -> None:
    """Final loss against learning rate for one optimizer, beside the best lr's path.

    Every lr runs at once in one batched optimizer; the best is marked on the curve.
    """
    from optviz.cli.common import lookahead_from_cli, parse_floats, print_config, spec_from_tokens
    from optviz.cli.report import write_and_report
    from optviz.plan.optimizers import boolean_settings
    from optviz.spec.sweep import SweepSpec

    check_option_typos(ctx, [*(optimizer or []), *ctx.args])
    spec = spec_from_tokens(
        SweepSpec, "sweep", [*(optimizer or []), *ctx.args], boolean_settings(),
        lookahead=lookahead_from_cli(lookahead, lookahead_k, lookahead_alpha),
        function=function, lr=lr, start=parse_floats("--start", start), steps=steps, tol=tol,
        device=device, dtype=dtype, output=str(output) if output else None,
        export=str(export) if export else None,
        **({} if refine is None else {"refine": refine}))
    if dump_config:
        print_config(spec)
        return
    write_and_report(spec, dpi)


def register(app: typer.Typer) -> None:
    app.command(
        "sweep", epilog=EPILOG,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(sweep_cmd)
