"""The saved form of an ensemble: several fitted models combined into one estimator.

Two ways of combining the members' outputs (class probabilities for
classification, predictions for numbers), one code path for the evaluation and
for the final model, so the saved ensemble predicts exactly as the leaderboard's
``ensemble`` and ``stack`` rows were scored (:mod:`dlrun.evaluation.ensembles`):

* ``average`` -- a weighted mean of the outputs (greedy ensemble selection with
  replacement, Caruana et al. 2004: the weights are how often each member was
  chosen);
* ``stack`` -- a linear model on the outputs: a logistic regression on the
  members' class probabilities (the probability of the second class alone
  when there are two), or a ridge regression on their predictions.

:class:`EnsembleModel` follows scikit-learn's contract: ``fit`` fits every
member (an unfitted estimator, e.g. a ``Pipeline`` of a view and a model) on
the same rows and returns ``self``; the weights or the linear model's
coefficients are given, chosen beforehand on out-of-fold predictions.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone

AVERAGE, STACK = "average", "stack"


def aligned_proba(model, X, n_classes: int) -> np.ndarray:
    """``model.predict_proba(X)`` with one column per class 0..K-1 (classes a member never
    saw get zero)."""
    proba = np.asarray(model.predict_proba(X), dtype=float)
    classes = np.asarray(getattr(model, "classes_", np.arange(proba.shape[1])), dtype=int)
    if proba.shape[1] == n_classes and np.array_equal(classes, np.arange(n_classes)):
        return proba
    full = np.zeros((proba.shape[0], n_classes))
    full[:, classes[: proba.shape[1]]] = proba
    return full


def average(outputs: np.ndarray, weights) -> np.ndarray:
    """Weighted mean over the first axis of ``outputs`` (members x rows [x classes])."""
    w = np.asarray(weights, dtype=float)
    return np.tensordot(w / w.sum(), np.asarray(outputs, dtype=float), axes=1)


def stack_features(outputs: np.ndarray, classification: bool) -> np.ndarray:
    """The stacker's inputs (rows x features) from the members' outputs: each member's
    class probabilities (only the second class's when there are two: the first adds nothing),
    or each member's prediction."""
    outputs = np.asarray(outputs, dtype=float)
    if not classification:
        return outputs.T
    if outputs.shape[2] == 2:
        return outputs[:, :, 1].T
    return np.concatenate(list(outputs), axis=1)


def stack_apply(features: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                classification: bool) -> np.ndarray:
    """The linear model's output: class probabilities (sigmoid for one row of coefficients,
    softmax for one per class) or predictions."""
    z = features @ np.asarray(coef, dtype=float).T + np.asarray(intercept, dtype=float)
    if not classification:
        return z.ravel() if z.ndim > 1 else z
    if z.shape[1] == 1:
        p = 1.0 / (1.0 + np.exp(-z[:, 0]))
        return np.column_stack([1.0 - p, p])
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_stacker(features: np.ndarray, y: np.ndarray, classification: bool, n_classes: int,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(coef, intercept)`` of the regularised linear model on ``features``: logistic
    regression (C = 1) for classes, ridge regression (penalty chosen by efficient
    leave-one-out on these rows alone) for numbers. Classes missing from ``y`` get a
    probability of (almost) zero."""
    if not classification:
        from sklearn.linear_model import RidgeCV

        model = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(features, y)
        return np.atleast_2d(model.coef_), np.atleast_1d(model.intercept_)
    from sklearn.linear_model import LogisticRegression

    present = np.unique(y).astype(int)
    if len(present) < 2:  # one class only: always it
        if n_classes == 2:
            return np.zeros((1, features.shape[1])), np.array([30.0 if present[0] == 1 else -30.0])
        intercept = np.full(n_classes, -30.0)
        intercept[present[0]] = 0.0
        return np.zeros((n_classes, features.shape[1])), intercept
    # two classes: Newton's method, a few exact steps on these few features (lbfgs took 6x as
    # long on Pima); more classes: lbfgs (a multinomial Hessian costs more than it saves)
    solver = "newton-cholesky" if len(present) == 2 else "lbfgs"
    model = LogisticRegression(C=1.0, solver=solver, max_iter=1000, random_state=seed).fit(features, y)
    if n_classes == 2:
        return model.coef_, model.intercept_
    coef = np.zeros((n_classes, features.shape[1]))
    intercept = np.full(n_classes, -30.0)  # a class the stacker never saw
    classes = np.asarray(model.classes_, dtype=int)
    if len(classes) == 2:  # two of several classes seen: one row of coefficients
        coef[classes[1]], intercept[classes[1]] = model.coef_[0], model.intercept_[0]
        intercept[classes[0]] = 0.0
    else:
        coef[classes], intercept[classes] = model.coef_, model.intercept_
    return coef, intercept


class EnsembleModel(BaseEstimator):
    """Members combined by ``method`` (``average`` with ``weights``, or ``stack`` with the
    linear model ``coef``/``intercept``). ``n_classes`` > 0 for classification: the
    members' class probabilities are combined and :meth:`predict` returns class codes."""

    def __init__(self, members=(), weights=(), method: str = AVERAGE, n_classes: int = 0,
                 coef=None, intercept=None, names=()):
        self.members = members
        self.weights = weights
        self.method = method
        self.n_classes = n_classes
        self.coef = coef
        self.intercept = intercept
        self.names = names

    def fit(self, X, y):
        if self.method not in (AVERAGE, STACK):
            raise ValueError(f"unknown ensemble method {self.method!r}")
        self.members_ = [clone(m).fit(X, y) for m in self.members]
        if self.n_classes:
            self.classes_ = np.arange(self.n_classes)
        return self

    @property
    def named_steps(self) -> dict:
        """Like a ``Pipeline``'s: the first member's view (how new inputs are read), and the
        ensemble itself as the model."""
        first = (getattr(self, "members_", None) or list(self.members) or [None])[0]
        view = getattr(first, "named_steps", {}).get("view")
        return {"view": view, "model": self}

    def _outputs(self, X) -> np.ndarray:
        if self.n_classes:
            return np.stack([aligned_proba(m, X, self.n_classes) for m in self.members_])
        return np.stack([np.asarray(m.predict(X), dtype=float).ravel() for m in self.members_])

    def _combined(self, X) -> np.ndarray:
        outputs = self._outputs(X)
        if self.method == STACK:
            return stack_apply(stack_features(outputs, bool(self.n_classes)), self.coef,
                               self.intercept, bool(self.n_classes))
        return average(outputs, self.weights)

    def predict_proba(self, X) -> np.ndarray:
        if not self.n_classes:
            raise AttributeError("a regression ensemble has no class probabilities")
        return self._combined(X)

    def predict(self, X) -> np.ndarray:
        combined = self._combined(X)
        if self.n_classes:
            return np.argmax(combined, axis=1)
        return combined
