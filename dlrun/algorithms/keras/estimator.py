"""The scikit-learn contract for Keras nets.

A net subclasses :class:`KerasClassifierBase` or :class:`KerasRegressorBase` and
declares only what is its own: ``architecture`` (its parameters and defaults),
``training`` (the shared training parameters, :class:`~.params.TrainingParams`,
with the defaults it changes), ``trainer`` (how it is fitted, see
:mod:`~dlrun.algorithms.keras.trainers`) and, for the compiled loop,
``_build_body(inputs, keras)``. Its ``__init__`` is written from the two parameter
declarations (:func:`~.params.install_init`), so ``get_params``/``clone``/tuning
work and the signature stays the one source of defaults.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.metaestimators import available_if

from dlrun.algorithms.keras.backend import import_keras
from dlrun.algorithms.keras.blocks import l2_penalty
from dlrun.algorithms.keras.params import TrainingParams, install_init
from dlrun.algorithms.keras.trainers import COMPILED_LOOP, Trainer

_keras = import_keras  # the name the rest of dlrun has used


def _trains_many(net) -> bool:
    return net.trainer.many


class KerasEstimator(BaseEstimator):
    """Base for dlrun's nets (see the module's docstring for what a net declares).

    ``n_classes`` fixes the output width for classification so every fold has
    the same output columns even when a class is absent from its training part.
    """

    _classifier = False  # predicts class labels (else numbers)
    _time_ordered = False  # rows are in time order: early stopping validates on the last ones
    architecture: dict[str, Any] = {}  # the net's own parameters -> defaults
    training = TrainingParams()  # the shared training parameters' defaults for this net
    trainer: Trainer = COMPILED_LOOP

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        install_init(cls)

    # -- to be provided by each net trained by the compiled loop ---------------------
    def _build_body(self, inputs, keras):  # pragma: no cover - abstract
        raise NotImplementedError

    def _prepare_x(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float32)

    # -- training: the trainer's --------------------------------------------------
    def start_backend(self) -> None:
        """Import and configure TensorFlow. It is the process's start-up, paid once whatever
        fits next, so the evaluation calls this before it starts a fit's clock."""
        from dlrun.algorithms.keras.backend import tf_and_keras

        tf_and_keras()

    def fit(self, X, y):
        return self.trainer.fit(self, X, y)

    @available_if(_trains_many)
    def fit_many(self, Xs, ys, seeds=None) -> list[Any]:
        """One fitted copy of this net per (X, y) pair, all trained in one call; ``seeds``
        (one per pair, optional) seed each fold's random draws (default: from the net's
        seed and the fold's rows)."""
        if seeds is None:
            return self.trainer.fit_many(self, Xs, ys)
        return self.trainer.fit_many(self, Xs, ys, seeds=seeds)

    # -- model -------------------------------------------------------------------
    def _output_width(self) -> int:
        return max(int(self.n_classes), 2) if self._classifier else 1

    def _build_model(self, input_shape):
        keras = import_keras()
        inputs = keras.Input(shape=input_shape)
        body = self._build_body(inputs, keras)
        outputs = keras.layers.Dense(self._output_width(), name="output")(body)
        return keras.Model(inputs, outputs)

    def _regularizer(self, keras):
        return l2_penalty(self.l2, keras)

    # -- data for the trainers ----------------------------------------------------
    def _fit_targets(self, y: np.ndarray, outputs: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError  # class codes or standardised numbers, see the subclasses

    def _metric_name(self) -> str:
        return "accuracy" if self._classifier else "mae"

    def _split_validation(self, X, y):
        n = len(X)
        n_val = int(round(n * self.validation_fraction))
        if self.validation_fraction <= 0 or n_val < 2 or n - n_val < 2:
            return X, y, None, None
        if self._time_ordered:  # time series: validate on the latest rows, never a shuffle
            return X[: n - n_val], y[: n - n_val], X[n - n_val :], y[n - n_val :]
        from sklearn.model_selection import train_test_split

        stratify = None
        if self._classifier:
            _, counts = np.unique(y, return_counts=True)
            if counts.min() >= 2 and n_val >= len(counts):
                stratify = y
        x_tr, x_val, y_tr, y_val = train_test_split(
            X, y, test_size=n_val, random_state=self.seed, stratify=stratify
        )
        return x_tr, y_tr, x_val, y_val

    def _raw_predict(self, X) -> np.ndarray:
        # A direct call per chunk: Keras's predict() builds (and retraces) a
        # tf.function for every new model, which costs more than it saves here.
        X = self._prepare_x(X)
        import_keras()
        chunks = [np.asarray(self.model_(X[i : i + 8192], training=False))
                  for i in range(0, len(X), 8192)]
        return np.concatenate(chunks) if chunks else np.zeros((0, self._output_width()))

    # -- persistence: the net travels in Keras's native format -------------------
    def __getstate__(self):
        state = self.__dict__.copy()
        model = state.pop("model_", None)
        if model is not None:
            state["_keras_bytes"] = keras_to_bytes(model)
        return state

    def __setstate__(self, state):
        data = state.pop("_keras_bytes", None)
        self.__dict__.update(state)
        if data is not None:
            self.model_ = keras_from_bytes(data)

    def save_native(self, path) -> None:
        """Write the fitted net alone as a ``.keras`` file."""
        self.model_.save(str(path))


class KerasClassifierBase(ClassifierMixin, KerasEstimator):
    _classifier = True

    def _fit_targets(self, y, outputs):
        self.classes_ = np.arange(outputs)
        return y.astype(np.int32)

    def predict_proba(self, X):
        logits = self._raw_predict(X)
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.classes_[np.argmax(self._raw_predict(X), axis=1)]


class KerasRegressorBase(RegressorMixin, KerasEstimator):
    _classifier = False

    def _fit_targets(self, y, outputs):
        self.y_mean_ = float(np.mean(y))
        self.y_scale_ = float(np.std(y)) or 1.0
        return ((y - self.y_mean_) / self.y_scale_).astype(np.float32)

    def predict(self, X):
        return self._raw_predict(X).reshape(-1) * self.y_scale_ + self.y_mean_


def keras_to_bytes(model) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        with open(path, "rb") as fh:
            return fh.read()


def keras_from_bytes(data: bytes):
    keras = import_keras()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        with open(path, "wb") as fh:
            fh.write(data)
        return keras.saving.load_model(path, compile=False)


def params_for(cls, params: dict[str, Any]) -> dict[str, Any]:
    """Keep the keys ``cls`` accepts (catalogue params may hold extras)."""
    accepted = set(cls._get_param_names())
    return {k: v for k, v in params.items() if k in accepted}


install_init(KerasEstimator)
