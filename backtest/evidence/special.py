"""Was the basket special? The claim's bucket ranked among random and matched baskets.

Every bucket was picked by someone who already knew which stocks had run; the random-portfolio
answer (Burns; Surz; bt's ``benchmark_random``) is to draw many baskets of the same size from
the universe one could have chosen from and see where the bucket ranks. For one claim:

* **The window**: from the purchase close (the last trading day on or before the claim's start)
  to the claim's end (or the data's), on the run's calendar. Every basket and the bucket itself
  are bought at that close and simulated with the run's weighting, rebalance days and costs by
  the engine's contract (:mod:`backtest.simulation.baskets`); the statistic is the claims' excess
  return against the claim's benchmark, ``exp(Σ x_t) − 1``.
* **Random null**: ``N`` baskets of the bucket's size, each drawn without replacement from the
  pool members eligible on the start (:func:`backtest.prices.pools.eligible_on`; the bucket's
  own members left out). A bucket with custom weights lends them to the slots in order.
* **Matched null**: the pool's eligible members put in cells by the quintiles (among
  themselves) of their trailing 252-day return, 252-day beta to the market ticker (SPY) and
  63-day volatility, all as of the start close (quartiles, terciles or halves instead when a
  cell of the bucket's would hold fewer than 5 pool members per member drawn from it); each
  basket draws, for every bucket member, one pool member from that member's cell (no ticker
  twice in a basket). A member with less than
  252 days of prices before the start has no cell: its slot draws from the whole eligible pool,
  and the result names it (``unmatched``). It separates
  "the mechanism" from "momentum, beta and volatility".
* **Rank**: percentile = share of baskets below the bucket's excess (ties half);
  p-value = ``(1 + #baskets at or above) / (N + 1)``, one-sided (Phipson and Smyth's
  permutation p-value, never 0). A supported verdict *passes* when every null drawn gives
  ``p < alpha``.
* **Streams**: baskets come in chunks of ``chunk_baskets``, chunk ``i`` drawing from
  ``SeedSequence([seed, crc32(claim id), null]).spawn(n)[i]``, so the baskets depend on the seed
  and the claim only, never on how many workers run the chunks (:mod:`backtest.executor`).

Only prices up to the start close choose the cells; the window's prices value the baskets, as
they value the bucket. Survivorship: a pool holds the names that had prices when its data were
taken; ``claims.json`` says so with each result.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from backtest.conventions import DEFAULT_BASKETS, Weighting
from backtest.executor import Executor
from backtest.prices.pools import PoolPrices, eligible_on
from backtest.results import BasketNull, ClaimResult, ClaimsResult, MatchedCell, Special
from backtest.simulation.baskets import (
    BasketDraw,
    BasketWindow,
    ChunkTask,
    basket_excess,
    run_chunk,
)
from backtest.simulation.calendar import rebalance_dates
from backtest.simulation.engine import BucketSpec, trailing_volatility
from backtest.simulation.prepare import PreparedRun
from buckets.models import Claim

CHUNK_BASKETS = 1_000
"""Baskets per chunk (one random stream each)."""
MATCH_RETURN_DAYS = 252
MATCH_BETA_DAYS = 252
MATCH_VOL_DAYS = 63
QUINTILES = 5
MIN_CELL_CANDIDATES = 5
"""Pool members a cell needs per bucket member drawn from it (else the bins get coarser)."""
HISTOGRAM_BINS = 40
EXAMPLES = 5
NULLS = ("random", "matched")


@dataclass(frozen=True)
class SpecialOptions:
    """How many baskets, from which stream, in which chunks, and the matched null's market."""

    baskets: int = DEFAULT_BASKETS
    seed: int = 0
    chunk_baskets: int = CHUNK_BASKETS
    market: str = "SPY"


@dataclass
class SpecialOutput:
    """One claim's :class:`~backtest.results.Special` and its baskets (one row each:
    ``claim, null, basket, excess, members``)."""

    result: Special
    baskets: pd.DataFrame


BASKET_COLUMNS = ["claim", "null", "basket", "excess", "members"]


def streams(seed: int, claim_id: str, null: str, chunks: int) -> list[np.random.SeedSequence]:
    """The chunks' random streams of one null of one claim."""
    root = np.random.SeedSequence([seed, zlib.crc32(claim_id.encode()), NULLS.index(null)])
    return root.spawn(chunks)


def chunk_tasks(baskets: int, chunk: int, seed: int, claim_id: str, null: str) -> list[ChunkTask]:
    """``baskets`` cut into chunks of ``chunk`` (the last may be smaller), each with its stream."""
    n = math.ceil(baskets / chunk)
    seeds = streams(seed, claim_id, null, n)
    return [ChunkTask(i, min(chunk, baskets - i * chunk), seeds[i]) for i in range(n)]


def match_features(history: np.ndarray, market: np.ndarray) -> np.ndarray:
    """Columns × (trailing return, beta, volatility) as of the last row of ``history``
    (rows × columns closes valued within each life, the last row the start close).

    Return: ``P_s / P_{s-252} − 1``; beta: ``cov(r_i, r_m) / var(r_m)`` of the last 252 daily
    returns against ``market``'s; volatility: the standard deviation (ddof=1) of the last 63
    daily returns, per day (not annualised). NaN where a column lacks any of those prices."""
    n = MATCH_RETURN_DAYS
    if history.shape[0] < n + 1:
        return np.full((history.shape[1], 3), np.nan)
    window = history[-(n + 1) :]
    with np.errstate(divide="ignore", invalid="ignore"):
        trailing = window[-1] / window[0] - 1.0
        r = window[1:] / window[:-1] - 1.0
        m = market[-(n + 1) :]
        rm = m[1:] / m[:-1] - 1.0
        rb = r[-MATCH_BETA_DAYS:]
        rmb = rm[-MATCH_BETA_DAYS:]
        dm = rmb - rmb.mean()
        beta = ((rb - rb.mean(axis=0)) * dm[:, None]).sum(axis=0) / (dm * dm).sum()
        vol = r[-MATCH_VOL_DAYS:].std(axis=0, ddof=1)
    out = np.column_stack([trailing, beta, vol])
    out[~np.isfinite(out).all(axis=1)] = np.nan
    return out


def feature_cells(
    pool: np.ndarray, members: np.ndarray, bins: int = QUINTILES
) -> tuple[np.ndarray, np.ndarray]:
    """Cells (``bins² q_return + bins q_beta + q_vol``, bins 0 to ``bins − 1``) of the pool's
    rows and of the members' rows, the breakpoints (numpy's linear quantiles at ``1/bins``,
    ``2/bins``, …) taken from the pool's finite rows; -1 where a row has no features."""
    ok = np.isfinite(pool).all(axis=1)
    levels = np.arange(1, bins) / bins
    breaks = np.quantile(pool[ok], levels, axis=0)  # (bins - 1) × 3

    def cells(x: np.ndarray) -> np.ndarray:
        q = np.column_stack(
            [np.searchsorted(breaks[:, j], x[:, j], side="right") for j in range(3)]
        )
        c = q[:, 0] * bins * bins + q[:, 1] * bins + q[:, 2]
        return np.where(np.isfinite(x).all(axis=1), c, -1).astype(np.int64)

    return cells(pool), cells(members)


def rank(excess: np.ndarray, bucket: float) -> tuple[float, float]:
    """The bucket's percentile among ``excess`` (ties half, in percent) and its one-sided
    p-value ``(1 + #{excess ≥ bucket}) / (N + 1)``."""
    below = float((excess < bucket).sum())
    ties = float((excess == bucket).sum())
    n = len(excess)
    return 100.0 * (below + 0.5 * ties) / n, (1.0 + float((excess >= bucket).sum())) / (n + 1.0)


def _null_result(
    kind: str, excess: np.ndarray, bucket: float, drawn_from: int, cells: list[MatchedCell]
) -> BasketNull:
    percentile, p = rank(excess, bucket)
    q = np.quantile(excess, [0.05, 0.25, 0.5, 0.75, 0.95])
    counts, edges = np.histogram(excess, bins=HISTOGRAM_BINS)
    return BasketNull(
        kind=kind,
        baskets=len(excess),
        drawn_from=drawn_from,
        percentile=percentile,
        p_value=p,
        mean=float(excess.mean()),
        p05=float(q[0]),
        p25=float(q[1]),
        median=float(q[2]),
        p75=float(q[3]),
        p95=float(q[4]),
        histogram_edges=[float(e) for e in edges],
        histogram_counts=[int(c) for c in counts],
        cells=cells,
    )


def _not_drawn(
    kind: str, reason: str, drawn_from: int = 0, cells: Sequence[MatchedCell] = ()
) -> BasketNull:
    return BasketNull(
        kind=kind,
        baskets=0,
        drawn_from=drawn_from,
        percentile=None,
        p_value=None,
        mean=None,
        p05=None,
        p25=None,
        median=None,
        p75=None,
        p95=None,
        cells=list(cells),
        reason=reason,
    )


def special_for_claim(
    claim: Claim,
    verdict: str | None,
    alpha: float,
    prepared: PreparedRun,
    returns: pd.DataFrame,
    pool: PoolPrices,
    options: SpecialOptions | None = None,
    executor: Executor | None = None,
) -> SpecialOutput | None:
    """The random and matched nulls of one claim (see the module). ``returns``: the run's daily
    returns with the claim's benchmark among the columns (``ClaimsOutput.returns``); ``verdict``
    the claim's, for ``passes``. None when the claim's bucket was not simulated."""
    options = options or SpecialOptions()
    executor = executor or Executor()
    spec = next((s for s in prepared.specs if s.name == claim.bucket), None)
    if spec is None or not len(spec.tickers):
        return None
    run = prepared.options
    shared = prepared.shared
    calendar = prepared.calendar
    start_ts = pd.Timestamp(claim.start)
    end_ts = min(pd.Timestamp(claim.end) if claim.end else calendar[-1], calendar[-1])
    s = int(shared.searchsorted(start_ts, side="right")) - 1
    e = int(shared.searchsorted(end_ts, side="right")) - 1
    k = len(spec.tickers)
    if s < 0 or shared[s] < calendar[0] or e <= s:
        return None
    eligible = eligible_on(pool, shared, s, e, leave_out=spec.tickers)
    dates = shared[s : e + 1]
    n_pool = len(eligible.tickers)
    pool_closes = pool.prices.reindex(index=shared[: e + 1], columns=eligible.tickers)
    bucket_closes = prepared.prices.reindex(index=shared[: e + 1], columns=list(spec.tickers))
    history = pd.concat([pool_closes, bucket_closes], axis=1, ignore_index=True)
    closes = history.to_numpy(dtype="float64")[s : e + 1]
    rule_days = rebalance_dates(calendar, run.rebalance)
    rebalance = np.asarray(dates.isin(rule_days), dtype=bool)
    bench = returns[claim.benchmark].reindex(dates).to_numpy(dtype="float64")
    bench_log = np.log1p(bench)
    bench_log[0] = np.nan
    vol = None
    if run.weighting is Weighting.inverse_vol:
        vol = trailing_volatility(history).to_numpy(dtype="float64")[s : e + 1]
    window = BasketWindow.of(closes, rebalance, bench_log, vol=vol, cost=run.cost_bps / 10_000.0)
    base = _custom_base(spec, run.weighting)
    bucket_cols = np.arange(n_pool, n_pool + k, dtype=np.int64)
    bucket_value = float(basket_excess(window, bucket_cols[None, :], base)[0][0])

    tables: list[pd.DataFrame] = []
    names = np.array([*eligible.tickers, *spec.tickers], dtype=object)

    def drawn(kind: str, groups: tuple[tuple[np.ndarray, np.ndarray], ...]) -> np.ndarray:
        draw = BasketDraw(window=window, groups=groups, k=k, base=base)
        tasks = chunk_tasks(options.baskets, options.chunk_baskets, options.seed, claim.id, kind)
        parts = executor.map(run_chunk, draw, tasks)
        members = np.concatenate([m for m, _ in parts])
        excess = np.concatenate([x for _, x in parts])
        tables.append(
            pd.DataFrame(
                {
                    "claim": claim.id,
                    "null": kind,
                    "basket": np.arange(1, len(excess) + 1),
                    "excess": excess,
                    "members": [" ".join(row) for row in names[members].tolist()],
                }
            )
        )
        return excess

    if not math.isfinite(bucket_value):
        reason = "the bucket has no excess return over the window"
        random_null = _not_drawn("random", reason, n_pool)
        matched_null = _not_drawn("matched", reason, n_pool)
    elif n_pool < k:
        reason = f"the pool has {n_pool} eligible members, fewer than the bucket's {k}"
        random_null = _not_drawn("random", reason, n_pool)
        matched_null = _not_drawn("matched", reason, n_pool)
    else:
        groups = ((np.arange(k, dtype=np.int64), np.arange(n_pool, dtype=np.int64)),)
        random_null = _null_result("random", drawn("random", groups), bucket_value, n_pool, [])
        matched_null = _matched(prepared, options, history, s, k, n_pool, spec, bucket_value, drawn)
    nulls = [n for n in (random_null, matched_null) if n.p_value is not None]
    passes = None
    if verdict == "supported" and nulls:
        passes = all(n.p_value is not None and n.p_value < alpha for n in nulls)
    excluded = eligible.excluded
    result = Special(
        pool=pool.name,
        pool_source=pool.source,
        survivorship=pool.survivorship,
        pool_tickers=pool.tickers_read,
        eligible=n_pool,
        excluded={r: len(t) for r, t in excluded.items()},
        excluded_examples={r: t[:EXAMPLES] for r, t in excluded.items()},
        stopped=eligible.stopped,
        members=k,
        start=shared[s].date(),
        end=shared[e].date(),
        days=e - s,
        weighting=run.weighting.value,
        rebalance=run.rebalance.value,
        cost_bps=run.cost_bps,
        bucket_excess=bucket_value,
        market=options.market,
        seed=options.seed,
        chunk_baskets=options.chunk_baskets,
        executor=executor.description,
        random=random_null,
        matched=matched_null,
        passes=passes,
    )
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=BASKET_COLUMNS)
    return SpecialOutput(result, table[BASKET_COLUMNS])


def _custom_base(spec: BucketSpec, weighting: Weighting) -> np.ndarray | None:
    if weighting is Weighting.custom and spec.weights:
        return np.array([float(spec.weights.get(t, 0.0)) for t in spec.tickers])
    return None


def _matched(
    prepared: PreparedRun,
    options: SpecialOptions,
    history: pd.DataFrame,
    s: int,
    k: int,
    n_pool: int,
    spec: BucketSpec,
    bucket_value: float,
    drawn: Callable[[str, tuple[tuple[np.ndarray, np.ndarray], ...]], np.ndarray],
) -> BasketNull:
    market = prepared.prices.get(options.market)
    if market is None:
        return _not_drawn("matched", f"no prices for {options.market}, the matched null's market")
    shared = prepared.shared
    lo = max(0, s - MATCH_RETURN_DAYS)
    filled = history.iloc[lo : s + 1].ffill().to_numpy(dtype="float64")
    mkt = market.reindex(shared[lo : s + 1]).ffill().to_numpy(dtype="float64")
    if s - lo < MATCH_RETURN_DAYS or not np.isfinite(mkt).all():
        return _not_drawn(
            "matched",
            f"fewer than {MATCH_RETURN_DAYS} trading days of {options.market} before the start",
        )
    features = match_features(filled, mkt)
    lacking = [t for t, c in zip(spec.tickers, features[n_pool:], strict=True) if np.isnan(c).any()]
    for bins in range(QUINTILES, 1, -1):  # quintiles unless a cell is too thin
        pool_cells, member_cells = feature_cells(features[:n_pool], features[n_pool:], bins)
        cells: list[MatchedCell] = []
        groups: list[tuple[np.ndarray, np.ndarray]] = []
        short: list[str] = []
        for cell in sorted(set(member_cells.tolist())):
            slots = np.flatnonzero(member_cells == cell).astype(np.int64)
            if cell < 0:
                candidates = np.arange(n_pool, dtype=np.int64)
            else:
                candidates = np.flatnonzero(pool_cells == cell).astype(np.int64)
            tickers = [spec.tickers[int(i)] for i in slots]
            binned = cell >= 0
            cells.append(
                MatchedCell(
                    tickers=tickers,
                    return_bin=cell // (bins * bins) + 1 if binned else None,
                    beta_bin=(cell // bins) % bins + 1 if binned else None,
                    volatility_bin=cell % bins + 1 if binned else None,
                    candidates=len(candidates),
                )
            )
            groups.append((slots, candidates))
            if len(candidates) < MIN_CELL_CANDIDATES * len(slots):
                short.append(f"{'/'.join(tickers)} ({len(candidates)} for {len(slots)})")
        if not short:
            break
    with_cells = int((pool_cells >= 0).sum())
    if len(lacking) == k:
        return _not_drawn(
            "matched",
            f"no member of the bucket has {MATCH_RETURN_DAYS} trading days of prices before the "
            "start",
            with_cells,
        )
    if short:
        return _not_drawn(
            "matched",
            f"too few pool members in the cells of {', '.join(short)}, even in halves",
            with_cells,
            cells,
        )
    excess = drawn("matched", tuple(groups))
    null = _null_result("matched", excess, bucket_value, with_cells, cells)
    return null.model_copy(update={"unmatched": lacking, "bins": bins})


def with_special(claim: ClaimResult, special: Special, alpha: float) -> ClaimResult:
    """``claim`` with its ``special`` control: a supported verdict whose bucket does not rank
    above ``1 − alpha`` of a null's baskets no longer survives its controls, with a caveat
    saying which null and where the bucket ranked."""
    update: dict[str, object] = {"special": special}
    if special.passes is False:
        failed = [
            n
            for n in (special.random, special.matched)
            if n.p_value is not None and n.p_value >= alpha
        ]
        lines = [
            f"{n.kind} baskets from {special.pool}: the bucket ranks at the "
            f"{n.percentile:.1f}th percentile of {n.baskets:,} (p = {n.p_value:.3f}, needs "
            f"< {alpha:g}); baskets of its size did as well"
            for n in failed
            if n.percentile is not None and n.p_value is not None
        ]
        update["caveats"] = [*claim.caveats, *lines]
        update["survives_controls"] = False
    return claim.model_copy(update=update)


def special_claims(
    prepared: PreparedRun,
    result: ClaimsResult,
    returns: pd.DataFrame,
    pool: PoolPrices,
    alpha: float,
    options: SpecialOptions | None = None,
    executor: Executor | None = None,
) -> tuple[ClaimsResult, pd.DataFrame]:
    """Every claim of ``result`` with its random and matched nulls from ``pool``
    (:func:`special_for_claim`, :func:`with_special`), and all their baskets (``baskets.csv``)."""
    claims: list[ClaimResult] = []
    tables: list[pd.DataFrame] = []
    by_id = {c.id: c for c in prepared.universe.claims}
    for claim_result in result.claims:
        claim = by_id[claim_result.id]
        out = special_for_claim(
            claim, claim_result.verdict, alpha, prepared, returns, pool, options, executor
        )
        if out is None:
            claims.append(claim_result)
            continue
        claims.append(with_special(claim_result, out.result, alpha))
        tables.append(out.baskets)
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=BASKET_COLUMNS)
    return result.model_copy(update={"claims": claims}), table
