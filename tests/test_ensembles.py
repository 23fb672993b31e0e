"""Ensembles from the stored out-of-fold predictions: the `ensemble` and `stack` rows, chosen
without the labels of the fold they score, stored like fits, reported and used by `predict`."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from dlrun import api
from dlrun.cli import main
from dlrun.evaluation.ensembles import ROLE, VIEW, Builder, selection_folds
from dlrun.evaluation.resampling import Fold
from tests.helpers import classification_csv, regression_csv, write_project

ALGORITHMS = ["baseline", "linear", "knn", "cart", "svm"]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("ens")
    csv = classification_csv(root / "data.csv", n=240)
    folder = write_project(root, "p", {"source": str(csv), "target": "label"},
                           algorithms=ALGORITHMS, views=["raw", "standardize"],
                           evaluation={"folds": 4, "repeats": 2, "seed": 1})
    api.evaluate(folder)
    return folder


def ensemble_rows(board):
    return {r["algorithm"]: r for r in board["rows"] if r.get("role") == ROLE}


def test_ensemble_and_stack_rows_join_the_leaderboard(project):
    board = api.evaluate(project)
    rows = ensemble_rows(board)
    assert set(rows) == {"ensemble", "stack"}
    assert board["jobs"]["computed"] == 0  # no fit: the stored predictions only
    for row in rows.values():
        assert row["view"] == VIEW and len(row["scores"]) == 8 and row["n_folds"] == 8
        assert isinstance(row["same_as_best"], bool) and row["p_value"] is not None
        assert row["members"] and all(m["algorithm"] not in ("baseline", "svm") for m in row["members"])
        selection = row["selection"]
        assert selection["labels_seen"] == 0 and len(selection["per_fold"]) == 8
        for record in selection["per_fold"]:
            repeat = record["fold"][:2]
            assert record["fold"] not in record["chosen_on"] and len(record["chosen_on"]) == 3
            assert all(other.startswith(repeat) for other in record["chosen_on"])  # its own repeat
            # svm gives decision values, not probabilities; baseline is the floor: never members
            assert all(m["algorithm"] not in ("baseline", "svm") for m in record["members"])
    ensemble = rows["ensemble"]
    assert all(isinstance(m["count"], int) and m["count"] > 0 for m in ensemble["members"])
    assert sum(m["weight"] for m in ensemble["members"]) == pytest.approx(1.0, abs=1e-3)
    assert len(rows["stack"]["stacker"]["coef"][0]) == len(rows["stack"]["members"])
    # the best row is the reference of the paired test; every other row is marked against it
    assert board["rows"][0]["same_as_best"] is True
    # the same store gives the same rows
    again = ensemble_rows(api.evaluate(project))
    assert {k: (r["scores"], r["members"]) for k, r in again.items()} == \
        {k: (r["scores"], r["members"]) for k, r in rows.items()}


@pytest.mark.parametrize("name", ["ensemble", "stack"])
def test_fold_scores_reproduce_from_the_stored_predictions(project, name):
    board = api.evaluate(project)
    row = ensemble_rows(board)[name]
    result = CliRunner().invoke(main, ["predictions", str(project), "--candidate", f"{name}/{VIEW}"])
    assert result.exit_code == 0, result.output
    from io import StringIO

    frame = pd.read_csv(StringIO(result.stdout))
    assert {"row", "repeat", "fold", "y_true", "y_pred", "p_no", "p_yes"} <= set(frame.columns)
    scores = [float((g["y_true"] == g["y_pred"]).mean())
              for _, g in frame.groupby(["repeat", "fold"], sort=True)]
    assert scores == pytest.approx(row["scores"], abs=1e-6)
    assert np.allclose(frame[["p_no", "p_yes"]].sum(axis=1), 1.0)


def builder_for(project, y=None, mutate=None):
    """An ensemble Builder over the project's stored results (nothing is fitted or stored)."""
    from dlrun.evaluation.executors import make_executor
    from dlrun.evaluation.runner import build_context, make_jobs, run_grid
    from dlrun.evaluation.store import ResultStore
    from dlrun.stages.base import get_stage

    ctx = api._context(project, {}, None)
    prepared = get_stage("prepare").run(ctx)
    dataset, spec = ctx.dataset, ctx.spec
    build_ctx = build_context(dataset, spec.metric, spec.evaluation.seed)
    jobs = make_jobs(prepared["candidates"], prepared["plan"], dataset, build_ctx, None)
    store = ResultStore(project / ".dlrun" / "results.sqlite")
    grid = run_grid(jobs, dataset, build_ctx, store, make_executor("local", 1, None))
    assert grid.computed == 0
    if mutate is not None:
        mutate(grid)
    labels = dataset.encoded_target() if y is None else y
    builder = Builder(prepared["plan"], prepared["candidates"], jobs, grid, store, labels, spec.task,
                      spec.metric, build_ctx.n_classes, dataset.kind, spec.evaluation.seed)
    builder.store_folds = lambda *args: None
    return builder, prepared["plan"], dataset.encoded_target()


def test_the_members_and_weights_of_a_fold_never_read_its_labels(project):
    builder, plan, y = builder_for(project)
    before = {r["algorithm"]: r for r in builder.rows()}
    k = 1
    fold = plan.folds[k]
    flipped = y.copy()
    flipped[fold.test] = 1 - flipped[fold.test]  # every label of fold k changed

    def spoil(grid):  # and every score computed from them
        for per_fold in grid.results.values():
            if fold.id in per_fold:
                entry = copy.deepcopy(per_fold[fold.id])
                entry["metrics"] = {m: 1.0 - v for m, v in entry["metrics"].items()}
                per_fold[fold.id] = entry

    builder, _, _ = builder_for(project, flipped, spoil)
    after = {r["algorithm"]: r for r in builder.rows()}
    changed_elsewhere = False
    for name in ("ensemble", "stack"):
        old = before[name]["selection"]["per_fold"]
        new = after[name]["selection"]["per_fold"]
        assert old[k] == new[k], name  # fold k: the same members, the same weights
        others = [j for j, f in enumerate(plan.folds) if f.repeat == fold.repeat and j != k]
        changed_elsewhere |= any(old[j] != new[j] for j in others)
    # the folds of its repeat did read fold k's rows (which is why fold k cannot)
    assert changed_elsewhere


def test_time_ordered_folds_choose_on_earlier_folds_only():
    rows = np.arange(40)
    folds = [Fold(f"o{i}", rows[: 10 + 10 * i], rows[10 + 10 * i: 20 + 10 * i], index=i) for i in range(3)]
    assert selection_folds(folds) is None  # the first fold has nothing earlier to choose on
    kfold = [Fold(f"r0f{i}", np.setdiff1d(rows, rows[i::4]), rows[i::4], index=i) for i in range(4)]
    assert selection_folds(kfold) == {0: [1, 2, 3], 1: [0, 2, 3], 2: [0, 1, 3], 3: [0, 1, 2]}


@pytest.mark.parametrize("name", ["ensemble", "stack"])
def test_an_ensemble_as_final_model_is_reported_and_predicts(project, tmp_path, name):
    board = api.evaluate(project)
    row = ensemble_rows(board)[name]
    # make the ensemble the best row, as it is when it wins
    document = json.loads((project / ".dlrun" / "leaderboard.json").read_text())
    document["rows"] = [r for r in document["rows"] if r["algorithm"] == name] + \
        [r for r in document["rows"] if r["algorithm"] != name]
    (project / ".dlrun" / "leaderboard.json").write_text(json.dumps(document))
    entry = api.report(project, portfolio=tmp_path / "pf")
    results = json.loads((entry / "results.json").read_text())
    final = results["final_model"]
    assert final["algorithm"] == name and final["role"] == ROLE
    assert set(final["params"]["members"]) == {f"{m['algorithm']}/{m['view']}" for m in row["members"]}
    readme = (entry / "README.md").read_text()
    assert "## Ensembles" in readme and "each refitted on all the data" in readme
    new = tmp_path / "rows.csv"
    new.write_text((project.parent / "data.csv").read_text())
    out = tmp_path / "pred.csv"
    result = CliRunner().invoke(main, ["predict", str(entry), "--data", str(new), "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert len(frame) == 240 and set(frame["prediction"]) <= {"yes", "no"}
    assert np.allclose(frame[["p_no", "p_yes"]].sum(axis=1), 1.0, atol=1e-5)
    truth = pd.read_csv(new)["label"]
    assert (frame["prediction"] == truth).mean() > 0.75  # it learned something
    # the saved model combines its members exactly as the row says
    from dlrun.algorithms.ensemble import aligned_proba
    from dlrun.modelfile import load_model

    model = load_model(entry)["pipeline"]
    X = api._context(project, {}, None).dataset.X
    outputs = np.stack([aligned_proba(m, X, 2) for m in model.members_])
    if name == "ensemble":
        counts = np.array([m["count"] for m in row["members"]], float)
        expected = np.tensordot(counts / counts.sum(), outputs, axes=1)
    else:
        coef, intercept = np.array(row["stacker"]["coef"]), np.array(row["stacker"]["intercept"])
        p = 1 / (1 + np.exp(-(outputs[:, :, 1].T @ coef.T + intercept)[:, 0]))
        expected = np.column_stack([1 - p, p])
    assert np.allclose(model.predict_proba(X), expected)


def test_regression_ensembles_combine_predictions(tmp_path):
    csv = regression_csv(tmp_path / "data.csv", n=120)
    folder = write_project(tmp_path, "r", {"source": str(csv), "target": "y"}, task="regression",
                           metric="mae", algorithms=["baseline", "linear", "knn", "cart"],
                           views=["raw"], evaluation={"folds": 3, "repeats": 1, "seed": 2})
    board = api.evaluate(folder)
    rows = ensemble_rows(board)
    assert set(rows) == {"ensemble", "stack"}
    frame = api.predictions(folder, candidate="stack/members")
    maes = [float((g["y_true"] - g["y_pred"]).abs().mean()) for _, g in frame.groupby("fold", sort=True)]
    assert maes == pytest.approx(rows["stack"]["scores"], abs=1e-5)
    assert all(isinstance(r["same_as_best"], bool) for r in board["rows"])
