"""The whole classical post-processing chain for one block of raw key.

sift -> sample and estimate QBER (abort above threshold) -> Cascade ->
verify (abort on mismatch) -> secret key length -> Toeplitz privacy
amplification. Both parties' computations run here, but Bob only ever
learns what crosses the public channel: bases, the sample, Alice's parity
answers, the verification hash and the hashing seeds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from qstack.qkd._bits import Bits
from qstack.qkd.cascade import ParityOracle, cascade
from qstack.qkd.privacy import ToeplitzHash, secret_key_length
from qstack.qkd.sifting import QberStats, estimate_qber, sift
from qstack.qkd.verify import verify_keys

_EMPTY: Bits = np.zeros(0, dtype=np.uint8)

KeyLength = Callable[[int, int], int]
"""(reconciled bits, leaked bits) -> secret key bits: a key-length bound of one's own."""


@dataclass(frozen=True)
class DistillResult:
    """What one distillation round produced and disclosed."""

    raw_bits: int
    sifted_bits: int
    sample_size: int
    qber: QberStats
    """Per-basis and pooled sample error rates (``.z``, ``.x``, ``.overall``)."""
    aborted: bool
    abort_reason: str | None
    leaked_bits: int
    """Cascade parities plus verification hash bits."""
    ec_leaked_bits: int
    ec_efficiency: float
    """Cascade's f = leaked / (n h(e)), e the corrected-error rate (nan if no errors)."""
    e_phase: float
    """Phase error rate (or its finite-size upper bound) used for the key length."""
    final_key_alice: Bits
    final_key_bob: Bits
    keys_match: bool
    secret_key_bits: int

    @property
    def reconciled_bits(self) -> int:
        """Bits that went through Cascade (sifted minus sample)."""
        return self.sifted_bits - self.sample_size


def distill(
    alice_bits: npt.ArrayLike,
    bob_bits: npt.ArrayLike,
    alice_bases: npt.ArrayLike,
    bob_bases: npt.ArrayLike,
    rng: np.random.Generator,
    *,
    sample_fraction: float = 0.1,
    qber_threshold: float = 0.11,
    security_bits: int = 64,
    finite_size: bool = False,
    eps_pe: float | None = None,
    cascade_passes: int = 4,
    verify_bits: int = 64,
    key_length: KeyLength | None = None,
) -> DistillResult:
    """Turn both parties' raw measurement records into equal secret keys, or abort.

    Aborts when either basis's sample QBER exceeds ``qber_threshold`` (11% is about
    where the one-way BB84/BBM92 rate vanishes), when no sample was taken, or when
    verification finds the reconciled keys differ. The key length uses the
    asymptotic formula of ``secret_key_length``; ``finite_size`` replaces each
    basis's phase error rate by its Serfling upper bound at ``eps_pe`` (default
    2^-security_bits). ``key_length`` replaces that formula (e.g. decoy-state
    BB84's GLLP bound). A zero-length result is not an abort: the round simply
    yielded no secret bits. Deterministic given ``rng``.
    """
    sifted = sift(alice_bits, bob_bits, alice_bases, bob_bases)
    raw = int(np.asarray(alice_bits).size)
    est = estimate_qber(
        sifted.alice, sifted.bob, rng, bases=sifted.bases, sample_fraction=sample_fraction
    )
    stats = est.stats

    def stop(
        reason: str, leaked: int = 0, ec_leaked: int = 0, f: float = math.nan
    ) -> DistillResult:
        return DistillResult(
            raw_bits=raw,
            sifted_bits=len(sifted),
            sample_size=stats.sample_size,
            qber=stats,
            aborted=True,
            abort_reason=reason,
            leaked_bits=leaked,
            ec_leaked_bits=ec_leaked,
            ec_efficiency=f,
            e_phase=math.nan,
            final_key_alice=_EMPTY,
            final_key_bob=_EMPTY,
            keys_match=False,
            secret_key_bits=0,
        )

    if stats.sample_size == 0:
        return stop("no sample to estimate the QBER")
    worst = max(r for r in (stats.z, stats.x) if not math.isnan(r))
    if worst > qber_threshold:
        return stop(f"QBER {worst:.4f} above threshold {qber_threshold}")

    # Size Cascade's blocks for at least one error per sample: a zero count in a
    # sample of k bits does not mean the key is error-free.
    qber_for_blocks = max(stats.overall, 1.0 / stats.sample_size)
    alice = ParityOracle(est.alice)
    ec = cascade(est.bob, alice, qber_for_blocks, rng, passes=cascade_passes)
    check = verify_keys(est.alice, ec.key, rng, tag_bits=verify_bits)
    leaked = ec.leaked_bits + check.leaked_bits
    if not check.match:
        return stop("verification failed", leaked, ec.leaked_bits, ec.efficiency)

    n = int(est.alice.size)
    e_phase = stats.phase_error_rate(
        (2.0**-security_bits if eps_pe is None else eps_pe) if finite_size else None
    )
    length = (
        secret_key_length(n, e_phase, leaked, security_bits)
        if key_length is None
        else key_length(n, leaked)
    )
    if length > 0:
        pa = ToeplitzHash.random(rng, n, length)
        key_a, key_b = pa(est.alice), pa(ec.key)
    else:
        key_a, key_b = _EMPTY, _EMPTY
    return DistillResult(
        raw_bits=raw,
        sifted_bits=len(sifted),
        sample_size=stats.sample_size,
        qber=stats,
        aborted=False,
        abort_reason=None,
        leaked_bits=leaked,
        ec_leaked_bits=ec.leaked_bits,
        ec_efficiency=ec.efficiency,
        e_phase=e_phase,
        final_key_alice=key_a,
        final_key_bob=key_b,
        keys_match=bool(np.array_equal(key_a, key_b)),
        secret_key_bits=length,
    )
