"""Every registered algorithm, on every compatible view of every kind, honours one contract.

Parametrized over the registries, so a new algorithm, view or kind is tested the
moment it is registered: on the kind's tiny example data (``Kind.example``) the
pair runs through the real job path (fit on a training part, predict the rest,
scores and out-of-fold predictions), its estimator clones, and a fitted one
survives saving and loading with the same predictions.
"""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from dlrun.catalogue import ALGORITHMS, KINDS, METRICS, VIEWS, compatible, metrics_for, views_for
from dlrun.evaluation.candidates import Candidate, build_estimator
from dlrun.evaluation.jobs import Job, aligned_scores, runner_for, take_rows
from dlrun.evaluation.resampling import Fold
from dlrun.evaluation.runner import build_context, job_data

#: small settings so every net trains in a second or two
FAST = {"mlp": {"epochs": 10, "patience": 5}, "mlp_basic": {"epochs": 10, "patience": 5}, "random_forest": {"n_estimators": 20},
        "extra_trees": {"n_estimators": 20}, "xgboost": {"n_estimators": 20},
        "cnn": {"epochs": 3, "patience": 2}, "lstm": {"epochs": 3}, "cnn_lstm": {"epochs": 3}}

CASES = [
    (kind, task, view, algo)
    for kind, info in KINDS.items()
    for task in info.tasks
    for view in views_for(kind)
    for algo, algo_info in ALGORITHMS.items()
    if algo_info.handles(task) and compatible(algo, view)
]
_EXAMPLES: dict = {}


def example(kind: str, task: str):
    if (kind, task) not in _EXAMPLES:
        _EXAMPLES[kind, task] = KINDS.get(kind).example(task)
    return _EXAMPLES[kind, task]


def test_every_kind_and_every_algorithm_is_covered():
    assert {c[0] for c in CASES} == set(KINDS.names())
    assert {c[3] for c in CASES} == set(ALGORITHMS.names())
    assert {c[2] for c in CASES} == {v for k in KINDS.names() for v in views_for(k)}


@pytest.mark.parametrize("kind, task, view, algo", CASES, ids=["/".join(c) for c in CASES])
def test_algorithm_contract(kind, task, view, algo):
    dataset = example(kind, task)
    assert dataset.kind == kind and dataset.task == task
    metric = metrics_for(task, kind)[0]
    ctx = build_context(dataset, metric, seed=1)
    n = dataset.n_rows
    train, test = np.arange(int(n * 0.75)), np.arange(int(n * 0.75), n)
    candidate = Candidate(algo, view, FAST.get(algo, {}))
    data = job_data(dataset, ctx)

    # the job path: scores and out-of-fold predictions of the test rows
    (result,) = runner_for(kind).run([Job("k", candidate, Fold("f", train, test), train)], data)
    assert "error" not in result, result.get("traceback")
    prediction = result["predictions"]
    assert np.array_equal(prediction.test, test) and len(prediction.y_pred) == len(test)
    assert set(result["metrics"]) == set(metrics_for(task, kind))
    assert np.isfinite(result["metrics"][metric]) and result["fit_seconds"] >= 0
    if dataset.classification:
        assert set(np.unique(prediction.y_pred)) <= set(range(len(dataset.classes)))
        if prediction.proba is not None:
            assert prediction.proba.shape == (len(test), len(dataset.classes))
    else:
        assert np.all(np.isfinite(prediction.y_pred))

    # the estimator: clones, fits, and predicts the same after a save and a load
    estimator = build_estimator(candidate, ctx, dataset.roles, kind)
    assert clone(estimator).get_params().keys() == estimator.get_params().keys()
    y = dataset.encoded_target()
    estimator.fit(take_rows(dataset.X, train), y[train])
    again = pickle.loads(pickle.dumps(estimator))
    model = estimator.named_steps["model"]
    if hasattr(model, "forecast"):  # a forecaster: walk forward over the test window
        exog = dataset.X.to_numpy(dtype=float) if dataset.X.shape[1] else None
        before = model.forecast(exog, y, test)
        after = again.named_steps["model"].forecast(exog, y, test)
    else:
        before = estimator.predict(take_rows(dataset.X, test))
        after = again.predict(take_rows(dataset.X, test))
    np.testing.assert_allclose(after, before, rtol=1e-5)


def test_classifier_trains_when_a_class_is_missing_from_the_training_fold():
    dataset = example("tabular", "classification")
    ctx = build_context(dataset, "accuracy", seed=1)
    y = dataset.encoded_target()
    train = np.flatnonzero(y != y.max())
    pipe = build_estimator(Candidate("xgboost", "raw", FAST["xgboost"]), ctx, dataset.roles, "tabular")
    pipe.fit(dataset.X.iloc[train], y[train])
    scores = aligned_scores(pipe, dataset.X, len(dataset.classes))
    assert scores.shape == (dataset.n_rows, 3) and np.all(scores[:, y.max()] == 0)


def _dense(values):
    """A view's output as a NumPy array (sparse term weights densified)."""
    return values.toarray() if hasattr(values, "toarray") else np.asarray(values)


TRANSFORMING_VIEWS = [(k, v) for k in KINDS.names() for v in views_for(k)
                      if hasattr(VIEWS.get(v).build({}), "transform")]


@pytest.mark.parametrize("kind, view", TRANSFORMING_VIEWS, ids=[f"{k}/{v}" for k, v in TRANSFORMING_VIEWS])
def test_view_is_fitted_on_training_rows_only(kind, view):
    dataset = example(kind, KINDS.get(kind).tasks[0])
    X = dataset.X
    train, test = take_rows(X, np.arange(40)), take_rows(X, np.arange(40, dataset.n_rows))
    # a shift only the test rows have
    if hasattr(test, "iloc"):
        shifted = test.assign(b=test["b"] + 1e6)
    elif np.asarray(test).dtype == object:  # documents: a word no training document holds
        shifted = np.asarray([f"{d} zyzzyva" for d in test], dtype=object)
    else:
        shifted = test.astype(float) * 3 + 1000
    fitted = VIEWS.get(view).build(dataset.roles).fit(train)
    refit = VIEWS.get(view).build(dataset.roles).fit(train)
    out = _dense(fitted.transform(shifted))
    np.testing.assert_allclose(_dense(refit.transform(shifted)), out)  # depends on the training rows only
    assert not np.isnan(np.asarray(out, dtype=float)).any()
    assert fitted.transform(train).shape[1] == np.asarray(out).shape[1]


def test_metrics_of_each_task_score_its_targets():
    for kind, info in KINDS.items():
        for task in info.tasks:
            names = metrics_for(task, kind)
            assert names, (kind, task)
            assert all(METRICS.get(m).classification == (task == "classification") for m in names)
