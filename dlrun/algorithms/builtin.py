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


def _standardized(model):
    """``model`` behind a standard scaler fitted on the training fold: its penalty or shrinkage
    then weighs every column alike whatever its units, and the fit is the same on every view
    that maps each column by a positive affine map (invariance ``affine``)."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return Pipeline([("scale", StandardScaler()), ("model", model)])


def _lda(ctx: BuildContext, *, solver: str = "lsqr", shrinkage: str | float | None = "auto"):
    """Linear discriminant analysis on standardized columns. ``shrinkage``: ``auto`` (the
    Ledoit-Wolf amount), a number in [0, 1] (0: the sample covariance, 1: its diagonal) or
    null (none; required by the ``svd`` solver). It picked the winning model in most outer
    folds of PyCaret on wheat-seeds and Pima (../shared/notes/peers.md)."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    if solver == "svd" and shrinkage is not None:
        raise ValueError("'shrinkage' must be null with solver 'svd' (use solver lsqr or eigen)")
    return _standardized(LinearDiscriminantAnalysis(solver=solver, shrinkage=shrinkage))


def _ridge_classifier(ctx: BuildContext, *, alpha: float = 1.0):
    """Ridge regression on the one-vs-rest class codes (-1/1), on standardized columns: as
    cheap as a linear model gets, and often as good as logistic regression on small tables
    (the published best on wheat-seeds, 0.973). Calibrated when the metric needs
    probabilities; otherwise its decision values rank the classes."""
    from sklearn.linear_model import RidgeClassifier

    return _calibrated(ctx, _standardized(RidgeClassifier(alpha=alpha)))


def _penalised_least_squares(ctx: BuildContext, alpha, l1_ratio: float, max_iter: int):
    from sklearn.linear_model import ElasticNet, ElasticNetCV
    from sklearn.model_selection import KFold

    if alpha is None:  # chosen by 5-fold CV on the training fold (rows shuffled, seeded)
        model = ElasticNetCV(l1_ratio=l1_ratio, max_iter=max_iter,
                             cv=KFold(5, shuffle=True, random_state=ctx.seed))
    else:
        model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, max_iter=max_iter)
    return _standardized(model)


def _lasso(ctx: BuildContext, *, alpha: float | None = None, max_iter: int = 5000):
    """Lasso (L1-penalised least squares) on standardized columns; ``alpha`` null: the penalty
    that scores best in a 5-fold CV of the training fold (its regularisation path)."""
    return _penalised_least_squares(ctx, alpha, 1.0, max_iter)


def _elastic_net(ctx: BuildContext, *, alpha: float | None = None, l1_ratio: float = 0.5,
                 max_iter: int = 5000):
    """Elastic net (L1 + L2) on standardized columns; ``l1_ratio``: the L1 share of the penalty;
    ``alpha`` null: chosen by a 5-fold CV of the training fold."""
    return _penalised_least_squares(ctx, alpha, l1_ratio, max_iter)


def _hist_gradient_boosting(ctx: BuildContext, *, learning_rate: float = 0.1, max_iter: int = 200,
                            max_leaf_nodes: int = 31, min_samples_leaf: int = 20,
                            l2_regularization: float = 0.0, early_stopping: str | bool = "auto"):
    """scikit-learn's histogram gradient boosting (LightGBM's design). ``early_stopping``:
    ``auto`` stops on a 10 % validation split of the training fold from 10,000 rows on."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    from dlrun.algorithms.boosting import ThreadLimitedClassifier, ThreadLimitedRegressor

    cls = HistGradientBoostingClassifier if ctx.classification else HistGradientBoostingRegressor
    model = cls(learning_rate=learning_rate, max_iter=max_iter, max_leaf_nodes=max_leaf_nodes,
                min_samples_leaf=min_samples_leaf, l2_regularization=l2_regularization,
                early_stopping=early_stopping, random_state=ctx.seed)
    # its OpenMP threads follow dlrun's thread budget (one below 2,000 rows)
    limited = ThreadLimitedClassifier if ctx.classification else ThreadLimitedRegressor
    return limited(model, threads=_threads(ctx))


def _adaboost(ctx: BuildContext, *, n_estimators: int = 100, learning_rate: float = 1.0):
    """AdaBoost: decision stumps re-weighting the rows they miss (SAMME) for classes; trees of
    depth 3 on the rows they miss most (AdaBoost.R2) for numbers."""
    from sklearn.ensemble import AdaBoostClassifier, AdaBoostRegressor
    from sklearn.tree import DecisionTreeRegressor

    if ctx.classification:
        return AdaBoostClassifier(n_estimators=n_estimators, learning_rate=learning_rate,
                                  random_state=ctx.seed)
    return AdaBoostRegressor(DecisionTreeRegressor(max_depth=3, random_state=ctx.seed),
                             n_estimators=n_estimators, learning_rate=learning_rate,
                             random_state=ctx.seed)


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


def _xgboost(ctx: BuildContext, *, n_estimators: int = 1000, learning_rate: float = 0.08,
             max_depth: int = 6, subsample: float = 0.65, colsample_bytree: float = 0.9,
             min_child_weight: float = 1.0, reg_lambda: float = 1.0,
             early_stopping_rounds: int = 50, validation_fraction: float = 0.2,
             refit: bool = True):
    """Gradient-boosted trees with strong defaults: up to ``n_estimators`` rounds, as many as
    an inner validation split of the training fold wants (``validation_fraction`` of its rows,
    stratified, seeded; the latest rows of a series), stopping after ``early_stopping_rounds``
    rounds without improvement, then refitted on the whole training fold with that many rounds
    scaled by its share of rows (``refit``). ``early_stopping_rounds: 0`` grows all
    ``n_estimators`` rounds. The test fold is never seen: the split is of the rows ``fit`` gets.
    Before (version 1): 200 rounds, learning rate 0.1, depth 4, subsample and colsample 0.8."""
    from xgboost import XGBClassifier, XGBRegressor

    from dlrun.algorithms.boosting import (
        EarlyStoppingClassifier,
        EarlyStoppingRegressor,
        LabelSafeClassifier,
        check_xgboost,
    )

    check_xgboost(n_estimators=n_estimators, learning_rate=learning_rate, max_depth=max_depth,
                  subsample=subsample, colsample_bytree=colsample_bytree,
                  min_child_weight=min_child_weight, reg_lambda=reg_lambda,
                  early_stopping_rounds=early_stopping_rounds,
                  validation_fraction=validation_fraction, refit=refit)
    kwargs = dict(n_estimators=n_estimators, learning_rate=learning_rate, max_depth=max_depth,
                  subsample=subsample, colsample_bytree=colsample_bytree,
                  min_child_weight=min_child_weight, reg_lambda=reg_lambda,
                  random_state=ctx.seed, n_jobs=_threads(ctx), tree_method="hist", verbosity=0)
    stopping = dict(patience=early_stopping_rounds, validation_fraction=validation_fraction,
                    refit=refit, time_ordered=ctx.input == SEQUENCE, random_state=ctx.seed)
    if ctx.classification:
        return LabelSafeClassifier(EarlyStoppingClassifier(XGBClassifier(**kwargs), **stopping))
    return EarlyStoppingRegressor(XGBRegressor(**kwargs), **stopping)


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
    inner = boost
    while hasattr(inner, "estimator"):  # the XGBoost model inside its wrappers
        inner = inner.estimator
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
    """The tabular MLP on tables (embeddings, BatchEnsemble members, AdamW); the basic MLP
    on lag windows and term weights."""
    from dlrun.algorithms.keras import mlp

    if ctx.input == SEQUENCE:  # lag windows: validate early stopping on the latest rows
        return mlp.SequenceMLPRegressor
    if ctx.input == SPARSE:  # term weights: the most frequent terms, densified
        from dlrun.algorithms.keras import sparse

        return sparse.SparseMLPClassifier if ctx.classification else sparse.SparseMLPRegressor
    from dlrun.algorithms.keras import table_mlp

    return table_mlp.TabularMLPClassifier if ctx.classification else table_mlp.TabularMLPRegressor


def _mlp(ctx: BuildContext, **params):
    from dlrun.algorithms.keras.mlp import make_mlp

    return make_mlp(_mlp_class(ctx), ctx, params)


def _mlp_basic_class(ctx: BuildContext):
    from dlrun.algorithms.keras import mlp

    return mlp.MLPClassifier if ctx.classification else mlp.MLPRegressor


def _mlp_basic(ctx: BuildContext, **params):
    """The previous tabular MLP (Dense-ReLU, dropout, L2, Adam), kept for comparison."""
    from dlrun.algorithms.keras.mlp import make_mlp

    return make_mlp(_mlp_basic_class(ctx), ctx, params)


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
# no invariance declared: Gaussian NB adds var_smoothing x the largest column variance to
# every variance, which a rescaling of the columns changes (and multinomial NB reads counts)
NAIVE_BAYES = AlgorithmInfo("naive_bayes", _naive_bayes, frozenset({CLASS}), (TABLE, SPARSE), rank=12,
                            signature=_naive_bayes_class,
                            description="naive Bayes: Gaussian on tables, multinomial on term weights")
# the linear models below standardize their columns themselves: invariant to a positive
# affine map of each column (fitted once for raw, standardize and normalize)
AFFINE = frozenset({"affine"})
# cheap, and often the winner on small tables: in the default classification suite
LDA = AlgorithmInfo("lda", _lda, frozenset({CLASS}), (TABLE,), rank=13, invariances=AFFINE,
                    description="linear discriminant analysis (Ledoit-Wolf shrinkage)")
RIDGE_CLASSIFIER = AlgorithmInfo("ridge_classifier", _ridge_classifier, frozenset({CLASS}), (TABLE,),
                                 rank=14, invariances=AFFINE,
                                 description="ridge classifier (least squares on the class codes)")
# opt-in breadth (--only or algorithms:): lasso and elastic net rarely beat the ridge that
# `linear` fits for numbers; the two boosters below rarely beat XGBoost, and cost as much
LASSO = AlgorithmInfo("lasso", _lasso, frozenset({NUMBER}), (TABLE,), rank=15, invariances=AFFINE,
                      opt_in=True, description="lasso regression (L1 penalty chosen by CV)")
ELASTIC_NET = AlgorithmInfo("elastic_net", _elastic_net, frozenset({NUMBER}), (TABLE,), rank=16,
                            invariances=AFFINE, opt_in=True,
                            description="elastic net regression (L1 + L2, penalty chosen by CV)")
# no invariance declared: AdaBoost.R2 fits each tree on a weighted resample of the rows, and
# the rows left out fall either side of a split's midpoint depending on the view (measured:
# 192 of 200 training predictions moved between the raw and power views)
ADABOOST = AlgorithmInfo("adaboost", _adaboost, BOTH, (TABLE,), rank=65, opt_in=True, description="AdaBoost (stumps for classes, depth-3 trees "
                                                  "for numbers)")
HIST_GRADIENT_BOOSTING = AlgorithmInfo(
    "hist_gradient_boosting", _hist_gradient_boosting, BOTH, (TABLE,), rank=72,
    invariances=MONOTONE, opt_in=True,
    trusted_types=("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
                   "dlrun.algorithms.boosting.ThreadLimitedClassifier",
                   "dlrun.algorithms.boosting.ThreadLimitedRegressor"),
    description="histogram gradient boosting (scikit-learn)")
# Forests of 200 full-depth trees cost about n log n per tree: past 100k training
# rows a fold takes minutes on one core, so larger folds train on a subsample.
RANDOM_FOREST = AlgorithmInfo("random_forest", _random_forest, BOTH, (TABLE, SEQUENCE), rank=50, slow=True,
                              max_train_rows=100_000, invariances=MONOTONE,
                              description="random forest")
EXTRA_TREES = AlgorithmInfo("extra_trees", _extra_trees, BOTH, (TABLE,), rank=60, slow=True,
                            max_train_rows=100_000, invariances=MONOTONE,
                            description="extremely randomized trees")
XGBOOST = AlgorithmInfo("xgboost", _boosting, BOTH, (TABLE, SEQUENCE, SPARSE), rank=70,
                        signature=_xgboost_class,
                        version=2,  # 2: strong defaults, early stopping on the training fold
                        role=BAR, invariances=MONOTONE,
                        # the scores the term selection of sparse inputs ranks by
                        trusted_types=("sklearn.feature_selection._univariate_selection.chi2",
                                       "sklearn.feature_selection._univariate_selection.f_regression"),
                        description="gradient-boosted trees (XGBoost): the bar")
# the tabular MLP scales its inputs robustly on the training fold: invariant to positive
# affine maps of a column (fitted once for raw, standardize and normalize)
MLP = AlgorithmInfo("mlp", _mlp, BOTH, (TABLE, SEQUENCE, SPARSE), rank=80, role=NET, slow=True,
                    signature=_mlp_class, version=4,  # 2: the tabular MLP on tables; 3: smaller batches on small data; 4: dropout for classes
                    invariances=frozenset({"affine"}),
                    trusted_types=("dlrun.algorithms.keras.sparse.SparseMLPClassifier",
                                   "dlrun.algorithms.keras.sparse.SparseMLPRegressor",
                                   "dlrun.algorithms.keras.table_mlp.TabularMLPClassifier",
                                   "dlrun.algorithms.keras.table_mlp.TabularMLPRegressor"),
                    description="Keras multilayer perceptron; on tables: robust scaling, periodic "
                                "embeddings, a BatchEnsemble of members, AdamW, best epoch on a split "
                                "of the training fold (on lag windows and term weights: the basic MLP)")
MLP_BASIC = AlgorithmInfo("mlp_basic", _mlp_basic, BOTH, (TABLE,), rank=81, role=NET, slow=True, opt_in=True,
                          signature=_mlp_basic_class,
                          description="the previous tabular MLP: Dense-ReLU layers, dropout, L2, "
                                      "Adam, early stopping on a split of the training fold")
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
