"""Sequence nets on lag windows: an LSTM, and a CNN-LSTM (Conv1D feature maps read by an LSTM).

Inputs arrive as flat rows of ``window x n_channels`` values in time-major order
(the layout :class:`dlrun.kinds.timeseries.framing.SeriesFraming` produces) and are
reshaped to ``(window, n_channels)`` sequences. Early stopping validates on the
latest training windows (``_time_ordered``), never on a shuffled split.
"""

from __future__ import annotations

import numpy as np

from dlrun.algorithms.keras.estimator import KerasEstimator, KerasRegressorBase


class SequenceRegressorBase(KerasRegressorBase):
    """Reshapes flat lag windows to sequences; subclasses build the layers."""

    _time_ordered = True
    _managed = ("n_channels",)  # the number of series, from the data

    def _prepare_x(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim == 3:
            return X
        channels = max(1, int(self.n_channels))
        return X.reshape(len(X), X.shape[1] // channels, channels)


class LSTMRegressor(SequenceRegressorBase):
    def __init__(self, *, units: int = 50, dense: int = 0, dropout: float = 0.0, n_channels: int = 1,
                 learning_rate: float = 3e-3, epochs: int = 300, batch_size: int = 64,
                 patience: int = 20, validation_fraction: float = 0.15, l2: float = 1e-4,
                 seed: int = 1):
        self.units = units
        self.dense = dense
        self.dropout = dropout
        self.n_channels = n_channels
        KerasEstimator.__init__(self, learning_rate=learning_rate, epochs=epochs,
                                batch_size=batch_size, patience=patience,
                                validation_fraction=validation_fraction, l2=l2, seed=seed)

    def _build_body(self, inputs, keras):
        x = keras.layers.LSTM(int(self.units), kernel_regularizer=self._regularizer(keras),
                              seed=self.seed, name="lstm")(inputs)
        return _head(x, self, keras)


class CNNLSTMRegressor(SequenceRegressorBase):
    def __init__(self, *, filters: int = 32, kernel_size: int = 3, units: int = 50, dense: int = 0,
                 dropout: float = 0.0, n_channels: int = 1, learning_rate: float = 3e-3,
                 epochs: int = 300, batch_size: int = 64, patience: int = 20,
                 validation_fraction: float = 0.15, l2: float = 1e-4, seed: int = 1):
        self.filters = filters
        self.kernel_size = kernel_size
        self.units = units
        self.dense = dense
        self.dropout = dropout
        self.n_channels = n_channels
        KerasEstimator.__init__(self, learning_rate=learning_rate, epochs=epochs,
                                batch_size=batch_size, patience=patience,
                                validation_fraction=validation_fraction, l2=l2, seed=seed)

    def _build_body(self, inputs, keras):
        kernel = max(1, min(int(self.kernel_size), int(inputs.shape[1])))
        x = keras.layers.Conv1D(int(self.filters), kernel, activation="relu",
                                kernel_regularizer=self._regularizer(keras), name="conv")(inputs)
        x = keras.layers.LSTM(int(self.units), kernel_regularizer=self._regularizer(keras),
                              seed=self.seed, name="lstm")(x)
        return _head(x, self, keras)


def _head(x, net, keras):
    if net.dropout:
        x = keras.layers.Dropout(float(net.dropout), seed=net.seed)(x)
    if net.dense:
        x = keras.layers.Dense(int(net.dense), activation="relu",
                               kernel_regularizer=net._regularizer(keras), name="dense")(x)
    return x


def make_sequence_net(cls, ctx, params):
    """A sequence net of class ``cls``: as many input channels as the data has series."""
    from dlrun.algorithms.keras.estimator import params_for

    return cls(seed=ctx.seed, n_channels=int(ctx.meta.get("n_series", 1)), **params_for(cls, params))
