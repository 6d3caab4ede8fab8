"""The moving-block bootstrap: draw for draw arch's, by hand on tiny series, and its exact mean."""

from __future__ import annotations

import numpy as np
import pytest
from arch.bootstrap import MovingBlockBootstrap

from backtest.evidence.bootstrap import block_bootstrap_mean, block_bootstrap_sums


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
