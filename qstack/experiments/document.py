"""Scenario documents: the plain data of a scenario file, before validation.

Overrides edit this data (``--set`` must mean exactly what editing the file
means), then it is validated like a file on disk. A sweep also hashes the
effective scenario so that every result row says which run produced it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qstack.scenario import (
    DEFAULT_SCENARIO_TOML,
    Scenario,
    read_scenario_document,
    scenario_base_dir,
)
from qstack.scenario import scenario_source as loaded_source_name

#: Characters of the hexadecimal SHA-256 kept in a row's ``scenario_hash``.
HASH_LENGTH = 16


@dataclass(frozen=True)
class ScenarioSource:
    """A scenario as data to edit: the document, the name errors use, where paths start."""

    document: dict[str, Any]
    name: str
    base_dir: Path | None


def scenario_source(
    scenario: str | os.PathLike[str] | Mapping[str, Any] | Scenario | None,
) -> ScenarioSource:
    """Accept what users hold: a file path, a dict, a ``Scenario``, or None (the built-in)."""
    if scenario is None:
        return ScenarioSource(tomllib.loads(DEFAULT_SCENARIO_TOML), "<built-in default>", None)
    if isinstance(scenario, Scenario):
        # The dump leaves out generated nodes and links; validating it generates them again.
        return ScenarioSource(scenario.model_dump(), "<scenario>", None)
    if isinstance(scenario, Mapping):
        return ScenarioSource(dict(scenario), "<scenario>", None)
    if isinstance(scenario, str | os.PathLike):
        return ScenarioSource(
            read_scenario_document(scenario),
            loaded_source_name(scenario),
            scenario_base_dir(scenario),
        )
    raise TypeError(
        f"scenario must be a file path, a dict or a Scenario, not {type(scenario).__name__}"
    )


def scenario_hash(scenario: Scenario) -> str:
    """A digest of everything that decides a run except its seed.

    Generated nodes and links are hashed as generated (a graph file's content
    counts, not only its name), and defaults as applied, so two files that
    mean the same network hash alike. With the row's ``seed`` it names the run.
    """
    data = scenario.model_dump(mode="json")
    data.pop("seed", None)
    data["nodes"] = [node.model_dump(mode="json") for node in scenario.nodes]
    data["links"] = [link.model_dump(mode="json") for link in scenario.links]
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]
