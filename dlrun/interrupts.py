"""How dlrun takes SIGINT and SIGTERM, and a hold point that tests of it wait on.

Every command runs inside :func:`signals_honoured`: SIGINT raises
``KeyboardInterrupt`` and SIGTERM (what a scheduler or ``docker stop`` sends)
raises :class:`Terminated`, a ``KeyboardInterrupt`` too, so every path that
keeps finished work on an interrupt keeps it on a termination as well; the CLI
exits 130 or 143. The handlers are installed explicitly because a process
started from a non-interactive shell's background job inherits SIGINT
*ignored*, and Python then never installs its own handler: such a run would
silently carry on through an interrupt (this is how a test of it once failed).

:func:`hold_point` lets a test stop a run at a named point instead of guessing
with the clock: with ``DLRUN_HOLD=PHASE[:N]=FILE`` in the environment, the run
writes ``FILE`` when it reaches ``PHASE`` (the N-th time, for counted phases
such as ``fits``) and then waits there, so the test can send its signal at a
known moment and assert exactly what was kept.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOLD_ENV = "DLRUN_HOLD"
#: A hold point gives up waiting after this long (a forgotten test must not hang CI).
HOLD_SECONDS = 300.0


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: stop like an interrupt (finished work is kept), exit 143."""


def _raise_terminated(signum, frame):
    raise Terminated()


@contextmanager
def signals_honoured() -> Iterator[None]:
    """SIGINT -> KeyboardInterrupt and SIGTERM -> :class:`Terminated` for the block,
    whatever the process inherited; the previous handlers are restored after it."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (and receives the signals)
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            if handler is not None:
                signal.signal(sig, handler)


def hold_point(phase: str, count: int = 0) -> None:
    """Wait here when ``DLRUN_HOLD`` names this phase (see the module docstring)."""
    setting = os.environ.get(HOLD_ENV)
    if not setting or "=" not in setting:
        return
    where, _, marker = setting.partition("=")
    name, _, nth = where.partition(":")
    if name != phase or (nth and (not nth.isdigit() or int(nth) != count)):
        return
    Path(marker).write_text(f"{os.getpid()}\n", encoding="utf-8")
    deadline = time.monotonic() + HOLD_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.02)
