"""Per-run plug-in registry: names in a scenario -> the factories that build them.

A run makes its own ``Registry`` (usually ``Registry.with_defaults()``) so that a
plug-in registered by one run or test never leaks into another; there is no
class-level or module-level table of registrations.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterable
from typing import Any

Factory = Callable[..., Any]
"""Anything that builds a plug-in: usually the plug-in class itself."""

PLUGIN_KINDS: tuple[str, ...] = ("routing", "swap_policy")
"""Kinds a run resolves by name; ``with_defaults`` scans their entry-point
groups ``qstack.<kind>``. (Link protocols plug in by class for now: see
``qstack.conformance.harness``.)"""

ENTRY_POINT_PREFIX = "qstack."

_KIND_LABELS: dict[str, str] = {
    "routing": "routing strategy",
    "swap_policy": "swap policy",
}


def kind_label(kind: str) -> str:
    """Human wording of a kind, so errors read 'unknown routing strategy' not 'routing'."""
    return _KIND_LABELS.get(kind, kind.replace("_", " ") + " plug-in")


def entry_point_group(kind: str) -> str:
    """The entry-point group third-party packages use to publish plug-ins of ``kind``."""
    return ENTRY_POINT_PREFIX + kind


def _describe(factory: object) -> str:
    """Name a factory in messages by where it lives, falling back to its repr."""
    module = getattr(factory, "__module__", None)
    qualname = getattr(factory, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}.{qualname}"
    return repr(factory)


class UnknownPluginError(KeyError):
    """A scenario named a plug-in that this run's registry does not hold.

    A ``KeyError`` so lookups can be handled like any missing key, but with a
    readable message listing what is available.
    """

    def __init__(self, kind: str, name: str, available: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.available: tuple[str, ...] = tuple(sorted(available))
        listed = ", ".join(repr(n) for n in self.available) if self.available else "none"
        self.message = f"unknown {kind_label(kind)} {name!r}; available: {listed}"
        super().__init__(self.message)

    def __str__(self) -> str:
        """Plain message: ``KeyError`` would otherwise wrap it in quotes."""
        return self.message


class PluginLoadError(ImportError):
    """An installed entry point could not be imported or is not a factory.

    Raised while filling a registry so that a broken third-party package is
    named plainly instead of surfacing as a bare import traceback.
    """

    def __init__(self, group: str, entry_name: str, value: str, cause: str) -> None:
        self.group = group
        self.entry_name = entry_name
        self.value = value
        super().__init__(
            f"entry point {entry_name!r} = {value!r} in group {group!r} failed to load: {cause}"
        )


def builtin_plugins() -> list[tuple[str, str, Factory]]:
    """The built-in (kind, name, factory) triples: the single list of what qstack ships.

    Imported lazily so that layer modules may import this module without a cycle;
    new built-in kinds (swap policies, cutoffs, ...) are added here.
    """
    from qstack.layers.network.policies import NestedSwap, SwapAsap
    from qstack.layers.network.routing import ExpectedTime, FidelityAware, ShortestHops

    return [
        ("routing", ShortestHops.name, ShortestHops),
        ("routing", ExpectedTime.name, ExpectedTime),
        ("routing", FidelityAware.name, FidelityAware),
        ("swap_policy", SwapAsap.name, SwapAsap),
        ("swap_policy", NestedSwap.name, NestedSwap),
    ]


class Registry:
    """Name -> factory tables, one per plug-in kind, owned by a single run."""

    __slots__ = ("_tables",)

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, Factory]] = {}

    @classmethod
    def with_defaults(cls, kinds: Iterable[str] = PLUGIN_KINDS) -> Registry:
        """Built-ins plus every installed entry point of the groups ``qstack.<kind>``.

        Entry points are loaded eagerly so a broken plug-in package fails the
        run at set-up with a ``PluginLoadError`` naming it, not mid-simulation.
        A plug-in reusing a built-in name is a clash (``ValueError``).
        """
        registry = cls()
        for kind, name, factory in builtin_plugins():
            registry.register(kind, name, factory)
        for kind in kinds:
            registry.load_entry_points(kind)
        return registry

    def load_entry_points(self, kind: str) -> list[str]:
        """Register every entry point of group ``qstack.<kind>``; return their names."""
        group = entry_point_group(kind)
        loaded: list[str] = []
        for entry in sorted(importlib.metadata.entry_points(group=group), key=lambda e: e.name):
            try:
                factory = entry.load()
            except Exception as exc:  # any failure inside a third-party import
                raise PluginLoadError(
                    group, entry.name, entry.value, f"{type(exc).__name__}: {exc}"
                ) from exc
            if not callable(factory):
                raise PluginLoadError(
                    group, entry.name, entry.value, f"{_describe(factory)} is not callable"
                )
            self.register(kind, entry.name, factory)
            loaded.append(entry.name)
        return loaded

    def register(self, kind: str, name: str, factory: Factory, *, replace: bool = False) -> None:
        """Add ``factory`` under ``name``; a different factory already there needs ``replace``.

        Registering the very same factory twice is harmless and allowed.
        """
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"plug-in kind must be a non-empty string, got {kind!r}")
        if not isinstance(name, str) or not name or name != name.strip():
            raise ValueError(
                f"{kind_label(kind)} name must be a non-empty string without surrounding "
                f"spaces, got {name!r}"
            )
        if not callable(factory):
            raise TypeError(f"{kind_label(kind)} {name!r}: factory {factory!r} is not callable")
        table = self._tables.setdefault(kind, {})
        existing = table.get(name)
        if existing is not None and existing is not factory and not replace:
            raise ValueError(
                f"{kind_label(kind)} {name!r} is already registered to {_describe(existing)}; "
                f"cannot also register {_describe(factory)} (pass replace=True to override)"
            )
        table[name] = factory

    def resolve(self, kind: str, name: str) -> Factory:
        """The factory registered as ``name``, or ``UnknownPluginError`` listing the choices."""
        table = self._tables.get(kind, {})
        try:
            return table[name]
        except KeyError:
            raise UnknownPluginError(kind, name, table) from None

    def names(self, kind: str) -> list[str]:
        """Registered names of ``kind``, sorted (empty for a kind nobody registered)."""
        return sorted(self._tables.get(kind, {}))

    def kinds(self) -> list[str]:
        """Kinds that hold at least one registration, sorted."""
        return sorted(kind for kind, table in self._tables.items() if table)

    def __contains__(self, key: object) -> bool:
        """``(kind, name) in registry``: a cheap check before ``resolve``."""
        if not (isinstance(key, tuple) and len(key) == 2):
            return False
        kind, name = key
        return isinstance(kind, str) and name in self._tables.get(kind, {})

    def __repr__(self) -> str:
        """Show the registered names, which is what a user debugging a scenario wants."""
        body = ", ".join(f"{kind}={self.names(kind)}" for kind in self.kinds())
        return f"Registry({body})"
