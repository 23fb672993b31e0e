"""Time series (``kind: timeseries``, ``task: forecasting``): walk-forward validation.

Importing this package is light; each method imports what it needs:

* data: :mod:`.data` (the series, its time column and frequency, the protocol's
  defaults); the ``series:`` block of project.yaml (:mod:`.spec`);
* resampling: :mod:`.walkforward` (fit on the past, forecast the next window);
* views (:mod:`.views`): how a series is framed for the window learners --
  ``lags``, ``diff``, ``seasonal_diff`` -- each providing time-ordered
  *sequences* of lag windows; ``lags`` also hands the raw *history* to the
  naive forecasters;
* estimators: :mod:`.forecasters` (every learner wrapped into a walk-forward
  forecaster, the framing inside it; the naive floor here is persistence);
  folds: :class:`.jobs.WalkForwardFolds`;
* algorithms of its own (:mod:`.algorithms`): the naive floors ``seasonal_naive``
  and ``mean``, the statistical models ``arima``, ``ets`` and ``theta``
  (:mod:`.statistical`, statsforecast), ``average`` (of forecasts), the net
  ``cnn_lstm``; ``linear``, ``random_forest``, ``xgboost``, ``mlp``, ``cnn`` and
  ``lstm`` read the lag windows as sequences;
* which rows are within noise of the best: Diebold-Mariano on the stored
  forecasts, and the ``average+best`` row (:mod:`.compare`);
* ``dlrun new``: :mod:`.scaffold`; ``dlrun predict``: the recent history
  (:func:`.data.read_history`); the report's forecast figure: :mod:`.report`.
"""

from __future__ import annotations

from typing import Any

from dlrun.kind import Kind

NAME = "timeseries"
TASK = "forecasting"

SPEC_HEADER = """\
# dlrun project spec (made by `dlrun new`; edit freely, then run `dlrun validate`).
#   name / description  what the project is called and is about
#   kind / task         timeseries / forecasting: the next values of a series from its past
#   data.source         the data: a path relative to this folder
#   data.header, delimiter, missing, columns
#                       how to read the CSV: header row or not, field delimiter,
#                       strings meaning "missing", column names for a file without a header
#   data.target         the series to forecast (other numeric columns are inputs)
#   metric              ranks the leaderboard (rmse, mae, mse: errors in the series' units)
#   series              time column, frequency, season length (period), lag window,
#                       walk-forward protocol: test_size (the last N observations),
#                       horizon (steps ahead), origins (windows), seeds (runs of each net)
#   evaluation.seed     seed of every model
#   reference           published naive and good scores of a recognised standard dataset
"""


class TimeseriesKind(Kind):
    name = NAME
    description = "a time series (one or several numeric series over time), forecast walk-forward"
    tasks = (TASK,)
    block = "series"
    rank = 2
    new_options = ("test_size", "horizon")
    trusted_types = tuple(f"dlrun.kinds.timeseries.{name}" for name in (
        "framing.SeriesFraming", "forecasters.WindowForecaster", "forecasters.PersistenceForecaster",
        "forecasters.SeasonalNaiveForecaster", "forecasters.MeanForecaster",
        "forecasters.AverageForecaster", "statistical.StatisticalForecaster"))
    data_help = "a CSV or Parquet file: a time column and one column per series"

    def block_model(self):
        from dlrun.kinds.timeseries.spec import TimeSeriesSpec

        return TimeSeriesSpec

    def metrics(self, task: str) -> tuple[str, ...]:
        return ("rmse", "mae", "mse")  # errors in the series' units

    def draft(self, request):
        from dlrun.kinds.timeseries.scaffold import timeseries_draft

        return timeseries_draft(request)

    def spec_header(self) -> str:
        return SPEC_HEADER

    def task_phrase(self, task: str) -> str:
        return "forecasting: its next values, from its past (walk-forward validation)"

    def load(self, spec, project_dir):
        from dlrun.kinds.timeseries.data import load_series

        return load_series(spec, project_dir)

    def plan(self, spec, dataset, quick: bool):
        from dlrun.kinds.timeseries.walkforward import walk_forward_planner

        return walk_forward_planner(spec, dataset, quick)

    def estimator(self, candidate, context, roles):
        from dlrun.kinds.timeseries.forecasters import forecasting_pipeline

        return forecasting_pipeline(candidate, context)

    def folds(self):
        from dlrun.kinds.timeseries.jobs import WalkForwardFolds

        return WalkForwardFolds()

    def summary(self, dataset) -> dict[str, Any]:
        from dlrun.data.dataset import basic_summary

        summary = basic_summary(dataset)
        ctx = dataset.meta.get("context") or {}
        summary.update(series=int(ctx.get("n_series", 1)), frequency=ctx.get("frequency", ""),
                       test_size=ctx.get("test_size"), horizon=ctx.get("horizon"))
        return summary

    def describe(self, summary) -> str:
        return (f"{summary['rows']} observations of {summary['series']} series ({summary['frequency']}), "
                f"walk-forward over the last {summary['test_size']}, {summary['horizon']} step(s) ahead")

    def mark_same_as_best(self, board, stored) -> None:
        """Diebold-Mariano (HLN) on the per-step losses of the seed-averaged forecasts; the
        seeds' spread beside it, per-step scores, and the ``average+best`` row (:mod:`.compare`)."""
        from dlrun.kinds.timeseries.compare import mark_forecasts

        mark_forecasts(board, stored)

    def read_inputs(self, bundle, path):
        from dlrun.kinds.timeseries.data import read_history

        return read_history(bundle, path)

    def predict_hint(self) -> str:
        return "recent-history.csv"

    def report_sections(self, context) -> list:
        """The stored walk-forward forecasts of the best model and of the baseline."""
        from dlrun.kinds.timeseries.report import forecast_sections

        return forecast_sections(context)

    def example(self, task: str, rows: int = 60, seed: int = 0):
        """A monthly series with a trend and a season, and one other series."""
        import numpy as np
        import pandas as pd

        from dlrun.kinds.timeseries.data import build_series
        from dlrun.spec import DataSpec, spec_model

        rng = np.random.default_rng(seed)
        t = np.arange(rows)
        frame = pd.DataFrame({
            "month": pd.date_range("2000-01-01", periods=rows, freq="MS").strftime("%Y-%m"),
            "other": np.cos(t / 3.0) + rng.normal(scale=0.1, size=rows),
            "sales": 100 + t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(scale=1.0, size=rows),
        })
        spec = spec_model().model_construct(
            name="example", kind=NAME, task=TASK,
            data=DataSpec(source="example.csv", target="sales"),
            series=self.block_model()(time_column="month", test_size=6, window=6),
        )
        return build_series(frame, spec)


KIND = TimeseriesKind()
