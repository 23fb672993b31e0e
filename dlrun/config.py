"""Search spaces read from the package data (``configs/search_spaces.yaml``)."""

from __future__ import annotations

from functools import cache
from typing import Any

from dlrun.paths import configs_dir

SEARCH_SPACES = "search_spaces.yaml"


@cache
def _load(name: str) -> dict[str, Any]:
    import yaml

    path = configs_dir() / name
    if not path.is_file():
        return {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: far faster
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}


def search_space(name: str, input_type: str | None = None) -> dict[str, Any]:
    """The search space of algorithm ``name`` (for ``input_type`` when it keys its space
    by the input it reads); parameter -> ``{type, low, high, log}`` or ``{type, choices}``."""
    space = dict(_load(SEARCH_SPACES).get(name) or {})
    if space and all(isinstance(v, dict) and "type" not in v for v in space.values()):
        return dict(space.get(input_type or "", {}))  # keyed by input type
    return space
