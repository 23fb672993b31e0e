"""The kinds' report sections read what the evaluation stored: no model is fitted after the
final one (the image confusion matrix and sample grid, a net's training curves, the forecasts)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml

from dlrun import api
from dlrun.catalogue import KINDS
from dlrun.evaluation.jobs import Prediction
from dlrun.evaluation.resampling import Fold
from dlrun.report.analysis import Formatter, decimals_for
from dlrun.report.context import ReportContext
from dlrun.report.model import Figure, Paragraph, plain
from dlrun.scaffold import new_project


@pytest.fixture
def no_fit_after_the_final_one(monkeypatch):
    """Let the report stage fit its final model, then make every other way of building or
    fitting a model raise."""
    import sklearn.base
    import sklearn.pipeline

    import dlrun.evaluation.candidates
    import dlrun.kinds.timeseries.jobs
    import dlrun.stages.report as stage

    original = stage.fit_final
    calls = []

    def forbidden(*args, **kwargs):
        raise AssertionError("the report fitted a model besides the final one")

    def fit_then_forbid(candidate, context):
        calls.append(candidate.name)
        fitted = original(candidate, context)
        monkeypatch.setattr(sklearn.pipeline.Pipeline, "fit", forbidden)
        monkeypatch.setattr(sklearn.base, "clone", forbidden)
        monkeypatch.setattr(dlrun.evaluation.candidates, "build_estimator", forbidden)
        monkeypatch.setattr(dlrun.kinds.timeseries.jobs, "build_estimator", forbidden)
        monkeypatch.setattr(dlrun.kinds.timeseries.jobs, "walk_forward", forbidden)
        monkeypatch.setattr(stage, "fit_final", forbidden)
        return fitted

    monkeypatch.setattr(stage, "fit_final", fit_then_forbid)
    return calls


def _image_project(tmp_path, per_class: int = 15):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], per_class)
    x = rng.integers(0, 60, size=(len(y), 8, 8)).astype(np.uint8)
    x[y == 0, :, :4] += 150  # a bright left half
    x[y == 1, :, 4:] += 150
    x[::7] = rng.integers(0, 255, size=(len(x[::7]), 8, 8))  # a few hard ones
    np.savez(tmp_path / "imgs.npz", x=x, y=np.array(["left", "right"])[y])
    project = new_project("pics", template="image", data=str(tmp_path / "imgs.npz"),
                          directory=tmp_path / "projects")
    spec = yaml.safe_load((project / "project.yaml").read_text())
    spec["algorithms"], spec["views"] = ["baseline", "linear"], ["pixels"]
    spec["evaluation"] = {"folds": 3, "repeats": 2, "seed": 1}
    (project / "project.yaml").write_text(yaml.safe_dump(spec))
    return project


def test_image_section_reads_the_stored_out_of_fold_predictions(tmp_path, no_fit_after_the_final_one):
    project = _image_project(tmp_path)
    board = api.evaluate(project)
    entry = api.report(project, portfolio=tmp_path / "pf")
    assert no_fit_after_the_final_one == [board["rows"][0]["algorithm"]]  # the final fit, once

    best = board["rows"][0]
    readme = (entry / "README.md").read_text()
    assert "## Images: out-of-fold predictions" in readme
    assert "![Out-of-fold images: predicted (true)](figures/samples.png)" in readme
    assert "![Confusion matrix of the out-of-fold predictions](figures/confusion.png)" in readme
    for name in ("samples.png", "confusion.png"):
        assert (entry / "figures" / name).read_bytes().startswith(b"\x89PNG")
    # the first repeat's folds hold every image once; equal folds: its accuracy is the
    # mean of that repeat's fold scores on the leaderboard
    assert "Over those 30 images its accuracy is" in readme
    first_repeat = best["scores"][:3]
    assert f"**{np.mean(first_repeat):.4f}**" in readme
    oof = api.predictions(project, candidate=f"{best['algorithm']}/{best['view']}")
    first = oof[oof["repeat"] == 0]
    assert sorted(first["row"]) == list(range(30))
    assert f"**{(first['y_true'] == first['y_pred']).mean():.4f}**" in readme
    assert "report.html" in readme and "Images: out-of-fold predictions" in (entry / "report.html").read_text()


def _series_project(tmp_path):
    t = np.arange(72)
    rng = np.random.default_rng(1)
    y = 100 + t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(scale=1.0, size=len(t))
    months = pd.date_range("2000-01-01", periods=len(t), freq="MS").strftime("%Y-%m")
    pd.DataFrame({"month": months, "sales": y}).to_csv(tmp_path / "s.csv", index=False)
    return new_project("sales", template="timeseries", data=str(tmp_path / "s.csv"),
                       directory=tmp_path / "projects", test_size=12)


def test_forecast_section_reads_the_stored_walk_forward_forecasts(tmp_path, no_fit_after_the_final_one):
    project = _series_project(tmp_path)
    board = api.evaluate(project, quick=True, only=["baseline", "linear"])
    entry = api.report(project, portfolio=tmp_path / "pf")
    assert len(no_fit_after_the_final_one) == 1

    readme = (entry / "README.md").read_text()
    assert "## Forecasts" in readme and "![Walk-forward forecasts](figures/forecasts.png)" in readme
    assert (entry / "figures" / "forecasts.png").read_bytes().startswith(b"\x89PNG")
    fmt = Formatter(decimals_for(board))
    best = board["rows"][0]
    baseline = next(r for r in board["rows"] if r["algorithm"] == "baseline")
    assert best is not baseline
    shown_rows = (best, baseline)
    for row in shown_rows:  # each model's error on the window: its stored fold score
        assert f"{row['algorithm']} ({row['view']})" in readme
        assert f"on this window **{fmt(row['scores'][0])}**" in readme
    table = [line for line in readme.splitlines() if re.match(r"\| \d{4}-\d{2} \|", line)]
    assert len(table) == 12  # the last test window, one line per observation
    for column, row in enumerate(shown_rows, start=2):  # the stored forecasts, as they are
        stored = api.predictions(project, candidate=f"{row['algorithm']}/{row['view']}")
        window = stored[(stored["repeat"] == 0) & (stored["fold"] == 0)]
        shown = [float(line.strip("|").split("|")[column]) for line in table]
        np.testing.assert_allclose(shown, window["y_pred"].to_numpy(), rtol=1e-3)


# --------------------------------------------------------------------------- without a run


def _stub_context(rows, *, predictions=None, extras=None, pipeline=None):
    dataset = KINDS.get("image").example("classification", rows=12)
    spec = type("Spec", (), {"name": "x", "description": "", "task": "classification",
                             "metric": "accuracy", "reference": None})()
    board = {"metric": "accuracy", "greater_is_better": True, "rows": rows,
             "protocol": {"name": "repeated stratified k-fold", "folds": 2, "repeats": 1}}
    return ReportContext(spec=spec, leaderboard=board, dataset=dataset, pipeline=pipeline,
                         predictions=predictions, extras=extras)


def _row(algorithm, role, mean):
    return {"algorithm": algorithm, "view": "pixels", "role": role, "mean": mean, "std": 0.01,
            "scores": [mean, mean], "n_folds": 2, "same_as_best": role == "model"}


def _folds():
    a, b = np.arange(0, 12, 2), np.arange(1, 12, 2)
    return [Fold("r0f0", b, a, 0, 0), Fold("r0f1", a, b, 0, 1)]


CURVES = {"epoch": [1, 2, 3], "loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7],
          "val_metric": [0.5, 0.7, 0.8], "metric": "accuracy", "has_val": True}


def test_image_curves_come_from_what_the_evaluation_stored():
    from dlrun.kinds.image.report import image_sections

    y = None

    def predictions(row):
        nonlocal y
        y = KINDS.get("image").example("classification", rows=12).encoded_target()
        return [(f, Prediction(f.test, y[f.test])) for f in _folds()]

    rows = [_row("linear", "model", 0.9), _row("cnn", "net", 0.8)]
    asked = []

    def extras(row):
        asked.append(row["algorithm"])
        return [(f, {"curves": CURVES} if f.index == 1 else {}) for f in _folds()]

    sections = image_sections(_stub_context(rows, predictions=predictions, extras=extras))
    blocks = sections[0].blocks
    figures = {b.name for b in blocks if isinstance(b, Figure)}
    assert figures == {"samples", "confusion", "curves"}
    assert asked == ["cnn"]  # the best net's stored folds
    said = " ".join(plain(b.text) for b in blocks if isinstance(b, Paragraph))
    assert "fold 2 of repeat 1" in said and "trained 3 epochs" in said
    assert "accuracy is 1.0000" in said  # the stored predictions, all right

    # nothing stored: said so, and nothing fitted instead
    sections = image_sections(_stub_context(rows, predictions=lambda r: [],
                                            extras=lambda r: [(f, {}) for f in _folds()]))
    said = " ".join(plain(b.text) for b in sections[0].blocks if isinstance(b, Paragraph))
    assert "are not stored" in said and "No training curves are stored" in said
    assert not [b for b in sections[0].blocks if isinstance(b, Figure)]


def test_image_curves_of_a_winning_net_are_the_final_models():
    from dlrun.kinds.image.report import image_sections

    class Net:
        curves_ = CURVES

    class Fitted:
        named_steps = {"model": Net()}

    def extras(row):
        raise AssertionError("the final model's curves need nothing stored")

    rows = [_row("cnn", "net", 0.9), _row("linear", "model", 0.8)]
    sections = image_sections(_stub_context(rows, predictions=lambda r: [], extras=extras,
                                            pipeline=Fitted()))
    said = " ".join(plain(b.text) for b in sections[0].blocks if isinstance(b, Paragraph))
    assert "the final model, fitted on all the images" in said
    assert "curves" in {b.name for b in sections[0].blocks if isinstance(b, Figure)}
