"""The teaching notebooks run top to bottom in a fresh kernel, and every check passes.

Each lab prints one ``[PASS]`` / ``[FAIL]`` line per check (``labkit.verdict``)
and a last summary line; its answer cells are left at None, so the checks run
on the reference answers, comparing them and the simulation with qstack's
closed forms. A lab fails here if a cell raises, if any line says ``[FAIL]``,
or if the summary is missing (a lab that stopped checking things would pass
silently otherwise).

The kernel is this test's own interpreter: a kernel spec written for
``sys.executable`` into a temporary directory, so the notebooks import the
qstack under test whatever kernels the machine has registered. The notebook
is copied, outputs stripped, with its helper modules into a temporary
directory and run there, so its traces and report pages land there too.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "examples" / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL_NAME = "qstack-notebook-test"
CELL_TIMEOUT_S = 600

SUMMARY = re.compile(r"^\[PASS\] all (\d+) checks passed$", re.MULTILINE)


def test_the_three_labs_are_there() -> None:
    assert [path.name for path in NOTEBOOKS] == [
        "lab1_heralded_link.ipynb",
        "lab2_repeater_chain.ipynb",
        "lab3_qkd_eavesdropper.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_saved_without_outputs(path: Path) -> None:
    """Outputs (plots, traces) would bloat the repository and every diff."""
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {index} has outputs"
            assert cell.execution_count is None, f"{path.name}: cell {index} has a count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_every_exercise_has_an_answer_cell_left_open(path: Path) -> None:
    """Unattended runs use the reference answers: every answer cell must say None."""
    notebook = nbformat.read(path, as_version=4)
    answers = [
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "code" and "# your code here" in cell.source
    ]
    assert len(answers) >= 3, f"{path.name}: {len(answers)} exercises"
    for source in answers:
        for line in source.splitlines():
            assert re.fullmatch(r"\w+ = None  # your code here.*", line), line


def _kernel_manager(spec_root: Path) -> KernelManager:
    """A kernel of this interpreter, whatever kernels the machine has registered."""
    spec = spec_root / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "qstack tests",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    specs = KernelSpecManager(kernel_dirs=[str(spec_root)])
    return KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)


def _printed(notebook: nbformat.NotebookNode) -> str:
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_and_every_check_passes(path: Path, tmp_path: Path) -> None:
    work = tmp_path / "lab"
    work.mkdir()
    for helper in NOTEBOOK_DIR.glob("*.py"):
        shutil.copy(helper, work)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        km=_kernel_manager(tmp_path / "kernels"),
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(work)}},
    )
    client.execute()  # CellExecutionError, with the cell and its traceback, if one raises

    printed = _printed(notebook)
    failures = [line for line in printed.splitlines() if line.startswith("[FAIL]")]
    assert not failures, "\n".join(failures)
    summary = SUMMARY.findall(printed)
    assert summary, f"{path.name}: no summary line; printed:\n{printed[-2000:]}"
    passed = len(re.findall(r"^\[PASS\]", printed, re.MULTILINE)) - 1  # the summary itself
    assert int(summary[-1]) == passed >= 5, f"{path.name}: {passed} checks, summary {summary}"
    assert list((work / "output").glob("*.html")), "the lab drew no qstack report page"
