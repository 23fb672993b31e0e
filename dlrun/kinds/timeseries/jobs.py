"""The fold runner of forecasting: fit a forecaster on a fold's past, walk it forward over
the fold's test window (each true observation joins the history before the next forecast)."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from dlrun.evaluation.candidates import build_estimator
from dlrun.evaluation.jobs import FoldRunner, Prediction, failure, finished, job_context


def training_rows(train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """The contiguous past of the test window. A subsample (slow algorithms on long series)
    becomes the latest observations of the same count: time series are never thinned at random."""
    origin = int(np.min(test))
    train = np.asarray(train)
    if len(train) and int(train.max()) >= origin:
        raise ValueError("a training row lies at or after the forecast origin")
    if len(train) == origin and (origin == 0 or int(train[-1]) == origin - 1):
        return np.arange(origin)
    return np.arange(origin - len(train), origin)


def walk_forward(forecaster, X, y, train, test):
    """(forecasts for ``test``, fit seconds) of ``forecaster`` fitted on the past of ``test``."""
    rows = training_rows(train, test)
    exog = X.to_numpy(dtype=float) if X is not None and X.shape[1] else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        forecaster.fit(X.iloc[rows] if X is not None else None, np.asarray(y)[rows])
        fit_seconds = time.perf_counter() - start
        forecasts = forecaster.forecast(exog, y, np.asarray(test))
    return forecasts, fit_seconds


def candidate_forecasts(candidate, context, X, y, train, test):
    """:func:`walk_forward` of a candidate (built as this kind builds it) under ``context``."""
    forecaster = build_estimator(candidate, context, {}, "timeseries").named_steps["model"]
    return walk_forward(forecaster, X, y, train, test)


class WalkForwardFolds(FoldRunner):
    """Each job: fit on the fold's past (seeded per repeat), forecast its test window."""

    def run(self, jobs, data) -> list[dict[str, Any]]:
        out = []
        y = np.asarray(data.y, dtype=float)
        for job in jobs:
            try:
                estimator = build_estimator(job.candidate, job_context(job, data), data.roles, data.kind)
                forecaster = estimator.named_steps["model"]
                forecasts, seconds = walk_forward(forecaster, data.X, y, job.train, job.test)
                if not np.all(np.isfinite(forecasts)):
                    raise ValueError("the forecasts hold NaN or infinite values")
                learner = getattr(forecaster, "regressor_", forecaster)
                out.append(finished(job, data, Prediction(np.asarray(job.test), forecasts), seconds,
                                    learner))
            except Exception as err:  # a failing algorithm must not sink the others
                out.append(failure(err))
        return out
