"""dlrun's own algorithms, one :class:`~dlrun.catalogue.AlgorithmInfo` each (entry points
of the ``dlrun.algorithms`` group).

Each builder returns an unfitted scikit-learn estimator and imports what it
needs when it is called. An algorithm's parameters and their defaults are the
keyword parameters of its builder (or of the estimator class it names as its
``signature``): the one place a default is written. ``accepts`` says which
inputs it reads (see :mod:`dlrun.catalogue`), ``targets`` what it predicts,
``invariances`` which transforms of the inputs leave its fit unchanged
(``monotone``: any order-keeping transform of each column, as trees split on
order; ``inputs``: it ignores them).
"""

from __future__ import annotations

from dlrun.catalogue import (
    BAR,
    BASELINE,
    CLASS,
    GRID,
    HISTORY,
    NET,
    NUMBER,
    SEQUENCE,
    SPARSE,
    TABLE,
    TOKENS,
    AlgorithmInfo,
    BuildContext,
)

BOTH = frozenset({CLASS, NUMBER})


def _threads(ctx: BuildContext) -> int:
    from dlrun.threads import fit_threads

    return fit_threads(ctx.n_rows)


# --------------------------------------------------------------------------- classical


def _baseline(ctx: BuildContext):
    """The majority class; for numbers the median (when scored by MAE) or the mean."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    if ctx.classification:
        return DummyClassifier(strategy="prior")
    return DummyRegressor(strategy="median" if ctx.metric == "mae" else "mean")


def _logistic(ctx: BuildContext, *, C: float = 1.0, max_iter: int = 2000):
    from dlrun.algorithms.linear import AdaptiveLogisticRegression

    return AdaptiveLogisticRegression(C=C, max_iter=max_iter)


def _logistic_sparse(ctx: BuildContext, *, C: float = 10.0, max_iter: int = 2000):
    """Logistic regression on sparse term weights. TF-IDF rows have unit length, so each
    weight is small and C = 1 over-regularises: C = 10 scored 0.878 against 0.860 on the
    movie-review polarity set (10-fold CV, word 1-2-grams). Newton-CG: on 128,000 word
    n-grams of 1,800 reviews it converged in 4-12 iterations, 0.3-1.1 s, where lbfgs took
    0.6-9 s (raw counts are ill-conditioned) for the same accuracy."""
    from dlrun.algorithms.linear import AdaptiveLogisticRegression

    return AdaptiveLogisticRegression(C=C, max_iter=max_iter, solver="newton-cg")


def _ridge(ctx: BuildContext, *, alpha: float = 1.0):
    from sklearn.linear_model import Ridge

    return Ridge(alpha=alpha)


def _linear_class(ctx: BuildContext):
    if not ctx.classification:
        return _ridge
    return _logistic_sparse if ctx.input == SPARSE else _logistic


def _linear(ctx: BuildContext, **params):
    return _linear_class(ctx)(ctx, **params)


def _knn(ctx: BuildContext, *, n_neighbors: int = 7, weights: str = "uniform"):
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    cls = KNeighborsClassifier if ctx.classification else KNeighborsRegressor
    if ctx.n_rows:
        n_neighbors = max(1, min(n_neighbors, ctx.n_rows - 1))
    return cls(n_neighbors=n_neighbors, weights=weights)


def _cart(ctx: BuildContext, *, max_depth: int | None = None, min_samples_leaf: int = 1):
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    cls = DecisionTreeClassifier if ctx.classification else DecisionTreeRegressor
    return cls(random_state=ctx.seed, max_depth=max_depth, min_samples_leaf=min_samples_leaf)


def _calibrated(ctx: BuildContext, model):
    from dlrun.catalogue import METRICS

    if ctx.metric in METRICS and METRICS.get(ctx.metric).needs_proba:
        # probabilities from an internal cross-validated calibration (what
        # SVC(probability=True) did, the way scikit-learn now recommends)
        from sklearn.calibration import CalibratedClassifierCV

        return CalibratedClassifierCV(model, ensemble=False, cv=3)
    return model


def _kernel_svm(ctx: BuildContext, *, C: float = 1.0, kernel: str = "rbf", gamma: str | float = "scale"):
    from sklearn.svm import SVC, SVR

    if ctx.classification:
        return _calibrated(ctx, SVC(random_state=ctx.seed, C=C, kernel=kernel, gamma=gamma))
    return SVR(C=C, kernel=kernel, gamma=gamma)


def _linear_svm(ctx: BuildContext, *, C: float = 1.0, max_iter: int = 2000):
    """A linear SVM (liblinear) for sparse term weights: tens of thousands of columns,
    where a kernel buys nothing and costs O(n^2)."""
    from sklearn.svm import LinearSVC, LinearSVR

    if ctx.classification:
        return _calibrated(ctx, LinearSVC(random_state=ctx.seed, C=C, max_iter=max_iter))
    return LinearSVR(random_state=ctx.seed, C=C, max_iter=max_iter)


def _svm_class(ctx: BuildContext):
    return _linear_svm if ctx.input == SPARSE else _kernel_svm


def _svm(ctx: BuildContext, **params):
    """An RBF-kernel SVM on tables; a linear one on sparse term weights."""
    return _svm_class(ctx)(ctx, **params)


def _gaussian_nb(ctx: BuildContext, *, var_smoothing: float = 1e-9):
    from sklearn.naive_bayes import GaussianNB

    return GaussianNB(var_smoothing=var_smoothing)


def _multinomial_nb(ctx: BuildContext, *, alpha: float = 1.0, complement: bool = False):
    """Multinomial naive Bayes on term weights (counts, 0/1, TF-IDF); ``complement``:
    Rennie et al.'s complement NB, steadier when the classes are unbalanced."""
    from sklearn.naive_bayes import ComplementNB, MultinomialNB

    return (ComplementNB if complement else MultinomialNB)(alpha=alpha)


def _naive_bayes_class(ctx: BuildContext):
    return _multinomial_nb if ctx.input == SPARSE else _gaussian_nb


def _naive_bayes(ctx: BuildContext, **params):
    """Gaussian naive Bayes on tables, multinomial on sparse term weights."""
    return _naive_bayes_class(ctx)(ctx, **params)


def _random_forest(ctx: BuildContext, *, n_estimators: int = 200, max_features: str | float = "sqrt",
                   min_samples_leaf: int = 1):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestClassifier if ctx.classification else RandomForestRegressor
    if not ctx.classification and max_features == "sqrt":
        max_features = 1.0 / 3.0  # the usual p/3 for regression forests
    return cls(random_state=ctx.seed, n_jobs=_threads(ctx), n_estimators=n_estimators,
               max_features=max_features, min_samples_leaf=min_samples_leaf)


def _extra_trees(ctx: BuildContext, *, n_estimators: int = 200, max_features: str | float = "sqrt",
                 min_samples_leaf: int = 1):
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

    cls = ExtraTreesClassifier if ctx.classification else ExtraTreesRegressor
    if not ctx.classification and max_features == "sqrt":
        max_features = 1.0
    return cls(random_state=ctx.seed, n_jobs=_threads(ctx), n_estimators=n_estimators,
               max_features=max_features, min_samples_leaf=min_samples_leaf)


def _xgboost(ctx: BuildContext, *, n_estimators: int = 200, learning_rate: float = 0.1,
             max_depth: int = 4, subsample: float = 0.8, colsample_bytree: float = 0.8,
             min_child_weight: float = 1.0, reg_lambda: float = 1.0):
    from xgboost import XGBClassifier, XGBRegressor

    from dlrun.algorithms.boosting import LabelSafeClassifier, check_xgboost

    check_xgboost(n_estimators=n_estimators, learning_rate=learning_rate, max_depth=max_depth,
                  subsample=subsample, colsample_bytree=colsample_bytree,
                  min_child_weight=min_child_weight, reg_lambda=reg_lambda)
    kwargs = dict(n_estimators=n_estimators, learning_rate=learning_rate, max_depth=max_depth,
                  subsample=subsample, colsample_bytree=colsample_bytree,
                  min_child_weight=min_child_weight, reg_lambda=reg_lambda,
                  random_state=ctx.seed, n_jobs=_threads(ctx), tree_method="hist", verbosity=0)
    if ctx.classification:
        return LabelSafeClassifier(XGBClassifier(**kwargs))
    return XGBRegressor(**kwargs)


def _xgboost_terms(ctx: BuildContext, *, max_terms: int = 2000, **params):
    """XGBoost on sparse term weights: the ``max_terms`` terms most associated with the target
    (chi-squared for classes, F-test for numbers), chosen on the training fold. Boosting
    builds a histogram of every column for every tree level: on 127,000 word n-grams a fit
    took 60 s, on the 2,000 best 2.4 s, for the same accuracy (0.855 against 0.79 and 0.865
    on two folds of the movie reviews)."""
    from sklearn.feature_selection import SelectKBest, chi2
    from sklearn.feature_selection import f_regression as f_test
    from sklearn.pipeline import Pipeline

    if isinstance(max_terms, bool) or not isinstance(max_terms, int) or max_terms < 1:
        raise ValueError(f"max_terms must be a positive integer, got {max_terms!r}")
    from dlrun.threads import fit_threads

    score = chi2 if ctx.classification else f_test
    boost = _xgboost(ctx, **params)
    # a fit on max_terms columns of a few thousand documents is short: a second thread only
    # adds synchronisation (under load: 21 s against 2.4 s on one thread); from 20,000
    # documents on, the thread budget applies
    inner = boost.estimator if hasattr(boost, "estimator") else boost
    inner.set_params(n_jobs=fit_threads(ctx.n_rows // 10))
    return Pipeline([("terms", SelectKBest(score, k=max_terms)), ("boost", boost)])


def _with_parameters_of(outer, inner):
    """``outer``'s signature with its ``**params`` replaced by ``inner``'s keyword parameters
    (each default stays written once, in its own function)."""
    import inspect

    own = [p for p in inspect.signature(outer).parameters.values() if p.kind != p.VAR_KEYWORD]
    added = [p for p in inspect.signature(inner).parameters.values() if p.kind == p.KEYWORD_ONLY]
    outer.__signature__ = inspect.signature(outer).replace(parameters=[*own, *added])
    return outer


_with_parameters_of(_xgboost_terms, _xgboost)


def _xgboost_class(ctx: BuildContext):
    return _xgboost_terms if ctx.input == SPARSE else _xgboost


def _boosting(ctx: BuildContext, **params):
    return _xgboost_class(ctx)(ctx, **params)


# --------------------------------------------------------------------------- nets


def _mlp_class(ctx: BuildContext):
    from dlrun.algorithms.keras import mlp

    if ctx.input == SEQUENCE:  # lag windows: validate early stopping on the latest rows
        return mlp.SequenceMLPRegressor
    if ctx.input == SPARSE:  # term weights: the most frequent terms, densified
        from dlrun.algorithms.keras import sparse

        return sparse.SparseMLPClassifier if ctx.classification else sparse.SparseMLPRegressor
    return mlp.MLPClassifier if ctx.classification else mlp.MLPRegressor


def _mlp(ctx: BuildContext, **params):
    from dlrun.algorithms.keras.mlp import make_mlp

    return make_mlp(_mlp_class(ctx), ctx, params)


def _cnn_class(ctx: BuildContext):
    if ctx.input == TOKENS:
        from dlrun.algorithms.keras.embedding import EmbeddingCNNClassifier

        return EmbeddingCNNClassifier
    if ctx.input == SEQUENCE:
        from dlrun.algorithms.keras.cnn1d import CNN1DRegressor

        return CNN1DRegressor
    from dlrun.algorithms.keras.cnn import CNNClassifier

    return CNNClassifier


def _cnn(ctx: BuildContext, **params):
    """A 2D convolutional net on grids (class labels), a 1D one on sequences (numbers), an
    embedding with a 1D convolution on token ids (class labels)."""
    if ctx.input == TOKENS:
        from dlrun.algorithms.keras.embedding import make_token_net

        return make_token_net(_cnn_class(ctx), ctx, params)
    if ctx.input == SEQUENCE:
        from dlrun.algorithms.keras.cnn1d import make_cnn1d

        return make_cnn1d(ctx, params)
    if not ctx.classification:
        raise ValueError("cnn predicts class labels from grids, or numbers from sequences")
    from dlrun.algorithms.keras.cnn import make_cnn

    return make_cnn(ctx, params)


def _lstm_class(ctx: BuildContext):
    if ctx.input == TOKENS:
        from dlrun.algorithms.keras.embedding import BiLSTMClassifier

        return BiLSTMClassifier
    from dlrun.algorithms.keras.lstm import LSTMRegressor

    return LSTMRegressor


def _lstm(ctx: BuildContext, **params):
    """An LSTM reading sequences (numbers: the lag windows of a series), or an embedding and a
    bidirectional LSTM reading token ids (class labels)."""
    if ctx.input == TOKENS:
        from dlrun.algorithms.keras.embedding import make_token_net

        return make_token_net(_lstm_class(ctx), ctx, params)
    if ctx.classification:
        raise ValueError("lstm predicts numbers from sequences, or class labels from token ids")
    from dlrun.algorithms.keras.lstm import make_sequence_net

    return make_sequence_net(_lstm_class(ctx), ctx, params)


MONOTONE = frozenset({"monotone"})

BASELINE_ALGO = AlgorithmInfo(
    "baseline", _baseline, BOTH, (TABLE, HISTORY, SPARSE), rank=0, role=BASELINE,
    invariances=frozenset({"monotone", "inputs"}),
    description="the naive floor: majority class, the median (MAE) / mean target, or the last "
                "value of a series")
LINEAR = AlgorithmInfo(
    "linear", _linear, BOTH, (TABLE, SEQUENCE, SPARSE), rank=10, version=2,  # 2: Newton's method on narrow data
    signature=_linear_class, description="logistic regression / ridge regression")
KNN = AlgorithmInfo("knn", _knn, BOTH, (TABLE,), rank=20, slow=True, description="k-nearest neighbours")
CART = AlgorithmInfo("cart", _cart, BOTH, (TABLE,), rank=30, invariances=MONOTONE,
                     description="decision tree (CART)")
# kernel SVMs cost O(n^2) memory and O(n^2..n^3) time: larger folds train on a subsample
SVM = AlgorithmInfo("svm", _svm, BOTH, (TABLE, SPARSE), rank=40, slow=True, max_train_rows=10_000,
                    signature=_svm_class,
                    description="support vector machine (RBF kernel; linear on sparse term weights)")
NAIVE_BAYES = AlgorithmInfo("naive_bayes", _naive_bayes, frozenset({CLASS}), (TABLE, SPARSE), rank=12,
                            signature=_naive_bayes_class,
                            description="naive Bayes: Gaussian on tables, multinomial on term weights")
# Forests of 200 full-depth trees cost about n log n per tree: past 100k training
# rows a fold takes minutes on one core, so larger folds train on a subsample.
RANDOM_FOREST = AlgorithmInfo("random_forest", _random_forest, BOTH, (TABLE, SEQUENCE), rank=50, slow=True,
                              max_train_rows=100_000, invariances=MONOTONE,
                              description="random forest")
EXTRA_TREES = AlgorithmInfo("extra_trees", _extra_trees, BOTH, (TABLE,), rank=60, slow=True,
                            max_train_rows=100_000, invariances=MONOTONE,
                            description="extremely randomized trees")
XGBOOST = AlgorithmInfo("xgboost", _boosting, BOTH, (TABLE, SEQUENCE, SPARSE), rank=70,
                        signature=_xgboost_class, role=BAR, invariances=MONOTONE,
                        # the scores the term selection of sparse inputs ranks by
                        trusted_types=("sklearn.feature_selection._univariate_selection.chi2",
                                       "sklearn.feature_selection._univariate_selection.f_regression"),
                        description="gradient-boosted trees (XGBoost): the bar")
MLP = AlgorithmInfo("mlp", _mlp, BOTH, (TABLE, SEQUENCE, SPARSE), rank=80, role=NET, slow=True,
                    signature=_mlp_class,
                    trusted_types=("dlrun.algorithms.keras.sparse.SparseMLPClassifier",
                                   "dlrun.algorithms.keras.sparse.SparseMLPRegressor"),
                    description="Keras multilayer perceptron, early stopping on a split of the "
                                "training fold (on term weights: the most frequent terms)")
CNN = AlgorithmInfo("cnn", _cnn, BOTH, (GRID, SEQUENCE, TOKENS), rank=90, role=NET, slow=True,
                    signature=_cnn_class,
                    trusted_types=("dlrun.algorithms.keras.embedding.EmbeddingCNNClassifier",),
                    description="Keras convolutional net: 2D on grids (depth scaled to the input), "
                                "1D on sequences, an embedding + 1D convolution + global max pooling "
                                "on token ids; early stopping on a split of the training fold")

LSTM = AlgorithmInfo("lstm", _lstm, BOTH, (SEQUENCE, TOKENS), rank=91, role=NET,
                     signature=_lstm_class,
                     trusted_types=("dlrun.algorithms.keras.embedding.BiLSTMClassifier",),
                     description="Keras LSTM on sequences (lag windows); an embedding + bidirectional "
                                 "LSTM on token ids")
