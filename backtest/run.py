"""One backtest run: a universe and its prices in, a :class:`RunResult` and its frames out.

This module wires the engine stages together (window and calendar, simulation, metrics) and
accounts for every member that was not used. It does no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from backtest.conventions import RISK_FREE_TICKER, Weighting
from backtest.evidence import metrics as m
from backtest.evidence.metrics import risk_free_daily
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
from backtest.simulation.engine import MemberSpan, Simulation, simulate_buckets
from backtest.simulation.prepare import PreparedRun, RunOptions, prepare_run
from buckets.errors import RunConfigError
from buckets.models import Side, Status, Universe

LIMITATIONS = [
    "Survivorship: the price data holds only tickers still listed when it was taken; "
    "delisted names are absent, which flatters any basket picked today.",
    "Buckets are picked with hindsight from notes written in 2025-2026; returns before a "
    "note's date show what the basket did, not what anyone could have chosen then.",
    "Prices are adjusted closes (dividends reinvested); no taxes; costs only as --cost-bps.",
]


@dataclass
class RunOutput:
    """A run's result and the frames written beside it."""

    result: RunResult
    returns: pd.DataFrame
    """date × (bucket | benchmark ticker) daily returns, from the first return day."""
    weights: pd.DataFrame
    """Long table date, bucket, ticker, weight: the target weights set at each event."""
    contributions: pd.DataFrame
    """Long table window, start, end, bucket, ticker (or ``costs``), contribution: each member's
    part of the bucket's compounded return over each analysis window (they add up to it;
    results.json's ``windows.*.contributions``)."""
    daily_contributions: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Bucket → date × (ticker…, ``costs``) parts of each daily return (they sum to it); as a long
    table with :func:`daily_contributions_table`."""


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
    a, b = m.shared_days(bucket, benchmark)  # aligned once: relative_figures finds them so
    return Relative(
        first_date=a.index[0].date() if len(a) else None,
        last_date=a.index[-1].date() if len(a) else None,
        **m.relative_figures(a, b),
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


def claim_date_warnings(calendar: pd.DatetimeIndex, claim_date: dt.date | None) -> list[str]:
    """Why the run has no ``pre`` and ``post`` windows although it has a claim date: the date is
    not strictly inside the run (``--claim-date`` after the data's last day, or on or before
    the run's first), so :func:`analysis_windows` leaves them out. Empty otherwise."""
    if claim_date is None:
        return []
    start, end = calendar[0].date(), calendar[-1].date()
    if start < claim_date < end:
        return []
    where = f"on or after the run's last day {end}" if claim_date >= end else (
        f"on or before the run's first day {start}"
    )  # fmt: skip
    return [f"the claim date {claim_date} is {where}: the run has no pre and post windows"]


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


def _compared_with(universe: Universe, bucket: str) -> list[str]:
    """What a bucket is compared with: every benchmark, then the benchmarks of its claims."""
    claimed = [c.benchmark for c in universe.claims if c.bucket == bucket]
    return [b for b in dict.fromkeys([*universe.benchmarks, *claimed]) if b != bucket]


def _in(window: Window, r: pd.Series) -> pd.Series:
    idx = pd.DatetimeIndex(r.index)
    return r[(idx > pd.Timestamp(window.start)) & (idx <= pd.Timestamp(window.end))]


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


def run_tickers(universe: Universe) -> list[str]:
    """The single tickers whose daily returns a run reports next to its buckets, in the order of
    ``returns.csv``'s ticker columns: the benchmark tickers, then any claim benchmark that is a
    ticker and not a run benchmark (it is compared with its bucket too)."""
    claim_tickers = [c.benchmark for c in universe.claims if c.benchmark not in universe.buckets]
    return list(dict.fromkeys([*universe.benchmark_tickers(), *claim_tickers]))


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

    returns = pd.concat(
        [sim.returns.iloc[1:], prepared.ticker_returns(run_tickers(universe))], axis=1
    )
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
                vs={
                    b: _relative(r, _in(w, returns[b]))
                    for b in _compared_with(universe, name)
                    if b in returns.columns
                },
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
        calendar="shared trading days of "
        + (", ".join(universe.benchmark_tickers()) or "the members"),
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
        warnings=[*universe.warnings(), *claim_date_warnings(calendar, claim_date)],
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
    daily = dict(sim.contributions)  # date × member on the simulation's days: no copy
    return RunOutput(
        result=result,
        returns=returns,
        weights=weights,
        contributions=window_contributions_table(result),
        daily_contributions=daily,
    )


CONTRIBUTION_COLUMNS = ["window", "start", "end", "bucket", "ticker", "contribution"]


def window_contributions_table(result: RunResult) -> pd.DataFrame:
    """window, start, end, bucket, ticker (or ``costs``), contribution: every bucket's
    ``windows.<w>.contributions`` of ``result`` as one long table (``contributions.csv``), the
    run's windows in order and each bucket's members in its order."""
    dates = {w.name: (w.start.isoformat(), w.end.isoformat()) for w in result.run.windows}
    rows = [
        (window, *dates[window], bucket, ticker, value)
        for bucket, b in result.buckets.items()
        for window, w in b.windows.items()
        for ticker, value in w.contributions.items()
    ]
    order = {w: i for i, w in enumerate(dates)}
    rows.sort(key=lambda row: order[str(row[0])])  # stable: buckets and members keep their order
    return pd.DataFrame(rows, columns=CONTRIBUTION_COLUMNS)


def daily_contributions_table(daily: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """date, bucket, ticker (or ``costs``), contribution: the daily parts of
    :attr:`RunOutput.daily_contributions` (rows with a bucket return only: a day without one has
    NaN parts), bucket by bucket in date order."""
    frames = []
    for bucket, parts in daily.items():
        long = (
            parts.rename_axis("date")
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
