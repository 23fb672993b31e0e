"""The `linear` classifier: Newton's method on narrow data, lbfgs on wide data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from dlrun.algorithms.linear import NEWTON_MAX_COEFS, AdaptiveLogisticRegression
from dlrun.catalogue import ALGORITHMS, BuildContext


def _penalised_loss(model, X, y) -> float:
    """What both solvers minimise: the summed log-loss plus ||w||² / (2C)."""
    p = np.clip(model.predict_proba(X)[np.arange(len(y)), np.searchsorted(model.classes_, y)], 1e-15, 1)
    return float(-np.log(p).sum() + (model.coef_ ** 2).sum() / (2 * model.C))


def _unscaled(n=3000, seed=0):
    X, y = make_classification(n_samples=n, n_features=12, n_informative=6, random_state=seed)
    X[:, :2] *= 1e5  # columns on very different scales, as in a raw view
    X[:, 2] = X[:, 2] * 10 + 40  # (Adult: weights in the 100,000s next to ages)
    return X, y


def test_newton_on_unscaled_data_converges_where_lbfgs_runs_out():
    X, y = _unscaled()
    adaptive = AdaptiveLogisticRegression(max_iter=200).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lbfgs = LogisticRegression(max_iter=200).fit(X, y)
    assert adaptive.solver_used_ == "newton-cholesky"
    assert adaptive.n_iter_[0] < 50
    assert lbfgs.n_iter_[0] == 200  # did not converge
    assert _penalised_loss(adaptive, X, y) < _penalised_loss(lbfgs, X, y) - 1.0


@pytest.mark.parametrize("n_classes", [2, 3])
def test_same_optimum_as_lbfgs_where_lbfgs_converges(n_classes):
    X, y = make_classification(n_samples=800, n_features=10, n_informative=5, n_classes=n_classes,
                               random_state=1)
    X = StandardScaler().fit_transform(X)
    adaptive = AdaptiveLogisticRegression(C=0.5).fit(X, y)
    plain = LogisticRegression(C=0.5, tol=1e-8, max_iter=5000).fit(X, y)
    assert adaptive.solver_used_ == "newton-cholesky"
    np.testing.assert_allclose(adaptive.coef_, plain.coef_, atol=1e-3)
    np.testing.assert_allclose(adaptive.predict_proba(X), plain.predict_proba(X), atol=1e-4)


def test_wide_data_keeps_lbfgs_and_classes_count():
    rng = np.random.default_rng(0)
    y2 = rng.integers(0, 2, 60)
    y4 = rng.integers(0, 4, 60)
    narrow = np.zeros((60, NEWTON_MAX_COEFS))
    model = AdaptiveLogisticRegression()
    assert model.solver_for(narrow, y2) == "newton-cholesky"  # 1,000 coefficients
    assert model.solver_for(narrow[:, : NEWTON_MAX_COEFS // 4], y4) == "newton-cholesky"
    assert model.solver_for(narrow[:, : NEWTON_MAX_COEFS // 4 + 1], y4) == "lbfgs"  # 4 x 251
    wide = rng.normal(size=(60, NEWTON_MAX_COEFS + 1))
    model.fit(wide, y2)
    assert model.solver_used_ == "lbfgs"
    assert AdaptiveLogisticRegression(solver="saga").solver_for(narrow, y2) == "saga"  # an explicit choice


def test_parameters_are_unchanged_by_fit_and_clone_works():
    X, y = _unscaled(500)
    model = AdaptiveLogisticRegression(C=2.0)
    model.fit(X, y)
    assert model.get_params()["solver"] == "lbfgs" and model.get_params()["C"] == 2.0
    again = clone(model)
    assert not hasattr(again, "solver_used_")
    assert again.fit(X, y).solver_used_ == "newton-cholesky"


def test_the_catalogue_builds_it_for_classification_and_ridge_for_regression():
    info = ALGORITHMS.get("linear")
    clf = info.make(BuildContext(task="classification", metric="accuracy", seed=1))
    reg = info.make(BuildContext(task="regression", metric="mae", seed=1))
    assert isinstance(clf, AdaptiveLogisticRegression) and clf.max_iter == 2000
    assert type(reg).__name__ == "Ridge"
    assert info.version >= 2  # results cached with the plain lbfgs model are redone
