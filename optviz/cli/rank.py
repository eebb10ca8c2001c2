"""``optviz rank [OPT ...]``: optimizers x test functions, each at its tuned lr."""

from __future__ import annotations

from pathlib import Path

import typer

from optviz.cli.common import (
    DEVICE,
    DPI,
    DUMP_CONFIG,
    check_option_typos,
    dtype_option,
    export_option,
    output_option,
)

EPILOG = (
    "Each optimizer's lr is tuned per function as --lr auto does (a coarse grid from 1e-5 to "
    "10, then refining passes), judged by the mean over the starts of the worst f − f* of the "
    "last 10% of the steps; an lr from which any start diverges counts as diverged. Every lr "
    "and start runs as rows of one batch. The Markdown table is printed; --export writes every "
    "start's numbers. Settings for every optimizer go as --kebab-name VALUE, or inline: "
    "sgd:momentum=0.9."
)


def rank_cmd(
    ctx: typer.Context,
    optimizers: list[str] = typer.Argument(
        None, metavar="[OPT[:key=value,...] ...]",
        help="Optimizers (default: every torch.optim optimizer that batches)."),
    functions: str = typer.Option(None, "--functions", "-f",
                                  help="Test functions, comma-separated (default: every one "
                                       "with a known minimum)."),
    starts: int = typer.Option(5, "--starts", help="Starts per function, drawn on its domain."),
    seed: int = typer.Option(0, "--seed", help="Seed of the starts."),
    steps: int = typer.Option(500, "--steps", "-n", help="Optimizer steps per run."),
    colour: str = typer.Option("loss", "--colour", "--color",
                               help="Cell colour: loss (log tail f − f*) or steps (to the "
                                    "tolerance)."),
    tol: float = typer.Option(None, "--tol", help="Tolerance on f − f* (default 1e-6, times "
                              "|f*| when that is above 1)."),
    device: str = DEVICE,
    dtype: str = dtype_option("float64"),
    output: Path = output_option(".png, .svg or .pdf", "rank.png", "Heatmap"),
    export: Path = export_option("every cell and start"),
    markdown: Path = typer.Option(None, "--markdown", help="Also write the table as .md."),
    jobs: int = typer.Option(None, "--jobs", "-j", help="Worker processes on a CPU (default: "
                             "one per core for 8 pairs or more); the numbers do not change."),
    dpi: int = DPI,
    dump_config: bool = DUMP_CONFIG,
) -> None:
    """Every optimizer on every test function at its tuned lr: a heatmap, a table, mean ranks.
    """
    from optviz.cli.common import print_config
    from optviz.cli.report import write_and_report
    from optviz.plan.optimizers import boolean_settings
    from optviz.spec.figures import build
    from optviz.spec.rank import RankSpec
    from optviz.spec.syntax import parse_cli_tokens

    tokens = [*(optimizers or []), *ctx.args]
    check_option_typos(ctx, tokens)
    names, common = parse_cli_tokens(tokens, boolean_settings())
    given = {"functions": functions, "output": str(output) if output else None,
             "export": str(export) if export else None, "tol": tol, "jobs": jobs}
    spec = build(RankSpec, {
        "optimizers": names, "settings": common, "starts": starts, "seed": seed,
        "steps": steps, "colour": colour, "device": device, "dtype": dtype,
        **{k: v for k, v in given.items() if v is not None}}, cli=True)
    if dump_config:
        print_config(spec)
        return
    written = write_and_report(spec, dpi)
    if markdown is not None:
        from optviz.export.files import atomic_write_all

        atomic_write_all({markdown: written.result.to_markdown()})
        typer.echo(f"wrote {markdown}")


def register(app: typer.Typer) -> None:
    app.command(
        "rank", epilog=EPILOG,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(rank_cmd)
