"""One forecasting job: fit a forecaster on a fold's past, walk it forward over the fold's test window."""

from __future__ import annotations

import time
import traceback
import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from dlrun.evaluation.metrics import score_all
from dlrun.timeseries.walkforward import repeat_of


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


def walk_forward(candidate, context, X, y, train, test, seed_offset: int = 0):
    """(forecasts for ``test``, fit seconds) of ``candidate`` fitted on ``train``."""
    from dlrun.timeseries.forecasters import make_forecaster

    ctx = replace(context, seed=context.seed + seed_offset)
    forecaster = make_forecaster(candidate, ctx)
    rows = training_rows(train, test)
    exog = X.to_numpy(dtype=float) if X is not None and X.shape[1] else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        forecaster.fit(X.iloc[rows] if X is not None else None, np.asarray(y)[rows])
        fit_seconds = time.perf_counter() - start
        forecasts = forecaster.forecast(exog, y, np.asarray(test))
    return forecasts, fit_seconds


def run_forecast_job(job, data) -> dict[str, Any]:
    """The job runner registered for ``kind: timeseries``; never raises."""
    try:
        y = np.asarray(data.y, dtype=float)
        forecasts, fit_seconds = walk_forward(job.candidate, data.context, data.X, y, job.train,
                                              job.test, repeat_of(job.fold_id))
        if not np.all(np.isfinite(forecasts)):
            raise ValueError("the forecasts hold NaN or infinite values")
        metrics = score_all("forecasting", y[job.test], forecasts, None, 0)
        return {"metrics": metrics, "fit_seconds": fit_seconds}
    except Exception as err:  # a failing algorithm must not sink the others
        return {"error": f"{type(err).__name__}: {err}".strip()[:500],
                "traceback": traceback.format_exc(limit=6)}
