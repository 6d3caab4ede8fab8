"""Sweeps: each variant is the engine's bucket on a cut window, and its figures are the metrics'."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.conventions import Rebalance, Weighting
from backtest.evidence import metrics as m
from backtest.simulation.engine import BucketSpec, simulate_buckets
from backtest.simulation.prepare import PreparedRun, RunOptions, prepare_run
from backtest.sweep import grid_variants, run_sweep, sweep_summary, variant_metrics
from buckets.errors import RunConfigError
from buckets.files import load_universe
from buckets.models import SweepGrid


def _prepared(
    tmp_path: Path, closes: dict[str, list[float | None]], days: list[str], cost_bps: float = 0.0
) -> PreparedRun:
    folder = tmp_path / "universes"
    folder.mkdir()
    members = [t for t in closes if t != "SPY"]
    listed = "".join(f"  - ticker: {t}\n    status: proposed\n    rationale: r\n" for t in members)
    (folder / "duo.yaml").write_text(f"side: long\nmembers:\n{listed}")
    (folder / "benchmarks.yaml").write_text("benchmarks:\n  - SPY\n")
    index = pd.DatetimeIndex(days)
    series = {t: pd.Series(v, index=index, dtype="float64").dropna() for t, v in closes.items()}
    return prepare_run(
        load_universe(folder),
        series,
        RunOptions(start=index[0].date(), cost_bps=cost_bps),
        price_source="test",
    )


DAYS = ["2024-01-29", "2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02", "2024-02-05"]


def test_a_buy_and_hold_variant_by_hand(tmp_path: Path) -> None:
    # Start shifted by 1 day: bought 50/50 at the 01-30 close (A 10, B 20), held to 02-05
    # (A 15, B 20): 0.5 * 1.5 + 0.5 * 1.0 = 1.25 → +25%; SPY 100 → 110 → excess 1.25/1.1 - 1.
    prepared = _prepared(
        tmp_path,
        {
            "A": [8, 10, 11, 12, 13, 15],
            "B": [25, 20, 20, 20, 20, 20],
            "SPY": [90, 100, 101, 104, 108, 110],
        },
        DAYS,
    )
    grid = SweepGrid(weightings=["equal"], rebalances=["none"], shifts=[1], leave_one_out=False)
    (row,) = run_sweep(prepared, grid).table.to_dict("records")
    assert row["start"] == "2024-01-30"
    assert row["first_return"] == "2024-01-31"
    assert row["days"] == 4
    assert row["total_return"] == pytest.approx(0.25, abs=1e-12)
    assert row["benchmark_return"] == pytest.approx(0.10, abs=1e-12)
    assert row["excess_return"] == pytest.approx(1.25 / 1.1 - 1, abs=1e-12)


def _market(n: int, seed: int) -> tuple[dict[str, list[float | None]], list[str]]:
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2024-01-01", periods=n)
    closes: dict[str, list[float | None]] = {}
    for t in ["SPY", "AAA", "BBB", "CCC", "DDD"]:
        closes[t] = list(100 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, n))))
    closes["CCC"][:70] = [None] * 70  # lists late
    closes["DDD"][150:] = [None] * (n - 150)  # stops before the window ends
    closes["BBB"][40] = None  # a gap inside its life, on a shifted start day
    return closes, [d.date().isoformat() for d in days]


def test_every_variant_is_the_engine_on_its_cut_window(tmp_path: Path) -> None:
    closes, days = _market(200, seed=3)
    prepared = _prepared(tmp_path, closes, days)
    grid = SweepGrid(
        weightings=["equal", "inverse_vol"],
        rebalances=["weekly", "monthly", "none"],
        shifts=[0, 40, 75],
    )
    out = run_sweep(prepared, grid, keep_returns=True, chunk_columns=7)
    assert out.returns is not None
    table = out.table
    # 1 bucket × (1 + 4 dropped) × 2 × 3 × 3
    assert len(table) == 5 * 2 * 3 * 3
    vol = prepared.volatility()
    spy = prepared.window["SPY"].pct_change()
    for row in table.itertuples():
        tickers = [t for t in ("AAA", "BBB", "CCC", "DDD") if t != row.dropped]
        cut = prepared.window.iloc[row.shift :]
        sim = simulate_buckets(
            cut,
            [BucketSpec("v", tickers)],
            rebalance=Rebalance(row.rebalance),
            weighting=Weighting(row.weighting),
            volatility=vol.iloc[row.shift :],
        )
        expected = sim.returns["v"].reindex(prepared.calendar)
        got = out.returns[row.variant]
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)
        assert row.total_return == pytest.approx(m.total_return(expected), abs=1e-12)
        bucket, bench = m.shared_days(expected.dropna(), spy)
        ratio = (1 + m.total_return(bucket)) / (1 + m.total_return(bench)) - 1
        assert row.excess_return == pytest.approx(ratio, abs=1e-12)


def test_variants_that_share_a_path_are_each_the_engine_on_its_cut_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one chunk, costs, gaps, a member listing late and one stopping early, both weightings,
    # three rules: the shifts of a rebalanced variant share their path after their first common
    # rebalance, and each is still vectorbt's simulation of its own bucket from its own start
    import backtest.sweep as sweep_module

    closes, days = _market(200, seed=8)
    prepared = _prepared(tmp_path, closes, days, cost_bps=25.0)
    grid = SweepGrid(
        weightings=["equal", "inverse_vol"],
        rebalances=["weekly", "monthly", "none"],
        shifts=[0, 1, 2, 7, 40],
        leave_one_out=False,
    )
    seen: list[dict[int, tuple[int, int]]] = []
    original = sweep_module._shared_paths

    def spy(*args: object) -> dict[int, tuple[int, int]]:
        seen.append(original(*args))  # type: ignore[arg-type]
        return seen[-1]

    monkeypatch.setattr(sweep_module, "_shared_paths", spy)
    out = run_sweep(prepared, grid, keep_returns=True)
    assert out.returns is not None
    table = out.table
    (found,) = seen  # one chunk
    # every rebalanced variant but the first of its weighting and rule shares a path
    assert len(found) == 2 * 2 * 4
    assert set(table.iloc[sorted(found)]["rebalance"]) == {"weekly", "monthly"}
    vol = prepared.volatility()
    for row in table.itertuples():
        sim = simulate_buckets(
            prepared.window.iloc[row.shift :],
            [BucketSpec("v", ["AAA", "BBB", "CCC", "DDD"])],
            rebalance=Rebalance(row.rebalance),
            weighting=Weighting(row.weighting),
            cost_bps=25.0,
            volatility=vol.iloc[row.shift :],
        )
        expected = sim.returns["v"].reindex(prepared.calendar)
        got = out.returns[row.variant]
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)
    # and the table is that of every variant simulated over the whole window
    alone = run_sweep(prepared, grid, share_paths=False).table
    pd.testing.assert_frame_equal(table, alone, check_exact=False, rtol=1e-12, atol=1e-14)


def test_chunking_does_not_change_the_answer(tmp_path: Path) -> None:
    closes, days = _market(120, seed=4)
    prepared = _prepared(tmp_path, closes, days)
    grid = SweepGrid(rebalances=["monthly"], shifts=[0, 3])
    one = run_sweep(prepared, grid).table
    many = run_sweep(prepared, grid, chunk_columns=1).table
    pd.testing.assert_frame_equal(one, many)


def test_the_sweep_gives_the_same_table_on_local_processes(tmp_path: Path) -> None:
    """The sweep's chunks on 2 local processes (the executor the baskets use too): the same
    rows, in the same order, and progress reported for every chunk."""
    from backtest.executor import Executor

    closes, days = _market(120, seed=5)
    prepared = _prepared(tmp_path, closes, days)
    grid = SweepGrid(rebalances=["monthly", "none"], shifts=[0, 3])
    one = run_sweep(prepared, grid, chunk_columns=3).table
    seen: list[int] = []
    two = run_sweep(
        prepared,
        grid,
        chunk_columns=3,
        executor=Executor(workers=2),
        progress=lambda done, total: seen.append(done),
    ).table
    pd.testing.assert_frame_equal(one, two)
    assert seen == sorted(seen) and seen[-1] == len(one) and len(seen) > 2


def test_variant_figures_are_the_metrics_of_each_column() -> None:
    rng = np.random.default_rng(11)
    n = 300
    returns = rng.normal(0.0005, 0.02, (n, 3))
    returns[:50, 1] = np.nan  # starts late
    returns[250:, 2] = np.nan  # stops early
    bench = rng.normal(0.0003, 0.01, n)
    bench[100] = np.nan  # a benchmark gap: that day is left out of the excess only
    rf = np.full(n, 0.0001)
    got = variant_metrics(returns, bench, rf)
    idx = pd.bdate_range("2020-01-01", periods=n)
    b = pd.Series(bench, idx)
    for j in range(3):
        r = pd.Series(returns[:, j], idx).dropna()
        assert got["days"][j] == len(r)
        assert got["total_return"][j] == pytest.approx(m.total_return(r), rel=1e-12)
        assert got["cagr"][j] == pytest.approx(m.cagr(r), rel=1e-12)
        assert got["volatility"][j] == pytest.approx(m.volatility(r), rel=1e-12)
        assert got["sharpe"][j] == pytest.approx(m.sharpe(r, 0.0001), rel=1e-10)
        assert got["max_drawdown"][j] == pytest.approx(m.max_drawdown(r), rel=1e-12)
        rr, bb = m.shared_days(r, b)
        assert got["benchmark_return"][j] == pytest.approx(m.total_return(bb), rel=1e-12)
        expected = (1 + m.total_return(rr)) / (1 + m.total_return(bb)) - 1
        assert got["excess_return"][j] == pytest.approx(expected, rel=1e-10)


def test_grid_counts_and_bad_grids(tmp_path: Path) -> None:
    closes, days = _market(200, seed=5)
    prepared = _prepared(tmp_path, closes, days)
    grid = SweepGrid(weightings=["equal"], rebalances=["monthly", "quarterly"], shifts=[0, 1, 2])
    assert len(grid_variants(prepared, grid)) == (1 + 4) * 1 * 2 * 3
    assert len(grid_variants(prepared, grid.model_copy(update={"leave_one_out": False}))) == 6
    with pytest.raises(RunConfigError, match="no bucket nope"):
        grid_variants(prepared, grid.model_copy(update={"buckets": ["nope"]}))
    with pytest.raises(RunConfigError, match="shift 199 leaves fewer than 2 days"):
        grid_variants(prepared, grid.model_copy(update={"shifts": [199]}))
    with pytest.raises(RunConfigError, match="benchmark QQQ has no prices"):
        run_sweep(prepared, grid.model_copy(update={"benchmark": "QQQ"}))


def test_summary_by_hand() -> None:
    table = pd.DataFrame(
        {
            "bucket": ["a"] * 5 + ["b"],
            "excess_return": [-0.1, 0.0, 0.1, 0.2, 0.3, np.nan],
        }
    )
    a, b = sweep_summary(table).to_dict("records")
    assert a["variants"] == 5
    assert a["positive"] == pytest.approx(3 / 5)  # 0.0 is not positive
    assert a["min"] == -0.1 and a["max"] == 0.3
    assert a["p50"] == pytest.approx(0.1)
    assert a["p25"] == pytest.approx(0.0)  # linear: position 1 of 0..4
    assert a["p10"] == pytest.approx(-0.06)  # position 0.4: -0.1 + 0.4 * 0.1
    assert b["variants"] == 0 and np.isnan(b["positive"])


def test_a_sweep_is_counted_before_it_is_built(tmp_path: Path) -> None:
    from backtest.sweep import (
        BASE_BYTES,
        BYTES_PER_COLUMN_DAY,
        BYTES_PER_VARIANT,
        CHUNK_ARRAYS,
        sweep_size,
    )

    closes, days = _market(200, seed=5)
    prepared = _prepared(tmp_path, closes, days)
    grid = SweepGrid(weightings=["equal"], rebalances=["monthly", "quarterly"], shifts=[0, 1, 2])
    size = sweep_size(prepared, grid, chunk_columns=10)
    variants = grid_variants(prepared, grid)
    # 4 members: (the bucket + each left out) × 2 rebalances × 3 shifts; 4 + 4 × 3 columns per rule
    assert size.variants == len(variants) == 30
    assert size.member_columns == sum(len(v.tickers) for v in variants) == (4 + 4 * 3) * 6
    days_ = len(prepared.calendar)
    assert size.estimated_bytes == (
        BASE_BYTES
        + prepared.prices.size * 8
        + CHUNK_ARRAYS * days_ * 10 * 8
        + BYTES_PER_COLUMN_DAY * days_ * 96
        + BYTES_PER_VARIANT * 30
    )


def test_variant_figures_of_many_columns_with_gaps_are_each_columns_metrics() -> None:
    # columns that start and stop anywhere (one never starts, one has a single return), a
    # benchmark and a risk-free rate with gaps: each column's figures are the metrics of its
    # own returns (backtest.evidence.metrics, in pandas), whatever the other columns hold
    rng = np.random.default_rng(23)
    n, k = 260, 40
    idx = pd.bdate_range("2021-01-01", periods=n)
    returns = rng.normal(0.0004, 0.025, (n, k))
    for j in range(k):
        a, b = sorted(rng.integers(0, n + 1, 2))
        returns[:a, j] = np.nan
        returns[b:, j] = np.nan
    returns[:, 0] = np.nan
    returns[:, 1] = np.nan
    returns[100, 1] = 0.01
    bench = rng.normal(0.0003, 0.012, n)
    bench[rng.random(n) < 0.05] = np.nan
    rf = np.full(n, 0.0001)
    got = variant_metrics(returns, bench, rf)
    assert got["days"].dtype == np.int64
    b = pd.Series(bench, idx)
    for j in range(k):
        r = pd.Series(returns[:, j], idx).dropna()
        assert got["days"][j] == len(r)
        if r.empty:
            assert all(np.isnan(got[f][j]) for f in got if f != "days")
            continue
        assert got["total_return"][j] == pytest.approx(m.total_return(r), rel=1e-12, abs=1e-15)
        assert got["cagr"][j] == pytest.approx(m.cagr(r), rel=1e-12, abs=1e-15)
        assert got["max_drawdown"][j] == pytest.approx(m.max_drawdown(r), rel=1e-12, abs=1e-15)
        if len(r) < 2:
            assert np.isnan(got["volatility"][j]) and np.isnan(got["sharpe"][j])
        else:
            assert got["volatility"][j] == pytest.approx(m.volatility(r), rel=1e-12)
            assert got["sharpe"][j] == pytest.approx(m.sharpe(r, 0.0001), rel=1e-10)
        rr, bb = m.shared_days(r, b)
        if rr.empty:
            assert np.isnan(got["excess_return"][j])
            continue
        # a sum of log returns against a product of growth: they part by a few 1e-16 a day
        assert got["benchmark_return"][j] == pytest.approx(m.total_return(bb), abs=1e-13)
        expected = (1 + m.total_return(rr)) / (1 + m.total_return(bb)) - 1
        assert got["excess_return"][j] == pytest.approx(expected, abs=1e-13)
