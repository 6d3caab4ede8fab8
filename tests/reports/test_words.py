"""The headlines: every number in a sentence comes from the claim's result, worded by hand here."""

from __future__ import annotations

from typing import Any

from backtest.results import ClaimResult, ClaimsResult
from reports.words import claim_headline, options_echo, thesis_line

BASE: dict[str, Any] = {
    "id": "rotation-pipes", "source": "000", "statement": "s", "bucket": "pipes",
    "benchmark": "gpu_merchant", "direction": "outperform", "threshold": 0.0, "start": "2026-01-27",
    "end": None, "verdict": "inconclusive",
    "test": {"start": "2026-01-27", "end": "2026-08-03", "days": 129, "bucket_return": 0.83,
             "benchmark_return": 0.52, "excess_return": 0.206, "low": -0.253, "high": 0.94,
             "p_above": 0.21, "p_below": 0.79, "verdict": "inconclusive"},
    "significance": {"correction": "holm", "family": 7, "alpha": 0.05, "p_above": 1.0,
                     "p_below": 1.0, "p_negligible": None, "holm_above": 1.0, "holm_below": 1.0},
    "block_length": None, "placebo": None, "leave_one_out": None, "beta_adjusted": None,
    "robustness": None, "block_length_sensitivity": None, "caveats": [],
    "survives_controls": None,
    "own_history": {"days": 129, "windows": 640, "independent": 5, "first_start": None,
                    "last_end": "2026-01-27", "percentile": 0.38, "share_above": 0.62,
                    "supported_share": 0.1, "refuted_share": 0.05, "p05": None, "median": None,
                    "p95": None, "resamples": 2000, "passes": None},
    "power": {"power": 0.8, "detectable_above": 0.48, "detectable_below": -0.33,
              "mean_daily": 0.00145, "side": "supported", "days_needed": 400,
              "further_days": 271},
}  # fmt: skip


def _claim(**changes: Any) -> ClaimResult:
    data = {**BASE, **changes}
    return ClaimResult.model_validate(data)


def test_an_inconclusive_claim_in_words() -> None:
    assert claim_headline(_claim(), 0.90) == (
        "After 2026-01-27, pipes gained 20.6% on gpu_merchant (90% interval −25.3% to +94.0%): "
        "inconclusive. 62% of the windows of this length before 2026-01-27 gave more; the data "
        "can detect effects above +48% or below −33% so far; at the pace so far, about 271 more "
        "trading days would make it detectable as supported."
    )


def test_the_own_history_p_value_and_its_floor_in_words() -> None:
    history = {**BASE["own_history"], "p_value": 0.634, "p_floor": 0.04948}
    words = claim_headline(_claim(own_history=history), 0.90)
    assert (
        "62% of the windows of this length before 2026-01-27 gave more (own-history p = 0.63)"
        in words
    )
    # with about five independent windows not even a result above all of them is unusual
    short = {**history, "p_floor": 0.05099, "reason": "768 days before 2026-01-27 hold about 5 ..."}
    words = claim_headline(_claim(own_history=short), 0.90)
    assert "gave more (own-history p = 0.63; at best 0.051 with this much history);" in words
    # a wait of years is also said in years (252 trading days a year)
    power = {**BASE["power"], "further_days": 2050}
    words = claim_headline(_claim(power=power), 0.90)
    assert "about 2050 more trading days (~8.1 years) would make it detectable" in words


def test_a_loss_a_decided_verdict_and_its_failed_controls() -> None:
    test = {**BASE["test"], "excess_return": -0.3, "low": -0.5, "high": -0.1}
    significance = {**BASE["significance"], "p_below": 0.012}
    claim = _claim(
        test=test,
        significance=significance,
        verdict="refuted",
        survives_controls=False,
        caveats=["fragile: dropping FN changes the verdict", "robustness: 5 of 16 variants agree"],
    )
    assert claim_headline(claim, 0.90).startswith(
        "After 2026-01-27, pipes lost 30.0% against gpu_merchant (90% interval −50.0% to −10.0%): "
        "refuted (Holm-adjusted p = 0.012), but it does not survive its controls (fragile, "
        "robustness). 62% of the windows of this length"
    )
    ok = _claim(test=test, significance=significance, verdict="refuted", survives_controls=True)
    assert "refuted (Holm-adjusted p = 0.012), and it survives its controls." in claim_headline(
        ok, 0.90
    )


def test_an_open_window_a_threshold_and_no_data() -> None:
    claim = _claim(end="2026-09-30", window_complete=False, threshold=0.05, own_history=None,
                   power=None)  # fmt: skip
    assert claim_headline(claim, 0.90) == (
        "After 2026-01-27 (the window runs to 2026-09-30; the data end on 2026-08-03), pipes "
        "gained 20.6% on gpu_merchant (90% interval −25.3% to +94.0%) (the claim needs more than "
        "+5.0%): inconclusive."
    )
    empty = {**BASE["test"], "excess_return": None, "low": None, "high": None,
             "verdict": "insufficient_data", "reason": "4 trading days with both returns"}  # fmt: skip
    assert claim_headline(_claim(test=empty, verdict="insufficient_data"), 0.90) == (
        "After 2026-01-27, pipes against gpu_merchant: no verdict (4 trading days with both "
        "returns)."
    )


def test_the_thesis_line_counts_the_verdicts() -> None:
    refuted = _claim(verdict="refuted", survives_controls=True)
    supported = _claim(verdict="supported", survives_controls=False)
    claims = ClaimsResult.model_construct(
        claims=[_claim(), refuted, supported], settings=_settings("holm")
    )
    assert thesis_line(claims) == (
        "3 claims, read together (Holm-adjusted p-values): 1 supported, 1 refuted, "
        "1 inconclusive; 1 of the 2 decided survive their controls."
    )
    alone = ClaimsResult.model_construct(claims=[_claim()], settings=_settings("none"))
    assert thesis_line(alone) == (
        "1 claim, each read alone: 1 inconclusive; none is decided, so none has controls to "
        "survive."
    )


def _settings(correction: str) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(correction=correction, confidence=0.9)


def test_the_options_that_change_numbers_are_echoed() -> None:
    import datetime as dt
    from types import SimpleNamespace

    window = SimpleNamespace(name="since-dec", start=dt.date(2025, 12, 1), end=dt.date(2026, 8, 3))
    whole = SimpleNamespace(name="whole", start=None, end=None)
    run = SimpleNamespace(weighting="inverse_vol", rebalance="quarterly", cost_bps=25.0,
                          verified_only=True, windows=[whole, window])  # fmt: skip
    assert options_echo(run) == (  # type: ignore[arg-type]
        "inverse_vol weight; rebalance quarterly; costs 25 bps; verified members only; "
        "windows since-dec 2025-12-01 → 2026-08-03"
    )
