"""Time budgets: when this process started, and the deadline a ``--time-limit`` sets.

A budget counts from the start of the process (start-up included), so the
command ends within the limit the user typed, not within it plus the time spent
importing libraries.
"""

from __future__ import annotations

import os
import time

_FALLBACK_START = time.monotonic()


def process_started() -> float:
    """The ``time.monotonic()`` value at which this process started (Linux: from /proc;
    elsewhere: when dlrun was first imported)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        started_ticks = int(fields[19])  # field 22 of the line, starttime, in clock ticks
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
        elapsed = uptime - started_ticks / os.sysconf("SC_CLK_TCK")
        if 0 <= elapsed < 10 * 86400:
            return time.monotonic() - elapsed
    except (OSError, ValueError, IndexError):
        pass
    return _FALLBACK_START


def reserve(seconds: float) -> float:
    """What a budget keeps, after its last fit, for the leaderboard, the ensembles built from
    stored predictions and the files: 6 % of it, between 1 and 5 seconds."""
    return min(5.0, max(1.0, 0.06 * float(seconds)))


def deadline_for(seconds: float | None) -> float | None:
    """The monotonic time at which a budget of ``seconds`` (from process start) stops the
    fits: its end, less what finishing the command takes (:func:`reserve`)."""
    if seconds is None:
        return None
    return process_started() + float(seconds) - reserve(seconds)


def left(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()
