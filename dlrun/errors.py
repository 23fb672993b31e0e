"""Domain errors. Library code raises these; only the CLI maps them to exit codes."""

from __future__ import annotations


class DlrunError(Exception):
    """Anything that went wrong inside dlrun (exit code 1)."""

    exit_code = 1


class BadInput(DlrunError):
    """The user's spec, data or arguments are wrong (exit code 2).

    ``field`` names the YAML path, column or option at fault, so the message can
    say exactly where to look.
    """

    exit_code = 2

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None):
        self.field = field
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        text = super().__str__()
        if self.field and not text.startswith(self.field):
            text = f"{self.field}: {text}"
        if self.hint:
            text = f"{text}{'' if text.endswith(('.', '!', '?', ':')) else '.'} {self.hint}"
        return text


class SpecError(BadInput):
    """project.yaml is missing, unreadable or does not match the schema."""


class DataError(BadInput):
    """The data cannot be read or does not fit the spec (names the column)."""


class ArgumentError(BadInput):
    """A command-line argument is wrong."""
