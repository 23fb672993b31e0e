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

Two measured refinements (bench/run.py, Pima 30 folds: 4.6 s -> 2.3 s a candidate):
the step's cost grows with the number of folds in it, so once half the folds have
stopped the survivors continue without them (compaction); and the training state
(weights, Adam moments, early-stopping counters) travels as tensors, so the loop
is traced once per process and layer count, not once per candidate and view.
Adam is written out (Keras' update rule and defaults) because Keras' optimizer
keeps its moments in variables of a fixed shape, which compaction cannot shrink.
All random draws are stateless and seeded: the same call gives the same nets.
The loop also records each fold's curves (per epoch: mean training loss, validation
loss, validation metric) as one (F, 3) row per epoch, a few reductions beside the
step's matrix products.

A single fit (the final model) is the same code with F = 1. The trained weights
come back as NumPy arrays per fold: prediction is a few matrix products in
NumPy, and :func:`to_keras_model` turns them into a plain Keras ``Sequential``
for the native ``.keras`` file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dlrun.algorithms.keras.backend import tf_and_keras


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
    curves: np.ndarray | None = None  # (epochs, 3): training loss, validation loss, validation metric
    has_val: bool = True  # False: too few rows for a validation part, "validation" is on the training rows


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


# Compaction: once at most this share of the folds still trains, the finished
# ones are dropped from the stacked arrays (the cost of a step grows with the
# number of folds in it), unless too few remain for it to pay off.
COMPACT_SHARE = 0.5
COMPACT_MIN_FOLDS = 4
_ADAM = (0.9, 0.999, 1e-7)  # beta_1, beta_2, epsilon: Keras' Adam defaults
_SEGMENTS: dict = {}


def _segment_fn(tf, classification: bool, use_dropout: bool):
    """The compiled training loop, traced once per (task, dropout, layer count)
    and shape-generic, so every candidate and view of a run reuses it.

    State travels as tensors (weights, Adam moments, best weights, early-stopping
    counters) rather than variables: the fold axis can then shrink between
    calls without building a new graph."""
    key = (classification, use_dropout)
    if key in _SEGMENTS:
        return _SEGMENTS[key]
    beta_1, beta_2, eps = _ADAM

    def forward(params, x, rate, seed, training):
        h = x
        last = len(params) // 2 - 1
        for i in range(last + 1):
            h = tf.matmul(h, params[2 * i]) + params[2 * i + 1]
            if i < last:
                h = tf.nn.relu(h)
                if use_dropout and training:
                    h = tf.nn.experimental.stateless_dropout(h, rate, seed=seed + tf.constant([0, 1], tf.int64) * i)
        return h  # (F, rows, outputs)

    def per_row_loss(y, out):
        if classification:
            return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=out)
        return tf.square(out[..., 0] - y)

    def per_row_metric(y, out):  # accuracy, or absolute error (standardised units)
        if classification:
            return tf.cast(tf.equal(tf.argmax(out, axis=-1, output_type=y.dtype), y), tf.float32)
        return tf.abs(out[..., 0] - y)

    def masked_mean(values, mask):
        return tf.reduce_sum(values * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)

    @tf.function(reduce_retracing=True)
    def segment(params, moments, velocities, best_params, best, best_epoch, wait, active,
                data, epoch, step, max_epochs, stop_at, hyper):
        x_tr, y_tr, m_tr, x_va, y_va, m_va = data
        lr, l2, rate, patience, batch, seed = hyper
        batch = tf.cast(batch, tf.int32)
        patience = tf.cast(patience, tf.int32)
        n_max = tf.shape(x_tr)[1]
        steps = (n_max + batch - 1) // batch
        n_active = tf.reduce_sum(tf.cast(active, tf.int32))
        first_epoch = epoch
        # the curves: per epoch, per fold (training loss, validation loss, validation metric)
        curves = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        while epoch < max_epochs and n_active > stop_at:
            # a fresh shuffle per fold, real rows first (padding sorts last)
            keys = tf.random.stateless_uniform(tf.shape(m_tr), seed=tf.stack([seed, tf.cast(epoch, tf.int64)])) - 2.0 * m_tr
            order = tf.argsort(keys, axis=1)
            loss_sum = tf.zeros_like(m_tr[:, 0])  # per fold: batch losses, and batches with rows
            batches = tf.zeros_like(m_tr[:, 0])
            for s in tf.range(steps):
                idx = order[:, s * batch : (s + 1) * batch]
                xb = tf.gather(x_tr, idx, batch_dims=1)
                yb = tf.gather(y_tr, idx, batch_dims=1)
                mb = tf.gather(m_tr, idx, batch_dims=1)
                drop_seed = tf.stack([seed + 1, tf.cast(epoch, tf.int64) * 100_003 + tf.cast(s, tf.int64)])
                with tf.GradientTape() as tape:
                    tape.watch(params)
                    fold_loss = masked_mean(per_row_loss(yb, forward(params, xb, rate, drop_seed, True)), mb)
                    loss = tf.reduce_sum(fold_loss)
                    loss += l2 * tf.add_n([tf.reduce_sum(tf.square(k)) for k in params[0::2]])
                grads = tape.gradient(loss, params)
                loss_sum += fold_loss
                batches += tf.cast(tf.reduce_sum(mb, axis=1) > 0.0, tf.float32)
                step += 1
                t = tf.cast(step, tf.float32)
                lr_t = lr * tf.sqrt(1.0 - beta_2**t) / (1.0 - beta_1**t)
                moments = [beta_1 * m + (1.0 - beta_1) * g for m, g in zip(moments, grads, strict=True)]
                velocities = [beta_2 * v + (1.0 - beta_2) * tf.square(g) for v, g in zip(velocities, grads, strict=True)]
                params = [p - lr_t * m / (tf.sqrt(v) + eps) for p, m, v in zip(params, moments, velocities, strict=True)]
            out_va = forward(params, x_va, rate, None, False)
            val = masked_mean(per_row_loss(y_va, out_va), m_va)
            curves = curves.write(epoch - first_epoch, tf.stack(
                [loss_sum / tf.maximum(batches, 1.0), val, masked_mean(per_row_metric(y_va, out_va), m_va)],
                axis=1))
            improved = tf.logical_and(active, val < best - 1e-6)
            best = tf.where(improved, val, best)
            best_epoch = tf.where(improved, epoch + 1, best_epoch)
            keep = tf.reshape(improved, [-1, 1, 1])
            best_params = [tf.where(keep, p, b) for p, b in zip(params, best_params, strict=True)]
            wait = tf.where(improved, 0, wait + 1)
            active = tf.logical_and(active, wait < patience)
            n_active = tf.reduce_sum(tf.cast(active, tf.int32))
            epoch += 1
        return (params, moments, velocities, best_params, best, best_epoch, wait, active, epoch, step,
                curves.stack())

    _SEGMENTS[key] = segment
    return segment


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
    """Train one MLP per fold, all together; returns each fold's best weights.

    The loop runs in segments: when at most ``COMPACT_SHARE`` of the folds are
    still improving, the segment returns and the next one carries on with those
    folds only, so a late-stopping fold does not keep the finished ones computing.
    Each fold's curves (training loss, validation loss, validation metric per epoch)
    are recorded inside the loop and cut at the epoch where that fold stopped.
    """
    if int(epochs) < 1:
        raise ValueError(f"epochs must be at least 1, not {epochs}")
    tf, _ = tf_and_keras()
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
    data = [
        _pad([f.x_train.astype(np.float32) for f in folds], n_max, d),
        _pad([f.y_train.astype(y_dtype) for f in folds], n_max),
        _mask(n_tr, n_max),
        _pad([v.astype(np.float32) for v in val_x], v_max, d),
        _pad([v.astype(y_dtype) for v in val_y], v_max),
        _mask(n_val, v_max),
    ]

    # layers: stacked kernels (F, in, out), Glorot-uniform per fold
    sizes = [d, *[int(h) for h in hidden], outputs]
    rng = np.random.default_rng(seed)
    params = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        init = rng.uniform(-limit, limit, size=(F, fan_in, fan_out)).astype(np.float32)
        if i == 0:
            for f, width in enumerate(widths):  # padded input columns start (and stay) at zero
                init[f, width:, :] = 0.0
        params += [init, np.zeros((F, 1, fan_out), np.float32)]
    state = {
        "params": params,
        "moments": [np.zeros_like(p) for p in params],
        "velocities": [np.zeros_like(p) for p in params],
        "best_params": [p.copy() for p in params],
        "best": np.full(F, np.inf, np.float32),
        "best_epoch": np.zeros(F, np.int32),
        "wait": np.zeros(F, np.int32),
        "active": np.ones(F, bool),
    }
    hyper = [np.float32(learning_rate), np.float32(l2), np.float32(dropout),
             np.float32(patience), np.float32(max(1, min(batch_size, n_max))), np.int64(seed)]
    segment = _segment_fn(tf, classification, bool(dropout))
    names = list(state)
    epoch, step, remaining = 0, 0, np.arange(F)
    stopped = {}
    curves: list[list[np.ndarray]] = [[] for _ in range(F)]  # per fold: (epochs, 3) per segment
    while True:
        stop_at = int(len(remaining) * COMPACT_SHARE) if len(remaining) >= COMPACT_MIN_FOLDS else 0
        out = segment(*[state[n] for n in names], data, np.int32(epoch), np.int64(step),
                      np.int32(epochs), np.int32(stop_at), hyper)
        out = tf.nest.map_structure(lambda t: t.numpy(), out)
        state = dict(zip(names, out[:8], strict=True))
        epoch, step = int(out[8]), int(out[9])
        for i, f in enumerate(remaining):
            curves[f].append(out[10][:, i])
        done = ~state["active"] if epoch < epochs else np.ones(len(remaining), bool)
        for i in np.flatnonzero(done):
            best_epoch = int(state["best_epoch"][i])
            # a fold that ran out of patience stopped `patience` epochs after its best one
            last = epoch if state["active"][i] else min(epoch, best_epoch + int(patience))
            stopped[int(remaining[i])] = (last, [p[i] for p in state["best_params"]],
                                          best_epoch, float(state["best"][i]))
        if done.all():
            break
        keep = np.flatnonzero(~done)
        state = {n: ([p[keep] for p in v] if isinstance(v, list) else v[keep]) for n, v in state.items()}
        data = [a[keep] for a in data]
        remaining = remaining[keep]

    fitted = []
    for f in range(F):
        stopped_at, best_params, best_epoch, best_val = stopped[f]
        weights = []
        for i in range(len(best_params) // 2):
            kernel, bias = best_params[2 * i], best_params[2 * i + 1]
            weights.append(((kernel[: widths[f]] if i == 0 else kernel).copy(), bias[0].copy()))
        fitted.append(FittedNet(weights, stopped_at, best_epoch, best_val,
                                np.concatenate(curves[f])[:stopped_at], has_val))
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
    _, keras = tf_and_keras()
    layers = [keras.Input(shape=(weights[0][0].shape[0],))]
    for i, (kernel, _) in enumerate(weights):
        activation = "relu" if i < len(weights) - 1 else None
        layers.append(keras.layers.Dense(kernel.shape[1], activation=activation, name=f"dense_{i}"))
    model = keras.Sequential(layers)
    for layer, (kernel, bias) in zip(model.layers, weights, strict=True):
        layer.set_weights([kernel, bias])
    return model
