"""The classical breadth of the suite and the XGBoost bar (issue 16, parts 0 and 1).

The contract test (test_contract.py) already runs every registered algorithm through the job
path; here: which algorithms the default suite holds, that declared invariances are true
(the evaluation fits one view of a group and reuses its scores for the others), that the new
estimators survive the safe model file, and that XGBoost's early stopping chooses its rounds
on the training fold alone, the same way for the same seed.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from dlrun.algorithms.boosting import _EarlyStopping, validation_split
from dlrun.catalogue import (
    ALGORITHMS,
    CLASSIFICATION,
    NET,
    TABLE,
    BuildContext,
    ParameterError,
    algorithms_for,
)
from dlrun.data.dataset import Dataset
from dlrun.errors import ArgumentError
from dlrun.evaluation.candidates import Candidate, build_estimator
from dlrun.evaluation.jobs import Job, runner_for, take_rows
from dlrun.evaluation.resampling import Fold
from dlrun.evaluation.runner import build_context, job_data
from dlrun.kinds.tabular import KIND as TABULAR
from dlrun.stages.prepare import selected_algorithms

NEW = ("lda", "ridge_classifier", "lasso", "elastic_net", "adaboost", "hist_gradient_boosting")
#: fast settings for the slow ones (the invariance does not depend on them)
FAST = {"random_forest": {"n_estimators": 20}, "extra_trees": {"n_estimators": 20},
        "xgboost": {"n_estimators": 60}, "adaboost": {"n_estimators": 20},
        "hist_gradient_boosting": {"max_iter": 30}}


def _example(task, rows=300):
    return TABULAR.example(task, rows=rows)


def _fit_predict(dataset, algo, view, train, test, seed=1, params=None):
    metric = "accuracy" if dataset.classification else "mae"
    ctx = build_context(dataset, metric, seed=seed)
    pipe = build_estimator(Candidate(algo, view, params if params is not None else FAST.get(algo, {})),
                           ctx, dataset.roles, "tabular")
    y = dataset.encoded_target()
    pipe.fit(take_rows(dataset.X, train), y[train])
    rows = take_rows(dataset.X, test)
    if dataset.classification and hasattr(pipe, "predict_proba"):
        return pipe, pipe.predict(rows), pipe.predict_proba(rows)
    return pipe, pipe.predict(rows), None


# ------------------------------------------------------------------ the suite


def test_default_suite_holds_the_cheap_winners_and_leaves_the_rest_opt_in():
    classes = algorithms_for(CLASSIFICATION, "tabular", default_suite=True)
    numbers = algorithms_for("regression", "tabular", default_suite=True)
    assert {"lda", "ridge_classifier", "naive_bayes", "xgboost"} <= set(classes)
    assert not {"adaboost", "hist_gradient_boosting"} & set(classes)
    assert not {"lasso", "elastic_net", "adaboost", "hist_gradient_boosting"} & set(numbers)
    assert "lda" not in numbers and "lasso" not in classes  # each predicts one kind of target
    # every one of them is usable: project.yaml's algorithms: and --only may name it
    everything = algorithms_for(CLASSIFICATION, "tabular") + algorithms_for("regression", "tabular")
    assert set(NEW) <= set(everything)


def test_only_may_name_an_opt_in_algorithm_but_not_one_of_another_task():
    spec = SimpleNamespace(algorithms=None, task="regression", kind="tabular")
    views = ["raw", "standardize"]
    assert "lasso" not in selected_algorithms(spec, views, None)
    assert selected_algorithms(spec, views, ["lasso", "linear"]) == ["linear", "lasso"]
    with pytest.raises(ArgumentError, match="lda"):
        selected_algorithms(spec, views, ["lda"])  # classification only
    listed = SimpleNamespace(algorithms=["linear", "xgboost"], task="regression", kind="tabular")
    with pytest.raises(ArgumentError, match="lasso"):  # project.yaml's list still rules
        selected_algorithms(listed, views, ["lasso"])


def test_every_new_algorithm_has_a_search_space_over_its_own_parameters():
    from dlrun.config import search_space

    for name in [*NEW, "naive_bayes"]:
        info = ALGORITHMS.get(name)
        for task in info.targets:
            ctx = BuildContext(task=CLASSIFICATION if task == "class" else "regression",
                               metric="accuracy" if task == "class" else "mae", seed=1)
            space = search_space(name, TABLE)
            assert space, name
            assert set(space) <= set(info.defaults(ctx)), name


# ------------------------------------------------------------------ invariances


def _table_models(invariance):
    return [(task, name) for name, info in ALGORITHMS.items()
            if invariance in info.invariances and info.role != NET and TABLE in info.accepts
            for task in (CLASSIFICATION, "regression") if info.handles(task)]


AFFINE_CASES = _table_models("affine")
#: the boosters of this issue (the forests' bootstrap draws can flip a row or two: not exact)
MONOTONE_CASES = [c for c in _table_models("monotone")
                  if c[1] in ("hist_gradient_boosting", "xgboost")]


def test_the_linear_newcomers_declare_the_affine_invariance_and_the_boosters_monotone():
    assert {n for _, n in AFFINE_CASES} >= {"lda", "ridge_classifier", "lasso", "elastic_net"}
    assert {n for _, n in MONOTONE_CASES} >= {"hist_gradient_boosting", "xgboost"}


@pytest.mark.parametrize("task, algo", AFFINE_CASES, ids=[f"{t}/{a}" for t, a in AFFINE_CASES])
def test_affine_invariance_holds_on_the_test_rows(task, algo):
    """raw, standardize and normalize map each column by a positive affine map: a model that
    declares ``affine`` predicts the same for the test rows whichever it was fitted on."""
    dataset = _example(task)
    train, test = np.arange(200), np.arange(200, 300)
    _, first, first_proba = _fit_predict(dataset, algo, "raw", train, test)
    for view in ("standardize", "normalize"):
        _, other, other_proba = _fit_predict(dataset, algo, view, train, test)
        if dataset.classification:
            assert np.array_equal(first, other), view
            if first_proba is not None:
                np.testing.assert_allclose(other_proba, first_proba, atol=1e-6)
        else:
            np.testing.assert_allclose(other, first, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("task, algo", MONOTONE_CASES, ids=[f"{t}/{a}" for t, a in MONOTONE_CASES])
def test_monotone_invariance_holds_on_the_training_rows(task, algo):
    """A tree splits on order: fitted on the power view (Yeo-Johnson, a monotone map of each
    column) it grows the same trees as on the raw one. (Test rows between two training values
    may fall on either side of a split's midpoint: the catalogue accepts that.)"""
    dataset = _example(task)
    rows = np.arange(200)
    _, raw, _ = _fit_predict(dataset, algo, "raw", rows, rows)
    _, power, _ = _fit_predict(dataset, algo, "power", rows, rows)
    np.testing.assert_allclose(power, raw, rtol=1e-6)


def test_a_declared_invariance_would_be_caught_when_false():
    """The check above can fail: the plain ridge classifier (no scaler of its own) is not
    invariant to the columns' scales."""
    from sklearn.linear_model import RidgeClassifier

    dataset = _example(CLASSIFICATION)
    X = dataset.X[["a", "b"]].fillna(0).to_numpy()
    y = dataset.encoded_target()
    scaled = X * np.array([1.0, 1e-4])
    a = RidgeClassifier(alpha=50.0).fit(X, y).decision_function(X)
    b = RidgeClassifier(alpha=50.0).fit(scaled, y).decision_function(scaled)
    assert not np.allclose(a, b, atol=1e-6)


# ------------------------------------------------------------------ parameters


def test_unusable_parameters_name_themselves():
    ctx = BuildContext(task=CLASSIFICATION, metric="accuracy", seed=1)
    with pytest.raises(ParameterError) as err:
        ALGORITHMS.get("lda").check(ctx, {"solver": "svd"})  # shrinkage 'auto' needs lsqr/eigen
    assert err.value.name == "solver" and "shrinkage" in str(err.value)
    with pytest.raises(ParameterError) as err:
        ALGORITHMS.get("ridge_classifier").check(ctx, {"alpha": -1.0})
    assert err.value.name == "alpha"
    with pytest.raises(ParameterError) as err:
        ALGORITHMS.get("xgboost").check(ctx, {"early_stopping_rounds": -5})
    assert err.value.name == "early_stopping_rounds"
    with pytest.raises(ParameterError) as err:
        ALGORITHMS.get("xgboost").check(ctx, {"validation_fraction": 1.0})
    assert err.value.name == "validation_fraction"
    numbers = BuildContext(task="regression", metric="mae", seed=1)
    with pytest.raises(ParameterError) as err:
        ALGORITHMS.get("elastic_net").check(numbers, {"l1_ratio": 2.0})
    assert err.value.name == "l1_ratio"


def test_lasso_chooses_its_penalty_by_cv_unless_given_one():
    dataset = _example("regression")
    rows = np.arange(300)
    chosen, _, _ = _fit_predict(dataset, "lasso", "raw", rows, rows)
    model = chosen.named_steps["model"].named_steps["model"]
    assert type(model).__name__ == "ElasticNetCV" and model.l1_ratio == 1.0 and model.alpha_ > 0
    fixed, _, _ = _fit_predict(dataset, "lasso", "raw", rows, rows, params={"alpha": 10.0})
    model = fixed.named_steps["model"].named_steps["model"]
    assert type(model).__name__ == "ElasticNet" and model.alpha == 10.0
    assert np.count_nonzero(model.coef_) < np.count_nonzero(chosen.named_steps["model"]
                                                            .named_steps["model"].coef_)


# ------------------------------------------------------------------ the safe model file


def _stopper(pipe):
    """The early-stopping wrapper in a fitted xgboost pipeline (inside the label-safe one for
    classes)."""
    model = pipe.named_steps["model"]
    return model if isinstance(model, _EarlyStopping) else model.estimator_

ROUND_TRIP = [(CLASSIFICATION, a) for a in ("lda", "ridge_classifier", "adaboost",
                                             "hist_gradient_boosting", "xgboost", "naive_bayes")]
ROUND_TRIP += [("regression", a) for a in ("lasso", "elastic_net", "adaboost",
                                           "hist_gradient_boosting", "xgboost")]


@pytest.mark.parametrize("task, algo", ROUND_TRIP, ids=[f"{t}/{a}" for t, a in ROUND_TRIP])
def test_fitted_model_survives_the_safe_model_file(tmp_path, task, algo):
    from dlrun.modelfile import load_model, save_model

    dataset = _example(task)
    train, test = np.arange(200), np.arange(200, 300)
    pipe, before, _ = _fit_predict(dataset, algo, "standardize", train, test)
    save_model(tmp_path, pipe, {"kind": "tabular", "task": task})
    loaded = load_model(tmp_path)["pipeline"]
    np.testing.assert_allclose(loaded.predict(take_rows(dataset.X, test)), before, rtol=1e-6)
    if algo == "xgboost":  # the rounds chosen on the training fold travel with the model
        stopper, original = _stopper(loaded), _stopper(pipe)
        assert stopper.stopped_ and stopper.best_rounds_ == original.best_rounds_


# ------------------------------------------------------------------ XGBoost's early stopping


def test_validation_split_is_stratified_seeded_and_takes_the_latest_rows_of_a_series():
    y = np.array([0] * 80 + [1] * 20 + [2] * 1)
    fit, val = validation_split(y, 0.2, 7, stratify=True)
    assert len(np.intersect1d(fit, val)) == 0 and len(fit) + len(val) == len(y)
    assert np.bincount(y[val], minlength=3).tolist() == [16, 4, 0]  # the single row stays to fit
    again = validation_split(y, 0.2, 7, stratify=True)
    assert np.array_equal(val, again[1])
    assert not np.array_equal(val, validation_split(y, 0.2, 8, stratify=True)[1])
    fit, val = validation_split(np.arange(50.0), 0.2, 7, stratify=False, time_ordered=True)
    assert val.tolist() == list(range(40, 50)) and fit.tolist() == list(range(40))


def _xgb_context(dataset, seed=1):
    return build_context(dataset, "accuracy" if dataset.classification else "mae", seed=seed)


@pytest.mark.parametrize("task", [CLASSIFICATION, "regression"])
def test_xgboost_stops_early_then_refits_on_the_whole_training_fold(task):
    dataset = _example(task)
    rows = np.arange(300)
    params = {"n_estimators": 1000, "learning_rate": 0.3, "early_stopping_rounds": 20}
    pipe, _, _ = _fit_predict(dataset, "xgboost", "raw", rows, rows, params=params)
    stopper = _stopper(pipe)
    if dataset.classification:
        assert type(stopper).__name__ == "EarlyStoppingClassifier"
    assert stopper.stopped_ and 1 <= stopper.best_rounds_ < 1000
    booster = stopper.estimator_.get_booster()
    assert booster.num_boosted_rounds() == stopper.best_rounds_  # the refit grew that many
    assert stopper.estimator_.n_features_in_ == pipe[:-1].transform(dataset.X).shape[1]


def test_xgboost_without_early_stopping_grows_every_round():
    dataset = _example(CLASSIFICATION)
    rows = np.arange(300)
    params = {"n_estimators": 37, "early_stopping_rounds": 0}
    pipe, _, _ = _fit_predict(dataset, "xgboost", "raw", rows, rows, params=params)
    stopper = _stopper(pipe)
    assert not stopper.stopped_ and stopper.estimator_.get_booster().num_boosted_rounds() == 37


def test_xgboost_same_seed_same_model_other_seed_other_split():
    dataset = _example(CLASSIFICATION)
    train, test = np.arange(240), np.arange(240, 300)
    params = {"n_estimators": 400, "learning_rate": 0.3, "early_stopping_rounds": 20}
    _, a, pa = _fit_predict(dataset, "xgboost", "raw", train, test, seed=3, params=params)
    _, b, pb = _fit_predict(dataset, "xgboost", "raw", train, test, seed=3, params=params)
    assert np.array_equal(a, b) and np.array_equal(pa, pb)
    _, _, pc = _fit_predict(dataset, "xgboost", "raw", train, test, seed=4, params=params)
    assert not np.array_equal(pa, pc)


def test_xgboost_chooses_its_rounds_without_the_test_fold(monkeypatch):
    """Through the real job path: the rounds chosen for a fold are the same whatever its test
    rows hold (here replaced by noise with shuffled labels), while the test scores change."""
    chosen = []
    original = _EarlyStopping.fit

    def spy(self, X, y):
        result = original(self, X, y)
        chosen.append((len(y), self.stopped_, self.best_rounds_))
        return result

    monkeypatch.setattr(_EarlyStopping, "fit", spy)
    clean = _example(CLASSIFICATION)
    train, test = np.arange(220), np.arange(220, 300)
    rng = np.random.default_rng(5)
    X = clean.X.copy()
    X.loc[test, "a"] = rng.normal(scale=50, size=len(test))
    X.loc[test, "b"] = rng.normal(scale=5000, size=len(test))
    y = clean.y.copy()
    y.iloc[test] = rng.permutation(y.iloc[test].to_numpy())
    noisy = Dataset(X, y, clean.task, clean.kind, numeric=clean.numeric,
                    categorical=clean.categorical)
    candidate = Candidate("xgboost", "raw", {"n_estimators": 500, "learning_rate": 0.3,
                                             "early_stopping_rounds": 20})
    scores = []
    for dataset in (clean, noisy):
        ctx = _xgb_context(dataset)
        (result,) = runner_for("tabular").run([Job("k", candidate, Fold("f", train, test), train)],
                                              job_data(dataset, ctx))
        assert "error" not in result, result.get("traceback")
        scores.append(result["metrics"]["accuracy"])
    assert len(chosen) == 2 and chosen[0] == chosen[1]
    assert chosen[0][0] == len(train) and chosen[0][1]  # fitted on the training rows, stopped
    assert scores[0] != scores[1]


def test_ridge_classifier_is_calibrated_only_when_the_metric_needs_probabilities():
    dataset = _example(CLASSIFICATION)
    rows = np.arange(300)
    for metric, calibrated in (("accuracy", False), ("log_loss", True)):
        ctx = build_context(dataset, metric, seed=1)
        pipe = build_estimator(Candidate("ridge_classifier", "raw"), ctx, dataset.roles, "tabular")
        pipe.fit(take_rows(dataset.X, rows), dataset.encoded_target())
        assert hasattr(pipe.named_steps["model"], "predict_proba") == calibrated, metric
        if calibrated:
            proba = pipe.predict_proba(take_rows(dataset.X, rows))
            assert proba.shape == (300, 3) and np.allclose(proba.sum(axis=1), 1)


def test_hist_gradient_boosting_keeps_to_the_thread_budget(monkeypatch):
    """It has no n_jobs and takes every OpenMP thread: on small folds dlrun gives it one."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_info

    seen = []
    original = HistGradientBoostingClassifier.fit

    def spy(self, X, y, **kwargs):
        seen.append([p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp"])
        return original(self, X, y, **kwargs)

    monkeypatch.setattr(HistGradientBoostingClassifier, "fit", spy)
    dataset = _example(CLASSIFICATION)
    rows = np.arange(300)
    pipe, _, proba = _fit_predict(dataset, "hist_gradient_boosting", "raw", rows, rows)
    assert seen and all(threads == [1] for threads in seen if threads)
    assert proba.shape == (300, 3) and list(pipe.named_steps["model"].classes_) == [0, 1, 2]
