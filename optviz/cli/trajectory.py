"""``optviz trajectory OPT [OPT ...]``: optimizer paths on a test function."""

from __future__ import annotations

from pathlib import Path

import typer

from optviz.cli.common import (
    LOOKAHEAD,
    LOOKAHEAD_ALPHA,
    LOOKAHEAD_K,
    lookahead_from_cli,
    parse_floats,
    print_config,
    spec_from_cli,
)

EPILOG = (
    "Settings: --lr sets every optimizer's learning rate; any other keyword of the optimizers' "
    "factories goes as --kebab-name VALUE (e.g. --momentum 0.9 --betas 0.9,0.99 --nesterov), "
    "or per optimizer inline: sgd:lr=0.01,momentum=0.9 adam:lr=0.1,betas=[0.9,0.99]. "
    "See 'optviz list optimizers' and 'optviz show NAME'."
)


SCHED, MODEL = "Scheduler and state", "Linear model (--model linear)"


def trajectory_cmd(
    ctx: typer.Context,
    optimizers: list[str] = typer.Argument(
        None, metavar="OPT[:key=value,...] ...", help="Optimizer names, with inline settings."
    ),
    function: str = typer.Option("quadratic", "--function", "-f",
                                 help="Test function (see 'optviz list functions')."),
    start: str = typer.Option(None, "--start", help="Start point X,Y (default: the function's)."),
    steps: int = typer.Option(100, "--steps", "-n", help="Optimizer steps."),
    lr: str = typer.Option(None, "--lr", help="Learning rate for every optimizer, or 'auto': "
                           "picked per optimizer by a batched lr sweep (see 'optviz sweep')."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N, mps or auto."),
    dtype: str = typer.Option("float32", "--dtype", help="float32 or float64."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    output: Path = typer.Option(None, "--output", "-o",
                                help="PNG to write (default: derived from the call)."),
    export: Path = typer.Option(None, "--export", help="Also write the paths as .json or .csv."),
    scheduler: str = typer.Option(None, "--scheduler", rich_help_panel=SCHED,
                                  help="LR scheduler on every run, e.g. StepLR:step_size=10."),
    interval: str = typer.Option("step", "--interval", rich_help_panel=SCHED,
                                 help="Step the scheduler per step, or per epoch (model)."),
    show_state: bool = typer.Option(False, "--show-state", rich_help_panel=SCHED,
                                    help="Add a panel tracing the optimizer's state."),
    lookahead: bool = LOOKAHEAD,
    lookahead_k: int = LOOKAHEAD_K,
    lookahead_alpha: float = LOOKAHEAD_ALPHA,
    model: str = typer.Option(None, "--model", rich_help_panel=MODEL,
                              help="Train a model instead of a function: linear."),
    in_features: int = typer.Option(10, "--in-features", rich_help_panel=MODEL),
    out_features: int = typer.Option(1, "--out-features", rich_help_panel=MODEL),
    bias: bool = typer.Option(True, "--bias/--no-bias", rich_help_panel=MODEL),
    samples: int = typer.Option(256, "--samples", rich_help_panel=MODEL),
    batch_size: int = typer.Option(32, "--batch-size", rich_help_panel=MODEL,
                                   help="Mini-batch size; 0 (or >= samples): full batch."),
    epochs: int = typer.Option(20, "--epochs", rich_help_panel=MODEL),
    noise: float = typer.Option(0.1, "--noise", rich_help_panel=MODEL,
                                help="Std of the noise added to the targets."),
    dump_config: bool = typer.Option(False, "--dump-config",
                                     help="Print the call as a YAML config and exit."),
) -> None:
    """Draw optimizer paths on a contour of a test function, with a loss-vs-step panel."""
    from optviz.cli.progress import progress_tasks
    from optviz.optimizers import boolean_settings
    from optviz.pipeline import write_figure
    from optviz.sweep import auto_progress

    spec = spec_from_cli(
        [*(optimizers or []), *ctx.args], boolean_settings(),
        function=function, start=parse_floats("--start", start), steps=steps, lr=lr,
        device=device, dtype=dtype, seed=seed,
        output=str(output) if output else None, export=str(export) if export else None,
        lookahead=lookahead_from_cli(lookahead, lookahead_k, lookahead_alpha),
        scheduler=scheduler, interval=interval, show_state=show_state, model=model,
        in_features=in_features, out_features=out_features, bias=bias, samples=samples,
        batch_size=batch_size, epochs=epochs, noise=noise,
    )
    if dump_config:
        print_config(spec)
        return
    # --lr auto runs a sweep per optimizer before drawing: a bar for each, on a terminal only.
    with progress_tasks() as start, auto_progress(start):
        written = write_figure(spec)
    report(written)


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
