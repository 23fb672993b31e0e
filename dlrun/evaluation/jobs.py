"""One job = fit one candidate on one fold's training rows, score its test rows.

``run_job`` is a plain top-level function of picklable arguments, so the same
job runs in this process, in a local process pool, or on a Dask worker.
"""

from __future__ import annotations

import time
import traceback
import warnings
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


def _score(pipeline, X_test, y_test, ctx: BuildContext) -> dict[str, float]:
    y_pred = pipeline.predict(X_test)
    y_score = None
    if ctx.task == "classification":
        y_score = aligned_scores(pipeline, X_test, ctx.n_classes)
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
        X_train = take_rows(data.X, job.train)
        X_test = take_rows(data.X, job.test)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            pipeline.fit(X_train, data.y[job.train])
            fit_seconds = time.perf_counter() - start
            metrics = _score(pipeline, X_test, data.y[job.test], ctx)
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


def run_job_group(jobs: list[Job], data: JobData) -> list[dict[str, Any]]:
    """Run jobs of one candidate; with several folds and a ``fit_many`` model, the
    folds train together (each fold's view is still fitted on its own training rows)."""
    if len(jobs) == 1 or not stackable(jobs[0].candidate, data):
        return [run_job(job, data) for job in jobs]
    ctx = data.context
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            views, train_x, train_y, view_seconds = [], [], [], []
            for job in jobs:
                pipeline = build_pipeline(job.candidate, ctx, data.numeric, data.categorical)
                view, model = pipeline.named_steps["view"], pipeline.named_steps["model"]
                start = time.perf_counter()
                train_x.append(view.fit_transform(take_rows(data.X, job.train)))
                view_seconds.append(time.perf_counter() - start)
                train_y.append(data.y[job.train])
                views.append(view)
            start = time.perf_counter()
            models = model.fit_many(train_x, train_y)
            shared = (time.perf_counter() - start) / len(jobs)
            results = []
            for job, view, fitted, seconds in zip(jobs, views, models, view_seconds, strict=True):
                pipeline = Pipeline([("view", view), ("model", fitted)])
                metrics = _score(pipeline, take_rows(data.X, job.test), data.y[job.test], ctx)
                results.append({"metrics": metrics, "fit_seconds": seconds + shared})
            return results
    except Exception as err:  # noqa: BLE001 - reported per job, others go on
        return [_failure(err) for _ in jobs]


