"""The report for the real snapshot, opened in headless Chromium with networking disabled: it fits
the window at 1,280 and 1,920 px (and stacks its tables at 900), the answer is in the first
screen, every chart draws, nothing is logged and nothing is requested."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium, opened, rendered_ms

pytestmark = pytest.mark.skipif(chromium() is None, reason="chromium is not installed")

# every chart that draws something: an SVG plot area with a trace, a point, a box or a heat map
DRAWN = (
    "el => !!el.querySelector('.main-svg') && "
    "!!el.querySelector('.main-svg .trace, .main-svg .point, .main-svg .box, .main-svg .hm image')"
)


def _draw_every_chart(page: object) -> list[str]:
    """Have the page draw every chart, as it does before printing (it draws a chart when it
    comes into view, or all of them when the browser is about to print), and return their ids
    once all are drawn."""
    p: Any = page
    p.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    ids: list[str] = p.evaluate("Array.from(document.querySelectorAll('.chart')).map(e => e.id)")
    p.wait_for_function(
        f"Array.from(document.querySelectorAll('.chart')).every({DRAWN})", timeout=60_000
    )
    return ids


def test_charts_are_drawn_as_they_come_into_view(demo_run: Path) -> None:
    with opened(demo_run / "report.html") as o:
        # at first only the charts near the screen are drawn; the last card's is not
        assert o.eval("document.getElementById('chart-growth').dataset.drawn || ''") == ""
        o.page.locator("#chart-growth").scroll_into_view_if_needed()
        o.page.wait_for_function(
            f"({DRAWN})(document.getElementById('chart-growth'))", timeout=30_000
        )
        # a tear sheet's charts are drawn when it is opened
        o.page.locator("details > summary").first.click()
        o.page.wait_for_function(
            f"({DRAWN})(document.getElementById('chart-tear-0-monthly'))", timeout=30_000
        )
        assert o.console == []


def test_the_harness_sees_console_errors(tmp_path: Path) -> None:
    # the checks below are only worth something if a broken page fails them
    page = tmp_path / "broken.html"
    page.write_text(
        "<html><body><script>throw new Error('broken page');</script>"
        '<img src="https://example.com/x.png"></body></html>'
    )
    with opened(page) as o:
        assert any("broken page" in line for line in o.console)
        assert o.requests == ["https://example.com/x.png"]


@pytest.mark.parametrize("width", [1280, 1920])
def test_the_answer_is_first_the_page_fits_and_every_chart_draws(
    demo_run: Path, tmp_path: Path, width: int
) -> None:
    page = demo_run / "report.html"
    assert page.stat().st_size < 10_000_000
    with opened(page, width=width, height=1000) as o:
        assert o.console == [] and o.requests == []
        ms = rendered_ms(o)
        assert ms is not None and ms < 3000, ms
        # the answer: the thesis line and the first claim's headline, in the first screen
        thesis = o.page.locator(".answer .thesis")
        assert re.match(r"8 claims, read together \(Holm-adjusted p-values\)", thesis.inner_text())
        first = o.page.locator(".answer li").first.inner_text()
        assert "After 2026-01-27, pipes gained 20.6% on gpu_merchant" in first
        for selector in (".answer .thesis", ".answer li"):
            top = o.eval(f"document.querySelector('{selector}').getBoundingClientRect().top")
            assert top < 1000, selector
        o.page.screenshot(path=str(tmp_path / f"top-{width}.png"))
        assert (tmp_path / f"top-{width}.png").stat().st_size > 50_000
        # nothing wider than the window, and nothing that scrolls sideways inside it
        assert o.eval("document.documentElement.scrollWidth") <= width
        ids = _draw_every_chart(o.page)
        assert o.eval("document.documentElement.scrollWidth") <= width
        sideways = o.eval(
            "Array.from(document.querySelectorAll('table, .chart, .card, .facts, details'))"
            ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.id || e.tagName)"
        )
        assert sideways == []
        assert o.console == [] and o.requests == []
    kinds = {re.sub(r"-\d+", "", i) for i in ids}
    assert kinds == {
        "chart-growth", "chart-drawdown", "chart-rolling", "chart-claim-ratio", "chart-claim-path",
        "chart-claim-loo", "chart-claim-grid", "chart-tear-monthly", "chart-tear-yearly",
        "chart-tear-beta", "chart-contributions", "chart-hedge",
    }  # fmt: skip
    assert sum(i.startswith("chart-claim-") and i.endswith("-ratio") for i in ids) == 8


def test_under_1000_px_the_tables_stack_instead_of_running_off(demo_run: Path) -> None:
    with opened(demo_run / "report.html", width=900) as o:
        _draw_every_chart(o.page)
        assert o.eval("document.documentElement.scrollWidth") <= 900
        header = o.eval("getComputedStyle(document.querySelector('table.stack thead')).display")
        assert header == "none"  # each row is a block of "header: value" lines


def test_printing_keeps_each_chart_on_one_page(demo_run: Path, tmp_path: Path) -> None:
    with opened(demo_run / "report.html") as o:
        o.page.emulate_media(media="print")
        for selector in (".chart", ".card", "table"):
            rule = o.eval(f"getComputedStyle(document.querySelector('{selector}')).breakInside")
            assert rule in ("avoid", "avoid-page"), selector
        pdf = o.page.pdf(path=str(tmp_path / "report.pdf"))
        assert pdf.startswith(b"%PDF")
        assert o.console == []


def test_a_sweep_adds_its_box_plot_and_table(demo_run: Path, tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    from tests.conftest import ROOT

    folder = tmp_path / "run"
    shutil.copytree(demo_run, folder)
    proc = subprocess.run(
        [sys.executable, "-m", "bucketmap", "sweep", "--prices", "sample",
         "--out", str(folder), "--shifts", "0,5", "--rebalance", "monthly"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with opened(folder / "report.html") as o:
        ids = _draw_every_chart(o.page)
        assert "chart-sweep" in ids
        assert "Sweep: excess return across variants" in o.page.content()
        assert o.console == [] and o.requests == []
