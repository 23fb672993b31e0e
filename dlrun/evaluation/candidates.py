"""A candidate is an (algorithm, view, parameters) triple; the kind of data makes it an estimator."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dlrun.catalogue import ALGORITHMS, KINDS, VIEWS, BuildContext, pair_context


@dataclass(frozen=True)
class Candidate:
    algorithm: str  # catalogue name
    view: str
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    label: str = ""  # leaderboard name: 'xgboost', 'xgboost+tuned', ...
    #: other views on which this algorithm fits the same model (catalogue.equivalent_views)
    also: tuple[str, ...] = field(default=(), hash=False, compare=False)

    @property
    def name(self) -> str:
        return self.label or self.algorithm

    def identity(self, context: BuildContext) -> dict[str, Any]:
        """What the candidate's results depend on (its every parameter, defaults included)."""
        algo = ALGORITHMS.get(self.algorithm)
        defaults = algo.defaults(pair_context(context, self.algorithm, self.view))
        return {
            "algorithm": self.algorithm,
            "algorithm_version": algo.version,
            "params": {**defaults, **self.params},
            "view": self.view,
            "view_version": VIEWS.get(self.view).version,
        }


def build_estimator(candidate: Candidate, context: BuildContext, roles: Mapping[str, list[str]],
                    kind: str):
    """The unfitted estimator of ``candidate``, as the kind of data assembles it."""
    return KINDS.get(kind).estimator(candidate, pair_context(context, candidate.algorithm,
                                                             candidate.view), roles)


def job_key(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:32]
