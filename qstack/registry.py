"""Per-run plug-in registry: names in a scenario -> the factories that build them.

Every plug-in kind works the same way: ``routing``, ``swap_policy``,
``purification``, ``link``, ``network``, ``app``. A run makes its own
``Registry`` (usually ``Registry.with_defaults()``) so that a plug-in
registered by one run or test never leaks into another; there is no
class-level or module-level table of registrations. Installed packages
offer plug-ins through the entry-point groups ``qstack.<kind>``; an entry
point is imported only when a scenario names it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable, Iterable
from typing import Any

Factory = Callable[..., Any]
"""Anything that builds a plug-in: usually the plug-in class itself."""

PLUGIN_KINDS: tuple[str, ...] = ("routing", "swap_policy", "purification", "link", "network", "app")
"""Every kind a scenario names by name; entry-point groups are ``qstack.<kind>``."""

ENTRY_POINT_PREFIX = "qstack."

_KIND_LABELS: dict[str, str] = {
    "routing": "routing strategy",
    "swap_policy": "swap policy",
    "purification": "purification scheme",
    "link": "link protocol",
    "network": "network protocol",
    "app": "application",
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
    """A plug-in could not be imported or is not a factory.

    Raised when a scenario names an installed entry point that fails, or for
    a ``--plugin module:Class`` that cannot be loaded, so a broken
    third-party package is named plainly instead of surfacing as a bare
    import traceback.
    """

    def __init__(self, where: str, value: str, cause: str) -> None:
        self.where = where
        self.value = value
        super().__init__(f"{where} = {value!r} failed to load: {cause}")


#: Every built-in plug-in as (kind, name, "module:attribute"): known by name
#: without being imported, so that a run imports only the built-ins its
#: scenario names (``builtin_plugins`` imports them all and checks the names).
BUILTIN_PLUGINS: tuple[tuple[str, str, str], ...] = (
    ("routing", "shortest-hops", "qstack.layers.network.routing:ShortestHops"),
    ("routing", "expected-time", "qstack.layers.network.routing:ExpectedTime"),
    ("routing", "fidelity-aware", "qstack.layers.network.routing:FidelityAware"),
    ("swap_policy", "asap", "qstack.layers.network.policies:SwapAsap"),
    ("swap_policy", "nested", "qstack.layers.network.policies:NestedSwap"),
    ("purification", "bbpssw", "qstack.layers.network.policies:Bbpssw"),
    ("purification", "dejmps", "qstack.layers.network.policies:Dejmps"),
    ("link", "egp", "qstack.layers.link.egp:LinkLayer"),
    ("network", "qnp", "qstack.layers.network.qnp:NetworkLayer"),
    ("app", "pairs", "qstack.layers.app.pairs:PairsSession"),
    ("app", "qkd", "qstack.layers.app.qkd:QkdSession"),
    ("app", "teleport", "qstack.layers.app.teleport:TeleportSession"),
    ("app", "chsh", "qstack.layers.app.chsh:ChshSession"),
    ("app", "remote_cnot", "qstack.layers.app.remote_cnot:RemoteCnotSession"),
    ("app", "ghz", "qstack.layers.app.ghz:GhzSession"),
    ("app", "sensing", "qstack.layers.app.sensing:SensingSession"),
    ("app", "bb84", "qstack.layers.app.bb84:Bb84Session"),
)


def _import_builtin(reference: str) -> Factory:
    module, _, attribute = reference.partition(":")
    factory: Factory = getattr(importlib.import_module(module), attribute)
    return factory


def builtin_plugins() -> list[tuple[str, str, Factory]]:
    """The built-in (kind, name, factory) triples, every one imported."""
    return [(kind, name, _import_builtin(ref)) for kind, name, ref in BUILTIN_PLUGINS]


def _entry_points(kind: str) -> dict[str, importlib.metadata.EntryPoint]:
    group = entry_point_group(kind)
    return {entry.name: entry for entry in importlib.metadata.entry_points(group=group)}


def _every_kinds_entry_points() -> dict[str, dict[str, importlib.metadata.EntryPoint]]:
    """``_entry_points`` of every kind from one pass over the installed packages'
    metadata (each ``entry_points(group=...)`` call reads all of it: ~3 ms a call)."""
    installed = importlib.metadata.entry_points()
    return {
        kind: {entry.name: entry for entry in installed.select(group=entry_point_group(kind))}
        for kind in PLUGIN_KINDS
    }


def _checked(where: str, value: str, factory: object) -> Factory:
    if not callable(factory):
        raise PluginLoadError(where, value, f"{_describe(factory)} is not callable")
    return factory


def load_object(spec: str) -> object:
    """The object ``module:attribute`` names (``--plugin``), or a clear error."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise PluginLoadError("--plugin", spec, "expected module:Class")
    try:
        value: object = importlib.import_module(module_name)
        for part in attribute.split("."):
            value = getattr(value, part)
    except Exception as error:  # any failure inside a third-party import
        raise PluginLoadError("--plugin", spec, f"{type(error).__name__}: {error}") from error
    return value


def plugin_identity(factory: object) -> tuple[str, str]:
    """The (kind, name) a plug-in class declares, judged by what it offers:
    a session class (``app``), a link or network protocol (``name`` plus
    the layer's service), a routing strategy, a swap policy or a
    purification scheme (``name`` plus its method)."""
    app = getattr(factory, "app", None)
    if isinstance(app, str) and hasattr(factory, "table"):
        return "app", app
    name = getattr(factory, "name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"{_describe(factory)}: a plug-in class needs a 'name' (or, for an "
            "application, an 'app') class attribute"
        )
    for kind, method in (
        ("network", "link_ok"),
        ("link", "herald"),
        ("routing", "route"),
        ("swap_policy", "should_swap"),
        ("purification", "recurrence"),
    ):
        if callable(getattr(factory, method, None)):
            return kind, name
    raise ValueError(
        f"{_describe(factory)}: not a plug-in qstack knows (a routing strategy has route(), "
        "a swap policy should_swap(), a purification scheme recurrence(), a link protocol "
        "herald(), a network protocol link_ok(), an application is a Session subclass)"
    )


class Registry:
    """Name -> factory tables, one per plug-in kind, owned by a single run."""

    __slots__ = ("_builtins", "_tables")

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, Factory]] = {}
        #: Built-ins not imported yet: kind -> name -> "module:attribute".
        self._builtins: dict[str, dict[str, str]] = {}

    @classmethod
    def with_defaults(cls) -> Registry:
        """The built-ins (each imported when first resolved); installed entry
        points are imported only when a scenario names them. An installed
        plug-in reusing a built-in's name is refused here (by name, without
        importing either)."""
        registry = cls()
        for kind, name, reference in BUILTIN_PLUGINS:
            registry._builtins.setdefault(kind, {})[name] = reference
        for kind, entries in _every_kinds_entry_points().items():
            for name, entry in entries.items():
                builtin = registry._builtins.get(kind, {}).get(name)
                if builtin is not None:
                    raise ValueError(
                        f"{kind_label(kind)} {name!r} is built in "
                        f"({builtin.replace(':', '.')}); the installed entry point "
                        f"{entry.value!r} in group {entry_point_group(kind)!r} cannot reuse "
                        "the name"
                    )
        return registry

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
        if existing is None and not replace:
            existing = self._imported_builtin(kind, name)
        if existing is not None and existing is not factory and not replace:
            raise ValueError(
                f"{kind_label(kind)} {name!r} is already registered to {_describe(existing)}; "
                f"cannot also register {_describe(factory)} (pass replace=True to override)"
            )
        self._builtins.get(kind, {}).pop(name, None)
        table[name] = factory

    def _imported_builtin(self, kind: str, name: str) -> Factory | None:
        """The built-in ``name`` of ``kind``, imported now and kept, or None."""
        reference = self._builtins.get(kind, {}).pop(name, None)
        if reference is None:
            return None
        factory = _import_builtin(reference)
        self._tables.setdefault(kind, {})[name] = factory
        return factory

    def register_class(self, factory: object) -> tuple[str, str]:
        """Register a plug-in class under the kind and name it declares
        (see :func:`plugin_identity`); returns them."""
        kind, name = plugin_identity(factory)
        if not callable(factory):
            raise TypeError(f"{_describe(factory)} is not a class")
        self.register(kind, name, factory)
        return kind, name

    def resolve(self, kind: str, name: str) -> Factory:
        """The factory registered as ``name`` (a built-in or an installed
        entry point of that name is imported now), or ``UnknownPluginError``
        listing the choices."""
        factory = self._tables.get(kind, {}).get(name)
        if factory is None:
            factory = self._imported_builtin(kind, name)
        if factory is not None:
            return factory
        entry = _entry_points(kind).get(name)
        if entry is None:
            raise UnknownPluginError(kind, name, self.names(kind))
        where = f"entry point {name!r} in group {entry_point_group(kind)!r}"
        try:
            loaded = entry.load()
        except Exception as error:  # any failure inside a third-party import
            raise PluginLoadError(where, entry.value, f"{type(error).__name__}: {error}") from error
        factory = _checked(where, entry.value, loaded)
        self.register(kind, name, factory)
        return factory

    def _registered(self, kind: str) -> set[str]:
        """Names of ``kind`` registered here, built-ins not yet imported included."""
        return {*self._tables.get(kind, {}), *self._builtins.get(kind, {})}

    def names(self, kind: str) -> list[str]:
        """Names of ``kind``: registered ones and installed entry points, sorted."""
        return sorted({*self._registered(kind), *_entry_points(kind)})

    def kinds(self) -> list[str]:
        """Kinds that hold at least one registration, sorted."""
        return sorted(kind for kind in {*self._tables, *self._builtins} if self._registered(kind))

    def __contains__(self, key: object) -> bool:
        """``(kind, name) in registry``: registered or installed."""
        if not (isinstance(key, tuple) and len(key) == 2):
            return False
        kind, name = key
        if not isinstance(kind, str):
            return False
        # Registered names first: looking through the installed packages'
        # entry points costs milliseconds, and every run asks for each plug-in.
        return name in self._registered(kind) or name in _entry_points(kind)

    def __repr__(self) -> str:
        """Show the registered names, which is what a user debugging a scenario wants."""
        body = ", ".join(f"{kind}={sorted(self._registered(kind))}" for kind in self.kinds())
        return f"Registry({body})"
