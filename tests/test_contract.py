"""Every registered tabular algorithm and view honours the same contract.

Parametrized over the registries, so a new entry is tested the moment it is
registered: builds from its defaults, fits inside a Pipeline on data with
missing values and a categorical column, predicts in the label space, clones,
and survives pickling (how models are saved).
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from dlrun.catalogue import ALGORITHMS, TABULAR, VIEWS, BuildContext
from dlrun.evaluation.candidates import Candidate, build_pipeline
from dlrun.evaluation.jobs import aligned_scores

FAST = {"mlp": {"epochs": 10, "patience": 5}, "random_forest": {"n_estimators": 20},
        "extra_trees": {"n_estimators": 20}, "xgboost": {"n_estimators": 20}}

CASES = [
    (name, task)
    for name, info in ALGORITHMS.items()
    if TABULAR in info.data_kinds
    for task in ("classification", "regression")
    if task in info.tasks
]


def _data(task, n=90, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n) * 100,
                      "colour": rng.choice(["red", "green", "blue"], size=n).astype(object)})
    X.loc[::11, "a"] = np.nan
    X.loc[::13, "colour"] = np.nan
    if task == "classification":
        y = (X["a"].fillna(0) + (X["colour"] == "red") > 0.2).astype(int).to_numpy().copy()
        y[::7] = 2  # a third class
    else:
        y = 2 * X["a"].fillna(0).to_numpy() + rng.normal(scale=0.1, size=n)
    return X, y


@pytest.mark.parametrize("name, task", CASES, ids=[f"{n}-{t}" for n, t in CASES])
def test_algorithm_contract(name, task):
    X, y = _data(task)
    n_classes = len(np.unique(y)) if task == "classification" else 0
    ctx = BuildContext(task=task, metric="accuracy" if task == "classification" else "rmse",
                       seed=1, n_rows=len(X), n_features=3, n_classes=n_classes)
    cand = Candidate(name, "standardize", FAST.get(name, {}))
    pipe = build_pipeline(cand, ctx, ["a", "b"], ["colour"])
    assert clone(pipe).get_params().keys() == pipe.get_params().keys()
    pipe.fit(X.iloc[:70], y[:70])
    pred = pipe.predict(X.iloc[70:])
    assert pred.shape == (20,)
    if task == "classification":
        assert set(np.unique(pred)) <= set(range(n_classes))
        scores = aligned_scores(pipe, X.iloc[70:], n_classes)
        if scores is not None:
            assert scores.shape == (20, n_classes)
    else:
        assert np.all(np.isfinite(pred))
    again = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_allclose(again.predict(X.iloc[70:]), pred, rtol=1e-5)


def test_classifier_trains_when_a_class_is_missing_from_the_training_fold():
    X, y = _data("classification")
    ctx = BuildContext(task="classification", metric="accuracy", seed=1, n_classes=3)
    train = np.flatnonzero(y != 2)
    pipe = build_pipeline(Candidate("xgboost", "raw", FAST["xgboost"]), ctx, ["a", "b"], ["colour"])
    pipe.fit(X.iloc[train], y[train])
    scores = aligned_scores(pipe, X, 3)
    assert scores.shape == (len(X), 3) and np.all(scores[:, 2] == 0)


VIEW_NAMES = [n for n, v in VIEWS.items() if TABULAR in v.data_kinds]


@pytest.mark.parametrize("view_name", VIEW_NAMES)
def test_view_is_fitted_on_training_rows_only(view_name):
    X, _ = _data("regression")
    train, test = X.iloc[:60], X.iloc[60:].copy()
    test["b"] = test["b"] + 1e6  # a shift only the test rows have
    view = VIEWS.get(view_name).build(["a", "b"], ["colour"])
    view.fit(train)
    out_train, out_test = view.transform(train), view.transform(test)
    refit = VIEWS.get(view_name).build(["a", "b"], ["colour"]).fit(train)
    np.testing.assert_allclose(refit.transform(test), out_test)  # depends on train only
    assert not np.isnan(out_test).any() and out_train.shape[1] == out_test.shape[1]
    assert out_train.shape[1] == 2 + 3  # two numbers + one-hot of three colours
