"""The link layer's boundaries: its service, its user, and what it is built with.

A link protocol is any class with a constructor taking one
:class:`LinkContext` and offering :class:`LinkEntity`; the built-in
:class:`qstack.layers.link.egp.LinkLayer` is one. The network and the
conformance harness build every link end through the same function
(:func:`qstack.wiring.build_link`), with a context holding exactly what is
listed here, so a protocol that passes ``qstack conform link`` runs in a
network unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qstack.hardware.memory import Memory
from qstack.layers.link.messages import (
    LinkCancel,
    LinkCreate,
    LinkError,
    LinkExpire,
    LinkOk,
    LinkOkBatch,
    LinkStatus,
)
from qstack.layers.link.state import LinkFault
from qstack.layers.physical.service import AttemptSetting, PhysicalService, PhysicalUser
from qstack.messages import PeerMessage
from qstack.sim.kernel import Timer

SetTimer = Callable[[int, Callable[[int, object], None], object], Timer]
"""``set_timer(delay_ps, callback, argument)``: ``callback(now, argument)``
after ``delay_ps`` unless the returned timer is cancelled first."""


class SettingChooser(Protocol):
    """The physical layer's answer to: how do we attempt for this fidelity?"""

    @property
    def best_fidelity(self) -> float:
        """The highest fidelity at delivery any request can get."""
        ...

    def setting_for(self, min_fidelity: float) -> AttemptSetting | None: ...


class LinkUser(Protocol):
    """The layer above a link entity: receives its confirmations and indications."""

    def link_ok(self, now: int, ok: LinkOk) -> None: ...

    def link_ok_batch(self, now: int, batch: LinkOkBatch) -> None:
        """Pairs of a ``batched`` request, measured as they were heralded."""
        ...

    def link_error(self, now: int, error: LinkError) -> None: ...

    def link_expire(self, now: int, expire: LinkExpire) -> None: ...

    def link_status(self, now: int, status: LinkStatus) -> None:
        """The link went down or came back (a cut, the peer node's failure)."""
        ...


class LinkService(Protocol):
    """The link layer as the layer above sees it on one node, for one link."""

    @property
    def capacity(self) -> int:
        """Most qubits the link may fill at this node at once."""
        ...

    @property
    def next_create_id(self) -> int:
        """The id the next CREATE will get: an impossible CREATE is answered
        (ERROR) before ``create`` returns, so the caller files its request
        under this id first."""
        ...

    def create(self, now: int, request: LinkCreate) -> int:
        """CREATE: queue a request; returns its ``create_id``."""
        ...

    def cancel(self, now: int, request: LinkCancel) -> None:
        """CANCEL: end a request this node created."""
        ...


class LinkEntity(LinkService, PhysicalUser, Protocol):
    """Everything the wiring calls on one end of a link."""

    def bind(self, user: LinkUser) -> None:
        """Connect the layer above (its OK / ERROR / EXPIRE go there)."""
        ...

    def connect(self, send: Callable[[PeerMessage], None]) -> None:
        """Connect the classical channel towards the peer entity."""
        ...

    def receive(self, now: int, message: PeerMessage) -> None:
        """A peer message from the other end of the link."""
        ...

    def fault(self, now: int, event: LinkFault) -> None:
        """A fault (``qstack.layers.link.state``): the fiber cut or repaired,
        the peer node failed or back, this node failed or back. While any
        cause is down, live requests end in ERROR and no CREATE is served;
        when the peer fails, kept pairs whose other half it held are reported
        with EXPIRE; LINK_STATUS tells the layer above of the fiber and the
        peer."""
        ...

    def undeliverable(self, now: int, message: PeerMessage) -> None:
        """The classical network could not deliver ``message`` to the peer."""
        ...


@dataclass(frozen=True, slots=True)
class LinkContext:
    """What one end of a link is built with, in a network and in the harness alike.

    ``side`` is 0 at the link's ``a`` end (the queue master) and 1 at ``b``.
    ``memory`` is the node's qubit allocator (its ``qubits`` register is how
    the entity measures a pair half for measure-type requests). Kept qubits
    are handed to the holder ``upper_holder`` before their OK. ``capacity``
    is the most qubits this link may fill at the node at once.
    """

    node: str
    peer: str
    side: int
    memory: Memory
    physical: PhysicalService
    settings: SettingChooser
    set_timer: SetTimer
    one_way_delay_ps: int
    rng: np.random.Generator
    upper_holder: str
    capacity: int


class LinkLayerFactory(Protocol):
    """Builds one end of a link (a link protocol class is one)."""

    def __call__(self, context: LinkContext) -> LinkEntity: ...
