"""The one family of domain errors; the CLI turns each into one line on stderr and exit code 2."""

from __future__ import annotations


class OptvizError(Exception):
    """Base of every error optviz reports to a user as bad input or an impossible request."""

    exit_code = 2


class UnknownNameError(OptvizError):
    """A name (optimizer, function, scheduler, ...) that no registry knows."""


class UnknownSettingError(OptvizError):
    """A keyword that the factory's signature does not take."""


class BadValueError(OptvizError):
    """A value of the right name but the wrong type or range."""


class OutputError(OptvizError):
    """An output path that cannot be written."""


class DeviceError(OptvizError):
    """A requested torch device that is not available here."""


class UnsupportedError(OptvizError):
    """A combination that cannot run, with the reason (e.g. an optimizer's quirk)."""


class CallSettingError(UnknownSettingError):
    """A setting given for the whole call (``settings:`` in a config, ``--kebab`` on the command
    line, a keyword of the Python API) that does not apply. Its text names the setting as
    ``setting 'key'``; ``flag_text()`` is the same text with the command line's ``--key``, which
    the CLI uses for settings it took from flags."""

    def __init__(self, key: str, template: str) -> None:
        self.key = key
        self.template = template  # "{setting} applies to none of ..."
        super().__init__(template.replace("{setting}", f"setting {key!r}", 1))

    def flag_text(self) -> str:
        """The text with the setting as the command line's flag (``--lookahead-k``)."""
        return self.template.replace("{setting}", "--" + self.key.replace("_", "-"), 1)
