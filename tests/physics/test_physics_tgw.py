"""The TGW bound against PLOB (Takeoka, Guha & Wilde 2014; Pirandola et al. 2017)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qstack.physics import formulas


@given(st.floats(1e-12, 1.0 - 1e-12))
def test_tgw_bound_is_above_plob(eta: float) -> None:
    """TGW - PLOB = log2(1 + eta) >= 0 for every transmittance in (0, 1)."""
    tgw, plob = formulas.tgw_bound(eta), formulas.plob_bound(eta)
    assert tgw >= plob
    assert tgw - plob == pytest.approx(math.log2(1.0 + eta), rel=1e-9, abs=1e-12)


def test_tgw_is_twice_plob_for_small_transmittance() -> None:
    """Both are linear in eta near 0: TGW ~ 2 eta / ln 2, PLOB ~ eta / ln 2, so TGW / PLOB -> 2.

    (Not 2 / ln 2: the 1 / ln 2 factors cancel in the ratio.) TGW / PLOB = 2 - eta + O(eta^2)
    from the series of log2((1 + eta)/(1 - eta)) and -log2(1 - eta).
    """
    for eta in (1e-2, 1e-4, 1e-6):
        ratio = formulas.tgw_bound(eta) / formulas.plob_bound(eta)
        # + 1e-8: plob_bound's log2(1 - eta) rounds to ~1e-16 / eta relative at small eta
        assert ratio == pytest.approx(2.0 - eta, abs=eta * eta + 1e-8)
        assert formulas.tgw_bound(eta) == pytest.approx(2.0 * eta / math.log(2.0), rel=eta)
    assert formulas.tgw_bound(0.0) == 0.0
    assert formulas.tgw_bound(1.0) == math.inf
    with pytest.raises(ValueError, match="eta"):
        formulas.tgw_bound(1.5)
