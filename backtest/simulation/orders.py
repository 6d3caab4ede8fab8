"""How a bucket's orders become shares and cash: vectorbt's order simulation, or the same
arithmetic in closed form.

The buckets of a run are simulated by vectorbt (``Portfolio.from_orders``: ``targetpercent``
orders at the close, one cash-sharing group per bucket, sells before buys; vectorbt 1.2 runs its
kernel in Rust when ``vectorbt-rust``, a dependency, is installed and in numba otherwise).

Importing vectorbt costs about 2 s (its accessors, plotting and indicator factories load scipy,
matplotlib's font tables and numba). The jobs that simulate the same buckets many times over
(a claim's weekly history, the board, the sweep's variants) use
:func:`holdings_closed_form` instead: the arithmetic vectorbt performs for these orders, in
numpy, which ``tests/backtest/test_engines.py`` holds to vectorbt's numbers at 1e-12.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Via = Literal["vectorbt", "closed_form"]


def holdings_after_orders(
    close: np.ndarray,
    size: np.ndarray,
    group_lens: np.ndarray,
    call_seq: np.ndarray | None,
    *,
    init_cash: float,
    fees: float,
    via: Via = "vectorbt",
) -> tuple[np.ndarray, np.ndarray]:
    """Shares held per column (rows × columns) and cash per group (rows × groups) at each row's
    close after its orders.

    ``close``: order prices (rows × columns, NaN where there is no price); ``size``: target
    percent of the group's value per column (NaN: no order); ``group_lens``: columns per
    cash-sharing group, in column order; ``call_seq``: the order of the columns' trades inside
    each group per row, or None for vectorbt's ``call_seq="auto"`` (sells first, sorted by the
    kernel on every row); ``init_cash`` per group; ``fees`` as a fraction of traded value.

    ``via``: ``"vectorbt"`` (``vectorbt.Portfolio.from_orders``, on the engine
    ``vectorbt.settings["engine"]`` names) or ``"closed_form"`` (:func:`holdings_closed_form`;
    ``call_seq`` does not change its result).
    """
    if via == "closed_form":
        return holdings_closed_form(close, size, group_lens, init_cash=init_cash, fees=fees)
    import vectorbt as vbt

    group = np.repeat(np.arange(len(group_lens)), group_lens)
    pf = vbt.Portfolio.from_orders(
        close=close,
        size=size,
        size_type="targetpercent",
        group_by=group,
        cash_sharing=True,
        call_seq="auto" if call_seq is None else call_seq,
        init_cash=init_cash,
        fees=fees,
        ffill_val_price=True,
    )
    shape = close.shape
    held = np.asarray(pf.assets(), dtype="float64").reshape(shape)
    cash = np.asarray(pf.cash(), dtype="float64").reshape(shape[0], len(group_lens))
    return held, cash


def holdings_closed_form(
    close: np.ndarray,
    size: np.ndarray,
    group_lens: np.ndarray,
    *,
    init_cash: float,
    fees: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The same shares and cash as :func:`holdings_after_orders`, computed row by row in numpy
    without vectorbt: at each row a group is valued at ``V = cash + Σ shares × close``; a column
    with a size gets ``size × V / close`` shares; the group's cash pays for the net purchases and
    ``fees × |Δshares| × close``.

    This is what vectorbt's kernel does for these orders, but for order mechanics that never bind
    here: with the sizes the engine asks for (:func:`backtest.simulation.engine.invested_share`
    leaves no cash to spare, and sells come first) no buy is cut short for want of cash, and a
    trade under vectorbt's ``min_size`` (1e-8 shares of a bucket worth 1e9) moves a value by less
    than 1e-16 of it. ``tests/backtest/test_engines.py`` holds it to vectorbt's numbers at 1e-12.
    A loop over rows (events, not days) of vector operations over all columns.
    """
    n_rows, n_cols = close.shape
    lens = np.asarray(group_lens, dtype=np.int64)
    nonempty = lens > 0
    starts = (np.cumsum(lens) - lens)[nonempty]
    group = np.repeat(np.arange(len(lens)), lens)
    trades = ~np.isnan(size) & ~np.isnan(close)
    valued = np.where(np.isnan(close), 0.0, close)  # no price: nothing is held there
    held_out = np.empty((n_rows, n_cols))
    cash_out = np.empty((n_rows, len(lens)))
    held = np.zeros(n_cols)
    cash = np.full(len(lens), float(init_cash))
    flow = np.zeros(len(lens))
    for r in range(n_rows):
        trade = trades[r]
        if trade.any():
            price = valued[r]
            value = cash.copy()
            value[nonempty] += np.add.reduceat(held * price, starts)
            target = size[r] * value[group] / np.where(trade, price, 1.0)
            delta = np.where(trade, target - held, 0.0)
            spent = delta * price
            flow[nonempty] = np.add.reduceat(spent + np.abs(spent) * fees, starts)
            cash = cash - flow
            held = held + delta
        held_out[r] = held
        cash_out[r] = cash
    return held_out, cash_out
