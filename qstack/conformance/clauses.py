"""The numbered clauses of ``specs/link.md`` and ``specs/network.md``, one place.

Clause ids are stable (h2spec style, ``layer/section.item``); each has a
level (MUST or SHOULD), its text and the check that decides it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from qstack.conformance import link_checks, network_checks
from qstack.conformance.checks import Violation

Level = Literal["MUST", "SHOULD"]
Layer = Literal["link", "network"]
LAYERS: tuple[Layer, ...] = ("link", "network")


@dataclass(frozen=True, slots=True)
class Clause:
    """One invariant of a layer contract."""

    id: str
    layer: Layer
    level: Level
    text: str
    check: Callable[[Any], list[Violation]]


LINK_CLAUSES: tuple[Clause, ...] = (
    Clause(
        "link/3.1",
        "link",
        "MUST",
        "Every CREATE ends (all its OKs, an ERROR, or cancelled) by its max_time "
        "(the peer end: or at once if it hears of it later).",
        link_checks.check_link_3_1,
    ),
    Clause(
        "link/3.2",
        "link",
        "MUST",
        "Both ends report the same pair_id, bell_index, seq and time for each pair "
        "(and these are the heralded pair's).",
        link_checks.check_link_3_2,
    ),
    Clause(
        "link/3.3",
        "link",
        "MUST",
        "A memory qubit is never held by two pairs or holders at once, and every "
        "OK'd qubit is one the reporting end holds (handed to the upper layer).",
        link_checks.check_link_3_3,
    ),
    Clause(
        "link/3.4",
        "link",
        "MUST",
        "OK.fidelity is the true fidelity of the pair with the reported Bell state at "
        "the time of the OK, and is >= the request's min_fidelity.",
        link_checks.check_link_3_4,
    ),
    Clause(
        "link/3.5",
        "link",
        "SHOULD",
        "Attempts and OKs for a request happen only after both ends queued it.",
        link_checks.check_link_3_5,
    ),
    Clause(
        "link/3.6",
        "link",
        "MUST",
        "After a request ends, every qubit it used is freed or handed up.",
        link_checks.check_link_3_6,
    ),
    Clause(
        "link/3.7",
        "link",
        "MUST",
        "Every CREATE gets an answer (no silently dropped request).",
        link_checks.check_link_3_7,
    ),
    Clause(
        "link/3.8",
        "link",
        "SHOULD",
        "A request with a window (flow control) never has more than window of its kept "
        "pairs held at an end.",
        link_checks.check_link_3_8,
    ),
)

NETWORK_CLAUSES: tuple[Clause, ...] = (
    Clause(
        "net/4.1",
        "network",
        "MUST",
        "Every NET_CREATE ends in NET_DONE at both ends or NET_ERROR within max_time "
        "(the far end: plus the classical delay from the source).",
        network_checks.check_net_4_1,
    ),
    Clause(
        "net/4.2",
        "network",
        "MUST",
        "Both ends report the same set of pair_ids (less those the source took back "
        "with NET_EXPIRE).",
        network_checks.check_net_4_2,
    ),
    Clause(
        "net/4.3",
        "network",
        "MUST",
        "Every request's memory is freed when it ends.",
        network_checks.check_net_4_3,
    ),
    Clause(
        "net/4.4",
        "network",
        "MUST",
        "Delivered pairs are Phi+ after correction: NET_OK.bell_index = 0 and the true "
        "state's fidelity with Phi+ equals NET_OK.fidelity.",
        network_checks.check_net_4_4,
    ),
    Clause(
        "net/4.5",
        "network",
        "MUST",
        "No delivered pair is older than the request's cutoff.",
        network_checks.check_net_4_5,
    ),
    Clause(
        "net/4.6",
        "network",
        "MUST",
        "A kept pair handed up (NET_OK) is entangled across the request's ends: its other "
        "half is held at the other end, never lost with a failed node or a freed qubit.",
        network_checks.check_net_4_6,
    ),
    Clause(
        "net/4.7",
        "network",
        "MUST",
        "Each end ends a request once, whatever fails: NET_DONE or NET_ERROR, never both.",
        network_checks.check_net_4_7,
    ),
    Clause(
        "net/4.8",
        "network",
        "MUST",
        "A node that is down reports nothing but its failure's own NET_ERRORs (at that "
        "instant) and the NET_ERROR refusing a NET_CREATE issued there, and holds no "
        "qubit until it is back.",
        network_checks.check_net_4_8,
    ),
    Clause(
        "net/4.9",
        "network",
        "MUST",
        "A circuit refused for memory (reservation) is the network layer's own business: "
        "no application is told `busy`; the source tries again.",
        network_checks.check_net_4_9,
    ),
)

CLAUSES: dict[Layer, tuple[Clause, ...]] = {"link": LINK_CLAUSES, "network": NETWORK_CLAUSES}


def clause(clause_id: str) -> Clause:
    """The clause with this id; KeyError naming the known ids otherwise."""
    for clauses in CLAUSES.values():
        for item in clauses:
            if item.id == clause_id:
                return item
    known = ", ".join(c.id for cs in CLAUSES.values() for c in cs)
    raise KeyError(f"unknown clause {clause_id!r}; known: {known}")


def select(layer: Layer, pattern: str | None = None) -> tuple[Clause, ...]:
    """The layer's clauses whose id matches ``pattern`` (glob, or id prefix)."""
    clauses = CLAUSES[layer]
    if pattern is None:
        return clauses
    if any(ch in pattern for ch in "*?["):
        return tuple(c for c in clauses if fnmatch.fnmatchcase(c.id, pattern))
    return tuple(
        c
        for c in clauses
        if c.id == pattern
        or c.id.startswith(pattern.rstrip("/") + "/")
        or c.id.startswith(pattern + ".")
    )


def run_checks(clauses: Sequence[Clause], observations: object) -> list[Violation]:
    """Every violation of ``clauses`` in one run's observations."""
    found: list[Violation] = []
    for item in clauses:
        found.extend(item.check(observations))
    return found
