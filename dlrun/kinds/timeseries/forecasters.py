"""Forecasters: the naive floors, and any regressor turned into a walk-forward forecaster.

Every forecaster is a scikit-learn estimator with the same small contract:

* ``fit(X, y)``: learn from a history in time order -- ``y`` the target series,
  ``X`` the other series observed at the same times (may have no columns);
* ``forecast(X, y, positions)``: for each position ``t`` the forecast of
  ``y[t]`` made with the observations up to ``t - horizon`` only -- walk-forward
  validation, where the true observation joins the history after each step.
  ``X``/``y`` are the whole series; a forecaster never reads past ``t - horizon``;
* ``predict(history)``: for a frame holding the target column (and the other
  series), the forecast ``horizon`` steps after its last row (``dlrun predict``).

Fitting once per origin and then stepping forward with the true observations
is what makes walk-forward cheap: the forecasts for every step come from one
batch of lag windows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone

from dlrun.kinds.timeseries.framing import SeriesFraming


def series_matrix(X, y) -> np.ndarray:
    """The target as column 0, then every other series: (time x series) floats."""
    y = np.asarray(y, dtype=float).reshape(-1, 1)
    if X is None:
        return y
    other = np.asarray(X, dtype=float)
    if other.ndim == 1:
        other = other.reshape(-1, 1)
    return np.hstack([y, other]) if other.shape[1] else y


class Forecaster(RegressorMixin, BaseEstimator):
    """Base of dlrun's forecasters (subclasses define ``_forecast``)."""

    horizon: int = 1
    target: str = ""
    #: the same history always gives the same forecasts (no seed): repeats may share them
    deterministic: bool = False

    def fit(self, X, y):
        self.exogenous_ = [str(c) for c in getattr(X, "columns", [])]
        self.n_train_ = len(y)
        self._fit(X, y)
        return self

    def _fit(self, X, y) -> None:
        pass

    def min_history(self) -> int:
        """Observations a forecast needs before its origin."""
        return 1

    def forecast(self, X, y, positions) -> np.ndarray:
        positions = np.asarray(positions, dtype=int)
        if len(positions) and positions.min() - int(self.horizon) < 0:
            raise ValueError("a forecast position has no history before it")
        return np.asarray(self._forecast(X, y, positions), dtype=float)

    def _forecast(self, X, y, positions):  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, X):
        """Forecast ``horizon`` steps after the last row of the history frame ``X``."""
        target = self.target if self.target in getattr(X, "columns", []) else None
        if target is None:
            raise ValueError(f"the history needs the target column '{self.target}'")
        h = int(self.horizon)
        needed = self.min_history()
        if len(X) < needed:
            from dlrun.errors import DataError

            raise DataError(f"{len(X)} rows of history; this model forecasts from the latest "
                            f"{needed} observations at least", field="--data")
        y = np.concatenate([X[target].to_numpy(dtype=float), np.full(h, np.nan)])
        other = X[self.exogenous_].to_numpy(dtype=float) if self.exogenous_ else None
        if other is not None:
            other = np.vstack([other, np.full((h, other.shape[1]), np.nan)])
        return self.forecast(other, y, [len(y) - 1])


# --------------------------------------------------------------------------- naive floors


class PersistenceForecaster(Forecaster):
    """The last observed value (``y[t - horizon]``): the floor every forecast must beat."""

    deterministic = True

    def __init__(self, horizon: int = 1, target: str = ""):
        self.horizon = horizon
        self.target = target

    def _forecast(self, X, y, positions):
        return np.asarray(y, dtype=float)[positions - int(self.horizon)]


class SeasonalNaiveForecaster(Forecaster):
    """The value one season ago (``y[t - period]``; whole seasons back when horizon > period)."""

    deterministic = True

    def __init__(self, period: int = 12, horizon: int = 1, target: str = ""):
        self.period = period
        self.horizon = horizon
        self.target = target

    def min_history(self) -> int:
        return self.lag() - int(self.horizon) + 1

    def lag(self) -> int:
        p = max(1, int(self.period))
        return p * int(math.ceil(int(self.horizon) / p))

    def _forecast(self, X, y, positions):
        lag = self.lag()
        if len(positions) and positions.min() - lag < 0:
            raise ValueError(f"a forecast position lies less than one season ({lag}) into the series")
        return np.asarray(y, dtype=float)[positions - lag]


class MeanForecaster(Forecaster):
    """The mean of every observation known at forecast time."""

    deterministic = True

    def __init__(self, horizon: int = 1, target: str = ""):
        self.horizon = horizon
        self.target = target

    def _forecast(self, X, y, positions):
        y = np.asarray(y, dtype=float)
        k = positions - int(self.horizon)
        sums = np.cumsum(np.nan_to_num(y))
        return sums[k] / (k + 1)


NAIVE = {"persistence": PersistenceForecaster, "seasonal_naive": SeasonalNaiveForecaster,
         "mean": MeanForecaster}


def make_naive(kind: str, ctx, params: dict[str, Any]) -> Forecaster:
    meta = ctx.meta or {}
    kwargs = {"horizon": int(meta.get("horizon", 1)), "target": str(meta.get("target", ""))}
    if kind == "seasonal_naive":
        kwargs["period"] = int(params.get("period") or meta.get("period") or 1)
    return NAIVE[kind](**kwargs)


# --------------------------------------------------------------------------- regressors


class WindowForecaster(Forecaster):
    """Any scikit-learn regressor fitted on lag windows framed by :class:`SeriesFraming`."""

    def __init__(self, regressor=None, framing: SeriesFraming | None = None, horizon: int = 1,
                 target: str = ""):
        self.regressor = regressor
        self.framing = framing
        self.horizon = horizon
        self.target = target

    def _fit(self, X, y) -> None:
        S = series_matrix(X, y)
        framing = clone(self.framing) if self.framing is not None else SeriesFraming()
        framing.set_params(horizon=int(self.horizon))
        self.framing_ = framing.fit(S)
        positions = self.framing_.training_positions(len(S))
        features = self.framing_.features(S, positions)
        targets = self.framing_.targets(S, positions)
        self.regressor_ = clone(self.regressor).fit(features, targets)

    def min_history(self) -> int:
        return self.framing_.first_position() - int(self.horizon) + 1

    def _forecast(self, X, y, positions):
        S = series_matrix(X, y)
        features = self.framing_.features(S, positions)
        output = self.regressor_.predict(features)
        return self.framing_.invert(output, S[:, 0], positions)


# --------------------------------------------------------------------------- averages


class AverageForecaster(Forecaster):
    """The mean of several forecasters' forecasts, each fitted on the same history (its
    ``members``, unfitted forecasters; each is given this forecaster's horizon)."""

    def __init__(self, members=(), horizon: int = 1, target: str = ""):
        self.members = members
        self.horizon = horizon
        self.target = target

    @property
    def deterministic(self) -> bool:  # type: ignore[override]
        return bool(self.members) and all(getattr(m, "deterministic", False) for m in self.members)

    def _fit(self, X, y) -> None:
        if not self.members:
            raise ValueError("an average needs at least one member")
        fitted = []
        for member in self.members:
            member = clone(member)
            member.set_params(horizon=int(self.horizon))
            fitted.append(member.fit(X, y))
        self.members_ = fitted

    def min_history(self) -> int:
        return max(m.min_history() for m in self.members_)

    def _forecast(self, X, y, positions):
        return np.mean([m.forecast(X, y, positions) for m in self.members_], axis=0)

    def forecast_steps(self, X, y, positions) -> np.ndarray:
        """Every step ahead (H x positions) when every member gives them from one fit."""
        if not all(hasattr(m, "forecast_steps") for m in self.members_):
            raise NotImplementedError("a member forecasts one horizon per fit")
        return np.mean([m.forecast_steps(X, y, positions) for m in self.members_], axis=0)


#: The default members of ``average``: the statistical models (the classic combination).
DEFAULT_AVERAGE = ("arima/lags", "ets/lags", "theta/lags")


def member_spec(member) -> tuple[str, str, dict[str, Any]]:
    """``(algorithm, view, params)`` of an ``average`` member: ``"ALGO/VIEW"`` or a mapping
    ``{"algorithm": ..., "view": ..., "params": {...}}`` (the view defaults to ``lags``)."""
    if isinstance(member, str):
        algorithm, _, view = member.partition("/")
        return algorithm, view or "lags", {}
    if isinstance(member, dict) and "algorithm" in member:
        return str(member["algorithm"]), str(member.get("view") or "lags"), dict(member.get("params") or {})
    raise ValueError(f"an average member is 'ALGO/VIEW' or {{algorithm, view, params}}, got {member!r}")


def make_average(ctx, members) -> AverageForecaster:
    from dlrun.catalogue import ALGORITHMS, VIEWS, pair_context
    from dlrun.evaluation.candidates import Candidate

    meta = ctx.meta or {}
    built = []
    for member in (members or DEFAULT_AVERAGE):
        algorithm, view, params = member_spec(member)
        if algorithm == "average":
            raise ValueError("an average cannot hold another average")
        ALGORITHMS.get(algorithm), VIEWS.get(view)  # unknown names are errors naming them
        built.append(make_forecaster(Candidate(algorithm, view, params),
                                     pair_context(ctx, algorithm, view)))
    return AverageForecaster(members=built, horizon=int(meta.get("horizon", 1)),
                             target=str(meta.get("target", "")))


# --------------------------------------------------------------------------- pipelines


def make_forecaster(candidate, context) -> Forecaster:
    """The forecaster for a candidate. On the raw history (``context.input``) the naive
    floor of the catalogue is persistence and the other naive forecasters are built as
    they are; any other learner fits the lag windows its view frames, inside a
    :class:`WindowForecaster`."""
    from dlrun.catalogue import ALGORITHMS, BASELINE, HISTORY, VIEWS

    info = ALGORITHMS.get(candidate.algorithm)
    if context.input == HISTORY and info.role == BASELINE:
        return make_naive("persistence", context, {})
    model = info.make(context, candidate.params)
    if isinstance(model, Forecaster):
        return model
    meta = context.meta or {}
    framing = VIEWS.get(candidate.view).build({})
    framing.set_params(window=int(meta.get("window", 12)), period=int(meta.get("period", 1)),
                       horizon=int(meta.get("horizon", 1)))
    return WindowForecaster(regressor=model, framing=framing, horizon=int(meta.get("horizon", 1)),
                            target=str(meta.get("target", "")))


def forecasting_pipeline(candidate, context):
    """The estimator of a forecasting candidate: the framing lives inside the forecaster,
    because it needs the target's history (a Pipeline's transformers only see X)."""
    from sklearn.pipeline import Pipeline

    return Pipeline([("view", "passthrough"), ("model", make_forecaster(candidate, context))])
