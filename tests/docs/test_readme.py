"""The README's Python snippets run as written (from the repository's root,
where their example paths point), so the documentation cannot rot."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = re.findall(
    r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S
)


@pytest.mark.slow
@pytest.mark.parametrize("code", SNIPPETS, ids=[f"snippet-{i}" for i in range(len(SNIPPETS))])
def test_readme_python_snippet_runs(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    # Files a snippet writes go to a temporary directory, not the checkout.
    code = code.replace('"run.jsonl"', repr(os.fspath(tmp_path / "run.jsonl")))
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
