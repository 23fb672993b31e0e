"""Hooks into an evaluation, Keras style: a base class whose ``on_*`` methods do nothing.

The evaluation core (:func:`dlrun.evaluation.runner.run_grid`) calls them as it
goes; whatever wants to follow a run -- the progress bar, a tuner that prunes
a hopeless trial after a fold, an experiment tracker, a test that interrupts
a run at a known point -- subclasses :class:`Callback` and overrides the one
or two methods it needs:

* ``on_run_begin(run)`` -- before the first fit (``run.pending`` jobs to compute);
* ``on_job_end(job, result, reused)`` -- after each fold's result is stored
  (``reused``: it came from the store); raise :class:`StopCandidate` to skip
  the candidate's remaining folds (a pruned tuning trial);
* ``on_candidate_end(candidate, results)`` -- once every fold of a candidate
  has a result (fold id -> result), or it was stopped;
* ``on_run_end(run)`` -- at the end, interrupted or not.
"""

from __future__ import annotations

from typing import Any


class StopCandidate(Exception):
    """Raised by a callback's ``on_job_end``: compute no more folds of this candidate."""

    def __init__(self, reason: str = "stopped"):
        self.reason = reason
        super().__init__(reason)


class Callback:
    def on_run_begin(self, run) -> None:
        """The run is about to compute ``run.pending`` jobs (``run.total`` in all)."""

    def on_job_end(self, job, result: dict[str, Any], reused: bool) -> None:
        """One fold's result is in the store (or came from it)."""

    def on_candidate_end(self, candidate, results: dict[str, dict[str, Any]]) -> None:
        """Every fold of ``candidate`` has a result (fold id -> result), or it was stopped."""

    def on_run_end(self, run) -> None:
        """The run ended (``run.interrupted`` says whether it was cut short)."""


class CallbackList(Callback):
    """Calls each callback in turn."""

    def __init__(self, callbacks=()):
        self.callbacks = [c for c in callbacks if c is not None]

    def on_run_begin(self, run) -> None:
        for c in self.callbacks:
            c.on_run_begin(run)

    def on_job_end(self, job, result, reused) -> None:
        for c in self.callbacks:
            c.on_job_end(job, result, reused)

    def on_candidate_end(self, candidate, results) -> None:
        for c in self.callbacks:
            c.on_candidate_end(candidate, results)

    def on_run_end(self, run) -> None:
        for c in self.callbacks:
            c.on_run_end(run)


class ProgressCallback(Callback):
    """Drives a :class:`dlrun.progress.Reporter` (the CLI's progress bar)."""

    def __init__(self, reporter):
        self.reporter = reporter
        self.started = False

    def on_run_begin(self, run) -> None:
        if run.pending:
            self.reporter.start("fitting", run.pending)
            self.started = True

    def on_job_end(self, job, result, reused) -> None:
        if self.started and not reused:
            self.reporter.advance(1, f"{job.candidate.name} / {job.candidate.view}")

    def on_run_end(self, run) -> None:
        if self.started:
            self.reporter.finish()


class HoldCallback(Callback):
    """Holds the run after each newly computed fit when ``DLRUN_HOLD=fits:N=FILE`` says so
    (see :mod:`dlrun.interrupts`): tests interrupt a run at a known point."""

    def __init__(self):
        self.computed = 0

    def on_job_end(self, job, result, reused) -> None:
        if not reused and "error" not in result:
            from dlrun.interrupts import hold_point

            self.computed += 1
            hold_point("fits", self.computed)
