"""Memory reservation and admission control (``NET_CREATE.reserve``).

Without reservation, circuits take memory as their link pairs come, so two
circuits can each hold the qubits the other waits for, and only a cutoff
or the run's ``stalled`` verdict ends that. With reservation a circuit
holds, at every node of its path, a fixed share of the node's memory from
its install until it has ended there: ``rounds + 1`` qubits on each side
it has (``rounds``: the purification rounds), which is all it ever needs,
taken from what that side's link may hold at the node (its ``capacity``)
and from the node's qubits.
Its link requests carry the same number as their ``window`` (link-level
flow control both ends agree on), so each hop only generates pairs into
the circuit's own share. Every admitted circuit can therefore always make
progress, whatever the others do: no circuit waits for another's memory.

A node that cannot reserve refuses the install at once (it never waits
while holding anything, so reservations cannot deadlock either): the
nodes before it on the path end the circuit (TEARDOWN ``busy``), and the
source tries again, routed afresh, after a seeded random backoff that
doubles with each refusal (up to the request's deadline). A path that
could never hold the circuit (a node with fewer qubits than it needs) is
refused for good with ``resource_shortage``.
"""

from __future__ import annotations

from qstack.fsm.table import fire
from qstack.layers.network.circuit import CIRCUIT_OPENED, Abort, Circuit, Refused
from qstack.layers.network.core import ENTITY_LIFECYCLE_NAME, NetworkCore
from qstack.layers.network.messages import NetErrorReason, Teardown
from qstack.layers.network.routing import Route

#: The source's first wait after a refusal, in round trips of the path.
FIRST_BACKOFF_ROUND_TRIPS = 1
#: Refusals after which the backoff stops doubling.
MAX_BACKOFF_DOUBLINGS = 10


def sides(circuit: Circuit) -> tuple[str, ...]:
    """The neighbours the circuit has links to at its node."""
    return tuple(peer for peer in (circuit.up_peer, circuit.down_peer) if peer is not None)


def reserved_qubits(circuit: Circuit) -> int:
    """The qubits a circuit reserves at its node: ``rounds + 1`` per side."""
    return (circuit.target_level + 1) * len(sides(circuit))


def link_window(circuit: Circuit) -> int | None:
    """The flow-control window of the circuit's link requests (None: no reservation)."""
    return circuit.target_level + 1 if circuit.request.reserve else None


class Admission(NetworkCore):
    """Reserving memory for circuits, and trying refused requests again."""

    def _admissible(self, now: int, circuit: Circuit) -> bool:
        """Whether this node can ever hold the circuit (each side's link may
        hold ``rounds + 1`` pairs here) and, with reservation, has its share
        free now. False: the circuit was refused here and is ending."""
        per_side = circuit.target_level + 1
        for peer in sides(circuit):
            capacity = self._links[peer].capacity
            if capacity < per_side:
                detail = (
                    f"{self.node}: link to {peer} may hold {capacity} qubit(s) here; "
                    f"{circuit.target_level} purification round(s) need {per_side}"
                )
                self._step(now, circuit, Abort("resource_shortage", detail))
                return False
        if not circuit.request.reserve:
            return True
        need = reserved_qubits(circuit)
        size = self._memory.size
        if need > size:
            detail = f"{self.node}: the circuit needs {need} qubits here, the node has {size}"
            self._step(now, circuit, Abort("resource_shortage", detail))
            return False
        reserved = self._reserved
        full = [
            peer
            for peer in sides(circuit)
            if reserved.get(peer, 0) + per_side > self._links[peer].capacity
        ]
        total = sum(reserved.values())
        if full or total + need > size:
            where = f"its link to {full[0]}" if full else "its memory"
            detail = (
                f"{self.node}: {where} is reserved by other circuits "
                f"({total} of {size} qubits reserved, the circuit needs {need})"
            )
            self._step(now, circuit, Refused(detail))
            return False
        for peer in sides(circuit):
            reserved[peer] = reserved.get(peer, 0) + per_side
        circuit.reserved = need
        return True

    def _unreserve(self, circuit: Circuit) -> None:
        """The circuit has ended here and holds nothing: its share is free."""
        if circuit.reserved:
            per_side = circuit.target_level + 1
            for peer in sides(circuit):
                self._reserved[peer] -= per_side
            circuit.reserved = 0

    def _launch(self, now: int, circuit: Circuit) -> None:
        """Start a circuit at its source: reserve here, then install it."""
        if self._admissible(now, circuit):
            self._install_here(now, circuit, upstream_create_id=None)

    def _refused(self, circuit: Circuit, now: int, refused: Refused) -> None:
        """This node cannot reserve for the circuit: the nodes before it
        end it (the ones after it never heard of it)."""
        teardown = Teardown(
            circuit=circuit.id, completed=False, reason="busy", detail=refused.detail
        )
        for position in range(circuit.position):
            self._send(circuit, position, teardown)
        self._end_failed(now, circuit, "busy", refused.detail, notify=False)

    def _admit_later(self, now: int, old: Circuit) -> None:
        """At the source of a refused circuit: try again after a backoff
        (checked again at the deadline at the latest)."""
        round_trip = 2 * old.offsets_ps[-1] + 1
        doublings = min(old.admissions, MAX_BACKOFF_DOUBLINGS)
        wait = int(
            FIRST_BACKOFF_ROUND_TRIPS * round_trip * (1 << doublings) * (0.5 + self._uniform())
        )
        if old.deadline_ps is not None:
            wait = max(0, min(wait, old.deadline_ps - now))
        self._admitting[old.request_id] = (old, self._set_timer(wait, self._readmit, old))
        # A request waiting to try again is work in hand: the entity serves
        # (and the run goes on) until it has ended one way or the other.
        fire(self, ENTITY_LIFECYCLE_NAME, CIRCUIT_OPENED, now)

    def _stop_admitting(
        self, now: int, reason: NetErrorReason, detail: str, request_id: str | None = None
    ) -> None:
        """End the request waiting here to try again (all of them: this node
        failed) with NET_ERROR."""
        for key in list(self._admitting) if request_id is None else [request_id]:
            entry = self._admitting.pop(key, None)
            if entry is not None:
                old, timer = entry
                timer.cancel()
                self._answer_error(now, old.request_id, old.dst, reason, detail, old.delivered)
        self._idle_if_done(now)

    def _readmit(self, now: int, old: object) -> None:
        assert isinstance(old, Circuit)
        del self._admitting[old.request_id]
        request = old.request
        if old.deadline_ps is not None and now >= old.deadline_ps:
            detail = (
                f"max_time_ps = {request.max_time_ps} passed after {old.delivered} of "
                f"{request.number} pairs, waiting for memory on the path ({old.admissions} "
                "refusals)"
            )
            self._abandon(now, old, "timeout", detail)
            self._idle_if_done(now)
            return
        answer = self._route(old.request_id, request)
        if not isinstance(answer, Route):
            reason, why = answer
            self._abandon(now, old, reason, why)
            self._idle_if_done(now)
            return
        circuit = self._open(
            now,
            f"{old.request_id}/{old.reroutes}.{old.admissions + 1}",
            self.node,
            answer.path,
            0,
            request,
            old.deadline_ps,
            request_id=old.request_id,
        )
        circuit.delivered = old.delivered
        circuit.kept = old.kept
        circuit.carried = old.carried
        circuit.dst_ready = old.dst_ready
        circuit.reroutes = old.reroutes
        circuit.admissions = old.admissions + 1
        self._routes[old.request_id] = (answer.path, circuit.reroutes)
        self._launch(now, circuit)
