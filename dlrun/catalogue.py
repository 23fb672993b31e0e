"""The registries of pluggable parts and the built-in entries.

Importing this module registers dlrun's own algorithms, views and metrics; it
imports no heavy library (builders import scikit-learn, XGBoost or Keras only
when they are called). Other packages add entries through the entry-point
groups ``dlrun.algorithms``, ``dlrun.views``, ``dlrun.metrics`` and
``dlrun.stages``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from dlrun.registry import Registry

TABULAR = "tabular"


@dataclass(frozen=True)
class BuildContext:
    """What a builder may know about the problem when it makes an estimator."""

    task: str
    metric: str
    seed: int
    n_rows: int = 0
    n_features: int = 0
    n_classes: int = 0
    data_kind: str = TABULAR
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlgorithmInfo:
    """A catalogued algorithm: ``build(context, params)`` returns an unfitted estimator."""

    name: str
    build: Callable[[BuildContext, dict[str, Any]], Any]
    tasks: frozenset[str]
    data_kinds: frozenset[str] = frozenset({TABULAR})
    family: str = "classical"  # baseline | classical | ensemble | boosting | deep
    description: str = ""
    slow: bool = False  # trains on a subsample of large training folds
    max_train_rows: int | None = None  # that subsample's size (default 20,000 when slow)
    version: int = 1  # bump when the builder changes so cached results are redone

    @cached_property
    def defaults(self) -> dict[str, Any]:
        from dlrun.config import algorithm_defaults

        return algorithm_defaults(self.name)

    def make(self, context: BuildContext, overrides: dict[str, Any] | None = None) -> Any:
        params = {**self.defaults, **(overrides or {})}
        return self.build(context, params)


@dataclass(frozen=True)
class ViewInfo:
    """A data-preparation view: ``build(dataset_columns, params)`` returns a transformer."""

    name: str
    build: Callable[..., Any]
    data_kinds: frozenset[str] = frozenset({TABULAR})
    description: str = ""
    version: int = 1
    # only these algorithms are evaluated on the view (None: every algorithm);
    # e.g. image augmentation, which only the convolutional net applies
    algorithms: frozenset[str] | None = None

    def suits(self, algorithm: str) -> bool:
        return self.algorithms is None or algorithm in self.algorithms


@dataclass(frozen=True)
class Metric:
    """A metric: ``fn(y_true, y_pred, y_score, n_classes) -> float``."""

    name: str
    fn: Callable[..., float]
    greater_is_better: bool
    tasks: frozenset[str]
    needs_score: bool = False  # needs probabilities / decision scores
    needs_proba: bool = False  # needs calibrated probabilities (log loss)
    label: str = ""


ALGORITHMS: Registry[AlgorithmInfo] = Registry("algorithm", "dlrun.algorithms")
VIEWS: Registry[ViewInfo] = Registry("view", "dlrun.views")
METRICS: Registry[Metric] = Registry("metric", "dlrun.metrics")
STAGES: Registry[Any] = Registry("stage", "dlrun.stages")
# Per data kind (``ProjectSpec.kind``): how the data is loaded --
# ``fn(spec, project_dir) -> Dataset`` (tabular: dlrun.data.sources) -- and how
# rows are split for evaluation -- ``fn(spec, dataset, quick) -> Plan`` (tabular:
# repeated k-fold, dlrun.stages.prepare.kfold_planner).
DATA_LOADERS: Registry[Callable[..., Any]] = Registry("data loader", "dlrun.data_loaders")
PLANNERS: Registry[Callable[..., Any]] = Registry("resampling planner", "dlrun.planners")
# Per data kind (``Dataset.kind``): how ``dlrun predict`` reads new inputs for a
# saved model -- ``fn(bundle, path) -> X`` -- and how one evaluation job runs --
# ``fn(job, data) -> result`` (tabular rows use dlrun.evaluation.jobs.run_job).
PREDICTORS: Registry[Callable[..., Any]] = Registry("predictor", "dlrun.predictors")
JOB_RUNNERS: Registry[Callable[..., Any]] = Registry("job runner", "dlrun.job_runners")
# Extra report content: ``fn(context, pipeline, leaderboard) -> (figures, sections)``,
# figures as (title, png_bytes), sections as (title, markdown). Each decides for
# itself whether it applies (e.g. only to image projects) and returns ([], []) if not.
REPORT_SECTIONS: Registry[Callable[..., Any]] = Registry("report section", "dlrun.report_sections")


def algorithm(name: str, *, tasks, data_kinds=(TABULAR,), **info):
    """Decorator registering a builder function as an algorithm."""

    def _register(build):
        ALGORITHMS.register(
            name,
            AlgorithmInfo(name, build, frozenset(tasks), frozenset(data_kinds), **info),
        )
        return build

    return _register


def view(name: str, *, data_kinds=(TABULAR,), **info):
    def _register(build):
        VIEWS.register(name, ViewInfo(name, build, frozenset(data_kinds), **info))
        return build

    return _register


def algorithms_for(task: str, data_kind: str) -> list[str]:
    return [n for n, a in ALGORITHMS.items() if task in a.tasks and data_kind in a.data_kinds]


def views_for(data_kind: str) -> list[str]:
    return [n for n, v in VIEWS.items() if data_kind in v.data_kinds]


# Built-in entries register themselves on import (all light imports).
from dlrun import images as _images  # noqa: E402,F401
from dlrun import timeseries as _timeseries  # noqa: E402,F401
from dlrun.algorithms import builtin as _algorithms  # noqa: E402,F401
from dlrun.evaluation import metrics as _metrics  # noqa: E402,F401
from dlrun.views import tabular as _views  # noqa: E402,F401
