"""Performance metrics over daily simple returns.

Conventions, for every function here:

* inputs are daily simple returns as fractions (0.01 = +1%), a ``Series`` indexed by date;
  NaN means "no return that day" and is dropped, never read as zero;
* outputs are fractions too; annualised figures use **252 trading days a year**;
* a statistic that cannot be computed (too few days, zero variance) is ``nan``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

TRADING_DAYS = 252


def _clean(returns: pd.Series) -> pd.Series:
    return returns.dropna().astype("float64")


def wealth_index(returns: pd.Series) -> pd.Series:
    """Growth of 1: ``W_t = prod_{s<=t} (1 + r_s)`` over the non-NaN days."""
    return (1.0 + _clean(returns)).cumprod()


def total_return(returns: pd.Series) -> float:
    """Compounded return over all days: ``prod(1 + r) - 1``."""
    r = _clean(returns)
    return float(np.prod(1.0 + r.to_numpy()) - 1.0) if len(r) else math.nan


def cagr(returns: pd.Series) -> float:
    """Compound annual growth rate: ``(1 + total_return) ** (252 / n) - 1``, n = number of days."""
    r = _clean(returns)
    if len(r) == 0:
        return math.nan
    growth = 1.0 + total_return(r)
    if growth <= 0:
        return -1.0
    return float(growth ** (TRADING_DAYS / len(r)) - 1.0)


def volatility(returns: pd.Series) -> float:
    """Annualised volatility: sample standard deviation (ddof=1) of daily returns × sqrt(252)."""
    r = _clean(returns)
    if len(r) < 2:
        return math.nan
    return float(r.std(ddof=1) * math.sqrt(TRADING_DAYS))


def sharpe(returns: pd.Series, risk_free_daily: pd.Series | float = 0.0) -> float:
    """Annualised Sharpe ratio: ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(252)``.

    ``risk_free_daily`` is a daily rate (a fraction per day), a constant or a series aligned on
    the same dates.
    """
    r = _clean(returns)
    excess = (r - _aligned(risk_free_daily, r)).dropna()
    if len(excess) < 2:
        return math.nan
    sd = float(excess.std(ddof=1))
    if sd == 0 or not math.isfinite(sd):
        return math.nan
    return float(excess.mean() / sd * math.sqrt(TRADING_DAYS))


def drawdown(returns: pd.Series) -> pd.Series:
    """Drawdown path: ``W_t / max_{s<=t} W_s - 1`` with the starting wealth 1 counted as a peak."""
    w = wealth_index(returns)
    peak = np.maximum.accumulate(np.concatenate([[1.0], w.to_numpy()]))[1:]
    return pd.Series(w.to_numpy() / peak - 1.0, index=w.index, name=returns.name)


def max_drawdown(returns: pd.Series) -> float:
    """Deepest drawdown, a negative fraction (or 0.0 when wealth never fell below a peak)."""
    dd = drawdown(returns)
    return float(min(dd.min(), 0.0)) if len(dd) else math.nan


def shared_days(a: pd.Series, b: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Both series restricted to the days on which both have a return (inner join, no filling)."""
    if a.index.equals(b.index):  # already on one calendar (every relative metric of a run)
        same = a.notna().to_numpy() & b.notna().to_numpy()
        return (a, b) if same.all() else (a[same], b[same])
    both = a.notna() & b.reindex(a.index).notna()
    idx = a.index[both]
    return a.loc[idx], b.loc[idx]


def excess_return(returns: pd.Series, benchmark: pd.Series) -> float:
    """The **excess return** over their shared days: ``(1 + R) / (1 + R_benchmark) - 1``, the
    change of the ratio line (the claims' definition; ``exp(Σ daily excess log returns) - 1``)."""
    a, b = shared_days(returns, benchmark)
    if len(a) == 0:
        return math.nan
    return (1.0 + total_return(a)) / (1.0 + total_return(b)) - 1.0


def return_difference(returns: pd.Series, benchmark: pd.Series) -> float:
    """Total return of ``returns`` minus total return of ``benchmark`` over their shared days
    (shown in percentage points: a difference, not an excess return)."""
    a, b = shared_days(returns, benchmark)
    if len(a) == 0:
        return math.nan
    return total_return(a) - total_return(b)


def sortino(returns: pd.Series, risk_free_daily: pd.Series | float = 0.0) -> float:
    """Annualised Sortino ratio: ``mean(x) / sqrt(mean(min(x, 0)^2)) * sqrt(252)``, x = r - rf.

    The downside deviation averages over *all* days (empyrical's convention), not only losing ones.
    """
    r = _clean(returns)
    x = (r - _aligned(risk_free_daily, r)).dropna()
    if len(x) < 2:
        return math.nan
    downside = math.sqrt(float(np.mean(np.minimum(x.to_numpy(), 0.0) ** 2)))
    if downside == 0:
        return math.nan
    return float(x.mean() / downside * math.sqrt(TRADING_DAYS))


def _aligned(rate: pd.Series | float, like: pd.Series) -> pd.Series | float:
    return rate.reindex(like.index) if isinstance(rate, pd.Series) else rate


def drawdown_dates(returns: pd.Series) -> tuple[pd.Timestamp | None, ...]:
    """Dates of the deepest drawdown: (peak, trough, recovery). The peak is the last close at the
    running maximum before the trough (None when it is the starting value, before the first
    return); recovery is the first close back at or above the peak (None if not recovered)."""
    dd = drawdown(returns)
    if len(dd) == 0 or dd.min() >= 0:
        return (None, None, None)
    trough = pd.Timestamp(dd.index[int(np.argmin(dd.to_numpy()))])
    before = dd.loc[:trough]
    at_peak = before[before >= 0]
    peak = pd.Timestamp(at_peak.index[-1]) if len(at_peak) else None
    after = dd.loc[trough:]
    recovered = after[after >= 0]
    recovery = pd.Timestamp(recovered.index[0]) if len(recovered) else None
    return (peak, trough, recovery)


def calmar(returns: pd.Series) -> float:
    """CAGR divided by the absolute maximum drawdown (nan when there was no drawdown)."""
    mdd = max_drawdown(returns)
    if not mdd or math.isnan(mdd):
        return math.nan
    return cagr(returns) / abs(mdd)


def monthly_returns(returns: pd.Series) -> pd.Series:
    """Compounded return of each calendar month, over the days of that month with a return.

    Months cut by the window's edges count with the days they have.
    """
    r = _clean(returns)
    if r.empty:
        return pd.Series(dtype="float64")
    months = pd.DatetimeIndex(r.index).to_period("M")
    return (1.0 + r).groupby(months).prod() - 1.0


def yearly_returns(returns: pd.Series) -> pd.Series:
    """Compounded return of each calendar year over the days of that year with a return (years
    cut by the window's edges count with the days they have), indexed by year."""
    r = _clean(returns)
    if r.empty:
        return pd.Series(dtype="float64")
    years = pd.DatetimeIndex(r.index).year
    out = (1.0 + r).groupby(years).prod() - 1.0
    out.index.name = "year"
    return out


@dataclass(frozen=True)
class DrawdownPeriod:
    """One fall from a peak of the growth of 1 and its way back.

    ``peak``: the last close at the peak (None when the peak is the starting value); ``trough``:
    the lowest close; ``recovery``: the first close back at the peak (None when not recovered);
    ``depth``: trough / peak − 1 (negative); ``days``: trading days from the peak to the
    recovery, or to the last day when not recovered (returns counted, the peak's own close not).
    """

    peak: pd.Timestamp | None
    trough: pd.Timestamp
    recovery: pd.Timestamp | None
    depth: float
    days: int


def drawdown_periods(returns: pd.Series, top: int = 5) -> list[DrawdownPeriod]:
    """The ``top`` deepest drawdowns, deepest first: each run of days below a previous peak."""
    dd = drawdown(returns)
    values = dd.to_numpy()
    index = pd.DatetimeIndex(dd.index)
    periods: list[DrawdownPeriod] = []
    i, n = 0, len(values)
    while i < n:
        if values[i] >= 0:
            i += 1
            continue
        start = i
        while i < n and values[i] < 0:
            i += 1
        trough = start + int(np.argmin(values[start:i]))
        recovered = i < n
        periods.append(
            DrawdownPeriod(
                peak=pd.Timestamp(index[start - 1]) if start > 0 else None,
                trough=pd.Timestamp(index[trough]),
                recovery=pd.Timestamp(index[i]) if recovered else None,
                depth=float(values[trough]),
                days=(i if recovered else n - 1) - start + 1,
            )
        )
    periods.sort(key=lambda p: p.depth)
    return periods[:top]


def rolling_beta(returns: pd.Series, benchmark: pd.Series, days: int = 126) -> pd.Series:
    """OLS slope of daily returns on the benchmark's over the last ``days`` shared days
    (``cov / var``, ddof=1), known at each close; NaN until there are ``days`` of them."""
    a, b = shared_days(returns, benchmark)
    cov = a.rolling(days, min_periods=days).cov(b, ddof=1)
    var = b.rolling(days, min_periods=days).var(ddof=1)
    beta: pd.Series = cov / var
    beta.name = returns.name
    return beta


def annualised_active_return(returns: pd.Series, benchmark: pd.Series) -> float:
    """``mean(r - b) * 252`` over shared days: the arithmetic annualised active return."""
    a, b = shared_days(returns, benchmark)
    return float((a - b).mean() * TRADING_DAYS) if len(a) else math.nan


def tracking_error(returns: pd.Series, benchmark: pd.Series) -> float:
    """``std(r - b, ddof=1) * sqrt(252)`` over shared days."""
    a, b = shared_days(returns, benchmark)
    return float((a - b).std(ddof=1) * math.sqrt(TRADING_DAYS)) if len(a) > 1 else math.nan


def information_ratio(returns: pd.Series, benchmark: pd.Series) -> float:
    """Annualised: ``mean(r - b) / std(r - b) * sqrt(252)`` = active return / tracking error.

    (vectorbt and empyrical report the daily, unannualised ratio: divide by sqrt(252) to compare.)
    """
    te = tracking_error(returns, benchmark)
    if not te or math.isnan(te):
        return math.nan
    return annualised_active_return(returns, benchmark) / te


def beta_alpha(returns: pd.Series, benchmark: pd.Series) -> tuple[float, float]:
    """OLS of daily ``r = alpha_d + beta * b`` over shared days; alpha annualised as alpha_d * 252.

    beta = cov(r, b) / var(b). Raw returns (no risk-free rate subtracted).
    """
    a, b = shared_days(returns, benchmark)
    if len(a) < 2:
        return (math.nan, math.nan)
    x = b.to_numpy()
    y = a.to_numpy()
    var = float(np.var(x, ddof=1))
    if var == 0:
        return (math.nan, math.nan)
    beta = float(np.cov(y, x, ddof=1)[0, 1] / var)
    alpha = float((y.mean() - beta * x.mean()) * TRADING_DAYS)
    return (beta, alpha)


def correlation(returns: pd.Series, benchmark: pd.Series) -> float:
    """Pearson correlation of daily returns over shared days."""
    a, b = shared_days(returns, benchmark)
    if len(a) < 2 or a.std(ddof=1) == 0 or b.std(ddof=1) == 0:
        return math.nan  # undefined when either series never moves
    return float(np.corrcoef(a.to_numpy(), b.to_numpy())[0, 1])


def _geometric_mean(returns: pd.Series) -> float:
    """``prod(1 + r) ** (1 / n) - 1``: the average return per period, compounded."""
    return float(np.prod(1.0 + returns.to_numpy()) ** (1.0 / len(returns)) - 1.0)


def _capture(returns: pd.Series, benchmark: pd.Series, up: bool) -> float:
    a, b = shared_days(returns, benchmark)
    ma, mb = monthly_returns(a), monthly_returns(b)
    mask = (mb > 0) if up else (mb < 0)
    if not mask.any():
        return math.nan
    bench = _geometric_mean(mb[mask])
    return _geometric_mean(ma[mask]) / bench if bench else math.nan


def up_capture(returns: pd.Series, benchmark: pd.Series) -> float:
    """Morningstar's upside capture ratio, as a fraction: over the calendar months (of shared
    days) in which the benchmark rose, the bucket's geometric mean monthly return ÷ the
    benchmark's. Above 1: it gained more than the benchmark in up months."""
    return _capture(returns, benchmark, up=True)


def down_capture(returns: pd.Series, benchmark: pd.Series) -> float:
    """Morningstar's downside capture ratio: the same over the months the benchmark fell. Below
    1: it lost less than the benchmark in down months (negative: it rose in them)."""
    return _capture(returns, benchmark, up=False)


def share_of_months_beaten(returns: pd.Series, benchmark: pd.Series) -> float:
    """Share of calendar months (over shared days) in which the bucket's compounded return was
    above the benchmark's."""
    a, b = shared_days(returns, benchmark)
    ma, mb = monthly_returns(a), monthly_returns(b)
    if len(ma) == 0:
        return math.nan
    return float((ma > mb).mean())


def weekly_returns(returns: pd.Series) -> pd.Series:
    """Compounded return of each calendar week (Monday to Friday) over the days with a return,
    labelled with the week's last trading day; weeks without a return are absent."""
    r = _clean(returns)
    if r.empty:
        return r
    idx = pd.DatetimeIndex(r.index)
    week = idx.to_period("W-FRI")
    grouped = (1.0 + r).groupby(week)
    out = grouped.prod() - 1.0
    out.index = pd.DatetimeIndex(r.index.to_series().groupby(week).max().to_numpy(), name="week")
    return out


def risk_free_daily(irx: pd.Series | None, calendar: pd.DatetimeIndex) -> pd.Series | float:
    """Daily risk-free rate from the 13-week T-bill yield ``^IRX`` (percent, annualised):
    ``IRX_{t-1} / 100 / 252`` applies to day t (the yield known at the previous close). 0 when
    ``^IRX`` is not in the price source."""
    if irx is None:
        return 0.0
    # a yield is a level, not a return: carrying it over a missing day is the right reading
    # shift on the full history, so the first day of the window gets the close before it
    level = irx.reindex(irx.index.union(calendar)).sort_index().ffill()
    return level.shift(1).reindex(calendar) / 100.0 / TRADING_DAYS


def relative_figures(returns: pd.Series, benchmark: pd.Series) -> dict[str, float | int]:
    """Every bucket-vs-benchmark figure of :class:`backtest.results.Relative` in one pass over
    their shared days (:func:`shared_days`), with the formulas of the functions above, which it
    equals to 1e-12 (tested): ``days``; ``bucket_total_return``, ``benchmark_total_return``;
    ``excess_return``, ``return_difference``; ``annualised_active_return``, ``tracking_error``,
    ``information_ratio``; ``beta``, ``alpha`` (:func:`beta_alpha`); ``correlation``;
    ``up_capture``, ``down_capture``; ``months`` (calendar months with a shared day) and
    ``months_beaten_share``.

    The shared days and the calendar months are found once, not once per figure: a run has about
    150 bucket-benchmark pairs per window, and this is most of their cost.
    """
    a_s, b_s = shared_days(returns, benchmark)
    a = a_s.to_numpy(dtype="float64")
    b = b_s.to_numpy(dtype="float64")
    n = len(a)
    nan = math.nan
    out: dict[str, float | int] = {"days": n}
    total_a = float(np.prod(1.0 + a) - 1.0) if n else nan
    total_b = float(np.prod(1.0 + b) - 1.0) if n else nan
    active = a - b
    te = float(np.std(active, ddof=1) * math.sqrt(TRADING_DAYS)) if n > 1 else nan
    mean_active = float(active.mean() * TRADING_DAYS) if n else nan
    beta, alpha = nan, nan
    corr = nan
    if n >= 2:
        var = float(np.var(b, ddof=1))
        if var != 0:
            beta = float(np.cov(a, b, ddof=1)[0, 1] / var)
            alpha = float((a.mean() - beta * b.mean()) * TRADING_DAYS)
        if np.std(a, ddof=1) != 0 and np.std(b, ddof=1) != 0:
            corr = float(np.corrcoef(a, b)[0, 1])
    months = pd.DatetimeIndex(a_s.index).to_period("M").asi8
    starts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]]) if n else np.zeros(0, int)
    ma = np.multiply.reduceat(1.0 + a, starts) - 1.0 if n else np.zeros(0)
    mb = np.multiply.reduceat(1.0 + b, starts) - 1.0 if n else np.zeros(0)

    def capture(mask: np.ndarray) -> float:
        if not mask.any():
            return nan
        k = int(mask.sum())
        bench = float(np.prod(1.0 + mb[mask]) ** (1.0 / k) - 1.0)
        mine = float(np.prod(1.0 + ma[mask]) ** (1.0 / k) - 1.0)
        return mine / bench if bench else nan

    out.update(
        bucket_total_return=total_a,
        benchmark_total_return=total_b,
        excess_return=(1.0 + total_a) / (1.0 + total_b) - 1.0,
        return_difference=total_a - total_b,
        annualised_active_return=mean_active,
        tracking_error=te,
        information_ratio=mean_active / te if te and not math.isnan(te) else nan,
        beta=beta,
        alpha=alpha,
        correlation=corr,
        up_capture=capture(mb > 0),
        down_capture=capture(mb < 0),
        months=len(ma),
        months_beaten_share=float((ma > mb).mean()) if len(ma) else nan,
    )
    return out
