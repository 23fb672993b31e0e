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
        executor = make_executor(opts.get("backend", "local"), requested, opts.get("scheduler"))
        callbacks = list(context.options.get("callbacks") or [])
        if os.environ.get(HOLD_ENV):
            callbacks.append(HoldCallback())
        with ResultStore(context.state_dir / RESULTS_FILE) as store:
            if store.damaged is not None:
                context.reporter.message(
                    f"the result store was damaged: moved aside to {store.damaged.name} and started "
                    "afresh (its fits are recomputed)", "warning")
            grid = run_grid(jobs, dataset, build_ctx, store, executor, callbacks, context.reporter)
        board = leaderboard(spec.name, spec.task, spec.metric, prepared["plan"], candidates, grid,
                            list(prepared["plan"].notes))
        board["data"] = prepared["data_summary"]
        board["data_fingerprint"] = dataset.fingerprint()
        board["options"] = {"quick": bool(opts.get("quick")), "only": list(opts.get("only") or [])}
        board = with_tuned_rows(board, context)  # what `dlrun tune` found for these data
        if spec.reference is not None:
            board["reference"] = spec.reference.model_dump()
        if grid.interrupted:
            board["interrupted"] = True
        # a partial board (--only, --quick, interrupted) never replaces a complete one
        if not (opts.get("only") or opts.get("quick") or grid.interrupted):
            atomic_write_json(context.state_dir / LEADERBOARD_FILE, board)
        else:
            atomic_write_json(context.state_dir / "leaderboard-last.json", board)
        for failure in grid.failures:
            context.reporter.message(
                f"{failure['algorithm']} on {failure['view']} failed: {failure['error']}", "warning"
            )
        if grid.interrupted:
            raise grid.interrupt or KeyboardInterrupt()
        return board
