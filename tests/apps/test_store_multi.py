"""The store's multi-qubit records against the pair path and exact linear algebra."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.physics import multiqubit as mq
from qstack.physics.bell import BellDiagonal
from qstack.physics.density import DensityMatrixPair, partial_trace
from qstack.physics.hardware import DepolarizingMemory, PerfectMemory, T1T2Memory
from qstack.physics.state import PairState, density_matrix_of
from qstack.quantum.multi import MultiRecord, idle_superoperator
from qstack.quantum.oracle import TruthOracle
from qstack.quantum.store import QuantumStore, QubitError, QubitRegister

PS = 10**12
IDENTITY = np.eye(2, dtype=np.complex128)
ZERO = np.array([1.0, 0.0], dtype=np.complex128)


def _store(*noises: object) -> tuple[QuantumStore, list[QubitRegister], TruthOracle]:
    store = QuantumStore()
    registers = [
        store.register(f"n{i}", 4, noise)  # type: ignore[arg-type]
        for i, noise in enumerate(noises)
    ]
    return store, registers, TruthOracle(store)


def _pair(store: QuantumStore, a: QubitRegister, b: QubitRegister, state: PairState) -> None:
    store.entangle(0, 7, ((a, 0), (b, 0)), state, 0, 0)


def _rho(store: QuantumStore, node: str, qubit: int) -> np.ndarray:
    record = store.holding(node, qubit)
    assert isinstance(record, MultiRecord)
    return record.rho


@pytest.mark.parametrize(
    "noise",
    [DepolarizingMemory(0.01), T1T2Memory(0.02, 0.015)],
    ids=["depolarizing", "t1t2"],
)
def test_memory_noise_on_a_promoted_pair_is_the_pair_paths(noise: object) -> None:
    # The same pair, left idle on the pair path and, promoted, on the exact
    # multi-qubit path: one memory model, the same state at every time.
    start: PairState = DensityMatrixPair.werner(0.9)
    store, (a, b), _ = _store(noise, noise)
    _pair(store, a, b, start.copy())
    reference, (ra, rb), reference_oracle = _store(noise, noise)
    _pair(reference, ra, rb, start.copy())
    a.gate(PS // 1000, [0], IDENTITY)  # promote at 1 ms
    t = 5 * PS // 1000
    b.gate(t, [0], IDENTITY)
    a.gate(t, [0], IDENTITY)
    expected = reference_oracle.state("n0", 0, t)
    assert expected is not None
    assert np.allclose(_rho(store, "n0", 0), density_matrix_of(expected), atol=1e-12)


def test_idle_superoperator_of_a_depolarizing_memory() -> None:
    # rho -> lam rho + (1 - lam) I/2 with lam = e^(-t/T): on vec(rho) (row-major),
    # diagonal entries mix as (1 + lam)/2, (1 - lam)/2, coherences scale by lam.
    lam = math.exp(-0.3)
    channel = idle_superoperator(DepolarizingMemory(1.0), int(0.3 * PS))
    expected = np.array(
        [
            [(1 + lam) / 2, 0, 0, (1 - lam) / 2],
            [0, lam, 0, 0],
            [0, 0, lam, 0],
            [(1 - lam) / 2, 0, 0, (1 + lam) / 2],
        ]
    )
    assert np.allclose(channel, expected, atol=1e-15)


def test_measurement_collapses_the_other_half() -> None:
    # Phi+ promoted by a measurement: the far qubit then holds |outcome>, and
    # measuring it in Z gives the same bit every time.
    rng = np.random.default_rng(1)
    for _ in range(50):
        store, (a, b), _ = _store(PerfectMemory(), PerfectMemory())
        _pair(store, a, b, BellDiagonal.pure(0))
        first = a.measure_share(0, 0, "Z", rng.random)
        assert not a.holds_state(0)
        assert b.measure_share(0, 0, "Z", rng.random) == first


def test_measurement_statistics_follow_the_state() -> None:
    # |+> measured in X always gives 0; in Z, 0 with frequency 1/2 (binomial,
    # n = 4000: 1/2 +- 4.4 sd = 0.035 has a two-sided tail below 1e-5).
    rng = np.random.default_rng(2)
    _, (a,), _ = _store(PerfectMemory())
    plus = np.array([1.0, 1.0], dtype=np.complex128) / math.sqrt(2.0)
    zeros = 0
    for _ in range(4000):
        a.prepare(0, 0, plus)
        assert a.measure_share(0, 0, "X", rng.random) == 0
        a.prepare(0, 1, plus)
        zeros += a.measure_share(0, 1, "Z", rng.random) == 0
    assert abs(zeros / 4000 - 0.5) < 0.035


def test_a_flipped_outcome_is_reported_with_its_probability() -> None:
    # |0> in Z with flip p reports 1 with probability p (binomial, 4.4 sd).
    rng = np.random.default_rng(3)
    _, (a,), _ = _store(PerfectMemory())
    ones, n, p = 0, 4000, 0.1
    for _ in range(n):
        a.prepare(0, 0, ZERO)
        ones += a.measure_share(0, 0, "Z", rng.random, p)
    assert abs(ones / n - p) < 4.4 * math.sqrt(p * (1 - p) / n)


def test_two_qubit_gate_merges_records_and_applies_the_gate_error() -> None:
    # CNOT on |+>|0> makes Phi+; the gate error p_g leaves (1 - p_g) Phi+ + p_g I/4.
    store, (a,), _ = _store(PerfectMemory())
    plus = np.array([1.0, 1.0], dtype=np.complex128) / math.sqrt(2.0)
    a.prepare(0, 0, plus)
    a.prepare(0, 1, ZERO)
    a.gate(0, [0, 1], mq.CNOT, 0.2)
    record = store.holding("n0", 0)
    assert record is store.holding("n0", 1)
    phi = np.array([1, 0, 0, 1], dtype=np.complex128) / math.sqrt(2.0)
    expected = 0.8 * np.outer(phi, phi) + 0.2 * np.eye(4) / 4
    assert np.allclose(_rho(store, "n0", 0), expected, atol=1e-12)


def test_the_network_frame_correction_reaches_a_promoted_pair() -> None:
    # A pair heralded in Psi+ (index 1): the far end's X (its frame
    # correction) after the near end has promoted the pair gives Phi+.
    store, (a, b), oracle = _store(PerfectMemory(), PerfectMemory())
    store.entangle(0, 1, ((a, 0), (b, 0)), BellDiagonal.pure(1), 1, 0)
    a.gate(0, [0], IDENTITY)
    assert oracle.fidelity("n1", 0, 0) == pytest.approx(1.0)  # the pair's, at promotion
    b.pauli(0, 0, 1)
    phi = np.array([1, 0, 0, 1], dtype=np.complex128) / math.sqrt(2.0)
    assert oracle.fidelity_with("n0", 0, [("n0", 0), ("n1", 0)], phi, 0) == pytest.approx(1.0)


def test_a_released_share_is_frozen_and_the_rest_decoheres() -> None:
    # Phi+ over depolarising memories (T = 1 s): a releases at 0.1 s, b keeps
    # its qubit to 0.3 s. Each qubit's coherence decays for its own storage
    # time only: <XX> = e^(-(0.1 + 0.3) s / T) (a's share frozen at release).
    noise = DepolarizingMemory(1.0)
    store, (a, b), oracle = _store(noise, noise)
    _pair(store, a, b, BellDiagonal.pure(0))
    a.gate(0, [0], IDENTITY)
    a.reset(PS // 10, 0)
    assert not a.holds_state(0)
    b.gate(3 * PS // 10, [0], IDENTITY)
    rho = _rho(store, "n1", 0)
    xx = np.kron(mq.HADAMARD, mq.HADAMARD)
    rotated = xx @ rho @ xx
    parity = rotated[0, 0] - rotated[1, 1] - rotated[2, 2] + rotated[3, 3]
    assert float(np.real(parity)) == pytest.approx(math.exp(-0.4), rel=1e-12)
    assert oracle.ghz_fidelity("n1", 0, 3 * PS // 10) == pytest.approx(
        (1 + 3 * math.exp(-0.4)) / 4, rel=1e-12
    )


def test_a_reference_is_noiseless_and_unreachable() -> None:
    # A purified qubit idles 0.5 s in a depolarising memory: the Choi state of
    # that channel has fidelity (1 + 3 lam)/4 with Phi+, lam = e^(-0.5).
    noise = DepolarizingMemory(1.0)
    store, (a,), oracle = _store(noise)
    a.prepare_purified(0, 0, "ref")
    phi = np.array([1, 0, 0, 1], dtype=np.complex128) / math.sqrt(2.0)
    fidelity = oracle.fidelity_with("n0", 0, [("ref", -1), ("n0", 0)], phi, PS // 2)
    assert fidelity == pytest.approx((1 + 3 * math.exp(-0.5)) / 4, rel=1e-12)
    reduced = partial_trace(_rho(store, "n0", 0), [1], 2)
    assert np.allclose(reduced, np.eye(2) / 2)


def test_pair_operations_refuse_a_multi_qubit_state() -> None:
    store, (a, b), _ = _store(PerfectMemory(), PerfectMemory())
    store.entangle(0, 1, ((a, 0), (b, 0)), BellDiagonal.pure(0), 0, 0)
    store.entangle(0, 2, ((a, 1), (b, 1)), BellDiagonal.pure(0), 0, 0)
    a.gate(0, [0], IDENTITY)
    with pytest.raises(QubitError, match="more than two qubits"):
        a.bell_measure(0, 0, 1, np.random.default_rng(0))
    with pytest.raises(QubitError, match="already holds a state"):
        a.prepare(0, 0, ZERO)


def test_a_state_larger_than_the_exact_limit_is_refused() -> None:
    store = QuantumStore()
    register = store.register("n", mq.MAX_QUBITS + 1, PerfectMemory())
    plus = np.array([1.0, 1.0], dtype=np.complex128) / math.sqrt(2.0)
    for q in range(mq.MAX_QUBITS + 1):
        register.prepare(0, q, plus)
    for q in range(1, mq.MAX_QUBITS):
        register.gate(0, [0, q], mq.CNOT)
    with pytest.raises(QubitError, match=f"at most {mq.MAX_QUBITS}"):
        register.gate(0, [0, mq.MAX_QUBITS], mq.CNOT)
