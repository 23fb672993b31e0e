"""Framing a series as a supervised problem: lag windows, differencing, scaling.

:class:`SeriesFraming` turns a matrix of series ``S`` (time along axis 0, the
target in column 0, other series after it) into rows a regressor can learn:

* each series is optionally seasonally differenced (``s_t - s_{t-period}``),
  then first-differenced (``Δ``); call the result ``z``;
* the features for forecasting position ``t`` with horizon ``H`` are the
  ``window`` latest values of ``z`` known at ``k = t - H`` (every series,
  time-major: ``[z_{k-w+1}, ..., z_k]``);
* the learning target is ``y_t - base_t``, where ``base_t`` is built from
  observations up to ``k`` only: ``y_{t-L}`` for seasonal differencing (``L`` is
  the season length rounded up to cover ``H``) plus the latest known
  (de-seasonalised) level for differencing; without differencing ``base = 0``;
* features are standardised per series and targets by their own mean and
  standard deviation, with statistics **fitted on the training part only**.

:meth:`SeriesFraming.invert` maps a model's output back to the original units
(``base_t + output * scale + mean``), so every error is scored in the units of
the series.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import BaseEstimator

MIN_ROWS_PER_LAG = 2  # the window shrinks until the training part gives this many rows per lag


class SeriesFraming(BaseEstimator):
    def __init__(self, window: int = 12, horizon: int = 1, difference: bool = False,
                 seasonal: bool = False, period: int = 12, scale: bool = True):
        self.window = window
        self.horizon = horizon
        self.difference = difference
        self.seasonal = seasonal
        self.period = period
        self.scale = scale

    # -- shapes ------------------------------------------------------------------
    @property
    def season_lag_(self) -> int:
        """L: the seasonal lag used for the target (a multiple of the period >= horizon)."""
        if not self._seasonal():
            return 0
        return int(self.period) * int(math.ceil(self.horizon / self.period))

    def _seasonal(self) -> bool:
        return bool(self.seasonal) and int(self.period) > 1

    def _z_start(self) -> int:
        """First time index where the transformed series z is defined."""
        return (int(self.period) if self._seasonal() else 0) + (1 if self.difference else 0)

    def first_position(self, window: int | None = None) -> int:
        """The first position t whose features and base are all defined."""
        w = int(window if window is not None else getattr(self, "window_", self.window))
        h, lag = int(self.horizon), self.season_lag_
        first = self._z_start() + w - 1 + h  # k - w + 1 >= z_start
        if lag:
            first = max(first, lag)
            if self.difference:
                first = max(first, lag + h)  # y_{k-L} is needed
        return first

    # -- the transforms ------------------------------------------------------------
    def transformed(self, S: np.ndarray) -> np.ndarray:
        """z: every series seasonally differenced and/or differenced (NaN where undefined)."""
        S = np.asarray(S, dtype=float)
        z = S.copy()
        if self._seasonal():
            m = int(self.period)
            z = np.full_like(S, np.nan)
            z[m:] = S[m:] - S[:-m]
        if self.difference:
            d = np.full_like(z, np.nan)
            d[1:] = z[1:] - z[:-1]
            z = d
        return z

    def base(self, y: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """What the model's output is added to, from observations up to t - horizon only."""
        y = np.asarray(y, dtype=float)
        t = np.asarray(positions, dtype=int)
        k = t - int(self.horizon)
        lag = self.season_lag_
        out = np.zeros(len(t))
        if lag:
            out += y[t - lag]
        if self.difference:
            out += y[k] - (y[k - lag] if lag else 0.0)
        return out

    # -- fitting -------------------------------------------------------------------
    def fit(self, S, y=None):
        """Fix the window and the scaling from the training series ``S`` (n_train x series)."""
        S = np.atleast_2d(np.asarray(S, dtype=float).T).T
        n = len(S)
        w = max(1, int(self.window))
        while w > 1 and n - self.first_position(w) < MIN_ROWS_PER_LAG * w:
            w -= 1
        self.window_ = w
        positions = self.training_positions(n)
        if len(positions) < 2:
            raise ValueError(
                f"the training part ({n} observations) is too short for this framing "
                f"(window {w}, horizon {self.horizon}"
                + (f", season {self.period}" if self._seasonal() else "") + ")"
            )
        z = self.transformed(S)
        known = z[self._z_start():]
        targets = S[positions, 0] - self.base(S[:, 0], positions)
        if self.scale:
            self.feature_mean_ = np.nanmean(known, axis=0)
            self.feature_scale_ = _safe_std(np.nanstd(known, axis=0))
            self.target_mean_ = float(np.mean(targets))
            self.target_scale_ = float(_safe_std(np.std(targets)))
        else:
            self.feature_mean_ = np.zeros(S.shape[1])
            self.feature_scale_ = np.ones(S.shape[1])
            self.target_mean_, self.target_scale_ = 0.0, 1.0
        self.n_series_ = S.shape[1]
        return self

    def training_positions(self, n_train: int) -> np.ndarray:
        return np.arange(self.first_position(), n_train)

    def features(self, S, positions) -> np.ndarray:
        """Scaled lag windows for each position (n_positions x window*series, time-major)."""
        S = np.atleast_2d(np.asarray(S, dtype=float).T).T
        z = (self.transformed(S) - self.feature_mean_) / self.feature_scale_
        t = np.asarray(positions, dtype=int)
        k = t - int(self.horizon)
        idx = k[:, None] - self.window_ + 1 + np.arange(self.window_)[None, :]
        if len(t) and idx.min() < self._z_start():
            raise ValueError("a position lacks the history its window needs")
        return z[idx].reshape(len(t), self.window_ * S.shape[1])

    def targets(self, S, positions) -> np.ndarray:
        """Scaled learning targets for positions (all inside the data given)."""
        y = np.asarray(S, dtype=float)
        y = y[:, 0] if y.ndim == 2 else y
        t = np.asarray(positions, dtype=int)
        return (y[t] - self.base(y, t) - self.target_mean_) / self.target_scale_

    def invert(self, output, y, positions) -> np.ndarray:
        """Model output for positions -> forecasts in the series' units."""
        out = np.asarray(output, dtype=float).reshape(-1)
        return self.base(y, positions) + out * self.target_scale_ + self.target_mean_


def _safe_std(value):
    value = np.asarray(value, dtype=float)
    return np.where(np.isfinite(value) & (value > 1e-12), value, 1.0)
