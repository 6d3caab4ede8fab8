"""A run's inputs checked and laid out: options, calendar and bucket specs.

:func:`prepare_run` checks that the prices can carry the run (every benchmark ticker priced, a
non-empty window, every bucket with a usable member, no more missing members than
``--max-missing`` allows) and lays the prices out on the run's calendar. What it returns,
:class:`PreparedRun`, is what the simulation, the claims and the sweep all start from. No I/O.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from backtest.conventions import MAX_COST_BPS, Rebalance, Weighting
from backtest.prices.sources import to_price_frame
from backtest.simulation.calendar import shared_trading_days
from backtest.simulation.engine import BucketSpec, trailing_volatility
from backtest.simulation.engine import ticker_returns as to_ticker_returns
from buckets.errors import PriceDataError, RunConfigError, close_names
from buckets.models import Claim, Universe

DEFAULT_START = dt.date(2023, 1, 1)
WINDOW_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,39}")
"""A custom window's name: a letter or ``_``, then letters, digits, ``_`` or ``-`` (≤ 40)."""
RESERVED_WINDOWS = ("whole", "pre", "post")


@dataclass(frozen=True)
class RunOptions:
    """The choices of a run (the CLI's options)."""

    start: dt.date = DEFAULT_START
    end: dt.date | None = None
    rebalance: Rebalance = Rebalance.monthly
    weighting: Weighting = Weighting.equal
    cost_bps: float = 0.0
    verified_only: bool = False
    max_missing: float = 0.0
    """Largest share of a bucket's usable members that may lack prices before the run stops."""
    claim_date: dt.date | None = None
    """Where ``pre`` and ``post`` split; default: the earliest claim start."""
    windows: Mapping[str, tuple[dt.date, dt.date]] = field(default_factory=dict)
    """Custom analysis windows: name → (start, end)."""
    buckets: tuple[str, ...] = ()
    """Run only these buckets (with the benchmark buckets and what their claims need); empty:
    every bucket (:func:`buckets.select.select_universe`)."""

    def __post_init__(self) -> None:
        """Bounds every caller gets, not only the CLI: RunConfigError naming the option."""
        if self.end is not None and self.end <= self.start:
            raise RunConfigError(f"--end {self.end} is not after --start {self.start}")
        for name, (w_start, w_end) in self.windows.items():
            given = f"--window {name}={w_start}:{w_end}"
            if not WINDOW_NAME.fullmatch(name) or name in RESERVED_WINDOWS:
                raise RunConfigError(
                    f"{given}: a window's name starts with a letter or _ and has letters, "
                    "digits, _ or - (at most 40), and is not whole, pre or post"
                )
            if w_end <= w_start:
                raise RunConfigError(f"{given}: {w_end} is not after {w_start}")
        if not (math.isfinite(self.cost_bps) and 0 <= self.cost_bps < MAX_COST_BPS):
            raise RunConfigError(
                f"--cost-bps {self.cost_bps:g}: costs are a finite number of basis points from 0 "
                f"up to (not including) {MAX_COST_BPS:,.0f}, which is 100% of every trade"
            )
        if not (math.isfinite(self.max_missing) and 0 <= self.max_missing <= 1):
            raise RunConfigError(
                f"--max-missing {self.max_missing:g}: a share from 0 to 1 of a bucket's members"
            )


def _window(
    universe: Universe, prices: pd.DataFrame, shared: pd.DatetimeIndex, options: RunOptions
) -> pd.DatetimeIndex:
    """The run's calendar: the shared trading days of the benchmark tickers in [start, end]."""
    bench = universe.benchmark_tickers()
    calendar = shared
    start = pd.Timestamp(options.start)
    calendar = calendar[calendar >= start]
    if options.end is not None:
        calendar = calendar[calendar <= pd.Timestamp(options.end)]
    if len(calendar) < 2:
        last = prices[bench].dropna().index.max() if bench else prices.index.max()
        raise RunConfigError(
            f"the window from {options.start} to {options.end or 'the last common date'} has "
            f"{len(calendar)} shared trading day(s) of {', '.join(bench) or 'the members'} "
            f"(their prices end {last.date() if pd.notna(last) else 'nowhere'}); "
            "choose an earlier --start"
        )
    return calendar


@dataclass(frozen=True)
class PreparedRun:
    """A run's inputs checked and laid out: what the simulation and the claims both start from."""

    universe: Universe
    options: RunOptions
    series: Mapping[str, pd.Series]
    price_source: str
    prices: pd.DataFrame
    """date × ticker closes of every series, on the union of their dates."""
    shared: pd.DatetimeIndex
    """Shared trading days of the benchmark tickers over all the history."""
    calendar: pd.DatetimeIndex
    """The run's window of ``shared``: its first close is the purchase, the rest return days."""
    specs: list[BucketSpec]
    unpriced: dict[str, set[str]]
    """Bucket → usable members with no prices in the source."""

    @property
    def window(self) -> pd.DataFrame:
        """Closes on the run's calendar (NaN where a ticker has no price)."""
        return self.prices.reindex(self.calendar)

    def volatility(self) -> pd.DataFrame:
        """Trailing σ on the run's calendar, from all the shared history up to each day (so
        members are weighted from the first day of the window; the window does not limit it)."""
        history = self.prices.reindex(self.shared)
        return trailing_volatility(history.loc[: self.calendar[-1]]).reindex(self.calendar)

    def ticker_returns(self, tickers: Sequence[str]) -> pd.DataFrame:
        """Daily returns of single tickers on the run's return days (after the first close);
        tickers without prices are left out."""
        have = [t for t in dict.fromkeys(tickers) if t in self.prices.columns]
        return to_ticker_returns(self.window[have]).iloc[1:]


def prepare_run(
    universe: Universe, series: Mapping[str, pd.Series], options: RunOptions, *, price_source: str
) -> PreparedRun:
    """Check that the prices can carry the run and lay them out on its calendar.

    Raises :class:`PriceDataError` when a benchmark ticker has no prices,
    :class:`RunConfigError` when the window is empty, a bucket has no usable member, or more
    of a bucket's members lack prices than ``options.max_missing`` allows.
    """
    for ticker in universe.benchmark_tickers():
        if ticker not in series:
            raise PriceDataError(
                f"benchmark {ticker} has no prices in {price_source}; add them "
                "(`bucketmap prices fetch` / `prices import`) or remove it from benchmarks.yaml",
                ticker=None,
            )
    prices = to_price_frame(dict(series))
    shared = shared_trading_days(prices, universe.benchmark_tickers())
    calendar = _window(universe, prices, shared, options)

    specs: list[BucketSpec] = []
    unpriced: dict[str, set[str]] = {}
    for name, bucket in universe.buckets.items():
        tickers = bucket.tickers(verified_only=options.verified_only)
        if not tickers:
            raise RunConfigError(
                f"bucket {name} has no usable member"
                + (" (none is verified; drop --verified-only)" if options.verified_only else "")
            )
        missing = [t for t in tickers if t not in series]
        unpriced[name] = set(missing)
        if missing and len(missing) / len(tickers) > options.max_missing:
            raise RunConfigError(
                f"bucket {name}: {len(missing)} of {len(tickers)} members have no prices in "
                f"{price_source} ({_with_close_names(missing, series)}); fetch or import them, "
                f"reject them in {name}.yaml, or allow it with --max-missing "
                f"{_share_that_allows(len(missing), len(tickers)):g}"
            )
        priced = [t for t in tickers if t in series]
        custom_weights = None
        if options.weighting is Weighting.custom:
            given = {mm.ticker: mm.weight for mm in bucket.members if mm.ticker in priced}
            if any(w is None for w in given.values()):
                raise RunConfigError(
                    f"bucket {name}: --weighting custom needs a weight for every member "
                    f"(missing for {', '.join(t for t, w in given.items() if w is None)})"
                )
            custom_weights = {t: float(w) for t, w in given.items() if w is not None}
            if priced and not sum(custom_weights.values()) > 0:
                raise RunConfigError(
                    f"bucket {name}: the custom weights of its members with prices sum to 0 "
                    f"({', '.join(priced)}); nothing would be held: give one a positive weight"
                )
        specs.append(BucketSpec(name, priced, custom_weights))
    return PreparedRun(
        universe=universe,
        options=options,
        series=series,
        price_source=price_source,
        prices=prices,
        shared=shared,
        calendar=calendar,
        specs=specs,
        unpriced=unpriced,
    )


def require_claim_prices(prepared: PreparedRun, claims: Sequence[Claim]) -> None:
    """Raise :class:`PriceDataError` naming the first claim whose benchmark is a ticker without
    prices: its verdict would rest on nothing (``returns.csv`` promises every claim benchmark's
    returns)."""
    for claim in claims:
        ticker = claim.benchmark
        if ticker not in prepared.universe.buckets and ticker not in prepared.series:
            raise PriceDataError(
                f"claim {claim.id}: benchmark {ticker} has no prices in "
                f"{prepared.price_source}; add them (`bucketmap prices fetch` / `prices "
                "import`) or change the claim in claims.yaml",
                ticker=None,
            )


def _share_that_allows(missing: int, members: int) -> float:
    """The smallest ``--max-missing`` of two decimals that allows ``missing`` of ``members``
    (1 of 16 is 0.0625: 0.07, not 0.06, which would still refuse it)."""
    share = missing / members
    allowed = math.ceil(round(share * 100, 9)) / 100
    return allowed if allowed >= share else allowed + 0.01


def _with_close_names(missing: Sequence[str], series: Mapping[str, object]) -> str:
    """``missing`` joined, each followed by the priced ticker closest to it when one is close
    (``ANETT (did you mean ANET?)``): a misspelt ticker reads as a missing one. Closer than for
    names (a ratio of 0.75: one letter in four), since a store of thousands of tickers holds a
    loose match for almost any ticker."""
    priced = list(series)
    named = []
    for ticker in missing:
        close = close_names(ticker, priced, n=1, cutoff=0.75)
        named.append(f"{ticker} (did you mean {close[0]}?)" if close else ticker)
    return ", ".join(named)
