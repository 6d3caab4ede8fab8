"""Claims: the bootstrap, the verdict rule and every control, on series whose answer is known."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from arch.bootstrap import MovingBlockBootstrap
from statsmodels.stats.multitest import multipletests

from backtest.conventions import Correction, Rebalance, Weighting
from backtest.evidence.claims import check_claims, drop_column, factor_alpha, rule_column
from backtest.evidence.excess import ClaimOptions, Verdict, excess_test, paired_days, verdict
from backtest.run import simulate_run
from backtest.simulation.prepare import RunOptions, prepare_run
from buckets.files import load_universe
from buckets.models import Claim, Direction


@pytest.mark.parametrize(
    ("low", "high", "direction", "threshold", "expected"),
    [
        (0.01, 0.2, Direction.outperform, 0.0, Verdict.supported),
        (-0.2, -0.01, Direction.outperform, 0.0, Verdict.refuted),
        (-0.1, 0.1, Direction.outperform, 0.0, Verdict.inconclusive),
        (0.01, 0.2, Direction.outperform, 0.05, Verdict.inconclusive),  # needs +5%
        (0.01, 0.04, Direction.outperform, 0.05, Verdict.refuted),
        (-0.03, 0.1, Direction.not_underperform, 0.05, Verdict.supported),  # tolerates −5%
        (-0.2, -0.06, Direction.not_underperform, 0.05, Verdict.refuted),
        (-0.1, 0.1, Direction.not_underperform, 0.0, Verdict.inconclusive),
    ],
)
def test_verdict_rule(
    low: float, high: float, direction: Direction, threshold: float, expected: Verdict
) -> None:
    assert verdict(low, high, direction, threshold) is expected


# --- one test on synthetic pairs ------------------------------------------------------------------


def _days(n: int, start: str = "2024-01-02") -> pd.DatetimeIndex:
    return pd.bdate_range(start, periods=n, name="date")


def _pair(bucket: np.ndarray, bench: np.ndarray) -> pd.DataFrame:
    idx = _days(len(bucket))
    return paired_days(pd.Series(bucket, idx), pd.Series(bench, idx))


def test_constant_daily_margin_is_supported_and_the_excess_is_the_ratio_of_growth() -> None:
    rng = np.random.default_rng(11)
    bench = rng.normal(0.0005, 0.02, 120)
    bucket = bench + 0.002
    tested = excess_test(
        _pair(bucket, bench), Direction.outperform, 0.0, ClaimOptions(), block_length=10
    )
    r = tested.result
    assert r.verdict == "supported"
    growth_b, growth_m = np.prod(1 + bucket), np.prod(1 + bench)
    assert r.bucket_return == pytest.approx(growth_b - 1, abs=1e-12)
    assert r.benchmark_return == pytest.approx(growth_m - 1, abs=1e-12)
    assert r.excess_return == pytest.approx(growth_b / growth_m - 1, abs=1e-12)
    assert r.low is not None and r.high is not None and 0 < r.low < r.excess_return < r.high


def test_pure_noise_is_inconclusive_in_most_seeds() -> None:
    verdicts = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        a, b = rng.normal(0, 0.02, 250), rng.normal(0, 0.02, 250)
        options = ClaimOptions(resamples=2000)
        verdicts.append(
            excess_test(
                _pair(a, b), Direction.outperform, 0.0, options, block_length=10
            ).result.verdict
        )
    share = verdicts.count("inconclusive") / len(verdicts)
    assert share >= 0.75, verdicts  # a 90% interval: about 1 in 10 noise series "finds" a result
    assert set(verdicts) <= {"inconclusive", "supported", "refuted"}


def test_fewer_than_twenty_days_is_insufficient_data() -> None:
    a = np.full(19, 0.01)
    r = excess_test(
        _pair(a, a * 0), Direction.outperform, 0.0, ClaimOptions(), block_length=10
    ).result
    assert r.verdict == "insufficient_data" and r.excess_return is None
    assert r.reason == "19 trading days with both returns (fewer than 20)"


def test_the_same_seed_gives_the_same_interval_and_another_seed_another() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(0.001, 0.02, 60), rng.normal(0, 0.02, 60)
    one = excess_test(
        _pair(a, b), Direction.outperform, 0.0, ClaimOptions(seed=1), block_length=10
    ).result
    again = excess_test(
        _pair(a, b), Direction.outperform, 0.0, ClaimOptions(seed=1), block_length=10
    ).result
    other = excess_test(
        _pair(a, b), Direction.outperform, 0.0, ClaimOptions(seed=2), block_length=10
    ).result
    assert (one.low, one.high) == (again.low, again.high)
    assert (one.low, one.high) != (other.low, other.high)


def test_alpha_and_betas_on_an_exact_factor_model() -> None:
    # r = 0.0004 + 1.2 SPY + 0.5 SMH exactly: alpha = 0.0004 × 252 = 0.1008, R² = 1
    rng = np.random.default_rng(4)
    idx = _days(80)
    factors = pd.DataFrame({"SPY": rng.normal(0, 0.01, 80), "SMH": rng.normal(0, 0.02, 80)}, idx)
    bucket = 0.0004 + 1.2 * factors["SPY"] + 0.5 * factors["SMH"]
    claim = _claim("duo", "SPY", "2024-01-01")
    b = factor_alpha(bucket, factors, claim, ClaimOptions(), 10)
    assert b.alpha == pytest.approx(0.1008, abs=1e-12)
    assert b.betas["SPY"] == pytest.approx(1.2, abs=1e-12)
    assert b.betas["SMH"] == pytest.approx(0.5, abs=1e-12)
    assert b.r_squared == pytest.approx(1.0, abs=1e-12)
    assert b.alpha_low == pytest.approx(0.1008, abs=1e-9)  # no noise: every resample agrees
    assert b.verdict == "supported"


def test_alpha_agrees_with_statsmodels_ols_on_noisy_data() -> None:
    rng = np.random.default_rng(9)
    idx = _days(150)
    factors = pd.DataFrame({"SPY": rng.normal(0, 0.01, 150), "SMH": rng.normal(0, 0.02, 150)}, idx)
    bucket = 0.001 + 0.9 * factors["SPY"] + 0.7 * factors["SMH"] + rng.normal(0, 0.01, 150)
    b = factor_alpha(bucket, factors, _claim("duo", "SPY", "2024-01-01"), ClaimOptions(), 10)
    fit = sm.OLS(bucket.to_numpy(), sm.add_constant(factors.to_numpy())).fit()
    assert b.alpha == pytest.approx(fit.params[0] * 252, rel=1e-9)
    assert b.betas["SPY"] == pytest.approx(fit.params[1], rel=1e-9)
    assert b.betas["SMH"] == pytest.approx(fit.params[2], rel=1e-9)
    assert b.r_squared == pytest.approx(fit.rsquared, rel=1e-9)
    assert b.alpha_low is not None and b.alpha_high is not None
    assert b.alpha_low < b.alpha < b.alpha_high


# --- whole claims through a run -------------------------------------------------------------------


def _claim(bucket: str, benchmark: str, start: str, **extra: object) -> Claim:
    return Claim.model_validate(
        {
            "id": "c",
            "source": "test",
            "statement": "s",
            "bucket": bucket,
            "benchmark": benchmark,
            "start": start,
            **extra,
        }
    )


def _universe(tmp_path: Path, members: list[str], claims: str) -> Path:
    folder = tmp_path / "universes"
    folder.mkdir()
    listed = "".join(f"  - ticker: {t}\n    status: proposed\n    rationale: r\n" for t in members)
    (folder / "trio.yaml").write_text(f"side: long\nmembers:\n{listed}")
    (folder / "benchmarks.yaml").write_text("benchmarks:\n  - SPY\n  - SMH\n")
    (folder / "claims.yaml").write_text(claims)
    return folder


CLAIM_2024_07 = """\
claims:
  - id: trio-beats-spy
    source: test
    statement: trio beats SPY
    bucket: trio
    benchmark: SPY
    start: 2024-07-01
"""


def _prices(returns: dict[str, np.ndarray], index: pd.DatetimeIndex) -> dict[str, pd.Series]:
    """Closes from daily returns, the first close 100 (the first return is never used)."""
    return {t: pd.Series(100 * np.cumprod(1 + r), index) for t, r in returns.items()}


# the controls' scenarios below were built for 10-day blocks; the automatic choice has its own
# tests
FIXED_BLOCKS = ClaimOptions(resamples=2000, block_length=10)


def _check(
    tmp_path: Path,
    returns: dict[str, np.ndarray],
    members: list[str],
    claims: str = CLAIM_2024_07,
    options: RunOptions | None = None,
    claim_options: ClaimOptions = FIXED_BLOCKS,
    first: str = "2023-06-01",
) -> tuple[object, pd.DataFrame]:
    idx = _days(len(next(iter(returns.values()))), first)
    universe = load_universe(_universe(tmp_path, members, claims))
    prepared = prepare_run(
        universe,
        _prices(returns, idx),
        options or RunOptions(start=pd.Timestamp(first).date()),
        price_source="test",
    )
    out = simulate_run(prepared)
    checked = check_claims(prepared, out.returns, claim_options)
    return checked, out.returns


def _market(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    spy = rng.normal(0.0004, 0.01, n)
    return {"SPY": spy, "SMH": 1.3 * spy + rng.normal(0, 0.01, n)}


N = 400  # business days from 2023-06-01: to late 2024


def test_a_bucket_beating_spy_by_a_margin_is_supported_with_all_controls(tmp_path: Path) -> None:
    market = _market(N)
    after = np.arange(N) >= N // 2  # the margin starts around the claim date
    margin = np.where(after, 0.003, 0.0)
    rng = np.random.default_rng(5)
    members = {t: market["SPY"] + margin + rng.normal(0, 0.002, N) for t in ("AAA", "BBB", "CCC")}
    checked, returns = _check(tmp_path, {**market, **members}, list(members))
    (claim,) = checked.result.claims  # type: ignore[attr-defined]
    assert claim.test.verdict == "supported"
    # recomputed from the run's returns: growth ratio over the days after 2024-07-01
    window = returns.loc[returns.index > "2024-07-01", ["trio", "SPY"]].dropna()
    growth = (1 + window).prod()
    assert claim.test.excess_return == pytest.approx(growth["trio"] / growth["SPY"] - 1, abs=1e-12)
    assert claim.test.days == len(window)
    # placebo: as many days up to 2024-07-01; the margin began at row 200 (2024-03-07), inside
    # that window, so the placebo is supported too and the verdict does not survive it
    assert claim.placebo.test.days == claim.test.days
    assert claim.placebo.test.end == dt.date(2024, 7, 1)
    assert claim.placebo.test.verdict == "supported" and claim.placebo.passes is False
    assert claim.leave_one_out.fragile is False
    assert [m.ticker for m in claim.leave_one_out.members] == ["AAA", "BBB", "CCC"]
    assert claim.beta_adjusted.verdict == "supported"
    assert len(claim.robustness.variants) == 16
    assert claim.robustness.agree == 16


def test_a_result_carried_by_one_member_is_fragile(tmp_path: Path) -> None:
    market = _market(N, seed=1)
    rng = np.random.default_rng(6)
    members = {
        "AAA": market["SPY"] + 0.012 + rng.normal(0, 0.01, N),  # carries the bucket
        "BBB": market["SPY"] + rng.normal(0, 0.02, N),
        "CCC": market["SPY"] + rng.normal(0, 0.02, N),
    }
    checked, _ = _check(tmp_path, {**market, **members}, list(members))
    (claim,) = checked.result.claims  # type: ignore[attr-defined]
    assert claim.test.verdict == "supported"
    loo = {m.ticker: m for m in claim.leave_one_out.members}
    assert loo["AAA"].verdict != "supported"
    assert loo["BBB"].verdict == loo["CCC"].verdict == "supported"
    assert claim.leave_one_out.flips == ["AAA"]
    assert claim.leave_one_out.fragile is True
    assert claim.survives_controls is False
    assert any(c.startswith("fragile: dropping AAA") for c in claim.caveats)


def test_a_rotation_under_way_before_the_claim_shows_in_the_placebo(tmp_path: Path) -> None:
    market = _market(N, seed=2)
    rng = np.random.default_rng(7)
    members = {t: market["SPY"] + 0.003 + rng.normal(0, 0.002, N) for t in ("AAA", "BBB")}
    checked, _ = _check(tmp_path, {**market, **members}, list(members))
    (claim,) = checked.result.claims  # type: ignore[attr-defined]
    assert claim.test.verdict == "supported"
    assert claim.placebo.test.verdict == "supported"
    assert claim.placebo.difference_low < 0 < claim.placebo.difference_high
    assert claim.placebo.passes is False
    assert claim.survives_controls is False
    assert claim.caveats[0].startswith("placebo:")


def test_a_rotation_that_starts_at_the_claim_date_passes_the_placebo(tmp_path: Path) -> None:
    market = _market(N, seed=3)
    rng = np.random.default_rng(8)
    # 2024-07-01 is business day 283 after 2023-06-01
    start = list(_days(N, "2023-06-01")).index(pd.Timestamp("2024-07-01"))
    margin = np.where(np.arange(N) > start, 0.004, 0.0)
    members = {t: market["SPY"] + margin + rng.normal(0, 0.002, N) for t in ("AAA", "BBB")}
    checked, _ = _check(tmp_path, {**market, **members}, list(members))
    (claim,) = checked.result.claims  # type: ignore[attr-defined]
    assert claim.test.verdict == "supported"
    assert claim.placebo.test.verdict != "supported"
    assert claim.placebo.difference_low > 0
    assert claim.placebo.passes is True
    # 283 days of history hold two 117-day windows: too few to call anything unusual, and the
    # verdict cannot survive a control it cannot pass
    assert claim.own_history.passes is None and claim.own_history.p_floor >= 0.05
    assert claim.survives_controls is False
    assert claim.caveats == [f"own history: cannot tell ({claim.own_history.reason})"]


def test_leave_one_out_and_grid_columns_are_the_buckets_they_name(tmp_path: Path) -> None:
    # daily rebalancing, equal weight: the bucket without a member is the plain mean of the others
    market = _market(N, seed=4)
    rng = np.random.default_rng(9)
    members = {t: market["SPY"] + rng.normal(0, 0.01, N) for t in ("AAA", "BBB", "CCC")}
    options = RunOptions(start=dt.date(2023, 6, 1), rebalance=Rebalance.daily)
    checked, returns = _check(tmp_path, {**market, **members}, list(members), options=options)
    variants = checked.variants  # type: ignore[attr-defined]
    idx = variants.index
    expected = (members["AAA"][1:] + members["CCC"][1:]) / 2
    np.testing.assert_allclose(
        variants[drop_column("trio", "BBB")].to_numpy(), expected, atol=1e-12
    )
    # the grid's equal/monthly column is a monthly run of the same bucket
    monthly = rule_column("trio", Weighting.equal, Rebalance.monthly)
    assert monthly in variants.columns
    assert rule_column("trio", Weighting.inverse_vol, Rebalance.quarterly) in variants.columns
    assert list(idx) == list(returns.index)


def test_claim_windows_without_enough_data_say_so(tmp_path: Path) -> None:
    market = _market(N, seed=5)
    members = {"AAA": market["SPY"], "BBB": market["SPY"]}
    last = _days(N, "2023-06-01")[-1].date()
    claims = f"""\
claims:
  - id: too-late
    source: test
    statement: ten days only
    bucket: trio
    benchmark: SPY
    start: {(_days(N, "2023-06-01")[-11]).date()}
  - id: too-early
    source: test
    statement: before the run
    bucket: trio
    benchmark: SPY
    start: 2023-01-02
  - id: after-the-data
    source: test
    statement: after the last price
    bucket: trio
    benchmark: SPY
    start: {last}
"""
    checked, _ = _check(tmp_path, {**market, **members}, list(members), claims=claims)
    late, early, after = checked.result.claims  # type: ignore[attr-defined]
    assert late.test.verdict == "insufficient_data"
    assert late.test.reason == "10 trading days with both returns (fewer than 20)"
    assert early.test.verdict == "insufficient_data"
    assert "after the claim's start" in (early.test.reason or "")
    assert after.test.verdict == "insufficient_data" and after.test.days == 0
    for c in (late, early, after):
        assert c.placebo is None and c.robustness is None and c.survives_controls is None


def test_a_benchmark_bucket_is_varied_with_the_claims_bucket(tmp_path: Path) -> None:
    market = _market(N, seed=6)
    rng = np.random.default_rng(10)
    members = {t: market["SPY"] + rng.normal(0, 0.01, N) for t in ("AAA", "BBB", "CCC")}
    folder = _universe(tmp_path, ["AAA", "BBB"], "claims: []\n")
    (folder / "other.yaml").write_text(
        "side: context\nmembers:\n  - ticker: CCC\n    status: proposed\n    rationale: r\n"
    )
    (folder / "claims.yaml").write_text(CLAIM_2024_07.replace("benchmark: SPY", "benchmark: other"))
    idx = _days(N, "2023-06-01")
    prepared = prepare_run(
        load_universe(folder),
        _prices({**market, **members}, idx),
        RunOptions(start=dt.date(2023, 6, 1)),
        price_source="test",
    )
    out = simulate_run(prepared)
    checked = check_claims(prepared, out.returns, ClaimOptions(resamples=500))
    (claim,) = checked.result.claims
    columns = {(v.bucket_column, v.benchmark_column) for v in claim.robustness.variants}
    assert ("trio|inverse_vol|quarterly", "other|inverse_vol|quarterly") in columns
    # one member: leave-one-out does not apply to the benchmark, and trio has two
    assert [m.ticker for m in claim.leave_one_out.members] == ["AAA", "BBB"]


def test_the_interval_is_recomputable_with_arch_and_centred_on_the_sample() -> None:
    # all the outperformance in the first 5 days: blocks reach them less often than the middle,
    # so uncentred resamples would sit below the estimate
    bench = np.zeros(60)
    bucket = np.where(np.arange(60) < 5, 0.04, 0.0) + np.random.default_rng(1).normal(0, 0.001, 60)
    r = excess_test(
        _pair(bucket, bench), Direction.outperform, 0.0, ClaimOptions(), block_length=10
    ).result
    x = np.log1p(bucket) - np.log1p(bench)
    raw = MovingBlockBootstrap(10, x, seed=np.random.default_rng(0)).apply(np.sum, 10_000)[:, 0]
    # E*[sum] by hand: 6 full blocks of 10, starts 0..50 equally likely
    expected_mean = 6 * np.mean([x[j : j + 10].sum() for j in range(51)])
    assert raw.mean() < x.sum()  # the drift the shift removes
    shifted = raw - expected_mean + x.sum()
    low, high = np.quantile(np.expm1(shifted), [0.05, 0.95])
    assert (r.low, r.high) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))


# --- issue 14: calibrated verdicts ---------------------------------------------------------------


def _claims_yaml(*claims: dict[str, object]) -> str:
    lines = ["claims:"]
    for c in claims:
        lines.append(f"  - id: {c['id']}")
        for key, value in c.items():
            if key != "id":
                lines.append(f"    {key}: {value}")
    return "\n".join(lines) + "\n"


def test_a_not_underperform_claim_gets_its_placebo_check(tmp_path: Path) -> None:
    # the bucket has beaten SPY by the same margin all along: "does not lag" is supported before
    # the claim date as after it, and the difference is not significantly positive, so the
    # placebo fails for this direction too (it used to be skipped)
    market = _market(N, seed=9)
    rng = np.random.default_rng(9)
    members = {t: market["SPY"] + 0.003 + rng.normal(0, 0.002, N) for t in ("AAA", "BBB")}
    claims = _claims_yaml(
        {"id": "keeps-up", "source": "t", "statement": "s", "bucket": "trio",
         "benchmark": "SPY", "direction": "not_underperform", "start": "2024-07-01"}
    )  # fmt: skip
    checked, _ = _check(tmp_path, {**market, **members}, list(members), claims=claims)
    (claim,) = checked.result.claims  # type: ignore[attr-defined]
    assert claim.verdict == "supported"
    assert claim.placebo.test.verdict == "supported"
    assert claim.placebo.difference_low <= 0
    assert claim.placebo.passes is False
    assert any(c.startswith("placebo:") for c in claim.caveats)
    assert claim.survives_controls is False


def test_a_claim_whose_end_lies_after_the_data_says_it_is_still_open(tmp_path: Path) -> None:
    market = _market(N, seed=10)
    members = {"AAA": market["SPY"] * 1.1, "BBB": market["SPY"]}
    last = _days(N, "2023-06-01")[-1].date()
    claims = _claims_yaml(
        {"id": "open", "source": "t", "statement": "s", "bucket": "trio", "benchmark": "SPY",
         "start": "2024-07-01", "end": "2026-09-30"},
        {"id": "closed", "source": "t", "statement": "s", "bucket": "trio", "benchmark": "SPY",
         "start": "2024-07-01", "end": str(last)},
    )  # fmt: skip
    checked, _ = _check(tmp_path, {**market, **members}, list(members), claims=claims)
    open_, closed = checked.result.claims  # type: ignore[attr-defined]
    assert open_.window_complete is False and closed.window_complete is True
    assert open_.test.end == last and open_.test.days == closed.test.days
    assert open_.notes == [
        f"the claim's window runs to 2026-09-30 but the data end on {last}: tested on the days "
        "so far; the verdict can still change"
    ]
    assert closed.notes == []


def _three_claims(tmp_path: Path, correction: str) -> list[object]:
    market = _market(N, seed=11)
    rng = np.random.default_rng(11)
    start = list(_days(N, "2023-06-01")).index(pd.Timestamp("2024-07-01"))
    margin = np.where(np.arange(N) > start, 0.0008, 0.0)
    members = {t: market["SPY"] + margin + rng.normal(0, 0.01, N) for t in ("AAA", "BBB")}
    claims = _claims_yaml(
        *(
            {"id": f"vs-{b.lower()}", "source": "t", "statement": "s", "bucket": "trio",
             "benchmark": b, "start": "2024-07-01"}
            for b in ("SPY", "SMH", "QQQ")
        )
    )  # fmt: skip
    market["QQQ"] = market["SPY"] + rng.normal(0, 0.004, N)
    folder_returns = {**market, **members}
    options = ClaimOptions(resamples=2000, correction=Correction(correction))
    tmp = tmp_path / correction
    tmp.mkdir()
    checked, _ = _check(tmp, folder_returns, list(members), claims=claims, claim_options=options)
    return list(checked.result.claims)  # type: ignore[attr-defined]


def test_verdicts_read_p_values_adjusted_across_the_claims(tmp_path: Path) -> None:
    holm = _three_claims(tmp_path, "holm")
    none = _three_claims(tmp_path, "none")
    raw = [c.test.p_above for c in holm]
    expected = multipletests(raw, method="holm")[1]
    for c, p in zip(holm, expected, strict=True):
        assert c.significance.correction == "holm" and c.significance.family == 3
        assert c.significance.p_above == pytest.approx(p, abs=1e-12)
        assert c.significance.holm_above == pytest.approx(p, abs=1e-12)
        assert c.verdict == (
            "supported"
            if p < 0.05
            else "inconclusive"
            if c.significance.p_below >= 0.05
            else "refuted"
        )
    for c, h in zip(none, holm, strict=True):
        # the same tests; uncorrected, the verdict is the interval's
        assert c.test == h.test
        assert c.verdict == c.test.verdict
        assert c.significance.p_above == c.test.p_above
    # each passes alone (raw p 0.03 to 0.05), none after Holm's correction for three
    assert [c.verdict for c in none] == ["supported"] * 3
    assert [c.verdict for c in holm] == ["inconclusive"] * 3
    bh = _three_claims(tmp_path, "bh")
    for c, p in zip(bh, multipletests(raw, method="fdr_bh")[1], strict=True):
        assert c.significance.p_above == pytest.approx(p, abs=1e-12)


def test_an_interval_inside_the_minimum_effect_is_negligible(tmp_path: Path) -> None:
    market = _market(N, seed=12)
    rng = np.random.default_rng(12)
    members = {t: market["SPY"] + rng.normal(0, 0.001, N) for t in ("AAA", "BBB")}
    claims = _claims_yaml(
        {"id": "tiny", "source": "t", "statement": "s", "bucket": "trio", "benchmark": "SPY",
         "start": "2024-07-01", "min_effect": 0.05},
        {"id": "no-floor", "source": "t", "statement": "s", "bucket": "trio", "benchmark": "SPY",
         "start": "2024-07-01"},
    )  # fmt: skip
    checked, _ = _check(tmp_path, {**market, **members}, list(members), claims=claims)
    tiny, plain = checked.result.claims  # type: ignore[attr-defined]
    assert tiny.test.low > -0.05 and tiny.test.high < 0.05
    assert tiny.test.verdict == "negligible" and tiny.verdict == "negligible"
    assert tiny.test.p_negligible < 0.05 and tiny.significance.p_negligible < 0.05
    assert plain.verdict == "inconclusive" and plain.test.p_negligible is None
    assert tiny.survives_controls is not None


def test_the_block_length_is_politis_white_per_claim_and_its_sensitivity_is_recorded(
    tmp_path: Path,
) -> None:
    from arch.bootstrap import optimal_block_length

    market = _market(N, seed=13)
    members = {"AAA": market["SPY"] * 1.2, "BBB": market["SMH"]}
    options = ClaimOptions(resamples=1000)
    checked, returns = _check(tmp_path, {**market, **members}, list(members), claim_options=options)
    (claim,) = checked.result.claims  # type: ignore[attr-defined]
    window = returns.loc[returns.index > "2024-07-01", ["trio", "SPY"]].dropna()
    x = np.log1p(window["trio"]) - np.log1p(window["SPY"])
    estimate = optimal_block_length(x.to_numpy())["circular"].iloc[0]
    assert claim.block_length.source == "politis-white"
    assert claim.block_length.estimate == pytest.approx(estimate, abs=1e-12)
    assert claim.block_length.used == min(len(x) // 4, max(5, round(estimate)))
    assert claim.test.block_length == claim.block_length.used
    assert [k.block_length for k in claim.block_length_sensitivity.checks] == [5, 10, 20]
    fixed, _ = _check(
        _fresh(tmp_path / "fixed"),
        {**market, **members},
        list(members),
        claim_options=ClaimOptions(resamples=1000, block_length=7),
    )
    (f,) = fixed.result.claims  # type: ignore[attr-defined]
    assert f.block_length.used == 7 and f.block_length.source == "--block-length"


def test_a_move_that_starts_at_the_claim_date_survives_every_control(tmp_path: Path) -> None:
    # six years of history before the claim: its 120-day window tops all ~12 independent
    # windows before it, so the own-history control can pass (and does)
    n = 1520
    days = _days(n, "2019-01-01")
    start = days[1400].date()
    market = _market(n, seed=14)
    rng = np.random.default_rng(14)
    margin = np.where(np.arange(n) > 1400, 0.004, 0.0)
    members = {t: market["SPY"] + margin + rng.normal(0, 0.002, n) for t in ("AAA", "BBB")}
    claims = _claims_yaml(
        {"id": "late", "source": "t", "statement": "s", "bucket": "trio", "benchmark": "SPY",
         "start": str(start)}
    )  # fmt: skip
    checked, _ = _check(
        tmp_path,
        {**market, **members},
        list(members),
        claims=claims,
        claim_options=ClaimOptions(resamples=2000),
        first="2019-01-01",
    )
    (claim,) = checked.result.claims  # type: ignore[attr-defined]
    assert claim.verdict == "supported"
    assert claim.own_history.percentile == 1.0 and claim.own_history.p_value < 0.05
    assert claim.own_history.passes is True
    assert claim.block_length_sensitivity.agree is True
    assert claim.caveats == [] and claim.survives_controls is True


def _fresh(folder: Path) -> Path:
    folder.mkdir()
    return folder


def test_the_evidence_path_uses_no_later_prices(tmp_path: Path) -> None:
    # the same claim with 60 more days of prices: every point of the path up to the old last day
    # is unchanged (each as-of date sees only its own days, block length included)
    market = _market(N + 60, seed=15)
    rng = np.random.default_rng(15)
    members = {t: market["SPY"] + 0.001 + rng.normal(0, 0.01, N + 60) for t in ("AAA", "BBB")}
    short = {k: v[:N] for k, v in {**market, **members}.items()}
    first, _ = _check(_fresh(tmp_path / "short"), short, list(members))
    later, _ = _check(_fresh(tmp_path / "long"), {**market, **members}, list(members))
    (a,) = first.result.claims  # type: ignore[attr-defined]
    (b,) = later.result.claims  # type: ignore[attr-defined]
    last = a.path[-1].as_of
    earlier = [p for p in b.path if p.as_of < last]
    assert len(earlier) == len(a.path) - 1 and len(b.path) > len(a.path) + 8
    assert earlier == a.path[:-1]  # the old last point was a partial week; the week moved on
    # and the points are the claim's test on those days: the last one is the headline test
    assert a.path[-1].excess_return == pytest.approx(a.test.excess_return, abs=1e-12)
    assert [p.as_of.weekday() for p in a.path[:-1]] == [4] * (len(a.path) - 1)  # Fridays


def test_the_rank_nulls_computed_before_the_simulation_are_the_ones_the_tests_ask_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``bucketmap run`` computes the own-history tests' rank nulls while the run's simulation
    runs in its second process, from the closed form of the claims' buckets: on the default
    universes and the shipped sample every null the tests ask for is among them (a test asking
    for another would compute it), and the claims are the same to the last bit."""
    import backtest.evidence.claims as claims_module
    import bucketmap.api as api
    from backtest.evidence.claims import rank_null_keys_ahead, rank_nulls
    from backtest.evidence.nulls import rank_null
    from backtest.run import run_tickers

    options = RunOptions()
    universe = api.run_universe(Path(__file__).resolve().parents[2] / "universes", options)
    prepared = api._prepared_run(universe, options, Path("sample"), None, False, None)
    co = ClaimOptions(resamples=1000)
    tickers = prepared.ticker_returns(run_tickers(universe))
    ahead = rank_nulls(rank_null_keys_ahead(prepared, tickers, universe.claims, co))
    assert len(ahead) >= 2  # the default claims have two starts
    for (history_days, n, simulations, seed), null in ahead.items():
        fresh = rank_null(history_days, n, simulations, np.random.default_rng([seed, 3]))
        assert np.array_equal(null, fresh)
    returns = simulate_run(prepared).returns
    plain = check_claims(prepared, returns, co)

    def not_ahead(*key: int) -> np.ndarray:
        raise AssertionError(f"rank null {key} was not computed ahead")

    monkeypatch.setattr(claims_module, "_rank_null", not_ahead)
    warm = check_claims(prepared, returns, co, rank_nulls=ahead)
    assert warm.result.model_dump(exclude={"created_at"}) == plain.result.model_dump(
        exclude={"created_at"}
    )
    assert any(c.own_history and c.own_history.p_value for c in warm.result.claims)
