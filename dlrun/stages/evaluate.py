"""Evaluate: run the job grid, persisting each result, and write the leaderboard."""

from __future__ import annotations

import os
from typing import Any

from dlrun.interrupts import HOLD_ENV
from dlrun.io import atomic_write_json
from dlrun.stages.base import RunContext, Stage
from dlrun.stages.tune import with_tuned_rows

LEADERBOARD_FILE = "leaderboard.json"
RESULTS_FILE = "results.sqlite"


class EvaluateStage(Stage):
    name = "evaluate"

    def run(self, context: RunContext) -> dict[str, Any]:
        from dlrun.evaluation.callbacks import HoldCallback
        from dlrun.evaluation.ensembles import ensemble_rows, with_rows
        from dlrun.evaluation.executors import make_executor
        from dlrun.evaluation.runner import build_context, leaderboard, make_jobs, run_grid
        from dlrun.evaluation.store import ResultStore
        from dlrun.threads import usable_cores

        prepared = context.artifacts.get("prepare")
        if prepared is None:
            from dlrun.stages.base import get_stage

            prepared = context.artifacts["prepare"] = get_stage("prepare").run(context)
        spec, opts, dataset = context.spec, context.options, context.dataset
        build_ctx = build_context(dataset, spec.metric, spec.evaluation.seed)
        candidates = prepared["candidates"] + context.artifacts.get("extra_candidates", [])
        jobs = make_jobs(candidates, prepared["plan"], dataset, build_ctx, prepared["slow_max_rows"])
        requested = opts.get("jobs", 1) or 1
        if opts.get("backend", "local") == "local" and requested > usable_cores():
            context.reporter.message(f"--jobs {requested} capped to {usable_cores()}: the cores this "
                                     "process may use (more processes would only queue for them)",
                                     "warning")
        executor = make_executor(opts.get("backend", "local"), requested, opts.get("scheduler"),
                                 fit_timeout=spec.evaluation.fit_timeout,
                                 deadline=opts.get("deadline"))
        callbacks = list(context.options.get("callbacks") or [])
        if os.environ.get(HOLD_ENV):
            callbacks.append(HoldCallback())
        racing = racing_callback(context, prepared["plan"])
        if racing is not None:
            callbacks.append(racing)
        with ResultStore(context.state_dir / RESULTS_FILE) as store:
            if store.damaged is not None:
                context.reporter.message(
                    f"the result store was damaged: moved aside to {store.damaged.name} and started "
                    "afresh (its fits are recomputed)", "warning")
            grid = run_grid(jobs, dataset, build_ctx, store, executor, callbacks, context.reporter)
            ensembles = ([], []) if grid.interrupted else ensemble_rows(
                prepared["plan"], candidates, jobs, grid, store, dataset.encoded_target(), spec.task,
                spec.metric, build_ctx.n_classes, dataset.kind, spec.evaluation.seed)
        notes = list(prepared["plan"].notes)
        if grid.out_of_time:
            skipped = ", ".join(f"{name}/{view} ({n})" for (name, view), n in sorted(grid.skipped.items()))
            line = (f"--time-limit {opts.get('time_limit'):g} s reached: {sum(grid.skipped.values())} "
                    f"fit(s) not started" + (f" -- {skipped}" if skipped else "")
                    + "; the leaderboard ranks the candidates whose every fold finished")
            notes.append(line)
            context.reporter.message(line, "warning")
        board = leaderboard(spec.name, spec.task, spec.metric, prepared["plan"], candidates, grid, notes)
        board = with_rows(board, ensembles[0])  # ensembles of the best, from the stored predictions
        board["notes"].extend(ensembles[1])
        if racing is not None:
            board["raced"] = [racing.raced[key] for key in sorted(racing.raced)
                              if key in grid.stopped]
            board["protocol"]["racing"] = {"alpha": racing.alpha,
                                           "checkpoints": sorted(racing.checkpoints)}
        board["data"] = prepared["data_summary"]
        board["data_fingerprint"] = dataset.fingerprint()
        board["options"] = {"quick": bool(opts.get("quick")), "only": list(opts.get("only") or [])}
        board = with_tuned_rows(board, context)  # what `dlrun tune` found for these data
        if not grid.interrupted:  # which rows are within noise of the best: the kind's test
            from dlrun.catalogue import KINDS

            with ResultStore(context.state_dir / RESULTS_FILE) as store:
                KINDS.get(dataset.kind).mark_same_as_best(
                    board, StoredRows(jobs, grid, store, dataset.encoded_target()))
        if spec.reference is not None:
            board["reference"] = spec.reference.model_dump()
        stopped = None if grid.interrupted else with_learning_curve(
            board, context, prepared, candidates, build_ctx, executor, callbacks)
        if grid.interrupted:
            board["interrupted"] = True
        if grid.out_of_time:
            board["out_of_time"] = True
        # a partial board (--only, --quick, interrupted, out of time) never replaces a complete one
        if not (opts.get("only") or opts.get("quick") or grid.interrupted or grid.out_of_time):
            atomic_write_json(context.state_dir / LEADERBOARD_FILE, board)
        else:
            atomic_write_json(context.state_dir / "leaderboard-last.json", board)
        for failure in grid.failures:
            context.reporter.message(
                f"{failure['algorithm']} on {failure['view']} failed: {failure['error']}", "warning"
            )
        if grid.interrupted:
            raise grid.interrupt or KeyboardInterrupt()
        if stopped is not None:  # interrupted while drawing the learning curves
            raise stopped
        return board


class StoredRows:
    """What this evaluation stored of a leaderboard row, fold by fold in plan order (for
    :meth:`dlrun.kind.Kind.mark_same_as_best`): ``outputs(row)`` the out-of-fold predictions,
    ``extras(row)`` what each fold's model recorded; None for a row of no job here. ``y`` is
    the target the predictions were scored against."""

    def __init__(self, jobs, grid, store, y=None):
        self._jobs: dict[tuple[str, str], list] = {}
        for job in jobs:
            self._jobs.setdefault((job.candidate.name, job.candidate.view), []).append(job)
        self._grid, self._store, self.y = grid, store, y

    def _of(self, row: dict) -> list:
        return self._jobs.get((row.get("algorithm"), row.get("view"))) or []

    def outputs(self, row: dict) -> list | None:
        jobs = self._of(row)
        stored = self._store.predictions([job.key for job in jobs]) if jobs else {}
        if not jobs or any(job.key not in stored for job in jobs):
            return None
        return [(job.fold, stored[job.key]) for job in jobs]

    def extras(self, row: dict) -> list | None:
        jobs = self._of(row)
        results = self._grid.results.get((row.get("algorithm"), row.get("view")), {})
        if not jobs or any(job.fold_id not in results for job in jobs):
            return None
        return [(job.fold, results[job.fold_id].get("extra") or {}) for job in jobs]


def racing_callback(context: RunContext, plan):
    """The racing callback when racing is on: ``--race``, or by default with ``--quick``
    and under a time limit (``--no-race`` turns it off)."""
    from dlrun.catalogue import METRICS
    from dlrun.evaluation.callbacks import RacingCallback
    from dlrun.evaluation.runner import plan_test_fraction

    opts = context.options
    race = opts.get("race")
    if race is None:
        race = bool(opts.get("quick") or opts.get("deadline") is not None)
    if not race or not plan.folds:
        return None
    info = METRICS.get(context.spec.metric)
    return RacingCallback(context.spec.metric, info.greater_is_better, plan.n_splits,
                          plan.n_repeats, plan_test_fraction(plan))


LEARNING_CURVE_FILE = "learning_curve.json"


def with_learning_curve(board, context: RunContext, prepared, candidates, build_ctx, executor,
                        callbacks) -> KeyboardInterrupt | None:
    """Add ``board["learning_curve"]``: computed when asked (``--learning-curve`` or a
    ``learning_curve:`` block), else the last one computed for the same data and protocol
    (``.dlrun/learning_curve.json``). Returns the interrupt that stopped it, if any."""
    from dlrun.evaluation.learning_curve import FRACTIONS, learning_curve
    from dlrun.evaluation.store import ResultStore
    from dlrun.io import read_json

    settings = getattr(context.spec, "learning_curve", None)
    path = context.state_dir / LEARNING_CURVE_FILE
    if not (context.options.get("learning_curve") or settings is not None):
        try:
            document = read_json(path) if path.is_file() else None
        except (OSError, ValueError):
            document = None
        if isinstance(document, dict) and document.get("data") == board.get("data_fingerprint") \
                and document.get("protocol") == board.get("protocol"):
            board["learning_curve"] = document
        return None
    fractions = settings.fractions if settings is not None else FRACTIONS
    with ResultStore(context.state_dir / RESULTS_FILE) as store:
        document, grid = learning_curve(board, candidates, prepared["plan"], context.dataset, build_ctx,
                                        store, executor, fractions=fractions,
                                        slow_max_rows=prepared["slow_max_rows"], callbacks=callbacks,
                                        reporter=context.reporter)
    if document is None:
        context.reporter.message("no learning curve: no candidate of a role that gets one "
                                 "was evaluated", "warning")
        return None
    board["learning_curve"] = document
    for failure in grid.failures:
        context.reporter.message(f"learning curve of {failure['algorithm']} on {failure['view']}: "
                                 f"{failure['error']}", "warning")
    if not grid.interrupted:
        atomic_write_json(path, document)
        return None
    return grid.interrupt or KeyboardInterrupt()
