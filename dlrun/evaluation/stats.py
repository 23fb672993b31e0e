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


def mark_same_as_best(rows: list[dict], test_fraction: float, alpha: float = ALPHA) -> None:
    """Add ``same_as_best`` and ``p_value`` to rows sorted best first (in place)."""
    if not rows:
        return
    best = rows[0]
    best["same_as_best"], best["p_value"] = True, 1.0
    for row in rows[1:]:
        if len(row["scores"]) != len(best["scores"]):
            row["same_as_best"], row["p_value"] = False, None
            continue
        p = corrected_resampled_ttest(best["scores"], row["scores"], test_fraction)
        row["p_value"] = None if math.isnan(p) else round(p, 4)
        row["same_as_best"] = bool(not math.isnan(p) and p >= alpha)
