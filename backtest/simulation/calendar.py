"""Trading calendars and rebalance schedules.

A run's calendar is the set of dates on which every benchmark ticker has a price (shared trading
days). Bucket and benchmark returns are computed on that calendar only; nothing is ever filled
with a zero return.
"""

from __future__ import annotations

import pandas as pd

from backtest.conventions import Rebalance

__all__ = ["Rebalance", "rebalance_dates", "shared_trading_days"]


_PERIOD = {Rebalance.weekly: "W-FRI", Rebalance.monthly: "M", Rebalance.quarterly: "Q"}


def rebalance_dates(index: pd.DatetimeIndex, rule: Rebalance) -> pd.DatetimeIndex:
    """The rebalance days of ``index``: the last trading day of each week/month/quarter in it.

    ``daily`` is every day, ``none`` no day. The final day of ``index`` is never a rebalance day:
    a rebalance at the last close changes no return, and the period it would close may be
    incomplete in the data (a snapshot that ends on the 3rd of a month).
    """
    if len(index) == 0 or rule is Rebalance.none:
        return pd.DatetimeIndex([], name=index.name)
    if rule is Rebalance.daily:
        out = index
    else:
        periods = index.to_period(_PERIOD[rule])
        last_of_period = ~pd.Series(periods).duplicated(keep="last").to_numpy()
        out = index[last_of_period]
    return out[out < index[-1]]


def shared_trading_days(prices: pd.DataFrame, tickers: list[str]) -> pd.DatetimeIndex:
    """Dates on which every one of ``tickers`` has a price (the intersection of their dates)."""
    if not tickers:
        return pd.DatetimeIndex(prices.index[prices.notna().any(axis=1)], name="date")
    mask = prices[tickers].notna().all(axis=1)
    return pd.DatetimeIndex(prices.index[mask], name="date")
