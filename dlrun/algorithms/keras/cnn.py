"""The 2D convolutional net for images.

Its depth and width follow the input size: one conv block per halving of the
shorter side down to about 4 pixels (8x8 digits: 1 block; 24x24: 2; 32x32: 3;
at most ``max_blocks``), each block ``Conv 3x3 -> [BatchNorm] -> ReLU ->
MaxPool 2 -> Dropout`` (two convs in a single-block net) with ``filters`` doubling
per block (capped at ``8 * filters``), then flattening (global average pooling
for large final maps), a dense layer with dropout and the output. By default
the width is 16 filters for images up to 32 pixels a side and 32 above, and
batch normalisation is used from three blocks (32x32) on: on a CPU, a small
net costs ~2-4x less per epoch without it, and with ~12 steps per epoch its
moving statistics lag behind the weights, which misleads early stopping. The
arithmetic dominates from 24x24 up (two 32/64-filter convs per block made a
24x24 fold cost ~7x an XGBoost fold), hence one narrow conv per block there.
Trained by the compiled loop (:class:`~dlrun.algorithms.keras.trainers.CompiledLoop`)
with early stopping on a split of the training fold only.

With ``augment`` (the ``augment`` view), random flips / shifts / rotations
run as Keras preprocessing layers at the model input; Keras applies them only
when the model is called with ``training=True``, i.e. on training batches.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dlrun.algorithms.keras.estimator import KerasClassifierBase, params_for
from dlrun.algorithms.keras.params import TrainingParams
from dlrun.algorithms.keras.trainers import COMPILED_LOOP
from dlrun.catalogue import BuildContext


def n_blocks(height: int, width: int, max_blocks: int = 4) -> int:
    """Conv blocks for an input: halve the shorter side until about 4 pixels remain."""
    side = min(int(height), int(width))
    return int(min(max(1, math.floor(math.log2(max(side, 4) / 4))), max_blocks))


class CNNClassifier(KerasClassifierBase):
    """A small VGG-style net whose depth scales with the size of its input grid."""

    _managed = ("input_shape", "augment")  # set from the data and the view, not by a user

    architecture = {
        "input_shape": None,  # (height, width, channels); None: a square grid, one channel
        "filters": None,  # first block's width (doubling per block); None: from the input size
        "max_blocks": 4,
        "dense": 64,
        "dropout": 0.25,
        "batch_norm": None,  # None: from three blocks on
        "augment": None,  # the augment view's settings (flip, shift, rotation)
    }
    training = TrainingParams(epochs=100, batch_size=128, patience=10)
    trainer = COMPILED_LOOP

    def _prepare_x(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim == 2:  # flattened pixels from the image views
            if self.input_shape is None:
                side = int(math.isqrt(X.shape[1]))
                if side * side != X.shape[1]:
                    raise ValueError("cnn needs input_shape for non-square flattened images")
                return X.reshape(len(X), side, side, 1)
            return X.reshape(len(X), *[int(s) for s in self.input_shape])
        if X.ndim == 3:
            return X[..., None]
        return X

    def _augmentation(self, x, keras):
        cfg = dict(self.augment or {})
        flip = cfg.get("flip", "none")
        mode = {"horizontal": "horizontal", "vertical": "vertical", "both": "horizontal_and_vertical"}
        if flip in mode:
            x = keras.layers.RandomFlip(mode[flip], seed=self.seed, name="aug_flip")(x)
        shift = float(cfg.get("shift", 0.0) or 0.0)
        if shift > 0:
            x = keras.layers.RandomTranslation(shift, shift, fill_mode="constant", seed=self.seed + 1,
                                               name="aug_shift")(x)
        rotation = float(cfg.get("rotation", 0.0) or 0.0)
        if rotation > 0:
            x = keras.layers.RandomRotation(rotation, fill_mode="constant", seed=self.seed + 2,
                                            name="aug_rotation")(x)
        return x

    def _build_body(self, inputs, keras):
        layers = keras.layers
        x = self._augmentation(inputs, keras) if self.augment else inputs
        h, w = int(inputs.shape[1]), int(inputs.shape[2])
        reg = self._regularizer(keras)
        blocks = n_blocks(h, w, int(self.max_blocks))
        # width and normalisation follow the input too (None = auto): tiny images get a
        # narrow single-block net without batch norm, whose per-step cost dominates on a CPU
        filters = int(self.filters) if self.filters else (16 if min(h, w) <= 32 else 32)
        batch_norm = self.batch_norm if self.batch_norm is not None else blocks >= 3
        for b in range(blocks):
            width = filters * min(2**b, 8)
            # a single-block net (tiny images) stacks two convs; deeper nets one per block
            for k in range(2 if blocks == 1 else 1):
                x = layers.Conv2D(width, 3, padding="same", use_bias=not batch_norm,
                                  kernel_regularizer=reg, name=f"conv{b}_{k}")(x)
                if batch_norm:
                    # momentum 0.9: a small data set gives few steps per epoch, and the
                    # default 0.99 leaves the inference statistics lagging for early stopping
                    x = layers.BatchNormalization(momentum=0.9, name=f"bn{b}_{k}")(x)
                x = layers.Activation("relu")(x)
            x = layers.MaxPooling2D(2, name=f"pool{b}")(x)
            if self.dropout:
                x = layers.Dropout(min(float(self.dropout), 0.5) / 2, seed=self.seed + 10 + b)(x)
        # small final maps keep their layout; large ones (capped depth) are averaged
        x = layers.Flatten()(x) if x.shape[1] * x.shape[2] <= 64 else layers.GlobalAveragePooling2D()(x)
        if self.dense:
            x = layers.Dense(int(self.dense), activation="relu", kernel_regularizer=reg, name="dense")(x)
            if self.dropout:
                x = layers.Dropout(float(self.dropout), seed=self.seed + 20)(x)
        return x


def make_cnn(ctx: BuildContext, params: dict[str, Any]):
    """The 2D CNN: the input grid's shape from the data (``ctx.meta["input_shape"]``), the
    augmentation when the view asks for it (trait ``augment``; settings in ``ctx.meta``)."""
    params = dict(params)
    shape = ctx.meta.get("input_shape")
    if shape is not None:
        params.setdefault("input_shape", tuple(int(s) for s in shape))
    if ctx.traits.get("augment") and "augment" not in params:
        params["augment"] = ctx.meta.get("augment")
    return CNNClassifier(seed=ctx.seed, n_classes=ctx.n_classes, **params_for(CNNClassifier, params))
