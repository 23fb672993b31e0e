"""One job = fit one candidate on one fold's training rows, predict and score its test rows.

There is one job path: :func:`run_group` runs a group of jobs in this
process (local, a worker of a process pool, a Dask worker alike) with the fold
runner of the data's kind (:meth:`dlrun.kind.Kind.folds`):

* :class:`PipelineFolds` -- exchangeable rows: the candidate's view is fitted
  once per fold and kept for every algorithm that follows it (the jobs of one
  view and fold travel together), the model fits the transformed training
  rows and predicts the test rows. A model that offers the trainer interface
  ``fit_many(Xs, ys)`` (the Keras MLP) trains several folds of one candidate
  together in one call.
* a kind may bring its own runner (walk-forward forecasting does).

Every finished job returns its scores, its fit time and its out-of-fold
predictions (:class:`Prediction`: the test rows, the predictions, the class
probabilities); the caller stores them together. A job never raises: an error
comes back as ``{"error": ...}`` and the other jobs go on.
"""

from __future__ import annotations

import hashlib
import io
import time
import traceback
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from dlrun.catalogue import KINDS, BuildContext
from dlrun.evaluation.candidates import Candidate, build_estimator
from dlrun.evaluation.metrics import score_all
from dlrun.evaluation.resampling import Fold


@dataclass
class Job:
    key: str
    candidate: Candidate
    fold: Fold
    train: np.ndarray  # the fold's training rows, or a subsample of them

    @property
    def fold_id(self) -> str:
        return self.fold.id

    @property
    def test(self) -> np.ndarray:
        return self.fold.test


@dataclass
class JobData:
    """What every job of one evaluation shares (sent once per worker where possible)."""

    X: Any  # DataFrame, image array, ...
    y: np.ndarray
    roles: Mapping[str, list[str]]
    context: BuildContext
    kind: str
    data_id: str = ""  # content fingerprint: keys the fitted-view cache


@dataclass
class Prediction:
    """Out-of-fold predictions of one job: test rows, predictions (class codes or numbers)
    and, for classifiers that give them, class probabilities (rows x classes)."""

    test: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None = None

    def to_bytes(self) -> bytes:
        arrays = {"test": np.asarray(self.test, dtype=np.int64), "y_pred": np.asarray(self.y_pred)}
        if self.proba is not None:
            arrays["proba"] = np.asarray(self.proba, dtype=np.float64)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Prediction:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            proba = archive["proba"] if "proba" in archive.files else None
            return cls(archive["test"], archive["y_pred"], proba)


def take_rows(X, index: np.ndarray):
    """Rows of a DataFrame or of an array (pictures: samples along axis 0)."""
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


def aligned_scores(model, X, n_classes: int) -> np.ndarray | None:
    """Class probabilities (or decision values) with columns for all K classes."""
    scores = None
    try:
        if hasattr(model, "predict_proba"):
            scores = np.asarray(model.predict_proba(X), dtype=float)
    except AttributeError:  # e.g. SVC(probability=False)
        scores = None
    if scores is None and hasattr(model, "decision_function"):
        scores = np.asarray(model.decision_function(X), dtype=float)
        if scores.ndim == 1:
            scores = np.column_stack([-scores, scores])
    if scores is None:
        return None
    classes = np.asarray(getattr(model, "classes_", np.arange(scores.shape[1])), dtype=int)
    if scores.shape[1] == n_classes and np.array_equal(classes, np.arange(n_classes)):
        return scores
    full = np.zeros((scores.shape[0], max(n_classes, 2)))
    full[:, classes[: scores.shape[1]]] = scores
    return full


def predict_rows(model, X, context: BuildContext, test: np.ndarray) -> Prediction:
    """A fitted model's predictions (and class scores) for already-prepared test inputs."""
    y_pred = np.asarray(model.predict(X))
    proba = aligned_scores(model, X, context.n_classes) if context.classification else None
    if context.classification:
        y_pred = y_pred.astype(np.int64)
    return Prediction(np.asarray(test), y_pred, proba)


def finished(job: Job, data: JobData, prediction: Prediction, fit_seconds: float,
             model: Any = None) -> dict[str, Any]:
    """The result of a finished job: scores, fit time, predictions, and what the model
    recorded about its training (a net's curves)."""
    ctx = data.context
    metrics = score_all(ctx.task, data.y[prediction.test], prediction.y_pred, prediction.proba,
                        ctx.n_classes, data.kind)
    extra = {}
    curves = getattr(model, "curves_", None)
    if isinstance(curves, dict):
        extra["curves"] = curves
    return {"metrics": metrics, "fit_seconds": float(fit_seconds), "predictions": prediction,
            "extra": extra}


def failure(err: BaseException) -> dict[str, Any]:
    return {"error": f"{type(err).__name__}: {err}".strip()[:500],
            "traceback": traceback.format_exc(limit=6)}


# --------------------------------------------------------------------------- the fitted-view cache

# Fitted views per (data, view, fold), kept in each process: the same view on the
# same training rows is the same transform whichever algorithm follows it, so it
# is fitted once per fold instead of once per algorithm. Least recently used
# entries go first once the transformed arrays pass VIEW_CACHE_MAX_BYTES in all
# (the job groups of runner.group_jobs keep the jobs of one view and fold together,
# so a small budget is enough for large data).
_VIEW_CACHE: OrderedDict = OrderedDict()  # key -> (entry, bytes)
VIEW_CACHE_ENTRIES = 256
VIEW_CACHE_MAX_BYTES = 384 * 2**20
VIEW_STATS = {"fitted": 0, "reused": 0}  # this process's view fits and cache hits


def fitted_view(job: Job, data: JobData, view):
    """(fitted view, transformed train rows, transformed test rows, seconds it took to fit).

    ``view`` is the unfitted transformer from the candidate's pipeline; the
    seconds are those of the original fit, so a cached fold still reports the
    full cost of its pipeline."""
    key = None
    if data.data_id:
        from dlrun.catalogue import VIEWS

        h = hashlib.sha256(np.ascontiguousarray(job.train, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(job.test, dtype=np.int64).tobytes())
        key = (data.data_id, job.candidate.view, VIEWS.get(job.candidate.view).version, h.hexdigest())
        if key in _VIEW_CACHE:
            _VIEW_CACHE.move_to_end(key)
            VIEW_STATS["reused"] += 1
            return _VIEW_CACHE[key][0]
    start = time.perf_counter()
    x_train = view.fit_transform(take_rows(data.X, job.train), data.y[job.train])
    seconds = time.perf_counter() - start
    VIEW_STATS["fitted"] += 1
    x_test = view.transform(take_rows(data.X, job.test))
    entry = (view, x_train, x_test, seconds)
    if key is not None:
        _cache_put(key, entry, getattr(x_train, "nbytes", 0) + getattr(x_test, "nbytes", 0))
    return entry


def _cache_put(key, entry, size: int) -> None:
    if size > VIEW_CACHE_MAX_BYTES:
        return
    _VIEW_CACHE[key] = (entry, size)
    total = sum(n for _, n in _VIEW_CACHE.values())
    while len(_VIEW_CACHE) > VIEW_CACHE_ENTRIES or total > VIEW_CACHE_MAX_BYTES:
        _, (_, n) = _VIEW_CACHE.popitem(last=False)
        total -= n


# --------------------------------------------------------------------------- fold runners


def job_context(job: Job, data: JobData) -> BuildContext:
    """The build context of one job: the fold's seed offset applied (repeated nets vary)."""
    offset = int(getattr(job.fold, "seed_offset", 0) or 0)
    return replace(data.context, seed=data.context.seed + offset) if offset else data.context


class FoldRunner:
    """Fits and predicts the jobs of a group; one per kind of data (``Kind.folds``)."""

    def run(self, jobs: list[Job], data: JobData) -> list[dict[str, Any]]:  # pragma: no cover
        raise NotImplementedError

    def stackable(self, candidate: Candidate, data: JobData) -> bool:
        """Whether folds of this candidate train together (the caller groups them)."""
        return False


def start_backend(model) -> None:
    """Start the model's framework (a net's TensorFlow) before its fit is timed: a fit's
    seconds are its own work, not the process's start-up (paid once, whatever fits)."""
    start = getattr(model, "start_backend", None)
    if callable(start):
        start()


@dataclass
class PipelineFolds(FoldRunner):
    """``Pipeline([view, model])`` per job: the view fitted once per fold (cached), the
    model on its output; several folds of a ``fit_many`` model trained in one call."""

    _verdicts: dict = field(default_factory=dict)

    def stackable(self, candidate: Candidate, data: JobData) -> bool:
        key = (candidate.algorithm, candidate.view, repr(sorted(candidate.params.items())))
        if key not in self._verdicts:
            try:
                model = build_estimator(candidate, data.context, data.roles, data.kind)
                model = model.named_steps["model"] if hasattr(model, "named_steps") else model
                self._verdicts[key] = hasattr(model, "fit_many")
            except Exception:  # noqa: BLE001 - the per-job path reports the error
                self._verdicts[key] = False
        return self._verdicts[key]

    def run(self, jobs: list[Job], data: JobData) -> list[dict[str, Any]]:
        if trains_together(jobs, self, data):
            return self._run_stacked(jobs, data)
        return [self._run_one(job, data) for job in jobs]

    def _parts(self, job: Job, data: JobData):
        estimator = build_estimator(job.candidate, job_context(job, data), data.roles, data.kind)
        steps = getattr(estimator, "named_steps", {})
        if "view" not in steps or steps["view"] == "passthrough":
            return estimator, None
        return steps["model"], steps["view"]

    def _run_one(self, job: Job, data: JobData) -> dict[str, Any]:
        ctx = data.context
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model, view = self._parts(job, data)
                if view is None:  # not a view + model pair: fit as a whole
                    x_train, x_test, view_seconds = take_rows(data.X, job.train), take_rows(data.X, job.test), 0.0
                else:
                    _, x_train, x_test, view_seconds = fitted_view(job, data, view)
                start_backend(model)
                start = time.perf_counter()
                model.fit(x_train, data.y[job.train])
                seconds = view_seconds + time.perf_counter() - start
                prediction = predict_rows(model, x_test, ctx, job.test)
            return finished(job, data, prediction, seconds, model)
        except Exception as err:  # a failing algorithm must not sink the others
            return failure(err)

    def _run_stacked(self, jobs: list[Job], data: JobData) -> list[dict[str, Any]]:
        ctx = data.context
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tests, xs, ys, view_seconds = [], [], [], []
                for job in jobs:
                    model, view = self._parts(job, data)
                    _, x_train, x_test, seconds = fitted_view(job, data, view)
                    xs.append(x_train)
                    tests.append(x_test)
                    ys.append(data.y[job.train])
                    view_seconds.append(seconds)
                start_backend(model)
                start = time.perf_counter()
                models = model.fit_many(xs, ys)
                shared = (time.perf_counter() - start) / len(jobs)
                return [finished(job, data, predict_rows(fitted, x_test, ctx, job.test), seconds + shared,
                                 fitted)
                        for job, x_test, fitted, seconds in zip(jobs, tests, models, view_seconds, strict=True)]
        except Exception as err:  # noqa: BLE001 - reported per job, others go on
            return [failure(err) for _ in jobs]


def model_family(candidate: Candidate) -> tuple:
    """Candidates of one family build the same model whatever their view (same name,
    algorithm, parameters and input type): their folds may train together (``fit_many``),
    each fold on its own view's output."""
    from dlrun.catalogue import compatible

    return (candidate.name, candidate.algorithm, repr(sorted(candidate.params.items())),
            compatible(candidate.algorithm, candidate.view))


def trains_together(jobs: list[Job], runner: FoldRunner, data: JobData) -> bool:
    """Whether a group's jobs are folds of one model family that trains folds together."""
    if len(jobs) < 2:
        return False
    family = model_family(jobs[0].candidate)
    if any(model_family(j.candidate) != family for j in jobs):
        return False
    return all(runner.stackable(c, data) for c in {j.candidate: None for j in jobs})


def runner_for(kind: str) -> FoldRunner:
    return _RUNNERS.setdefault(kind, KINDS.get(kind).folds())


_RUNNERS: dict[str, FoldRunner] = {}


def run_group(jobs: list[Job], data: JobData) -> list[dict[str, Any]]:
    """Run a group of jobs (see ``runner.group_jobs``) in this process."""
    from dlrun.plugins import load_plugins

    load_plugins()  # a fresh worker process fills its registries here
    return runner_for(data.kind).run(jobs, data)


def iter_group(jobs: list[Job], data: JobData) -> Iterator[tuple[list[Job], list[dict[str, Any]]]]:
    """Run a group in this process, yielding results as soon as they exist: job by
    job, or all at once for folds that train together."""
    from dlrun.plugins import load_plugins

    load_plugins()
    runner = runner_for(data.kind)
    if trains_together(jobs, runner, data):
        yield jobs, runner.run(jobs, data)
        return
    for job in jobs:
        yield [job], runner.run([job], data)
