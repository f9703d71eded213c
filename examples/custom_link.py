"""A link protocol of your own, checked with the conformance kit.

``FirstComeLink`` is the built-in EGP-like link layer with one policy
changed: it serves requests strictly in the order they were made and
ignores their ``priority`` (the origin queues every request at priority 0,
so both ends agree on the order without any extra message). Nothing in
qstack changes: the class has the built-in ``LinkLayer`` constructor, which
is the link-layer plug-in interface (see ``qstack.conformance.harness``).

Run it with ``python examples/custom_link.py [--examples N] [--seed N]``: it
prints the pass/fail table of the link contract (and exits with status 1 if
a MUST clause fails), then runs the protocol on every link of a small
network (``Network(scenario, link_layer=FirstComeLink)``) next to the
built-in one. The same check from the shell (and in CI, with
``--junit report.xml``)::

    qstack conform link examples.custom_link:FirstComeLink

or in a test suite, with the pytest plugin::

    pytest --qstack-impl examples.custom_link:FirstComeLink --qstack-layer link
"""

from __future__ import annotations

import argparse
import sys

from qstack.conformance import run_contract
from qstack.layers.link.egp import LinkLayer
from qstack.layers.link.messages import LinkCreate
from qstack.network import Network
from qstack.runner import run_network
from qstack.scenario import parse_scenario


class FirstComeLink(LinkLayer):
    """A link layer serving requests first come, first served."""

    def create(self, now: int, request: LinkCreate) -> int:
        return super().create(now, request.model_copy(update={"priority": 0}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20, help="random runs per clause")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    report = run_contract("link", FirstComeLink, max_examples=args.examples, seed=args.seed)
    report.implementation = "examples/custom_link.py:FirstComeLink"
    print(report.table())
    print()
    print(run_in_a_network())
    return 0 if report.ok() else 1


def run_in_a_network() -> str:
    """The same protocol on every link of a three-node chain, next to the
    built-in one: two requests whose priorities the custom link ignores."""
    scenario = parse_scenario(
        {
            "seed": 1,
            "topology": {
                "kind": "chain",
                "nodes": 3,
                "spacing_km": 10.0,
                "node": {"qubits": 4},
                "link": {"model": "double-click"},
            },
            "requests": [
                {"app": "pairs", "src": "n0", "dst": "n2", "pairs": 200, "priority": 1},
                {"app": "pairs", "src": "n2", "dst": "n0", "pairs": 200, "priority": 0},
            ],
        }
    )
    lines = [f"{'link protocol':<16} {'request':<10} {'status':<7} {'latency s':>10}"]
    for name, protocol in (("built-in EGP", LinkLayer), ("FirstComeLink", FirstComeLink)):
        run = run_network(Network(scenario, link_layer=protocol))
        for request in run.requests:
            latency = f"{request.latency_mean_s:.4f}" if request.latency_mean_s else "-"
            label = f"{request.src}->{request.dst}"
            lines.append(f"{name:<16} {label:<10} {request.status:<7} {latency:>10}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
