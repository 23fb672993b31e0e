"""Every lessons sentence is true: crafted leaderboards (made by the runner itself from made-up
fold scores) pin the wording on exact ties, on p just below and just above 0.05, and on the
quick protocol."""

from __future__ import annotations

import random

import numpy as np
import pytest
from test_report import FINAL_MODEL, _spec

from dlrun.evaluation.candidates import Candidate
from dlrun.evaluation.resampling import kfold_plan
from dlrun.evaluation.runner import GridResult, leaderboard
from dlrun.evaluation.stats import ALPHA
from dlrun.report import analysis as A
from dlrun.report.context import ReportContext
from dlrun.report.entry import write_entry
from dlrun.report.lessons import derive_lessons

N_ROWS, FOLDS, REPEATS = 50, 5, 2


def _plan(folds=FOLDS, repeats=REPEATS):
    return kfold_plan(np.arange(N_ROWS) % 2, "classification", folds, repeats, seed=1)


def _board(scores: dict[tuple[str, str], list[float]], plan=None, **extra) -> dict:
    """The runner's leaderboard of these (algorithm, view) -> fold scores (accuracy, and a
    second metric so that rows carry their secondary metrics)."""
    plan = plan or _plan()
    grid = GridResult(total=len(scores) * len(plan.folds))
    candidates = []
    for (algorithm, view), values in scores.items():
        candidates.append(Candidate(algorithm, view))
        grid.results[(algorithm, view)] = {
            f.id: {"metrics": {"accuracy": v, "balanced_accuracy": v - 0.01}, "fit_seconds": 0.1}
            for f, v in zip(plan.folds, values, strict=True)}
    board = leaderboard("p", "classification", "accuracy", plan, candidates, grid, [])
    board.update(extra)
    return board


def _noise(seed: int, n: int, scale: float) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(0, scale) for _ in range(n)]


def _pair_at(target: float, best=("linear", "standardize"), other=("svm", "standardize"), extra=None):
    """A leaderboard where ``other`` trails ``best`` with the leaderboard's p-value close to
    ``target`` (bisection on the gap)."""
    n = FOLDS * REPEATS
    base = [0.8 + e for e in _noise(1, n, 0.02)]
    wobble = _noise(2, n, 0.01)

    def board_for(gap):
        scores = {best: base, other: [b - gap + w for b, w in zip(base, wobble, strict=True)]}
        scores.update(extra or {})
        return _board(scores)

    lo, hi = 0.0, 0.1  # p falls as the gap grows
    for _ in range(60):
        mid = (lo + hi) / 2
        row = next(r for r in board_for(mid)["rows"] if r["algorithm"] == other[0])
        if row["p_value"] > target:
            lo = mid
        else:
            hi = mid
    board = board_for((lo + hi) / 2)
    row = next(r for r in board["rows"] if r["algorithm"] == other[0])
    assert abs(row["p_value"] - target) < 0.0005, row["p_value"]
    return board, row


def test_p_just_below_the_level_is_a_significant_difference():
    board, row = _pair_at(0.0490)
    assert row["p_value"] < ALPHA and row["same_as_best"] is False
    lessons = derive_lessons(board)
    sentence = next(s for s in lessons if "runner-up" in s)
    assert sentence.startswith("Every other algorithm scored significantly below the best, linear (standardize)")
    assert f"behind: a significant difference (corrected resampled t-test, p = {row['p_value']:.4f})." in sentence
    assert not any("no significant difference from the best" in s for s in lessons)


def test_p_just_above_the_level_is_no_significant_difference_never_no_difference():
    board, row = _pair_at(0.0510)
    assert row["p_value"] >= ALPHA and row["same_as_best"] is True
    lessons = derive_lessons(board)
    sentence = next(s for s in lessons if "no significant difference from the best" in s)
    assert sentence.startswith("1 other algorithm shows no significant difference from the best, "
                               "linear (standardize)")
    assert f"svm (standardize) {A.Formatter(3)(row['mean'])} (p = {row['p_value']:.4f})" in sentence
    assert "at the 5% level (corrected resampled t-test)" in sentence
    assert "not proof that they are equal" in sentence
    text = " ".join(lessons)
    for wrong in ("no real difference", "no difference", "same as", "comparable scales", "within noise"):
        assert wrong not in text, wrong
    assert not any("significantly below" in s for s in lessons)


def test_p_values_near_the_level_are_never_rounded_to_it():
    fmt = A.Formatter(3)
    assert fmt.p(0.0496) == "0.0496" and fmt.p(0.0504) == "0.0504"
    assert fmt.p(0.31) == "0.310" and fmt.p(0.0004) == "<0.001"


@pytest.mark.parametrize("target, significant", [(0.0490, True), (0.0510, False)])
def test_the_net_against_the_bar_near_the_level(target, significant):
    """The net/bar pair is not tested by the leaderboard against the best: the report runs the
    leaderboard's test on it; just below 0.05 it beat the bar, just above it did not show it."""
    n = FOLDS * REPEATS
    bar = [0.75 + e for e in _noise(3, n, 0.02)]
    wobble = _noise(4, n, 0.01)

    def board_for(gap):
        return _board({("linear", "standardize"): [0.9 + e for e in _noise(5, n, 0.01)],
                       ("xgboost", "raw"): bar,
                       ("mlp", "standardize"): [b + gap + w for b, w in zip(bar, wobble, strict=True)]})

    def p_of(board):
        rows = {r["algorithm"]: r for r in board["rows"]}
        return A.compare(rows["mlp"], rows["xgboost"], board)["p_value"]

    lo, hi = 0.0, 0.1
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if p_of(board_for(mid)) > target else (lo, mid)
    board = board_for((lo + hi) / 2)
    p = p_of(board)
    assert abs(p - target) < 0.0005
    sentence = next(s for s in derive_lessons(board) if s.startswith("The best deep net"))
    if significant:
        assert "beat the bar, xgboost (raw)" in sentence
        assert f": a significant difference (corrected resampled t-test, p = {p:.4f})" in sentence
    else:
        assert "which does not show that it beats the bar" in sentence
        assert f": no significant difference (corrected resampled t-test, p = {p:.4f})" in sentence
        assert "beat the bar," not in sentence


def test_scaling_without_significance_is_not_called_no_difference():
    """The issue's wrong sentence: 'Scaling made no real difference for mlp 0.762 on power vs
    0.685 raw ... so the inputs were already on comparable scales' at p > 0.05."""
    n = FOLDS * REPEATS
    scaled = [0.76 + e for e in _noise(6, n, 0.05)]
    raw = [0.70 + e for e in _noise(7, n, 0.05)]
    board = _board({("knn", "standardize"): scaled, ("knn", "raw"): raw})
    rows = {r["view"]: r for r in board["rows"]}
    cmp = A.compare(rows["standardize"], rows["raw"], board)
    assert cmp["tested"] and not cmp["real"]  # a large gap the test does not confirm
    sentence = next(s for s in derive_lessons(board) if s.startswith("Scaling"))
    assert sentence.startswith("Scaling the inputs showed no significant difference (corrected resampled "
                               "t-test, the 5% level) for knn")
    assert f"(p = {A.Formatter(3).p(cmp['p_value'])})" in sentence
    assert "does not show that scaling makes no difference" in sentence
    assert "comparable scales" not in sentence and "no real difference" not in sentence

    board = _board({("knn", "standardize"): [s + 0.15 for s in scaled], ("knn", "raw"): raw})
    sentence = next(s for s in derive_lessons(board) if s.startswith("Scaling"))
    assert sentence.startswith("Scaling the inputs helped significantly")


def test_exact_ties_collapse_and_are_named_as_ties():
    """The issue's case: baseline and xgboost score exactly the same on every view (ties broken
    arbitrarily made one view 'never the best'). Exact ties collapse into one row listing the
    tied views, and the view lesson neither counts nor ignores them arbitrarily."""
    n = FOLDS * REPEATS
    floor, trees = [0.65] * n, [0.75 + e for e in _noise(8, n, 0.02)]
    views = ("raw", "standardize", "normalize")
    scores = {("baseline", v): floor for v in views}
    scores.update({("xgboost", v): trees for v in views})
    scores.update({("knn", "raw"): [0.70 + e for e in _noise(9, n, 0.02)],
                   ("knn", "standardize"): [0.74 + e for e in _noise(10, n, 0.02)],
                   ("knn", "normalize"): [0.72 + e for e in _noise(11, n, 0.02)],
                   ("svm", "raw"): [0.71 + e for e in _noise(12, n, 0.02)],
                   ("svm", "normalize"): [0.745 + e for e in _noise(13, n, 0.02)],
                   ("linear", "raw"): trees})  # another algorithm scoring exactly what xgboost does
    board = _board(scores)
    rows = board["rows"]
    xgb = [r for r in rows if r["algorithm"] == "xgboost"]
    assert len(xgb) == 1 and A.views_of(xgb[0]) == list(views)
    assert xgb[0]["tied_views"] == ["standardize", "normalize"]
    assert len([r for r in rows if r["algorithm"] == "baseline"]) == 1
    assert A.view_text(xgb[0]) == "raw = standardize = normalize"
    # every row carries its secondary metrics
    assert all(set(r["metrics"]) == {"accuracy", "balanced_accuracy"} for r in rows)
    assert rows[0]["metrics"]["accuracy"] == pytest.approx(rows[0]["mean"], abs=1e-6)

    lessons = derive_lessons(board)
    tie = next(s for s in lessons if "exact tie" in s)
    best, other = rows[0], rows[1]
    assert {best["algorithm"], other["algorithm"]} == {"linear", "xgboost"}
    assert tie.startswith(f"{A.label(other)} scored exactly what the best, {A.label(best)}, scored on every fold")
    assert "orders by name, not by merit" in tie
    views_sentence = next(s for s in lessons if s.startswith("By mean score"))
    # knn's best is standardize, svm's normalize: one each; raw never
    assert "'normalize' and 'standardize' were each the best view for 1 of the 2 algorithms" in views_sentence
    assert "'raw' never gave one of them its highest mean" in views_sentence
    same = next(s for s in lessons if "scored exactly the same on every view" in s)
    assert same.startswith("xgboost and baseline scored exactly the same on every view")

    # `dlrun predictions --candidate xgboost/normalize` finds the row that stands for it
    from dlrun.stages.results import find_row

    assert find_row(board, "xgboost/normalize") is xgb[0]
    assert find_row(board, "baseline/standardize")["algorithm"] == "baseline"

    # a view tied exactly for an algorithm counts for both views
    scores[("knn", "normalize")] = scores[("knn", "standardize")]
    views_sentence = next(s for s in derive_lessons(_board(scores)) if s.startswith("By mean score"))
    assert "'normalize' was the best view for 2 of the 2 algorithms" in views_sentence


def test_the_quick_protocol_is_said_first_and_flagged(tmp_path):
    n = 5
    plan = _plan(folds=5, repeats=1)
    scores = {("linear", "standardize"): [0.8 + e for e in _noise(14, n, 0.02)],
              ("svm", "standardize"): [0.78 + e for e in _noise(15, n, 0.02)]}
    quick = _board(scores, plan, options={"quick": True})
    lessons = derive_lessons(quick)
    assert lessons[0].startswith("These scores come from the quick protocol (5 folds x 1 repeat, 5 fold "
                                 "scores a candidate)")
    assert "weak evidence" in lessons[0] and "without --quick" in lessons[0]
    full = _board(scores, plan)
    assert not any("quick protocol" in s for s in derive_lessons(full))

    entry = write_entry(tmp_path / "pf" / "p", spec=_spec(name="p"), leaderboard=quick,
                        final_model=FINAL_MODEL, data_summary={})
    readme = (entry / "README.md").read_text()
    headline = readme.split("## Result", 1)[1].split("\n## ", 1)[0]
    assert "-- quick run." in headline and "Quick protocol (5 folds x 1 repeat)" in headline
    import json

    results = json.loads((entry / "results.json").read_text())
    assert results["summary"]["protocol_flags"] == ["quick"]
    assert results["summary"]["evaluation"]["flags"][0]["flag"] == "quick"

    partial = _board(scores, plan, options={"only": ["linear", "svm"]})
    assert [f["flag"] for f in ReportContext(spec=_spec(), leaderboard=partial).flags] == ["partial"]
    assert ReportContext(spec=_spec(), leaderboard=full).flags == []


def test_floor_lessons_say_which_gains_are_significant():
    n = FOLDS * REPEATS
    board = _board({("linear", "standardize"): [0.8 + e for e in _noise(16, n, 0.02)],
                    ("knn", "raw"): [0.67 + e for e in _noise(17, n, 0.05)],
                    ("cart", "raw"): [0.64 + e for e in _noise(18, n, 0.01)],
                    ("baseline", "raw"): [0.65] * n})
    lessons = derive_lessons(board)
    assert any(s.startswith("cart (raw) did not beat the naive baseline (0.650) on the mean") for s in lessons)
    assert any(s.startswith("1 of 3 algorithms beat the naive baseline (0.650) significantly") for s in lessons)
    unsure = next(s for s in lessons if "with no significant difference from it" in s)
    assert unsure.startswith("knn (raw)")


def test_tuning_and_ensemble_sentences_name_the_test_and_p():
    n = FOLDS * REPEATS
    plain = [0.78 + e for e in _noise(19, n, 0.03)]
    board = _board({("linear", "standardize"): [0.80 + e for e in _noise(20, n, 0.03)],
                    ("svm", "standardize"): plain})
    tuned = {"algorithm": "svm+tuned", "view": "standardize", "role": "tuned", "base": "svm",
             "scores": [round(0.79 + e, 6) for e in _noise(21, n, 0.03)], "resampling": "seed 1001",
             "tuning_score": 0.83, "trials": 20, "n_folds": n, "fit_seconds": 0.1}
    tuned["mean"] = float(np.mean(tuned["scores"]))
    tuned["std"] = float(np.std(tuned["scores"]))
    best = board["rows"][0]
    ensemble = {"algorithm": "ensemble", "view": "members", "role": "ensemble", "n_folds": n, "fit_seconds": 0.2,
                "scores": [round(s - 0.005, 6) for s in best["scores"]]}
    ensemble["mean"], ensemble["std"] = float(np.mean(ensemble["scores"])), float(np.std(ensemble["scores"]))
    board["rows"] = sorted([*board["rows"], tuned, ensemble], key=lambda r: -r["mean"])
    fmt = A.Formatter(3)
    lessons = derive_lessons(board)
    svm = next(r for r in board["rows"] if r["algorithm"] == "svm")
    cmp = A.compare(tuned, svm, board)
    sentence = next(s for s in lessons if s.startswith("Tuning"))
    assert sentence.startswith(f"Tuning {'raised' if cmp['margin'] > 0 else 'did not raise'} svm's mean: "
                               f"{fmt(svm['mean'])} -> {fmt(tuned['mean'])}")
    assert f"corrected resampled t-test, unpaired (different resamplings), {fmt.p_is(cmp['p_value'])}" in sentence
    assert ("a significant difference" if cmp["real"] else "no significant difference") in sentence
    optimism = next(s for s in lessons if s.startswith("The search scored"))
    assert f"inflated the score by {fmt(0.83 - tuned['mean'])}" in optimism
    single = next(r for r in board["rows"] if r.get("role") not in ("tuned", "ensemble"))
    cmp = A.compare(ensemble, single, board)
    sentence = next(s for s in lessons if s.startswith("The ensemble"))
    assert sentence.startswith(f"The ensemble ({fmt(ensemble['mean'])}) did not score above the best single model")
    assert f"(-0.005): {A.significance(cmp, fmt)}." in sentence and cmp["tested"]
