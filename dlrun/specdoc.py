"""``project.yaml`` as a plain document, without pydantic.

:mod:`dlrun.spec` is the schema and the only validator; importing pydantic and
building its models costs about 0.25 s, half the start-up budget of
`dlrun new`. So `dlrun new`, whose drafts are made by dlrun itself from the
data (not typed by a user), writes its spec through :func:`spec_document`:
the keys in the schema's order, the schema's defaults filled in, unset
optional keys left out. That is exactly what
``ProjectSpec.model_dump(mode="json", exclude_none=True)`` gives, and
tests/test_specdoc.py holds the two to each other (field names, order,
defaults) and checks that every light draft validates.

Only the common models are laid out here (project, data, evaluation,
reference); drafts with a kind's own block go through pydantic (see
:func:`dlrun.scaffold.spec_document_of`).
"""

from __future__ import annotations

from typing import Any

from dlrun.protocol import DEFAULT_FOLDS, DEFAULT_REPEATS

SPEC_FILE = "project.yaml"
#: Strings read as "missing" when a spec does not say.
DEFAULT_MISSING = ("?", "NA", "")


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


class _DefaultKind:
    def __repr__(self) -> str:
        return "DEFAULT_KIND"


#: ``kind`` when a draft leaves it out: the installed default kind (dlrun.plugins).
DEFAULT_KIND: Any = _DefaultKind()

DATA = {
    "source": REQUIRED,
    "format": "auto",
    "header": True,
    "delimiter": ",",
    "decimal": ".",
    "missing": list(DEFAULT_MISSING),
    "columns": None,
    "target": REQUIRED,
    "categorical": [],
    "drop": [],
    "sample": None,
}
EVALUATION = {"folds": DEFAULT_FOLDS, "repeats": DEFAULT_REPEATS, "seed": 1, "max_rows": None,
              "fit_timeout": None}
REFERENCE = {
    "dataset": REQUIRED,
    "metric": REQUIRED,
    "protocol": "",
    "naive": None,
    "good": None,
    "good_model": "",
    "source": "",
}
#: Keys of ProjectSpec in order, with their defaults (None: optional, left out
#: unless given); the keys of :data:`MODELS` hold nested blocks.
PROJECT = {
    "name": REQUIRED,
    "description": "",
    "kind": DEFAULT_KIND,
    "task": REQUIRED,
    "data": REQUIRED,
    "metric": REQUIRED,
    "views": None,
    "algorithms": None,
    "params": {},
    "evaluation": {},  # every key of the block has a default
    "tuning": None,
    "learning_curve": None,
    "reference": None,
}
MODELS = {"data": DATA, "evaluation": EVALUATION, "reference": REFERENCE}
#: Keys that pydantic holds as floats (an int given there is written as a float).
FLOATS = {("reference", "naive"), ("reference", "good"), ("evaluation", "fit_timeout")}


def kind_blocks() -> set[str]:
    """The keys of the installed kinds' own blocks (``Kind.block``)."""
    from dlrun.catalogue import KINDS
    from dlrun.plugins import load_plugins

    load_plugins()
    return {kind.block for kind in KINDS.values() if getattr(kind, "block", None)}


def needs_pydantic(spec: dict[str, Any]) -> bool:
    """Whether a draft has a block only :mod:`dlrun.spec` can lay out (a kind's own)."""
    blocks = kind_blocks()
    return any(spec.get(key) is not None for key in blocks)


def spec_document(spec: dict[str, Any]) -> dict[str, Any]:
    """The draft as ``project.yaml`` holds it (see the module docstring).

    Raises KeyError for a missing required key or an unknown one: drafts come
    from dlrun's own code, so either is a bug there, not bad input.
    """
    if needs_pydantic(spec):
        extra = sorted(k for k in spec if k not in PROJECT)
        raise KeyError(f"a draft with {', '.join(extra)} needs dlrun.spec")
    document = _lay_out(spec, PROJECT, "")
    for key, layout in MODELS.items():
        if key in document:
            document[key] = _lay_out(document[key], layout, key)
    return document


def _lay_out(values: dict[str, Any], layout: dict[str, Any], block: str) -> dict[str, Any]:
    unknown = set(values) - set(layout)
    if unknown:
        raise KeyError(f"unknown key(s) {sorted(unknown)} in {block or 'the top level'}")
    out: dict[str, Any] = {}
    for key, default in layout.items():
        value = values.get(key, default)
        if value is DEFAULT_KIND:
            from dlrun.plugins import default_kind

            value = default_kind()
        if value is REQUIRED:
            raise KeyError(f"required key {block + '.' if block else ''}{key} is missing")
        if value is None:
            continue
        if (block, key) in FLOATS:
            value = float(value)
        out[key] = _copy(value)
    return out


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(v) for v in value]
    return value


def dump_document(document: dict[str, Any]) -> str:
    """YAML text of a spec document, keys in their order."""
    import yaml

    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
