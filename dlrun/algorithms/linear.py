"""Logistic regression with a solver that suits the data it is fitted on.

scikit-learn's default solver, lbfgs, needs scaled features: on Adult's raw
view (ages next to weights in the hundred thousands) it ran out of its 2,000
iterations, 5 s a fit, and stopped short of the optimum (accuracy 0.843 against
0.851 once converged). Newton's method with exact Hessians (``newton-cholesky``)
hardly minds the scale of the features and converged there in 7 iterations,
0.24 s (scikit-learn falls back to lbfgs itself when a Hessian is too
ill-conditioned to factorise). The Hessian holds (columns x classes)² numbers,
so wide data keeps lbfgs. Both minimise the same penalised loss, so where both
converge they agree (tests/test_linear.py).
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

#: Above this many coefficients (columns for two classes, columns x classes for
#: more) the Hessian is too costly and lbfgs is used.
NEWTON_MAX_COEFS = 1_000


class AdaptiveLogisticRegression(LogisticRegression):
    """``LogisticRegression`` that fits with ``newton-cholesky`` when the problem is
    narrow (see the module docstring) and ``solver`` is left at its default;
    ``solver_used_`` says which solver the fit used."""

    def solver_for(self, X, y) -> str:
        """The solver :meth:`fit` uses on this data."""
        if self.solver != "lbfgs":
            return self.solver
        n_classes = len(np.unique(y))
        coefs = X.shape[1] * (1 if n_classes <= 2 else n_classes)
        return "newton-cholesky" if coefs <= NEWTON_MAX_COEFS else "lbfgs"

    def fit(self, X, y, sample_weight=None):
        chosen = self.solver
        self.solver = self.solver_for(X, y)
        try:
            super().fit(X, y, sample_weight=sample_weight)
            self.solver_used_ = self.solver
        finally:
            self.solver = chosen  # get_params stays what the caller set
        return self
