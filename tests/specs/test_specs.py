"""The specs and JSON Schemas stay in step with the code."""

from __future__ import annotations

import importlib
import inspect
import json
import math
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest

import qstack.layers.app as app_package
import qstack.layers.link.messages as link_messages
import qstack.layers.network.messages as network_messages
from qstack.conformance.clauses import CLAUSES
from qstack.diagrams import LAYER_TABLES
from qstack.layers.app.base import AppMessage
from qstack.layers.app.bb84 import Bb84RequestReport
from qstack.layers.app.chsh import ChshRequestReport
from qstack.layers.app.ghz import GhzRequestReport
from qstack.layers.app.qkd import DEFAULT_QBER_THRESHOLD, PRESHARED_KEY_BITS, QkdRequestReport
from qstack.layers.app.remote_cnot import RemoteCnotRequestReport
from qstack.layers.app.sensing import SensingRequestReport
from qstack.layers.app.teleport import TeleportRequestReport
from qstack.messages import Message
from qstack.qkd.auth import Authenticator
from qstack.qkd.pipeline import distill
from qstack.qkd.privacy import secret_key_length
from qstack.reports import RequestReport
from qstack.schemas import (
    INVARIANT_SPEC_FILES,
    MESSAGE_MODELS,
    MESSAGE_SPEC_FILES,
    REGENERATE_SCHEMAS,
    REGENERATE_SPEC_TABLES,
    SPEC_FILES,
    TRACE_RECORD_SCHEMA,
    generate_schemas,
    generated_block,
    generated_invariants,
    invariant_markers,
    main,
    message_kind,
    render_invariants,
    render_spec_tables,
    update_invariants_text,
    update_spec_text,
    update_specs,
    write_schemas,
)

SPECS = Path(__file__).resolve().parents[2] / "specs"
SCHEMA_DIR = SPECS / "schemas"
LAYER_SPECS = ("physical", "link", "network", "application")
#: The layer specs whose numbered invariants are the conformance kit's clauses.
KIT_SPECS = ("link", "network")
#: The layer specs the kit does not cover yet: unnumbered guarantee lists.
UNNUMBERED_SPECS = ("physical", "application")


def test_schema_files_match_the_models() -> None:
    expected = generate_schemas()
    present = {path.name: path.read_text(encoding="utf-8") for path in SCHEMA_DIR.glob("*.json")}
    hint = f"specs/schemas is out of date with the message models; regenerate: {REGENERATE_SCHEMAS}"
    assert sorted(present) == sorted(expected), hint
    stale = [name for name, text in expected.items() if present[name] != text]
    assert not stale, f"{hint} (stale: {', '.join(stale)})"


def test_generation_is_deterministic_and_ends_with_newline() -> None:
    first, second = generate_schemas(), generate_schemas()
    assert first == second
    for name, text in first.items():
        assert text.endswith("}\n"), name
        assert json.loads(text)["$id"] == name


def test_write_schemas_writes_what_generate_returns(tmp_path: Path) -> None:
    written = write_schemas(tmp_path / "out")
    assert {path.name for path in written} == set(generate_schemas())
    assert main([str(tmp_path / "again")]) == 0
    for name, text in generate_schemas().items():
        assert (tmp_path / "again" / name).read_text(encoding="utf-8") == text


def test_every_message_class_is_listed_once_with_a_unique_kind() -> None:
    for layer, module in (("link", link_messages), ("network", network_messages)):
        defined = {
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, Message) and cls.__module__ == module.__name__
        }
        assert defined == set(MESSAGE_MODELS[layer]), layer
    app_messages = set()
    for info in pkgutil.iter_modules(app_package.__path__, app_package.__name__ + "."):
        module = importlib.import_module(info.name)
        app_messages |= {
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, AppMessage) and cls is not AppMessage
        }
    assert app_messages == set(MESSAGE_MODELS["app"])
    kinds = [message_kind(model) for models in MESSAGE_MODELS.values() for model in models]
    assert len(kinds) == len(set(kinds))


def test_trace_record_schema_covers_every_message() -> None:
    schema = json.loads(generate_schemas()[TRACE_RECORD_SCHEMA])
    message = schema["properties"]["message"]
    kinds = [message_kind(model) for models in MESSAGE_MODELS.values() for model in models]
    assert message["properties"]["kind"]["enum"] == kinds
    assert len(message["oneOf"]) == len(kinds)
    for branch in message["oneOf"]:
        name = branch["$ref"].removeprefix("#/$defs/")
        assert name in schema["$defs"]
    assert schema["required"] == ["time_ps", "node", "layer", "direction", "peer", "message"]
    assert set(schema["properties"]["layer"]["enum"]) == set(MESSAGE_MODELS)


@pytest.mark.parametrize("layer", sorted(SPEC_FILES))
def test_generated_spec_tables_match_the_code(layer: str) -> None:
    text = (SPECS / SPEC_FILES[layer]).read_text(encoding="utf-8")
    block = generated_block(text, layer)
    assert block is not None, (
        f"specs/{SPEC_FILES[layer]} lacks the generated:{layer}-tables markers"
    )
    assert block == render_spec_tables(layer), (
        f"the state-machine tables in specs/{SPEC_FILES[layer]} differ from "
        f"qstack.diagrams.LAYER_TABLES[{layer!r}]; regenerate: {REGENERATE_SPEC_TABLES}"
    )


def test_rendered_tables_list_every_row_and_diagram() -> None:
    for layer, tables in LAYER_TABLES.items():
        rendered = render_spec_tables(layer)
        assert rendered.count("```mermaid") == len(tables)
        for table in tables:
            assert table.mermaid().rstrip("\n") in rendered
            for row in table.transitions:
                assert f"| `{row.source}` | `{row.trigger_name}` | `{row.dest}` |" in rendered


def test_update_spec_text_replaces_only_the_block() -> None:
    start, end = "<!-- generated:link-tables:start -->", "<!-- generated:link-tables:end -->"
    text = f"intro\n{start}\nold\n{end}\nend\n"
    updated = update_spec_text(text, "link")
    assert updated.startswith("intro\n") and updated.endswith("end\n")
    assert generated_block(updated, "link") == render_spec_tables("link")
    assert update_spec_text(updated, "link") == updated
    with pytest.raises(ValueError, match="markers"):
        update_spec_text("no markers here", "link")
    with pytest.raises(KeyError):
        render_spec_tables("nowhere")


def _field_table(text: str, kind: str) -> list[str] | None:
    """Field names of the first table under the ``### KIND`` heading."""
    match = re.search(rf"^### {re.escape(kind)}\b.*$", text, re.MULTILINE)
    if match is None:
        return None
    rest = text[match.end() :]
    following = re.search(r"^#{2,3} ", rest, re.MULTILINE)
    section = rest[: following.start()] if following else rest
    return re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE)


@pytest.mark.parametrize("layer", sorted(MESSAGE_MODELS))
def test_every_message_field_is_documented(layer: str) -> None:
    spec = MESSAGE_SPEC_FILES[layer]
    text = (SPECS / spec).read_text(encoding="utf-8")
    for model in MESSAGE_MODELS[layer]:
        kind = message_kind(model)
        fields = _field_table(text, kind)
        assert fields is not None, f"specs/{spec} has no '### {kind}' section"
        assert fields == list(model.model_fields), (
            f"specs/{spec}, {kind}: documented fields {fields} "
            f"!= the model's {list(model.model_fields)}"
        )
        properties = model.model_json_schema()["properties"]
        for name in fields:
            row = re.search(rf"^### {kind}\b(?:.|\n)*?^\| `{name}` \|(.*)$", text, re.MULTILINE)
            assert row is not None
            for value in _enum_values(properties[name]):
                if (
                    name != "kind"
                    and " as " not in row.group(1)
                    and "reason, or" not in row.group(1)
                ):
                    cell = row.group(1)
                    assert f"`{value}`" in cell or f'"{value}"' in cell, (
                        f"specs/{spec}, {kind}.{name}: value {value!r} is not documented"
                    )


def _enum_values(schema: dict[str, Any]) -> list[str]:
    """The string values a field's schema enumerates (through anyOf)."""
    values: list[str] = []
    for option in [schema, *schema.get("anyOf", [])]:
        values += [value for value in option.get("enum", []) if isinstance(value, str)]
    return values


_CLAUSE = re.compile(r"^\| ([a-z]+/\d+\.\d+) \| (MUST|SHOULD) \| (.+) \| (.+) \|$", re.MULTILINE)
_CLAUSE_ID = re.compile(r"\b(?:phys|link|net|app)/\d+\.\d+\b")


def _unescape(cell: str) -> str:
    return cell.replace("\\|", "|")


@pytest.mark.parametrize("layer", sorted(KIT_SPECS))
def test_generated_invariants_match_the_kit(layer: str) -> None:
    name = next(name for key, name in INVARIANT_SPEC_FILES.items() if key == layer)
    text = (SPECS / name).read_text(encoding="utf-8")
    block = generated_invariants(text, layer)
    assert block is not None, f"specs/{name} lacks the generated:{layer}-invariants markers"
    assert block == render_invariants(layer), (
        f"the invariants table in specs/{name} differs from "
        f"qstack.conformance.clauses.CLAUSES[{layer!r}]; regenerate: {REGENERATE_SPEC_TABLES}"
    )


@pytest.mark.parametrize("layer", sorted(KIT_SPECS))
def test_numbered_invariants_are_exactly_the_kits_clauses(layer: str) -> None:
    text = (SPECS / f"{layer}.md").read_text(encoding="utf-8")
    documented = [
        (clause_id, level, _unescape(body)) for clause_id, level, body, _ in _CLAUSE.findall(text)
    ]
    clauses = next(items for key, items in CLAUSES.items() if key == layer)
    kit = [(c.id, c.level, c.text) for c in clauses]
    assert documented == kit, f"specs/{layer}.md: numbered invariants != the kit's"
    # No hand-written clause row outside the generated table.
    outside = text.replace(generated_invariants(text, layer) or "", "")
    for row in _CLAUSE.findall(outside):
        pytest.fail(f"specs/{layer}.md: hand-written clause row {row[0]}")


def test_kit_clause_ids_are_stable_and_well_formed() -> None:
    prefixes = {"link": "link/3", "network": "net/4"}
    for layer, clauses in CLAUSES.items():
        numbers = []
        for item in clauses:
            assert item.layer == layer
            assert item.id.startswith(prefixes[layer] + "."), item.id
            numbers.append(int(item.id.rsplit(".", 1)[1]))
            assert item.text.strip() and "\n" not in item.text, item.id
        assert numbers == list(range(1, len(numbers) + 1)), "clause numbers in order, no gaps"


@pytest.mark.parametrize("layer", UNNUMBERED_SPECS)
def test_uncovered_layers_carry_no_numbered_clauses(layer: str) -> None:
    text = (SPECS / f"{layer}.md").read_text(encoding="utf-8")
    assert _CLAUSE.findall(text) == []
    own = [cid for cid in _CLAUSE_ID.findall(text) if cid.startswith(("phys/", "app/"))]
    assert own == [], f"specs/{layer}.md numbers its own invariants: {own}"
    section = _section(text, "Invariants")
    assert "covers the link and network layers only so far" in " ".join(section.split())
    assert _guarantees(section), f"specs/{layer}.md lists no guarantees"


def test_ids_cited_across_the_specs_are_kit_clauses() -> None:
    known = {item.id for clauses in CLAUSES.values() for item in clauses}
    for path in sorted(SPECS.glob("*.md")):
        for clause_id in _CLAUSE_ID.findall(path.read_text(encoding="utf-8")):
            assert clause_id in known, f"{path.name} cites {clause_id}, not a kit clause"


def _guarantees(section: str) -> list[str]:
    """The one-line bullets of an unnumbered guarantee list."""
    return re.findall(r"^- (.+)$", section, re.MULTILINE)


@pytest.mark.parametrize("layer", LAYER_SPECS)
def test_guarantees_name_test_files_that_exist(layer: str) -> None:
    section = _section((SPECS / f"{layer}.md").read_text(encoding="utf-8"), "Invariants")
    bullets = _guarantees(section)
    assert bullets, f"specs/{layer}.md: no unnumbered guarantee list"
    root = SPECS.parent
    for bullet in bullets:
        named = re.findall(r"`(tests/[\w/]+\.py)`", bullet)
        assert named or "No dedicated test yet" in bullet, (
            f"specs/{layer}.md: a guarantee names no test file and does not say so: {bullet}"
        )
        for name in named:
            assert (root / name).is_file(), f"specs/{layer}.md names a missing test file {name}"


def test_update_invariants_text_replaces_only_the_block(tmp_path: Path) -> None:
    start, end = invariant_markers("network")
    text = f"intro\n{start}\nold\n{end}\nend\n"
    updated = update_invariants_text(text, "network")
    assert updated.startswith("intro\n") and updated.endswith("end\n")
    assert generated_invariants(updated, "network") == render_invariants("network")
    assert update_invariants_text(updated, "network") == updated
    with pytest.raises(ValueError, match="markers"):
        update_invariants_text("no markers here", "network")
    with pytest.raises(KeyError):
        render_invariants("physical")
    # update_specs refreshes both kinds of block and leaves up-to-date files alone.
    for name in {*SPEC_FILES.values(), *INVARIANT_SPEC_FILES.values()}:
        (tmp_path / name).write_text((SPECS / name).read_text(encoding="utf-8"), encoding="utf-8")
    assert update_specs(tmp_path) == []
    link = tmp_path / "link.md"
    link_start, link_end = invariant_markers("link")
    stale = link.read_text(encoding="utf-8")
    stale = (
        stale[: stale.index(link_start) + len(link_start)]
        + "\nstale\n"
        + stale[stale.index(link_end) :]
    )
    link.write_text(stale, encoding="utf-8")
    assert update_specs(tmp_path) == [link]
    assert link.read_text(encoding="utf-8") == (SPECS / "link.md").read_text(encoding="utf-8")


def test_trace_spec_documents_every_record_field() -> None:
    text = (SPECS / "trace.md").read_text(encoding="utf-8")
    schema = json.loads(generate_schemas()[TRACE_RECORD_SCHEMA])
    for field in schema["properties"]:
        assert f"| `{field}` |" in text, field
    for models in MESSAGE_MODELS.values():
        for model in models:
            assert message_kind(model) in text


def test_message_spec_files_exist_for_every_traced_layer() -> None:
    assert set(MESSAGE_SPEC_FILES) == set(MESSAGE_MODELS)
    assert MESSAGE_SPEC_FILES["app"] == "application.md"
    for name in MESSAGE_SPEC_FILES.values():
        assert (SPECS / name).is_file(), name


def _section(text: str, heading: str) -> str:
    """The text under a ``## heading`` up to the next ``## `` heading."""
    start = text.index(f"\n## {heading}\n")
    following = text.find("\n## ", start + 1)
    return text[start : following if following >= 0 else len(text)]


@pytest.mark.parametrize(
    ("heading", "report", "base"),
    [
        ("What every session reports", RequestReport, None),
        ("The `qkd` application", QkdRequestReport, RequestReport),
        ("The `teleport` application", TeleportRequestReport, RequestReport),
        ("The `chsh` application", ChshRequestReport, RequestReport),
        ("The `remote_cnot` application", RemoteCnotRequestReport, RequestReport),
        ("The `ghz` application", GhzRequestReport, RequestReport),
        ("The `sensing` application", SensingRequestReport, RequestReport),
        ("The `bb84` application", Bb84RequestReport, RequestReport),
    ],
)
def test_application_reports_are_documented(
    heading: str, report: type[RequestReport], base: type[RequestReport] | None
) -> None:
    text = (SPECS / "application.md").read_text(encoding="utf-8")
    section = _section(text, heading)
    own = [name for name in report.model_fields if base is None or name not in base.model_fields]
    assert own
    for name in own:
        assert re.search(rf"^\| (`[a-z_]+`, )*`{name}`( \||,)", section, re.MULTILINE), (
            f"specs/application.md, {heading}: report field {name!r} has no row"
        )


def test_application_spec_states_the_qkd_parameters_the_code_uses() -> None:
    text = _section((SPECS / "application.md").read_text(encoding="utf-8"), "The `qkd` application")
    defaults = {
        name: parameter.default for name, parameter in inspect.signature(distill).parameters.items()
    }
    assert defaults["finite_size"] is False  # the spec gives the asymptotic form
    assert f"round({defaults['sample_fraction']} \N{MULTIPLICATION SIGN} sifted)" in text
    assert f"{defaults['cascade_passes']} passes" in text
    assert f"{defaults['verify_bits']}-bit Toeplitz hash" in text
    security = inspect.signature(secret_key_length).parameters["security_bits"].default
    assert security == defaults["security_bits"]
    assert f"s = {security}" in text and f"= {2 * security} bits" in text
    assert f"(default {DEFAULT_QBER_THRESHOLD})" in text
    assert f"{PRESHARED_KEY_BITS} bits (`PRESHARED_KEY_BITS`)" in text
    per_session = Authenticator.HASH_KEY_BITS + 2 * Authenticator.PAD_BITS
    assert f"= {per_session} in a session without forgeries" in text
    # The formula as written: floor(n (1 - h(e)) - leaked - 2 s), clamped at 0.
    formula = "\N{SCRIPT SMALL L} = max(0, floor(n (1 - h(e_phase)) - leaked_bits - 2 s))"
    assert formula.replace("-", "\N{MINUS SIGN}") in text
    n, e, leaked = 10_000, 0.03, 2_000
    entropy = -e * math.log2(e) - (1 - e) * math.log2(1 - e)
    expected = max(0, math.floor(n * (1 - entropy) - leaked - 2 * security))
    assert secret_key_length(n, e, leaked) == expected


def test_every_application_has_invariants() -> None:
    text = (SPECS / "application.md").read_text(encoding="utf-8")
    guarantees = _guarantees(_section(text, "Invariants"))
    for app in ("pairs", "qkd", "teleport", "chsh", "remote_cnot", "ghz", "sensing", "bb84"):
        assert any(item.startswith(f"`{app}`") for item in guarantees), app
    for kind in (message_kind(model) for model in MESSAGE_MODELS["app"]):
        assert any(kind in item for item in guarantees), kind
