"""Choose trace lines: by node, layer, request and time window, and cut a
trace after its first end-to-end pairs, all line by line.

Every stage here reads a stream in order and holds only what the order
needs: the ids given so far, the link requests a circuit named, the lines of
one instant (a circuit names its link requests in the same instant as their
first messages), the pairs delivered at one end only.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from qstack.tracing.reader import TraceError, TraceLine

#: Lines of one instant held back while a request filter learns which link
#: requests the instant's PATH_INSTALLs name; beyond this they go on as known.
INSTANT_BUFFER = 10_000
PS_PER_S = 10**12

LinkKey = tuple[str, str, int]
Owner = str | LinkKey | None


@dataclass(frozen=True, slots=True)
class RequestId:
    """A parsed ``--request``: a NET request ``src#n`` or a link request
    ``origin:create_id`` (optionally ``origin:remote:create_id``)."""

    network: str | None = None
    origin: str | None = None
    remote: str | None = None
    create_id: int | None = None

    @classmethod
    def parse(cls, text: str) -> RequestId:
        """Parse a request id; :class:`TraceError` if it is neither form."""
        if "#" in text and ":" not in text:
            node, _, number = text.partition("#")
            if node and number.isdigit():
                return cls(network=text)
        parts = text.split(":")
        if len(parts) in (2, 3) and parts[-1].isdigit() and all(parts[:-1]):
            remote = parts[1] if len(parts) == 3 else None
            return cls(origin=parts[0], remote=remote, create_id=int(parts[-1]))
        raise TraceError(
            f"--request = {text!r}: expected a network request id SRC#N (e.g. 'alice#0') "
            "or a link request id ORIGIN:CREATE_ID (e.g. 'alice:3', or 'alice:bob:3')"
        )

    def matches_link(self, key: LinkKey) -> bool:
        """Whether a link request key is the one this id names."""
        origin, remote, create_id = key
        return (
            origin == self.origin
            and create_id == self.create_id
            and (self.remote is None or remote == self.remote)
        )


def link_key(line: TraceLine) -> LinkKey | None:
    """``(origin, origin's remote, create_id)`` of a link message that names
    its request (not CREATE / CANCEL, which do not carry the id)."""
    message = line.message
    origin = getattr(message, "origin", None)
    create_id = getattr(message, "create_id", None)
    if line.layer != "link" or not isinstance(origin, str) or not isinstance(create_id, int):
        return None
    if line.peer is not None:
        other = line.peer
    else:
        remote = getattr(message, "remote", None)
        if not isinstance(remote, str):
            return None
        other = remote
    origin_remote = other if line.node == origin else line.node
    return (origin, origin_remote, create_id)


class RequestTracker:
    """The request each line belongs to, given the lines in trace order.

    CREATE / NET_CREATE get the id their entity gave them (ids count up per
    node, per link entity for the link layer); network and application
    messages name theirs (``request_id`` or ``circuit``); link messages name
    ``(origin, remote, create_id)``.
    """

    def __init__(self) -> None:
        self._net: dict[str, int] = defaultdict(int)
        self._link: dict[tuple[str, str], int] = defaultdict(int)

    def owner(self, line: TraceLine) -> Owner:
        """The request ``line`` is about (call once per line, in order)."""
        message = line.message
        kind = line.kind
        if kind == "NET_CREATE" and line.direction == "down":
            number = self._net[line.node]
            self._net[line.node] += 1
            return f"{line.node}#{number}"
        if kind == "CREATE" and line.direction == "down" and line.layer == "link":
            remote = str(getattr(message, "remote", ""))
            number = self._link[(line.node, remote)]
            self._link[(line.node, remote)] += 1
            return (line.node, remote, number)
        if kind == "CANCEL" and line.direction == "down" and line.layer == "link":
            remote = str(getattr(message, "remote", ""))
            return (line.node, remote, int(getattr(message, "create_id", -1)))
        if line.layer != "link":
            circuit = getattr(message, "request_id", None) or getattr(message, "circuit", None)
            return circuit if isinstance(circuit, str) else None
        return link_key(line)


def installed_link(line: TraceLine) -> LinkKey | None:
    """The link request a PATH_INSTALL names: the one its sender made
    towards its receiver."""
    if line.kind != "PATH_INSTALL" or line.peer is None:
        return None
    create_id = getattr(line.message, "upstream_create_id", None)
    if not isinstance(create_id, int):
        return None
    if line.direction == "send":
        return (line.node, line.peer, create_id)
    return (line.peer, line.node, create_id)


@dataclass(frozen=True)
class Selection:
    """Which lines to show: at one of ``nodes``, in one of ``layers``, about
    ``request``, at or after ``start_ps``. ``request`` is a NET request id
    (``"alice#0"``: its NET_CREATE, the primitives and peer messages naming
    it, its application messages and, with ``with_links``, the link requests
    its circuit made, named by its PATH_INSTALLs) or a link request id
    (``"alice:3"``: every link message of request 3 created at alice, on any
    of alice's links; ``"alice:bob:3"``: on the link to bob only)."""

    nodes: frozenset[str] | None = None
    layers: frozenset[str] | None = None
    request: RequestId | None = None
    with_links: bool = True
    start_ps: int = 0

    @classmethod
    def of(
        cls,
        nodes: Iterable[str] | None = None,
        layers: Iterable[str] | None = None,
        request: str | None = None,
        with_links: bool = True,
        start_ps: int = 0,
    ) -> Selection:
        """A selection from command-line style arguments."""
        return cls(
            None if nodes is None else frozenset(nodes),
            None if layers is None else frozenset(layers),
            None if request is None else RequestId.parse(request),
            with_links,
            start_ps,
        )

    def verdicts(self, lines: Iterable[TraceLine]) -> Iterator[tuple[TraceLine, bool]]:
        """Every line with whether it is selected, in order.

        With a network request and its links, the lines of one instant are
        held back (at most :data:`INSTANT_BUFFER`) until the instant's
        PATH_INSTALLs have named the link requests of the circuit.
        """
        tracker = RequestTracker()
        links: set[LinkKey] = set()
        wanted = self.request
        network = wanted.network if wanted is not None and self.with_links else None
        instant: list[tuple[TraceLine, Owner]] = []
        for line in lines:
            owner = tracker.owner(line) if wanted is not None else None
            if network is None:
                yield line, self._keeps(line, owner, links)
                continue
            if instant and (
                line.time_ps != instant[0][0].time_ps or len(instant) >= INSTANT_BUFFER
            ):
                yield from ((held, self._keeps(held, o, links)) for held, o in instant)
                instant.clear()
            key = installed_link(line)
            if key is not None and owner == network:
                links.add(key)
            instant.append((line, owner))
        yield from ((held, self._keeps(held, o, links)) for held, o in instant)

    def _keeps(self, line: TraceLine, owner: Owner, links: set[LinkKey]) -> bool:
        if line.time_ps < self.start_ps:
            return False
        if self.nodes is not None and line.node not in self.nodes:
            return False
        if self.layers is not None and line.layer not in self.layers:
            return False
        wanted = self.request
        if wanted is None:
            return True
        if wanted.network is not None:
            return owner == wanted.network or (isinstance(owner, tuple) and owner in links)
        return isinstance(owner, tuple) and wanted.matches_link(owner)

    def select(self, lines: Iterable[TraceLine]) -> Iterator[TraceLine]:
        """The selected lines, in order."""
        return (line for line, kept in self.verdicts(lines) if kept)


def without_transitions(lines: Iterable[TraceLine]) -> Iterator[TraceLine]:
    """The lines but the TRANSITION records: they count lifecycle steps for
    the state diagrams, and would drown the messages in a chart or a listing."""
    return (line for line in lines if line.kind != "TRANSITION")


def filter_trace(
    lines: Sequence[TraceLine],
    nodes: Iterable[str] | None = None,
    layers: Iterable[str] | None = None,
    request: str | None = None,
    with_links: bool = True,
) -> list[TraceLine]:
    """The lines at one of ``nodes``, in one of ``layers``, about
    ``request`` (see :class:`Selection`)."""
    return list(Selection.of(nodes, layers, request, with_links).select(lines))


class Cut:
    """Stop a trace at the end of a time window or once its first pairs are
    delivered; ``cut_ps`` says where it stopped (None: it ran to its end).

    A pair counts when NET_OK has reported it at both ends (of ``request``
    only, when one is given); the line that completes the ``first_pairs``-th
    pair is the last one passed on.
    """

    def __init__(
        self,
        first_pairs: int | None = None,
        end_ps: int | None = None,
        request: str | None = None,
    ) -> None:
        self.first_pairs = first_pairs
        self.end_ps = end_ps
        self.request = request
        self.cut_ps: int | None = None
        self.delivered = 0

    def apply(self, lines: Iterable[TraceLine]) -> Iterator[TraceLine]:
        """The lines before the cut, in order."""
        one_end: set[str] = set()
        for line in lines:
            if self.end_ps is not None and line.time_ps > self.end_ps:
                self.cut_ps = self.end_ps
                return
            yield line
            if self.first_pairs is None or line.kind not in ("NET_OK", "NET_OK_BATCH"):
                continue
            request_id = getattr(line.message, "request_id", None)
            if self.request is not None and request_id != self.request:
                continue
            # A batch counts its pairs at once, named by its first.
            pair_ids = getattr(line.message, "pair_ids", None) or [
                getattr(line.message, "pair_id", "")
            ]
            pair = f"{request_id}/{pair_ids[0]}"
            if pair not in one_end:
                one_end.add(pair)
                continue
            one_end.discard(pair)
            self.delivered += len(pair_ids)
            if self.delivered >= self.first_pairs:
                self.cut_ps = line.time_ps
                return


def parse_window(text: str) -> tuple[int, int | None]:
    """``START:END`` in seconds (either may be empty) as picoseconds;
    :class:`TraceError` names the value when it is not a window."""
    start_text, colon, end_text = text.partition(":")
    problem = (
        f"--window = {text!r}: expected START:END in seconds (e.g. '0.1:0.25', "
        "'0.5:' or ':2'), START <= END, both >= 0"
    )
    if not colon:
        raise TraceError(problem)
    try:
        start = float(start_text) if start_text.strip() else 0.0
        end = float(end_text) if end_text.strip() else None
    except ValueError:
        raise TraceError(problem) from None
    if (
        not math.isfinite(start)
        or start < 0
        or (end is not None and (not math.isfinite(end) or end < start))
    ):
        raise TraceError(problem)
    return round(start * PS_PER_S), None if end is None else round(end * PS_PER_S)
