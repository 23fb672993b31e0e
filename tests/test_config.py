"""The package data: search spaces only, each naming parameters its algorithm really has."""

from __future__ import annotations

import pytest

from dlrun.catalogue import ALGORITHMS, CLASSIFICATION, BuildContext
from dlrun.config import SEARCH_SPACES, _load, search_space


def parameters(algorithm: str, input_type: str) -> set[str]:
    info = ALGORITHMS.get(algorithm)
    names: set[str] = set()
    for task in (CLASSIFICATION, "numbers"):
        if info.handles(task):
            names |= set(info.defaults(BuildContext(task=task, metric="", seed=0, input=input_type)))
    return names


@pytest.mark.parametrize("algorithm", sorted(_load(SEARCH_SPACES)))
def test_every_searched_parameter_is_one_the_algorithm_takes(algorithm):
    assert algorithm in ALGORITHMS
    info = ALGORITHMS.get(algorithm)
    for input_type in info.accepts:
        space = search_space(algorithm, input_type)
        unknown = set(space) - parameters(algorithm, input_type)
        # a space shared by several estimators (linear: C for logistic, alpha for ridge) is
        # checked against their union; a space keyed by input type against that input's
        assert not unknown, (algorithm, input_type, unknown)
        for name, dist in space.items():
            assert dist["type"] in ("int", "float", "categorical"), name
            if dist["type"] == "categorical":
                assert dist["choices"]
            else:
                assert dist["low"] < dist["high"]


def test_the_package_data_holds_no_defaults():
    for algorithm, space in _load(SEARCH_SPACES).items():
        assert "params" not in space and "search" not in space, algorithm
