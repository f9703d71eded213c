"""Basis sifting and QBER estimation by public random sampling.

Bases are encoded 0 = Z (computational) and 1 = X (Hadamard).

Choice for the symmetric (BBM92 / BB84 with equal basis probabilities) case:
both Z- and X-basis sifted bits go into the key, and the sample is drawn
uniformly from *all* sifted positions, so each basis gets its own sample and
its own bit error rate (``QberStats.z`` and ``QberStats.x``). The phase error
rate of the Z-key bits is the X-basis bit error rate and vice versa (the
complementarity argument of Shor & Preskill, PRL 85, 441 (2000)); the key's
overall phase error rate is the mix of the two weighted by how many key bits
each basis contributes (see ``QberStats.phase_error_rate``). With a biased
protocol that keeps only Z bits, the same formula reduces to e_phase = e_X.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from qstack.qkd._bits import Bits, as_bits

Z_BASIS = 0
X_BASIS = 1


@dataclass(frozen=True)
class SiftedKey:
    """The matching-basis positions of both parties' raw strings."""

    alice: Bits
    bob: Bits
    bases: Bits
    """The (common) basis of each kept position."""

    def __len__(self) -> int:
        return int(self.alice.size)


def sift(
    alice_bits: npt.ArrayLike,
    bob_bits: npt.ArrayLike,
    alice_bases: npt.ArrayLike,
    bob_bases: npt.ArrayLike,
) -> SiftedKey:
    """Keep the positions where both parties measured in the same basis.

    Only the bases are compared (they are announced publicly); the bits never are.
    """
    a = as_bits(alice_bits, "alice_bits")
    b = as_bits(bob_bits, "bob_bits")
    ab = as_bits(alice_bases, "alice_bases")
    bb = as_bits(bob_bases, "bob_bases")
    if not a.size == b.size == ab.size == bb.size:
        raise ValueError(f"length mismatch: bits {a.size}/{b.size}, bases {ab.size}/{bb.size}")
    keep = ab == bb
    return SiftedKey(alice=a[keep], bob=b[keep], bases=ab[keep])


def statistical_deviation(n: int, k: int, eps: float) -> float:
    """Upper deviation of the error rate on ``n`` unseen bits given ``k`` sampled bits.

    With probability at least 1 - eps the error rate of the n remaining bits is below
    the sample's rate plus ``sqrt((n + k)(k + 1) ln(1/eps) / (n k^2))``: the
    Serfling-type random-sampling bound of Tomamichel, Lim, Gisin & Renner,
    "Tight finite-key analysis for quantum cryptography", Nat. Commun. 3, 634 (2012).
    Returns +inf when there is no sample (nothing can be said) and 0 when n == 0.
    """
    if not 0.0 < eps <= 1.0:
        raise ValueError(f"eps must be in (0, 1], got {eps}")
    if n <= 0:
        return 0.0
    if k <= 0:
        return math.inf
    return math.sqrt((n + k) * (k + 1) * math.log(1.0 / eps) / (n * k * k))


@dataclass(frozen=True)
class QberStats:
    """Error counts seen in the public sample, per basis, and the key bits per basis."""

    errors_z: int
    samples_z: int
    errors_x: int
    samples_x: int
    key_bits_z: int = 0
    """Unsampled (key) bits measured in Z; used to weight the phase error rate."""
    key_bits_x: int = 0

    @property
    def sample_size(self) -> int:
        return self.samples_z + self.samples_x

    @property
    def z(self) -> float:
        """Z-basis bit error rate in the sample (nan without Z samples)."""
        return self.errors_z / self.samples_z if self.samples_z else math.nan

    @property
    def x(self) -> float:
        """X-basis bit error rate in the sample (nan without X samples)."""
        return self.errors_x / self.samples_x if self.samples_x else math.nan

    @property
    def overall(self) -> float:
        """Bit error rate over the whole sample, both bases pooled (nan if empty)."""
        total = self.sample_size
        return (self.errors_z + self.errors_x) / total if total else math.nan

    def phase_error_rate(self, eps: float | None = None) -> float:
        """Phase error rate of the key bits, optionally a finite-size upper bound.

        Z-key bits take their phase error from the X-basis sample and X-key bits from
        the Z-basis sample; the two are weighted by the key bits in each basis. With
        ``eps`` each term gets ``statistical_deviation`` (per basis, with that basis's
        key and sample sizes). A basis with key bits but no complementary sample is
        taken at 0.5 (no key from it). Result is clipped to [0, 0.5].
        """
        total = self.key_bits_z + self.key_bits_x
        if total == 0:
            return 0.0
        acc = 0.0
        for key_bits, errors, samples in (
            (self.key_bits_z, self.errors_x, self.samples_x),
            (self.key_bits_x, self.errors_z, self.samples_z),
        ):
            if key_bits == 0:
                continue
            if samples == 0:
                rate = 0.5
            else:
                rate = errors / samples
                if eps is not None:
                    rate += statistical_deviation(key_bits, samples, eps)
            acc += key_bits * min(rate, 0.5)
        return min(max(acc / total, 0.0), 0.5)


@dataclass(frozen=True)
class QberEstimate:
    """Sample statistics plus the unsampled remainder that becomes the raw key."""

    stats: QberStats
    alice: Bits
    bob: Bits
    bases: Bits
    sample_positions: npt.NDArray[np.intp]
    """Positions (into the input arrays) that were disclosed and discarded."""

    @property
    def qber(self) -> float:
        """Pooled sample error rate (shortcut for ``stats.overall``)."""
        return self.stats.overall


def estimate_qber(
    alice: npt.ArrayLike,
    bob: npt.ArrayLike,
    rng: np.random.Generator,
    *,
    bases: npt.ArrayLike | None = None,
    sample_fraction: float | None = None,
    sample_size: int | None = None,
) -> QberEstimate:
    """Disclose a uniformly random sample of the sifted bits and count errors per basis.

    Exactly one of ``sample_fraction`` (rounded to the nearest count) and
    ``sample_size`` must be given. ``bases`` defaults to all-Z. The sampled positions
    are removed from the returned key because they were announced publicly.
    """
    a = as_bits(alice, "alice")
    b = as_bits(bob, "bob")
    n = a.size
    if b.size != n:
        raise ValueError(f"length mismatch: alice {n}, bob {b.size}")
    bs = np.zeros(n, np.uint8) if bases is None else as_bits(bases, "bases")
    if bs.size != n:
        raise ValueError(f"bases has length {bs.size}, keys have {n}")
    if (sample_fraction is None) == (sample_size is None):
        raise ValueError("give exactly one of sample_fraction and sample_size")
    if sample_fraction is not None:
        if not 0.0 <= sample_fraction <= 1.0:
            raise ValueError(f"sample_fraction must be in [0, 1], got {sample_fraction}")
        k = round(sample_fraction * n)
    else:
        assert sample_size is not None
        k = int(sample_size)
    if not 0 <= k <= n:
        raise ValueError(f"sample size {k} outside [0, {n}]")

    chosen = np.sort(rng.choice(n, size=k, replace=False)).astype(np.intp)
    mask = np.zeros(n, dtype=bool)
    mask[chosen] = True
    err = a[chosen] != b[chosen]
    is_x = bs[chosen] == X_BASIS
    n_x = int(is_x.sum())
    e_x = int(np.count_nonzero(err & is_x))
    e_z = int(np.count_nonzero(err)) - e_x
    keep = ~mask
    kept_bases = bs[keep]
    key_x = int(np.count_nonzero(kept_bases))
    stats = QberStats(
        errors_z=e_z,
        samples_z=k - n_x,
        errors_x=e_x,
        samples_x=n_x,
        key_bits_z=int(kept_bases.size) - key_x,
        key_bits_x=key_x,
    )
    return QberEstimate(
        stats=stats, alice=a[keep], bob=b[keep], bases=kept_bases, sample_positions=chosen
    )
