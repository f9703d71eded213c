"""Independent reference constructions for the physics tests (gate level, brute force)."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import strategies as st
from scipy.linalg import expm

from qstack.physics import density
from qstack.physics.bell import BellDiagonal

Matrix = density.Matrix
I2 = np.eye(2, dtype=np.complex128)
X = np.array([[0, 1], [1, 0]], dtype=np.complex128)
Y = np.array([[0, -1j], [1j, 0]], dtype=np.complex128)
Z = np.array([[1, 0], [0, -1]], dtype=np.complex128)


@st.composite
def bell_diagonals(draw: st.DrawFn) -> BellDiagonal:
    """Random Bell-diagonal states, including edge cases with zero weights."""
    raw = draw(
        st.lists(st.one_of(st.just(0.0), st.floats(0.0, 1.0)), min_size=4, max_size=4).filter(
            lambda v: sum(v) > 1e-3
        )
    )
    total = sum(raw)
    return BellDiagonal(*(v / total for v in raw))


def kron(*ops: Matrix) -> Matrix:
    out: Matrix = np.eye(1, dtype=np.complex128)
    for op in ops:
        out = np.kron(out, op).astype(np.complex128)
    return out


def cnot(control: int, target: int, n: int) -> Matrix:
    """Permutation matrix of CNOT; qubit 0 is the most significant bit."""
    dim = 2**n
    u = np.zeros((dim, dim), dtype=np.complex128)
    for i in range(dim):
        bits = [(i >> (n - 1 - q)) & 1 for q in range(n)]
        if bits[control]:
            bits[target] ^= 1
        j = sum(b << (n - 1 - q) for q, b in enumerate(bits))
        u[j, i] = 1.0
    return u


def twirl(rho: Matrix) -> Matrix:
    """Average over the 12 bilateral rotations V (x) V* with V = Pauli * C^j.

    C rotates the Bloch sphere by 2 pi / 3 about (1, 1, 1) and cycles X, Y, Z,
    so the group fixes Phi+ and maps any state to Werner form.
    """
    c = expm(-1j * math.pi / 3.0 * (X + Y + Z) / math.sqrt(3.0))
    out = np.zeros_like(rho)
    for p in (I2, X, Y, Z):
        for j in range(3):
            v = p @ np.linalg.matrix_power(c, j)
            u = np.kron(v, v.conj())
            out += u @ rho @ u.conj().T
    return out / 12.0


def pauli_on(ops: dict[int, Matrix], n: int) -> Matrix:
    """Tensor product with ``ops[q]`` on qubit q and identity elsewhere."""
    return kron(*(ops.get(q, I2) for q in range(n)))


def depolarize_pair_reference(rho: Matrix, q1: int, q2: int, p: float, n: int) -> Matrix:
    """Two-qubit depolarising channel written as the average over the 16 Paulis."""
    twirled = np.zeros_like(rho)
    for pa in (I2, X, Y, Z):
        for pb in (I2, X, Y, Z):
            u = pauli_on({q1: pa, q2: pb}, n)
            twirled += u @ rho @ u.conj().T / 16.0
    return (1.0 - p) * rho + p * twirled


def z_outcome_weights(flip: float, reported: int) -> Matrix:
    """POVM element of a Z measurement reporting ``reported`` when it flips with ``flip``."""
    return np.diag([1.0 - flip if reported == 0 else flip, flip if reported == 0 else 1.0 - flip])


def purification_circuit(
    rho_a: Matrix,
    rho_b: Matrix,
    rotate: bool,
    gate_error: float = 0.0,
    measurement_error: float = 0.0,
) -> tuple[float, Matrix]:
    """Bilateral CNOT (pair a = source, pair b = target), Z-measure target, keep if equal.

    Qubits: 0 = a on side "a", 1 = a on side "b", 2 = b on side "a", 3 = b on side "b".
    ``rotate`` adds the DEJMPS Rx(pi/2) on side "a" and Rx(-pi/2) on side "b".
    Each CNOT is followed by the depolarising channel ``gate_error`` on its
    qubits; each Z outcome is misreported with ``measurement_error``.
    """
    rho = np.kron(rho_a, rho_b)
    if rotate:
        ra = expm(-1j * math.pi / 4.0 * X)
        rb = expm(1j * math.pi / 4.0 * X)
        u = kron(ra, rb, ra, rb)
        rho = u @ rho @ u.conj().T
    for control, target in ((0, 2), (1, 3)):
        u = cnot(control, target, 4)
        rho = depolarize_pair_reference(u @ rho @ u.conj().T, control, target, gate_error, 4)
    keep = sum(
        (
            kron(
                I2,
                I2,
                z_outcome_weights(measurement_error, r),
                z_outcome_weights(measurement_error, r),
            )
            for r in (0, 1)
        ),
        np.zeros((16, 16), dtype=np.complex128),
    )
    post = keep @ rho
    p = float(np.real(np.trace(post)))
    return p, density.partial_trace(post, [0, 1], 4) / p


def noisy_swap_circuit(
    rho_a: Matrix, rho_b: Matrix, outcome: int, gate_error: float, measurement_error: float
) -> tuple[float, Matrix]:
    """Bell measurement of (a2, b1) as a circuit: CNOT(a2 -> b1), depolarise, H(a2), Z, Z.

    Qubits 0 = a1, 1 = a2, 2 = b1, 3 = b2.  The control's outcome is the Z bit
    and the target's the X bit of the Bell index; each is misreported with
    ``measurement_error``.  Returns the probability of reporting ``outcome``
    and the (uncorrected) state of (a1, b2).
    """
    rho = np.kron(rho_a, rho_b)
    u = cnot(1, 2, 4)
    rho = depolarize_pair_reference(u @ rho @ u.conj().T, 1, 2, gate_error, 4)
    h = pauli_on({1: np.array([[1, 1], [1, -1]], dtype=np.complex128) / math.sqrt(2.0)}, 4)
    rho = h @ rho @ h.conj().T
    x_bit, z_bit = outcome & 1, outcome >> 1
    povm = kron(
        I2,
        z_outcome_weights(measurement_error, z_bit),
        z_outcome_weights(measurement_error, x_bit),
        I2,
    )
    post = density.partial_trace(povm @ rho, [0, 3], 4)
    p = float(np.real(np.trace(post)))
    return p, post / p


@st.composite
def density_matrices(draw: st.DrawFn, n_qubits: int = 2) -> Matrix:
    """Random full-rank-ish density matrices G G^dagger / tr from bounded Ginibre entries."""
    dim = 2**n_qubits
    parts = draw(
        st.lists(st.floats(-1.0, 1.0), min_size=2 * dim * dim, max_size=2 * dim * dim).filter(
            lambda v: sum(x * x for x in v) > 1e-2
        )
    )
    g = np.array(parts[: dim * dim]).reshape(dim, dim) + 1j * np.array(parts[dim * dim :]).reshape(
        dim, dim
    )
    rho = g @ g.conj().T
    return (rho / np.trace(rho).real).astype(np.complex128)


# -- brute-force photonic heralding ---------------------------------------------------

# Photon-level outcome of one round: (photons at D+, photons at D-, which photons were lost).
Branch = tuple[int, int, str]


def round_kraus(
    eta: float, d: float, bright: int, eta_b: float | None = None
) -> dict[tuple[int, int], list[Matrix]]:
    """Kraus operators on the two spins for one optical round, keyed by the click record.

    A spin in state ``bright`` emits one photon.  Beam splitter: photon from a
    goes to (D+ + D-)/sqrt2, from b to (D+ - D-)/sqrt2; a pair bunches (HOM),
    a^dag b^dag -> (c+^2 - c-^2)/2.  Loss: arm a transmits eta, arm b eta_b
    (default eta); distinct loss environments and photon numbers are
    orthogonal, so each branch is its own Kraus operator.  A detector with
    photons clicks; an empty one clicks with probability d (classical, folded
    in as a weight).
    """
    amp: dict[Branch, np.ndarray] = {}

    def add(branch: Branch, config: int, value: float) -> None:
        amp.setdefault(branch, np.zeros(4, dtype=np.complex128))[config] += value

    eta_b = eta if eta_b is None else eta_b
    s_a, s_b = math.sqrt(eta / 2.0), math.sqrt(eta_b / 2.0)
    loss_a, loss_b = math.sqrt(1.0 - eta), math.sqrt(1.0 - eta_b)
    for config in range(4):
        ea = ((config >> 1) & 1) == bright
        eb = (config & 1) == bright
        if not ea and not eb:
            add((0, 0, ""), config, 1.0)
        elif ea and not eb:
            add((0, 0, "a"), config, loss_a)
            add((1, 0, ""), config, s_a)
            add((0, 1, ""), config, s_a)
        elif eb and not ea:
            add((0, 0, "b"), config, loss_b)
            add((1, 0, ""), config, s_b)
            add((0, 1, ""), config, -s_b)
        else:
            add((0, 0, "ab"), config, loss_a * loss_b)
            add((1, 0, "a"), config, loss_a * s_b)  # a lost, b detected
            add((0, 1, "a"), config, -loss_a * s_b)
            add((1, 0, "b"), config, loss_b * s_a)  # b lost, a detected
            add((0, 1, "b"), config, loss_b * s_a)
            both = math.sqrt(eta * eta_b) / math.sqrt(2.0)
            add((2, 0, ""), config, both)
            add((0, 2, ""), config, -both)
    records: dict[tuple[int, int], list[Matrix]] = {}
    for (n_plus, n_minus, _), diag in amp.items():
        for click_plus, click_minus in itertools.product((0, 1), repeat=2):
            weight = 1.0
            for n, click in ((n_plus, click_plus), (n_minus, click_minus)):
                if n > 0:
                    weight *= 1.0 if click else 0.0
                else:
                    weight *= d if click else 1.0 - d
            if weight > 0.0:
                op = (np.diag(diag) * math.sqrt(weight)).astype(np.complex128)
                records.setdefault((click_plus, click_minus), []).append(op)
    return records


def apply_ops(rho: Matrix, ops: list[Matrix]) -> Matrix:
    return sum((k @ rho @ k.conj().T for k in ops), np.zeros_like(rho))


SUCCESS_RECORDS = {(1, 0): 0, (0, 1): 1}  # exactly one click; value = detector id


def brute_force_double_click(eta: float, d: float, eta_b: float | None = None) -> dict[int, Matrix]:
    """Unnormalised spin state per herald (1 = same detector twice, 3 = different)."""
    plus = np.array([1.0, 1.0], dtype=np.complex128) / math.sqrt(2.0)
    psi0 = np.kron(plus, plus)
    rho0 = np.outer(psi0, psi0.conj())
    flip = np.kron(X, X)
    rounds = round_kraus(eta, d, bright=0, eta_b=eta_b)
    out = {1: np.zeros((4, 4), dtype=np.complex128), 3: np.zeros((4, 4), dtype=np.complex128)}
    for rec1, det1 in SUCCESS_RECORDS.items():
        after1 = flip @ apply_ops(rho0, rounds[rec1]) @ flip
        for rec2, det2 in SUCCESS_RECORDS.items():
            after2 = flip @ apply_ops(after1, rounds[rec2]) @ flip
            out[1 if det1 == det2 else 3] += after2
    return out


def brute_force_single_click(
    alpha: float,
    eta: float,
    d: float,
    eta_b: float | None = None,
    alpha_b: float | None = None,
) -> dict[int, Matrix]:
    """Unnormalised spin state per herald (1 = D+, 3 = D-); bright state |1>."""
    alpha_b = alpha if alpha_b is None else alpha_b
    spin_a = np.array([math.sqrt(1.0 - alpha), math.sqrt(alpha)], dtype=np.complex128)
    spin_b = np.array([math.sqrt(1.0 - alpha_b), math.sqrt(alpha_b)], dtype=np.complex128)
    psi0 = np.kron(spin_a, spin_b)
    rho0 = np.outer(psi0, psi0.conj())
    rounds = round_kraus(eta, d, bright=1, eta_b=eta_b)
    return {1: apply_ops(rho0, rounds[1, 0]), 3: apply_ops(rho0, rounds[0, 1])}


# -- brute-force GHZ fusion -------------------------------------------------------------

HADAMARD = np.array([[1, 1], [1, -1]], dtype=np.complex128) / math.sqrt(2.0)


def ghz_fusion_reference(
    pairs: list[Matrix], centre_is_member: bool, gate_error: float, measurement_error: float
) -> dict[tuple[int, ...], tuple[float, Matrix]]:
    """All 2m qubits at once (c_1, M_1, c_2, M_2, ...) with full-size matrices.

    All CNOTs (each followed by the Pauli-average depolarising channel), the
    H for an X measurement of c_1, then every measurement as a noisy POVM
    and the members' corrections.  Keyed by the reported outcomes (Z
    outcomes of c_2..c_m, then the X outcome of c_1 if measured); values are
    (probability, normalised state of the kept qubits).
    """
    m = len(pairs)
    n = 2 * m
    rho = kron(*pairs)
    for i in range(1, m):
        u = cnot(0, 2 * i, n)
        rho = depolarize_pair_reference(u @ rho @ u.conj().T, 0, 2 * i, gate_error, n)
    measured = [2 * i for i in range(1, m)]
    if not centre_is_member:
        h = pauli_on({0: HADAMARD}, n)
        rho = h @ rho @ h.conj().T
        measured.append(0)
    kept = ([0] if centre_is_member else []) + [2 * i + 1 for i in range(m)]
    out: dict[tuple[int, ...], tuple[float, Matrix]] = {}
    for reported in itertools.product((0, 1), repeat=len(measured)):
        povm = pauli_on(
            {
                q: z_outcome_weights(measurement_error, r)
                for q, r in zip(measured, reported, strict=True)
            },
            n,
        )
        post = density.partial_trace(povm @ rho, kept, n)
        fixes: dict[int, Matrix] = {}
        for i, r in enumerate(reported[: m - 1], start=1):
            if r:
                fixes[kept.index(2 * i + 1)] = X
        if not centre_is_member and reported[-1]:
            fixes[kept.index(1)] = Z
        fix = pauli_on(fixes, len(kept))
        p = float(np.real(np.trace(post)))
        out[reported] = (p, fix @ post @ fix.conj().T / p)
    return out
