"""Experiments beyond one run: ``--set`` overrides, sweeps over a grid, result tables, plots.

- :func:`sweep` runs a scenario at every point of a grid of ``--set`` keys,
  several replicas each, on local processes or a Dask cluster, and returns
  one row per (point, replica, request) as a pandas DataFrame;
- :func:`apply_overrides` edits a scenario document by ``--set`` keys, and
  :func:`scenario_with_overrides` validates the result into a ``Scenario``;
- :func:`derive_seed` is the seed a sweep gives replica r of point i.

The command line (``qstack run --set``, ``qstack sweep``, ``qstack plot``)
is in :mod:`qstack.experiments.cli`; the formats are in ``specs/scenario.md``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from qstack.experiments.document import scenario_hash, scenario_source
from qstack.experiments.grid import derive_seed
from qstack.experiments.overrides import OverrideError, apply_overrides
from qstack.experiments.sweeping import RunFailedError, SweepInputError, sweep
from qstack.scenario import Scenario, parse_scenario

__all__ = [
    "OverrideError",
    "RunFailedError",
    "SweepInputError",
    "apply_overrides",
    "derive_seed",
    "scenario_hash",
    "scenario_with_overrides",
    "sweep",
]


def scenario_with_overrides(
    scenario: str | os.PathLike[str] | Mapping[str, Any] | Scenario | None,
    overrides: Mapping[str, object] | Iterable[tuple[str, object]],
) -> Scenario:
    """A scenario (path, dict, ``Scenario``; None: the built-in) with keys set as ``--set`` does.

    ``overrides``: ``{key: value}`` or (key, value) pairs, applied in order;
    values are used as given (no TOML reading). Validated like a file.
    """
    source = scenario_source(scenario)
    pairs = overrides.items() if isinstance(overrides, Mapping) else overrides
    document = apply_overrides(source.document, pairs)
    return parse_scenario(document, source.name, source.base_dir)
