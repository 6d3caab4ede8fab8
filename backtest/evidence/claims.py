"""Claims: did a bucket beat its benchmark after a note's date, and does that survive its controls?

The test, for one claim over the days ``start < t <= end`` on which both series have a return:

* ``x_t = ln(1 + r_bucket,t) - ln(1 + r_benchmark,t)``, the daily excess log return; the claim's
  **excess return** is ``exp(sum x_t) - 1 = (1 + R_bucket) / (1 + R_benchmark) - 1``, the change of
  the ratio line bucket / benchmark (a fraction).
* Its interval: a **moving-block bootstrap** of ``x`` (Künsch 1989). A resample is
  ``ceil(n / L)`` blocks of ``L`` consecutive days, each starting at a uniform position in
  ``0 .. n - L``, joined and cut to ``n`` days. Blocks reach the first and last ``L - 1`` days
  less often than the others, so the resampled sums are shifted by ``sum(x) - E*[sum]`` (exact,
  :func:`block_bootstrap_mean`) to centre them on the sample; a resample's statistic is
  ``exp(shifted sum) - 1``. The interval is the ``(1 - c) / 2`` and ``(1 + c) / 2`` quantiles of
  the resamples (numpy's linear quantiles); ``L = min(block_length, n // 2)``. Resamples are
  drawn from ``numpy.random.default_rng(seed)`` (the placebo from ``default_rng([seed, 1])``), so
  a run is reproducible.
* **Verdict** against the claim's threshold θ: for ``outperform`` the claim is ``supported`` when
  the whole interval lies above θ, ``refuted`` when it lies below θ, else ``inconclusive``; for
  ``not_underperform`` the level is ``-θ`` (θ is the lag it tolerates). Fewer than ``min_days``
  shared days, or no returns at all, is ``insufficient_data``.

Controls, each with its own numbers:

* **placebo** — the same test over the equally long window (in shared days) that ends at the
  claim date, and the difference claim − placebo with an interval (independent resamples). For an
  ``outperform`` claim it *fails* when the placebo is itself supported and the difference is not
  significantly positive: the move was already under way before the note.
* **leave-one-out** — the test with each member of the bucket dropped in turn (the bucket
  re-simulated without it); ``fragile`` when any removal changes the verdict.
* **beta-adjusted** — OLS of the bucket's daily returns on the factors' (SPY and SMH) over the
  claim window, ``r = a + Σ b_k f_k + e``; alpha is ``a × 252`` and its interval comes from the
  same block bootstrap of the rows (the normal equations of each resample are solved; the draws
  are shifted so that their mean is the estimate). It passes
  when the claim's verdict rule applied to alpha against 0 gives ``supported``.
* **robustness** — the verdict for every combination of weighting × rebalance × start shifted by
  k trading days; the share of variants that give the claim's verdict, robust from
  ``robust_share`` (3/4).

A ``supported`` verdict *survives its controls* when the placebo, leave-one-out, beta and
robustness checks all pass; a ``refuted`` one when it is neither fragile nor below the robust
share. The other verdicts make no such claim (``None``).

Every variant is simulated in one vectorbt call (see :func:`simulate_variants`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import numpy as np
import pandas as pd

from backtest.conventions import Rebalance, Weighting
from backtest.evidence.bootstrap import block_bootstrap_mean, block_bootstrap_sums
from backtest.evidence.metrics import TRADING_DAYS
from backtest.results import (
    BetaAdjusted,
    ClaimResult,
    ClaimSettings,
    ClaimsResult,
    ExcessTest,
    LeaveOneOut,
    LeftOut,
    Placebo,
    Robustness,
    Variant,
)
from backtest.simulation.engine import BucketSpec, simulate_buckets
from backtest.simulation.prepare import PreparedRun
from buckets.models import Claim, Direction


class Verdict(StrEnum):
    supported = "supported"
    refuted = "refuted"
    inconclusive = "inconclusive"
    insufficient_data = "insufficient_data"


@dataclass(frozen=True)
class ClaimOptions:
    """How claims are tested (the CLI's ``--block-length``, ``--resamples``, ``--seed``)."""

    confidence: float = 0.90
    block_length: int = 10
    resamples: int = 10_000
    seed: int = 0
    min_days: int = 20
    factors: tuple[str, ...] = ("SPY", "SMH")
    grid_weightings: tuple[Weighting, ...] = (Weighting.equal, Weighting.inverse_vol)
    grid_rebalances: tuple[Rebalance, ...] = (Rebalance.monthly, Rebalance.quarterly)
    grid_shifts: tuple[int, ...] = (0, 5, 10, 20)
    robust_share: float = 0.75

    def settings(self) -> ClaimSettings:
        return ClaimSettings(
            confidence=self.confidence,
            block_length=self.block_length,
            resamples=self.resamples,
            seed=self.seed,
            min_days=self.min_days,
            factors=list(self.factors),
            grid_weightings=[w.value for w in self.grid_weightings],
            grid_rebalances=[r.value for r in self.grid_rebalances],
            grid_shifts=list(self.grid_shifts),
            robust_share=self.robust_share,
            method=(
                "excess return = exp(sum of daily excess log returns) - 1 over the days both "
                "series have a return; interval: moving-block bootstrap of the daily excess log "
                "returns (block length min(L, n // 2), blocks start uniformly in 0..n-L, numpy "
                "default_rng(seed); placebo default_rng([seed, 1])), resampled sums shifted by "
                "sum - E*[sum] to centre them on the sample, linear quantiles; alpha draws "
                "shifted to mean the estimate; verdict: interval above the threshold = "
                "supported, below = refuted, else inconclusive"
            ),
        )


def verdict(low: float, high: float, direction: Direction, threshold: float) -> Verdict:
    """Interval against the level the claim needs (θ to outperform, −θ not to underperform)."""
    level = threshold if direction is Direction.outperform else -threshold
    if low > level:
        return Verdict.supported
    if high < level:
        return Verdict.refuted
    return Verdict.inconclusive


def _rng(options: ClaimOptions, stream: int) -> np.random.Generator:
    return np.random.default_rng(options.seed if stream == 0 else [options.seed, stream])


def _quantiles(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    low, high = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


# --- one test ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tested:
    result: ExcessTest
    draws: np.ndarray | None
    """Bootstrap excess returns (None when there were too few days)."""


_Frame = TypeVar("_Frame", pd.Series, pd.DataFrame)


def _between(r: _Frame, start: dt.date | None, end: dt.date | None) -> _Frame:
    """The rows of days ``start < t <= end`` (either bound may be open)."""
    idx = pd.DatetimeIndex(r.index)
    keep = np.ones(len(idx), dtype=bool)
    if start is not None:
        keep &= idx > pd.Timestamp(start)
    if end is not None:
        keep &= idx <= pd.Timestamp(end)
    return r[keep]


def paired_days(bucket: pd.Series, benchmark: pd.Series) -> pd.DataFrame:
    """Both series on the days both have a return (columns ``bucket``, ``benchmark``)."""
    both = pd.concat([bucket.rename("bucket"), benchmark.rename("benchmark")], axis=1)
    return both.dropna()


def excess_test(
    pair: pd.DataFrame,
    direction: Direction,
    threshold: float,
    options: ClaimOptions,
    *,
    stream: int = 0,
    start: dt.date | None = None,
) -> _Tested:
    """The claim test over the rows of ``pair`` (see :func:`paired_days`), as the module says."""
    n = len(pair)
    first = start or (pair.index[0].date() if n else None)
    last = pair.index[-1].date() if n else None
    if n == 0 or n < options.min_days:
        reason = (
            "no day on which both have a return"
            if n == 0
            else f"{n} trading days with both returns (fewer than {options.min_days})"
        )
        return _Tested(_insufficient(first, last, n, reason), None)
    a = pair["bucket"].to_numpy()
    b = pair["benchmark"].to_numpy()
    x = np.log1p(a) - np.log1p(b)
    sums = block_bootstrap_sums(x, options.block_length, options.resamples, _rng(options, stream))
    # centred on the sample: without it the interval drifts toward the middle of the window
    draws = np.expm1(sums - block_bootstrap_mean(x, options.block_length) + x.sum())
    low, high = _quantiles(draws, options.confidence)
    result = ExcessTest(
        start=first,
        end=last,
        days=n,
        bucket_return=float(np.prod(1 + a) - 1),
        benchmark_return=float(np.prod(1 + b) - 1),
        excess_return=float(np.expm1(x.sum())),
        low=low,
        high=high,
        verdict=verdict(low, high, direction, threshold).value,
    )
    return _Tested(result, draws)


def _insufficient(start: dt.date | None, end: dt.date | None, days: int, reason: str) -> ExcessTest:
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


def placebo_test(
    bucket: pd.Series,
    benchmark: pd.Series,
    claim: Claim,
    main: _Tested,
    options: ClaimOptions,
) -> Placebo:
    """The test over the ``main.days`` shared days up to and including the claim date."""
    n = main.result.days
    before = _between(paired_days(bucket, benchmark), None, claim.start).iloc[-n:]
    if len(before) < n:
        tested = _Tested(
            _insufficient(
                None,
                claim.start,
                len(before),
                f"the run has {len(before)} of the {n} shared days before {claim.start}; "
                "start it earlier",
            ),
            None,
        )
    else:
        # the window is measured from the close before its first return day
        days = pd.DatetimeIndex(bucket.index)
        first = days.get_loc(before.index[0])
        assert isinstance(first, int)
        tested = excess_test(
            before,
            claim.direction,
            claim.threshold,
            options,
            stream=1,
            start=days[first - 1].date() if first > 0 else None,
        )
    diff = diff_low = diff_high = None
    passes: bool | None = None
    if tested.draws is not None and main.draws is not None:
        assert main.result.excess_return is not None and tested.result.excess_return is not None
        diff = main.result.excess_return - tested.result.excess_return
        diff_low, diff_high = _quantiles(main.draws - tested.draws, options.confidence)
        if claim.direction is Direction.outperform:
            already = tested.result.verdict == Verdict.supported
            passes = not (already and diff_low <= 0)
    return Placebo(
        test=tested.result,
        difference=diff,
        difference_low=diff_low,
        difference_high=diff_high,
        passes=passes,
    )


def factor_alpha(
    bucket: pd.Series, factors: pd.DataFrame, claim: Claim, options: ClaimOptions
) -> BetaAdjusted:
    """OLS alpha (× 252) and betas of the bucket on the factors over the rows given, with a
    moving-block bootstrap interval for alpha (the module docstring has the rule)."""
    names = list(factors.columns)
    rows = pd.concat([bucket.rename("__bucket__"), factors], axis=1).dropna()
    n = len(rows)
    empty = BetaAdjusted(
        factors=names,
        days=n,
        alpha=None,
        alpha_low=None,
        alpha_high=None,
        betas=dict.fromkeys(names),
        r_squared=None,
        verdict=Verdict.insufficient_data.value,
    )
    if n < max(options.min_days, len(names) + 2):
        return empty.model_copy(
            update={"reason": f"{n} days with the bucket and every factor (too few)"}
        )
    y = rows["__bucket__"].to_numpy()
    x = np.column_stack([np.ones(n), rows[names].to_numpy()])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ coef
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1 - float((residual**2).sum()) / total if total > 0 else math.nan
    p = x.shape[1]
    cross = (x[:, :, None] * x[:, None, :]).reshape(n, p * p)
    products = np.concatenate([cross, x * y[:, None]], axis=1)
    sums = block_bootstrap_sums(products, options.block_length, options.resamples, _rng(options, 0))
    xtx = sums[:, : p * p].reshape(-1, p, p)
    xty = sums[:, p * p :]
    alphas = np.einsum("bij,bj->bi", np.linalg.pinv(xtx), xty)[:, 0] * TRADING_DAYS
    alphas += coef[0] * TRADING_DAYS - alphas.mean()  # centred on the estimate, as for the excess
    low, high = _quantiles(alphas, options.confidence)
    return BetaAdjusted(
        factors=names,
        days=n,
        alpha=float(coef[0] * TRADING_DAYS),
        alpha_low=low,
        alpha_high=high,
        betas={k: float(v) for k, v in zip(names, coef[1:], strict=True)},
        r_squared=r2,
        verdict=verdict(low, high, claim.direction, 0.0).value,
    )


# --- variants ------------------------------------------------------------------------------------


def drop_column(bucket: str, ticker: str) -> str:
    """Column name of ``bucket`` without ``ticker`` in ``variants.csv``."""
    return f"{bucket}|drop={ticker}"


def rule_column(bucket: str, weighting: Weighting, rebalance: Rebalance) -> str:
    """Column name of ``bucket`` under another weighting and rebalance in ``variants.csv``."""
    return f"{bucket}|{weighting.value}|{rebalance.value}"


def variant_specs(
    prepared: PreparedRun, claims: Sequence[Claim], options: ClaimOptions
) -> list[BucketSpec]:
    """The buckets the controls need: each claim's bucket without each member in turn, and each
    claim's bucket (and benchmark, when it is a bucket) under every grid rule."""
    base = {s.name: s for s in prepared.specs}
    specs: dict[str, BucketSpec] = {}
    for claim in claims:
        spec = base.get(claim.bucket)
        if spec is not None and len(spec.tickers) > 1:
            for ticker in spec.tickers:
                name = drop_column(spec.name, ticker)
                weights = (
                    {t: w for t, w in spec.weights.items() if t != ticker} if spec.weights else None
                )
                specs[name] = BucketSpec(name, [t for t in spec.tickers if t != ticker], weights)
        for basket in (claim.bucket, claim.benchmark):
            if basket not in base:
                continue
            for weighting in options.grid_weightings:
                for rebalance in options.grid_rebalances:
                    name = rule_column(basket, weighting, rebalance)
                    specs[name] = BucketSpec(
                        name, base[basket].tickers, None, rebalance=rebalance, weighting=weighting
                    )
    return list(specs.values())


def simulate_variants(prepared: PreparedRun, specs: Sequence[BucketSpec]) -> pd.DataFrame:
    """Daily returns of every variant (date × spec name) on the run's return days, all simulated
    in one vectorbt call with the run's costs; a spec without its own rule takes the run's."""
    index = prepared.calendar[1:]
    if not specs:
        return pd.DataFrame(index=pd.DatetimeIndex(index, name="date"), dtype="float64")
    options = prepared.options
    needs_vol = options.weighting is Weighting.inverse_vol or any(
        s.weighting is Weighting.inverse_vol for s in specs
    )
    sim = simulate_buckets(
        prepared.window,
        specs,
        rebalance=options.rebalance,
        weighting=options.weighting,
        cost_bps=options.cost_bps,
        volatility=prepared.volatility() if needs_vol else None,
    )
    return sim.returns.iloc[1:]


# --- all claims ----------------------------------------------------------------------------------


@dataclass
class ClaimsOutput:
    """``claims.json``'s content and the series its numbers come from."""

    result: ClaimsResult
    returns: pd.DataFrame
    """The run's returns plus any claim benchmark or factor ticker it lacked."""
    variants: pd.DataFrame
    """date × variant column (:func:`drop_column`, :func:`rule_column`)."""


def check_claims(
    prepared: PreparedRun,
    returns: pd.DataFrame,
    options: ClaimOptions | None = None,
    *,
    claims: Sequence[Claim] | None = None,
) -> ClaimsOutput:
    """Test every claim of the run's universe (or ``claims``) with its controls.

    ``returns`` is the run's date × (bucket | ticker) daily returns (``RunOutput.returns``).
    """
    options = options or ClaimOptions()
    claims = list(prepared.universe.claims if claims is None else claims)
    wanted = [c.benchmark for c in claims if c.benchmark not in prepared.universe.buckets]
    extra = [t for t in dict.fromkeys([*wanted, *options.factors]) if t not in returns.columns]
    series = pd.concat([returns, prepared.ticker_returns(extra)], axis=1)
    variants = simulate_variants(prepared, variant_specs(prepared, claims, options))
    results = [_check_claim(c, prepared, series, variants, options) for c in claims]
    info = prepared.options
    created = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    result = ClaimsResult(
        created_at=created,
        price_source=prepared.price_source,
        data_last_date=max(s.index[-1] for s in prepared.series.values()).date(),
        run_start=prepared.calendar[0].date(),
        run_end=prepared.calendar[-1].date(),
        weighting=info.weighting.value,
        rebalance=info.rebalance.value,
        cost_bps=info.cost_bps,
        settings=options.settings(),
        claims=results,
    )
    return ClaimsOutput(result=result, returns=series, variants=variants)


def _check_claim(
    claim: Claim,
    prepared: PreparedRun,
    series: pd.DataFrame,
    variants: pd.DataFrame,
    options: ClaimOptions,
) -> ClaimResult:
    def column(name: str) -> pd.Series:
        if name in series.columns:
            return series[name]
        if name in variants.columns:
            return variants[name]
        return pd.Series(np.nan, index=series.index, dtype="float64")

    bucket, benchmark = column(claim.bucket), column(claim.benchmark)
    end = claim.end
    main: _Tested
    if pd.Timestamp(claim.start) < prepared.calendar[0]:
        main = _Tested(
            _insufficient(
                claim.start,
                end,
                0,
                f"the run starts on {prepared.calendar[0].date()}, after the claim's start; "
                "run with an earlier --start",
            ),
            None,
        )
    else:
        pair = _between(paired_days(bucket, benchmark), claim.start, end)
        main = excess_test(pair, claim.direction, claim.threshold, options, start=claim.start)
    base = ClaimResult(
        id=claim.id,
        source=claim.source,
        statement=claim.statement,
        bucket=claim.bucket,
        benchmark=claim.benchmark,
        direction=claim.direction.value,
        threshold=claim.threshold,
        start=claim.start,
        end=claim.end,
        test=main.result,
        placebo=None,
        leave_one_out=None,
        beta_adjusted=None,
        robustness=None,
        caveats=[],
        survives_controls=None,
    )
    if main.draws is None:
        return base
    window_end = main.result.end

    def test_of(b: pd.Series, m: pd.Series, start: dt.date = claim.start) -> ExcessTest:
        pair = _between(paired_days(b, m), start, window_end)
        return excess_test(pair, claim.direction, claim.threshold, options, start=start).result

    placebo = placebo_test(bucket, benchmark, claim, main, options)
    loo = _leave_one_out(claim, prepared, variants, benchmark, test_of, main.result.verdict)
    missing = [f for f in options.factors if series.get(f) is None or series[f].isna().all()]
    if missing:
        beta = BetaAdjusted(
            factors=list(options.factors),
            days=0,
            alpha=None,
            alpha_low=None,
            alpha_high=None,
            betas=dict.fromkeys(options.factors),
            r_squared=None,
            verdict=Verdict.insufficient_data.value,
            reason=f"no prices for {', '.join(missing)} in the price source",
        )
    else:
        window = _between(bucket, claim.start, window_end)
        beta = factor_alpha(window, series.loc[window.index, list(options.factors)], claim, options)
    robustness = _robustness(claim, prepared, series, variants, test_of, main.result, options)
    caveats, survives = _judge(main.result, placebo, loo, beta, robustness, options)
    return base.model_copy(
        update={
            "placebo": placebo,
            "leave_one_out": loo,
            "beta_adjusted": beta,
            "robustness": robustness,
            "caveats": caveats,
            "survives_controls": survives,
        }
    )


def _leave_one_out(
    claim: Claim,
    prepared: PreparedRun,
    variants: pd.DataFrame,
    benchmark: pd.Series,
    test_of: Callable[..., ExcessTest],
    headline: str,
) -> LeaveOneOut:
    spec = next(s for s in prepared.specs if s.name == claim.bucket)
    members: list[LeftOut] = []
    if len(spec.tickers) > 1:
        for ticker in spec.tickers:
            name = drop_column(claim.bucket, ticker)
            t = test_of(variants[name], benchmark)
            members.append(
                LeftOut(
                    ticker=ticker,
                    column=name,
                    excess_return=t.excess_return,
                    low=t.low,
                    high=t.high,
                    verdict=t.verdict,
                )
            )
    flips = [m.ticker for m in members if m.verdict != headline]
    return LeaveOneOut(members=members, flips=flips, fragile=bool(flips) if members else None)


def _robustness(
    claim: Claim,
    prepared: PreparedRun,
    series: pd.DataFrame,
    variants: pd.DataFrame,
    test_of: Callable[..., ExcessTest],
    headline: ExcessTest,
    options: ClaimOptions,
) -> Robustness:
    days = pd.DatetimeIndex(series.index)
    after = days[days > pd.Timestamp(claim.start)]
    rows: list[Variant] = []
    for weighting in options.grid_weightings:
        for rebalance in options.grid_rebalances:
            b_col = rule_column(claim.bucket, weighting, rebalance)
            m_col = (
                rule_column(claim.benchmark, weighting, rebalance)
                if claim.benchmark in prepared.universe.buckets
                else claim.benchmark
            )
            b = variants[b_col]
            m = variants[m_col] if m_col in variants.columns else series[m_col]
            for shift in options.grid_shifts:
                if shift > 0 and shift > len(after):
                    continue
                start = claim.start if shift == 0 else after[shift - 1].date()
                t = test_of(b, m, start)
                rows.append(
                    Variant(
                        weighting=weighting.value,
                        rebalance=rebalance.value,
                        shift=shift,
                        start=start,
                        bucket_column=b_col,
                        benchmark_column=m_col,
                        excess_return=t.excess_return,
                        low=t.low,
                        high=t.high,
                        verdict=t.verdict,
                    )
                )
    agree = sum(v.verdict == headline.verdict for v in rows)
    return Robustness(variants=rows, agree=agree, share=agree / len(rows) if rows else None)


def _judge(
    test: ExcessTest,
    placebo: Placebo,
    loo: LeaveOneOut,
    beta: BetaAdjusted,
    robustness: Robustness,
    options: ClaimOptions,
) -> tuple[list[str], bool | None]:
    """The controls a supported or refuted verdict does not survive, and whether it survives."""
    if test.verdict not in (Verdict.supported, Verdict.refuted):
        return [], None
    caveats: list[str] = []
    if test.verdict == Verdict.supported:
        if placebo.passes is False:
            caveats.append(
                f"placebo: the {placebo.test.days} days before the claim date are supported too "
                f"(excess {_pct(placebo.test.excess_return)}), and the difference is not "
                "significantly positive"
            )
        elif placebo.test.verdict == Verdict.insufficient_data:
            caveats.append(f"placebo: not computed ({placebo.test.reason})")
        if beta.verdict != Verdict.supported:
            caveats.append(
                f"beta-adjusted: alpha on {' and '.join(beta.factors)} is "
                + (
                    f"{_pct(beta.alpha)} a year, interval {_pct(beta.alpha_low)} to "
                    f"{_pct(beta.alpha_high)}: {beta.verdict}"
                    if beta.alpha is not None
                    else f"not computed ({beta.reason})"
                )
            )
    if loo.fragile:
        caveats.append(f"fragile: dropping {', '.join(loo.flips)} changes the verdict")
    if robustness.share is not None and robustness.share < options.robust_share:
        caveats.append(
            f"robustness: {robustness.agree} of {len(robustness.variants)} variants agree "
            f"(fewer than {options.robust_share:.0%})"
        )
    return caveats, not caveats


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.1%}"
