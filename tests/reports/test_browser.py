"""The report for the real snapshot, opened in headless Chromium with networking disabled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser import chromium, open_page, rendered_ms, screenshot

pytestmark = pytest.mark.skipif(chromium() is None, reason="chromium is not installed")

CHARTS = ["growth", "ratio", "drawdown", "rolling", "contributions", "leave_one_out", "hedge"]


def _chart_blocks(dom: str) -> dict[str, str]:
    """Each chart's container, from its ``data-chart`` marker to the next one."""
    marks = list(re.finditer(r'data-chart="chart-([a-z_]+)"', dom))
    ends = [m.start() for m in marks[1:]] + [len(dom)]
    return {m.group(1): dom[m.start() : end] for m, end in zip(marks, ends, strict=True)}


def test_the_harness_sees_console_errors(tmp_path: Path) -> None:
    # the check below is only worth something if a broken page fails it
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>throw new Error('broken page');</script></body></html>")
    opened = open_page(page, tmp_path / "profile")
    assert any("broken page" in line for line in opened.console)


def test_report_opens_offline_without_errors_and_draws_every_chart(
    demo_run: Path, tmp_path: Path
) -> None:
    page = demo_run / "report.html"
    assert page.stat().st_size < 10_000_000
    opened = open_page(page, tmp_path / "profile")
    assert opened.console == []
    blocks = _chart_blocks(opened.dom)
    assert list(blocks) == CHARTS
    for name, block in blocks.items():
        # plotly drew it: an SVG plot area with at least one trace inside
        assert 'class="main-svg"' in block, name
        assert re.search(r'class="(trace|point)\b', block), name
    # the verdict table comes first, with every claim
    assert opened.dom.index("Claims: verdicts and controls") < opened.dom.index("Growth of $1")
    for claim in ("rotation-pipes", "gpu-flex-premium", "physical-limit-power"):
        assert claim in opened.dom
    ms = rendered_ms(opened.dom)
    assert ms is not None and ms < 3000, ms
    shot = screenshot(page, tmp_path / "profile2", tmp_path / "report.png")
    assert shot.stat().st_size > 50_000


def test_a_sweep_adds_its_box_plot_and_table(demo_run: Path, tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    from tests.conftest import ROOT, SNAPSHOT_CSV

    folder = tmp_path / "run"
    shutil.copytree(demo_run, folder)
    proc = subprocess.run(
        [sys.executable, "-m", "bucketmap", "sweep", "--prices", str(SNAPSHOT_CSV),
         "--out", str(folder), "--shifts", "0,5", "--rebalance", "monthly"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    opened = open_page(folder / "report.html", tmp_path / "profile")
    assert opened.console == []
    blocks = _chart_blocks(opened.dom)
    assert list(blocks) == [*CHARTS, "sweep"]
    assert 'class="main-svg"' in blocks["sweep"]
    assert re.search(r'class="(trace|point|box)\b', blocks["sweep"])
    assert "Sweep: excess return across variants" in opened.dom
