"""The evaluation core: candidates x plan x data -> results, then the leaderboard.

One library call (:func:`run_grid`) runs every job through the one job path of
:mod:`dlrun.evaluation.jobs`, on any executor (this process, a process pool, a
Dask cluster), reusing what the store already holds and storing each new
result at once; callbacks (:mod:`dlrun.evaluation.callbacks`) follow it.
Evaluate, tune and the learning curves are its users.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from dlrun.catalogue import ALGORITHMS, KINDS, METRICS, BuildContext, is_classification
from dlrun.data.dataset import Dataset
from dlrun.evaluation.callbacks import CallbackList, ProgressCallback, StopCandidate
from dlrun.evaluation.candidates import Candidate, job_key
from dlrun.evaluation.jobs import Job, JobData
from dlrun.evaluation.metrics import mean_metrics
from dlrun.evaluation.resampling import Plan
from dlrun.evaluation.stats import mark_same_as_best
from dlrun.evaluation.store import ResultStore
from dlrun.progress import Reporter

DEFAULT_SLOW_MAX_ROWS = 20_000


#: Bump when what a stored result holds changes: older results are then recomputed.
#: 2: out-of-fold predictions stored with the scores.
RESULTS_FORMAT = 2


@dataclass
class GridResult:
    results: dict[tuple[str, str], dict[str, dict]] = field(default_factory=dict)  # (cand, view) -> fold -> result
    failures: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    computed: int = 0
    reused: int = 0
    interrupted: bool = False
    interrupt: KeyboardInterrupt | None = None  # what stopped the run (SIGINT, SIGTERM)
    stopped: dict[tuple[str, str], str] = field(default_factory=dict)  # candidates a callback stopped
    pending: int = 0  # jobs this run had to compute
    out_of_time: bool = False  # the time limit stopped it
    skipped: dict[tuple[str, str], int] = field(default_factory=dict)  # fits not started, per candidate


def build_context(dataset: Dataset, metric: str, seed: int) -> BuildContext:
    return BuildContext(
        task=dataset.task,
        metric=metric,
        seed=seed,
        n_rows=dataset.n_rows,
        n_features=int(np.prod(dataset.X.shape[1:])),
        n_classes=len(dataset.classes),
        meta=dict(KINDS.get(dataset.kind).context_meta(dataset)),
    )


def job_data(dataset: Dataset, context: BuildContext) -> JobData:
    return JobData(dataset.X, dataset.encoded_target(), dataset.roles, context, dataset.kind,
                   data_id=dataset.fingerprint())


def subsample(train: np.ndarray, max_rows: int, seed: int, y: np.ndarray, task: str) -> np.ndarray:
    """A seeded subsample of training rows (stratified for classification)."""
    if len(train) <= max_rows:
        return train
    from sklearn.model_selection import train_test_split

    stratify = None
    if is_classification(task):
        _, counts = np.unique(y[train], return_counts=True)
        if counts.min() >= 2:
            stratify = y[train]
    kept, _ = train_test_split(train, train_size=max_rows, random_state=seed, stratify=stratify)
    return np.sort(kept)


def row_cap(algorithm: str, override: int | None) -> int | None:
    """Most training rows a slow algorithm sees per fold (None: no cap)."""
    info = ALGORITHMS.get(algorithm)
    if not info.slow:
        return None
    return override or info.max_train_rows or DEFAULT_SLOW_MAX_ROWS


def make_jobs(candidates: list[Candidate], plan: Plan, dataset: Dataset, context: BuildContext,
              slow_max_rows: int | None) -> list[Job]:
    data_id = dataset.fingerprint()
    y = dataset.encoded_target()
    jobs = []
    ctx_id = {"task": context.task, "metric": context.metric, "seed": context.seed,
              "n_classes": context.n_classes, "format": RESULTS_FORMAT}
    for cand in candidates:
        identity = cand.identity(context)
        cap = row_cap(cand.algorithm, slow_max_rows)
        for fold in plan.folds:
            train = fold.train
            if cap:
                train = subsample(train, cap, plan.seed, y, dataset.task)
            key = job_key(identity, ctx_id, data_id, fold.digest(), len(train))
            jobs.append(Job(key, cand, fold, train))
    return jobs


def run_grid(jobs: list[Job], dataset: Dataset, context: BuildContext, store: ResultStore,
             executor, callbacks=(), reporter: Reporter | None = None) -> GridResult:
    """Every job's result, computed or reused from ``store``; each computed one is stored
    (scores, fit time, out-of-fold predictions) the moment it arrives. ``callbacks``
    (:mod:`dlrun.evaluation.callbacks`) follow the run; a ``reporter`` gets a progress bar."""
    hooks = CallbackList([*callbacks, ProgressCallback(reporter) if reporter is not None else None])
    grid = GridResult(total=len(jobs))
    expected: dict[tuple[str, str], int] = {}
    done: dict[tuple[str, str], int] = {}
    candidates: dict[tuple[str, str], Candidate] = {}
    for job in jobs:
        key = (job.candidate.name, job.candidate.view)
        expected[key] = expected.get(key, 0) + 1
        candidates.setdefault(key, job.candidate)
    errors: dict[tuple[str, str], str] = {}

    recorded: set[str] = set()

    def record(job: Job, result: dict, reused: bool) -> None:
        recorded.add(job.key)
        key = (job.candidate.name, job.candidate.view)
        if "error" in result:
            errors.setdefault(key, result["error"])
        else:
            grid.results.setdefault(key, {})[job.fold_id] = result
        done[key] = done.get(key, 0) + 1
        try:
            hooks.on_job_end(job, result, reused)
        except StopCandidate as stop:
            grid.stopped[key] = stop.reason
        if done[key] == expected[key] or key in grid.stopped:
            if key in grid.stopped:
                done[key] = expected[key]  # nothing more is reported for it
            hooks.on_candidate_end(candidates[key], grid.results.get(key, {}))

    cached = store.get_many([j.key for j in jobs])
    pending = []
    for job in jobs:
        hit = cached.get(job.key)
        if hit is None:
            pending.append(job)
    grid.pending = len(pending)
    hooks.on_run_begin(grid)
    for job in jobs:
        hit = cached.get(job.key)
        if hit is not None and (job.candidate.name, job.candidate.view) not in grid.stopped:
            grid.reused += 1
            record(job, hit, True)
    if pending:
        data = job_data(dataset, context)
        # view- and fold-major order: consecutive jobs share a fitted view (see jobs.fitted_view);
        # under a time limit the cheap algorithms come first, the slow ones and the nets after
        # under racing, repeat by repeat within a tier, so a candidate's first repeat is in
        # early and the cheap candidates (all their folds) set the bar the others race against
        fold_order = {job.fold_id: i for i, job in enumerate(jobs)}
        budgeted = getattr(executor, "deadline", None) is not None
        racing = any(getattr(hook, "races", False) for hook in callbacks)
        pending.sort(key=lambda j: (cost_tier(j.candidate.algorithm) if budgeted or racing else 0,
                                    j.fold.repeat if racing else 0,
                                    j.candidate.view, fold_order[j.fold_id]))
        elsewhere: list[Job] = []  # claimed by another evaluation of this project, or done by it

        def stopped(job: Job) -> bool:
            return (job.candidate.name, job.candidate.view) in grid.stopped

        def admit(group: list[Job]) -> list[Job]:
            group = [job for job in group if not stopped(job)]
            mine, others = store.claim([job.key for job in group])
            left = set(others)
            elsewhere.extend(job for job in group if job.key in left)
            owned = set(mine)
            return [job for job in group if job.key in owned]

        try:
            todo = pending
            while todo:
                finished = executor.run(group_jobs(todo, data, tiered=budgeted or racing, by_repeat=racing),
                                        data, admit=admit, in_order=racing)
                try:
                    for group, results in finished:
                        for job, result in zip(group, results, strict=True):
                            # a fit that finished is kept even when its candidate was stopped
                            # meanwhile (folds trained together arrive at once): a later run
                            # reuses it; only the stopped candidate's row leaves it out
                            if "error" not in result:
                                store.put(job.key, job.candidate.name, job.candidate.view,
                                          job.fold_id, result["metrics"], result["fit_seconds"],
                                          result.get("extra"), result.get("predictions"))
                                grid.computed += 1
                            if not stopped(job):
                                record(job, result, False)
                finally:
                    finished.close()  # stops a process pool or a Dask client at once
                if getattr(executor, "out_of_time", False):
                    grid.out_of_time = True
                    break
                todo = _wait_for_others(elsewhere, store, grid, record, stopped)
        except KeyboardInterrupt as err:
            grid.interrupted, grid.interrupt = True, err
        finally:
            store.release()
        if grid.out_of_time:
            for job in pending:
                key = (job.candidate.name, job.candidate.view)
                if job.key not in recorded and key not in grid.stopped:
                    grid.skipped[key] = grid.skipped.get(key, 0) + 1
    for (name, view_name), message in errors.items():
        grid.failures.append({"algorithm": name, "view": view_name, "error": message})
    hooks.on_run_end(grid)
    return grid


def cost_tier(algorithm: str) -> int:
    """0: quick algorithms, 1: slow ones, 2: nets (the order a time limit runs them in)."""
    from dlrun.catalogue import NET

    info = ALGORITHMS.get(algorithm)
    return 2 if info.role == NET else 1 if info.slow else 0


#: How often an evaluation looks again at jobs another evaluation of the project is computing.
WAIT_SECONDS = 0.5


def _wait_for_others(elsewhere: list[Job], store: ResultStore, grid: GridResult, record,
                     stopped) -> list[Job]:
    """Jobs another evaluation held: reuse each result once it is stored; return those it
    gave up (its process ended) for this one to compute. Empties ``elsewhere``."""
    import time

    waiting = [job for job in elsewhere if not stopped(job)]
    elsewhere.clear()
    while waiting:
        found = store.get_many([job.key for job in waiting])
        still = []
        for job in waiting:
            if job.key in found:
                grid.reused += 1
                record(job, found[job.key], True)
            else:
                still.append(job)
        if not still:
            return []
        mine, _ = store.claim([job.key for job in still])
        if mine:  # its evaluation ended without them: compute them here
            owned = set(mine)
            return [job for job in still if job.key in owned]
        waiting = still
        time.sleep(WAIT_SECONDS)
    return []


# Upper bound on the cells (rows x features x folds) one stacked group holds.
MAX_GROUP_CELLS = 20_000_000


def group_jobs(pending: list[Job], data: JobData, tiered: bool = False,
               by_repeat: bool = False) -> list[list[Job]]:
    """The units of work an executor ships to one process, in ``pending`` order.

    * The pending folds of a model that trains folds together (``fit_many``) form one
      group (capped in size; one per repeat when ``by_repeat``, so racing can stop it
      after a repeat), placed where its first fold is. Folds of the same model on other
      views join it (:func:`dlrun.evaluation.jobs.model_family`): the MLP on four views
      is one training of all their folds, not four.
    * Every other job joins the jobs that share its view and fold (one per
      algorithm), so the view is fitted once for all of them in the process that
      runs the group (:func:`dlrun.evaluation.jobs.fitted_view`) -- whichever
      executor runs it and however many workers it has.
    """
    from dlrun.evaluation.jobs import model_family, runner_for

    runner = runner_for(data.kind)
    verdict: dict[Candidate, bool] = {}
    families: dict[tuple, list[Job]] = {}
    for job in pending:
        cand = job.candidate
        if cand not in verdict:
            verdict[cand] = runner.stackable(cand, data)
        if verdict[cand]:
            families.setdefault(model_family(cand), []).append(job)
    width = max(1, int(np.prod(data.X.shape[1:])))
    chunk_of: dict[str, list[Job]] = {}  # first job's key -> its chunk
    stacked: set[str] = set()
    for jobs in families.values():
        if len(jobs) < 2:
            continue
        size = max(1, min(len(jobs), MAX_GROUP_CELLS // max(1, len(jobs[0].train) * width)))
        parts: dict[int, list[Job]] = {}
        for job in jobs:
            parts.setdefault(job.fold.repeat if by_repeat else 0, []).append(job)
        for part in parts.values():
            for i in range(0, len(part), size):
                chunk = part[i : i + size]
                chunk_of[chunk[0].key] = chunk
                stacked.update(job.key for job in chunk)
    groups: list[list[Job]] = []
    shared: dict[tuple, list[Job]] = {}  # (tier, view, fold) -> its group
    for job in pending:
        if job.key in stacked:
            if job.key in chunk_of:  # a chunk sits where its first fold is
                groups.append(chunk_of[job.key])
            continue
        # under a time limit a group never mixes quick algorithms with slow ones
        slot = (cost_tier(job.candidate.algorithm) if tiered else 0, job.candidate.view, job.fold_id)
        if slot not in shared:
            shared[slot] = []
            groups.append(shared[slot])
        shared[slot].append(job)
    return groups


def _clean(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _tie_key(value: float | None) -> float | None:
    """A fold's metric as exact ties compare it: rounded to 9 decimals (None when missing)."""
    value = _clean(value)
    return None if value is None or not math.isfinite(value) else round(float(value), 9)


def leaderboard(project: str, task: str, metric: str, plan: Plan, candidates: list[Candidate],
                grid: GridResult, notes: list[str]) -> dict[str, Any]:
    from dlrun.catalogue import role_of

    info = METRICS.get(metric)
    fold_ids = [f.id for f in plan.folds]
    rows = []
    seen: dict[tuple, dict] = {}  # (algorithm, every fold's every metric) -> the row kept
    for cand in candidates:
        per_fold = grid.results.get((cand.name, cand.view), {})
        if any(fid not in per_fold for fid in fold_ids):
            continue  # incomplete (failed or interrupted): not ranked
        # an exact tie with a row of the same algorithm on another view (every metric of every
        # fold equal: the same predictions) is that row, listed under its "tied_views"
        # (to 9 decimals: a transform the model is invariant to may still move the last bits)
        signature = (cand.name, tuple(tuple(sorted((k, _tie_key(v)) for k, v in per_fold[f]["metrics"].items()))
                                      for f in fold_ids))
        if signature in seen:
            seen[signature].setdefault("tied_views", []).extend([cand.view, *cand.also])
            continue
        scores = [per_fold[fid]["metrics"].get(metric, math.nan) for fid in fold_ids]
        arr = np.asarray(scores, dtype=float)
        if np.all(np.isnan(arr)):
            grid.failures.append({"algorithm": cand.name, "view": cand.view,
                                  "error": f"{metric} could not be computed (no scores/probabilities)"})
            continue
        fit = [per_fold[fid]["fit_seconds"] for fid in fold_ids]
        metrics = mean_metrics([per_fold[fid]["metrics"] for fid in fold_ids])
        rows.append({
            "algorithm": cand.name,
            "view": cand.view,
            "role": role_of(cand.name),  # the catalogue's role (tuning will add its own)
            "mean": round(float(np.nanmean(arr)), 6),
            "std": round(float(np.nanstd(arr)), 6),
            "scores": [_clean(round(float(s), 6)) for s in arr],
            "fit_seconds": round(float(np.mean(fit)), 4),
            "n_folds": len(fold_ids),
            # every metric of the task (the per-fold scores hold them all), mean over the folds
            "metrics": metrics,
        })
        if cand.also:  # the same model on these views too: one row stands for them all
            rows[-1]["views"] = [cand.view, *cand.also]
        seen[signature] = rows[-1]
    sign = -1.0 if info.greater_is_better else 1.0
    # ties break on the spread, then the names: never on timings, so the same
    # spec and seed always give the same leaderboard
    rows.sort(key=lambda r: (sign * r["mean"], r["std"], r["algorithm"], r["view"]))
    fraction = plan_test_fraction(plan)
    mark_same_as_best(rows, fraction)
    return {
        "project": project,
        "task": task,
        "metric": metric,
        "metric_label": info.label or metric,
        "greater_is_better": info.greater_is_better,
        # the test fraction is the one the t-test used, so the report repeats it exactly
        "protocol": {**plan.describe(), "test_fraction": fraction},
        "rows": rows,
        "jobs": {"total": grid.total, "computed": grid.computed, "reused": grid.reused},
        "failures": grid.failures,
        "notes": notes,
        "complete": not grid.interrupted and not grid.failures,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def plan_test_fraction(plan: Plan) -> float:
    if not plan.folds:
        return 0.1
    f = plan.folds[0]
    return len(f.test) / (len(f.test) + len(f.train))
