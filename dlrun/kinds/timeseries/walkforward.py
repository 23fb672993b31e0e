"""Walk-forward validation: the only resampling a forecasting project gets.

One fold per (origin, seed): the training rows are every observation before
the origin (``range(0, origin)``), the test rows the next ``test_size``
observations. A model is fitted once per fold, then steps through the test
window one observation at a time, each true observation joining the history
before the next forecast (:meth:`Forecaster.forecast`). Origins go backwards
from the end of the series in blocks of ``test_size``; seeds repeat each origin
so that nets, which vary run to run, are judged on their mean and spread.

A fold's score (e.g. RMSE) is computed over its whole test window, so with one
origin a row's mean is the error over the last ``test_size`` observations --
the number published for the standard datasets. No fold ever shuffles, and no
training row comes after a test row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from dlrun.evaluation.resampling import Fold, Plan


@dataclass(frozen=True)
class WalkForwardFold(Fold):
    """A fold whose identity includes its seed (repeats share their rows)."""

    def digest(self) -> str:
        return hashlib.sha256(f"{super().digest()}|{self.id}".encode()).hexdigest()[:16]


@dataclass
class WalkForwardPlan(Plan):
    test_size: int = 0
    horizon: int = 1

    def describe(self) -> dict:
        return {"name": "walk-forward validation", "origins": self.n_splits,
                "seeds": self.n_repeats, "test_size": self.test_size, "horizon": self.horizon,
                "seed": self.seed}


def repeat_of(fold_id: str) -> int:
    """The seed offset of a fold id ``o{origin}s{seed}``."""
    _, _, seed = fold_id.rpartition("s")
    return int(seed) if seed.isdigit() else 0


def walk_forward_plan(n: int, test_size: int, origins: int = 1, seeds: int = 1, seed: int = 1,
                      horizon: int = 1) -> WalkForwardPlan:
    folds = []
    for o in range(origins):
        origin = n - test_size * (o + 1)
        train, test = np.arange(origin), np.arange(origin, origin + test_size)
        for s in range(seeds):
            folds.append(WalkForwardFold(f"o{o}s{s}", train, test, repeat=s, index=o, seed_offset=s))
    plan = WalkForwardPlan("walk-forward validation", folds, origins, seeds, seed,
                           test_size=test_size, horizon=horizon)
    plan.notes.append(
        f"walk-forward: fit on everything before the last {test_size * origins} observations"
        + (f" ({origins} origins of {test_size})" if origins > 1 else "")
        + f", forecast {horizon} step(s) ahead, feed each true observation back; "
        f"{seeds} seed(s) per algorithm"
    )
    return plan


def walk_forward_planner(spec, dataset, quick: bool) -> WalkForwardPlan:
    """The planner registered for ``kind: timeseries`` (``--quick``: one seed, one origin)."""
    ctx = dataset.meta["context"]
    origins, seeds = (1, 1) if quick else (ctx["origins"], ctx["seeds"])
    plan = walk_forward_plan(dataset.n_rows, ctx["test_size"], origins, seeds,
                             spec.evaluation.seed, ctx["horizon"])
    if quick:
        plan.notes.append("--quick: one origin, one seed")
    return plan
