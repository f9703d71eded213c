"""JSON Schemas of every message, and the generated parts of the specs.

Every service primitive and peer message is a Pydantic model; this module
lists them by layer (:data:`MESSAGE_MODELS`), turns each into a JSON Schema
file (``link.OK.json``, ``network.NET_OK.json``, ...) plus
``trace-record.json`` for one line of a JSON-lines trace, and renders the
state-machine tables and diagrams that ``specs/<layer>.md`` embeds between
``<!-- generated:<layer>-tables:start -->`` and ``...:end -->`` markers, and
the numbered invariants of the link and network specs, rendered from the
conformance kit's clauses (:data:`qstack.conformance.clauses.CLAUSES`)
between ``<!-- generated:<layer>-invariants:start -->`` and ``...:end -->``.

Regenerate after changing a message, a lifecycle table or a kit clause::

    python -m qstack.schemas specs/schemas          # the JSON Schema files
    python -m qstack.schemas --spec-tables specs    # the generated blocks in specs/*.md
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from qstack.conformance.clauses import CLAUSES
from qstack.conformance.clauses import Layer as ClauseLayer
from qstack.diagrams import LAYER_TABLES
from qstack.fsm.table import StateTable
from qstack.layers.app.bb84 import (
    Bb84Clicks,
    Bb84Confirm,
    Bb84Pulses,
    Bb84Relay,
    Bb84RelayDone,
    Bb84Sifting,
    Bb84Start,
)
from qstack.layers.app.chsh import ChshResults
from qstack.layers.app.ghz import GhzCorrection
from qstack.layers.app.qkd import QkdBases
from qstack.layers.app.remote_cnot import RemoteCnotBit
from qstack.layers.app.sensing import SensingOutcome
from qstack.layers.app.teleport import TeleportCorrection
from qstack.layers.link.messages import (
    LinkCancel,
    LinkCreate,
    LinkError,
    LinkExpire,
    LinkOk,
    LinkOkBatch,
    LinkStatus,
    QueueAck,
    QueueAdd,
    QueueCancel,
    QueueCredit,
    QueueReject,
)
from qstack.layers.network.messages import (
    CorrectionTrace,
    DiscardTrace,
    LinkState,
    NetCreate,
    NetDone,
    NetError,
    NetExpire,
    NetOk,
    NetOkBatch,
    PairCommit,
    PathInstall,
    PathReady,
    PurifyOutcome,
    PurifyTrace,
    RequestEnded,
    SegmentDiscarded,
    SwapRecord,
    SwapTrace,
    Teardown,
)
from qstack.layers.physical.messages import (
    AttemptCancelTrace,
    AttemptsTrace,
    AttemptTrace,
    HeraldTrace,
)
from qstack.messages import FaultTrace, Message, TransitionTrace

#: Every primitive and peer message, by the layer whose trace lines carry it.
#: (The physical layer's primitives run as slotted events; a traced run
#: records them as these models.)
MESSAGE_MODELS: dict[str, tuple[type[Message], ...]] = {
    "physical": (
        AttemptTrace,
        AttemptCancelTrace,
        HeraldTrace,
        AttemptsTrace,
    ),
    "link": (
        LinkCreate,
        LinkCancel,
        LinkOk,
        LinkOkBatch,
        LinkError,
        LinkExpire,
        LinkStatus,
        QueueAdd,
        QueueAck,
        QueueReject,
        QueueCancel,
        QueueCredit,
    ),
    "network": (
        NetCreate,
        NetOk,
        NetOkBatch,
        NetError,
        NetDone,
        NetExpire,
        PathInstall,
        PathReady,
        Teardown,
        SwapRecord,
        SegmentDiscarded,
        PurifyOutcome,
        PairCommit,
        LinkState,
        RequestEnded,
        SwapTrace,
        PurifyTrace,
        CorrectionTrace,
        DiscardTrace,
    ),
    # The applications' own peer messages (between the two ends of a session).
    "app": (
        QkdBases,
        TeleportCorrection,
        ChshResults,
        RemoteCnotBit,
        GhzCorrection,
        SensingOutcome,
        Bb84Start,
        Bb84Pulses,
        Bb84Clicks,
        Bb84Sifting,
        Bb84Confirm,
        Bb84Relay,
        Bb84RelayDone,
    ),
    # What the run itself did to the network.
    "run": (FaultTrace, TransitionTrace),
}

TRACE_RECORD_SCHEMA = "trace-record.json"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
REGENERATE_SCHEMAS = "python -m qstack.schemas specs/schemas"
REGENERATE_SPEC_TABLES = "python -m qstack.schemas --spec-tables specs"
#: Spec files with generated blocks, by layer.
SPEC_FILES: dict[str, str] = {
    layer: "application.md" if layer == "app" else f"{layer}.md" for layer in LAYER_TABLES
}
#: Spec files whose numbered invariants are the conformance kit's clauses.
INVARIANT_SPEC_FILES: dict[ClauseLayer, str] = {layer: f"{layer}.md" for layer in CLAUSES}
#: The "checked from" cell of every kit clause: each check reads one run's
#: message trace plus the observer's ground truth (memories, true states).
KIT_CHECKED_FROM = "trace and ground truth (`qstack.conformance`)"
#: The spec file documenting each traced layer's messages (``app`` lines are
#: documented in ``application.md``).
MESSAGE_SPEC_FILES: dict[str, str] = {
    layer: {"app": "application.md", "run": "trace.md"}.get(layer, f"{layer}.md")
    for layer in MESSAGE_MODELS
}


def message_kind(model: type[Message]) -> str:
    """The literal ``kind`` of a message class."""
    default = model.model_fields["kind"].default
    if not isinstance(default, str):
        raise TypeError(f"{model.__name__}.kind has no literal default")
    return default


def models_by_kind(layer: str) -> dict[str, type[Message]]:
    """The message classes of ``layer`` keyed by their ``kind``."""
    return {message_kind(model): model for model in MESSAGE_MODELS[layer]}


def schema_filename(layer: str, model: type[Message]) -> str:
    """``<layer>.<KIND>.json``, e.g. ``link.OK.json``."""
    return f"{layer}.{message_kind(model)}.json"


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def message_schema(layer: str, model: type[Message]) -> dict[str, Any]:
    """The JSON Schema of one message (what the model accepts)."""
    schema = model.model_json_schema()
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": schema_filename(layer, model),
        "x-qstack-layer": layer,
        **schema,
    }


def trace_record_schema() -> dict[str, Any]:
    """The JSON Schema of one trace line, with ``message`` a oneOf over all
    messages (told apart by their constant ``kind``)."""
    models = [model for layer in MESSAGE_MODELS for model in MESSAGE_MODELS[layer]]
    refs, top = models_json_schema([(model, "validation") for model in models])
    definitions: dict[str, Any] = top.get("$defs", {})
    kinds = [message_kind(model) for model in models]
    message = {
        "description": "The message itself; its kind names the model "
        "(one of the <layer>.<KIND>.json schemas).",
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": kinds}},
        "oneOf": [refs[(model, "validation")] for model in models],
    }
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": TRACE_RECORD_SCHEMA,
        "title": "TraceRecord",
        "description": "One line of a qstack JSON-lines message trace.",
        "type": "object",
        "additionalProperties": False,
        "required": ["time_ps", "node", "layer", "direction", "peer", "message"],
        "properties": {
            "time_ps": {
                "description": "simulated time of the event, integer picoseconds",
                "type": "integer",
                "minimum": 0,
            },
            "node": {
                "description": "the node whose layer entity saw the message",
                "type": "string",
                "pattern": "^[a-z0-9_-]+$",
            },
            "layer": {
                "description": "the layer the message belongs to",
                "enum": sorted(MESSAGE_MODELS),
            },
            "direction": {
                "description": "up: indication/confirmation to the layer above; "
                "down: request from the layer above; send/recv: peer message "
                "leaving/arriving over the classical channel; event: a record of "
                "something a layer or the run did (ATTEMPTS, FAULT, TRANSITION, SWAP, ...)",
                "enum": ["up", "down", "send", "recv", "event"],
            },
            "peer": {
                "description": "the other node for send/recv, null for up/down",
                "anyOf": [{"type": "string", "pattern": "^[a-z0-9_-]+$"}, {"type": "null"}],
            },
            "message": message,
        },
        "$defs": definitions,
    }


def generate_schemas() -> dict[str, str]:
    """Every schema file's name and its text (sorted keys, trailing newline)."""
    files: dict[str, str] = {}
    for layer, models in MESSAGE_MODELS.items():
        for model in models:
            files[schema_filename(layer, model)] = _dump(message_schema(layer, model))
    files[TRACE_RECORD_SCHEMA] = _dump(trace_record_schema())
    return dict(sorted(files.items()))


def write_schemas(directory: str | Path) -> list[Path]:
    """Write every schema file into ``directory`` (created if missing)."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generate_schemas().items():
        path = target / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


# -- generated spec blocks ---------------------------------------------------


def markers(layer: str) -> tuple[str, str]:
    """The start and end markers of a layer's generated block."""
    return (
        f"<!-- generated:{layer}-tables:start -->",
        f"<!-- generated:{layer}-tables:end -->",
    )


def _summary(trigger: type) -> str:
    """The first sentence of a trigger's docstring, without an "Event:" prefix."""
    doc = " ".join((trigger.__doc__ or "").split())
    doc = doc.removeprefix("Event: ")
    end = doc.find(". ")
    return doc if end < 0 else doc[: end + 1]


def _table_block(table: StateTable) -> str:
    final = ", ".join(f"`{state}`" for state in table.final) or "none"
    rows = [
        f"#### {table.name}",
        "",
        f"States: {', '.join(f'`{state}`' for state in table.states)}. "
        f"Initial: `{table.initial}`. Final: {final}.",
        "",
        "| from | trigger | to | action |",
        "|---|---|---|---|",
    ]
    for row in table.transitions:
        note = row.note.replace("|", "\\|") or "-"
        rows.append(f"| `{row.source}` | `{row.trigger_name}` | `{row.dest}` | {note} |")
    rows += ["", "Triggers:", ""]
    rows += [f"- `{trigger.__name__}`: {_summary(trigger)}" for trigger in table.triggers]
    rows += ["", "```mermaid", table.mermaid().rstrip("\n"), "```"]
    return "\n".join(rows)


def render_spec_tables(layer: str) -> str:
    """The generated block of ``specs/<layer>.md``: for every lifecycle of
    the layer, a table of its rows and its Mermaid diagram."""
    if layer not in LAYER_TABLES:
        raise KeyError(f"layer {layer!r} has no lifecycle tables (known: {sorted(LAYER_TABLES)})")
    intro = (
        f"<!-- Generated from qstack.diagrams.LAYER_TABLES[{layer!r}]; "
        f"do not edit by hand: {REGENERATE_SPEC_TABLES} -->"
    )
    blocks = [intro, *(_table_block(table) for table in LAYER_TABLES[layer])]
    return "\n\n".join(blocks) + "\n"


def _between(text: str, start: str, end: str) -> str | None:
    begin = text.find(start)
    finish = text.find(end)
    if begin < 0 or finish < begin:
        return None
    return text[begin + len(start) : finish].strip("\n") + "\n"


def _replace_between(text: str, start: str, end: str, body: str) -> str:
    begin = text.find(start)
    finish = text.find(end)
    if begin < 0 or finish < begin:
        raise ValueError(f"no {start} ... {end} markers")
    return text[: begin + len(start)] + "\n" + body + text[finish:]


def generated_block(text: str, layer: str) -> str | None:
    """The text between ``layer``'s markers in ``text`` (None without them)."""
    return _between(text, *markers(layer))


def update_spec_text(text: str, layer: str) -> str:
    """``text`` with ``layer``'s generated block replaced by the current one."""
    return _replace_between(text, *markers(layer), render_spec_tables(layer))


def invariant_markers(layer: str) -> tuple[str, str]:
    """The start and end markers of a layer's generated invariants table."""
    return (
        f"<!-- generated:{layer}-invariants:start -->",
        f"<!-- generated:{layer}-invariants:end -->",
    )


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_invariants(layer: str) -> str:
    """The generated invariants block of ``specs/<layer>.md``: one row
    ``| id | level | invariant | checked from |`` per conformance-kit clause
    of the layer, in the kit's order."""
    if layer not in CLAUSES:
        raise KeyError(f"layer {layer!r} has no conformance clauses (known: {sorted(CLAUSES)})")
    clauses = next(items for key, items in CLAUSES.items() if key == layer)
    intro = (
        f"<!-- Generated from qstack.conformance.clauses.CLAUSES[{layer!r}]; "
        f"do not edit by hand: {REGENERATE_SPEC_TABLES} -->"
    )
    rows = [
        intro,
        "",
        "| id | level | invariant | checked from |",
        "|---|---|---|---|",
    ]
    rows += [
        f"| {item.id} | {item.level} | {_cell(item.text)} | {KIT_CHECKED_FROM} |"
        for item in clauses
    ]
    return "\n".join(rows) + "\n"


def generated_invariants(text: str, layer: str) -> str | None:
    """The text between ``layer``'s invariants markers (None without them)."""
    return _between(text, *invariant_markers(layer))


def update_invariants_text(text: str, layer: str) -> str:
    """``text`` with ``layer``'s invariants table replaced by the current one."""
    return _replace_between(text, *invariant_markers(layer), render_invariants(layer))


def update_specs(directory: str | Path) -> list[Path]:
    """Rewrite the generated blocks of every layer spec in ``directory``: the
    lifecycle tables and, for the layers the conformance kit covers, the
    invariants table."""
    edits: dict[str, list[Callable[[str], str]]] = {}
    for layer, name in SPEC_FILES.items():
        edits.setdefault(name, []).append(functools.partial(_update_tables, layer=layer))
    for clause_layer, name in INVARIANT_SPEC_FILES.items():
        edits.setdefault(name, []).append(functools.partial(_update_invariants, layer=clause_layer))
    changed = []
    for name, updates in edits.items():
        path = Path(directory) / name
        text = path.read_text(encoding="utf-8")
        new = text
        for update in updates:
            new = update(new)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def _update_tables(text: str, *, layer: str) -> str:
    return update_spec_text(text, layer)


def _update_invariants(text: str, *, layer: str) -> str:
    return update_invariants_text(text, layer)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m qstack.schemas DIR`` / ``--spec-tables SPECS_DIR``."""
    parser = argparse.ArgumentParser(
        prog="python -m qstack.schemas",
        description="Write the message JSON Schemas, or refresh the generated spec tables.",
    )
    parser.add_argument(
        "directory", help="schema directory (or specs directory with --spec-tables)"
    )
    parser.add_argument(
        "--spec-tables", action="store_true", help="rewrite the generated blocks in <dir>/*.md"
    )
    args = parser.parse_args(argv)
    try:
        write = update_specs if args.spec_tables else write_schemas
        paths = write(args.directory)
    except (OSError, ValueError) as error:
        print(f"qstack.schemas: {error}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
