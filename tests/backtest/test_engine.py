"""Engine conventions on tiny tables whose answers are worked out by hand in each test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtest.simulation.calendar import Rebalance
from backtest.simulation.engine import (
    BucketSpec,
    Weighting,
    returns_from_values,
    simulate_buckets,
    target_weights,
)
from tests.conftest import frame


def total(r: pd.Series) -> float:
    return float((1 + r.dropna()).prod() - 1)


def test_two_members_one_doubles_one_flat_monthly() -> None:
    # A: 10 → 20 over February, then 20 → 40 in March; B flat at 5. Equal weight, monthly.
    # Bought 50/50 at the close of 01-30. Jan-31 is a month end: rebalance (no drift yet).
    # 02-15: A +50%  → bucket 0.5*1.5 + 0.5 = 1.25      r = 0.25
    # 02-29: A 20    → 0.5*2 + 0.5 = 1.5 of 1.0         r = 1.5/1.25 - 1 = 0.2  (then reset 50/50)
    # 03-15: flat                                       r = 0
    # 03-28: A 40    → 0.5*2 + 0.5 = 1.5                r = 0.5
    # total = 1.25 * 1.2 * 1.5 - 1 = 1.25
    p = frame(
        ["2024-01-30", "2024-01-31", "2024-02-15", "2024-02-29", "2024-03-15", "2024-03-28"],
        A=[10, 10, 15, 20, 20, 40],
        B=[5, 5, 5, 5, 5, 5],
    )
    sim = simulate_buckets(p, [BucketSpec("x", ["A", "B"])], rebalance=Rebalance.monthly)
    r = sim.returns["x"]
    assert np.isnan(r.iloc[0])  # no return on the day of purchase
    np.testing.assert_allclose(r.iloc[1:].to_numpy(), [0.0, 0.25, 0.2, 0.0, 0.5], atol=1e-12)
    assert total(r) == pytest.approx(1.25, abs=1e-9)


def test_no_rebalance_lets_weights_drift() -> None:
    # Buy and hold 50/50: A doubles twice (×4), B flat → 0.5*4 + 0.5 = 2.5, total +150%.
    p = frame(
        ["2024-01-30", "2024-01-31", "2024-02-29", "2024-03-28"],
        A=[10, 10, 20, 40],
        B=[5, 5, 5, 5],
    )
    sim = simulate_buckets(p, [BucketSpec("x", ["A", "B"])], rebalance=Rebalance.none)
    assert total(sim.returns["x"]) == pytest.approx(1.5, abs=1e-9)


def test_daily_rebalance_is_mean_of_member_returns() -> None:
    # daily: each day's return is the plain average of the members' returns
    # day 1: A +10%, B -10% → 0;  day 2: A +0%, B +20% → 10%;  total = 1.0 * 1.1 - 1 = 0.1
    p = frame(
        ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"],
        A=[10, 11, 11, 11],
        B=[10, 9, 10.8, 10.8],
    )
    sim = simulate_buckets(p, [BucketSpec("x", ["A", "B"])], rebalance=Rebalance.daily)
    np.testing.assert_allclose(sim.returns["x"].iloc[1:3].to_numpy(), [0.0, 0.1], atol=1e-12)


@pytest.mark.parametrize(
    ("rebalance", "expected"),
    [
        # prices: A 10 (01-02), 20 (Fri 01-05), 20 (Wed 01-31), 10 (Fri 02-02); B flat at 10.
        # weekly: Friday 01-05 closes a week; the week of 01-31 closes on 02-02, the last day,
        #   which never rebalances. 01-05: 0.5*2 + 0.5 = 1.5, reset 50/50; 02-02: A halves →
        #   0.5*0.5 + 0.5 = 0.75 of it → total 1.5 * 0.75 - 1 = 0.125
        ("weekly", 0.125),
        # monthly: 01-31 is the only month end before the last day; drift until then:
        #   01-31: 1.5; reset 50/50; 02-02: A halves → 0.75 → 1.5*0.75 - 1 = 0.125
        ("monthly", 0.125),
        # quarterly: no quarter end in the window → buy and hold: A back to 10 → total 0
        ("quarterly", 0.0),
    ],
)
def test_rebalance_frequencies(rebalance: str, expected: float) -> None:
    p = frame(
        ["2024-01-02", "2024-01-05", "2024-01-31", "2024-02-02"],
        A=[10, 20, 20, 10],
        B=[10, 10, 10, 10],
    )
    sim = simulate_buckets(p, [BucketSpec("x", ["A", "B"])], rebalance=Rebalance(rebalance))
    assert total(sim.returns["x"]) == pytest.approx(expected, abs=1e-9)


def test_late_listing_joins_at_first_rebalance_after_its_first_price() -> None:
    # C starts trading 02-15 at 100 and doubles by 02-20; it must not be held before the
    # 02-29 month end. A and B flat, so the bucket is flat until C joins.
    # 02-29: rebalance to 1/3 each. 03-28: C 300 → 150% of its 02-29 price 200:
    #   1/3*1.5 + 2/3 = 1 1/6 → total = 1/6
    p = frame(
        ["2024-01-31", "2024-02-15", "2024-02-20", "2024-02-29", "2024-03-28"],
        A=[10, 10, 10, 10, 10],
        B=[5, 5, 5, 5, 5],
        C=[None, 100, 200, 200, 300],
    )
    sim = simulate_buckets(p, [BucketSpec("x", ["A", "B", "C"])], rebalance=Rebalance.monthly)
    r = sim.returns["x"]
    np.testing.assert_allclose(r.iloc[1:3].to_numpy(), [0.0, 0.0], atol=1e-12)
    assert total(r) == pytest.approx(1 / 6, abs=1e-9)
    span = sim.members["x"]["C"]
    assert span.first_price == pd.Timestamp("2024-02-15")
    assert span.joined == pd.Timestamp("2024-02-29")
    w = sim.weights[sim.weights["date"] == pd.Timestamp("2024-02-29")].set_index("ticker")
    np.testing.assert_allclose(w["weight"].to_numpy(), [1 / 3] * 3, atol=1e-12)


def test_member_that_stops_is_sold_and_proceeds_spread_pro_rata() -> None:
    # Buy and hold (no rebalance) A, B, C at 1/3 each. On 01-03 A has doubled: holdings
    # 2/3, 1/3, 1/3 (of 1 invested) = 4/3. C's last price is 01-03: sold at that close, its 1/3
    # is spread over A and B by value (2:1): A 2/3 + 2/9 = 8/9, B 1/3 + 1/9 = 4/9.
    # 01-04: A +50%, B flat → 8/9*1.5 + 4/9 = 16/9 → r = (16/9)/(4/3) - 1 = 1/3.
    # Had C's money been spread equally, A would have 2/3+1/6 = 5/6 → r = 0.3125 instead.
    p = frame(
        ["2024-01-02", "2024-01-03", "2024-01-04"],
        A=[10, 20, 30],
        B=[10, 10, 10],
        C=[10, 10, None],
    )
    sim = simulate_buckets(p, [BucketSpec("x", ["A", "B", "C"])], rebalance=Rebalance.none)
    r = sim.returns["x"]
    assert r.iloc[1] == pytest.approx(1 / 3, abs=1e-12)
    assert r.iloc[2] == pytest.approx(1 / 3, abs=1e-12)
    assert sim.members["x"]["C"].exited == pd.Timestamp("2024-01-03")
    sold = sim.weights[sim.weights["date"] == pd.Timestamp("2024-01-03")].set_index("ticker")
    np.testing.assert_allclose(sold["weight"].to_numpy(), [2 / 3, 1 / 3, 0.0], atol=1e-12)


def test_gap_inside_a_members_life_is_valued_at_the_previous_close() -> None:
    # B misses 01-03; it is held at 10 that day, then 12 on 01-04.
    # daily rebalance: 01-03: A +10%, B 0 → 5%; 01-04: A 0%, B +20% vs its last close → 10%
    p = frame(["2024-01-02", "2024-01-03", "2024-01-04"], A=[10, 11, 11], B=[10, None, 12])
    sim = simulate_buckets(p, [BucketSpec("x", ["A", "B"])], rebalance=Rebalance.daily)
    np.testing.assert_allclose(sim.returns["x"].iloc[1:].to_numpy(), [0.05, 0.1], atol=1e-12)


def test_costs_are_charged_on_traded_value() -> None:
    # One member, 100 bps: buying 1 of cash leaves 1/1.01 invested (fees on what is bought).
    # Price +10% → value 1.1/1.01; first return is measured against the cash put in.
    p = frame(["2024-01-02", "2024-01-03"], A=[10, 11])
    sim = simulate_buckets(p, [BucketSpec("x", ["A"])], rebalance=Rebalance.none, cost_bps=100)
    assert sim.returns["x"].iloc[1] == pytest.approx(1.1 / 1.01 - 1, abs=1e-12)


def test_costs_are_shared_pro_rata_at_inception() -> None:
    # 100 bps, two members bought with 1 of cash: both hold 0.5 / 1.01 (fees 0.01 / 1.01, no
    # cash left). A +10%, B flat → r = (0.5 × 1.1 + 0.5) / 1.01 − 1. Charged in sequence, the
    # member bought last would absorb the fees: 1.04 − 1 or 1.0401 − 1, depending on the order.
    p = frame(["2024-01-02", "2024-01-03"], A=[10, 11], B=[10, 10])
    sim = simulate_buckets(p, [BucketSpec("x", ["A", "B"])], rebalance=Rebalance.none, cost_bps=100)
    assert sim.returns["x"].iloc[1] == pytest.approx(1.05 / 1.01 - 1, abs=1e-12)
    c = sim.contributions["x"]
    assert c.loc["2024-01-03", "A"] == pytest.approx(0.05 / 1.01, abs=1e-12)


def test_a_rebalance_leaves_every_member_at_its_weight_of_what_the_fees_leave() -> None:
    # 100 bps, rebalanced daily. 01-03: A +50% → the bucket finds 0.6 / 0.4 and trades back to
    # 0.5 / 0.5 of k × V: sell 0.6 − 0.5k, buy 0.5k − 0.4, fees 0.01 × 0.2 → k = 0.998.
    # r(01-03) = 1.25 × 0.998 / 1.01 − 1 (inception fees, then this rebalance's at its close);
    # r(01-04): A +20%, B flat, both at half of the bucket → exactly +10%.
    p = frame(["2024-01-02", "2024-01-03", "2024-01-04"], A=[10, 15, 18], B=[10, 10, 10])
    sim = simulate_buckets(
        p, [BucketSpec("x", ["A", "B"])], rebalance=Rebalance.daily, cost_bps=100
    )
    r = sim.returns["x"]
    assert r.iloc[1] == pytest.approx(1.25 * 0.998 / 1.01 - 1, abs=1e-12)
    assert r.iloc[2] == pytest.approx(0.10, abs=1e-12)


def test_custom_weights_are_normalised_over_live_members() -> None:
    # weights 3:1 → 0.75/0.25; A +20%, B 0 → r = 0.15
    p = frame(["2024-01-02", "2024-01-03"], A=[10, 12], B=[10, 10])
    spec = BucketSpec("x", ["A", "B"], {"A": 3.0, "B": 1.0})
    sim = simulate_buckets(p, [spec], rebalance=Rebalance.none, weighting=Weighting.custom)
    assert sim.returns["x"].iloc[1] == pytest.approx(0.15, abs=1e-12)


def test_bucket_starts_when_its_first_member_does_and_is_nan_before() -> None:
    # Only member lists on 01-04: bucket inception 01-04, first return 01-05.
    p = frame(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"], A=[None, None, 10, 11])
    sim = simulate_buckets(p, [BucketSpec("x", ["A"])], rebalance=Rebalance.monthly)
    r = sim.returns["x"]
    assert r.iloc[:3].isna().all()
    assert r.iloc[3] == pytest.approx(0.1, abs=1e-12)
    assert sim.inception["x"] == pd.Timestamp("2024-01-04")


def test_member_without_prices_is_never_held_and_says_why() -> None:
    p = frame(["2024-01-02", "2024-01-03"], A=[10, 11], B=[None, None])
    weights, spans = target_weights(p, Rebalance.monthly)
    assert spans["B"].joined is None
    assert spans["B"].reason == "no prices in the window"
    assert weights["B"].eq(0).all()


def test_several_buckets_in_one_simulation_do_not_interact() -> None:
    # the same ticker in two buckets: each bucket has its own cash
    p = frame(["2024-01-02", "2024-01-03"], A=[10, 12], B=[10, 9])
    sim = simulate_buckets(
        p, [BucketSpec("x", ["A"]), BucketSpec("y", ["A", "B"])], rebalance=Rebalance.monthly
    )
    assert sim.returns["x"].iloc[1] == pytest.approx(0.2, abs=1e-12)
    assert sim.returns["y"].iloc[1] == pytest.approx(0.05, abs=1e-12)  # (0.2 - 0.1) / 2


def test_contributions_sum_to_the_daily_return_and_split_by_member() -> None:
    # 50/50 monthly; day 1: A +20%, B -10% → A adds 0.5*0.2 = 0.10, B −0.05, r = 0.05
    p = frame(["2024-01-02", "2024-01-03", "2024-01-04"], A=[10, 12, 12], B=[10, 9, 9])
    sim = simulate_buckets(p, [BucketSpec("x", ["A", "B"])], rebalance=Rebalance.monthly)
    c = sim.contributions["x"]
    assert c.loc["2024-01-03", "A"] == pytest.approx(0.10, abs=1e-12)
    assert c.loc["2024-01-03", "B"] == pytest.approx(-0.05, abs=1e-12)
    assert c.loc["2024-01-03", "costs"] == pytest.approx(0.0, abs=1e-12)


def test_with_costs_the_rest_is_costs_and_rows_still_sum() -> None:
    p = frame(["2024-01-02", "2024-01-03", "2024-01-04"], A=[10, 12, 12], B=[10, 9, 9])
    sim = simulate_buckets(
        p, [BucketSpec("x", ["A", "B"])], rebalance=Rebalance.monthly, cost_bps=10
    )
    c = sim.contributions["x"]
    # the initial purchase's fees (≈ 10 bps of 1) fall on the first return day
    assert c.loc["2024-01-03", "costs"] == pytest.approx(-0.001, rel=1e-3)
    assert c.loc["2024-01-04", "costs"] == 0.0  # no trade that day
    np.testing.assert_allclose(c.sum(axis=1).iloc[1:], sim.returns["x"].iloc[1:], atol=1e-15)


def test_inverse_vol_weights_by_hand() -> None:
    from backtest.simulation.engine import _inverse_vol_weights

    live = np.array([True, True, True, False])
    vol = np.array([0.01, 0.02, np.nan, 0.5])
    # n = 3 live; C has no σ → 1/3; A and B share 2/3 by 1/σ = 100 : 50 → 4/9 and 2/9
    np.testing.assert_allclose(_inverse_vol_weights(live, vol), [4 / 9, 2 / 9, 1 / 3, 0.0])


def test_inverse_vol_uses_only_the_past_lookback() -> None:
    from backtest.simulation.engine import trailing_volatility

    # A alternates ±2%, B ±1% for 4 days: with a 3-day lookback σ_A = 2σ_B → weights 1/3, 2/3
    p = frame(
        ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"],
        A=[100, 102, 99.96, 101.9592, 50],
        B=[100, 101, 99.99, 100.9899, 100],
    )
    vol = trailing_volatility(p, lookback=3)
    targets, _ = target_weights(p.iloc[3:], Rebalance.none, volatility=vol)
    np.testing.assert_allclose(targets.iloc[0].to_numpy(), [1 / 3, 2 / 3], rtol=1e-9)
    # the crash on 01-08 comes after the weights were set: it does not change them
    assert np.isnan(vol.iloc[:3].to_numpy()).all()


def test_one_missing_quote_does_not_cost_a_member_its_volatility() -> None:
    from backtest.simulation.engine import trailing_volatility

    # A misses one quote 30 days before the rebalance (day 99 of the history): its σ comes from
    # its last 63 returns between quotes (the one across the gap included), not 1/n for 63 days
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2024-01-01", periods=100, name="date")
    a = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 100)))
    b = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 100)))
    p = pd.DataFrame({"A": a, "B": b}, index=days)
    p.iloc[69, 0] = np.nan
    # bought at the close of day 98 (0-based), with σ known then: by hand, the last 63 returns
    # between A's own quotes up to that day
    quotes = p["A"].iloc[:99].dropna()
    sigma_a = quotes.pct_change().iloc[-63:].std(ddof=1)
    sigma_b = p["B"].iloc[:99].pct_change().iloc[-63:].std(ddof=1)
    vol = trailing_volatility(p)
    assert vol["A"].iloc[98] == pytest.approx(sigma_a, rel=1e-12)
    assert vol["A"].iloc[69] == pytest.approx(vol["A"].iloc[68], rel=1e-12)  # the gap day
    targets, _ = target_weights(p.iloc[-2:], Rebalance.none, volatility=vol.iloc[-2:])
    expected = np.array([1 / sigma_a, 1 / sigma_b]) / (1 / sigma_a + 1 / sigma_b)
    np.testing.assert_allclose(targets.iloc[0].to_numpy(), expected, rtol=1e-9)


@pytest.mark.parametrize("cost_bps", [0.0, 25.0])
def test_large_buckets_trade_in_the_order_vectorbt_would_choose(
    cost_bps: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Above AUTO_CALL_SEQ_LIMIT members the sells-first order is computed by the engine instead of
    # by vectorbt's quadratic sort. Both give the same bucket, with costs too: fees are charged
    # pro rata, so no member's purchase depends on its place in the order.
    import backtest.simulation.engine as engine

    rng = np.random.default_rng(7)
    days = pd.bdate_range("2024-01-01", periods=130)
    n = engine.AUTO_CALL_SEQ_LIMIT + 6
    paths = 50 * np.exp(np.cumsum(rng.normal(0, 0.03, (len(days), n)), axis=0))
    p = pd.DataFrame(paths, index=days, columns=[f"T{i}" for i in range(n)])
    p.iloc[:40, 3] = np.nan  # lists late
    p.iloc[90:, 5] = np.nan  # stops early
    spec = [BucketSpec("x", list(p.columns))]
    computed = simulate_buckets(p, spec, rebalance=Rebalance.weekly, cost_bps=cost_bps)
    monkeypatch.setattr(engine, "AUTO_CALL_SEQ_LIMIT", 10_000)
    auto = simulate_buckets(p, spec, rebalance=Rebalance.weekly, cost_bps=cost_bps)
    np.testing.assert_allclose(computed.returns["x"], auto.returns["x"], rtol=0, atol=1e-12)


def test_a_bucket_with_nothing_to_hold_has_no_returns_and_says_why() -> None:
    # B has no price in the window: its bucket never starts; the other bucket is unaffected
    p = frame(["2024-01-02", "2024-01-03"], A=[10, 11], B=[None, None])
    sim = simulate_buckets(p, [BucketSpec("x", ["A"]), BucketSpec("y", ["B"])])
    assert sim.returns["y"].isna().all()
    assert sim.inception["y"] is None
    assert sim.members["y"]["B"].reason == "no prices in the window"
    assert sim.returns["x"].iloc[1] == pytest.approx(0.1, abs=1e-12)
    weights, spans = target_weights(p[["B"]], Rebalance.monthly)
    assert weights.empty and spans["B"].joined is None


@pytest.mark.parametrize("cost_bps", [0.0, 30.0])
@pytest.mark.parametrize("weighting", [Weighting.equal, Weighting.inverse_vol])
def test_as_of_returns_are_the_engine_run_on_the_prices_up_to_each_day(
    cost_bps: float, weighting: Weighting
) -> None:
    # one vectorbt call must give, for each end, what the engine gives on the window cut there:
    # with a late lister, a member that stops, one with a gap that the cut turns into a stop,
    # month ends that are (or, cut, are not) rebalance days, and costs on those days
    from backtest.simulation.engine import simulate_as_of

    rng = np.random.default_rng(21)
    days = pd.bdate_range("2024-01-01", periods=160)
    paths = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, (160, 5)), axis=0))
    p = pd.DataFrame(paths, index=days, columns=["A", "B", "C", "D", "E"])
    p.iloc[:30, 1] = np.nan  # B lists late
    p.iloc[110:, 2] = np.nan  # C stops
    p.iloc[[73, 74, 121], 3] = np.nan  # D has gaps
    specs = [BucketSpec("x", ["A", "B", "C", "D"]), BucketSpec("y", ["D", "E"])]
    month_ends = [i for i in range(1, 159) if days[i].month != days[i + 1].month]
    ends = sorted({40, 72, 73, 74, 109, 110, 120, 121, 159, *month_ends[:3]})
    got = simulate_as_of(p, specs, ends, weighting=weighting, cost_bps=cost_bps)
    for e in ends:
        cut = simulate_buckets(p.iloc[: e + 1], specs, weighting=weighting, cost_bps=cost_bps)
        pd.testing.assert_frame_equal(got[e], cut.returns, check_exact=False, atol=1e-12, rtol=0)


def test_price_life_fills_gaps_inside_a_life_only_as_pandas_ffill_would() -> None:
    # late lister, gaps (one at the very end of a life), a stop, a ticker never priced, and a
    # gapless one: filled is pandas' ffill limited to each ticker's first..last priced day
    from backtest.simulation.engine import PriceLife

    days = pd.bdate_range("2024-01-01", periods=8)
    p = pd.DataFrame(
        {
            "late": [None, None, 3, 4, 5, 6, 7, 8],
            "gaps": [1, None, None, 4, 5, None, 7, None],
            "stop": [1, 2, 3, None, None, None, None, None],
            "never": [None] * 8,
            "whole": [1, 2, 3, 4, 5, 6, 7, 8],
            "both": [None, 2, None, 4, None, None, 7, None],
        },
        index=days,
        dtype="float64",
    )
    expected = p.ffill().where(p.bfill().notna()).to_numpy()
    life = PriceLife.of(p)
    np.testing.assert_array_equal(life.filled, expected)
    assert not life.filled.flags.writeable
    gapless = PriceLife.of(p[["late", "stop", "whole"]])
    np.testing.assert_array_equal(gapless.filled, p[["late", "stop", "whole"]].to_numpy())


def test_returns_from_values_by_hand() -> None:
    # three buckets on four days: bought at the close of day 0 and held to the end; bought on
    # day 1 and ended on day 2 (its last live member's last price); never bought (-1)
    values = np.array([[1.0, 1.0, 1.0], [1.1, 1.0, 1.0], [1.21, 0.9, 1.0], [0.605, 0.99, 1.0]])
    got = returns_from_values(values, np.array([0, 1, -1]), np.array([3, 2, 3]))
    nan = np.nan
    expected = np.array(
        [[nan, nan, nan], [0.1, nan, nan], [1.21 / 1.1 - 1, 0.9 - 1, nan], [-0.5, nan, nan]]
    )
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got[~np.isnan(got)], expected[~np.isnan(expected)], rtol=1e-15)


def test_the_numpy_and_compiled_values_and_returns_are_the_same_bits() -> None:
    """Small simulations take their daily values and returns from numpy, big ones from the
    compiled loops (no compile for a small run); both must give the same bits, on gaps, late
    and early lives, groups without members, events before and after the days, zero values."""
    from backtest.simulation import kernels
    from backtest.simulation.engine import group_values

    rng = np.random.default_rng(11)
    for case in range(150):
        n_days, n_tickers = int(rng.integers(1, 60)), int(rng.integers(1, 7))
        closes = rng.uniform(1, 300, (n_days, n_tickers))
        closes[rng.random(closes.shape) < 0.3] = np.nan
        if case % 2:
            closes = np.asfortranarray(closes)  # as pandas lays out a frame
        lens = rng.integers(0, 5, int(rng.integers(1, 5)))
        cols = rng.integers(0, n_tickers, int(lens.sum()))
        rows = np.unique(rng.integers(0, n_days + (case % 3), int(rng.integers(0, 6))))
        held = rng.uniform(0, 1e7, (len(rows), len(cols)))
        cash = rng.uniform(-1e3, 1e9, (len(rows), len(lens)))
        args = (closes, cols, lens, rows, held, cash, 1e9)
        mine, compiled = group_values(*args), kernels.group_values_nb(*args)
        assert mine.tobytes() == compiled.tobytes()

        values = rng.uniform(0.5, 2.0, (n_days, len(lens)))
        values[rng.random(values.shape) < 0.1] = 0.0
        inception = rng.integers(-1, n_days, len(lens))
        end = rng.integers(0, n_days + 1, len(lens))
        with np.errstate(all="ignore"):
            small = returns_from_values(values, inception, end)
        big = kernels.returns_from_values_nb(values, inception, end)
        np.testing.assert_array_equal(np.isnan(small), np.isnan(big))
        assert small.tobytes() == big.tobytes()


def test_first_price_from_a_start_is_the_scan_of_the_days_from_it() -> None:
    # lives with gaps, late listings and early ends, on the whole index and cut short: the first
    # priced day at or after each start is what a scan of the days from it finds
    from backtest.simulation.engine import PriceLife

    rng = np.random.default_rng(4)
    for _ in range(100):
        n, k = int(rng.integers(1, 40)), int(rng.integers(1, 6))
        closes = rng.random((n, k)) + 0.5
        closes[rng.random((n, k)) < 0.4] = np.nan
        life = PriceLife.of(pd.DataFrame(closes, index=pd.bdate_range("2024-01-01", periods=n)))
        cols = np.arange(k)
        for days in {n, int(rng.integers(1, n + 1))}:
            part = life.cut(days)
            for start in range(days):
                seen = ~np.isnan(closes[start:days])
                scan = np.where(seen.any(axis=0), start + seen.argmax(axis=0), -1)
                np.testing.assert_array_equal(part.first_from(start, cols), scan)
