"""Defaults read from ``configs/`` (algorithm parameters and search spaces)."""

from __future__ import annotations

from functools import cache
from typing import Any

from dlrun.paths import configs_dir


@cache
def _load(name: str) -> dict[str, Any]:
    import yaml

    path = configs_dir() / name
    if not path.is_file():
        return {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: far faster
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}


def algorithm_defaults(name: str) -> dict[str, Any]:
    entry = _load("algorithms.yaml").get(name) or {}
    return dict(entry.get("params") or {})


def search_space(name: str) -> dict[str, Any]:
    entry = _load("algorithms.yaml").get(name) or {}
    return dict(entry.get("search") or {})
