"""The results contract: what a run writes to ``results.json``, and reads back to redraw a report.

All returns are fractions (0.25 = +25%), annualised with 252 trading days. Every metric can be
recomputed from ``returns.csv`` (one column per bucket and benchmark ticker) with the formulas in
:mod:`backtest.metrics`; JSON has no NaN, so a metric that cannot be computed is ``null``.
"""

from __future__ import annotations

import datetime as dt
import math

from pydantic import BaseModel, ConfigDict, field_validator


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    return value if math.isfinite(value) else None


class Metrics(_Result):
    """Whole-window metrics of one return series, over the days it has a return."""

    first_date: dt.date | None
    last_date: dt.date | None
    days: int
    total_return: float | None
    cagr: float | None
    volatility: float | None
    sharpe: float | None
    max_drawdown: float | None

    _finite_floats = field_validator(
        "total_return", "cagr", "volatility", "sharpe", "max_drawdown", mode="before"
    )(_finite)


class Relative(_Result):
    """A bucket against one benchmark over the days both have a return."""

    first_date: dt.date | None
    last_date: dt.date | None
    days: int
    bucket_total_return: float | None
    benchmark_total_return: float | None
    excess_total_return: float | None

    _finite_floats = field_validator(
        "bucket_total_return", "benchmark_total_return", "excess_total_return", mode="before"
    )(_finite)


class MemberResult(_Result):
    """One member of a bucket: its status, its prices and whether the run held it."""

    ticker: str
    status: str
    first_date: dt.date | None
    """First price in the window (None: no price in the window)."""
    last_date: dt.date | None
    joined: dt.date | None
    """Close at which it was first bought."""
    exited: dt.date | None
    """Close at which it was sold because its prices stopped (None: held to the end)."""
    used: bool
    reason: str | None = None
    """Why it was not used (rejected, not verified, no prices, ...)."""


class BucketResult(_Result):
    """One bucket: who was in it, how it did, and how it compared with every benchmark."""

    side: str
    description: str | None
    status_counts: dict[str, int]
    """Members per status in the universe file: verified / proposed / rejected."""
    members: list[MemberResult]
    inception: dt.date | None
    overlaps: dict[str, list[str]]
    """Tickers this long bucket shares with other long buckets (ticker → those buckets)."""
    metrics: Metrics
    vs: dict[str, Relative]


class BenchmarkResult(_Result):
    """A benchmark: a ticker (buy and hold) or a bucket of the universe."""

    kind: str
    metrics: Metrics


class ClaimDate(_Result):
    """A claim's id and start date, for marking charts (the verdicts come with ``claims.json``)."""

    id: str
    bucket: str
    benchmark: str
    start: dt.date
    end: dt.date | None


class RunInfo(_Result):
    """How the run was made: enough to reproduce it."""

    bucketmap_version: str
    created_at: str
    start_requested: dt.date
    start: dt.date
    """First close of the window: buckets and benchmarks are bought here."""
    end: dt.date
    trading_days: int
    """Days with a return (the window's closes after the first)."""
    calendar: str
    rebalance: str
    weighting: str
    cost_bps: float
    verified_only: bool
    price_source: str
    data_last_date: dt.date
    annualisation_days: int
    risk_free: str
    warnings: list[str]
    """Allowed but worth knowing: overlaps between long buckets, custom weights not summing to 1."""
    limitations: list[str]


class RunResult(_Result):
    """Everything ``results.json`` holds."""

    run: RunInfo
    buckets: dict[str, BucketResult]
    benchmarks: dict[str, BenchmarkResult]
    claims: list[ClaimDate]
