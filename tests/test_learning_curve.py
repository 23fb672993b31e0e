"""Learning curves: subsampled training folds (test folds untouched) through the one job path,
persisted and reused, a `learning_curve:` block or `--learning-curve`, and the report's words."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from dlrun import api
from dlrun.cli import main
from dlrun.evaluation.learning_curve import fractions_of, subsample_fold
from dlrun.evaluation.resampling import Fold
from dlrun.report.analysis import Formatter
from dlrun.report.improve import curve_sentences, net_versus_bar_sentence, overall_sentence
from tests.helpers import classification_csv, write_project


@pytest.fixture
def project(tmp_path):
    csv = classification_csv(tmp_path / "data.csv", n=240)
    return write_project(tmp_path, "p", {"source": str(csv), "target": "label"},
                         algorithms=["baseline", "linear", "cart", "xgboost"], views=["raw"],
                         evaluation={"folds": 4, "repeats": 2, "seed": 1})


def evaluate_json(project, *args) -> dict:
    result = CliRunner().invoke(main, ["evaluate", str(project), "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_learning_curves_are_computed_persisted_and_reused(project):
    board = evaluate_json(project, "--learning-curve")
    curve = board["learning_curve"]
    assert curve["fractions"] == [0.1, 0.2, 0.4, 0.7, 1.0]
    roles = {c["role"]: c for c in curve["curves"]}
    assert set(roles) == {"model", "bar"}  # the best classical candidate and the bar (no net here)
    assert roles["bar"]["algorithm"] == "xgboost"
    jobs = curve["jobs"]
    assert jobs["total"] == 2 * 5 * 8 and jobs["reused"] == 2 * 8  # 100%: the leaderboard's fits
    assert jobs["computed"] == 2 * 4 * 8
    for c in curve["curves"]:
        points = c["points"]
        assert [p["fraction"] for p in points] == curve["fractions"]
        assert [p["train_rows"] for p in points] == sorted(p["train_rows"] for p in points)
        row = next(r for r in board["rows"] if (r["algorithm"], r["view"]) == (c["algorithm"], c["view"]))
        assert points[-1]["scores"] == row["scores"]  # the full size is the leaderboard's own
        assert all(len(p["scores"]) == 8 and p["std"] >= 0 for p in points)
    again = evaluate_json(project, "--learning-curve")
    assert again["learning_curve"]["jobs"]["computed"] == 0  # every fit reused from the store
    assert again["learning_curve"]["curves"] == curve["curves"]
    plain = evaluate_json(project)  # not asked for: the stored curve of these data is carried
    assert plain["learning_curve"]["curves"] == curve["curves"]


def test_a_learning_curve_block_in_the_spec_sets_the_fractions(project):
    document = yaml.safe_load((project / "project.yaml").read_text())
    document["learning_curve"] = {"fractions": [0.5, 0.25]}
    (project / "project.yaml").write_text(yaml.safe_dump(document))
    board = api.evaluate(project)
    assert board["learning_curve"]["fractions"] == [0.25, 0.5, 1.0]
    document["learning_curve"] = {"fractions": [0.5, 1.5]}
    (project / "project.yaml").write_text(yaml.safe_dump(document))
    result = CliRunner().invoke(main, ["evaluate", str(project)])
    assert result.exit_code == 2 and "learning_curve.fractions" in result.output


def test_subsamples_are_seeded_stratified_nested_and_leave_the_test_rows_alone():
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.25).astype(int)
    fold = Fold("r0f1", np.arange(100, 400), np.arange(100), repeat=0, index=1)
    kept = {f: subsample_fold(fold, f, y, True, seed=1) for f in (0.1, 0.4, 0.7)}
    for f, sub in kept.items():
        assert np.array_equal(sub.test, fold.test) and sub.id == f"r0f1@{round(f * 100)}"
        assert set(sub.train) <= set(fold.train)
        share = y[sub.train].mean()
        assert abs(share - y[fold.train].mean()) < 0.03  # stratified
        assert len(sub.train) == pytest.approx(f * 300, abs=2)
    assert set(kept[0.1].train) <= set(kept[0.4].train) <= set(kept[0.7].train)  # nested
    assert np.array_equal(subsample_fold(fold, 0.4, y, True, seed=1).train, kept[0.4].train)
    assert not np.array_equal(subsample_fold(fold, 0.4, y, True, seed=2).train, kept[0.4].train)
    ordered = subsample_fold(Fold("o0", np.arange(300), np.arange(300, 320)), 0.5, y, False, 1, True)
    assert np.array_equal(ordered.train, np.arange(150, 300))  # time order: the latest rows
    assert fractions_of([0.4, 0.2, 0.4]) == [0.2, 0.4, 1.0]


def _curve(algorithm, role, means, spread, seed):
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, spread, size=(len(means), 30))
    points = []
    for f, m, e in zip((0.1, 0.2, 0.4, 0.7, 1.0), means, noise, strict=True):
        scores = (m + e).round(4)
        points.append({"fraction": f, "train_rows": f * 700, "mean": float(scores.mean()),
                       "std": float(scores.std()), "scores": scores.tolist()})
    return {"algorithm": algorithm, "view": "raw", "role": role, "points": points}


def _document(*curves):
    return {"fractions": [0.1, 0.2, 0.4, 0.7, 1.0], "metric": "accuracy", "greater_is_better": True,
            "test_fraction": 0.1, "curves": list(curves)}


FMT = Formatter(3)


def test_the_report_says_when_more_data_would_still_help():
    # each fold's score rises by the same step (a shared fold effect): a real gain at the end
    steep = _curve("linear", "model", [0.60, 0.65, 0.70, 0.75, 0.80], 0.002, 1)
    for point in steep["points"]:
        point["scores"] = [s + 0.02 * (i % 3) for i, s in enumerate(point["scores"])]
    text = " ".join(curve_sentences(_document(steep), FMT))
    assert "linear (raw) is still learning" in text and "more data would likely help" in text
    assert overall_sentence(_document(steep), FMT).startswith("More data would still help")


def test_the_report_says_when_more_data_would_not_help():
    flat = _curve("linear", "model", [0.70, 0.74, 0.76, 0.770, 0.771], 0.04, 2)
    text = " ".join(curve_sentences(_document(flat), FMT))
    # no gain, or a gain the test does not confirm, is worded as such: never "levelled off"
    assert ("linear (raw): from 70% to 100% of the training rows it did not improve (0.772 -> 0.771, "
            "-0.001; corrected resampled t-test, p = " in text
            and "no sign that more data of this kind would help it" in text), text
    rising = _curve("linear", "model", [0.70, 0.74, 0.76, 0.770, 0.78], 0.04, 2)
    text = " ".join(curve_sentences(_document(rising), FMT))
    assert ("from 70% to 100% of the training rows it gained" in text
            and "no significant difference (corrected resampled t-test, p = " in text
            and "no evidence that more data of this kind would help it" in text), text
    assert "levelled off" not in text and "would not help" not in text
    assert overall_sentence(_document(flat), FMT).startswith("No evidence that more data would help")


def test_the_report_says_whether_the_net_gains_more_than_the_trees():
    net = _curve("mlp", "net", [0.55, 0.62, 0.70, 0.76, 0.80], 0.01, 3)
    trees = _curve("xgboost", "bar", [0.74, 0.75, 0.755, 0.76, 0.76], 0.01, 4)
    sentence = net_versus_bar_sentence(_document(net, trees), FMT)
    assert "the net gains more from data than the trees (a significant difference" in sentence
    assert "mlp (raw), gained +0.2" in sentence and "xgboost (raw), +0.0" in sentence
    same = _curve("mlp", "net", [0.74, 0.75, 0.755, 0.76, 0.76], 0.03, 5)
    sentence = net_versus_bar_sentence(_document(same, trees), FMT)
    # p = 0.6: no significant difference, which is not "the net does not gain more"
    assert "no significant difference between the two gains (corrected resampled t-test, p = " in sentence
    assert "does not gain more" not in sentence
    assert net_versus_bar_sentence(_document(trees), FMT) is None  # no net: nothing to compare


def test_the_report_draws_the_curves_and_says_it_in_words(tmp_path):
    from dlrun.report.entry import write_entry
    from tests.test_report import DATA, FINAL_MODEL, _leaderboard, _spec

    board = _leaderboard()
    board["learning_curve"] = _document(_curve("linear", "model", [0.70, 0.74, 0.76, 0.77, 0.78], 0.03, 1),
                                        _curve("mlp", "net", [0.55, 0.62, 0.70, 0.76, 0.80], 0.01, 3),
                                        _curve("xgboost", "bar", [0.74, 0.75, 0.755, 0.76, 0.76], 0.01, 4))
    entry = tmp_path / "pf" / "pima"
    (entry / "model").mkdir(parents=True)
    write_entry(entry, spec=_spec(), leaderboard=board, final_model=FINAL_MODEL, data_summary=DATA)
    readme = (entry / "README.md").read_text()
    assert "## Learning curves" in readme and "figures/learning-curve.png" in readme
    assert (entry / "figures" / "learning-curve.png").stat().st_size > 1000
    assert "the net gains more from data than the trees" in readme
    assert "| mlp (raw) |" in readme  # the table of points
