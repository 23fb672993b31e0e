"""The 1D convolutional net on lag windows (time series): Conv1D, pooling, Dense.

Inputs are flat ``window x n_channels`` rows in time-major order, reshaped to
sequences (:class:`~dlrun.algorithms.keras.lstm.SequenceRegressorBase`); early
stopping validates on the latest training windows.
"""

from __future__ import annotations

from dlrun.algorithms.keras.blocks import dense_head
from dlrun.algorithms.keras.lstm import SequenceRegressorBase, make_sequence_net


class CNN1DRegressor(SequenceRegressorBase):
    architecture = {"filters": 64, "kernel_size": 3, "dense": 50, "dropout": 0.0, "n_channels": 1}

    def _build_body(self, inputs, keras):
        steps = int(inputs.shape[1])
        kernel = max(1, min(int(self.kernel_size), steps))
        x = keras.layers.Conv1D(int(self.filters), kernel, activation="relu",
                                kernel_regularizer=self._regularizer(keras), name="conv")(inputs)
        if steps - kernel + 1 >= 4:
            x = keras.layers.MaxPooling1D(2, name="pool")(x)
        x = keras.layers.Flatten()(x)
        return dense_head(x, self, keras)


def make_cnn1d(ctx, params):
    """The 1D CNN on sequences: as many input channels as the data has series."""
    return make_sequence_net(CNN1DRegressor, ctx, params)
