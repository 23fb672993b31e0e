"""Built-in tabular algorithms. Each builder returns an unfitted scikit-learn
estimator; heavy libraries are imported inside the builder, never here."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dlrun.catalogue import ALGORITHMS, BuildContext, algorithm

BOTH = ("classification", "regression")
WITH_FORECASTING = (*BOTH, "forecasting")  # also fitted on lag windows (dlrun.timeseries)


def _pick(params: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: params[k] for k in names if k in params}


@algorithm("baseline", tasks=WITH_FORECASTING, family="baseline",
           description="naive floor: majority class, the median (MAE) / mean target, or persistence")
def baseline(ctx: BuildContext, params: dict[str, Any]):
    from sklearn.dummy import DummyClassifier, DummyRegressor

    if ctx.task == "forecasting":  # the last observed value
        from dlrun.timeseries.forecasters import make_naive

        return make_naive("persistence", ctx, params)
    if ctx.task == "classification":
        return DummyClassifier(strategy="prior")
    return DummyRegressor(strategy="median" if ctx.metric == "mae" else "mean")


@algorithm("linear", tasks=WITH_FORECASTING, description="logistic regression / ridge regression",
           version=2)  # 2: Newton's method on narrow data (dlrun.algorithms.linear)
def linear(ctx: BuildContext, params: dict[str, Any]):
    from sklearn.linear_model import Ridge

    from dlrun.algorithms.linear import AdaptiveLogisticRegression

    if ctx.task == "classification":
        return AdaptiveLogisticRegression(C=params.get("C", 1.0), max_iter=params.get("max_iter", 2000))
    return Ridge(alpha=params.get("alpha", 1.0))


@algorithm("knn", tasks=BOTH, description="k-nearest neighbours", slow=True)
def knn(ctx: BuildContext, params: dict[str, Any]):
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    cls = KNeighborsClassifier if ctx.task == "classification" else KNeighborsRegressor
    kwargs = _pick(params, "n_neighbors", "weights")
    if ctx.n_rows:
        kwargs["n_neighbors"] = max(1, min(kwargs.get("n_neighbors", 5), ctx.n_rows - 1))
    return cls(**kwargs)


@algorithm("cart", tasks=BOTH, description="decision tree (CART)")
def cart(ctx: BuildContext, params: dict[str, Any]):
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    cls = DecisionTreeClassifier if ctx.task == "classification" else DecisionTreeRegressor
    return cls(random_state=ctx.seed, **_pick(params, "max_depth", "min_samples_leaf"))


@algorithm("svm", tasks=BOTH, description="support vector machine (RBF kernel)", slow=True,
           max_train_rows=10_000)  # kernel SVMs cost O(n^2) memory and O(n^2..n^3) time
def svm(ctx: BuildContext, params: dict[str, Any]):
    from sklearn.svm import SVC, SVR

    from dlrun.catalogue import METRICS

    kwargs = _pick(params, "C", "kernel", "gamma")
    if ctx.task == "classification":
        model = SVC(random_state=ctx.seed, **kwargs)
        if ctx.metric in METRICS and METRICS.get(ctx.metric).needs_proba:
            # probabilities from an internal cross-validated calibration (what
            # SVC(probability=True) did, the way scikit-learn now recommends)
            from sklearn.calibration import CalibratedClassifierCV

            return CalibratedClassifierCV(model, ensemble=False, cv=3)
        return model
    return SVR(**kwargs)


# Forests of 200 full-depth trees cost about n log n per tree: past 100k training
# rows a fold takes minutes on one core, so larger folds train on a subsample.
@algorithm("random_forest", tasks=WITH_FORECASTING, family="ensemble", description="random forest",
           slow=True, max_train_rows=100_000)
def random_forest(ctx: BuildContext, params: dict[str, Any]):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    from dlrun.evaluation.executors import fit_threads

    cls = RandomForestClassifier if ctx.task == "classification" else RandomForestRegressor
    kwargs = _pick(params, "n_estimators", "max_features", "min_samples_leaf")
    if ctx.task != "classification" and kwargs.get("max_features") == "sqrt":
        kwargs["max_features"] = 1.0 / 3.0  # the usual p/3 for regression forests
    return cls(random_state=ctx.seed, n_jobs=fit_threads(ctx.n_rows), **kwargs)


@algorithm("extra_trees", tasks=BOTH, family="ensemble", description="extremely randomized trees",
           slow=True, max_train_rows=100_000)
def extra_trees(ctx: BuildContext, params: dict[str, Any]):
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

    from dlrun.evaluation.executors import fit_threads

    cls = ExtraTreesClassifier if ctx.task == "classification" else ExtraTreesRegressor
    kwargs = _pick(params, "n_estimators", "max_features", "min_samples_leaf")
    if ctx.task == "regression" and kwargs.get("max_features") == "sqrt":
        kwargs["max_features"] = 1.0
    return cls(random_state=ctx.seed, n_jobs=fit_threads(ctx.n_rows), **kwargs)


@algorithm("xgboost", tasks=WITH_FORECASTING, family="boosting", description="gradient-boosted trees (XGBoost): the bar")
def xgboost(ctx: BuildContext, params: dict[str, Any]):
    from dlrun.algorithms.boosting import make_xgboost

    return make_xgboost(ctx, params)


@algorithm("mlp", tasks=WITH_FORECASTING, family="deep", slow=True,
           description="Keras multilayer perceptron, early stopping on a split of the training fold")
def mlp(ctx: BuildContext, params: dict[str, Any]):
    from dlrun.algorithms.keras.mlp import make_mlp

    if ctx.task == "forecasting":  # early stopping on the latest training windows
        from dlrun.timeseries.nets import make_net

        return make_net("mlp", ctx, params)
    return make_mlp(ctx, params)


@algorithm("cnn", tasks=("classification",), data_kinds=("image",), family="deep", slow=True,
           description="Keras convolutional net, depth scaled to the input, early stopping on a "
                       "split of the training fold")
def cnn(ctx: BuildContext, params: dict[str, Any]):
    from dlrun.algorithms.keras.cnn import make_cnn

    return make_cnn(ctx, params)


# Images: these read the flattened, scaled pixels of the image views (dlrun.images).
for _name in ("baseline", "linear", "knn", "cart", "svm", "random_forest", "extra_trees", "xgboost", "mlp"):
    _info = ALGORITHMS.get(_name)
    ALGORITHMS.register(_name, replace(_info, data_kinds=_info.data_kinds | {"image"}))
