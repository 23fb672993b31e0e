"""Tune: improve the best candidates of the leaderboard with budgeted, resumable searches.

For each of the top K algorithms of the current leaderboard (their best view; the
naive floors and rows already tuned are left out) an Optuna study runs trials on
the leaderboard's own folds (:mod:`dlrun.evaluation.tuning`). The best trial's
parameters are then re-scored on a fresh resampling -- same protocol, another
seed -- and that row, ``ALGO+tuned``, joins the leaderboard with the tuning
score beside it: the leaderboard never shows the optimistic maximum over the
trials that chose it.

What tuning found is kept in ``.dlrun/tuned.json`` (the studies and the tuned
rows, with the data and protocol they belong to); the evaluate stage merges
those rows into every later leaderboard of the same data and protocol.
"""

from __future__ import annotations

import os
import time
from typing import Any

from dlrun.catalogue import BASELINE, NAIVE, role_of
from dlrun.errors import BadInput
from dlrun.interrupts import HOLD_ENV
from dlrun.io import atomic_write_json, read_json
from dlrun.stages.base import STATE_DIR, RunContext, Stage

TUNED_FILE = "tuned.json"
STUDIES_FILE = "tuning.sqlite"
TUNED = "tuned"


def tuned_document(context: RunContext) -> dict[str, Any]:
    path = context.project_dir / STATE_DIR / TUNED_FILE
    if path.is_file():
        try:
            document = read_json(path)
            if isinstance(document, dict):
                return document
        except (OSError, ValueError):
            pass
    return {"studies": [], "rows": []}


def storage_url(context: RunContext) -> str:
    url = context.options.get("storage")
    if url:
        return str(url)
    return f"sqlite:///{(context.project_dir / STATE_DIR / STUDIES_FILE).resolve()}"


def choose(board: dict[str, Any], top: int, only: list[str] | None = None) -> list[dict[str, Any]]:
    """The best row of each of the ``top`` best algorithms that can be tuned."""
    from dlrun.config import search_space

    chosen, seen = [], set()
    for row in board.get("rows") or []:
        name = str(row["algorithm"])
        if "+" in name or row.get("role") in (TUNED, "ensemble") or name in seen:
            continue
        if role_of(name) in (BASELINE, NAIVE):
            continue
        if only and name not in only:
            continue
        seen.add(name)
        if not _space(name, row["view"]) and not search_space(name):
            continue
        chosen.append(row)
        if len(chosen) >= top:
            break
    return chosen


def _space(algorithm: str, view: str, overrides: dict | None = None, context=None) -> dict[str, Any]:
    """The search space of a candidate: the project's (tuning.search) or the package's, only
    the parameters the estimator built for this task and input takes (linear searches C for
    logistic regression, alpha for ridge)."""
    from dlrun.catalogue import ALGORITHMS, compatible, pair_context
    from dlrun.config import search_space

    if overrides and algorithm in overrides:
        space = {k: v.model_dump() if hasattr(v, "model_dump") else dict(v)
                 for k, v in overrides[algorithm].items()}
    else:
        space = search_space(algorithm, compatible(algorithm, view))
    if context is not None:
        known = ALGORITHMS.get(algorithm).defaults(pair_context(context, algorithm, view))
        space = {k: v for k, v in space.items() if k in known}
    return space


class TuneStage(Stage):
    name = "tune"

    def run(self, context: RunContext) -> dict[str, Any]:
        import optuna

        from dlrun.evaluation.candidates import Candidate
        from dlrun.evaluation.executors import make_executor
        from dlrun.evaluation.runner import build_context, make_jobs, run_grid
        from dlrun.evaluation.store import ResultStore
        from dlrun.evaluation.tuning import (
            PruneCallback,
            StudyResult,
            finished_trials,
            open_study,
            resume_interrupted,
            suggest,
        )
        from dlrun.stages.base import get_stage
        from dlrun.stages.evaluate import RESULTS_FILE
        from dlrun.stages.results import load_leaderboard

        spec, opts = context.spec, context.options
        board = context.artifacts.get("evaluate") or load_leaderboard(context)
        if board is None or not board.get("rows"):
            raise BadInput("this project has no leaderboard to tune from", field="PROJECT",
                           hint=f"Run `dlrun evaluate {context.project_dir}` first.")
        settings = spec.tuning
        top = int(opts.get("top") or (settings.top if settings else 3))
        n_trials = int(opts.get("trials") or (settings.trials if settings else 20))
        timeout = opts.get("timeout") or (settings.timeout if settings else None)
        overrides = settings.search if settings else {}
        rows = choose(board, top, spec.algorithms)
        if not rows:
            raise BadInput("no candidate of the leaderboard can be tuned (no search space)",
                           field="PROJECT")
        # the leaderboard's own folds and candidates (a later evaluate reuses every fit)
        context.options.setdefault("quick", bool((board.get("options") or {}).get("quick")))
        if not context.options.get("only") and (board.get("options") or {}).get("only"):
            context.options["only"] = list(board["options"]["only"])
        prepared = context.artifacts.get("prepare") or get_stage("prepare").run(context)
        context.artifacts["prepare"] = prepared
        dataset, plan = context.dataset, prepared["plan"]
        ctx = build_context(dataset, spec.metric, spec.evaluation.seed)
        deadline = opts.get("deadline")
        executor = make_executor(opts.get("backend", "local"), opts.get("jobs", 1), opts.get("scheduler"),
                                 fit_timeout=spec.evaluation.fit_timeout, deadline=deadline)
        callbacks = list(opts.get("callbacks") or [])
        if os.environ.get(HOLD_ENV):  # tests hold a trial after N fits (dlrun.interrupts)
            from dlrun.evaluation.callbacks import HoldCallback

            callbacks.append(HoldCallback())
        storage = storage_url(context)
        fresh_plan = _fresh_plan(context, prepared)
        started = time.monotonic()
        results: list[StudyResult] = []
        tuned_rows: list[dict[str, Any]] = []
        with ResultStore(context.state_dir / RESULTS_FILE) as store:
            for row in rows:
                algorithm, view = row["algorithm"], row["view"]
                space = _space(algorithm, view, overrides, ctx)
                base_params = dict(spec.params.get(algorithm, {}))
                study = open_study(f"{spec.name}:{algorithm}:{view}", storage, spec.metric,
                                   spec.evaluation.seed)
                resumed = resume_interrupted(study)
                if resumed:
                    context.reporter.message(f"{algorithm}/{view}: {resumed} interrupted trial(s) "
                                             "resume from their stored folds")

                def objective(trial, algorithm=algorithm, view=view, space=space,
                              base_params=base_params, study=study):
                    params = {**base_params, **suggest(trial, space)}
                    candidate = Candidate(algorithm, view, params, label=f"{algorithm}+trial")
                    jobs = make_jobs([candidate], plan, dataset, ctx, prepared["slow_max_rows"])
                    grid = run_grid(jobs, dataset, ctx, store, executor,
                                    [PruneCallback(trial, spec.metric), *callbacks])
                    if grid.interrupted:
                        raise grid.interrupt or KeyboardInterrupt()
                    if grid.stopped:
                        raise optuna.TrialPruned()
                    if grid.out_of_time:
                        study.stop()  # the budget is spent: this trial is incomplete
                        raise TrialFailed("the time limit stopped this trial")
                    scores = [r["metrics"][spec.metric]
                              for r in grid.results.get((candidate.name, view), {}).values()]
                    if grid.failures or len(scores) != len(plan.folds):
                        error = grid.failures[0]["error"] if grid.failures else "incomplete"
                        raise TrialFailed(error)
                    return sum(scores) / len(scores)

                left = None if timeout is None else max(0.0, float(timeout) - (time.monotonic() - started))
                if deadline is not None:  # --time-limit: the whole command's budget
                    budget = max(0.0, deadline - time.monotonic())
                    left = budget if left is None else min(left, budget)
                before = time.monotonic()
                context.reporter.message(f"tuning {algorithm} on {view}: {n_trials} trial(s)")
                if left is None or left > 0:
                    study.optimize(objective, n_trials=n_trials, timeout=left, catch=(TrialFailed,))
                count, pruned = finished_trials(study)
                best = _best(study)
                result = StudyResult(algorithm, view, study.study_name, count,
                                     None if best is None else float(best.value),
                                     dict(best.params) if best is not None else {}, pruned,
                                     time.monotonic() - before)
                results.append(result)
                if best is None:
                    continue
                if deadline is not None and time.monotonic() >= deadline:
                    context.reporter.message(f"--time-limit reached: {algorithm}/{view} keeps its "
                                             f"{count} trial(s) but is not re-scored", "warning")
                    continue
                params = {**base_params, **best.params}
                tuned = Candidate(algorithm, view, params, label=f"{algorithm}+tuned")
                jobs = make_jobs([tuned], fresh_plan, dataset, ctx, prepared["slow_max_rows"])
                grid = run_grid(jobs, dataset, ctx, store, executor, callbacks)
                if grid.interrupted:
                    raise grid.interrupt or KeyboardInterrupt()
                if grid.out_of_time:
                    continue
                tuned_row = _row(tuned, grid, fresh_plan, spec.metric)
                if tuned_row is not None:
                    tuned_row.update(tuning_score=round(float(best.value), 6), trials=count,
                                     params=params, untuned_mean=row["mean"])
                    tuned_rows.append(tuned_row)
        document = _merge_document(tuned_document(context), results, tuned_rows, board, fresh_plan)
        atomic_write_json(context.state_dir / TUNED_FILE, document)
        return {"studies": [r.to_json() for r in results], "rows": tuned_rows}


class TrialFailed(Exception):
    """A trial whose fits failed (bad parameters for these data): recorded as failed."""


def _best(study):
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return None
    return study.best_trial


def _fresh_plan(context: RunContext, prepared: dict[str, Any]):
    """The leaderboard's protocol drawn again with another seed (never the folds the trials saw)."""
    from dlrun.catalogue import KINDS
    from dlrun.evaluation.tuning import FRESH_SEED_OFFSET

    spec = context.spec
    fresh = spec.model_copy(update={"evaluation": spec.evaluation.model_copy(
        update={"seed": spec.evaluation.seed + FRESH_SEED_OFFSET})})
    plan = KINDS.get(spec.kind).plan(fresh, context.dataset, bool(context.options.get("quick")))
    plan.notes.clear()
    return plan


def _row(candidate, grid, plan, metric: str) -> dict[str, Any] | None:
    import numpy as np

    from dlrun.evaluation.metrics import mean_metrics

    per_fold = grid.results.get((candidate.name, candidate.view), {})
    if any(f.id not in per_fold for f in plan.folds):
        return None
    scores = np.asarray([per_fold[f.id]["metrics"][metric] for f in plan.folds], dtype=float)
    fit = [per_fold[f.id]["fit_seconds"] for f in plan.folds]
    return {
        "algorithm": candidate.name, "view": candidate.view, "role": TUNED,
        "mean": round(float(np.nanmean(scores)), 6), "std": round(float(np.nanstd(scores)), 6),
        "scores": [round(float(s), 6) for s in scores], "fit_seconds": round(float(np.mean(fit)), 4),
        "n_folds": len(plan.folds), "resampling": f"seed {plan.seed}",
        # every metric of the task, mean over the folds (as the evaluation's rows carry them)
        "metrics": mean_metrics([per_fold[f.id]["metrics"] for f in plan.folds]),
    }


def _merge_document(document, results, tuned_rows, board, fresh_plan) -> dict[str, Any]:
    studies = {(s["algorithm"], s["view"]): s for s in document.get("studies") or []}
    studies.update({(r.algorithm, r.view): r.to_json() for r in results})
    rows = {(r["algorithm"], r["view"]): r for r in document.get("rows") or []}
    rows.update({(r["algorithm"], r["view"]): r for r in tuned_rows})
    return {"studies": list(studies.values()), "rows": list(rows.values()),
            "data": board.get("data_fingerprint"),
            "protocol": board.get("protocol"), "fresh_seed": fresh_plan.seed}


def with_tuned_rows(board: dict[str, Any], context: RunContext) -> dict[str, Any]:
    """``board`` with the tuned rows of the same data and protocol merged in, ranked, each
    marked against the best (rows on another resampling by the unpaired corrected test)."""
    from dlrun.evaluation.stats import mark_same_as_best

    document = tuned_document(context)
    same_protocol = {k: v for k, v in (document.get("protocol") or {}).items() if k != "test_fraction"} == \
        {k: v for k, v in (board.get("protocol") or {}).items() if k != "test_fraction"}
    same_data = document.get("data") == board.get("data_fingerprint")
    extra = [r for r in document.get("rows") or [] if same_protocol and same_data]
    if not extra:
        return board
    names = {(r["algorithm"], r["view"]) for r in extra}
    rows = [r for r in board["rows"] if (r["algorithm"], r["view"]) not in names] + [dict(r) for r in extra]
    sign = -1.0 if board.get("greater_is_better", True) else 1.0
    rows.sort(key=lambda r: (sign * r["mean"], r["std"], r["algorithm"], r["view"]))
    test_fraction = (board.get("protocol") or {}).get("test_fraction") or 0.1
    mark_same_as_best(rows, test_fraction)
    return {**board, "rows": rows, "tuning": document.get("studies") or []}
