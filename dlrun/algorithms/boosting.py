"""XGBoost, wrapped so a training fold that lacks a class still trains, and so that it grows
as many trees as its own training rows want.

XGBoost insists on class codes 0..K-1 all present in ``y``; a rare class can be
absent from a training fold. :class:`LabelSafeClassifier` re-encodes the labels
present, and exposes them as ``classes_`` so scores line up with the global
class list.

:class:`EarlyStoppingClassifier` / :class:`EarlyStoppingRegressor` choose the number of
boosting rounds on an inner validation split of the rows given to ``fit`` -- the training
fold, never its test fold: stratified for classes, seeded, or the latest rows when the rows
are in time order -- then refit on all those rows with that many rounds.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone


class LabelSafeClassifier(ClassifierMixin, BaseEstimator):
    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X, y, **fit_params):
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        self.estimator_ = clone(self.estimator)
        if len(self.classes_) == 1:
            self.estimator_ = None  # a single class: always predict it
        else:
            self.estimator_.fit(X, codes, **fit_params)
        return self

    def predict(self, X):
        if self.estimator_ is None:
            return np.full(len(X), self.classes_[0])
        return self.classes_[np.asarray(self.estimator_.predict(X), dtype=int)]

    def predict_proba(self, X):
        if self.estimator_ is None:
            return np.ones((len(X), 1))
        return self.estimator_.predict_proba(X)

    @property
    def feature_importances_(self):
        return self.estimator_.feature_importances_


def _rows(X, index):
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


def validation_split(y, fraction: float, seed, *, stratify: bool, time_ordered: bool = False):
    """(fit rows, validation rows) of ``y``: the latest ``fraction`` of the rows when they are
    in time order; otherwise a seeded random ``fraction``, taken class by class when
    ``stratify`` (a class keeps at least one row on the fitting side, so a boosting model
    still sees every class; a class of one row is never held out)."""
    n = len(y)
    if time_ordered:
        n_val = int(round(n * fraction))
        cut = n - n_val
        return np.arange(cut), np.arange(cut, n)
    rng = np.random.default_rng(seed)
    if not stratify:
        order = rng.permutation(n)
        n_val = int(round(n * fraction))
        return np.sort(order[n_val:]), np.sort(order[:n_val])
    held = []
    for cls in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == cls))
        held.append(members[: min(int(round(len(members) * fraction)), len(members) - 1)])
    val = np.sort(np.concatenate(held)) if held else np.array([], dtype=int)
    return np.setdiff1d(np.arange(n), val), val


class _EarlyStopping(BaseEstimator):
    """Boosting (an XGBoost model whose ``n_estimators`` is the most rounds it may grow) that
    stops adding rounds when the loss on an inner validation split of its training rows has
    not improved for ``patience`` rounds, then refits on every training row with the rounds
    that scored best, scaled up by the share of rows the refit adds (``refit``; otherwise the
    model fitted on the rest is kept).

    ``patience = 0`` grows all ``n_estimators`` rounds on every row (no split). With fewer
    than ``min_validation`` validation rows the split is not made either: the best rounds of
    so few rows would be noise, so the model grows ``fallback_rounds`` rounds instead.
    Fitted: ``estimator_`` (the model that predicts), ``best_rounds_`` (the rounds chosen),
    ``stopped_`` (whether the validation split chose them).
    """

    _stratify = False

    def __init__(self, estimator=None, *, validation_fraction: float = 0.2, patience: int = 50,
                 refit: bool = True, time_ordered: bool = False, min_validation: int = 10,
                 fallback_rounds: int = 200, random_state=None):
        self.estimator = estimator
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.refit = refit
        self.time_ordered = time_ordered
        self.min_validation = min_validation
        self.fallback_rounds = fallback_rounds
        self.random_state = random_state

    def fit(self, X, y):
        y = np.asarray(y)
        cap = int(self.estimator.get_params()["n_estimators"])
        fit_rows, val_rows = (np.arange(len(y)), np.array([], dtype=int))
        if self.patience > 0:
            fit_rows, val_rows = validation_split(y, self.validation_fraction, self.random_state,
                                                  stratify=self._stratify,
                                                  time_ordered=self.time_ordered)
        self.stopped_ = self.patience > 0 and len(val_rows) >= self.min_validation
        if not self.stopped_:
            rounds = cap if self.patience <= 0 else min(cap, self.fallback_rounds)
            self.best_rounds_ = rounds
            self.estimator_ = clone(self.estimator).set_params(n_estimators=rounds,
                                                               early_stopping_rounds=None)
            self.estimator_.fit(X, y, verbose=False)
            return self
        probe = clone(self.estimator).set_params(early_stopping_rounds=int(self.patience))
        probe.fit(_rows(X, fit_rows), y[fit_rows],
                  eval_set=[(_rows(X, val_rows), y[val_rows])], verbose=False)
        self.best_rounds_ = int(probe.best_iteration) + 1
        if not self.refit:
            self.estimator_ = probe
            return self
        # all the rows want more rounds than the part that chose them: scale by their ratio
        # (Pima, Sonar, Housing under 10 x 3 CV: 0.757 -> 0.763, 0.851 -> 0.853, MAE 2.034 ->
        # 2.028 against the unscaled rounds; keeping the model of the part: 0.758, 0.835, 2.143)
        self.best_rounds_ = min(cap, max(1, int(round(self.best_rounds_ * len(y) / len(fit_rows)))))
        self.estimator_ = clone(self.estimator).set_params(n_estimators=self.best_rounds_,
                                                           early_stopping_rounds=None)
        self.estimator_.fit(X, y, verbose=False)
        return self

    def predict(self, X):
        return self.estimator_.predict(X)

    @property
    def feature_importances_(self):
        return self.estimator_.feature_importances_


class EarlyStoppingClassifier(ClassifierMixin, _EarlyStopping):
    """:class:`_EarlyStopping` for class codes 0..K-1 (a stratified validation split)."""

    _stratify = True

    def fit(self, X, y):
        self.classes_ = np.unique(np.asarray(y))
        return super().fit(X, y)

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)


class EarlyStoppingRegressor(RegressorMixin, _EarlyStopping):
    """:class:`_EarlyStopping` for numbers."""


class _ThreadLimited(BaseEstimator):
    """``estimator`` fitted and predicting on at most ``threads`` OpenMP threads (scikit-learn's
    histogram gradient boosting takes every core and has no ``n_jobs``: on 2 busy cores a Pima
    fold took 27 s, against 0.3 s on one thread)."""

    def __init__(self, estimator=None, *, threads: int = 1):
        self.estimator = estimator
        self.threads = threads

    def _limit(self):
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=max(1, int(self.threads)), user_api="openmp")

    def fit(self, X, y):
        with self._limit():
            self.estimator_ = clone(self.estimator).fit(X, y)
        return self

    def predict(self, X):
        with self._limit():
            return self.estimator_.predict(X)


class ThreadLimitedClassifier(ClassifierMixin, _ThreadLimited):
    def fit(self, X, y):
        super().fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X):
        with self._limit():
            return self.estimator_.predict_proba(X)


class ThreadLimitedRegressor(RegressorMixin, _ThreadLimited):
    pass


def check_xgboost(**params) -> None:
    """XGBoost's scikit-learn wrapper checks nothing until it trains: refuse unusable values
    at once, naming the parameter (scikit-learn's constraint vocabulary and messages)."""
    from numbers import Integral, Real

    from sklearn.utils._param_validation import Interval, validate_parameter_constraints

    constraints = {
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_depth": [Interval(Integral, 0, None, closed="left")],
        "subsample": [Interval(Real, 0, 1, closed="right")],
        "colsample_bytree": [Interval(Real, 0, 1, closed="right")],
        "min_child_weight": [Interval(Real, 0, None, closed="left")],
        "reg_lambda": [Interval(Real, 0, None, closed="left")],
        "early_stopping_rounds": [Interval(Integral, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "refit": ["boolean"],
    }
    validate_parameter_constraints({k: v for k, v in constraints.items() if k in params}, params,
                                   caller_name="XGBoost")
