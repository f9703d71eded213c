"""``qstack report`` pages in a real headless Chromium (Debian's package,
driven over the DevTools protocol): what a reader sees is there, the page
reports no error, and the filters redraw the sequence chart."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from qstack.diagrams import LAYER_TABLES
from qstack.report import report_command
from qstack.report.browser import Chromium
from tests.report._report_helpers import EXAMPLES, traced_run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TABLES = sum(len(tables) for tables in LAYER_TABLES.values())


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with Chromium(width=1280, height=900) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, int]]:
    """Two reports: a scenario run now, and a trace file with its run report.
    Each with the number of nodes its topology must show."""
    directory = tmp_path_factory.mktemp("pages")
    scenario_page = directory / "ajb.html"
    assert (
        report_command([str(EXAMPLES / "aachen_juelich_bonn.toml"), "-o", str(scenario_page)]) == 0
    )
    traced = traced_run("chain_5.toml", directory)
    trace_page = directory / "chain.html"
    argv = [str(traced.trace), "--run-report", str(traced.run_json), "-o", str(trace_page)]
    assert report_command(argv) == 0
    return {"scenario": (scenario_page, 3), "trace": (trace_page, 5)}


def _count(browser: Chromium, selector: str) -> int:
    return int(browser.evaluate(f"document.querySelectorAll({json.dumps(selector)}).length"))


@pytest.mark.slow
@pytest.mark.parametrize("which", ["scenario", "trace"])
def test_the_page_shows_the_run_without_errors(
    browser: Chromium, pages: dict[str, tuple[Path, int]], which: str, tmp_path: Path
) -> None:
    page, nodes = pages[which]
    load = browser.open(page.resolve().as_uri())
    assert load.errors == []
    assert _count(browser, "svg.topology g.node") == nodes
    assert _count(browser, "svg.topology line.link") == nodes - 1
    assert _count(browser, "#requests svg.timeline") >= 1
    assert _count(browser, "#seq-chart svg.sequence g.row") > 0
    assert _count(browser, "#seq-chart svg.sequence text.head-text") >= 2
    assert _count(browser, "figure.lifecycle svg.states") == TABLES
    assert _count(browser, "figure.lifecycle svg.states g.state") > TABLES
    info = browser.evaluate("document.getElementById('seq-info').textContent")
    assert re.match(r"Rows 1\N{EN DASH}\d+ of \d+ chosen", info)
    shot = tmp_path / f"{which}.png"
    browser.screenshot(shot)
    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 50_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 1280 and height > 2_000  # the whole page, not the window


@pytest.mark.slow
def test_the_filters_redraw_the_sequence_chart(
    browser: Chromium, pages: dict[str, tuple[Path, int]]
) -> None:
    page, _ = pages["trace"]
    assert browser.open(page.resolve().as_uri()).errors == []
    everything = _count(browser, "#seq-chart g.row")
    browser.evaluate(
        """(() => {
          for (const box of document.querySelectorAll('input[name="node"]')) {
            box.checked = box.value === 'n2';
          }
          document.getElementById('seq-filters').dispatchEvent(new Event('change'));
        })()"""
    )
    titles = browser.evaluate(
        "Array.from(document.querySelectorAll('#seq-chart g.row title'), t => t.textContent)"
    )
    assert 0 < len(titles) < everything
    assert all("n2 " in title for title in titles)
    browser.evaluate(
        """(() => {
          for (const box of document.querySelectorAll('input[name="node"]')) box.checked = true;
          document.getElementById('seq-from').value = '0.01';
          document.getElementById('seq-to').value = '0.02';
          document.getElementById('seq-filters').dispatchEvent(new Event('change'));
        })()"""
    )
    times = browser.evaluate(
        "Array.from(document.querySelectorAll('#seq-chart text.seq-time'), t => t.textContent)"
    )
    assert times and all(0.01 <= float(time) <= 0.02 for time in times)
    assert browser.errors() == []  # nothing went wrong while redrawing


@pytest.mark.slow
def test_errors_in_a_page_are_seen(browser: Chromium, tmp_path: Path) -> None:
    """The check above would catch a broken page: a thrown exception and a
    console error are both reported."""
    broken = tmp_path / "broken.html"
    broken.write_text(
        "<!doctype html><p>x</p><script>console.error('drawn wrong');undefinedFunction();</script>",
        encoding="utf-8",
    )
    errors = browser.open(broken.resolve().as_uri()).errors
    assert any("drawn wrong" in error for error in errors)
    assert any("undefinedFunction" in error for error in errors)
