"""The own-history null: window by window on a hand-made series, its calibrated p-value by hand,
and the p-value's false-positive and detection rates on pairs where the truth is known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from backtest.evidence.bootstrap import block_bootstrap_mean, block_bootstrap_sums
from backtest.evidence.claims import own_history
from backtest.evidence.excess import ClaimOptions, paired_days
from backtest.evidence.nulls import history_windows, rank_null, rank_p_value
from backtest.results import ExcessTest
from buckets.models import Claim

# daily excess log returns of a pair over 12 days before the claim: windows of 5 days
X = np.array([0.01, -0.02, 0.03, 0.0, 0.01, 0.02, -0.01, 0.04, -0.03, 0.0, 0.02, 0.01])


def test_every_window_by_hand() -> None:
    windows = history_windows(X, 5, 2, 0.90, 500, np.random.default_rng([0, 2]))
    # 8 windows: rows 0-4, 1-5, ..., 7-11
    sums = [0.03, 0.04, 0.05, 0.06, 0.03, 0.02, 0.02, 0.04]
    np.testing.assert_allclose(windows.excess, np.expm1(sums), rtol=0, atol=1e-15)
    assert windows.ends.tolist() == [4, 5, 6, 7, 8, 9, 10, 11]
    # each window's interval is the claim test's own bootstrap of that window, with the same
    # block starts (one generator, drawn once)
    for w in range(8):
        part = X[w : w + 5]
        own = block_bootstrap_sums(part, 2, 500, np.random.default_rng([0, 2]))
        draws = np.expm1(own - block_bootstrap_mean(part, 2) + part.sum())
        low, high = np.quantile(draws, [0.05, 0.95])
        assert windows.low[w] == pytest.approx(low, abs=1e-12)
        assert windows.high[w] == pytest.approx(high, abs=1e-12)


def test_the_claims_place_among_its_history() -> None:
    days = pd.bdate_range("2024-01-02", periods=len(X), name="date")
    bench = pd.Series(0.001, index=days)
    # bucket returns that give exactly X as daily excess log returns against the benchmark
    bucket = pd.Series(np.expm1(X + np.log1p(0.001)), index=days)
    pair = paired_days(bucket, bench)
    claim = Claim(
        id="c", source="s", statement="s", bucket="b", benchmark="m", start=days[-1].date()
    )
    main = ExcessTest(
        start=claim.start, end=None, days=5, bucket_return=None, benchmark_return=None,
        excess_return=math.expm1(0.045), low=None, high=None, verdict="supported",
    )  # fmt: skip
    options = ClaimOptions(min_history_windows=5, history_resamples=500, history_simulations=500)
    h = own_history(pair, claim, main, 2, pd.DatetimeIndex(days), options)
    # window sums 0.03 0.04 0.05 0.06 0.03 0.02 0.02 0.04 against 0.045: 6 below, 2 above
    assert (h.windows, h.days, h.independent) == (8, 5, 2)
    assert h.percentile == pytest.approx(6 / 8) and h.share_above == pytest.approx(2 / 8)
    assert h.median == pytest.approx(
        np.median(np.expm1([0.03, 0.04, 0.05, 0.06, 0.03, 0.02, 0.02, 0.04]))
    )
    assert h.first_start is None  # the first window starts at the data's first close
    assert h.last_end == days[-1].date()
    # two independent windows cannot make anything unusual: the reason says so
    assert h.p_floor is not None and h.p_floor > 0.05 and h.reason is not None


def test_rank_p_value_by_hand() -> None:
    null = np.array([0.0, 0.0, 0.1, 0.5])  # shares reached in four simulated pairs, sorted
    assert rank_p_value(null, 0.0) == pytest.approx(3 / 5)  # (1 + 2) / (1 + 4)
    assert rank_p_value(null, 0.2) == pytest.approx(4 / 5)
    assert rank_p_value(null, 1.0) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("history_days", "n", "simulations"),
    [(768, 129, 4000), (40, 7, 251), (12, 12, 3), (30, 2, 500)],
)
def test_the_rank_null_is_its_definition_draw_for_draw(
    history_days: int, n: int, simulations: int
) -> None:
    # the definition in one piece: every pair's draws at once (the function draws them in
    # chunks of rows, which the generator fills in the same order)
    z = np.random.default_rng([7, 3]).standard_normal((simulations, history_days + n))
    c = np.concatenate([np.zeros((simulations, 1)), np.cumsum(z, axis=1)], axis=1)
    shares = [
        np.mean(
            [
                c[s, w + n] - c[s, w] >= c[s, -1] - c[s, history_days]
                for w in range(history_days - n + 1)
            ]
        )
        for s in range(min(simulations, 40))
    ]
    windows = c[:, n : history_days + 1] - c[:, : history_days - n + 1]
    expected = np.sort((windows >= (c[:, -1] - c[:, history_days])[:, None]).mean(axis=1))
    null = rank_null(history_days, n, simulations, np.random.default_rng([7, 3]))
    assert null.tobytes() == expected.tobytes()
    # and the first pairs' shares window by window, by a loop
    first = ((windows >= (c[:, -1] - c[:, history_days])[:, None]).mean(axis=1))[: len(shares)]
    np.testing.assert_allclose(first, shares, rtol=0, atol=0)


# --- calibration -----------------------------------------------------------------------------------

DAYS, SIGMA = 129, 0.0285  # the claim's length and the pair's daily excess σ on the snapshot


def _p_values(seeds: int, history: int, daily_effect: float = 0.0) -> np.ndarray:
    """Pairs with fat tails (t with 4 degrees of freedom) and some autocorrelation (AR 0.1):
    the claim's calibrated p-value against ``history`` days before it."""
    null = rank_null(history, DAYS, 2000, np.random.default_rng([0, 3]))
    out = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        x = rng.standard_t(4, history + DAYS) / math.sqrt(2) * SIGMA
        x[1:] += 0.1 * x[:-1]
        x[history:] += daily_effect
        c = np.concatenate([[0.0], np.cumsum(x)])
        windows = c[DAYS : history + 1] - c[: history - DAYS + 1]
        out.append(rank_p_value(null, float((windows >= c[-1] - c[history]).mean())))
    return np.array(out)


def test_the_own_history_p_value_is_calibrated_when_nothing_changed() -> None:
    # ten years of history: about 20 independent windows of the claim's length
    assert 0.02 <= (_p_values(400, 2600) < 0.05).mean() <= 0.08


def test_the_own_history_p_value_finds_a_planted_change() -> None:
    # twice the main test's MDE on this pair (+117%): the claim tops its history
    daily = 2 * math.log1p(1.17) / DAYS
    assert (_p_values(200, 2600, daily) < 0.05).mean() >= 0.80


def test_a_short_history_cannot_call_anything_unusual() -> None:
    # the snapshot's default run: 768 days before the claim, ~6 windows of 129 days: a window
    # above all of them is still p ≈ 0.05, and the naive 95th percentile would be passed by
    # about 12% of pairs where nothing changed
    null = rank_null(768, DAYS, 4000, np.random.default_rng([0, 3]))
    assert rank_p_value(null, 0.0) > 0.04
    naive = (null < 0.05).mean()
    assert 0.08 <= naive <= 0.16
