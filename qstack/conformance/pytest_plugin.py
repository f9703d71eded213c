"""pytest plugin: one test per contract clause for a given implementation.

    pytest --qstack-impl mypkg.link:MyLink --qstack-layer link [--qstack-strict]

Without ``--qstack-impl`` the plugin adds nothing. With it, the session
gets one item per clause of the layer (``qstack-conform::link/3.2``) that
runs that clause's contract and fails with its shrunk counter-example.
A SHOULD clause that fails is reported as xfail unless ``--qstack-strict``.
"""

from __future__ import annotations

from typing import Any

import pytest

from qstack.conformance.clauses import CLAUSES, LAYERS, Clause
from qstack.conformance.report import ClauseResult


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("qstack", "qstack conformance")
    group.addoption(
        "--qstack-impl",
        metavar="MODULE:CLASS",
        help="check this layer implementation against its contract ('builtin' allowed)",
    )
    group.addoption(
        "--qstack-layer", choices=LAYERS, default="link", help="the layer (default link)"
    )
    group.addoption("--qstack-strict", action="store_true", help="SHOULD clauses must hold too")
    group.addoption("--qstack-examples", type=int, default=30, help="random runs per clause")
    group.addoption("--qstack-seed", type=int, default=0, help="Hypothesis seed")


class ClauseFailed(Exception):
    """A clause failed; the message is the counter-example."""


class ClauseItem(pytest.Item):
    """One clause of one implementation's contract."""

    def __init__(self, *, clause: Clause, target: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clause = clause
        self.target = target
        self.add_marker(pytest.mark.qstack_conformance)

    def runtest(self) -> None:
        from qstack.conformance.contracts import run_contract

        config = self.config
        report = run_contract(
            self.clause.layer,
            self.target,
            config.getoption("--qstack-examples"),
            config.getoption("--qstack-seed"),
            only=self.clause.id,
        )
        result: ClauseResult = report.result(self.clause.id)
        if result.passed:
            return
        text = f"{self.clause.id} {self.clause.level} {result.status}: {self.clause.text}"
        if result.counterexample is not None:
            text += "\n" + result.counterexample.text()
        if self.clause.level == "SHOULD" and not config.getoption("--qstack-strict"):
            pytest.xfail(text)
        raise ClauseFailed(text)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ClauseFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "qstack-conform", None, f"{self.clause.id} {self.clause.level}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "qstack_conformance: a clause of a qstack layer contract")


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    impl = config.getoption("--qstack-impl")
    if not impl:
        return
    from qstack.conformance.cli import ConformError, resolve

    layer = config.getoption("--qstack-layer")
    try:
        target = resolve(layer, impl)
    except ConformError as error:
        raise pytest.UsageError(f"--qstack-impl: {error}") from None
    for item in CLAUSES[layer]:
        items.append(
            ClauseItem.from_parent(
                session, name=f"qstack-conform::{item.id}", clause=item, target=target
            )
        )
