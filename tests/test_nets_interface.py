"""The nets' shared contract: one declaration of the training parameters, a trainer per
net behind one small interface, training curves from every fit, no private imports."""

from __future__ import annotations

import ast
import inspect
import pickle
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
)

from dlrun.algorithms.keras import estimator as estimator_module
from dlrun.algorithms.keras.cnn import CNNClassifier
from dlrun.algorithms.keras.cnn1d import CNN1DRegressor
from dlrun.algorithms.keras.estimator import KerasEstimator, KerasRegressorBase, params_for
from dlrun.algorithms.keras.lstm import CNNLSTMRegressor, LSTMRegressor
from dlrun.algorithms.keras.mlp import MLPClassifier, MLPRegressor, SequenceMLPRegressor
from dlrun.algorithms.keras.params import TRAINING_NAMES, TrainingParams
from dlrun.algorithms.keras.table_mlp import TabularMLPClassifier, TabularMLPRegressor
from dlrun.algorithms.keras.trainers import COMPILED_LOOP, STACKED, Trainer
from dlrun.catalogue import MANAGED, signature_defaults

SHARED = ("n_classes", "learning_rate", "epochs", "batch_size", "patience", "validation_fraction",
          "l2", "seed")
MLP_TRAINING = dict(n_classes=0, learning_rate=1e-3, epochs=300, batch_size=64, patience=30,
                    validation_fraction=0.15, l2=1e-4, seed=1)
SEQUENCE_TRAINING = dict(n_classes=0, learning_rate=3e-3, epochs=300, batch_size=64, patience=20,
                         validation_fraction=0.15, l2=1e-4, seed=1)
TABULAR = dict(hidden=(128, 128), members=8, embedding="periodic", dropout=0.0, weight_decay=0.0,
               label_smoothing=0.1, loss="auto", selection="auto", max_one_hot=9, metric="")
def tabular_training(learning_rate: float) -> dict:
    return dict(n_classes=0, learning_rate=learning_rate, epochs=60, batch_size=256, patience=60,
                validation_fraction=0.2, l2=0.0, seed=1)


#: every net's parameters and defaults, in signature order: the catalogue shows and tunes these
DEFAULTS = {
    TabularMLPClassifier: dict(**{**TABULAR, "dropout": 0.15}, **tabular_training(2e-3)),
    TabularMLPRegressor: dict(**TABULAR, **tabular_training(5e-3)),
    MLPClassifier: dict(hidden=(64, 32), dropout=0.2, **MLP_TRAINING),
    MLPRegressor: dict(hidden=(64, 32), dropout=0.2, **MLP_TRAINING),
    SequenceMLPRegressor: dict(hidden=(64, 32), dropout=0.2, **MLP_TRAINING),
    CNNClassifier: dict(input_shape=None, filters=None, max_blocks=4, dense=64, dropout=0.25,
                        batch_norm=None, augment=None, n_classes=0, learning_rate=3e-3, epochs=100,
                        batch_size=128, patience=10, validation_fraction=0.15, l2=1e-4, seed=1),
    LSTMRegressor: dict(units=50, dense=0, dropout=0.0, n_channels=1, **SEQUENCE_TRAINING),
    CNNLSTMRegressor: dict(filters=32, kernel_size=3, units=50, dense=0, dropout=0.0, n_channels=1,
                           **SEQUENCE_TRAINING),
    CNN1DRegressor: dict(filters=64, kernel_size=3, dense=50, dropout=0.0, n_channels=1,
                         **SEQUENCE_TRAINING),
}
NETS = list(DEFAULTS)
STACKED_NETS = (MLPClassifier, MLPRegressor, SequenceMLPRegressor, TabularMLPClassifier, TabularMLPRegressor)


# --------------------------------------------------------------------------- one parameter set


def test_the_shared_training_parameters_are_declared_once():
    assert TRAINING_NAMES == SHARED
    for cls in NETS:
        for klass in cls.__mro__:  # no net lists a training parameter among its own
            assert not set(SHARED) & set(vars(klass).get("architecture", {})), klass
        # no hand-written __init__: each is generated from the declarations
        assert cls.__init__.__code__.co_filename == "<string>", cls


@pytest.mark.parametrize("cls", NETS, ids=lambda c: c.__name__)
def test_every_net_signature_lists_each_parameter_once_with_its_default(cls):
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert all(p.kind is p.KEYWORD_ONLY and p.default is not p.empty for p in params)
    assert {p.name: p.default for p in params} == DEFAULTS[cls]
    assert [p.name for p in params] == list(DEFAULTS[cls])  # architecture first, then training
    assert [p.name for p in params][-len(SHARED):] == list(SHARED)
    training = cls.training.defaults()
    assert {name: DEFAULTS[cls][name] for name in SHARED} == training
    # the catalogue reads the same signature, without what dlrun sets itself
    managed = MANAGED | set(getattr(cls, "_managed", ()))
    assert signature_defaults(cls) == {k: v for k, v in DEFAULTS[cls].items() if k not in managed}


@pytest.mark.parametrize("cls", NETS, ids=lambda c: c.__name__)
def test_get_params_clone_set_params_and_pickle_round_trip(cls):
    name = cls.__name__
    check_parameters_default_constructible(name, cls())
    check_no_attributes_set_in_init(name, cls())
    check_get_params_invariance(name, cls())

    changed = {"epochs": 7, "seed": 3, "learning_rate": 0.01, "patience": 2}
    first = next(iter(cls.architecture))
    changed[first] = (8, 4) if first == "hidden" else (8, 8, 1) if first == "input_shape" else 5
    net = cls(**changed)
    assert net.get_params() == {**DEFAULTS[cls], **changed}
    copy = clone(net)
    assert type(copy) is cls and copy is not net and copy.get_params() == net.get_params()
    assert copy.set_params(batch_size=16, dropout=0.3) is copy
    assert copy.get_params() == {**DEFAULTS[cls], **changed, "batch_size": 16, "dropout": 0.3}
    assert pickle.loads(pickle.dumps(copy)).get_params() == copy.get_params()
    assert params_for(cls, {**changed, "not_a_parameter": 1}) == changed
    with pytest.raises(TypeError):
        cls(not_a_parameter=1)
    with pytest.raises(TypeError):
        cls(5)  # keyword-only, as scikit-learn expects


def test_a_new_net_declares_only_its_own_parameters():
    class Tiny(KerasRegressorBase):
        architecture = {"width": 3}
        training = TrainingParams(epochs=2, patience=1)

    assert list(inspect.signature(Tiny.__init__).parameters)[1:] == ["width", *SHARED]
    assert Tiny().get_params() == {"width": 3, **TrainingParams(epochs=2, patience=1).defaults()}
    assert Tiny(width=5).width == 5 and Tiny.trainer is COMPILED_LOOP
    with pytest.raises(TypeError, match="training parameters"):
        class Clash(KerasRegressorBase):
            architecture = {"epochs": 3}
    with pytest.raises(TypeError):
        TrainingParams(epoch=3)  # a typo in an override is an error, not a silent new default


# --------------------------------------------------------------------------- trainers


def test_each_net_names_its_trainer_and_only_batch_trainers_offer_fit_many():
    for cls in NETS:
        stacked = cls in STACKED_NETS
        assert cls.trainer is (STACKED if stacked else COMPILED_LOOP)
        assert isinstance(cls.trainer, Trainer) and cls.trainer.many is stacked
        assert hasattr(cls(), "fit_many") is stacked  # what the evaluation core checks


def test_a_net_trains_through_its_trainer():
    calls = []

    class Recorder(Trainer):
        many = True

        def fit(self, net, X, y):
            calls.append(("fit", len(X)))
            net.curves_ = {"epoch": []}
            return net

        def fit_many(self, net, Xs, ys):
            calls.append(("fit_many", [len(X) for X in Xs]))
            return [self.fit(clone(net), X, y) for X, y in zip(Xs, ys, strict=True)]

    class Net(KerasRegressorBase):
        architecture = {"width": 3}
        trainer = Recorder()

    net = Net()
    assert net.fit(np.zeros((4, 2)), np.zeros(4)) is net
    fitted = net.fit_many([np.zeros((4, 2)), np.zeros((6, 2))], [np.zeros(4), np.zeros(6)])
    assert [type(f) for f in fitted] == [Net, Net] and all(f is not net for f in fitted)
    assert calls == [("fit", 4), ("fit_many", [4, 6]), ("fit", 4), ("fit", 6)]


def separable(n: int, width: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, width)).astype(np.float32)
    return X, (X[:, 0] - X[:, 1] > 0).astype(int)


def test_each_fold_of_fit_many_matches_a_separate_fit():
    # one fold: the same computation, bit for bit
    X, y = separable(160, 4, 0)
    params = dict(n_classes=2, hidden=(16,), dropout=0.1, learning_rate=0.01, epochs=40, patience=5)
    alone = MLPClassifier(**params).fit(X, y)
    (batched,) = MLPClassifier(**params).fit_many([X], [y])
    for (ka, ba), (kb, bb) in zip(alone.weights_, batched.weights_, strict=True):
        np.testing.assert_array_equal(ka, kb)
        np.testing.assert_array_equal(ba, bb)
    assert alone.curves_ == batched.curves_ and alone.epochs_trained_ == batched.epochs_trained_
    # several folds: each trains as if alone, up to the random draws (initial weights,
    # shuffles and dropout masks are drawn for the whole stack), so the fitted nets agree
    # on what they learned rather than bit for bit
    data = [separable(200 + 40 * s, 4, s) for s in range(3)]
    nets = MLPClassifier(**params).fit_many([d[0] for d in data], [d[1] for d in data])
    Xt, yt = separable(400, 4, 9)
    for net, (Xf, yf) in zip(nets, data, strict=True):
        single = MLPClassifier(**params).fit(Xf, yf)
        assert net.n_features_in_ == single.n_features_in_ == 4
        np.testing.assert_array_equal(net.classes_, single.classes_)
        assert [k.shape for k, _ in net.weights_] == [k.shape for k, _ in single.weights_]
        assert np.mean(net.predict(Xt) == single.predict(Xt)) > 0.95
        assert abs(np.mean(net.predict(Xt) == yt) - np.mean(single.predict(Xt) == yt)) < 0.05
        assert set(net.curves_) == set(single.curves_)


# --------------------------------------------------------------------------- curves


def sine_windows(window: int = 8, n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(n + window)
    s = (np.sin(t / 6.0) + 0.05 * np.random.default_rng(0).normal(size=len(t))).astype(np.float32)
    return np.stack([s[i : i + window] for i in range(n)]), s[window : window + n]


CURVE_CASES = {
    "cnn": (CNNClassifier, dict(input_shape=(8, 8, 1), n_classes=2, filters=4, dense=8), "accuracy"),
    "lstm": (LSTMRegressor, dict(units=4), "mae"),
    "cnn_lstm": (CNNLSTMRegressor, dict(filters=4, units=4), "mae"),
    "cnn1d": (CNN1DRegressor, dict(filters=4, dense=4), "mae"),
    "mlp": (MLPClassifier, dict(n_classes=2, hidden=(8,)), "accuracy"),
    "mlp_regressor": (MLPRegressor, dict(hidden=(8,)), "mae"),
    "sequence_mlp": (SequenceMLPRegressor, dict(hidden=(8,)), "mae"),
}


def case_data(cls):
    if cls is CNNClassifier:
        rng = np.random.default_rng(1)
        X = rng.random((48, 64)).astype(np.float32)
        return X, (X[:, :32].mean(axis=1) > X[:, 32:].mean(axis=1)).astype(int)
    if cls is MLPClassifier:
        return separable(80, 3, 1)
    return sine_windows()


def assert_curves(net, metric, has_val=True):
    curves = net.curves_
    assert isinstance(curves, dict)  # what the evaluation core stores with each fold
    assert curves["epoch"] == list(range(1, net.epochs_trained_ + 1))
    for key in ("loss", "val_loss", "val_metric"):
        assert len(curves[key]) == net.epochs_trained_
        assert all(isinstance(v, float) and np.isfinite(v) for v in curves[key])
    assert curves["metric"] == metric and curves["has_val"] is has_val


@pytest.mark.parametrize("case", list(CURVE_CASES))
def test_every_net_records_its_training_curves_and_keeps_them_in_a_pickle(case):
    cls, params, metric = CURVE_CASES[case]
    X, y = case_data(cls)
    net = cls(epochs=6, patience=100, **params).fit(X, y)
    assert net.epochs_trained_ == 6
    assert_curves(net, metric)
    again = pickle.loads(pickle.dumps(net))
    assert again.curves_ == net.curves_
    np.testing.assert_array_equal(again.predict(X[:10]), net.predict(X[:10]))
    if cls is MLPRegressor:  # the metric is in the target's units, as in the compiled loop
        scaled = cls(epochs=6, patience=100, **params).fit(X, 100 * y)
        np.testing.assert_allclose(scaled.curves_["val_metric"], 100 * np.asarray(net.curves_["val_metric"]),
                                   rtol=1e-4)


@pytest.mark.parametrize("cls, params", [(MLPRegressor, {"hidden": (4,)}),
                                         (CNN1DRegressor, {"filters": 4, "dense": 4})],
                         ids=["stacked", "compiled"])
def test_curves_say_when_no_validation_part_was_held_out(cls, params):
    X, y = sine_windows(n=30)
    net = cls(epochs=3, validation_fraction=0.0, **params).fit(X, y)
    assert_curves(net, "mae", has_val=False)


def test_every_fold_of_a_stacked_fit_records_its_curves():
    data = [separable(100 + 30 * s, 3, s) for s in range(5)]
    nets = MLPClassifier(n_classes=2, hidden=(8,), epochs=25, patience=3, learning_rate=0.02).fit_many(
        [d[0] for d in data], [d[1] for d in data])
    for net in nets:
        assert_curves(net, "accuracy")
        assert net.curves_["val_loss"][net.best_epoch_ - 1] == net.history_[0][1]
    # folds of different sizes learn differently: their curves are their own
    assert len({tuple(net.curves_["loss"]) for net in nets}) == len(nets)


# --------------------------------------------------------------------------- modules


def test_no_private_names_are_imported_between_the_net_modules():
    package = Path(estimator_module.__file__).parent
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dlrun"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports {private} from {node.module}"
    assert issubclass(MLPClassifier, KerasEstimator)
