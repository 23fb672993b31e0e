"""Train many small MLPs at once: one per fold, stacked in one compiled graph.

Why: a small Keras net on a few hundred rows spends almost all its time in
framework overhead (see shared/notes/keras-cpu-cost.md), whatever the arithmetic.
The folds of one candidate are independent fits of the same architecture on
data of (almost) the same shape, so we give every parameter a leading "fold" axis --
kernels of shape (F, inputs, units) -- and train all F nets with batched matrix
products in a single ``tf.function`` that also runs the epochs, the shuffling,
the per-fold validation, best-epoch restore and early stopping. The sum of the
per-fold losses has, for each fold's weights, exactly that fold's gradient, and
the optimizer acts element-wise, so each fold trains as if alone. Rows are padded
to the longest fold and masked out of every loss.

**Every fold's run is its own.** It trains with its own batch size
(:attr:`FoldData.batch`; a step gathers each fold's own batch, padded to the widest and
masked), and its random draws (initial weights, shuffles, dropout masks) come from its
own seed (:attr:`FoldData.seed`: by default a digest of the net's seed and the fold's
rows, see :func:`fold_seed`) through a counter-based
hash of (seed, epoch or step, row, unit) -- never from the shape of the stack; a step
whose batch holds none of a fold's rows (a short fold beside a longer one) leaves that
fold's weights, moments and step count untouched. So a fold trained alone, or in a
group of 10 or 30 folds, follows the same path (up to the last bits of the batched
arithmetic).

**One loop, two nets** (:class:`GraphSpec` says which parts a net uses):

* the basic MLP (``mlp_basic``): Dense-ReLU layers with dropout, Adam with an L2
  penalty in the loss, constant learning rate, early stopping on patience;
* the tabular MLP (``mlp``, :mod:`dlrun.algorithms.keras.table_mlp`): periodic embeddings
  of the numeric inputs (``cos(2 pi w x + b)`` per column, a per-column linear map, the
  input itself beside them), learned embeddings of wide one-hot blocks, ``members`` >
  1 BatchEnsemble members (TabM-mini: one random-sign input scaling per member, shared
  hidden layers, one output head per member; trained on the mean of the members'
  losses, their predictions averaged), label smoothing, AdamW (decoupled weight decay),
  a flat-then-cosine schedule, best-epoch restore on the metric the project ranks by.

Validation, best-epoch restore and patience are per epoch, per fold. Two measured
refinements (Pima 30 folds: 4.6 s -> 2.3 s a candidate for the basic MLP): once half
the folds have stopped the survivors continue without them (compaction); and the
training state travels as tensors, so the loop is traced once per process and
structure, not once per candidate and view. The optimizers are written out because
Keras' optimizer keeps its moments in variables of a fixed shape, which compaction
cannot shrink. Their update, and the dropout masks, are each one XLA-compiled
computation (``jit_compile``): op by op, their dozens of element-wise passes over every
parameter (or every hidden unit) of the stack cost more than the matrix products
(wheat-seeds, 60 folds with dropout: 0.29 s -> 0.16 s a fold once compiled). The loop
also records each fold's curves (per epoch: mean training loss, validation loss,
validation metric).

A single fit (the final model) is the same code with F = 1. The trained weights
come back as NumPy arrays per fold: prediction is a few array operations in NumPy
(:func:`forward_numpy`), and :func:`to_keras_model` turns a basic MLP into a plain Keras
``Sequential`` for the native ``.keras`` file.
"""

from __future__ import annotations

import hashlib
import math
import zlib
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from dlrun.algorithms.keras.backend import tf_and_keras

LOSSES = ("crossentropy", "squared", "absolute", "huber")
SELECTIONS = ("loss", "error", "squared", "absolute")
SCHEDULES = ("constant", "flat_cosine")


@dataclass(frozen=True)
class GraphSpec:
    """What one stacked net is and how it trains (every fold of a call shares it)."""

    hidden: tuple[int, ...]
    outputs: int
    classification: bool
    members: int = 1  # BatchEnsemble members (1: a plain MLP)
    embedding: bool = False  # periodic embeddings of the numeric columns
    frequencies: int = 16  # cosines per numeric column
    embedding_dim: int = 3  # what each column's cosines are mapped to (the input itself is added)
    sigma: float = 0.1  # scale of the initial frequencies
    category_dim: int = 8  # width of a wide one-hot block's learned embedding
    activation: str = "relu"
    dropout: float = 0.0
    loss: str = "crossentropy"  # crossentropy (classes) | squared | absolute | huber
    label_smoothing: float = 0.0
    selection: str = "loss"  # best epoch by: loss (validation cross-entropy or squared error),
    #                          error (misclassification, cross-entropy breaking ties), squared, absolute
    learning_rate: float = 1e-3
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7
    weight_decay: float = 0.0  # decoupled (AdamW), on the kernels, scaled by the schedule
    l2: float = 0.0  # penalty in the loss (Adam + L2), on the kernels
    schedule: str = "constant"  # constant | flat_cosine (flat for the first half, cosine to 0)
    init: str = "glorot"  # glorot (zero biases) | uniform (U(+-1/sqrt(fan_in)), biases too)
    epochs: int = 300
    batch_size: int = 64
    patience: int = 20  # epochs without a better validation score before a fold stops

    def __post_init__(self):
        for name, allowed in (("loss", LOSSES), ("selection", SELECTIONS), ("schedule", SCHEDULES),
                              ("activation", tuple(_ACTIVATIONS)), ("init", ("glorot", "uniform"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}")
        if int(self.epochs) < 1:
            raise ValueError(f"epochs must be at least 1, not {self.epochs}")
        if int(self.members) < 1:
            raise ValueError(f"members must be at least 1, not {self.members}")
        if self.classification != (self.loss == "crossentropy"):
            raise ValueError(f"loss {self.loss!r} does not suit a net predicting "
                             f"{'classes' if self.classification else 'numbers'}")

    def describe(self) -> dict:
        return asdict(self)


@dataclass
class Layout:
    """How one fold's input columns enter the net: ``numeric`` columns get periodic
    embeddings (when the net has them), ``raw`` columns go in as they are, and each of
    ``blocks`` (a wide one-hot block: its column indices) gets a learned embedding."""

    numeric: np.ndarray  # (d,) 0/1
    raw: np.ndarray  # (d,) 0/1
    blocks: list[list[int]] = field(default_factory=list)

    @classmethod
    def plain(cls, width: int) -> Layout:
        return cls(np.zeros(width, np.float32), np.ones(width, np.float32), [])


@dataclass
class FoldData:
    """One fold's training rows after its view: features, targets, validation part."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    layout: Layout | None = None  # None: every column raw
    seed: int | None = None  # None: fold_seed(1, ...) of the rows
    batch: int | None = None  # this fold's batch size (None: the spec's batch_size)


@dataclass
class FittedNet:
    params: dict[str, np.ndarray]  # this fold's parameters (padded to the stack's width)
    masks: dict[str, np.ndarray]  # this fold's input layout as arrays
    epochs: int
    best_epoch: int
    best_val_loss: float
    curves: np.ndarray | None = None  # (epochs, 3): training loss, validation loss, validation metric
    has_val: bool = True  # False: too few rows for a validation part, "validation" is on the training rows
    batch: int = 0  # the batch size this fold trained with


def fold_seed(seed: int, x: np.ndarray, y: np.ndarray) -> int:
    """A fold's own seed: the net's seed and a digest of the fold's rows, so the fold's
    random draws do not depend on which other folds train beside it. Numeric targets enter
    by their order only: a rescaled target (standardised in the estimator, whose last bits
    depend on the scale) draws the same numbers."""
    h = hashlib.sha256()
    h.update(str(int(seed)).encode())
    y = np.asarray(y)
    if np.issubdtype(y.dtype, np.floating):
        y = np.argsort(y.reshape(len(y), -1)[:, 0], kind="stable")
    for a in (x, y):
        a = np.ascontiguousarray(a)
        h.update(str(a.shape).encode() + str(a.dtype).encode())
        h.update(a.tobytes())
    return int.from_bytes(h.digest()[:4], "little") & 0x7FFFFFFF


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


# --------------------------------------------------------------------------- parameters


def _masks(layouts: list[Layout], d: int, spec: GraphSpec) -> dict[str, np.ndarray]:
    """The stack's input layout: (F, d) numeric and raw masks, (F, d, C) block masks."""
    F = len(layouts)
    numeric = np.zeros((F, d), np.float32)
    raw = np.zeros((F, d), np.float32)
    n_blocks = max((len(lay.blocks) for lay in layouts), default=0)
    C = n_blocks * spec.category_dim
    blocks = np.zeros((F, d, C), np.float32)
    for f, lay in enumerate(layouts):
        w = len(lay.raw)
        numeric[f, :w] = lay.numeric if spec.embedding else 0.0
        raw[f, :w] = lay.raw
        for b, cols in enumerate(lay.blocks):
            blocks[f, cols, b * spec.category_dim : (b + 1) * spec.category_dim] = 1.0
    masks = {"numeric": numeric, "raw": raw}
    if C:
        masks["blocks"] = blocks
    return masks


def _input_width(spec: GraphSpec, d: int, C: int) -> int:
    return (d * spec.embedding_dim if spec.embedding else 0) + d + C


def _input_rows(spec: GraphSpec, d: int, width: int, C: int, own_c: int) -> np.ndarray:
    """Which rows of the first layer's input (``_input_width(spec, d, C)`` wide) a fold of
    ``width`` columns and ``own_c`` block-embedding units uses: its columns' embeddings,
    its raw columns, its blocks' embeddings."""
    e = spec.embedding_dim if spec.embedding else 0
    return np.concatenate([np.arange(width * e), d * e + np.arange(width),
                           d * e + d + np.arange(own_c)]).astype(int)


def _init_params(spec: GraphSpec, d: int, C: int, seed: int, width: int,
                 own_c: int = 0) -> dict[str, np.ndarray]:
    """One fold's initial parameters, drawn from its own seed, one random stream per
    parameter, at the fold's own size (``width`` columns, ``own_c`` block-embedding units)
    and then padded with zeros to the stack's: the draws never depend on the stack."""

    def rng(name):
        return np.random.default_rng([int(seed), zlib.crc32(name.encode())])

    def uniform(name, limit, shape):
        return rng(name).uniform(-limit, limit, size=shape).astype(np.float32)

    def kernel_limit(fan_in, fan_out):
        if spec.init == "glorot":
            return math.sqrt(6.0 / (fan_in + fan_out))
        return 1.0 / math.sqrt(fan_in)

    def bias(name, fan_in, shape):
        if spec.init == "glorot":
            return np.zeros(shape, np.float32)
        return uniform(name, 1.0 / math.sqrt(fan_in), shape)

    p: dict[str, np.ndarray] = {}
    m, e = spec.frequencies, spec.embedding_dim
    if spec.embedding:
        p["emb_freq"] = np.zeros((d, m), np.float32)
        p["emb_freq"][:width] = rng("emb_freq").normal(0.0, spec.sigma, size=(width, m))
        p["emb_phase"] = np.zeros((d, m), np.float32)
        p["emb_phase"][:width] = uniform("emb_phase", math.pi, (width, m))
        p["emb_proj"] = np.zeros((d, m, e), np.float32)
        p["emb_proj"][:width] = uniform("emb_proj", 1.0 / math.sqrt(m), (width, m, e))
        p["emb_bias"] = np.zeros((d, e), np.float32)
        p["emb_bias"][:width] = uniform("emb_bias", 1.0 / math.sqrt(m), (width, e))
    if C:
        p["cat"] = np.zeros((d, C), np.float32)
        p["cat"][:width, :own_c] = rng("cat").normal(0.0, 1.0 / math.sqrt(spec.category_dim),
                                                     size=(width, own_c))
    D0 = _input_width(spec, d, C)
    rows = _input_rows(spec, d, width, C, own_c)
    if spec.members > 1:  # TabM-mini: one random-sign scaling of the input per member
        p["adapter"] = np.zeros((spec.members, D0), np.float32)
        p["adapter"][:, rows] = rng("adapter").choice(np.array([-1.0, 1.0], np.float32),
                                                      size=(spec.members, len(rows)))
    fan_in = len(rows)
    for i, fan_out in enumerate(int(h) for h in spec.hidden):
        limit = kernel_limit(fan_in, fan_out)
        if i == 0:
            p["kernel_0"] = np.zeros((D0, fan_out), np.float32)
            p["kernel_0"][rows] = uniform("kernel_0", limit, (fan_in, fan_out))
        else:
            p[f"kernel_{i}"] = uniform(f"kernel_{i}", limit, (fan_in, fan_out))
        p[f"bias_{i}"] = bias(f"bias_{i}", fan_in, (1, fan_out))
        fan_in = fan_out
    if spec.hidden:
        p["head"] = uniform("head", kernel_limit(fan_in, spec.outputs), (spec.members, fan_in, spec.outputs))
    else:  # no hidden layer: the head reads the input rows directly
        p["head"] = np.zeros((spec.members, D0, spec.outputs), np.float32)
        p["head"][:, rows] = uniform("head", kernel_limit(fan_in, spec.outputs),
                                     (spec.members, fan_in, spec.outputs))
    p["head_bias"] = bias("head_bias", fan_in, (spec.members, 1, spec.outputs))
    return p


def _decayed(name: str) -> bool:
    """Whether the weight decay / L2 penalty acts on a parameter: the kernels only."""
    return name.startswith("kernel_") or name in ("head", "cat")


# --------------------------------------------------------------------------- the graph

_ACTIVATIONS = {"relu": "relu", "silu": "silu", "gelu": "gelu", "selu": "selu"}
_SEGMENTS: dict = {}
_M32 = 0xFFFFFFFF


def _hash(tf, x):
    """A 32-bit integer mix (int64 tensors holding values below 2**32): the counter-based
    random numbers every draw of a fold comes from."""
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16))
    x = tf.bitwise.bitwise_and(x * 0x45D9F3B, _M32)
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16))
    x = tf.bitwise.bitwise_and(x * 0x45D9F3B, _M32)
    return tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16))


def _combine(tf, h, v):
    return _hash(tf, tf.bitwise.bitwise_xor(h, tf.bitwise.bitwise_and(tf.cast(v, tf.int64), _M32)))


def forward_tf(tf, spec: GraphSpec, p, masks, x, *, drop=None):
    """Each member's outputs, (F, k, rows, outputs), for inputs x (F, rows, d).

    ``drop``: (rate, per-fold int64 keys (F,)) for dropout during training, else None."""
    F, n = tf.shape(x)[0], tf.shape(x)[1]
    parts = []
    if spec.embedding:
        z = 2.0 * math.pi * x[..., None] * p["emb_freq"][:, None] + p["emb_phase"][:, None]  # (F, n, d, m)
        z = tf.cos(z)
        z = tf.transpose(z, [0, 2, 1, 3])  # (F, d, n, m)
        e = tf.matmul(z, p["emb_proj"]) + p["emb_bias"][:, :, None, :]  # (F, d, n, e)
        e = e * masks["numeric"][:, :, None, None]
        e = tf.transpose(e, [0, 2, 1, 3])
        parts.append(tf.reshape(e, [F, n, -1]))
    parts.append(x * masks["raw"][:, None, :])
    if "cat" in p:
        parts.append(tf.matmul(x, p["cat"] * masks["blocks"]))
    h = parts[0] if len(parts) == 1 else tf.concat(parts, axis=-1)
    k = spec.members
    if k > 1:
        h = h[:, None] * p["adapter"][:, :, None, :]  # (F, k, n, D0)
        h = tf.reshape(h, [F, k * n, -1])
    activation = getattr(tf.nn, _ACTIVATIONS[spec.activation])
    for i in range(len(spec.hidden)):
        h = activation(tf.matmul(h, p[f"kernel_{i}"]) + p[f"bias_{i}"])
        if drop is not None:
            rate, keys = drop
            h = _dropout(tf, h, rate, _combine(tf, keys, i + 1), k)
    h = tf.reshape(h, [F, k, n, tf.shape(h)[-1]])
    return tf.matmul(h, p["head"][:, :, :, :]) + p["head_bias"]  # (F, k, n, outputs)


def _dropout(tf, h, rate, keys, members):
    """Dropout whose mask hashes (fold key, member, row, unit): the same for a fold whatever
    the stack. ``h``: (F, members * rows, units)."""
    keep = _keep_mask(tf, members)(h, keys, rate)
    return tf.where(keep, h / (1.0 - rate), tf.zeros_like(h))


_KEEP_MASKS: dict = {}


def _keep_mask(tf, members: int):
    """The dropout mask as one XLA-fused computation: the hashing works on int64 tensors as
    large as the layer (F x members x rows x units), which op by op costs more than the layer
    itself. The bits are those of the op-by-op graph (integer arithmetic only)."""
    if members not in _KEEP_MASKS:
        @tf.function(jit_compile=True, reduce_retracing=True)
        def keep_mask(h, keys, rate):
            shape = tf.shape(h, out_type=tf.int64)
            n = shape[1] // members
            member = tf.range(members, dtype=tf.int64)[None, :, None, None]
            rows = tf.range(n)[None, None, :, None]
            units = tf.range(shape[2])[None, None, None, :]
            bits = _combine(tf, _combine(tf, _combine(tf, keys[:, None, None, None], member), rows), units)
            return tf.reshape(tf.cast(bits, tf.float32) * (1.0 / 4294967296.0) >= rate, tf.shape(h))

        _KEEP_MASKS[members] = keep_mask
    return _KEEP_MASKS[members]


def _segment_fn(tf, spec: GraphSpec, names: tuple[str, ...]):
    """The compiled training loop for one structure (task, parts, layer count, optimizer),
    shape-generic so every candidate and view of a run reuses it.

    State travels as tensors (weights, moments, best weights, early-stopping counters)
    rather than variables: the fold axis can then shrink between calls without building
    a new graph."""
    # the graph holds every field of the spec as a constant except those it receives as
    # tensors (``hyper``, the epochs; batch sizes travel with the data): a spec differing in
    # any other field (widths, members, frequencies, ...) gets its own graph
    key = (replace(spec, learning_rate=0.0, beta_1=0.0, beta_2=0.0, epsilon=0.0,
                   weight_decay=float(spec.weight_decay > 0), l2=float(spec.l2 > 0),
                   dropout=0.5 if spec.dropout > 0 else 0.0,
                   label_smoothing=0.1 if spec.label_smoothing > 0 else 0.0,
                   epochs=1, batch_size=1, patience=1), names)
    if key in _SEGMENTS:
        return _SEGMENTS[key]
    classification = spec.classification
    decayed = [n for n in names if _decayed(n)]

    def row_loss(y, out, smoothing):  # out (F, k, n, O) -> per row (F, n), mean over members
        if classification:
            logp = tf.nn.log_softmax(out, axis=-1)
            onehot = tf.one_hot(tf.cast(y, tf.int32), tf.shape(out)[-1])[:, None]  # (F, 1, n, O)
            loss = -tf.reduce_sum(logp * onehot, axis=-1)
            if spec.label_smoothing > 0:
                loss = (1.0 - smoothing) * loss - smoothing * tf.reduce_mean(logp, axis=-1)
            return tf.reduce_mean(loss, axis=1)
        diff = out[..., 0] - y[:, None, :]
        if spec.loss == "absolute":
            loss = tf.abs(diff)
        elif spec.loss == "huber":
            a = tf.abs(diff)
            loss = tf.where(a <= 1.0, 0.5 * tf.square(diff), a - 0.5)
        else:
            loss = tf.square(diff)
        return tf.reduce_mean(loss, axis=1)

    def validation(y, out, m):
        """Per fold: (validation loss, metric, selection score) of the members' average."""
        if classification:
            prob = tf.reduce_mean(tf.nn.softmax(out, axis=-1), axis=1)  # (F, n, O)
            p_true = tf.reduce_sum(prob * tf.one_hot(tf.cast(y, tf.int32), tf.shape(prob)[-1]), axis=-1)
            ce = -tf.math.log(tf.maximum(p_true, 1e-7))
            hit = tf.cast(tf.equal(tf.argmax(prob, axis=-1, output_type=tf.int32), tf.cast(y, tf.int32)), tf.float32)
            loss, metric = masked_mean(ce, m), masked_mean(hit, m)
            score = loss if spec.selection == "loss" else (1.0 - metric) + 1e-3 * tf.minimum(loss, 10.0)
            return loss, metric, score
        pred = tf.reduce_mean(out[..., 0], axis=1)
        err = pred - y
        sq, ab = masked_mean(tf.square(err), m), masked_mean(tf.abs(err), m)
        loss = ab if spec.loss == "absolute" else sq
        score = ab if spec.selection == "absolute" else sq if spec.selection == "squared" else loss
        return loss, ab, score

    def masked_mean(values, mask):
        return tf.reduce_sum(values * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)

    def per_fold(v, like):  # (F,) -> broadcastable to a parameter of like's rank
        return tf.reshape(v, tf.concat([[-1], tf.ones([tf.rank(like) - 1], tf.int32)], 0))

    @tf.function(jit_compile=True, reduce_retracing=True)
    def adam(params, grads, moments, velocities, has, scale, lr_wd, beta_1, beta_2, eps):
        new_p, new_m, new_v = {}, {}, {}
        for n in names:
            g, p = grads[n], params[n]
            keep = per_fold(has, p)
            m = beta_1 * moments[n] + (1.0 - beta_1) * g
            v = beta_2 * velocities[n] + (1.0 - beta_2) * tf.square(g)
            update = per_fold(scale, p) * m / (tf.sqrt(v) + eps)
            if spec.weight_decay > 0 and _decayed(n):
                update += lr_wd * p
            new_p[n] = tf.where(keep, p - update, p)
            new_m[n] = tf.where(keep, m, moments[n])
            new_v[n] = tf.where(keep, v, velocities[n])
        return new_p, new_m, new_v

    @tf.function(reduce_retracing=True)
    def segment(params, moments, velocities, best_params, best, best_epoch, wait, active, steps_done,
                data, masks, seeds, epoch, max_epochs, stop_at, hyper):
        x_tr, y_tr, m_tr, x_va, y_va, m_va, fold_batch = data
        lr0, beta_1, beta_2, eps, wd, l2, rate, patience, smoothing = hyper
        patience = tf.cast(patience, tf.int32)
        n_max = tf.shape(x_tr)[1]
        # each fold its own batch size: steps enough for the fold that needs the most; a
        # step past a fold's rows holds none of them and leaves the fold as it is
        n_rows = tf.cast(tf.reduce_sum(m_tr, axis=1), tf.int32)
        steps = tf.reduce_max((n_rows + fold_batch - 1) // fold_batch)
        widest = tf.reduce_max(fold_batch)
        slot = tf.range(widest)[None, :]
        n_active = tf.reduce_sum(tf.cast(active, tf.int32))
        first_epoch = epoch
        rows = tf.range(tf.cast(n_max, tf.int64))
        curves = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        while epoch < max_epochs and n_active > stop_at:
            if spec.schedule == "flat_cosine":
                half = tf.cast(max_epochs, tf.float32) / 2.0
                progress = tf.maximum(tf.cast(epoch, tf.float32) - half, 0.0) / tf.maximum(half, 1.0)
                lr = lr0 * 0.5 * (1.0 + tf.cos(math.pi * progress))
            else:
                lr = lr0
            # a fresh shuffle per fold from its own seed, real rows first (padding sorts last)
            ekey = _combine(tf, seeds, tf.cast(epoch, tf.int64) + 0x5EED)
            keys = _combine(tf, ekey[:, None], rows[None, :]) + tf.cast(1.0 - m_tr, tf.int64) * (2 ** 33)
            order = tf.argsort(keys, axis=1, stable=True)
            loss_sum = tf.zeros_like(m_tr[:, 0])  # per fold: batch losses, and batches with rows
            batches = tf.zeros_like(m_tr[:, 0])
            for s in tf.range(steps):
                pos = s * fold_batch[:, None] + slot  # (F, widest)
                inside = tf.logical_and(slot < fold_batch[:, None], pos < n_max)
                idx = tf.gather(order, tf.minimum(pos, n_max - 1), batch_dims=1)
                xb = tf.gather(x_tr, idx, batch_dims=1)
                yb = tf.gather(y_tr, idx, batch_dims=1)
                mb = tf.gather(m_tr, idx, batch_dims=1) * tf.cast(inside, tf.float32)
                has = tf.logical_and(tf.reduce_sum(mb, axis=1) > 0.0, active)  # (F,)
                step = steps_done + tf.cast(has, tf.int64)
                drop = None
                if spec.dropout > 0:
                    drop = (rate, _combine(tf, _combine(tf, seeds, step), 0xD40))
                with tf.GradientTape() as tape:
                    tape.watch(params)
                    out = forward_tf(tf, spec, params, masks, xb, drop=drop)
                    fold_loss = masked_mean(row_loss(yb, out, smoothing), mb)
                    loss = tf.reduce_sum(fold_loss)
                    if spec.l2 > 0:
                        loss += l2 * tf.add_n([tf.reduce_sum(tf.square(params[n])) for n in decayed])
                grads = tape.gradient(loss, params)
                loss_sum += tf.where(has, fold_loss, 0.0)
                batches += tf.cast(has, tf.float32)
                t = tf.cast(tf.maximum(step, 1), tf.float32)
                correction = tf.sqrt(1.0 - beta_2**t) / (1.0 - beta_1**t)  # (F,)
                grads = {n: tf.zeros_like(params[n]) if grads[n] is None else grads[n] for n in names}
                new_p, new_m, new_v = adam(params, grads, moments, velocities, has, lr * correction,
                                           lr * wd, beta_1, beta_2, eps)
                params, moments, velocities = new_p, new_m, new_v
                steps_done = step
            out_va = forward_tf(tf, spec, params, masks, x_va)
            val, metric, score = validation(y_va, out_va, m_va)
            curves = curves.write(epoch - first_epoch, tf.stack(
                [loss_sum / tf.maximum(batches, 1.0), val, metric], axis=1))
            improved = tf.logical_and(active, score < best - 1e-7)
            best = tf.where(improved, score, best)
            best_epoch = tf.where(improved, epoch + 1, best_epoch)
            best_params = {n: tf.where(per_fold(improved, params[n]), params[n], best_params[n])
                           for n in names}
            wait = tf.where(improved, 0, wait + 1)
            active = tf.logical_and(active, wait < patience)
            n_active = tf.reduce_sum(tf.cast(active, tf.int32))
            epoch += 1
        return (params, moments, velocities, best_params, best, best_epoch, wait, active, steps_done,
                epoch, curves.stack())

    _SEGMENTS[key] = segment
    return segment


# Compaction: once at most this share of the folds still trains, the finished
# ones are dropped from the stacked arrays (the cost of a step grows with the
# number of folds in it), unless too few remain for it to pay off.
COMPACT_SHARE = 0.5
COMPACT_MIN_FOLDS = 4


def train_stacked(folds: list[FoldData], spec: GraphSpec) -> list[FittedNet]:
    """Train one net per fold, all together; returns each fold's best weights.

    The loop runs in segments: when at most ``COMPACT_SHARE`` of the folds are
    still improving, the segment returns and the next one carries on with those
    folds only, so a late-stopping fold does not keep the finished ones computing.
    Each fold's curves (training loss, validation loss, validation metric per epoch)
    are recorded inside the loop and cut at the epoch where that fold stopped.
    """
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
    seeds = [int(f.seed) if f.seed is not None else fold_seed(1, f.x_train, f.y_train) for f in folds]

    y_dtype = np.int32 if spec.classification else np.float32
    data = [
        _pad([f.x_train.astype(np.float32) for f in folds], n_max, d),
        _pad([f.y_train.astype(y_dtype) for f in folds], n_max),
        _mask(n_tr, n_max),
        _pad([v.astype(np.float32) for v in val_x], v_max, d),
        _pad([v.astype(y_dtype) for v in val_y], v_max),
        _mask(n_val, v_max),
        np.asarray([max(1, min(int(f.batch or spec.batch_size), n)) for f, n in zip(folds, n_tr, strict=True)],
                   np.int32),
    ]
    batches = data[-1]
    layouts = [f.layout or Layout.plain(w) for f, w in zip(folds, widths, strict=True)]
    masks = _masks(layouts, d, spec)
    C = masks["blocks"].shape[2] if "blocks" in masks else 0
    per_fold = [_init_params(spec, d, C, s, w, len(lay.blocks) * spec.category_dim if C else 0)
                for s, w, lay in zip(seeds, widths, layouts, strict=True)]
    names = tuple(per_fold[0])
    params = {n: np.stack([p[n] for p in per_fold]) for n in names}
    state = {
        "params": params,
        "moments": {n: np.zeros_like(v) for n, v in params.items()},
        "velocities": {n: np.zeros_like(v) for n, v in params.items()},
        "best_params": {n: v.copy() for n, v in params.items()},
        "best": np.full(F, np.inf, np.float32),
        "best_epoch": np.zeros(F, np.int32),
        "wait": np.zeros(F, np.int32),
        "active": np.ones(F, bool),
        "steps_done": np.zeros(F, np.int64),
    }
    hyper = [np.float32(v) for v in (spec.learning_rate, spec.beta_1, spec.beta_2, spec.epsilon,
                                     spec.weight_decay, spec.l2, spec.dropout, spec.patience,
                                     spec.label_smoothing)]
    segment = _segment_fn(tf, spec, names)
    keys = list(state)
    epochs = int(spec.epochs)
    epoch, remaining = 0, np.arange(F)
    fold_masks = masks
    fold_seeds = np.asarray(seeds, np.int64)
    stopped = {}
    curves: list[list[np.ndarray]] = [[] for _ in range(F)]  # per fold: (epochs, 3) per segment
    while True:
        stop_at = int(len(remaining) * COMPACT_SHARE) if len(remaining) >= COMPACT_MIN_FOLDS else 0
        out = segment(*[state[n] for n in keys], data, fold_masks, fold_seeds, np.int32(epoch),
                      np.int32(epochs), np.int32(stop_at), hyper)
        out = tf.nest.map_structure(lambda t: t.numpy(), out)
        state = dict(zip(keys, out[:9], strict=True))
        epoch = int(out[9])
        for i, f in enumerate(remaining):
            curves[f].append(out[10][:, i])
        done = ~state["active"] if epoch < epochs else np.ones(len(remaining), bool)
        for i in np.flatnonzero(done):
            best_epoch = int(state["best_epoch"][i])
            # a fold that ran out of patience stopped `patience` epochs after its best one
            last = epoch if state["active"][i] else min(epoch, best_epoch + int(spec.patience))
            stopped[int(remaining[i])] = (last, {n: v[i] for n, v in state["best_params"].items()},
                                          best_epoch, float(state["best"][i]))
        if done.all():
            break
        keep = np.flatnonzero(~done)
        state = {n: ({k: a[keep] for k, a in v.items()} if isinstance(v, dict) else v[keep])
                 for n, v in state.items()}
        data = [a[keep] for a in data]
        fold_masks = {n: a[keep] for n, a in fold_masks.items()}
        fold_seeds = fold_seeds[keep]
        remaining = remaining[keep]

    fitted = []
    for f in range(F):
        stopped_at, best_params, best_epoch, best_val = stopped[f]
        fitted.append(FittedNet({n: np.array(v) for n, v in best_params.items()},
                                {n: np.array(a[f]) for n, a in masks.items()},
                                stopped_at, best_epoch, best_val,
                                np.concatenate(curves[f])[:stopped_at], has_val, int(batches[f])))
    return fitted


# --------------------------------------------------------------------------- inference


def _np_activation(name: str, h: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(h, 0.0)
    if name == "silu":
        return h / (1.0 + np.exp(-h))
    if name == "gelu":
        from scipy.special import erf

        return 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
    if name == "selu":
        alpha, scale = 1.6732632423543772, 1.0507009873554805
        return scale * np.where(h > 0, h, alpha * (np.exp(np.minimum(h, 0.0)) - 1.0))
    raise ValueError(name)


def forward_numpy(params: dict[str, np.ndarray], masks: dict[str, np.ndarray], spec: dict,
                  X: np.ndarray) -> np.ndarray:
    """Each member's outputs (k, rows, outputs) for inputs X, in NumPy: the graph's forward
    pass for one fold (``spec``: :meth:`GraphSpec.describe`)."""
    X = np.asarray(X, dtype=np.float32)
    d = masks["raw"].shape[0]
    if X.shape[1] < d:  # the stack's padded width
        X = np.concatenate([X, np.zeros((len(X), d - X.shape[1]), np.float32)], axis=1)
    parts = []
    if spec["embedding"]:
        z = np.cos(2.0 * np.pi * X[:, :, None] * params["emb_freq"][None] + params["emb_phase"][None])
        e = np.einsum("ndm,dme->nde", z, params["emb_proj"]) + params["emb_bias"][None]
        e = e * masks["numeric"][None, :, None]
        parts.append(e.reshape(len(X), -1))
    parts.append(X * masks["raw"][None])
    if "cat" in params:
        parts.append(X @ (params["cat"] * masks["blocks"]))
    h = np.concatenate(parts, axis=1).astype(np.float32)
    k = int(spec["members"])
    h = h[None] * params["adapter"][:, None, :] if k > 1 else h[None]
    for i in range(len(spec["hidden"])):
        h = _np_activation(spec["activation"], h @ params[f"kernel_{i}"] + params[f"bias_{i}"])
    return h @ params["head"] + params["head_bias"]


def basic_weights(fitted: FittedNet) -> list[tuple[np.ndarray, np.ndarray]]:
    """A one-member net without embeddings as (kernel, bias) per Dense layer."""
    p = fitted.params
    width = int(np.count_nonzero(fitted.masks["raw"])) if fitted.masks["raw"].any() else 0
    layers, i = [], 0
    while f"kernel_{i}" in p:
        kernel = p[f"kernel_{i}"]
        layers.append((kernel[:width].copy() if i == 0 else kernel.copy(), p[f"bias_{i}"][0].copy()))
        i += 1
    layers.append((p["head"][0].copy(), p["head_bias"][0, 0].copy()))
    return layers


def basic_forward(weights: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray) -> np.ndarray:
    h = np.asarray(X, dtype=np.float32)
    for i, (kernel, bias) in enumerate(weights):
        h = h @ kernel + bias
        if i < len(weights) - 1:
            np.maximum(h, 0.0, out=h)
    return h


def to_keras_model(weights: list[tuple[np.ndarray, np.ndarray]]):
    """A basic MLP (``basic_weights``) as a plain Keras Sequential (for the native .keras file)."""
    _, keras = tf_and_keras()
    layers = [keras.Input(shape=(weights[0][0].shape[0],))]
    for i, (kernel, _) in enumerate(weights):
        activation = "relu" if i < len(weights) - 1 else None
        layers.append(keras.layers.Dense(kernel.shape[1], activation=activation, name=f"dense_{i}"))
    model = keras.Sequential(layers)
    for layer, (kernel, bias) in zip(model.layers, weights, strict=True):
        layer.set_weights([kernel, bias])
    return model
