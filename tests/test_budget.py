"""Time budgets: --time-limit runs cheap algorithms first, starts nothing once the budget is
spent, stops what runs at its end and keeps what finished; evaluation.fit_timeout stops a
runaway fit without stopping the run. A throw-away plugin brings an algorithm whose fit
sleeps a known time, so what a budget allows is known in advance."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from dlrun.budget import deadline_for, process_started, reserve
from tests.helpers import classification_csv

SLEEPY = '''
import time

from sklearn.dummy import DummyClassifier

from dlrun.catalogue import CLASS, NUMBER, TABLE, AlgorithmInfo


class Sleepy(DummyClassifier):
    def __init__(self, strategy="prior", seconds=0.5):
        super().__init__(strategy=strategy)
        self.seconds = seconds

    def fit(self, X, y, sample_weight=None):
        time.sleep(self.seconds)
        return super().fit(X, y)


def _sleepy(ctx, *, seconds=0.5):
    return Sleepy(seconds=seconds)


SLEEPY = AlgorithmInfo("sleepy", _sleepy, frozenset({CLASS, NUMBER}), (TABLE,), slow=True,
                       description="a fit that sleeps")
'''


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    (root / "sleepy").mkdir(parents=True)
    (root / "sleepy" / "__init__.py").write_text(textwrap.dedent(SLEEPY))
    info = root / "sleepy-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sleepy\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[dlrun.algorithms]\nsleepy = sleepy:SLEEPY\n")
    return root


def project(tmp_path, **evaluation) -> Path:
    folder = tmp_path / "p"
    folder.mkdir()
    csv = classification_csv(folder / "data.csv", n=60)
    spec = {"name": "p", "task": "classification", "metric": "accuracy",
            "data": {"source": str(csv), "target": "label"}, "views": ["raw", "standardize"],
            "evaluation": {"folds": 3, "repeats": 2, "seed": 1, **evaluation}}
    (folder / "project.yaml").write_text(yaml.safe_dump(spec))
    return folder


def dlrun(site: Path, *args, timeout=300):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "dlrun", *map(str, args)], env=env,
                            capture_output=True, text=True, timeout=timeout)
    return result, time.monotonic() - start


def test_the_budget_counts_from_the_process_start():
    assert process_started() <= time.monotonic()
    assert deadline_for(None) is None
    assert deadline_for(60) == pytest.approx(process_started() + 60 - reserve(60), abs=0.05)
    assert reserve(10) == 1 and reserve(60) == pytest.approx(3.6) and reserve(3600) == 5


def test_a_time_limit_runs_cheap_fits_first_and_keeps_what_finished(site, tmp_path):
    folder = project(tmp_path)
    # 12 sleepy fits of 6 s cannot all run in 20 s; baseline and linear (quick) run first
    # (racing, on by default under a time limit, is left out: it is tested on its own)
    (folder / "project.yaml").write_text((folder / "project.yaml").read_text()
                                         + "params: {sleepy: {seconds: 6}}\n")
    result, seconds = dlrun(site, "evaluate", folder, "--only", "baseline,linear,sleepy",
                            "--time-limit", "20", "--no-race", "--json")
    assert result.returncode == 0, result.stderr
    board = json.loads(result.stdout)
    names = {r["algorithm"] for r in board["rows"]}
    assert {"baseline", "linear"} <= names and "sleepy" not in names  # only complete rows
    assert board["out_of_time"] is True
    assert "--time-limit 20 s reached" in result.stderr and "sleepy/" in result.stderr
    assert any("--time-limit 20 s reached" in note for note in board["notes"])
    assert seconds < 20 + 10  # stopped at its end, not after every sleepy fit (72 s)
    again, _ = dlrun(site, "evaluate", folder, "--only", "baseline,linear,sleepy", "--json")
    jobs = json.loads(again.stdout)["jobs"]
    assert jobs["reused"] >= 18  # what finished under the budget was kept (baseline: one view)


def test_a_runaway_fit_is_stopped_and_the_run_goes_on(site, tmp_path):
    folder = project(tmp_path, fit_timeout=1)
    (folder / "project.yaml").write_text((folder / "project.yaml").read_text()
                                         + "params: {sleepy: {seconds: 60}}\n")
    result, seconds = dlrun(site, "evaluate", folder, "--only", "baseline,sleepy", "--json")
    assert result.returncode == 0, result.stderr
    board = json.loads(result.stdout)
    # the baseline ignores the features: one row stands for both views
    assert [(r["algorithm"], r.get("views")) for r in board["rows"]] == [("baseline", ["raw", "standardize"])]
    failure = next(f for f in board["failures"] if f["algorithm"] == "sleepy")
    assert "fit_timeout" in failure["error"]
    assert "sleepy on raw failed" in result.stderr or "sleepy on standardize failed" in result.stderr
    assert seconds < 60  # each runaway fit was stopped after a second
