"""Per-run plug-in registry: resolution, clashes, messages and entry points."""

from __future__ import annotations

import importlib.metadata
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from qstack.layers.network.routing import (
    ExpectedTime,
    FidelityAware,
    LinkInfo,
    NodeInfo,
    Route,
    RouteRefusal,
    RouteRequest,
    RoutingStrategy,
    ShortestHops,
    Topology,
)
from qstack.registry import (
    BUILTIN_PLUGINS,
    PLUGIN_KINDS,
    PluginLoadError,
    Registry,
    UnknownPluginError,
    builtin_plugins,
    plugin_identity,
)

BUILTIN_ROUTING = ["expected-time", "fidelity-aware", "shortest-hops"]


class Custom:
    """A third-party strategy: routes straight to dst if linked, else refuses."""

    name = "direct"

    def route(self, topology: Topology, request: RouteRequest) -> Route | RouteRefusal:
        """One hop or nothing."""
        if request.dst in topology.neighbours(request.src):
            return Route((request.src, request.dst), 1.0, 0.0)
        return RouteRefusal("no_path", "not a neighbour")


def test_defaults_hold_the_builtins() -> None:
    registry = Registry.with_defaults()
    assert registry.names("routing") == BUILTIN_ROUTING
    assert registry.resolve("routing", "shortest-hops") is ShortestHops
    assert registry.resolve("routing", "expected-time") is ExpectedTime
    assert registry.resolve("routing", "fidelity-aware") is FidelityAware
    assert ("routing", "shortest-hops") in registry
    assert registry.names("swap_policy") == ["asap", "nested"]


def test_builtin_list_names_match_strategy_names() -> None:
    kinds = set()
    for kind, name, factory in builtin_plugins():
        kinds.add(kind)
        assert getattr(factory, "app" if kind == "app" else "name") == name
        assert plugin_identity(factory) == (kind, name)
    assert kinds == set(PLUGIN_KINDS)


def test_unknown_name_message_lists_available() -> None:
    registry = Registry.with_defaults()
    with pytest.raises(UnknownPluginError) as caught:
        registry.resolve("routing", "foo")
    assert str(caught.value) == (
        "unknown routing strategy 'foo'; available: "
        "'expected-time', 'fidelity-aware', 'shortest-hops'"
    )
    assert isinstance(caught.value, KeyError)
    assert caught.value.kind == "routing"
    assert caught.value.name == "foo"
    assert caught.value.available == tuple(BUILTIN_ROUTING)


def test_unknown_kind_message() -> None:
    with pytest.raises(UnknownPluginError, match="unknown swap policy 'x'; available: none"):
        Registry().resolve("swap_policy", "x")


def test_register_and_resolve_a_custom_strategy() -> None:
    registry = Registry.with_defaults()
    registry.register("routing", "direct", Custom)
    assert registry.names("routing") == sorted([*BUILTIN_ROUTING, "direct"])
    strategy = registry.resolve("routing", "direct")()
    assert isinstance(strategy, RoutingStrategy)
    topology = Topology(
        [NodeInfo("a", 2, None), NodeInfo("b", 2, None)],
        [LinkInfo("a", "b", 1.0, 0.5, 1e-3, 0.9, 0.0)],
    )
    assert strategy.route(topology, RouteRequest("a", "b", 0.5)) == Route(("a", "b"), 1.0, 0.0)


def test_clash_names_both_factories_and_replace_overrides() -> None:
    registry = Registry.with_defaults()
    with pytest.raises(ValueError) as caught:
        registry.register("routing", "shortest-hops", Custom)
    message = str(caught.value)
    assert "ShortestHops" in message
    assert "Custom" in message
    assert "replace=True" in message
    registry.register("routing", "shortest-hops", Custom, replace=True)
    assert registry.resolve("routing", "shortest-hops") is Custom


def test_registering_the_same_factory_twice_is_harmless() -> None:
    registry = Registry()
    registry.register("routing", "direct", Custom)
    registry.register("routing", "direct", Custom)
    assert registry.names("routing") == ["direct"]


def test_builtins_count_as_registered_before_they_are_imported() -> None:
    """Built-ins are imported on first use; until then they are listed like any other."""
    registry = Registry.with_defaults()
    assert registry.kinds() == sorted(PLUGIN_KINDS)
    assert "routing=['expected-time', 'fidelity-aware', 'shortest-hops']" in repr(registry)
    registry.register("routing", "shortest-hops", ShortestHops)  # the same class: harmless
    assert registry.resolve("routing", "shortest-hops") is ShortestHops
    registry.register("routing", "expected-time", Custom, replace=True)
    assert registry.resolve("routing", "expected-time") is Custom
    assert registry.names("routing") == BUILTIN_ROUTING


def test_registries_do_not_share_state() -> None:
    first = Registry.with_defaults()
    first.register("routing", "direct", Custom)
    second = Registry.with_defaults()
    assert "direct" not in second.names("routing")


@pytest.mark.parametrize(
    ("kind", "name", "factory", "error"),
    [
        ("", "x", Custom, ValueError),
        ("routing", "", Custom, ValueError),
        ("routing", " x", Custom, ValueError),
        ("routing", "x", 42, TypeError),
    ],
)
def test_register_checks_arguments(kind: str, name: str, factory: object, error: type) -> None:
    with pytest.raises(error):
        Registry().register(kind, name, factory)  # type: ignore[arg-type]


FakeEntryPoints = Callable[..., importlib.metadata.EntryPoints]


def fake_entry_points(entries: dict[str, list[tuple[str, str]]]) -> FakeEntryPoints:
    """Stand-in for ``importlib.metadata.entry_points`` (every one, or a ``group``)."""

    def entry_points(**selection: str) -> importlib.metadata.EntryPoints:
        every = importlib.metadata.EntryPoints(
            importlib.metadata.EntryPoint(name=name, value=value, group=group)
            for group, named in entries.items()
            for name, value in named
        )
        return every.select(**selection)

    return entry_points


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An importable third-party module holding a routing strategy."""
    (tmp_path / "qstack_test_plugin_mod.py").write_text(
        "from qstack.layers.network.routing import ShortestHops\n"
        "class Mine(ShortestHops):\n"
        "    name = 'mine'\n"
        "NOT_A_FACTORY = 3\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return "qstack_test_plugin_mod"


def test_entry_points_are_loaded(plugin_module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        fake_entry_points({"qstack.routing": [("mine", f"{plugin_module}:Mine")]}),
    )
    registry = Registry.with_defaults()
    assert registry.names("routing") == sorted([*BUILTIN_ROUTING, "mine"])
    assert plugin_module not in sys.modules  # listed by name, imported only when named
    assert registry.resolve("routing", "mine")().name == "mine"
    assert plugin_module in sys.modules


def test_entry_point_that_fails_to_import_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        fake_entry_points({"qstack.swap_policy": [("broken", "qstack_no_such_module_xyz:Policy")]}),
    )
    registry = Registry.with_defaults()
    with pytest.raises(PluginLoadError) as caught:
        registry.resolve("swap_policy", "broken")
    message = str(caught.value)
    assert "'broken'" in message
    assert "qstack_no_such_module_xyz:Policy" in message
    assert "'qstack.swap_policy'" in message
    assert "ModuleNotFoundError" in message
    assert isinstance(caught.value, ImportError)


def test_entry_point_that_is_not_callable(
    plugin_module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        fake_entry_points({"qstack.swap_policy": [("three", f"{plugin_module}:NOT_A_FACTORY")]}),
    )
    with pytest.raises(PluginLoadError, match=r"'three'.*not callable"):
        Registry.with_defaults().resolve("swap_policy", "three")


def test_entry_point_clashing_with_builtin(
    plugin_module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        fake_entry_points({"qstack.routing": [("shortest-hops", f"{plugin_module}:Mine")]}),
    )
    with pytest.raises(ValueError, match=r"shortest-hops.*ShortestHops.*Mine"):
        Registry.with_defaults()


@pytest.mark.parametrize("kind", PLUGIN_KINDS)
def test_every_kind_reads_its_entry_point_group(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed names are listed, and a built-in's name refused, for every kind."""
    group = f"qstack.{kind}"
    builtin = next(name for of_kind, name, _ in BUILTIN_PLUGINS if of_kind == kind)
    monkeypatch.setattr(
        importlib.metadata, "entry_points", fake_entry_points({group: [("third", "no:Where")]})
    )
    registry = Registry.with_defaults()
    assert "third" in registry.names(kind)
    assert (kind, "third") in registry
    monkeypatch.setattr(
        importlib.metadata, "entry_points", fake_entry_points({group: [(builtin, "no:Where")]})
    )
    with pytest.raises(ValueError, match=re.escape(f"{builtin!r} is built in")):
        Registry.with_defaults()
