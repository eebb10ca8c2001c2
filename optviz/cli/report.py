"""The one way every drawing command runs a spec and reports: progress bars and notes on a
terminal, lint warnings on stderr, then diverged runs, summary lines and the files written
(saying when one replaced an existing file) on stdout."""

from __future__ import annotations

from typing import Any

import typer

from optviz.cli.progress import note, progress_tasks


def write_and_report(spec: Any, dpi: int | None = None, flags: bool = True) -> Any:
    """Write ``spec``'s image (and export) through the one write path, then report. With
    ``flags`` (the spec's settings came from the command line), a setting that applies to
    nothing is named as its flag (``--gama``); from a config, as the setting."""
    import warnings

    from optviz.errors import CallSettingError, UnknownSettingError
    from optviz.figures.write import write_figure
    from optviz.hooks import Hooks

    # numpy's overflow warnings and matplotlib's tick warnings on extreme values (an lr of
    # 1e308, a far start) say nothing a user can act on; what matters is in the report.
    with progress_tasks() as start, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            written = write_figure(spec, Hooks(task=start, note=note), dpi=dpi)
        except CallSettingError as exc:
            if not flags:
                raise
            raise UnknownSettingError(exc.flag_text()) from None
    report(written, flags)
    return written


def report(written: Any, flags: bool = True) -> None:
    """Warnings first (stderr), then what was drawn and written (stdout). With ``flags``, a
    warning whose advice names settings (``flag_text``) names them as flags."""
    computed = written.rendered.computed
    for text in computed.warnings:
        if flags and hasattr(text, "flag_text"):
            text = text.flag_text()
        typer.echo(f"optviz: warning: {text}", err=True)
    for line in (*computed.diverged, *computed.summary):
        typer.echo(line)
    for path in (written.image, written.export):
        if path is not None:
            verb = "replaced" if path in written.replaced else "wrote"
            typer.echo(f"{verb} {path}")
