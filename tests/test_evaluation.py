import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.tree import DecisionTreeClassifier

from dlrun import api
from dlrun.errors import ArgumentError
from dlrun.evaluation.resampling import kfold_plan
from dlrun.evaluation.stats import corrected_resampled_ttest, mark_same_as_best
from dlrun.evaluation.store import ResultStore
from dlrun.progress import CollectingReporter
from tests.helpers import classification_csv, regression_csv, write_project

FAST = {"evaluation": {"folds": 3, "repeats": 2, "seed": 1}}


@pytest.fixture
def clf_project(tmp_path):
    csv = classification_csv(tmp_path / "data.csv")
    return write_project(tmp_path, "clf", {"source": str(csv), "target": "label"}, **FAST)


def test_stratified_plan_keeps_class_shares_and_is_seeded():
    y = np.array([0] * 60 + [1] * 30)
    plan = kfold_plan(y, "classification", 3, 2, seed=1)
    assert plan.name == "repeated stratified k-fold" and len(plan.folds) == 6
    for fold in plan.folds:
        assert np.mean(y[fold.test]) == pytest.approx(1 / 3)
        assert not set(fold.train) & set(fold.test)
    again = kfold_plan(y, "classification", 3, 2, seed=1)
    assert [f.digest() for f in plan.folds] == [f.digest() for f in again.folds]


def test_rare_class_reduces_folds_with_a_note():
    y = np.array([0] * 50 + [1] * 40 + [2] * 4)
    plan = kfold_plan(y, "classification", 10, 1, seed=1)
    assert plan.n_splits == 4 and "rarest class has only 4 rows" in plan.notes[0]


def test_single_row_class_falls_back_to_plain_kfold():
    y = np.array([0] * 50 + [1] * 40 + [2])
    plan = kfold_plan(y, "classification", 5, 1, seed=1)
    assert plan.name == "repeated k-fold" and "single row" in plan.notes[0]


def test_corrected_ttest_is_more_conservative_than_the_naive_one():
    from scipy import stats

    rng = np.random.default_rng(0)
    a = 0.80 + rng.normal(scale=0.03, size=30)
    b = a - 0.01 + rng.normal(scale=0.02, size=30)
    naive = stats.ttest_rel(a, b).pvalue
    corrected = corrected_resampled_ttest(a, b, test_fraction=0.1)
    d = a - b
    t = d.mean() / math.sqrt((1 / 30 + 0.1 / 0.9) * d.var(ddof=1))
    assert corrected == pytest.approx(2 * stats.t.sf(abs(t), 29))
    assert corrected > naive
    assert corrected_resampled_ttest(a, a, 0.1) == 1.0


def test_mark_same_as_best():
    rows = [{"scores": [0.9, 0.91, 0.89, 0.9]}, {"scores": [0.9, 0.9, 0.9, 0.905]},
            {"scores": [0.5, 0.52, 0.49, 0.5]}]
    mark_same_as_best(rows, 0.25)
    assert [r["same_as_best"] for r in rows] == [True, True, False]


def test_evaluate_contract_and_reuse(clf_project):
    board = api.evaluate(clf_project, only=["baseline", "linear", "cart"])
    assert board["task"] == "classification" and board["greater_is_better"] is True
    # 4 views, but the baseline ignores the features and a tree splits on each column's
    # order: one fit per fold stands for all four views; linear is fitted on each
    assert board["jobs"] == {"total": (1 + 4 + 1) * 6, "computed": 36, "reused": 0}
    algos = {r["algorithm"] for r in board["rows"] if r["role"] != "ensemble"}
    assert algos == {"baseline", "linear", "cart"}
    views = {r["algorithm"]: r.get("views") for r in board["rows"] if r["algorithm"] in ("baseline", "cart")}
    assert views == {"baseline": ["raw", "standardize", "normalize", "power"],
                     "cart": ["raw", "standardize", "normalize", "power"]}
    means = [r["mean"] for r in board["rows"]]
    assert means == sorted(means, reverse=True)
    for row in board["rows"]:
        assert len(row["scores"]) == 6 and isinstance(row["same_as_best"], bool)
        assert row["mean"] == pytest.approx(np.mean(row["scores"]), abs=1e-6)
    base = next(r for r in board["rows"] if r["algorithm"] == "baseline")
    shares = board["data"]["classes"]
    assert base["mean"] == pytest.approx(max(shares.values()) / sum(shares.values()), abs=0.01)
    assert board["rows"][0]["mean"] > base["mean"] + 0.1

    again = api.evaluate(clf_project, only=["baseline", "linear", "cart"])
    assert again["jobs"] == {"total": 36, "computed": 0, "reused": 36}
    assert [r["scores"] for r in again["rows"]] == [r["scores"] for r in board["rows"]]


def test_changed_protocol_recomputes(clf_project):
    api.evaluate(clf_project, only=["baseline"])
    spec = (clf_project / "project.yaml").read_text().replace("repeats: 2", "repeats: 3")
    (clf_project / "project.yaml").write_text(spec)
    board = api.evaluate(clf_project, only=["baseline"])
    # repeat 0 and 1 folds are the same draws: only repeat 2 is new
    assert board["jobs"]["total"] == 9 and board["jobs"]["reused"] == 6  # one view class


def test_reproducible_with_seeded_algorithms(tmp_path):
    csv = classification_csv(tmp_path / "data.csv")
    runs = []
    for name in ("one", "two"):
        project = write_project(tmp_path, name, {"source": str(csv), "target": "label"},
                                views=["raw"], **FAST)
        runs.append(api.evaluate(project, only=["random_forest", "xgboost"]))
    assert [(r["algorithm"], r["scores"]) for r in runs[0]["rows"]] == \
           [(r["algorithm"], r["scores"]) for r in runs[1]["rows"]]


def test_unknown_only_is_an_argument_error(clf_project):
    with pytest.raises(ArgumentError) as info:
        api.evaluate(clf_project, only=["linear", "gbm"])
    assert info.value.field == "--only" and "gbm" in str(info.value)


def test_interrupted_run_keeps_finished_results(clf_project, monkeypatch):
    from dlrun.evaluation import executors

    real_run = executors.LocalExecutor.run

    def run_then_interrupt(self, jobs, data, admit=None, **kwargs):
        for i, item in enumerate(real_run(self, jobs, data, admit, **kwargs)):
            if i == 10:
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(executors.LocalExecutor, "run", run_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        api.evaluate(clf_project, only=["baseline", "linear"])
    with ResultStore(clf_project / ".dlrun" / "results.sqlite") as store:
        assert store.count() == 10
    monkeypatch.undo()
    board = api.evaluate(clf_project, only=["baseline", "linear"])
    assert board["jobs"] == {"total": (1 + 4) * 6, "computed": 20, "reused": 10}


def test_failing_algorithm_does_not_sink_the_others(clf_project, monkeypatch):
    from dlrun.catalogue import ALGORITHMS

    info = ALGORITHMS.get("cart")

    def broken(ctx, **params):
        raise RuntimeError("boom")

    import dataclasses

    monkeypatch.setitem(ALGORITHMS._entries, "cart", dataclasses.replace(info, build=broken))
    reporter = CollectingReporter()
    board = api.evaluate(clf_project, only=["baseline", "cart"], reporter=reporter)
    assert {r["algorithm"] for r in board["rows"]} == {"baseline"}
    assert {f["algorithm"] for f in board["failures"]} == {"cart"}
    assert "boom" in board["failures"][0]["error"]
    assert any("cart" in text for level, text in reporter.messages if level == "warning")


def test_regression_protocol_and_metric(tmp_path):
    csv = regression_csv(tmp_path / "reg.csv")
    project = write_project(tmp_path, "reg", {"source": str(csv), "target": "y"},
                            task="regression", metric="mae", views=["standardize"], **FAST)
    board = api.evaluate(project, only=["baseline", "linear"])
    assert board["protocol"]["name"] == "repeated k-fold" and board["greater_is_better"] is False
    assert [r["algorithm"] for r in board["rows"]] == ["linear", "baseline"]
    assert board["rows"][0]["mean"] < 0.5 < board["rows"][1]["mean"]


def test_two_concurrent_runs_on_one_project_share_the_work(clf_project):
    """Started together, two evaluations split the fits between them (each claims what it
    computes, reuses what the other stored): every fit is computed once in total, and both
    end with the same leaderboard and a consistent store."""
    code = ("import json,sys; from dlrun import api; "
            "b=api.evaluate(sys.argv[1], only=['baseline','linear','cart','knn']); "
            "print(json.dumps({'rows': b['rows'], 'jobs': b['jobs']}))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(clf_project)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    boards = [json.loads(out) for out, _ in outputs]
    assert [r["scores"] for r in boards[0]["rows"]] == [r["scores"] for r in boards[1]["rows"]]
    total = boards[0]["jobs"]["total"]
    assert total == (1 + 4 + 1 + 4) * 6  # baseline and cart: one fit for the four views
    assert sum(b["jobs"]["computed"] for b in boards) == total  # no fit computed twice
    for b in boards:
        assert b["jobs"]["computed"] + b["jobs"]["reused"] == total
    board = api.evaluate(clf_project, only=["baseline", "linear", "cart", "knn"])
    assert board["jobs"]["reused"] == board["jobs"]["total"]
    with ResultStore(clf_project / ".dlrun" / "results.sqlite") as store:
        assert store.count() == total + 2 * 6  # and the ensemble and stack folds' predictions
        assert store._conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
    json.loads((clf_project / ".dlrun" / "leaderboard-last.json").read_text())


def test_each_view_is_fitted_once_per_fold(clf_project):
    from dlrun.evaluation import jobs

    jobs._VIEW_CACHE.clear()
    before = dict(jobs.VIEW_STATS)
    api.evaluate(clf_project, only=["baseline", "linear", "cart"])
    fitted = jobs.VIEW_STATS["fitted"] - before["fitted"]
    reused = jobs.VIEW_STATS["reused"] - before["reused"]
    # 4 views x 6 folds, each fitted once; raw is reused by baseline and cart (which stand
    # for every view: one fit each), the other views serve linear alone
    assert (fitted, reused) == (4 * 6, 2 * 6)


def test_groups_keep_a_view_and_fold_together_and_stack_folds(monkeypatch):
    from dlrun.evaluation import jobs as jobs_module
    from dlrun.evaluation.candidates import Candidate
    from dlrun.evaluation.jobs import FoldRunner, Job, JobData
    from dlrun.evaluation.resampling import Fold
    from dlrun.evaluation.runner import group_jobs

    class OnlyLinearStacks(FoldRunner):
        def stackable(self, candidate, data):
            return candidate.algorithm == "linear"

    monkeypatch.setattr(jobs_module, "_RUNNERS", {"tabular": OnlyLinearStacks()})
    cands = [Candidate(a, v) for v in ("power", "raw") for a in ("baseline", "linear", "cart")]
    folds = {f: Fold(f, np.arange(10), np.arange(10, 12)) for f in ("f0", "f1", "f2")}
    pending = [Job(f"{c.algorithm}/{c.view}/{f}", c, folds[f], np.arange(10))
               for c in cands for f in ("f0", "f1", "f2")]
    pending.sort(key=lambda j: (j.candidate.view, j.fold_id))
    data = JobData(np.zeros((12, 3)), np.zeros(12), {}, context=None, kind="tabular")
    groups = [[j.key for j in g] for g in group_jobs(pending, data)]
    assert groups[:4] == [
        ["baseline/power/f0", "cart/power/f0"],
        # where its first fold is, with its folds on the other view: one training
        ["linear/power/f0", "linear/power/f1", "linear/power/f2",
         "linear/raw/f0", "linear/raw/f1", "linear/raw/f2"],
        ["baseline/power/f1", "cart/power/f1"],
        ["baseline/power/f2", "cart/power/f2"],
    ]
    assert sorted(k for g in groups for k in g) == sorted(j.key for j in pending)
    assert len(groups) == 7
    # by repeat (racing): a group never spans two repeats
    import dataclasses

    repeats = {"f0": 0, "f1": 0, "f2": 1}
    pending = [dataclasses.replace(j, fold=dataclasses.replace(j.fold, repeat=repeats[j.fold_id]))
               for j in pending]
    groups = [[j.key for j in g] for g in group_jobs(pending, data, by_repeat=True)]
    assert ["linear/power/f0", "linear/power/f1", "linear/raw/f0", "linear/raw/f1"] in groups
    assert ["linear/power/f2", "linear/raw/f2"] in groups


def test_parallel_jobs_give_the_sequential_scores(tmp_path):
    csv = classification_csv(tmp_path / "data.csv")
    boards = {}
    for jobs in (1, 2):
        project = write_project(tmp_path, f"j{jobs}", {"source": str(csv), "target": "label"},
                                views=["raw", "power"], **FAST)
        boards[jobs] = api.evaluate(project, only=["baseline", "linear", "cart", "xgboost"], jobs=jobs)
    # linear on both views; baseline, cart and xgboost once for both (monotone transform)
    assert boards[2]["jobs"] == boards[1]["jobs"] == {"total": 30, "computed": 30, "reused": 0}
    assert [(r["algorithm"], r["view"], r["scores"]) for r in boards[2]["rows"]] == \
           [(r["algorithm"], r["view"], r["scores"]) for r in boards[1]["rows"]]


@pytest.mark.parametrize("file, metric, only", [
    ("pima-indians-diabetes.csv", "accuracy", ["baseline", "linear", "cart"]),
    ("housing.csv", "mae", ["baseline", "linear"]),
])
def test_stored_predictions_reproduce_every_fold_score(shared_file, tmp_path, file, metric, only):
    """`dlrun predictions` reads what the evaluation stored: each fold's rows give back
    exactly that fold's leaderboard score (nothing refitted)."""
    from dlrun.evaluation.metrics import score_all
    from dlrun.scaffold import new_project

    project = new_project("p", data=str(shared_file(file)), header=False, directory=tmp_path)
    board = api.evaluate(project, only=only)
    assert board["metric"] == metric
    for row in board["rows"]:
        frame = api.predictions(project, candidate=f"{row['algorithm']}/{row['view']}")
        assert len(frame) == 3 * board["data"]["rows"]  # 10 folds x 3 repeats: each row 3 times
        scores = []
        for _, fold in frame.groupby(["repeat", "fold"]):
            y_true, y_pred = fold["y_true"].to_numpy(), fold["y_pred"].to_numpy()
            if metric == "accuracy":
                scores.append(float((y_true == y_pred).mean()))
            else:
                scores.append(score_all("regression", y_true, y_pred, None, 0)[metric])
        np.testing.assert_allclose(scores, row["scores"], rtol=0, atol=5e-7)


class SlowStartTree(DecisionTreeClassifier):
    """A tree whose framework takes a second to start (as TensorFlow's import does)."""

    marker = None

    def start_backend(self):
        if not Path(type(self).marker).exists():  # once per process, as an import
            time.sleep(1.0)
        with open(type(self).marker, "a") as f:
            f.write("started\n")


def test_a_fit_is_timed_after_its_framework_starts(clf_project, monkeypatch, tmp_path):
    """A fit's seconds are its own work: the framework's start-up (a net's TensorFlow
    import, paid once per process whatever fits) runs before the clock starts."""
    import dataclasses

    from dlrun.catalogue import ALGORITHMS

    SlowStartTree.marker = tmp_path / "started.txt"
    info = ALGORITHMS.get("cart")
    monkeypatch.setitem(ALGORITHMS._entries, "cart",
                        dataclasses.replace(info, build=lambda ctx, **params: SlowStartTree(random_state=0)))
    board = api.evaluate(clf_project, only=["cart"])
    rows = [r for r in board["rows"] if r["algorithm"] == "cart"]
    assert rows and not board["failures"]
    assert SlowStartTree.marker.read_text().count("started") >= 1  # the start-up did run
    assert all(r["fit_seconds"] < 0.5 for r in rows), [r["fit_seconds"] for r in rows]
