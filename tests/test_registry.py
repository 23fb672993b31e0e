from types import SimpleNamespace

import pytest

from dlrun.registry import Registry, RegistryError


def test_register_get_and_unknown_lists_known():
    reg = Registry("widget")
    reg.register("a", 1)

    @reg.register("b")
    def b():
        return 2

    assert reg.get("a") == 1 and reg.get("b") is b
    assert reg.names() == ["a", "b"] and "a" in reg and "z" not in reg
    with pytest.raises(RegistryError, match=r"unknown widget 'z' \(known: a, b\)"):
        reg.get("z")


def test_entry_points_are_loaded_lazily(monkeypatch):
    loaded = []

    def fake_entry_points(group):
        assert group == "dlrun.widgets"
        loaded.append(group)
        return [SimpleNamespace(name="plugin", load=lambda: "from-plugin")]

    monkeypatch.setattr("importlib.metadata.entry_points", fake_entry_points)
    reg = Registry("widget", "dlrun.widgets")
    reg.register("own", "mine")
    assert reg.get("own") == "mine" and not loaded  # no scan for a known name
    assert reg.get("plugin") == "from-plugin"
    assert sorted(reg.names()) == ["own", "plugin"] and loaded == ["dlrun.widgets"]


def test_builtin_stages_discoverable_through_entry_point_group():
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="dlrun.stages")}
    assert {"prepare", "evaluate", "report"} <= names
