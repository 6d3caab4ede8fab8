"""Claims: did a bucket beat its benchmark after a note's date, how sure can we be, and does that
survive its controls?

The test, for one claim over the days ``start < t <= end`` on which both series have a return:

* ``x_t = ln(1 + r_bucket,t) - ln(1 + r_benchmark,t)``, the daily excess log return; the claim's
  **excess return** is ``exp(sum x_t) - 1 = (1 + R_bucket) / (1 + R_benchmark) - 1``, the change of
  the ratio line bucket / benchmark (a fraction).
* Its interval: a **moving-block bootstrap** of ``x`` (:mod:`backtest.evidence.bootstrap`). The
  block length ``L`` is the Politis–White estimate for the claim's ``x`` (arch), rounded and kept
  within ``[5, n // 4]``, unless ``--block-length`` fixes it (at most ``n // 2``). The resampled
  sums are shifted by ``sum(x) - E*[sum]`` (exact) to centre them on the sample; a resample's
  statistic is ``exp(shifted sum) - 1``; the interval is their ``(1 - c) / 2`` and ``(1 + c) / 2``
  quantiles (numpy's linear quantiles). Resamples come from ``numpy.random.default_rng(seed)``
  (the placebo from ``default_rng([seed, 1])``, the own-history null from ``[seed, 2]``).
* **p-values** (:func:`backtest.evidence.bootstrap.quantile_p_values`): ``p_above`` for "the
  excess is at or below the level", ``p_below`` for "at or above"; ``p_above < (1 - c) / 2``
  exactly when the interval lies above the level. They are adjusted across the claims of the run
  (:mod:`backtest.evidence.multiple`: Holm by default, Benjamini–Hochberg, or none).
* **Verdict**, against the claim's level (θ to ``outperform``; −θ for ``not_underperform``, θ
  being the lag it tolerates), at ``alpha = (1 - c) / 2`` on the adjusted p-values: ``negligible``
  when the whole interval lies within level ± ``min_effect`` (two one-sided tests; only with a
  ``min_effect``), else ``supported`` when the excess is significantly above the level, else
  ``refuted`` when significantly below, else ``inconclusive``. Fewer than ``min_days`` shared days,
  or no returns at all, is ``insufficient_data``. Without correction this is the interval's
  verdict: above the level = supported, below = refuted.

Controls, each with its own numbers:

* **placebo** — the same test over the equally long window (in shared days) that ends at the
  claim date, and the difference claim − placebo with an interval (independent resamples). It
  *fails* when the placebo is itself supported and the difference is not significantly
  positive: the move was already under way before the note.
* **own history** — the excess of every window of the claim's length before its start
  (:mod:`backtest.evidence.nulls`): the claim's percentile among them and the share the rule
  calls supported on this pair. A supported verdict passes when fewer than ``alpha`` of the
  windows reached the claim's excess.
* **leave-one-out** — the test with each member of the bucket dropped in turn (the bucket
  re-simulated without it); ``fragile`` when any removal changes the verdict.
* **beta-adjusted** — OLS of the bucket's daily returns on the factors' (SPY and SMH) over the
  claim window, ``r = a + Σ b_k f_k + e``; alpha is ``a × 252`` (a year) and its interval comes
  from the same block bootstrap of the rows (the normal equations of each resample are solved;
  the draws are shifted so that their mean is the estimate). It passes when the claim's interval
  rule applied to alpha against 0 gives ``supported``.
* **robustness** — the verdict for every combination of weighting × rebalance × start shifted by
  k trading days; the share of variants that give the claim's verdict, robust from
  ``robust_share`` (3/4).
* **block-length sensitivity** — the verdict at block lengths 5, 10 and 20.
* **adjusted level** — with ``--correction none``, the Holm-adjusted p-value must pass too.

Every variant (leave-one-out, grid, block length) is judged by the claim's rule: its p-value put
in the claim's place among the run's claims and adjusted again. **Power**
(:mod:`backtest.evidence.power`): the smallest excess the window could detect, and the trading
days the observed rate would need to become detectable.

A verdict *survives its controls* when every control that applies to it passes: for
``supported`` all of them; for ``refuted`` leave-one-out, robustness, block lengths and the
adjusted level; for ``negligible`` leave-one-out, robustness and block lengths. The other
verdicts claim nothing (``None``).

Every variant is simulated in one call, in closed form (see :func:`simulate_variants`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import zip_longest
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from backtest.conventions import Correction, Rebalance, Weighting
from backtest.evidence.bootstrap import block_sums_from_starts
from backtest.evidence.excess import (
    DECIDED,
    ClaimOptions,
    Pair,
    Tested,
    Verdict,
    between,
    choose_block_length,
    claim_level,
    excess_log_returns,
    excess_test,
    insufficient,
    p_verdict,
    paired_days,
    quantiles,
    rng_stream,
    stream_block_starts,
    verdict,
)
from backtest.evidence.history import ClaimState, claims_history, path_points
from backtest.evidence.metrics import TRADING_DAYS
from backtest.evidence.multiple import adjusted_in_place
from backtest.evidence.nulls import history_windows, rank_null, rank_p_value
from backtest.evidence.power import days_to_detect, detectable_effects
from backtest.results import (
    BetaAdjusted,
    BlockLengthSensitivity,
    ClaimResult,
    ClaimsResult,
    ExcessTest,
    LeaveOneOut,
    LeftOut,
    LengthCheck,
    OwnHistory,
    Placebo,
    Power,
    Robustness,
    Significance,
    Variant,
)
from backtest.simulation.engine import BucketSpec, simulate_returns
from backtest.simulation.prepare import PreparedRun
from buckets.models import Claim

if TYPE_CHECKING:
    from backtest.background import Background

# --- controls ------------------------------------------------------------------------------------


def placebo_test(
    pair: Pair,
    days: pd.DatetimeIndex,
    claim: Claim,
    main: Tested,
    options: ClaimOptions,
    block_length: int,
) -> Placebo:
    """The test over the ``main.days`` shared days of ``pair`` (the pair's days over the whole
    run) up to and including the claim date; ``days`` is the run's calendar of return days."""
    n = main.result.days
    before = pair.between(None, claim.start).last(n)
    if len(before) < n:
        tested = Tested(
            insufficient(
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
        first = days.get_loc(before.days[0])
        assert isinstance(first, int)
        tested = excess_test(
            before,
            claim.direction,
            claim.threshold,
            options,
            block_length=block_length,
            min_effect=claim.min_effect,
            stream=1,
            start=days[first - 1].date() if first > 0 else None,
        )
    diff = diff_low = diff_high = None
    passes: bool | None = None
    if tested.draws is not None and main.draws is not None:
        assert main.result.excess_return is not None and tested.result.excess_return is not None
        diff = main.result.excess_return - tested.result.excess_return
        diff_low, diff_high = quantiles(main.draws - tested.draws, options.confidence)
        already = tested.result.verdict == Verdict.supported
        passes = not (already and diff_low <= 0)
    return Placebo(
        test=tested.result,
        difference=diff,
        difference_low=diff_low,
        difference_high=diff_high,
        passes=passes,
    )


def own_history(
    pair: Pair,
    claim: Claim,
    main: ExcessTest,
    block_length: int,
    shared: pd.DatetimeIndex,
    options: ClaimOptions,
    rank_nulls: Mapping[RankNullKey, np.ndarray] | None = None,
) -> OwnHistory:
    """The claim against every window of its length before its start (see
    :mod:`backtest.evidence.nulls`); ``pair`` is the pair's days over the whole run and
    ``shared`` the run's shared trading days over all the data (to say how early ``--start``
    must be when there are too few windows). ``rank_nulls``: rank nulls computed already
    (:func:`rank_null_keys_ahead`); the one this claim needs is computed when it is not there."""
    n = main.days
    before = pair.between(None, claim.start)
    windows = history_windows(
        excess_log_returns(before),
        n,
        block_length,
        options.confidence,
        options.history_resamples,
        rng_stream(options, 2),
    )
    count = len(windows)
    base = OwnHistory(
        days=n,
        windows=count,
        independent=len(before) // n if n else 0,
        first_start=None,
        last_end=None,
        percentile=None,
        share_above=None,
        supported_share=None,
        refuted_share=None,
        p05=None,
        median=None,
        p95=None,
        resamples=options.history_resamples,
        simulations=options.history_simulations,
        passes=None,
    )
    if count < options.min_history_windows:
        return base.model_copy(
            update={"reason": _too_few_windows(count, n, claim, shared, options)}
        )
    assert main.excess_return is not None
    level = claim_level(claim.direction, claim.threshold)
    me = claim.min_effect
    first_row = pair.days.get_loc(before.days[0])
    assert isinstance(first_row, int)
    excess = windows.excess
    p05, median, p95 = np.quantile(excess, [0.05, 0.5, 0.95])
    negligible = (me > 0) & (windows.low > level - me) & (windows.high < level + me)
    supported = (windows.low > level) & ~negligible
    refuted = (windows.high < level) & ~negligible
    key = _rank_null_key_of(len(before), n, options)
    null = (rank_nulls or {}).get(key)
    if null is None:
        null = _rank_null(*key)
    p_value = rank_p_value(null, float((excess >= main.excess_return).mean()))
    p_floor = rank_p_value(null, 0.0)
    reason = None
    if p_floor >= options.alpha:
        reason = (
            f"{len(before)} days before {claim.start} hold about {len(before) // n} independent "
            f"{n}-day windows: even a window above all of them has p = {p_floor:.3f}, not under "
            f"{options.alpha:g}; {_start_for(10 * n, claim, shared)}"
        )
    return base.model_copy(
        update={
            "first_start": pair.days[first_row - 1].date() if first_row > 0 else None,
            "last_end": before.days[-1].date(),
            "p_value": p_value,
            "p_floor": p_floor,
            "reason": reason,
            "percentile": float((excess < main.excess_return).mean()),
            "share_above": float((excess > main.excess_return).mean()),
            "supported_share": float(supported.mean()),
            "refuted_share": float(refuted.mean()),
            "p05": float(p05),
            "median": float(median),
            "p95": float(p95),
        }
    )


RankNullKey = tuple[int, int, int, int]
"""What a claim's rank null depends on, and nothing else: the pair's days before the claim's
start, the claim's days, the simulations and the seed (:func:`_rank_null`)."""


def rank_null_keys_ahead(
    prepared: PreparedRun,
    tickers: pd.DataFrame,
    claims: Sequence[Claim],
    options: ClaimOptions,
) -> list[RankNullKey]:
    """The rank nulls the claims' own-history tests will ask for, known before the run's
    simulation is (``tickers``: the run's ticker returns, as for
    :func:`history_before_simulation`): a null depends only on how many days the pair has before
    and inside the claim's window, and the closed form of the claims' buckets
    (:func:`simulate_variants` of the run's own specs) has its returns on the same days as
    vectorbt's. ``bucketmap run`` has its second process compute them (:func:`rank_nulls`) after
    the simulation, and :func:`check_claims` shares them with both halves of the tests, each of
    which would compute them again (two nulls take 0.13-0.3 s in the default run). A null asked
    for and not among them is computed then, so the numbers do not depend on this guess."""
    names = {c.bucket for c in claims} | {c.benchmark for c in claims}
    specs = [s for s in prepared.specs if s.name in names]
    buckets = simulate_variants(prepared, specs)
    series = claim_series(prepared, pd.concat([buckets, tickers], axis=1), claims, options)
    keys: dict[RankNullKey, None] = {}
    for claim in claims:
        key = _rank_null_key(prepared, series, claim, options)
        if key is not None:
            keys[key] = None
    return list(keys)


def rank_nulls(keys: Sequence[RankNullKey]) -> dict[RankNullKey, np.ndarray]:
    """The rank null of each key (:func:`_rank_null`), as ``check_claims(rank_nulls=...)`` takes
    them."""
    return {key: _rank_null(*key) for key in keys}


def _rank_null_key(
    prepared: PreparedRun, series: pd.DataFrame, claim: Claim, options: ClaimOptions
) -> RankNullKey | None:
    """The rank null :func:`own_history` will ask for when :func:`_test_claim` tests ``claim``
    on ``series`` (None when it will not ask: the claim starts before the run, has too few days
    or too few windows before it)."""
    if pd.Timestamp(claim.start) < prepared.calendar[0]:
        return None
    if claim.bucket not in series.columns or claim.benchmark not in series.columns:
        return None
    pair_all = paired_days(series[claim.bucket], series[claim.benchmark])
    n = len(pair_all.between(claim.start, claim.end))
    before = len(pair_all.between(None, claim.start))
    if n < max(options.min_days, 2) or before - n + 1 < options.min_history_windows:
        return None
    return _rank_null_key_of(before, n, options)


def _rank_null_key_of(history_days: int, n: int, options: ClaimOptions) -> RankNullKey:
    """The key of the rank null for ``history_days`` days before a claim of ``n`` days (the
    arguments of :func:`_rank_null`, in its order)."""
    return (history_days, n, options.history_simulations, options.seed)


@lru_cache(maxsize=16)
def _rank_null(history_days: int, n: int, simulations: int, seed: int) -> np.ndarray:
    """:func:`backtest.evidence.nulls.rank_null` from ``default_rng([seed, 3])``; claims with the
    same start and length share it."""
    null = rank_null(history_days, n, simulations, np.random.default_rng([seed, 3]))
    null.setflags(write=False)
    return null


def _start_for(days: int, claim: Claim, shared: pd.DatetimeIndex) -> str:
    """The ``--start`` that gives ``days`` return days before the claim's start."""
    upto = int(shared.searchsorted(pd.Timestamp(claim.start), side="right")) - 1
    if upto - days < 0:
        return "the price data do not reach back far enough"
    return f"run with --start {shared[upto - days].date()} or earlier"


def _too_few_windows(
    count: int, n: int, claim: Claim, shared: pd.DatetimeIndex, options: ClaimOptions
) -> str:
    """Why the own history has no percentile, and the ``--start`` that would give enough."""
    hint = _start_for(n + options.min_history_windows - 1, claim, shared)
    return (
        f"{count} windows of {n} days before {claim.start} (fewer than "
        f"{options.min_history_windows}); {hint}"
    )


def power_of(main: Tested, claim: Claim, options: ClaimOptions) -> Power:
    """The window's minimum detectable effects and the days its observed rate would need."""
    assert main.centred is not None and main.result.excess_return is not None
    level = claim_level(claim.direction, claim.threshold)
    n = main.result.days
    total = math.log1p(main.result.excess_return)
    found = detectable_effects(main.centred, level, options.confidence, options.power)
    days = days_to_detect(main.centred, total, n, level, options.confidence, options.power)
    return Power(
        power=options.power,
        detectable_above=found.above,
        detectable_below=found.below,
        mean_daily=total / n,
        side=days.side,
        days_needed=days.days,
        further_days=None if days.days is None else max(0, days.days - n),
        reason=days.reason,
    )


def factor_alpha(
    bucket: pd.Series,
    factors: pd.DataFrame,
    claim: Claim,
    options: ClaimOptions,
    block_length: int,
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
    starts = stream_block_starts(options, 0, n, block_length, options.resamples)
    sums = block_sums_from_starts(products, block_length, starts)
    xtx = sums[:, : p * p].reshape(-1, p, p)
    xty = sums[:, p * p :]
    alphas = np.einsum("bij,bj->bi", np.linalg.pinv(xtx), xty)[:, 0] * TRADING_DAYS
    alphas += coef[0] * TRADING_DAYS - alphas.mean()  # centred on the estimate, as for the excess
    low, high = quantiles(alphas, options.confidence)
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


SHARED_VARIANT_COLUMNS = 50_000
"""From this many member columns (summed over the variants) :func:`check_claims` simulates half
the variants in its second process: a claim on a 1,000-member bucket has 1,000 leave-one-out
buckets of 999 (about a million columns, seconds of work); the default run's 5,000 take 0.03 s,
less than sending them across."""


def simulate_variants(
    prepared: PreparedRun, specs: Sequence[BucketSpec], background: Background | None = None
) -> pd.DataFrame:
    """Daily returns of every variant (date × spec name) on the run's return days, all simulated
    at once with the run's costs (in closed form: :func:`simulate_returns`, equal to vectorbt's to
    1e-12); a spec without its own rule takes the run's. With ``background`` and at least
    :data:`SHARED_VARIANT_COLUMNS` member columns, the second half of the specs is simulated in
    the second process meanwhile: each bucket's returns depend on its own columns only, so the
    numbers are the same."""
    if background is not None and sum(len(s.tickers) for s in specs) >= SHARED_VARIANT_COLUMNS:
        half = len(specs) // 2
        far = background.submit(simulate_variants, prepared, specs[half:])
        here = simulate_variants(prepared, specs[:half])
        return pd.concat([here, far.result()], axis=1)
    index = prepared.calendar[1:]
    if not specs:
        return pd.DataFrame(index=pd.DatetimeIndex(index, name="date"), dtype="float64")
    options = prepared.options
    needs_vol = options.weighting is Weighting.inverse_vol or any(
        s.weighting is Weighting.inverse_vol for s in specs
    )
    returns = simulate_returns(
        prepared.window,
        specs,
        rebalance=options.rebalance,
        weighting=options.weighting,
        cost_bps=options.cost_bps,
        volatility=prepared.volatility() if needs_vol else None,
    )
    return returns.iloc[1:]


# --- all claims ----------------------------------------------------------------------------------


@dataclass
class ClaimsOutput:
    """``claims.json``'s content and the series its numbers come from."""

    result: ClaimsResult
    returns: pd.DataFrame
    """The run's returns plus any claim benchmark or factor ticker it lacked."""
    variants: pd.DataFrame
    """date × variant column (:func:`drop_column`, :func:`rule_column`)."""
    history: list[list[ClaimState]] = field(default_factory=list)
    """Every claim as of each week since the first claim's start (:mod:`.history`)."""
    baskets: pd.DataFrame | None = None
    """The random and matched baskets of every claim (``baskets.csv``), when a pool was given
    (:mod:`.special`)."""


def claim_series(
    prepared: PreparedRun, returns: pd.DataFrame, claims: Sequence[Claim], options: ClaimOptions
) -> pd.DataFrame:
    """``returns`` with the daily returns of every ticker the claims need that it lacks (their
    benchmarks, the factors, the tickers their signal rules measure), appended in that order."""
    wanted = [*prepared.universe.claim_tickers(claims), *options.factors]
    extra = [t for t in dict.fromkeys(wanted) if t not in returns.columns]
    return pd.concat([returns, prepared.ticker_returns(extra)], axis=1)


def history_before_simulation(
    prepared: PreparedRun,
    tickers: pd.DataFrame,
    options: ClaimOptions | None = None,
    *,
    claims: Sequence[Claim] | None = None,
) -> list[list[ClaimState]]:
    """The weekly history :func:`check_claims` computes for the universe's claims (or
    ``claims``), from the run's ticker returns alone (``tickers``: ``RunOutput.returns`` without
    its bucket columns, i.e. :meth:`PreparedRun.ticker_returns` of
    :func:`backtest.run.run_tickers`): the history simulates the buckets itself, as of each
    week, so it can run before or beside the run's simulation and gives the same states."""
    options = options or ClaimOptions()
    claims = list(prepared.universe.claims if claims is None else claims)
    return claims_history(
        prepared, claim_series(prepared, tickers, claims, options), claims, options
    )


def check_claims(
    prepared: PreparedRun,
    returns: pd.DataFrame,
    options: ClaimOptions | None = None,
    *,
    claims: Sequence[Claim] | None = None,
    history: list[list[ClaimState]] | None = None,
    background: Background | None = None,
    rank_nulls: Mapping[RankNullKey, np.ndarray] | None = None,
) -> ClaimsOutput:
    """Test every claim of the run's universe (or ``claims``) with its controls, and read their
    verdicts at the level adjusted across them.

    ``returns`` is the run's date × (bucket | ticker) daily returns (``RunOutput.returns``).
    ``history``: the claims' weekly history when it was computed already (it needs only the
    ticker columns of ``returns``: :func:`history_before_simulation`). ``background``: a second
    process (:mod:`backtest.background`) that tests every other claim while this one tests the
    rest; each claim's tests depend on its own inputs only, so they are the same either way.
    ``rank_nulls``: the own-history tests' rank nulls when computed already
    (:func:`rank_null_keys_ahead`, :func:`rank_nulls`), for both processes.
    """
    options = options or ClaimOptions()
    claims = list(prepared.universe.claims if claims is None else claims)
    series = claim_series(prepared, returns, claims, options)
    variants = simulate_variants(prepared, variant_specs(prepared, claims, options), background)
    if background is not None and len(claims) > 1:
        far = background.submit(
            _tested, claims[1::2], prepared, series, variants, options, rank_nulls
        )
        here = _tested(claims[0::2], prepared, series, variants, options, rank_nulls)
        there = far.result()
        tested = [t for pair in zip_longest(here, there) for t in pair if t is not None]
    else:
        tested = _tested(claims, prepared, series, variants, options, rank_nulls)
    rule = _Rule.of(tested, options)
    if history is None:
        history = claims_history(prepared, series, claims, options)
    results = [
        rule.judge(i, t).model_copy(update={"path": path_points(history, t.claim.id)})
        for i, t in enumerate(tested)
    ]
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
    return ClaimsOutput(result=result, returns=series, variants=variants, history=history)


@dataclass
class _ClaimTests:
    """Everything computed for one claim before the family's adjustment is known: the tests'
    verdicts here are uncorrected; :class:`_Rule` reads them at the adjusted level."""

    claim: Claim
    base: ClaimResult
    main: Tested
    left_out: list[tuple[str, str, ExcessTest]] = field(default_factory=list)
    grid: list[tuple[Variant, ExcessTest]] = field(default_factory=list)
    lengths: list[ExcessTest] = field(default_factory=list)


def _tested(
    claims: Sequence[Claim],
    prepared: PreparedRun,
    series: pd.DataFrame,
    variants: pd.DataFrame,
    options: ClaimOptions,
    rank_nulls: Mapping[RankNullKey, np.ndarray] | None = None,
) -> list[_ClaimTests]:
    """Every claim's tests before the family's adjustment, in order (:func:`_test_claim`)."""
    return [_test_claim(c, prepared, series, variants, options, rank_nulls) for c in claims]


def _test_claim(
    claim: Claim,
    prepared: PreparedRun,
    series: pd.DataFrame,
    variants: pd.DataFrame,
    options: ClaimOptions,
    rank_nulls: Mapping[RankNullKey, np.ndarray] | None = None,
) -> _ClaimTests:
    def column(name: str) -> pd.Series:
        if name in series.columns:
            return series[name]
        if name in variants.columns:
            return variants[name]
        return pd.Series(np.nan, index=series.index, dtype="float64")

    bucket, benchmark = column(claim.bucket), column(claim.benchmark)
    pair_all = paired_days(bucket, benchmark)
    notes: list[str] = []
    run_end = prepared.calendar[-1].date()
    complete = claim.end is None or claim.end <= run_end
    if not complete:
        notes.append(
            f"the claim's window runs to {claim.end} but the data end on {run_end}: tested on "
            "the days so far; the verdict can still change"
        )
    base = ClaimResult(
        id=claim.id,
        source=claim.source,
        statement=claim.statement,
        bucket=claim.bucket,
        benchmark=claim.benchmark,
        direction=claim.direction.value,
        threshold=claim.threshold,
        min_effect=claim.min_effect,
        start=claim.start,
        end=claim.end,
        window_complete=complete,
        verdict=Verdict.insufficient_data.value,
        test=insufficient(claim.start, claim.end, 0, ""),
        significance=None,
        block_length=None,
        placebo=None,
        own_history=None,
        power=None,
        leave_one_out=None,
        beta_adjusted=None,
        robustness=None,
        block_length_sensitivity=None,
        caveats=[],
        notes=notes,
        survives_controls=None,
    )
    if pd.Timestamp(claim.start) < prepared.calendar[0]:
        reason = (
            f"the run starts on {prepared.calendar[0].date()}, after the claim's start; "
            "run with an earlier --start"
        )
        main = Tested(insufficient(claim.start, claim.end, 0, reason), None)
        return _ClaimTests(claim, base.model_copy(update={"test": main.result}), main)
    pair = pair_all.between(claim.start, claim.end)
    if len(pair) < options.min_days:
        main = excess_test(pair, claim.direction, claim.threshold, options, block_length=1)
        main = Tested(main.result.model_copy(update={"start": claim.start}), None)
        return _ClaimTests(claim, base.model_copy(update={"test": main.result}), main)
    block = choose_block_length(excess_log_returns(pair), options)
    length = block.used

    def test_of(b: pd.Series, m: pd.Series, start: dt.date = claim.start, **kw: int) -> Tested:
        window = paired_days(b, m).between(start, claim.end)
        return excess_test(
            window,
            claim.direction,
            claim.threshold,
            options,
            block_length=kw.get("block_length", length),
            min_effect=claim.min_effect,
            start=start,
        )

    main = test_of(bucket, benchmark)
    days = pd.DatetimeIndex(series.index)
    tests = _ClaimTests(claim, base, main)
    tests.left_out = _left_out(claim, prepared, variants, benchmark, test_of)
    tests.grid = _grid(claim, prepared, series, variants, test_of, options)
    tests.lengths = [
        test_of(bucket, benchmark, block_length=n).result for n in options.sensitivity_lengths
    ]
    tests.base = base.model_copy(
        update={
            "test": main.result,
            "block_length": block,
            "placebo": placebo_test(pair_all, days, claim, main, options, length),
            "own_history": own_history(
                pair_all, claim, main.result, length, prepared.shared, options, rank_nulls
            ),
            "power": power_of(main, claim, options),
            "beta_adjusted": _beta(claim, bucket, series, main.result, options, length),
        }
    )
    return tests


def _beta(
    claim: Claim,
    bucket: pd.Series,
    series: pd.DataFrame,
    main: ExcessTest,
    options: ClaimOptions,
    block_length: int,
) -> BetaAdjusted:
    missing = [f for f in options.factors if series.get(f) is None or series[f].isna().all()]
    if missing:
        return BetaAdjusted(
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
    window = between(bucket, claim.start, main.end)
    factors = series.loc[window.index, list(options.factors)]
    return factor_alpha(window, factors, claim, options, block_length)


def _left_out(
    claim: Claim,
    prepared: PreparedRun,
    variants: pd.DataFrame,
    benchmark: pd.Series,
    test_of: Callable[..., Tested],
) -> list[tuple[str, str, ExcessTest]]:
    spec = next(s for s in prepared.specs if s.name == claim.bucket)
    if len(spec.tickers) < 2:
        return []
    out = []
    for ticker in spec.tickers:
        name = drop_column(claim.bucket, ticker)
        out.append((ticker, name, test_of(variants[name], benchmark).result))
    return out


def _grid(
    claim: Claim,
    prepared: PreparedRun,
    series: pd.DataFrame,
    variants: pd.DataFrame,
    test_of: Callable[..., Tested],
    options: ClaimOptions,
) -> list[tuple[Variant, ExcessTest]]:
    days = pd.DatetimeIndex(series.index)
    after = days[days > pd.Timestamp(claim.start)]
    out: list[tuple[Variant, ExcessTest]] = []
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
                t = test_of(b, m, start).result
                cell = Variant(
                    weighting=weighting.value,
                    rebalance=rebalance.value,
                    shift=shift,
                    start=start,
                    bucket_column=b_col,
                    benchmark_column=m_col,
                    excess_return=t.excess_return,
                    low=t.low,
                    high=t.high,
                    p_above=t.p_above,
                    p_below=t.p_below,
                    verdict=t.verdict,
                )
                out.append((cell, t))
    return out


@dataclass(frozen=True)
class _Rule:
    """The verdict rule of one run: each claim's p-values among the family of claims with a
    test, adjusted by the correction; a variant of a claim takes the claim's place."""

    options: ClaimOptions
    index: dict[int, int]
    """Claim position → its place in the family."""
    above: np.ndarray
    below: np.ndarray
    negligible: dict[int, int]
    """Claim position → its place in the family of claims with a ``min_effect``."""
    p_negligible: np.ndarray

    @classmethod
    def of(cls, tested: Sequence[_ClaimTests], options: ClaimOptions) -> _Rule:
        live = [i for i, t in enumerate(tested) if t.main.draws is not None]
        ruled = [i for i in live if tested[i].claim.min_effect > 0]
        return cls(
            options=options,
            index={i: k for k, i in enumerate(live)},
            above=np.array([tested[i].main.result.p_above for i in live], dtype="float64"),
            below=np.array([tested[i].main.result.p_below for i in live], dtype="float64"),
            negligible={i: k for k, i in enumerate(ruled)},
            p_negligible=np.array(
                [tested[i].main.result.p_negligible for i in ruled], dtype="float64"
            ),
        )

    def _adjusted(
        self, i: int, t: ExcessTest, correction: Correction
    ) -> tuple[float, float, float | None]:
        k = self.index[i]
        assert t.p_above is not None and t.p_below is not None
        above = adjusted_in_place(self.above, k, t.p_above, correction)
        below = adjusted_in_place(self.below, k, t.p_below, correction)
        negligible = None
        if i in self.negligible and t.p_negligible is not None:
            negligible = adjusted_in_place(
                self.p_negligible, self.negligible[i], t.p_negligible, correction
            )
        return above, below, negligible

    def verdict_of(self, i: int, t: ExcessTest) -> str:
        """The verdict of test ``t`` in claim ``i``'s place (its own verdict when uncorrected)."""
        correction = self.options.correction
        if t.verdict == Verdict.insufficient_data or correction is Correction.none:
            return t.verdict
        return p_verdict(*self._adjusted(i, t, correction), self.options.alpha).value

    def significance(self, i: int, t: ExcessTest) -> Significance:
        above, below, negligible = self._adjusted(i, t, self.options.correction)
        holm_above, holm_below, _ = self._adjusted(i, t, Correction.holm)
        return Significance(
            correction=self.options.correction.value,
            family=len(self.index),
            alpha=self.options.alpha,
            p_above=above,
            p_below=below,
            p_negligible=negligible,
            holm_above=holm_above,
            holm_below=holm_below,
        )

    def judge(self, i: int, tests: _ClaimTests) -> ClaimResult:
        """Claim ``i``'s result: its verdict at the adjusted level, every variant's under the same
        rule, and whether the verdict survives its controls."""
        base, main = tests.base, tests.main.result
        if tests.main.draws is None:
            return base
        final = self.verdict_of(i, main)
        members = [
            LeftOut(
                ticker=ticker,
                column=column,
                excess_return=t.excess_return,
                low=t.low,
                high=t.high,
                p_above=t.p_above,
                p_below=t.p_below,
                verdict=self.verdict_of(i, t),
            )
            for ticker, column, t in tests.left_out
        ]
        flips = [m.ticker for m in members if m.verdict != final]
        loo = LeaveOneOut(members=members, flips=flips, fragile=bool(flips) if members else None)
        cells = [v.model_copy(update={"verdict": self.verdict_of(i, t)}) for v, t in tests.grid]
        agree = sum(v.verdict == final for v in cells)
        robustness = Robustness(
            variants=cells, agree=agree, share=agree / len(cells) if cells else None
        )
        checks = [
            LengthCheck(
                block_length=n,
                excess_return=t.excess_return,
                low=t.low,
                high=t.high,
                p_above=t.p_above,
                p_below=t.p_below,
                verdict=self.verdict_of(i, t),
            )
            for n, t in zip(self.options.sensitivity_lengths, tests.lengths, strict=True)
        ]
        lengths = BlockLengthSensitivity(
            checks=checks, agree=all(c.verdict == final for c in checks) if checks else None
        )
        history = base.own_history
        if history is not None and history.p_value is not None and final == Verdict.supported:
            decidable = history.p_floor is not None and history.p_floor < self.options.alpha
            passes = history.p_value < self.options.alpha if decidable else None
            history = history.model_copy(update={"passes": passes})
        judged = base.model_copy(
            update={
                "verdict": final,
                "significance": self.significance(i, main),
                "leave_one_out": loo,
                "robustness": robustness,
                "block_length_sensitivity": lengths,
                "own_history": history,
            }
        )
        caveats, survives = _survives(judged, self.options)
        return judged.model_copy(update={"caveats": caveats, "survives_controls": survives})


def _survives(c: ClaimResult, options: ClaimOptions) -> tuple[list[str], bool | None]:
    """The controls a decided verdict does not survive (one line each), and whether it survives."""
    if c.verdict not in DECIDED:
        return [], None
    alpha = options.alpha
    caveats: list[str] = []
    placebo, history, beta = c.placebo, c.own_history, c.beta_adjusted
    if c.verdict == Verdict.supported:
        assert placebo is not None and history is not None and beta is not None
        if placebo.passes is False:
            caveats.append(
                f"placebo: the {placebo.test.days} days before the claim date are supported too "
                f"(excess {_pct(placebo.test.excess_return)}), and the difference is not "
                "significantly positive"
            )
        elif placebo.test.verdict == Verdict.insufficient_data:
            caveats.append(f"placebo: not computed ({placebo.test.reason})")
        if history.passes is False:
            assert history.percentile is not None
            caveats.append(
                f"own history: {1 - history.percentile:.0%} of the {history.windows} earlier "
                f"{history.days}-day windows gained at least as much (calibrated p = "
                f"{history.p_value:.3f}, needs under {alpha:g})"
            )
        elif history.passes is None:
            caveats.append(f"own history: cannot tell ({history.reason})")
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
    s = c.significance
    if s is not None and s.correction == Correction.none and c.verdict != Verdict.negligible:
        holm = s.holm_above if c.verdict == Verdict.supported else s.holm_below
        if holm is not None and holm >= alpha:
            caveats.append(
                f"adjusted level: Holm-adjusted p = {holm:.3f} across the {s.family} claims "
                f"(needs under {alpha:g})"
            )
    if c.leave_one_out is not None and c.leave_one_out.fragile:
        caveats.append(f"fragile: dropping {', '.join(c.leave_one_out.flips)} changes the verdict")
    r = c.robustness
    if r is not None and r.share is not None and r.share < options.robust_share:
        caveats.append(
            f"robustness: {r.agree} of {len(r.variants)} variants agree "
            f"(fewer than {options.robust_share:.0%})"
        )
    lengths = c.block_length_sensitivity
    if lengths is not None and lengths.agree is False:
        shown = ", ".join(f"{k.block_length} days: {k.verdict}" for k in lengths.checks)
        caveats.append(f"block length: the verdict changes with the block length ({shown})")
    return caveats, not caveats


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.1%}"
