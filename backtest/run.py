"""One backtest run: a universe and its prices in, a :class:`RunResult` and its frames out.

This module wires the engine stages together (window and calendar, simulation, metrics) and
accounts for every member that was not used. It does no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from backtest import metrics as m
from backtest.calendar import shared_trading_days
from backtest.conventions import Rebalance, Weighting
from backtest.engine import BucketSpec, MemberSpan, Simulation, simulate_buckets
from backtest.engine import ticker_returns as to_ticker_returns
from backtest.results import (
    BenchmarkResult,
    BucketResult,
    ClaimDate,
    MemberResult,
    Metrics,
    Relative,
    RunInfo,
    RunResult,
)
from backtest.sources import to_price_frame
from buckets.errors import PriceDataError, RunConfigError
from buckets.models import Status, Universe

DEFAULT_START = dt.date(2023, 1, 1)
LIMITATIONS = [
    "Survivorship: the price data holds only tickers still listed when it was taken; "
    "delisted names are absent, which flatters any basket picked today.",
    "Buckets are picked with hindsight from notes written in 2025-2026; returns before a "
    "note's date show what the basket did, not what anyone could have chosen then.",
    "Prices are adjusted closes (dividends reinvested); no taxes; costs only as --cost-bps.",
]


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


@dataclass
class RunOutput:
    """A run's result and the frames written beside it."""

    result: RunResult
    returns: pd.DataFrame
    """date × (bucket | benchmark ticker) daily returns, from the first return day."""
    weights: pd.DataFrame
    """Long table date, bucket, ticker, weight: the target weights set at each event."""


def _metrics(returns: pd.Series) -> Metrics:
    r = returns.dropna()
    return Metrics(
        first_date=r.index[0].date() if len(r) else None,
        last_date=r.index[-1].date() if len(r) else None,
        days=len(r),
        total_return=m.total_return(r),
        cagr=m.cagr(r),
        volatility=m.volatility(r),
        sharpe=m.sharpe(r),
        max_drawdown=m.max_drawdown(r),
    )


def _relative(bucket: pd.Series, benchmark: pd.Series) -> Relative:
    a, b = m.shared_days(bucket, benchmark)
    return Relative(
        first_date=a.index[0].date() if len(a) else None,
        last_date=a.index[-1].date() if len(a) else None,
        days=len(a),
        bucket_total_return=m.total_return(a),
        benchmark_total_return=m.total_return(b),
        excess_total_return=m.excess_total_return(a, b),
    )


def _window(universe: Universe, prices: pd.DataFrame, options: RunOptions) -> pd.DatetimeIndex:
    """The run's calendar: shared trading days of the benchmark tickers in [start, end]."""
    bench = universe.benchmark_tickers()
    calendar = shared_trading_days(prices, bench)
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


def _member_results(
    universe: Universe,
    bucket_name: str,
    spans: Mapping[str, MemberSpan],
    unpriced: set[str],
    verified_only: bool,
) -> list[MemberResult]:
    out: list[MemberResult] = []
    for member in universe.buckets[bucket_name].members:
        span = spans.get(member.ticker)
        reason: str | None
        if member.status is Status.rejected:
            reason = f"rejected: {member.rejected_why}"
        elif verified_only and member.status is not Status.verified:
            reason = "not verified (--verified-only)"
        elif member.ticker in unpriced:
            reason = "no prices in the price source"
        else:
            reason = span.reason if span is not None else "not simulated"
        out.append(
            MemberResult(
                ticker=member.ticker,
                status=member.status.value,
                first_date=_date(span.first_price) if span else None,
                last_date=_date(span.last_price) if span else None,
                joined=_date(span.joined) if span else None,
                exited=_date(span.exited) if span else None,
                used=span is not None and span.joined is not None,
                reason=None if span is not None and span.joined is not None else reason,
            )
        )
    return out


def _date(ts: pd.Timestamp | None) -> dt.date | None:
    return None if ts is None else ts.date()


def run_backtest(
    universe: Universe,
    series: Mapping[str, pd.Series],
    options: RunOptions,
    *,
    price_source: str,
    version: str = "0",
) -> RunOutput:
    """Backtest every bucket and benchmark of ``universe`` on ``series`` (ticker → closes).

    Raises :class:`PriceDataError` when a benchmark ticker has no prices,
    :class:`RunConfigError` when the window is empty, a bucket has no priced member, or more
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
    calendar = _window(universe, prices, options)
    window = prices.reindex(calendar)

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
                f"{price_source} ({', '.join(missing)}); fetch or import them, reject them in "
                f"universes/{name}.yaml, or allow it with --max-missing "
                f"{len(missing) / len(tickers):.2f}"
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
        specs.append(BucketSpec(name, priced, custom_weights))

    sim: Simulation = simulate_buckets(
        window,
        specs,
        rebalance=options.rebalance,
        weighting=options.weighting,
        cost_bps=options.cost_bps,
    )
    for spec in specs:
        if sim.inception[spec.name] is None:
            raise RunConfigError(
                f"bucket {spec.name} has no member with prices between {calendar[0].date()} "
                f"and {calendar[-1].date()}"
            )

    bench_tickers = universe.benchmark_tickers()
    ticker_rets = to_ticker_returns(window[bench_tickers])
    returns = pd.concat([sim.returns, ticker_rets], axis=1).iloc[1:]
    returns.index.name = "date"

    def series_of(name: str) -> pd.Series:
        return returns[name]

    overlaps = universe.overlaps()
    bucket_results: dict[str, BucketResult] = {}
    for name, bucket in universe.buckets.items():
        r = series_of(name)
        bucket_results[name] = BucketResult(
            side=bucket.side.value,
            description=bucket.description,
            status_counts=bucket.status_counts(),
            members=_member_results(
                universe, name, sim.members[name], unpriced[name], options.verified_only
            ),
            inception=_date(sim.inception[name]),
            overlaps=overlaps.get(name, {}),
            metrics=_metrics(r),
            vs={b: _relative(r, series_of(b)) for b in universe.benchmarks if b != name},
        )
    benchmarks = {
        b: BenchmarkResult(
            kind="bucket" if b in universe.buckets else "ticker", metrics=_metrics(series_of(b))
        )
        for b in universe.benchmarks
    }
    data_last = max(s.index[-1] for s in series.values()).date()
    info = RunInfo(
        bucketmap_version=version,
        created_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        start_requested=options.start,
        start=calendar[0].date(),
        end=calendar[-1].date(),
        trading_days=len(calendar) - 1,
        calendar="shared trading days of " + (", ".join(bench_tickers) or "the members"),
        rebalance=options.rebalance.value,
        weighting=options.weighting.value,
        cost_bps=options.cost_bps,
        verified_only=options.verified_only,
        price_source=price_source,
        data_last_date=data_last,
        annualisation_days=m.TRADING_DAYS,
        risk_free="0 (Sharpe is of raw returns)",
        warnings=universe.warnings(),
        limitations=LIMITATIONS,
    )
    claims = [
        ClaimDate(id=c.id, bucket=c.bucket, benchmark=c.benchmark, start=c.start, end=c.end)
        for c in universe.claims
    ]
    result = RunResult(run=info, buckets=bucket_results, benchmarks=benchmarks, claims=claims)
    weights = sim.weights.copy()
    if len(weights):
        weights["date"] = pd.DatetimeIndex(weights["date"]).strftime("%Y-%m-%d")
    return RunOutput(result=result, returns=returns, weights=weights)
