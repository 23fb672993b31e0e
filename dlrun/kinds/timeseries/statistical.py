"""The statistical forecasters practitioners compare against: ARIMA, ETS and Theta.

Each wraps a model of `statsforecast <https://nixtla.github.io/statsforecast/>`_
(the ``forecast`` extra: ``pip install 'dlrun[forecast]'``) in the
:class:`~dlrun.kinds.timeseries.forecasters.Forecaster` contract, under the
walk-forward protocol:

* **selection inside the training window only**: ``fit`` runs the automatic
  search (AutoARIMA's orders, AutoETS's error/trend/season components, AutoTheta's
  variant) on the training part -- at most the latest ``max_train``
  observations of it: AutoARIMA's stepwise search grows steeply with length
  (108 s on the 3,285 training days of daily minimum temperatures, 2.3 s on
  their latest 1,000, with a slightly better RMSE). ``transform="auto"`` picks
  between the series as it is and its logarithm (only for a positive series) by
  a walk-forward check on the last observations of the training window (the
  training part split again: the test window is never read);
* **updated at each origin, not refitted**: the fitted parameters stay; for a
  forecast of ``y[t]`` the model's state is run over the observations up to
  ``t - horizon`` (statsforecast's ``forward``) and forecasts ``horizon`` steps
  ahead -- the same protocol as every other forecaster (fit once per origin,
  the true observations join the history);
* **exogenous series** go to the model that accepts them (ARIMA, as
  regressors) lagged by ``horizon`` steps, so a forecast never reads another
  series' future either; ETS and Theta read the target alone;
* **every step ahead** from one forecast path per origin
  (:meth:`StatisticalForecaster.forecast_steps`), and **prediction intervals**
  (80 % and 95 %) from the model (:meth:`StatisticalForecaster.intervals`).

statsforecast (and numba, which it imports) is imported by the first fit in a
process, never by ``dlrun --help``, ``dlrun new`` or ``dlrun validate``; the
import costs about 2.3 s once per process. Fits and forecasts are deterministic,
and a process remembers the latest ones (by content), so the seeds of one origin
and an average of these models cost one fit.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any

import numpy as np

from dlrun.errors import DlrunError
from dlrun.kinds.timeseries.forecasters import Forecaster

EXTRA = "forecast"
MODELS = ("arima", "ets", "theta")
LEVELS = (80, 95)
#: observations the automatic search sees at most (the latest of the training part)
MAX_TRAIN = 1000
#: the training-window check of ``transform="auto"``: its length, as a share of the window at most
CHECK_SHARE = 0.25


class MissingExtra(DlrunError):
    """statsforecast is not installed: the statistical forecasters cannot run."""


def statsforecast_models():
    """statsforecast's model classes (imported on first use: numba comes with them)."""
    try:
        from statsforecast import models
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise MissingExtra(
            f"the statistical forecasters (arima, ets, theta) need statsforecast ({err}); install "
            f"the '{EXTRA}' extra: pip install 'dlrun[{EXTRA}]'") from None
    return models


# --------------------------------------------------------------------------- memory

_FITS: OrderedDict = OrderedDict()  # fit key -> (fitted model, transform, seconds)
_PATHS: OrderedDict = OrderedDict()  # forecast key -> (means, intervals)
MEMORY = 48


def _remember(cache: OrderedDict, key: str, value) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > MEMORY:
        cache.popitem(last=False)


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(np.ascontiguousarray(part, dtype=float).tobytes())
            h.update(str(part.shape).encode())
        else:
            h.update(repr(part).encode())
        h.update(b"|")
    return h.hexdigest()


# --------------------------------------------------------------------------- the forecaster


class StatisticalForecaster(Forecaster):
    """ARIMA, ETS or Theta (``model``) with automatic selection on the training window.

    ``period`` is the season length (1: none); ``max_train`` caps the observations the
    selection sees (the latest ones); ``transform`` is ``auto``, ``none`` or ``log``.
    """

    deterministic = True

    def __init__(self, model: str = "arima", period: int = 12, horizon: int = 1, target: str = "",
                 transform: str = "auto", max_train: int = MAX_TRAIN, check_size: int = 12):
        self.model = model
        self.period = period
        self.horizon = horizon
        self.target = target
        self.transform = transform
        self.max_train = max_train
        self.check_size = check_size

    # -- the statsforecast model ---------------------------------------------------------
    def _new(self):
        models = statsforecast_models()
        m = max(1, int(self.period))
        if self.model == "arima":
            return models.AutoARIMA(season_length=m)
        if self.model == "ets":
            return models.AutoETS(season_length=m)
        if self.model == "theta":
            return models.AutoTheta(season_length=m)
        raise ValueError(f"unknown statistical model '{self.model}' (one of: {', '.join(MODELS)})")

    @property
    def uses_exogenous(self) -> bool:
        return self.model == "arima"

    def _lagged(self, X) -> np.ndarray | None:
        """The other series lagged by ``horizon`` (row t holds X[t - horizon]); None without."""
        if X is None or not self.uses_exogenous:
            return None
        other = np.asarray(X, dtype=float)
        if other.ndim == 1:
            other = other.reshape(-1, 1)
        if not other.shape[1]:
            return None
        h = int(self.horizon)
        out = np.full_like(other, np.nan)
        out[h:] = other[:-h]
        return out

    # -- fitting -------------------------------------------------------------------------
    def _fit(self, X, y) -> None:
        if self.transform not in ("auto", "none", "log"):
            raise ValueError(f"transform must be auto, none or log, got {self.transform!r}")
        y = np.asarray(y, dtype=float)
        lagged = self._lagged(X.to_numpy(dtype=float) if hasattr(X, "to_numpy") else X)
        h = int(self.horizon)
        start = h if lagged is not None else 0  # the first rows have no lagged regressors
        start = max(start, len(y) - int(self.max_train)) if self.max_train else start
        y_fit = y[start:]
        x_fit = lagged[start:] if lagged is not None else None
        if len(y_fit) < 4:
            raise ValueError(f"{len(y_fit)} observations are too few for {self.model}")
        self.n_fit_, self.start_ = len(y_fit), int(start)
        key = _digest(type(self).__name__, sorted(self.get_params().items()), y_fit, x_fit)
        hit = _FITS.get(key)
        if hit is None:
            begin = time.perf_counter()
            transform = self._choose_transform(y_fit, x_fit)
            model = self._fit_model(_apply(transform, y_fit), x_fit)
            hit = (model, transform, time.perf_counter() - begin)
            _remember(_FITS, key, hit)
        self.model_, self.transform_, self.fit_seconds_ = hit
        self.uses_exogenous_ = x_fit is not None and getattr(self.model_, "_dlrun_xreg", False)
        self.fit_key_ = key

    def _fit_model(self, z: np.ndarray, x: np.ndarray | None):
        import warnings

        model = self._new()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if x is not None:
                try:
                    model.fit(z, X=x)
                    model._dlrun_xreg = True
                    return model
                except Exception:  # noqa: BLE001 - singular regressors: the series alone
                    model = self._new()
            model.fit(z)
        model._dlrun_xreg = False
        return model

    def _choose_transform(self, y: np.ndarray, x: np.ndarray | None) -> str:
        """``none`` or ``log``: as asked, or (``auto``) the one with the smaller one-step error
        over the last observations of the training window, fitted on the ones before them."""
        if self.transform != "auto":
            if self.transform == "log" and np.min(y) <= 0:
                raise ValueError("transform 'log' needs a positive series")
            return self.transform
        if np.min(y) <= 0:
            return "none"
        size = int(min(max(1, int(self.check_size)), CHECK_SHARE * len(y)))
        if size < 2 or len(y) - size < 4:
            return "none"
        errors = {}
        for transform in ("none", "log"):
            try:
                model = self._fit_model(_apply(transform, y[:-size]), None if x is None else x[:-size])
                forecasts = np.array([
                    self._path(model, transform, y[:k], None if x is None else x[:k], 1,
                               None if x is None else x[k:k + 1])[0][0]
                    for k in range(len(y) - size, len(y))])
                errors[transform] = float(np.mean((forecasts - y[-size:]) ** 2))
            except Exception:  # noqa: BLE001 - a transform the model cannot fit loses
                errors[transform] = np.inf
        return "log" if errors["log"] < errors["none"] else "none"

    # -- forecasting ---------------------------------------------------------------------
    def _path(self, model, transform: str, y_hist: np.ndarray, x_hist: np.ndarray | None, steps: int,
              x_future: np.ndarray | None = None, levels: tuple = ()):
        """(means, {level: (lo, hi)}) of ``steps`` forecasts after ``y_hist``, parameters fixed."""
        import warnings

        z = _apply(transform, y_hist)
        kwargs: dict[str, Any] = {"h": int(steps)}
        if x_hist is not None and getattr(model, "_dlrun_xreg", False):
            kwargs.update(X=x_hist, X_future=x_future)
        if levels:
            kwargs["level"] = list(levels)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = model.forward(z, **kwargs)
        means = _invert(transform, np.asarray(out["mean"], dtype=float))
        bands = {lv: (_invert(transform, np.asarray(out[f"lo-{lv}"], dtype=float)),
                      _invert(transform, np.asarray(out[f"hi-{lv}"], dtype=float)))
                 for lv in levels if f"lo-{lv}" in out}
        return means, bands

    def min_history(self) -> int:
        return max(2 * max(1, int(self.period)) + 2, 8)

    def _first(self, k: int) -> int:
        """Where the history of a forecast from origin ``k`` starts: where the fitted
        observations started (the model's initial states belong there: level, trend and the
        season's phase), as in walk-forward and when ``dlrun predict`` is given the series
        from its beginning; a shorter history is read whole (from its first row with lagged
        regressors)."""
        first = self.start_ if k + 1 - self.start_ >= self.min_history() else 0
        return max(first, int(self.horizon)) if getattr(self, "uses_exogenous_", False) else first

    def _paths(self, X, y, positions, levels: tuple = ()):
        """For each origin k = t - H .. t - 1 of the positions: the forecast path of H steps
        (and its bands), from the observations up to k only. Returns (origins, means
        (origins x H), bands {level: (lo, hi)} of the same shape)."""
        y = np.asarray(y, dtype=float)
        positions = np.asarray(positions, dtype=int)
        H = int(self.horizon)
        origins = np.arange(int(positions.min()) - H, int(positions.max()))
        lagged = self._lagged(X)
        first = self._first(int(origins[0]))
        key = _digest(self.fit_key_, origins, levels, y[first: origins[-1] + 1],
                      None if lagged is None else lagged[first: origins[-1] + H + 1])
        hit = _PATHS.get(key)
        if hit is not None:
            return origins, hit[0], hit[1]
        means = np.full((len(origins), H), np.nan)
        bands = {lv: (np.full((len(origins), H), np.nan), np.full((len(origins), H), np.nan)) for lv in levels}
        for i, k in enumerate(origins):
            lo = self._first(int(k))
            y_hist = y[lo:k + 1]
            x_hist = x_future = None
            if lagged is not None and self.uses_exogenous_:
                x_hist, x_future = lagged[lo:k + 1], lagged[k + 1:k + 1 + H]
                if len(x_future) < H:  # steps past the end of the data: never scored
                    x_future = np.vstack([x_future, np.repeat(x_hist[-1:], H - len(x_future), axis=0)])
            if self.transform_ == "log" and np.min(y_hist) <= 0:
                raise ValueError("the history holds a value <= 0: the log model cannot forecast from it")
            m, b = self._path(self.model_, self.transform_, y_hist, x_hist, H, x_future, levels)
            means[i] = m
            for lv, (lo_b, hi_b) in b.items():
                bands[lv][0][i], bands[lv][1][i] = lo_b, hi_b
        _remember(_PATHS, key, (means, bands))
        return origins, means, bands

    def _forecast(self, X, y, positions):
        return self.forecast_steps(X, y, positions)[-1]

    def forecast_steps(self, X, y, positions) -> np.ndarray:
        """(H x positions): row h-1 holds each position's forecast made h steps before it."""
        positions = np.asarray(positions, dtype=int)
        origins, means, _ = self._paths(X, y, positions)
        H = int(self.horizon)
        out = np.empty((H, len(positions)))
        for h in range(1, H + 1):
            out[h - 1] = means[positions - h - origins[0], h - 1]
        return out

    def intervals(self, X, y, positions, levels=LEVELS) -> dict[str, dict[str, list[float]]]:
        """The model's prediction intervals of the ``horizon``-step forecasts at ``positions``:
        ``{"80": {"lo": [...], "hi": [...]}, "95": ...}`` (empty when the model gives none)."""
        positions = np.asarray(positions, dtype=int)
        try:
            origins, _, bands = self._paths(X, y, positions, tuple(levels))
        except Exception:  # noqa: BLE001 - no intervals is not an error
            return {}
        H = int(self.horizon)
        out = {}
        for lv, (lo, hi) in bands.items():
            rows = positions - H - origins[0]
            lo_v, hi_v = lo[rows, H - 1], hi[rows, H - 1]
            if np.all(np.isfinite(lo_v)) and np.all(np.isfinite(hi_v)):
                out[str(lv)] = {"lo": [float(v) for v in lo_v], "hi": [float(v) for v in hi_v]}
        return out

    def description(self) -> str:
        """What the selection chose, e.g. ``ARIMA(0,1,1)(0,1,1)[12] on log``."""
        state = getattr(self.model_, "model_", {}) or {}
        if self.model == "arima" and "arma" in state:
            p, q, P, Q, m, d, D = (int(v) for v in state["arma"])
            text = f"ARIMA({p},{d},{q})" + (f"({P},{D},{Q})[{m}]" if m > 1 else "")
        elif self.model == "ets":
            text = str(state.get("method", "ETS"))
        else:
            text = f"Theta ({state.get('modeltype', '?')})"
        return text + (" on log" if self.transform_ == "log" else "")

    # -- saving: plain state only (dlrun.modelfile loads trusted types only) -----------------
    def __getstate__(self):
        state = dict(self.__dict__)
        model = state.pop("model_", None)
        if model is not None:
            state["fitted_"] = {"params": _plain(model.__dict__.get("model_")),
                                "xreg": bool(getattr(model, "_dlrun_xreg", False))}
        return state

    def __setstate__(self, state):
        state = dict(state)
        fitted = state.pop("fitted_", None)
        self.__dict__.update(state)
        if fitted is not None:
            self.model_ = _Restored(self, fitted)


class _Restored:
    """A loaded model: rebuilt as statsforecast's own object on first use."""

    def __init__(self, owner: StatisticalForecaster, fitted: dict):
        self._owner, self._fitted, self._model = owner, fitted, None
        self._dlrun_xreg = bool(fitted.get("xreg"))
        self.model_ = fitted.get("params") or {}

    def forward(self, *args, **kwargs):
        if self._model is None:
            model = self._owner._new()
            model.model_ = _unplain(self._fitted.get("params"))
            model._dlrun_xreg = self._dlrun_xreg
            self._model = model
        return self._model.forward(*args, **kwargs)


def _apply(transform: str, values: np.ndarray) -> np.ndarray:
    return np.log(values) if transform == "log" else np.asarray(values, dtype=float)


def _invert(transform: str, values: np.ndarray) -> np.ndarray:
    return np.exp(values) if transform == "log" else values


def _plain(value):
    """statsforecast's fitted state as plain Python (dicts, lists, floats, arrays)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple
        return {"__namedtuple__": type(value).__name__, "__module__": type(value).__module__,
                "fields": {f: _plain(getattr(value, f)) for f in value._fields}}
    if isinstance(value, tuple):
        return {"__tuple__": [_plain(v) for v in value]}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value if value.dtype != object else [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "to_numpy"):  # a pandas object
        return np.asarray(value.to_numpy())
    return value


def _unplain(value):
    if isinstance(value, dict):
        if "__tuple__" in value:
            return tuple(_unplain(v) for v in value["__tuple__"])
        if "__namedtuple__" in value:
            fields = {k: _unplain(v) for k, v in value["fields"].items()}
            if value["__module__"].startswith("statsforecast.") and value["__namedtuple__"] == "results":
                from statsforecast.utils import results

                return results(**fields)
            return fields
        return {k: _unplain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unplain(v) for v in value]
    return value


def make_statistical(model: str, ctx, params: dict[str, Any]) -> StatisticalForecaster:
    meta = ctx.meta or {}
    period = params.pop("period", None) or meta.get("period") or 1
    test_size = int(meta.get("test_size") or 12)
    return StatisticalForecaster(model=model, period=int(period), horizon=int(meta.get("horizon", 1)),
                                 target=str(meta.get("target", "")),
                                 check_size=test_size, **params)
