"""The classification metrics are NumPy formulas: they must equal scikit-learn's."""

import math

import numpy as np
import pytest
from sklearn import metrics as sk

from dlrun.evaluation.metrics import score_all


def _fold(rng, n, k, *, missing_class=False, ties=False):
    y = rng.integers(0, k, size=n)
    if missing_class:
        y[y == k - 1] = 0  # class k-1 absent from the true labels
    p = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, size=n))
    s = rng.random((n, k))
    if ties:
        s = np.round(s, 1)
    s = s / s.sum(axis=1, keepdims=True)
    return y, p, s


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("case", ["plain", "ties", "missing_class"])
def test_classification_metrics_equal_scikit_learn(k, case):
    rng = np.random.default_rng(k * 7 + len(case))
    for _ in range(5):
        y, p, s = _fold(rng, 60, k, missing_class=case == "missing_class", ties=case == "ties")
        ours = score_all("classification", y, p, s, k)
        assert ours["accuracy"] == pytest.approx(sk.accuracy_score(y, p))
        assert ours["balanced_accuracy"] == pytest.approx(sk.balanced_accuracy_score(y, p))
        present = np.unique(y)
        if len(present) < 2:
            auc = math.nan  # undefined (scikit-learn warns and returns nan)
        elif k == 2:
            auc = sk.roc_auc_score(y, s[:, 1])
        else:
            sub = s[:, present] / s[:, present].sum(axis=1, keepdims=True)
            if len(present) == 2:  # scikit-learn refuses "ovr" over two labels: it is binary
                auc = sk.roc_auc_score(y == present[1], sub[:, 1])
            else:
                auc = sk.roc_auc_score(y, sub, multi_class="ovr", labels=present)
        if k == 2:
            f1 = sk.f1_score(y, p, average="binary", pos_label=1, zero_division=0)
        else:
            f1 = sk.f1_score(y, p, average="macro", labels=list(range(k)), zero_division=0)
        assert ours["f1"] == pytest.approx(f1)
        assert ours["roc_auc"] == pytest.approx(auc, nan_ok=True)
        clipped = np.clip(s, 1e-15, 1.0)  # zeros (rounded scores) are clipped before the log
        clipped /= clipped.sum(axis=1, keepdims=True)
        assert ours["log_loss"] == pytest.approx(sk.log_loss(y, clipped, labels=list(range(k))))


def test_undefined_metrics_are_nan_or_zero():
    y = np.zeros(10, dtype=int)
    p = np.zeros(10, dtype=int)
    s = np.tile([0.8, 0.2], (10, 1))
    out = score_all("classification", y, p, s, 2)
    assert out["accuracy"] == 1.0 and out["balanced_accuracy"] == 1.0
    assert out["f1"] == 0.0  # no positive class anywhere: zero, as zero_division=0
    assert math.isnan(out["roc_auc"])  # one class only
    assert math.isnan(score_all("classification", y, p, None, 2)["log_loss"])
    decision = np.column_stack([-np.arange(10.0), np.arange(10.0)])  # not probabilities
    assert math.isnan(score_all("classification", y, p, decision, 2)["log_loss"])


def test_regression_metrics_equal_scikit_learn():
    rng = np.random.default_rng(3)
    y = rng.normal(size=50)
    p = y + rng.normal(scale=0.5, size=50)
    ours = score_all("regression", y, p, None, 0)
    assert ours["r2"] == pytest.approx(sk.r2_score(y, p))
    assert ours["mae"] == pytest.approx(sk.mean_absolute_error(y, p))
    assert ours["mse"] == pytest.approx(sk.mean_squared_error(y, p))
    assert ours["rmse"] == pytest.approx(np.sqrt(sk.mean_squared_error(y, p)))
    constant = np.full(5, 2.0)
    assert score_all("regression", constant, constant, None, 0)["r2"] == sk.r2_score(constant, constant)
    assert score_all("regression", constant, constant + 1, None, 0)["r2"] == sk.r2_score(constant, constant + 1)
