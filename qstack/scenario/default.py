"""The scenario ``qstack run`` uses without a file, as a model and as TOML text."""

from __future__ import annotations

from qstack.scenario.entries import LinkSpec, NodeSpec, RunSettings
from qstack.scenario.model import Scenario
from qstack.scenario.request import RequestSpec

DEFAULT_SCENARIO_TOML = """\
# qstack default scenario: two nodes, one 20 km double-click link, 1000 pairs.
seed = 1

[run]
until_s = 10.0

[[nodes]]
name = "alice"
qubits = 10
memory_t_s = 1.0

[[nodes]]
name = "bob"
qubits = 10
memory_t_s = 1.0

[[links]]
a = "alice"
b = "bob"
length_km = 20.0
model = "double-click"

[[requests]]
app = "pairs"
src = "alice"
dst = "bob"
pairs = 1000
"""
"""The default scenario as a file a user can dump and edit (equal to default_scenario())."""


def default_scenario() -> Scenario:
    """The scenario ``qstack run`` uses without a file (a fresh object each call)."""
    return Scenario(
        seed=1,
        run=RunSettings(until_s=10.0),
        nodes=[
            NodeSpec(name="alice", qubits=10, memory_t_s=1.0),
            NodeSpec(name="bob", qubits=10, memory_t_s=1.0),
        ],
        links=[LinkSpec(a="alice", b="bob", length_km=20.0, model="double-click")],
        requests=[RequestSpec(app="pairs", src="alice", dst="bob", pairs=1000)],
    )
