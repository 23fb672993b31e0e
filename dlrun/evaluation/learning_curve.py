"""Learning curves: skill against training-set size, under the leaderboard's own resampling.

For a few candidates -- the best classical one, the best net and the bar (found by
their catalogue role, at their best view) -- every training fold of the plan is cut
to fractions of its rows (:data:`FRACTIONS`): seeded, stratified for classes and
nested (the 10 % rows are among the 20 % ones, ...), so that a curve moves because
of the data it gains, not because of which rows were drawn; when the folds are
time-ordered (every training row before every test row) a fraction keeps the most
recent rows. The test folds are untouched: every point is scored on the
leaderboard's own test rows, so two points of a curve are paired fold by fold.

The jobs are ordinary jobs of :func:`dlrun.evaluation.runner.run_grid` (a fold of a
fraction is a :class:`~dlrun.evaluation.resampling.Fold` of its own, ``r0f3@40``),
persisted the moment they finish and reused by a second run; the 100 % point is
the leaderboard's own fits.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from dlrun.catalogue import BAR, MODEL, NET, is_classification, role_of
from dlrun.evaluation.resampling import Fold, Plan

#: Fractions of each training fold (the last, 100 %, is the leaderboard's own fits).
FRACTIONS = (0.1, 0.2, 0.4, 0.7, 1.0)
#: The roles that get a curve, in the order they are shown: the best classical candidate,
#: the best net and the bar.
ROLES = (MODEL, NET, BAR)


def percent(fraction: float) -> str:
    """``0.4`` -> ``40%``."""
    return f"{fraction * 100:.4g}%"


def fractions_of(values) -> list[float]:
    """The fractions to draw: sorted, unique, in (0, 1], 100 % always included."""
    out = sorted({round(float(v), 6) for v in values if 0 < float(v) <= 1} | {1.0})
    return out


def subsample_fold(fold: Fold, fraction: float, y: np.ndarray, classification: bool, seed: int,
                   ordered: bool = False) -> Fold:
    """``fold`` with ``fraction`` of its training rows (its test rows untouched)."""
    if fraction >= 1.0:
        return fold
    train = np.asarray(fold.train)
    if ordered:  # time-ordered folds keep the most recent rows
        n = max(2, int(round(fraction * len(train))))
        kept = np.sort(train)[-n:]
    else:
        rng = np.random.default_rng([int(seed), int(fold.repeat), int(fold.index)])
        if classification:
            parts = []
            labels = y[train]
            for label in np.unique(labels):
                rows = train[labels == label]
                order = rng.permutation(len(rows))  # the same order for every fraction: nested
                n = min(len(rows), max(2, int(round(fraction * len(rows)))))
                parts.append(rows[order[:n]])
            kept = np.sort(np.concatenate(parts))
        else:
            order = rng.permutation(len(train))
            n = max(2, int(round(fraction * len(train))))
            kept = np.sort(train[order[:n]])
    return replace(fold, id=f"{fold.id}@{percent(fraction)[:-1]}", train=kept)


def fraction_plan(plan: Plan, fraction: float, y: np.ndarray, task: str) -> Plan:
    from dlrun.evaluation.ensembles import time_ordered

    ordered = time_ordered(plan.folds)
    folds = [subsample_fold(f, fraction, y, is_classification(task), plan.seed, ordered)
             for f in plan.folds]
    return replace(plan, folds=folds, notes=[])


def curve_rows(board: dict[str, Any]) -> list[dict[str, Any]]:
    """The leaderboard rows that get a curve: the best row of each role of :data:`ROLES`
    (plain evaluated candidates only: no tuned or ensemble rows)."""
    chosen: dict[str, dict] = {}
    for row in board.get("rows") or []:
        name = str(row.get("algorithm"))
        if "+" in name or row.get("role") not in (None, role_of(name)):
            continue
        role = role_of(name)
        if role in ROLES and role not in chosen:
            chosen[role] = row
    return [chosen[r] for r in ROLES if r in chosen]


def learning_curve(board: dict[str, Any], candidates, plan: Plan, dataset, context, store, executor,
                   *, fractions=FRACTIONS, slow_max_rows=None, callbacks=(), reporter=None
                   ) -> tuple[dict[str, Any] | None, Any]:
    """The curves of :func:`curve_rows` and the grid that computed them (None, None when no
    row qualifies). The document holds, per candidate and fraction, the fold scores, their
    mean and spread and the training rows a fold had."""
    from dlrun.evaluation.runner import make_jobs, run_grid

    rows = curve_rows(board)
    by_name = {(c.name, c.view): c for c in candidates}
    chosen = [(row, by_name[(row["algorithm"], row["view"])]) for row in rows
              if (row["algorithm"], row["view"]) in by_name]
    if not chosen:
        return None, None
    fractions = fractions_of(fractions)
    y = dataset.encoded_target()
    plans = {f: fraction_plan(plan, f, y, dataset.task) if f < 1 else plan for f in fractions}
    jobs, train_rows = [], {}
    for f, fplan in plans.items():
        part = make_jobs([c for _, c in chosen], fplan, dataset, context, slow_max_rows)
        jobs.extend(part)
        for job in part:
            train_rows.setdefault((job.candidate.name, job.candidate.view, f), []).append(len(job.train))
    if reporter is not None:
        reporter.message(f"learning curves: {len(chosen)} candidate(s) x {len(fractions)} training "
                         f"sizes x {len(plan.folds)} folds = {len(jobs)} fits (the 100% ones are "
                         "the leaderboard's)")
    grid = run_grid(jobs, dataset, context, store, executor, callbacks, reporter)
    metric = board["metric"]
    curves = []
    for _, cand in chosen:
        per_fold = grid.results.get((cand.name, cand.view), {})
        points = []
        for f, fplan in plans.items():
            ids = [fold.id for fold in fplan.folds]
            if any(i not in per_fold for i in ids):
                continue  # failed or interrupted: no point
            scores = np.array([per_fold[i]["metrics"].get(metric, math.nan) for i in ids], float)
            sizes = train_rows[(cand.name, cand.view, f)]
            points.append({"fraction": f, "train_rows": round(float(np.mean(sizes)), 1),
                           "mean": round(float(np.nanmean(scores)), 6),
                           "std": round(float(np.nanstd(scores)), 6),
                           "scores": [None if not math.isfinite(s) else round(float(s), 6)
                                      for s in scores]})
        curves.append({"algorithm": cand.name, "view": cand.view, "role": role_of(cand.algorithm),
                       "points": points})
    document = {
        "fractions": fractions, "metric": metric,
        "greater_is_better": board.get("greater_is_better", True),
        "test_fraction": (board.get("protocol") or {}).get("test_fraction"),
        "protocol": board.get("protocol"), "data": board.get("data_fingerprint"),
        "curves": curves,
        "jobs": {"total": grid.total, "computed": grid.computed, "reused": grid.reused},
        "failures": list(grid.failures),
        "complete": not grid.interrupted and not grid.failures,
    }
    return document, grid
