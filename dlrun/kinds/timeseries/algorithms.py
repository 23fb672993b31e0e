"""The forecasting-only algorithms: naive floors that read the history, and the CNN-LSTM.

``baseline`` (persistence) is the catalogue's naive floor, realised by this
kind (:func:`dlrun.kinds.timeseries.forecasters.make_forecaster`);
``linear``, ``random_forest``, ``xgboost``, ``mlp``, ``cnn`` and ``lstm`` read
the lag windows as sequences.
"""

from __future__ import annotations

from dlrun.catalogue import HISTORY, NAIVE, NET, NUMBER, SEQUENCE, AlgorithmInfo, BuildContext


def _seasonal_naive(ctx: BuildContext, *, period: int | None = None):
    from dlrun.kinds.timeseries.forecasters import make_naive

    return make_naive("seasonal_naive", ctx, {"period": period})


def _mean(ctx: BuildContext):
    from dlrun.kinds.timeseries.forecasters import make_naive

    return make_naive("mean", ctx, {})


def _cnn_lstm_class(ctx: BuildContext):
    from dlrun.algorithms.keras.lstm import CNNLSTMRegressor

    return CNNLSTMRegressor


def _net(signature):
    def build(ctx: BuildContext, **params):
        from dlrun.algorithms.keras.lstm import make_sequence_net

        return make_sequence_net(signature(ctx), ctx, params)

    return build


NUMBERS = frozenset({NUMBER})

SEASONAL_NAIVE = AlgorithmInfo("seasonal_naive", _seasonal_naive, NUMBERS, (HISTORY,), role=NAIVE,
                               invariances=frozenset({"monotone", "inputs"}),
                               description="naive: the value one season ago", rank=5)
MEAN = AlgorithmInfo("mean", _mean, NUMBERS, (HISTORY,), role=NAIVE,
                     invariances=frozenset({"monotone", "inputs"}),
                     description="naive: the mean of every observation so far", rank=6)
CNN_LSTM = AlgorithmInfo("cnn_lstm", _net(_cnn_lstm_class), NUMBERS, (SEQUENCE,), role=NET,
                         signature=_cnn_lstm_class,
                         description="Keras CNN-LSTM (Conv1D read by an LSTM) on lag windows", rank=92)
