"""How a bucket's orders become shares and cash: vectorbt's order simulation, or the same
arithmetic in closed form.

The buckets of a run are simulated by vectorbt's order kernel (``targetpercent`` orders at the
close, one cash-sharing group per bucket, sells before buys). With ``vectorbt-rust`` installed
(a dependency) that kernel is vectorbt's Rust one, called here as ``Portfolio.from_orders``
calls it, with the order parameters of :data:`ORDER_PARAMETERS`, and the shares and cash taken
from its order records as ``Portfolio.assets`` and ``Portfolio.cash`` take them (the same Rust
functions, in the same order: ``tests/backtest/test_engines.py`` holds the two to each other
bit for bit). Without it, or with vectorbt's ``engine`` setting at ``"numba"``, it is
``Portfolio.from_orders`` itself, on vectorbt's numba kernels.

Why not ``Portfolio.from_orders`` always: ``import vectorbt`` runs vectorbt's package
``__init__``, which loads its accessors, indicator factories and plotting (scikit-learn, scipy,
ipywidgets, its settings' plotly themes): ~1.4 s, more than the rest of the default run's
simulation and metrics together. The Rust kernel needs only vectorbt's record dtypes
(``vectorbt.portfolio.enums``, which it imports when called): :func:`_vectorbt_record_dtypes`
loads that one module (~0.3 s with numba and plotly, which its type hints import) without
vectorbt's ``__init__``, and leaves nothing of vectorbt in ``sys.modules`` behind it, so a later
``import vectorbt`` is the whole package, as always.

The jobs that simulate the same buckets many times over (a claim's weekly history, the board,
the sweep's variants) use :func:`holdings_closed_form` instead: the arithmetic vectorbt performs
for these orders, in numpy, which ``tests/backtest/test_engines.py`` holds to vectorbt's numbers
at 1e-12.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import numpy as np

Via = Literal["vectorbt", "portfolio", "closed_form"]
"""How :func:`holdings_after_orders` simulates: vectorbt's order kernel by the shortest route
(``"vectorbt"``), through ``vectorbt.Portfolio.from_orders`` as a vectorbt user would write it
(``"portfolio"``, the benchmark script's "vectorbt used directly"), or in closed form."""

ORDER_PARAMETERS: dict[str, Any] = {
    "price": np.inf,  # at the close
    "fixed_fees": 0.0,
    "slippage": 0.0,
    "min_size": 1e-8,
    "max_size": np.inf,
    "size_granularity": np.nan,
    "reject_prob": 0.0,
    "lock_cash": False,
    "allow_partial": True,
    "raise_reject": False,
    "log": False,
    "val_price": np.inf,  # each order values its group at the close
    "ffill_val_price": True,
    "update_value": False,
}
"""The order parameters of every simulation (vectorbt 1.2's defaults, written out so that the two
ways of calling vectorbt cannot drift apart with its settings): orders fill at the close, in
full, without slippage or fixed fees; under ``min_size`` shares no order is placed."""

KERNEL_IMPORTS = ("vectorbt_rust", "numba.typed", "plotly.graph_objects")
"""What a first call of :func:`holdings_after_orders` on the Rust kernel imports (the kernels, and
what ``vectorbt._typing`` imports for ``vectorbt.portfolio.enums`` beyond numpy and pandas): a
process that will simulate can import them ahead, while it waits for the job."""

_SKELETON = ("vectorbt", "vectorbt.portfolio", "vectorbt.utils")
"""The packages whose ``__init__`` :func:`_vectorbt_record_dtypes` skips: vectorbt's own (all of
vectorbt), its portfolio's (``Portfolio``) and its utilities' (its settings and plotting)."""


def vectorbt_engine() -> Literal["rust", "numba"]:
    """The kernel vectorbt would run an order simulation on: its ``engine`` setting when vectorbt
    has been imported (``"auto"``, the default, is Rust when ``vectorbt-rust`` is installed),
    else Rust when ``vectorbt-rust`` is installed, else numba."""
    vbt = sys.modules.get("vectorbt")
    settings = getattr(vbt, "settings", None)
    chosen = settings["engine"] if settings is not None else "auto"
    if chosen == "numba":
        return "numba"
    if importlib.util.find_spec("vectorbt_rust") is None:
        if chosen == "rust":
            raise ImportError("vectorbt's engine is 'rust' but vectorbt-rust is not installed")
        return "numba"
    return "rust"


@contextmanager
def _vectorbt_record_dtypes() -> Iterator[ModuleType]:
    """``vectorbt.portfolio.enums`` (the kernels' record dtypes and enums), importable by name for
    the duration: vectorbt's Rust kernels import it when called.

    When vectorbt has been imported, it is that module. Otherwise vectorbt, its portfolio and its
    utilities enter ``sys.modules`` as bare packages (their folders, not their ``__init__``), so
    that importing the module loads it and what it imports (``vectorbt._typing``,
    ``vectorbt.utils.docs``) and nothing else of vectorbt; afterwards every ``vectorbt`` module
    this added leaves ``sys.modules`` again.
    """
    if "vectorbt" in sys.modules:
        yield importlib.import_module("vectorbt.portfolio.enums")
        return
    spec = importlib.util.find_spec("vectorbt")
    if spec is None or spec.origin is None:
        raise ImportError("vectorbt is not installed")
    root = Path(spec.origin).parent
    before = set(sys.modules)
    for name in _SKELETON:
        bare = importlib.machinery.ModuleSpec(name, None, is_package=True)
        bare.submodule_search_locations = [str(root.joinpath(*name.split(".")[1:]))]
        sys.modules[name] = importlib.util.module_from_spec(bare)
    try:
        yield importlib.import_module("vectorbt.portfolio.enums")
    finally:
        for name in set(sys.modules) - before:
            if name == "vectorbt" or name.startswith("vectorbt."):
                del sys.modules[name]


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

    ``via``: ``"vectorbt"`` (vectorbt's order kernel on the engine :func:`vectorbt_engine`
    names: Rust called directly, numba through ``vectorbt.Portfolio.from_orders``),
    ``"portfolio"`` (``vectorbt.Portfolio.from_orders`` on either engine) or ``"closed_form"``
    (:func:`holdings_closed_form`; ``call_seq`` does not change its result).
    """
    if via == "closed_form":
        return holdings_closed_form(close, size, group_lens, init_cash=init_cash, fees=fees)
    if via == "vectorbt" and vectorbt_engine() == "rust":
        return _holdings_by_rust_kernel(
            close, size, group_lens, call_seq, init_cash=init_cash, fees=fees
        )
    import vectorbt as vbt

    group = np.repeat(np.arange(len(group_lens)), group_lens)
    pf = vbt.Portfolio.from_orders(
        close=close,
        size=size,
        size_type="targetpercent",
        direction="both",
        group_by=group,
        cash_sharing=True,
        call_seq="auto" if call_seq is None else call_seq,
        init_cash=init_cash,
        fees=fees,
        **ORDER_PARAMETERS,
    )
    shape = close.shape
    held = np.asarray(pf.assets(), dtype="float64").reshape(shape)
    cash = np.asarray(pf.cash(), dtype="float64").reshape(shape[0], len(group_lens))
    return held, cash


def _holdings_by_rust_kernel(
    close: np.ndarray,
    size: np.ndarray,
    group_lens: np.ndarray,
    call_seq: np.ndarray | None,
    *,
    init_cash: float,
    fees: float,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`holdings_after_orders` on vectorbt's Rust kernel, without ``vectorbt.Portfolio``:
    the calls ``Portfolio.from_orders``, ``Portfolio.assets`` and ``Portfolio.cash`` make on the
    Rust engine for these orders, with the arrays they would pass (scalars as 0-d arrays, the
    call sequence in Fortran order, ``call_seq="auto"`` as the default sequence that the kernel
    sorts on each row)."""
    from vectorbt_rust import portfolio as rs
    from vectorbt_rust.records import col_map_rs

    shape = (int(close.shape[0]), int(close.shape[1]))
    lens = np.asarray(group_lens, dtype=np.int64)
    cash0 = np.full(len(lens), float(init_cash))
    auto = call_seq is None
    if auto:  # vectorbt's default sequence: each group's columns in order, on every row
        row = np.concatenate([np.arange(n, dtype=np.int64) for n in lens])
        call_seq = np.broadcast_to(row, shape)
    seq = np.require(call_seq, dtype=np.int64, requirements=["A", "O", "W", "F"])
    p = ORDER_PARAMETERS

    def flex(value: Any, dtype: Any) -> np.ndarray:
        return np.asarray(value, dtype=dtype)

    with _vectorbt_record_dtypes() as enums:
        records, _ = rs.simulate_from_orders_rs(
            shape,
            lens,
            cash0,
            seq,
            flex(size, np.float64),
            flex(p["price"], np.float64),
            flex(enums.SizeType.TargetPercent, np.int64),
            flex(enums.Direction.Both, np.int64),
            flex(fees, np.float64),
            flex(p["fixed_fees"], np.float64),
            flex(p["slippage"], np.float64),
            flex(p["min_size"], np.float64),
            flex(p["max_size"], np.float64),
            flex(p["size_granularity"], np.float64),
            flex(p["reject_prob"], np.float64),
            flex(p["lock_cash"], np.bool_),
            flex(p["allow_partial"], np.bool_),
            flex(p["raise_reject"], np.bool_),
            flex(p["log"], np.bool_),
            flex(p["val_price"], np.float64),
            flex(close, np.float64),
            auto_call_seq=auto,
            ffill_val_price=p["ffill_val_price"],
            update_value=p["update_value"],
            max_orders=shape[0] * shape[1],
            max_logs=1,
            init_temp_records=False,
            flex_2d=True,
        )
        both = int(enums.Direction.Both)
    col_idxs, col_lens = col_map_rs(records["col"], shape[1])
    held = rs.assets_rs(rs.asset_flow_rs(records, col_idxs, col_lens, shape, both))
    flow = rs.cash_flow_grouped_rs(rs.cash_flow_rs(records, col_idxs, col_lens, shape, False), lens)
    cash = rs.cash_grouped_rs(shape, flow, lens, rs.init_cash_grouped_rs(cash0, lens, True))
    return np.asarray(held, dtype="float64"), np.asarray(cash, dtype="float64")


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
