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
    sortino: float | None
    max_drawdown: float | None
    max_drawdown_peak: dt.date | None
    max_drawdown_trough: dt.date | None
    max_drawdown_recovery: dt.date | None
    """First close back at the peak; None when not recovered inside the window."""
    calmar: float | None
    best_month: float | None
    worst_month: float | None

    _finite_floats = field_validator(
        "total_return",
        "cagr",
        "volatility",
        "sharpe",
        "sortino",
        "max_drawdown",
        "calmar",
        "best_month",
        "worst_month",
        mode="before",
    )(_finite)


class Relative(_Result):
    """A bucket against one benchmark over the days both have a return."""

    first_date: dt.date | None
    last_date: dt.date | None
    days: int
    bucket_total_return: float | None
    benchmark_total_return: float | None
    excess_total_return: float | None
    annualised_active_return: float | None
    tracking_error: float | None
    information_ratio: float | None
    beta: float | None
    alpha: float | None
    correlation: float | None
    up_capture: float | None
    down_capture: float | None
    months: int
    months_beaten_share: float | None

    _finite_floats = field_validator(
        "bucket_total_return",
        "benchmark_total_return",
        "excess_total_return",
        "annualised_active_return",
        "tracking_error",
        "information_ratio",
        "beta",
        "alpha",
        "correlation",
        "up_capture",
        "down_capture",
        "months_beaten_share",
        mode="before",
    )(_finite)


class WindowResult(_Result):
    """A bucket over one named window: its metrics, its relative metrics and who carried it."""

    metrics: Metrics
    vs: dict[str, Relative]
    contributions: dict[str, float | None]
    """Ticker → its share of the bucket's total return over the window (fractions that sum, with
    ``costs``, to ``metrics.total_return``)."""


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
    windows: dict[str, WindowResult]
    """Per named window (``whole``, ``pre``, ``post``, custom); ``metrics``/``vs`` above are
    ``whole``'s, kept at the top for convenience."""


class BenchmarkResult(_Result):
    """A benchmark: a ticker (buy and hold) or a bucket of the universe."""

    kind: str
    metrics: Metrics
    windows: dict[str, Metrics]


class Window(_Result):
    """A named analysis window: the returns of the days ``start < t <= end`` (growth from the
    close of ``start`` to the close of ``end``)."""

    name: str
    start: dt.date
    end: dt.date
    description: str


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
    claim_date: dt.date | None
    """The date ``pre`` and ``post`` are split at (the earliest claim start unless given)."""
    windows: list[Window]
    warnings: list[str]
    """Allowed but worth knowing: overlaps between long buckets, custom weights not summing to 1."""
    limitations: list[str]


class RunResult(_Result):
    """Everything ``results.json`` holds."""

    run: RunInfo
    buckets: dict[str, BucketResult]
    benchmarks: dict[str, BenchmarkResult]
    claims: list[ClaimDate]
