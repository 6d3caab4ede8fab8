from __future__ import annotations

import pandas as pd

from backtest.simulation.calendar import Rebalance, rebalance_dates, shared_trading_days
from tests.conftest import frame


def dates(index: pd.DatetimeIndex) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in index]


def test_month_ends_are_the_last_trading_day_and_never_the_final_day() -> None:
    # 2024-03-29 was Good Friday: March's last trading day in this index is 03-28
    idx = pd.DatetimeIndex(
        [
            "2024-01-30",
            "2024-01-31",
            "2024-02-28",
            "2024-02-29",
            "2024-03-27",
            "2024-03-28",
            "2024-04-01",
            "2024-04-02",
        ]
    )
    assert dates(rebalance_dates(idx, Rebalance.monthly)) == [
        "2024-01-31",
        "2024-02-29",
        "2024-03-28",
    ]
    assert dates(rebalance_dates(idx, Rebalance.quarterly)) == ["2024-03-28"]
    assert dates(rebalance_dates(idx, Rebalance.none)) == []
    assert dates(rebalance_dates(idx, Rebalance.daily)) == dates(idx[:-1])


def test_weekly_is_the_last_trading_day_of_each_week() -> None:
    idx = pd.DatetimeIndex(["2024-01-03", "2024-01-04", "2024-01-08", "2024-01-12", "2024-01-15"])
    assert dates(rebalance_dates(idx, Rebalance.weekly)) == ["2024-01-04", "2024-01-12"]


def test_shared_trading_days_is_the_intersection() -> None:
    p = frame(["2024-01-02", "2024-01-03", "2024-01-04"], A=[1, None, 1], B=[1, 1, 1])
    assert dates(shared_trading_days(p, ["A", "B"])) == ["2024-01-02", "2024-01-04"]
