"""A heralding station off the middle (``station_km``), against closed forms.

Link a - b of L = 25 km with the station L_a = 10 km from a (L_b = 15 km, as
QL2020's Delft-The Hague link is split), attenuation 0.2 dB/km, emission
0.8, detector 0.9, no dark counts, so arm x's efficiency is
eta_x = 0.8 x 10^(-0.02 L_x) x 0.9.

Rate. The number of attempts per success is Geometric(p): the station's
attempt count over PAIRS successes is exactly negative binomial (exact
two-sided test at ALPHA, as in ``test_validation_link_rates``), with

* double-click: p = eta_a eta_b / 2 (``formulas.double_click_success_probability``);
* single-click, alpha at both nodes: p = x + y + alpha^2 (1 - (1 - eta_a)(1 - eta_b)),
  x = alpha (1 - alpha) eta_a, y = (1 - alpha) alpha eta_b
  (``formulas.single_click_unequal``);
* single-click choosing alpha for a minimum fidelity: the same formula with
  alpha on the weaker arm's node and the other node's population balancing
  the arms, alpha_s = alpha eta_w / (alpha eta_w + (1 - alpha) eta_s).

Delivered fidelity. Both photons must meet at the station, so the node on
the shorter arm emits (L_b - L_a)/c later; the herald is delivered to both
nodes when the farther one learns it, 2 L_b / c after the first emission.
Each side's memory holds the state from its own emission: h_a = (L_b + L_a)/c,
h_b = 2 L_b / c (c = 2e5 km/s). With depolarising memories T_a != T_b the
heralded Bell-diagonal state (F_h: 1 for double-click, (sqrt x + sqrt y)^2 /
(2 p) for single-click) keeps F - 1/4 times e^(-h_a/T_a - h_b/T_b), for every
pair (tolerance 1e-9). Both ends report each pair at the same instant with
the same pair id, and successive heralds are whole attempt cycles apart,
cycle = preparation + 2 L_b / c.

With ``station_km`` = L / 2 the run is the same as without it, bit for bit.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from _validation_helpers import ALPHA, negative_binomial_pvalue, node, run, two_node_scenario

from qstack.layers.link.messages import LinkOk
from qstack.network import Network
from qstack.physics import formulas
from qstack.physics.heralding import balanced_alpha
from qstack.runner import run_network
from qstack.sim.kernel import seconds_to_ps
from qstack.sim.trace import MemoryTracer

PAIRS = 2000
LENGTH_KM, STATION_KM = 25.0, 10.0
ARM_A, ARM_B = STATION_KM, LENGTH_KM - STATION_KM
EMISSION, DETECTOR = 0.8, 0.9
T_A, T_B = 1e-3, 3e-3
C_KM_PER_S = 2.0e5
TOL = 1e-9


def _eta(arm_km: float) -> float:
    return EMISSION * 10.0 ** (-0.2 * arm_km / 10.0) * DETECTOR


ETA_A, ETA_B = _eta(ARM_A), _eta(ARM_B)
HOLD_A_S = (ARM_B + ARM_A) / C_KM_PER_S
HOLD_B_S = 2.0 * ARM_B / C_KM_PER_S


def _link(model: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": model,
        "length_km": LENGTH_KM,
        "station_km": STATION_KM,
        "emission_efficiency": EMISSION,
        "detector_efficiency": DETECTOR,
        **extra,
    }


def _delivered(heralded_fidelity: float) -> float:
    decay = math.exp(-HOLD_A_S / T_A - HOLD_B_S / T_B)
    return 0.25 + (heralded_fidelity - 0.25) * decay


def _check(link: dict[str, Any], p: float, heralded: float, seed: int, **request: Any) -> None:
    scenario = two_node_scenario(
        link,
        PAIRS,
        nodes=(node("a", memory_t_s=T_A), node("b", memory_t_s=T_B)),
        seed=seed,
        **request,
    )
    result = run(scenario)
    station = result.network.links[0].station
    request_report = result.network.requests[0]
    assert request_report.status == "done"
    assert station.successes == PAIRS
    pvalue = negative_binomial_pvalue(station.attempts, station.successes, p)
    assert pvalue > ALPHA, (station.successes / station.attempts, p)
    expected = _delivered(heralded)
    assert max(abs(f - expected) for f in request_report.fidelities) <= TOL, expected
    cycle = seconds_to_ps(1e-6) + round(HOLD_B_S * 1e12)
    assert station.cycle_ps == cycle
    gaps = [b - a for a, b in itertools.pairwise(result.delivery_ps)]
    assert all(g > 0 and g % cycle == 0 for g in gaps)


def test_double_click() -> None:
    p = formulas.double_click_success_probability(ETA_A, ETA_B)
    assert p == pytest.approx(ETA_A * ETA_B / 2.0, rel=1e-15)
    _check(_link("double-click"), p, 1.0, seed=41)


@pytest.mark.slow
def test_single_click_with_alpha_at_both_nodes() -> None:
    alpha = 0.1
    p, heralded = formulas.single_click_unequal(alpha, alpha, ETA_A, ETA_B)
    _check(_link("single-click", bright_state_alpha=alpha), p, heralded, seed=42)


@pytest.mark.slow
def test_single_click_choosing_balanced_alpha() -> None:
    """The link picks alpha for min_fidelity on the weaker arm (b) and balances
    a's; the rate and fidelity follow from the two populations it reports."""
    scenario = two_node_scenario(
        _link("single-click"),
        PAIRS,
        nodes=(node("a", memory_t_s=T_A), node("b", memory_t_s=T_B)),
        min_fidelity=0.85,
        seed=43,
    )
    result = run(scenario)
    setting = result.network.links[0].settings.setting_for(0.85)
    assert setting is not None
    model = setting.model
    alpha_a, alpha_b = model.alpha, model.alpha_b  # type: ignore[attr-defined]
    assert alpha_b is not None and ETA_B < ETA_A
    assert alpha_a == pytest.approx(balanced_alpha(alpha_b, ETA_B, ETA_A), rel=1e-12)
    p, heralded = formulas.single_click_unequal(alpha_a, alpha_b, ETA_A, ETA_B)
    # balanced arms: x = y, so the one-photon branch is exactly the heralded Psi
    assert heralded == pytest.approx(2 * alpha_a * (1 - alpha_b) * ETA_A / p, rel=1e-12)
    _check(_link("single-click"), p, heralded, seed=43, min_fidelity=0.85)
    assert _delivered(heralded) >= 0.85 - 1e-12


def test_both_ends_report_each_pair_at_the_same_instant() -> None:
    tracer = MemoryTracer()
    scenario = two_node_scenario(_link("double-click"), 50, seed=44)
    run_network(Network(scenario, None, tracer))
    oks: dict[int, set[tuple[int, str]]] = {}
    for record in tracer.records:
        if record.direction == "up" and isinstance(record.message, LinkOk):
            oks.setdefault(record.message.pair_id, set()).add((record.time_ps, record.node))
    assert len(oks) == 50
    for reports in oks.values():
        assert {node for _, node in reports} == {"a", "b"}
        assert len({time for time, _ in reports}) == 1


@pytest.mark.parametrize("model", ["double-click", "single-click"])
def test_station_in_the_middle_changes_nothing(model: str) -> None:
    centred = {**_link(model), "station_km": LENGTH_KM / 2.0}
    default = {k: v for k, v in centred.items() if k != "station_km"}
    reports = [
        run(
            two_node_scenario(link, 200, nodes=(node("a", memory_t_s=T_A), node("b")), seed=7)
        ).report.model_dump(exclude={"wall_time_s"})
        for link in (centred, default)
    ]
    assert reports[0] == reports[1]
