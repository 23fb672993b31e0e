"""The built-in metrics: pure functions plus which way is better (entry points of
the ``dlrun.metrics`` group, one :class:`~dlrun.catalogue.Metric` each).

Every function takes ``(y_true, y_pred, y_score, n_classes)``: targets as the
algorithms see them (class codes 0..K-1 for classification), predictions,
scores (class probabilities or decision values, columns aligned to the K
classes; ``None`` when the model gives none) and K. NumPy (and SciPy's
``rankdata``) are imported on first use, so registering metrics costs nothing.
"""

from __future__ import annotations

import math

from dlrun.catalogue import Metric, metrics_for


class _LazyNumpy:
    """``np``, imported on first use: validating a spec (``dlrun new``) registers the
    metrics but never computes one, and must not pay for importing NumPy."""

    def __getattr__(self, name):
        import numpy

        return getattr(numpy, name)


np = _LazyNumpy()

# The classification metrics below are the textbook formulas on NumPy arrays.
# scikit-learn computes the same numbers (tests/test_metrics.py checks them
# against it on random folds with ties, missing classes and several class
# counts), but its argument checks cost 3-6 ms a call, several times the
# arithmetic: with five metrics per fold and a thousand folds per leaderboard
# that was about a tenth of a small dataset's evaluation time.


def _accuracy(y, p, s, k):
    return float(np.mean(np.asarray(y) == np.asarray(p)))


def _confusion(y, p, k):
    """Counts of (true class, predicted class), for class codes 0..K-1."""
    y, p = np.asarray(y, dtype=np.int64), np.asarray(p, dtype=np.int64)
    size = max(int(k), 2, int(y.max(initial=0)) + 1, int(p.max(initial=0)) + 1)
    return np.bincount(y * size + p, minlength=size * size).reshape(size, size)


def _balanced_accuracy(y, p, s, k):
    """Mean recall over the classes present in ``y``."""
    cm = _confusion(y, p, k)
    support = cm.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(cm)[present] / support[present]))


def _f1(y, p, s, k):
    """Binary F1 of class 1, or the macro mean over classes 0..K-1 (0 where undefined)."""
    cm = _confusion(y, p, k)
    tp = np.diag(cm).astype(float)
    denominator = cm.sum(axis=0) + cm.sum(axis=1)  # 2TP + FP + FN
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    if k <= 2:
        return float(f1[1])
    return float(np.mean(f1[:k]))


def _binary_auc(positive, scores) -> float:
    """Area under the ROC curve: the Mann-Whitney statistic, ties counted half."""
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    return (ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _roc_auc(y, p, s, k):
    if s is None:
        return math.nan
    y = np.asarray(y)
    present = np.unique(y)
    if len(present) < 2:
        return math.nan
    if k <= 2:
        return float(_binary_auc(y == present[-1], s[:, 1] if s.ndim == 2 else s))
    # one-vs-rest over the classes present in this fold, on scores renormalised over them
    scores = s[:, present]
    row_sums = scores.sum(axis=1, keepdims=True)
    scores = np.divide(scores, row_sums, out=np.full_like(scores, 1 / len(present)), where=row_sums > 0)
    return float(np.mean([_binary_auc(y == c, scores[:, i]) for i, c in enumerate(present)]))


def _log_loss(y, p, s, k):
    if s is None or not _is_proba(s) or s.shape[1] != max(k, 2):
        return math.nan
    s = np.clip(s, 1e-15, 1.0)
    s = s / s.sum(axis=1, keepdims=True)  # float32 outputs sum to 1 only approximately
    y = np.asarray(y, dtype=np.int64)
    return float(-np.mean(np.log(s[np.arange(len(y)), y])))


def _is_proba(s) -> bool:
    return s.ndim == 2 and np.all(s >= -1e-9) and np.allclose(s.sum(axis=1), 1.0, atol=1e-3)


def _rmse(y, p, s, k):
    return float(np.sqrt(np.mean((np.asarray(y, float) - np.asarray(p, float)) ** 2)))


def _mse(y, p, s, k):
    return float(np.mean((np.asarray(y, float) - np.asarray(p, float)) ** 2))


def _mae(y, p, s, k):
    return float(np.mean(np.abs(np.asarray(y, float) - np.asarray(p, float))))


def _r2(y, p, s, k):
    y, p = np.asarray(y, float), np.asarray(p, float)
    residual = float(np.sum((y - p) ** 2))
    total = float(np.sum((y - np.mean(y)) ** 2))
    if total == 0.0:  # a constant target: perfect or nothing, as scikit-learn's force_finite
        return 1.0 if residual == 0.0 else 0.0
    return 1.0 - residual / total


ACCURACY = Metric("accuracy", _accuracy, True, True, label="accuracy", rank=0)
BALANCED_ACCURACY = Metric("balanced_accuracy", _balanced_accuracy, True, True, label="balanced accuracy", rank=1)
F1 = Metric("f1", _f1, True, True, label="F1 (binary; macro for multi-class)", rank=2)
ROC_AUC = Metric("roc_auc", _roc_auc, True, True, needs_score=True,
                 label="ROC AUC (one-vs-rest for multi-class)", rank=3)
LOG_LOSS = Metric("log_loss", _log_loss, False, True, needs_score=True, needs_proba=True, label="log loss", rank=4)
# errors in the target's units
RMSE = Metric("rmse", _rmse, False, False, label="root mean squared error", rank=5)
MSE = Metric("mse", _mse, False, False, label="mean squared error", rank=6)
MAE = Metric("mae", _mae, False, False, label="mean absolute error", rank=7)
R2 = Metric("r2", _r2, True, False, label="R²", rank=8)


def score_all(task: str, y_true, y_pred, y_score, n_classes: int, kind: str | None = None
              ) -> dict[str, float]:
    """Every registered metric for the task (cheap; lets a metric change reuse the fits)."""
    from dlrun.catalogue import METRICS

    out = {}
    for name in metrics_for(task, kind):
        try:
            value = METRICS.get(name).fn(y_true, y_pred, y_score, n_classes)
        except ValueError:
            value = math.nan
        out[name] = value
    return out


def mean_metrics(per_fold: list[dict]) -> dict[str, float | None]:
    """Each metric's mean over the folds that scored it (None when none did)."""
    out: dict[str, float | None] = {}
    for name in per_fold[0] if per_fold else {}:
        values = np.asarray([m.get(name, math.nan) if m.get(name) is not None else math.nan
                             for m in per_fold], float)
        values = values[np.isfinite(values)]
        out[name] = round(float(values.mean()), 6) if len(values) else None
    return out
