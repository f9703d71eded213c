"""Circuit set-up and tear-down: routing at the source, PATH_INSTALL hop by
hop, and every way a circuit ends (all pairs delivered, a deadline, a
failed link, a fault, an abort), after which every qubit is freed."""

from __future__ import annotations

import itertools

from qstack.fsm.table import fire
from qstack.layers.link.messages import LinkCancel, LinkCreate, LinkError
from qstack.layers.network.admission import link_window
from qstack.layers.network.circuit import (
    CIRCUIT_OPENED,
    CIRCUITS_CLOSED,
    DEADLINE_PASSED,
    LINKS_RELEASED,
    Abort,
    AllDelivered,
    Circuit,
    DeadlinePassed,
    LocalFailure,
    NodeDown,
    PathBroken,
    link_key,
)
from qstack.layers.network.core import ENTITY_LIFECYCLE_NAME, NetworkCore
from qstack.layers.network.messages import (
    NetCreate,
    NetErrorReason,
    PathInstall,
    PathReady,
    Teardown,
)
from qstack.layers.network.routing import Route, RouteRequest, check_route
from qstack.layers.network.view import NodeLoad


class Setup(NetworkCore):
    """Routing, installing and ending circuits."""

    # -- the entity's inputs ------------------------------------------------

    def _create(self, _: Setup, now: int, request: NetCreate) -> None:
        """NET_CREATE: route, then install a circuit; a request that cannot
        be served is answered at once with NET_ERROR."""
        circuit_id = self.next_request_id
        self._next_request += 1
        dst = request.remote
        answer = self._route(circuit_id, request)
        if not isinstance(answer, Route):
            reason, detail = answer
            self._answer_error(now, circuit_id, dst, reason, detail, 0)
            return
        path = answer.path
        self._routes[circuit_id] = (path, 0)
        deadline = None if request.max_time_ps is None else now + request.max_time_ps
        circuit = self._open(now, circuit_id, self.node, path, 0, request, deadline)
        self._launch(now, circuit)

    def _refuse_down(self, _: Setup, now: int, request: NetCreate) -> None:
        circuit_id = self.next_request_id
        self._next_request += 1
        self._answer_error(
            now, circuit_id, request.remote, "torn_down", f"node {self.node} is down", 0
        )

    def _route(self, circuit_id: str, request: NetCreate) -> Route | tuple[NetErrorReason, str]:
        """The path for a request, or why there is none (a plug-in's bad
        answer included, naming the plug-in)."""
        context = self.context
        if request.remote == self.node:
            return "invalid", f"NET_CREATE.remote = {request.remote!r}: the request's own node"
        try:
            strategy = context.routers(request.routing)
            policy = context.swap_policies(request.swap_policy)
            scheme = (
                context.purification(request.purification)
                if request.purification != "none"
                else "none"
            )
        except LookupError as error:
            return "invalid", str(error)
        view = context.view(self._load(), self._down_nodes, self._down_links)
        if request.remote not in view:
            return "no_path", f"NET_CREATE.remote = {request.remote!r}: unknown node"
        if request.remote in view.down_nodes:
            # Every strategy would find no path; none needs to be asked.
            return "no_path", f"no path to {request.remote!r}: {self.node} was told it is down"
        route_request = RouteRequest(
            self.node,
            request.remote,
            request.min_fidelity,
            scheme,
            request.purification_rounds,
            request_id=circuit_id,
            name=request.name,
            priority=request.priority,
            pairs=request.number,
            type=request.type,
        )
        answer = check_route(strategy, view, route_request)
        if not isinstance(answer, Route):
            return answer
        if answer.expected_fidelity + 1e-12 < request.min_fidelity:
            return (
                "fidelity_unreachable",
                f"path {'-'.join(answer.path)} gives at best {answer.expected_fidelity:.4f} "
                f"< min_fidelity {request.min_fidelity}",
            )
        policy_problem = policy.check_path(answer.hops)
        if policy_problem is not None:
            return "invalid", policy_problem
        travel = sum(context.link_delay_ps(a, b) for a, b in itertools.pairwise(answer.path))
        if request.cutoff_ps is not None and request.cutoff_ps <= travel:
            return (
                "invalid",
                f"cutoff_ps = {request.cutoff_ps} is not longer than the path's classical "
                f"delay ({travel} ps): no pair could reach both ends in time",
            )
        return answer

    def _load(self) -> NodeLoad:
        return NodeLoad(
            tuple(c.path for c in self._circuits.values() if not c.ended),
            self._memory.free_count,
            self._memory.size,
        )

    def _on_install(self, _: Setup, now: int, message: PathInstall) -> None:
        if message.circuit in self._torn_down:
            return  # its TEARDOWN overtook it: nothing to install
        position = message.path.index(self.node)
        circuit = self._open(
            now,
            message.circuit,
            message.src,
            message.path,
            position,
            message.request,
            message.deadline_ps,
            message.request_id,
        )
        circuit.reroutes = message.generation
        assert circuit.up_peer is not None
        key = (circuit.up_peer, circuit.up_peer, message.upstream_create_id)
        circuit.link_counts[key] = 0
        circuit.link_keys.add(key)
        self._by_link_request[key] = circuit
        down = [
            peer
            for peer in (circuit.up_peer, circuit.down_peer)
            if peer is not None and self._link_down(peer)
        ]
        for dead in down:
            self._void_link_requests(now, dead)
        if not down and not self._admissible(now, circuit):
            return
        if (
            circuit.down_peer is None
            and message.request.reroute
            and not self._take_over(now, circuit)
        ):
            self._step(now, circuit, PathBroken(f"a newer circuit serves {circuit.request_id}"))
            return
        if down:
            self._step(now, circuit, PathBroken(f"the link {self.node}-{down[0]} is down"))
            return
        self._step(now, circuit, message)

    def _ignore(self, _: object, now: int, event: object) -> None:
        """A late input for something that has ended here: nothing to act on."""

    def _node_failed(self, _: Setup, now: int, event: NodeDown) -> None:
        for circuit in list(self._circuits.values()):
            self._step(now, circuit, LocalFailure(f"node {self.node} failed"))
        self._circuits.clear()
        self._by_link_request.clear()
        self._reserved.clear()
        self._stop_admitting(now, "torn_down", f"node {self.node} failed")
        for waiting in self._awaiting.values():
            waiting.timer.cancel()
        self._awaiting.clear()

    # -- set-up -----------------------------------------------------------

    def _open(
        self,
        now: int,
        circuit_id: str,
        src: str,
        path: tuple[str, ...],
        position: int,
        request: NetCreate,
        deadline_ps: int | None,
        request_id: str | None = None,
    ) -> Circuit:
        offsets = self._path_delays_ps(path)
        circuit = Circuit(
            circuit_id,
            src,
            path,
            position,
            request,
            deadline_ps,
            offsets,
            request_id,
            lossy_swaps=self._swaps_can_fail(path),
        )
        circuit.positions = self._path_positions(path)
        self._circuits[circuit_id] = circuit
        if deadline_ps is not None:
            # The destination waits until every commit the source sent
            # before its deadline has arrived (pairs measured directly have none).
            last = position == len(path) - 1 and circuit.commit
            grace = offsets[-1] + 1 if last else 0
            circuit.deadline_timer = self._set_timer(
                max(deadline_ps + grace - now, 0), self._deadline_due, circuit
            )
        fire(self, ENTITY_LIFECYCLE_NAME, CIRCUIT_OPENED, now)
        return circuit

    def _installed(self, circuit: Circuit, now: int, message: PathInstall) -> None:
        self._install_here(now, circuit, message.upstream_create_id)

    def _install_here(self, now: int, circuit: Circuit, upstream_create_id: int | None) -> None:
        """Ask for link pairs towards the next hop and pass the install on."""
        if circuit.down_peer is None:
            rerouted = circuit.request_id != circuit.id
            held = tuple(circuit.kept or ()) if rerouted else None
            self._send(circuit, 0, PathReady(circuit=circuit.id, delivered_ids=held))
            return
        peer = circuit.down_peer
        request = circuit.request
        create_id = self._links[peer].next_create_id
        key = (peer, self.node, create_id)
        circuit.link_keys.add(key)
        self._by_link_request[key] = circuit
        circuit.down_create_id = create_id
        # The install leaves before the link request it names: messages
        # between two nodes keep their order, so the next hop always knows
        # the circuit before its link layer hands it a pair, even when the
        # install is lost and resent.
        self._send(
            circuit,
            circuit.position + 1,
            # Trusted: every field comes from this node's validated circuit,
            # and the path stays one object shared by its nodes.
            PathInstall.trusted(
                circuit=circuit.id,
                request_id=circuit.request_id,
                src=circuit.src,
                path=circuit.path,
                request=request,
                generation=circuit.reroutes,
                deadline_ps=circuit.deadline_ps,
                upstream_create_id=create_id,
            ),
        )
        self._links[peer].create(now, self._link_create(now, circuit, peer))

    def _link_create(self, now: int, circuit: Circuit, peer: str) -> LinkCreate:
        """The link request of the circuit's hop to ``peer``: kept pairs,
        or, measured directly, pairs measured as heralded until the
        circuit's deadline."""
        request = circuit.request
        if circuit.measured_directly:
            deadline = circuit.deadline_ps
            return LinkCreate(
                remote=peer,
                number=circuit.link_pairs,
                min_fidelity=circuit.link_min_fidelity,
                max_time_ps=None if deadline is None else max(deadline - now, 1),
                type="measure",
                purpose_id=request.purpose_id,
                priority=request.priority,
                z_basis_probability=request.z_basis_probability,
                batched=True,
            )
        return LinkCreate(
            remote=peer,
            number=circuit.link_pairs,
            min_fidelity=circuit.link_min_fidelity,
            max_time_ps=None,
            type="keep",
            purpose_id=request.purpose_id,
            priority=request.priority,
            window=link_window(circuit),
        )

    def _deadline_due(self, now: int, circuit: object) -> None:
        assert isinstance(circuit, Circuit)
        if not circuit.ended:
            self._step(now, circuit, DEADLINE_PASSED)

    # -- ending -----------------------------------------------------------

    def _timed_out(self, circuit: Circuit, now: int, _: DeadlinePassed) -> None:
        # Every node reaches its deadline on its own: nobody is told.
        self._end_failed(
            now,
            circuit,
            "timeout",
            f"max_time_ps = {circuit.request.max_time_ps} passed after "
            f"{circuit.delivered} of {circuit.request.number} pairs",
            notify=False,
        )

    def _all_delivered(self, circuit: Circuit, now: int, _: AllDelivered) -> None:
        self._finish(now, circuit)
        teardown = Teardown(circuit=circuit.id, completed=True, reason=None, detail="")
        for position in range(1, circuit.hops + 1):
            self._send(circuit, position, teardown)
        self._wind_down(now, circuit)

    def _told_complete(self, circuit: Circuit, now: int, message: Teardown) -> None:
        if circuit.position == circuit.hops and not circuit.done_here:
            # The source counted pairs that never got here: the request did
            # not complete at this end, and says so.
            detail = (
                f"the source delivered {circuit.request.number} pairs, "
                f"only {circuit.delivered} reached {self.node}"
            )
            self._end_failed(now, circuit, "torn_down", detail, notify=False)
            return
        self._wind_down(now, circuit)

    def _told_failed(self, circuit: Circuit, now: int, message: Teardown) -> None:
        reason = message.reason or "torn_down"
        self._end_failed(now, circuit, reason, message.detail, notify=False)

    def _aborted(self, circuit: Circuit, now: int, abort: Abort) -> None:
        self._end_failed(now, circuit, abort.reason, abort.detail)

    def _link_failed(self, circuit: Circuit, now: int, error: LinkError) -> None:
        self._forget_link_request(circuit, link_key(error))
        reason: NetErrorReason = (
            "fidelity_unreachable" if error.reason == "unsupported_fidelity" else "torn_down"
        )
        self._end_failed(now, circuit, reason, f"link {self.node}-{error.remote}: {error.detail}")

    def _crashed(self, circuit: Circuit, now: int, failure: LocalFailure) -> None:
        """This node failed: the circuit ends here without a word to anyone
        (the neighbours notice through their link layers); its own
        application is told, for the record."""
        self._release_all(now, circuit)
        if circuit.position in (0, circuit.hops) and not circuit.done_here:
            self._answer_error(
                now,
                circuit.request_id,
                circuit.dst,
                "torn_down",
                failure.detail,
                circuit.delivered,
                circuit.src,
            )

    def _wind_down(self, now: int, circuit: Circuit) -> None:
        """Every pair was delivered: free everything, wait for the link requests."""
        self._release_all(now, circuit)
        if not circuit.link_keys:
            self._step(now, circuit, LINKS_RELEASED)

    def _end_failed(
        self,
        now: int,
        circuit: Circuit,
        reason: NetErrorReason,
        detail: str,
        notify: bool = True,
    ) -> None:
        """End the circuit here and, with ``notify``, at every other node of
        its path (TEARDOWN); ``notify`` is off when the others reach the same
        end on their own (a deadline) or were told already."""
        if notify:
            teardown = Teardown(circuit=circuit.id, completed=False, reason=reason, detail=detail)
            for position in range(circuit.hops + 1):
                if position != circuit.position:
                    self._send(circuit, position, teardown)
        self._release_all(now, circuit)
        if not circuit.link_keys:
            self._step(now, circuit, LINKS_RELEASED)
        if reason == "busy":
            if circuit.position == 0:
                self._admit_later(now, circuit)
            return  # refused for memory: only the source acts, it tries again
        if (
            circuit.position in (0, circuit.hops)
            and not circuit.done_here
            and not self._rerouting(now, circuit, reason, detail)
        ):
            delivered = circuit.delivered
            waiting = self._awaiting.pop(circuit.request_id, None)
            if waiting is not None:
                # a new circuit of a rerouted request failed here before it
                # took over: the request ends now, nothing more to wait for
                waiting.timer.cancel()
                delivered = waiting.delivered
            self._answer_error(
                now, circuit.request_id, circuit.dst, reason, detail, delivered, circuit.src
            )

    def _release_all(self, now: int, circuit: Circuit) -> None:
        """Stop the link request this node made and free every qubit held."""
        if circuit.deadline_timer is not None:
            circuit.deadline_timer.cancel()
        if circuit.down_create_id is not None and circuit.down_peer is not None:
            link = self._links[circuit.down_peer]
            link.cancel(now, LinkCancel(remote=circuit.down_peer, create_id=circuit.down_create_id))
        for segment in list(circuit.segments.values()):
            self._drop(now, circuit, segment)
        circuit.swapped.clear()
        circuit.swapped_expiry.clear()

    def _closed(self, circuit: Circuit, now: int, _: object) -> None:
        """The circuit is over here and no link request of it is left."""
        self._unreserve(circuit)
        self._circuits.pop(circuit.id, None)
        self._idle_if_done(now)

    def _idle_if_done(self, now: int) -> None:
        """No circuit left here, nor a request waiting to try again: idle."""
        if not self._circuits and not self._admitting:
            fire(self, ENTITY_LIFECYCLE_NAME, CIRCUITS_CLOSED, now)

    def _link_error(self, circuit: Circuit, now: int, error: LinkError) -> None:
        """A link request of the circuit ended without failing it (cancelled,
        or the circuit has ended here already)."""
        self._link_request_ended(now, circuit, link_key(error))

    # -- management -------------------------------------------------------

    def abort(self, now: int, request_id: str, reason: NetErrorReason, detail: str) -> None:
        """End a request this node is the source of, everywhere on its path."""
        self._stop_admitting(now, reason, detail, request_id)
        for circuit in list(self._circuits.values()):
            if circuit.request_id == request_id and not circuit.ended:
                self._step(now, circuit, Abort(reason, detail))
