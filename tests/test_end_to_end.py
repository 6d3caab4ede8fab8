"""The README's main job on the real prices (the shipped sample of the snapshot), cross-checked by an independent computation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import empyrical
import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, SAMPLE_PARQUET, run_snapshot

pytestmark = pytest.mark.e2e


def reference_bucket_returns(
    prices: pd.DataFrame, weigh: Callable[[pd.Timestamp, list[str]], dict[str, float]] | None = None
) -> pd.Series:
    """Monthly rebalance, written from the README's rules with share counts.

    No vectorbt, no code of the project: buy the members priced on the first day at their target
    weights (equal unless ``weigh`` says otherwise); at each month's last trading day (not the
    final day) sell everything and buy again; value = sum(shares × price).
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
            target = weigh(day, live) if weigh else {t: 1 / len(live) for t in live}
            shares = {t: value_prev * target[t] / row[t] for t in live}
    return pd.Series(out)


def test_every_file_is_written(demo_run: Path) -> None:
    names = ("results.json", "claims.json", "returns.csv", "variants.csv", "weights.csv")
    for name in (*names, "contributions.csv", "report.html", "summary.md"):
        assert (demo_run / name).stat().st_size > 0


def test_engine_matches_an_independent_share_count_simulation(demo_run: Path) -> None:
    returns = pd.read_csv(demo_run / "returns.csv", index_col="date", parse_dates=True)
    results = json.loads((demo_run / "results.json").read_text())
    start = pd.Timestamp(results["run"]["start"])
    end = pd.Timestamp(results["run"]["end"])
    for bucket in ("pipes", "inference_efficiency"):  # inference holds CBRS, listed 2026-05-14
        tickers = [m["ticker"] for m in results["buckets"][bucket]["members"]]
        prices = snapshot_closes(tickers).loc[start:end]
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
            growth_a, growth_b = (1 + both[name]).prod(), (1 + both[bench]).prod()
            assert rel["return_difference"] == pytest.approx(growth_a - growth_b, abs=1e-12)
            assert rel["excess_return"] == pytest.approx(growth_a / growth_b - 1, abs=1e-12)


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


def snapshot_closes(tickers: list[str]) -> pd.DataFrame:
    """The closes the run read, by plain pandas: the shipped sample's wide parquet (its values are
    the snapshot CSVs', tests/backtest/test_sample.py), each ticker from its first price on."""
    wide = pd.read_parquet(SAMPLE_PARQUET)
    return pd.DataFrame({t: wide[t].dropna() for t in tickers})


@pytest.fixture(scope="module")
def daily_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The main job with ``--daily-contributions``."""
    return run_snapshot(tmp_path_factory.mktemp("e2e-daily") / "demo", "--daily-contributions")


def test_the_daily_contributions_are_opt_in(demo_run: Path, daily_run: Path) -> None:
    assert not (demo_run / "contributions_daily.csv").exists()
    manifest = json.loads((daily_run / "manifest.json").read_text())
    assert "contributions_daily.csv" in manifest["files"]
    # the same run otherwise: its window table is the one written without the option
    for name in ("contributions.csv", "returns.csv", "weights.csv"):
        assert (daily_run / name).read_text() == (demo_run / name).read_text()


def test_contributions_csv_is_results_json_windows_contributions(demo_run: Path) -> None:
    table = pd.read_csv(demo_run / "contributions.csv")
    results = json.loads((demo_run / "results.json").read_text())
    windows = {w["name"]: (w["start"], w["end"]) for w in results["run"]["windows"]}
    expected = [
        (w, *windows[w], b, t, v)
        for w in windows
        for b, bucket in results["buckets"].items()
        for t, v in bucket["windows"][w]["contributions"].items()
    ]
    got = list(table.itertuples(index=False, name=None))
    assert got == expected  # every figure, to the last digit, in the run's window order
    assert table["window"].unique().tolist() == ["whole", "pre", "post"]


def test_windows_and_contributions_recompute_from_the_csv_files(daily_run: Path) -> None:
    demo_run = daily_run
    returns = pd.read_csv(demo_run / "returns.csv", index_col="date", parse_dates=True)
    daily = pd.read_csv(demo_run / "contributions_daily.csv", parse_dates=["date"])
    results = json.loads((demo_run / "results.json").read_text())
    windows = {w["name"]: w for w in results["run"]["windows"]}
    assert list(windows) == ["whole", "pre", "post"]
    assert (windows["pre"]["start"], windows["pre"]["end"]) == ("2025-01-27", "2026-01-27")
    assert windows["post"]["start"] == "2026-01-27"
    for name in ("pipes", "inference_efficiency", "gpu_merchant"):
        for w in ("pre", "post"):
            lo, hi = pd.Timestamp(windows[w]["start"]), pd.Timestamp(windows[w]["end"])
            r = returns.loc[(returns.index > lo) & (returns.index <= hi), name].dropna()
            got = results["buckets"][name]["windows"][w]
            assert got["metrics"]["total_return"] == pytest.approx((1 + r).prod() - 1, abs=1e-12)
            # contributions: Σ c_it × W_{t-1} per member, from contributions_daily.csv
            c = (
                daily[(daily["bucket"] == name)]
                .pivot(index="date", columns="ticker", values="contribution")
                .loc[r.index]
            )
            grown = (1 + r).cumprod().shift(1).fillna(1.0)
            expect = c.mul(grown, axis=0).sum()
            for ticker, value in got["contributions"].items():
                assert value == pytest.approx(expect[ticker], abs=1e-12)
            assert sum(got["contributions"].values()) == pytest.approx(
                got["metrics"]["total_return"], abs=1e-12
            )


def test_relative_metrics_match_empyrical_on_the_snapshot(demo_run: Path) -> None:
    returns = pd.read_csv(demo_run / "returns.csv", index_col="date", parse_dates=True)
    results = json.loads((demo_run / "results.json").read_text())
    both = returns[["pipes", "SMH"]].dropna()
    rel = results["buckets"]["pipes"]["vs"]["SMH"]
    assert rel["beta"] == pytest.approx(empyrical.beta(both["pipes"], both["SMH"]), rel=1e-10)
    te = (both["pipes"] - both["SMH"]).std(ddof=1) * np.sqrt(252)
    assert rel["tracking_error"] == pytest.approx(te, rel=1e-10)
    # Morningstar's capture: geometric mean monthly return in the months SMH rose (fell),
    # over SMH's, from plain pandas month ends
    months = both.resample("ME").apply(lambda x: (1 + x).prod() - 1)
    for key, side in (("up_capture", months["SMH"] > 0), ("down_capture", months["SMH"] < 0)):
        geo = (1 + months[side]).prod() ** (1 / side.sum()) - 1
        assert rel[key] == pytest.approx(geo["pipes"] / geo["SMH"], rel=1e-10)
    # the figures for pipes vs SPY over the whole run: 2.95 up, 0.34 down
    spy = results["buckets"]["pipes"]["vs"]["SPY"]
    assert (round(spy["up_capture"], 2), round(spy["down_capture"], 2)) == (2.95, 0.34)
    # Sharpe with the T-bill rate: IRX of the previous close / 100 / 252
    assert results["run"]["risk_free"].startswith("^IRX")
    irx = (
        snapshot_closes(["^IRX"])["^IRX"]
        .reindex(returns.index.union(snapshot_closes(["^IRX"]).index))
        .ffill()
        .shift(1)
        .reindex(returns.index)
        / 100
        / 252
    )
    x = (returns["pipes"] - irx).dropna()
    sharpe = x.mean() / x.std(ddof=1) * np.sqrt(252)
    assert results["buckets"]["pipes"]["metrics"]["sharpe"] == pytest.approx(sharpe, rel=1e-10)
    assert results["buckets"]["pipes"]["metrics"]["sharpe"] == pytest.approx(
        empyrical.sharpe_ratio(returns["pipes"].dropna(), risk_free=irx.dropna()), rel=1e-10
    )


def test_inverse_vol_matches_an_independent_simulation(tmp_path: Path) -> None:
    out = run_snapshot(tmp_path / "iv", "--weighting", "inverse_vol")
    returns = pd.read_csv(out / "returns.csv", index_col="date", parse_dates=True)
    results = json.loads((out / "results.json").read_text())
    assert results["run"]["weighting"] == "inverse_vol"
    tickers = [m["ticker"] for m in results["buckets"]["pipes"]["members"]]
    full = snapshot_closes(tickers)
    sigma = full.pct_change(fill_method=None).rolling(63, min_periods=63).std()

    def weigh(day: pd.Timestamp, live: list[str]) -> dict[str, float]:
        s = sigma.loc[day, live]
        known = s.dropna()
        w = {t: 1 / len(live) for t in live if t not in known.index}
        rest = len(known) / len(live)
        w.update((1 / known) / (1 / known).sum() * rest)
        return w

    start, end = pd.Timestamp(results["run"]["start"]), pd.Timestamp(results["run"]["end"])
    ref = reference_bucket_returns(full.loc[start:end], weigh)
    got = returns["pipes"].loc[ref.index]
    assert np.max(np.abs(got.to_numpy() - ref.to_numpy())) < 1e-9


def test_claims_have_verdicts_and_every_control_recomputable(demo_run: Path) -> None:
    import statsmodels.api as sm

    claims = json.loads((demo_run / "claims.json").read_text())
    returns = pd.read_csv(demo_run / "returns.csv", index_col="date", parse_dates=True)
    variants = pd.read_csv(demo_run / "variants.csv", index_col="date", parse_dates=True)
    assert claims["settings"]["seed"] == 0 and claims["settings"]["resamples"] == 10_000
    assert len(claims["claims"]) == 8
    for c in claims["claims"]:
        t = c["test"]
        assert t["verdict"] in ("supported", "refuted", "inconclusive"), c["id"]
        # the excess return: growth of the bucket over growth of the benchmark, days after start
        pair = returns.loc[returns.index > c["start"], [c["bucket"], c["benchmark"]]].dropna()
        if c["end"]:
            pair = pair.loc[: c["end"]]
        growth = (1 + pair).prod()
        assert t["days"] == len(pair)
        assert t["excess_return"] == pytest.approx(
            growth[c["bucket"]] / growth[c["benchmark"]] - 1, abs=1e-12
        )
        assert t["low"] < t["excess_return"] < t["high"]
        # placebo: as many shared days, ending at the claim date
        placebo = c["placebo"]["test"]
        assert placebo["days"] == t["days"] and placebo["end"] == c["start"]
        before = (
            returns.loc[: c["start"], [c["bucket"], c["benchmark"]]].dropna().iloc[-t["days"] :]
        )
        g = (1 + before).prod()
        assert placebo["excess_return"] == pytest.approx(
            g[c["bucket"]] / g[c["benchmark"]] - 1, abs=1e-12
        )
        # leave-one-out: each column of variants.csv recomputes its excess return
        for m in c["leave_one_out"]["members"]:
            both = pd.concat([variants[m["column"]], returns[c["benchmark"]]], axis=1)
            both = both.loc[pair.index].dropna()
            g = (1 + both).prod()
            assert m["excess_return"] == pytest.approx(g.iloc[0] / g.iloc[1] - 1, abs=1e-12)
        flips = [m["ticker"] for m in c["leave_one_out"]["members"] if m["verdict"] != t["verdict"]]
        assert c["leave_one_out"]["flips"] == flips
        # beta-adjusted alpha: statsmodels OLS on the same days, × 252
        rows = returns.loc[pair.index, [c["bucket"], "SPY", "SMH"]].dropna()
        fit = sm.OLS(rows[c["bucket"]], sm.add_constant(rows[["SPY", "SMH"]])).fit()
        beta = c["beta_adjusted"]
        assert beta["alpha"] == pytest.approx(fit.params["const"] * 252, rel=1e-9)
        assert beta["betas"]["SMH"] == pytest.approx(fit.params["SMH"], rel=1e-9)
        # robustness: 2 weightings × 2 rebalances × 4 start shifts
        grid = c["robustness"]["variants"]
        assert len(grid) == 16
        assert c["robustness"]["agree"] == sum(v["verdict"] == t["verdict"] for v in grid)
    # the grid's equal/monthly/shift-0 cell is the run itself (the run is equal weight, monthly)
    first = claims["claims"][0]
    cell = next(
        v
        for v in first["robustness"]["variants"]
        if (v["weighting"], v["rebalance"], v["shift"]) == ("equal", "monthly", 0)
    )
    assert cell["excess_return"] == pytest.approx(first["test"]["excess_return"], abs=1e-9)
    assert cell["verdict"] == first["test"]["verdict"]


def test_the_readme_shows_the_verdict_table_the_tool_prints(demo_run: Path) -> None:
    from backtest.results import ClaimsResult
    from reports.summary import claims_markdown

    result = ClaimsResult.model_validate_json((demo_run / "claims.json").read_text())
    readme = (ROOT / "README.md").read_text()
    assert claims_markdown(result) in readme, "update README's verdict table: " + claims_markdown(
        result
    )
    assert f"data to {result.data_last_date}" in readme


def test_the_terminal_output_fits_100_columns_and_cuts_no_claim(demo_run: Path) -> None:
    printed = demo_run.with_name(demo_run.name + ".stdout.txt").read_text()
    lines = printed.splitlines()
    assert max(len(line) for line in lines) <= 100
    claims = json.loads((demo_run / "claims.json").read_text())["claims"]
    table = [line for line in lines if line.startswith("  ") and "inconclusive" in line]
    for claim in claims:
        # each claim's row starts with its whole id and holds its whole verdict
        row = next(line for line in table if line.split()[0] == claim["id"])
        assert f" {claim['verdict']} " in row
    assert lines[0].startswith("bucketmap run: 2023-01-03 → 2026-08-03 (data to 2026-08-03);")


def test_the_readme_shows_the_answer_as_printed(demo_run: Path) -> None:
    printed = demo_run.with_name(demo_run.name + ".stdout.txt").read_text()
    # as printed, but for the spaces rich pads each line with
    block = "\n".join(line.rstrip() for line in printed[: printed.index("wrote ")].splitlines())
    block = block.rstrip()
    readme = (ROOT / "README.md").read_text()
    assert block in readme, "update the README's answer block:\n" + block
