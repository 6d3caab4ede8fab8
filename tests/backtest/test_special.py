"""Random and matched baskets: the basket simulation against the engine, plain pandas and bt; the
draws; the nulls' calibration on synthetic pools; their independence of the workers; no
look-ahead; and the pool's exclusions, counted by reason."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from backtest.conventions import Rebalance, Weighting
from backtest.evidence.special import (
    SpecialOptions,
    match_features,
    rank,
    special_for_claim,
)
from backtest.executor import Executor
from backtest.prices.pools import PoolPrices, eligible_on
from backtest.simulation.baskets import BasketWindow, basket_excess, draw_distinct
from backtest.simulation.engine import (
    BucketSpec,
    rebalance_positions,
    simulate_returns,
    trailing_volatility,
)
from backtest.simulation.prepare import PreparedRun, RunOptions, prepare_run
from buckets.models import Bucket, Claim, Member, Universe

# --- the simulation of one basket ------------------------------------------------------------


def _frame(n_days: int = 160, n_tickers: int = 12, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2024-01-01", periods=n_days)
    values = 100 * np.cumprod(1 + rng.normal(0.0003, 0.02, (n_days, n_tickers)), axis=0)
    frame = pd.DataFrame(values, index=index, columns=[f"T{i}" for i in range(n_tickers)])
    frame.iloc[100:, 3] = np.nan  # its prices stop: sold at the last close
    frame.iloc[50:53, 4] = np.nan  # a gap: valued at the previous close
    frame.iloc[:30, 5] = np.nan  # lists late: joins at the next rebalance
    return frame


def _window(frame: pd.DataFrame, rule: Rebalance, bench: np.ndarray, **kw: object) -> BasketWindow:
    mask = np.zeros(len(frame), dtype=bool)
    mask[rebalance_positions(pd.DatetimeIndex(frame.index), rule)] = True
    return BasketWindow.of(frame.to_numpy(), mask, bench, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("rule", list(Rebalance))
@pytest.mark.parametrize("weighting", [Weighting.equal, Weighting.custom, Weighting.inverse_vol])
@pytest.mark.parametrize("cost_bps", [0.0, 25.0])
def test_a_basket_is_the_engines_bucket_of_the_same_members(
    rule: Rebalance, weighting: Weighting, cost_bps: float
) -> None:
    """The compiled basket loop against the engine's simulation (itself held to vectorbt's at
    1e-12 in test_engines.py) on members that stop, gap and list late, every rule, costs."""
    frame = _frame()
    rng = np.random.default_rng(2)
    bench = pd.Series(rng.normal(0, 0.01, len(frame)), index=frame.index)
    cols = [0, 3, 4, 5, 7, 9]
    raw = [1.0, 2.0, 3.0, 1.0, 0.5, 2.0]
    tickers = [str(frame.columns[c]) for c in cols]
    weights = dict(zip(tickers, raw, strict=True)) if weighting is Weighting.custom else None
    vol = trailing_volatility(frame) if weighting is Weighting.inverse_vol else None
    engine = simulate_returns(
        frame,
        [BucketSpec("b", tickers, weights)],
        rebalance=rule,
        weighting=weighting,
        cost_bps=cost_bps,
        volatility=vol,
    )["b"]
    x = (np.log1p(engine) - np.log1p(bench)).dropna()
    bench_log = np.log1p(bench.to_numpy())
    bench_log[0] = np.nan
    window = _window(
        frame,
        rule,
        bench_log,
        vol=None if vol is None else vol.to_numpy(),
        cost=cost_bps / 10_000,
    )
    base = np.array(raw) if weights else None
    excess, days = basket_excess(window, np.array([cols]), base)
    assert days[0] == len(x)
    assert excess[0] == pytest.approx(math.expm1(x.sum()), abs=1e-12)


def test_baskets_equal_plain_pandas() -> None:
    """Daily rebalanced equal weight is the mean of the members' returns each day; buy and hold
    is the mean of their growth: by hand with pandas, many baskets at once."""
    rng = np.random.default_rng(3)
    index = pd.bdate_range("2025-01-01", periods=90)
    frame = pd.DataFrame(
        100 * np.cumprod(1 + rng.normal(0.0005, 0.02, (90, 30)), axis=0), index=index
    )
    bench = pd.Series(rng.normal(0, 0.01, 90), index=index)
    bench_log = np.log1p(bench.to_numpy())
    bench_log[0] = np.nan
    members = np.array([rng.choice(30, 5, replace=False) for _ in range(20)])
    for rule in (Rebalance.daily, Rebalance.none):
        got, _ = basket_excess(_window(frame, rule, bench_log), members)
        for row, m in zip(got, members, strict=True):
            prices = frame.iloc[:, m]
            if rule is Rebalance.daily:
                basket = prices.pct_change().mean(axis=1)
            else:
                basket = (prices / prices.iloc[0]).mean(axis=1).pct_change()
            want = (1 + basket.iloc[1:]).prod() / (1 + bench.iloc[1:]).prod() - 1
            assert row == pytest.approx(want, abs=1e-12)


@pytest.mark.filterwarnings("ignore:A future version of pandas:FutureWarning")
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
def test_baskets_equal_bt_to_its_whole_share_precision() -> None:
    """A handful of baskets against bt (``bt.Backtest`` per basket, equal weight, monthly at
    month ends, whole shares of $1e9): the total returns agree to bt's rounding."""
    bt = pytest.importorskip("bt")
    rng = np.random.default_rng(4)
    index = pd.bdate_range("2025-01-01", periods=130)
    frame = pd.DataFrame(
        100 * np.cumprod(1 + rng.normal(0.0005, 0.02, (130, 40)), axis=0),
        index=index,
        columns=[f"S{i}" for i in range(40)],
    )
    no_bench = np.zeros(len(index))
    no_bench[0] = np.nan
    members = np.array([rng.choice(40, 8, replace=False) for _ in range(4)])
    ours, _ = basket_excess(_window(frame, Rebalance.monthly, no_bench), members)
    for row, m in zip(ours, members, strict=True):
        prices = frame.iloc[:, m]
        when = bt.algos.Or([bt.algos.RunOnce(), bt.algos.RunMonthly(run_on_end_of_period=True)])
        algos = [when, bt.algos.SelectAll(), bt.algos.WeighEqually(), bt.algos.Rebalance()]
        result = bt.run(bt.Backtest(bt.Strategy("b", algos), prices, initial_capital=1e9))
        series = result.prices["b"]
        assert row == pytest.approx(series.iloc[-1] / series.iloc[0] - 1, abs=1e-6)


# --- draws -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n"), [(2, 5), (3, 40)])
def test_draws_are_distinct_and_uniform_over_ordered_tuples(k: int, n: int) -> None:
    """Both paths (permutation when k² > n, rejection otherwise): no repeats, and every position
    in every slot equally often (chi-square, fixed seed)."""
    rng = np.random.default_rng(7)
    draws = draw_distinct(rng, 40_000, k, n)
    assert (np.sort(draws, axis=1)[:, 1:] != np.sort(draws, axis=1)[:, :-1]).all()
    for slot in range(k):
        counts = np.bincount(draws[:, slot], minlength=n)
        assert stats.chisquare(counts).pvalue > 0.001


def test_rank_counts_ties_half_and_never_gives_p_zero() -> None:
    excess = np.array([0.1, 0.2, 0.2, 0.3])
    assert rank(excess, 0.2) == (50.0, (1 + 3) / 5)  # 0.2, 0.2 and 0.3 reach it
    assert rank(excess, 1.0) == (100.0, 1 / 5)


def test_match_features_by_hand() -> None:
    rng = np.random.default_rng(8)
    market = 100 * np.cumprod(1 + rng.normal(0, 0.01, 300))
    beta = 1.7
    own = 50 * np.cumprod(1 + beta * (market[1:] / market[:-1] - 1) + rng.normal(0, 0.005, 299))
    own = np.r_[50.0, own]
    got = match_features(own[:, None], market)[0]
    r = pd.Series(own).pct_change().iloc[-252:]
    m = pd.Series(market).pct_change().iloc[-252:]
    assert got[0] == pytest.approx(own[-1] / own[-253] - 1, rel=1e-12)
    assert got[1] == pytest.approx(r.cov(m) / m.var(), rel=1e-10)
    assert got[2] == pytest.approx(r.iloc[-63:].std(), rel=1e-10)
    short = np.r_[np.full(60, np.nan), own[60:]]
    assert np.isnan(match_features(short[:, None], market)).all()


# --- a synthetic pool and claim --------------------------------------------------------------

HISTORY, WINDOW = 280, 126


def _synthetic(
    seed: int, pool_size: int = 600, members: int = 10, drift: float = 0.0
) -> tuple[PreparedRun, Claim, PoolPrices, pd.DataFrame]:
    """A pool of one-factor stocks (betas 0.5–1.5, idiosyncratic σ 1–3% a day), a bucket of
    ``members`` of them drawn at random (``drift`` added to their daily returns in the claim's
    window), and the claim bucket vs SPY from the window's start."""
    rng = np.random.default_rng(seed)
    n = HISTORY + WINDOW
    index = pd.bdate_range("2023-01-02", periods=n)
    market = rng.normal(0.0003, 0.01, n)
    betas = rng.uniform(0.5, 1.5, pool_size)
    sigma = rng.uniform(0.01, 0.03, pool_size)
    returns = market[:, None] * betas + rng.normal(0, 1, (n, pool_size)) * sigma
    chosen = rng.choice(pool_size, members, replace=False)
    returns[HISTORY:, chosen] += drift
    tickers = [f"P{i:03d}" for i in range(pool_size)]
    closes = pd.DataFrame(100 * np.cumprod(1 + returns, axis=0), index=index, columns=tickers)
    spy = pd.Series(100 * np.cumprod(1 + market), index=index, name="SPY")
    start = index[HISTORY - 1].date()
    claim = Claim(
        id="b-beats-spy", source="t", statement="s", bucket="b", benchmark="SPY", start=start
    )
    bucket = Bucket(
        name="b",
        side="long",
        members=[Member(ticker=tickers[i], rationale="r") for i in chosen],
    )
    universe = Universe(buckets={"b": bucket}, benchmarks=["SPY"], claims=[claim])
    series = {t: closes[t] for t in bucket.tickers()}
    series["SPY"] = spy
    prepared = prepare_run(
        universe,
        series,
        RunOptions(start=index[HISTORY - 60].date(), rebalance=Rebalance.monthly),
        price_source="synthetic",
    )
    returns_frame = prepared.ticker_returns(["SPY"])
    pool = PoolPrices(name="synthetic", source="test", survivorship="all alive", prices=closes)
    return prepared, claim, pool, returns_frame


def _special(seed: int, baskets: int = 400, **kw: float) -> tuple[float, float]:
    prepared, claim, pool, returns = _synthetic(seed, **kw)  # type: ignore[arg-type]
    out = special_for_claim(
        claim, None, 0.05, prepared, returns, pool, SpecialOptions(baskets=baskets, seed=seed)
    )
    assert out is not None
    r, m = out.result.random, out.result.matched
    assert r.percentile is not None and m.percentile is not None, (r.reason, m.reason)
    return r.percentile / 100, m.percentile / 100


def test_a_bucket_drawn_at_random_ranks_uniformly() -> None:
    """Calibration: over 200 seeds a bucket that is itself a random draw from the pool ranks
    uniformly among the random and among the matched baskets (Kolmogorov–Smirnov, not rejected
    at 1%)."""
    ranks = np.array([_special(seed) for seed in range(200)])
    assert stats.kstest(ranks[:, 0], "uniform").pvalue > 0.01
    assert stats.kstest(ranks[:, 1], "uniform").pvalue > 0.01
    # and the false-positive rate of "p < 5%" is near 5% (binomial: 200 draws)
    assert (ranks[:, 0] > 0.95).mean() < 0.11


def test_a_bucket_with_a_planted_drift_ranks_in_the_top_five_percent() -> None:
    """Detection: +0.3% a day on the bucket's members over the window (about +45% over its 126
    days, some 3 standard deviations of a 10-member basket's spread here) puts it in the top 5%
    of both nulls in (nearly) every seed; at +0.2% a day it is about 90%."""
    ranks = np.array([_special(seed, drift=0.003) for seed in range(40)])
    assert (ranks[:, 0] > 0.95).mean() >= 0.95
    assert (ranks[:, 1] > 0.95).mean() >= 0.95


def test_the_bucket_is_simulated_as_the_run_simulates_it_with_daily_rebalancing() -> None:
    """With daily rebalancing and no costs a bucket bought at the claim's start has the run's
    path from then on, so its excess is the claim's (computed here from the run's returns)."""
    prepared, claim, pool, returns = _synthetic(11)
    options = RunOptions(start=prepared.options.start, rebalance=Rebalance.daily)
    prepared = prepare_run(prepared.universe, prepared.series, options, price_source="synthetic")
    from backtest.run import simulate_run

    run = simulate_run(prepared).returns
    out = special_for_claim(claim, None, 0.05, prepared, returns, pool, SpecialOptions(baskets=50))
    assert out is not None
    after = run.index > pd.Timestamp(claim.start)
    x = np.log1p(run.loc[after, "b"]) - np.log1p(returns.loc[after, "SPY"])
    assert out.result.bucket_excess == pytest.approx(math.expm1(x.sum()), abs=1e-12)


def test_baskets_csv_recomputes_the_percentile_and_p_value() -> None:
    prepared, claim, pool, returns = _synthetic(12)
    out = special_for_claim(claim, None, 0.05, prepared, returns, pool, SpecialOptions(baskets=300))
    assert out is not None
    table, sp = out.baskets, out.result
    assert sp.bucket_excess is not None
    for null in (sp.random, sp.matched):
        x = table.loc[table["null"] == null.kind, "excess"].to_numpy()
        assert len(x) == null.baskets == 300
        assert null.p_value == (1 + (x >= sp.bucket_excess).sum()) / 301
        assert null.percentile == pytest.approx(100 * (x < sp.bucket_excess).mean())
        assert null.median == float(np.median(x))
        assert sum(null.histogram_counts) == 300
    members = table["members"].str.split(" ")
    assert (members.map(len) == sp.members).all()
    assert (members.map(lambda m: len(set(m))) == sp.members).all()
    own = set(prepared.universe.buckets["b"].tickers())
    assert not any(own & set(m) for m in members)


def test_a_matched_basket_draws_each_member_from_its_own_cell() -> None:
    prepared, claim, pool, returns = _synthetic(13)
    out = special_for_claim(claim, None, 0.05, prepared, returns, pool, SpecialOptions(baskets=50))
    assert out is not None
    cells = out.result.matched.cells
    assert sum(len(c.tickers) for c in cells) == out.result.members
    assert all(c.candidates >= len(c.tickers) for c in cells)
    assert out.result.matched.unmatched == []


# --- independence of the workers, no look-ahead ------------------------------------------------


def test_the_same_seed_gives_the_same_baskets_on_1_2_and_4_workers_and_a_dask_cluster() -> None:
    distributed = pytest.importorskip("distributed")
    prepared, claim, pool, returns = _synthetic(14)
    options = SpecialOptions(baskets=900, seed=3, chunk_baskets=100)

    def baskets(executor: Executor) -> pd.DataFrame:
        out = special_for_claim(claim, None, 0.05, prepared, returns, pool, options, executor)
        assert out is not None
        return out.baskets

    one = baskets(Executor(workers=1))
    for workers in (2, 4):
        pd.testing.assert_frame_equal(baskets(Executor(workers=workers)), one)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        pd.testing.assert_frame_equal(baskets(Executor(scheduler=cluster.scheduler_address)), one)
    other = special_for_claim(
        claim, None, 0.05, prepared, returns, pool, SpecialOptions(baskets=900, seed=4)
    )
    assert other is not None and not other.baskets["members"].equals(one["members"])


def test_later_prices_move_nothing_in_a_closed_window() -> None:
    """A claim with an end: prices appended after it (to the pool and to the run) change no
    basket, no cell and no exclusion."""
    prepared, claim, pool, returns = _synthetic(15)
    index = prepared.shared
    end = index[HISTORY + 60].date()
    closed = claim.model_copy(update={"end": end})
    universe = prepared.universe.model_copy(update={"claims": [closed]})
    cut = {t: s.loc[: pd.Timestamp(end)] for t, s in prepared.series.items()}

    def special(series: dict[str, pd.Series], pool_prices: pd.DataFrame) -> object:
        run = prepare_run(universe, series, prepared.options, price_source="synthetic")
        pool_now = PoolPrices(name="p", source="t", survivorship="s", prices=pool_prices)
        out = special_for_claim(
            closed, None, 0.05, run, run.ticker_returns(["SPY"]), pool_now, SpecialOptions(200)
        )
        assert out is not None
        return out

    early = special(cut, pool.prices.loc[: pd.Timestamp(end)])
    late = special(dict(prepared.series), pool.prices)
    assert early.result == late.result  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(early.baskets, late.baskets)  # type: ignore[attr-defined]


# --- the pool's exclusions ---------------------------------------------------------------------


def test_every_excluded_member_is_counted_under_its_first_reason() -> None:
    index = pd.bdate_range("2024-01-01", periods=300)
    base = np.linspace(10, 20, 300)
    frame = pd.DataFrame({t: base.copy() for t in ["OK1", "OK2", "LATE", "GONE", "JUMP", "OWN"]})
    frame.index = index
    frame.loc[index[:200], "LATE"] = np.nan  # too little history before the start (260)
    frame.loc[index[250:], "GONE"] = np.nan  # no price on the start
    frame.loc[index[270], "JUMP"] = 200.0  # a one-day move of +1,000%
    frame.loc[index[280:], "OK2"] = np.nan  # stops inside the window: eligible, counted
    pool = PoolPrices(
        name="p",
        source="t",
        survivorship="s",
        prices=frame,
        excluded={"not clean prices": ["NEG"]},
    )
    got = eligible_on(pool, index, 260, 299, leave_out=["OWN"])
    assert got.tickers == ["OK1", "OK2"]
    assert got.stopped == 1
    assert got.excluded == {
        "from p's reading: not clean prices": ["NEG"],
        "a member of the bucket itself": ["OWN"],
        "no price on the claim's start day": ["GONE"],
        "fewer than 252 trading days of prices before the start": ["LATE"],
        "a one-day move beyond +500% (or its inverse down)": ["JUMP"],
    }
    assert pool.tickers_read == 7
    assert dt.date(2024, 1, 1) == index[0].date()
