"""``optviz trajectory OPT [OPT ...]``: optimizer paths on a test function."""

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
    lookahead_from_cli,
    output_option,
    parse_floats,
    parse_ints,
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
SHOW = "Display, animation and HTML"


def trajectory_cmd(
    ctx: typer.Context,
    optimizers: list[str] = typer.Argument(
        None, metavar="OPT[:key=value,...] ...", help="Optimizer names, with inline settings."
    ),
    function: str = typer.Option(None, "--function", "-f",
                                 help="Test function (default quadratic; see 'optviz list "
                                      "functions')."),
    start: str = typer.Option(None, "--start", help="Start point X,Y (default: the function's)."),
    steps: int = typer.Option(None, "--steps", "-n", help="Optimizer steps (default 100)."),
    lr: str = typer.Option(None, "--lr", help="Learning rate for every optimizer, or 'auto': "
                           "picked per optimizer by a batched lr sweep (see 'optviz sweep')."),
    device: str = DEVICE,
    dtype: str = DTYPE,
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    output: Path = output_option(".png, .svg, .pdf, an animated .gif or .mp4, or an "
                                 "interactive .html", "a .png named after the call"),
    export: Path = export_option("the paths"),
    scheduler: str = typer.Option(None, "--scheduler", rich_help_panel=SCHED,
                                  help="LR scheduler on every run, e.g. StepLR:step_size=10."),
    interval: str = typer.Option(None, "--interval", rich_help_panel=SCHED,
                                 help="Step the scheduler per step (default), or per epoch "
                                      "(--model linear)."),
    show_state: bool = typer.Option(False, "--show-state", rich_help_panel=SCHED,
                                    help="Add a panel tracing the optimizer's state."),
    lookahead: bool = LOOKAHEAD,
    lookahead_k: int = LOOKAHEAD_K,
    lookahead_alpha: float = LOOKAHEAD_ALPHA,
    model: str = typer.Option(None, "--model", rich_help_panel=MODEL,
                              help="Train a model instead of a function: linear."),
    # Model options default to None, so that one given without --model is refused rather
    # than ignored; the spec fills in the defaults shown.
    in_features: int = typer.Option(None, "--in-features", rich_help_panel=MODEL,
                                    help="Inputs of Linear (default 10)."),
    out_features: int = typer.Option(None, "--out-features", rich_help_panel=MODEL,
                                     help="Outputs of Linear (default 1)."),
    bias: bool = typer.Option(None, "--bias/--no-bias", rich_help_panel=MODEL,
                              help="Linear with a bias (default: yes)."),
    samples: int = typer.Option(None, "--samples", rich_help_panel=MODEL,
                                help="Data points (default 256)."),
    batch_size: int = typer.Option(None, "--batch-size", rich_help_panel=MODEL,
                                   help="Mini-batch size (default 32); 0 (or >= samples): full "
                                        "batch."),
    epochs: int = typer.Option(None, "--epochs", rich_help_panel=MODEL,
                               help="Passes over the data (default 20)."),
    noise: float = typer.Option(None, "--noise", rich_help_panel=MODEL,
                                help="Std of the noise added to the targets (default 0.1)."),
    aspect: str = typer.Option(None, "--aspect", rich_help_panel=SHOW,
                               help="auto or equal (default: equal where x and y share a "
                                    "scale)."),
    zoom: bool = typer.Option(False, "--zoom", rich_help_panel=SHOW,
                              help="Add an inset on the end of the run."),
    view: str = typer.Option(None, "--view", rich_help_panel=SHOW,
                             help="2d (contour, the default) or 3d (surface)."),
    fps: int = typer.Option(None, "--fps", rich_help_panel=SHOW,
                            help="Animation frames per second (default 20; -o x.gif/x.mp4)."),
    frames: int = typer.Option(None, "--frames", rich_help_panel=SHOW,
                               help="Animation frames (default: every step up to 150)."),
    rotate: bool = typer.Option(False, "--rotate", rich_help_panel=SHOW,
                                help="3d animation: turn the camera slowly."),
    vectors: bool = typer.Option(False, "--vectors", rich_help_panel=SHOW,
                                 help="Draw gradient, update, momentum and scaling arrows."),
    vectors_at: str = typer.Option(None, "--vectors-at", rich_help_panel=SHOW,
                                   help="Steps a still picture draws the vectors at, e.g. "
                                        "0,5,10."),
    explore_lrs: str = typer.Option(None, "--explore-lrs", rich_help_panel=SHOW,
                                    help="HTML explorer (-o x.html): lr grid LO:HI:N "
                                         "(default 33 values over two decades)."),
    dpi: int = DPI,
    dump_config: bool = DUMP_CONFIG,
) -> None:
    """Draw optimizer paths on a contour of a test function, with a loss-vs-step panel."""
    from optviz.cli.report import write_and_report
    from optviz.plan.optimizers import boolean_settings

    check_option_typos(ctx, [*(optimizers or []), *ctx.args])
    spec = spec_from_cli(
        [*(optimizers or []), *ctx.args], boolean_settings(),
        function=function, start=parse_floats("--start", start), steps=steps, lr=lr,
        device=device, dtype=dtype, seed=seed,
        output=str(output) if output else None, export=str(export) if export else None,
        lookahead=lookahead_from_cli(lookahead, lookahead_k, lookahead_alpha),
        scheduler=scheduler, interval=interval, show_state=show_state, model=model,
        in_features=in_features, out_features=out_features, bias=bias, samples=samples,
        batch_size=batch_size, epochs=epochs, noise=noise, aspect=aspect, zoom=zoom, view=view,
        fps=fps, frames=frames, rotate=rotate, vectors=vectors,
        vectors_at=parse_ints("--vectors-at", vectors_at), explore_lrs=explore_lrs,
    )
    if dump_config:
        print_config(spec)
        return
    # --lr auto runs a sweep per optimizer before drawing: a bar for each, on a terminal only.
    write_and_report(spec, dpi)


def register(app: typer.Typer) -> None:
    app.command(
        "trajectory",
        epilog=EPILOG,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(trajectory_cmd)
