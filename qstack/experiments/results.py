"""Result tables: rows kept as they finish, in CSV, JSON lines or Parquet.

Every finished run's rows reach the file at once (appended and flushed), so
an interrupted or killed sweep keeps them and ``--resume`` can skip them.
When the sweep ends, however it ends, the file is rewritten sorted by
(point, replica), so a complete sweep's file does not depend on the order
runs finished in. Parquet cannot be appended to, so its rows go to a
``<out>.partial.jsonl`` journal first and into the Parquet file at the end.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from qstack.experiments.runs import ordered_columns

Row = dict[str, Any]

#: File name endings ``--out`` accepts.
FORMATS: tuple[str, ...] = (".csv", ".jsonl", ".parquet")
JOURNAL_SUFFIX = ".partial.jsonl"


class ResultsError(ValueError):
    """A results file that cannot be written, read or resumed; the message says which."""


def _sort_key(row: Mapping[str, Any]) -> tuple[int, int]:
    return int(row["point"]), int(row["replica"])


class RowStore:
    """Rows in memory, in (point, replica) order once finished; the base of the file stores."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = list(keys)
        self.rows: list[Row] = []

    def existing(self) -> list[Row]:
        """Rows a previous, interrupted sweep left (none here)."""
        return []

    def keep(self, rows: list[Row]) -> None:
        """Start from these rows (the complete runs of a resumed sweep)."""
        self.rows = list(rows)
        self._rewrite()

    def add(self, rows: Sequence[Row]) -> None:
        """The rows of one finished run."""
        self.rows += rows
        self._append(rows)

    def finish(self) -> None:
        """Sort and write everything out; called when the sweep ends, however it ends."""
        self.rows.sort(key=_sort_key)
        self._rewrite()

    def columns(self) -> list[str]:
        return ordered_columns(self.keys, self.rows)

    def _append(self, rows: Sequence[Row]) -> None:
        """Keep ``rows`` durable before the next run finishes (files only)."""

    def _rewrite(self) -> None:
        """Write all rows again (files only)."""


def _replace_atomically(path: Path, write: Any) -> None:
    """Write through a temporary file and rename, so a file is never half rewritten."""
    temporary = path.with_name(path.name + ".tmp")
    write(temporary)
    os.replace(temporary, path)


def _read_json_lines(path: Path) -> list[Row]:
    """Rows of a JSON-lines file; a last line cut short by a killed process is dropped."""
    rows: list[Row] = []
    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            if not line.endswith("\n"):
                break  # the write of this line never finished
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ResultsError(f"{path}: line {number} is not JSON ({error.msg})") from None
    return rows


def _write_json_lines(file: TextIO, rows: Iterable[Row]) -> None:
    for row in rows:
        file.write(json.dumps(row) + "\n")


class JsonLinesStore(RowStore):
    """One JSON object per row."""

    def __init__(self, keys: Sequence[str], path: Path) -> None:
        super().__init__(keys)
        self.path = path

    def existing(self) -> list[Row]:
        return _read_json_lines(self.path) if self.path.exists() else []

    def _append(self, rows: Sequence[Row]) -> None:
        with self.path.open("a", encoding="utf-8") as file:
            _write_json_lines(file, rows)

    def _rewrite(self) -> None:
        def write(target: Path) -> None:
            with target.open("w", encoding="utf-8") as file:
                _write_json_lines(file, self.rows)

        _replace_atomically(self.path, write)


def _cell(value: object) -> object:
    """A CSV cell: lists and tables as JSON, None as an empty cell, the rest as Python writes it."""
    if isinstance(value, list | tuple | dict):
        return json.dumps(value)
    return value


class CsvStore(RowStore):
    """Comma-separated values with a header; cells read back as text when resuming."""

    def __init__(self, keys: Sequence[str], path: Path) -> None:
        super().__init__(keys)
        self.path = path
        self._header: list[str] = []

    def existing(self) -> list[Row]:
        if not self.path.exists():
            return []
        text = self.path.read_text(encoding="utf-8")
        if not text.endswith("\n"):
            text = text[: text.rfind("\n") + 1]  # drop a row cut short by a killed process
        return [dict(row) for row in csv.DictReader(text.splitlines(keepends=True))]

    def _append(self, rows: Sequence[Row]) -> None:
        if not self._header or any(column not in self._header for row in rows for column in row):
            self._rewrite()  # a new column (another app's fields): the header must grow
            return
        with self.path.open("a", encoding="utf-8", newline="") as file:
            writer = csv.DictWriter(file, self._header)
            writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)

    def _rewrite(self) -> None:
        header = self.columns()

        def write(target: Path) -> None:
            with target.open("w", encoding="utf-8", newline="") as file:
                writer = csv.DictWriter(file, header)
                writer.writeheader()
                writer.writerows({k: _cell(v) for k, v in row.items()} for row in self.rows)

        _replace_atomically(self.path, write)
        self._header = header


class ParquetStore(RowStore):
    """Parquet (through pyarrow), with a JSON-lines journal while the sweep runs."""

    def __init__(self, keys: Sequence[str], path: Path) -> None:
        super().__init__(keys)
        self.path = path
        self.journal = path.with_name(path.name + JOURNAL_SUFFIX)
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ResultsError(
                f"--out {path}: writing Parquet needs pyarrow: pip install 'qstack[parquet]'"
            ) from None

    def existing(self) -> list[Row]:
        rows: list[Row] = []
        if self.path.exists():
            import pyarrow.parquet as pq

            rows += pq.read_table(self.path).to_pylist()
        if self.journal.exists():
            rows += _read_json_lines(self.journal)
        return rows

    def _append(self, rows: Sequence[Row]) -> None:
        with self.journal.open("a", encoding="utf-8") as file:
            _write_json_lines(file, rows)

    def _rewrite(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = self.columns()
        table = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in self.rows])
        _replace_atomically(self.path, lambda target: pq.write_table(table, target))
        self.journal.unlink(missing_ok=True)


def open_store(
    keys: Sequence[str], out: str | os.PathLike[str] | None, resume: bool, overwrite: bool
) -> RowStore:
    """The store for ``--out`` (memory only without it); refuse to clobber a file silently."""
    if out is None:
        return RowStore(keys)
    path = Path(out)
    suffix = path.suffix.lower()
    stores = {".csv": CsvStore, ".jsonl": JsonLinesStore, ".parquet": ParquetStore}
    if suffix not in stores:
        raise ResultsError(f"--out {out}: must end in {', '.join(FORMATS)}")
    if not path.parent.is_dir():
        raise ResultsError(f"--out {out}: no such directory {str(path.parent)!r}")
    store = stores[suffix](keys, path)
    leftovers = [p for p in (path, path.with_name(path.name + JOURNAL_SUFFIX)) if p.exists()]
    if leftovers and not resume:
        if not overwrite:
            raise ResultsError(
                f"--out {out}: {leftovers[0]} exists; pass --resume to skip the runs it holds, "
                "or --overwrite to start again"
            )
        for leftover in leftovers:
            leftover.unlink()
    return store
