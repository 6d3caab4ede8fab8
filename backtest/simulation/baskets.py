"""Many small baskets over one window, simulated in one compiled loop.

The random- and matched-basket nulls (:mod:`backtest.evidence.special`) simulate ten thousand
or more baskets of a bucket's size over a claim's window. Each basket follows the engine's
contract for one bucket (:mod:`backtest.simulation.engine`; the loop is
:func:`backtest.simulation.kernels.basket_excess_nb`), so a basket and a bucket of the same
members give the same path; only its summed excess log return against the claim's benchmark is
kept, so memory is the window's prices plus two numbers per basket.

This module imports numpy and the kernel only: it is what a worker process or a Dask worker
loads to run a chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BasketWindow:
    """The arrays every basket of one window reads (rows: the purchase close, then the return
    days; columns: the tickers a basket may hold).

    ``prices``: closes valued within each life (a gap day at the previous close; NaN outside);
    ``first`` / ``last``: each column's first and last priced row (``first`` is ``len(rows)``
    and ``last`` -1 for a column without a price); ``rebalance``: rows that are rebalance days;
    ``bench_log``: ``ln(1 + r)`` of the benchmark per row (NaN on row 0 and where it has no
    return); ``vol``: trailing σ per row and column for inverse-volatility weights, else None;
    ``cost``: fees as a fraction of traded value."""

    prices: np.ndarray
    first: np.ndarray
    last: np.ndarray
    rebalance: np.ndarray
    bench_log: np.ndarray
    vol: np.ndarray | None
    cost: float

    @classmethod
    def of(
        cls,
        closes: np.ndarray,
        rebalance: np.ndarray,
        bench_log: np.ndarray,
        *,
        vol: np.ndarray | None = None,
        cost: float = 0.0,
    ) -> BasketWindow:
        """Lay out ``closes`` (rows × columns, NaN where there is no quote)."""
        closes = np.asarray(closes, dtype="float64")
        priced = ~np.isnan(closes)
        n_rows = closes.shape[0]
        has = priced.any(axis=0)
        first = np.where(has, priced.argmax(axis=0), n_rows).astype(np.int64)
        last = np.where(has, n_rows - 1 - priced[::-1].argmax(axis=0), -1).astype(np.int64)
        filled = closes.copy()
        for t in range(1, n_rows):  # previous close inside each life
            gap = np.isnan(filled[t]) & ~np.isnan(filled[t - 1])
            filled[t, gap] = filled[t - 1, gap]
        rows = np.arange(n_rows)[:, None]
        filled[(rows < first) | (rows > last)] = np.nan
        return cls(
            prices=np.ascontiguousarray(filled),
            first=first,
            last=last,
            rebalance=np.asarray(rebalance, dtype=bool),
            bench_log=np.asarray(bench_log, dtype="float64"),
            vol=None if vol is None else np.ascontiguousarray(vol, dtype="float64"),
            cost=float(cost),
        )


def basket_excess(
    window: BasketWindow, members: np.ndarray, base: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each basket's excess return over the window, ``exp(Σ x_t) − 1`` with
    ``x_t = ln(1 + r_basket,t) − ln(1 + r_benchmark,t)`` over the days both have a return (the
    claims' statistic, :mod:`backtest.evidence.claims`), and the number of those days.

    ``members``: baskets × k column positions; ``base``: baskets × k (or k) weights renormalised
    over the live members at each rebalance (None: equal weight); ignored for inverse volatility
    (``window.vol``)."""
    from backtest.simulation.kernels import basket_excess_nb

    members = np.ascontiguousarray(np.atleast_2d(members), dtype=np.int64)
    if base is None:
        weights = np.ones(members.shape, dtype="float64")
    else:
        weights = np.ascontiguousarray(
            np.broadcast_to(np.asarray(base, dtype="float64"), members.shape)
        )
    use_vol = window.vol is not None
    vol = window.vol if window.vol is not None else np.empty((0, 0))
    log_excess, days = basket_excess_nb(
        window.prices,
        window.first,
        window.last,
        members,
        weights,
        vol,
        use_vol,
        window.rebalance,
        window.bench_log,
        window.cost,
    )
    excess = np.where(days > 0, np.expm1(log_excess), np.nan)
    return excess, days


def draw_distinct(rng: np.random.Generator, rows: int, k: int, n: int) -> np.ndarray:
    """``rows`` × ``k`` positions in ``range(n)``, each row ``k`` distinct ones drawn uniformly
    (every ordered k-tuple of distinct positions equally likely): rows with a repeat are drawn
    again until none has one (rejection keeps the uniformity), or, when repeats would be common
    (``k² > n``), each row is the first ``k`` of a random permutation."""
    if k > n:
        raise ValueError(f"cannot draw {k} distinct of {n}")
    if k == 0 or rows == 0:
        return np.empty((rows, k), dtype=np.int64)
    if k * k > n:
        return np.argsort(rng.random((rows, n)), axis=1, kind="stable")[:, :k].astype(np.int64)
    out = rng.integers(0, n, size=(rows, k), dtype=np.int64)
    while (repeat := rows_with_a_repeat(out)).any():
        out[repeat] = rng.integers(0, n, size=(int(repeat.sum()), k), dtype=np.int64)
    return out


def rows_with_a_repeat(members: np.ndarray) -> np.ndarray:
    """Which rows of ``members`` (rows × k) hold some value twice."""
    ordered = np.sort(members, axis=1)
    repeat: np.ndarray = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
    return repeat


@dataclass(frozen=True)
class BasketDraw:
    """What one null's chunks share: the window, where each basket slot draws from and the
    slots' weights.

    ``groups``: (slots, candidates) pairs: the basket slots (positions 0..k-1) filled together,
    without repeats, from the candidate columns. The random null has one group (every slot, every
    eligible pool member); the matched null one per cell (the slots of the bucket's members in
    that cell, the pool members in it; a member without a cell draws from the whole pool). A
    basket never holds a ticker twice: when groups share candidates, a row with a repeat is
    drawn again whole (rejection keeps each row uniform among the rows without repeats)."""

    window: BasketWindow
    groups: tuple[tuple[np.ndarray, np.ndarray], ...]
    k: int
    base: np.ndarray | None


@dataclass(frozen=True)
class ChunkTask:
    """One chunk of baskets and its own random stream (``SeedSequence.spawn``): the baskets it
    draws depend on the stream only, never on which worker runs it."""

    index: int
    baskets: int
    seed: np.random.SeedSequence


def run_chunk(draw: BasketDraw, task: ChunkTask) -> tuple[np.ndarray, np.ndarray]:
    """The chunk's baskets (baskets × k column positions) and their excess returns."""
    rng = np.random.default_rng(task.seed)
    members = _fill(rng, draw, task.baskets)
    if len(draw.groups) > 1:  # groups may share candidates: redraw any row with a repeat
        while (repeat := rows_with_a_repeat(members)).any():
            members[repeat] = _fill(rng, draw, int(repeat.sum()))
    excess, _ = basket_excess(draw.window, members, draw.base)
    return members, excess


def _fill(rng: np.random.Generator, draw: BasketDraw, rows: int) -> np.ndarray:
    members = np.empty((rows, draw.k), dtype=np.int64)
    for slots, candidates in draw.groups:
        picks = draw_distinct(rng, rows, len(slots), len(candidates))
        members[:, slots] = candidates[picks]
    return members
