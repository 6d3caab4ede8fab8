"""Pools: the tickers a random or matched basket is drawn from, read and cleaned.

A pool (:class:`buckets.models.Pool`) names a price file or folder, the store, or a ticker list
read from the run's price source. :func:`read_pool` reads it; series that cannot be read as
prices (a close that is not positive, text, a single row) are excluded there, each counted
under its reason. :func:`eligible_on` then keeps, for one claim window, the members that can be
drawn: priced on the claim's start, with a later price, enough history before it and no one-day
move beyond the pool's limit; every other member is counted under the first reason that excludes
it. Nothing is dropped silently: the counts go to ``claims.json``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from backtest.prices.sources import read_price_path, to_price_frame
from backtest.prices.store import PriceStore
from buckets.errors import PriceDataError, RunConfigError
from buckets.models import POOL_SURVIVORSHIP, Pool

NOT_PRICES = "not clean prices (a close that is not positive, text or a single row)"


@dataclass
class PoolPrices:
    """A pool's closes (date × ticker, NaN where a ticker has no price) and what was left out
    while reading it."""

    name: str
    source: str
    """Where the prices came from, as the user named it."""
    survivorship: str
    prices: pd.DataFrame
    excluded: dict[str, list[str]] = field(default_factory=dict)
    """Reason → tickers left out while reading."""
    max_daily_move: float = 5.0
    min_history_days: int = 252

    @property
    def tickers_read(self) -> int:
        """Tickers the source named: those read plus those excluded while reading."""
        return int(self.prices.shape[1]) + sum(len(t) for t in self.excluded.values())


def pool_from_path(path: Path) -> Pool:
    """The pool ``--pool PATH`` names: every ticker of a price file or folder, default limits."""
    return Pool(description=f"every ticker of {path}", prices=str(path))


def read_pool(
    name: str,
    pool: Pool,
    base: Path,
    *,
    store: PriceStore | None = None,
    run_series: Callable[[Sequence[str]], Mapping[str, pd.Series]] | None = None,
) -> PoolPrices:
    """Read ``pool`` (its relative ``prices`` path taken from ``base``, the pools file's folder).

    ``store`` serves ``prices: store``; ``run_series(tickers)`` serves a pool without ``prices``
    (the run's own price source). A file that cannot be read at all raises
    :class:`PriceDataError`; a series that is not clean prices is excluded and counted."""
    problems: list[PriceDataError] = []
    wanted = list(pool.tickers) if pool.tickers else None
    if pool.prices is None:
        if run_series is None:
            raise RunConfigError(f"pool {name}: names no prices and no run source is open")
        assert wanted is not None
        series = dict(run_series(wanted))
        source = "the run's price source"
    elif pool.prices == "store":
        if store is None or not store.exists():
            raise RunConfigError(
                f"pool {name}: prices: store, but there is no price store here "
                "(bucketmap prices import/fetch makes one)"
            )
        found, _, damaged = store.read_checked(wanted or store.tickers())
        series = found
        source = f"the price store at {store.root}"
        problems.extend(PriceDataError(msg, ticker=t) for t, msg in damaged.items())
    else:
        path = Path(pool.prices).expanduser()
        path = path if path.is_absolute() else base / path
        series = read_price_path(path, wanted, problems=problems)
        source = str(path)
    excluded: dict[str, list[str]] = {}
    for problem in problems:
        excluded.setdefault(NOT_PRICES, []).append(problem.ticker or str(problem))
    if wanted is not None:
        absent = [t for t in wanted if t not in series and t not in excluded.get(NOT_PRICES, [])]
        if absent:
            excluded["listed but without prices in the source"] = absent
    frame = to_price_frame(series)
    if frame.shape[1] == 0:
        raise RunConfigError(f"pool {name}: {source} holds no usable prices")
    return PoolPrices(
        name=name,
        source=source,
        survivorship=pool.survivorship or POOL_SURVIVORSHIP,
        prices=frame,
        excluded=excluded,
        max_daily_move=pool.max_daily_move,
        min_history_days=pool.min_history_days,
    )


@dataclass(frozen=True)
class Eligible:
    """The members of a pool that can be drawn for one window, and the rest by reason."""

    tickers: list[str]
    excluded: dict[str, list[str]]
    """Reason → tickers, in the order the reasons are checked (a ticker under its first)."""
    stopped: int
    """Eligible members whose prices stop before the window's end (sold at their last close, as
    a bucket member would be)."""


def eligible_on(
    pool: PoolPrices,
    calendar: pd.DatetimeIndex,
    start: int,
    end: int,
    *,
    leave_out: Sequence[str] = (),
) -> Eligible:
    """Pool members that can be drawn for the window from ``calendar[start]`` (the purchase
    close) to ``calendar[end]``: priced on the start day itself, with a price after it, at least
    ``min_history_days`` trading days of the calendar priced before it (from their first price),
    and no one-day move between consecutive quotes beyond ``max_daily_move`` up (or its inverse
    down) from their first price up to the window's end. ``leave_out`` (the bucket's own members)
    is counted apart.

    The move check reads prices up to the window's end: it cleans data errors (reverse splits,
    bad ticks), which a later price reveals; it is the only place a later price is read, and it
    can only remove members, never choose them."""
    excluded: dict[str, list[str]] = {
        f"from {pool.name}'s reading: {k}": list(v) for k, v in pool.excluded.items()
    }
    frame = pool.prices.reindex(calendar[: end + 1])
    tickers = list(frame.columns)
    values = frame.to_numpy(dtype="float64")
    priced = ~np.isnan(values)
    has_any = priced.any(axis=0)
    first = np.where(has_any, priced.argmax(axis=0), -1)
    on_start = priced[start]
    later = priced[start + 1 :].any(axis=0) if start + 1 <= end else np.zeros(len(tickers), bool)
    history = np.where(has_any, start - first, -1)
    limit = np.log1p(pool.max_daily_move)
    lo = max(0, start - max(pool.min_history_days, 252))
    filled = pd.DataFrame(values[lo:]).ffill().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        moves = np.abs(np.log(filled[1:] / filled[:-1]))
    jumps = np.nan_to_num(moves, nan=0.0).max(axis=0, initial=0.0) > limit
    own = set(leave_out)
    checks: list[tuple[str, np.ndarray]] = [
        ("a member of the bucket itself", np.array([t in own for t in tickers], dtype=bool)),
        ("no price on the claim's start day", ~on_start),
        ("no price after the claim's start day", ~later),
        (
            f"fewer than {pool.min_history_days} trading days of prices before the start",
            history < pool.min_history_days,
        ),
        (
            f"a one-day move beyond {pool.max_daily_move:+.0%} (or its inverse down)",
            jumps,
        ),
    ]
    left = np.ones(len(tickers), dtype=bool)
    for reason, hit in checks:
        out = left & hit
        if out.any():
            excluded[reason] = [tickers[j] for j in np.flatnonzero(out)]
        left &= ~hit
    chosen = np.flatnonzero(left)
    last = np.where(priced[:, chosen].any(axis=0), end - priced[::-1, chosen].argmax(axis=0), -1)
    return Eligible(
        tickers=[tickers[j] for j in chosen], excluded=excluded, stopped=int((last < end).sum())
    )
