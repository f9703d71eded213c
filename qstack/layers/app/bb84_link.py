"""One fiber of a ``bb84`` session: its hardware, its pulses, its key.

A hop is one ``[[links]]`` entry crossed by Alice's weak coherent pulses
(``qstack.qkd.decoy``): the link's own ``length_km``,
``attenuation_db_per_km``, ``detector_efficiency`` (Bob's, eta_Bob) and dark
counts per detection window d (each of Bob's two detectors; Y0 = 1 - (1 - d)^2),
plus the request's ``misalignment`` (e_detector). The pulses are drawn by
``qstack.qkd.decoy_sampler``; the decoy analysis (vacuum + weak decoy
bounds, GLLP rate) and the finite key come from the clicks both ends have
disclosed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from qstack.layers.app.authentication import MessageAuth
from qstack.layers.app.service import SetupError
from qstack.qkd._bits import Bits
from qstack.qkd.auth import Authenticator
from qstack.qkd.decoy import (
    IntensityStats,
    SinglePhotonEstimate,
    WcpLink,
    decoy_secret_key_length,
    gllp_rate,
    optimal_intensity,
)
from qstack.qkd.decoy_sampler import (
    DECOY,
    SIGNAL,
    VACUUM,
    DecoySettings,
    DetectionRecord,
    observed_estimate,
    sample_pulses,
)
from qstack.qkd.pipeline import DistillResult, distill
from qstack.scenario import LinkSpec
from qstack.scenario.request import (
    DEFAULT_DECOY_INTENSITY,
    DEFAULT_DECOY_PROBABILITY,
    DEFAULT_VACUUM_PROBABILITY,
)

#: Bits of pre-shared key each end of a hop starts with (enough for a few tags).
PRESHARED_KEY_BITS = 4096
QBER_THRESHOLD = 0.11
#: Default signal intensity on a link that gives no key at any intensity
#: (qstack's choice: half a photon per pulse, or twice the decoy's).
NO_KEY_SIGNAL_INTENSITY = 0.5


def wcp_link(spec: LinkSpec, misalignment: float) -> WcpLink:
    """The link's hardware as decoy-state BB84 sees it (f = 1.22, q = 1/2 for the rate)."""
    if spec.model == "abstract":
        raise SetupError(
            f"the link {spec.a}-{spec.b} is abstract: app 'bb84' needs a physical link "
            "(single-click or double-click: attenuation, detector efficiency, dark counts)"
        )
    dark = spec.dark_count_per_window
    return WcpLink(
        attenuation_db_per_km=spec.attenuation_db_per_km,
        bob_efficiency=spec.detector_efficiency,
        dark_count_yield=1.0 - (1.0 - dark) ** 2,
        misalignment=misalignment,
    )


def decoy_settings(link: WcpLink, length_km: float, options: dict[str, Any]) -> DecoySettings:
    """The source's settings: the request's, and by default the signal intensity
    that maximises the vacuum + weak decoy key rate on this link; where no
    intensity gives a key (beyond the maximum distance), ``NO_KEY_SIGNAL_INTENSITY``
    (the search would end on the decoy's own intensity, where the bounds diverge)."""
    nu: float = options.get("decoy_intensity", DEFAULT_DECOY_INTENSITY)
    mu: float | None = options.get("signal_intensity")
    if mu is None:
        mu, rate = optimal_intensity(link, length_km, nu)
        if rate <= 0.0:
            mu = max(NO_KEY_SIGNAL_INTENSITY, 2.0 * nu)
    weak: float = options.get("decoy_probability", DEFAULT_DECOY_PROBABILITY)
    vacuum: float = options.get("vacuum_probability", DEFAULT_VACUUM_PROBABILITY)
    return DecoySettings((mu, nu, 0.0), (1.0 - weak - vacuum, weak, vacuum))


@dataclass(frozen=True, slots=True)
class HopAnalysis:
    """What the two ends know of a hop once the classes are disclosed."""

    signal: IntensityStats
    decoy: IntensityStats
    vacuum: IntensityStats
    estimate: SinglePhotonEstimate
    key_rate_per_pulse: float


class Hop:
    """One fiber of the session: Alice's end, Bob's end, and what passed between them."""

    def __init__(
        self,
        index: int,
        alice: str,
        bob: str,
        spec: LinkSpec,
        options: dict[str, Any],
        rng: np.random.Generator,
    ) -> None:
        self.index = index
        self.alice = alice
        self.bob = bob
        self.length_km = spec.length_km
        self.link = wcp_link(spec, options.get("misalignment", 0.0))
        self.settings = decoy_settings(self.link, spec.length_km, options)
        self.rng = rng
        preshared = rng.integers(0, 2, PRESHARED_KEY_BITS, dtype=np.uint8)
        self.alice_auth = MessageAuth(preshared)
        self.bob_auth = MessageAuth(preshared)
        self.record: DetectionRecord | None = None
        self.analysis: HopAnalysis | None = None
        self.result: DistillResult | None = None
        self.key_alice: Bits = np.zeros(0, np.uint8)
        self.key_bob: Bits = np.zeros(0, np.uint8)

    def auth(self, node: str) -> MessageAuth:
        return self.alice_auth if node == self.alice else self.bob_auth

    def detect(self, pulses: int) -> DetectionRecord:
        """The train has passed: Bob's clicks (and Alice's choices, which stay hers)."""
        self.record = sample_pulses(self.link, self.length_km, self.settings, pulses, self.rng)
        return self.record

    def analyse(self) -> HopAnalysis:
        """Gains and error rates per class, the decoy bounds, the asymptotic rate."""
        record = self._record()
        mu, nu, _ = self.settings.intensities
        signal = record.stats(SIGNAL, mu)
        estimate = observed_estimate(record, self.settings)
        self.analysis = HopAnalysis(
            signal,
            record.stats(DECOY, nu),
            record.stats(VACUUM, 0.0),
            estimate,
            gllp_rate(signal, estimate, self.link.ec_efficiency, self.link.sifting_factor),
        )
        return self.analysis

    def distill(self) -> DistillResult:
        """Sift, sample, Cascade, verify, and amplify the signal clicks to the
        GLLP length from the decoy estimates (``decoy_secret_key_length``)."""
        record = self._record()
        analysis = self.analysis or self.analyse()
        alice_bits, bob_bits, alice_bases, bob_bases = record.key_material(SIGNAL)

        def key_length(reconciled: int, leaked: int) -> int:
            return decoy_secret_key_length(reconciled, analysis.signal, analysis.estimate, leaked)

        result = distill(
            alice_bits,
            bob_bits,
            alice_bases,
            bob_bases,
            self.rng,
            qber_threshold=QBER_THRESHOLD,
            key_length=key_length,
        )
        self.result = result
        if not result.aborted:
            # The key first replenishes what the hop's tags consume (as qkd does),
            # the confirmation's still to come included.
            spent = self.alice_auth.pool.consumed + Authenticator.PAD_BITS
            spent = min(spent, len(result.final_key_alice))
            self.alice_auth.pool.add(result.final_key_alice[:spent])
            self.bob_auth.pool.add(result.final_key_bob[:spent])
            self.key_alice = result.final_key_alice[spent:]
            self.key_bob = result.final_key_bob[spent:]
        return result

    def _record(self) -> DetectionRecord:
        assert self.record is not None, "the pulses have not passed yet"
        return self.record

    def report_fields(self) -> dict[str, Any]:
        """This hop's figures, as the ``bb84`` report lists them."""
        mu, nu, _ = self.settings.intensities
        analysis, result, record = self.analysis, self.result, self.record
        sample = None if result is None or not result.qber.sample_size else result.qber.overall
        return {
            "pulses": 0 if record is None else int(record.sent.sum()),
            "signal_intensity": mu,
            "decoy_intensity": nu,
            "gain_signal": None if analysis is None else analysis.signal.gain,
            "qber_signal": None if analysis is None else analysis.signal.qber,
            "gain_decoy": None if analysis is None else analysis.decoy.gain,
            "qber_decoy": None if analysis is None else analysis.decoy.qber,
            "gain_vacuum": None if analysis is None else analysis.vacuum.gain,
            "single_photon_yield": None if analysis is None else analysis.estimate.y1,
            "single_photon_error": None if analysis is None else analysis.estimate.e1,
            "key_rate_per_pulse": None if analysis is None else analysis.key_rate_per_pulse,
            "sifted_bits": 0 if result is None else result.sifted_bits,
            "qber": sample,
            "leaked_bits": 0 if result is None else result.leaked_bits,
            "ec_efficiency": _finite(None if result is None else result.ec_efficiency),
        }


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value
