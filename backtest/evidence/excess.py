"""One claim test: the excess return of a bucket over its benchmark in a window, its bootstrap
interval and p-values, and its verdict (the rules are in :mod:`backtest.evidence.claims`'
docstring and the README). :mod:`backtest.evidence.claims` adds the controls and reads the run's
claims together; :mod:`backtest.evidence.history` runs the same test as of each week.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar

import numpy as np
import pandas as pd

from backtest.conventions import (
    MAX_BLOCK_LENGTH,
    MAX_RESAMPLES,
    MAX_SEED,
    MIN_RESAMPLES,
    Correction,
    Rebalance,
    Weighting,
)
from backtest.evidence.bootstrap import (
    automatic_block_length,
    block_bootstrap_mean,
    block_starts,
    block_sums_from_starts,
    effective_block_length,
    politis_white_block_length,
    sorted_p_values,
    sorted_quantiles,
)
from backtest.evidence.power import POWER
from backtest.results import BlockLength, ClaimSettings, ExcessTest
from buckets.errors import RunConfigError
from buckets.models import Direction


class Verdict(StrEnum):
    supported = "supported"
    refuted = "refuted"
    negligible = "negligible"
    inconclusive = "inconclusive"
    insufficient_data = "insufficient_data"


DECIDED = (Verdict.supported, Verdict.refuted, Verdict.negligible)
"""Verdicts that claim something, and so have controls to survive."""


@dataclass(frozen=True)
class ClaimOptions:
    """How claims are tested (the CLI's ``--block-length``, ``--resamples``, ``--seed``,
    ``--correction``)."""

    confidence: float = 0.90
    block_length: int | None = None
    """Fixed block length; None: the Politis–White estimate of each claim."""
    resamples: int = 10_000
    seed: int = 0
    min_days: int = 20
    correction: Correction = Correction.holm
    history_resamples: int = 2_000
    """Resamples per window of the own-history null (hundreds of windows per claim)."""
    history_simulations: int = 4_000
    """Simulated pairs behind the own-history p-value."""
    min_history_windows: int = 20
    power: float = POWER
    sensitivity_lengths: tuple[int, ...] = (5, 10, 20)
    factors: tuple[str, ...] = ("SPY", "SMH")
    grid_weightings: tuple[Weighting, ...] = (Weighting.equal, Weighting.inverse_vol)
    grid_rebalances: tuple[Rebalance, ...] = (Rebalance.monthly, Rebalance.quarterly)
    grid_shifts: tuple[int, ...] = (0, 5, 10, 20)
    robust_share: float = 0.75

    def __post_init__(self) -> None:
        """The CLI's bounds, for every caller (``bucketmap.run`` too): RunConfigError naming the
        option, before anything is allocated."""
        if not MIN_RESAMPLES <= self.resamples <= MAX_RESAMPLES:
            raise RunConfigError(
                f"--resamples {self.resamples}: from {MIN_RESAMPLES} to {MAX_RESAMPLES:,}"
            )
        if self.block_length is not None and not 1 <= self.block_length <= MAX_BLOCK_LENGTH:
            raise RunConfigError(
                f"--block-length {self.block_length}: from 1 to {MAX_BLOCK_LENGTH:,} trading days"
            )
        if not 0 <= self.seed <= MAX_SEED:
            raise RunConfigError(f"--seed {self.seed}: from 0 to {MAX_SEED:,}")

    @property
    def alpha(self) -> float:
        """The one-sided level of the verdict: ``(1 - confidence) / 2``."""
        return (1 - self.confidence) / 2

    def settings(self) -> ClaimSettings:
        return ClaimSettings(
            confidence=self.confidence,
            block_length=self.block_length,
            resamples=self.resamples,
            seed=self.seed,
            min_days=self.min_days,
            correction=self.correction.value,
            history_resamples=self.history_resamples,
            history_simulations=self.history_simulations,
            min_history_windows=self.min_history_windows,
            power=self.power,
            sensitivity_lengths=list(self.sensitivity_lengths),
            factors=list(self.factors),
            grid_weightings=[w.value for w in self.grid_weightings],
            grid_rebalances=[r.value for r in self.grid_rebalances],
            grid_shifts=list(self.grid_shifts),
            robust_share=self.robust_share,
            method=(
                "excess return = exp(sum of daily excess log returns) - 1 over the days both "
                "series have a return; interval: moving-block bootstrap of the daily excess log "
                "returns (block length: Politis-White per claim, rounded, within [5, n // 4], "
                "or --block-length, at most n // 2; blocks start uniformly in 0..n-L, numpy "
                "default_rng(seed); placebo default_rng([seed, 1]); own history "
                "default_rng([seed, 2])), resampled sums shifted by sum - E*[sum] to centre them "
                "on the sample, linear quantiles; p-values: the quantile level at which the "
                "bootstrap crosses the claim's level, adjusted across the run's claims "
                "(Holm or Benjamini-Hochberg, as statsmodels multipletests); verdict at "
                "alpha = (1 - confidence) / 2: "
                "negligible (inside level ± min_effect), else supported (above), else refuted "
                "(below), else inconclusive; alpha draws shifted to mean the estimate"
            ),
        )


def claim_level(direction: Direction, threshold: float) -> float:
    """The excess a claim is judged against: θ to outperform, −θ not to underperform."""
    return threshold if direction is Direction.outperform else -threshold


def verdict(
    low: float, high: float, direction: Direction, threshold: float, min_effect: float = 0.0
) -> Verdict:
    """The interval's verdict, uncorrected: inside level ± ``min_effect`` (when given) is
    negligible, above the level supported, below it refuted, else inconclusive."""
    level = claim_level(direction, threshold)
    if min_effect > 0 and low > level - min_effect and high < level + min_effect:
        return Verdict.negligible
    if low > level:
        return Verdict.supported
    if high < level:
        return Verdict.refuted
    return Verdict.inconclusive


def p_verdict(p_above: float, p_below: float, p_negligible: float | None, alpha: float) -> Verdict:
    """The verdict read from (adjusted) p-values at the one-sided level ``alpha``; with raw
    p-values it is :func:`verdict` of the same draws' interval."""
    if p_negligible is not None and p_negligible < alpha:
        return Verdict.negligible
    if p_above < alpha:
        return Verdict.supported
    if p_below < alpha:
        return Verdict.refuted
    return Verdict.inconclusive


def rng_stream(options: ClaimOptions, stream: int) -> np.random.Generator:
    return _generator(options.seed, stream)


def _generator(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(seed if stream == 0 else [seed, stream])


def stream_block_starts(
    options: ClaimOptions, stream: int, n: int, block_length: int, resamples: int
) -> np.ndarray:
    """The block starts a test of ``n`` days draws from a fresh :func:`rng_stream`
    (:func:`backtest.evidence.bootstrap.block_starts`), read-only. Every test with the same seed,
    stream, days, block length and resamples draws the same starts, so the last few draws are
    kept: a claim's leave-one-out tests (one per member, 1,000 on a 1,000-member bucket) and its
    beta-adjusted alpha share the main test's, and drawing them is two thirds of a bootstrap's
    cost."""
    return _stream_block_starts(options.seed, stream, n, block_length, resamples)


@lru_cache(maxsize=4)
def _stream_block_starts(
    seed: int, stream: int, n: int, block_length: int, resamples: int
) -> np.ndarray:
    starts = block_starts(n, block_length, resamples, _generator(seed, stream))
    starts.flags.writeable = False
    return starts


def quantiles(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    low, high = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


# --- one test ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tested:
    result: ExcessTest
    draws: np.ndarray | None
    """Bootstrap excess returns (None when there were too few days)."""
    centred: np.ndarray | None = None
    """The resampled sums of daily excess log returns, centred on 0."""


_Frame = TypeVar("_Frame", pd.Series, pd.DataFrame)


def between(r: _Frame, start: dt.date | None, end: dt.date | None) -> _Frame:
    """The rows of days ``start < t <= end`` (either bound may be open)."""
    idx = pd.DatetimeIndex(r.index)
    keep = np.ones(len(idx), dtype=bool)
    if start is not None:
        keep &= idx > pd.Timestamp(start)
    if end is not None:
        keep &= idx <= pd.Timestamp(end)
    return r[keep]


@dataclass(frozen=True)
class Pair:
    """A bucket's and a benchmark's daily returns (fractions) on the days both have one, days
    ascending (:func:`paired_days`). Plain arrays, not a frame: a run tests some 600 windows of
    pairs, and a frame's construction and column lookups cost more than many of the tests."""

    days: pd.DatetimeIndex
    bucket: np.ndarray
    benchmark: np.ndarray

    def __len__(self) -> int:
        return len(self.bucket)

    def rows(self, keep: slice) -> Pair:
        """The pair on the rows ``keep`` selects."""
        return Pair(self.days[keep], self.bucket[keep], self.benchmark[keep])

    def between(self, start: dt.date | None, end: dt.date | None) -> Pair:
        """The days ``start < t <= end`` (either bound may be open), as :func:`between`."""
        first = 0 if start is None else int(self.days.searchsorted(pd.Timestamp(start), "right"))
        last = len(self) if end is None else int(self.days.searchsorted(pd.Timestamp(end), "right"))
        return self.rows(slice(first, max(first, last)))

    def last(self, n: int) -> Pair:
        """The last ``n`` days (all of them when there are fewer)."""
        return self.rows(slice(max(0, len(self) - n), len(self)))


def paired_days(bucket: pd.Series, benchmark: pd.Series) -> Pair:
    """Both series on the days both have a return."""
    if bucket.index.equals(benchmark.index):  # one calendar (every pair of a run): no alignment
        a, b = bucket.to_numpy(dtype="float64"), benchmark.to_numpy(dtype="float64")
        keep = ~(np.isnan(a) | np.isnan(b))
        return Pair(pd.DatetimeIndex(bucket.index[keep]), a[keep], b[keep])
    both = pd.concat([bucket.rename("bucket"), benchmark.rename("benchmark")], axis=1)
    both = both.dropna().sort_index()
    return Pair(
        pd.DatetimeIndex(both.index),
        both["bucket"].to_numpy(dtype="float64"),
        both["benchmark"].to_numpy(dtype="float64"),
    )


def excess_log_returns(pair: Pair) -> np.ndarray:
    """``ln(1 + r_bucket) - ln(1 + r_benchmark)`` per day of a :func:`paired_days` pair."""
    out: np.ndarray = np.log1p(pair.bucket) - np.log1p(pair.benchmark)
    return out


def excess_test(
    pair: Pair,
    direction: Direction,
    threshold: float,
    options: ClaimOptions,
    *,
    block_length: int,
    min_effect: float = 0.0,
    stream: int = 0,
    start: dt.date | None = None,
    resamples: int | None = None,
) -> Tested:
    """The claim test over the rows of ``pair`` (see :func:`paired_days`), as the module says,
    with blocks of ``block_length`` days (at most half the rows)."""
    n = len(pair)
    first = start or (pair.days[0].date() if n else None)
    last = pair.days[-1].date() if n else None
    if n == 0 or n < options.min_days:
        reason = (
            "no day on which both have a return"
            if n == 0
            else f"{n} trading days with both returns (fewer than {options.min_days})"
        )
        return Tested(insufficient(first, last, n, reason), None)
    x = excess_log_returns(pair)
    length = effective_block_length(block_length, n)
    starts = stream_block_starts(options, stream, n, length, resamples or options.resamples)
    sums = block_sums_from_starts(x, length, starts)
    # centred on the sample: without it the interval drifts toward the middle of the window
    centred = sums - block_bootstrap_mean(x, length)
    draws = np.expm1(centred + x.sum())
    ordered = np.sort(draws)  # one sort for the interval and every p-value
    levels = [(1 - options.confidence) / 2, (1 + options.confidence) / 2]
    low, high = sorted_quantiles(ordered, levels).tolist()
    level = claim_level(direction, threshold)
    p_above, p_below = sorted_p_values(ordered, level)
    p_negligible = None
    if min_effect > 0:
        outside_low, _ = sorted_p_values(ordered, level - min_effect)
        _, outside_high = sorted_p_values(ordered, level + min_effect)
        p_negligible = max(outside_low, outside_high)
    a, b = pair.bucket, pair.benchmark
    result = ExcessTest(
        start=first,
        end=last,
        days=n,
        bucket_return=float(np.prod(1 + a) - 1),
        benchmark_return=float(np.prod(1 + b) - 1),
        excess_return=float(np.expm1(x.sum())),
        low=low,
        high=high,
        p_above=p_above,
        p_below=p_below,
        p_negligible=p_negligible,
        block_length=length,
        verdict=verdict(low, high, direction, threshold, min_effect).value,
    )
    return Tested(result, draws, centred)


def insufficient(start: dt.date | None, end: dt.date | None, days: int, reason: str) -> ExcessTest:
    return ExcessTest(
        start=start,
        end=end,
        days=days,
        bucket_return=None,
        benchmark_return=None,
        excess_return=None,
        low=None,
        high=None,
        verdict=Verdict.insufficient_data.value,
        reason=reason,
    )


def choose_block_length(x: np.ndarray, options: ClaimOptions) -> BlockLength:
    """The claim's block length: ``--block-length`` when given, else the Politis–White estimate
    of its daily excess log returns, rounded and kept within [5, n // 4]."""
    n = len(x)
    low, high = 5, max(1, n // 4)
    if options.block_length is not None:
        return BlockLength(
            used=effective_block_length(options.block_length, n),
            source="--block-length",
            estimate=None,
            low=low,
            high=high,
        )
    estimate = politis_white_block_length(x)
    return BlockLength(
        used=automatic_block_length(estimate, n),
        source="politis-white",
        estimate=estimate,
        low=low,
        high=high,
    )


def family_verdicts(
    tests: Sequence[ExcessTest], options: ClaimOptions
) -> list[tuple[str, float | None]]:
    """Each test's verdict read together with the others (``options.correction`` across those
    with a test), and its adjusted ``p_above``; without correction, the interval's verdicts."""
    from backtest.evidence.multiple import adjust

    out: list[tuple[str, float | None]] = [(t.verdict, t.p_above) for t in tests]
    live = [
        (i, t.p_above, t.p_below, t.p_negligible)
        for i, t in enumerate(tests)
        if t.p_above is not None and t.p_below is not None
    ]
    if options.correction is Correction.none or not live:
        return out
    above = adjust([a for _, a, _, _ in live], options.correction)
    below = adjust([b for _, _, b, _ in live], options.correction)
    ruled = [(i, n) for i, _, _, n in live if n is not None]
    negligible = dict(
        zip([i for i, _ in ruled], adjust([n for _, n in ruled], options.correction), strict=True)
    )
    for k, (i, _, _, _) in enumerate(live):
        found = p_verdict(float(above[k]), float(below[k]), negligible.get(i), options.alpha)
        out[i] = (found.value, float(above[k]))
    return out
