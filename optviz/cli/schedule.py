"""``optviz schedule SCHED [SCHED ...]``: learning rate against step for LR schedulers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from optviz.cli.common import (
    DPI,
    DUMP_CONFIG,
    export_option,
    output_option,
    parse_floats,
    print_config,
)

# Square brackets are escaped: Typer's rich help would read "[linear(...)]" as markup.
EPILOG = (
    "Settings go inline with the factory's own keywords: StepLR:step_size=3,gamma=0.7 "
    "MultiStepLR:milestones=\\[5,11] 'lambda:lr_lambda=min(1, (epoch+1)/5)', or as "
    "--kebab-name VALUE for every scheduler that takes it (--gamma 0.7, --no-cycle-momentum). "
    "Nested: 'sequential:schedulers=\\[linear(total_iters=8),cosine],milestones=\\[8]'. "
    "Arguments a scheduler needs (T_max, total_steps, epochs, steps_per_epoch, "
    "num_training_steps) come from the run unless given. "
    "See 'optviz list schedulers' and 'optviz show NAME'."
)

# Formula settings keep their text whole: commas and brackets in them are not list syntax.
_RAW_OPTIONS = ("lr_lambda", "scale_fn")


def split_raw(tokens: list[str]) -> tuple[list[str], dict[str, Any]]:
    """Take ``--lr-lambda FORMULA`` (and ``--lr-lambda=FORMULA``) out of the tokens, verbatim."""
    rest: list[str] = []
    raw: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        key, eq, value = tok[2:].partition("=") if tok.startswith("--") else ("", "", "")
        key = key.replace("-", "_")
        if key in _RAW_OPTIONS and eq:
            raw[key] = value
        elif key in _RAW_OPTIONS and i + 1 < len(tokens):
            raw[key] = tokens[i + 1]
            i += 1
        else:
            rest.append(tok)
        i += 1
    return rest, raw


def schedule_spec_from_cli(tokens: list[str], **fields: Any) -> Any:
    """Split scheduler names from ``--kebab`` settings and build the schedule spec."""
    from optviz.errors import BadValueError
    from optviz.plan.schedulers import boolean_settings
    from optviz.spec.figures import ScheduleSpec, build
    from optviz.spec.syntax import parse_cli_tokens

    rest, raw = split_raw(tokens)
    # Boolean keywords come from the factories' signatures, which imports torch: only when
    # there are --kebab settings to read, so that a mistyped name is refused at once.
    flags = boolean_settings() if any(t.startswith("--") for t in rest) else set()
    names, common = parse_cli_tokens(rest, flags)
    common.update(raw)
    if not names:
        raise BadValueError("name at least one scheduler, e.g. 'optviz schedule onecycle' "
                            "(see 'optviz list schedulers')")
    fields = {k: v for k, v in fields.items() if v is not None}
    return build(ScheduleSpec, {"schedulers": names, "settings": common, **fields}, cli=True)


def schedule_cmd(
    ctx: typer.Context,
    schedulers: list[str] = typer.Argument(
        None, metavar="SCHED[:key=value,...] ...", help="Scheduler names, with inline settings."
    ),
    lr: str = typer.Option(None, "--lr",
                           help="Initial learning rate (default 1e-3); several, as 1e-3,1e-4, "
                                "give one parameter group each."),
    epochs: int = typer.Option(4, "--epochs", help="Epochs in the run."),
    steps_per_epoch: int = typer.Option(8, "--steps-per-epoch", help="Optimizer steps per epoch."),
    interval: str = typer.Option("step", "--interval",
                                 help="Step the scheduler every 'step' or every 'epoch'."),
    optimizer: str = typer.Option("sgd", "--optimizer",
                                  help="Optimizer, with inline settings "
                                       "(adam:betas=\\[0.9,0.99])."),
    grid: bool = typer.Option(False, "--grid", help="One panel per scheduler."),
    log_y: bool = typer.Option(False, "--log-y", help="Logarithmic LR axis."),
    metric: str = typer.Option(None, "--metric",
                               help="ReduceLROnPlateau's metric: a CSV trace, or a formula in "
                                    "step (e.g. '1/(1+step)'), or noisy_decay. Default: the loss "
                                    "of a dummy linear model that the scheduled optimizer trains."),
    title: str = typer.Option(None, "--title", help="Figure title (default: the schedulers)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (the linear model's data and start)."),
    output: Path = output_option(".png, .svg, .pdf or an interactive .html",
                                 "a .png named after the call"),
    export: Path = export_option("the LRs"),
    dpi: int = DPI,
    dump_config: bool = DUMP_CONFIG,
) -> None:
    """Draw learning rate against step for LR schedulers, as a training loop would see it."""
    from optviz.cli.report import write_and_report

    spec = schedule_spec_from_cli(
        [*(schedulers or []), *ctx.args],
        lr=parse_floats("--lr", lr, lrs=True), epochs=epochs,
        steps_per_epoch=steps_per_epoch, interval=interval, optimizer=optimizer, grid=grid,
        log_y=log_y, metric=metric, title=title, seed=seed,
        output=str(output) if output else None, export=str(export) if export else None,
    )
    if dump_config:
        print_config(spec)
        return
    write_and_report(spec, dpi)


def register(app: typer.Typer) -> None:
    app.command(
        "schedule",
        epilog=EPILOG,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(schedule_cmd)
