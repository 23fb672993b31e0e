"""The stacked MLP trainer: folds train together yet each as if alone."""

from __future__ import annotations

import numpy as np
import pytest

from dlrun.algorithms.keras import stacked
from dlrun.algorithms.keras.mlp import MLPClassifier, MLPRegressor

SMALL = dict(hidden=(16,), dropout=0.1, learning_rate=0.01, epochs=60, batch_size=32, patience=5,
             validation_fraction=0.2, l2=1e-4)


def separable(n: int, width: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, width)).astype(np.float32)
    return X, (X[:, 0] - X[:, 1] > 0).astype(int)


def test_folds_of_different_sizes_and_widths_each_learn_their_own_problem():
    # fold 0 learns x0 - x1 > 0; fold 1 (wider, more rows) learns the opposite labels
    X0, y0 = separable(200, 3, 0)
    X1, y1 = separable(300, 5, 1)
    nets = MLPClassifier(n_classes=2, **SMALL).fit_many([X0, X1], [y0, 1 - y1])
    Xt, yt = separable(400, 5, 2)
    assert nets[0].n_features_in_ == 3 and nets[1].n_features_in_ == 5
    assert np.mean(nets[0].predict(Xt[:, :3]) == yt) > 0.9
    assert np.mean(nets[1].predict(Xt) == 1 - yt) > 0.9


def test_training_is_deterministic():
    data = [separable(150, 4, s) for s in range(3)]
    first = MLPClassifier(n_classes=2, **SMALL).fit_many([d[0] for d in data], [d[1] for d in data])
    again = MLPClassifier(n_classes=2, **SMALL).fit_many([d[0] for d in data], [d[1] for d in data])
    for a, b in zip(first, again, strict=True):
        for (ka, ba), (kb, bb) in zip(a.weights_, b.weights_, strict=True):
            np.testing.assert_array_equal(ka, kb)
            np.testing.assert_array_equal(ba, bb)


def test_finished_folds_are_dropped_and_each_stops_on_its_own_patience(monkeypatch):
    calls = []
    make = stacked._segment_fn

    def spy(*args):
        segment = make(*args)

        def run(*a):
            calls.append(a[0]["kernel_0"].shape[0])  # folds in this segment
            return segment(*a)
        return run

    monkeypatch.setattr(stacked, "_segment_fn", spy)
    rng = np.random.default_rng(0)
    # easy folds stop early; pure-noise folds keep "improving" on noise for a while
    Xs, ys = [], []
    for f in range(8):
        X, y = separable(120, 4, f)
        if f % 2:
            y = rng.integers(0, 2, size=len(y))
        Xs.append(X)
        ys.append(y)
    params = {**SMALL, "epochs": 80, "patience": 4}
    nets = MLPClassifier(n_classes=2, **params).fit_many(Xs, ys)
    assert calls[0] == 8 and len(calls) > 1 and calls == sorted(calls, reverse=True) and calls[-1] < 8
    for net in nets:
        assert 1 <= net.best_epoch_ <= net.epochs_trained_ <= 80
        if net.epochs_trained_ < 80:  # stopped early: exactly `patience` epochs after its best
            assert net.epochs_trained_ == net.best_epoch_ + 4
        # its curves: one row per epoch it trained, across the compacted segments
        curves = net.curves_
        assert curves["epoch"] == list(range(1, net.epochs_trained_ + 1))
        assert all(len(curves[k]) == net.epochs_trained_ for k in ("loss", "val_loss", "val_metric"))
        assert curves["metric"] == "accuracy" and curves["has_val"] is True
        best = curves["val_loss"][net.best_epoch_ - 1]
        assert best == net.history_[0][1] and min(curves["val_loss"]) >= best - 1e-6
        assert all(0.0 <= a <= 1.0 for a in curves["val_metric"]) and all(v > 0 for v in curves["loss"])
    assert len({net.epochs_trained_ for net in nets}) > 1


def test_regression_folds_and_single_fit_agree_with_the_data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3)).astype(np.float32)
    y = 50 + 10 * X[:, 0] - 5 * X[:, 2] + rng.normal(scale=0.5, size=300)
    model = MLPRegressor(**{**SMALL, "epochs": 150, "patience": 15}).fit(X[:240], y[:240])
    mae = np.mean(np.abs(model.predict(X[240:]) - y[240:]))
    assert mae < 0.25 * np.mean(np.abs(y[240:] - y[:240].mean()))  # far better than the mean


@pytest.mark.parametrize("share", [0.0, 0.5])
def test_compaction_keeps_the_results_valid(monkeypatch, share):
    monkeypatch.setattr(stacked, "COMPACT_SHARE", share)
    data = [separable(150, 4, s) for s in range(5)]
    nets = MLPClassifier(n_classes=2, **SMALL).fit_many([d[0] for d in data], [d[1] for d in data])
    Xt, yt = separable(300, 4, 9)
    assert all(np.mean(n.predict(Xt) == yt) > 0.9 for n in nets)
