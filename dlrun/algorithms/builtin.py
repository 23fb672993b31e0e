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
    TABLE,
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


def _ridge(ctx: BuildContext, *, alpha: float = 1.0):
    from sklearn.linear_model import Ridge

    return Ridge(alpha=alpha)


def _linear(ctx: BuildContext, **params):
    return (_logistic if ctx.classification else _ridge)(ctx, **params)


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


def _svm(ctx: BuildContext, *, C: float = 1.0, kernel: str = "rbf", gamma: str | float = "scale"):
    from sklearn.svm import SVC, SVR

    from dlrun.catalogue import METRICS

    if ctx.classification:
        model = SVC(random_state=ctx.seed, C=C, kernel=kernel, gamma=gamma)
        if ctx.metric in METRICS and METRICS.get(ctx.metric).needs_proba:
            # probabilities from an internal cross-validated calibration (what
            # SVC(probability=True) did, the way scikit-learn now recommends)
            from sklearn.calibration import CalibratedClassifierCV

            return CalibratedClassifierCV(model, ensemble=False, cv=3)
        return model
    return SVR(C=C, kernel=kernel, gamma=gamma)


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


# --------------------------------------------------------------------------- nets


def _mlp_class(ctx: BuildContext):
    from dlrun.algorithms.keras import mlp

    if ctx.input == SEQUENCE:  # lag windows: validate early stopping on the latest rows
        return mlp.SequenceMLPRegressor
    return mlp.MLPClassifier if ctx.classification else mlp.MLPRegressor


def _mlp(ctx: BuildContext, **params):
    from dlrun.algorithms.keras.mlp import make_mlp

    return make_mlp(_mlp_class(ctx), ctx, params)


def _cnn_class(ctx: BuildContext):
    if ctx.input == SEQUENCE:
        from dlrun.algorithms.keras.cnn1d import CNN1DRegressor

        return CNN1DRegressor
    from dlrun.algorithms.keras.cnn import CNNClassifier

    return CNNClassifier


def _cnn(ctx: BuildContext, **params):
    """A 2D convolutional net on grids (class labels), a 1D one on sequences (numbers)."""
    if ctx.input == SEQUENCE:
        from dlrun.algorithms.keras.cnn1d import make_cnn1d

        return make_cnn1d(ctx, params)
    if not ctx.classification:
        raise ValueError("cnn predicts class labels from grids, or numbers from sequences")
    from dlrun.algorithms.keras.cnn import make_cnn

    return make_cnn(ctx, params)


def _lstm_class(ctx: BuildContext):
    from dlrun.algorithms.keras.lstm import LSTMRegressor

    return LSTMRegressor


def _lstm(ctx: BuildContext, **params):
    """An LSTM reading sequences (numbers: the lag windows of a series)."""
    from dlrun.algorithms.keras.lstm import make_sequence_net

    return make_sequence_net(_lstm_class(ctx), ctx, params)


MONOTONE = frozenset({"monotone"})

BASELINE_ALGO = AlgorithmInfo(
    "baseline", _baseline, BOTH, (TABLE, HISTORY), rank=0, role=BASELINE,
    invariances=frozenset({"monotone", "inputs"}),
    description="the naive floor: majority class, the median (MAE) / mean target, or the last "
                "value of a series")
LINEAR = AlgorithmInfo(
    "linear", _linear, BOTH, (TABLE, SEQUENCE), rank=10, version=2,  # 2: Newton's method on narrow data
    signature=lambda ctx: _logistic if ctx.classification else _ridge,
    description="logistic regression / ridge regression")
KNN = AlgorithmInfo("knn", _knn, BOTH, (TABLE,), rank=20, slow=True, description="k-nearest neighbours")
CART = AlgorithmInfo("cart", _cart, BOTH, (TABLE,), rank=30, invariances=MONOTONE,
                     description="decision tree (CART)")
# kernel SVMs cost O(n^2) memory and O(n^2..n^3) time: larger folds train on a subsample
SVM = AlgorithmInfo("svm", _svm, BOTH, (TABLE,), rank=40, slow=True, max_train_rows=10_000,
                    description="support vector machine (RBF kernel)")
# Forests of 200 full-depth trees cost about n log n per tree: past 100k training
# rows a fold takes minutes on one core, so larger folds train on a subsample.
RANDOM_FOREST = AlgorithmInfo("random_forest", _random_forest, BOTH, (TABLE, SEQUENCE), rank=50, slow=True,
                              max_train_rows=100_000, invariances=MONOTONE,
                              description="random forest")
EXTRA_TREES = AlgorithmInfo("extra_trees", _extra_trees, BOTH, (TABLE,), rank=60, slow=True,
                            max_train_rows=100_000, invariances=MONOTONE,
                            description="extremely randomized trees")
XGBOOST = AlgorithmInfo("xgboost", _xgboost, BOTH, (TABLE, SEQUENCE), rank=70, role=BAR, invariances=MONOTONE,
                        description="gradient-boosted trees (XGBoost): the bar")
MLP = AlgorithmInfo("mlp", _mlp, BOTH, (TABLE, SEQUENCE), rank=80, role=NET, slow=True, signature=_mlp_class,
                    description="Keras multilayer perceptron, early stopping on a split of the "
                                "training fold")
CNN = AlgorithmInfo("cnn", _cnn, BOTH, (GRID, SEQUENCE), rank=90, role=NET, slow=True, signature=_cnn_class,
                    description="Keras convolutional net: 2D on grids (depth scaled to the input), "
                                "1D on sequences; early stopping on a split of the training fold")

LSTM = AlgorithmInfo("lstm", _lstm, frozenset({NUMBER}), (SEQUENCE,), rank=91, role=NET,
                     signature=_lstm_class, description="Keras LSTM on sequences (lag windows)")
