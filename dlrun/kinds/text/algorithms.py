"""The text kind's own algorithm: ``nbsvm`` (naive-Bayes features under a linear SVM).

The core's ``baseline``, ``linear``, ``naive_bayes``, ``svm`` (linear on sparse data),
``xgboost`` and ``mlp`` read the sparse views; ``cnn`` and ``lstm`` the token ids.
"""

from __future__ import annotations

from dlrun.catalogue import CLASS, SPARSE, AlgorithmInfo, BuildContext


def _nbsvm(ctx: BuildContext, *, C: float = 1.0, alpha: float = 1.0, interpolation: float = 1.0):
    """NBSVM; a metric that needs probabilities gets the logistic loss instead of the hinge."""
    from dlrun.catalogue import METRICS
    from dlrun.kinds.text.nbsvm import NBSVMClassifier

    needs_proba = ctx.metric in METRICS and METRICS.get(ctx.metric).needs_proba
    return NBSVMClassifier(C=C, alpha=alpha, interpolation=interpolation,
                           loss="logistic" if needs_proba else "squared_hinge")


NBSVM = AlgorithmInfo(
    "nbsvm", _nbsvm, frozenset({CLASS}), (SPARSE,), rank=15,
    trusted_types=("dlrun.kinds.text.nbsvm.NBSVMClassifier",),
    description="NBSVM: a linear SVM on naive-Bayes log-count-ratio features (Wang & Manning 2012)")
