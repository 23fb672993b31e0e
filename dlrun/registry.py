"""One small registry type for every pluggable part: kinds, algorithms, views, metrics, stages.

A registry only stores: :mod:`dlrun.plugins` fills every registry once, from
the entry-point groups that dlrun itself and third-party packages declare.
Nothing registers itself as a side effect of being imported, so any module can
be imported alone, in any order. Each entry remembers who provided it, and a
second entry under a taken name is an error that names both providers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class RegistryError(KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    def __init__(self, kind: str, group: str | None = None):
        self.kind = kind
        self.group = group  # the entry-point group that fills it (dlrun.plugins)
        self._entries: dict[str, T] = {}
        self._providers: dict[str, str] = {}

    def register(self, name: str, obj: T, provider: str = "") -> T:
        """Add ``obj`` under ``name``; a name already taken is an error naming both providers."""
        if name in self._entries:
            raise RegistryError(
                f"two {self.kind}s are named '{name}': {self._providers[name] or 'one registered in code'}"
                f" and {provider or 'one registered in code'}; uninstall or rename one of them"
            )
        self._entries[name] = obj
        self._providers[name] = provider
        return obj

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)
        self._providers.pop(name, None)

    def provider(self, name: str) -> str:
        return self._providers.get(name, "")

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none (were the plugins loaded?)"
            raise RegistryError(f"unknown {self.kind} '{name}' (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        return list(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(list(self._entries.items()))

    def values(self) -> list[T]:
        return list(self._entries.values())

    def filter(self, predicate: Callable[[T], bool]) -> list[str]:
        return [name for name, value in self.items() if predicate(value)]

    def reorder(self, key: Callable[[str, T], object]) -> None:
        """Sort the entries (listings and defaults follow this order)."""
        order = sorted(self._entries, key=lambda name: key(name, self._entries[name]))
        self._entries = {name: self._entries[name] for name in order}

    def clear(self) -> None:
        self._entries.clear()
        self._providers.clear()
