"""Per-attempt models of heralded entanglement generation between two memories.

Each model gives the success probability of one attempt, the possible herald
outcomes (Bell indices, equally likely given success) and the state of the
two memory qubits conditioned on a success with a given outcome.  That state
is returned as its Bell-diagonal part, i.e. its Pauli twirl, which keeps every
Bell-basis fidelity unchanged.  All numbers are computed in the constructor;
``heralded_state`` only copies.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from qstack.physics._validate import check_probability
from qstack.physics.bell import BellDiagonal

_PSI_OUTCOMES = (1, 3)
_GOLDEN = 0.5 * (5.0**0.5 - 1.0)
_SEARCH_ITERATIONS = 200


class HeraldingModel(Protocol):
    """What a link layer needs from a physical entanglement-generation scheme."""

    @property
    def success_probability(self) -> float:
        """Probability that one attempt heralds success (any outcome)."""
        ...

    @property
    def outcomes(self) -> tuple[int, ...]:
        """Bell indices a success can herald, equally likely."""
        ...

    def heralded_state(self, index: int) -> BellDiagonal:
        """New state of the memories given a success heralding ``index``."""
        ...


def _psi_states(
    correct: float, flipped: float, phi: float, total: float
) -> dict[int, BellDiagonal]:
    """Heralded states for Psi+/Psi- heralds from unnormalised branch weights.

    ``correct`` lands on the heralded Psi, ``flipped`` on the other Psi and
    ``phi`` is split evenly between Phi+ and Phi-.
    """
    her, other, half_phi = correct / total, flipped / total, 0.5 * phi / total
    return {
        1: BellDiagonal(half_phi, her, half_phi, other),
        3: BellDiagonal(half_phi, other, half_phi, her),
    }


def _require_success(name: str, total: float) -> None:
    if total <= 0.0:
        raise ValueError(f"{name}: these parameters never herald success (probability 0)")


@dataclass(frozen=True, slots=True)
class AbstractHerald:
    """Phenomenological link: fixed success probability, Werner state around Phi+."""

    success_probability: float
    fidelity: float
    _state: BellDiagonal = field(init=False, repr=False, compare=False)

    outcomes: ClassVar[tuple[int, ...]] = (0,)

    def __post_init__(self) -> None:
        check_probability("success_probability", self.success_probability)
        object.__setattr__(self, "_state", BellDiagonal.werner(self.fidelity))

    def heralded_state(self, index: int) -> BellDiagonal:
        """Werner state of the configured fidelity (only outcome 0 exists)."""
        if index != 0:
            raise KeyError(index)
        return self._state.copy()


def _double_click_weights(
    eta_a: float, eta_b: float, d: float
) -> tuple[float, float, float, float]:
    """(correct Psi, other Psi, Phi total, success probability x 2) for unequal arms.

    Per odd-parity configuration, a round is good by its real photon
    (r = eta (1 - d)) or by a dark count after losing it (f = (1 - eta) D);
    spin 01 emits from a in round 1 and from b in round 2, spin 10 the
    other way round, so both get (r_a + f_a)(r_b + f_b): the arm imbalance
    cancels.  Only r_a r_b keeps the superposition (the heralded Psi); the
    other terms reveal the emitter (half on each Psi).  Even parity needs a
    dark count in the empty round and a good two-photon round:
    e = D [(1 - l_a l_b)(1 - d) + l_a l_b D] with l = 1 - eta.
    """
    dark = 2.0 * d * (1.0 - d)
    real_a, real_b = eta_a * (1.0 - d), eta_b * (1.0 - d)
    lost_a, lost_b = 1.0 - eta_a, 1.0 - eta_b
    fake_a, fake_b = lost_a * dark, lost_b * dark
    exact = real_a * real_b
    mixed = real_a * fake_b + fake_a * real_b + fake_a * fake_b
    both_lost = lost_a * lost_b
    even = dark * ((1.0 - both_lost) * (1.0 - d) + both_lost * dark)
    return exact + 0.5 * mixed, 0.5 * mixed, even, exact + mixed + even


@dataclass(frozen=True, slots=True)
class DoubleClickHerald:
    """Barrett-Kok double-click scheme (Barrett and Kok, PRA 71, 060310(R) (2005)).

    ``eta`` is arm a's single-photon efficiency (emission x fibre to the
    station x detector), and arm b's too unless ``eta_b`` is given;
    ``dark_count_probability`` d is per detector per detection window.  Two
    rounds with a spin flip in between; two non-photon-number-resolving
    detectors behind a beam splitter.  A round "clicks correctly" when
    exactly one detector clicks; same detector twice heralds Psi+, different
    detectors Psi-.  With D = 2 d (1 - d) (exactly one dark click among two
    empty detectors), equal arms:

    * odd spin parity (weight 1/2, one photon per round):
      a = eta^2 (1 - d)^2, both rounds real: the heralded Psi exactly;
      b = 2 eta (1 - d) (1 - eta) D, one real round and one dark count after a
      loss; c = ((1 - eta) D)^2, both rounds dark.  The lost photon reveals
      which spin emitted it, so b and c give Psi+/Psi- half each;
    * even parity (weight 1/2, spins 00 or 11): one round is empty and needs a
      dark count, the other carries two photons, which bunch on one detector
      (clicks with (1 - (1 - eta)^2)(1 - d)) or are both lost and a dark count
      clicks ((1 - eta)^2 D):
      e = D [(1 - (1 - eta)^2)(1 - d) + (1 - eta)^2 D], Phi+/Phi- half each.

    Success probability (a + b + c + e) / 2; heralded weights proportional to
    a + (b + c)/2 (heralded Psi), (b + c)/2 (other Psi), e/2 (Phi+ and Phi-
    each).  With d = 0: probability eta^2 / 2 and fidelity 1.  Unequal arms
    (``_double_click_weights``): a = eta_a eta_b (1 - d)^2 and the state stays
    exact, because each spin emits once through each arm; without dark
    counts the probability is eta_a eta_b / 2.  The equal-arm numbers are
    computed as before, bit for bit, when ``eta_b`` is None.
    """

    eta: float
    dark_count_probability: float = 0.0
    eta_b: float | None = None
    success_probability: float = field(init=False)
    fidelity: float = field(init=False)
    _states: dict[int, BellDiagonal] = field(init=False, repr=False, compare=False)

    outcomes: ClassVar[tuple[int, ...]] = _PSI_OUTCOMES

    def __post_init__(self) -> None:
        eta = check_probability("eta", self.eta)
        d = check_probability("dark_count_probability", self.dark_count_probability)
        if self.eta_b is None:
            dark = 2.0 * d * (1.0 - d)
            lost = 1.0 - eta
            a = eta * eta * (1.0 - d) ** 2
            b = 2.0 * eta * (1.0 - d) * lost * dark
            c = (lost * dark) ** 2
            e = dark * ((1.0 - lost * lost) * (1.0 - d) + lost * lost * dark)
            correct, flipped, phi, total = a + 0.5 * (b + c), 0.5 * (b + c), e, a + b + c + e
        else:
            eta_b = check_probability("eta_b", self.eta_b)
            correct, flipped, phi, total = _double_click_weights(eta, eta_b, d)
        _require_success("DoubleClickHerald", total)
        states = _psi_states(correct, flipped, phi, total)
        object.__setattr__(self, "success_probability", 0.5 * total)
        object.__setattr__(self, "fidelity", states[1].p1)
        object.__setattr__(self, "_states", states)

    def heralded_state(self, index: int) -> BellDiagonal:
        """Twirled state given herald ``index`` (1 = Psi+, 3 = Psi-)."""
        return self._states[index].copy()


def _single_click_weights(alpha: float, eta: float, d: float) -> tuple[float, float, float, float]:
    """(correct Psi, other Psi, Phi total, success probability), unnormalised."""
    dark = 2.0 * d * (1.0 - d)
    lost = 1.0 - eta
    one = 2.0 * alpha * (1.0 - alpha)
    correct = one * eta * (1.0 - d)
    mixed = one * lost * dark
    two = alpha * alpha * ((1.0 - lost * lost) * (1.0 - d) + lost * lost * dark)
    zero = (1.0 - alpha) ** 2 * dark
    phi = two + zero
    return correct + 0.5 * mixed, 0.5 * mixed, phi, correct + mixed + phi


def _single_click_weights_unequal(
    alpha_a: float, alpha_b: float, eta_a: float, eta_b: float, d: float
) -> tuple[float, float, float, float]:
    """``_single_click_weights`` for two bright-state populations and two arms.

    One-photon terms: x = alpha_a (1 - alpha_b) eta_a (a emitted, detected)
    and y = (1 - alpha_a) alpha_b eta_b; a click on D+ projects the spins on
    sqrt(x)|10> + sqrt(y)|01> (D- with a minus sign), whose weights on the
    heralded and the other Psi are (sqrt x +- sqrt y)^2 / 2.  Lost one-photon
    terms x' = alpha_a (1 - alpha_b)(1 - eta_a), y' likewise, need a dark
    count and reveal the emitter (half on each Psi).  Two photons: good with
    T = (1 - l_a l_b)(1 - d) + l_a l_b D (they bunch, or one survives); none:
    D.  Both heralds are equally likely; weights are summed over both.
    """
    dark = 2.0 * d * (1.0 - d)
    x = alpha_a * (1.0 - alpha_b) * eta_a
    y = (1.0 - alpha_a) * alpha_b * eta_b
    lost = alpha_a * (1.0 - alpha_b) * (1.0 - eta_a) + (1.0 - alpha_a) * alpha_b * (1.0 - eta_b)
    root_x, root_y = math.sqrt(x), math.sqrt(y)
    both_lost = (1.0 - eta_a) * (1.0 - eta_b)
    two = alpha_a * alpha_b * ((1.0 - both_lost) * (1.0 - d) + both_lost * dark)
    zero = (1.0 - alpha_a) * (1.0 - alpha_b) * dark
    half_lost = 0.5 * lost * dark
    correct = 0.5 * (1.0 - d) * (root_x + root_y) ** 2 + half_lost
    flipped = 0.5 * (1.0 - d) * (root_x - root_y) ** 2 + half_lost
    phi = two + zero
    return correct, flipped, phi, correct + flipped + phi


def _single_click_fidelity(alpha: float, eta: float, d: float) -> float:
    correct, _, _, total = _single_click_weights(alpha, eta, d)
    return correct / total if total > 0.0 else 0.0


def balanced_alpha(alpha: float, eta_weak: float, eta_strong: float) -> float:
    """Bright-state population for the node on the stronger arm that balances the arms.

    With alpha on the weaker arm, the one-photon branch is maximally
    entangled when alpha (1 - alpha_s) eta_weak = (1 - alpha) alpha_s eta_strong,
    i.e. alpha_s = alpha eta_weak / (alpha eta_weak + (1 - alpha) eta_strong)
    (<= alpha when eta_weak <= eta_strong).
    """
    numerator = alpha * eta_weak
    denominator = numerator + (1.0 - alpha) * eta_strong
    return numerator / denominator if denominator > 0.0 else alpha


@dataclass(frozen=True, slots=True)
class SingleClickHerald:
    """Single-click scheme (Cabrillo et al., PRA 59, 1025 (1999)): each node emits
    with probability ``alpha`` (bright state |1>).

    One round, one beam splitter, two non-number-resolving detectors; success
    is exactly one click (D+ heralds Psi+, D- Psi-).  With D = 2 d (1 - d):

    * one photon emitted (2 alpha (1 - alpha)), detected with eta, other
      detector silent (1 - d): the heralded Psi exactly;
    * one photon emitted but lost, plus a dark count ((1 - eta) D): which node
      emitted is unknown but the phase is random: Psi+/Psi- half each;
    * two photons (alpha^2), at least one detected ((1 - (1 - eta)^2)(1 - d))
      or both lost with a dark count ((1 - eta)^2 D): |11>, whose Bell-diagonal
      part is Phi+/Phi- half each;
    * no photon ((1 - alpha)^2) and a dark count (D): |00>, Phi+/Phi- half each.

    With d = 0 the fidelity is 2 (1 - alpha) / (2 - alpha eta) ~ 1 - alpha and
    the success probability alpha eta (2 - alpha eta) ~ 2 alpha eta.

    Unequal arms: ``eta`` and ``alpha`` belong to node a; ``eta_b`` and
    ``alpha_b`` (each defaulting to node a's) to node b.  The one-photon
    branch is then a non-maximally entangled state that also leaks onto the
    other Psi (``_single_click_weights_unequal``); ``balanced`` chooses
    alpha_b to remove the leak.  With both None the equal-arm arithmetic is
    used unchanged.
    """

    alpha: float
    eta: float
    dark_count_probability: float = 0.0
    eta_b: float | None = None
    alpha_b: float | None = None
    success_probability: float = field(init=False)
    fidelity: float = field(init=False)
    _states: dict[int, BellDiagonal] = field(init=False, repr=False, compare=False)

    outcomes: ClassVar[tuple[int, ...]] = _PSI_OUTCOMES

    def __post_init__(self) -> None:
        alpha = check_probability("alpha", self.alpha)
        eta = check_probability("eta", self.eta)
        d = check_probability("dark_count_probability", self.dark_count_probability)
        if self.eta_b is None and self.alpha_b is None:
            correct, flipped, phi, total = _single_click_weights(alpha, eta, d)
        else:
            eta_b = eta if self.eta_b is None else check_probability("eta_b", self.eta_b)
            alpha_b = alpha if self.alpha_b is None else check_probability("alpha_b", self.alpha_b)
            correct, flipped, phi, total = _single_click_weights_unequal(
                alpha, alpha_b, eta, eta_b, d
            )
        _require_success("SingleClickHerald", total)
        states = _psi_states(correct, flipped, phi, total)
        object.__setattr__(self, "success_probability", total)
        object.__setattr__(self, "fidelity", states[1].p1)
        object.__setattr__(self, "_states", states)

    @classmethod
    def balanced(
        cls, alpha: float, eta_a: float, eta_b: float, dark_count_probability: float = 0.0
    ) -> SingleClickHerald:
        """Unequal arms with ``alpha`` at the node on the weaker arm and the other
        node's population from ``balanced_alpha`` (both alpha when the arms are equal)."""
        check_probability("alpha", alpha)
        check_probability("eta_a", eta_a)
        check_probability("eta_b", eta_b)
        if eta_a <= eta_b:
            return cls(
                alpha, eta_a, dark_count_probability, eta_b, balanced_alpha(alpha, eta_a, eta_b)
            )
        other = balanced_alpha(alpha, eta_b, eta_a)
        return cls(other, eta_a, dark_count_probability, eta_b, alpha)

    def heralded_state(self, index: int) -> BellDiagonal:
        """Twirled state given herald ``index`` (1 = Psi+, 3 = Psi-)."""
        return self._states[index].copy()


def choose_alpha(
    eta: float,
    dark_count_probability: float,
    min_fidelity: float,
    delivered: Callable[[BellDiagonal, int], float] | None = None,
    eta_b: float | None = None,
) -> float | None:
    """Largest alpha in (0, 0.5] whose single-click fidelity is >= ``min_fidelity``.

    ``delivered(state, index)``, when given, maps the heralded state to the
    fidelity that counts (e.g. after the memories' noise until the herald
    arrives); by default the heralded fidelity itself.  With ``eta_b`` (arm
    b's efficiency; ``eta`` is then arm a's) the candidates are
    ``SingleClickHerald.balanced(alpha, eta, eta_b, d)``, and alpha is the
    population at the node on the weaker arm.

    The rate grows with alpha, so this is the fastest setting meeting the
    target.  Dark counts make the fidelity rise from ~0 at alpha -> 0 to a
    single peak and fall afterwards, so the peak is found by golden-section
    search and the crossing by bisection on the falling side.  Returns None
    when even the peak misses the target.
    """
    eta = check_probability("eta", eta)
    d = check_probability("dark_count_probability", dark_count_probability)
    check_probability("min_fidelity", min_fidelity)

    def herald(alpha: float) -> SingleClickHerald:
        if eta_b is None:
            return SingleClickHerald(alpha, eta, d)
        return SingleClickHerald.balanced(alpha, eta, eta_b, d)

    def fid(alpha: float) -> float:
        if delivered is None and eta_b is None:
            return _single_click_fidelity(alpha, eta, d)
        model = herald(alpha)
        if delivered is None:
            return model.fidelity
        return delivered(model.heralded_state(1), 1)

    lo, hi = 0.0, 0.5
    x1, x2 = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
    f1, f2 = fid(x1), fid(x2)
    for _ in range(_SEARCH_ITERATIONS):
        if f1 < f2:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + _GOLDEN * (hi - lo)
            f2 = fid(x2)
        else:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - _GOLDEN * (hi - lo)
            f1 = fid(x1)
    peak, f_peak = (x1, f1) if f1 >= f2 else (x2, f2)
    if f_peak < min_fidelity:
        return None
    if fid(0.5) >= min_fidelity:
        return 0.5
    good, bad = peak, 0.5
    for _ in range(_SEARCH_ITERATIONS):
        mid = 0.5 * (good + bad)
        if mid in (good, bad):
            break
        if fid(mid) >= min_fidelity:
            good = mid
        else:
            bad = mid
    return good
