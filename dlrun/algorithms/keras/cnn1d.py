"""The 1D convolutional net on lag windows (time series): Conv1D, pooling, Dense.

Inputs are flat ``window x n_channels`` rows in time-major order, reshaped to
sequences (:class:`~dlrun.algorithms.keras.lstm.SequenceRegressorBase`); early
stopping validates on the latest training windows.
"""

from __future__ import annotations

from dlrun.algorithms.keras.estimator import KerasEstimator
from dlrun.algorithms.keras.lstm import SequenceRegressorBase, _head, make_sequence_net


class CNN1DRegressor(SequenceRegressorBase):
    def __init__(self, *, filters: int = 64, kernel_size: int = 3, dense: int = 50,
                 dropout: float = 0.0, n_channels: int = 1, learning_rate: float = 3e-3,
                 epochs: int = 300, batch_size: int = 64, patience: int = 20,
                 validation_fraction: float = 0.15, l2: float = 1e-4, seed: int = 1):
        self.filters = filters
        self.kernel_size = kernel_size
        self.dense = dense
        self.dropout = dropout
        self.n_channels = n_channels
        KerasEstimator.__init__(self, learning_rate=learning_rate, epochs=epochs,
                                batch_size=batch_size, patience=patience,
                                validation_fraction=validation_fraction, l2=l2, seed=seed)

    def _build_body(self, inputs, keras):
        steps = int(inputs.shape[1])
        kernel = max(1, min(int(self.kernel_size), steps))
        x = keras.layers.Conv1D(int(self.filters), kernel, activation="relu",
                                kernel_regularizer=self._regularizer(keras), name="conv")(inputs)
        if steps - kernel + 1 >= 4:
            x = keras.layers.MaxPooling1D(2, name="pool")(x)
        x = keras.layers.Flatten()(x)
        return _head(x, self, keras)


def make_cnn1d(ctx, params):
    """The 1D CNN on sequences: as many input channels as the data has series."""
    return make_sequence_net(CNN1DRegressor, ctx, params)
