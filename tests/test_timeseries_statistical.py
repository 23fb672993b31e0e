"""Forecasting against the statistical models: ARIMA/ETS/Theta (statsforecast) under walk-forward,
the Diebold-Mariano test behind ``same_as_best``, several origins, per-step scores, the averaged
forecast of the best statistical model and the best net, the report and ``dlrun predict``."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from dlrun.cli import main
from dlrun.evaluation.candidates import Candidate
from dlrun.evaluation.jobs import Prediction
from dlrun.evaluation.stats import diebold_mariano
from dlrun.kinds.timeseries.compare import mark_forecasts
from dlrun.kinds.timeseries.jobs import candidate_forecasts, step_forecasts
from dlrun.kinds.timeseries.walkforward import walk_forward_plan
from tests.test_timeseries import context, evaluate_json, seasonal_series, write_project

STATISTICAL = ("arima", "ets", "theta", "average")


def series_csv(path, n=84, seed=0, other=False):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 200 + 2 * t + 25 * np.sin(2 * np.pi * t / 12) + rng.normal(scale=3, size=n)
    frame = pd.DataFrame({"month": pd.date_range("2000-01-01", periods=n, freq="MS").strftime("%Y-%m")})
    if other:
        frame["price"] = np.roll(y, 2) * 0.1 + rng.normal(size=n)
    frame["sales"] = y
    frame.to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- the forecasters


@pytest.mark.parametrize("name", ["arima", "ets", "theta"])
def test_statistical_forecasts_with_another_series_never_read_the_future(name):
    """With an exogenous series too (ARIMA reads it as a lagged regressor): changing either
    series from k on leaves every forecast made before k + horizon alone."""
    y = seasonal_series(84)
    X = pd.DataFrame({"other": np.cos(np.arange(84) / 3.0)})
    ctx = context(exogenous=["other"], n_series=2, horizon=2)
    train, test = np.arange(60), np.arange(60, 84)
    cand = Candidate(name, "lags")
    before, _ = candidate_forecasts(cand, ctx, X, y, train, test)
    for k in (60, 70, 80):
        y2, X2 = y.copy(), X.copy()
        y2[k:] += 500.0
        X2.loc[k:, "other"] += 50.0
        after, _ = candidate_forecasts(cand, ctx, X2, y2, train, test)
        safe = test < k + 2
        np.testing.assert_allclose(after[safe], before[safe])


def test_statistical_model_chooses_inside_the_training_window_and_steps_match():
    from dlrun.catalogue import pair_context
    from dlrun.kinds.timeseries.forecasters import make_forecaster

    y = np.exp(seasonal_series(96) / 60.0)  # multiplicative: the log is the better scale
    ctx = pair_context(context(horizon=3), "arima", "lags")
    model = make_forecaster(Candidate("arima", "lags"), ctx).fit(None, y[:84])
    assert model.transform_ in ("none", "log") and model.description().startswith("ARIMA(")
    steps = model.forecast_steps(None, y, np.arange(84, 96))
    assert steps.shape == (3, 12)
    np.testing.assert_allclose(steps[-1], model.forecast(None, y, np.arange(84, 96)))
    one = make_forecaster(Candidate("arima", "lags"), pair_context(context(horizon=1), "arima", "lags"))
    one.fit(None, y[:84])  # without other series the horizon does not change the fit
    np.testing.assert_allclose(steps[0], one.forecast(None, y, np.arange(84, 96)))
    bands = model.intervals(None, y, np.arange(84, 96))
    assert set(bands) == {"80", "95"}
    lo95, lo80, hi80, hi95 = (np.asarray(bands[lv][side]) for lv, side in
                              (("95", "lo"), ("80", "lo"), ("80", "hi"), ("95", "hi")))
    assert np.all(lo95 <= lo80) and np.all(lo80 <= steps[-1]) and np.all(steps[-1] <= hi80)
    assert np.all(hi80 <= hi95)


def test_missing_statsforecast_fails_naming_the_extra_and_the_rest_runs(tmp_path, monkeypatch):
    from dlrun.kinds.timeseries.statistical import MissingExtra

    monkeypatch.setitem(sys.modules, "statsforecast", None)  # `import statsforecast` now fails
    y = seasonal_series(60, seed=7)  # data no earlier fit of this process has seen
    with pytest.raises(MissingExtra, match=r"dlrun\[forecast\]"):
        candidate_forecasts(Candidate("ets", "lags"), context(), None, y, np.arange(48), np.arange(48, 60))
    project = write_project(tmp_path, "m", series_csv(tmp_path / "s.csv", seed=7), "sales", test_size=12)
    board = evaluate_json(project, "--only", "baseline,theta", "--quick")
    assert [r["algorithm"] for r in board["rows"]] == ["baseline"]
    assert board["failures"][0]["algorithm"] == "theta"
    assert "pip install 'dlrun[forecast]'" in board["failures"][0]["error"]


def test_start_up_paths_never_import_statsforecast(tmp_path):
    csv = series_csv(tmp_path / "s.csv")
    code = f"""
import sys
from click.testing import CliRunner
from dlrun.cli import main
runner = CliRunner()
for args in (["--help"], ["new", "p", "--template", "timeseries", "--data", {str(csv)!r},
              "--dir", {str(tmp_path)!r}], ["validate", {str(tmp_path / "p")!r}], ["catalogue"]):
    result = runner.invoke(main, args)
    assert result.exit_code == 0, (args, result.output)
print(",".join(m for m in ("statsforecast", "numba") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


# --------------------------------------------------------------------------- Diebold-Mariano


def reference_dm(e1, e2, h):
    """Diebold-Mariano with HLN's correction, written out as in Harvey, Leybourne & Newbold
    (1997), eq. (4)-(6) (squared-error loss), independently of dlrun's implementation."""
    from scipy import stats

    d = [a * a - b * b for a, b in zip(e1, e2, strict=True)]
    n = len(d)
    dbar = sum(d) / n

    def gamma(k):
        return sum((d[t] - dbar) * (d[t - k] - dbar) for t in range(k, n)) / n

    v = (gamma(0) + 2 * sum(gamma(k) for k in range(1, h))) / n
    s1 = dbar / math.sqrt(v) * math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    return 2 * (1 - stats.t.cdf(abs(s1), n - 1))


@pytest.mark.parametrize("h", [1, 2, 4])
def test_diebold_mariano_matches_a_reference_computation(h):
    rng = np.random.default_rng(h)
    e1 = rng.normal(size=40)
    e2 = 1.3 * rng.normal(size=40) + 0.2
    p = diebold_mariano(e1 ** 2, e2 ** 2, horizon=h)
    assert p == pytest.approx(reference_dm(e1, e2, h), rel=1e-9)
    assert diebold_mariano(e1 ** 2, e1 ** 2) == 1.0
    assert diebold_mariano(e1 ** 2, (e1 + 10) ** 2) < 1e-6


def fake_stored(y, rows: dict[str, list[np.ndarray]], origins=1, seeds=3, test_size=12, extras=None):
    """A ``stored`` accessor over forecasts given per row as one array per (origin, seed) fold."""
    plan = walk_forward_plan(len(y), test_size, origins, seeds)

    class Stored:
        def __init__(self):
            self.y = np.asarray(y, float)

        def outputs(self, row):
            values = rows.get(row["algorithm"])
            if values is None:
                return None
            return [(f, Prediction(f.test, v)) for f, v in zip(plan.folds, values, strict=True)]

        def extras(self, row):
            return [(f, (extras or {}).get(row["algorithm"], {})) for f in plan.folds]

    return plan, Stored()


def board_of(y, plan, rows: dict[str, list[np.ndarray]], metric="rmse", horizon=1, roles=None):
    out = []
    for name, values in rows.items():
        scores = [float(np.sqrt(np.mean((y[f.test] - v) ** 2))) for f, v in zip(plan.folds, values, strict=True)]
        out.append({"algorithm": name, "view": "lags", "mean": float(np.mean(scores)),
                    "std": float(np.std(scores)), "scores": scores, "fit_seconds": 0.1})
    out.sort(key=lambda r: (r["mean"], r["std"], r["algorithm"]))
    return {"metric": metric, "greater_is_better": False, "rows": out,
            "protocol": {"horizon": horizon, "test_fraction": 0.1}, "notes": []}


def test_deterministic_forecasters_that_differ_slightly_are_same_as_best():
    """Seeds are not repeats: three identical folds of two deterministic rows that differ a
    little gave p = 0 under the t-test; Diebold-Mariano on their forecasts says within noise,
    and a clearly worse forecaster is not."""
    from dlrun.evaluation.stats import mark_same_as_best

    rng = np.random.default_rng(0)
    y = 100 + np.cumsum(rng.normal(size=60))
    test = np.arange(48, 60)
    good = y[test] + rng.normal(scale=1.0, size=12)
    close = good + rng.normal(scale=0.2, size=12)
    worse = y[test] + rng.normal(scale=4.0, size=12) + 3.0
    rows = {"arima": [good] * 3, "ets": [close] * 3, "mean": [worse] * 3}
    plan, stored = fake_stored(y, rows)
    old = board_of(y, plan, rows)
    mark_same_as_best(old["rows"], 0.1)
    assert [r["p_value"] for r in old["rows"][1:]] == [0.0, 0.0]  # what the issue reported

    board = board_of(y, plan, rows)
    mark_forecasts(board, stored)
    marks = {r["algorithm"]: (r["same_as_best"], r["p_value"], r.get("test")) for r in board["rows"]}
    assert marks[board["rows"][0]["algorithm"]][0] is True
    slight = "ets" if board["rows"][0]["algorithm"] == "arima" else "arima"
    assert marks[slight][0] is True and marks[slight][1] > 0.05 and marks[slight][2] == "diebold-mariano"
    assert marks["mean"][0] is False and marks["mean"][1] < 0.05
    assert "Diebold-Mariano" in board["same_as_best_test"]


def test_nets_are_compared_on_their_seed_averaged_forecasts_with_the_spread_beside():
    rng = np.random.default_rng(1)
    y = 50 + np.cumsum(rng.normal(size=60))
    test = np.arange(48, 60)
    base = y[test] + rng.normal(scale=1.0, size=12)
    seeds = [base + rng.normal(scale=0.8, size=12) for _ in range(3)]
    rows = {"mlp": seeds, "arima": [y[test] + rng.normal(scale=1.1, size=12)] * 3}
    plan, stored = fake_stored(y, rows)
    board = board_of(y, plan, rows)
    mark_forecasts(board, stored)
    mlp = next(r for r in board["rows"] if r["algorithm"] == "mlp")
    per_seed = [float(np.sqrt(np.mean((y[test] - s) ** 2))) for s in seeds]
    assert mlp["seeds"]["n"] == 3 and mlp["seeds"]["std"] == pytest.approx(np.std(per_seed), abs=1e-6)
    averaged = np.mean(seeds, axis=0)
    assert mlp["seed_averaged"] == pytest.approx(np.sqrt(np.mean((y[test] - averaged) ** 2)), abs=1e-6)
    assert next(r for r in board["rows"] if r["algorithm"] == "arima")["seeds"]["std"] == 0.0


# --------------------------------------------------------------------------- average+best


def test_average_of_the_best_statistical_model_and_the_best_net_is_its_own_row():
    rng = np.random.default_rng(2)
    y = 80 + np.cumsum(rng.normal(size=72))
    plan = walk_forward_plan(72, 12, origins=2, seeds=2)
    err = {name: rng.normal(scale=s, size=72) for name, s in
           (("arima", 2.0), ("ets", 3.0), ("mlp", 2.5), ("cnn", 4.0))}
    rows = {name: [y[f.test] + err[name][f.test] + (0.3 * f.repeat if name in ("mlp", "cnn") else 0)
                   for f in plan.folds] for name in err}
    _, stored = fake_stored(y, rows, origins=2, seeds=2)
    board = board_of(y, plan, rows)
    mark_forecasts(board, stored)
    avg = next(r for r in board["rows"] if r["algorithm"] == "average+best")
    assert avg["members"] == [{"algorithm": "arima", "view": "lags"}, {"algorithm": "mlp", "view": "lags"}]
    assert avg["selected_on"] == "the other origins" and len(avg["scores"]) == 4
    for fold, score in zip(plan.folds, avg["scores"], strict=True):
        mean = (rows["arima"][plan.folds.index(fold)] + rows["mlp"][plan.folds.index(fold)]) / 2
        assert score == pytest.approx(np.sqrt(np.mean((y[fold.test] - mean) ** 2)), abs=1e-5)
    means = [r["mean"] for r in board["rows"]]
    assert means == sorted(means) and "same_as_best" in avg and "p_value" in avg
    # one origin: chosen on the scored window, and said so
    plan1 = walk_forward_plan(72, 12, origins=1, seeds=2)
    rows1 = {name: values[:2] for name, values in rows.items()}
    _, stored1 = fake_stored(y, rows1, origins=1, seeds=2)
    board1 = board_of(y, plan1, rows1)
    mark_forecasts(board1, stored1)
    avg1 = next(r for r in board1["rows"] if r["algorithm"] == "average+best")
    assert avg1["selected_on"] == "the same window"
    assert any("optimistic" in note for note in board1["notes"])


# --------------------------------------------------------------------------- end to end


def test_several_origins_and_per_step_scores(tmp_path):
    csv = series_csv(tmp_path / "s.csv", n=96)
    project = write_project(tmp_path, "h", csv, "sales", test_size=12, horizon=3, origins=3, seeds=1)
    board = evaluate_json(project, "--only", "baseline,ets,linear")
    assert board["protocol"]["origins"] == 3 and board["protocol"]["horizon"] == 3
    y = pd.read_csv(csv)["sales"].to_numpy()
    for row in board["rows"]:
        assert len(row["scores"]) == 3 and len(row["by_step"]) == 3
        assert row["by_step"][-1] == pytest.approx(row["mean"], rel=1e-6)  # step H is the fold score
        assert row is board["rows"][0] or row["test"] == "diebold-mariano"
    base = next(r for r in board["rows"] if r["algorithm"] == "baseline")
    for h in (1, 2, 3):  # persistence h steps ahead, window by window
        windows = [np.arange(96 - 12 * (o + 1), 96 - 12 * o) for o in range(3)]
        expected = np.mean([np.sqrt(np.mean((y[w] - y[w - h]) ** 2)) for w in windows])
        assert base["by_step"][h - 1] == pytest.approx(expected, rel=1e-6)
    # one step ahead of a direct h-step model is the model fitted for one step
    one = write_project(tmp_path, "h1", csv, "sales", test_size=12, horizon=1, origins=3, seeds=1)
    board1 = evaluate_json(one, "--only", "ets,linear")
    for name in ("ets", "linear"):
        multi = next(r for r in board["rows"] if r["algorithm"] == name and r["view"] == "lags")
        single = next(r for r in board1["rows"] if r["algorithm"] == name and r["view"] == "lags")
        assert multi["by_step"][0] == pytest.approx(single["mean"], rel=1e-6)


def test_report_and_predict_with_a_statistical_winner(tmp_path):
    from dlrun import api

    csv = series_csv(tmp_path / "s.csv", n=72, other=True)
    project = write_project(tmp_path, "w", csv, "sales", test_size=12, seeds=1)
    board = evaluate_json(project, "--only", "baseline,arima,ets")
    best = board["rows"][0]
    assert best["algorithm"] in ("arima", "ets") and best.get("model")
    entry = api.report(project, portfolio=tmp_path / "pf")
    readme = (entry / "README.md").read_text()
    assert "## Forecasts" in readme and "% interval" in readme
    assert (entry / "figures" / "forecasts.png").read_bytes().startswith(b"\x89PNG")
    out = tmp_path / "p.csv"
    result = CliRunner().invoke(main, ["predict", str(entry), "--data", str(csv), "--out", str(out)])
    assert result.exit_code == 0, result.output
    predicted = pd.read_csv(out)
    print(predicted)
    assert len(predicted) >= 1 and np.all(np.isfinite(predicted.select_dtypes("number").to_numpy()))
    manifest = json.loads((entry / "model" / "manifest.json").read_text())
    assert manifest["algorithm"] == best["algorithm"]


def test_direct_steps_refit_one_model_per_step():
    y = seasonal_series(72)
    ctx = context(horizon=3)
    from dlrun.catalogue import pair_context
    from dlrun.kinds.timeseries.forecasters import make_forecaster

    model = make_forecaster(Candidate("linear", "diff"), pair_context(ctx, "linear", "diff"))
    train, test = np.arange(60), np.arange(60, 72)
    forecasts, _ = candidate_forecasts(Candidate("linear", "diff"), ctx, None, y, train, test)
    model.fit(None, y[:60])
    steps = step_forecasts(model, None, y, train, test, forecasts)
    assert steps.shape == (3, 12)
    np.testing.assert_allclose(steps[-1], forecasts)
    ones, _ = candidate_forecasts(Candidate("linear", "diff"), context(horizon=1), None, y, train, test)
    np.testing.assert_allclose(steps[0], ones)


# --------------------------------------------------------------------------- published figures


@pytest.mark.slow
@pytest.mark.parametrize("file, target, persistence", [
    ("monthly-airline-passengers.csv", "Passengers", 53.152),
    ("monthly-shampoo-sales.csv", "Sales", 136.761),
])
def test_statistical_rows_beside_the_published_figures(shared_file, tmp_path, file, target, persistence):
    """The statistical rows on the standard series (one seed, the statistical models and the
    floors: the nets' rows are measured in the README)."""
    project = write_project(tmp_path, "p", shared_file(file), target, test_size=12, seeds=1)
    board = evaluate_json(project, "--only", "baseline,arima,ets,theta,average")
    names = {r["algorithm"] for r in board["rows"]}
    assert {"arima", "ets", "theta", "average", "baseline"} <= names
    base = next(r for r in board["rows"] if r["algorithm"] == "baseline")
    assert round(base["mean"], 3) == persistence
    best = board["rows"][0]
    assert best["mean"] < 0.8 * persistence and best["algorithm"] != "baseline"
    if target == "Passengers":
        arima = next(r for r in board["rows"] if r["algorithm"] == "arima")
        assert arima["mean"] < 20.0 and arima["model"] == "ARIMA(0,1,1)(0,1,1)[12] on log"


def test_an_average_row_refits_as_the_mean_of_its_members():
    """What ``dlrun report`` fits for an ``average+best`` row (its ``members``)."""
    from dlrun.evaluation.candidates import build_estimator

    y = seasonal_series(72)
    members = [{"algorithm": "arima", "view": "lags"}, {"algorithm": "linear", "view": "diff"}]
    pipe = build_estimator(Candidate("average", "lags", {"members": members}, label="average+best"),
                           context(), {}, "timeseries")
    pipe.fit(None, y[:60])
    test = np.arange(60, 72)
    got = pipe.named_steps["model"].forecast(None, y, test)
    parts = [candidate_forecasts(Candidate(m["algorithm"], m["view"]), context(), None, y,
                                 np.arange(60), test)[0] for m in members]
    np.testing.assert_allclose(got, np.mean(parts, axis=0), rtol=1e-6)
