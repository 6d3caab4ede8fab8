"""What the data could detect: the MDE against its normal formula and its own simulation, the
days the observed rate needs, and the verdict rule calibrated on pairs where the truth is known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from backtest.evidence.claims import power_of
from backtest.evidence.excess import (
    ClaimOptions,
    choose_block_length,
    excess_log_returns,
    excess_test,
    paired_days,
)
from backtest.evidence.power import days_to_detect, detectable_effects
from buckets.models import Claim, Direction


def test_the_mde_of_normal_sums_is_the_textbook_formula() -> None:
    # centred sums ~ N(0, σ²): supported in 80% when Δ = ℓ + (z_.95 + z_.80) σ
    sigma = 0.2
    centred = np.random.default_rng(0).normal(0, sigma, 400_000)
    found = detectable_effects(centred, 0.05, confidence=0.90, power=0.80)
    z = 1.6448536269514722 + 0.8416212335729143
    assert found.above == pytest.approx(math.expm1(math.log1p(0.05) + z * sigma), rel=5e-3)
    assert found.below == pytest.approx(math.expm1(math.log1p(0.05) - z * sigma), rel=5e-3)


def test_days_to_detect_solves_the_square_root_rule_by_hand() -> None:
    # normal sums with σ = 0.1 over n = 100 days: the spread at N days is 0.1 √(N / 100).
    # rate 0.002 a day, level 0: 0.002 N ≥ 2.486 × 0.1 × √(N / 100) → √N ≥ 12.43 → N = 155
    centred = np.random.default_rng(1).normal(0, 0.1, 400_000)
    spread = float(-(np.quantile(centred, 0.05) + np.quantile(centred, 0.20)))  # ≈ 2.486 × 0.1
    got = days_to_detect(centred, total=0.2, n=100, level=0.0, confidence=0.90)
    assert got.side == "supported"
    assert got.days == math.ceil((spread / math.sqrt(100) / 0.002) ** 2)
    assert 150 <= got.days <= 160
    down = days_to_detect(centred, total=-0.2, n=100, level=0.0, confidence=0.90)
    assert down.side == "refuted" and down.days is not None and abs(down.days - got.days) <= 3
    slow = days_to_detect(centred, total=0.001, n=100, level=0.0, confidence=0.90)
    assert slow.days is None and slow.reason is not None and "10 years" in slow.reason


# --- calibration on synthetic pairs ---------------------------------------------------------------

# pipes vs gpu_merchant on the snapshot after 2026-01-27: 129 days, daily log-return volatility
# 4.16% and 3.33%, correlation 0.73 (the daily excess log return's σ is 2.85%)
DAYS, SIGMA_A, SIGMA_B, RHO = 129, 0.0416, 0.0333, 0.73
INDEX = pd.bdate_range("2026-01-28", periods=DAYS)
OPTIONS = ClaimOptions(resamples=2000)
CLAIM = Claim(id="c", source="s", statement="s", bucket="b", benchmark="m", start=INDEX[0].date())


def _pair(seed: int, daily_effect: float = 0.0) -> pd.DataFrame:
    """Two correlated random walks (log prices) with the real pair's volatilities."""
    z = np.random.default_rng(seed).standard_normal((DAYS, 2))
    a = SIGMA_A * z[:, 0] + daily_effect
    b = SIGMA_B * (RHO * z[:, 0] + math.sqrt(1 - RHO**2) * z[:, 1])
    return paired_days(pd.Series(np.expm1(a), INDEX), pd.Series(np.expm1(b), INDEX))


def _verdict_and_mde(pair: pd.DataFrame) -> tuple[str, float]:
    length = choose_block_length(excess_log_returns(pair), OPTIONS).used
    tested = excess_test(pair, Direction.outperform, 0.0, OPTIONS, block_length=length)
    power = power_of(tested, CLAIM, OPTIONS)
    assert power.detectable_above is not None
    return tested.result.verdict, power.detectable_above


def test_the_rule_calls_supported_about_5_percent_of_the_time_when_nothing_happened() -> None:
    results = [_verdict_and_mde(_pair(seed)) for seed in range(400)]
    verdicts = [v for v, _ in results]
    assert 0.02 <= verdicts.count("supported") / 400 <= 0.08
    assert 0.02 <= verdicts.count("refuted") / 400 <= 0.08


def test_an_effect_of_the_reported_mde_is_found_about_80_percent_of_the_time() -> None:
    mde = float(np.median([_verdict_and_mde(_pair(seed))[1] for seed in range(100)]))
    for multiple, low, high in ((1.0, 0.70, 0.90), (2.0, 0.80, 1.0)):
        daily = multiple * math.log1p(mde) / DAYS
        found = [_verdict_and_mde(_pair(1000 + seed, daily))[0] for seed in range(400)]
        assert low <= found.count("supported") / 400 <= high, multiple
