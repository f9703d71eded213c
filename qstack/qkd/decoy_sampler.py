"""Pulse-level sampling of decoy-state BB84 with weak coherent pulses.

Each pulse: Alice picks an intensity class (signal, weak decoy or vacuum), a
bit and a basis; the pulse carries a Poisson number of photons; each photon is
detected with probability eta (fibre and Bob's efficiency); Bob picks a basis;
a seen pulse lands on the detector of Alice's bit (flipped with probability
e_detector) when the bases agree and on a random detector when they do not;
each detector also fires by itself with probability d; a double click gets a
random bit. This is exactly the model whose closed forms ``qstack.qkd.decoy``
states, so sampled gains and error rates can be checked against them.

Pulses are drawn in numpy batches from a ``numpy.random.Generator`` passed in;
only the clicked pulses are kept (plus per-class counts of what was sent), so a
run of 10^8 pulses over a lossy link needs little memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from qstack.physics._validate import check_non_negative, check_probability
from qstack.qkd._bits import Bits
from qstack.qkd.decoy import IntensityStats, SinglePhotonEstimate, WcpLink, vacuum_weak_estimate

SIGNAL = 0
DECOY = 1
VACUUM = 2
CLASS_NAMES = ("signal", "decoy", "vacuum")
#: Photon numbers tallied separately in ``DetectionRecord.sent_by_photons``; more are pooled.
PHOTON_BINS = 8
_BATCH = 1 << 20
_T = TypeVar("_T", bound=np.generic)


@dataclass(frozen=True, slots=True)
class DecoySettings:
    """Alice's source: intensities and probabilities of the three classes, and the bases.

    ``intensities`` are (mu, nu, 0) mean photon numbers with mu > nu > 0;
    ``class_probabilities`` the probability of sending each class (sum 1);
    ``z_basis_probability`` the probability that Alice (and, independently, Bob)
    picks Z. Equal bases (1/2) is the BB84 of Lo, Ma & Chen (q = 1/2).
    """

    intensities: tuple[float, float, float]
    class_probabilities: tuple[float, float, float]
    z_basis_probability: float = 0.5

    def __post_init__(self) -> None:
        mu, nu, vac = self.intensities
        if vac != 0.0:
            raise ValueError(f"intensities[2] is the vacuum class and must be 0, got {vac!r}")
        if not mu > nu > 0.0:
            raise ValueError(f"intensities must satisfy mu > nu > 0, got {self.intensities!r}")
        for i, p in enumerate(self.class_probabilities):
            check_probability(f"class_probabilities[{i}]", p)
        total = sum(self.class_probabilities)
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"class_probabilities must sum to 1, got {total!r}")
        check_probability("z_basis_probability", self.z_basis_probability)

    @property
    def sifting_probability(self) -> float:
        """Probability that Alice's and Bob's bases agree: p_Z^2 + (1 - p_Z)^2."""
        p = self.z_basis_probability
        return p * p + (1.0 - p) * (1.0 - p)


@dataclass(frozen=True)
class DetectionRecord:
    """The clicked pulses of a run, and per-class counts of the pulses sent.

    Arrays are aligned, one entry per clicked pulse in sending order. Bases are
    0 = Z, 1 = X (``qstack.qkd.sifting``'s encoding). ``photons`` is the photon
    number Alice's pulse carried: simulator ground truth, for validation only.
    """

    sent: npt.NDArray[np.int64]
    """Pulses sent per class (signal, decoy, vacuum)."""
    sent_by_photons: npt.NDArray[np.int64]
    """Pulses sent per (class, photon number), photon numbers >= PHOTON_BINS - 1 pooled."""
    index: npt.NDArray[np.int64]
    """Position of each clicked pulse in the run."""
    intensity_class: Bits
    photons: npt.NDArray[np.int64]
    alice_bits: Bits
    alice_bases: Bits
    bob_bases: Bits
    bob_bits: Bits
    double_click: npt.NDArray[np.bool_]

    def of_class(self, cls: int) -> npt.NDArray[np.bool_]:
        """Mask of the clicks whose pulse was of intensity class ``cls``."""
        mask: npt.NDArray[np.bool_] = self.intensity_class == cls
        return mask

    def stats(self, cls: int, mu: float) -> IntensityStats:
        """Observed gain and QBER of class ``cls`` (sent at intensity ``mu``)."""
        mask = self.of_class(cls)
        sifted = mask & (self.alice_bases == self.bob_bases)
        n_sifted = int(np.count_nonzero(sifted))
        errors = int(np.count_nonzero(self.alice_bits[sifted] != self.bob_bits[sifted]))
        sent = int(self.sent[cls])
        gain = int(np.count_nonzero(mask)) / sent if sent else 0.0
        return IntensityStats(mu, gain, errors / n_sifted if n_sifted else 0.0)

    def key_material(self, cls: int = SIGNAL) -> tuple[Bits, Bits, Bits, Bits]:
        """(alice_bits, bob_bits, alice_bases, bob_bases) of the clicks of one class.

        The input the sifting / Cascade / privacy-amplification chain takes.
        """
        mask = self.of_class(cls)
        return (
            self.alice_bits[mask],
            self.bob_bits[mask],
            self.alice_bases[mask],
            self.bob_bases[mask],
        )


def observed_estimate(record: DetectionRecord, settings: DecoySettings) -> SinglePhotonEstimate:
    """Vacuum + weak decoy bounds from a run's observed gains and error rates."""
    mu, nu, _ = settings.intensities
    signal = record.stats(SIGNAL, mu)
    decoy = record.stats(DECOY, nu)
    vacuum = record.stats(VACUUM, 0.0)
    return vacuum_weak_estimate(signal, decoy, vacuum.gain)


def _joined(chunks: list[npt.NDArray[_T]], dtype: type[_T]) -> npt.NDArray[_T]:
    """Concatenate per-batch arrays (an empty run gives an empty array of the dtype)."""
    if not chunks:
        return np.zeros(0, dtype=dtype)
    return np.concatenate(chunks).astype(dtype, copy=False)


def sample_pulses(
    link: WcpLink,
    length_km: float,
    settings: DecoySettings,
    pulses: int,
    rng: np.random.Generator,
) -> DetectionRecord:
    """Send ``pulses`` pulses over ``length_km`` of the link and record Bob's clicks.

    Deterministic given ``rng``'s state. Work is done in batches of about a
    million pulses.
    """
    if pulses < 0:
        raise ValueError(f"pulses must be >= 0, got {pulses!r}")
    check_non_negative("length_km", length_km)
    eta = link.transmittance(length_km)
    d = link.dark_count_probability
    e_det = link.misalignment
    mus = np.asarray(settings.intensities, dtype=np.float64)
    cumulative = np.cumsum(settings.class_probabilities)[:-1]
    p_x = 1.0 - settings.z_basis_probability
    sent = np.zeros(3, dtype=np.int64)
    by_photons = np.zeros(3 * PHOTON_BINS, dtype=np.int64)
    index: list[npt.NDArray[np.int64]] = []
    photon_counts: list[npt.NDArray[np.int64]] = []
    small: dict[str, list[Bits]] = {k: [] for k in ("cls", "a_bit", "a_basis", "b_basis", "b_bit")}
    doubles: list[npt.NDArray[np.bool_]] = []
    for start in range(0, pulses, _BATCH):
        m = min(_BATCH, pulses - start)
        cls = np.searchsorted(cumulative, rng.random(m), side="right").astype(np.uint8)
        photons = rng.poisson(mus[cls])
        seen = rng.binomial(photons, eta) > 0
        a_bit = rng.integers(0, 2, m, dtype=np.uint8)
        a_basis = (rng.random(m) < p_x).astype(np.uint8)
        b_basis = (rng.random(m) < p_x).astype(np.uint8)
        flip = (rng.random(m) < e_det).astype(np.uint8)
        coin = rng.integers(0, 2, m, dtype=np.uint8)
        target = np.where(a_basis == b_basis, a_bit ^ flip, coin)
        fire0 = (rng.random(m) < d) | (seen & (target == 0))
        fire1 = (rng.random(m) < d) | (seen & (target == 1))
        clicked = np.flatnonzero(fire0 | fire1)
        double = fire0[clicked] & fire1[clicked]
        # a double click's bit is random; the coin is independent of everything it decides here
        tie = rng.integers(0, 2, clicked.size, dtype=np.uint8)
        sent += np.bincount(cls, minlength=3)
        pooled = cls.astype(np.int64) * PHOTON_BINS + np.minimum(photons, PHOTON_BINS - 1)
        by_photons += np.bincount(pooled, minlength=3 * PHOTON_BINS)
        index.append(clicked.astype(np.int64) + start)
        photon_counts.append(photons[clicked].astype(np.int64))
        small["cls"].append(cls[clicked])
        small["a_bit"].append(a_bit[clicked])
        small["a_basis"].append(a_basis[clicked])
        small["b_basis"].append(b_basis[clicked])
        small["b_bit"].append(np.where(double, tie, fire1[clicked]).astype(np.uint8))
        doubles.append(double)

    return DetectionRecord(
        sent=sent,
        sent_by_photons=by_photons.reshape(3, PHOTON_BINS),
        index=_joined(index, np.int64),
        intensity_class=_joined(small["cls"], np.uint8),
        photons=_joined(photon_counts, np.int64),
        alice_bits=_joined(small["a_bit"], np.uint8),
        alice_bases=_joined(small["a_basis"], np.uint8),
        bob_bases=_joined(small["b_basis"], np.uint8),
        bob_bits=_joined(small["b_bit"], np.uint8),
        double_click=_joined(doubles, np.bool_),
    )
