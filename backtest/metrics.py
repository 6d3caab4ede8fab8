"""Performance metrics over daily simple returns.

Conventions, for every function here:

* inputs are daily simple returns as fractions (0.01 = +1%), a ``Series`` indexed by date;
  NaN means "no return that day" and is dropped, never read as zero;
* outputs are fractions too; annualised figures use **252 trading days a year**;
* a statistic that cannot be computed (too few days, zero variance) is ``nan``.
"""

from __future__ import annotations

import math

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
    excess = r - (
        risk_free_daily.reindex(r.index)
        if isinstance(risk_free_daily, pd.Series)
        else risk_free_daily
    )
    excess = excess.dropna()
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
    both = a.notna() & b.reindex(a.index).notna()
    idx = a.index[both]
    return a.loc[idx], b.loc[idx]


def excess_total_return(returns: pd.Series, benchmark: pd.Series) -> float:
    """Total return of ``returns`` minus total return of ``benchmark`` over their shared days."""
    a, b = shared_days(returns, benchmark)
    if len(a) == 0:
        return math.nan
    return total_return(a) - total_return(b)
