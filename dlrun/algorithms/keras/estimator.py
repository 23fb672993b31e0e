"""The scikit-learn contract for Keras nets, and the loop that trains them.

Why a loop of our own rather than ``model.fit``: on this class of machine a
small net spends ~90 ms per epoch in ``fit``'s per-epoch machinery while the
arithmetic takes a few milliseconds (see shared/notes/keras-cpu-cost.md). The
loop below runs a chunk of epochs inside one ``tf.function`` (shuffling and
batching included), and returns to Python only between chunks to check early
stopping. The validation split used for early stopping is carved out of the
training data passed to ``fit`` -- the caller's test fold is never seen.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

EPOCHS_PER_CHUNK = 5


def _keras():
    """Import Keras on TensorFlow, without TensorFlow's start-up chatter on stderr.

    TensorFlow's C++ runtime logs lines such as "Could not find cuda drivers"
    before its log level is read, so the environment cannot silence them; we
    point file descriptor 2 at /dev/null for the duration of the first import.
    Python exceptions are unaffected (they are raised after it is restored).
    """
    import sys

    if "keras" in sys.modules and "tensorflow" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved = None
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        saved = None
    try:
        import keras
        import tensorflow as tf  # noqa: F401
    finally:
        if saved is not None:
            os.dup2(saved, 2)
            os.close(saved)
    tf.get_logger().setLevel("ERROR")
    return keras


class KerasEstimator(BaseEstimator):
    """Base for dlrun's nets. Subclasses implement ``_build_body(inputs)``.

    Parameters are plain values so ``clone``/``get_params``/tuning work.
    ``n_classes`` fixes the output width for classification so every fold has
    the same output columns even when a class is absent from its training part.
    """

    _classifier = False  # predicts class labels (else numbers)
    _time_ordered = False  # rows are in time order: early stopping validates on the last ones

    def __init__(
        self,
        *,
        n_classes: int = 0,
        learning_rate: float = 3e-3,
        epochs: int = 300,
        batch_size: int = 64,
        patience: int = 20,
        validation_fraction: float = 0.15,
        l2: float = 1e-4,
        seed: int = 1,
    ):
        self.n_classes = n_classes
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.l2 = l2
        self.seed = seed

    # -- to be provided by each net ---------------------------------------------
    def _build_body(self, inputs, keras):  # pragma: no cover - abstract
        raise NotImplementedError

    def _prepare_x(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float32)

    # -- model -------------------------------------------------------------------
    def _output_width(self) -> int:
        return max(int(self.n_classes), 2) if self._classifier else 1

    def _build_model(self, input_shape):
        keras = _keras()
        inputs = keras.Input(shape=input_shape)
        body = self._build_body(inputs, keras)
        outputs = keras.layers.Dense(self._output_width(), name="output")(body)
        return keras.Model(inputs, outputs)

    def _regularizer(self, keras):
        return keras.regularizers.L2(self.l2) if self.l2 else None

    # -- training ----------------------------------------------------------------
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

    def fit(self, X, y):
        keras = _keras()
        import tensorflow as tf

        X = self._prepare_x(X)
        y = np.asarray(y)
        if self._classifier:
            self.classes_ = np.arange(self._output_width())
            y_fit = y.astype(np.int32)
        else:
            self.y_mean_ = float(np.mean(y))
            self.y_scale_ = float(np.std(y)) or 1.0
            y_fit = ((y - self.y_mean_) / self.y_scale_).astype(np.float32).reshape(-1, 1)

        keras.utils.set_random_seed(self.seed)
        x_tr, y_tr, x_val, y_val = self._split_validation(X, y_fit)
        model = self._build_model(X.shape[1:])
        optimizer = keras.optimizers.Adam(learning_rate=self.learning_rate)
        optimizer.build(model.trainable_variables)
        if self._classifier:
            loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        else:
            loss_fn = keras.losses.MeanSquaredError()

        n = len(x_tr)
        batch = int(min(self.batch_size, n))
        steps = int(np.ceil(n / batch))
        x_tr_t, y_tr_t = tf.constant(x_tr), tf.constant(y_tr)
        has_val = x_val is not None
        x_val_t = tf.constant(x_val if has_val else x_tr)
        y_val_t = tf.constant(y_val if has_val else y_tr)
        variables = model.trainable_variables

        classify = self._classifier
        y_scale = np.float32(getattr(self, "y_scale_", 1.0))

        def val_metric(y_true, pred):  # accuracy, or MAE in the target's units
            if classify:
                hits = tf.equal(tf.cast(tf.argmax(pred, axis=1), y_true.dtype), y_true)
                return tf.reduce_mean(tf.cast(hits, tf.float32))
            return tf.reduce_mean(tf.abs(pred - y_true)) * y_scale

        @tf.function(reduce_retracing=True)
        def run_epochs(n_epochs):
            # one row per epoch: mean training loss, validation loss, validation metric
            def one_epoch(epoch, rows):
                order = tf.random.shuffle(tf.range(n))
                total = tf.constant(0.0)
                for step in tf.range(steps):
                    idx = order[step * batch : tf.minimum((step + 1) * batch, n)]
                    xb, yb = tf.gather(x_tr_t, idx), tf.gather(y_tr_t, idx)
                    with tf.GradientTape() as tape:
                        pred = model(xb, training=True)
                        loss = loss_fn(yb, pred)
                        total += tf.cast(loss, tf.float32)
                        if model.losses:
                            loss = loss + tf.add_n(model.losses)
                    grads = tape.gradient(loss, variables)
                    optimizer.apply_gradients(zip(grads, variables, strict=False))
                val_pred = model(x_val_t, training=False)
                row = tf.stack([total / tf.cast(steps, tf.float32),
                                tf.cast(loss_fn(y_val_t, val_pred), tf.float32),
                                val_metric(y_val_t, val_pred)])
                return epoch + 1, rows.write(epoch, row)

            _, rows = tf.while_loop(
                lambda e, _: e < n_epochs, one_epoch,
                (tf.constant(0), tf.TensorArray(tf.float32, size=n_epochs)),
            )
            return rows.stack()

        best, best_weights, waited, done = np.inf, None, 0, 0
        history = []
        curves = {"epoch": [], "loss": [], "val_loss": [], "val_metric": []}
        while done < self.epochs:
            chunk = min(EPOCHS_PER_CHUNK, self.epochs - done)
            rows = np.asarray(run_epochs(tf.constant(chunk)), dtype=float)
            for i, (loss_i, val_i, metric_i) in enumerate(rows):
                for key, value in zip(curves, (done + i + 1, loss_i, val_i, metric_i), strict=True):
                    curves[key].append(float(value))
            val_loss = float(rows[-1, 1])
            done += chunk
            history.append((done, val_loss))
            if not np.isfinite(val_loss):
                break
            if val_loss < best - 1e-6:
                best, best_weights, waited = val_loss, model.get_weights(), 0
            else:
                waited += chunk
                if waited >= self.patience:
                    break
        if best_weights is not None:
            model.set_weights(best_weights)
        self.model_ = model
        self.history_ = history
        # per-epoch curves for the report (val_* on the early-stopping split of the training data)
        self.curves_ = {**curves, "metric": "accuracy" if classify else "mae", "has_val": has_val}
        self.epochs_trained_ = done
        self.n_features_in_ = X.shape[1] if X.ndim == 2 else int(np.prod(X.shape[1:]))
        return self

    def _raw_predict(self, X) -> np.ndarray:
        # A direct call per chunk: Keras's predict() builds (and retraces) a
        # tf.function for every new model, which costs more than it saves here.
        X = self._prepare_x(X)
        _keras()
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

    def predict_proba(self, X):
        logits = self._raw_predict(X)
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.classes_[np.argmax(self._raw_predict(X), axis=1)]


class KerasRegressorBase(RegressorMixin, KerasEstimator):
    _classifier = False

    def predict(self, X):
        return self._raw_predict(X).reshape(-1) * self.y_scale_ + self.y_mean_


def keras_to_bytes(model) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        with open(path, "rb") as fh:
            return fh.read()


def keras_from_bytes(data: bytes):
    keras = _keras()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        with open(path, "wb") as fh:
            fh.write(data)
        return keras.saving.load_model(path, compile=False)


def params_for(cls, params: dict[str, Any]) -> dict[str, Any]:
    """Keep the keys ``cls`` accepts (catalogue params may hold extras)."""
    accepted = set(cls._get_param_names())
    return {k: v for k, v in params.items() if k in accepted}
