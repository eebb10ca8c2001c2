"""``optviz basin OPT``: final loss (or steps to the tolerance) from every start of a grid."""

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

EPILOG = (
    "Every start runs in one batched optimizer (element-wise optimizers; others loop, which is "
    "slow on big grids). Settings go as --kebab-name VALUE or inline: adam:betas=[0.9,0.99]."
)


def basin_cmd(
    ctx: typer.Context,
    optimizer: list[str] = typer.Argument(
        None, metavar="OPT[:key=value,...]", help="One optimizer, with inline settings."),
    function: str = typer.Option("rosenbrock", "--function", "-f",
                                 help="2-D test function (see 'optviz list functions')."),
    grid: int = typer.Option(256, "--grid", help="Starts per side: grid x grid in all."),
    steps: int = typer.Option(500, "--steps", "-n", help="Optimizer steps from each start."),
    lr: str = typer.Option(None, "--lr", help="Learning rate, or 'auto' (picked by a sweep "
                           "from the function's default start)."),
    metric: str = typer.Option("loss", "--metric",
                               help="loss: final f − f*; steps: steps to within --tol of f*; "
                                    "minimum: which known minimum each start reaches."),
    tol: float = typer.Option(None, "--tol", help="Tolerance on f − f* (default 1e-6, times "
                              "|f*| when that is above 1)."),
    device: str = DEVICE,
    dtype: str = DTYPE,
    output: Path = output_option(".png, .svg, .pdf or an interactive .html",
                                 "basin_FUNCTION_OPT.png"),
    export: Path = export_option("starts and final losses"),
    lookahead: bool = LOOKAHEAD,
    lookahead_k: int = LOOKAHEAD_K,
    lookahead_alpha: float = LOOKAHEAD_ALPHA,
    dpi: int = DPI,
    dump_config: bool = DUMP_CONFIG,
) -> None:
    """Final loss (or steps to converge) from every start on a grid: a basin map."""
    from optviz.cli.common import lookahead_from_cli, print_config, spec_from_tokens
    from optviz.cli.report import write_and_report
    from optviz.plan.optimizers import boolean_settings
    from optviz.spec.basin import BasinSpec

    check_option_typos(ctx, [*(optimizer or []), *ctx.args])
    spec = spec_from_tokens(
        BasinSpec, "basin", [*(optimizer or []), *ctx.args], boolean_settings(),
        lookahead=lookahead_from_cli(lookahead, lookahead_k, lookahead_alpha),
        function=function, grid=grid, steps=steps, lr=lr, metric=metric, tol=tol,
        device=device, dtype=dtype, output=str(output) if output else None,
        export=str(export) if export else None)
    if dump_config:
        print_config(spec)
        return
    write_and_report(spec, dpi)


def register(app: typer.Typer) -> None:
    app.command(
        "basin", epilog=EPILOG,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(basin_cmd)
