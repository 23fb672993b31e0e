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


def run_tabular_job(job: Job, data: JobData) -> dict[str, Any]:
    """Fit and score; never raises (errors come back as ``{"error": ...}``)."""
    ctx = data.context
    try:
        pipeline = build_pipeline(job.candidate, ctx, data.numeric, data.categorical)
        X_train = take_rows(data.X, job.train)
        X_test = take_rows(data.X, job.test)
        y_train, y_test = data.y[job.train], data.y[job.test]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            pipeline.fit(X_train, y_train)
            fit_seconds = time.perf_counter() - start
            y_pred = pipeline.predict(X_test)
            y_score = None
            if ctx.task == "classification":
                y_score = aligned_scores(pipeline, X_test, ctx.n_classes)
            metrics = score_all(ctx.task, y_test, y_pred, y_score, ctx.n_classes)
        return {"metrics": metrics, "fit_seconds": fit_seconds}
    except Exception as err:  # a failing algorithm must not sink the others
        return {
            "error": f"{type(err).__name__}: {err}".strip()[:500],
            "traceback": traceback.format_exc(limit=6),
        }


def run_job_batch(jobs: list[Job], data: JobData) -> list[dict[str, Any]]:
    return [run_job(job, data) for job in jobs]
