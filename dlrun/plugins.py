"""The one plugin loader: fills every registry of :mod:`dlrun.catalogue` from entry points.

dlrun's own kinds, algorithms, views, metrics, stages and report sections are
declared in its ``pyproject.toml`` exactly as a third-party package declares
its own (groups ``dlrun.kinds``, ``dlrun.algorithms``, ``dlrun.views``,
``dlrun.metrics``, ``dlrun.stages``, ``dlrun.report_sections``). Each entry
point names one object -- a :class:`~dlrun.kind.Kind`, an
:class:`~dlrun.catalogue.AlgorithmInfo`, ... -- registered under the entry
point's name. :func:`load_plugins` runs once per process; the API, the CLI
and the worker processes of an evaluation call it, nothing calls it as a side
effect of an import. A name taken twice is an error naming both providers.
Loading imports the modules the entry points name, which stay light (no
NumPy, no scikit-learn): a builder imports what it needs when it is called.
"""

from __future__ import annotations

import threading

from dlrun.catalogue import KINDS, REGISTRIES
from dlrun.errors import DlrunError

_LOCK = threading.Lock()
_LOADED = False


class PluginError(DlrunError):
    """A plugin could not be loaded, or clashes with another one."""


def _entry_points(group: str):
    from importlib.metadata import entry_points

    return list(entry_points(group=group))  # each distribution's in its declared order


def _provider(ep) -> str:
    dist = getattr(ep, "dist", None)
    who = f"{dist.name} {dist.version}" if dist is not None else "an unnamed distribution"
    return f"{who} ({ep.value})"


def load_plugins(*, reload: bool = False) -> None:
    """Fill every registry from its entry-point group (once; ``reload`` starts afresh)."""
    global _LOADED
    with _LOCK:
        if _LOADED and not reload:
            return
        for registry in REGISTRIES:
            registry.clear()
        try:
            for registry in REGISTRIES:
                seen: set[tuple[str, str]] = set()
                for ep in _entry_points(registry.group):
                    if (ep.name, ep.value) in seen:  # one distribution found twice on the path
                        continue
                    seen.add((ep.name, ep.value))
                    try:
                        obj = ep.load()
                    except Exception as err:  # noqa: BLE001 - a broken plugin names itself
                        raise PluginError(
                            f"the {registry.kind} '{ep.name}' of {_provider(ep)} cannot be loaded: "
                            f"{type(err).__name__}: {err}") from None
                    declared = getattr(obj, "name", ep.name)
                    if isinstance(declared, str) and declared and declared != ep.name:
                        raise PluginError(f"the entry point '{ep.name}' of {_provider(ep)} names "
                                          f"a {registry.kind} called '{declared}'")
                    try:
                        registry.register(ep.name, obj, _provider(ep))
                    except KeyError as err:
                        raise PluginError(str(err)) from None
                # listings follow each entry's ``rank`` (then its name): the floor first, ...
                registry.reorder(lambda name, obj: (str(getattr(obj, "kind", "")),
                                                    getattr(obj, "rank", 100), name))
            _check_default_kind()
        except BaseException:
            for registry in REGISTRIES:
                registry.clear()
            raise
        _LOADED = True


def _check_default_kind() -> None:
    defaults = [name for name, kind in KINDS.items() if getattr(kind, "default", False)]
    if len(defaults) > 1:
        raise PluginError(f"several kinds claim to be the default: {', '.join(defaults)} "
                          f"({', '.join(KINDS.provider(n) for n in defaults)})")


def default_kind() -> str:
    """The kind a project gets when its spec does not say (the one whose ``default`` is set)."""
    load_plugins()
    for name, kind in KINDS.items():
        if getattr(kind, "default", False):
            return name
    names = KINDS.names()
    if not names:
        raise PluginError("no kind of data is installed (is dlrun installed, with its entry points?)")
    return names[0]
