"""One backtest run: a universe and its prices in, a :class:`RunResult` and its frames out.

This module wires the engine stages together (window and calendar, simulation, metrics) and
accounts for every member that was not used. It does no I/O.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from backtest import metrics as m
from backtest.calendar import shared_trading_days
from backtest.conventions import MAX_COST_BPS, Rebalance, Weighting
from backtest.engine import (
    BucketSpec,
    MemberSpan,
    Simulation,
    simulate_buckets,
    trailing_volatility,
)
from backtest.engine import ticker_returns as to_ticker_returns
from backtest.results import (
    BenchmarkResult,
    BucketResult,
    ClaimDate,
    HedgeResult,
    HedgeWeek,
    MemberResult,
    Metrics,
    Relative,
    RunInfo,
    RunResult,
    Window,
    WindowResult,
)
from backtest.sources import to_price_frame
from buckets.errors import PriceDataError, RunConfigError
from buckets.models import Claim, Side, Status, Universe

DEFAULT_START = dt.date(2023, 1, 1)
RISK_FREE_TICKER = "^IRX"
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
    claim_date: dt.date | None = None
    """Where ``pre`` and ``post`` split; default: the earliest claim start."""
    windows: Mapping[str, tuple[dt.date, dt.date]] = field(default_factory=dict)
    """Custom analysis windows: name → (start, end)."""

    def __post_init__(self) -> None:
        """Bounds every caller gets, not only the CLI: RunConfigError naming the option."""
        if not (math.isfinite(self.cost_bps) and 0 <= self.cost_bps < MAX_COST_BPS):
            raise RunConfigError(
                f"--cost-bps {self.cost_bps:g}: costs are a finite number of basis points from 0 "
                f"up to (not including) {MAX_COST_BPS:,.0f}, which is 100% of every trade"
            )
        if not (math.isfinite(self.max_missing) and 0 <= self.max_missing <= 1):
            raise RunConfigError(
                f"--max-missing {self.max_missing:g}: a share from 0 to 1 of a bucket's members"
            )


@dataclass
class RunOutput:
    """A run's result and the frames written beside it."""

    result: RunResult
    returns: pd.DataFrame
    """date × (bucket | benchmark ticker) daily returns, from the first return day."""
    weights: pd.DataFrame
    """Long table date, bucket, ticker, weight: the target weights set at each event."""
    contributions: pd.DataFrame
    """Long table date, bucket, ticker (or ``costs``), contribution: each member's part of the
    bucket's daily return (they sum to it)."""


def _metrics(returns: pd.Series, risk_free: pd.Series | float = 0.0) -> Metrics:
    r = returns.dropna()
    peak, trough, recovery = m.drawdown_dates(r)
    months = m.monthly_returns(r)
    return Metrics(
        first_date=r.index[0].date() if len(r) else None,
        last_date=r.index[-1].date() if len(r) else None,
        days=len(r),
        total_return=m.total_return(r),
        cagr=m.cagr(r),
        volatility=m.volatility(r),
        sharpe=m.sharpe(r, risk_free),
        sortino=m.sortino(r, risk_free),
        max_drawdown=m.max_drawdown(r),
        max_drawdown_peak=_date(peak),
        max_drawdown_trough=_date(trough),
        max_drawdown_recovery=_date(recovery),
        calmar=m.calmar(r),
        best_month=float(months.max()) if len(months) else None,
        worst_month=float(months.min()) if len(months) else None,
    )


def _relative(bucket: pd.Series, benchmark: pd.Series) -> Relative:
    a, b = m.shared_days(bucket, benchmark)
    beta, alpha = m.beta_alpha(a, b)
    return Relative(
        first_date=a.index[0].date() if len(a) else None,
        last_date=a.index[-1].date() if len(a) else None,
        days=len(a),
        bucket_total_return=m.total_return(a),
        benchmark_total_return=m.total_return(b),
        excess_total_return=m.excess_total_return(a, b),
        annualised_active_return=m.annualised_active_return(a, b),
        tracking_error=m.tracking_error(a, b),
        information_ratio=m.information_ratio(a, b),
        beta=beta,
        alpha=alpha,
        correlation=m.correlation(a, b),
        up_capture=m.up_capture(a, b),
        down_capture=m.down_capture(a, b),
        months=len(m.monthly_returns(a)),
        months_beaten_share=m.share_of_months_beaten(a, b),
    )


WORST_WEEKS = 10


def long_book_returns(returns: pd.DataFrame, long_buckets: Sequence[str]) -> pd.Series:
    """Daily return of the long book: the mean of the long buckets' returns on each day (over
    those that have one; a day none has is absent)."""
    return returns[list(long_buckets)].mean(axis=1, skipna=True).dropna()


def hedge_result(hedge: pd.Series, book: pd.Series, long_buckets: Sequence[str]) -> HedgeResult:
    """Beta and correlation of ``hedge`` to ``book`` over their shared days, and the hedge's
    return in the book's :data:`WORST_WEEKS` worst calendar weeks."""
    h, b = m.shared_days(hedge, book)
    beta, _ = m.beta_alpha(h, b)
    weeks = pd.concat([m.weekly_returns(b), m.weekly_returns(h)], axis=1, keys=["book", "hedge"])
    worst = weeks.dropna().sort_values("book", kind="stable").head(WORST_WEEKS)
    return HedgeResult(
        long_buckets=list(long_buckets),
        days=len(h),
        beta=beta,
        correlation=m.correlation(h, b),
        worst_weeks=[
            HedgeWeek(week_end=d.date(), long_book=float(book_r), hedge=float(hedge_r))
            for d, book_r, hedge_r in zip(
                pd.DatetimeIndex(worst.index), worst["book"], worst["hedge"], strict=True
            )
        ],
        hedge_mean_in_worst_weeks=float(worst["hedge"].mean()) if len(worst) else None,
        hedge_fell_share=float((worst["hedge"] < 0).mean()) if len(worst) else None,
    )


def window_contributions(daily: pd.DataFrame, returns: pd.Series) -> dict[str, float | None]:
    """Each member's (and ``costs``') part of the compounded return over the rows given.

    ``sum_t c_{i,t} × W_{t-1}`` with W the bucket's growth of 1 since the window's start: the
    parts add up to the window's total return exactly.
    """
    r = returns.dropna()
    if r.empty:
        return {}
    grown_before = (1.0 + r).cumprod().shift(1).fillna(1.0)
    parts = daily.loc[r.index].mul(grown_before, axis=0).sum()
    return {str(k): float(v) for k, v in parts.items()}


def risk_free_daily(irx: pd.Series | None, calendar: pd.DatetimeIndex) -> pd.Series | float:
    """Daily risk-free rate from the 13-week T-bill yield ``^IRX`` (percent, annualised):
    ``IRX_{t-1} / 100 / 252`` applies to day t (the yield known at the previous close). 0 when
    ``^IRX`` is not in the price source."""
    if irx is None:
        return 0.0
    # a yield is a level, not a return: carrying it over a missing day is the right reading
    # shift on the full history, so the first day of the window gets the close before it
    level = irx.reindex(irx.index.union(calendar)).sort_index().ffill()
    return level.shift(1).reindex(calendar) / 100.0 / m.TRADING_DAYS


def analysis_windows(
    calendar: pd.DatetimeIndex,
    claim_date: dt.date | None,
    custom: Mapping[str, tuple[dt.date, dt.date]],
) -> list[Window]:
    """``whole`` (the run), ``pre`` (the 12 months up to the claim date's close), ``post`` (after
    it), then the custom windows. Each covers the returns of days ``start < t <= end``."""
    start, end = calendar[0].date(), calendar[-1].date()
    out = [Window(name="whole", start=start, end=end, description="the whole run")]
    if claim_date is not None and start < claim_date < end:
        pre_start = max(start, (pd.Timestamp(claim_date) - pd.DateOffset(years=1)).date())
        out.append(
            Window(
                name="pre",
                start=pre_start,
                end=claim_date,
                description=f"the 12 months up to the claim date {claim_date}",
            )
        )
        out.append(
            Window(
                name="post",
                start=claim_date,
                end=end,
                description=f"after the claim date {claim_date}",
            )
        )
    for name, (w_start, w_end) in custom.items():
        out.append(
            Window(
                name=name,
                start=max(start, w_start),
                end=min(end, w_end),
                description=f"--window {name}={w_start}:{w_end}",
            )
        )
    return out


def _in(window: Window, r: pd.Series) -> pd.Series:
    idx = pd.DatetimeIndex(r.index)
    return r[(idx > pd.Timestamp(window.start)) & (idx <= pd.Timestamp(window.end))]


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
                rationale=member.rationale,
                verified_by=member.verified_by,
                verified_on=member.verified_on,
                evidence=member.evidence,
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


def run_backtest(
    universe: Universe,
    series: Mapping[str, pd.Series],
    options: RunOptions,
    *,
    price_source: str,
    version: str = "0",
) -> RunOutput:
    """Backtest every bucket and benchmark of ``universe`` on ``series`` (ticker → closes).

    Raises what :func:`prepare_run` raises, and :class:`RunConfigError` when a bucket has no
    member priced inside the window.
    """
    return simulate_run(
        prepare_run(universe, series, options, price_source=price_source), version=version
    )


def simulate_run(prepared: PreparedRun, *, version: str = "0") -> RunOutput:
    """Simulate a prepared run and compute every bucket's and benchmark's metrics."""
    universe, options, series = prepared.universe, prepared.options, prepared.series
    calendar, specs, unpriced = prepared.calendar, prepared.specs, prepared.unpriced
    price_source = prepared.price_source
    sim: Simulation = simulate_buckets(
        prepared.window,
        specs,
        rebalance=options.rebalance,
        weighting=options.weighting,
        cost_bps=options.cost_bps,
        volatility=prepared.volatility() if options.weighting is Weighting.inverse_vol else None,
    )
    for spec in specs:
        if sim.inception[spec.name] is None:
            raise RunConfigError(
                f"bucket {spec.name} has no member with prices between {calendar[0].date()} "
                f"and {calendar[-1].date()}"
            )

    bench_tickers = universe.benchmark_tickers()
    returns = pd.concat([sim.returns.iloc[1:], prepared.ticker_returns(bench_tickers)], axis=1)
    returns.index.name = "date"
    rf = risk_free_daily(series.get(RISK_FREE_TICKER), pd.DatetimeIndex(returns.index))
    claim_date = options.claim_date or min((c.start for c in universe.claims), default=None)
    windows = analysis_windows(calendar, claim_date, options.windows)

    def metrics_in(w: Window, name: str) -> Metrics:
        r = _in(w, returns[name])
        return _metrics(r, _in(w, rf) if isinstance(rf, pd.Series) else rf)

    overlaps = universe.overlaps()
    bucket_results: dict[str, BucketResult] = {}
    for name, bucket in universe.buckets.items():
        per_window: dict[str, WindowResult] = {}
        for w in windows:
            r = _in(w, returns[name])
            per_window[w.name] = WindowResult(
                metrics=metrics_in(w, name),
                vs={b: _relative(r, _in(w, returns[b])) for b in universe.benchmarks if b != name},
                contributions=window_contributions(sim.contributions[name], r),
            )
        bucket_results[name] = BucketResult(
            side=bucket.side.value,
            description=bucket.description,
            status_counts=bucket.status_counts(),
            members=_member_results(
                universe, name, sim.members[name], unpriced[name], options.verified_only
            ),
            inception=_date(sim.inception[name]),
            overlaps=overlaps.get(name, {}),
            metrics=per_window["whole"].metrics,
            vs=per_window["whole"].vs,
            windows=per_window,
        )
    benchmarks = {
        b: BenchmarkResult(
            kind="bucket" if b in universe.buckets else "ticker",
            metrics=metrics_in(windows[0], b),
            windows={w.name: metrics_in(w, b) for w in windows},
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
        risk_free=(
            "^IRX (13-week T-bill yield): IRX_{t-1} / 100 / 252 per day"
            if isinstance(rf, pd.Series)
            else "0 (no ^IRX in the price source)"
        ),
        claim_date=claim_date,
        windows=windows,
        warnings=universe.warnings(),
        limitations=LIMITATIONS,
    )
    claims = [
        ClaimDate(id=c.id, bucket=c.bucket, benchmark=c.benchmark, start=c.start, end=c.end)
        for c in universe.claims
    ]
    long_buckets = [n for n, b in universe.buckets.items() if b.side is Side.long]
    hedges = {}
    if long_buckets:
        book = long_book_returns(returns, long_buckets)
        hedges = {
            n: hedge_result(returns[n], book, long_buckets)
            for n, b in universe.buckets.items()
            if b.side is Side.hedge
        }
    result = RunResult(
        run=info, buckets=bucket_results, benchmarks=benchmarks, claims=claims, hedges=hedges
    )
    weights = sim.weights.copy()
    if len(weights):
        weights["date"] = pd.DatetimeIndex(weights["date"]).strftime("%Y-%m-%d")
    contributions = _contributions_long(sim.contributions, pd.DatetimeIndex(returns.index))
    return RunOutput(result=result, returns=returns, weights=weights, contributions=contributions)


def _contributions_long(daily: Mapping[str, pd.DataFrame], index: pd.DatetimeIndex) -> pd.DataFrame:
    """date, bucket, ticker, contribution: the daily parts (rows with a bucket return only)."""
    frames = []
    for bucket, parts in daily.items():
        long = (
            parts.reindex(index)
            .rename_axis("date")
            .reset_index()
            .melt(id_vars="date", var_name="ticker", value_name="contribution")
        )
        long = long.dropna(subset=["contribution"])
        long.insert(1, "bucket", bucket)
        frames.append(long.sort_values(["date"], kind="stable"))
    if not frames:
        return pd.DataFrame(columns=["date", "bucket", "ticker", "contribution"])
    out = pd.concat(frames, ignore_index=True)
    out["date"] = pd.DatetimeIndex(out["date"]).strftime("%Y-%m-%d")
    return out
