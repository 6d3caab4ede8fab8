"""The README's main job on the real snapshot, cross-checked by an independent computation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


def reference_bucket_returns(prices: pd.DataFrame) -> pd.Series:
    """Equal weight, monthly rebalance, written from the README's rules with share counts.

    No vectorbt, no code of the project: buy equal values of the members priced on the first
    day; at each month's last trading day (not the final day) sell everything and buy equal
    values of the members priced that day; value = sum(shares × price).
    """
    days = prices.index
    month = days.to_period("M")
    month_end = np.r_[month[1:] != month[:-1], False]  # last day of each month, never the final
    shares: dict[str, float] = {}
    value_prev = 1.0
    out = {}
    for i, day in enumerate(days):
        row = prices.loc[day]
        if i > 0:
            value = sum(n * row[t] for t, n in shares.items())
            out[day] = value / value_prev - 1.0
            value_prev = value
        if i == 0 or month_end[i]:
            live = [t for t in prices.columns if not np.isnan(row[t])]
            shares = {t: value_prev / len(live) / row[t] for t in live}
    return pd.Series(out)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (ROOT.parent / "shared" / "prices" / "csv").is_dir():
        pytest.skip("../shared/prices/csv is not beside the repository")
    out = tmp_path_factory.mktemp("e2e") / "demo"
    # the README's command, as a user runs it
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bucketmap",
            "run",
            "--prices",
            "../shared/prices/csv",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_three_files_are_written(demo_run: Path) -> None:
    for name in ("results.json", "returns.csv", "report.html", "weights.csv"):
        assert (demo_run / name).stat().st_size > 0


def test_engine_matches_an_independent_share_count_simulation(demo_run: Path) -> None:
    returns = pd.read_csv(demo_run / "returns.csv", index_col="date", parse_dates=True)
    results = json.loads((demo_run / "results.json").read_text())
    start = pd.Timestamp(results["run"]["start"])
    end = pd.Timestamp(results["run"]["end"])
    for bucket in ("pipes", "inference_efficiency"):  # inference holds CBRS, listed 2026-05-14
        tickers = [m["ticker"] for m in results["buckets"][bucket]["members"]]
        prices = pd.DataFrame(
            {
                t: pd.read_csv(
                    ROOT.parent / "shared" / "prices" / "csv" / f"{t}.csv",
                    index_col="Date",
                    parse_dates=True,
                )["Close"]
                for t in tickers
            }
        ).loc[start:end]
        ref = reference_bucket_returns(prices)
        got = returns[bucket].loc[ref.index]
        assert np.max(np.abs(got.to_numpy() - ref.to_numpy())) < 1e-9, bucket


def test_results_are_recomputable_from_returns_csv(demo_run: Path) -> None:
    returns = pd.read_csv(demo_run / "returns.csv", index_col="date", parse_dates=True)
    results = json.loads((demo_run / "results.json").read_text())
    for name, bucket in results["buckets"].items():
        r = returns[name].dropna()
        assert bucket["metrics"]["total_return"] == pytest.approx((1 + r).prod() - 1, abs=1e-12)
        vol = r.std(ddof=1) * np.sqrt(252)
        assert bucket["metrics"]["volatility"] == pytest.approx(vol, rel=1e-12)
        for bench, rel in bucket["vs"].items():
            both = returns[[name, bench]].dropna()
            excess = (1 + both[name]).prod() - (1 + both[bench]).prod()
            assert rel["excess_total_return"] == pytest.approx(excess, abs=1e-12)


def test_late_listing_is_reported_and_never_back_filled(demo_run: Path) -> None:
    results = json.loads((demo_run / "results.json").read_text())
    members = {m["ticker"]: m for m in results["buckets"]["inference_efficiency"]["members"]}
    cbrs = members["CBRS"]
    assert cbrs["first_date"] == "2026-05-14"
    assert cbrs["joined"] == "2026-05-29"  # May's last trading day, the first rebalance after
    assert results["run"]["start"] == "2023-01-03"
    assert results["run"]["end"] == "2026-08-03"
    assert any("Survivorship" in x for x in results["run"]["limitations"])
    counts = results["buckets"]["pipes"]["status_counts"]
    assert counts == {"proposed": 16, "verified": 0, "rejected": 0}
