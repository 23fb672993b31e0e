"""Metric registry: pure functions plus which way is better.

Every function takes ``(y_true, y_pred, y_score, n_classes)``: targets as the
algorithms see them (class codes 0..K-1 for classification), predictions,
scores (class probabilities or decision values, columns aligned to the K
classes; ``None`` when the model gives none) and K. scikit-learn is imported
inside the functions so registering metrics costs nothing.
"""

from __future__ import annotations

import math

from dlrun.catalogue import METRICS, Metric


class _LazyNumpy:
    """``np``, imported on first use: validating a spec (``dlrun new``) registers the
    metrics but never computes one, and must not pay for importing NumPy."""

    def __getattr__(self, name):
        import numpy

        return getattr(numpy, name)


np = _LazyNumpy()

CLF = frozenset({"classification"})
REG = frozenset({"regression"})
REG_FC = frozenset({"regression", "forecasting"})  # errors in the target's units


def _register(name, fn, greater, tasks, label, **kw):
    METRICS.register(name, Metric(name, fn, greater, tasks, label=label, **kw))


def _accuracy(y, p, s, k):
    return float(np.mean(np.asarray(y) == np.asarray(p)))


def _balanced_accuracy(y, p, s, k):
    import warnings

    from sklearn.metrics import balanced_accuracy_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(balanced_accuracy_score(y, p))


def _f1(y, p, s, k):
    from sklearn.metrics import f1_score

    if k <= 2:
        return float(f1_score(y, p, average="binary", pos_label=1, zero_division=0))
    return float(f1_score(y, p, average="macro", labels=list(range(k)), zero_division=0))


def _roc_auc(y, p, s, k):
    from sklearn.metrics import roc_auc_score

    if s is None:
        return math.nan
    y = np.asarray(y)
    present = np.unique(y)
    if len(present) < 2:
        return math.nan
    if k <= 2:
        return float(roc_auc_score(y, s[:, 1] if s.ndim == 2 else s))
    # one-vs-rest over the classes present in this fold
    scores = s[:, present]
    row_sums = scores.sum(axis=1, keepdims=True)
    scores = np.divide(scores, row_sums, out=np.full_like(scores, 1 / len(present)), where=row_sums > 0)
    return float(roc_auc_score(y, scores, multi_class="ovr", labels=present))


def _log_loss(y, p, s, k):
    from sklearn.metrics import log_loss

    if s is None or not _is_proba(s):
        return math.nan
    s = np.clip(s, 1e-15, 1.0)
    s = s / s.sum(axis=1, keepdims=True)  # float32 outputs sum to 1 only approximately
    return float(log_loss(y, s, labels=list(range(max(k, 2)))))


def _is_proba(s) -> bool:
    return s.ndim == 2 and np.all(s >= -1e-9) and np.allclose(s.sum(axis=1), 1.0, atol=1e-3)


def _rmse(y, p, s, k):
    return float(np.sqrt(np.mean((np.asarray(y, float) - np.asarray(p, float)) ** 2)))


def _mse(y, p, s, k):
    return float(np.mean((np.asarray(y, float) - np.asarray(p, float)) ** 2))


def _mae(y, p, s, k):
    return float(np.mean(np.abs(np.asarray(y, float) - np.asarray(p, float))))


def _r2(y, p, s, k):
    from sklearn.metrics import r2_score

    return float(r2_score(y, p))


_register("accuracy", _accuracy, True, CLF, "accuracy")
_register("balanced_accuracy", _balanced_accuracy, True, CLF, "balanced accuracy")
_register("f1", _f1, True, CLF, "F1 (binary; macro for multi-class)")
_register("roc_auc", _roc_auc, True, CLF, "ROC AUC (one-vs-rest for multi-class)", needs_score=True)
_register("log_loss", _log_loss, False, CLF, "log loss", needs_score=True, needs_proba=True)
_register("rmse", _rmse, False, REG_FC, "root mean squared error")
_register("mse", _mse, False, REG_FC, "mean squared error")
_register("mae", _mae, False, REG_FC, "mean absolute error")
_register("r2", _r2, True, REG, "R²")


def metrics_for(task: str) -> list[str]:
    return [name for name, m in METRICS.items() if task in m.tasks]


def score_all(task: str, y_true, y_pred, y_score, n_classes: int) -> dict[str, float]:
    """Every registered metric for the task (cheap; lets a metric change reuse the fits)."""
    out = {}
    for name in metrics_for(task):
        try:
            value = METRICS.get(name).fn(y_true, y_pred, y_score, n_classes)
        except ValueError:
            value = math.nan
        out[name] = value
    return out
