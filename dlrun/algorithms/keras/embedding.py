"""Embedding nets on token ids (documents as padded word ids, the ``tokens`` input type).

* :class:`EmbeddingCNNClassifier` -- a word embedding, dropout, a 1D convolution
  (``filters`` of ``kernel_size`` words, ReLU), global max pooling (the strongest match
  of each filter anywhere in the document; ``pooling="max+average"`` adds the mean
  match), an optional dense layer, the output;
* :class:`BiLSTMClassifier` -- a word embedding, a bidirectional LSTM reading the
  document's last ``max_length`` words, dropout, an optional dense layer, the output.

Ids are those of :class:`dlrun.kinds.text.vectorizers.TokenIds`-like views: 0 pads,
1 is any word outside the vocabulary, words from 2 up; a document ends at the last
position (padding first, as Keras's ``pad_sequences`` does), so the LSTM reads it to its
final state without a mask, and ``max_length`` keeps its last words only: the recurrent
loop costs one step per position (on the movie reviews, 2-core machine: 400 positions
in batches of 32 took 190 s a fold, the last 150 in batches of 128 8 s, for a better
score).

The embedding has ``vocabulary_size`` rows (from the data: ``BuildContext.meta``); an
id at or beyond it (a view with a larger vocabulary) is read as out-of-vocabulary. Both
nets are sized for a CPU (a narrow embedding, one convolution or one small recurrent
layer) and trained by the compiled loop (:data:`~dlrun.algorithms.keras.trainers.COMPILED_LOOP`) with early
stopping on a split of the training fold only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dlrun.algorithms.keras.backend import import_keras
from dlrun.algorithms.keras.blocks import dense_head
from dlrun.algorithms.keras.estimator import KerasClassifierBase, params_for
from dlrun.algorithms.keras.params import TrainingParams
from dlrun.algorithms.keras.trainers import COMPILED_LOOP
from dlrun.catalogue import BuildContext

#: Token ids reserved by the views: padding (0) and out of vocabulary (1).
PAD, OOV = 0, 1


class _TokenNet(KerasClassifierBase):
    """Token ids in (int32), an embedding first; subclasses add the rest."""

    _managed = ("vocabulary_size",)  # from the data, not set by a user
    trainer = COMPILED_LOOP

    def fit(self, X, y):
        self.input_dim_ = None  # sized afresh from the data of this fit
        return super().fit(X, y)

    def _prepare_x(self, X) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"{type(self).__name__} reads token ids (documents x positions), "
                             f"got an array of shape {X.shape}")
        X = X.astype(np.int32, copy=True)
        X[(X < 0) | (X >= self._input_dim(X))] = OOV
        return X

    def _input_dim(self, X=None) -> int:
        if getattr(self, "input_dim_", None):
            return int(self.input_dim_)
        size = int(self.vocabulary_size or 0)
        if size <= OOV and X is not None and X.size:
            size = int(X.max()) + 1  # no size given: the ids of the training rows
        self.input_dim_ = max(size, OOV + 1)
        return self.input_dim_

    def _build_model(self, input_shape):
        keras = import_keras()
        inputs = keras.Input(shape=input_shape, dtype="int32")
        x = keras.layers.Embedding(self._input_dim(), int(self.embedding_dim), name="embedding")(inputs)
        body = self._build_body(x, keras)
        outputs = keras.layers.Dense(self._output_width(), name="output")(body)
        return keras.Model(inputs, outputs)


class EmbeddingCNNClassifier(_TokenNet):
    architecture = {"embedding_dim": 32, "filters": 64, "kernel_size": 5, "pooling": "max", "dense": 0,
                    "dropout": 0.3, "vocabulary_size": 0}
    training = TrainingParams(learning_rate=2e-3, epochs=20, batch_size=32, patience=5)

    def _build_body(self, x, keras):
        layers = keras.layers
        if self.dropout:
            x = layers.SpatialDropout1D(min(float(self.dropout), 0.5) / 2, seed=self.seed + 1)(x)
        kernel = max(1, min(int(self.kernel_size), int(x.shape[1])))
        x = layers.Conv1D(int(self.filters), kernel, activation="relu",
                          kernel_regularizer=self._regularizer(keras), name="conv")(x)
        if self.pooling not in ("max", "max+average"):
            raise ValueError(f"pooling must be 'max' or 'max+average', got {self.pooling!r}")
        if self.pooling == "max+average":
            x = layers.Concatenate(name="pool")([layers.GlobalMaxPooling1D()(x),
                                                 layers.GlobalAveragePooling1D()(x)])
        else:
            x = layers.GlobalMaxPooling1D(name="pool")(x)
        return dense_head(x, self, keras)


class BiLSTMClassifier(_TokenNet):
    architecture = {"embedding_dim": 32, "units": 32, "max_length": 150, "dense": 0,
                    "dropout": 0.3, "vocabulary_size": 0}
    training = TrainingParams(epochs=20, batch_size=128, patience=5)

    def _prepare_x(self, X) -> np.ndarray:
        X = super()._prepare_x(X)
        limit = int(self.max_length or 0)
        return X[:, -limit:] if 0 < limit < X.shape[1] else X  # the documents' last words

    def _build_body(self, x, keras):
        if self.dropout:
            x = keras.layers.SpatialDropout1D(min(float(self.dropout), 0.5) / 2, seed=self.seed + 1)(x)
        lstm = keras.layers.LSTM(int(self.units), kernel_regularizer=self._regularizer(keras),
                                 seed=self.seed)
        x = keras.layers.Bidirectional(lstm, name="bilstm")(x)
        return dense_head(x, self, keras)


def make_token_net(cls, ctx: BuildContext, params: dict[str, Any]):
    """An embedding net of class ``cls`` for class labels: the embedding's size from the
    data (``ctx.meta["vocabulary_size"]``: the view's largest id + 1)."""
    if not ctx.classification:
        raise ValueError(f"{cls.__name__} predicts class labels from token ids")
    return cls(seed=ctx.seed, n_classes=ctx.n_classes,
               vocabulary_size=int(ctx.meta.get("vocabulary_size") or 0),
               **params_for(cls, params))
