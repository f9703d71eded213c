"""Put 10,000 hostile scenario files through qstack and count what happens.

The files are the examples broken by ``tests/fuzz/mutations.py`` (wrong
types, missing and extra keys, NaN/inf/huge/negative numbers, unicode,
duplicates, self-loops, deep nesting, long strings, syntax errors), the same
generator as the test suite's fuzz test, run longer. Each file goes through
``qstack check`` and, when it loads, a millisecond of simulated time.
Printed: clean refusals (exit 2), files accepted, tracebacks by cause (type
and innermost qstack line), and refusals whose message broke the length
limits. The figure to keep is "tracebacks: 0".

    python benchmarks/fuzz_scenarios.py              # 10,000 files, a few minutes
    python benchmarks/fuzz_scenarios.py --files 500  # a quick look
    python benchmarks/fuzz_scenarios.py --json       # one JSON object on stdout
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the generator lives with the tests

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from tests.fuzz.mutations import (  # noqa: E402
    MAX_STDERR_LINE,
    MAX_STDERR_LINES,
    HostileFile,
    hostile_files,
    judge,
)


def fuzz(files: int, base_seed: int, progress: bool) -> dict[str, object]:
    """Run ``files`` hostile files; return the counts."""
    outcomes: collections.Counter[str] = collections.Counter()
    causes: collections.Counter[str] = collections.Counter()
    overlong = 0
    directory = Path(tempfile.mkdtemp(prefix="qstack-fuzz-"))
    started = time.perf_counter()

    @seed(base_seed)
    @settings(
        max_examples=files,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(hostile_files())
    def one(hostile: HostileFile) -> None:
        nonlocal overlong
        verdict = judge(hostile.write(directory))
        outcomes[verdict.outcome] += 1
        if verdict.outcome == "traceback":
            causes[verdict.cause] += 1
        lines = verdict.stderr.splitlines()
        if len(lines) > MAX_STDERR_LINES or any(len(x) > MAX_STDERR_LINE for x in lines):
            overlong += 1
        done = sum(outcomes.values())
        if progress and done % 500 == 0:
            print(f"  {done} files ...", file=sys.stderr)

    one()
    wall = time.perf_counter() - started
    return {
        "files": sum(outcomes.values()),
        "rejected_exit_2": outcomes["rejected"],
        "accepted": outcomes["accepted"],
        "tracebacks": outcomes["traceback"],
        "tracebacks_by_cause": dict(causes.most_common()),
        "overlong_messages": overlong,
        "wall_s": round(wall, 1),
        "seed": base_seed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000, help="how many files (10,000)")
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis seed (0)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()
    result = fuzz(args.files, args.seed, progress=not args.json)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"hostile scenario files: {result['files']} (seed {result['seed']}, {result['wall_s']} s)"
    )
    print(f"  refused cleanly (exit 2): {result['rejected_exit_2']}")
    print(f"  accepted (exit 0, short run): {result['accepted']}")
    print(f"  tracebacks: {result['tracebacks']}")
    causes = result["tracebacks_by_cause"]
    assert isinstance(causes, dict)
    for cause, count in causes.items():
        print(f"    {count:6d}  {cause}")
    print(f"  messages over the length limits: {result['overlong_messages']}")


if __name__ == "__main__":
    main()
