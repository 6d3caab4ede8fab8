"""Sweeps: every bucket under many choices at once, so robustness costs seconds, not hours.

A **variant** is a bucket with one weighting (equal or inverse_vol), one rebalance rule, its
start moved ``shift`` trading days later than the run's, and optionally one member left out. The
variants of a grid (:class:`buckets.models.SweepGrid`) are simulated as the columns of one
simulation per chunk: the event plans of all variants are computed with numpy
(:func:`backtest.simulation.engine.plan_events`), then
:func:`backtest.simulation.engine.simulate_plans` runs them as cash-sharing groups, in the closed
form of vectorbt's order arithmetic (:func:`backtest.simulation.orders.holdings_closed_form`,
checked against vectorbt), one chunk of at most ``chunk_columns`` member columns at a time (the
sweep's memory grows with one chunk, not with the whole grid); variants that differ only by
their shift share their path after their first common rebalance (:func:`sweep_chunk`). A
variant gives the returns
:func:`backtest.simulation.engine.simulate_buckets` (vectorbt) gives for its bucket on the run's
window cut at its start, to 1e-12 (tested).

Per variant (one row of ``sweep.csv``), over its return days (after its inception):

* ``total_return`` ``prod(1 + r) - 1``; ``cagr`` ``(1 + total) ** (252 / days) - 1``;
  ``volatility`` ``std(r, ddof=1) * sqrt(252)``; ``sharpe`` ``mean(r - rf) / std(r - rf) *
  sqrt(252)`` with the run's daily risk-free rate (0 without ``^IRX``); ``max_drawdown`` the
  deepest fall of the growth of 1 below its running peak (the start counts as a peak), a
  negative fraction;
* ``benchmark_return`` and ``excess_return`` over the days on which both the variant and the
  benchmark have a return: ``excess = (1 + R_variant) / (1 + R_benchmark) - 1``, the change of
  the ratio line (the claims' definition).

All fractions; annualised over 252 trading days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from backtest.conventions import RISK_FREE_TICKER, Rebalance, Weighting
from backtest.evidence.metrics import TRADING_DAYS, risk_free_daily
from backtest.executor import Executor
from backtest.results import RunResult, SweepBucket, SweepResult
from backtest.simulation.engine import (
    EventPlan,
    PriceLife,
    inception_of,
    plan_events,
    rebalance_positions,
    simulate_buckets,
    simulate_plans,
)
from backtest.simulation.orders import Via
from backtest.simulation.prepare import PreparedRun
from buckets.errors import RunConfigError
from buckets.models import SweepGrid

SWEEP_COLUMNS = [
    "variant",
    "bucket",
    "weighting",
    "rebalance",
    "shift",
    "dropped",
    "members",
    "start",
    "first_return",
    "last_return",
    "days",
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "max_drawdown",
    "benchmark",
    "benchmark_return",
    "excess_return",
]
"""Columns of ``sweep.csv``, in order."""

CHUNK_COLUMNS = 5_000
"""Member columns per simulation: a chunk's arrays are events × columns (at most ~2,700 events,
daily trading over ten years: ~110 MB per array of float64), and a chunk needs a few of them."""


@dataclass(frozen=True)
class Variant:
    """One column of a sweep."""

    bucket: str
    weighting: Weighting
    rebalance: Rebalance
    shift: int
    dropped: str | None
    tickers: tuple[str, ...]


def _grid_buckets(prepared: PreparedRun, grid: SweepGrid) -> list[tuple[str, tuple[str, ...]]]:
    """The grid's buckets with their priced members, after checking the grid fits the run:
    :class:`RunConfigError` for a bucket the universe lacks or a shift that leaves fewer than
    two days of the window."""
    specs = {s.name: s for s in prepared.specs}
    names = grid.buckets or list(specs)
    unknown = [b for b in names if b not in specs]
    if unknown:
        raise RunConfigError(
            f"sweep: no bucket {', '.join(unknown)} in the universe "
            f"(it has {', '.join(specs) or 'none'})"
        )
    too_far = [s for s in grid.shifts if s > len(prepared.calendar) - 2]
    if too_far:
        raise RunConfigError(
            f"sweep: shift {too_far[0]} leaves fewer than 2 days of the window "
            f"({len(prepared.calendar)} trading days)"
        )
    return [(name, tuple(specs[name].tickers)) for name in names]


def _drops(grid: SweepGrid, tickers: tuple[str, ...]) -> list[str | None]:
    return [None, *tickers] if grid.leave_one_out and len(tickers) > 1 else [None]


@dataclass(frozen=True)
class SweepSize:
    """How big a sweep is, counted before anything is built: its variants, their member columns
    in all, and an estimate of the process's peak memory (:func:`sweep_size`)."""

    variants: int
    member_columns: int
    estimated_bytes: int


BASE_BYTES = 400 * 2**20
"""Memory of a process that has imported vectorbt and read a run's prices."""
BYTES_PER_VARIANT = 1_000
"""Memory per variant that lives to the end: its row of the table and of sweep.csv."""
BYTES_PER_COLUMN_DAY = 2
"""Memory per member column and trading day that the sweep keeps until it ends."""
CHUNK_ARRAYS = 5
"""days × member-columns float64 arrays alive at once while a chunk is simulated."""
# Fitted to the peak resident memory of `bucketmap sweep` on the snapshot from 2016 (2,660 days,
# equal / monthly, each member left out): 590 variants 827 MB (estimate 907), 5,900 variants
# 1,174 MB (1,154), 23,600 variants 2,005 MB (1,893), 47,200 variants 2,892 MB (2,880).


def sweep_size(prepared: PreparedRun, grid: SweepGrid, chunk_columns: int) -> SweepSize:
    """The size of ``grid``'s sweep on ``prepared``, by arithmetic alone (nothing is allocated):
    variants = Σ over buckets of (1 + members, with leave-one-out) × weightings × rebalances ×
    shifts. Estimated peak memory: :data:`BASE_BYTES` + the prices + :data:`CHUNK_ARRAYS` arrays
    of days × (a chunk's member columns) floats + :data:`BYTES_PER_COLUMN_DAY` per member column
    and day + :data:`BYTES_PER_VARIANT` per variant (within ~10% of what was measured)."""
    rules = len(grid.weightings) * len(grid.rebalances) * len(grid.shifts)
    variants = columns = 0
    for _, tickers in _grid_buckets(prepared, grid):
        for dropped in _drops(grid, tickers):
            variants += rules
            columns += rules * (len(tickers) - (dropped is not None))
    days = len(prepared.calendar)
    chunk = min(chunk_columns, columns)
    estimate = (
        BASE_BYTES
        + prepared.prices.size * 8
        + CHUNK_ARRAYS * days * chunk * 8
        + BYTES_PER_COLUMN_DAY * days * columns
        + BYTES_PER_VARIANT * variants
    )
    return SweepSize(variants, columns, estimate)


def grid_variants(prepared: PreparedRun, grid: SweepGrid) -> list[Variant]:
    """The grid's variants, in ``sweep.csv`` order: bucket, left-out member (none first),
    weighting, rebalance, shift. A one-member bucket has no leave-one-out variants.

    Raises :class:`RunConfigError` for a bucket the universe lacks or a shift that leaves fewer
    than two days of the window.
    """
    variants: list[Variant] = []
    for name, tickers in _grid_buckets(prepared, grid):
        for dropped in _drops(grid, tickers):
            kept = tuple(t for t in tickers if t != dropped)
            for weighting in grid.weightings:
                for rebalance in grid.rebalances:
                    for shift in grid.shifts:
                        variants.append(
                            Variant(
                                name,
                                Weighting(weighting),
                                Rebalance(rebalance),
                                shift,
                                dropped,
                                kept,
                            )
                        )
    return variants


def benchmark_returns(prepared: PreparedRun, benchmark: str) -> pd.Series:
    """Daily returns of ``benchmark`` on the run's calendar: a ticker's own, or a bucket's under
    the run's rules. Raises :class:`RunConfigError` when it has neither prices nor a bucket."""
    if benchmark in prepared.universe.buckets:
        spec = next((s for s in prepared.specs if s.name == benchmark), None)
        if spec is None:
            raise RunConfigError(f"sweep: benchmark bucket {benchmark} has no priced member")
        options = prepared.options
        sim = simulate_buckets(
            prepared.window,
            [spec],
            rebalance=options.rebalance,
            weighting=options.weighting,
            cost_bps=options.cost_bps,
            volatility=prepared.volatility()
            if options.weighting is Weighting.inverse_vol
            else None,
        )
        return sim.returns[benchmark]
    if benchmark not in prepared.prices.columns:
        raise RunConfigError(
            f"sweep: benchmark {benchmark} has no prices in {prepared.price_source}"
        )
    window = prepared.window[benchmark]
    return window / window.shift(1) - 1.0


def _chunks(variants: Sequence[Variant], limit: int) -> Iterator[Sequence[Variant]]:
    start, columns = 0, 0
    for i, v in enumerate(variants):
        if columns and columns + len(v.tickers) > limit:
            yield variants[start:i]
            start, columns = i, 0
        columns += len(v.tickers)
    if start < len(variants):
        yield variants[start:]


def variant_metrics(
    returns: np.ndarray, benchmark: np.ndarray, risk_free: np.ndarray
) -> dict[str, np.ndarray]:
    """The per-variant figures of ``sweep.csv`` (see the module docstring) for the columns of
    ``returns`` (days × variants, NaN outside each variant's life); ``benchmark`` and
    ``risk_free`` are daily series on the same days. One compiled pass over the days
    (:func:`backtest.simulation.kernels.variant_metrics_nb`): every sum and product runs day by
    day, as numpy's reductions along the days axis do, with no days × variants temporaries."""
    from backtest.simulation.kernels import variant_metrics_nb

    out = variant_metrics_nb(
        np.ascontiguousarray(returns, dtype=np.float64),
        np.ascontiguousarray(benchmark, dtype=np.float64),
        np.ascontiguousarray(risk_free, dtype=np.float64),
        float(TRADING_DAYS),
    )
    names = ["total_return", "cagr", "volatility", "sharpe", "max_drawdown",
             "benchmark_return", "excess_return"]  # fmt: skip
    return {"days": out[0].astype(np.int64), **dict(zip(names, out[1:], strict=True))}


@dataclass
class SweepOutput:
    """A sweep's rows (``sweep.csv``) and, when asked for, every variant's daily returns."""

    table: pd.DataFrame
    returns: pd.DataFrame | None = None


def run_sweep(
    prepared: PreparedRun,
    grid: SweepGrid,
    *,
    chunk_columns: int = CHUNK_COLUMNS,
    keep_returns: bool = False,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
    share_paths: bool = True,
) -> SweepOutput:
    """Simulate every variant of ``grid`` over the run's window and tabulate its figures
    (:func:`sweep_variants` on :func:`grid_variants`), on ``executor``'s workers."""
    return sweep_variants(
        prepared,
        grid_variants(prepared, grid),
        grid.benchmark,
        chunk_columns=chunk_columns,
        keep_returns=keep_returns,
        progress=progress,
        executor=executor,
        share_paths=share_paths,
    )


def sweep_variants(
    prepared: PreparedRun,
    variants: Sequence[Variant],
    benchmark: str,
    *,
    chunk_columns: int = CHUNK_COLUMNS,
    keep_returns: bool = False,
    progress: Callable[[int, int], None] | None = None,
    via: Via = "closed_form",
    executor: Executor | None = None,
    share_paths: bool = True,
) -> SweepOutput:
    """Simulate ``variants`` over the run's window, ``chunk_columns`` member columns per
    simulation, and tabulate their figures against ``benchmark``. ``via="portfolio"`` runs each
    chunk through ``vectorbt.Portfolio.from_orders`` instead of the closed form (the benchmark
    script's "vectorbt used directly"). Variants that differ only by their shift share their
    path after their first common rebalance (:func:`sweep_chunk`); ``share_paths=False``
    simulates every variant over the whole window (the same figures to ~1e-14).

    The chunks run where ``executor`` says (:mod:`backtest.executor`: this process by default,
    local processes or a Dask cluster); each chunk's rows depend on its own variants only, so the
    table is the same on any executor (tested). ``progress(done, total)`` is called as chunks
    come back, in order. With ``keep_returns`` the daily returns (date × variant number) are
    kept too (memory: days × variants × 8 bytes).
    """
    bench = benchmark_returns(prepared, benchmark).to_numpy(dtype="float64")
    calendar = prepared.calendar
    irx = prepared.series.get(RISK_FREE_TICKER)
    rf = risk_free_daily(irx, calendar)
    risk_free = (
        rf.reindex(calendar).to_numpy(dtype="float64")
        if isinstance(rf, pd.Series)
        else np.full(len(calendar), float(rf))
    )
    used = list(dict.fromkeys(t for v in variants for t in v.tickers))
    life = PriceLife.of(prepared.window.loc[:, used])
    vol = None
    if any(v.weighting is Weighting.inverse_vol for v in variants):
        vol = prepared.volatility().reindex(columns=used).to_numpy(dtype="float64")
    shared = _SweepInputs(
        life=life,
        column_of={t: i for i, t in enumerate(used)},
        volatility=vol,
        rebalances={
            rule: rebalance_positions(life.index, rule) for rule in {v.rebalance for v in variants}
        },
        cost_bps=prepared.options.cost_bps,
        benchmark=bench,
        risk_free=risk_free,
        calendar=calendar,
        benchmark_name=benchmark,
        via=via,
        keep_returns=keep_returns,
        share_paths=share_paths,
    )
    tasks: list[tuple[int, Sequence[Variant]]] = []
    done = 0
    for chunk in _chunks(variants, chunk_columns):
        tasks.append((done, chunk))
        done += len(chunk)

    def chunk_done(i: int) -> None:
        if progress is not None:
            offset, chunk = tasks[i]
            progress(offset + len(chunk), len(variants))

    results = (executor or Executor()).map(sweep_chunk, shared, tasks, on_result=chunk_done)
    rows = [table for table, _ in results]
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=SWEEP_COLUMNS)
    out = None
    if keep_returns:
        kept = [r for _, r in results if r is not None]
        out = pd.DataFrame(
            np.hstack(kept) if kept else np.empty((len(calendar), 0)),
            index=pd.DatetimeIndex(calendar, name="date"),
            columns=pd.RangeIndex(1, len(variants) + 1, name="variant"),
        )
    return SweepOutput(table[SWEEP_COLUMNS], out)


@dataclass(frozen=True)
class _SweepInputs:
    """What every chunk of a sweep reads (sent once to each worker)."""

    life: PriceLife
    column_of: dict[str, int]
    volatility: np.ndarray | None
    rebalances: dict[Rebalance, np.ndarray]
    cost_bps: float
    benchmark: np.ndarray
    risk_free: np.ndarray
    calendar: pd.DatetimeIndex
    benchmark_name: str
    via: Via
    keep_returns: bool
    share_paths: bool = True


def sweep_chunk(
    shared: _SweepInputs, task: tuple[int, Sequence[Variant]]
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """One chunk of variants (numbered from ``offset + 1``): its rows of ``sweep.csv`` and, when
    kept, its daily returns (days × variants).

    Variants of one bucket, weighting and rule that differ only by their shift share a path: on
    the first rebalance day after both have bought, each is brought to the same target weights
    with all its value, so from the next day on their daily returns are the same. The first such
    variant of the chunk is simulated over the whole window; each other one only up to that
    rebalance day, on the prices up to it (:meth:`PriceLife.cut`), and takes the first one's
    returns after it (they differ from its own simulation's by rounding, ~1e-16)."""
    offset, chunk = task
    life, n_days = shared.life, len(shared.life.index)
    cols_of = [np.array([shared.column_of[t] for t in v.tickers], dtype=np.int64) for v in chunk]
    shares = _shared_paths(shared, chunk, cols_of) if shared.share_paths else {}
    own = [i for i in range(len(chunk)) if i not in shares]
    plans = [(cols_of[i], _plan(shared, life, chunk[i], cols_of[i])) for i in own]
    returns = np.empty((n_days, len(chunk)))
    returns[:, own] = simulate_plans(life, plans, cost_bps=shared.cost_bps, via=shared.via).returns
    starts = np.empty(len(chunk), dtype=np.int64)
    starts[own] = [plan.inception for _, plan in plans]
    if shares:
        short = list(shares)
        cut = life.cut(max(day for _, day in shares.values()) + 2)
        head = [
            (cols_of[i], _plan(shared, cut, chunk[i], cols_of[i], end=shares[i][1] + 1))
            for i in short
        ]
        early = simulate_plans(cut, head, cost_bps=shared.cost_bps, via=shared.via).returns
        for k, i in enumerate(short):
            base, day = shares[i]
            returns[: day + 1, i] = early[: day + 1, k]
            returns[day + 1 :, i] = returns[day + 1 :, base]
        starts[short] = [plan.inception for _, plan in head]
    figures = variant_metrics(returns, shared.benchmark, shared.risk_free)
    table = _table(chunk, offset, figures, returns, shared.calendar, starts, shared.benchmark_name)
    return table, returns if shared.keep_returns else None


def _plan(
    shared: _SweepInputs,
    life: PriceLife,
    v: Variant,
    cols: np.ndarray,
    end: int | None = None,
) -> EventPlan:
    return plan_events(
        life,
        cols,
        shared.rebalances[v.rebalance],
        start=v.shift,
        volatility=shared.volatility if v.weighting is Weighting.inverse_vol else None,
        end=end,
    )


def _shared_paths(
    shared: _SweepInputs, chunk: Sequence[Variant], cols_of: Sequence[np.ndarray]
) -> dict[int, tuple[int, int]]:
    """For each variant of ``chunk`` that shares its path with an earlier one (same bucket,
    members, weighting and rule, another shift): that variant's index and the rebalance day after
    which their returns are the same (the first rebalance after both bought, before the window's
    last day). Variants that never buy, or find no such day, share nothing."""
    n_days = len(shared.life.index)
    first_of: dict[tuple[object, ...], tuple[int, int]] = {}
    out: dict[int, tuple[int, int]] = {}
    for i, v in enumerate(chunk):
        bought = inception_of(shared.life, cols_of[i], v.shift)
        if bought < 0:
            continue
        key = (v.tickers, v.weighting, v.rebalance)
        if key not in first_of:
            first_of[key] = (i, bought)
            continue
        base, base_bought = first_of[key]
        days = shared.rebalances[v.rebalance]
        k = int(np.searchsorted(days, max(bought, base_bought), side="right"))
        if k < len(days) and days[k] < n_days - 1:
            out[i] = (base, int(days[k]))
    return out


def _table(
    chunk: Sequence[Variant],
    offset: int,
    figures: dict[str, np.ndarray],
    returns: np.ndarray,
    calendar: pd.DatetimeIndex,
    starts: np.ndarray,
    benchmark: str,
) -> pd.DataFrame:
    have = ~np.isnan(returns)
    any_return = have.any(axis=0)
    first = np.where(any_return, have.argmax(axis=0), -1)
    last = np.where(any_return, len(calendar) - 1 - have[::-1].argmax(axis=0), -1)

    def dates(pos: np.ndarray) -> list[str]:
        return [calendar[p].date().isoformat() if p >= 0 else "" for p in pos]

    frame = pd.DataFrame(
        {
            "variant": np.arange(offset + 1, offset + len(chunk) + 1),
            "bucket": [v.bucket for v in chunk],
            "weighting": [v.weighting.value for v in chunk],
            "rebalance": [v.rebalance.value for v in chunk],
            "shift": [v.shift for v in chunk],
            "dropped": [v.dropped or "" for v in chunk],
            "members": [len(v.tickers) for v in chunk],
            "start": dates(starts),
            "first_return": dates(first),
            "last_return": dates(last),
            "benchmark": benchmark,
        }
    )
    for name, values in figures.items():
        frame[name] = values
    return frame


SUMMARY_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def sweep_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Distribution of ``excess_return`` per bucket over its variants: ``variants``, ``positive``
    (share of variants with excess > 0), ``min``, the 10/25/50/75/90% quantiles (numpy's linear
    rule) as ``p10`` … ``p90``, and ``max``. Variants without an excess return are left out."""
    rows = []
    for bucket, group in table.groupby("bucket", sort=False):
        x = group["excess_return"].dropna().to_numpy(dtype="float64")
        row: dict[str, object] = {"bucket": bucket, "variants": len(x)}
        if len(x):
            row["positive"] = float((x > 0).mean())
            row["min"] = float(x.min())
            for q, value in zip(SUMMARY_QUANTILES, np.quantile(x, SUMMARY_QUANTILES), strict=True):
                row[f"p{round(q * 100)}"] = float(value)
            row["max"] = float(x.max())
        rows.append(row)
    columns = ["bucket", "variants", "positive", "min"]
    columns += [f"p{round(q * 100)}" for q in SUMMARY_QUANTILES] + ["max"]
    return pd.DataFrame(rows).reindex(columns=columns)


SWEEP_METHOD = (
    "each variant simulated by vectorbt (targetpercent orders, one cash-sharing group per "
    "variant, costs as in the run) from its start (the run's start moved `shift` trading days "
    "later); excess_return = (1 + variant total return) / (1 + benchmark total return) - 1 over "
    "the days both have a return; cagr, volatility and sharpe annualised with 252 days; sharpe "
    "with the run's daily risk-free rate; quantiles: numpy linear"
)


def sweep_result(
    prepared: PreparedRun, grid: SweepGrid, table: pd.DataFrame, *, version: str = "0"
) -> SweepResult:
    """``sweep.json``: the sweep's settings and the per-bucket summary of ``table``."""
    summary = sweep_summary(table)
    records = summary.astype(object).where(summary.notna(), None).to_dict("records")
    return SweepResult(
        bucketmap_version=version,
        created_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        price_source=prepared.price_source,
        data_last_date=max(s.index[-1] for s in prepared.series.values()).date(),
        run_start=prepared.calendar[0].date(),
        run_end=prepared.calendar[-1].date(),
        cost_bps=prepared.options.cost_bps,
        buckets=list(dict.fromkeys(table["bucket"])),
        weightings=list(grid.weightings),
        rebalances=list(grid.rebalances),
        shifts=list(grid.shifts),
        leave_one_out=grid.leave_one_out,
        benchmark=grid.benchmark,
        variants=len(table),
        method=SWEEP_METHOD,
        summary=[SweepBucket.model_validate(r) for r in records],
    )


def run_differences(result: RunResult, prepared: PreparedRun) -> list[str]:
    """How the run of ``results.json`` and a sweep's prepared run differ, one phrase each (empty:
    the sweep belongs with that run): window, last date of data, costs, --verified-only, and each
    bucket's members with their status."""
    run, options = result.run, prepared.options
    out: list[str] = []
    start, end = prepared.calendar[0].date(), prepared.calendar[-1].date()
    if (run.start, run.end) != (start, end):
        out.append(f"the run is {run.start} → {run.end}, the sweep {start} → {end}")
    data_last = max(s.index[-1] for s in prepared.series.values()).date()
    if run.data_last_date != data_last:
        out.append(f"the run's data end {run.data_last_date}, the sweep's {data_last}")
    if run.cost_bps != options.cost_bps:
        out.append(f"the run costs {run.cost_bps:g} bps, the sweep {options.cost_bps:g}")
    if run.verified_only != options.verified_only:
        out.append("one of them uses verified members only")
    theirs = {
        name: [(m.ticker, m.status) for m in bucket.members]
        for name, bucket in result.buckets.items()
    }
    ours = {
        name: [(m.ticker, m.status.value) for m in bucket.members]
        for name, bucket in prepared.universe.buckets.items()
    }
    changed = sorted(b for b in {*theirs, *ours} if theirs.get(b) != ours.get(b))
    if changed:
        out.append(f"the universe changed since the run ({', '.join(changed)})")
    return out


def sweep_mismatch(result: RunResult, sweep: SweepResult) -> str | None:
    """Why ``sweep.json`` does not belong with the run of ``results.json`` (None: it does): its
    run id, window, last date of data or costs differ."""
    run = result.run
    if sweep.run_id != run.run_id:
        return f"it was made for run {sweep.run_id or '(none)'}, not run {run.run_id}"
    if (sweep.run_start, sweep.run_end, sweep.data_last_date, sweep.cost_bps) != (
        run.start,
        run.end,
        run.data_last_date,
        run.cost_bps,
    ):
        return "its window, data or costs are not the run's"
    return None
