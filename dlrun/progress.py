"""Progress and messages from library code, without the library knowing about terminals.

The library calls a :class:`Reporter`; the base class does nothing (hooks with
no-op defaults, as Keras callbacks do). The CLI passes one that draws a rich
progress bar on stderr, so ``--json`` output on stdout stays clean.
"""

from __future__ import annotations


class Reporter:
    def message(self, text: str, level: str = "info") -> None:
        """A line for the user (level: info, warning)."""

    def start(self, title: str, total: int) -> None:
        """A unit of work with ``total`` steps begins."""

    def advance(self, n: int = 1, description: str | None = None) -> None:
        """``n`` steps finished."""

    def finish(self) -> None:
        """The unit of work ended (normally or not)."""


class CollectingReporter(Reporter):
    """Keeps messages in a list (tests, and callers that print them later)."""

    def __init__(self):
        self.messages: list[tuple[str, str]] = []

    def message(self, text: str, level: str = "info") -> None:
        self.messages.append((level, text))
