"""Sequence nets on lag windows: an LSTM, and a CNN-LSTM (Conv1D feature maps read by an LSTM).

Inputs arrive as flat rows of ``window x n_channels`` values in time-major order
(the layout :class:`dlrun.kinds.timeseries.framing.SeriesFraming` produces) and are
reshaped to ``(window, n_channels)`` sequences. Early stopping validates on the
latest training windows (``_time_ordered``), never on a shuffled split.
"""

from __future__ import annotations

import numpy as np

from dlrun.algorithms.keras.blocks import dense_head
from dlrun.algorithms.keras.estimator import KerasRegressorBase, params_for
from dlrun.algorithms.keras.trainers import COMPILED_LOOP


class SequenceRegressorBase(KerasRegressorBase):
    """Reshapes flat lag windows to sequences; subclasses build the layers."""

    _time_ordered = True
    _managed = ("n_channels",)  # the number of series, from the data
    trainer = COMPILED_LOOP

    def _prepare_x(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim == 3:
            return X
        channels = max(1, int(self.n_channels))
        return X.reshape(len(X), X.shape[1] // channels, channels)


class LSTMRegressor(SequenceRegressorBase):
    architecture = {"units": 50, "dense": 0, "dropout": 0.0, "n_channels": 1}

    def _build_body(self, inputs, keras):
        x = keras.layers.LSTM(int(self.units), kernel_regularizer=self._regularizer(keras),
                              seed=self.seed, name="lstm")(inputs)
        return dense_head(x, self, keras)


class CNNLSTMRegressor(SequenceRegressorBase):
    architecture = {"filters": 32, "kernel_size": 3, "units": 50, "dense": 0, "dropout": 0.0,
                    "n_channels": 1}

    def _build_body(self, inputs, keras):
        kernel = max(1, min(int(self.kernel_size), int(inputs.shape[1])))
        x = keras.layers.Conv1D(int(self.filters), kernel, activation="relu",
                                kernel_regularizer=self._regularizer(keras), name="conv")(inputs)
        x = keras.layers.LSTM(int(self.units), kernel_regularizer=self._regularizer(keras),
                              seed=self.seed, name="lstm")(x)
        return dense_head(x, self, keras)


def make_sequence_net(cls, ctx, params):
    """A sequence net of class ``cls``: as many input channels as the data has series."""
    return cls(seed=ctx.seed, n_channels=int(ctx.meta.get("n_series", 1)), **params_for(cls, params))
