"""How a link's hardware attempts for a requested fidelity.

The link layer asks ``setting_for(min_fidelity)`` and gets the attempt
setting both ends will use, or None when the hardware cannot deliver that
fidelity. Fidelities are computed from the heralded state and the memories'
noise over each side's emission-to-herald window, not looked up.
"""

from __future__ import annotations

from qstack.layers.physical.service import AttemptSetting
from qstack.layers.physical.station import HeraldingStation
from qstack.physics.heralding import HeraldingModel, SingleClickHerald, choose_alpha

#: Bright-state parameter of a single-click link when neither the scenario
#: nor the request says what it needs.
DEFAULT_BRIGHT_STATE_ALPHA = 0.1

#: Slack for comparing a computed fidelity with a requested one.
FIDELITY_TOLERANCE = 1e-12


class FixedSetting:
    """A link whose attempts do not depend on the request (abstract,
    double-click, or single-click with a configured alpha)."""

    def __init__(self, station: HeraldingStation, model: HeraldingModel, label: str) -> None:
        self.setting = AttemptSetting(model, station.expected_fidelity(model), label)

    @property
    def best_fidelity(self) -> float:
        """The highest fidelity at delivery any request can get."""
        return self.setting.expected_fidelity

    def setting_for(self, min_fidelity: float) -> AttemptSetting | None:
        if self.setting.expected_fidelity + FIDELITY_TOLERANCE < min_fidelity:
            return None
        return self.setting


class BrightStateSetting:
    """A single-click link choosing alpha per request: the largest alpha
    (fastest rate) whose delivered fidelity meets the minimum.

    With unequal arms (``eta_b``: arm b's efficiency, ``eta`` arm a's) alpha
    is the population at the node on the weaker arm, and the other node's
    balances the arms (``SingleClickHerald.balanced``)."""

    def __init__(
        self,
        station: HeraldingStation,
        eta: float,
        dark_count_probability: float,
        eta_b: float | None = None,
    ) -> None:
        self._station = station
        self._eta = eta
        self._eta_b = eta_b
        self._dark = dark_count_probability
        self._cache: dict[float, AttemptSetting | None] = {}
        self._best: float | None = None

    def _setting(self, alpha: float) -> AttemptSetting:
        if self._eta_b is None:
            model = SingleClickHerald(alpha, self._eta, self._dark)
            label = f"single-click alpha={alpha:.6g}"
        else:
            model = SingleClickHerald.balanced(alpha, self._eta, self._eta_b, self._dark)
            label = f"single-click alpha={model.alpha:.6g}/{model.alpha_b:.6g}"
        return AttemptSetting(model, self._station.expected_fidelity(model), label)

    @property
    def best_fidelity(self) -> float:
        """The highest fidelity at delivery over alpha (scanned on a log grid
        from 1e-6 to 0.5; dark counts and memories make it peak inside)."""
        if self._best is None:
            self._best = max(
                self._setting(1e-6 * (0.5 / 1e-6) ** (step / 400)).expected_fidelity
                for step in range(401)
            )
        return self._best

    def setting_for(self, min_fidelity: float) -> AttemptSetting | None:
        if min_fidelity in self._cache:
            return self._cache[min_fidelity]
        setting: AttemptSetting | None
        if min_fidelity <= 0.0:
            setting = self._setting(DEFAULT_BRIGHT_STATE_ALPHA)
        else:
            alpha = choose_alpha(
                self._eta,
                self._dark,
                min_fidelity,
                delivered=self._station.delivered_fidelity,
                eta_b=self._eta_b,
            )
            setting = None if alpha is None else self._setting(alpha)
            if setting and setting.expected_fidelity + FIDELITY_TOLERANCE < min_fidelity:
                setting = None
        self._cache[min_fidelity] = setting
        return setting
