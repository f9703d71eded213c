"""Per-attempt models of heralded entanglement generation between two memories.

Each model gives the success probability of one attempt, the possible herald
outcomes (Bell indices, equally likely given success) and the state of the
two memory qubits conditioned on a success with a given outcome.  That state
is returned as its Bell-diagonal part, i.e. its Pauli twirl, which keeps every
Bell-basis fidelity unchanged.  All numbers are computed in the constructor;
``heralded_state`` only copies.
"""

from __future__ import annotations

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


@dataclass(frozen=True, slots=True)
class DoubleClickHerald:
    """Barrett-Kok double-click scheme with a mid-point station.

    ``eta`` is one arm's single-photon efficiency (emission x fibre to the
    station x detector); ``dark_count_probability`` d is per detector per
    detection window.  Two rounds with a spin flip in between; two
    non-photon-number-resolving detectors behind a beam splitter.  A round
    "clicks correctly" when exactly one detector clicks; same detector twice
    heralds Psi+, different detectors Psi-.  With D = 2 d (1 - d) (exactly
    one dark click among two empty detectors):

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
    each).  With d = 0: probability eta^2 / 2 and fidelity 1.
    """

    eta: float
    dark_count_probability: float = 0.0
    success_probability: float = field(init=False)
    fidelity: float = field(init=False)
    _states: dict[int, BellDiagonal] = field(init=False, repr=False, compare=False)

    outcomes: ClassVar[tuple[int, ...]] = _PSI_OUTCOMES

    def __post_init__(self) -> None:
        eta = check_probability("eta", self.eta)
        d = check_probability("dark_count_probability", self.dark_count_probability)
        dark = 2.0 * d * (1.0 - d)
        lost = 1.0 - eta
        a = eta * eta * (1.0 - d) ** 2
        b = 2.0 * eta * (1.0 - d) * lost * dark
        c = (lost * dark) ** 2
        e = dark * ((1.0 - lost * lost) * (1.0 - d) + lost * lost * dark)
        total = a + b + c + e
        _require_success("DoubleClickHerald", total)
        states = _psi_states(a + 0.5 * (b + c), 0.5 * (b + c), e, total)
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


def _single_click_fidelity(alpha: float, eta: float, d: float) -> float:
    correct, _, _, total = _single_click_weights(alpha, eta, d)
    return correct / total if total > 0.0 else 0.0


@dataclass(frozen=True, slots=True)
class SingleClickHerald:
    """Single-click scheme: each node emits with probability ``alpha`` (bright state |1>).

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
    """

    alpha: float
    eta: float
    dark_count_probability: float = 0.0
    success_probability: float = field(init=False)
    fidelity: float = field(init=False)
    _states: dict[int, BellDiagonal] = field(init=False, repr=False, compare=False)

    outcomes: ClassVar[tuple[int, ...]] = _PSI_OUTCOMES

    def __post_init__(self) -> None:
        alpha = check_probability("alpha", self.alpha)
        eta = check_probability("eta", self.eta)
        d = check_probability("dark_count_probability", self.dark_count_probability)
        correct, flipped, phi, total = _single_click_weights(alpha, eta, d)
        _require_success("SingleClickHerald", total)
        states = _psi_states(correct, flipped, phi, total)
        object.__setattr__(self, "success_probability", total)
        object.__setattr__(self, "fidelity", states[1].p1)
        object.__setattr__(self, "_states", states)

    def heralded_state(self, index: int) -> BellDiagonal:
        """Twirled state given herald ``index`` (1 = Psi+, 3 = Psi-)."""
        return self._states[index].copy()


def choose_alpha(
    eta: float,
    dark_count_probability: float,
    min_fidelity: float,
    delivered: Callable[[BellDiagonal, int], float] | None = None,
) -> float | None:
    """Largest alpha in (0, 0.5] whose single-click fidelity is >= ``min_fidelity``.

    ``delivered(state, index)``, when given, maps the heralded state to the
    fidelity that counts (e.g. after the memories' noise until the herald
    arrives); by default the heralded fidelity itself.

    The rate grows with alpha, so this is the fastest setting meeting the
    target.  Dark counts make the fidelity rise from ~0 at alpha -> 0 to a
    single peak and fall afterwards, so the peak is found by golden-section
    search and the crossing by bisection on the falling side.  Returns None
    when even the peak misses the target.
    """
    eta = check_probability("eta", eta)
    d = check_probability("dark_count_probability", dark_count_probability)
    check_probability("min_fidelity", min_fidelity)

    def fid(alpha: float) -> float:
        if delivered is None:
            return _single_click_fidelity(alpha, eta, d)
        herald = SingleClickHerald(alpha, eta, d)
        return delivered(herald.heralded_state(1), 1)

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
