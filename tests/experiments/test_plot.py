"""``qstack plot``: means over replicas with a t-distribution band, from any results format."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.experiments._sweep_helpers import cli, tiny_toml

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")
pytest.importorskip("scipy")

from matplotlib.figure import Figure  # noqa: E402

from qstack.experiments.plot import PlotSpec, draw, summarise  # noqa: E402
from qstack.physics.formulas import fiber_transmittance, plob_bound, tgw_bound  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_band_is_the_t_interval_of_the_mean() -> None:
    frame = pd.DataFrame({"x": [1, 1, 1, 2, 2, 3], "y": [1.0, 2.0, 3.0, 4.0, 8.0, 5.0]})
    stats = summarise(frame, "x", "y", []).set_index("x")
    # x = 1: mean 2, sample sd 1, n = 3: half-width t(0.975, 2) / sqrt(3), with
    # t(0.975, 2) = 4.302652729911275 (Student's t table; 1.96 would be the normal one).
    assert stats.loc[1, "mean"] == 2.0
    assert math.isclose(stats.loc[1, "half_width"], 4.302652729911275 / math.sqrt(3), rel_tol=1e-9)
    # x = 2: mean 6, sd 2*sqrt(2), n = 2: t(0.975, 1) = 12.706204736174705.
    assert math.isclose(
        stats.loc[2, "half_width"],
        12.706204736174705 * 2 * math.sqrt(2) / math.sqrt(2),
        rel_tol=1e-9,
    )
    assert math.isnan(stats.loc[3, "half_width"])  # one replica: no band


@pytest.mark.slow
@pytest.mark.parametrize(
    ("results", "figure"), [("r.csv", "f.png"), ("r.jsonl", "f.svg"), ("r.parquet", "f.pdf")]
)
def test_plot_from_each_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], results: str, figure: str
) -> None:
    if results.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    file = tiny_toml(tmp_path)
    out = tmp_path / results
    status, _, err = cli(
        capsys, "sweep", str(file), "--set", "links[*].length_km=10:30:10",
        "--set", "network.routing=shortest-hops,expected-time", "--replicas", "3",
        "--workers", "1", "--out", str(out),
    )  # fmt: skip
    assert status == 0, err
    image = tmp_path / figure
    status, _, err = cli(
        capsys, "plot", str(out), "--x", "links[*].length_km", "--y", "rate_hz",
        "--hue", "network.routing", "--logy", "-o", str(image),
    )  # fmt: skip
    assert status == 0, err
    assert "separate lines for each name" in err  # two requests per run: never averaged together
    data = image.read_bytes()
    if figure.endswith(".png"):
        assert data.startswith(PNG_MAGIC)
    elif figure.endswith(".svg"):
        assert b"<svg" in data[:1000]
    else:
        assert data.startswith(b"%PDF")


def test_plob_and_tgw_lines_are_the_bounds_over_the_x_range() -> None:
    frame = pd.DataFrame(
        {
            "links[*].length_km": [10, 10, 50, 50],
            "point": [0, 0, 1, 1],
            "bits": [0.1, 0.2, 1e-3, 2e-3],
        }
    )
    axes = Figure().add_subplot()
    spec = PlotSpec("links[*].length_km", "bits", logy=True, plob_db_per_km=0.2)
    assert draw(axes, frame, spec) == ""
    data, plob, tgw = axes.get_lines()
    assert list(data.get_xdata()) == [10, 50]
    assert list(data.get_ydata()) == pytest.approx([0.15, 1.5e-3])
    for line, bound in ((plob, plob_bound), (tgw, tgw_bound)):
        lengths, values = line.get_xdata(), line.get_ydata()
        assert (lengths[0], lengths[-1]) == (10, 50)
        for length, value in zip(lengths, values, strict=True):
            assert value == bound(fiber_transmittance(length, 0.2))
    assert "TGW" in tgw.get_label() and "PLOB" in plob.get_label()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--x", "nope", "--y", "rate_hz"], "--x nope: no such column"),
        (["--x", "run.until_s", "--y", "status"], "--y status: no numeric values"),
        (["--x", "run.until_s", "--y", "rate_hz", "--plob"], "--plob: x must be a length in km"),
        (["--x", "run.until_s", "--y", "rate_hz", "--request", "x"], "--request x: no such"),
    ],
)
def test_bad_plots_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    out = tmp_path / "r.csv"
    status, _, err = cli(
        capsys, "sweep", str(tiny_toml(tmp_path)), "--set", "run.until_s=1,2", "--workers", "1",
        "--out", str(out),
    )  # fmt: skip
    assert status == 0, err
    status, _, err = cli(capsys, "plot", str(out), *argv, "-o", str(tmp_path / "f.png"))
    assert status == 2
    assert expected in err
    status, _, err = cli(
        capsys, "plot", str(out), "--x", "run.until_s", "--y", "rate_hz", "-o", "f.gif"
    )
    assert status == 2 and "must end in .png, .svg, .pdf" in err
