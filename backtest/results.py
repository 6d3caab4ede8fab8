"""The results contract: what a run writes to ``results.json``, and reads back to redraw a report.

All returns are fractions (0.25 = +25%), annualised with 252 trading days. Every metric can be
recomputed from ``returns.csv`` (one column per bucket and benchmark ticker) with the formulas in
:mod:`backtest.evidence.metrics`; JSON has no NaN, so a metric that cannot be computed is ``null``.
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
    excess_return: float | None
    """``(1 + bucket_total_return) / (1 + benchmark_total_return) - 1``: the change of the ratio
    line (the claims' definition of excess)."""
    return_difference: float | None
    """``bucket_total_return - benchmark_total_return`` (shown in percentage points)."""
    annualised_active_return: float | None
    tracking_error: float | None
    information_ratio: float | None
    beta: float | None
    alpha: float | None
    correlation: float | None
    up_capture: float | None
    """Morningstar's upside capture (monthly, geometric), as a fraction (1.0 = 100)."""
    down_capture: float | None
    """Morningstar's downside capture (monthly, geometric)."""
    months: int
    months_beaten_share: float | None

    _finite_floats = field_validator(
        "bucket_total_return",
        "benchmark_total_return",
        "excess_return",
        "return_difference",
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
    rationale: str = ""
    verified_by: str | None = None
    verified_on: dt.date | None = None
    evidence: str | None = None
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


class HedgeWeek(_Result):
    """One of the long book's worst weeks."""

    week_end: dt.date
    """The week's last trading day."""
    long_book: float
    hedge: float


class HedgeResult(_Result):
    """A hedge bucket judged as a hedge: how it moves with the long book (``whole`` window).

    The long book is the mean of the long buckets' daily returns (those with a return that day);
    weeks are calendar weeks over the days both have a return. The bucket is held long in the
    run: as a short hedge it earns the negative of these returns.
    """

    long_buckets: list[str]
    days: int
    beta: float | None
    """OLS slope of the hedge's daily returns on the long book's."""
    correlation: float | None
    worst_weeks: list[HedgeWeek]
    """The long book's 10 worst weeks, worst first, with the hedge's return in each."""
    hedge_mean_in_worst_weeks: float | None
    hedge_fell_share: float | None
    """Share of those weeks in which the hedge fell (a short hedge gained)."""

    _finite_floats = field_validator(
        "beta", "correlation", "hedge_mean_in_worst_weeks", "hedge_fell_share", mode="before"
    )(_finite)


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

    run_id: str = ""
    """The run's identity, shared by every file it writes (``manifest.json`` lists them with
    their checksums); set by the job that writes the folder (``bucketmap.api``)."""
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
    hedges: dict[str, HedgeResult] = {}
    """Per bucket on the hedge side (see :class:`HedgeResult`)."""


# --- claims.json -------------------------------------------------------------------------------


class ExcessTest(_Result):
    """A bucket against a benchmark over one window, with its bootstrap interval and verdict.

    ``excess_return`` is ``(1 + bucket_return) / (1 + benchmark_return) - 1``: the change of the
    ratio line bucket / benchmark, i.e. ``exp(sum of daily excess log returns) - 1``. ``low`` and
    ``high`` bound it with the run's confidence (moving-block bootstrap; see ``ClaimSettings``).
    """

    start: dt.date | None
    """Close the window is measured from (returns of the days after it)."""
    end: dt.date | None
    days: int
    """Days on which both the bucket and the benchmark have a return."""
    bucket_return: float | None
    benchmark_return: float | None
    excess_return: float | None
    low: float | None
    high: float | None
    p_above: float | None = None
    """One-sided bootstrap p-value of "the excess is at or below the claim's level": the quantile
    level at which the bootstrap's quantile function crosses the level (about the share of draws
    at or below it); below ``(1 - confidence) / 2`` exactly when ``low`` lies above the level."""
    p_below: float | None = None
    """The same for "at or above the level": below ``(1 - confidence) / 2`` exactly when
    ``high`` lies below the level."""
    p_negligible: float | None = None
    """With a ``min_effect``: the larger of the p-values of "at or below level − min_effect" and
    "at or above level + min_effect" (two one-sided tests); below ``(1 - confidence) / 2``
    exactly when the interval lies inside level ± min_effect."""
    block_length: int | None = None
    """Block length the bootstrap used (days)."""
    verdict: str
    """The interval's verdict, uncorrected: supported / refuted / negligible / inconclusive /
    insufficient_data."""
    reason: str | None = None
    """Why the verdict is insufficient_data."""

    _finite_floats = field_validator(
        "bucket_return",
        "benchmark_return",
        "excess_return",
        "low",
        "high",
        "p_above",
        "p_below",
        "p_negligible",
        mode="before",
    )(_finite)


class Placebo(_Result):
    """The same test over the equally long window that ends at the claim date."""

    test: ExcessTest
    difference: float | None
    """Claim window's excess return minus the placebo's."""
    difference_low: float | None
    difference_high: float | None
    passes: bool | None
    """False when the placebo is itself supported and the difference is not significantly
    positive: the move was already under way before the note."""

    _finite_floats = field_validator(
        "difference", "difference_low", "difference_high", mode="before"
    )(_finite)


class LeftOut(_Result):
    """The claim's test with one member dropped from the bucket."""

    ticker: str
    column: str
    """Column of ``variants.csv`` holding the bucket without this member."""
    excess_return: float | None
    low: float | None
    high: float | None
    p_above: float | None = None
    p_below: float | None = None
    verdict: str
    """Under the claim's rule: its p-value in the claim's place among the run's claims."""

    _finite_floats = field_validator(
        "excess_return", "low", "high", "p_above", "p_below", mode="before"
    )(_finite)


class LeaveOneOut(_Result):
    members: list[LeftOut]
    flips: list[str]
    """Members whose removal changes the verdict."""
    fragile: bool | None
    """True when any removal changes the verdict (None: the bucket has one member)."""


class BetaAdjusted(_Result):
    """OLS of the bucket's daily returns on the factors' daily returns, over the claim window:
    ``r_bucket = a + sum_k b_k r_k + e``; alpha = ``a × 252``, with a bootstrap interval."""

    factors: list[str]
    days: int
    alpha: float | None
    alpha_low: float | None
    alpha_high: float | None
    betas: dict[str, float | None]
    r_squared: float | None
    verdict: str
    """The claim's verdict rule applied to alpha against 0."""
    reason: str | None = None

    _finite_floats = field_validator(
        "alpha", "alpha_low", "alpha_high", "r_squared", mode="before"
    )(_finite)


class Variant(_Result):
    """One cell of the robustness grid."""

    weighting: str
    rebalance: str
    shift: int
    """Trading days the window's start is moved after the claim date."""
    start: dt.date | None
    bucket_column: str
    benchmark_column: str
    """Columns of ``variants.csv`` (or ``returns.csv`` for a ticker benchmark)."""
    excess_return: float | None
    low: float | None
    high: float | None
    p_above: float | None = None
    p_below: float | None = None
    verdict: str
    """Under the claim's rule (as for :class:`LeftOut`)."""

    _finite_floats = field_validator(
        "excess_return", "low", "high", "p_above", "p_below", mode="before"
    )(_finite)


class Robustness(_Result):
    variants: list[Variant]
    agree: int
    """Variants whose verdict is the claim's."""
    share: float | None


class Significance(_Result):
    """The claim's p-values adjusted across the claims of the run, and the level they are read
    at. The verdict is ``negligible`` when ``p_negligible`` is below ``alpha``, else
    ``supported`` when ``p_above`` is, else ``refuted`` when ``p_below`` is, else
    ``inconclusive`` (with ``none``, exactly the interval's verdict)."""

    correction: str
    """holm / bh / none (``--correction``)."""
    family: int
    """Claims adjusted together: those of the run with a test."""
    alpha: float
    """One-sided level: (1 − confidence) / 2."""
    p_above: float | None
    p_below: float | None
    p_negligible: float | None
    holm_above: float | None
    """Holm-adjusted ``p_above`` whatever the correction: the "adjusted level" control of a
    verdict made with ``--correction none``."""
    holm_below: float | None

    _finite_floats = field_validator(
        "p_above", "p_below", "p_negligible", "holm_above", "holm_below", mode="before"
    )(_finite)


class BlockLength(_Result):
    """The bootstrap's block length for a claim."""

    used: int
    """Days per block in the claim's tests (its placebo, own history, leave-one-out,
    robustness grid and alpha too)."""
    source: str
    """``politis-white`` (automatic) or ``--block-length``."""
    estimate: float | None
    """The Politis–White estimate before rounding and bounds (None when the length was fixed)."""
    low: int
    high: int
    """Bounds of the automatic choice: [5, n // 4]."""

    _finite_floats = field_validator("estimate", mode="before")(_finite)


class LengthCheck(_Result):
    """The claim's test at one fixed block length."""

    block_length: int
    excess_return: float | None
    low: float | None
    high: float | None
    p_above: float | None
    p_below: float | None
    verdict: str
    """Under the claim's rule (as for :class:`LeftOut`)."""

    _finite_floats = field_validator(
        "excess_return", "low", "high", "p_above", "p_below", mode="before"
    )(_finite)


class BlockLengthSensitivity(_Result):
    checks: list[LengthCheck]
    agree: bool | None
    """Every length gives the claim's verdict."""


class OwnHistory(_Result):
    """The claim's excess against every window of its length before its start (see
    :mod:`backtest.evidence.nulls`)."""

    days: int
    """The windows' length: the claim's shared trading days."""
    windows: int
    independent: int
    """Windows that do not overlap: the history's days // ``days``."""
    first_start: dt.date | None
    """Close the first window is measured from."""
    last_end: dt.date | None
    """Last window's last day (the placebo's)."""
    percentile: float | None
    """Share of the windows whose excess is below the claim's."""
    share_above: float | None
    """Share of the windows whose excess is above the claim's."""
    p_value: float | None = None
    """Calibrated chance that a pair without a change gives a window reached by no more of its
    history's windows (simulated; see :func:`backtest.evidence.nulls.rank_p_value`)."""
    p_floor: float | None = None
    """The smallest p-value this much history allows (a window above all of them)."""
    simulations: int = 0
    supported_share: float | None
    """Share the claim's rule (uncorrected) calls supported: its false-positive rate on this
    pair when nothing changed."""
    refuted_share: float | None
    p05: float | None
    median: float | None
    p95: float | None
    resamples: int
    passes: bool | None
    """For a supported verdict: ``p_value`` is under ``alpha`` (the claim's excess was unusual
    for this pair). None for other verdicts, or when the history is too short to tell."""
    reason: str | None = None
    """Why there is no percentile or the control cannot pass (too few windows, too short a
    history), and how early ``--start`` must be."""

    _finite_floats = field_validator(
        "percentile",
        "share_above",
        "supported_share",
        "refuted_share",
        "p05",
        "median",
        "p95",
        mode="before",
    )(_finite)


class Power(_Result):
    """What the claim's window could detect (see :mod:`backtest.evidence.power`)."""

    power: float
    detectable_above: float | None
    """Smallest excess the rule calls supported in ``power`` of bootstrap worlds with this
    window's volatility and length."""
    detectable_below: float | None
    """Largest (most negative) excess it calls refuted in ``power`` of them."""
    mean_daily: float | None
    """Observed mean daily excess log return."""
    side: str | None
    """What the observed rate, continued, becomes detectable as: supported / refuted."""
    days_needed: int | None
    """Trading days in all the window would need for that."""
    further_days: int | None
    """``days_needed`` minus the days the window has (0 when it has them already)."""
    reason: str | None = None

    _finite_floats = field_validator(
        "detectable_above", "detectable_below", "mean_daily", mode="before"
    )(_finite)


class PathPoint(_Result):
    """The claim's test as of one week's end: the days since its start up to ``as_of`` only."""

    as_of: dt.date
    days: int
    excess_return: float | None = None
    low: float | None = None
    high: float | None = None
    block_length: int | None = None
    verdict: str | None = None
    """The interval's verdict, uncorrected (None before ``min_days``)."""

    _finite_floats = field_validator("excess_return", "low", "high", mode="before")(_finite)


class MatchedCell(_Result):
    """One cell of the matched null: the bucket members in it and the pool members it has."""

    tickers: list[str]
    """The bucket's members in this cell (each basket draws as many from it)."""
    return_bin: int | None
    beta_bin: int | None
    volatility_bin: int | None
    """Bins 1 (lowest) to ``bins`` (:attr:`BasketNull.bins`; quintiles when 5) of the pool's
    trailing 252-day return, 252-day beta to the market ticker and 63-day volatility as of the
    claim's start; None for the members without that much history, which draw from the whole
    eligible pool instead."""
    candidates: int
    """Pool members in the cell (the bucket's own left out)."""


class BasketNull(_Result):
    """Where the bucket's excess ranks among baskets of its size drawn from a pool."""

    kind: str
    """``random`` (any eligible pool member) or ``matched`` (one per member from its cell)."""
    baskets: int
    drawn_from: int
    """Pool members the baskets could hold."""
    percentile: float | None
    """Share of the baskets whose excess is below the bucket's (ties count half), in percent."""
    p_value: float | None
    """``(1 + baskets at or above the bucket's excess) / (baskets + 1)``: the chance that a
    basket drawn this way does at least as well (one-sided)."""
    mean: float | None
    p05: float | None
    p25: float | None
    median: float | None
    p75: float | None
    p95: float | None
    histogram_edges: list[float] = []
    histogram_counts: list[int] = []
    """The baskets' excess returns in equal-width bins (``len(edges) = len(counts) + 1``;
    the last bin includes its right edge), as the report draws them."""
    cells: list[MatchedCell] = []
    bins: int | None = None
    """Quantile bins per feature of the matched null: 5 (quintiles) unless a cell of the
    bucket's would have fewer than 5 pool members per member drawn from it; then 4, 3 or 2."""
    unmatched: list[str] = []
    """Bucket members without a cell (too little history): drawn from the whole pool."""
    reason: str | None = None
    """Why the null was not drawn (too few pool members, a member without history, ...)."""

    _finite_floats = field_validator(
        "percentile", "p_value", "mean", "p05", "p25", "median", "p75", "p95", mode="before"
    )(_finite)


class Special(_Result):
    """Was the basket special? The claim's bucket against random and matched baskets of its
    size from a pool, simulated with the run's rules over the claim window
    (:mod:`backtest.evidence.special`)."""

    pool: str
    pool_source: str
    survivorship: str
    """What the pool's data leave out (only names alive when the data were taken)."""
    pool_tickers: int
    """Tickers read from the pool's source, before any exclusion."""
    eligible: int
    """Pool members that could be drawn for this window."""
    excluded: dict[str, int]
    """Reason → pool members left out for it (each under its first reason)."""
    excluded_examples: dict[str, list[str]]
    """Reason → up to five of those tickers."""
    stopped: int
    """Eligible members whose prices stop inside the window (sold at their last close)."""
    members: int
    """The bucket's size: every basket has as many members."""
    start: dt.date
    """The purchase close (the last trading day on or before the claim's start)."""
    end: dt.date
    days: int
    weighting: str
    rebalance: str
    cost_bps: float
    bucket_excess: float | None
    """The bucket's excess bought at ``start``, simulated as the baskets are (the claim's own
    test continues the run's path from the run's start; with daily rebalancing and no costs the
    two are equal)."""
    market: str
    """The ticker the matched null's beta is measured against."""
    seed: int
    chunk_baskets: int
    executor: str
    random: BasketNull
    matched: BasketNull
    passes: bool | None
    """For a supported verdict: both nulls that were drawn put the bucket's excess above
    ``1 − alpha`` of their baskets (p-value under ``alpha``). None otherwise."""

    _finite_floats = field_validator("bucket_excess", mode="before")(_finite)


class ClaimResult(_Result):
    """One claim, its verdict and its controls."""

    id: str
    source: str
    statement: str
    bucket: str
    benchmark: str
    direction: str
    threshold: float
    min_effect: float = 0.0
    start: dt.date
    end: dt.date | None
    window_complete: bool = True
    """False when the claim's ``end`` lies after the run's last day: tested on the days so far."""
    verdict: str
    """The claim's verdict: its test read at the adjusted level (``significance``)."""
    test: ExcessTest
    significance: Significance | None
    block_length: BlockLength | None
    placebo: Placebo | None
    own_history: OwnHistory | None
    power: Power | None
    leave_one_out: LeaveOneOut | None
    beta_adjusted: BetaAdjusted | None
    robustness: Robustness | None
    block_length_sensitivity: BlockLengthSensitivity | None
    special: Special | None = None
    """Random and matched baskets from a pool, when one was given (``claims special``, or a
    run whose universe has a ``pools.yaml``)."""
    path: list[PathPoint] = []
    """The test as of each week's end since the claim's start (no later prices used): how the
    excess and its interval moved as the days came in."""
    caveats: list[str]
    """The controls the verdict does not survive, one line each."""
    notes: list[str] = []
    """What else the reader must know (a window still open, ...), one line each."""
    survives_controls: bool | None
    """For a supported, refuted or negligible verdict: whether every control that applies to it
    passes."""


class ClaimSettings(_Result):
    """How claims are tested: stated in ``claims.json`` so the numbers can be reproduced."""

    confidence: float
    block_length: int | None
    """Fixed block length (``--block-length``); None: Politis–White per claim."""
    resamples: int
    seed: int
    min_days: int
    correction: str
    """holm / bh / none: how p-values are adjusted across the run's claims."""
    history_resamples: int
    """Resamples per window of the own-history null."""
    history_simulations: int
    """Simulated pairs behind the own-history p-value."""
    min_history_windows: int
    power: float
    sensitivity_lengths: list[int]
    factors: list[str]
    grid_weightings: list[str]
    grid_rebalances: list[str]
    grid_shifts: list[int]
    robust_share: float
    """Share of grid variants that must agree for the verdict to count as robust."""
    method: str


class ClaimsResult(_Result):
    """Everything ``claims.json`` holds."""

    run_id: str = ""
    """The run these claims were tested in (see :attr:`RunInfo.run_id`)."""
    created_at: str
    price_source: str
    data_last_date: dt.date
    run_start: dt.date
    run_end: dt.date
    weighting: str
    rebalance: str
    cost_bps: float
    settings: ClaimSettings
    claims: list[ClaimResult]


class SweepBucket(_Result):
    """Distribution of one bucket's excess returns over its variants (see
    :func:`backtest.sweep.sweep_summary`); recomputable from ``sweep.csv``."""

    bucket: str
    variants: int
    positive: float | None
    min: float | None
    p10: float | None
    p25: float | None
    p50: float | None
    p75: float | None
    p90: float | None
    max: float | None

    _finite_floats = field_validator(
        "positive", "min", "p10", "p25", "p50", "p75", "p90", "max", mode="before"
    )(_finite)


class SweepResult(_Result):
    """Everything ``sweep.json`` holds: how the sweep was run and the summary of ``sweep.csv``."""

    run_id: str = ""
    """The run whose folder and report the sweep belongs to (its own id when swept alone)."""
    bucketmap_version: str
    created_at: str
    price_source: str
    data_last_date: dt.date
    run_start: dt.date
    run_end: dt.date
    cost_bps: float
    buckets: list[str]
    weightings: list[str]
    rebalances: list[str]
    shifts: list[int]
    leave_one_out: bool
    benchmark: str
    variants: int
    method: str
    summary: list[SweepBucket]


# --- board.json --------------------------------------------------------------------------------


class SignalView(_Result):
    """A counter-signal, stop or restart on the board's day."""

    name: str
    description: str
    on: bool | None
    """True: it holds; False: it does not; None: the data cannot tell yet."""
    detail: str
    """Each measured part: its latest value against its threshold."""


class ObservationView(_Result):
    """The latest manual observation of one signal (``claims observe``)."""

    signal: str
    observed_on: dt.date
    value: float | None
    text: str
    source: str


class TrailPoint(_Result):
    """What a board or run recorded about the claim on one day (the ledger), or says now."""

    data_date: dt.date
    source: str
    verdict: str
    excess_return: float | None
    low: float | None
    high: float | None

    _finite_floats = field_validator("excess_return", "low", "high", mode="before")(_finite)


class BoardResolution(_Result):
    resolve_on: dt.date
    data_date: dt.date
    outcome: str
    excess_return: float | None
    low: float | None
    high: float | None
    reason: str
    recorded_at: str


class BoardEntry(_Result):
    """One claim on the board: its state now, what changed since the last board, its signals,
    its resolution and the next thing to look at."""

    id: str
    source: str
    statement: str
    bucket: str
    benchmark: str
    start: dt.date
    end: dt.date | None
    resolve_on: dt.date | None
    verdict: str
    excess_return: float | None
    low: float | None
    high: float | None
    days: int
    p_adjusted: float | None
    compared_with: dt.date | None
    """The data's last day at the board compared with (or the week before, on a first board)."""
    compared_source: str | None
    """``board`` (the last board's record) or ``week before`` (recomputed)."""
    compared_verdict: str | None
    changes: list[str]
    counter_signals: list[SignalView]
    stop: SignalView | None
    restart: SignalView | None
    days_to_resolve: int | None
    """Calendar days from the board's day to ``resolve_on`` (negative: past)."""
    resolution: BoardResolution | None
    observations: list[ObservationView]
    next: str
    """The next thing to look at."""
    trail: list[TrailPoint]
    notes: list[str]

    _finite_floats = field_validator("excess_return", "low", "high", "p_adjusted", mode="before")(
        _finite
    )


class BoardResult(_Result):
    """Everything ``board.json`` holds."""

    bucketmap_version: str
    created_at: str
    as_of: dt.date
    data_last_date: dt.date
    price_source: str
    correction: str
    confidence: float
    ledger: str
    ledger_problems: list[str]
    recorded: bool
    """Whether this board's records were appended to the ledger (not for an earlier --as-of)."""
    verified: int
    proposed: int
    entries: list[BoardEntry]
