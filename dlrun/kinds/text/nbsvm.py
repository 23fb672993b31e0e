"""NBSVM (Wang & Manning 2012, "Baselines and bigrams"): a linear SVM on features scaled
by naive-Bayes log-count ratios.

For a class c against the rest, with ``p = alpha + sum of the rows of c`` and
``q = alpha + sum of the other rows``, the ratio ``r = log((p / |p|_1) / (q / |q|_1))``
says how much more often a term occurs in c; the SVM (L2-regularised, squared hinge
loss: scikit-learn's ``LinearSVC``) is trained on ``X * r``. With ``interpolation``
beta < 1 the weights are pulled towards their mean magnitude, ``w' = (1 - beta) mean|w|
+ beta w`` (the paper's beta = 0.25 trusts naive Bayes more on short snippets; on full
reviews beta = 1, the plain SVM on scaled features, is as good). Two classes take one
model; more take one per class (one against the rest), the highest score winning.

The ratios are counted on the training rows passed to ``fit`` only. The fitted model
keeps ``coef_`` in the original feature space (``r * w'``), so ``X @ coef_.T +
intercept_`` is its decision function and ``coef_`` ranks the informative terms.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.metaestimators import available_if


def log_count_ratio(X, positive: np.ndarray, alpha: float) -> np.ndarray:
    """``r`` of the rows ``positive`` (boolean mask) against the others."""
    X = sp.csr_matrix(X) if not sp.issparse(X) else X
    p = np.asarray(X[positive].sum(axis=0), dtype=np.float64).ravel() + alpha
    q = np.asarray(X[~positive].sum(axis=0), dtype=np.float64).ravel() + alpha
    return np.log(p / p.sum()) - np.log(q / q.sum())


def _has_proba(model) -> bool:
    return model.loss == "logistic"


class NBSVMClassifier(ClassifierMixin, BaseEstimator):
    """See the module docstring. ``loss``: ``squared_hinge`` (the SVM) or ``logistic``
    (logistic regression on the same features; it gives class probabilities)."""

    def __init__(self, C: float = 1.0, alpha: float = 1.0, interpolation: float = 1.0,
                 loss: str = "squared_hinge", max_iter: int = 2000):
        self.C = C
        self.alpha = alpha
        self.interpolation = interpolation
        self.loss = loss
        self.max_iter = max_iter

    def _base(self):
        if self.loss == "squared_hinge":
            from sklearn.svm import LinearSVC

            return LinearSVC(C=self.C, max_iter=self.max_iter)
        if self.loss == "logistic":
            from sklearn.linear_model import LogisticRegression

            return LogisticRegression(C=self.C, max_iter=self.max_iter)
        raise ValueError(f"loss must be 'squared_hinge' or 'logistic', got {self.loss!r}")

    def fit(self, X, y):
        if not 0.0 <= float(self.interpolation) <= 1.0:
            raise ValueError(f"interpolation must be between 0 and 1, got {self.interpolation!r}")
        if float(self.alpha) <= 0:
            raise ValueError(f"alpha must be positive, got {self.alpha!r}")
        X = sp.csr_matrix(X, dtype=np.float64) if not sp.issparse(X) else X.tocsr().astype(np.float64)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError("NBSVM needs at least two classes in the training rows")
        targets = [self.classes_[1]] if len(self.classes_) == 2 else list(self.classes_)
        coefs, intercepts = [], []
        for target in targets:
            positive = y == target
            r = log_count_ratio(X, positive, float(self.alpha))
            model = self._base().fit(X @ sp.diags(r), positive.astype(int))
            w = np.asarray(model.coef_, dtype=np.float64).ravel()
            beta = float(self.interpolation)
            if beta < 1.0:
                w = (1.0 - beta) * np.abs(w).mean() + beta * w
            coefs.append(r * w)
            intercepts.append(float(np.ravel(model.intercept_)[0]))
        self.coef_ = np.vstack(coefs)
        self.intercept_ = np.asarray(intercepts)
        self.n_features_in_ = X.shape[1]
        return self

    def decision_function(self, X):
        scores = np.asarray(X @ self.coef_.T, dtype=np.float64) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    @available_if(_has_proba)
    def predict_proba(self, X):
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = 1.0 / (1.0 + np.exp(-scores))
            return np.column_stack([1.0 - p, p])
        scores = 1.0 / (1.0 + np.exp(-scores))  # one against the rest, normalised
        return scores / scores.sum(axis=1, keepdims=True)
