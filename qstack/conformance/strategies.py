"""What the contract machines draw: link hardware and CREATE fields, chains
and NET_CREATE fields, clock steps (Hypothesis strategies)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from qstack.conformance.harness import LinkParams
from qstack.layers.link.messages import CreateType

US = 1_000_000  # picoseconds in a microsecond


@dataclass(frozen=True, slots=True)
class RequestDraw:
    """The fields of a drawn CREATE."""

    number: int | None
    min_fidelity: float
    max_time_ps: int | None
    type: CreateType
    priority: int
    window: int | None = None
    batched: bool = False

    def __str__(self) -> str:
        return (
            f"number={self.number}, min_fidelity={self.min_fidelity}, "
            f"max_time_ps={self.max_time_ps}, type={self.type}, priority={self.priority}, "
            f"window={self.window}, batched={self.batched}"
        )


def link_params() -> st.SearchStrategy[LinkParams]:
    """Hardware of one link: abstract or double-click, short fibres, 1-4 qubits."""
    abstract = st.builds(
        LinkParams,
        model=st.just("abstract"),
        length_km=st.sampled_from([1.0, 5.0, 10.0, 20.0]),
        success_probability=st.sampled_from([0.1, 0.3, 0.6]),
        fidelity=st.sampled_from([0.8, 0.9, 0.97]),
        attempt_duration_s=st.sampled_from([2e-5, 1e-4]),
        qubits=st.integers(1, 4),
        memory_t_s=st.sampled_from([None, None, 0.05, 1.0]),
    )
    double_click = st.builds(
        LinkParams,
        model=st.just("double-click"),
        length_km=st.sampled_from([1.0, 5.0]),
        eta=st.sampled_from([0.4, 0.8]),
        dark_count_probability=st.sampled_from([0.0, 1e-3]),
        qubits=st.integers(1, 4),
        memory_t_s=st.sampled_from([None, 0.05]),
    )
    return st.one_of(abstract, double_click)


def link_requests() -> st.SearchStrategy[RequestDraw]:
    """A CREATE's fields: 1-5 pairs (rarely continuous), fidelity, deadline, ..."""
    return st.builds(
        RequestDraw,
        number=st.one_of(st.integers(1, 5), st.just(None)),
        min_fidelity=st.one_of(
            st.sampled_from([0.0, 0.5, 0.8, 0.9, 0.95, 0.99]), st.floats(0.0, 1.0)
        ),
        max_time_ps=st.one_of(
            st.none(),
            st.sampled_from([5 * US, 100 * US, 2_000 * US, 20_000 * US]),
            st.integers(1, 20_000).map(lambda n: n * US),
        ),
        type=st.sampled_from(["keep", "measure"]),
        priority=st.integers(0, 3),
        window=st.sampled_from([None, 1, 1, 2, 3]),
        batched=st.booleans(),
    ).map(lambda draw: replace(draw, batched=draw.batched and draw.type == "measure"))


def time_steps() -> st.SearchStrategy[int]:
    """How far to advance the clock in one step: up to 10 ms."""
    return st.one_of(
        st.sampled_from([10 * US, 100 * US, 1_000 * US, 5_000 * US, 20_000 * US]),
        st.integers(0, 20_000).map(lambda n: n * US),
    )


@dataclass(frozen=True, slots=True)
class ChainParams:
    """A repeater chain of abstract links, or a ring."""

    hops: int
    ring: bool
    length_km: float
    success_probability: float
    fidelity: float
    qubits: int
    memory_t_s: float | None


def chain_params() -> st.SearchStrategy[ChainParams]:
    """Chains of 1-3 hops, and rings of 3-4 nodes, with fast abstract links."""
    return st.builds(
        ChainParams,
        hops=st.integers(1, 3),
        ring=st.booleans(),
        length_km=st.sampled_from([1.0, 5.0, 10.0]),
        success_probability=st.sampled_from([0.3, 0.7]),
        fidelity=st.sampled_from([0.9, 0.97, 0.995]),
        qubits=st.integers(2, 4),
        memory_t_s=st.sampled_from([None, 0.1]),
    )


def net_requests() -> st.SearchStrategy[dict[str, Any]]:
    """NET_CREATE fields (always with a deadline, sometimes a cutoff)."""
    return st.fixed_dictionaries(
        {
            "number": st.integers(1, 4),
            "min_fidelity": st.sampled_from([0.0, 0.0, 0.6, 0.85, 0.99]),
            "max_time_ps": st.sampled_from([1_000 * US, 5_000 * US, 30_000 * US]),
            "cutoff_ps": st.one_of(
                st.none(), st.sampled_from([150 * US, 300 * US, 1_000 * US, 5_000 * US])
            ),
            "priority": st.integers(0, 2),
            "reroute": st.booleans(),
            "reserve": st.booleans(),
            "type": st.sampled_from(["keep", "keep", "measure"]),
            "measure_directly": st.booleans(),
        }
    )
