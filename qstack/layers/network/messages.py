"""Network-layer service primitives and peer messages (after Kozlowski et
al., CoNEXT 2020, "Designing a quantum network protocol").

A request opens a *circuit* along a path; link pairs on every hop are
swapped at the repeaters; swap records travel to the nodes holding the
outer qubits, and the two end nodes deliver end-to-end pairs with the Pauli
frame already corrected (Bell index 0, Phi+). Times are integer picoseconds.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from qstack.layers.link.messages import Basis, CreateType, NodeName
from qstack.messages import BasesColumn, BitsColumn, PeerMessage, Primitive

CircuitId = Annotated[str, Field(min_length=1)]
#: A node's name for its end of a segment: the link pair it got from its
#: link layer, written "<a>-<b>#<link pair id>".
Handle = Annotated[str, Field(min_length=1)]
NetErrorReason = Literal[
    "no_path",  # source and destination are not connected
    "fidelity_unreachable",  # no path can give min_fidelity, even in the best case
    "timeout",  # max_time_ps passed before every pair was delivered
    "resource_shortage",  # a node on the path cannot hold what the circuit needs
    "torn_down",  # a fault on the path ended the circuit
    "invalid",  # the request cannot be served as asked (e.g. nested swapping on 3 links)
    "stalled",  # nothing could happen any more: circuits hold the memory others wait for
    "busy",  # TEARDOWN only: a node's memory is reserved by other circuits (the source retries)
]
PluginName = Annotated[str, Field(pattern=r"^[a-z0-9_.:-]+$")]


class NetCreate(Primitive):
    """Ask for ``number`` end-to-end pairs with ``remote``."""

    kind: Literal["NET_CREATE"] = "NET_CREATE"
    remote: NodeName
    number: int = Field(ge=1)
    min_fidelity: float = Field(default=0.0, ge=0.0, le=1.0)
    max_time_ps: int | None = Field(default=None, gt=0)
    type: CreateType = "keep"
    purpose_id: int = Field(default=0, ge=0)
    priority: int = Field(default=0, ge=0, description="passed to every link; lower first")
    routing: PluginName = "shortest-hops"
    swap_policy: PluginName = "asap"
    cutoff_ps: int | None = Field(default=None, gt=0)
    purification: PluginName = "none"
    purification_rounds: int = Field(default=0, ge=0)
    z_basis_probability: float = Field(
        default=0.5, gt=0.0, lt=1.0, description="measure type: chance of Z, else X"
    )
    name: str | None = Field(
        default=None, max_length=64, description="the application's name for the request"
    )
    reroute: bool = Field(
        default=False,
        description="when a fault breaks the circuit, route again around it for the pairs owed",
    )
    reserve: bool = Field(
        default=False,
        description=(
            "reserve the circuit's memory at every node of its path before it starts "
            "(admission control: circuits never wait for each other's memory)"
        ),
    )
    measure_directly: bool = Field(
        default=False,
        description=(
            "measure type: over one hop without purification the ends measure each "
            "pair as it is heralded, never storing it, and report pairs many at a "
            "time (NET_OK_BATCH); the application takes both NET_OK and NET_OK_BATCH"
        ),
    )


class NetOk(Primitive):
    """One end-to-end pair, reported at each end with the same ``pair_id``.

    ``seq`` counts this end's deliveries for the request (the two ends may
    learn of pairs in different orders). ``bell_index`` is the state after
    the Pauli-frame correction (0, Phi+); ``fidelity`` is the true fidelity
    with it when this end delivers.
    """

    kind: Literal["NET_OK"] = "NET_OK"
    request_id: CircuitId
    src: NodeName
    dst: NodeName
    pair_id: str
    seq: int = Field(ge=0)
    bell_index: int = Field(ge=0, le=3)
    qubit: int | None = Field(ge=0)
    time_ps: int = Field(ge=0)
    fidelity: float = Field(ge=0.0, le=1.0 + 1e-9)
    purpose_id: int = Field(ge=0)
    basis: Basis | None
    outcome: Literal[0, 1] | None


class NetOkBatch(Primitive):
    """End-to-end pairs of a ``measure_directly`` request, each measured by
    both ends as it was heralded, reported together at each end with the
    same ``pair_ids``. Pair ``i`` has ``seq`` ``first_seq + i``; per pair,
    ``bases`` (Z/X letters) and ``outcomes`` (digits) are this end's, after
    the Pauli-frame correction (so they are those of Phi+, as for NET_OK's
    ``bell_index`` 0), ``times_ps`` is when it was heralded and delivered,
    ``fidelities`` its true fidelity with the reported Bell state then."""

    kind: Literal["NET_OK_BATCH"] = "NET_OK_BATCH"
    request_id: CircuitId
    src: NodeName
    dst: NodeName
    pair_ids: tuple[str, ...]
    first_seq: int = Field(ge=0)
    purpose_id: int = Field(ge=0)
    bases: BasesColumn
    outcomes: BitsColumn
    times_ps: tuple[int, ...]
    fidelities: tuple[float, ...]

    @property
    def count(self) -> int:
        return len(self.pair_ids)

    def oks(self) -> list[NetOk]:
        """The batch as the NET_OKs the per-pair path would have given (for
        checkers and readers of traces: the fast path never builds them)."""
        return [
            NetOk.trusted(
                request_id=self.request_id,
                src=self.src,
                dst=self.dst,
                pair_id=pair_id,
                seq=self.first_seq + i,
                bell_index=0,
                qubit=None,
                time_ps=self.times_ps[i],
                fidelity=self.fidelities[i],
                purpose_id=self.purpose_id,
                basis=self.bases[i],
                outcome=int(self.outcomes[i]),
            )
            for i, pair_id in enumerate(self.pair_ids)
        ]


class NetError(Primitive):
    """The request ended without all its pairs."""

    kind: Literal["NET_ERROR"] = "NET_ERROR"
    request_id: CircuitId
    src: NodeName
    dst: NodeName
    reason: NetErrorReason
    detail: str
    delivered: int = Field(ge=0)


class NetDone(Primitive):
    """Every pair of the request was delivered at this end."""

    kind: Literal["NET_DONE"] = "NET_DONE"
    request_id: CircuitId
    src: NodeName
    dst: NodeName
    delivered: int = Field(ge=0)


class NetExpire(Primitive):
    """A pair reported by an earlier NET_OK at the source never reached the
    destination (a fault broke the circuit while the news travelled): the
    application forgets it, and frees the NET_OK's qubit if it still holds it."""

    kind: Literal["NET_EXPIRE"] = "NET_EXPIRE"
    request_id: CircuitId
    pair_id: str


class PathInstall(PeerMessage):
    """Set up the circuit hop by hop; each node adds the id of the link
    request it made towards the next hop."""

    kind: Literal["PATH_INSTALL"] = "PATH_INSTALL"
    circuit: CircuitId
    request_id: CircuitId
    src: NodeName
    path: tuple[NodeName, ...]
    request: NetCreate
    deadline_ps: int | None
    upstream_create_id: int = Field(ge=0)
    generation: int = Field(ge=0)


class PathReady(PeerMessage):
    """The destination installed the circuit: every hop is generating."""

    kind: Literal["PATH_READY"] = "PATH_READY"
    circuit: CircuitId
    delivered_ids: tuple[str, ...] | None = Field(
        default=None,
        description="on a new circuit of a rerouted request: the pairs the destination holds",
    )


class Teardown(PeerMessage):
    """End the circuit at every node on the path: sent by the source when
    every pair is delivered, by any node that has to end it early."""

    kind: Literal["TEARDOWN"] = "TEARDOWN"
    circuit: CircuitId
    completed: bool
    reason: NetErrorReason | None
    detail: str


class SwapRecord(PeerMessage):
    """Your qubit ``handle`` now shares a segment with ``partner``'s qubit
    ``partner_handle``; the segment spans ``links`` link pairs, is in Bell
    state ``frame`` and its oldest link pair was made at ``birth_ps``.

    A record about a handle its receiver has already swapped away is
    forwarded, extended by that swap, to the far side of it.
    """

    kind: Literal["SWAP_RECORD"] = "SWAP_RECORD"
    circuit: CircuitId
    handle: Handle
    partner: NodeName
    partner_handle: Handle
    links: int = Field(ge=1)
    frame: int = Field(ge=0, le=3)
    birth_ps: int = Field(ge=0)


class SegmentDiscarded(PeerMessage):
    """The segment ending at your qubit ``handle`` was discarded (cutoff, or a failed swap)."""

    kind: Literal["SEGMENT_DISCARDED"] = "SEGMENT_DISCARDED"
    circuit: CircuitId
    handle: Handle


class PurifyOutcome(PeerMessage):
    """Result of purifying link pairs ``kept`` and ``sacrificed``."""

    kind: Literal["PURIFY_OUTCOME"] = "PURIFY_OUTCOME"
    circuit: CircuitId
    kept: Handle
    sacrificed: Handle
    success: bool


class PairCommit(PeerMessage):
    """The source delivered the pair ``pair_id`` ending at the destination's
    ``dst_handle`` (or, with ``keep`` false, dropped it): the destination
    does the same. Only sent when pairs can be lost on the way (cutoff,
    purification), where the source decides which ones count."""

    kind: Literal["PAIR_COMMIT"] = "PAIR_COMMIT"
    circuit: CircuitId
    dst_handle: Handle
    pair_id: str
    keep: bool


class LinkState(PeerMessage):
    """News of a fault, flooded to every node: ``node`` (or the fiber
    ``a``-``b``) went down (``up`` false) or came back. ``origin`` noticed it
    at ``version`` ps; newer news of the same node or fiber wins, and each
    node passes news on once, to its neighbours but ``via`` (who sent it)."""

    kind: Literal["LINK_STATE"] = "LINK_STATE"
    origin: NodeName
    via: NodeName
    version: int = Field(ge=0)
    node: NodeName | None
    a: NodeName | None
    b: NodeName | None
    up: bool


class RequestEnded(PeerMessage):
    """The source gave up a request whose circuit a fault broke (no way
    around it): the destination, waiting for a new circuit, ends it too."""

    kind: Literal["REQUEST_ENDED"] = "REQUEST_ENDED"
    request_id: CircuitId
    reason: NetErrorReason
    detail: str


# -- trace records: what a node's network layer did to its own qubits ---------


class SwapTrace(Primitive):
    """This repeater Bell-measured its qubits ``left`` and ``right`` (their
    handles) for ``circuit``: ``outcome`` is the Bell index measured, None
    if the swap failed (both segments lost)."""

    kind: Literal["SWAP"] = "SWAP"
    request_id: CircuitId
    circuit: CircuitId
    left: Handle
    right: Handle
    outcome: int | None = Field(ge=0, le=3)


class PurifyTrace(Primitive):
    """This node ran a purification round on link pairs ``kept`` and
    ``sacrificed`` (the upstream end of the link does)."""

    kind: Literal["PURIFY"] = "PURIFY"
    request_id: CircuitId
    circuit: CircuitId
    kept: Handle
    sacrificed: Handle
    success: bool


class CorrectionTrace(Primitive):
    """The destination applied the Pauli-frame correction ``pauli`` (0: I,
    1: X, 2: Z, 3: XZ) to its qubit of pair ``pair_id``: the pair is Phi+."""

    kind: Literal["CORRECTION"] = "CORRECTION"
    request_id: CircuitId
    circuit: CircuitId
    pair_id: str
    pauli: int = Field(ge=0, le=3)


class DiscardTrace(Primitive):
    """This node freed the segment ending at its qubit ``handle`` before it
    was used: its own ``cutoff`` passed, or its ``partner`` said the other
    end was discarded (a cutoff there, or a swap that failed)."""

    kind: Literal["DISCARD"] = "DISCARD"
    request_id: CircuitId
    circuit: CircuitId
    handle: Handle
    reason: Literal["cutoff", "partner"]


NetEventRecord = SwapTrace | PurifyTrace | CorrectionTrace | DiscardTrace

NetPrimitive = NetCreate | NetOk | NetError | NetDone | NetExpire
NetPeerMessage = (
    PathInstall
    | PathReady
    | Teardown
    | SwapRecord
    | SegmentDiscarded
    | PurifyOutcome
    | PairCommit
    | LinkState
    | RequestEnded
)
