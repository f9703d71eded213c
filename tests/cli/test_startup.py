"""Start-up stays cheap: what each entry point imports, checked in a fresh
interpreter (``sys.modules``), never timed. ``benchmarks/scale.py`` has the
wall times; these tests keep a stray top-level import from undoing them."""

from __future__ import annotations

import json
import subprocess
import sys

from qstack.cli import DIAGRAM_LAYERS
from qstack.diagrams import LAYER_TABLES

#: Heavy third-party packages no command needs before it runs a scenario;
#: numpy, pydantic and networkx a run does need, but not ``--help``.
NEVER_AT_START = ("matplotlib", "pandas", "dask", "scipy", "plotly")
NOT_FOR_HELP = (*NEVER_AT_START, "numpy", "pydantic", "networkx", "transitions")
#: Built-in applications and their machinery, imported only when a scenario names one.
APPLICATIONS = (
    "qstack.qkd",
    "qstack.layers.app.qkd",
    "qstack.layers.app.bb84",
    "qstack.layers.app.teleport",
    "qstack.layers.app.chsh",
    "qstack.layers.app.ghz",
    "qstack.layers.app.remote_cnot",
    "qstack.layers.app.sensing",
)


def _modules_after(code: str) -> set[str]:
    """Names in ``sys.modules`` after ``code`` runs in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    modules: list[str] = json.loads(result.stderr.splitlines()[-1])
    return set(modules)


def _asking_for_help(argv: list[str]) -> str:
    """Code that calls the command line with ``argv`` (argparse ends help with SystemExit)."""
    return f"from qstack.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass"


def test_import_qstack_loads_nothing_else() -> None:
    loaded = _modules_after("import qstack")
    assert sorted(m for m in loaded if m.startswith("qstack")) == ["qstack"]
    assert not loaded & set(NOT_FOR_HELP)


def test_import_cli_and_help_load_no_simulator() -> None:
    for code in (
        "import qstack.cli",
        _asking_for_help(["run", "--help"]),
        _asking_for_help(["-h"]),
    ):
        loaded = _modules_after(code)
        assert sorted(m for m in loaded if m.startswith("qstack")) == ["qstack", "qstack.cli"]
        assert not loaded & set(NOT_FOR_HELP), code


def test_a_run_imports_only_the_plugins_it_names() -> None:
    """The default scenario (pairs between two nodes) needs no other application,
    no QKD post-processing, no lifecycle diagrams and no plotting or tables."""
    loaded = _modules_after("from qstack.cli import main\nassert main(['run', '--json']) == 0")
    assert "qstack.layers.app.pairs" in loaded
    assert not loaded & {*APPLICATIONS, *NEVER_AT_START, "qstack.diagrams", "qstack.experiments"}


def test_a_named_builtin_is_imported_when_resolved() -> None:
    code = (
        "from qstack.registry import Registry\n"
        "registry = Registry.with_defaults()\n"
        "assert ('app', 'qkd') in registry and 'qkd' in registry.names('app')\n"
        "import sys\n"
        "assert 'qstack.layers.app.qkd' not in sys.modules\n"
        "assert registry.resolve('app', 'qkd').__name__ == 'QkdSession'"
    )
    loaded = _modules_after(code)
    assert {"qstack.layers.app.qkd", "qstack.qkd"} <= loaded
    assert not loaded & (set(APPLICATIONS) - {"qstack.layers.app.qkd", "qstack.qkd"})


def test_diagram_layers_are_the_tables_layers() -> None:
    """The parser names the layers without importing the tables: the same ones."""
    assert tuple(sorted(LAYER_TABLES)) == DIAGRAM_LAYERS
