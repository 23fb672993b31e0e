"""Train many small MLPs at once: one per fold, stacked in one compiled graph.

Why: a small Keras net on a few hundred rows spends almost all its time in
framework overhead (see shared/notes/keras-cpu-cost.md), whatever the arithmetic.
The folds of one candidate are independent fits of the same architecture on
data of (almost) the same shape, so we give every layer a leading "fold" axis --
kernels of shape (F, inputs, units) -- and train all F nets with batched matrix
products in a single ``tf.function`` that also runs the epochs, the shuffling,
the per-fold validation and the per-fold early stopping. The sum of the
per-fold losses has, for each fold's weights, exactly that fold's gradient, and
Adam and L2 act element-wise, so each fold trains as if alone (up to the random
draws). Rows are padded to the longest fold and masked out of every loss.

A single fit (the final model) is the same code with F = 1. The trained weights
come back as NumPy arrays per fold: prediction is a few matrix products in
NumPy, and :func:`to_keras_model` turns them into a plain Keras ``Sequential``
for the native ``.keras`` file.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

_CONFIGURED = False


def _tf_and_keras():
    global _CONFIGURED
    from dlrun.algorithms.keras.estimator import _keras

    keras = _keras()
    import tensorflow as tf

    if not _CONFIGURED:
        _CONFIGURED = True
        threads = os.environ.get("DLRUN_THREADS") or os.environ.get("OMP_NUM_THREADS")
        if threads and threads.isdigit():
            try:  # only possible before TensorFlow's runtime starts
                tf.config.threading.set_intra_op_parallelism_threads(int(threads))
                tf.config.threading.set_inter_op_parallelism_threads(1)
            except RuntimeError:
                pass
    return tf, keras


@dataclass
class FoldData:
    """One fold's training rows after its view: features, targets, validation part."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None


@dataclass
class FittedNet:
    weights: list[tuple[np.ndarray, np.ndarray]]  # (kernel, bias) per Dense layer
    epochs: int
    best_epoch: int
    best_val_loss: float


def _pad(arrays: list[np.ndarray], length: int, width: int | None = None) -> np.ndarray:
    first = arrays[0]
    shape = (len(arrays), length) + ((width,) if width is not None else first.shape[1:])
    out = np.zeros(shape, dtype=first.dtype)
    for i, a in enumerate(arrays):
        if width is not None:
            out[i, : len(a), : a.shape[1]] = a
        else:
            out[i, : len(a)] = a
    return out


def _mask(lengths: list[int], length: int) -> np.ndarray:
    return (np.arange(length)[None, :] < np.asarray(lengths)[:, None]).astype(np.float32)


def train_stacked(
    folds: list[FoldData],
    *,
    hidden: tuple[int, ...],
    outputs: int,
    classification: bool,
    dropout: float,
    l2: float,
    learning_rate: float,
    epochs: int,
    batch_size: int,
    patience: int,
    seed: int,
) -> list[FittedNet]:
    """Train one MLP per fold, all together; returns each fold's best weights."""
    tf, keras = _tf_and_keras()
    keras.utils.set_random_seed(seed)
    F = len(folds)
    widths = [f.x_train.shape[1] for f in folds]
    d = max(widths)
    n_tr = [len(f.x_train) for f in folds]
    has_val = all(f.x_val is not None and len(f.x_val) for f in folds)
    val_x = [f.x_val if has_val else f.x_train for f in folds]
    val_y = [f.y_val if has_val else f.y_train for f in folds]
    n_val = [len(v) for v in val_x]
    n_max, v_max = max(n_tr), max(n_val)

    y_dtype = np.int32 if classification else np.float32
    x_tr = tf.constant(_pad([f.x_train.astype(np.float32) for f in folds], n_max, d))
    y_tr = tf.constant(_pad([f.y_train.astype(y_dtype) for f in folds], n_max))
    m_tr = tf.constant(_mask(n_tr, n_max))
    x_va = tf.constant(_pad([v.astype(np.float32) for v in val_x], v_max, d))
    y_va = tf.constant(_pad([v.astype(y_dtype) for v in val_y], v_max))
    m_va = tf.constant(_mask(n_val, v_max))

    # layers: stacked kernels (F, in, out), Glorot-uniform per fold
    sizes = [d, *[int(h) for h in hidden], outputs]
    rng = np.random.default_rng(seed)
    kernels, biases = [], []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        init = rng.uniform(-limit, limit, size=(F, fan_in, fan_out)).astype(np.float32)
        for f, width in enumerate(widths):  # padded input columns start (and stay) at zero
            if i == 0:
                init[f, width:, :] = 0.0
        kernels.append(keras.Variable(init, name=f"kernel_{i}"))
        biases.append(keras.Variable(np.zeros((F, 1, fan_out), np.float32), name=f"bias_{i}"))
    variables = [v for pair in zip(kernels, biases, strict=True) for v in pair]
    best_vars = [tf.Variable(v.value, trainable=False) for v in variables]
    dropouts = [keras.layers.Dropout(dropout, seed=seed + i) for i in range(len(hidden))] if dropout else []
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    optimizer.build(variables)

    def forward(x, training):
        h = x
        last = len(kernels) - 1
        for i, (w, b) in enumerate(zip(kernels, biases, strict=True)):
            h = tf.matmul(h, w) + b
            if i < last:
                h = tf.nn.relu(h)
                if dropouts:
                    h = dropouts[i](h, training=training)
        return h  # (F, rows, outputs)

    def per_row_loss(y, out):
        if classification:
            return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=out)
        return tf.square(out[..., 0] - y)

    def masked_mean(values, mask):
        return tf.reduce_sum(values * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)

    batch = int(max(1, min(batch_size, n_max)))
    steps = int(math.ceil(n_max / batch))
    l2_weight = float(l2)

    @tf.function
    def train(max_epochs):
        best = tf.fill([F], np.float32(np.inf))
        best_epoch = tf.zeros([F], tf.int32)
        wait = tf.zeros([F], tf.int32)
        active = tf.ones([F], tf.bool)
        epoch = tf.constant(0)
        while epoch < max_epochs and tf.reduce_any(active):
            # a fresh shuffle per fold, real rows first (padding sorts last)
            keys = tf.random.uniform([F, n_max]) - 2.0 * m_tr
            order = tf.argsort(keys, axis=1)
            for step in tf.range(steps):
                idx = order[:, step * batch : (step + 1) * batch]
                xb = tf.gather(x_tr, idx, batch_dims=1)
                yb = tf.gather(y_tr, idx, batch_dims=1)
                mb = tf.gather(m_tr, idx, batch_dims=1)
                with tf.GradientTape() as tape:
                    loss = tf.reduce_sum(masked_mean(per_row_loss(yb, forward(xb, True)), mb))
                    if l2_weight:
                        loss += l2_weight * tf.add_n([tf.reduce_sum(tf.square(k)) for k in kernels])
                grads = tape.gradient(loss, variables)
                optimizer.apply_gradients(zip(grads, variables, strict=False))
            val = masked_mean(per_row_loss(y_va, forward(x_va, False)), m_va)
            improved = tf.logical_and(active, val < best - 1e-6)
            best = tf.where(improved, val, best)
            best_epoch = tf.where(improved, epoch + 1, best_epoch)
            for var, keep in zip(variables, best_vars, strict=False):
                keep.assign(tf.where(tf.reshape(improved, [F, 1, 1]), var, keep))
            wait = tf.where(improved, 0, wait + 1)
            active = tf.logical_and(active, wait < patience)
            epoch += 1
        return epoch, best, best_epoch

    epochs_run, best, best_epoch = train(tf.constant(int(epochs)))
    kernels_np = [k.numpy() for k in best_vars[0::2]]
    biases_np = [b.numpy() for b in best_vars[1::2]]
    fitted = []
    for f in range(F):
        weights = []
        for i, (k, b) in enumerate(zip(kernels_np, biases_np, strict=True)):
            kernel = k[f][: widths[f]] if i == 0 else k[f]
            weights.append((kernel.copy(), b[f, 0].copy()))
        fitted.append(FittedNet(weights, int(epochs_run), int(best_epoch.numpy()[f]),
                                float(best.numpy()[f])))
    return fitted


def forward_numpy(weights: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray) -> np.ndarray:
    h = np.asarray(X, dtype=np.float32)
    for i, (kernel, bias) in enumerate(weights):
        h = h @ kernel + bias
        if i < len(weights) - 1:
            np.maximum(h, 0.0, out=h)
    return h


def to_keras_model(weights: list[tuple[np.ndarray, np.ndarray]]):
    """The same net as a plain Keras Sequential (for the native .keras file)."""
    _, keras = _tf_and_keras()
    layers = [keras.Input(shape=(weights[0][0].shape[0],))]
    for i, (kernel, _) in enumerate(weights):
        activation = "relu" if i < len(weights) - 1 else None
        layers.append(keras.layers.Dense(kernel.shape[1], activation=activation, name=f"dense_{i}"))
    model = keras.Sequential(layers)
    for layer, (kernel, bias) in zip(model.layers, weights, strict=True):
        layer.set_weights([kernel, bias])
    return model
