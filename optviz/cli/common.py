"""Helpers the command modules share: turning raw CLI input into a validated spec."""

from __future__ import annotations

import math
from typing import Any

import typer

from optviz.errors import BadValueError

# --lookahead and its two settings, declared once for every command that runs an optimizer on
# a function (trajectory, sweep, basin). k and alpha default to None, so that giving one
# without --lookahead can be told apart from not giving it; LookaheadSpec fills in 5 and 0.5.
LOOKAHEAD_PANEL = "Lookahead"
LOOKAHEAD = typer.Option(False, "--lookahead", rich_help_panel=LOOKAHEAD_PANEL,
                         help="Wrap the optimizer in Lookahead (Zhang et al. 2019).")
LOOKAHEAD_K = typer.Option(None, "--lookahead-k", rich_help_panel=LOOKAHEAD_PANEL,
                           help="Lookahead: sync every k steps (default 5).")
LOOKAHEAD_ALPHA = typer.Option(None, "--lookahead-alpha", rich_help_panel=LOOKAHEAD_PANEL,
                               help="Lookahead: slow weights' step towards fast (default 0.5).")


def lookahead_from_cli(lookahead: bool, k: int | None, alpha: float | None
                       ) -> dict[str, Any] | None:
    """The Lookahead settings for a spec (``{"k": 3}``; the spec fills in the rest), or None
    without ``--lookahead``. A setting given without it is an error, not silently dropped."""
    given = {key: value for key, value in (("k", k), ("alpha", alpha)) if value is not None}
    if not lookahead:
        if given:
            raise BadValueError(f"--lookahead-{next(iter(given))} needs --lookahead")
        return None
    return given


def check_option_typos(ctx: typer.Context, tokens: list[str]) -> None:
    """A ``--kebab`` token that is no optimizer's setting but is close to one of the command's
    own options is a misspelt option (``--stpes 10``): say so, rather than pass it on as an
    optimizer setting that does not apply. Settings of the registered optimizers, and of any
    plugin the call names, are never mistaken for typos."""
    from optviz.errors import OptvizError
    from optviz.names import did_you_mean, suggest
    from optviz.plan.optimizers import builtin_settings
    from optviz.registry import OPTIMIZERS
    from optviz.registry.signatures import signature_params
    from optviz.spec.syntax import parse_inline

    flags = [t for t in tokens if t.startswith("--") and t != "--"]
    own = [o for p in ctx.command.params for o in (*p.opts, *p.secondary_opts)
           if o.startswith("--")]
    suspects = [f for f in flags if did_you_mean(f.partition("=")[0], own)]
    if not suspects:
        return
    known = builtin_settings()
    for token in tokens:
        if token.startswith("-"):
            continue
        try:  # a plugin the call names (a dotted path, an entry point), or an option's value
            name = parse_inline(token)[0]
            record = OPTIMIZERS.resolve(name)
            if record.plugin:
                known.update(signature_params(record.load_checked("optimizer", name)))
        except (OptvizError, ValueError, TypeError):
            pass  # not an optimizer after all; the spec will say what is wrong
    for flag in suspects:
        key = flag[2:].partition("=")[0].replace("-", "_")
        if key not in known and key.removeprefix("no_") not in known:
            option = flag.partition("=")[0]
            (best,) = suggest(option, own, n=1)
            raise BadValueError(f"no such option: {option}; did you mean {best}?")


def parse_floats(option: str, text: str | None, lrs: bool = False) -> list[float] | None:
    """``"4,3"`` -> ``[4.0, 3.0]``; a bad number is one clear error naming the option.
    Coordinates must be finite; learning rates (``lrs``) finite and > 0, said as the spec
    says it for every other lr."""
    if text is None:
        return None
    try:
        values = [float(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise BadValueError(f"{option}: expected numbers separated by commas, got {text!r}") \
            from None
    if lrs:
        from optviz.spec.figures import check_lr

        for value in values:
            try:
                check_lr(value)
            except ValueError as exc:
                raise BadValueError(f"{option}: {exc}") from None
    elif not all(math.isfinite(v) for v in values):
        raise BadValueError(f"{option}: coordinates must be finite numbers, got {text!r}")
    return values


def parse_ints(option: str, text: str | None) -> list[int] | None:
    """``"0,5,10"`` -> ``[0, 5, 10]``; a bad number is one clear error naming the option."""
    if text is None:
        return None
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise BadValueError(f"{option}: expected whole numbers separated by commas, got "
                            f"{text!r}") from None


def spec_from_cli(tokens: list[str], flags: set[str], **fields: Any) -> Any:
    """Split names from ``--kebab`` settings and build the trajectory spec."""
    from optviz.spec.figures import TrajectorySpec, build
    from optviz.spec.syntax import parse_cli_tokens

    names, common = parse_cli_tokens(tokens, flags)
    if not names:
        raise BadValueError("name at least one optimizer, e.g. 'optviz trajectory adam --lr 0.1'")
    given = {key: value for key, value in fields.items() if value is not None}  # None: unset
    return build(TrajectorySpec, {"optimizers": names, "settings": common, **given}, cli=True)


def spec_from_tokens(model: type[Any], command: str, tokens: list[str], flags: set[str],
                     lookahead: dict[str, Any] | None = None, **fields: Any) -> Any:
    """One optimizer name (with inline settings) and ``--kebab`` settings from the command
    line, with the other fields, into a validated sweep or basin spec. ``lookahead``
    (``--lookahead``) wraps the optimizer, as ``lookahead:`` on the config's optimizer does."""
    from optviz.spec.figures import OptimizerSpec, build
    from optviz.spec.sweep import SweepSpec
    from optviz.spec.syntax import parse_cli_tokens, parse_inline

    names, common = parse_cli_tokens(tokens, flags)
    if len(names) != 1:
        got = f"; got {len(names)}: {' '.join(names)}" if names else ""
        raise BadValueError(f"name one optimizer, e.g. 'optviz {command} adam'{got}")
    if model is SweepSpec and OptimizerSpec.model_validate(names[0]).lr is not None:
        raise BadValueError(f"{names[0]}: the sweep sets the learning rate; drop lr= and give "
                            "the grid with --lr LO:HI:N")
    optimizer: Any = names[0]
    if lookahead is not None:
        name, settings = parse_inline(names[0])
        optimizer = {"name": name, "settings": settings, "lookahead": lookahead}
    return build(model, {"optimizer": optimizer, "settings": common, **fields}, cli=True)


DPI = typer.Option(None, "--dpi", min=10, max=1200,
                   help="Resolution of a PNG (default 150); SVG and PDF are vector.")
DUMP_CONFIG = typer.Option(False, "--dump-config",
                           help="Print the call as a YAML config and exit.")
DEVICE = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N, mps or auto.")


def dtype_option(default: str = "float32") -> Any:
    """``--dtype``, defaulting to ``default`` (rank computes in float64); the help shows it."""
    other = "float64" if default == "float32" else "float32"
    return typer.Option(default, "--dtype", help=f"{default} or {other}.")


DTYPE = dtype_option()


def output_option(formats: str, default: str, noun: str = "Image") -> Any:
    """``-o``/``--output``: the formats this command writes and its default file name."""
    return typer.Option(None, "--output", "-o", help=f"{noun}: {formats} (default: {default}).")


def export_option(what: str) -> Any:
    """``--export``: which numbers the JSON or CSV file holds."""
    return typer.Option(None, "--export", help=f"Also write {what} as .json or .csv.")


def print_config(spec: Any) -> None:
    """The spec as YAML on stdout: ``optviz render`` of that file draws the same picture."""
    from optviz.config import dump_yaml

    print(dump_yaml(spec), end="")
