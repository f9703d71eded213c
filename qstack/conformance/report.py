"""Results of a conformance run: per clause, pass/fail and a counter-example."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from xml.etree import ElementTree

from qstack.conformance.checks import Violation
from qstack.conformance.clauses import Clause

Status = Literal["pass", "fail", "crash"]


@dataclass(slots=True)
class CounterExample:
    """The shrunk failing run: its steps, what broke, and the trace around it."""

    steps: list[str]
    violations: list[Violation]
    trace: list[str]
    error: str | None = None  # the traceback when the implementation crashed

    def text(self, indent: str = "    ") -> str:
        """A readable block: steps, violations (or crash), trace excerpt."""
        lines = ["steps:"]
        lines += [f"  {i + 1}. {step}" for i, step in enumerate(self.steps)]
        if self.violations:
            lines.append("violations:")
            lines += [f"  {v}" for v in self.violations[:10]]
            if len(self.violations) > 10:
                lines.append(f"  ... and {len(self.violations) - 10} more")
        if self.error:
            lines.append("crash:")
            lines += [f"  {line}" for line in self.error.rstrip().splitlines()]
        if self.trace:
            lines.append("trace (up to the first violation):")
            lines += [f"  {line}" for line in self.trace]
        return "\n".join(indent + line for line in lines)


@dataclass(slots=True)
class ClauseResult:
    """One clause's verdict."""

    clause: Clause
    status: Status
    examples: int
    counterexample: CounterExample | None = None

    @property
    def passed(self) -> bool:
        return self.status == "pass"


@dataclass(slots=True)
class ConformanceReport:
    """The verdicts of one implementation of one layer."""

    layer: str
    implementation: str
    seed: int
    max_examples: int
    results: list[ClauseResult] = field(default_factory=list)

    def failures(self, strict: bool = False) -> list[ClauseResult]:
        """Failed clauses that count: MUSTs, and SHOULDs too when ``strict``."""
        return [r for r in self.results if not r.passed and (strict or r.clause.level == "MUST")]

    def ok(self, strict: bool = False) -> bool:
        """True when every MUST holds (``strict``: every SHOULD too)."""
        return not self.failures(strict)

    def result(self, clause_id: str) -> ClauseResult:
        """The verdict on one clause."""
        for item in self.results:
            if item.clause.id == clause_id:
                return item
        raise KeyError(clause_id)

    def table(self, strict: bool = False) -> str:
        """The pass/fail table, one line per clause, then the counter-examples."""
        lines = [
            f"qstack conform {self.layer} {self.implementation}  "
            f"(seed {self.seed}, {self.max_examples} examples per clause)",
            "",
            f"{'clause':<10} {'level':<7} {'result':<7} text",
        ]
        for item in self.results:
            verdict = {"pass": "PASS", "fail": "FAIL", "crash": "CRASH"}[item.status]
            if not item.passed and item.clause.level == "SHOULD" and not strict:
                verdict = "warn"
            lines.append(
                f"{item.clause.id:<10} {item.clause.level:<7} {verdict:<7} {item.clause.text}"
            )
        for item in self.results:
            if item.counterexample is not None:
                lines += ["", f"{item.clause.id} ({item.status}): shrunk counter-example"]
                lines.append(item.counterexample.text())
        must = [r for r in self.results if r.clause.level == "MUST"]
        should = [r for r in self.results if r.clause.level == "SHOULD"]
        lines += [
            "",
            f"MUST {sum(r.passed for r in must)}/{len(must)} hold, "
            f"SHOULD {sum(r.passed for r in should)}/{len(should)} hold: "
            + ("conformant" if self.ok(strict) else "NOT conformant")
            + (" (strict)" if strict else ""),
        ]
        return "\n".join(lines)

    def junit_xml(self, strict: bool = False) -> str:
        """The report as JUnit XML (one testcase per clause)."""
        counted = self.failures(strict)
        suite = ElementTree.Element(
            "testsuite",
            name=f"qstack.conformance.{self.layer}",
            tests=str(len(self.results)),
            failures=str(sum(1 for r in counted if r.status == "fail")),
            errors=str(sum(1 for r in counted if r.status == "crash")),
            skipped=str(sum(1 for r in self.results if not r.passed and r not in counted)),
        )
        ElementTree.SubElement(
            ElementTree.SubElement(suite, "properties"),
            "property",
            name="implementation",
            value=self.implementation,
        )
        for item in self.results:
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=f"qstack.conformance.{self.layer}",
                name=f"{item.clause.id} {item.clause.level}: {item.clause.text}",
            )
            if item.passed:
                continue
            body = item.counterexample.text("") if item.counterexample else ""
            first = (
                str(item.counterexample.violations[0])
                if item.counterexample and item.counterexample.violations
                else item.status
            )
            if item not in counted:
                skipped = ElementTree.SubElement(
                    case, "skipped", message=f"SHOULD not met (fails only with --strict): {first}"
                )
                skipped.text = body
            else:
                tag = "failure" if item.status == "fail" else "error"
                element = ElementTree.SubElement(case, tag, message=first, type=item.status)
                element.text = body
        ElementTree.indent(suite)
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            + ElementTree.tostring(suite, encoding="unicode")
            + "\n"
        )
