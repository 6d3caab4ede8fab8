"""The report page: self-contained, every user string escaped, charts present."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from bucketmap.cli import app
from reports.figures import growth_of_one, ratio_lines, rolling_excess
from tests.conftest import TINY_BUCKET, frame, write_csvs


@pytest.fixture
def hostile_run(tiny_universe: Path, tmp_path: Path) -> str:
    (tiny_universe / "duo.yaml").write_text(
        TINY_BUCKET.replace(
            "description: two members", 'description: "<script>alert(1)</script> & <b>bold</b>"'
        )
    )
    p = frame(
        ["2024-01-02", "2024-01-03", "2024-01-04"], AAA=[1, 2, 3], BBB=[1, 1, 1], SPY=[1, 1.1, 1.2]
    )
    prices = write_csvs(tmp_path / "p", p)
    res = CliRunner().invoke(
        app,
        [
            "run",
            "--universes",
            str(tiny_universe),
            "--prices",
            str(prices),
            "--out",
            str(tmp_path / "out"),
            "--start",
            "2024-01-01",
        ],
    )
    assert res.exit_code == 0, res.output
    return (tmp_path / "out" / "report.html").read_text()


def test_user_text_is_escaped(hostile_run: str) -> None:
    assert "<script>alert(1)</script>" not in hostile_run
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in hostile_run


def test_page_is_self_contained(hostile_run: str) -> None:
    # no script or stylesheet is loaded from anywhere: plotly.js is inline
    assert not re.search(r"<script[^>]+src=", hostile_run)
    assert not re.search(r"<link[^>]+href=", hostile_run)
    assert "Plotly.newPlot" in hostile_run
    # no claims and no hedge bucket: the charts every run has, and the one bucket's tear sheet
    charts = re.findall(r'data-chart="chart-([a-z0-9_-]+)"', hostile_run)
    assert charts == [
        "growth", "drawdown", "tear-0-monthly", "tear-0-yearly", "tear-0-beta",
        "contributions",
    ]  # fmt: skip
    # each drawn by the page from its own figure, carried as JSON that cannot end the script
    for name in charts:
        found = re.search(
            rf'<script type="application/json" id="chart-{name}-json">(.*?)</script>',
            hostile_run,
            re.S,
        )
        assert found is not None, name
        spec = json.loads(found.group(1))
        assert spec["data"] and "template" not in spec["layout"]
    assert hostile_run.count("var BM_TEMPLATE") == 1


def test_growth_starts_at_one_the_close_before_the_first_return() -> None:
    idx = pd.to_datetime(["2024-01-03", "2024-01-04"])
    r = pd.DataFrame({"a": [0.1, -0.5], "b": [float("nan"), 0.2]}, index=idx)
    g = growth_of_one(r, pd.Timestamp("2024-01-02"))
    assert g["a"].tolist() == pytest.approx([1.0, 1.1, 0.55])
    assert pd.isna(g["b"].iloc[0])
    assert g["b"].iloc[1:].tolist() == pytest.approx([1.0, 1.2])


def test_ratio_is_rebased_to_one_at_the_claim_date() -> None:
    idx = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"])
    r = pd.DataFrame({"x": [0.1, 0.1, 0.1], "B": [0.0, 0.0, 0.21]}, index=idx)
    ratio = ratio_lines(r, ["x"], "B", pd.Timestamp("2024-01-03"))
    # growth x: 1.1, 1.21, 1.331; B: 1, 1, 1.21 → ratio 1.1, 1.21, 1.1 → / 1.21
    assert ratio["x"].tolist() == pytest.approx([1.1 / 1.21, 1.0, 1.1 / 1.21])


def test_rolling_excess_by_hand() -> None:
    idx = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"])
    r = pd.DataFrame(
        {"x": [0.1, 0.2, None, 0.0], "B": [0.0, 0.1, 0.5, 0.1]}, index=idx, dtype="float64"
    )
    got = rolling_excess(r, "x", "B", 2)
    # shared days 02, 03, 05 (04: x has no return, the day is skipped, not zero-filled)
    # window ending 03: 1.1×1.2 / (1×1.1) − 1 = 0.2; ending 05: 1.2×1 / (1.1×1.1) − 1
    assert list(got.index) == list(idx[[0, 1, 3]])
    assert pd.isna(got.iloc[0])
    assert got.iloc[1:].tolist() == pytest.approx([0.2, 1.2 / 1.21 - 1])


def test_shift_captions_fold_runs_of_days() -> None:
    from reports.summary import shifts_text

    assert shifts_text(list(range(22))) == "0–21"
    assert shifts_text([20, 0, 5, 10]) == "0/5/10/20"
    assert shifts_text([0, 1, 5, 6, 7, 9]) == "0/1/5–7/9"  # a pair stays a pair
