"""The forecasting-only algorithms: naive floors and statistical models that read the
history, the average of forecasts, and the CNN-LSTM.

``baseline`` (persistence) is the catalogue's naive floor, realised by this
kind (:func:`dlrun.kinds.timeseries.forecasters.make_forecaster`);
``linear``, ``random_forest``, ``xgboost``, ``mlp``, ``cnn`` and ``lstm`` read
the lag windows as sequences. ``arima``, ``ets`` and ``theta`` are
statsforecast's automatic models (:mod:`.statistical`, the ``forecast`` extra);
``average`` averages the forecasts of other forecasters (by default those three:
the classic combination; after the grid, the leaderboard's ``average+best`` row is
the average of the best statistical model and the best net, :mod:`.compare`).
"""

from __future__ import annotations

from dlrun.catalogue import (
    HISTORY,
    MODEL,
    NAIVE,
    NET,
    NUMBER,
    SEQUENCE,
    AlgorithmInfo,
    BuildContext,
)


def _seasonal_naive(ctx: BuildContext, *, period: int | None = None):
    from dlrun.kinds.timeseries.forecasters import make_naive

    return make_naive("seasonal_naive", ctx, {"period": period})


def _mean(ctx: BuildContext):
    from dlrun.kinds.timeseries.forecasters import make_naive

    return make_naive("mean", ctx, {})


def _statistical(model: str):
    def build(ctx: BuildContext, *, transform: str = "auto", max_train: int = 1000,
              period: int | None = None):
        from dlrun.kinds.timeseries.statistical import make_statistical

        return make_statistical(model, ctx, {"transform": transform, "max_train": max_train,
                                             "period": period})

    return build


def _average(ctx: BuildContext, *, members: list | None = None):
    from dlrun.kinds.timeseries.forecasters import make_average

    return make_average(ctx, members)


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

#: the statistical models (statsforecast): the average+best row takes the best of them
STATISTICAL_MODELS = ("arima", "ets", "theta")
ARIMA = AlgorithmInfo("arima", _statistical("arima"), NUMBERS, (HISTORY,), role=MODEL,
                      description="AutoARIMA (statsforecast): orders and season chosen on the "
                      "training window, other series as lagged regressors", rank=7)
ETS = AlgorithmInfo("ets", _statistical("ets"), NUMBERS, (HISTORY,), role=MODEL,
                    description="AutoETS (statsforecast): exponential smoothing, error/trend/season "
                    "chosen on the training window", rank=8)
THETA = AlgorithmInfo("theta", _statistical("theta"), NUMBERS, (HISTORY,), role=MODEL,
                      description="AutoTheta (statsforecast): the Theta method, variant chosen on "
                      "the training window", rank=9)
AVERAGE = AlgorithmInfo("average", _average, NUMBERS, (HISTORY,), role=MODEL,
                        description="the average of forecasts: arima, ets and theta by default "
                        "(members: [ALGO/VIEW, ...])", rank=10)
