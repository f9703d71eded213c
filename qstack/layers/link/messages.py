"""Link-layer service primitives and peer messages (after Dahlberg et al.,
SIGCOMM 2019: CREATE, OK, ERROR, EXPIRE and a distributed queue).

Times are integer picoseconds; fidelities are true fidelities of the
simulated state with the reported Bell state.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from qstack.messages import (
    BasesColumn,
    BellIndicesColumn,
    BitsColumn,
    PeerMessage,
    Primitive,
)

NodeName = Annotated[str, Field(pattern=r"^[a-z0-9_-]+$", min_length=1)]
BellIndex = Annotated[int, Field(ge=0, le=3)]
CreateType = Literal["keep", "measure"]
Basis = Literal["Z", "X"]
LinkErrorReason = Literal[
    "unsupported_fidelity",  # no setting of the link can deliver min_fidelity
    "timeout",  # max_time_ps passed before every pair was delivered
    "rejected",  # the peer's link layer refused the request
    "link_down",  # the link was taken out of service
    "cancelled",  # the origin cancelled the request (CANCEL)
]


class LinkCreate(Primitive):
    """CREATE: ask for ``number`` pairs with ``remote``."""

    kind: Literal["CREATE"] = "CREATE"
    remote: NodeName
    number: int | None = Field(ge=1, description="pairs wanted; None: until CANCEL")
    min_fidelity: float = Field(default=0.0, ge=0.0, le=1.0)
    max_time_ps: int | None = Field(default=None, gt=0)
    type: CreateType = "keep"
    purpose_id: int = Field(default=0, ge=0)
    priority: int = Field(default=0, ge=0, description="lower is served first")
    window: int | None = Field(
        default=None,
        ge=1,
        description=(
            "keep: at most this many of the request's pairs held at each end at once "
            "(flow control agreed by both ends: QUEUE_CREDIT); None: no limit"
        ),
    )
    z_basis_probability: float = Field(
        default=0.5, gt=0.0, lt=1.0, description="measure: chance of Z, else X (each end)"
    )
    batched: bool = Field(
        default=False,
        description=(
            "measure only: pairs may be measured as they are heralded and reported "
            "many at a time (OK_BATCH); the layer above takes both OK and OK_BATCH"
        ),
    )

    @model_validator(mode="after")
    def _batches_are_measured(self) -> Self:
        if self.batched and self.type != "measure":
            raise ValueError(f"batched = true needs type = 'measure', not {self.type!r}")
        return self


class LinkCancel(Primitive):
    """CANCEL: stop a request this node created; both ends end it with
    ERROR(cancelled) at the same agreed time."""

    kind: Literal["CANCEL"] = "CANCEL"
    remote: NodeName
    create_id: int = Field(ge=0)


class LinkOk(Primitive):
    """OK: one pair delivered; both ends report the same ``pair_id`` and
    ``bell_index``.

    For ``keep`` the pair's half is in ``qubit``, now held by the upper
    layer; for ``measure`` it was measured in ``basis`` with ``outcome`` and
    its qubit is already free.
    """

    kind: Literal["OK"] = "OK"
    create_id: int = Field(ge=0)
    origin: NodeName
    remote: NodeName
    pair_id: int = Field(ge=0)
    seq: int = Field(ge=0, description="index of this pair within its request")
    bell_index: BellIndex
    qubit: int | None = Field(ge=0)
    time_ps: int = Field(ge=0)
    fidelity: float = Field(ge=0.0, le=1.0 + 1e-9)
    purpose_id: int = Field(ge=0)
    basis: Basis | None
    outcome: Literal[0, 1] | None


class LinkOkBatch(Primitive):
    """OK_BATCH: pairs of a ``batched`` measure request, each measured by
    both ends as it was heralded (never stored), reported together. Pair
    ``i`` has ``pair_id`` ``first_pair_id + i`` and ``seq`` ``first_seq +
    i``; the per-pair columns hold one entry a pair: ``bell_indices`` and
    ``outcomes`` as digits, ``bases`` as Z/X letters, ``times_ps`` when it
    was heralded and ``fidelities`` its true fidelity then. Both ends
    report the same pairs at the same instant."""

    kind: Literal["OK_BATCH"] = "OK_BATCH"
    create_id: int = Field(ge=0)
    origin: NodeName
    remote: NodeName
    first_pair_id: int = Field(ge=0)
    first_seq: int = Field(ge=0)
    purpose_id: int = Field(ge=0)
    bell_indices: BellIndicesColumn
    bases: BasesColumn
    outcomes: BitsColumn
    times_ps: tuple[int, ...]
    fidelities: tuple[float, ...]

    @property
    def count(self) -> int:
        return len(self.bases)

    @classmethod
    def of(cls, ok: LinkOk) -> LinkOkBatch:
        """A measured pair's OK as a batch of one (from a link protocol that
        reports a batched request pair by pair, as it may)."""
        assert ok.basis is not None and ok.outcome is not None, "a measured pair's OK"
        return cls.trusted(
            create_id=ok.create_id,
            origin=ok.origin,
            remote=ok.remote,
            first_pair_id=ok.pair_id,
            first_seq=ok.seq,
            purpose_id=ok.purpose_id,
            bell_indices=str(ok.bell_index),
            bases=ok.basis,
            outcomes=str(ok.outcome),
            times_ps=(ok.time_ps,),
            fidelities=(ok.fidelity,),
        )

    def oks(self) -> list[LinkOk]:
        """The batch as the OKs the per-pair path would have given (for
        checkers and readers of traces: the fast path never builds them)."""
        return [
            LinkOk.trusted(
                create_id=self.create_id,
                origin=self.origin,
                remote=self.remote,
                pair_id=self.first_pair_id + i,
                seq=self.first_seq + i,
                bell_index=int(self.bell_indices[i]),
                qubit=None,
                time_ps=self.times_ps[i],
                fidelity=self.fidelities[i],
                purpose_id=self.purpose_id,
                basis=self.bases[i],
                outcome=int(self.outcomes[i]),
            )
            for i in range(self.count)
        ]


class LinkError(Primitive):
    """ERROR: the request ended without all its pairs, for ``reason``."""

    kind: Literal["ERROR"] = "ERROR"
    create_id: int = Field(ge=0)
    origin: NodeName
    remote: NodeName
    reason: LinkErrorReason
    detail: str
    delivered: int = Field(ge=0, description="pairs delivered before the error")


class LinkExpire(Primitive):
    """EXPIRE: a pair reported by an earlier OK is no longer entangled."""

    kind: Literal["EXPIRE"] = "EXPIRE"
    create_id: int = Field(ge=0)
    origin: NodeName
    remote: NodeName
    pair_id: int = Field(ge=0)
    qubit: int = Field(ge=0)


LinkCause = Literal[
    "cut",  # the fiber was cut
    "repaired",  # the fiber was repaired
    "peer_failed",  # the node at the other end failed (its memory is lost)
    "peer_recovered",  # the node at the other end came back
]


class LinkStatus(Primitive):
    """LINK_STATUS: the link to ``remote`` went down (``up`` false) or came
    back, and why; the layer above learns of faults from its links."""

    kind: Literal["LINK_STATUS"] = "LINK_STATUS"
    remote: NodeName
    up: bool
    cause: LinkCause


class QueueAdd(PeerMessage):
    """Ask the peer to add a request to the link's shared queue.

    The queue master (the link's ``a`` node) fills in ``qseq`` and
    ``start_ps`` when it is the origin; otherwise it answers with them in
    :class:`QueueAck`.
    """

    kind: Literal["QUEUE_ADD"] = "QUEUE_ADD"
    origin: NodeName
    create_id: int = Field(ge=0)
    request: LinkCreate
    deadline_ps: int | None
    qseq: int | None
    start_ps: int | None


class QueueAck(PeerMessage):
    """The peer has queued the request; attempts may start at ``start_ps``."""

    kind: Literal["QUEUE_ACK"] = "QUEUE_ACK"
    origin: NodeName
    create_id: int = Field(ge=0)
    qseq: int = Field(ge=0)
    start_ps: int = Field(ge=0)


class QueueReject(PeerMessage):
    """The peer refuses the request."""

    kind: Literal["QUEUE_REJECT"] = "QUEUE_REJECT"
    origin: NodeName
    create_id: int = Field(ge=0)
    reason: LinkErrorReason
    detail: str


class QueueCancel(PeerMessage):
    """The origin cancels its request; both ends stop serving it at ``end_ps``."""

    kind: Literal["QUEUE_CANCEL"] = "QUEUE_CANCEL"
    origin: NodeName
    create_id: int = Field(ge=0)
    end_ps: int = Field(ge=0)


class QueueCredit(PeerMessage):
    """This end freed a kept pair of a request with a ``window``: from
    ``at_ps`` on, both ends count one pair fewer held here, so both agree
    when the request may be attempted again."""

    kind: Literal["QUEUE_CREDIT"] = "QUEUE_CREDIT"
    origin: NodeName
    create_id: int = Field(ge=0)
    at_ps: int = Field(ge=0)


LinkPrimitive = LinkCreate | LinkCancel | LinkOk | LinkError | LinkExpire | LinkStatus
LinkPeerMessage = QueueAdd | QueueAck | QueueReject | QueueCancel | QueueCredit
