"""The multilayer perceptron: Dense layers with ReLU, dropout and L2, Adam,
early stopping on a split of the training data passed to ``fit``.

Training goes through :mod:`dlrun.algorithms.keras.stacked`, which fits the
folds of one candidate together (``fit_many``); the evaluation grid calls
``fit_many`` with every fold's training rows, a plain ``fit`` is one fold.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.base import clone

from dlrun.algorithms.keras.estimator import (
    KerasClassifierBase,
    KerasEstimator,
    KerasRegressorBase,
    params_for,
)
from dlrun.catalogue import BuildContext


class _MLPBody:
    def __init__(
        self,
        *,
        hidden=(64, 32),
        dropout: float = 0.2,
        n_classes: int = 0,
        learning_rate: float = 1e-3,
        epochs: int = 300,
        batch_size: int = 64,
        patience: int = 30,
        validation_fraction: float = 0.15,
        l2: float = 1e-4,
        seed: int = 1,
    ):
        self.hidden = hidden
        self.dropout = dropout
        KerasEstimator.__init__(
            self,
            n_classes=n_classes,
            learning_rate=learning_rate,
            epochs=epochs,
            batch_size=batch_size,
            patience=patience,
            validation_fraction=validation_fraction,
            l2=l2,
            seed=seed,
        )

    # -- training --------------------------------------------------------------
    def fit(self, X, y):
        fitted = self.fit_many([X], [y])[0]
        self.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
        return self

    def fit_many(self, Xs, ys) -> list[Any]:
        """Fit one copy of this net per (X, y) pair, all in one compiled loop."""
        from dlrun.algorithms.keras.stacked import FoldData, train_stacked

        classification = self._classifier
        outputs = 1
        if classification:
            seen = max(int(np.max(y)) + 1 for y in ys)
            outputs = max(int(self.n_classes), seen, 2)
        folds, copies = [], []
        for X, y in zip(Xs, ys, strict=True):
            est = clone(self)
            X = est._prepare_x(X)
            y = np.asarray(y)
            if classification:
                est.classes_ = np.arange(outputs)
                y_fit = y.astype(np.int32)
            else:
                est.y_mean_ = float(np.mean(y))
                est.y_scale_ = float(np.std(y)) or 1.0
                y_fit = ((y - est.y_mean_) / est.y_scale_).astype(np.float32)
            x_tr, y_tr, x_val, y_val = est._split_validation(X, y_fit)
            folds.append(FoldData(x_tr, y_tr, x_val, y_val))
            est.n_features_in_ = X.shape[1]
            copies.append(est)
        start = time.perf_counter()
        nets = train_stacked(
            folds,
            hidden=tuple(int(h) for h in self.hidden),
            outputs=outputs,
            classification=classification,
            dropout=float(self.dropout or 0.0),
            l2=float(self.l2 or 0.0),
            learning_rate=float(self.learning_rate),
            epochs=int(self.epochs),
            batch_size=int(self.batch_size),
            patience=int(self.patience),
            seed=int(self.seed),
        )
        seconds = (time.perf_counter() - start) / len(copies)
        for est, net in zip(copies, nets, strict=True):
            est.weights_ = net.weights
            est.epochs_trained_ = net.epochs
            est.best_epoch_ = net.best_epoch
            est.history_ = [(net.best_epoch, net.best_val_loss)]
            est.fit_seconds_ = seconds
        return copies

    # -- inference and saving --------------------------------------------------
    def _raw_predict(self, X) -> np.ndarray:
        from dlrun.algorithms.keras.stacked import forward_numpy

        return forward_numpy(self.weights_, self._prepare_x(X))

    @property
    def model_(self):
        """The fitted net as a Keras model (built on demand)."""
        from dlrun.algorithms.keras.stacked import to_keras_model

        return to_keras_model(self.weights_)

    def save_native(self, path) -> None:
        self.model_.save(str(path))

    def __getstate__(self):
        return self.__dict__.copy()  # NumPy weights: no TensorFlow needed to load or predict

    def __setstate__(self, state):
        self.__dict__.update(state)


class MLPClassifier(_MLPBody, KerasClassifierBase):
    pass


class MLPRegressor(_MLPBody, KerasRegressorBase):
    pass


class SequenceMLPRegressor(MLPRegressor):
    """The MLP on flat lag windows (time-ordered rows): early stopping validates on the
    latest windows, never on a shuffled split."""

    _time_ordered = True


def make_mlp(cls, ctx: BuildContext, params: dict[str, Any]):
    """An MLP of class ``cls`` (see dlrun.algorithms.builtin) with ``params``."""
    extra = {"n_classes": ctx.n_classes} if ctx.classification else {}
    params = dict(params)
    if "hidden" in params:
        params["hidden"] = tuple(int(w) for w in params["hidden"])
    return cls(seed=ctx.seed, **extra, **params_for(cls, params))
