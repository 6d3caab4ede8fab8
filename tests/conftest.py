"""Shared fixtures: tiny price tables and universes built in code, and the real snapshot's path."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
SHARED_PRICES = ROOT.parent / "shared" / "prices"
SNAPSHOT_CSV = SHARED_PRICES / "csv"
SAMPLE_PARQUET = ROOT / "backtest" / "prices" / "data" / "sample.parquet"
"""The price sample shipped with the package (``--prices sample``)."""

settings.register_profile("ci", max_examples=60, deadline=None)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# rich tables in CLI output: wide and plain, so assertions are stable
os.environ.setdefault("TERMINAL_WIDTH", "200")
os.environ.setdefault("COLUMNS", "200")
os.environ.setdefault("_TYPER_FORCE_DISABLE_TERMINAL", "1")
# runs and boards record in a ledger: the tests' own, never one in the working tree
os.environ.setdefault(
    "BUCKETMAP_LEDGER", str(Path(tempfile.mkdtemp(prefix="bucketmap-tests-")) / "ledger.jsonl")
)


def frame(dates: list[str], **columns: list[float | None]) -> pd.DataFrame:
    """A price frame from dates and per-ticker lists (None = no price that day)."""
    out = pd.DataFrame(
        {k: [float("nan") if v is None else float(v) for v in vals] for k, vals in columns.items()},
        index=pd.DatetimeIndex(pd.to_datetime(dates), name="date"),
    )
    return out


def write_csvs(folder: Path, prices: pd.DataFrame) -> Path:
    """One ``<TICKER>.csv`` (Date,Close) per column, rows where the ticker has a price."""
    folder.mkdir(parents=True, exist_ok=True)
    for ticker in prices.columns:
        s = prices[ticker].dropna()
        text = "Date,Close\n" + "".join(
            f"{d:%Y-%m-%d},{float(v)!r}\n" for d, v in zip(s.index, s.to_numpy(), strict=True)
        )
        (folder / f"{ticker}.csv").write_text(text)
    return folder


def page_charts(html: str) -> dict[str, dict[str, object]]:
    """The charts a report page carries: its JSON figures (``data`` and ``layout``), by name."""
    pattern = r'<script type="application/json" id="chart-([a-z0-9_-]+)-json">(.*?)</script>'
    return {m[1]: json.loads(m[2]) for m in re.finditer(pattern, html, re.S)}


def plotly_rewrites(html: str) -> list[str]:
    """The charts of a report page that plotly would write otherwise: each figure is read back
    by plotly (``go.Figure``, which validates every property and writes each in its own form:
    ``"title": "x"`` as ``{"text": "x"}``, a named colour scale as its colours) and written again
    with plotly's encoder; empty when the page carries plotly's own JSON."""
    import plotly.graph_objects as go
    from plotly.utils import PlotlyJSONEncoder

    rewritten = []
    for name, spec in page_charts(html).items():
        again = go.Figure(spec).to_plotly_json()
        again["layout"].pop("template", None)
        if json.loads(json.dumps(again, cls=PlotlyJSONEncoder)) != spec:
            rewritten.append(name)
    return rewritten


TINY_BUCKET = """\
# a comment the user wrote
side: long
description: two members
members:
  - ticker: AAA
    status: proposed
    rationale: doubles
  - ticker: BBB
    status: proposed
    rationale: flat
"""

TINY_BENCH = """\
benchmarks:
  - SPY
"""


TINY_DATES = ["2024-01-30", "2024-01-31", "2024-02-15", "2024-02-29", "2024-03-15", "2024-03-28"]


@pytest.fixture
def tiny_prices(tmp_path: Path) -> Path:
    """A folder of CSVs for the tiny universe: AAA doubles twice, BBB flat, SPY +10% once (see
    test_engine for the bucket's arithmetic)."""
    p = frame(
        TINY_DATES, AAA=[10, 10, 15, 20, 20, 40], BBB=[5] * 6, SPY=[100, 100, 100, 110, 110, 110]
    )
    return write_csvs(tmp_path / "prices", p)


@pytest.fixture
def tiny_universe(tmp_path: Path) -> Path:
    """A universe folder with one long bucket (AAA, BBB) and benchmark SPY."""
    folder = tmp_path / "universes"
    folder.mkdir()
    (folder / "duo.yaml").write_text(TINY_BUCKET)
    (folder / "benchmarks.yaml").write_text(TINY_BENCH)
    return folder


def run_snapshot(out: Path, *extra: str) -> Path:
    """The README's main job, ``bucketmap run --prices sample --out OUT``, in a fresh interpreter
    printing to a 100-column terminal; what it printed is kept beside OUT (``OUT.stdout.txt``).
    The sample ships with the package (its closes are the snapshot's own for every ticker the
    default universes name: ``tests/backtest/test_sample.py``), so this runs on any clone."""
    proc = subprocess.run(
        [sys.executable, "-m", "bucketmap", "run", "--prices", "sample",
         "--out", str(out), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "100"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out.with_name(out.name + ".stdout.txt").write_text(proc.stdout)
    return out


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's main job on the shipped sample of real prices, run once per test session."""
    return run_snapshot(tmp_path_factory.mktemp("e2e") / "demo")
