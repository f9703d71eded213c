"""Conformance kit: layer contracts as executable checks.

* :mod:`~qstack.conformance.clauses`: the numbered clauses (id, MUST/SHOULD, text, check);
* :mod:`~qstack.conformance.checks`: each clause as a check over a run's observations;
* :mod:`~qstack.conformance.observer`: ground truth from the shared hardware;
* :mod:`~qstack.conformance.harness`: two-node link and chain network harnesses;
* :mod:`~qstack.conformance.contracts`: Hypothesis state machines and :func:`run_contract`;
* :mod:`~qstack.conformance.cli`: ``qstack conform``; :mod:`~.pytest_plugin`: the pytest plugin.
"""

from qstack.conformance.clauses import CLAUSES, LINK_CLAUSES, NETWORK_CLAUSES, Clause
from qstack.conformance.contracts import run_contract
from qstack.conformance.harness import LinkHarness, LinkParams
from qstack.conformance.network_harness import NetworkHarness, chain_scenario
from qstack.conformance.report import ClauseResult, ConformanceReport, CounterExample

__all__ = [
    "CLAUSES",
    "LINK_CLAUSES",
    "NETWORK_CLAUSES",
    "Clause",
    "ClauseResult",
    "ConformanceReport",
    "CounterExample",
    "LinkHarness",
    "LinkParams",
    "NetworkHarness",
    "chain_scenario",
    "run_contract",
]
