"""Which leaderboard differences are real.

Scores from repeated k-fold are not independent (training sets overlap), so a
plain paired t-test is far too eager to call differences significant. We use
the corrected resampled t-test of Nadeau & Bengio (2003), as recommended by
Bouckaert & Frank (2004) for repeated k-fold: the variance of the paired
differences is inflated by ``n_test / n_train``.
"""

from __future__ import annotations

import math

import numpy as np

ALPHA = 0.05


def corrected_resampled_ttest(a, b, test_fraction: float) -> float:
    """Two-sided p-value for 'a and b score the same' from paired fold scores."""
    from scipy import stats

    d = np.asarray(a, float) - np.asarray(b, float)
    mask = np.isfinite(d)
    d = d[mask]
    k = len(d)
    if k < 2:
        return math.nan
    var = d.var(ddof=1)
    mean = d.mean()
    if var == 0:
        return 1.0 if mean == 0 else 0.0
    ratio = test_fraction / (1.0 - test_fraction)
    t = mean / math.sqrt((1.0 / k + ratio) * var)
    return float(2 * stats.t.sf(abs(t), df=k - 1))


def corrected_unpaired_ttest(a, b, test_fraction: float) -> float:
    """Two-sided p-value for 'a and b score the same' when their folds differ (two
    resamplings of the same protocol, e.g. a tuned candidate re-scored on fresh folds):
    each mean's variance is corrected as in :func:`corrected_resampled_ttest`, and the
    two are added (Welch's t with the smaller sample's degrees of freedom)."""
    from scipy import stats

    a = np.asarray(a, float)
    b = np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return math.nan
    ratio = test_fraction / (1.0 - test_fraction)
    var = (1.0 / len(a) + ratio) * a.var(ddof=1) + (1.0 / len(b) + ratio) * b.var(ddof=1)
    diff = a.mean() - b.mean()
    if var == 0:
        return 1.0 if diff == 0 else 0.0
    t = diff / math.sqrt(var)
    return float(2 * stats.t.sf(abs(t), df=min(len(a), len(b)) - 1))


def compare_rows(best: dict, row: dict, test_fraction: float) -> float:
    """p-value of 'row scores like best': paired when both rows were scored on the same
    folds, unpaired when on different resamplings (``resampling`` differs)."""
    if best.get("resampling") == row.get("resampling") and len(row["scores"]) == len(best["scores"]):
        return corrected_resampled_ttest(best["scores"], row["scores"], test_fraction)
    return corrected_unpaired_ttest(best["scores"], row["scores"], test_fraction)


def mark_same_as_best(rows: list[dict], test_fraction: float, alpha: float = ALPHA) -> None:
    """Add ``same_as_best`` and ``p_value`` to rows sorted best first (in place)."""
    if not rows:
        return
    best = rows[0]
    best["same_as_best"], best["p_value"] = True, 1.0
    for row in rows[1:]:
        p = compare_rows(best, row, test_fraction)
        row["p_value"] = None if math.isnan(p) else round(p, 4)
        row["same_as_best"] = bool(not math.isnan(p) and p >= alpha)


def diebold_mariano(loss_a, loss_b, horizon: int = 1) -> float:
    """Two-sided p-value for 'forecasts a and b are equally accurate' from their per-step
    losses over the same time steps (Diebold & Mariano 1995), with the small-sample
    correction of Harvey, Leybourne & Newbold (1997): the long-run variance of the loss
    differential ``d`` counts its autocovariances up to lag ``horizon - 1`` (h-step forecast
    errors overlap), the statistic is scaled by ``sqrt((n + 1 - 2h + h(h - 1)/n) / n)`` and
    referred to Student's t with ``n - 1`` degrees of freedom."""
    from scipy import stats

    d = np.asarray(loss_a, float) - np.asarray(loss_b, float)
    d = d[np.isfinite(d)]
    n, h = len(d), max(1, int(horizon))
    if n < 2:
        return math.nan
    mean = float(d.mean())
    centred = d - mean
    gamma = [float(centred[k:] @ centred[: n - k]) / n for k in range(min(h, n))]
    variance = gamma[0] + 2.0 * sum(gamma[1:])
    if variance <= 0:  # the lags made it negative: the plain variance (as HLN advise)
        variance = gamma[0]
    if variance <= 0:
        return 1.0 if mean == 0 else 0.0
    dm = mean / math.sqrt(variance / n)
    correction = math.sqrt(max(n + 1 - 2 * h + h * (h - 1) / n, 0.0) / n)
    return float(2 * stats.t.sf(abs(dm * correction), df=n - 1))
