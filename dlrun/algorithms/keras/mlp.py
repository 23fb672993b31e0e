"""The multilayer perceptron: Dense layers with ReLU, dropout and L2, Adam,
early stopping on a split of the training data passed to ``fit``.

Trained by the stacked trainer (:data:`~dlrun.algorithms.keras.trainers.STACKED`,
:mod:`dlrun.algorithms.keras.stacked`), which fits the folds of one candidate
together: the evaluation grid calls ``fit_many`` with every fold's training rows,
a plain ``fit`` is one fold. The fitted net is NumPy weights (``weights_``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlrun.algorithms.keras.estimator import KerasClassifierBase, KerasRegressorBase, params_for
from dlrun.algorithms.keras.params import TrainingParams
from dlrun.algorithms.keras.trainers import STACKED
from dlrun.catalogue import BuildContext


class _MLPBody:
    """The MLP's parameters, trainer and inference (mixed into its classifier and regressor)."""

    architecture = {"hidden": (64, 32), "dropout": 0.2}
    training = TrainingParams(learning_rate=1e-3, patience=30)
    trainer = STACKED

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
