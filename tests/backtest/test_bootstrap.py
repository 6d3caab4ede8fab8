"""The moving-block bootstrap: draw for draw arch's, by hand on tiny series, and its exact mean."""

from __future__ import annotations

import numpy as np
import pytest
from arch.bootstrap import MovingBlockBootstrap
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backtest.evidence.bootstrap import (
    block_bootstrap_mean,
    block_bootstrap_sums,
    block_sums_from_starts,
    quantile_p_values,
    sorted_p_values,
    sorted_quantiles,
)


def test_block_bootstrap_matches_arch_draw_for_draw() -> None:
    # arch's MovingBlockBootstrap draws block starts uniformly in 0..n-L from the same generator;
    # with the same seed every resample's sum must be the same
    x = np.random.default_rng(5).normal(size=37)
    ours = block_bootstrap_sums(x, 5, 400, np.random.default_rng(42))
    theirs = MovingBlockBootstrap(5, x, seed=np.random.default_rng(42)).apply(np.sum, 400)[:, 0]
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_block_bootstrap_by_hand_on_four_days() -> None:
    # n=4, L=2: two blocks per resample, starts in {0, 1, 2}
    x = np.array([1.0, 2.0, 3.0, 4.0])
    starts = np.random.default_rng(7).integers(0, 3, size=(6, 2))
    block = {0: 1 + 2, 1: 2 + 3, 2: 3 + 4}
    expected = [block[a] + block[b] for a, b in starts]
    got = block_bootstrap_sums(x, 2, 6, np.random.default_rng(7))
    assert got.tolist() == expected


def test_block_bootstrap_resamples_columns_with_the_same_rows() -> None:
    x = np.random.default_rng(1).normal(size=(30, 3))
    x[:, 2] = 2 * x[:, 0]
    sums = block_bootstrap_sums(x, 4, 200, np.random.default_rng(3))
    assert sums.shape == (200, 3)
    np.testing.assert_allclose(sums[:, 2], 2 * sums[:, 0])
    single = block_bootstrap_sums(x[:, 1], 4, 200, np.random.default_rng(3))
    np.testing.assert_allclose(single, sums[:, 1])


def test_block_length_is_capped_at_half_the_days() -> None:
    # 6 days, asked for 10: blocks of 3, so a resample is two 3-day blocks starting in 0..3
    x = np.arange(6.0)
    starts = np.random.default_rng(0).integers(0, 4, size=(5, 2))
    expected = [sum(x[a : a + 3]) + sum(x[b : b + 3]) for a, b in starts]
    np.testing.assert_allclose(block_bootstrap_sums(x, 10, 5, np.random.default_rng(0)), expected)


def test_block_bootstrap_mean_is_the_exact_average_over_every_start() -> None:
    # n=5, L=2: blocks of 2, 2 and a last block of 1; starts 0..3 equally likely
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    full = np.mean([1 + 2, 2 + 4, 4 + 8, 8 + 16])  # 11.25
    single = np.mean([1, 2, 4, 8])  # 3.75
    assert block_bootstrap_mean(x, 2) == pytest.approx(2 * full + single)  # 26.25, not sum 31
    # and it is what arch's resamples average to
    draws = MovingBlockBootstrap(2, x, seed=np.random.default_rng(0)).apply(np.sum, 20_000)
    assert draws.mean() == pytest.approx(26.25, rel=0.01)


# --- p-values that agree with the interval ---------------------------------------------------------


def test_p_values_by_hand_on_five_draws() -> None:
    from backtest.evidence.bootstrap import quantile_p_values

    # Q(a) runs linearly through (0, 0), (1/4, 1), ..., (1, 4): Q(a) = 4a. It crosses 2.5 at
    # a = 0.625: p_above = 0.625 and p_below = 1 - 0.625
    assert quantile_p_values(np.array([3.0, 0.0, 4.0, 1.0, 2.0]), 2.5) == pytest.approx(
        (0.625, 0.375), abs=1e-15
    )
    # outside the draws: certain on one side
    assert quantile_p_values(np.array([0.0, 1.0]), -1.0) == (0.0, 1.0)
    assert quantile_p_values(np.array([0.0, 1.0]), 2.0) == (1.0, 0.0)
    # ties at the level: Q(a) <= 1 up to a = 2/3 and >= 1 from a = 1/3
    assert quantile_p_values(np.array([0.0, 1.0, 1.0, 2.0]), 1.0) == pytest.approx((2 / 3, 2 / 3))


def test_p_below_alpha_exactly_when_the_interval_excludes_the_level() -> None:
    from backtest.evidence.bootstrap import quantile_p_values

    rng = np.random.default_rng(4)
    for _ in range(200):
        draws = rng.normal(rng.normal(), 1, rng.integers(50, 400))
        # levels just beside the interval's ends and elsewhere; at an end itself the p-value is
        # the end's quantile level (equality is decided by rounding, in either direction)
        low, high = np.quantile(draws, [0.05, 0.95])
        beside = [low - 1e-9, low + 1e-9, high - 1e-9, high + 1e-9]
        for level in [*beside, *rng.normal(0, 2, 5)]:
            p_above, p_below = quantile_p_values(draws, float(level))
            assert (p_above < 0.05) == (np.quantile(draws, 0.05) > level)
            assert (p_below < 0.05) == (np.quantile(draws, 0.95) < level)
        assert quantile_p_values(draws, float(low))[0] == pytest.approx(0.05, abs=1e-12)
        assert quantile_p_values(draws, float(high))[1] == pytest.approx(0.05, abs=1e-12)


# --- every window at once --------------------------------------------------------------------------


def test_window_sums_are_each_windows_own_resample_sums() -> None:
    from backtest.evidence.bootstrap import block_starts, window_bootstrap_sums

    x = np.random.default_rng(8).normal(size=40)
    n, length = 13, 4
    starts = block_starts(n, length, 300, np.random.default_rng(1))
    sums, sample, mean = window_bootstrap_sums(x, n, length, starts)
    assert sums.shape == (40 - n + 1, 300)
    for w in range(40 - n + 1):
        window = x[w : w + n]
        own = block_bootstrap_sums(window, length, 300, np.random.default_rng(1))
        np.testing.assert_allclose(sums[w], own, rtol=0, atol=1e-12)
        assert sample[w] == pytest.approx(window.sum(), abs=1e-12)
        assert mean[w] == pytest.approx(block_bootstrap_mean(window, length), abs=1e-12)


# --- the block length --------------------------------------------------------------------------------


def test_the_automatic_block_length_is_arch_s_politis_white_rounded_and_bounded() -> None:
    from arch.bootstrap import optimal_block_length

    from backtest.evidence.bootstrap import automatic_block_length, politis_white_block_length

    rng = np.random.default_rng(2)
    e = rng.normal(size=600)
    ar = np.zeros(600)
    for t in range(1, 600):  # strongly dependent: a long block
        ar[t] = 0.9 * ar[t - 1] + e[t]
    for x in (e[:129], ar):
        estimate = politis_white_block_length(x)
        assert estimate == optimal_block_length(x)["circular"].iloc[0]
    assert politis_white_block_length(ar) > 10
    assert automatic_block_length(politis_white_block_length(ar), 600) == round(
        optimal_block_length(ar)["circular"].iloc[0]
    )
    assert automatic_block_length(1.7, 129) == 5  # at least 5 days
    assert automatic_block_length(44.6, 129) == 32  # at most n // 4
    assert automatic_block_length(7.5, 129) == 8
    assert automatic_block_length(float("nan"), 129) == 5


def _same(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Equal to the last bit, nan equal to nan (arch's estimate of a series without
    autocovariance is 0 / 0)."""
    return all(x == y or (np.isnan(x) and np.isnan(y)) for x, y in zip(a, b, strict=True))


def _arch_lengths(x: np.ndarray) -> tuple[float, float]:
    """arch's own estimate of one series: the stationary and circular columns of its public
    ``optimal_block_length``, and (where this arch has it) the per-series function it calls."""
    from arch.bootstrap import base as arch_base
    from arch.bootstrap import optimal_block_length

    table = optimal_block_length(x)
    public = (float(table["stationary"].iloc[0]), float(table["circular"].iloc[0]))
    single = getattr(arch_base, "_single_optimal_block", None)
    if single is not None:
        assert _same(tuple(map(float, single(x))), public)
    return public


def _dependent(noise: np.ndarray, phi: float) -> np.ndarray:
    out = np.array(noise, dtype="float64")
    for t in range(1, len(out)):
        out[t] += phi * out[t - 1]
    return out


@settings(max_examples=300, deadline=None)
@given(
    noise=arrays(
        np.float64,
        st.integers(12, 900),
        elements=st.floats(-0.2, 0.2, allow_nan=False, allow_subnormal=False),
    ),
    phi=st.sampled_from([0.0, 0.3, 0.9, -0.5]),
    scale=st.sampled_from([1.0, 1e-3]),
)
def test_the_block_length_is_arch_s_estimate_bit_for_bit(
    noise: np.ndarray, phi: float, scale: float
) -> None:
    """The transcription of arch's Politis-White gives arch's numbers to the last bit, on
    series long and short, independent and strongly dependent, with ties and constant runs."""
    from backtest.evidence.bootstrap import politis_white_block_length, politis_white_lengths

    x = _dependent(noise, phi) * scale
    with np.errstate(all="ignore"):  # a constant series: arch divides 0 by 0, as the copy does
        ours = politis_white_lengths(x)
        assert _same(ours, _arch_lengths(x))
        assert _same((politis_white_block_length(x), ours[1]), (ours[1], ours[1]))


def test_the_block_length_is_arch_s_on_the_sample_s_real_returns() -> None:
    """And on real daily returns: every ticker of the shipped sample, whole and in windows of
    the lengths the claims test (a quarter, a year), and their excess log returns over SPY."""
    import pandas as pd

    from backtest.evidence.bootstrap import politis_white_lengths
    from backtest.prices.sample import sample_path

    prices = pd.read_parquet(sample_path())
    returns = prices.drop(columns="^IRX").pct_change(fill_method=None).iloc[1:]
    spy = np.log1p(returns["SPY"])
    checked = 0
    for ticker in returns.columns:
        r = returns[ticker].dropna()
        excess = (np.log1p(returns[ticker]) - spy).dropna()
        for x in (r, r.iloc[-63:], r.iloc[-252:], excess, excess.iloc[-150:]):
            if len(x) >= 20:
                values = x.to_numpy(dtype="float64")
                with np.errstate(all="ignore"):  # a window in which a ticker never moved
                    assert _same(politis_white_lengths(values), _arch_lengths(values)), ticker
                checked += 1
    assert checked > 100


@settings(max_examples=400, deadline=None)
@given(
    draws=arrays(
        np.float64,
        st.integers(1, 300),
        elements=st.one_of(
            st.floats(-1.0, 1e6, allow_nan=False, allow_subnormal=True),
            st.sampled_from([-1.0, -0.5, 0.0, 0.1, 0.1 + 1e-16, 3.0]),  # ties, near-ties
        ),
    ),
    q=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6),
)
def test_quantiles_of_sorted_draws_are_numpys_bit_for_bit(
    draws: np.ndarray, q: list[float]
) -> None:
    """One sort serves a claim's interval and p-values: the interval read from the sorted draws
    must be ``np.quantile``'s to the last bit, on any draws and levels (ties, 1 draw, q = 0, 1)."""
    q = [*q, 0.05, 0.95]
    ordered = np.sort(draws)
    assert sorted_quantiles(ordered, q).tolist() == np.quantile(draws, q).tolist()
    level = float(np.median(draws))
    assert sorted_p_values(ordered, level) == quantile_p_values(draws, level)


@settings(max_examples=200, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 40), st.integers(1, 9)),
    seed=st.integers(0, 2**32 - 1),
    ties=st.booleans(),
    q=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=4),
)
def test_every_windows_quantiles_are_numpys_bit_for_bit(
    shape: tuple[int, int], seed: int, ties: bool, q: list[float]
) -> None:
    """The own-history null reads each window's interval from two order statistics of its sums
    instead of ``np.quantile`` over ``expm1`` of all of them: the same numbers to the last bit."""
    from backtest.evidence.bootstrap import excess_quantiles

    rng = np.random.default_rng(seed)
    resamples, windows = shape
    sums = rng.normal(0, 0.1, size=(windows, resamples))
    if ties:
        sums = np.round(sums, 1)
    mean = rng.normal(0, 0.01, size=windows)
    sample = rng.normal(0, 0.1, size=windows)
    q = [*q, 0.05, 0.95]
    expected = np.quantile(np.expm1(sums.T - mean + sample), q, axis=0)
    assert excess_quantiles(sums, q, mean, sample).tolist() == expected.tolist()


def test_tests_that_share_their_block_starts_draw_what_a_fresh_generator_draws() -> None:
    """A claim's leave-one-out tests reuse the main test's block starts (same seed, stream,
    days, block length): each test must still be what its own fresh generator gives, whatever
    was drawn before it, and the kept starts cannot be written to."""
    from backtest.evidence.bootstrap import block_starts
    from backtest.evidence.excess import (
        ClaimOptions,
        _stream_block_starts,
        rng_stream,
        stream_block_starts,
    )

    options = ClaimOptions(seed=5)
    x = np.random.default_rng(2).normal(0.0, 0.01, (120, 3))
    _stream_block_starts.cache_clear()
    for stream, n, length in [(0, 120, 6), (1, 120, 6), (0, 90, 6), (0, 120, 6), (0, 120, 7)]:
        kept = stream_block_starts(options, stream, n, length, 500)
        fresh = block_starts(n, length, 500, rng_stream(options, stream))
        assert kept.tolist() == fresh.tolist()
        assert not kept.flags.writeable
        sums = block_sums_from_starts(x[:n], length, kept)
        assert (
            sums.tobytes()
            == block_bootstrap_sums(x[:n], length, 500, rng_stream(options, stream)).tobytes()
        )
    assert _stream_block_starts.cache_info().hits == 1
    with pytest.raises(ValueError, match="block starts per resample"):
        block_sums_from_starts(x, 5, kept)
