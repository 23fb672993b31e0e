"""Forecasting: walk-forward validation, framing fitted on the past only, naive floors,
the published persistence scores, scaffolding and the forecasting algorithms' contract."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from sklearn.base import clone

from dlrun.catalogue import BuildContext, algorithms_for, compatible
from dlrun.cli import main
from dlrun.evaluation.candidates import Candidate, build_estimator
from dlrun.kinds.timeseries.forecasters import (
    MeanForecaster,
    PersistenceForecaster,
    SeasonalNaiveForecaster,
    make_forecaster,
)
from dlrun.kinds.timeseries.framing import SeriesFraming
from dlrun.kinds.timeseries.jobs import candidate_forecasts
from dlrun.kinds.timeseries.walkforward import walk_forward_plan

FAST = {"mlp": {"epochs": 10, "patience": 5}, "lstm": {"epochs": 5, "patience": 5},
        "cnn": {"epochs": 5, "patience": 5}, "cnn_lstm": {"epochs": 5, "patience": 5},
        "random_forest": {"n_estimators": 10}, "xgboost": {"n_estimators": 10}}
# every forecasting algorithm, on the differenced view where it reads lag windows
FORECASTERS = [(n, "diff" if compatible(n, "diff") else "lags")
               for n in algorithms_for("forecasting", "timeseries")]


def seasonal_series(n=96, period=12, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 + 0.8 * t + 15 * np.sin(2 * np.pi * t / period) + rng.normal(scale=2, size=n)


def context(**meta) -> BuildContext:
    base = {"target": "y", "exogenous": [], "n_series": 1, "period": 12, "window": 12,
            "horizon": 1, "test_size": 12}
    return BuildContext(task="forecasting", metric="rmse", seed=1, meta={**base, **meta})


def evaluate_json(project, *extra) -> dict:
    result = CliRunner().invoke(main, ["evaluate", str(project), "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def write_project(root, name, source, target, **series):
    folder = root / name
    folder.mkdir()
    spec = {"name": name, "kind": "timeseries", "task": "forecasting", "metric": "rmse",
            "data": {"source": str(source), "target": target}, "series": series}
    (folder / "project.yaml").write_text(yaml.safe_dump(spec))
    return folder


# --------------------------------------------------------------------------- protocol


def test_no_training_row_comes_after_a_test_row():
    plan = walk_forward_plan(100, test_size=10, origins=3, seeds=2)
    assert len(plan.folds) == 6 and len({f.digest() for f in plan.folds}) == 6
    for fold in plan.folds:
        assert fold.train.max() < fold.test.min()
        np.testing.assert_array_equal(fold.train, np.arange(fold.test.min()))  # never shuffled
    assert [f.test.min() for f in plan.folds[::2]] == [90, 80, 70]


@pytest.mark.parametrize("algorithm, view", [("linear", "lags"), ("linear", "diff"),
                                             ("xgboost", "seasonal_diff"), ("baseline", "lags"),
                                             ("mean", "lags"), ("seasonal_naive", "lags"),
                                             ("arima", "lags"), ("ets", "lags"), ("theta", "lags"),
                                             ("average", "lags")])
@pytest.mark.parametrize("horizon", [1, 3])
def test_forecasts_never_read_the_future(algorithm, view, horizon):
    """Changing the observations from k on leaves every forecast made before k + horizon alone."""
    y = seasonal_series()
    train, test = np.arange(72), np.arange(72, 96)
    ctx = context(horizon=horizon)
    cand = Candidate(algorithm, view, FAST.get(algorithm, {}))
    before, _ = candidate_forecasts(cand, ctx, None, y, train, test)
    for k in (72, 80, 90):
        changed = y.copy()
        changed[k:] += 1000.0
        after, _ = candidate_forecasts(cand, ctx, None, changed, train, test)
        safe = test < k + horizon
        np.testing.assert_allclose(after[safe], before[safe])
    if algorithm == "baseline":  # the perturbation is visible once it is in the past
        np.testing.assert_allclose(after[~safe], changed[test[~safe] - horizon])


def test_framing_is_fitted_on_the_training_part_only():
    y = seasonal_series()
    S = y[:60].reshape(-1, 1)
    framing = SeriesFraming(window=6, difference=True).fit(S)
    diffs = np.diff(y[:60])
    assert framing.feature_mean_[0] == pytest.approx(diffs.mean())
    assert framing.feature_scale_[0] == pytest.approx(diffs.std())
    # the future does not move the statistics, and forecasts come back in the series' units
    again = SeriesFraming(window=6, difference=True).fit(np.concatenate([y[:60], y[60:] * 50])[:60, None])
    assert again.feature_mean_[0] == framing.feature_mean_[0]
    positions = np.arange(60, 70)
    targets = framing.targets(y.reshape(-1, 1), positions)
    np.testing.assert_allclose(framing.invert(targets, y, positions), y[positions])


def test_seasonal_framing_inverts_to_the_original_units():
    y = seasonal_series()
    for kwargs in ({"seasonal": True}, {"seasonal": True, "difference": True}, {}):
        for h in (1, 2, 13):
            framing = SeriesFraming(window=4, horizon=h, period=12, **kwargs).fit(y[:70, None])
            positions = np.arange(70, 96)
            targets = framing.targets(y[:, None], positions)
            np.testing.assert_allclose(framing.invert(targets, y, positions), y[positions])


def test_naive_forecasters():
    y = np.arange(1.0, 31.0) ** 1.5
    positions = np.arange(20, 30)
    np.testing.assert_allclose(PersistenceForecaster().fit(None, y[:20]).forecast(None, y, positions),
                               y[positions - 1])
    np.testing.assert_allclose(PersistenceForecaster(horizon=3).forecast(None, y, positions),
                               y[positions - 3])
    np.testing.assert_allclose(SeasonalNaiveForecaster(period=7).forecast(None, y, positions),
                               y[positions - 7])
    np.testing.assert_allclose(SeasonalNaiveForecaster(period=4, horizon=6).forecast(None, y, positions),
                               y[positions - 8])
    np.testing.assert_allclose(MeanForecaster().forecast(None, y, positions),
                               [y[:t].mean() for t in positions])


@pytest.mark.parametrize("name, view", FORECASTERS, ids=[n for n, _ in FORECASTERS])
def test_forecasting_algorithm_contract(name, view):
    """Every forecasting entry builds, walks forward to finite forecasts from the target and
    another series, clones, pickles, and forecasts from a history frame (dlrun predict)."""
    y = seasonal_series(60)
    X = pd.DataFrame({"other": np.roll(y, 1) * 0.5})
    ctx = context(exogenous=["other"], n_series=2, window=6)
    pipe = build_estimator(Candidate(name, view, FAST.get(name, {})), ctx, {}, "timeseries")
    assert clone(pipe).get_params().keys() == pipe.get_params().keys()
    frame = X.assign(y=y)
    pipe.fit(X.iloc[:48], y[:48])
    model = pipe.named_steps["model"]
    forecasts = model.forecast(X.to_numpy(), y, np.arange(48, 60))
    assert forecasts.shape == (12,) and np.all(np.isfinite(forecasts))
    again = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_allclose(again.predict(frame.iloc[:48]), pipe.predict(frame.iloc[:48]), rtol=1e-5)


def test_window_learners_fit_on_lag_windows():
    from dlrun.catalogue import pair_context

    model = make_forecaster(Candidate("linear", "lags"), pair_context(context(window=5), "linear", "lags"))
    model.fit(None, seasonal_series(40))
    assert model.regressor_.n_features_in_ == 5 and model.framing_.window_ == 5


# --------------------------------------------------------------------------- published numbers


@pytest.mark.parametrize("file, target, expected", [
    ("monthly-shampoo-sales.csv", "Sales", 136.761),
    ("monthly-airline-passengers.csv", "Passengers", 53.152),
])
def test_persistence_matches_the_published_score(shared_file, tmp_path, file, target, expected):
    project = write_project(tmp_path, "p", shared_file(file), target, test_size=12)
    board = evaluate_json(project, "--only", "baseline,seasonal_naive,linear")
    assert board["task"] == "forecasting" and board["protocol"]["name"] == "walk-forward validation"
    base = next(r for r in board["rows"] if r["algorithm"] == "baseline")
    assert round(base["mean"], 3) == expected
    assert base["view"] == "lags" and len(base["scores"]) == 3  # one score per seed
    assert {"algorithm", "view", "mean", "std", "scores", "fit_seconds", "same_as_best"} <= set(base)
    assert board["jobs"]["total"] == board["jobs"]["computed"] > 0
    again = evaluate_json(project, "--only", "baseline,seasonal_naive,linear")
    assert again["jobs"]["reused"] == again["jobs"]["total"]


def test_shampoo_month_labels_are_read_as_months(shared_file, tmp_path):
    from dlrun.kinds.timeseries.data import load_series
    from dlrun.spec import load_spec

    project = write_project(tmp_path, "s", shared_file("monthly-shampoo-sales.csv"), "Sales")
    spec, folder = load_spec(project)
    data = load_series(spec, folder)
    ctx = data.meta["context"]
    assert (ctx["frequency"], ctx["period"], ctx["window"], ctx["test_size"]) == ("monthly", 12, 12, 12)
    assert data.meta["times"][0] == "1-01" and data.n_rows == 36 and data.X.shape[1] == 0


@pytest.mark.slow
def test_airline_best_model_beats_persistence_by_30_percent(shared_file, tmp_path):
    project = write_project(tmp_path, "a", shared_file("monthly-airline-passengers.csv"),
                            "Passengers", test_size=12)
    board = evaluate_json(project)
    names = {r["algorithm"] for r in board["rows"]}
    assert {"baseline", "mlp", "lstm", "xgboost", "cnn"} <= names
    base = next(r for r in board["rows"] if r["algorithm"] == "baseline")
    assert board["rows"][0]["mean"] < 0.7 * base["mean"]


# --------------------------------------------------------------------------- scaffolding


def test_new_timeseries_project_validates(shared_file, tmp_path):
    runner = CliRunner()
    data = shared_file("monthly-airline-passengers.csv")
    result = runner.invoke(main, ["new", "air", "--template", "timeseries", "--data", str(data),
                                  "--test-size", "12", "--horizon", "2", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    spec = yaml.safe_load((tmp_path / "air" / "project.yaml").read_text())
    assert spec["kind"] == "timeseries" and spec["task"] == "forecasting"
    assert spec["data"]["target"] == "Passengers" and spec["metric"] == "rmse"
    assert spec["series"]["time_column"] == "Month"
    assert (spec["series"]["test_size"], spec["series"]["horizon"]) == (12, 2)
    assert spec["reference"]["naive"] == pytest.approx(53.15)  # recognised by content
    result = runner.invoke(main, ["validate", str(tmp_path / "air")])
    assert result.exit_code == 0, result.output


def test_new_timeseries_generated_multivariate(tmp_path):
    days = pd.date_range("2020-01-01", periods=200, freq="D")
    y = seasonal_series(200, period=7)
    pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "load": y, "temp": np.roll(y, 3)}).to_csv(
        tmp_path / "s.csv", index=False)
    result = CliRunner().invoke(main, ["new", "m", "--template", "timeseries", "--data",
                                       str(tmp_path / "s.csv"), "--target", "load",
                                       "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    board = evaluate_json(tmp_path / "m", "--only", "baseline,linear", "--quick")
    assert board["protocol"]["test_size"] == 20  # 10% of the series: daily data, season 7
    assert {r["algorithm"] for r in board["rows"]} == {"baseline", "linear"}


def test_tabular_template_refuses_time_series_options(tmp_path, tmp_csv):
    path = tmp_csv("a,b\n1,2\n3,4\n")
    result = CliRunner().invoke(main, ["new", "t", "--data", str(path), "--test-size", "3",
                                       "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "--test-size" in result.output


def test_series_block_needs_a_timeseries_project():
    from dlrun.errors import SpecError
    from dlrun.spec import parse_spec

    with pytest.raises(SpecError, match="series"):
        parse_spec({"name": "x", "task": "regression", "metric": "rmse",
                    "data": {"source": "d.csv", "target": "y"}, "series": {"test_size": 3}})
    with pytest.raises(SpecError, match="task"):
        parse_spec({"name": "x", "task": "forecasting", "metric": "rmse",
                    "data": {"source": "d.csv", "target": "y"}})
