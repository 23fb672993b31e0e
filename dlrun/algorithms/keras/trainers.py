"""How dlrun's nets are trained: a small trainer interface and its two implementations.

A net (:class:`~dlrun.algorithms.keras.estimator.KerasEstimator`) names its trainer
in the class attribute ``trainer``. Its ``fit(X, y)`` is ``trainer.fit(net, X, y)``;
where the trainer trains several folds in one call (``trainer.many``), the net also
offers ``fit_many(Xs, ys)`` = ``trainer.fit_many(net, Xs, ys)``, which the evaluation
core uses to train the folds of one candidate together.

* :class:`CompiledLoop` (:data:`COMPILED_LOOP`) trains any Keras model the net builds
  (CNNs, LSTMs): its own loop, several epochs per ``tf.function`` call.
* :class:`StackedTrainer` (:data:`STACKED`) trains one MLP per fold, all folds in one
  compiled graph (:mod:`dlrun.algorithms.keras.stacked`); a plain ``fit`` is one fold.

Either way the fitted net holds the same record: ``curves_`` (per epoch: ``epoch``,
``loss``, ``val_loss``, ``val_metric``; with ``metric`` -- accuracy or MAE in the
target's units -- and ``has_val``: False when the training rows were too few to hold
out a validation part and the "validation" figures are on the training rows),
``epochs_trained_``, ``history_``, ``n_features_in_``, and ``classes_`` or
``y_mean_``/``y_scale_``. Early stopping validates on a split of the rows passed to
``fit`` (the net's ``_split_validation``) -- the caller's test fold is never seen.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.base import clone

from dlrun.algorithms.keras.backend import import_keras

EPOCHS_PER_CHUNK = 5


class Trainer:
    """Fits nets: ``fit(net, X, y)`` returns ``net`` fitted. A trainer with ``many``
    also has ``fit_many(net, Xs, ys)``: one fitted copy of ``net`` per (X, y), trained
    in one call; ``net`` itself is left as it was."""

    many = False  # trains several folds in one call

    def fit(self, net, X, y):  # pragma: no cover - abstract
        raise NotImplementedError

    def fit_many(self, net, Xs, ys, seeds=None) -> list[Any]:
        raise NotImplementedError(f"{type(self).__name__} trains one net at a time")


def training_curves(rows: np.ndarray, metric: str, has_val: bool,
                    metric_scale: float = 1.0) -> dict[str, Any]:
    """``curves_`` from one row per epoch: training loss, validation loss, validation metric."""
    rows = np.asarray(rows, dtype=float).reshape(-1, 3)
    return {
        "epoch": list(range(1, len(rows) + 1)),
        "loss": [float(v) for v in rows[:, 0]],
        "val_loss": [float(v) for v in rows[:, 1]],
        "val_metric": [float(v) * metric_scale for v in rows[:, 2]],
        "metric": metric,
        "has_val": bool(has_val),
    }


class CompiledLoop(Trainer):
    """The per-net loop: Adam on the model the net builds (``net._build_model``), a chunk
    of ``EPOCHS_PER_CHUNK`` epochs (shuffling and batching included) per call of one
    ``tf.function``, back in Python between chunks only to check early stopping; the
    best weights are restored at the end.

    Why not ``model.fit``: on this class of machine a small net spends ~90 ms per epoch
    in its per-epoch machinery while the arithmetic takes a few milliseconds (see
    shared/notes/keras-cpu-cost.md)."""

    def fit(self, net, X, y):
        keras = import_keras()
        import tensorflow as tf

        X = net._prepare_x(X)
        y_fit = net._fit_targets(np.asarray(y), net._output_width())
        if not net._classifier:
            y_fit = y_fit.reshape(-1, 1)

        keras.utils.set_random_seed(net.seed)
        x_tr, y_tr, x_val, y_val = net._split_validation(X, y_fit)
        model = net._build_model(X.shape[1:])
        optimizer = keras.optimizers.Adam(learning_rate=net.learning_rate)
        optimizer.build(model.trainable_variables)
        if net._classifier:
            loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        else:
            loss_fn = keras.losses.MeanSquaredError()

        n = len(x_tr)
        batch = int(min(net.batch_size, n))
        steps = int(np.ceil(n / batch))
        x_tr_t, y_tr_t = tf.constant(x_tr), tf.constant(y_tr)
        has_val = x_val is not None
        x_val_t = tf.constant(x_val if has_val else x_tr)
        y_val_t = tf.constant(y_val if has_val else y_tr)
        variables = model.trainable_variables

        classify = net._classifier
        y_scale = np.float32(getattr(net, "y_scale_", 1.0))

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
        history, chunks = [], []
        while done < net.epochs:
            chunk = min(EPOCHS_PER_CHUNK, net.epochs - done)
            rows = np.asarray(run_epochs(tf.constant(chunk)), dtype=float)
            chunks.append(rows)
            val_loss = float(rows[-1, 1])
            done += chunk
            history.append((done, val_loss))
            if not np.isfinite(val_loss):
                break
            if val_loss < best - 1e-6:
                best, best_weights, waited = val_loss, model.get_weights(), 0
            else:
                waited += chunk
                if waited >= net.patience:
                    break
        if best_weights is not None:
            model.set_weights(best_weights)
        net.model_ = model
        net.history_ = history
        # per-epoch curves for the report (val_* on the early-stopping split of the training data)
        net.curves_ = training_curves(np.concatenate(chunks) if chunks else np.zeros((0, 3)),
                                      net._metric_name(), has_val)
        net.epochs_trained_ = done
        net.n_features_in_ = X.shape[1] if X.ndim == 2 else int(np.prod(X.shape[1:]))
        return net


class StackedTrainer(Trainer):
    """Folds of one MLP trained together (:func:`dlrun.algorithms.keras.stacked.train_stacked`):
    each fold's copy gets its NumPy weights, its best epoch and its curves.

    The net provides ``_fit_inputs(X, y)`` (the fold's inputs as the net reads them, fitted
    on the fold's rows, and their :class:`~dlrun.algorithms.keras.stacked.Layout`),
    ``_graph_spec(outputs)`` (a :class:`~dlrun.algorithms.keras.stacked.GraphSpec`), optionally
    ``_batch(rows)`` (a fold's batch size for its number of training rows) and
    ``_set_fitted(fitted, spec)`` (keeps what it predicts from); see
    :mod:`dlrun.algorithms.keras.mlp` and :mod:`dlrun.algorithms.keras.table_mlp`.

    Each fold draws its random numbers from its own seed: ``seeds[i]`` when given, else a
    digest of the net's seed and the fold's rows (:func:`~dlrun.algorithms.keras.stacked.fold_seed`),
    so a fold's net is the same whether it trains alone or beside other folds."""

    many = True

    def fit(self, net, X, y):
        fitted = self.fit_many(net, [X], [y])[0]
        net.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
        return net

    def fit_many(self, net, Xs, ys, seeds=None) -> list[Any]:
        from dlrun.algorithms.keras.stacked import FoldData, fold_seed, train_stacked

        classification = net._classifier
        outputs = 1
        if classification:
            seen = max(int(np.max(y)) + 1 for y in ys)
            outputs = max(int(net.n_classes), seen, 2)
        if seeds is not None and len(seeds) != len(Xs):
            raise ValueError(f"{len(seeds)} seeds for {len(Xs)} folds")
        folds, copies = [], []
        for i, (X, y) in enumerate(zip(Xs, ys, strict=True)):
            est = clone(net)
            X = est._prepare_x(X)
            y_fit = est._fit_targets(np.asarray(y), outputs)
            seed = int(seeds[i]) if seeds is not None else fold_seed(net.seed, X, y_fit)
            est.n_features_in_ = X.shape[1]
            X, layout = est._fit_inputs(X, y_fit)
            x_tr, y_tr, x_val, y_val = est._split_validation(X, y_fit)
            batch = est._batch(len(x_tr)) if hasattr(est, "_batch") else None  # the fold's own
            folds.append(FoldData(x_tr, y_tr, x_val, y_val, layout, seed, batch))
            copies.append(est)
        spec = net._graph_spec(outputs)
        net.start_backend()  # TensorFlow's import is the process's start-up, not this fit's time
        start = time.perf_counter()
        nets = train_stacked(folds, spec)
        seconds = (time.perf_counter() - start) / len(copies)
        for est, fitted in zip(copies, nets, strict=True):
            est._set_fitted(fitted, spec)
            est.epochs_trained_ = fitted.epochs
            est.best_epoch_ = fitted.best_epoch
            est.history_ = [(fitted.best_epoch, fitted.best_val_loss)]
            est.curves_ = training_curves(fitted.curves, est._metric_name(), fitted.has_val,
                                          getattr(est, "y_scale_", 1.0))
            est.fit_seconds_ = seconds
        return copies


COMPILED_LOOP = CompiledLoop()
STACKED = StackedTrainer()
