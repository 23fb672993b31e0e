"""The report's statistics are the leaderboard's: same test (dlrun.evaluation.stats), same test
fraction (recorded in the leaderboard), so the report can never disagree with it."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest
from test_report import DATA, FINAL_MODEL, _spec

from dlrun.evaluation.candidates import Candidate
from dlrun.evaluation.resampling import kfold_plan
from dlrun.evaluation.runner import GridResult, leaderboard
from dlrun.evaluation.stats import corrected_resampled_ttest, mark_same_as_best
from dlrun.report import analysis as A
from dlrun.report.context import ReportContext
from dlrun.report.entry import write_entry
from dlrun.report.sections import headline_sentences

# (algorithm, view, centre, spread): close enough that some rows tie with the best
PAIRS = [("linear", "standardize", 0.80, 0.03), ("svm", "standardize", 0.79, 0.03),
         ("mlp", "standardize", 0.785, 0.04), ("xgboost", "raw", 0.77, 0.03),
         ("knn", "raw", 0.74, 0.03), ("baseline", "raw", 0.65, 0.01)]


def crafted_board(n_rows: int = 53, folds: int = 5, repeats: int = 2) -> dict:
    """A leaderboard made by the runner itself from made-up fold scores (53 rows: the folds'
    test fraction, 11/53, is not 1/5)."""
    y = np.arange(n_rows) % 2
    plan = kfold_plan(y, "classification", folds, repeats, seed=1)
    rng = random.Random(3)
    grid = GridResult(total=len(PAIRS) * len(plan.folds))
    candidates = []
    for algorithm, view, centre, spread in PAIRS:
        candidates.append(Candidate(algorithm, view))
        grid.results[(algorithm, view)] = {
            f.id: {"metrics": {"accuracy": rng.gauss(centre, spread)}, "fit_seconds": 0.1}
            for f in plan.folds}
    return leaderboard("p", "classification", "accuracy", plan, candidates, grid, [])


def test_the_leaderboard_records_its_test_fraction_and_roles():
    board = crafted_board()
    assert board["protocol"]["test_fraction"] == pytest.approx(11 / 53)
    roles = {r["algorithm"]: r["role"] for r in board["rows"]}
    assert roles == {"linear": "model", "svm": "model", "mlp": "net", "xgboost": "bar",
                     "knn": "model", "baseline": "baseline"}
    assert A.test_fraction(board) == board["protocol"]["test_fraction"]


def test_report_p_values_equal_the_leaderboards(tmp_path):
    board = crafted_board()
    rows = board["rows"]
    best = rows[0]
    assert {r["same_as_best"] for r in rows[1:]} == {True, False}  # both verdicts are exercised
    for row in rows[1:]:
        # the leaderboard's own verdict, used as it is ...
        assert A.versus_best(best, row, board)["p_value"] == row["p_value"]
        # ... and recomputed by the report with the same test and fraction: identical
        fresh = {k: v for k, v in row.items() if k not in ("p_value", "same_as_best")}
        cmp = A.compare(best, fresh, board)
        assert cmp["p_value"] == row["p_value"]
        assert cmp["real"] is (not row["same_as_best"])

    entry = write_entry(tmp_path / "pf" / "p", spec=_spec(name="p"), leaderboard=board,
                        final_model=FINAL_MODEL, data_summary=DATA)
    readme = (entry / "README.md").read_text()
    html = (entry / "report.html").read_text()
    fmt = A.Formatter(A.decimals_for(board))
    for row in rows[1:]:
        shown = f"{'yes' if row['same_as_best'] else 'no'} ({fmt.p_is(row['p_value'])})"
        line = next(x for x in readme.splitlines()
                    if x.startswith("| ") and f"| {row['algorithm']} | {row['view']} |" in x)
        assert line.rstrip(" |").endswith(shown), line
        assert shown.replace("<", "&lt;") in html

    # a pair the leaderboard does not test (the best net against the bar): the same test, same fraction
    deep = next(r for r in rows if r["role"] == "net")
    bar = next(r for r in rows if r["role"] == "bar")
    expected = round(corrected_resampled_ttest(deep["scores"], bar["scores"], 11 / 53), 4)
    assert A.compare(deep, bar, board)["p_value"] == expected
    lesson = next(s for s in ReportContext(spec=_spec(), leaderboard=board).lessons
                  if s.startswith("The best deep net"))
    assert fmt.p_is(expected) in lesson and fmt.p_is(expected) in readme

    # the headline's verdict against the bar is the leaderboard's
    sentence = next(s for s in headline_sentences(ReportContext(spec=_spec(), leaderboard=board))
                    if s.startswith("Against the bar"))
    assert fmt.p_is(bar["p_value"]) in sentence
    assert ("a significant difference" in sentence) is (not bar["same_as_best"])


def test_old_leaderboards_fall_back_to_their_folds():
    board = crafted_board(n_rows=50)  # 10 per fold: 1/5 exactly
    del board["protocol"]["test_fraction"]
    assert A.test_fraction(board) == pytest.approx(1 / 5)
    best, row = board["rows"][0], board["rows"][3]
    fresh = {k: v for k, v in row.items() if k not in ("p_value", "same_as_best")}
    assert A.compare(best, fresh, board)["p_value"] == row["p_value"]
    walk = {"protocol": {"name": "walk-forward validation", "test_size": 12}, "data": {"rows": 144}}
    assert A.test_fraction(walk) == pytest.approx(12 / 144)
    assert A.test_fraction({}) == A.DEFAULT_TEST_FRACTION
    # rows the leaderboard's test cannot pair fold by fold: treated exactly as it treats them
    short = {**row, "scores": row["scores"][:3]}
    expected = [{"scores": best["scores"]}, {"scores": short["scores"]}]
    mark_same_as_best(expected, A.test_fraction(board))
    cmp = A.compare(best, short, board)
    assert cmp["p_value"] == expected[1]["p_value"]
    assert cmp["real"] is (expected[1]["p_value"] is not None and not expected[1]["same_as_best"])
    single = {**row, "scores": row["scores"][:1]}  # one score: nothing to test
    assert A.compare(best, single, board)["tested"] is False


def test_the_report_imports_its_test_from_stats():
    source = (Path(A.__file__)).read_text()
    assert "from dlrun.evaluation.stats import mark_same_as_best" in source
    assert not re.search(r"def \w*t_?test", source)
