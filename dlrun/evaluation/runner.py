"""The job grid: candidates x folds, computed or reused, then ranked."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from dlrun.catalogue import ALGORITHMS, METRICS, BuildContext
from dlrun.data.dataset import Dataset
from dlrun.evaluation.candidates import Candidate, job_key
from dlrun.evaluation.jobs import Job, JobData
from dlrun.evaluation.resampling import Plan
from dlrun.evaluation.stats import mark_same_as_best
from dlrun.evaluation.store import ResultStore
from dlrun.progress import Reporter

DEFAULT_SLOW_MAX_ROWS = 20_000


@dataclass
class GridResult:
    results: dict[tuple[str, str], dict[str, dict]] = field(default_factory=dict)  # (cand, view) -> fold -> result
    failures: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    computed: int = 0
    reused: int = 0
    interrupted: bool = False


def build_context(dataset: Dataset, metric: str, seed: int) -> BuildContext:
    return BuildContext(
        task=dataset.task,
        metric=metric,
        seed=seed,
        n_rows=dataset.n_rows,
        n_features=dataset.X.shape[1],
        n_classes=len(dataset.classes),
        data_kind=dataset.kind,
    )


def subsample(train: np.ndarray, max_rows: int, seed: int, y: np.ndarray, task: str) -> np.ndarray:
    """A seeded subsample of training rows (stratified for classification)."""
    if len(train) <= max_rows:
        return train
    from sklearn.model_selection import train_test_split

    stratify = None
    if task == "classification":
        _, counts = np.unique(y[train], return_counts=True)
        if counts.min() >= 2:
            stratify = y[train]
    kept, _ = train_test_split(train, train_size=max_rows, random_state=seed, stratify=stratify)
    return np.sort(kept)


def make_jobs(candidates: list[Candidate], plan: Plan, dataset: Dataset, context: BuildContext,
              slow_max_rows: int | None) -> list[Job]:
    data_id = dataset.fingerprint()
    y = dataset.encoded_target()
    jobs = []
    ctx_id = {"task": context.task, "metric": context.metric, "seed": context.seed,
              "n_classes": context.n_classes}
    for cand in candidates:
        identity = cand.identity()
        slow = ALGORITHMS.get(cand.algorithm).slow
        for fold in plan.folds:
            train = fold.train
            if slow and slow_max_rows:
                train = subsample(train, slow_max_rows, plan.seed, y, dataset.task)
            key = job_key(identity, ctx_id, data_id, fold.digest(), len(train))
            jobs.append(Job(key, cand, fold.id, train, fold.test))
    return jobs


def run_grid(jobs: list[Job], dataset: Dataset, context: BuildContext, store: ResultStore,
             executor, reporter: Reporter) -> GridResult:
    grid = GridResult(total=len(jobs))
    cached = store.get_many([j.key for j in jobs])
    pending = []
    for job in jobs:
        hit = cached.get(job.key)
        if hit is not None:
            grid.reused += 1
            grid.results.setdefault((job.candidate.name, job.candidate.view), {})[job.fold_id] = hit
        else:
            pending.append(job)
    if not pending:
        return grid
    data = JobData(dataset.X, dataset.encoded_target(), dataset.numeric, dataset.categorical, context)
    errors: dict[tuple[str, str], str] = {}
    reporter.start("fitting", len(pending))
    try:
        for job, result in executor.run(pending, data):
            cand = job.candidate
            if "error" in result:
                errors.setdefault((cand.name, cand.view), result["error"])
            else:
                store.put(job.key, cand.name, cand.view, job.fold_id, result["metrics"],
                          result["fit_seconds"])
                grid.results.setdefault((cand.name, cand.view), {})[job.fold_id] = result
                grid.computed += 1
            reporter.advance(1, f"{cand.name} / {cand.view}")
    except KeyboardInterrupt:
        grid.interrupted = True
    finally:
        reporter.finish()
    for (name, view_name), message in errors.items():
        grid.failures.append({"algorithm": name, "view": view_name, "error": message})
    return grid


def _clean(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def leaderboard(project: str, task: str, metric: str, plan: Plan, candidates: list[Candidate],
                grid: GridResult, notes: list[str]) -> dict[str, Any]:
    info = METRICS.get(metric)
    fold_ids = [f.id for f in plan.folds]
    rows = []
    for cand in candidates:
        per_fold = grid.results.get((cand.name, cand.view), {})
        if any(fid not in per_fold for fid in fold_ids):
            continue  # incomplete (failed or interrupted): not ranked
        scores = [per_fold[fid]["metrics"].get(metric, math.nan) for fid in fold_ids]
        arr = np.asarray(scores, dtype=float)
        if np.all(np.isnan(arr)):
            grid.failures.append({"algorithm": cand.name, "view": cand.view,
                                  "error": f"{metric} could not be computed (no scores/probabilities)"})
            continue
        fit = [per_fold[fid]["fit_seconds"] for fid in fold_ids]
        rows.append({
            "algorithm": cand.name,
            "view": cand.view,
            "mean": round(float(np.nanmean(arr)), 6),
            "std": round(float(np.nanstd(arr)), 6),
            "scores": [_clean(round(float(s), 6)) for s in arr],
            "fit_seconds": round(float(np.mean(fit)), 4),
            "n_folds": len(fold_ids),
        })
    sign = -1.0 if info.greater_is_better else 1.0
    rows.sort(key=lambda r: (sign * r["mean"], r["fit_seconds"]))
    test_fraction = _test_fraction(plan)
    mark_same_as_best(rows, test_fraction)
    return {
        "project": project,
        "task": task,
        "metric": metric,
        "metric_label": info.label or metric,
        "greater_is_better": info.greater_is_better,
        "protocol": plan.describe(),
        "rows": rows,
        "jobs": {"total": grid.total, "computed": grid.computed, "reused": grid.reused},
        "failures": grid.failures,
        "notes": notes,
        "complete": not grid.interrupted and not grid.failures,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _test_fraction(plan: Plan) -> float:
    if not plan.folds:
        return 0.1
    f = plan.folds[0]
    return len(f.test) / (len(f.test) + len(f.train))
