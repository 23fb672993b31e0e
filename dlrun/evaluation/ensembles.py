"""Ensembles of the best candidates, made from their stored out-of-fold predictions (no fit).

After the evaluation grid, two rows join the leaderboard:

* ``ensemble`` -- greedy ensemble selection with replacement (Caruana et al. 2004):
  starting from nothing, add (again and again, up to :data:`STEPS` times) the
  member whose addition most improves the project's metric of the averaged
  outputs; keep the best prefix. It starts from the :data:`INIT` best-ranked
  members (sorted initialisation). Ties on the metric are broken by the log loss
  of the probabilities (squared error for numbers), then by rank, so the same
  store always gives the same ensemble.
* ``stack`` -- a regularised linear model on the members' outputs: logistic
  regression on their class probabilities, ridge regression on their predictions
  (:func:`dlrun.algorithms.ensemble.fit_stacker`).

Classification combines class probabilities (a candidate without them is left
out); numbers combine predictions.

**Honest by construction.** A fold's ensemble is scored with members and weights
chosen without its labels: for fold *k* of repeat *r*, the member pool (the best
view of each of the :data:`POOL` best algorithms, ranked by their scores on the
other folds of repeat *r*), the greedy weights and the stacker are all computed
on the out-of-fold rows of the *other* folds of the same repeat (in k-fold each
row is predicted once per repeat, by a model that never saw it); then fold *k* is
scored. Any row of fold *k* found among the selection rows is dropped and counted
(``labels_seen``, always 0 for k-fold). When the folds are time-ordered (every
training row precedes every test row), only earlier folds are used, and no
ensemble is made if the first fold has none. Members come from the evaluation
grid only: naive floors are left out (they add nothing to an average) and so are
tuned rows -- they were scored on another resampling, and their parameters were
chosen on the leaderboard's folds, so an ensemble built from them would inherit
that selection and flatter itself.

Each fold's ensemble predictions, scores and weights are stored like any fit
(algorithm ``ensemble``/``stack``, view :data:`VIEW`), so ``dlrun predictions``
and the report read them; the row carries the members and weights chosen on
every out-of-fold row, which ``dlrun report`` refits on all the data when an
ensemble wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlrun.algorithms.ensemble import (
    AVERAGE,
    STACK,
    average,
    fit_stacker,
    stack_apply,
    stack_features,
)
from dlrun.catalogue import BASELINE, METRICS, NAIVE, is_classification, role_of
from dlrun.evaluation.candidates import job_key
from dlrun.evaluation.jobs import Prediction
from dlrun.evaluation.metrics import mean_metrics, score_all

#: Leaderboard names and role of the rows made here; the view label of their rows.
ENSEMBLE, STACKED, ROLE, VIEW = "ensemble", "stack", "ensemble", "members"
METHODS = {ENSEMBLE: AVERAGE, STACKED: STACK}
#: Distinct algorithms in the member pool (the best view of each).
POOL = 8
#: Greedy selection steps (members chosen, with replacement), and the sorted initialisation:
#: the selection starts from the INIT best-ranked members (Caruana et al. 2004, section 2.1),
#: which keeps it from chasing the noise of a single member's rows.
STEPS, INIT = 25, 3
#: Bump when the selection changes: stored ensemble folds are then recomputed.
VERSION = 2


def is_ensemble_row(row: dict) -> bool:
    return row.get("role") == ROLE and row.get("algorithm") in METHODS


@dataclass
class Candidates:
    """The eligible candidates' fold scores and stored outputs, in plan order."""

    names: list[tuple[str, str]]  # (leaderboard name, view)
    algorithms: list[str]  # catalogue algorithm of each (distinct members)
    scores: np.ndarray  # candidates x folds, the project's metric
    fit: np.ndarray  # candidates x folds, fit seconds
    keys: list[list[str]]  # candidates x folds, job keys
    outputs: dict[int, list[np.ndarray]] = field(default_factory=dict)  # loaded lazily


def time_ordered(folds) -> bool:
    """Whether every fold trains only on rows before its test rows (forecasting)."""
    return bool(folds) and all(len(f.train) and len(f.test) and int(np.max(f.train)) < int(np.min(f.test))
                               for f in folds)


def selection_folds(folds) -> dict[int, list[int]] | None:
    """For each fold (by position), the folds whose out-of-fold rows choose its ensemble: the
    other folds of its repeat (earlier ones only when the folds are time-ordered). None when
    a fold has none."""
    ordered = time_ordered(folds)
    out = {}
    for k, fold in enumerate(folds):
        others = [j for j, f in enumerate(folds) if j != k and f.repeat == fold.repeat
                  and (not ordered or int(np.max(f.test)) < int(np.min(fold.test)))]
        if not others:
            return None
        out[k] = others
    return out


class Builder:
    """Makes the ``ensemble`` and ``stack`` rows of one evaluation."""

    def __init__(self, plan, candidates, jobs, grid, store, y: np.ndarray, task: str, metric: str,
                 n_classes: int, kind: str | None = None, seed: int = 0):
        self.plan, self.folds = plan, list(plan.folds)
        self.grid, self.store = grid, store
        self.y, self.task, self.metric, self.kind, self.seed = y, task, metric, kind, seed
        self.classification = is_classification(task)
        self.n_classes = int(n_classes) if self.classification else 0
        info = METRICS.get(metric)
        self.sign = 1.0 if info.greater_is_better else -1.0
        self.metric_fn = info.fn
        self.keys = {(j.candidate.name, j.candidate.view, j.fold_id): j.key for j in jobs}
        self.candidates = candidates
        self.notes: list[str] = []

    # -- which candidates may be members ---------------------------------------------
    def eligible(self) -> Candidates | None:
        ids = [f.id for f in self.folds]
        names, algorithms, scores, fit, keys = [], [], [], [], []
        for cand in self.candidates:
            name = cand.name
            # naive floors add nothing; tuned rows were chosen on these folds (module docstring)
            if "+" in name or role_of(cand.algorithm) in (BASELINE, NAIVE):
                continue
            per_fold = self.grid.results.get((name, cand.view), {})
            if any(fid not in per_fold for fid in ids):
                continue
            row = np.array([per_fold[fid]["metrics"].get(self.metric, math.nan) for fid in ids], float)
            if not np.all(np.isfinite(row)):
                continue
            names.append((name, cand.view))
            algorithms.append(cand.algorithm)
            scores.append(row)
            fit.append([float(per_fold[fid]["fit_seconds"]) for fid in ids])
            keys.append([self.keys[(name, cand.view, fid)] for fid in ids])
        if len(set(algorithms)) < 2:
            return None
        return Candidates(names, algorithms, np.array(scores), np.array(fit), keys)

    def outputs(self, pool: Candidates, c: int) -> list[np.ndarray] | None:
        """Candidate ``c``'s out-of-fold outputs, one array per fold aligned with the fold's
        test rows (class probabilities or predictions); None when it has none usable."""
        if c not in pool.outputs:
            stored = self.store.predictions(pool.keys[c])
            arrays = []
            for fold, key in zip(self.folds, pool.keys[c], strict=True):
                pred: Prediction | None = stored.get(key)
                if pred is None:
                    arrays = None
                    break
                order = _alignment(pred.test, fold.test)
                if self.classification:
                    proba = pred.proba
                    if proba is None or not _probabilities(proba, self.n_classes):
                        arrays = None  # decision values are not probabilities: left out
                        break
                    arrays.append(np.asarray(proba, float)[order])
                else:
                    arrays.append(np.asarray(pred.y_pred, float).ravel()[order])
            pool.outputs[c] = arrays
        return pool.outputs[c]

    def ranked(self, pool: Candidates, folds: list[int]) -> list[int]:
        """The best view of each of the POOL best algorithms by their mean score on ``folds``
        (best first; ties by name), among candidates with usable outputs."""
        means = self.sign * pool.scores[:, folds].mean(axis=1)
        order = sorted(range(len(pool.names)), key=lambda c: (-means[c], pool.names[c]))
        chosen, seen = [], set()
        for c in order:
            if pool.algorithms[c] in seen or self.outputs(pool, c) is None:
                continue
            seen.add(pool.algorithms[c])
            chosen.append(c)
            if len(chosen) == POOL:
                break
        return chosen

    # -- scoring -------------------------------------------------------------------------
    def score(self, y: np.ndarray, combined: np.ndarray) -> float:
        """The project's metric of combined outputs, larger is better."""
        if self.classification:
            value = self.metric_fn(y, np.argmax(combined, axis=1), combined, self.n_classes)
        else:
            value = self.metric_fn(y, combined, None, 0)
        return self.sign * value if math.isfinite(value) else -math.inf

    def loss(self, y: np.ndarray, combined: np.ndarray) -> float:
        """The tie-breaker: mean log loss of the probabilities, or mean squared error."""
        if self.classification:
            picked = combined[np.arange(len(y)), np.asarray(y, dtype=int)]
            return float(-np.mean(np.log(np.clip(picked, 1e-15, 1.0))))
        return float(np.mean((combined - y) ** 2))

    def judge(self, y: np.ndarray, combined: np.ndarray) -> tuple[float, float]:
        """Larger is better: the project's metric, then (ties) the smaller loss."""
        return self.score(y, combined), -self.loss(y, combined)

    def greedy(self, outputs: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Counts of each member (weights) by greedy selection with replacement, from the
        sorted initialisation: the INIT best-ranked members once each."""
        counts = np.zeros(len(outputs), dtype=int)
        counts[: min(INIT, len(outputs))] = 1
        total = np.tensordot(counts.astype(float), outputs, axes=1)
        best, best_counts = self.judge(y, total / counts.sum()), counts.copy()
        for step in range(int(counts.sum()) + 1, STEPS + 1):
            trials = [self.judge(y, (total + out) / step) for out in outputs]
            i = max(range(len(trials)), key=lambda m: (trials[m], -m))  # ties: the better-ranked
            total = total + outputs[i]
            counts[i] += 1
            if trials[i] > best:  # a longer prefix must do strictly better
                best, best_counts = trials[i], counts.copy()
        return best_counts

    def choose(self, method: str, pool: Candidates, members: list[int], rows: list[tuple[int, np.ndarray]]):
        """Weights (or the stacker) chosen on ``rows``: ``(fold position, mask of its rows)``."""
        y = np.concatenate([self.y[self.folds[j].test][mask] for j, mask in rows])
        outputs = np.stack([np.concatenate([self.outputs(pool, c)[j][mask] for j, mask in rows])
                            for c in members])
        if method == AVERAGE:
            return self.greedy(outputs, y).astype(float), None
        coef, intercept = fit_stacker(stack_features(outputs, self.classification), y,
                                      self.classification, self.n_classes, self.seed)
        return coef, intercept

    def combine(self, method: str, pool: Candidates, members: list[int], k: int, weights, intercept):
        outputs = np.stack([self.outputs(pool, c)[k] for c in members])
        if method == AVERAGE:
            return average(outputs, weights)
        return stack_apply(stack_features(outputs, self.classification), weights, intercept,
                           self.classification)

    # -- the rows ------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        if not self.folds:
            return []
        selection = selection_folds(self.folds)
        if selection is None:
            self.notes.append("no ensemble: a fold has no other fold of its repeat (or no earlier "
                              "fold) to choose its members on without its own labels")
            return []
        pool = self.eligible()
        if pool is None:
            return []
        identity = job_key("ensembles", VERSION, POOL, STEPS, INIT, self.metric, self.seed,
                           sorted(k for keys in pool.keys for k in keys))
        out = []
        for name, method in METHODS.items():
            row = self.row(name, method, pool, selection, job_key(identity, name))
            if row is not None:
                out.append(row)
        return out

    def row(self, name: str, method: str, pool: Candidates, selection, identity: str):
        folds = self.folds
        per_fold, scores, fit, put = [], [], [], []
        for k, fold in enumerate(folds):
            others = selection[k]
            members = self.ranked(pool, others)
            if len(members) < 2:
                return None
            rows = []
            seen = 0
            for j in others:  # never a row of fold k (none in k-fold: counted if ever)
                mask = ~np.isin(folds[j].test, fold.test)
                seen += int((~mask).sum())
                rows.append((j, mask))
            weights, intercept = self.choose(method, pool, members, rows)
            combined = self.combine(method, pool, members, k, weights, intercept)
            prediction = self.prediction(fold, combined)
            metrics = score_all(self.task, self.y[fold.test], prediction.y_pred, prediction.proba,
                                self.n_classes, self.kind)
            used = members if method == STACK else [c for c, w in zip(members, weights, strict=True) if w > 0]
            seconds = float(sum(pool.fit[c, k] for c in used))
            record = {"fold": fold.id, "chosen_on": [folds[j].id for j in others],
                      "labels_seen": seen,
                      "members": self.describe(pool, members, weights, method, keep_zero=False)}
            scores.append(metrics.get(self.metric, math.nan))
            fit.append(seconds)
            put.append((job_key(identity, fold.id), fold.id, metrics, seconds, record, prediction))
            per_fold.append(record)
        self.store_folds(name, put)
        final_members = self.ranked(pool, list(range(len(folds))))
        everything = [(j, np.ones(len(f.test), dtype=bool)) for j, f in enumerate(folds)]
        weights, intercept = self.choose(method, pool, final_members, everything)
        arr = np.asarray(scores, dtype=float)
        row = {
            "algorithm": name, "view": VIEW, "role": ROLE,
            "mean": round(float(np.nanmean(arr)), 6), "std": round(float(np.nanstd(arr)), 6),
            "scores": [None if not math.isfinite(s) else round(float(s), 6) for s in arr],
            "fit_seconds": round(float(np.mean(fit)), 4), "n_folds": len(folds),
            # every metric of the task, mean over the folds (as the runner's rows carry them)
            "metrics": mean_metrics([p[2] for p in put]),
            "method": (f"greedy ensemble selection with replacement (Caruana et al. 2004: {STEPS} steps "
                       f"from the {INIT} best-ranked members)"
                       if method == AVERAGE else
                       ("logistic regression on the members' class probabilities" if self.classification
                        else "ridge regression on the members' predictions")),
            "identity": identity,
            "members": self.describe(pool, final_members, weights, method),
            "selection": {
                "rule": "each fold's members and weights were chosen on the out-of-fold rows of the "
                        "other folds of its repeat, never on its own labels",
                "labels_seen": int(sum(r["labels_seen"] for r in per_fold)),
                "pool": POOL, "per_fold": per_fold,
            },
        }
        if method == STACK:
            row["stacker"] = {"coef": np.asarray(weights, float).tolist(),
                              "intercept": np.asarray(intercept, float).tolist()}
        return row

    def describe(self, pool, members, weights, method, keep_zero: bool = False) -> list[dict]:
        out = []
        for i, c in enumerate(members):
            name, view = pool.names[c]
            if method == AVERAGE:
                weight = float(weights[i]) / float(np.sum(weights))
                if weight == 0 and not keep_zero:
                    continue
            else:
                weight = _stack_weight(np.asarray(weights), i, len(members), self.classification,
                                       self.n_classes)
            member = {"algorithm": name, "view": view, "weight": round(weight, 4)}
            if method == AVERAGE:
                member["count"] = int(weights[i])  # times chosen: the exact weight
            out.append(member)
        return out

    def prediction(self, fold, combined: np.ndarray) -> Prediction:
        if self.classification:
            return Prediction(np.asarray(fold.test), np.argmax(combined, axis=1).astype(np.int64),
                              np.asarray(combined, float))
        return Prediction(np.asarray(fold.test), np.asarray(combined, float))

    def store_folds(self, name: str, put: list) -> None:
        """Each fold's predictions, scores and choice, stored like a fit (again only when they
        changed, e.g. after a library upgrade moved a stacker's optimum)."""
        have = self.store.get_many([p[0] for p in put])
        for key, fold_id, metrics, seconds, record, prediction in put:
            if key not in have or not _same(have[key]["metrics"], metrics):
                self.store.put(key, name, VIEW, fold_id, metrics, seconds, {"ensemble": record},
                               prediction)


def _same(stored: dict, metrics: dict) -> bool:
    return set(stored) == set(metrics) and all(
        (isinstance(stored[k], float) and math.isnan(stored[k]) and math.isnan(metrics[k]))
        or stored[k] == metrics[k] for k in metrics)


def _stack_weight(coef: np.ndarray, i: int, n_members: int, classification: bool,
                  n_classes: int) -> float:
    """A member's coefficient in the stacker (its mean absolute coefficient when it has one
    per class and feature)."""
    coef = np.atleast_2d(coef)
    if not classification or n_classes == 2:
        return float(coef[0, i])
    width = coef.shape[1] // n_members
    return float(np.mean(np.abs(coef[:, i * width:(i + 1) * width])))


def _alignment(stored: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Index that puts stored rows in the fold's test order."""
    stored = np.asarray(stored)
    if np.array_equal(stored, test):
        return np.arange(len(stored))
    where = {int(r): i for i, r in enumerate(stored)}
    return np.array([where[int(r)] for r in test])


def _probabilities(proba: np.ndarray, n_classes: int) -> bool:
    proba = np.asarray(proba, float)
    return (proba.ndim == 2 and proba.shape[1] == n_classes and bool(np.all(proba >= -1e-9))
            and bool(np.allclose(proba.sum(axis=1), 1.0, atol=1e-3)))


def ensemble_rows(plan, candidates, jobs, grid, store, y, task: str, metric: str, n_classes: int,
                  kind: str | None = None, seed: int = 0) -> tuple[list[dict], list[str]]:
    """The ``ensemble`` and ``stack`` rows of an evaluation (none when fewer than two
    distinct algorithms qualify), and notes on why none was made."""
    builder = Builder(plan, candidates, jobs, grid, store, np.asarray(y), task, metric, n_classes,
                      kind, seed)
    return builder.rows(), builder.notes


def with_rows(board: dict[str, Any], rows: list[dict]) -> dict[str, Any]:
    """``board`` with ``rows`` added (replacing rows of the same name and view), ranked
    and marked against the best (paired test: the same folds)."""
    from dlrun.evaluation.stats import mark_same_as_best

    if not rows:
        return board
    names = {(r["algorithm"], r["view"]) for r in rows}
    merged = [r for r in board["rows"] if (r["algorithm"], r["view"]) not in names] + list(rows)
    sign = -1.0 if board.get("greater_is_better", True) else 1.0
    merged.sort(key=lambda r: (sign * r["mean"], r["std"], r["algorithm"], r["view"]))
    mark_same_as_best(merged, (board.get("protocol") or {}).get("test_fraction") or 0.1)
    return {**board, "rows": merged}


def fold_keys(row: dict, plan) -> list[tuple[Any, str]]:
    """``[(Fold, store key)]`` of an ensemble row's stored folds, plan order."""
    return [(fold, job_key(row["identity"], fold.id)) for fold in plan.folds]
