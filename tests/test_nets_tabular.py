"""The tabular MLP (``mlp`` on tables): inputs fitted on the training rows, BatchEnsemble
members, the objective chosen by the project's metric, regression targets standardised and
predictions clipped, the same scores from the same seed."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from dlrun.algorithms.keras import table_mlp
from dlrun.algorithms.keras.table_mlp import (
    CLIP_MARGIN,
    TabularMLPClassifier,
    TabularMLPRegressor,
    fit_inputs,
    transform_inputs,
)

#: small and quick, but the real design: embeddings, 4 members, AdamW, flat-then-cosine
SMALL = dict(hidden=(32, 32), members=4, epochs=30, patience=30, batch_size=64)


def separable(n: int, width: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, width))
    return X, (X[:, 0] - X[:, 1] > 0).astype(int)


def linear(n: int, seed: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, scale * (50 + 10 * X[:, 0] - 5 * X[:, 2] + rng.normal(scale=0.5, size=n))


# --------------------------------------------------------------------------- inputs


def mixed_table(n: int = 200, seed: int = 0) -> np.ndarray:
    """numeric, a 0/5 column, a 3-wide one-hot block, a 12-wide one-hot block, numeric."""
    rng = np.random.default_rng(seed)
    narrow = np.eye(3)[rng.integers(0, 3, n)]
    wide = np.eye(12)[np.arange(n) % 12]
    return np.column_stack([rng.normal(size=n) * 100 + 7, 5.0 * rng.integers(0, 2, n), narrow, wide,
                            rng.exponential(size=n)])


def test_inputs_are_read_by_kind_numeric_two_valued_and_one_hot_blocks():
    X = mixed_table()
    inputs = fit_inputs(X, max_one_hot=9)
    numeric = np.flatnonzero(inputs["numeric"])
    assert list(numeric) == [0, X.shape[1] - 1]
    assert inputs["binary"][1:-1].all()  # the 0/5 column and every one-hot column
    assert inputs["blocks"] == [list(range(5, 17))]  # only the wide block gets an embedding
    assert not inputs["raw"][5:17].any() and inputs["raw"][:5].all() and inputs["raw"][-1]
    Z = transform_inputs(inputs, X)
    np.testing.assert_array_equal(Z[:, 1], (X[:, 1] == 5).astype(np.float32))  # an indicator
    np.testing.assert_array_equal(Z[:, 2:17], X[:, 2:17])
    # numeric: robust-scaled (median 0), smoothly clipped below 3 in absolute value
    assert abs(np.median(Z[:, 0])) < 1e-6 and np.abs(Z[:, [0, -1]]).max() < 3.0
    outlier = transform_inputs(inputs, np.vstack([X[:1], X[:1]]) * [[1e6] + [1] * (X.shape[1] - 1)])
    assert 2.9 < abs(outlier[0, 0]) <= 3.0  # bounded, however far out
    # a wider max_one_hot keeps the 12 columns as they are
    assert fit_inputs(X, max_one_hot=12)["blocks"] == []
    # a standardized view's one-hot block is the same block
    standardized = (X - X.mean(axis=0)) / X.std(axis=0)
    assert fit_inputs(standardized, max_one_hot=9)["blocks"] == [list(range(5, 17))]


def test_scaling_is_fitted_on_the_training_rows_and_ignores_positive_affine_maps():
    X = mixed_table()
    a = np.array([3.0, 0.5] + [1.0] * 15 + [1e3])
    b = np.array([-40.0, 2.0] + [0.0] * 15 + [5.0])
    np.testing.assert_allclose(transform_inputs(fit_inputs(X * a + b, 9), X * a + b),
                               transform_inputs(fit_inputs(X, 9), X), atol=1e-5)
    # what is learned comes from the rows given (the training fold), nothing else
    first = fit_inputs(X[:100], 9)
    assert first["center"][0] == np.median(X[:100, 0]) != np.median(X[:, 0])
    q25, q75 = np.quantile(X[:100, -1], [0.25, 0.75])
    assert first["factor"][-1] == pytest.approx(1.0 / (q75 - q25))


# --------------------------------------------------------------------------- objective


@pytest.mark.parametrize("metric, smoothing", [("accuracy", 0.1), ("balanced_accuracy", 0.1), ("f1", 0.1),
                                               ("log_loss", 0.0), ("roc_auc", 0.0)])
def test_label_smoothing_only_when_the_metric_scores_labels(metric, smoothing):
    loss, smooth, selection = TabularMLPClassifier(metric=metric)._objective()
    assert (loss, smooth, selection) == ("crossentropy", smoothing, "loss")


@pytest.mark.parametrize("metric, loss", [("mae", "absolute"), ("rmse", "squared"), ("mse", "squared"),
                                          ("r2", "squared")])
def test_the_regression_loss_matches_the_metric(metric, loss):
    assert TabularMLPRegressor(metric=metric)._objective()[0] == loss
    assert TabularMLPRegressor(metric=metric, loss="huber")._objective()[0] == "huber"


@pytest.mark.parametrize("cls, name, value", [
    (TabularMLPClassifier, "embedding", "bogus"), (TabularMLPClassifier, "members", 0),
    (TabularMLPClassifier, "loss", "absolute"), (TabularMLPRegressor, "loss", "crossentropy"),
    (TabularMLPRegressor, "selection", "error"), (TabularMLPClassifier, "hidden", ()),
    (TabularMLPClassifier, "label_smoothing", 1.0), (TabularMLPRegressor, "learning_rate", 0.0),
    (TabularMLPRegressor, "batch_size", 0)])
def test_unusable_parameters_are_refused_by_name_when_the_net_is_built(cls, name, value):
    from dlrun.algorithms.keras.mlp import make_mlp
    from dlrun.catalogue import BuildContext

    task = "classification" if cls is TabularMLPClassifier else "regression"
    ctx = BuildContext(task=task, metric="accuracy" if task == "classification" else "mae", seed=1,
                       n_classes=2 if task == "classification" else 0)
    assert isinstance(make_mlp(cls, ctx, {}), cls)  # the defaults pass
    with pytest.raises(ValueError, match=f"^{name} must be"):
        make_mlp(cls, ctx, {name: value})
    X, y = separable(60, 3, 0)
    with pytest.raises(ValueError, match=f"^{name} must be"):  # and fit refuses them too
        cls(**{name: value}).fit(X, y)


# --------------------------------------------------------------------------- learning


def test_classifier_learns_and_averages_its_members_probabilities():
    X, y = separable(400, 5, 0)
    net = TabularMLPClassifier(n_classes=2, metric="accuracy", **SMALL).fit(X[:300], y[:300])
    assert np.mean(net.predict(X[300:]) == y[300:]) > 0.9
    members = net._members(X[300:])
    assert members.shape == (4, 100, 2)
    p = np.exp(members - members.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(net.predict_proba(X[300:]), (p / p.sum(-1, keepdims=True)).mean(0), rtol=1e-5)
    assert not np.allclose(members[0], members[1])  # the members differ
    assert 1 <= net.best_epoch_ <= net.epochs_trained_ <= 30


def test_regressor_learns_with_its_target_standardised_and_its_outputs_clipped():
    X, y = linear(400, 3)
    params = dict(SMALL, seed=2)
    net = TabularMLPRegressor(metric="mae", **params).fit(X[:300], y[:300])
    mae = np.mean(np.abs(net.predict(X[300:]) - y[300:]))
    assert mae < 0.25 * np.mean(np.abs(y[300:] - y[:300].mean()))
    assert net.y_mean_ == pytest.approx(y[:300].mean()) and net.y_scale_ == pytest.approx(y[:300].std())
    # far outside the training rows: no more than the margin beyond the training targets
    far = net.predict(np.array([[50.0, 0.0, -50.0], [-50.0, 0.0, 50.0]]))
    lo, hi = y[:300].min(), y[:300].max()
    margin = CLIP_MARGIN * (hi - lo)
    np.testing.assert_allclose(far, [hi + margin, lo - margin], rtol=1e-6)
    # the target's units do not change what is learned: same draws, scaled predictions
    scaled = TabularMLPRegressor(metric="mae", **params).fit(X[:300], 1000.0 * y[:300])
    np.testing.assert_allclose(scaled.predict(X[300:]), 1000.0 * net.predict(X[300:]), rtol=1e-3)


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_predictions_and_a_fold_is_its_own_whatever_the_stack():
    data = [separable(150 + 30 * s, 4, s) for s in range(3)]
    Xt, _ = separable(200, 4, 9)
    first = TabularMLPClassifier(n_classes=2, metric="accuracy", **SMALL).fit_many(*zip(*data, strict=True))
    again = TabularMLPClassifier(n_classes=2, metric="accuracy", **SMALL).fit_many(*zip(*data, strict=True))
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.predict_proba(Xt), b.predict_proba(Xt))
    # fold 1 trained alone draws the same numbers as fold 1 trained beside folds 0 and 2
    alone = TabularMLPClassifier(n_classes=2, metric="accuracy", **SMALL).fit(*data[1])
    np.testing.assert_allclose(alone.predict_proba(Xt), first[1].predict_proba(Xt), atol=2e-3)
    assert alone.best_epoch_ == first[1].best_epoch_
    # another seed is another net
    other = TabularMLPClassifier(n_classes=2, metric="accuracy", **dict(SMALL, seed=7)).fit(*data[1])
    assert not np.allclose(other.predict_proba(Xt), alone.predict_proba(Xt))


def test_a_fitted_net_is_numpy_and_reloads_from_a_model_file_predicting_the_same(tmp_path):
    from dlrun import modelfile

    X, y = separable(200, 4, 1)
    net = TabularMLPClassifier(n_classes=2, metric="log_loss", **SMALL).fit(X, y)
    again = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(again.predict_proba(X), net.predict_proba(X))
    arrays = [v for v in again.params_.values()]
    assert arrays and all(isinstance(v, np.ndarray) for v in arrays)
    # the portfolio's model file (skops, no pickle): the same predictions after loading
    modelfile.save_model(tmp_path, net, {"algorithm": "mlp"})
    loaded = modelfile.load_model(tmp_path)["pipeline"]
    assert type(loaded) is TabularMLPClassifier
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))


def test_wide_categoricals_get_a_learned_embedding_that_trains():
    # the label is carried by a 12-level categorical alone
    n = 480
    rng = np.random.default_rng(4)
    level = rng.integers(0, 12, n)
    X = np.column_stack([np.eye(12)[level], rng.normal(size=n)])
    y = (level % 3 == 0).astype(int)
    net = TabularMLPClassifier(n_classes=2, metric="accuracy", **SMALL).fit(X[:360], y[:360])
    assert "cat" in net.params_ and net.inputs_["blocks"] == [list(range(12))]
    assert np.mean(net.predict(X[360:]) == y[360:]) > 0.95


def test_the_module_keeps_tensorflow_out_of_prediction():
    assert "tensorflow" not in table_mlp.__dict__ and "tf" not in table_mlp.__dict__


def test_small_data_gets_batches_that_leave_at_least_four_steps_an_epoch():
    net = TabularMLPClassifier()
    assert net._batch(10_000) == 256 and net._batch(1024) == 256
    for rows in (130, 300, 491, 1000):
        size = net._batch(rows)
        assert size % 16 == 0 and 16 <= size < 256 and rows // size >= 4
    assert net._batch(20) == 16  # never below 16
    assert TabularMLPClassifier(batch_size=32)._batch(10_000) == 32
    # what the fold trains with is recorded with the net
    X, y = separable(200, 3, 0)
    fitted = TabularMLPClassifier(n_classes=2, **dict(SMALL, epochs=2)).fit(X, y)
    assert fitted.batch_size_ == 32  # 160 training rows after the validation split
