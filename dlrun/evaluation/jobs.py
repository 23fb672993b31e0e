"""One job = fit one candidate on one fold's training rows, score its test rows.

``run_job`` is a plain top-level function of picklable arguments, so the same
job runs in this process, in a local process pool, or on a Dask worker.
"""

from __future__ import annotations

import hashlib
import time
import traceback
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from dlrun.catalogue import BuildContext
from dlrun.evaluation.candidates import Candidate, build_pipeline
from dlrun.evaluation.metrics import score_all


@dataclass
class Job:
    key: str
    candidate: Candidate
    fold_id: str
    train: np.ndarray
    test: np.ndarray


@dataclass
class JobData:
    """What every job of one evaluation shares (sent once per worker where possible)."""

    X: Any  # DataFrame
    y: np.ndarray
    numeric: list[str]
    categorical: list[str]
    context: BuildContext
    data_id: str = ""  # content fingerprint: keys the fitted-view cache


# Fitted views per (data, view, fold), kept in each process: the same view on the
# same training rows is the same transform whichever algorithm follows it, so it
# is fitted once per fold instead of once per algorithm. Least recently used
# entries go first once the transformed arrays pass VIEW_CACHE_MAX_BYTES in all
# (the job groups of runner.group_jobs keep the jobs of one view and fold together,
# so a small budget is enough for large data).
_VIEW_CACHE: OrderedDict = OrderedDict()  # key -> (entry, bytes)
VIEW_CACHE_ENTRIES = 256
VIEW_CACHE_MAX_BYTES = 384 * 2**20
VIEW_STATS = {"fitted": 0, "reused": 0}  # this process's view fits and cache hits


def fitted_view(job: Job, data: JobData, view):
    """(fitted view, transformed train rows, transformed test rows, seconds it took to fit).

    ``view`` is the unfitted transformer from the candidate's pipeline; the
    seconds are those of the original fit, so a cached fold still reports the
    full cost of its pipeline."""
    key = None
    if data.data_id:
        from dlrun.catalogue import VIEWS

        h = hashlib.sha256(np.ascontiguousarray(job.train, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(job.test, dtype=np.int64).tobytes())
        key = (data.data_id, job.candidate.view, VIEWS.get(job.candidate.view).version, h.hexdigest())
        if key in _VIEW_CACHE:
            _VIEW_CACHE.move_to_end(key)
            VIEW_STATS["reused"] += 1
            return _VIEW_CACHE[key][0]
    start = time.perf_counter()
    x_train = view.fit_transform(take_rows(data.X, job.train), data.y[job.train])
    seconds = time.perf_counter() - start
    VIEW_STATS["fitted"] += 1
    x_test = view.transform(take_rows(data.X, job.test))
    entry = (view, x_train, x_test, seconds)
    if key is not None:
        _cache_put(key, entry, getattr(x_train, "nbytes", 0) + getattr(x_test, "nbytes", 0))
    return entry


def _cache_put(key, entry, size: int) -> None:
    if size > VIEW_CACHE_MAX_BYTES:
        return
    _VIEW_CACHE[key] = (entry, size)
    total = sum(n for _, n in _VIEW_CACHE.values())
    while len(_VIEW_CACHE) > VIEW_CACHE_ENTRIES or total > VIEW_CACHE_MAX_BYTES:
        _, (_, n) = _VIEW_CACHE.popitem(last=False)
        total -= n


def aligned_scores(model, X, n_classes: int) -> np.ndarray | None:
    """Class probabilities (or decision values) with columns for all K classes."""
    scores = None
    try:
        if hasattr(model, "predict_proba"):
            scores = np.asarray(model.predict_proba(X), dtype=float)
    except AttributeError:  # e.g. SVC(probability=False)
        scores = None
    if scores is None and hasattr(model, "decision_function"):
        scores = np.asarray(model.decision_function(X), dtype=float)
        if scores.ndim == 1:
            scores = np.column_stack([-scores, scores])
    if scores is None:
        return None
    classes = np.asarray(getattr(model, "classes_", np.arange(scores.shape[1])), dtype=int)
    if scores.shape[1] == n_classes and np.array_equal(classes, np.arange(n_classes)):
        return scores
    full = np.zeros((scores.shape[0], max(n_classes, 2)))
    full[:, classes[: scores.shape[1]]] = scores
    return full


def take_rows(X, index: np.ndarray):
    """Rows of a DataFrame or of an array (images: samples along axis 0)."""
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


def run_job(job: Job, data: JobData) -> dict[str, Any]:
    """Run one job with the runner registered for the data kind (tabular by default)."""
    kind = data.context.data_kind
    if kind != "tabular":
        from dlrun.catalogue import JOB_RUNNERS

        if kind in JOB_RUNNERS:
            return JOB_RUNNERS.get(kind)(job, data)
    return run_tabular_job(job, data)


def _score(model, X_test, y_test, ctx: BuildContext) -> dict[str, float]:
    """Scores of a fitted model (or pipeline) on already-prepared test inputs."""
    y_pred = model.predict(X_test)
    y_score = None
    if ctx.task == "classification":
        y_score = aligned_scores(model, X_test, ctx.n_classes)
    return score_all(ctx.task, y_test, y_pred, y_score, ctx.n_classes)


def _failure(err: Exception) -> dict[str, Any]:
    return {
        "error": f"{type(err).__name__}: {err}".strip()[:500],
        "traceback": traceback.format_exc(limit=6),
    }


def run_tabular_job(job: Job, data: JobData) -> dict[str, Any]:
    """Fit and score; never raises (errors come back as ``{"error": ...}``)."""
    ctx = data.context
    try:
        pipeline = build_pipeline(job.candidate, ctx, data.numeric, data.categorical)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if not isinstance(pipeline, Pipeline) or "view" not in pipeline.named_steps:
                start = time.perf_counter()  # not a view + model pair: fit as a whole
                pipeline.fit(take_rows(data.X, job.train), data.y[job.train])
                fit_seconds = time.perf_counter() - start
                metrics = _score(pipeline, take_rows(data.X, job.test), data.y[job.test], ctx)
                return {"metrics": metrics, "fit_seconds": fit_seconds}
            model = pipeline.named_steps["model"]
            _, x_train, x_test, view_seconds = fitted_view(job, data, pipeline.named_steps["view"])
            start = time.perf_counter()
            model.fit(x_train, data.y[job.train])
            fit_seconds = view_seconds + time.perf_counter() - start
            metrics = _score(model, x_test, data.y[job.test], ctx)
        return {"metrics": metrics, "fit_seconds": fit_seconds}
    except Exception as err:  # a failing algorithm must not sink the others
        return _failure(err)


def stackable(candidate: Candidate, data: JobData) -> bool:
    """Whether this candidate's folds can train together (its model has ``fit_many``)."""
    if data.context.data_kind != "tabular":
        from dlrun.catalogue import JOB_RUNNERS

        if data.context.data_kind in JOB_RUNNERS or data.context.task == "forecasting":
            return False
    from dlrun.catalogue import ALGORITHMS

    try:
        model = ALGORITHMS.get(candidate.algorithm).make(data.context, candidate.params)
    except Exception:  # noqa: BLE001 - the per-job path reports the error
        return False
    return hasattr(model, "fit_many")


def is_stacked(jobs: list[Job], data: JobData) -> bool:
    """Whether these jobs are several folds of one candidate that train together."""
    first = jobs[0].candidate
    return (len(jobs) > 1 and all(j.candidate == first and j.candidate.params == first.params for j in jobs)
            and stackable(first, data))


def iter_job_group(jobs: list[Job], data: JobData) -> Iterator[tuple[list[Job], list[dict[str, Any]]]]:
    """Run a group in this process, yielding results as soon as they exist: job by
    job, or all at once for folds that train together."""
    if is_stacked(jobs, data):
        yield jobs, run_job_group(jobs, data)
        return
    for job in jobs:
        yield [job], [run_job(job, data)]


def run_job_group(jobs: list[Job], data: JobData) -> list[dict[str, Any]]:
    """Run a group of jobs (see ``runner.group_jobs``): the jobs of one view and
    fold one after the other (the view fitted once), or the folds of one
    ``fit_many`` candidate together (each fold's view still fitted on its own
    training rows)."""
    if not is_stacked(jobs, data):
        return [run_job(job, data) for job in jobs]
    ctx = data.context
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test_x, train_x, train_y, view_seconds = [], [], [], []
            for job in jobs:
                pipeline = build_pipeline(job.candidate, ctx, data.numeric, data.categorical)
                model = pipeline.named_steps["model"]
                _, x_train, x_test, seconds = fitted_view(job, data, pipeline.named_steps["view"])
                train_x.append(x_train)
                test_x.append(x_test)
                train_y.append(data.y[job.train])
                view_seconds.append(seconds)
            start = time.perf_counter()
            models = model.fit_many(train_x, train_y)
            shared = (time.perf_counter() - start) / len(jobs)
            results = []
            for job, x_test, fitted, seconds in zip(jobs, test_x, models, view_seconds, strict=True):
                metrics = _score(fitted, x_test, data.y[job.test], ctx)
                results.append({"metrics": metrics, "fit_seconds": seconds + shared})
            return results
    except Exception as err:  # noqa: BLE001 - reported per job, others go on
        return [_failure(err) for _ in jobs]


