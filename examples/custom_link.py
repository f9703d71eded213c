"""A link protocol of your own, checked with the conformance kit.

``FirstComeLink`` is the built-in EGP-like link layer with one policy
changed: it serves requests strictly in the order they were made and
ignores their ``priority`` (the origin queues every request at priority 0,
so both ends agree on the order without any extra message). Nothing in
qstack changes: the class has the built-in ``LinkLayer`` constructor, which
is the link-layer plug-in interface (see ``qstack.conformance.harness``).

Run it with ``python examples/custom_link.py [--examples N] [--seed N]``: it
prints the pass/fail table of the link contract and exits with status 1 if
a MUST clause fails. The same check from the shell (and in CI, with
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
    return 0 if report.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
