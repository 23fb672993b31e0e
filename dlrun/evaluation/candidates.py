"""A candidate is an (algorithm, view, parameters) triple; it becomes a Pipeline."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from dlrun.catalogue import ALGORITHMS, VIEWS, BuildContext


@dataclass(frozen=True)
class Candidate:
    algorithm: str  # catalogue name
    view: str
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    label: str = ""  # leaderboard name: 'xgboost', 'xgboost+tuned', ...

    @property
    def name(self) -> str:
        return self.label or self.algorithm

    def identity(self) -> dict[str, Any]:
        algo = ALGORITHMS.get(self.algorithm)
        info = VIEWS.get(self.view)
        return {
            "algorithm": self.algorithm,
            "algorithm_version": algo.version,
            "params": {**algo.defaults, **self.params},
            "view": self.view,
            "view_version": info.version,
        }


def build_pipeline(candidate: Candidate, context: BuildContext, numeric, categorical):
    from sklearn.pipeline import Pipeline

    if context.task == "forecasting":  # the view frames the series inside a forecaster
        from dlrun.timeseries.forecasters import forecasting_pipeline

        return forecasting_pipeline(candidate, context)
    view = VIEWS.get(candidate.view).build(numeric, categorical)
    # the builder may adapt to the view that feeds it (e.g. the CNN augments on 'augment')
    context = replace(context, meta={**context.meta, "view": candidate.view})
    model = ALGORITHMS.get(candidate.algorithm).make(context, candidate.params)
    return Pipeline([("view", view), ("model", model)])


def job_key(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]
