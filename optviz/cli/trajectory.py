"""``optviz trajectory OPT [OPT ...]``: optimizer paths on a test function."""

from __future__ import annotations

from pathlib import Path

import typer

from optviz.cli.common import parse_floats, print_config, spec_from_cli

EPILOG = (
    "Settings: --lr sets every optimizer's learning rate; any other keyword of the optimizers' "
    "factories goes as --kebab-name VALUE (e.g. --momentum 0.9 --betas 0.9,0.99 --nesterov), "
    "or per optimizer inline: sgd:lr=0.01,momentum=0.9 adam:lr=0.1,betas=[0.9,0.99]. "
    "See 'optviz list optimizers' and 'optviz show NAME'."
)


def trajectory_cmd(
    ctx: typer.Context,
    optimizers: list[str] = typer.Argument(
        None, metavar="OPT[:key=value,...] ...", help="Optimizer names, with inline settings."
    ),
    function: str = typer.Option("quadratic", "--function", "-f",
                                 help="Test function (see 'optviz list functions')."),
    start: str = typer.Option(None, "--start", help="Start point X,Y (default: the function's)."),
    steps: int = typer.Option(100, "--steps", "-n", help="Optimizer steps."),
    lr: float = typer.Option(None, "--lr", help="Learning rate for every optimizer."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N, mps or auto."),
    dtype: str = typer.Option("float32", "--dtype", help="float32 or float64."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    output: Path = typer.Option(None, "--output", "-o",
                                help="PNG to write (default: derived from the call)."),
    export: Path = typer.Option(None, "--export", help="Also write the paths as .json or .csv."),
    dump_config: bool = typer.Option(False, "--dump-config",
                                     help="Print the call as a YAML config and exit."),
) -> None:
    """Draw optimizer paths on a contour of a test function, with a loss-vs-step panel."""
    from optviz.optimizers import boolean_settings
    from optviz.pipeline import write_figure

    spec = spec_from_cli(
        [*(optimizers or []), *ctx.args], boolean_settings(),
        function=function, start=parse_floats("--start", start), steps=steps, lr=lr,
        device=device, dtype=dtype, seed=seed,
        output=str(output) if output else None, export=str(export) if export else None,
    )
    if dump_config:
        print_config(spec)
        return
    report(write_figure(spec))


def report(written) -> None:
    """One line per file written, and a line per diverged run."""
    from rich.console import Console

    console = Console(highlight=False)
    results = getattr(written.result, "results", [written.result])
    for run in (run for result in results for run in getattr(result, "runs", [])):
        if run.diverged:
            console.print(f"{run.label}: diverged at step {run.diverged}")
    console.print(f"wrote {written.image}")
    if written.export:
        console.print(f"wrote {written.export}")


def register(app: typer.Typer) -> None:
    app.command(
        "trajectory",
        epilog=EPILOG,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(trajectory_cmd)
