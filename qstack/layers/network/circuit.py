"""What one node keeps about a circuit, and the events that step it.

Each node on a circuit's path knows, for each qubit it holds for the
circuit, the *segment* that qubit ends (:class:`Segment`): who holds the
other end, how many link pairs it spans, its Bell state (the Pauli frame)
and the birth of its oldest link pair. Events that carry nothing are
single instances; the circuit table keys rows by their class.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from qstack.layers.link.messages import LinkError, LinkExpire, LinkOk
from qstack.layers.network.messages import NetCreate, NetErrorReason, PairCommit
from qstack.layers.network.policies import SwapPolicy
from qstack.sim.kernel import Timer

Side = Literal["up", "down"]
LinkKey = tuple[str, str, int]
"""A link request: (the neighbour, the request's origin, its create id)."""


def link_key(primitive: LinkOk | LinkError | LinkExpire) -> LinkKey:
    """The link request a link primitive is about."""
    return (primitive.remote, primitive.origin, primitive.create_id)


#: Circuit states in which the circuit still serves (before it ends here).
LIVE = ("setting_up", "active")
#: States of a circuit that has ended here but still waits for its link
#: requests to end (their last pairs or errors may still arrive).
WINDING_DOWN = ("tearing_down", "failing")


class Segment:
    """This node's end of a segment: one qubit held for a circuit."""

    __slots__ = (
        "birth_ps",
        "frame",
        "handle",
        "level",
        "links",
        "partner",
        "partner_handle",
        "qubit",
        "side",
        "timer",
    )

    def __init__(
        self, handle: str, qubit: int, side: Side, partner: str, birth_ps: int, level: int
    ) -> None:
        self.handle = handle
        self.qubit = qubit
        self.side = side
        self.partner = partner
        self.partner_handle = handle
        self.links = 1
        self.frame = 0
        self.birth_ps = birth_ps
        self.level = level
        self.timer: Timer | None = None


class Swapped:
    """The other side of a swap that removed one of this node's handles:
    what a late record about that handle must be extended by."""

    __slots__ = ("birth_ps", "frame", "links", "partner", "partner_handle")

    def __init__(self, other: Segment, outcome: int) -> None:
        self.partner = other.partner
        self.partner_handle = other.partner_handle
        self.links = other.links
        self.frame = other.frame ^ outcome
        self.birth_ps = other.birth_ps


class Circuit:
    """One circuit as one node sees it."""

    def __init__(
        self,
        circuit_id: str,
        src: str,
        path: tuple[str, ...],
        position: int,
        request: NetCreate,
        deadline_ps: int | None,
        offsets_ps: Sequence[int],
        request_id: str | None = None,
        lossy_swaps: bool = False,
    ) -> None:
        self.id = circuit_id
        #: The request the circuit serves (a reroute installs a new circuit for it).
        self.request_id = circuit_id if request_id is None else request_id
        self.src = src
        self.dst = path[-1]
        self.path = path
        self.position = position
        self.hops = len(path) - 1
        self.request = request
        self.deadline_ps = deadline_ps
        self.offsets_ps = offsets_ps
        #: Each node's position on the path (shared by the path's nodes).
        self.positions: Mapping[str, int] = {}
        self.up_peer = path[position - 1] if position > 0 else None
        self.down_peer = path[position + 1] if position < self.hops else None
        self.state = "setting_up"
        self.target_level = request.purification_rounds if request.purification != "none" else 0
        self.down_create_id: int | None = None
        self.link_keys: set[LinkKey] = set()
        # Without cutoff, purification, swaps that can fail (``lossy_swaps``)
        # or rerouting, every link pair ends up in an end-to-end pair, so each
        # hop needs exactly ``number`` of them; otherwise the link requests
        # run until the circuit cancels them.
        exact = (
            request.cutoff_ps is None
            and self.target_level == 0
            and not lossy_swaps
            and not request.reroute
        )
        #: The measure-directly path: one hop, nothing to purify, so both
        #: ends measure every pair as it is heralded and never store it.
        self.measured_directly = (
            request.measure_directly
            and request.type == "measure"
            and self.hops == 1
            and self.target_level == 0
        )
        exact = exact or (self.measured_directly and not request.reroute)
        self.link_pairs: int | None = request.number if exact else None
        # The source decides which end-to-end pairs count (PAIR_COMMIT) when
        # pairs can be lost on the way, a deadline can cut the request while
        # the news of a pair is still travelling to one end, or a fault can
        # break the circuit (reroute). Pairs measured directly reach both
        # ends at once, and the link stops at the deadline.
        self.commit = not self.measured_directly and (not exact or request.max_time_ps is not None)
        self.link_counts: dict[LinkKey, int] = {}
        # The Werner parameter of the request's minimum, shared equally by
        # the hops (with purification the links may start lower: no minimum).
        w_min = max(4.0 * request.min_fidelity - 1.0, 0.0) / 3.0
        self.link_min_fidelity = (
            (1.0 + 3.0 * w_min ** (1.0 / self.hops)) / 4.0
            if self.target_level == 0 and request.min_fidelity > 0.0
            else 0.0
        )
        self.segments: dict[str, Segment] = {}
        self.ready: dict[Side, list[Segment]] = {"up": [], "down": []}
        self.purifying: dict[tuple[Side, int], list[Segment]] = {}
        self.swapped: dict[str, Swapped] = {}
        self.swapped_expiry: collections.deque[tuple[int, str, str]] = collections.deque()
        self.delivered = 0
        #: NET_DONE was given here: the request cannot end in NET_ERROR here any more.
        self.done_here = False
        #: Circuits the request had before this one (faults it was routed around).
        self.reroutes = 0
        #: With ``reroute``: the ids of the pairs delivered here, over every
        #: circuit of the request (what a new circuit's ends compare).
        self.kept: list[str] | None = [] if request.reroute else None
        #: At the source of a new circuit: how many of ``kept`` came from the
        #: earlier circuits, and whether the destination has said which of
        #: those it holds (PATH_READY); until then the request cannot complete.
        self.carried = 0
        self.dst_ready = True
        self.commits: dict[str, PairCommit] = {}
        self.complete: dict[str, Segment] = {}
        self.deadline_timer: Timer | None = None
        #: The request's swap policy, looked up on first use (a swap asks).
        self.swap_policy: SwapPolicy | None = None
        #: With reservation: the qubits reserved here, and how many circuits
        #: of the request were refused for memory before this one.
        self.reserved = 0
        self.admissions = 0

    @property
    def ended(self) -> bool:
        """The circuit no longer serves here (done, failed, or winding down)."""
        return self.state not in LIVE

    def delay_to(self, node_position: int) -> int:
        return abs(self.offsets_ps[node_position] - self.offsets_ps[self.position])


# -- events --------------------------------------------------------------------


class CircuitOpened:
    """The entity holds a live circuit."""

    __slots__ = ()


class CircuitsClosed:
    """The entity's last circuit ended."""

    __slots__ = ()


class NodeDown:
    """Fault: the node failed."""

    __slots__ = ()


class NodeUp:
    """Fault: the node came back."""

    __slots__ = ()


class DeadlinePassed:
    """The request's ``max_time`` passed (at the destination: plus the time
    the source's last commits need to arrive)."""

    __slots__ = ()


class AllDelivered:
    """The source delivered the request's last pair."""

    __slots__ = ()


class LinksReleased:
    """Every link request this node made or served for the circuit has ended."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class CutoffExpired:
    """A segment this node holds is older than the circuit's cutoff."""

    segment: Segment


@dataclass(frozen=True, slots=True)
class SwapFailed:
    """This repeater's Bell-state measurement of two segments failed: both are lost."""

    left: Segment
    right: Segment


@dataclass(frozen=True, slots=True)
class PurifyDone:
    """The purification this node ran has been heard of at the other end."""

    kept: Segment
    success: bool


@dataclass(frozen=True, slots=True)
class Abort:
    """End the circuit, everywhere on its path, for ``reason``."""

    reason: NetErrorReason
    detail: str


@dataclass(frozen=True, slots=True)
class Refused:
    """This node cannot reserve the circuit's memory: it ends (``busy``) and
    its source tries again later."""

    detail: str


@dataclass(frozen=True, slots=True)
class PathBroken:
    """A node or fiber on the circuit's path is down (or a node of the path
    cannot be reached): the circuit ends everywhere."""

    detail: str


@dataclass(frozen=True, slots=True)
class LocalFailure:
    """This node failed under the circuit: it ends here without a word to anyone."""

    detail: str


CIRCUIT_OPENED = CircuitOpened()
CIRCUITS_CLOSED = CircuitsClosed()
NODE_DOWN = NodeDown()
DEADLINE_PASSED = DeadlinePassed()
LINKS_RELEASED = LinksReleased()
ALL_DELIVERED = AllDelivered()
