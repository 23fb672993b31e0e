"""The fold runner of forecasting: fit a forecaster on a fold's past, walk it forward over
the fold's test window (each true observation joins the history before the next forecast).

Besides the forecasts ``horizon`` steps ahead (the fold's predictions and score), each fold
stores in its ``extra``:

* ``steps`` (horizon > 1): the project's metric at 1, 2, ..., H steps ahead over the same
  positions, and ``step_forecasts`` (H lists). A model that forecasts a whole path from
  one fit gives every step at once (the statistical models, recursively through their own
  equations); any other forecaster is fitted once more per step (direct forecasts: a model
  for each horizon, on the same past);
* ``intervals``: the model's prediction intervals of the stored forecasts, where it gives
  them (``{"80": {"lo": [...], "hi": [...]}, "95": ...}``);
* ``model``: what an automatic model chose (``ARIMA(0,1,1)(0,1,1)[12] on log``).
"""

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
        # a fit remembered from an earlier fold (a deterministic model) reports its own cost
        fit_seconds = float(getattr(forecaster, "fit_seconds_", time.perf_counter() - start))
        forecasts = forecaster.forecast(exog, y, np.asarray(test))
    return forecasts, fit_seconds


def step_forecasts(forecaster, X, y, train, test, forecasts) -> np.ndarray | None:
    """(H x test) forecasts made 1..H steps before each test position (None when H = 1): from
    the fitted forecaster's own paths when it gives them, else one direct fit per step."""
    from sklearn.base import clone

    H = int(getattr(forecaster, "horizon", 1))
    if H <= 1:
        return None
    exog = X.to_numpy(dtype=float) if X is not None and X.shape[1] else None
    if hasattr(forecaster, "forecast_steps"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return np.asarray(forecaster.forecast_steps(exog, y, np.asarray(test)), dtype=float)
        except NotImplementedError:
            pass
    out = []
    for h in range(1, H):
        model = clone(forecaster)
        model.set_params(horizon=h)
        out.append(walk_forward(model, X, y, train, test)[0])
    out.append(np.asarray(forecasts, dtype=float))
    return np.vstack(out)


def fold_extra(forecaster, X, y, train, test, forecasts, metric: str) -> dict[str, Any]:
    """What a fold stores beside its forecasts (module docstring): per-step scores, intervals."""
    from dlrun.catalogue import METRICS

    extra: dict[str, Any] = {}
    y = np.asarray(y, dtype=float)
    test = np.asarray(test)
    steps = step_forecasts(forecaster, X, y, train, test, forecasts)
    if steps is not None:
        fn = METRICS.get(metric).fn
        extra["steps"] = [float(fn(y[test], row, None, 0)) for row in steps]
        extra["step_forecasts"] = [[float(v) for v in row] for row in steps]
    if hasattr(forecaster, "intervals"):
        exog = X.to_numpy(dtype=float) if X is not None and X.shape[1] else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bands = forecaster.intervals(exog, y, test)
        if bands:
            extra["intervals"] = bands
    if hasattr(forecaster, "description"):
        extra["model"] = forecaster.description()
    return extra


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
                result = finished(job, data, Prediction(np.asarray(job.test), forecasts), seconds,
                                  learner)
                result["extra"].update(fold_extra(forecaster, data.X, y, job.train, job.test,
                                                  forecasts, data.context.metric))
                out.append(result)
            except Exception as err:  # a failing algorithm must not sink the others
                out.append(failure(err))
        return out
