"""The three ways a bucket's orders become holdings give the same buckets: vectorbt's Rust engine
(``vectorbt-rust``, a dependency, so a new machine's first run compiles nothing), its numba
kernels (what runs when the Rust wheel is absent; each forced in turn through vectorbt's
``engine`` setting), and the closed form the weekly history, the board and the sweep use
(:func:`backtest.simulation.orders.holdings_closed_form`, no vectorbt at all)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.conventions import Rebalance, Weighting
from backtest.simulation import orders
from backtest.simulation.engine import BucketSpec, simulate_as_of, simulate_buckets

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def engine(name: str) -> Iterator[None]:
    import vectorbt as vbt

    before = vbt.settings["engine"]
    vbt.settings["engine"] = name
    try:
        yield
    finally:
        vbt.settings["engine"] = before


def _prices() -> pd.DataFrame:
    """Five random walks over 300 business days; E lists late, B has a gap of missing days, C
    stops 40 days before the end (sold at its last price)."""
    rng = np.random.default_rng(3)
    index = pd.bdate_range("2024-01-01", periods=300)
    walks = 100 * np.cumprod(1 + rng.normal(0.0005, 0.02, (300, 5)), axis=0)
    frame = pd.DataFrame(walks, index=index, columns=list("ABCDE"))
    frame.iloc[:120, 4] = np.nan
    frame.iloc[150:155, 1] = np.nan
    frame.iloc[260:, 2] = np.nan
    return frame


CASES = [
    (Rebalance.monthly, Weighting.equal, 0.0),
    (Rebalance.weekly, Weighting.equal, 25.0),
    (Rebalance.none, Weighting.equal, 10.0),
    (Rebalance.daily, Weighting.equal, 50.0),
    (Rebalance.quarterly, Weighting.inverse_vol, 5.0),
]
SPECS = [BucketSpec("abc", ["A", "B", "C"]), BucketSpec("de", ["D", "E"])]


def test_vectorbt_rust_is_installed() -> None:
    import vectorbt_rust  # noqa: F401  (a declared dependency: the first run compiles nothing)


@pytest.mark.parametrize(("rebalance", "weighting", "cost_bps"), CASES)
def test_the_rust_and_numba_engines_and_the_closed_form_simulate_the_same_buckets(
    rebalance: Rebalance, weighting: Weighting, cost_bps: float
) -> None:
    prices = _prices()
    kw = {"rebalance": rebalance, "weighting": weighting, "cost_bps": cost_bps}
    runs = {}
    for name in ("numba", "rust"):
        with engine(name):
            runs[name] = simulate_buckets(prices, SPECS, **kw)  # type: ignore[arg-type]
    runs["closed"] = simulate_buckets(prices, SPECS, via="closed_form", **kw)  # type: ignore[arg-type]
    a, b, c = runs["numba"], runs["rust"], runs["closed"]
    assert a.returns.notna().sum().min() > 150  # the comparison is over real paths
    pd.testing.assert_frame_equal(a.returns, b.returns, rtol=0, atol=1e-15)
    pd.testing.assert_frame_equal(a.weights, b.weights, rtol=0, atol=1e-15)
    pd.testing.assert_frame_equal(b.returns, c.returns, rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(b.weights, c.weights, rtol=0, atol=0)
    for name in b.contributions:
        pd.testing.assert_frame_equal(
            b.contributions[name], c.contributions[name], rtol=0, atol=1e-12
        )


@pytest.mark.parametrize(("rebalance", "weighting", "cost_bps"), CASES)
def test_the_weekly_history_in_closed_form_equals_vectorbts(
    rebalance: Rebalance, weighting: Weighting, cost_bps: float
) -> None:
    prices = _prices()
    ends = [130, 154, 200, 259, 270, 299]  # inside B's gap, C's last price, after C stops
    kw = {"rebalance": rebalance, "weighting": weighting, "cost_bps": cost_bps}
    closed = simulate_as_of(prices, SPECS, ends, **kw)  # type: ignore[arg-type]
    with engine("rust"):
        reference = simulate_as_of(prices, SPECS, ends, via="vectorbt", **kw)  # type: ignore[arg-type]
    for e in ends:
        assert reference[e].notna().to_numpy().sum() > 100
        pd.testing.assert_frame_equal(closed[e], reference[e], rtol=0, atol=1e-12)


def _raw_orders(seed: int, fees: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Target-percent orders every 4th row on three groups (4, 3 and 1 columns), targets summing
    to at most ``1 / (1 + fees)`` (room for the fees, as the engine's targets leave), a late
    listing and a column that stops; prices from 5 to 500."""
    rng = np.random.default_rng(seed)
    close = rng.uniform(5, 500, 8) * np.cumprod(1 + rng.normal(0.0, 0.03, (80, 8)), axis=0)
    close[:9, 6] = np.nan
    close[61:, 1] = np.nan
    size = np.full(close.shape, np.nan)
    share = (1 - rng.uniform(0, 0.01, 20)[:, None]) / (1 + fees)
    size[::4, :4] = rng.dirichlet(np.ones(4), size=20) * share
    size[::4, 4:7] = rng.dirichlet(np.ones(3), size=20) * share
    size[::4, 7] = share[:, 0]
    size[60, 1] = 0.0  # sold at its last price
    size[np.isnan(close)] = np.nan
    return close, size, np.array([4, 3, 1])


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("fees", [0.0, 0.002])
def test_closed_form_holdings_equal_vectorbts_on_raw_orders(seed: int, fees: float) -> None:
    close, size, lens = _raw_orders(seed, fees)
    held, cash = orders.holdings_closed_form(close, size, lens, init_cash=1e9, fees=fees)
    with engine("rust"):
        ref_held, ref_cash = orders.holdings_after_orders(
            close, size, lens, None, init_cash=1e9, fees=fees
        )
    assert np.count_nonzero(ref_held[-1]) == 7  # every live column is held at the end
    np.testing.assert_allclose(held, ref_held, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(cash, ref_cash, rtol=1e-12, atol=1e-3)  # of 1e9 invested


def _portfolio_holdings(
    close: np.ndarray,
    size: np.ndarray,
    lens: np.ndarray,
    call_seq: np.ndarray | None,
    init_cash: float,
    fees: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Shares and cash as ``vectorbt.Portfolio`` gives them on its Rust engine, with vectorbt's
    own defaults for every order parameter the engine does not set."""
    import vectorbt as vbt

    pf = vbt.Portfolio.from_orders(
        close=close,
        size=size,
        size_type="targetpercent",
        group_by=np.repeat(np.arange(len(lens)), lens),
        cash_sharing=True,
        call_seq="auto" if call_seq is None else call_seq,
        init_cash=init_cash,
        fees=fees,
        engine="rust",
    )
    return np.asarray(pf.assets()), np.asarray(pf.cash())


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("fees", [0.0, 0.002])
@pytest.mark.parametrize("init_cash", [1e9, 0.01])
@pytest.mark.parametrize("given_sequence", [False, True])
def test_the_rust_kernel_called_directly_is_vectorbts_portfolio_bit_for_bit(
    seed: int, fees: float, init_cash: float, given_sequence: bool
) -> None:
    """The run calls vectorbt's Rust kernels without ``vectorbt.Portfolio`` (whose import costs
    ~1.4 s): the same shares and cash to the last bit, with the order of trades sorted by the
    kernel or given (as for big buckets), and with a group worth 0.01 (orders under vectorbt's
    ``min_size`` of 1e-8 shares are skipped, as ``Portfolio`` skips them)."""
    close, size, lens = _raw_orders(seed, fees)
    call_seq = None
    if given_sequence:  # each group's columns in reverse order on every row
        row = np.concatenate([np.arange(n)[::-1] for n in lens])
        call_seq = np.tile(row, (len(close), 1))
    held, cash = orders.holdings_after_orders(
        close, size, lens, call_seq, init_cash=init_cash, fees=fees
    )
    ref_held, ref_cash = _portfolio_holdings(close, size, lens, call_seq, init_cash, fees)
    assert orders.vectorbt_engine() == "rust"
    assert np.count_nonzero(ref_held[-1]) == 7
    np.testing.assert_array_equal(held, ref_held)
    np.testing.assert_array_equal(cash, ref_cash)


def test_the_rust_kernel_imports_one_module_of_vectorbt_and_leaves_none() -> None:
    """In a fresh process the direct call loads vectorbt's record dtypes and what they import,
    not vectorbt's package (no scikit-learn, no scipy.stats, no accessors), and takes every
    vectorbt module out of ``sys.modules`` again: an ``import vectorbt`` after it is the whole
    package, whose ``Portfolio`` then agrees with the direct call."""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from tests.backtest.test_engines import _raw_orders, _portfolio_holdings\n"
        "from backtest.simulation import orders\n"
        "close, size, lens = _raw_orders(2, 0.002)\n"
        "held, cash = orders.holdings_after_orders(close, size, lens, None, init_cash=1e9, "
        "fees=0.002)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('vectorbt', 'sklearn') or m.startswith('scipy.stats'))\n"
        "print(loaded)\n"
        "import vectorbt\n"
        "ref_held, ref_cash = _portfolio_holdings(close, size, lens, None, 1e9, 0.002)\n"
        "print(np.array_equal(held, ref_held), np.array_equal(cash, ref_cash))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.split("\n")[:2] == ["[]", "True True"]


def test_the_engine_follows_vectorbts_setting() -> None:
    with engine("numba"):
        assert orders.vectorbt_engine() == "numba"
    with engine("auto"):
        assert orders.vectorbt_engine() == "rust"


def test_the_board_and_the_history_do_not_import_vectorbt() -> None:
    """The point of the closed form: the weekly history and the board never pay vectorbt's ~2 s
    import (the board's target is 3 s in all)."""
    code = (
        "import sys\n"
        "from tests.backtest.test_engines import _prices, SPECS\n"
        "from backtest.simulation.engine import simulate_as_of\n"
        "out = simulate_as_of(_prices(), SPECS, [200, 299])\n"
        "assert out[299].notna().any().all()\n"
        "print('vectorbt' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(("rebalance", "weighting", "cost_bps"), CASES[:3])
def test_simulate_returns_is_the_buckets_returns_in_any_chunking(
    rebalance: Rebalance, weighting: Weighting, cost_bps: float
) -> None:
    """The claims' variants (:func:`simulate_returns`) are the buckets' own returns, and cutting
    the buckets into chunks of member columns changes no number (each bucket's figures depend on
    its own columns only)."""
    from backtest.simulation.engine import simulate_returns

    prices = _prices()
    specs = [*SPECS, BucketSpec("ab", ["A", "B"]), BucketSpec("cde", ["C", "D", "E"])]
    kw = {"rebalance": rebalance, "weighting": weighting, "cost_bps": cost_bps}
    whole = simulate_returns(prices, specs, **kw)  # type: ignore[arg-type]
    for chunk in (1, 3, 5):
        cut = simulate_returns(prices, specs, chunk_columns=chunk, **kw)  # type: ignore[arg-type]
        pd.testing.assert_frame_equal(cut, whole, rtol=0, atol=0)
    buckets = simulate_buckets(prices, specs, via="closed_form", **kw)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(whole, buckets.returns, rtol=0, atol=0, check_names=False)
