"""Fidelity and time estimates against the closed forms in ``qstack.physics.formulas``."""

from __future__ import annotations

import math

import pytest
from _routing_helpers import chain, link, node

from qstack.layers.network.routing import (
    Topology,
    estimate_path_fidelity,
    estimate_path_time,
    link_fidelity_after_purification,
)
from qstack.physics import formulas

TOL = 1e-12


def path_of(hops: int) -> tuple[str, ...]:
    """n0 ... n<hops> as built by ``chain``."""
    return tuple(f"n{i}" for i in range(hops + 1))


@pytest.mark.parametrize("fidelities", [[0.9], [0.9, 0.95], [0.8, 0.93, 0.99, 0.97]])
def test_fidelity_is_product_of_werner_parameters(fidelities: list[float]) -> None:
    topology = chain(fidelities)
    estimate = estimate_path_fidelity(topology, path_of(len(fidelities)))
    w = math.prod((4 * f - 1) / 3 for f in fidelities)
    assert estimate == pytest.approx((1 + 3 * w) / 4, abs=TOL)
    assert estimate == pytest.approx(formulas.chain_fidelity(fidelities), abs=TOL)


def test_two_links_match_swap_formula() -> None:
    estimate = estimate_path_fidelity(chain([0.92, 0.88]), path_of(2))
    assert estimate == pytest.approx(formulas.swap_werner_fidelity(0.92, 0.88), abs=TOL)


def test_source_memory_decoheres_over_the_first_hop_delay() -> None:
    # The source learns of the first swap one first-hop delay after it at the
    # earliest; its qubit decoheres that long at least.
    fidelities = [0.95, 0.9, 0.97]
    topology = chain(fidelities, delay_s=2e-4, memory_t_s=0.05)
    estimate = estimate_path_fidelity(topology, path_of(3))
    w = formulas.werner_parameter(formulas.chain_fidelity(fidelities)) * math.exp(-2e-4 / 0.05)
    assert estimate == pytest.approx(formulas.fidelity_from_werner(w), abs=TOL)


def test_single_link_has_no_wait() -> None:
    topology = chain([0.9], delay_s=2e-4, memory_t_s=0.05)
    assert estimate_path_fidelity(topology, path_of(1)) == pytest.approx(0.9, abs=TOL)


def test_only_end_memories_count_and_each_with_its_own_constant() -> None:
    links = [link("a", "r", fidelity=0.9, delay_s=1e-3), link("r", "b", fidelity=0.9, delay_s=0)]
    nodes = [node("a", 0.1), node("r", 1e-6), node("b", None)]
    estimate = estimate_path_fidelity(Topology(nodes, links), ("a", "r", "b"))
    w = formulas.werner_parameter(0.9) ** 2 * math.exp(-1e-3 / 0.1)
    assert estimate == pytest.approx(formulas.fidelity_from_werner(w), abs=TOL)


def bbpssw_by_hand(f: float) -> float:
    """One BBPSSW round written out independently of ``formulas``."""
    e = (1 - f) / 3
    return (f * f + e * e) / (f * f + 2 * f * e + 5 * e * e)


def dejmps_by_hand(f: float, rounds: int) -> float:
    """DEJMPS in the paper's A, B, C, D = Phi+, Psi-, Psi+, Phi- notation, from a Werner state."""
    a = f
    b = c = d = (1 - f) / 3
    for _ in range(rounds):
        n = (a + b) ** 2 + (c + d) ** 2
        a, b, c, d = (a * a + b * b) / n, 2 * c * d / n, (c * c + d * d) / n, 2 * a * b / n
    return a


@pytest.mark.parametrize("f", [0.6, 0.8, 0.95])
def test_bbpssw_rounds_follow_closed_form(f: float) -> None:
    item = link("a", "b", fidelity=f)
    expected = f
    for rounds in range(4):
        got = link_fidelity_after_purification(item, "bbpssw", rounds)
        assert got == pytest.approx(expected, abs=TOL)
        assert got == pytest.approx(_iterate_formula(f, rounds), abs=TOL)
        expected = bbpssw_by_hand(expected)


def _iterate_formula(f: float, rounds: int) -> float:
    """``formulas.bbpssw`` applied ``rounds`` times."""
    for _ in range(rounds):
        f = formulas.bbpssw(f)[1]
    return f


@pytest.mark.parametrize("f", [0.6, 0.8, 0.95])
@pytest.mark.parametrize("rounds", [0, 1, 2, 3])
def test_dejmps_rounds_follow_closed_form(f: float, rounds: int) -> None:
    got = link_fidelity_after_purification(link("a", "b", fidelity=f), "dejmps", rounds)
    assert got == pytest.approx(dejmps_by_hand(f, rounds), abs=TOL)


def test_dejmps_first_round_equals_bbpssw_and_then_beats_it() -> None:
    item = link("a", "b", fidelity=0.8)
    one = [link_fidelity_after_purification(item, s, 1) for s in ("bbpssw", "dejmps")]
    assert one[0] == pytest.approx(one[1], abs=TOL)
    two = [link_fidelity_after_purification(item, s, 2) for s in ("bbpssw", "dejmps")]
    assert two[1] > two[0]


def test_none_scheme_ignores_rounds() -> None:
    item = link("a", "b", fidelity=0.8)
    assert link_fidelity_after_purification(item, "none", 3) == 0.8


@pytest.mark.parametrize("scheme", ["bbpssw", "dejmps"])
def test_purified_chain_is_chain_of_purified_links(scheme: str) -> None:
    fidelities = [0.85, 0.9, 0.8]
    topology = chain(fidelities)
    estimate = estimate_path_fidelity(topology, path_of(3), scheme, 2)
    purified = [
        link_fidelity_after_purification(item, scheme, 2)
        for item in topology.path_links(path_of(3))
    ]
    assert estimate == pytest.approx(formulas.chain_fidelity(purified), abs=TOL)


def test_bad_purification_arguments_are_named() -> None:
    item = link("a", "b")
    with pytest.raises(ValueError, match="'magic'"):
        link_fidelity_after_purification(item, "magic", 1)
    with pytest.raises(ValueError, match="purification_rounds"):
        link_fidelity_after_purification(item, "bbpssw", -1)


def test_single_link_time_is_mean_generation_plus_delay() -> None:
    topology = Topology([node("a"), node("b")], [link("a", "b", p=0.2, cycle_s=1e-3, delay_s=5e-5)])
    assert estimate_path_time(topology, ("a", "b")) == pytest.approx(
        formulas.mean_attempts(0.2) * 1e-3 + 5e-5, rel=TOL
    )


def test_time_uses_slowest_link_and_harmonic_number() -> None:
    links = [
        link("a", "b", p=0.5, cycle_s=1e-3, delay_s=1e-4),
        link("b", "c", p=0.01, cycle_s=1e-3, delay_s=2e-4),
        link("c", "d", p=0.2, cycle_s=1e-3, delay_s=3e-4),
    ]
    topology = Topology([node(n) for n in "abcd"], links)
    harmonic = 1 + 1 / 2 + 1 / 3
    assert estimate_path_time(topology, tuple("abcd")) == pytest.approx(
        0.1 * harmonic + 6e-4, rel=TOL
    )


def test_time_approximation_matches_exact_two_link_result_for_small_p() -> None:
    p = 1e-4
    topology = chain([0.9, 0.9], p=p)
    exact_s = formulas.swap_asap_mean_slots(p) * 1e-3
    assert estimate_path_time(topology, path_of(2)) == pytest.approx(exact_s, rel=1e-3)


def test_path_checks() -> None:
    topology = chain([0.9, 0.9])
    with pytest.raises(ValueError, match="at least two nodes"):
        estimate_path_fidelity(topology, ("n0",))
    with pytest.raises(KeyError, match="no link"):
        estimate_path_time(topology, ("n0", "n2"))
