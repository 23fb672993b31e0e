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

