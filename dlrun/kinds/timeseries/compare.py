"""Which forecasts are within noise of the best, from the stored walk-forward forecasts.

Under walk-forward validation the folds of a row are its seeds (and origins): a
deterministic model scores the same on every seed, so a t-test over fold scores
sees no variance and calls every difference real (p = 0). The question is
whether two *forecasts* are equally accurate over the same time steps, which is
what the Diebold–Mariano test answers (:func:`dlrun.evaluation.stats.diebold_mariano`,
with the small-sample correction of Harvey, Leybourne & Newbold):

* each row's forecast of each test step is its mean over the seeds (a net's runs;
  one value for a deterministic model), every origin's window in time order;
* the per-step losses are those of the project's metric (squared errors for RMSE
  and MSE, absolute errors for MAE), and the test allows for the overlap of
  h-step errors (``horizon``);
* the seeds' spread is reported beside it, not used as repeats: ``seeds``
  ``{"n", "std", "scores"}`` (each seed's score over the origins) and
  ``seed_averaged`` (the score of the seed-averaged forecasts the test compared).

Rows also get ``by_step`` (the metric at 1..H steps ahead, mean over folds) when
the horizon is above one, and ``model`` (what an automatic model chose).

**average+best** -- the average of the forecasts of the best statistical model
and of the best net, seed by seed, computed from their stored forecasts (no fit)
and ranked as its own row. With several origins each origin's members are the
best on the *other* origins, so the window it is scored on did not choose them;
with one origin they are chosen on the same window, and a note says that its
score is optimistic. ``dlrun report`` refits the two members on all the data
(algorithm ``average``, ``members``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dlrun.catalogue import METRICS, NET, role_of
from dlrun.evaluation.stats import ALPHA, compare_rows, diebold_mariano

AVERAGE_BEST = "average+best"


def losses(metric: str, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per-step losses of the metric: absolute errors for MAE, squared errors otherwise."""
    error = np.asarray(y_pred, float) - np.asarray(y_true, float)
    return np.abs(error) if metric == "mae" else error ** 2


class Forecasts:
    """A row's stored walk-forward forecasts: per fold, and averaged over seeds per step."""

    def __init__(self, folds: list[tuple[Any, np.ndarray, np.ndarray]]):
        self.folds = folds  # (fold, test positions, forecasts) in plan order
        by_origin: dict[int, list[np.ndarray]] = {}
        tests: dict[int, np.ndarray] = {}
        for fold, test, values in folds:
            by_origin.setdefault(int(fold.index), []).append(np.asarray(values, float))
            tests[int(fold.index)] = np.asarray(test)
        order = sorted(tests, key=lambda o: int(tests[o].min()))
        self.origins = order
        self.positions = np.concatenate([tests[o] for o in order])
        self.mean = np.concatenate([np.mean(by_origin[o], axis=0) for o in order])
        self.window = {o: (tests[o], np.mean(by_origin[o], axis=0)) for o in order}

    @classmethod
    def of(cls, outputs) -> Forecasts | None:
        if not outputs:
            return None
        return cls([(fold, np.asarray(p.test), np.asarray(p.y_pred, float)) for fold, p in outputs])


def mark_forecasts(board: dict[str, Any], stored) -> None:
    """The time-series kind's :meth:`dlrun.kind.Kind.mark_same_as_best` (module docstring)."""
    rows = board.get("rows") or []
    if not rows:
        return
    metric = board.get("metric") or "rmse"
    fn = METRICS.get(metric).fn
    protocol = board.get("protocol") or {}
    horizon = int(protocol.get("horizon") or 1)
    y = np.asarray(stored.y, dtype=float) if getattr(stored, "y", None) is not None else None
    forecasts: dict[int, Forecasts] = {}
    extras: dict[int, list] = {}
    if y is not None:
        for row in rows:
            found = Forecasts.of(stored.outputs(row))
            if found is not None:
                forecasts[id(row)] = found
                extras[id(row)] = stored.extras(row) or []
                describe_row(row, found, extras[id(row)], y, fn, horizon)
        added = average_best(board, rows, forecasts, extras, y, fn, horizon)
        if added is not None:
            row, found = added
            forecasts[id(row)] = found
            rows.append(row)
            sign = -1.0 if board.get("greater_is_better") else 1.0
            rows.sort(key=lambda r: (sign * r["mean"], r["std"], r["algorithm"], r["view"]))
    mark(rows, forecasts, y, metric, horizon, protocol.get("test_fraction") or 0.1)
    board["same_as_best_test"] = (
        "Diebold-Mariano test with the Harvey-Leybourne-Newbold correction on the per-step "
        f"{'absolute' if metric == 'mae' else 'squared'} errors of the seed-averaged forecasts "
        f"(alpha {ALPHA}); rows without stored forecasts: the corrected resampled t-test")


def describe_row(row: dict, found: Forecasts, extras: list, y: np.ndarray, fn, horizon: int) -> None:
    """Add the seeds' spread, the seed-averaged score, per-step scores and the chosen model."""
    per_seed: dict[int, list[float]] = {}
    for fold, test, values in found.folds:
        per_seed.setdefault(int(fold.repeat), []).append(float(fn(y[test], values, None, 0)))
    seed_scores = [float(np.mean(v)) for _, v in sorted(per_seed.items())]
    if len(seed_scores) > 1:
        row["seeds"] = {"n": len(seed_scores), "std": round(float(np.std(seed_scores)), 6),
                        "scores": [round(s, 6) for s in seed_scores]}
    row["seed_averaged"] = round(float(np.mean(
        [fn(y[test], values, None, 0) for test, values in found.window.values()])), 6)
    steps = [e.get("steps") for _, e in extras if isinstance(e, dict) and e.get("steps")]
    if horizon > 1 and steps and all(len(s) == len(steps[0]) for s in steps):
        row["by_step"] = [round(float(v), 6) for v in np.mean(np.asarray(steps, float), axis=0)]
    chosen = [e.get("model") for _, e in extras if isinstance(e, dict) and e.get("model")]
    if chosen:
        row["model"] = chosen[0]  # the latest origin's (plan order)


# --------------------------------------------------------------------------- average+best


def _fold_scores(found: Forecasts, y, fn) -> dict[str, float]:
    return {fold.id: float(fn(y[test], values, None, 0)) for fold, test, values in found.folds}


def _best(candidates: list[dict], forecasts, y, fn, sign: float, skip_origin: int | None):
    """The best row by its mean fold score (over the origins other than ``skip_origin``)."""
    best, best_score = None, math.inf
    for row in candidates:
        found = forecasts[id(row)]
        scores = [float(fn(y[test], values, None, 0)) for fold, test, values in found.folds
                  if skip_origin is None or int(fold.index) != skip_origin]
        if not scores:
            continue
        score = sign * float(np.mean(scores))
        if score < best_score:
            best, best_score = row, score
    return best


def average_best(board, rows, forecasts, extras, y, fn, horizon):
    """``(row, Forecasts)`` of the average of the best statistical model and the best net
    (module docstring), or None without both."""
    from dlrun.kinds.timeseries.algorithms import STATISTICAL_MODELS

    def eligible(row) -> bool:
        return id(row) in forecasts and "+" not in str(row["algorithm"])

    stats = [r for r in rows if eligible(r) and r["algorithm"] in STATISTICAL_MODELS]
    nets = [r for r in rows if eligible(r) and role_of(r["algorithm"]) == NET]
    if not stats or not nets:
        return None
    sign = -1.0 if board.get("greater_is_better") else 1.0
    net_folds = forecasts[id(nets[0])].folds
    origins = sorted({int(f.index) for f, _, _ in net_folds})
    honest = len(origins) > 1
    chosen = {o: (_best(stats, forecasts, y, fn, sign, o if honest else None),
                  _best(nets, forecasts, y, fn, sign, o if honest else None)) for o in origins}
    overall = (_best(stats, forecasts, y, fn, sign, None), _best(nets, forecasts, y, fn, sign, None))
    if any(s is None or n is None for s, n in [*chosen.values(), overall]):
        return None
    folds, scores, steps, fit = [], [], [], []
    for fold, test, _ in net_folds:
        stat, net = chosen[int(fold.index)]
        parts = []
        for member in (stat, net):
            match = [(t, v, i) for i, (f, t, v) in enumerate(forecasts[id(member)].folds) if f.id == fold.id]
            if not match or not np.array_equal(match[0][0], test):
                return None
            parts.append(match[0])
        values = (parts[0][1] + parts[1][1]) / 2.0
        folds.append((fold, test, values))
        scores.append(float(fn(y[test], values, None, 0)))
        fit.append(sum(float(m.get("fit_seconds") or 0.0) for m in (stat, net)))
        member_steps = [_extra(extras[id(m)], p[2]).get("step_forecasts") for m, p in zip((stat, net), parts, strict=True)]
        if horizon > 1 and all(member_steps):
            averaged = (np.asarray(member_steps[0], float) + np.asarray(member_steps[1], float)) / 2.0
            steps.append([float(fn(y[test], s, None, 0)) for s in averaged])
    members = [{"algorithm": r["algorithm"], "view": r["view"]} for r in overall]
    arr = np.asarray(scores, float)
    row = {
        "algorithm": AVERAGE_BEST, "view": "lags", "role": "model",
        "mean": round(float(arr.mean()), 6), "std": round(float(arr.std()), 6),
        "scores": [round(s, 6) for s in scores], "fit_seconds": round(float(np.mean(fit)), 4),
        "n_folds": len(scores), "members": members, "params": {"members": members},
        "selected_on": "the other origins" if honest else "the same window",
    }
    if steps:
        row["by_step"] = [round(float(v), 6) for v in np.mean(np.asarray(steps, float), axis=0)]
    found = Forecasts(folds)
    describe_row(row, found, [], y, fn, 1)
    if not honest:
        names = " and ".join(f"{m['algorithm']}/{m['view']}" for m in members)
        board.setdefault("notes", []).append(
            f"{AVERAGE_BEST} averages {names}, chosen as the best statistical model and the best "
            "net on the window it is scored on (one origin): its score is optimistic; with "
            "series.origins of 2 or more each origin's members are chosen on the other origins")
    return row, found


def _extra(extras: list, index: int) -> dict:
    if 0 <= index < len(extras) and isinstance(extras[index][1], dict):
        return extras[index][1]
    return {}


# --------------------------------------------------------------------------- the test


def mark(rows: list[dict], forecasts: dict[int, Forecasts], y, metric: str, horizon: int,
         test_fraction: float) -> None:
    """``same_as_best`` and ``p_value`` of each row against the best (rows[0]): Diebold-Mariano
    on the seed-averaged forecasts where both rows have them over the same steps, else the
    corrected resampled t-test of the core."""
    best = rows[0]
    best["same_as_best"], best["p_value"] = True, 1.0
    reference = forecasts.get(id(best))
    for row in rows[1:]:
        found = forecasts.get(id(row))
        if y is not None and reference is not None and found is not None \
                and np.array_equal(found.positions, reference.positions):
            truth = y[reference.positions]
            p = diebold_mariano(losses(metric, truth, reference.mean), losses(metric, truth, found.mean),
                                horizon)
            row["test"] = "diebold-mariano"
        else:
            p = compare_rows(best, row, test_fraction)
        row["p_value"] = None if math.isnan(p) else round(p, 4)
        row["same_as_best"] = bool(not math.isnan(p) and p >= ALPHA)
