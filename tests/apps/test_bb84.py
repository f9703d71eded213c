"""The bb84 application: its protocol, its key, and the trusted-node relay."""

from __future__ import annotations

import pytest

from qstack.layers.app.bb84 import (
    Bb84Clicks,
    Bb84Confirm,
    Bb84Pulses,
    Bb84Session,
    Bb84Sifting,
)
from qstack.network import Network, TopologyError
from qstack.qkd.decoy import decoy_secret_key_length
from qstack.scenario import parse_scenario
from qstack.sim.kernel import seconds_to_ps
from qstack.sim.trace import MemoryTracer
from tests.apps._apps_helpers import bb84_chain as chain
from tests.apps._apps_helpers import bb84_report as _entry
from tests.apps._apps_helpers import run_traced as _run


def test_a_key_over_one_link() -> None:
    network, report = _run(chain(25.0, 2_000_000))
    entry = _entry(report)
    assert entry.status == "done" and not entry.aborted
    assert entry.keys_match is True and entry.secret_key_bits > 0
    assert entry.pulses == 2_000_000 and entry.relay_path is None
    session = network.requests[0]
    assert isinstance(session, Bb84Session)
    hop = session.hops[0]
    assert hop.result is not None and hop.analysis is not None
    # The GLLP bound from the decoy estimates, after what the tags consumed.
    n = hop.result.sifted_bits - hop.result.sample_size
    bound = decoy_secret_key_length(
        n, hop.analysis.signal, hop.analysis.estimate, hop.result.leaked_bits
    )
    assert bound == hop.result.secret_key_bits
    # The key replenishes the pad and hash bits the hop's four tags consumed.
    assert hop.alice_auth.pool.consumed == 64 + 3 * 64
    assert entry.secret_key_bits == bound - hop.alice_auth.pool.consumed
    assert hop.record is not None and entry.delivered == hop.record.index.size


def test_messages_and_their_timing() -> None:
    # The train ends after pulses / rate, reaches Bob one fiber delay later;
    # then clicks, sifting and confirmation cross the fiber once each.
    tracer = MemoryTracer()
    rate, pulses, length = 1e8, 500_000, 20.0
    _, report = _run(chain(length, pulses, pulse_rate_hz=rate), tracer)
    delay = seconds_to_ps(length / 2.0e5)
    kinds = [
        (r.time_ps, r.node, type(r.message))
        for r in tracer.records
        if r.layer == "app" and r.direction == "recv"
    ]
    train = seconds_to_ps(pulses / rate)
    assert kinds == [
        (train + delay, "n1", Bb84Pulses),
        (train + 2 * delay, "n0", Bb84Clicks),
        (train + 3 * delay, "n1", Bb84Sifting),
        (train + 4 * delay, "n0", Bb84Confirm),
    ]
    assert not [r for r in tracer.records if r.layer == "network"]
    assert report.sim_time_s == pytest.approx((train + 4 * delay) * 1e-12)


def test_relay_through_trusted_nodes() -> None:
    network, report = _run(chain(20.0, 1_000_000, nodes=4, relay=True))
    entry = _entry(report)
    assert entry.status == "done" and entry.keys_match is True
    assert entry.relay_path == ["n0", "n1", "n2", "n3"]
    assert len(entry.hop_secret_key_bits) == 3
    assert entry.secret_key_bits == min(entry.hop_secret_key_bits) > 0
    session = network.requests[0]
    assert isinstance(session, Bb84Session)
    # The destination recovered the source's key with the first relay.
    assert (session.key_dst == session.hops[0].key_alice[: entry.secret_key_bits]).all()


def test_reproducible() -> None:
    first, second = _run(chain(30.0, 500_000))[1], _run(chain(30.0, 500_000))[1]
    a, b = _entry(first).model_dump(), _entry(second).model_dump()
    assert a == b


def test_an_abstract_link_cannot_carry_pulses() -> None:
    scenario = chain(10.0, 1000)
    scenario["links"][0] = {
        "a": "n0",
        "b": "n1",
        "length_km": 10.0,
        "model": "abstract",
        "success_probability": 0.1,
        "attempt_duration_s": 1e-6,
        "fidelity": 0.9,
    }
    with pytest.raises(TopologyError, match=r"requests\[0\]: the link n0-n1 is abstract"):
        Network(parse_scenario(scenario))


def test_the_deadline_expires_the_session() -> None:
    _, report = _run(chain(50.0, 10**8, max_time_s=1e-3))
    entry = _entry(report)
    assert entry.status == "expired" and entry.error is not None
    assert entry.error.startswith("timeout")
    assert report.sim_time_s == pytest.approx(1e-3)
