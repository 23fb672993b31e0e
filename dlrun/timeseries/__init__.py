"""Time series (``kind: timeseries``, ``task: forecasting``): walk-forward validation.

Importing this package registers, without importing anything heavy:

* the data loader (:mod:`.data`), the walk-forward planner (:mod:`.walkforward`),
  the job runner (:mod:`.jobs`), the predictor for ``dlrun predict`` and the
  report section plotting the forecasts (:mod:`.report`);
* the views -- how a series is framed for the window learners (:mod:`.framing`):
  ``lags`` (scaled lag windows of the series as it is), ``diff`` (of the first
  differences) and ``seasonal_diff`` (of the seasonal differences);
* the forecasting-only algorithms: the naive floors ``seasonal_naive`` and
  ``mean`` (``baseline`` is persistence, see dlrun.algorithms.builtin), and the
  nets ``lstm`` and ``cnn_lstm``; ``cnn`` (the image CNN's entry) builds the 1D CNN
  for forecasting, with the defaults listed as ``cnn1d`` in configs/algorithms.yaml.

``linear``, ``random_forest``, ``xgboost`` and ``mlp`` are the tabular entries,
fitted on lag windows when the task is forecasting.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dlrun.algorithms import builtin as _builtin  # noqa: F401 - the entries extended below
from dlrun.catalogue import (
    ALGORITHMS,
    DATA_LOADERS,
    JOB_RUNNERS,
    PLANNERS,
    PREDICTORS,
    REPORT_SECTIONS,
    VIEWS,
    BuildContext,
    ViewInfo,
    algorithm,
)

KIND = "timeseries"
FORECASTING = ("forecasting",)
NAIVE_ALGORITHMS = frozenset({"baseline", "seasonal_naive", "mean"})
# the views only matter to window learners: naive forecasters are evaluated on 'lags' alone
WINDOW_ALGORITHMS = frozenset({"linear", "knn", "cart", "svm", "random_forest", "extra_trees",
                               "xgboost", "mlp", "cnn", "cnn1d", "lstm", "cnn_lstm"})


def _load(spec, project_dir):
    from dlrun.timeseries.data import load_series

    return load_series(spec, project_dir)


def _plan(spec, dataset, quick):
    from dlrun.timeseries.walkforward import walk_forward_planner

    return walk_forward_planner(spec, dataset, quick)


def _run(job, data):
    from dlrun.timeseries.jobs import run_forecast_job

    return run_forecast_job(job, data)


def _predictor(bundle, path):
    from dlrun.timeseries.data import read_history

    return read_history(bundle, path)


def _report(context, pipeline, board):
    from dlrun.timeseries.report import forecast_section

    return forecast_section(context, pipeline, board)


DATA_LOADERS.register(KIND, _load)
PLANNERS.register(KIND, _plan)
JOB_RUNNERS.register(KIND, _run)
PREDICTORS.register(KIND, _predictor)
REPORT_SECTIONS.register("forecasts", _report)


def _framing(difference: bool, seasonal: bool):
    def build(numeric=None, categorical=None):
        from dlrun.timeseries.framing import SeriesFraming

        return SeriesFraming(difference=difference, seasonal=seasonal)

    return build


def _register_view(name: str, build, description: str, only=None) -> None:
    info: dict[str, Any] = {"description": description}
    if only is not None and "algorithms" in ViewInfo.__dataclass_fields__:
        info["algorithms"] = only
    VIEWS.register(name, ViewInfo(name, build, frozenset({KIND}), **info))


_register_view("lags", _framing(False, False),
               "lag windows of the series as it is, standardised on the training part")
_register_view("diff", _framing(True, False),
               "lag windows of the first differences (removes a trend), standardised",
               WINDOW_ALGORITHMS)
_register_view("seasonal_diff", _framing(False, True),
               "lag windows of the seasonal differences (removes the season), standardised",
               WINDOW_ALGORITHMS)


@algorithm("seasonal_naive", tasks=FORECASTING, data_kinds=(KIND,), family="baseline",
           description="naive: the value one season ago")
def seasonal_naive(ctx: BuildContext, params: dict[str, Any]):
    from dlrun.timeseries.forecasters import make_naive

    return make_naive("seasonal_naive", ctx, params)


@algorithm("mean", tasks=FORECASTING, data_kinds=(KIND,), family="baseline",
           description="naive: the mean of every observation so far")
def mean(ctx: BuildContext, params: dict[str, Any]):
    from dlrun.timeseries.forecasters import make_naive

    return make_naive("mean", ctx, params)


def _net(kind: str):
    def build(ctx: BuildContext, params: dict[str, Any]):
        from dlrun.timeseries.nets import make_net

        return make_net(kind, ctx, params)

    return build


algorithm("lstm", tasks=FORECASTING, data_kinds=(KIND,), family="deep",
          description="Keras LSTM on lag windows")(_net("lstm"))
algorithm("cnn_lstm", tasks=FORECASTING, data_kinds=(KIND,), family="deep",
          description="Keras CNN-LSTM (Conv1D read by an LSTM) on lag windows")(_net("cnn_lstm"))


# The tabular entries that also forecast (their builders branch on the task) read lag windows.
for _name in ("baseline", "linear", "random_forest", "xgboost", "mlp"):
    _info = ALGORITHMS.get(_name)
    ALGORITHMS.register(_name, replace(_info, data_kinds=_info.data_kinds | {KIND}))


def _cnn_for_forecasting(image_build, image_defaults: dict[str, Any]):
    """``cnn`` serves both kinds: images keep their builder, forecasting gets the 1D CNN
    (with cnn1d's defaults, plus whatever the project overrides)."""

    def build(ctx: BuildContext, params: dict[str, Any]):
        if ctx.task != "forecasting":
            return image_build(ctx, params)
        from dlrun.config import algorithm_defaults
        from dlrun.timeseries.nets import make_net

        overrides = {k: v for k, v in params.items()
                     if k not in image_defaults or image_defaults[k] != v}
        return make_net("cnn1d", ctx, {**algorithm_defaults("cnn1d"), **overrides})

    return build


if "cnn" in ALGORITHMS:
    _info = ALGORITHMS.get("cnn")
    ALGORITHMS.register("cnn", replace(
        _info, build=_cnn_for_forecasting(_info.build, _info.defaults),
        tasks=_info.tasks | {"forecasting"}, data_kinds=_info.data_kinds | {KIND},
        description=_info.description.rstrip(".") + "; 1D CNN on lag windows for forecasting",
    ))
else:  # no image CNN in this build: the name serves forecasting alone
    algorithm("cnn", tasks=FORECASTING, data_kinds=(KIND,), family="deep",
              description="Keras 1D CNN on lag windows (forecasting)")(
        lambda ctx, params: _net("cnn1d")(ctx, {**_cnn1d_defaults(), **params}))


def _cnn1d_defaults() -> dict[str, Any]:
    from dlrun.config import algorithm_defaults

    return algorithm_defaults("cnn1d")
