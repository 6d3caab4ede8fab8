"""Bucket simulation: target weights by rule, the portfolio path by vectorbt.

Contract (the README's conventions, followed exactly):

* Input prices are a price frame already cut to the run's window and calendar
  (``DatetimeIndex`` × ticker, adjusted close, ``NaN`` where a ticker has no price).
* A bucket is bought at the close of its *inception day*: the first day of the window on which at
  least one member has a price. Members priced that day are bought.
* At each rebalance close the bucket is set to its target weights over the members that are
  *live* that day (priced, and with a later price still to come). Between rebalances weights
  drift with prices.
* A member that lists inside the window joins at the first rebalance on or after its first price
  (bought at that close; never back-filled). With ``rebalance=none`` it never joins.
* A member whose prices stop before the window ends is sold at the close of its last price, and
  the proceeds are spread over the members still held in proportion to their value at that close.
* A missing quote inside a member's life (a gap day) is valued at the previous close.
* Costs: ``cost_bps`` basis points of traded value at every trade, paid from the bucket pro
  rata: at an event every member is brought to its target weight of what is left after the
  event's fees (:func:`invested_share`), so no member absorbs another's fees.
* The bucket's daily return on day t is ``V_t / V_{t-1} - 1`` of its value; the first return, on
  the day after inception, is measured against the cash invested, so it includes the cost of the
  initial purchase. Before the first return and after the last live member stops, returns are NaN.

vectorbt performs the simulation (its order kernel, as ``Portfolio.from_orders`` runs it, with
``targetpercent`` orders, one cash-sharing group per bucket, sells before buys;
:mod:`backtest.simulation.orders`, which also holds the closed form the weekly history, the
board and the sweep use); the weights it is asked
to reach are computed here with numpy (:func:`plan_events`). Holdings change only at events, so
vectorbt is given only the days on which some bucket trades, and each day's value is the cash
plus the shares held after the last event times that day's close (:func:`simulate_plans`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from backtest.conventions import Rebalance, Weighting
from backtest.simulation.calendar import rebalance_dates
from backtest.simulation.orders import Via, holdings_after_orders


@dataclass(frozen=True)
class BucketSpec:
    """What to simulate for one bucket: its tickers and, for custom weighting, their weights.

    ``rebalance`` and ``weighting`` override the simulation's own for this bucket, so variants of
    a bucket under different rules run as columns of one simulation.
    """

    name: str
    tickers: Sequence[str]
    weights: Mapping[str, float] | None = None
    rebalance: Rebalance | None = None
    weighting: Weighting | None = None


@dataclass(frozen=True)
class MemberSpan:
    """When a member was priced in the window and when it was held."""

    ticker: str
    first_price: pd.Timestamp | None
    last_price: pd.Timestamp | None
    joined: pd.Timestamp | None
    exited: pd.Timestamp | None
    reason: str | None = None
    """Why a member was never held (None when it was)."""


@dataclass
class Simulation:
    """Result of :func:`simulate_buckets`.

    ``returns``: date × bucket daily returns (fractions), NaN outside each bucket's life.
    ``weights``: one row per (date, bucket, ticker) target weight set at an event (inception,
    rebalance, or the sale of a member whose prices stopped), weights of a bucket summing to 1.
    ``members``: bucket → ticker → span.
    """

    returns: pd.DataFrame
    weights: pd.DataFrame
    members: dict[str, dict[str, MemberSpan]] = field(default_factory=dict)
    inception: dict[str, pd.Timestamp | None] = field(default_factory=dict)
    contributions: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Bucket → date × (ticker…, ``costs``): each member's part of the day's return,
    ``shares_{t-1} × (p_t − p_{t-1}) / V_{t-1}``, and costs as what is left; each row sums to the
    bucket's return that day."""


INIT_CASH = 1e9
"""Cash each bucket starts with inside vectorbt. vectorbt ignores orders under 1e-12 shares; with
1 unit of cash and $100+ prices, the small trades of daily rebalancing fall under that and the
bucket drifts from its rule by ~1e-8. Values are divided by it again, so results are per $1."""


VOL_LOOKBACK = 63
"""Trading days of returns behind an inverse-volatility weight."""

AUTO_CALL_SEQ_LIMIT = 64
"""Largest bucket whose order of trades vectorbt sorts itself (``call_seq="auto"``). vectorbt sorts
a group's orders with an insertion sort on every simulated row, which is quadratic in the group's
size (a 10,000-member bucket took ~10 minutes). Larger buckets get the same order computed here:
sells before buys, by the trade each member needs from its drifted weight (see
:func:`trade_order`)."""


RETURNS_CHUNK_COLUMNS = 100_000
"""Member columns per simulation in :func:`simulate_returns` (about 0.8 MB per event per array)."""


def trailing_volatility(prices: pd.DataFrame, lookback: int = VOL_LOOKBACK) -> pd.DataFrame:
    """Standard deviation (ddof=1) of each ticker's last ``lookback`` returns between consecutive
    quotes, up to and including each day (known at that close; no look-ahead). NaN before a
    ticker has ``lookback`` returns and outside its life.

    A day without a quote inside a ticker's life is skipped, not a break: the return across it
    (from the quote before to the quote after) is one of the ``lookback``, and on the gap day the
    σ of the last quote holds. (A rolling window over the calendar would need ``lookback``
    consecutive returns, and one missing quote would leave the ticker without a σ for the next
    ``lookback`` days.)
    """
    out = ticker_returns(prices).rolling(lookback, min_periods=lookback).std(ddof=1)
    inside = fill_within_life(prices).notna()
    for ticker in prices.columns[(inside & prices.isna()).any(axis=0).to_numpy()]:
        quotes = prices[ticker].dropna()
        own = (quotes / quotes.shift(1) - 1.0).rolling(lookback, min_periods=lookback).std(ddof=1)
        out[ticker] = own.reindex(prices.index).ffill().where(inside[ticker])
    return out


def _inverse_vol_weights(live: np.ndarray, vol: np.ndarray) -> np.ndarray:
    """1/σ weights over live members (along the last axis, so one row or many at once); members
    without a σ (too little history) get the average weight 1/n, and the others share the rest in
    proportion to 1/σ. A row without live members is all zeros."""
    live = live.astype(bool)
    n = live.sum(axis=-1, keepdims=True)
    known = live & np.isfinite(vol) & (vol > 0)
    k = known.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = np.where(known, 1.0 / np.where(known, vol, 1.0), 0.0)
        share = inverse / inverse.sum(axis=-1, keepdims=True)
        w = np.where(known, (k / n) * share, np.where(live, 1.0 / n, 0.0))
    return np.where(n > 0, w, 0.0)


def _base_weights(live: np.ndarray, custom: np.ndarray | None) -> np.ndarray:
    """Target weights over the live members (along the last axis): equal, or custom weights
    renormalised over them (all zeros when every live member has custom weight 0)."""
    live = live.astype(bool)
    raw = live.astype("float64") if custom is None else np.where(live, custom, 0.0)
    total = raw.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, raw / total, 0.0)


def fill_within_life(prices: pd.DataFrame) -> pd.DataFrame:
    """Each ticker's closes with a missing day inside its life (between its first and last price)
    valued at the previous close; NaN before the first and after the last price."""
    return prices.ffill().where(prices.bfill().notna())


def _filled_within_life(
    values: np.ndarray, priced: np.ndarray, first: np.ndarray, last: np.ndarray
) -> np.ndarray:
    """:func:`fill_within_life` of a days × tickers array (``priced``, ``first``, ``last`` as in
    :class:`PriceLife`), read-only. Only a ticker with a missing day inside its life changes, so
    only those columns are filled (each from its previous priced day); without any, the answer
    is ``values`` itself and a 12,000-ticker frame is not copied three times."""
    gaps = np.flatnonzero((first >= 0) & (priced.sum(axis=0) < last - first + 1))
    if len(gaps):
        days = np.arange(values.shape[0])[:, None]
        sub = values[:, gaps]
        previous = np.maximum.accumulate(np.where(priced[:, gaps], days, 0), axis=0)
        sub = np.where(days <= last[gaps], np.take_along_axis(sub, previous, axis=0), np.nan)
        values = values.copy(order="K")
        values[:, gaps] = sub
    else:
        values = values.view()
    values.flags.writeable = False
    return values


@dataclass(frozen=True)
class PriceLife:
    """Where each ticker of a price frame (date × ticker) has prices, as positions on its index.

    ``filled``: closes valued within each life (:func:`fill_within_life`), NaN outside;
    ``first`` / ``last``: first and last priced position, -1 when the ticker has no price.
    """

    index: pd.DatetimeIndex
    tickers: list[str]
    filled: np.ndarray
    priced: np.ndarray
    first: np.ndarray
    last: np.ndarray

    @classmethod
    def of(cls, prices: pd.DataFrame) -> PriceLife:
        values = prices.to_numpy(dtype="float64")
        priced = ~np.isnan(values)
        n_days = values.shape[0]
        has_any = priced.any(axis=0)
        first = np.where(has_any, priced.argmax(axis=0), -1)
        last = np.where(has_any, n_days - 1 - priced[::-1].argmax(axis=0), -1)
        return cls(
            index=pd.DatetimeIndex(prices.index),
            tickers=list(prices.columns),
            filled=_filled_within_life(values, priced, first, last),
            priced=priced,
            first=first,
            last=last,
        )

    def last_upto(self, end: int, cols: np.ndarray) -> np.ndarray:
        """Last priced position at or before ``end`` of each of ``cols`` (-1 when none): where a
        window that closes at ``end`` sees each member's last price."""
        last: np.ndarray = self.last[cols]
        later = last > end
        if later.any():
            upto = self.priced[: end + 1, cols[later]]
            has = upto.any(axis=0)
            last = last.copy()
            last[later] = np.where(has, end - upto[::-1].argmax(axis=0), -1)
        return last

    def first_from(self, start: int, cols: np.ndarray) -> np.ndarray:
        """First priced position at or after ``start`` of each of ``cols`` (-1 when none): where
        a window that opens at ``start`` sees each member's first price."""
        first: np.ndarray = self.first[cols]
        if start == 0:
            return first
        first = np.where(self.last[cols] < start, -1, first)  # no price from start on
        before = first >= 0
        before &= first < start
        if before.any():  # priced before start and up to its last price: search from start
            found = first.copy()
            later = self.priced[start:, cols[before]]
            found[before] = np.where(later.any(axis=0), start + later.argmax(axis=0), -1)
            return found
        return first

    def cut(self, days: int) -> PriceLife:
        """This life on its first ``days`` days (views, not copies), for simulating a plan whose
        events all fall before the last of them: ``filled`` and ``priced`` are cut, ``first`` is
        -1 for a ticker first priced later, and ``last`` is cut at day ``days - 1`` (the filled
        closes of a ticker priced after the cut still value it up to there)."""
        inside = self.first < days
        return PriceLife(
            index=self.index[:days],
            tickers=self.tickers,
            filled=self.filled[:days],
            priced=self.priced[:days],
            first=np.where(inside, self.first, -1),
            last=np.where(inside, np.minimum(self.last, days - 1), -1),
        )


@dataclass(frozen=True)
class EventPlan:
    """One bucket's trades: the event positions (inception, rebalances, stops) on the price
    index, the target weights set at each (rows sum to 1, or 0 when nothing can be held), and the
    weights each event finds (the previous targets drifted with prices; zeros at inception)."""

    positions: np.ndarray
    weights: np.ndarray
    drifted: np.ndarray
    first: np.ndarray
    """Each member's first priced position in the plan's window (-1 when none)."""

    @property
    def inception(self) -> int:
        """Position of the first purchase, -1 when nothing can be held."""
        return int(self.positions[0]) if len(self.positions) else -1

    def last_live(self, life: PriceLife, cols: np.ndarray) -> int:
        """Last priced position of the last member ever held, -1 when none is: after it the
        bucket has no return."""
        if not len(self.positions):
            return -1
        held = (self.weights > 0).any(axis=0)
        return int(life.last[cols[held]].max()) if held.any() else -1


def _window_lives(
    life: PriceLife, cols: np.ndarray, start: int, end: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each of ``cols``' first and last priced position inside the window ``start .. end`` (-1
    when none) and whether it can be held there (a price with a later one to come)."""
    first = life.first_from(start, cols)
    first = np.where(first > end, -1, first)
    last = np.where(first >= 0, life.last_upto(end, cols), -1)
    return first, last, (first >= 0) & (first < last)


def inception_of(life: PriceLife, cols: np.ndarray, start: int = 0) -> int:
    """The position at which :func:`plan_events` buys a bucket of ``cols`` whose window opens at
    ``start`` (its first event; -1 when nothing can ever be held)."""
    first, _, holdable = _window_lives(life, cols, start, len(life.index) - 1)
    return int(first[holdable].min()) if holdable.any() else -1


def plan_events(
    life: PriceLife,
    cols: np.ndarray,
    rebalance_positions: np.ndarray,
    *,
    start: int = 0,
    custom: np.ndarray | None = None,
    volatility: np.ndarray | None = None,
    end: int | None = None,
) -> EventPlan:
    """Target weights at each event of a bucket of ``cols`` (positions in ``life.tickers``) whose
    window opens at position ``start`` and ends at position ``end`` (default: the last day of
    ``life.index``).

    Follows the module's contract: inception on the first day a member can be held (priced, with a
    later price to come), rule weights (equal, ``custom`` renormalised, or inverse ``volatility``,
    both per member of ``cols``) at inception and at each of ``rebalance_positions`` after it
    (before ``end``), and at a member's last price before the window ends the drifted weights
    without that member. With ``end``, the plan is the one the prices up to ``end`` alone give
    (``rebalance_positions`` are those of the whole index: a window cut at ``end`` has the same
    rebalance days before it).
    """
    end = len(life.index) - 1 if end is None else end
    first, last, holdable = _window_lives(life, cols, start, end)
    m = len(cols)
    if not holdable.any():
        empty = np.empty((0, m))
        return EventPlan(np.empty(0, dtype=np.int64), empty, empty, first)
    inception = int(first[holdable].min())
    stops = last[(first >= 0) & (last >= inception) & (last < end)]
    rebals = rebalance_positions[(rebalance_positions > inception) & (rebalance_positions < end)]
    positions = np.unique(np.concatenate([[inception], rebals, stops])).astype(np.int64)
    is_rule = (positions == inception) | np.isin(positions, rebals)

    at = positions[:, None]
    can_hold = (at >= first) & (at < last) & (first >= 0)
    if volatility is not None:
        weights = _inverse_vol_weights(can_hold, volatility[positions][:, cols])
    else:
        weights = _base_weights(can_hold, custom)

    prices = life.filled[positions][:, cols]
    for i in np.flatnonzero(~is_rule):  # a stop between rebalances: sell, keep the others' drift
        grown = _drift(weights[i - 1], prices[i - 1], prices[i])
        grown[last == positions[i]] = 0.0
        total = grown.sum()
        weights[i] = grown / total if total > 0 else grown
    drifted = np.zeros_like(weights)
    grown = _drift(weights[:-1], prices[:-1], prices[1:])
    total = grown.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        drifted[1:] = np.where(total > 0, grown / total, 0.0)
    return EventPlan(positions, weights, drifted, first)


def _drift(weights: np.ndarray, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Weights (along the last axis) grown by each held member's price change, not renormalised."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(weights > 0, weights * after / before, 0.0)


def invested_share(plan: EventPlan, cost_bps: float) -> np.ndarray:
    """At each event, the share ``k`` of the bucket's value that stays invested once the fees of
    the event's trades are paid, charged pro rata: every member is brought to ``w_i × k`` of the
    value before trading, so each holds its target weight of what is left and no cash remains.

    With ``c`` the cost rate and ``d_i`` the weights the event finds (:attr:`EventPlan.drifted`),
    the fees are ``c × Σ |w_i k − d_i|`` of the value, so ``k`` solves
    ``k = 1 − c × Σ_i |w_i k − d_i|`` (at inception ``d = 0`` and ``k = 1 / (1 + c)``). The
    right side is piecewise linear in ``k`` with slope at most ``c < 1`` in size, so the root is
    unique; Newton's method on it ends after at most one step per kink.
    """
    c = cost_bps / 10_000.0
    n_events = len(plan.positions)
    k = np.ones(n_events)
    if c == 0 or n_events == 0:
        return k
    w, d = plan.weights, plan.drifted
    for _ in range(2 * w.shape[1] + 2):
        gap = w * k[:, None] - d
        f = k + c * np.abs(gap).sum(axis=1) - 1.0
        slope = 1.0 + c * (w * np.sign(gap)).sum(axis=1)
        step = f / slope
        k = k - step
        if np.all(np.abs(step) <= 1e-16 * np.abs(k)):
            break
    return k


def trade_order(plan: EventPlan, invested: np.ndarray) -> np.ndarray:
    """For each event, the members in the order vectorbt should trade them: by the change each
    needs (target × ``invested`` (:func:`invested_share`) − drifted weight, ascending), so sells
    come first and free the cash the buys use. This is the order ``call_seq="auto"`` finds from
    vectorbt's own positions."""
    return np.argsort(plan.weights * invested[:, None] - plan.drifted, axis=1, kind="stable")


@dataclass
class PlannedValues:
    """What :func:`simulate_plans` returns: per bucket, values on every day of the price index
    (per unit of starting cash; 1.0 before inception) and daily returns
    (:func:`returns_from_values`), and per member the shares held at each close (date × column
    of the plans, concatenated in order)."""

    values: np.ndarray
    returns: np.ndarray
    shares: np.ndarray | None


def simulate_plans(
    life: PriceLife,
    plans: Sequence[tuple[np.ndarray, EventPlan]],
    *,
    cost_bps: float = 0.0,
    keep_shares: bool = False,
    via: Via = "vectorbt",
) -> PlannedValues:
    """Simulate every ``(cols, plan)`` as one cash-sharing group in one call of vectorbt's order
    simulation (:func:`backtest.simulation.orders.holdings_after_orders`; ``via="closed_form"``
    computes the same holdings without vectorbt).

    Holdings change only at events, so vectorbt is given only the days on which some plan trades
    (the union of event positions), and each day's value is the cash plus the shares held after
    the last event times that day's close. A bucket's value is ``INIT_CASH``-scaled inside and
    returned per unit.
    """
    n_days = len(life.index)
    n_groups = len(plans)
    live_plans = [(cols, plan) for cols, plan in plans if len(plan.positions)]
    if not live_plans:
        return PlannedValues(np.ones((n_days, n_groups)), np.full((n_days, n_groups), np.nan), None)
    rows = np.unique(np.concatenate([plan.positions for _, plan in live_plans]))
    all_cols = np.concatenate([cols for cols, _ in plans]).astype(np.int64)
    lens = np.array([len(cols) for cols, _ in plans])
    offsets = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    n_cols = int(lens.sum())

    close = life.filled[rows][:, all_cols]
    size = np.full((len(rows), n_cols), np.nan)
    big = via != "closed_form" and int(lens.max()) > AUTO_CALL_SEQ_LIMIT
    call_seq = (
        np.tile(np.concatenate([np.arange(n) for n in lens]), (len(rows), 1)) if big else None
    )
    for (cols, plan), offset in zip(plans, offsets, strict=True):
        if not len(plan.positions):
            continue
        at = np.searchsorted(rows, plan.positions)
        block = slice(offset, offset + len(cols))
        invested = invested_share(plan, cost_bps)
        size[at, block] = plan.weights * invested[:, None]
        if call_seq is not None:
            call_seq[at, block] = trade_order(plan, invested)
    size[np.isnan(close)] = np.nan  # no order where there is no price
    held, cash = holdings_after_orders(
        close, size, lens, call_seq, init_cash=INIT_CASH, fees=cost_bps / 10_000.0, via=via
    )
    values = _values_between_events(life, rows, held, cash, all_cols, lens) / INIT_CASH
    shares = None
    if keep_shares:  # each day takes the holdings after the last event on or before it
        last_event = np.searchsorted(rows, np.arange(n_days), side="right") - 1
        shares = held[np.maximum(last_event, 0)]
        shares[last_event < 0] = 0.0
    starts = np.array([plan.inception for _, plan in plans])
    ends = np.array([plan.last_live(life, cols) for cols, plan in plans])
    returns = returns_from_values(values, starts, ends)
    return PlannedValues(values, returns, shares)


COMPILED_FROM_COLUMNS = 2_000
"""Member columns from which a simulation's daily values come from the compiled loop of
:mod:`backtest.simulation.kernels` (and see :data:`COMPILED_RETURNS_FROM_CELLS`); below it, from
numpy doing the same operations in the same order (bit for bit the same, tested). numba compiles
a loop on a machine's first call, ~0.2-0.4 s each, which a small run (the default run has a few
hundred member columns) would pay on its first use for no gain."""

COMPILED_RETURNS_FROM_CELLS = 1_000_000
"""Days × buckets from which daily returns come from the compiled loop; below, numpy's five
passes over the table (each a days × buckets temporary) cost little."""


def _values_between_events(
    life: PriceLife,
    rows: np.ndarray,
    held: np.ndarray,
    cash: np.ndarray,
    all_cols: np.ndarray,
    lens: np.ndarray,
) -> np.ndarray:
    """Each group's value on every day (days × groups, in units of cash): ``INIT_CASH`` before
    the first event row; from event row ``rows[k]`` until the next, the cash after that event plus
    the shares held after it times each day's close (``life.filled``; a member is held only
    inside its life, so a missing close adds nothing), added member by member in column order.
    From :data:`COMPILED_FROM_COLUMNS` member columns one compiled loop
    (:func:`backtest.simulation.kernels.group_values_nb`): memory grows with days × groups, not
    days × member columns (a sweep's variants repeat the same tickers thousands of times)."""
    args = (
        life.filled,
        all_cols.astype(np.int64),
        lens.astype(np.int64),
        rows.astype(np.int64),
        np.ascontiguousarray(held, dtype=np.float64),
        np.ascontiguousarray(cash, dtype=np.float64),
        INIT_CASH,
    )
    if len(all_cols) < COMPILED_FROM_COLUMNS:
        return group_values(*args)
    from backtest.simulation.kernels import group_values_nb

    values: np.ndarray = group_values_nb(*args)
    return values


def group_values(
    closes: np.ndarray,
    cols: np.ndarray,
    lens: np.ndarray,
    rows: np.ndarray,
    held: np.ndarray,
    cash: np.ndarray,
    init_cash: float,
) -> np.ndarray:
    """:func:`backtest.simulation.kernels.group_values_nb` in numpy: the same products and sums
    in the same order (a group's cash after the day's last event, then each member's shares ×
    close in column order, skipped where the close is missing), one vector over the days per
    member column."""
    n_days = closes.shape[0]
    out = np.full((n_days, len(lens)), float(init_cash))
    if not len(rows) or rows[0] >= n_days:
        return out
    first = int(rows[0])
    event = np.searchsorted(rows, np.arange(first, n_days), side="right") - 1
    start = 0
    for g, n in enumerate(lens):
        value = cash[event, g]
        for i in range(start, start + int(n)):
            price = closes[first:, cols[i]]
            np.add(value, held[event, i] * price, out=value, where=~np.isnan(price))
        out[first:, g] = value
        start += int(n)
    return out


def returns_from_values(values: np.ndarray, inception: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Daily returns (days × buckets) from per-unit values: ``V_t / V_{t-1} - 1``, the first one
    (the day after ``inception``) against the unit of cash invested, NaN on and before inception,
    after ``end`` (the last live member's last price) and for a bucket whose inception is -1.
    In numpy below :data:`COMPILED_RETURNS_FROM_CELLS` days × buckets, else one compiled loop
    (:func:`backtest.simulation.kernels.returns_from_values_nb`; bit for bit the same)."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    inception = np.asarray(inception, dtype=np.int64).reshape(-1)
    end = np.asarray(end, dtype=np.int64).reshape(-1)
    if values.size < COMPILED_RETURNS_FROM_CELLS:
        out = np.full(values.shape, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[1:] = values[1:] / values[:-1] - 1.0
        day = np.arange(len(values))[:, None]
        out = np.where(day == inception + 1, values - 1.0, out)
        live = (inception >= 0) & (day > inception) & (day <= end)
        returns: np.ndarray = np.where(live, out, np.nan)
        return returns
    from backtest.simulation.kernels import returns_from_values_nb

    compiled: np.ndarray = returns_from_values_nb(values, inception, end)
    return compiled


def rebalance_positions(index: pd.DatetimeIndex, rebalance: Rebalance) -> np.ndarray:
    """Positions on ``index`` of its rebalance days
    (:func:`backtest.simulation.calendar.rebalance_dates`)."""
    return np.flatnonzero(index.isin(rebalance_dates(index, rebalance))).astype(np.int64)


def _plan_for(
    life: PriceLife,
    spec: BucketSpec,
    rebalance: Rebalance,
    weighting: Weighting,
    volatility: np.ndarray | None,
    rebalances: dict[Rebalance, np.ndarray],
    position: Mapping[str, int],
) -> tuple[np.ndarray, EventPlan]:
    cols = np.array([position[t] for t in spec.tickers], dtype=np.int64)
    rule = spec.rebalance or rebalance
    if rule not in rebalances:
        rebalances[rule] = rebalance_positions(life.index, rule)
    custom = _custom_weights(spec, weighting)
    vol = volatility if (spec.weighting or weighting) is Weighting.inverse_vol else None
    return cols, plan_events(life, cols, rebalances[rule], custom=custom, volatility=vol)


def _custom_weights(spec: BucketSpec, weighting: Weighting) -> np.ndarray | None:
    """The spec's custom weights in member order when it is custom-weighted, else None."""
    if (spec.weighting or weighting) is not Weighting.custom or spec.weights is None:
        return None
    return np.array([float(spec.weights.get(t, 0.0)) for t in spec.tickers])


def _spans(
    life: PriceLife, cols: np.ndarray, plan: EventPlan, custom: np.ndarray | None
) -> dict[str, MemberSpan]:
    """Each member's span from its plan: first/last price, the event it joined, when it left."""
    index, end = life.index, len(life.index) - 1
    days: list[pd.Timestamp] = list(index)  # boxed once: a Timestamp per lookup costs ~10 µs
    joined = np.full(len(cols), -1)
    if len(plan.positions):
        held = plan.weights > 0
        joined = np.where(held.any(axis=0), plan.positions[held.argmax(axis=0)], -1)
    spans: dict[str, MemberSpan] = {}
    for j, col in enumerate(cols):
        first, last = int(plan.first[j]), int(life.last[col]) if plan.first[j] >= 0 else -1
        reason: str | None = None
        if joined[j] < 0:
            if first < 0:
                reason = "no prices in the window"
            elif last <= first:
                reason = "fewer than 2 prices in the window"
            elif custom is not None and custom[j] == 0:
                reason = "custom weight 0"
            else:
                reason = "listed after the last rebalance of the window"
        exited = days[last] if joined[j] >= 0 and last < end else None
        spans[life.tickers[col]] = MemberSpan(
            life.tickers[col],
            _ts(days, first),
            _ts(days, last),
            _ts(days, joined[j]),
            exited,
            reason,
        )
    return spans


def target_weights(
    prices: pd.DataFrame,
    rebalance: Rebalance,
    custom: Mapping[str, float] | None = None,
    volatility: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, MemberSpan]]:
    """Target weights of one bucket at each event day, and each member's span.

    ``prices``: date × ticker of the bucket's members, cut to the window. Returns a frame indexed
    by event day (inception, rebalances, stops) × ticker; rows sum to 1 (or 0 when nothing can be
    held), and the spans.
    """
    life = PriceLife.of(prices)
    tickers = life.tickers
    cols = np.arange(len(tickers), dtype=np.int64)
    custom_arr = None
    if custom is not None:
        custom_arr = np.array([float(custom.get(t, 0.0)) for t in tickers], dtype="float64")
    vol = None
    if volatility is not None:
        vol = volatility.reindex(index=life.index, columns=tickers).to_numpy(dtype="float64")
    plan = plan_events(
        life,
        cols,
        rebalance_positions(life.index, rebalance),
        custom=custom_arr,
        volatility=vol,
    )
    frame = pd.DataFrame(
        plan.weights,
        index=pd.DatetimeIndex(life.index[plan.positions], name="date"),
        columns=pd.Index(tickers, name="ticker"),
    )
    return frame, _spans(life, cols, plan, custom_arr)


def _ts(days: Sequence[pd.Timestamp], pos: int | np.integer) -> pd.Timestamp | None:
    return None if pos < 0 else days[int(pos)]


def _plans_for(
    prices: pd.DataFrame,
    buckets: Sequence[BucketSpec],
    rebalance: Rebalance,
    weighting: Weighting,
    volatility: pd.DataFrame | None,
) -> tuple[PriceLife, list[tuple[np.ndarray, EventPlan]]]:
    """The price lives of the tickers ``buckets`` use and each bucket's event plan."""
    index = pd.DatetimeIndex(prices.index)
    used = list(dict.fromkeys(t for b in buckets for t in b.tickers))
    life = PriceLife.of(prices.loc[:, used])
    vol_arr = None
    if any((b.weighting or weighting) is Weighting.inverse_vol for b in buckets):
        # trailing σ from the history handed in (it may start before the window)
        if volatility is None:
            volatility = trailing_volatility(prices)
        vol_arr = volatility.reindex(index=index, columns=used).to_numpy(dtype="float64")
    rebalances: dict[Rebalance, np.ndarray] = {}
    position = {t: i for i, t in enumerate(used)}
    plans = [
        _plan_for(life, b, rebalance, weighting, vol_arr, rebalances, position) for b in buckets
    ]
    return life, plans


def simulate_returns(
    prices: pd.DataFrame,
    buckets: Sequence[BucketSpec],
    *,
    rebalance: Rebalance = Rebalance.monthly,
    weighting: Weighting = Weighting.equal,
    cost_bps: float = 0.0,
    volatility: pd.DataFrame | None = None,
    via: Via = "closed_form",
    chunk_columns: int = RETURNS_CHUNK_COLUMNS,
) -> pd.DataFrame:
    """The daily returns (date × bucket) :func:`simulate_buckets` gives, and nothing else: no
    weights table, member spans or contributions, so no days × members array is kept. By default
    in closed form (:func:`backtest.simulation.orders.holdings_closed_form`): a claim's variants
    (each member left out in turn, the rule grid) can be a thousand buckets of a thousand members.

    The buckets are simulated in chunks of about ``chunk_columns`` member columns (a bucket is
    never split), so memory grows with events × one chunk's columns plus days × buckets. Each
    bucket's figures depend on its own columns only, so the chunking changes no number (tested).
    """
    index = pd.DatetimeIndex(prices.index, name="date")
    names = [b.name for b in buckets]
    if not buckets:
        return pd.DataFrame(index=index, columns=names, dtype="float64")
    life, plans = _plans_for(prices, buckets, rebalance, weighting, volatility)
    out = np.empty((len(index), len(plans)))
    first = 0
    while first < len(plans):
        last, width = first, 0
        while last < len(plans) and (last == first or width + len(plans[last][0]) <= chunk_columns):
            width += len(plans[last][0])
            last += 1
        chunk = simulate_plans(life, plans[first:last], cost_bps=cost_bps, via=via)
        out[:, first:last] = chunk.returns
        first = last
    return pd.DataFrame(out, index=index, columns=names)


def simulate_buckets(
    prices: pd.DataFrame,
    buckets: Sequence[BucketSpec],
    *,
    rebalance: Rebalance = Rebalance.monthly,
    weighting: Weighting = Weighting.equal,
    cost_bps: float = 0.0,
    volatility: pd.DataFrame | None = None,
    via: Via = "vectorbt",
) -> Simulation:
    """Simulate every bucket over ``prices`` (window × tickers) in one vectorbt call.

    Each bucket is one cash-sharing group (see ``INIT_CASH``); returns are per unit invested.
    Returns the daily returns of every bucket, the target weights at each event and the member
    spans (see the module docstring for the conventions).
    """
    index = pd.DatetimeIndex(prices.index)
    names = [b.name for b in buckets]
    returns = pd.DataFrame(index=index, columns=names, dtype="float64")
    returns.index.name = "date"
    if not buckets:
        return Simulation(returns, pd.DataFrame(columns=["date", "bucket", "ticker", "weight"]))
    life, plans = _plans_for(prices, buckets, rebalance, weighting, volatility)
    simulated = simulate_plans(life, plans, cost_bps=cost_bps, keep_shares=True, via=via)

    members: dict[str, dict[str, MemberSpan]] = {}
    inception: dict[str, pd.Timestamp | None] = {}
    weight_rows: list[pd.DataFrame] = []
    for spec, (cols, plan) in zip(buckets, plans, strict=True):
        members[spec.name] = _spans(life, cols, plan, _custom_weights(spec, weighting))
        if plan.inception < 0:
            inception[spec.name] = None
            continue
        inception[spec.name] = index[plan.inception]
        long = pd.DataFrame(
            {
                "date": np.repeat(index[plan.positions], len(cols)),
                "bucket": spec.name,
                "ticker": np.tile(np.asarray(spec.tickers, dtype=object), len(plan.positions)),
                "weight": plan.weights.ravel(),
            }
        )
        weight_rows.append(long)
    values = simulated.values
    returns.loc[:, :] = simulated.returns

    contributions: dict[str, pd.DataFrame] = {}
    shares = simulated.shares
    if shares is not None:
        all_cols = np.concatenate([cols for cols, _ in plans])
        close = life.filled[:, all_cols]
        pnl = np.zeros_like(close)
        with np.errstate(invalid="ignore"):
            pnl[1:] = np.nan_to_num(shares[:-1] * (close[1:] - close[:-1]))
        offset = 0
        for g, (spec, (cols, plan)) in enumerate(zip(buckets, plans, strict=True)):
            block = slice(offset, offset + len(cols))
            offset += len(cols)
            if plan.inception < 0:
                continue
            r = returns[spec.name].to_numpy()
            previous = np.concatenate([[1.0], values[:-1, g]])
            previous[plan.inception + 1] = 1.0  # the first return is against the cash invested
            parts = pnl[:, block] / (previous[:, None] * INIT_CASH)
            parts[np.isnan(r)] = np.nan
            frame = pd.DataFrame(parts, index=index, columns=list(spec.tickers))
            frame["costs"] = r - np.where(np.isnan(r), np.nan, parts.sum(axis=1))
            contributions[spec.name] = frame
    weights = (
        pd.concat(weight_rows, ignore_index=True)
        if weight_rows
        else pd.DataFrame(columns=["date", "bucket", "ticker", "weight"])
    )
    return Simulation(
        returns=returns,
        weights=weights,
        members=members,
        inception=inception,
        contributions=contributions,
    )


def ticker_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """Daily simple returns ``p_t / p_{t-1} - 1`` of single tickers held throughout.

    NaN on a ticker's first priced day and wherever either price is missing (never zero-filled).
    """
    return prices / prices.shift(1) - 1.0


def simulate_as_of(
    prices: pd.DataFrame,
    buckets: Sequence[BucketSpec],
    ends: Sequence[int],
    *,
    rebalance: Rebalance = Rebalance.monthly,
    weighting: Weighting = Weighting.equal,
    cost_bps: float = 0.0,
    volatility: pd.DataFrame | None = None,
    via: Via = "closed_form",
) -> dict[int, pd.DataFrame]:
    """Each bucket's daily returns as the prices up to each of ``ends`` (positions on
    ``prices``' index) alone would give them: for each end ``e``, exactly
    :func:`simulate_buckets` run on ``prices.iloc[: e + 1]`` (a member whose prices stop before
    ``e`` is sold there, ``e`` itself is never a rebalance day, and so on), but all of them
    simulated as the columns of one simulation.

    By default the holdings are computed in closed form
    (:func:`backtest.simulation.orders.holdings_closed_form`, equal to vectorbt's to 1e-12 and
    tested so): the weekly history of a claim and the board need no import of vectorbt, which
    costs more than everything else the board does.

    Returns end → date × bucket returns over ``prices.index[: e + 1]``.
    """
    index = pd.DatetimeIndex(prices.index)
    names = [b.name for b in buckets]
    if not buckets or not ends:
        return {e: pd.DataFrame(index=index[: e + 1], columns=names, dtype="float64") for e in ends}
    used = list(dict.fromkeys(t for b in buckets for t in b.tickers))
    life = PriceLife.of(prices.loc[:, used])
    vol_arr = None
    if any((b.weighting or weighting) is Weighting.inverse_vol for b in buckets):
        if volatility is None:
            volatility = trailing_volatility(prices)
        vol_arr = volatility.reindex(index=index, columns=used).to_numpy(dtype="float64")
    position = {t: i for i, t in enumerate(used)}
    rebalances: dict[Rebalance, np.ndarray] = {}
    plans: list[tuple[np.ndarray, EventPlan]] = []
    for e in ends:
        for spec in buckets:
            cols = np.array([position[t] for t in spec.tickers], dtype=np.int64)
            rule = spec.rebalance or rebalance
            if rule not in rebalances:
                rebalances[rule] = rebalance_positions(index, rule)
            vol = vol_arr if (spec.weighting or weighting) is Weighting.inverse_vol else None
            plan = plan_events(
                life,
                cols,
                rebalances[rule],
                custom=_custom_weights(spec, weighting),
                volatility=vol,
                end=e,
            )
            plans.append((cols, plan))
    simulated = simulate_plans(life, plans, cost_bps=cost_bps, via=via)
    out: dict[int, pd.DataFrame] = {}
    for k, e in enumerate(ends):
        block = simulated.returns[: e + 1, k * len(buckets) : (k + 1) * len(buckets)]
        frame = pd.DataFrame(block, index=index[: e + 1], columns=names)
        frame.index.name = "date"
        # after the last live member's last price up to e, the bucket has no return
        for j, (cols, plan) in enumerate(plans[k * len(buckets) : (k + 1) * len(buckets)]):
            if len(plan.positions):
                held = (plan.weights > 0).any(axis=0)
                stop = int(life.last_upto(e, cols[held]).max()) if held.any() else -1
                frame.iloc[stop + 1 :, j] = np.nan
        out[e] = frame
    return out
