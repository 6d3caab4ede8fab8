"""Compiled loops the simulation needs where numpy would build days × columns temporaries.

numba compiles each function once per machine (``cache=True`` keeps the machine code next to this
file, so later processes load it in milliseconds). Each loop's arithmetic is written out in its
docstring; the order of every sum is fixed (a group's members in their column order), so a
figure depends only on its own inputs, never on how many other groups or days were computed in
the same call (the "as of" property: appending later prices moves nothing earlier).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def group_values_nb(  # pragma: no cover - compiled; tested through simulate_plans
    closes: np.ndarray,
    cols: np.ndarray,
    lens: np.ndarray,
    rows: np.ndarray,
    held: np.ndarray,
    cash: np.ndarray,
    init_cash: float,
) -> np.ndarray:
    """Each group's value on every day (days × groups, in cash units).

    ``closes``: days × tickers, NaN where a ticker has no price (it then adds nothing: a member is
    held only inside its life); ``cols``: each member column's ticker position in ``closes``;
    ``lens``: member columns per group, in column order; ``rows``: the event rows (ascending day
    positions); ``held`` / ``cash``: shares per member column and cash per group after each event
    row. Before ``rows[0]`` a group is worth ``init_cash``; from ``rows[k]`` up to the next event
    row, ``cash[k, g] + Σ_i held[k, i] × closes[t, cols[i]]`` over the group's members ``i`` in
    order. The days run innermost, so a column-major ``closes`` (as pandas lays out a frame) is
    read in order and never copied.
    """
    n_days = closes.shape[0]
    n_groups = lens.shape[0]
    out = np.empty((n_days, n_groups))
    first = min(rows[0], n_days) if rows.shape[0] else n_days
    event = np.zeros(n_days, dtype=np.int64)  # the last event row on or before each day
    for k in range(rows.shape[0]):
        stop = rows[k + 1] if k + 1 < rows.shape[0] else n_days
        for t in range(rows[k], min(stop, n_days)):
            event[t] = k
    value = np.empty(n_days)
    start = 0
    for g in range(n_groups):
        for t in range(first):
            value[t] = init_cash
        for t in range(first, n_days):
            value[t] = cash[event[t], g]
        for i in range(start, start + lens[g]):
            c = cols[i]
            for t in range(first, n_days):
                price = closes[t, c]
                if price == price:
                    value[t] += held[event[t], i] * price
        for t in range(n_days):
            out[t, g] = value[t]
        start += lens[g]
    return out


@njit(cache=True, nogil=True)
def basket_excess_nb(  # pragma: no cover - compiled; tested through simulate_basket_excess
    prices: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    members: np.ndarray,
    base: np.ndarray,
    vol: np.ndarray,
    use_vol: bool,
    rebalance: np.ndarray,
    bench_log: np.ndarray,
    cost: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Each basket's summed daily excess log return over a window, and the days summed.

    ``prices``: rows × columns closes valued within each life (NaN outside), row 0 the window's
    first close (the purchase); ``first`` / ``last``: each column's first and last priced row;
    ``members``: baskets × k column indices; ``base``: baskets × k weights before renormalising
    (ones for equal weight, a bucket's custom weights); ``vol``: rows × columns trailing σ, read
    when ``use_vol`` (inverse-volatility weights); ``rebalance``: rows that are rebalance days;
    ``bench_log``: ``ln(1 + r)`` of the benchmark per row (NaN where it has no return);
    ``cost``: fees as a fraction of traded value.

    The simulation is :mod:`backtest.simulation.engine`'s contract for one bucket, valued in
    units of the cash invested: inception at the first row with a holdable member (priced, a
    later price to come); at inception and at every rebalance row before the last, target
    weights over the live members (``first <= t < last``); at a member's last row before the
    window's end (a stop) it is sold and the others keep their drifted weights renormalised. At
    every event each member is brought to ``w_i × k`` of the value ``V`` before trading, ``k``
    solving ``k = 1 − cost × Σ|w_i k − d_i|`` (``d`` the drifted weights; Newton, as
    :func:`backtest.simulation.engine.invested_share`), so ``k × V`` stays invested and no cash is
    left. The daily return is ``V_t / V_{t-1} − 1`` (the first against the unit invested) up to
    the last held member's last row; the excess of a row is its ``ln(1 + r)`` minus
    ``bench_log`` where both exist. Sums run over members in their order and rows in order.
    """
    n_baskets, k = members.shape
    n_rows = prices.shape[0]
    excess = np.zeros(n_baskets)
    days = np.zeros(n_baskets, dtype=np.int64)
    shares = np.zeros(k)
    w = np.zeros(k)
    d = np.zeros(k)
    for b in range(n_baskets):
        for i in range(k):
            shares[i] = 0.0
        inception = -1
        for t in range(n_rows - 1):
            for i in range(k):
                c = members[b, i]
                if first[c] <= t < last[c]:
                    inception = t
                    break
            if inception >= 0:
                break
        if inception < 0:
            continue
        end_live = -1  # the last row of the members held so far
        value_before = 1.0
        total = 0.0
        count = 0
        for t in range(inception, n_rows):
            value = 0.0
            if t == inception:
                value = 1.0
            else:
                for i in range(k):
                    if shares[i] > 0.0:
                        value += shares[i] * prices[t, members[b, i]]
                if t <= end_live:
                    r_log = np.log(value / value_before)
                    if not np.isnan(bench_log[t]):
                        total += r_log - bench_log[t]
                        count += 1
            value_before = value
            if t >= n_rows - 1:
                break
            is_rule = t == inception or rebalance[t]
            stops = False
            for i in range(k):
                if last[members[b, i]] == t:
                    stops = True
            if not (is_rule or stops):
                continue
            # the weights the event finds: each holding's share of the value
            for i in range(k):
                c = members[b, i]
                d[i] = shares[i] * prices[t, c] / value if shares[i] > 0.0 else 0.0
            if is_rule:
                live = 0
                for i in range(k):
                    c = members[b, i]
                    if first[c] <= t < last[c]:
                        live += 1
                if use_vol:
                    known = 0
                    inv_sum = 0.0
                    for i in range(k):
                        c = members[b, i]
                        s = vol[t, c]
                        if first[c] <= t < last[c] and np.isfinite(s) and s > 0.0:
                            known += 1
                            inv_sum += 1.0 / s
                    for i in range(k):
                        c = members[b, i]
                        s = vol[t, c]
                        if not (first[c] <= t < last[c]):
                            w[i] = 0.0
                        elif np.isfinite(s) and s > 0.0:
                            w[i] = (known / live) * ((1.0 / s) / inv_sum)
                        else:
                            w[i] = 1.0 / live
                else:
                    raw = 0.0
                    for i in range(k):
                        c = members[b, i]
                        if first[c] <= t < last[c]:
                            raw += base[b, i]
                    for i in range(k):
                        c = members[b, i]
                        live_i = first[c] <= t < last[c]
                        w[i] = base[b, i] / raw if (live_i and raw > 0.0) else 0.0
            else:  # a stop between rebalances: sell it, the others keep their drift
                kept = 0.0
                for i in range(k):
                    if last[members[b, i]] != t:
                        kept += d[i]
                for i in range(k):
                    keep = last[members[b, i]] != t and kept > 0.0
                    w[i] = d[i] / kept if keep else 0.0
            invested = 1.0
            if cost > 0.0:
                for _ in range(2 * k + 2):
                    f = invested - 1.0
                    slope = 1.0
                    for i in range(k):
                        gap = w[i] * invested - d[i]
                        f += cost * abs(gap)
                        if gap > 0.0:
                            slope += cost * w[i]
                        elif gap < 0.0:
                            slope -= cost * w[i]
                    step = f / slope
                    invested -= step
                    if abs(step) <= 1e-16 * abs(invested):
                        break
            for i in range(k):
                c = members[b, i]
                shares[i] = w[i] * invested * value / prices[t, c] if w[i] > 0.0 else 0.0
                if w[i] > 0.0 and last[c] > end_live:
                    end_live = last[c]
        excess[b] = total
        days[b] = count
    return excess, days


@njit(cache=True, nogil=True, error_model="numpy")
def variant_metrics_nb(  # pragma: no cover - compiled; tested through variant_metrics
    returns: np.ndarray, benchmark: np.ndarray, risk_free: np.ndarray, year: float
) -> np.ndarray:
    """The figures of :func:`backtest.sweep.variant_metrics` for each column of ``returns`` (days
    × variants, NaN outside a variant's life), as rows of one ``(8, variants)`` array: return
    days, total return, CAGR, volatility, Sharpe, maximum drawdown, benchmark return and excess
    return (``year`` trading days a year; the formulas are the sweep module's).

    Two passes over the days, each day's row across all columns at once, so every sum, product
    and running peak accumulates day by day in date order, as numpy's reductions along the days
    axis of a days × variants array do, without the dozen days × variants temporaries numpy
    needs (the sweep's largest arrays after the returns). ``log1p``, ``expm1`` and ``**`` are the
    C library's, not numpy's vectorised ones, which round the last bit differently: the figures
    agree with the same formulas in numpy to about 1e-16 (absolute).
    """
    n_days, k = returns.shape
    days = np.zeros(k)
    total_sum = np.zeros(k)
    wealth = np.ones(k)  # the growth of 1 so far: at the end, 1 + the total return
    peak = np.ones(k)
    worst = np.zeros(k)  # the lowest wealth / peak - 1 so far (0: the start is a peak)
    log_v = np.zeros(k)
    log_b = np.zeros(k)
    paired = np.zeros(k)
    nx = np.zeros(k)
    x_sum = np.zeros(k)
    for t in range(n_days):
        b = benchmark[t]
        rf = risk_free[t]
        for j in range(k):
            r = returns[t, j]
            if r == r:
                days[j] += 1.0
                total_sum[j] += r
                wealth[j] *= 1.0 + r
                x = r - rf
                if x == x:
                    nx[j] += 1.0
                    x_sum[j] += x
                if b == b:
                    paired[j] += 1.0
                    log_v[j] += np.log1p(r)
                    log_b[j] += np.log1p(b)
            if wealth[j] > peak[j]:
                peak[j] = wealth[j]
            fall = wealth[j] / peak[j] - 1.0
            if fall < worst[j]:
                worst[j] = fall
    mean = total_sum / days
    x_mean = x_sum / nx
    squares = np.zeros(k)
    x_squares = np.zeros(k)
    for t in range(n_days):
        rf = risk_free[t]
        for j in range(k):
            r = returns[t, j]
            if r == r:
                d = r - mean[j]
                squares[j] += d * d
                x = r - rf
                if x == x:
                    e = x - x_mean[j]
                    x_squares[j] += e * e
    out = np.full((8, k), np.nan)
    root_year = np.sqrt(year)
    for j in range(k):
        n = days[j]
        out[0, j] = n
        if n > 0:
            out[1, j] = wealth[j] - 1.0
            out[2, j] = wealth[j] ** (year / n) - 1.0 if wealth[j] > 0 else -1.0
            out[5, j] = worst[j]
        if n >= 2:
            out[3, j] = np.sqrt(squares[j] / (n - 1.0)) * root_year
        if nx[j] >= 2:
            sd = np.sqrt(x_squares[j] / (nx[j] - 1.0))
            if sd > 0:
                out[4, j] = x_mean[j] / sd * root_year
        if paired[j] > 0:
            out[6, j] = np.expm1(log_b[j])
            out[7, j] = np.expm1(log_v[j] - log_b[j])
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def returns_from_values_nb(  # pragma: no cover - compiled; tested through returns_from_values
    values: np.ndarray, inception: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """Daily returns (days × buckets) of per-unit values (see
    :func:`backtest.simulation.engine.returns_from_values`): on day ``t`` with
    ``inception < t <= end``, ``values[t] / values[t - 1] - 1``, and ``values[t] - 1`` on the day
    after inception; NaN elsewhere and for a bucket whose inception is -1."""
    n_days, n = values.shape
    out = np.full((n_days, n), np.nan)
    for t in range(1, n_days):
        for g in range(n):
            first = inception[g]
            if first >= 0 and first < t <= end[g]:
                if t == first + 1:
                    out[t, g] = values[t, g] - 1.0
                else:
                    out[t, g] = values[t, g] / values[t - 1, g] - 1.0
    return out
