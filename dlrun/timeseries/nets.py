"""The Keras nets for forecasting, built for lag windows (``make_net``).

Each net is a scikit-learn regressor fitted on the framed windows by
:class:`~dlrun.timeseries.forecasters.WindowForecaster`. Early stopping
validates on the latest training windows (time order), never a shuffled split.
"""

from __future__ import annotations

from typing import Any

from dlrun.algorithms.keras.mlp import MLPRegressor


class WindowMLPRegressor(MLPRegressor):
    """The MLP on flat lag windows, validating on the latest windows."""

    _time_ordered = True


def net_class(kind: str):
    if kind == "mlp":
        return WindowMLPRegressor
    if kind == "lstm":
        from dlrun.algorithms.keras.lstm import LSTMRegressor

        return LSTMRegressor
    if kind == "cnn_lstm":
        from dlrun.algorithms.keras.lstm import CNNLSTMRegressor

        return CNNLSTMRegressor
    if kind in ("cnn1d", "cnn"):
        from dlrun.algorithms.keras.cnn1d import CNN1DRegressor

        return CNN1DRegressor
    raise ValueError(f"no forecasting net '{kind}'")


def make_net(kind: str, ctx, params: dict[str, Any]):
    from dlrun.algorithms.keras.estimator import params_for

    cls = net_class(kind)
    params = dict(params)
    if "hidden" in params:
        params["hidden"] = tuple(int(w) for w in params["hidden"])
    kwargs = params_for(cls, params)
    if "n_channels" in cls._get_param_names():
        kwargs["n_channels"] = int((ctx.meta or {}).get("n_series", 1))
    return cls(seed=ctx.seed, **{k: v for k, v in kwargs.items() if k != "seed"})
