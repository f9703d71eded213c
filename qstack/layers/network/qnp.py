"""The built-in network layer: circuits, swapping, purification, cutoffs.

One :class:`NetworkLayer` entity per node, above all of the node's link
entities. A request at the source is routed, then a circuit is installed
hop by hop (PATH_INSTALL); every node asks its link layer towards the next
hop for pairs, for as long as the circuit lives. Repeaters swap by the
circuit's swap policy and send SWAP_RECORDs to the two partners; a record
that reaches a node which has itself swapped that qubit away meanwhile is
extended by that swap and forwarded, so the current holders always end up
knowing their segment. The source delivers a pair once its segment reaches
the destination (and, where pairs can be lost, tells the destination with
PAIR_COMMIT); the destination applies the Pauli-frame correction and
delivers the same pair. Optional link-level purification runs before
swapping; an optional cutoff discards segments older than the limit.

The work is split by seam (:mod:`.setup`, :mod:`.segments`,
:mod:`.purification`, :mod:`.swapping`, :mod:`.delivery`); the two
lifecycles below say which input runs which step. The entity's own
lifecycle runs on a ``transitions`` machine (one per node); each circuit's
on a fast table (thousands per node in a busy network).
"""

from __future__ import annotations

from typing import ClassVar

from qstack.fsm.table import FastTable, StateTable, Transition, fire
from qstack.layers.link.messages import LinkError, LinkExpire, LinkOk, LinkOkBatch, LinkStatus
from qstack.layers.network.admission import Admission
from qstack.layers.network.circuit import (
    LIVE,
    NODE_DOWN,
    WINDING_DOWN,
    Abort,
    AllDelivered,
    Circuit,
    CircuitOpened,
    CircuitsClosed,
    CutoffExpired,
    DeadlinePassed,
    LinksReleased,
    LocalFailure,
    NodeDown,
    NodeUp,
    PathBroken,
    PurifyDone,
    Refused,
    SwapFailed,
    link_key,
)
from qstack.layers.network.core import ENTITY_LIFECYCLE_NAME
from qstack.layers.network.delivery import Delivery
from qstack.layers.network.faults import Faults
from qstack.layers.network.messages import (
    LinkState,
    NetCreate,
    PairCommit,
    PathInstall,
    PathReady,
    PurifyOutcome,
    RequestEnded,
    SegmentDiscarded,
    SwapRecord,
    Teardown,
)
from qstack.layers.network.purification import Purification
from qstack.layers.network.segments import Segments
from qstack.layers.network.service import NetworkContext
from qstack.layers.network.setup import Setup
from qstack.layers.network.swapping import Swapping
from qstack.messages import PeerMessage


class NetworkLayer(Setup, Admission, Faults, Segments, Purification, Swapping, Delivery):
    """The network-layer entity of ``context.node``.

    Sans-IO like the link layer: inputs carry ``now``; it sends peer
    messages through ``context.send_to(node, message, delay_ps)``, sets
    timers through ``context.set_timer`` and talks down to the link
    services it is given. Every input goes through a lifecycle table.
    """

    #: The protocol's name in the registry (``[stack] network = "qnp"``).
    name: ClassVar[str] = "qnp"
    circuit_table: ClassVar[FastTable]

    def __init__(self, context: NetworkContext) -> None:
        super().__init__(context)
        self._machine = NETWORK_ENTITY.machine(self)

    # -- inputs -------------------------------------------------------------

    def create(self, now: int, request: NetCreate) -> str:
        """NET_CREATE: route, then install a circuit; returns the request id.

        A request that cannot be served is answered at once with NET_ERROR.
        """
        request_id = self.next_request_id
        fire(self, ENTITY_LIFECYCLE_NAME, request, now)
        return request_id

    def receive(self, now: int, message: PeerMessage) -> None:
        """A network-layer message from another node of a circuit: a new
        circuit steps the entity; the rest step their circuit (a circuit
        that has ended here is forgotten: late news has nothing to act on)."""
        if message.__class__ in _ENTITY_MESSAGES:
            fire(self, ENTITY_LIFECYCLE_NAME, message, now)
            return
        circuit = self._circuits.get(message.circuit)  # type: ignore[attr-defined]
        if circuit is not None:
            self.circuit_table.dispatch(self, circuit, now, message)
        elif isinstance(message, Teardown) and not message.completed:
            self._torn_down.add(message.circuit)

    def link_ok(self, now: int, ok: LinkOk) -> None:
        """A link pair for one of our circuits (or a late one: freed at once)."""
        if self.state == "down":
            return
        circuit = self._by_link_request.get((ok.remote, ok.origin, ok.create_id))
        if circuit is None:
            if ok.qubit is not None:  # a measured pair holds nothing
                self._memory.release(now, ok.qubit, self.holder)
            return
        self.circuit_table.dispatch(self, circuit, now, ok)

    def link_ok_batch(self, now: int, batch: LinkOkBatch) -> None:
        """Link pairs measured directly for one of our circuits (a late
        batch holds nothing to free)."""
        if self.state == "down":
            return
        circuit = self._by_link_request.get((batch.remote, batch.origin, batch.create_id))
        if circuit is not None:
            self.circuit_table.dispatch(self, circuit, now, batch)

    def link_error(self, now: int, error: LinkError) -> None:
        if self.state == "down":
            return
        circuit = self._by_link_request.get(link_key(error))
        if circuit is not None:
            self.circuit_table.dispatch(self, circuit, now, error)

    def link_expire(self, now: int, expire: LinkExpire) -> None:
        for circuit in self._circuits.values():
            for segment in circuit.segments.values():
                if segment.qubit == expire.qubit:
                    self.circuit_table.dispatch(self, circuit, now, expire)
                    return
        if self._memory.holders[expire.qubit] == self.holder:
            self._memory.release(now, expire.qubit, self.holder)
        # else the pair was handed up: the application holds it and frees it

    def link_status(self, now: int, status: LinkStatus) -> None:
        """A link of this node went down or came back."""
        fire(self, ENTITY_LIFECYCLE_NAME, status, now)

    def node_failed(self, now: int) -> None:
        """Fault: this node crashed. Its circuits end here without a word to
        anyone (the neighbours notice through their link layers); its own
        applications are told, for the record."""
        fire(self, ENTITY_LIFECYCLE_NAME, NODE_DOWN, now)

    def _step(self, now: int, circuit: Circuit, event: object) -> None:
        self.circuit_table.dispatch(self, circuit, now, event)


def _completed(entity: NetworkLayer, circuit: Circuit, message: Teardown) -> bool:
    return message.completed


def _not_cancelled(entity: NetworkLayer, circuit: Circuit, error: LinkError) -> bool:
    return error.reason != "cancelled"


_N = NetworkLayer
_SERVING = ("idle", "serving")
#: Peer messages for the entity itself rather than one of its circuits.
_ENTITY_MESSAGES = frozenset({PathInstall, LinkState, RequestEnded})

NETWORK_ENTITY = StateTable(
    name=ENTITY_LIFECYCLE_NAME,
    states=("idle", "serving", "down"),
    initial="idle",
    transitions=(
        *(Transition(s, NetCreate, s, _N._create) for s in _SERVING),
        Transition("down", NetCreate, "down", _N._refuse_down, note="NET_ERROR"),
        *(Transition(s, PathInstall, s, _N._on_install) for s in _SERVING),
        Transition("down", PathInstall, "down", _N._ignore),
        *(Transition(s, CircuitOpened, "serving") for s in _SERVING),
        *(Transition(s, CircuitsClosed, "idle") for s in _SERVING),
        Transition("down", CircuitsClosed, "down"),
        *(Transition(s, NodeDown, "down", _N._node_failed) for s in _SERVING),
        Transition("down", NodeDown, "down"),
        Transition("down", NodeUp, "idle", _N._recovered, note="LINK_STATE"),
        *(Transition(s, LinkStatus, s, _N._on_link_status, note="LINK_STATE") for s in _SERVING),
        *(Transition(s, LinkState, s, _N._on_link_state, note="pass it on") for s in _SERVING),
        *(Transition(s, RequestEnded, s, _N._request_ended, note="NET_ERROR") for s in _SERVING),
        *(
            Transition("down", message, "down", _N._ignore)
            for message in (LinkStatus, LinkState, RequestEnded)
        ),
    ),
)

CIRCUIT_LIFECYCLE = StateTable(
    name="network circuit",
    states=("setting_up", "active", "tearing_down", "failing", "done", "failed"),
    initial="setting_up",
    final=("done", "failed"),
    transitions=(
        Transition("setting_up", PathInstall, "active", _N._installed, note="link CREATE"),
        Transition("setting_up", PathReady, "active", _N._path_ready),
        *(Transition(s, LinkOk, s, _N._on_link_pair) for s in LIVE),
        *(Transition(s, LinkOkBatch, s, _N._on_link_batch, note="NET_OK_BATCH") for s in LIVE),
        *(Transition(s, SwapRecord, s, _N._on_record) for s in LIVE),
        *(Transition(s, PairCommit, s, _N._on_commit) for s in LIVE),
        *(Transition(s, SegmentDiscarded, s, _N._on_discarded) for s in LIVE),
        *(Transition(s, PurifyOutcome, s, _N._on_purify_outcome) for s in LIVE),
        *(Transition(s, PurifyDone, s, _N._purify_done) for s in LIVE),
        *(
            Transition(s, CutoffExpired, s, _N._cutoff_expired, note="SEGMENT_DISCARDED")
            for s in LIVE
        ),
        *(Transition(s, LinkExpire, s, _N._segment_expired) for s in LIVE),
        *(Transition(s, SwapFailed, s, _N._swap_failed, note="SEGMENT_DISCARDED x2") for s in LIVE),
        *(
            Transition(s, LinkError, "failing", _N._link_failed, _not_cancelled, "TEARDOWN")
            for s in LIVE
        ),
        *(Transition(s, LinkError, s, _N._link_error) for s in LIVE),
        *(Transition(s, Teardown, "tearing_down", _N._told_complete, _completed) for s in LIVE),
        *(Transition(s, Teardown, "failing", _N._told_failed) for s in LIVE),
        *(
            Transition(s, AllDelivered, "tearing_down", _N._all_delivered, note="TEARDOWN")
            for s in LIVE
        ),
        *(Transition(s, DeadlinePassed, "failing", _N._timed_out, note="NET_ERROR") for s in LIVE),
        *(Transition(s, Abort, "failing", _N._aborted, note="TEARDOWN, NET_ERROR") for s in LIVE),
        *(Transition(s, Refused, "failing", _N._refused, note="TEARDOWN busy") for s in LIVE),
        *(Transition(s, LocalFailure, "failing", _N._crashed) for s in LIVE),
        *(Transition(s, PathBroken, "failing", _N._path_broken, note="TEARDOWN") for s in LIVE),
        *(Transition(s, LinkOk, s, _N._late_link_pair, note="free it") for s in WINDING_DOWN),
        *(Transition(s, LinkOkBatch, s, _N._count_link_batch) for s in WINDING_DOWN),
        *(Transition(s, LinkError, s, _N._link_error) for s in WINDING_DOWN),
        *(
            Transition(s, message, s, _N._ignore)
            for s in WINDING_DOWN
            for message in (
                PathReady,
                SwapRecord,
                PairCommit,
                SegmentDiscarded,
                PurifyOutcome,
                Teardown,
                LocalFailure,
                PathBroken,
                Refused,
            )
        ),
        Transition("tearing_down", LinksReleased, "done", _N._closed),
        Transition("failing", LinksReleased, "failed", _N._closed),
    ),
)

NetworkLayer.circuit_table = CIRCUIT_LIFECYCLE.fast()
