"""The multilayer perceptron: Dense layers with ReLU, dropout and L2."""

from __future__ import annotations

from typing import Any

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
        dropout: float = 0.1,
        n_classes: int = 0,
        learning_rate: float = 3e-3,
        epochs: int = 300,
        batch_size: int = 64,
        patience: int = 20,
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

    def _build_body(self, inputs, keras):
        x = inputs
        for i, width in enumerate(self.hidden):
            x = keras.layers.Dense(
                int(width), activation="relu", kernel_regularizer=self._regularizer(keras), name=f"dense_{i}"
            )(x)
            if self.dropout:
                x = keras.layers.Dropout(self.dropout, seed=self.seed + i)(x)
        return x


class MLPClassifier(_MLPBody, KerasClassifierBase):
    pass


class MLPRegressor(_MLPBody, KerasRegressorBase):
    pass


def make_mlp(ctx: BuildContext, params: dict[str, Any]):
    if ctx.task == "classification":
        cls, extra = MLPClassifier, {"n_classes": ctx.n_classes}
    else:
        cls, extra = MLPRegressor, {}
    params = dict(params)
    if "hidden" in params:
        params["hidden"] = tuple(int(w) for w in params["hidden"])
    return cls(seed=ctx.seed, **extra, **params_for(cls, params))
