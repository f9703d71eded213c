"""What the three qstack labs share: the answer switch, verdicts and tolerances.

Every check prints one line starting ``[PASS]`` or ``[FAIL]``; the test suite
runs the notebooks and fails on any ``[FAIL]`` line. Checks never raise, so a
wrong answer does not stop the rest of the lab.

Statistical tolerances are ``Z`` standard errors of the quantity checked:
with Z = 4 a correct simulation fails a check with probability about 6e-5
(two-sided normal tail), so a failure points at the answer or at qstack,
not at bad luck. Each notebook says which standard error it uses and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from qstack import RunReport
from qstack.report import report_command

#: Standard errors allowed between a sample statistic and its closed form.
Z = 4.0

#: Relative floating-point slack every check allows on top of its tolerance.
ROUNDING = 1e-12

#: A typed-in number is right when it agrees to about three significant figures.
TYPED_RELATIVE = 1e-3

T = TypeVar("T")


@dataclass
class _Tally:
    passed: int = 0
    failed: int = 0


_tally = _Tally()


def pick(answer: T | None, reference: T) -> T:
    """The student's answer, or the reference when the answer cell was left at None."""
    if answer is None:
        print("(no answer yet: checking the reference answer)")
        return reference
    return answer


def verdict(what: str, ok: bool, detail: str) -> None:
    """Print one PASS / FAIL line and count it."""
    if ok:
        _tally.passed += 1
    else:
        _tally.failed += 1
    print(f"[{'PASS' if ok else 'FAIL'}] {what}: {detail}")


def check(what: str, value: object, expected: float, tolerance: float) -> None:
    """PASS when ``value`` is within ``tolerance`` of ``expected`` (plus floating-point
    rounding, so that a zero tolerance means "equal up to rounding"); an answer that is
    not a number fails with what it was."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        verdict(what, False, f"{value!r} is not a number (expected about {expected:.6g})")
        return
    difference = abs(number - expected)
    rounding = ROUNDING * max(1.0, abs(expected))
    ok = math.isfinite(number) and difference <= tolerance + rounding
    allowed = f"difference {difference:.2g}, allowed {tolerance:.2g}"
    verdict(what, ok, f"{number:.6g} against {expected:.6g} ({allowed})")


def typed_tolerance(expected: float) -> float:
    """Tolerance for a number worked out by hand: three significant figures."""
    return TYPED_RELATIVE * abs(expected)


def sample_tolerance(standard_deviation: float, samples: int) -> float:
    """Z standard errors of a mean of ``samples`` independent draws."""
    return Z * standard_deviation / math.sqrt(samples)


def summary() -> None:
    """One line for the whole lab: every check so far, passed or not."""
    total = _tally.passed + _tally.failed
    if _tally.failed:
        print(f"[FAIL] {_tally.failed} of {total} checks failed")
    else:
        print(f"[PASS] all {total} checks passed")


def report_page(trace: Path, report: RunReport) -> Path:
    """Draw a traced run as ``qstack report`` does: its trace and its run report
    (saved next to the trace) become one HTML page, returned for opening."""
    run_json = trace.with_suffix(".json")
    run_json.write_text(report.model_dump_json(), encoding="utf-8")
    page = trace.with_suffix(".html")
    status = report_command([str(trace), "--run-report", str(run_json), "-o", str(page)])
    if status != 0:
        raise RuntimeError(f"qstack report could not draw {page} (exit status {status})")
    return page
