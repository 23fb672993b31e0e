"""The basic multilayer perceptron (``mlp_basic``; the ``mlp`` of lag windows and term
weights): Dense layers with ReLU, dropout and L2, Adam, early stopping on a split of the
training data passed to ``fit``.

Trained by the stacked trainer (:data:`~dlrun.algorithms.keras.trainers.STACKED`,
:mod:`dlrun.algorithms.keras.stacked`), which fits the folds of one candidate
together: the evaluation grid calls ``fit_many`` with every fold's training rows,
a plain ``fit`` is one fold. The fitted net is NumPy weights (``weights_``: a
(kernel, bias) pair per Dense layer).

The tabular ``mlp`` (embeddings, BatchEnsemble members, AdamW, a schedule) is
:mod:`dlrun.algorithms.keras.table_mlp`, trained by the same trainer.
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

    # -- what the stacked trainer asks of a net ----------------------------------
    def _fit_inputs(self, X: np.ndarray, y: np.ndarray):
        """The fold's inputs as the net reads them, and their layout (None: all raw)."""
        return X, None

    def _graph_spec(self, outputs: int):
        from dlrun.algorithms.keras.stacked import GraphSpec

        return GraphSpec(
            hidden=tuple(int(h) for h in self.hidden), outputs=outputs,
            classification=self._classifier, dropout=float(self.dropout or 0.0),
            loss="crossentropy" if self._classifier else "squared", selection="loss",
            learning_rate=float(self.learning_rate), l2=float(self.l2 or 0.0),
            epochs=int(self.epochs), batch_size=int(self.batch_size), patience=int(self.patience),
            init="glorot", beta_2=0.999, epsilon=1e-7,
        )

    def _set_fitted(self, fitted, spec) -> None:
        from dlrun.algorithms.keras.stacked import basic_weights

        self.weights_ = basic_weights(fitted)

    # -- inference and saving --------------------------------------------------
    def _raw_predict(self, X) -> np.ndarray:
        from dlrun.algorithms.keras.stacked import basic_forward

        return basic_forward(self.weights_, self._prepare_x(X))

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
    if "metric" in cls._get_param_names():
        extra["metric"] = ctx.metric
    params = dict(params)
    if "hidden" in params:
        params["hidden"] = tuple(int(w) for w in params["hidden"])
    net = cls(seed=ctx.seed, **extra, **params_for(cls, params))
    check = getattr(net, "check_params", None)
    if check is not None:  # refuse unusable values when the net is built, not when it trains
        check()
    return net
