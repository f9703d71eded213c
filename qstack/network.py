"""From a scenario to a wired network: the run's store, nodes, links, layers, apps.

This module is the only place that knows every layer: it builds the
hardware, creates one entity per layer per node through the plug-ins the
scenario names (or the classes given), and connects each to the service of
the layer below, to its peer through a classical channel, and to the
tracer when there is one. Links are built by :mod:`qstack.wiring`, the
same code the conformance harnesses use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from qstack.faults import FaultError, FaultInjection
from qstack.hardware.memory import Memory
from qstack.layers.app.base import AppHost, Session
from qstack.layers.app.service import AppMessage, HardwareView, SessionSetup, SetupError
from qstack.layers.link.service import LinkEntity, LinkLayerFactory, LinkService
from qstack.layers.network.messages import NetCreate
from qstack.layers.network.policies import PurificationScheme, SwapPolicy
from qstack.layers.network.routing import RoutingStrategy
from qstack.layers.network.service import (
    NetworkContext,
    NetworkEntity,
    NetworkLayerFactory,
    NetworkUser,
    path_delays_ps,
    path_positions,
)
from qstack.layers.network.view import LinkInfo, NetworkView, NodeInfo, NodeLoad, Topology
from qstack.messages import PeerMessage, Primitive
from qstack.quantum.oracle import TruthOracle
from qstack.quantum.store import QuantumStore
from qstack.registry import Registry, UnknownPluginError
from qstack.reports import FaultReport
from qstack.scenario import RequestSpec, Scenario
from qstack.scenario.request import APP_FIELDS
from qstack.sim.classical import ClassicalNetwork
from qstack.sim.collector import collector_paused
from qstack.sim.kernel import Simulator, ps_to_seconds, seconds_to_ps
from qstack.sim.lifecycles import trace_lifecycles
from qstack.sim.random import RandomStreams
from qstack.sim.trace import Tracer, TraceRecord
from qstack.wiring import (
    Link,
    Run,
    TracedNetworkService,
    TracedNetworkUser,
    bind_link_user,
    build_link,
    build_memory,
    link_service,
)

__all__ = ["FaultError", "Network", "TopologyError"]


class TopologyError(ValueError):
    """A scenario that validates on its own but cannot be wired."""


class Network(FaultInjection):
    """Everything a run needs, built from one scenario and one seed."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        tracer: Tracer | None = None,
        registry: Registry | None = None,
        link_layer: LinkLayerFactory | None = None,
        network_layer: NetworkLayerFactory | None = None,
        *,
        keep_pair_records: bool = True,
    ):
        """``link_layer`` / ``network_layer``: the protocols every link and
        every node run, when given as classes (otherwise the built-ins, or
        the plug-ins the registry holds under the scenario's names).
        ``keep_pair_records``: each request keeps its pairs' ids and
        fidelities (``Session.pair_ids``, ``fidelities``) for scripts to
        inspect; off, it keeps running statistics only (``qstack.run``)."""
        with collector_paused():
            self._build(scenario, seed, tracer, registry, link_layer, network_layer)
        if not keep_pair_records:
            for session in self.requests:
                session.keep_statistics_only()

    def _build(
        self,
        scenario: Scenario,
        seed: int | None,
        tracer: Tracer | None,
        registry: Registry | None,
        link_layer: LinkLayerFactory | None,
        network_layer: NetworkLayerFactory | None,
    ) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.sim = Simulator()
        self.streams = RandomStreams(self.seed)
        self.tracer = tracer
        self.registry = Registry.with_defaults() if registry is None else registry
        self.store = QuantumStore()
        self.oracle = TruthOracle(self.store)
        self.classical = ClassicalNetwork(self.sim, self.streams.stream("classical"))
        self.run_context = Run(
            self.sim, self.store, self.oracle, self.streams, tracer, self.classical
        )
        #: The faults that happened so far, in order (the run report's ``faults``).
        self.faults: list[FaultReport] = []
        self._plugins: dict[tuple[str, str], object] = {}
        self._check_plugin_names()
        link_factory = link_layer or cast(
            LinkLayerFactory, self.registry.resolve("link", scenario.stack.link)
        )
        network_factory = network_layer or cast(
            NetworkLayerFactory, self.registry.resolve("network", scenario.stack.network)
        )
        self.memories: dict[str, Memory] = {
            spec.name: build_memory(self.store, spec) for spec in scenario.nodes
        }
        degree = {spec.name: 0 for spec in scenario.nodes}
        for link_spec in scenario.links:
            degree[link_spec.a] += 1
            degree[link_spec.b] += 1
        self._link_between: dict[frozenset[str], Link] = {}
        self._path_delays: dict[tuple[str, ...], tuple[int, ...]] = {}
        self._path_position_maps: dict[tuple[str, ...], dict[str, int]] = {}
        self.links: list[Link] = []
        #: Every link entity, by node and then by the neighbour it links to.
        self.link_entities: dict[str, dict[str, LinkEntity]] = {
            spec.name: {} for spec in scenario.nodes
        }
        for spec in scenario.links:
            memories = (self.memories[spec.a], self.memories[spec.b])
            capacities = (
                max(1, memories[0].size // degree[spec.a]),
                max(1, memories[1].size // degree[spec.b]),
            )
            link = build_link(self.run_context, spec, memories, link_factory, capacities, "network")
            self.links.append(link)
            self._link_between[frozenset((spec.a, spec.b))] = link
            self.link_entities[spec.a][spec.b], self.link_entities[spec.b][spec.a] = link.ends
        self.topology = self._topology()
        self.network_entities: dict[str, NetworkEntity] = {
            spec.name: network_factory(self._network_context(spec.name)) for spec in scenario.nodes
        }
        self.sessions: dict[str, Session] = {}
        self._fastest: dict[tuple[str, str], tuple[list[str], int]] = {}
        self.hardware = HardwareView(scenario.nodes, scenario.links)
        self.apps = {
            name: AppHost(
                name,
                self.memories[name],
                entity if tracer is None else TracedNetworkService(name, entity, tracer),
                self.sessions,
                self._send_app,
                self.oracle,
            )
            for name, entity in self.network_entities.items()
        }
        for link in self.links:
            for side, node in enumerate((link.spec.a, link.spec.b)):
                bind_link_user(link, side, self.network_entities[node], tracer)
        if tracer is not None:
            for name, entity in self.network_entities.items():
                trace_lifecycles(entity, name, tracer)
                trace_lifecycles(self.apps[name], name, tracer)
        for name, entity in self.network_entities.items():
            user: NetworkUser = self.apps[name]
            entity.bind(user if tracer is None else TracedNetworkUser(name, user, tracer))
        self.requests = [self._request(index, spec) for index, spec in enumerate(scenario.requests)]
        self.schedule_faults(scenario.faults_in_order())

    # -- plug-ins -----------------------------------------------------------

    def plugin(self, kind: str, name: str) -> Any:
        """The run's instance of the plug-in ``name`` of ``kind`` (one per run)."""
        key = (kind, name)
        if key not in self._plugins:
            self._plugins[key] = self.registry.resolve(kind, name)()
        return self._plugins[key]

    def _check_plugin_names(self) -> None:
        """Every plug-in a scenario names exists in this run's registry, or
        the scenario is refused now, naming the field and the choices."""
        scenario = self.scenario
        for kind, name in (("link", scenario.stack.link), ("network", scenario.stack.network)):
            if (kind, name) not in self.registry:
                raise TopologyError(
                    f"stack.{kind} = {name!r}: "
                    + str(UnknownPluginError(kind, name, self.registry.names(kind)))
                )
        for index, spec in enumerate(scenario.requests):
            options = scenario.network_options(index)
            wanted = [
                ("routing", options.routing, spec.routing),
                ("swap_policy", options.swap_policy, spec.swap_policy),
                ("app", spec.app, spec.app),
            ]
            if options.purification != "none":
                wanted.append(("purification", options.purification, spec.purification))
            for kind, name, own in wanted:
                if (kind, name) not in self.registry:
                    where = f"requests[{index}]" if own else "network"
                    raise TopologyError(
                        f"{where}.{kind} = {name!r}: "
                        + str(UnknownPluginError(kind, name, self.registry.names(kind)))
                    )

    # -- the network layer's world ------------------------------------------

    def _topology(self) -> Topology:
        """What routing may know: each link's delays, success probability at
        its default setting and the best fidelity it can deliver."""
        nodes = [
            NodeInfo(spec.name, spec.qubits, spec.memory_t_s, spec.swap_success_probability)
            for spec in self.scenario.nodes
        ]
        links = []
        for link in self.links:
            setting = link.settings.setting_for(0.0)
            assert setting is not None, "a link with no minimum fidelity always has a setting"
            links.append(
                LinkInfo(
                    a=link.spec.a,
                    b=link.spec.b,
                    length_km=link.spec.length_km,
                    success_probability=setting.model.success_probability,
                    cycle_s=ps_to_seconds(link.station.cycle_ps),
                    fidelity=link.settings.best_fidelity,
                    delay_s=ps_to_seconds(link.delay_ps),
                )
            )
        return Topology(nodes, links)

    def _network_context(self, node: str) -> NetworkContext:
        routing_rng = self.streams.stream(f"routing/{node}")

        def send_along(
            target: str,
            message: PeerMessage,
            delay_ps: int,
            path: tuple[str, ...],
            i: int,
            j: int,
        ) -> None:
            # The route is only read once the run is degraded (the slice is
            # as long as the path: not worth it per message before).
            route: Sequence[str] = ()
            if self.classical.degraded:
                route = path[i : j + 1] if i <= j else path[j : i + 1][::-1]
            self._send_network(node, target, message, route, delay_ps)

        def send_anywhere(target: str, message: PeerMessage) -> None:
            route, delay_ps = self.classical.fastest(node, target)
            self._send_network(node, target, message, route, delay_ps)

        def view(
            load: NodeLoad, down_nodes: Iterable[str], down_links: Iterable[frozenset[str]]
        ) -> NetworkView:
            return NetworkView(self.topology, node, load, routing_rng, down_nodes, down_links)

        links: dict[str, LinkService] = {
            peer: link_service(node, entity, self.tracer)
            for peer, entity in self.link_entities[node].items()
        }
        return NetworkContext(
            node=node,
            memory=self.memories[node],
            links=links,
            view=view,
            routers=lambda name: cast(RoutingStrategy, self._resolve("routing", name)),
            swap_policies=lambda name: cast(SwapPolicy, self._resolve("swap_policy", name)),
            purification=lambda name: cast(PurificationScheme, self._resolve("purification", name)),
            send_along=send_along,
            send_anywhere=send_anywhere,
            set_timer=self.run_context.set_timer,
            link_delay_ps=self._link_delay_ps,
            path_delays_ps=self._path_delays_ps,
            path_positions=self._path_positions,
            rng=self.streams.stream(f"network/{node}"),
            truth=self.oracle,
            record=None if self.tracer is None else self._event_recorder(node),
        )

    def _event_recorder(self, node: str) -> Callable[[int, Primitive], None]:
        """Writes a record of what ``node``'s network layer did (traced runs)."""
        tracer = self.tracer
        assert tracer is not None

        def record(now: int, event: Primitive) -> None:
            tracer.record(TraceRecord(now, node, "network", "event", event))

        return record

    def _send_network(
        self, sender: str, target: str, message: PeerMessage, route: Sequence[str], delay_ps: int
    ) -> None:
        if self.tracer is not None:
            self.tracer.record(
                TraceRecord(self.sim.now, sender, "network", "send", message, target)
            )
        self.classical.send(
            sender,
            target,
            route,
            delay_ps,
            self._deliver_network,
            (sender, target, message),
            self._network_undeliverable,
        )

    def _resolve(self, kind: str, name: str) -> Any:
        """A plug-in by name for a layer: ``LookupError`` naming the choices."""
        return self.plugin(kind, name)

    def _deliver_network(self, argument: tuple[str, str, PeerMessage]) -> None:
        sender, target, message = argument
        if self.tracer is not None:
            self.tracer.record(
                TraceRecord(self.sim.now, target, "network", "recv", message, sender)
            )
        self.network_entities[target].receive(self.sim.now, message)

    def _network_undeliverable(self, argument: tuple[str, str, PeerMessage]) -> None:
        sender, target, message = argument
        if sender not in self.classical.down:
            self.network_entities[sender].undeliverable(self.sim.now, target, message)

    def _catch_up(self, now: int, nodes: Iterable[str]) -> None:
        touched = set(nodes)
        for link in self.links:
            if link.spec.a in touched or link.spec.b in touched:
                link.station.catch_up(now)

    def _link_delay_ps(self, a: str, b: str) -> int:
        return self._link_between[frozenset((a, b))].delay_ps

    def _path_positions(self, path: tuple[str, ...]) -> Mapping[str, int]:
        """Each node's position on ``path``: one map per path per run."""
        positions = self._path_position_maps.get(path)
        if positions is None:
            positions = self._path_position_maps[path] = path_positions(path)
        return positions

    def _path_delays_ps(self, path: tuple[str, ...]) -> tuple[int, ...]:
        """Summed once per path and shared by its nodes (memory linear in
        the path's length: every node of a path keeps them)."""
        delays = self._path_delays.get(path)
        if delays is None:
            delays = self._path_delays[path] = path_delays_ps(self._link_delay_ps, path)
        return delays

    # -- applications ---------------------------------------------------------

    def _send_app(self, sender: str, target: str, message: AppMessage) -> None:
        """Application messages cross the classical network along the
        fastest path of fibers (around faults when there are any)."""
        key = (sender, target)
        fastest = self._fastest.get(key)
        if fastest is None:
            fastest = self._fastest[key] = self.classical.fastest(sender, target)
        if self.tracer is not None:
            self.tracer.record(TraceRecord(self.sim.now, sender, "app", "send", message, target))
        route, delay_ps = fastest
        self.classical.send(
            sender,
            target,
            route,
            delay_ps,
            self._deliver_app,
            (sender, target, message),
            self._app_undeliverable,
        )

    def _deliver_app(self, argument: tuple[str, str, AppMessage]) -> None:
        sender, target, message = argument
        if self.tracer is not None:
            self.tracer.record(TraceRecord(self.sim.now, target, "app", "recv", message, sender))
        self.apps[target].receive(self.sim.now, message)

    def _app_undeliverable(self, argument: tuple[str, str, AppMessage]) -> None:
        sender, target, message = argument
        if sender not in self.classical.down:
            self.apps[sender].undeliverable(self.sim.now, target, message)

    def _request(self, index: int, spec: RequestSpec) -> Session:
        options = self.scenario.network_options(index)
        session_class = cast(type[Session], self.registry.resolve("app", spec.app))
        create = NetCreate(
            remote=spec.dst,
            number=spec.pairs,
            min_fidelity=spec.min_fidelity or 0.0,
            max_time_ps=None if spec.max_time_s is None else seconds_to_ps(spec.max_time_s),
            type=session_class.pair_type or spec.type,
            z_basis_probability=spec.z_basis_probability or 0.5,
            purpose_id=spec.purpose_id,
            priority=spec.priority,
            routing=options.routing,
            swap_policy=options.swap_policy,
            cutoff_ps=None if options.cutoff_s is None else seconds_to_ps(options.cutoff_s),
            purification=options.purification,
            purification_rounds=options.purification_rounds,
            name=self.scenario.request_name(index),
            reroute=options.reroute,
            reserve=options.reservation,
            measure_directly=options.measure_directly and session_class.takes_batches,
        )
        start_ps = seconds_to_ps(spec.start_s)
        app_options = {
            field: getattr(spec, field)
            for field in APP_FIELDS.get(spec.app, ())
            if getattr(spec, field) is not None
        }
        setup = SessionSetup(
            name=self.scenario.request_name(index),
            src=spec.src,
            dst=spec.dst,
            create=create,
            start_ps=start_ps,
            rng=self.streams.stream(f"app/{spec.app}/{index}"),
            options={**app_options, **(spec.options or {})},
            hardware=self.hardware,
            set_timer=self.run_context.set_timer,
        )
        try:
            session = session_class(setup)
        except SetupError as error:
            raise TopologyError(f"requests[{index}]: {error}") from error
        if self.tracer is not None:
            trace_lifecycles(session, spec.src, self.tracer)
        self.sim.schedule_at(start_ps, self._start_request, session)
        return session

    def _start_request(self, session: Session) -> None:
        self.apps[session.src].start(self.sim.now, session)
