"""The report tests' marker: ``slow`` for the ones that start a browser."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: takes more than a few seconds (deselect: -m 'not slow')"
    )
