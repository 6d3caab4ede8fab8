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
* Costs: ``cost_bps`` basis points of traded value at every trade, paid from the bucket.
* The bucket's daily return on day t is ``V_t / V_{t-1} - 1`` of its value; the first return, on
  the day after inception, is measured against the cash invested, so it includes the cost of the
  initial purchase. Before the first return and after the last live member stops, returns are NaN.

vectorbt performs the simulation (``Portfolio.from_orders`` with ``targetpercent`` orders, one
cash-sharing group per bucket, sells before buys); the weights it is asked to reach are computed
here with plain numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from backtest.calendar import rebalance_dates
from backtest.conventions import Rebalance, Weighting


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


def trailing_volatility(prices: pd.DataFrame, lookback: int = VOL_LOOKBACK) -> pd.DataFrame:
    """Standard deviation (ddof=1) of each ticker's last ``lookback`` daily returns, up to and
    including each day (known at that close; no look-ahead). NaN with fewer than ``lookback``."""
    return ticker_returns(prices).rolling(lookback, min_periods=lookback).std(ddof=1)


def _inverse_vol_weights(live: np.ndarray, vol: np.ndarray) -> np.ndarray:
    """1/σ weights over live members; members without a σ (too little history) get the average
    weight 1/n, and the others share the rest in proportion to 1/σ."""
    w = np.zeros(live.shape, dtype="float64")
    n = int(live.sum())
    if n == 0:
        return w
    known = live & np.isfinite(vol) & (vol > 0)
    k = int(known.sum())
    if k == 0:
        w[live] = 1.0 / n
        return w
    w[live & ~known] = 1.0 / n
    inverse = 1.0 / vol[known]
    w[known] = (k / n) * inverse / inverse.sum()
    return w


def fill_within_life(prices: pd.DataFrame) -> pd.DataFrame:
    """Each ticker's closes with a missing day inside its life (between its first and last price)
    valued at the previous close; NaN before the first and after the last price."""
    return prices.ffill().where(prices.bfill().notna())


def _base_weights(live: np.ndarray, custom: np.ndarray | None) -> np.ndarray:
    """Target weights over the live members: equal, or custom weights renormalised over them."""
    w = np.zeros(live.shape, dtype="float64")
    if not live.any():
        return w
    if custom is None:
        w[live] = 1.0 / live.sum()
        return w
    raw = np.where(live, custom, 0.0)
    total = raw.sum()
    if total <= 0:  # every live member has weight 0: nothing to hold but cash
        return w
    normalised: np.ndarray = raw / total
    return normalised


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
    index = pd.DatetimeIndex(prices.index)
    tickers = list(prices.columns)
    values = prices.to_numpy(dtype="float64")
    priced = ~np.isnan(values)
    n_days, n_members = values.shape
    has_any = priced.any(axis=0)
    first = np.where(has_any, priced.argmax(axis=0), -1)
    last = np.where(has_any, n_days - 1 - priced[::-1].argmax(axis=0), -1)
    filled = fill_within_life(prices).to_numpy(dtype="float64")
    day = np.arange(n_days)[:, None]
    alive = (day >= first) & (day <= last) & has_any

    vol_arr = None
    if volatility is not None:
        vol_arr = volatility.reindex(index=index, columns=tickers).to_numpy(dtype="float64")
    custom_arr = None
    if custom is not None:
        custom_arr = np.array([float(custom.get(t, 0.0)) for t in tickers], dtype="float64")

    # a member needs a price today and one later to be bought today
    can_hold = alive & (day < last)
    window_end = n_days - 1
    candidates = np.flatnonzero(can_hold.any(axis=1))
    events: list[int] = []
    rebal_pos: set[int] = set()
    if len(candidates):
        inception = int(candidates[0])
        rebal_pos = set(np.flatnonzero(index.isin(rebalance_dates(index, rebalance))).tolist())
        stop_pos = {int(p) for p in last if 0 <= p < window_end and p >= inception}
        events = sorted({inception} | {p for p in rebal_pos if p > inception} | stop_pos)

    rows: list[np.ndarray] = []
    prev_w = np.zeros(n_members)
    prev_pos = events[0] if events else 0
    joined = np.full(n_members, -1)
    for pos in events:
        if pos == events[0] or pos in rebal_pos:
            if vol_arr is not None:
                w = _inverse_vol_weights(can_hold[pos], vol_arr[pos])
            else:
                w = _base_weights(can_hold[pos], custom_arr)
        else:
            held = prev_w > 0
            grown = np.zeros(n_members)
            grown[held] = prev_w[held] * filled[pos, held] / filled[prev_pos, held]
            grown[last == pos] = 0.0  # sold at this close
            total = grown.sum()
            w = grown / total if total > 0 else grown
        joined[(w > 0) & (joined < 0)] = pos
        rows.append(w)
        prev_w, prev_pos = w, pos

    frame = pd.DataFrame(
        np.vstack(rows) if rows else np.empty((0, n_members)),
        index=pd.DatetimeIndex(index[events], name="date"),
        columns=pd.Index(tickers, name="ticker"),
    )
    spans: dict[str, MemberSpan] = {}
    for j, t in enumerate(tickers):
        reason: str | None = None
        if joined[j] < 0:
            if not has_any[j]:
                reason = "no prices in the window"
            elif last[j] <= first[j]:
                reason = "fewer than 2 prices in the window"
            elif custom_arr is not None and custom_arr[j] == 0:
                reason = "custom weight 0"
            else:
                reason = "listed after the last rebalance of the window"
        exited = None
        if joined[j] >= 0 and last[j] < window_end:
            exited = index[last[j]]
        spans[t] = MemberSpan(
            t,
            _ts(index, first[j]),
            _ts(index, last[j]),
            _ts(index, joined[j]),
            exited,
            reason,
        )
    return frame, spans


def _ts(index: pd.DatetimeIndex, pos: int | np.integer) -> pd.Timestamp | None:
    return None if pos < 0 else pd.Timestamp(index[int(pos)])


def simulate_buckets(
    prices: pd.DataFrame,
    buckets: Sequence[BucketSpec],
    *,
    rebalance: Rebalance = Rebalance.monthly,
    weighting: Weighting = Weighting.equal,
    cost_bps: float = 0.0,
    volatility: pd.DataFrame | None = None,
) -> Simulation:
    """Simulate every bucket over ``prices`` (window × tickers) in one vectorbt call.

    Each bucket is one cash-sharing group (see ``INIT_CASH``); returns are per unit invested.
    Returns the daily returns of every bucket, the target weights at each event and the member
    spans (see the module docstring for the conventions).
    """
    import vectorbt as vbt

    index = pd.DatetimeIndex(prices.index)
    closes: list[pd.DataFrame] = []
    sizes: list[pd.DataFrame] = []
    weight_rows: list[pd.DataFrame] = []
    members: dict[str, dict[str, MemberSpan]] = {}
    inception: dict[str, pd.Timestamp | None] = {}
    last_live: dict[str, pd.Timestamp | None] = {}
    for spec in buckets:
        sub = prices.loc[:, list(spec.tickers)]
        spec_weighting = spec.weighting or weighting
        custom = spec.weights if spec_weighting is Weighting.custom else None
        vol = None
        if spec_weighting is Weighting.inverse_vol:
            # trailing σ from the history handed in (it may start before the window)
            if volatility is None:
                volatility = trailing_volatility(prices)
            vol = volatility
        targets, spans = target_weights(sub, spec.rebalance or rebalance, custom, vol)
        members[spec.name] = spans
        held = [s for s in spans.values() if s.joined is not None]
        inception[spec.name] = targets.index[0] if len(targets) else None
        last_live[spec.name] = max((s.last_price for s in held if s.last_price), default=None)
        filled = fill_within_life(sub)
        size = pd.DataFrame(np.nan, index=index, columns=sub.columns)
        size.loc[targets.index] = targets.to_numpy()
        size = size.where(filled.notna())  # no order where there is no price
        cols = pd.MultiIndex.from_product(
            [[spec.name], list(sub.columns)], names=["bucket", "ticker"]
        )
        filled.columns = cols
        size.columns = cols
        closes.append(filled)
        sizes.append(size)
        if len(targets):
            long = (
                targets.reset_index()
                .melt(id_vars="date", var_name="ticker", value_name="weight")
                .sort_values("date", kind="stable")
            )
            long.insert(1, "bucket", spec.name)
            weight_rows.append(long)

    returns = pd.DataFrame(index=index, columns=[b.name for b in buckets], dtype="float64")
    contributions: dict[str, pd.DataFrame] = {}
    returns.index.name = "date"
    if closes:
        close = pd.concat(closes, axis=1)
        size = pd.concat(sizes, axis=1)
        pf = vbt.Portfolio.from_orders(
            close=close,
            size=size,
            size_type="targetpercent",
            group_by="bucket",
            cash_sharing=True,
            call_seq="auto",
            init_cash=INIT_CASH,
            fees=cost_bps / 10_000.0,
            ffill_val_price=True,
        )
        value = pf.value()
        if isinstance(value, pd.Series):  # vectorbt squeezes a single group to a Series
            value = value.to_frame(str(close.columns.get_level_values("bucket")[0]))
        shares = pd.DataFrame(pf.assets(), index=index, columns=close.columns)
        pnl = (shares.shift(1) * close.diff()).fillna(0.0)
        for name in returns.columns:
            start = inception[name]
            end = last_live[name]
            if start is None or end is None:
                continue
            v = value[name] / INIT_CASH
            r = v.pct_change()
            first_day = index[index > start]
            if len(first_day) == 0:
                continue
            r.loc[first_day[0]] = v.loc[first_day[0]] - 1.0  # against the cash invested
            r[(r.index <= start) | (r.index > end)] = np.nan
            returns[name] = r
            previous = v.shift(1)
            previous.loc[first_day[0]] = 1.0
            parts = pnl[name].div(previous * INIT_CASH, axis=0).where(r.notna(), axis=0)
            parts["costs"] = r - parts.sum(axis=1, min_count=1)
            contributions[name] = parts
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
