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

from qstack.scenario import DEFAULT_SCENARIO_TOML, Scenario, ScenarioError

#: Characters of the hexadecimal SHA-256 kept in a row's ``scenario_hash``.
HASH_LENGTH = 16


def read_scenario_document(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The data of a scenario file (TOML, or JSON for ``.json``), not yet validated.

    Failures read like the loader's: a ``ScenarioError`` naming the file.
    """
    source = os.fspath(path)
    try:
        text = Path(source).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise ScenarioError(f"{source}: is a directory, not a scenario file") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{source}: not UTF-8 text (bad byte at offset {exc.start}); "
            "scenario files must be UTF-8"
        ) from None
    except OSError as exc:
        raise ScenarioError(f"{source}: cannot read: {exc.strerror or exc}") from None
    data: object
    try:
        data = json.loads(text) if source.lower().endswith(".json") else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{source}: syntax error: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{source}: the top level must be a table (in JSON, an object), "
            f"not {type(data).__name__}"
        )
    return data


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
        source = os.fspath(scenario)
        return ScenarioSource(read_scenario_document(source), source, Path(source).parent)
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
