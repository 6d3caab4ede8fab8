"""Metrics against hand arithmetic and against empyrical-reloaded (an independent library)."""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backtest.evidence import metrics as m


def series(values: list[float]) -> pd.Series:
    return pd.Series(values, index=pd.bdate_range("2024-01-02", periods=len(values)))


def test_total_return_and_cagr_by_hand() -> None:
    r = series([0.1, -0.1, 0.2])
    # 1.1 * 0.9 * 1.2 = 1.188
    assert m.total_return(r) == pytest.approx(0.188, abs=1e-12)
    # 3 days annualised over 252: 1.188 ** 84 - 1
    assert m.cagr(r) == pytest.approx(1.188**84 - 1, rel=1e-12)


def test_nan_days_are_dropped_not_zeroed() -> None:
    r = series([0.1, float("nan"), 0.1])
    assert m.total_return(r) == pytest.approx(0.21, abs=1e-12)
    # a zero-filled day would change volatility: two days only
    assert m.volatility(r) == pytest.approx(0.0, abs=1e-12)


def test_max_drawdown_counts_the_start_as_a_peak() -> None:
    # wealth 0.9, 0.99, 0.495: peak stays 1.0 → trough 0.495 → -50.5%
    r = series([-0.1, 0.1, -0.5])
    assert m.max_drawdown(r) == pytest.approx(-0.505, abs=1e-12)
    assert m.max_drawdown(series([0.1, 0.2])) == 0.0


def test_excess_and_difference_use_shared_days_only() -> None:
    a = series([0.1, 0.1, 0.1])
    b = series([float("nan"), 0.0, 0.5])
    # shared days 2 and 3: a grows 1.21, b 1.5 → excess 1.21 / 1.5 − 1, difference −0.29
    assert m.excess_return(a, b) == pytest.approx(1.21 / 1.5 - 1, abs=1e-12)
    assert m.return_difference(a, b) == pytest.approx(0.21 - 0.5, abs=1e-12)


@pytest.fixture
def noisy() -> pd.Series:
    rng = np.random.default_rng(7)
    return series(list(rng.normal(0.0008, 0.02, 600)))


def test_against_empyrical(noisy: pd.Series) -> None:
    assert m.total_return(noisy) == pytest.approx(empyrical.cum_returns_final(noisy), rel=1e-10)
    assert m.cagr(noisy) == pytest.approx(empyrical.cagr(noisy), rel=1e-10)
    assert m.volatility(noisy) == pytest.approx(empyrical.annual_volatility(noisy), rel=1e-10)
    assert m.sharpe(noisy) == pytest.approx(empyrical.sharpe_ratio(noisy), rel=1e-10)
    assert m.max_drawdown(noisy) == pytest.approx(empyrical.max_drawdown(noisy), rel=1e-10)


@given(st.lists(st.floats(-0.5, 0.5, allow_nan=False), min_size=2, max_size=60))
def test_wealth_and_total_return_agree(values: list[float]) -> None:
    r = series(values)
    w = m.wealth_index(r)
    assert w.iloc[-1] - 1 == pytest.approx(m.total_return(r), rel=1e-9, abs=1e-12)
    assert m.max_drawdown(r) <= 0.0


def test_statistics_that_cannot_be_computed_are_nan() -> None:
    assert math.isnan(m.total_return(series([])))
    assert math.isnan(m.volatility(series([0.01])))
    assert math.isnan(m.sharpe(series([0.01, 0.01])))  # zero variance


@pytest.fixture
def pair() -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(11)
    b = series(list(rng.normal(0.0005, 0.012, 700)))
    a = 0.0002 + 1.3 * b + pd.Series(rng.normal(0, 0.008, 700), index=b.index)
    return a, b


def test_relative_metrics_against_empyrical(pair: tuple[pd.Series, pd.Series]) -> None:
    a, b = pair
    beta, alpha = m.beta_alpha(a, b)
    assert beta == pytest.approx(empyrical.beta(a, b), rel=1e-10)
    # OLS intercept (numpy's least squares) × 252: arithmetic, as documented
    slope, intercept = np.polyfit(b.to_numpy(), a.to_numpy(), 1)
    assert beta == pytest.approx(slope, rel=1e-10)
    assert alpha == pytest.approx(intercept * 252, rel=1e-10)
    # empyrical's excess_sharpe is the daily IR: ours is annualised by sqrt(252)
    assert m.information_ratio(a, b) == pytest.approx(
        empyrical.excess_sharpe(a, b) * np.sqrt(252), rel=1e-10
    )
    assert m.tracking_error(a, b) == pytest.approx((a - b).std(ddof=1) * np.sqrt(252), rel=1e-12)
    assert m.correlation(a, b) == pytest.approx(a.corr(b), rel=1e-12)
    assert m.sortino(a) == pytest.approx(empyrical.sortino_ratio(a), rel=1e-10)
    assert m.calmar(a) == pytest.approx(empyrical.calmar_ratio(a), rel=1e-10)


def test_risk_free_series_is_subtracted_day_by_day() -> None:
    r = series([0.01, 0.02, 0.03])
    rf = pd.Series([0.01, 0.01, 0.01], index=r.index)
    # excess 0, 0.01, 0.02: mean 0.01, std 0.01 → sharpe √252
    assert m.sharpe(r, rf) == pytest.approx(np.sqrt(252), rel=1e-12)


def test_drawdown_dates_and_months_by_hand() -> None:
    r = pd.Series(
        [0.1, -0.2, 0.05, 0.3],
        index=pd.to_datetime(["2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02"]),
    )
    # wealth 1.1 (peak 01-30), 0.88 (trough 01-31), 0.924, 1.2012 (recovered 02-02)
    assert m.drawdown_dates(r) == (
        pd.Timestamp("2024-01-30"),
        pd.Timestamp("2024-01-31"),
        pd.Timestamp("2024-02-02"),
    )
    months = m.monthly_returns(r)
    assert months.tolist() == pytest.approx([1.1 * 0.8 - 1, 1.05 * 1.3 - 1])
    b = pd.Series([0.0, 0.0, 0.5, 0.0], index=r.index)
    # January: bucket -12% vs 0% → lost; February: +36.5% vs +50% → lost
    assert m.share_of_months_beaten(r, b) == 0.0
    assert m.share_of_months_beaten(b, r) == 1.0


def test_flat_series_give_nan_not_warnings() -> None:
    flat = series([0.0, 0.0, 0.0])
    moving = series([0.01, -0.02, 0.03])
    assert math.isnan(m.correlation(flat, moving))
    assert math.isnan(m.beta_alpha(moving, flat)[0])
    assert math.isnan(m.information_ratio(flat, flat))


def test_weekly_returns_compound_within_calendar_weeks() -> None:
    from backtest.evidence.metrics import weekly_returns

    idx = pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-08", "2024-01-12"])
    r = pd.Series([0.01, -0.02, None, 0.05, 0.0], idx, dtype="float64")
    got = weekly_returns(r)
    # week to Fri 5 Jan: 1.01 × 0.98 − 1 (the missing day is skipped, not a zero); last day 2 Jan
    assert list(got.index) == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-12")]
    assert got.tolist() == pytest.approx([1.01 * 0.98 - 1, 0.05])


def test_hedge_result_by_hand() -> None:
    from backtest.run import hedge_result, long_book_returns

    idx = pd.bdate_range("2024-01-01", periods=10)  # two Monday-to-Friday weeks
    a = pd.Series([0.01, -0.02, 0, 0, 0, 0.05, 0, 0, 0, 0], idx, dtype="float64")
    returns = pd.DataFrame({"x": a, "y": a.where(idx > idx[0])})  # y has no first return
    book = long_book_returns(returns, ["x", "y"])
    assert book.iloc[0] == 0.01 and book.iloc[1] == -0.02  # mean of those with a return
    hedge = 2 * book
    h = hedge_result(hedge, book, ["x", "y"])
    assert h.beta == pytest.approx(2.0) and h.correlation == pytest.approx(1.0)
    week1_book, week1_hedge = 1.01 * 0.98 - 1, 1.02 * 0.96 - 1
    assert [w.long_book for w in h.worst_weeks] == pytest.approx([week1_book, 0.05])
    assert [w.hedge for w in h.worst_weeks] == pytest.approx([week1_hedge, 0.10])
    assert h.worst_weeks[0].week_end.isoformat() == "2024-01-05"
    assert h.hedge_mean_in_worst_weeks == pytest.approx((week1_hedge + 0.10) / 2)
    assert h.hedge_fell_share == 0.5


# --- capture ratios (Morningstar) and the tear sheet's tables -------------------------------------


def _months(values: dict[str, list[float]]) -> pd.DataFrame:
    """Daily returns with one day per month (so each month's return is that day's)."""
    days = pd.to_datetime([f"2024-{i + 1:02d}-15" for i in range(len(next(iter(values.values()))))])
    return pd.DataFrame(values, index=days)


def test_capture_ratios_are_morningstars_monthly_geometric_means_by_hand() -> None:
    # benchmark up in Jan, Mar, Apr (+2%, +4%, +1%), down in Feb and May (−3%, −5%)
    r = _months({"a": [0.03, -0.01, 0.05, 0.02, -0.04], "b": [0.02, -0.03, 0.04, 0.01, -0.05]})
    up_a = (1.03 * 1.05 * 1.02) ** (1 / 3) - 1
    up_b = (1.02 * 1.04 * 1.01) ** (1 / 3) - 1
    down_a = (0.99 * 0.96) ** (1 / 2) - 1
    down_b = (0.97 * 0.95) ** (1 / 2) - 1
    assert m.up_capture(r["a"], r["b"]) == pytest.approx(up_a / up_b, rel=1e-12)
    assert m.down_capture(r["a"], r["b"]) == pytest.approx(down_a / down_b, rel=1e-12)


def test_capture_compounds_the_days_of_each_month_first() -> None:
    # two days in January: the month is +4.04% for b and +2.01% for a
    days = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-02-01"])
    a = pd.Series([0.01, 0.01, -0.01], index=days)
    b = pd.Series([0.02, 0.02, -0.02], index=days)
    assert m.up_capture(a, b) == pytest.approx((1.01**2 - 1) / (1.02**2 - 1), rel=1e-12)
    assert m.down_capture(a, b) == pytest.approx(0.5, rel=1e-12)


def test_yearly_and_monthly_tables_equal_plain_pandas() -> None:
    from reports.figures import monthly_table

    rng = np.random.default_rng(3)
    days = pd.bdate_range("2023-03-01", "2025-06-30")
    r = pd.Series(rng.normal(0.0005, 0.01, len(days)), index=days)
    r.iloc[40:45] = np.nan  # days without a return are skipped, never zero
    wealth = (1 + r.dropna()).cumprod()
    by_year = wealth.groupby(wealth.index.year).last() / wealth.groupby(wealth.index.year).first()
    first_day = (1 + r.dropna()).groupby(r.dropna().index.year).first()
    expected = by_year * first_day - 1  # the year's growth from the close before its first day
    np.testing.assert_allclose(m.yearly_returns(r).to_numpy(), expected.to_numpy(), rtol=1e-12)
    table = monthly_table(r)
    monthly = r.dropna().resample("ME").apply(lambda x: (1 + x).prod() - 1)
    for stamp, value in monthly.items():
        assert table.loc[stamp.year].iloc[stamp.month - 1] == pytest.approx(value, rel=1e-12)
    assert table.loc[2023].iloc[:2].isna().all()  # January and February 2023: no returns
    assert list(table.columns[:3]) == ["Jan", "Feb", "Mar"]


def test_the_worst_drawdowns_by_hand() -> None:
    # wealth 1.1, 0.99, 1.1, 1.21, 0.605, 0.726: falls of −10% (peak 1.1 on day 1, back day 3)
    # and −50% (peak 1.21 on day 4, not recovered)
    r = series([0.1, -0.1, 1.1 / 0.99 - 1, 0.1, -0.5, 0.2])
    worst = m.drawdown_periods(r, top=5)
    assert [round(p.depth, 12) for p in worst] == [-0.5, -0.1]
    deep, shallow = worst
    assert (deep.peak, deep.trough, deep.recovery) == (r.index[3], r.index[4], None)
    assert deep.days == 2  # days 5 and 6, to the end
    assert (shallow.peak, shallow.trough, shallow.recovery) == (r.index[0], r.index[1], r.index[2])
    assert shallow.days == 2
    # a fall from the start: the peak is the starting value (None)
    (first,) = m.drawdown_periods(series([-0.2, 0.3]), top=5)
    assert first.peak is None and first.depth == pytest.approx(-0.2)


def test_rolling_beta_is_the_ols_slope_of_each_window() -> None:
    rng = np.random.default_rng(9)
    b = series(list(rng.normal(0, 0.01, 200)))
    a = 1.4 * b + pd.Series(rng.normal(0, 0.005, 200), index=b.index)
    beta = m.rolling_beta(a, b, 50)
    assert beta.iloc[:49].isna().all()
    for end in (49, 120, 199):
        slope = np.polyfit(b.iloc[end - 49 : end + 1], a.iloc[end - 49 : end + 1], 1)[0]
        assert beta.iloc[end] == pytest.approx(slope, rel=1e-10)


def _relative_one_by_one(a: pd.Series, b: pd.Series) -> dict[str, float]:
    """Each figure from its own function (the ones tested against empyrical above)."""
    x, y = m.shared_days(a, b)
    beta, alpha = m.beta_alpha(a, b)
    return {
        "days": len(x),
        "bucket_total_return": m.total_return(x),
        "benchmark_total_return": m.total_return(y),
        "excess_return": m.excess_return(a, b),
        "return_difference": m.return_difference(a, b),
        "annualised_active_return": m.annualised_active_return(a, b),
        "tracking_error": m.tracking_error(a, b),
        "information_ratio": m.information_ratio(a, b),
        "beta": beta,
        "alpha": alpha,
        "correlation": m.correlation(a, b),
        "up_capture": m.up_capture(a, b),
        "down_capture": m.down_capture(a, b),
        "months": len(m.monthly_returns(x)),
        "months_beaten_share": m.share_of_months_beaten(a, b),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relative_figures_in_one_pass_equal_the_functions_one_by_one(seed: int) -> None:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2024-01-15", periods=300)
    a = pd.Series(rng.normal(0.001, 0.02, 300), index=index)
    b = pd.Series(rng.normal(0.0005, 0.015, 300), index=index)
    a.iloc[rng.choice(300, 20, replace=False)] = np.nan  # days without a return on either side
    b.iloc[rng.choice(300, 20, replace=False)] = np.nan
    got = m.relative_figures(a, b)
    expected = _relative_one_by_one(a, b)
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key


def test_relative_figures_of_too_few_days_are_nan() -> None:
    index = pd.bdate_range("2024-01-15", periods=3)
    a = pd.Series([0.01, np.nan, np.nan], index=index)
    b = pd.Series([np.nan, 0.02, 0.01], index=index)
    got = m.relative_figures(a, b)
    assert got["days"] == 0 and got["months"] == 0
    assert all(math.isnan(v) for k, v in got.items() if k not in ("days", "months"))
    one = m.relative_figures(a.fillna(0.0), b.fillna(0.0))
    expected = _relative_one_by_one(a.fillna(0.0), b.fillna(0.0))
    for key, value in expected.items():
        assert (math.isnan(value) and math.isnan(one[key])) or one[key] == pytest.approx(value)
