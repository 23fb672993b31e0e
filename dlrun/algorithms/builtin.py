"""Built-in tabular algorithms. Each builder returns an unfitted scikit-learn
estimator; heavy libraries are imported inside the builder, never here."""

from __future__ import annotations

from typing import Any

from dlrun.catalogue import BuildContext, algorithm

BOTH = ("classification", "regression")


def _pick(params: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: params[k] for k in names if k in params}


@algorithm("baseline", tasks=BOTH, family="baseline",
           description="naive floor: majority class, or the median (MAE) / mean target")
def baseline(ctx: BuildContext, params: dict[str, Any]):
    from sklearn.dummy import DummyClassifier, DummyRegressor

    if ctx.task == "classification":
        return DummyClassifier(strategy="prior")
    return DummyRegressor(strategy="median" if ctx.metric == "mae" else "mean")


@algorithm("linear", tasks=BOTH, description="logistic regression / ridge regression")
def linear(ctx: BuildContext, params: dict[str, Any]):
    from sklearn.linear_model import LogisticRegression, Ridge

    if ctx.task == "classification":
        return LogisticRegression(C=params.get("C", 1.0), max_iter=params.get("max_iter", 2000))
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


@algorithm("svm", tasks=BOTH, description="support vector machine (RBF kernel)", slow=True)
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


@algorithm("random_forest", tasks=BOTH, family="ensemble", description="random forest")
def random_forest(ctx: BuildContext, params: dict[str, Any]):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestClassifier if ctx.task == "classification" else RandomForestRegressor
    kwargs = _pick(params, "n_estimators", "max_features", "min_samples_leaf")
    if ctx.task == "regression" and kwargs.get("max_features") == "sqrt":
        kwargs["max_features"] = 1.0 / 3.0  # the usual p/3 for regression forests
    return cls(random_state=ctx.seed, n_jobs=1, **kwargs)


@algorithm("extra_trees", tasks=BOTH, family="ensemble", description="extremely randomized trees")
def extra_trees(ctx: BuildContext, params: dict[str, Any]):
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

    cls = ExtraTreesClassifier if ctx.task == "classification" else ExtraTreesRegressor
    kwargs = _pick(params, "n_estimators", "max_features", "min_samples_leaf")
    if ctx.task == "regression" and kwargs.get("max_features") == "sqrt":
        kwargs["max_features"] = 1.0
    return cls(random_state=ctx.seed, n_jobs=1, **kwargs)


@algorithm("xgboost", tasks=BOTH, family="boosting", description="gradient-boosted trees (XGBoost): the bar")
def xgboost(ctx: BuildContext, params: dict[str, Any]):
    from dlrun.algorithms.boosting import make_xgboost

    return make_xgboost(ctx, params)


@algorithm("mlp", tasks=BOTH, family="deep", slow=True,
           description="Keras multilayer perceptron, early stopping on a split of the training fold")
def mlp(ctx: BuildContext, params: dict[str, Any]):
    from dlrun.algorithms.keras.mlp import make_mlp

    return make_mlp(ctx, params)
