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


class RacingCallback(Callback):
    """Racing: stop candidates that are worse than another one beyond doubt, early.

    At each checkpoint -- after every repeat of the plan (every ``folds`` results of a
    candidate), or, for a single repeat, once 60 % of its folds are in -- a candidate is
    compared with every candidate that has finished at least the same folds, on those
    folds, by the corrected resampled t-test the leaderboard uses, one-sided. If one of
    them scores better with p below ``alpha`` (0.01: strict), the candidate is stopped
    (``StopCandidate``) with the reason; nothing that could still be the best is dropped
    at that level. Error rate: a candidate whose true score equals the leader's is dropped
    at one checkpoint with probability at most ``alpha`` against one rival; the comparison
    with the best of several rivals and repeated checkpoints raise that bound (union bound:
    ``alpha`` x rivals x checkpoints), which is why the level is strict.
    """

    races = True  # the runner orders the folds repeat by repeat for it

    def __init__(self, metric: str, greater_is_better: bool, folds: int, repeats: int,
                 test_fraction: float, alpha: float = 0.01):
        self.metric = metric
        self.sign = 1.0 if greater_is_better else -1.0
        self.test_fraction = test_fraction
        self.alpha = alpha
        self.checkpoints = ({folds * r for r in range(1, repeats)} if repeats > 1
                            else {max(3, int(0.6 * folds + 0.999))})
        self.scores: dict[tuple[str, str], dict[str, float]] = {}
        self.raced: dict[tuple[str, str], dict] = {}

    def on_job_end(self, job, result, reused) -> None:
        import math

        value = (result.get("metrics") or {}).get(self.metric)
        if value is None or not math.isfinite(value):
            return
        key = (job.candidate.name, job.candidate.view)
        mine = self.scores.setdefault(key, {})
        mine[job.fold_id] = float(value)
        if len(mine) not in self.checkpoints:
            return
        rival = self._beaten_by(key)
        if rival is not None:
            other, p = rival
            reason = (f"raced out after {len(mine)} folds: {other[0]} on {other[1]} scores better "
                      f"beyond doubt (one-sided corrected t-test, p = {p:.2g} < {self.alpha})")
            self.raced[key] = {"algorithm": key[0], "view": key[1], "folds": len(mine),
                               "mean": sum(mine.values()) / len(mine), "reason": reason}
            raise StopCandidate(reason)

    def _beaten_by(self, key):
        from dlrun.evaluation.stats import corrected_resampled_ttest

        mine = self.scores[key]
        folds = sorted(mine)
        best = None
        for other, theirs in self.scores.items():
            if other == key or other in self.raced or not set(folds) <= set(theirs):
                continue
            a = [self.sign * theirs[f] for f in folds]
            b = [self.sign * mine[f] for f in folds]
            if sum(a) <= sum(b):
                continue
            p = corrected_resampled_ttest(a, b, self.test_fraction) / 2  # one-sided
            if p < self.alpha and (best is None or p < best[1]):
                best = (other, p)
        return best
