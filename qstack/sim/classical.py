"""The classical network under the quantum stack: every peer message crosses it.

Each layer's peer messages travel a *route* of fibers: the link between two
link entities, the circuit's path for the network layer, the fastest path
for applications. While nothing has gone wrong in a run (no fault ever
scheduled), a message simply arrives one route delay later, in order.

Once the run is *degraded* (a node went down, a fiber was cut, a link lost
classical messages), the model is a reliable transport over unreliable
fibers, as the classical internet under a quantum network is:

- **loss**: each hop retransmits a lost message after a timeout (twice the
  hop's delay plus a microsecond) until it gets through, and the receiver
  keeps one copy of each (duplicates are suppressed). So a message crosses
  a hop with probability 1 - p per try; the number of tries is geometric,
  drawn once per message and lossy hop (one draw instead of one event per
  try, as failed heralding attempts are drawn). Messages from one node to
  another arrive in the order they were sent, whatever their layer (one
  ordered session per pair of nodes: a link request never reaches the far
  end before the circuit that asked for it);
- **cuts and failed nodes**: a route through a cut fiber or a failed node
  is replaced by the fastest one still working (the classical internet
  routes around failures), except a link layer's own fiber, which has no
  way around. A message with no working route, or whose target is down, is
  given up on after :data:`UNREACHABLE_AFTER_PS` and its sender is told
  (``undeliverable``), as a transport reports a peer it cannot reach;
- a message whose target fails while it travels is lost (the transport
  session died with the node, even if the node is back when it arrives),
  as is a link layer's message on its fiber when the fiber is cut under
  it; its sender is told as above. (A message on a route that can change is
  taken to be resent around the cut; the extra delay is left out.)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import networkx as nx
import numpy as np

from qstack.sim.kernel import Simulator, seconds_to_ps
from qstack.sim.random import UniformBuffer

#: How long a sender's transport keeps trying a peer it cannot reach before
#: it says so.
UNREACHABLE_AFTER_PS = seconds_to_ps(0.2)
#: Added to a hop's round trip to make its retransmission timeout.
RETRANSMIT_MARGIN_PS = seconds_to_ps(1e-6)

Deliver = Callable[[Any], None]


class ClassicalNetwork:
    """Fault state of the classical network and the delivery of every message."""

    __slots__ = (
        "_cut_at",
        "_delays",
        "_failed_at",
        "_graph",
        "_last",
        "_loss",
        "_sim",
        "_ticks",
        "_uniforms",
        "cut",
        "degraded",
        "down",
    )

    def __init__(self, sim: Simulator, rng: np.random.Generator) -> None:
        self._sim = sim
        self._delays: dict[frozenset[str], int] = {}
        self._graph = nx.Graph()
        self._uniforms = UniformBuffer(rng)
        self._loss: dict[frozenset[str], float] = {}
        self._last: dict[tuple[str, str], int] = {}
        # When each node last failed and each fiber was last cut, in ticks: a
        # count of sends and faults, which orders them within a picosecond.
        self._ticks = 0
        self._failed_at: dict[str, int] = {}
        self._cut_at: dict[frozenset[str], int] = {}
        #: Nodes down and fibers cut now.
        self.down: set[str] = set()
        self.cut: set[frozenset[str]] = set()
        #: Whether anything has ever gone wrong in this run.
        self.degraded = False

    def add_link(self, a: str, b: str, delay_ps: int) -> None:
        """A fiber between ``a`` and ``b`` with a one-way delay of ``delay_ps``."""
        self._delays[frozenset((a, b))] = delay_ps
        self._graph.add_edge(a, b, delay=delay_ps)

    def delay(self, a: str, b: str) -> int:
        """The one-way delay of the fiber between ``a`` and ``b``."""
        return self._delays[frozenset((a, b))]

    # -- faults ------------------------------------------------------------------

    def node_down(self, node: str) -> None:
        self.degraded = True
        self.down.add(node)
        self._failed_at[node] = self._tick()

    def node_up(self, node: str) -> None:
        self.down.discard(node)

    def link_down(self, a: str, b: str) -> None:
        self.degraded = True
        self.cut.add(frozenset((a, b)))
        self._cut_at[frozenset((a, b))] = self._tick()

    def link_up(self, a: str, b: str) -> None:
        self.cut.discard(frozenset((a, b)))

    def set_loss(self, a: str, b: str, probability: float) -> None:
        """From now on each message over the link a-b is lost with ``probability``."""
        self.degraded = True
        if probability > 0.0:
            self._loss[frozenset((a, b))] = probability
        else:
            self._loss.pop(frozenset((a, b)), None)

    def loss(self, a: str, b: str) -> float:
        return self._loss.get(frozenset((a, b)), 0.0)

    # -- delivery ----------------------------------------------------------------

    def send(
        self,
        sender: str,
        target: str,
        route: Sequence[str],
        delay_ps: int,
        deliver: Deliver,
        argument: Any,
        undeliverable: Deliver | None = None,
        fiber: frozenset[str] | None = None,
    ) -> None:
        """Carry a message from ``sender`` to ``target`` along ``route`` (its
        fiber delay is ``delay_ps``) and call ``deliver(argument)`` on arrival.

        ``fiber``: the one fiber the message must take (a link layer's own,
        as ``frozenset((a, b))``), or None if its route may change.
        ``undeliverable(argument)`` is called if the message cannot arrive.
        """
        sim = self._sim
        if not self.degraded:
            # Until the first fault, a message takes its route's delay (still
            # checked on arrival: a fault may come while it travels). Its
            # tick is 0: every fault is later.
            sim.schedule(
                delay_ps, self._arrive, (target, deliver, argument, undeliverable, 0, fiber)
            )
            return
        arrival = self._arrival(sender, target, route, fiber is not None)
        if arrival is None:
            if undeliverable is not None:
                sim.schedule(UNREACHABLE_AFTER_PS, undeliverable, argument)
            return
        key = (sender, target)
        arrival = max(arrival, self._last.get(key, 0))
        self._last[key] = arrival
        sim.schedule_at(
            arrival, self._arrive, (target, deliver, argument, undeliverable, self._tick(), fiber)
        )

    def _tick(self) -> int:
        self._ticks += 1
        return self._ticks

    def _arrive(
        self, argument: tuple[str, Deliver, Any, Deliver | None, int, frozenset[str] | None]
    ) -> None:
        if not self.degraded:
            argument[1](argument[2])  # nothing has gone wrong yet: it arrives
            return
        target, deliver, message, undeliverable, sent, fiber = argument
        lost = self._failed_at.get(target, -1) > sent or (
            fiber is not None and self._cut_at.get(fiber, -1) > sent
        )
        if not lost:
            deliver(message)
        elif undeliverable is not None:
            # The target failed while the message travelled (its transport
            # session died with it), or the only fiber it could take was cut
            # under it: no acknowledgement comes back and the sender's
            # transport gives up.
            self._sim.schedule(UNREACHABLE_AFTER_PS, undeliverable, message)

    def _arrival(self, sender: str, target: str, route: Sequence[str], fixed: bool) -> int | None:
        """When a message sent now arrives, or None if it cannot."""
        if sender in self.down or target in self.down:
            return None
        if not self._usable(route):
            if fixed:
                return None
            route = self._detour(sender, target)
            if not route:
                return None
        time = self._sim.now
        for a, b in itertools.pairwise(route):
            delay = self._delays[frozenset((a, b))]
            p = self._loss.get(frozenset((a, b)), 0.0)
            if p > 0.0:
                if p >= 1.0:
                    return None
                tries = 1 + int(math.log(self._uniforms.open_unit()) / math.log(p))
                time += (tries - 1) * (2 * delay + RETRANSMIT_MARGIN_PS)
            time += delay
        return time

    def _usable(self, route: Sequence[str]) -> bool:
        down, cut = self.down, self.cut
        if any(node in down for node in route):
            return False
        return not cut or all(frozenset((a, b)) not in cut for a, b in itertools.pairwise(route))

    def _detour(self, sender: str, target: str) -> list[str]:
        """The fastest route between two nodes over working fibers, or []."""
        graph = nx.restricted_view(
            self._graph, sorted(self.down), [tuple(sorted(link)) for link in self.cut]
        )
        try:
            path: list[str] = nx.shortest_path(graph, sender, target, weight="delay")
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return []
        return path

    def fastest(self, sender: str, target: str) -> tuple[list[str], int]:
        """The fastest route between two nodes over every fiber, and its delay."""
        path: list[str] = nx.shortest_path(self._graph, sender, target, weight="delay")
        delay = sum(self._delays[frozenset(hop)] for hop in itertools.pairwise(path))
        return path, delay
