"""Closed forms of the applications built on entangled pairs: GHZ fusion, GHZ phase
estimation, CHSH and the remote CNOT.  Pure functions; link, repeater and
error-model closed forms are in ``qstack.physics.formulas``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from qstack.physics._validate import check_distribution, check_probability
from qstack.physics.formulas import werner_parameter

# -- GHZ states fused from Bell pairs (protocol: qstack.physics.ghz) -----------------


def ghz_fusion_fidelity_werner(fidelities: Sequence[float], centre_is_member: bool) -> float:
    """GHZ fidelity after fusing Werner links of parameters w_i at a centre, perfect operations.

    Expand each link as Phi+ (weight w_i) or I/4 (1 - w_i).  A maximally
    mixed link i >= 2 leaves M_i maximally mixed; a maximally mixed first
    link dephases the backbone (c_1 and the good members end in
    (|0..0><0..0| + |1..1><1..1|)/2).  <GHZ_n| GHZ_k (x) I/2^(n-k) |GHZ_n> =
    2^-(n-k+1) for k < n, and the dephased part gives 2^-(b+1) with b mixed
    qubits.  Summing over the subsets of bad links gives, centre a member,
    F = [prod w_i + prod (1 + w_i)/2] / 2; centre not a member (c_1 measured
    in X) adds 2^-(m+1) prod (1 - w_i) (all links bad: I/2^m).  m = 1 member
    gives (1 + 3 w)/4, and m = 2 without the centre the swapped Werner
    fidelity (1 + 3 w1 w2)/4.  Derived here; ``ghz_fusion_fidelity`` checks it.
    """
    if not fidelities:
        raise ValueError("fidelities must contain at least one link, got none")
    ws = [werner_parameter(f) for f in fidelities]
    fidelity = 0.5 * (math.prod(ws) + math.prod((1.0 + w) / 2.0 for w in ws))
    if not centre_is_member:
        fidelity += 0.5 ** (len(ws) + 1) * math.prod(1.0 - w for w in ws)
    return fidelity


def ghz_fusion_fidelity(
    links: Sequence[Sequence[float]],
    centre_is_member: bool,
    gate_error: float = 0.0,
    measurement_error: float = 0.0,
) -> float:
    """Exact GHZ fidelity of the fusion protocol from Bell-diagonal links, noisy operations.

    Every noise is a Pauli channel and the circuit is Clifford, so the
    output is GHZ with a random Pauli error P, and F = P(P stabilises GHZ)
    = P(X part is 0...0 or 1...1, Z part of even weight).  Link i puts
    X^x Z^z (Bell index x + 2 z, probability p_i) on M_i.  Tracking errors
    through the circuit: the CNOTs copy an X on c_1 to every later c_i;
    an X on c_i (copied, from the gate error, or a flipped outcome) is a
    wrong correction, i.e. X on M_i; the gate error after CNOT i puts a
    uniform Pauli on c_1 with probability p_g (X part reaches c_1 and the
    later members, Z part stays on c_1).  Without the centre, an X on c_1
    equals X on all members (X^(all) stabilises GHZ) and its Z part, or a
    flipped X outcome, becomes Z on M_1.  A transfer-matrix sum over
    (X on c_1 so far, Z parity so far) per target X value evaluates it
    exactly in O(m).
    """
    if not links:
        raise ValueError("links must contain at least one link, got none")
    probabilities = [check_distribution(f"links[{i}]", p) for i, p in enumerate(links)]
    p_g = check_probability("gate_error", gate_error)
    p_m = check_probability("measurement_error", measurement_error)
    # Gate error on (c_1, c_i): bits (X on c_1, Z on c_1, X on c_i), uniform with p_g.
    gate = {
        (gx, gz, hx): p_g / 8.0 + (1.0 - p_g if gx == gz == hx == 0 else 0.0)
        for gx in (0, 1)
        for gz in (0, 1)
        for hx in (0, 1)
    }
    flips = ((0, 1.0 - p_m), (1, p_m))
    total = 0.0
    for target in (0, 1):  # the common X bit of the members
        # dp[s][parity]: s = X on c_1 so far, parity = Z weight so far (mod 2).
        dp = [[0.0, 0.0], [0.0, 0.0]]
        dp[0][0], dp[0][1] = probabilities[0][target], probabilities[0][target + 2]
        for link in probabilities[1:]:
            new = [[0.0, 0.0], [0.0, 0.0]]
            for s, parity in itertools.product((0, 1), (0, 1)):
                weight = dp[s][parity]
                if weight == 0.0:
                    continue
                for (x, z), (f, p_f), ((gx, gz, hx), p_gate) in itertools.product(
                    itertools.product((0, 1), (0, 1)), flips, gate.items()
                ):
                    if x ^ s ^ hx ^ f == target:
                        new[s ^ gx][parity ^ z ^ gz] += weight * link[x + 2 * z] * p_f * p_gate
            dp = new
        if centre_is_member:
            total += dp[target][0]  # c_1 must carry the members' X bit too
        else:
            total += (1.0 - p_m) * (dp[0][0] + dp[1][0]) + p_m * (dp[0][1] + dp[1][1])
    return total


# -- GHZ phase estimation (protocol: qstack.physics.sensing) --------------------------


def ghz_visibility(qubits: int, depolarizing_keep: float = 1.0, dephasing: float = 0.0) -> float:
    """Coherence V of an n-qubit GHZ probe whose qubits are depolarised and dephased.

    Depolarising keeps lam of each qubit's coherence, dephasing (Z with
    probability q) keeps 1 - 2 q, and |0..0><1..1| collects one factor per
    qubit: V = (lam (1 - 2 q))^n.
    """
    return (depolarizing_keep * (1.0 - 2.0 * dephasing)) ** qubits


def parity_phase_error(
    repetitions: int, qubits: int, visibility: float, phase: float | None = None
) -> float:
    """Standard deviation of phi_est = arccos(m / V) / n from N parity measurements.

    One parity has mean V cos(n phi) and variance 1 - V^2 cos^2(n phi); by the
    delta method (d phi / dm = -1 / (n V sin(n phi))),
    delta phi = sqrt(1 - V^2 cos^2(n phi)) / (sqrt(N) n V |sin(n phi)|), and at
    the best working point n phi = pi/2 (``phase`` None): 1 / (sqrt(N) n V).
    n = 1 with N n repetitions is n unentangled sensors (V per qubit).
    """
    if phase is None:
        return 1.0 / (math.sqrt(repetitions) * qubits * visibility)
    c = visibility * math.cos(qubits * phase)
    return math.sqrt(1.0 - c * c) / (
        math.sqrt(repetitions) * qubits * visibility * abs(math.sin(qubits * phase))
    )


def standard_quantum_limit(repetitions: int, qubits: int) -> float:
    """1 / sqrt(N n): N n independent probes.

    Giovannetti, Lloyd and Maccone, "Quantum metrology", PRL 96, 010401 (2006).
    """
    return 1.0 / math.sqrt(repetitions * qubits)


def heisenberg_limit(repetitions: int, qubits: int) -> float:
    """1 / (N n): all N n probe uses in one entangled state (same reference).

    Not reachable by N separate n-qubit probes; their bound is
    ``ghz_cramer_rao_bound``.
    """
    return 1.0 / (repetitions * qubits)


def ghz_cramer_rao_bound(repetitions: int, qubits: int) -> float:
    """1 / (n sqrt(N)): quantum Cramer-Rao bound of N perfect n-qubit GHZ probes.

    A GHZ probe's quantum Fisher information for phi is n^2 (Braunstein and
    Caves, PRL 72, 3439 (1994); Giovannetti et al. 2006); the parity
    estimator attains it at n phi = pi/2 (``parity_phase_error`` with V = 1).
    """
    return 1.0 / (qubits * math.sqrt(repetitions))


# -- CHSH (protocol: qstack.physics.chsh) ----------------------------------------------


def chsh_value(probabilities: Sequence[float]) -> float:
    """S of a Bell-diagonal pair (Phi+ frame) with the settings of ``qstack.physics.chsh``.

    E(ta, tb) = cos ta cos tb <ZZ> + sin ta sin tb <XX>; with ta in {0, pi/2}
    and tb = +-pi/4, S = sqrt 2 (<XX> + <ZZ>), where <ZZ> = p0 - p1 + p2 - p3
    and <XX> = p0 + p1 - p2 - p3 (Clauser et al., PRL 23, 880 (1969)).
    """
    p0, p1, p2, p3 = check_distribution("probabilities", probabilities)
    return math.sqrt(2.0) * ((p0 - p1 + p2 - p3) + (p0 + p1 - p2 - p3))


def chsh_werner(fidelity: float) -> float:
    """S = 2 sqrt 2 w for a Werner pair: <XX> = <ZZ> = w in ``chsh_value``."""
    return 2.0 * math.sqrt(2.0) * werner_parameter(fidelity)


# -- remote CNOT by gate teleportation (protocol: qstack.physics.remote_gate) ----------


def remote_cnot_entanglement_fidelity(
    probabilities: Sequence[float], gate_error: float = 0.0, measurement_error: float = 0.0
) -> float:
    """Entanglement (process) fidelity of the remote CNOT with the pair's Bell weights p_k.

    Protocol of Eisert, Jacobs, Papadopoulos and Plenio, PRA 62, 052317
    (2000) (see ``qstack.physics.remote_gate``).  A Pauli X^x Z^z on Bob's
    half of the pair becomes X^x on the target t (Bob's CNOT copies it) and
    Z^z on the control c (it flips Bob's X outcome, hence Alice's Z
    correction): the channel is CNOT followed by Z_c^z X_t^x with
    probability p_(x + 2 z), so without other errors F_e = p_0.  A flipped
    Z (X) outcome adds X_t (Z_c): p_0' = (1 - p_m)^2 p_0 + p_m (1 - p_m)(p_1 + p_2)
    + p_m^2 p_3.  Alice's noisy CNOT puts a uniform Pauli on c and, through
    her outcome, a uniform X on t (identity overall with probability 1/8);
    Bob's a uniform Pauli on t and a uniform Z on c (1/8); both, 1/16.  So
    F_e = (1 - p_g)^2 p_0' + 2 p_g (1 - p_g) / 8 + p_g^2 / 16.
    """
    p0, p1, p2, p3 = check_distribution("probabilities", probabilities)
    p_g = check_probability("gate_error", gate_error)
    p_m = check_probability("measurement_error", measurement_error)
    kept = (1.0 - p_m) ** 2 * p0 + p_m * (1.0 - p_m) * (p1 + p2) + p_m * p_m * p3
    return (1.0 - p_g) ** 2 * kept + p_g * (1.0 - p_g) / 4.0 + p_g * p_g / 16.0


def average_gate_fidelity(entanglement_fidelity: float, dimension: int = 4) -> float:
    """F_avg = (d F_e + 1) / (d + 1): the mean over pure inputs of <psi| U^dag E(psi) U |psi>.

    Horodecki, Horodecki and Horodecki, PRA 60, 1888 (1999); Nielsen, Phys.
    Lett. A 303, 249 (2002).  d = 4 for a two-qubit gate.
    """
    return (dimension * entanglement_fidelity + 1.0) / (dimension + 1.0)


def remote_cnot_average_gate_fidelity_werner(fidelity: float) -> float:
    """Average gate fidelity of the remote CNOT through a Werner pair, perfect operations.

    F_e = p_0 = F = (1 + 3 w)/4, so F_avg = (4 F + 1)/5 = (2 + 3 w)/5.
    """
    return (2.0 + 3.0 * werner_parameter(fidelity)) / 5.0
