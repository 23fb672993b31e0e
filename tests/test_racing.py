"""Racing: candidates worse than another beyond doubt stop early; nothing that could
still be the best is dropped (synthetic candidates with known differences, then a run)."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from dlrun.evaluation.callbacks import RacingCallback, StopCandidate

FOLDS, REPEATS, TEST_FRACTION = 10, 3, 0.1


def job(name: str, repeat: int, fold: int):
    return SimpleNamespace(candidate=SimpleNamespace(name=name, view="raw"), fold_id=f"r{repeat}f{fold}")


def race(means: dict[str, float], rng, noise=0.03, shared=0.04, **kwargs) -> dict[str, int]:
    """Feed fold scores repeat by repeat (as the runner orders them); returns, per
    candidate, the folds it finished before it was stopped (all: never stopped).
    ``shared``: the part of a fold's score every candidate shares (an easy or hard
    fold), which is what makes paired comparisons sharper than unpaired ones."""
    hook = RacingCallback("accuracy", True, FOLDS, REPEATS, TEST_FRACTION, **kwargs)
    finished = {name: 0 for name in means}
    stopped = set()
    for repeat in range(REPEATS):
        common = rng.normal(0, shared, FOLDS)
        for name, mean in means.items():
            for fold in range(FOLDS):
                if name in stopped:
                    break
                score = mean + common[fold] + rng.normal(0, noise)
                finished[name] += 1
                try:
                    hook.on_job_end(job(name, repeat, fold), {"metrics": {"accuracy": score}}, False)
                except StopCandidate:
                    stopped.add(name)
    return finished, hook


def test_a_clearly_worse_candidate_stops_after_the_first_repeat_and_says_why():
    finished, hook = race({"good": 0.90, "twin": 0.90, "bad": 0.70}, np.random.default_rng(0))
    assert finished == {"good": 30, "twin": 30, "bad": 10}
    reason = hook.raced[("bad", "raw")]["reason"]
    assert "after 10 folds" in reason and "scores better beyond doubt" in reason
    assert hook.raced[("bad", "raw")]["folds"] == 10


def test_lower_is_better_metrics_race_the_other_way():
    hook = RacingCallback("rmse", False, FOLDS, REPEATS, TEST_FRACTION)
    rng = np.random.default_rng(1)
    stopped = set()
    for fold in range(FOLDS):
        for name, mean in (("small_error", 1.0), ("large_error", 3.0)):
            try:
                hook.on_job_end(job(name, 0, fold), {"metrics": {"rmse": mean + rng.normal(0, 0.1)}}, False)
            except StopCandidate:
                stopped.add(name)
    assert stopped == {"large_error"}


def test_a_single_repeat_is_raced_after_most_of_its_folds():
    hook = RacingCallback("accuracy", True, 5, 1, 0.2)
    assert hook.checkpoints == {3}
    assert RacingCallback("accuracy", True, 10, 3, 0.1).checkpoints == {10, 20}


def test_candidates_as_good_as_the_best_are_rarely_dropped():
    """The error rate the README states: equal candidates are dropped at most at about
    alpha x rivals x checkpoints (here 0.01 x 1 x 2 = 2 %); 400 races, seeded."""
    rng = np.random.default_rng(7)
    dropped = 0
    for _ in range(400):
        finished, _ = race({"a": 0.8, "b": 0.8}, rng)
        dropped += min(finished.values()) < FOLDS * REPEATS
    assert dropped / 400 <= 0.04


def test_a_small_true_difference_is_not_enough_to_drop_early():
    """A candidate 0.5 points behind on folds that vary by 3 points is never dropped:
    it could still be the best on new data, as far as the folds can tell."""
    finished, _ = race({"leader": 0.805, "close": 0.800}, np.random.default_rng(3))
    assert finished == {"leader": 30, "close": 30}


@pytest.mark.slow
def test_racing_on_a_project_drops_the_naive_baseline_and_lists_it(tmp_path):
    folder = tmp_path / "cancer"
    subprocess.run([sys.executable, "-m", "dlrun", "new", "cancer", "--data", "sklearn:breast_cancer",
                    "--dir", str(tmp_path)], check=True, capture_output=True)
    out = subprocess.run([sys.executable, "-m", "dlrun", "evaluate", str(folder), "--quick",
                          "--only", "baseline,linear", "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    board = json.loads(out.stdout)
    assert [r["algorithm"] for r in board["raced"]] == ["baseline"]
    assert board["raced"][0]["folds"] == 3  # 60 % of the 5 folds of --quick
    assert "baseline" not in {r["algorithm"] for r in board["rows"]}
    assert board["jobs"]["computed"] < board["jobs"]["total"]
    assert board["protocol"]["racing"] == {"alpha": 0.01, "checkpoints": [3]}
    # --no-race: every fold of every candidate, nothing listed as raced
    out = subprocess.run([sys.executable, "-m", "dlrun", "evaluate", str(folder), "--quick", "--no-race",
                          "--only", "baseline,linear", "--json"], capture_output=True, text=True)
    board = json.loads(out.stdout)
    assert "raced" not in board and "baseline" in {r["algorithm"] for r in board["rows"]}
