"""vectorbt's two engines give the same buckets: its Rust engine (``vectorbt-rust``, a
dependency, so a new machine's first run compiles nothing) and its numba kernels (what runs when
the Rust wheel is absent). Each is forced in turn through vectorbt's ``engine`` setting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest

from backtest.conventions import Rebalance, Weighting
from backtest.simulation.engine import BucketSpec, simulate_buckets


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
    """Five random walks over 300 business days; E lists late, B has a gap of missing days."""
    rng = np.random.default_rng(3)
    index = pd.bdate_range("2024-01-01", periods=300)
    walks = 100 * np.cumprod(1 + rng.normal(0.0005, 0.02, (300, 5)), axis=0)
    frame = pd.DataFrame(walks, index=index, columns=list("ABCDE"))
    frame.iloc[:120, 4] = np.nan
    frame.iloc[150:155, 1] = np.nan
    return frame


def test_vectorbt_rust_is_installed() -> None:
    import vectorbt_rust  # noqa: F401  (a declared dependency: the first run compiles nothing)


@pytest.mark.parametrize(
    ("rebalance", "weighting", "cost_bps"),
    [
        (Rebalance.monthly, Weighting.equal, 0.0),
        (Rebalance.weekly, Weighting.equal, 25.0),
        (Rebalance.none, Weighting.equal, 10.0),
        (Rebalance.quarterly, Weighting.inverse_vol, 5.0),
    ],
)
def test_the_rust_and_numba_engines_simulate_the_same_buckets(
    rebalance: Rebalance, weighting: Weighting, cost_bps: float
) -> None:
    prices = _prices()
    specs = [BucketSpec("abc", ["A", "B", "C"]), BucketSpec("de", ["D", "E"])]
    runs = {}
    for name in ("numba", "rust"):
        with engine(name):
            runs[name] = simulate_buckets(
                prices, specs, rebalance=rebalance, weighting=weighting, cost_bps=cost_bps
            )
    a, b = runs["numba"], runs["rust"]
    assert a.returns.notna().sum().min() > 150  # the comparison is over real paths
    pd.testing.assert_frame_equal(a.returns, b.returns, rtol=0, atol=1e-15)
    pd.testing.assert_frame_equal(a.weights, b.weights, rtol=0, atol=1e-15)
