"""One small registry type for every pluggable kind: algorithms, views, stages, metrics.

Entries are registered with a decorator (``@ALGORITHMS.register("xgboost", ...)``)
or, for third-party packages, through an entry-point group such as
``dlrun.algorithms`` whose objects are loaded the first time the registry is
read. Registering is cheap: heavy libraries are imported inside the registered
builders, never at registration time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class RegistryError(KeyError):
    pass


class Registry(Generic[T]):
    def __init__(self, kind: str, entry_point_group: str | None = None):
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._entries: dict[str, T] = {}
        self._entry_points_loaded = entry_point_group is None

    def register(self, name: str, obj: T | None = None) -> Any:
        """Register ``obj`` under ``name``; without ``obj`` works as a decorator."""

        def _add(value: T) -> T:
            self._entries[name] = value
            return value

        if obj is not None:
            return _add(obj)
        return _add

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=self.entry_point_group):
            if ep.name in self._entries:
                continue  # our own entries win; the group may list them too
            loaded = ep.load()
            # A module registers its entries as an import side effect; an object
            # (class or instance) is registered under the entry point's name.
            if not hasattr(loaded, "__file__"):
                self._entries.setdefault(ep.name, loaded)

    def get(self, name: str) -> T:
        if name not in self._entries:
            self._load_entry_points()
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self.names())) or "none"
            raise RegistryError(f"unknown {self.kind} '{name}' (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        if name not in self._entries:
            self._load_entry_points()
        return name in self._entries

    def names(self) -> list[str]:
        self._load_entry_points()
        return list(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        self._load_entry_points()
        return iter(list(self._entries.items()))

    def filter(self, predicate: Callable[[T], bool]) -> list[str]:
        return [name for name, value in self.items() if predicate(value)]
