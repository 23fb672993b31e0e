"""dlrun.specdoc lays out project.yaml exactly as the pydantic schema dumps it.

`dlrun new` writes its spec without pydantic (0.25 s of its start-up); these
tests hold that light layout to dlrun.spec, so the schema stays the one truth:
a field added, moved or given another default there fails here.
"""

from __future__ import annotations

import typing

import pytest

from dlrun import specdoc
from dlrun.data.standard import catalogue
from dlrun.plugins import default_kind
from dlrun.spec import (
    DataSpec,
    EvaluationSpec,
    ProjectSpecBase,
    ReferenceSpec,
    parse_spec,
    spec_as_document,
)

LAYOUTS = [
    (specdoc.PROJECT, ProjectSpecBase, ""),
    (specdoc.DATA, DataSpec, "data"),
    (specdoc.EVALUATION, EvaluationSpec, "evaluation"),
    (specdoc.REFERENCE, ReferenceSpec, "reference"),
]


def _holds_float(annotation) -> bool:
    return annotation is float or float in typing.get_args(annotation)


@pytest.mark.parametrize(("layout", "model", "block"), LAYOUTS, ids=lambda x: getattr(x, "__name__", None))
def test_layout_has_the_models_fields_in_order_with_their_defaults(layout, model, block):
    assert list(layout) == list(model.model_fields)
    for name, field in model.model_fields.items():
        light = layout[name]
        if field.is_required():
            assert light is specdoc.REQUIRED, name
            continue
        assert light is not specdoc.REQUIRED, name
        default = field.get_default(call_default_factory=True)
        if light is specdoc.DEFAULT_KIND:  # both resolve to the installed default kind
            assert default == default_kind(), name
            continue
        if name in specdoc.MODELS and block == "" and default is not None:
            # a block whose keys all have defaults: filled from its own table
            # (test_document_equals_the_schemas_dump compares the result)
            assert light == {}, name
        else:
            assert light == default, name
        assert ((block, name) in specdoc.FLOATS) == _holds_float(field.annotation), name


MINIMAL = {"name": "p", "task": "regression", "data": {"source": "d.csv", "target": "y"},
           "metric": "mae"}
FULL = {
    "name": "p.1",
    "description": "All keys a tabular draft can set.",
    "kind": "tabular",
    "task": "classification",
    "data": {"source": "../d.txt", "format": "csv", "header": False, "delimiter": " ",
             "missing": ("?",), "columns": ["a", "b", "y"], "target": "y",
             "categorical": ["a"], "drop": ["b"]},
    "metric": "balanced_accuracy",
    "views": ["raw", "standardize"],
    "algorithms": ["baseline", "linear"],
    "params": {"linear": {"C": 0.5}},
    "evaluation": {"folds": 5, "repeats": 1, "seed": 7, "max_rows": 5000},
    "reference": {"dataset": "D", "metric": "accuracy", "naive": 1, "good": 0.9, "source": "s"},
}


@pytest.mark.parametrize("draft", [MINIMAL, FULL], ids=["minimal", "full"])
def test_document_equals_the_schemas_dump(draft):
    light = specdoc.spec_document(draft)
    assert light == spec_as_document(parse_spec(draft))
    assert list(light) == list(spec_as_document(parse_spec(draft)))
    assert isinstance(light.get("reference", {}).get("naive", 0.0), float)
    assert specdoc.dump_document(light) == specdoc.dump_document(spec_as_document(parse_spec(draft)))


@pytest.mark.parametrize("key", sorted(k for k, e in catalogue().items() if e.reference))
def test_every_catalogued_reference_lays_out_like_the_schema(key):
    entry = catalogue()[key]
    draft = dict(MINIMAL, reference=entry.reference_dict())  # any project may carry it
    assert specdoc.spec_document(draft) == spec_as_document(parse_spec(draft))
    assert entry.reference_spec() == ReferenceSpec(**entry.reference_dict())


def test_document_refuses_what_it_cannot_lay_out():
    with pytest.raises(KeyError, match="required key data.target"):
        specdoc.spec_document(dict(MINIMAL, data={"source": "d.csv"}))
    with pytest.raises(KeyError, match="unknown key"):
        specdoc.spec_document(dict(MINIMAL, evaluaton={"folds": 3}))
    with pytest.raises(KeyError, match="needs dlrun.spec"):  # a kind's own block
        specdoc.spec_document(dict(MINIMAL, series={"horizon": 2}))
    # the caller's draft is never changed
    draft = {**FULL, "data": dict(FULL["data"])}
    specdoc.spec_document(draft)
    assert draft["data"]["missing"] == ("?",)
