"""Reports a practitioner can act on: the data profile (report and `dlrun validate`),
diagnostics from the stored out-of-fold predictions, explanations, secondary metrics on every
leaderboard row, and no hidden state (the report names its evaluation and refuses without a
matching one). A headless-Chromium check runs when a browser is installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from helpers import classification_csv, regression_csv, write_project

from dlrun import api
from dlrun.cli import main
from dlrun.data.profile import profile_frame

# --------------------------------------------------------------------------- the data profile


def _checks(profile) -> set[tuple[str, str]]:
    return {(w["column"], w["check"]) for w in profile["warnings"]}


def test_profile_flags_what_a_practitioner_wants_and_nothing_else():
    rng = np.random.default_rng(0)
    n = 400
    y = pd.Series(np.where(rng.random(n) < 0.5, "a", "b"), name="label")
    pressure = rng.normal(75, 10, n).round()
    pressure[:12] = 0  # missing values recorded as 0
    frame = pd.DataFrame({
        "pressure": pressure,
        "children": rng.poisson(1.2, n).astype(float),  # a count: zeros are normal
        "constant": np.full(n, 3.0),
        "row_id": np.arange(n, dtype=float),
        "code": [f"c{i}" for i in range(n)],  # a label of its own per row
        "leak": np.where(y == "a", 1.0, 2.0) + rng.normal(0, 0.01, n),
        "noise": rng.normal(size=n),
    })
    profile = profile_frame(frame, y, "classification", numeric=[c for c in frame if c != "code"])
    assert _checks(profile) == {("pressure", "zeros"), ("constant", "constant"), ("row_id", "identifier"),
                                ("code", "identifier"), ("leak", "leak")}
    pressure_row = next(c for c in profile["columns"] if c["column"] == "pressure")
    assert pressure_row["zeros"] == pytest.approx(12 / n) and pressure_row["min"] == 0
    assert pressure_row["type"] == "numeric" and pressure_row["missing"] == 0
    message = next(w["message"] for w in profile["warnings"] if w["check"] == "zeros")
    assert message.startswith("'pressure' has 12 zeros (3.0% of rows)") and "data.missing" in message
    assert profile["target"]["classes"] == {"a": int((y == "a").sum()), "b": int((y == "b").sum())}

    rare = pd.Series(["a"] * 380 + ["b"] * 20, name="label")
    imbalance = profile_frame(frame[["noise"]], rare, "classification")
    assert _checks(imbalance) == {("label", "imbalance")}
    assert "balanced_accuracy" in imbalance["warnings"][0]["message"]


def test_pima_profile_flags_the_zeros_that_are_missing_values(shared_file):
    frame = pd.read_csv(shared_file("pima-indians-diabetes.csv"), header=None)
    names = ["pregnancies", "glucose", "blood_pressure", "skin_thickness", "insulin", "bmi", "pedigree",
             "age", "diabetes"]
    frame.columns = names
    profile = profile_frame(frame[names[:-1]], frame["diabetes"], "classification")
    zeros = {c for c, check in _checks(profile) if check == "zeros"}
    assert {"glucose", "bmi", "insulin", "blood_pressure", "skin_thickness"} == zeros
    assert "pregnancies" not in zeros  # a count starting at 0 is not suspicious
    assert not any(check in ("leak", "identifier", "constant") for _c, check in _checks(profile))


def test_validate_prints_the_profile_and_its_warnings(tmp_path):
    rng = np.random.default_rng(1)
    n = 120
    mass = rng.normal(30, 4, n).round(1)
    mass[::20] = 0
    frame = pd.DataFrame({"mass": mass, "x": rng.normal(size=n), "y": np.where(rng.random(n) < 0.5, "p", "q")})
    frame.to_csv(tmp_path / "d.csv", index=False)
    project = write_project(tmp_path, "z", {"source": str(tmp_path / "d.csv"), "target": "y"})
    result = CliRunner().invoke(main, ["validate", str(project)])
    assert result.exit_code == 0, result.output
    assert "data profile:" in result.output
    line = next(x for x in result.output.splitlines() if x.strip().startswith("mass"))
    assert re.search(r"mass\s+numeric\s+0\s+5\.0%\s+0\s+[\d.]+\s+\d+\s+zeros", line), line
    assert "warning: mass (zeros): 'mass' has 6 zeros" in result.output
    document = json.loads(CliRunner().invoke(main, ["validate", str(project), "--json"]).stdout)
    assert document["profile"]["warnings"][0]["check"] == "zeros"
    assert [c["column"] for c in document["profile"]["columns"]] == ["mass", "x"]


# --------------------------------------------------------------------------- no hidden state


def _small_project(tmp_path, task="classification", **spec):
    if task == "classification":
        data = classification_csv(tmp_path / "c.csv", n=150)
        target, metric = "label", "accuracy"
    else:
        data = regression_csv(tmp_path / "r.csv", n=120)
        target, metric = "y", "rmse"
    return write_project(tmp_path, "small", {"source": str(data), "target": target}, task=task, metric=metric,
                         evaluation={"folds": 3, "repeats": 1, "seed": 1}, **spec)


def test_report_refuses_a_project_never_evaluated(tmp_path):
    project = _small_project(tmp_path)
    result = CliRunner().invoke(main, ["report", str(project), "--portfolio", str(tmp_path / "pf")])
    assert result.exit_code == 2
    assert "has not been evaluated" in result.output
    assert f"dlrun evaluate {project}" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "pf" / "small").exists()  # nothing fitted, nothing written


def test_report_refuses_an_evaluation_that_no_longer_matches_the_spec(tmp_path):
    project = _small_project(tmp_path, algorithms=["baseline", "linear"], views=["raw", "standardize"])
    api.evaluate(project)
    spec = yaml.safe_load((project / "project.yaml").read_text())
    spec["metric"] = "balanced_accuracy"
    (project / "project.yaml").write_text(yaml.safe_dump(spec))
    result = CliRunner().invoke(main, ["report", str(project), "--portfolio", str(tmp_path / "pf")])
    assert result.exit_code == 2
    assert "does not match project.yaml" in result.output
    assert "it ranks by accuracy, project.yaml by balanced_accuracy" in result.output
    assert f"dlrun evaluate {project}" in result.output


def test_a_later_partial_run_does_not_silently_change_what_is_reported(tmp_path):
    """The issue's hidden state: after a full evaluation, a quick `--only` run must not switch
    the report's winner; the report names the stored evaluation it used."""
    project = _small_project(tmp_path, algorithms=["baseline", "linear", "cart"], views=["raw"])
    full = api.evaluate(project)
    api.evaluate(project, only=["baseline"], quick=True)
    entry = api.report(project, portfolio=tmp_path / "pf")
    results = json.loads((entry / "results.json").read_text())
    assert results["summary"]["evaluation"]["file"] == ".dlrun/leaderboard.json"
    assert results["summary"]["protocol_flags"] == []
    assert results["summary"]["best"]["algorithm"] == full["rows"][0]["algorithm"] != "baseline"


# --------------------------------------------------------------------------- the report


def _images(html: str) -> list[str]:
    return re.findall(r'<img [^>]*src="(data:image/png;base64,[^"]+)"', html)


def test_classification_report_diagnostics_explanations_and_profile(tmp_path):
    project = _small_project(tmp_path, algorithms=["baseline", "linear", "cart", "knn"], views=["raw", "standardize"])
    result = CliRunner().invoke(main, ["evaluate", str(project), "--only", "baseline,linear,cart", "--json"])
    assert result.exit_code == 0, result.output
    board = json.loads(result.stdout)
    for row in board["rows"]:  # every row carries the task's metrics, --json included
        assert {"accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss"} <= set(row["metrics"])
        assert row["metrics"]["accuracy"] == pytest.approx(row["mean"], abs=1e-6)
    assert any(r.get("role") == "ensemble" for r in board["rows"])  # ensemble rows carry them too
    baseline = [r for r in board["rows"] if r["algorithm"] == "baseline"]
    assert len(baseline) == 1  # the same predictions on every view: one row

    entry = api.report(project, portfolio=tmp_path / "pf")
    readme = (entry / "README.md").read_text()
    html = (entry / "report.html").read_text()
    for heading in ("## Evaluation used", "## Data profile", "## Diagnostics of the chosen model",
                    "### Confusion matrix", "### ROC curve", "### Precision-recall curve",
                    "### Calibration curve", "### Per class", "## Explanations", "### Permutation importance",
                    "### Partial dependence"):
        assert heading in readme, heading
    assert len(_images(html)) >= 6
    for name in ("confusion-matrix", "roc-curve", "permutation-importance", "partial-dependence"):
        assert (entry / "figures" / f"{name}.png").read_bytes().startswith(b"\x89PNG")
    # the stored evaluation the report used is named, with its flags
    assert "| Stored evaluation | `.dlrun/leaderboard-last.json` |" in readme
    assert "| Less than the full protocol | partial |" in readme
    headline = readme.split("## Result", 1)[1].split("\n## ", 1)[0]
    assert "-- partial run." in headline and "Partial run: only baseline, linear, cart evaluated" in headline
    results = json.loads((entry / "results.json").read_text())
    assert results["summary"]["protocol_flags"] == ["partial"]
    assert results["summary"]["evaluation"]["file"] == ".dlrun/leaderboard-last.json"
    assert [c["column"] for c in results["data_profile"]["columns"]] == ["x1", "x2", "colour"]
    # the per-class table agrees with the stored out-of-fold predictions
    best = board["rows"][0]
    oof = api.predictions(project, candidate=f"{best['algorithm']}/{best['view']}")
    first = oof[oof["repeat"] == 0]
    assert f"Pooled accuracy {(first['y_true'] == first['y_pred']).mean():.3f}." in readme
    # x1 decides the label: the most important column
    table = readme.split("Importance of all 3 columns", 1)[1]
    assert table.index("`x1`") < table.index("`x2`") < table.index("`colour`") or \
        table.index("`x1`") < table.index("`colour`")


def test_regression_report_diagnostics(tmp_path):
    project = _small_project(tmp_path, task="regression", algorithms=["baseline", "linear"], views=["raw"])
    api.evaluate(project)
    entry = api.report(project, portfolio=tmp_path / "pf")
    readme = (entry / "README.md").read_text()
    for heading in ("### Predicted against true", "### Residuals against predictions",
                    "### Distribution of the errors", "### Permutation importance"):
        assert heading in readme, heading
    assert re.search(r"Pooled: MAE [\d.]+, RMSE [\d.]+, R² 0\.9\d\d", readme)
    metrics = readme.split("### Every metric of the task, top candidates", 1)[1]
    header = next(line for line in metrics.splitlines() if line.startswith("| candidate |"))
    assert all(name in header for name in ("mean absolute error", "root mean squared error", "R²")), header


# --------------------------------------------------------------------------- a real browser

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _browser() -> str | None:
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


@pytest.mark.skipif(_browser() is None, reason="no headless Chromium installed (chromium, chromium-browser "
                    "or google-chrome on PATH): report.html and index.html not rendered in a browser")
def test_report_and_index_render_in_headless_chromium(tmp_path):
    """Every image of report.html and index.html loads, and the pages log nothing to the console
    and raise no error: a probe installed first in <head> records errors (scripts, resources,
    console.error) and, after load, counts the images; --dump-dom prints what it wrote."""
    project = _small_project(tmp_path, algorithms=["baseline", "linear"], views=["raw"])
    api.evaluate(project)
    entry = api.report(project, portfolio=tmp_path / "pf")
    browser = _browser()
    probe = ("<script>window.__errors=[];const __e=console.error;console.error=(...a)=>{__errors.push(a.join(' '));"
             "__e(...a)};window.addEventListener('error',e=>__errors.push(e.message||('failed to load '+"
             "(e.target&&(e.target.src||e.target.href)))),true);window.addEventListener('load',()=>{"
             "const i=[...document.images];document.documentElement.setAttribute('data-probe',i.length+'/'+"
             "i.filter(x=>x.complete&&x.naturalWidth>0).length+'/'+__errors.length)})</script>")
    for page, least in ((entry / "report.html", 6), (entry.parent / "index.html", 0)):
        source = page.read_text()
        assert "<head>" in source
        probed = page.with_name(f"probe-{page.name}")
        probed.write_text(source.replace("<head>", "<head>" + probe, 1))
        out = subprocess.run([browser, "--headless", "--disable-gpu", "--no-sandbox", "--enable-logging=stderr",
                              "--v=0", "--virtual-time-budget=5000", "--dump-dom", probed.as_uri()],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        found = re.search(r'data-probe="(\d+)/(\d+)/(\d+)"', out.stdout)
        assert found, out.stdout[-2000:]
        total, loaded, errors = (int(g) for g in found.groups())
        assert total >= least and loaded == total and errors == 0, (page.name, total, loaded, errors)
        assert ":CONSOLE" not in out.stderr, out.stderr[-2000:]  # nothing logged at all


def test_the_browser_probe_sees_a_broken_image_and_a_console_error(tmp_path):
    """The check above can fail: a page with a missing image and a console error is caught."""
    browser = _browser()
    if browser is None:
        pytest.skip("no headless Chromium installed (chromium, chromium-browser or google-chrome on PATH)")
    page = tmp_path / "bad.html"
    page.write_text("<html><head></head><body><img src='missing.png'><script>console.error('boom')</script>"
                    "</body></html>")
    out = subprocess.run([browser, "--headless", "--disable-gpu", "--no-sandbox", "--enable-logging=stderr",
                          "--v=0", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert ":CONSOLE" in out.stderr and "boom" in out.stderr


def test_permutation_importance_cost_is_bounded_on_wide_tables():
    from dlrun.report.explain import MAX_FOLDS, MAX_PREDICTIONS, REPEATS, budget

    assert budget(8) == (MAX_FOLDS, REPEATS)  # a narrow table gets the full measure
    for columns in (8, 60, 250, 500, 1000, 2500):
        folds, shuffles = budget(columns)
        assert 1 <= folds <= MAX_FOLDS and 1 <= shuffles <= REPEATS
        assert columns * folds * shuffles <= MAX_PREDICTIONS, columns
    assert budget(250)[1] < REPEATS and budget(1000)[0] < MAX_FOLDS


def test_shuffled_drops_match_scikit_learns_permutation_importance():
    from sklearn.compose import ColumnTransformer
    from sklearn.inspection import permutation_importance
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from dlrun.report.explain import scorer_for, shuffled_drops

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"signal": rng.normal(size=300), "ignored": rng.normal(size=300),
                      "colour": pd.Categorical(rng.choice(["r", "g"], size=300))})
    y = (X["signal"] > 0).astype(int).to_numpy()
    model = make_pipeline(ColumnTransformer([("keep", "passthrough", ["signal"])]), LogisticRegression())
    model.fit(X, y)
    drops = shuffled_drops(model, X, y, "accuracy", 2, repeats=30, seed=1)
    assert drops.shape == (3, 30)
    assert np.all(drops[1:] == 0)  # columns the model never reads cost nothing
    reference = permutation_importance(model, X, y, scoring=scorer_for("accuracy", 2), n_repeats=30,
                                       random_state=1).importances_mean
    assert drops[0].mean() > 0.3
    assert drops[0].mean() == pytest.approx(reference[0], abs=0.03)
    # a metric where lower is better is oriented the same way: shuffling costs, drops are positive
    loss = shuffled_drops(model, X, y, "log_loss", 2, repeats=5, seed=1)
    assert loss[0].mean() > 0 and np.all(loss[1:] == 0)
