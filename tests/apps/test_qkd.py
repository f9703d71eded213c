"""BBM92 over the stack against closed forms, attacks and authentication."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qstack.layers.app.qkd import QkdSession
from qstack.physics import formulas
from tests.apps._apps_helpers import chain_scenario, run


def _qkd(
    pairs: int,
    fidelity: float = 1.0,
    seed: int = 1,
    intercept: float = 0.0,
    hops: int = 1,
    **request: object,
) -> tuple[QkdSession, dict[str, object]]:
    link = {
        "model": "abstract",
        "success_probability": 0.5,
        "attempt_duration_s": 1e-6,
        "fidelity": fidelity,
        "intercept_resend": intercept,
    }
    network, report = run(
        chain_scenario({"app": "qkd", "pairs": pairs, **request}, link=link, hops=hops),
        seed=seed,
    )
    session = network.requests[0]
    assert isinstance(session, QkdSession)
    return session, report.requests[0].model_dump()


def _within(observed: float, expected: float, n: int, sigmas: float = 4.0) -> bool:
    """A rate estimated from n Bernoulli trials is within `sigmas` standard
    deviations sqrt(p (1 - p) / n) of its expectation."""
    return abs(observed - expected) <= sigmas * math.sqrt(expected * (1 - expected) / n) + 1e-12


@pytest.mark.slow
@pytest.mark.parametrize("fidelity", [1.0, 0.97, 0.94])
def test_qber_of_werner_pairs(fidelity: float) -> None:
    # A Werner pair of fidelity F errs in both bases with 2(1 - F)/3.
    session, report = _qkd(20_000, fidelity)
    expected = formulas.qber_from_werner(fidelity)
    assert report["status"] == "done" and not session.aborted
    assert session.sifted_bits > 0 and session.keys_match
    for observed in (session.qber_z, session.qber_x):
        assert observed is not None
        assert _within(observed, expected, session.sifted_bits // 4)


@pytest.mark.slow
def test_key_length_respects_the_asymptotic_bound() -> None:
    session, report = _qkd(20_000, 0.97)
    assert session.qber is not None and report["secret_key_bits"] == session.secret_key_bits
    # n (1 - h(e_phase)) - leaked is the most the bound allows from the
    # sifted key left after sampling; the key is never longer.
    bound = session.sifted_bits * (1 - formulas.binary_entropy(session.qber)) - session.leaked_bits
    assert 0 < session.secret_key_bits <= bound
    assert len(session.key_alice) == len(session.key_bob) == session.secret_key_bits


def test_qber_above_threshold_aborts_without_key() -> None:
    session, report = _qkd(5_000, 0.8)  # QBER 13% > 11%
    assert session.aborted and report["aborted"] is True
    assert session.secret_key_bits == 0 and report["secret_key_bits"] == 0


@pytest.mark.slow
def test_full_intercept_resend_shows_a_quarter_and_aborts() -> None:
    session, _ = _qkd(8_000, intercept=1.0)
    assert session.qber is not None
    assert _within(session.qber, 0.25, session.sifted_bits // 2)
    assert session.aborted and session.secret_key_bits == 0


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.2, 0.4])
def test_partial_intercept_resend_raises_qber_by_a_quarter_of_it(fraction: float) -> None:
    session, _ = _qkd(20_000, intercept=fraction)
    assert session.qber is not None
    assert _within(session.qber, fraction / 4, session.sifted_bits // 2)


@pytest.mark.parametrize("attack", ["tamper", "forge"])
def test_tampered_or_forged_classical_message_aborts(attack: str) -> None:
    session, report = _qkd(2_000, classical_attack=attack)
    assert session.aborted and report["status"] == "error"
    assert report["error"] is not None and "authentication" in str(report["error"])
    assert session.secret_key_bits == 0 and len(session.key_alice) == 0


@pytest.mark.slow
def test_multi_hop_qkd_gets_the_same_key() -> None:
    session, report = _qkd(5_000, 0.99, hops=3)
    assert report["status"] == "done" and session.keys_match and session.secret_key_bits > 0


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), fidelity=st.floats(0.85, 1.0))
def test_keys_match_whenever_not_aborted(seed: int, fidelity: float) -> None:
    session, _ = _qkd(3_000, fidelity, seed=seed)
    if not session.aborted:
        assert session.keys_match
        assert (session.key_alice == session.key_bob).all()
