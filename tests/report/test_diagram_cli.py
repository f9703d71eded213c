"""``qstack diagram LAYER --raw [--lifecycle NAME]``: one graph, nothing around it."""

from __future__ import annotations

import re

import pytest

from qstack.cli import main
from qstack.diagrams import LAYER_TABLES, find_lifecycle, raw_diagram
from qstack.layers.link.egp import REQUEST_LIFECYCLE


def _out(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("layer", sorted(LAYER_TABLES))
def test_raw_mermaid_is_one_diagram_of_every_lifecycle(
    layer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _out(["diagram", layer, "--raw"], capsys)
    assert text.startswith("stateDiagram-v2\n") and text.count("stateDiagram") == 1
    assert "```" not in text and "#" not in text
    for table in LAYER_TABLES[layer]:
        box = re.sub(r"\W+", "_", table.name)
        assert f'    state "{table.name}" as {box} {{\n' in text
        for row in table.transitions:
            source, dest = f"{box}_{row.source}", f"{box}_{row.dest}"
            assert re.search(rf"^        {source} --> {dest}: {row.trigger_name}\b", text, re.M)
    assert text.count("{") == text.count("}") == len(LAYER_TABLES[layer])


@pytest.mark.parametrize("layer", sorted(LAYER_TABLES))
def test_raw_dot_is_one_digraph_with_a_cluster_per_lifecycle(
    layer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _out(["diagram", layer, "--raw", "--format", "dot"], capsys)
    assert text.startswith(f'digraph "{layer}" {{') and text.count("digraph") == 1
    assert text.count("subgraph") == len(LAYER_TABLES[layer])
    assert text.count("{") == text.count("}")
    rows = sum(len(table.transitions) for table in LAYER_TABLES[layer])
    assert len(re.findall(r'" -> "[^"]+" \[label="', text)) == rows


@pytest.mark.parametrize("name", ["request", "link request", "Link_Request", "LINK-request"])
def test_lifecycle_picks_one_table(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert find_lifecycle("link", name) is REQUEST_LIFECYCLE
    assert _out(["diagram", "link", "--raw", "--lifecycle", name], capsys) == (
        REQUEST_LIFECYCLE.mermaid()
    )
    dot = _out(["diagram", "link", "--raw", "--lifecycle", name, "--format", "dot"], capsys)
    assert dot == REQUEST_LIFECYCLE.dot()
    page = _out(["diagram", "link", "--lifecycle", name], capsys)
    assert page.startswith("## link request\n") and page.count("```mermaid") == 1


def test_an_unknown_lifecycle_names_the_ones_there_are(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", "network", "--raw", "--lifecycle", "pair"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "qstack diagram: --lifecycle = 'pair': not a network lifecycle "
        "(one of 'network entity', 'network circuit')\n"
    )


def test_without_raw_the_page_is_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    text = _out(["diagram", "link"], capsys)
    assert text.count("```mermaid") == len(LAYER_TABLES["link"])
    assert raw_diagram("link") != text
