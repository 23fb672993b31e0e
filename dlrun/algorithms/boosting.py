"""XGBoost, wrapped so a training fold that lacks a class still trains.

XGBoost insists on class codes 0..K-1 all present in ``y``; a rare class can be
absent from a training fold. :class:`LabelSafeClassifier` re-encodes the labels
present, and exposes them as ``classes_`` so scores line up with the global
class list.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone


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
    }
    validate_parameter_constraints({k: v for k, v in constraints.items() if k in params}, params,
                                   caller_name="XGBoost")
