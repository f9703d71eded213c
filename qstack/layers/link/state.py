"""What a link end keeps (its requests and delivered pairs) and the events,
beside the service primitives and peer messages, that step their lifecycles.

Events that carry nothing are single instances: they happen once per
request or pair, and the tables key rows by their class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from qstack.layers.link.messages import LinkCreate, LinkOk
from qstack.layers.physical.service import AttemptSetting
from qstack.messages import PeerMessage
from qstack.sim.kernel import Timer

RequestKey = tuple[str, int]


class StartTime:
    """The agreed time from which both ends serve a request has come."""

    __slots__ = ()


class DeadlinePassed:
    """A request's ``max_time`` passed."""

    __slots__ = ()


class CancelTime:
    """The agreed end time of a cancelled request came."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class CreditTime:
    """The agreed time of a QUEUE_CREDIT came: one of the request's pairs
    held at ``side`` counts as freed at both ends."""

    side: int


@dataclass(frozen=True, slots=True)
class LinkEnded:
    """The link went out of service under a live request (``detail`` says why)."""

    detail: str


class LinkFault:
    """A fault at one end of a link; ``cause`` says what is (or is no longer)
    down: this end's fiber, the peer node, or this end's own node."""

    __slots__ = ()
    cause: ClassVar[str] = ""


class FiberCut(LinkFault):
    """The link's fiber was cut: no heralds, no classical messages over it."""

    cause = "fiber"


class FiberRepaired(LinkFault):
    """The link's fiber was repaired."""

    cause = "fiber"


class PeerFailed(LinkFault):
    """The peer node failed, taking the other halves of pairs with it."""

    cause = "peer"


class PeerRecovered(LinkFault):
    """The peer node came back (with an empty memory)."""

    cause = "peer"


class AwaitingPeer(LinkFault):
    """This end's node is back and has not yet heard the peer (its first
    message, a heartbeat, brings PeerRecovered): until then nothing the peer
    sent before can be taken for current."""

    cause = "peer"


class NodeFailed(LinkFault):
    """This end's own node failed."""

    cause = "node"


class NodeRecovered(LinkFault):
    """This end's own node came back."""

    cause = "node"


#: The faults that take a link down, and those that bring it back.
DOWN_FAULTS: tuple[type[LinkFault], ...] = (FiberCut, PeerFailed, AwaitingPeer, NodeFailed)
UP_FAULTS: tuple[type[LinkFault], ...] = (FiberRepaired, PeerRecovered, NodeRecovered)


@dataclass(frozen=True, slots=True)
class Undeliverable:
    """The classical network gave up on a peer message (the peer unreachable)."""

    message: PeerMessage


class RequestQueued:
    """The entity's queue gained a live request."""

    __slots__ = ()


class QueueEmptied:
    """The entity's last live request ended."""

    __slots__ = ()


class Released:
    """The upper layer freed a delivered pair's qubit."""

    __slots__ = ()


class PeerLost:
    """The peer node failed, taking the other half of a delivered pair with it."""

    __slots__ = ()


#: One per side: the events a QUEUE_CREDIT's agreed time brings.
CREDIT_TIMES = (CreditTime(0), CreditTime(1))
START_TIME = StartTime()
DEADLINE_PASSED = DeadlinePassed()
CANCEL_TIME = CancelTime()
REQUEST_QUEUED = RequestQueued()
QUEUE_EMPTIED = QueueEmptied()
RELEASED = Released()
PEER_LOST = PeerLost()


#: Most pairs of a batched request heralded by one attempt (HERALD_BATCH):
#: large enough that a batch's fixed cost is small per pair, small enough
#: that requests sharing the link take turns often.
BATCH_PAIRS = 1024


class LinkRequest:
    """One request in the shared queue, as one end sees it."""

    __slots__ = (
        "batch",
        "create",
        "create_id",
        "credited",
        "deadline_ps",
        "deadline_timer",
        "delivered",
        "kept",
        "key",
        "origin",
        "qseq",
        "setting",
        "start_ps",
        "state",
        "window",
    )

    def __init__(
        self,
        origin: str,
        create_id: int,
        create: LinkCreate,
        setting: AttemptSetting,
        deadline_ps: int | None,
    ) -> None:
        self.origin = origin
        self.create_id = create_id
        #: The request's name on both ends: (origin, create_id).
        self.key: RequestKey = (origin, create_id)
        self.create = create
        self.setting = setting
        self.deadline_ps = deadline_ps
        self.deadline_timer: Timer | None = None
        self.state = "negotiating"
        self.qseq = -1
        self.start_ps = -1
        self.delivered = 0
        #: Flow control (``create.window``): kept pairs heralded, and per
        #: side those both ends count as freed since (QUEUE_CREDIT).
        self.window = create.window if create.type == "keep" else None
        self.kept = 0
        self.credited = [0, 0]
        #: Most pairs one attempt may herald for a batched measure request
        #: (the measure-directly path); 0: not batched, one pair at a time.
        self.batch = BATCH_PAIRS if create.batched else 0

    @property
    def order(self) -> tuple[int, int]:
        return (self.create.priority, self.qseq)

    @property
    def open(self) -> bool:
        """Both ends agree the request may be attempted: below its window at each end."""
        window = self.window
        if window is None:
            return True
        kept = self.kept
        credited = self.credited
        return kept - credited[0] < window and kept - credited[1] < window


class DeliveredPair:
    """A kept pair handed up and not yet freed: the only kind that can EXPIRE.
    ``request``: its request, when that has a window (freeing the pair
    gives it a credit)."""

    __slots__ = ("ok", "request", "state")

    def __init__(self, ok: LinkOk, request: LinkRequest | None = None) -> None:
        self.ok = ok
        self.request = request
        self.state = "delivered"
