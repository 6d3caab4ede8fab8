"""The signal rules of claims.yaml on tiny hand-made return tables, each answer worked out here by
hand; bad rules are one-line errors naming the file, line and field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter

from backtest.evidence.signals import LeafState, evaluate
from buckets.errors import UniverseErrors
from buckets.files import load_universe
from buckets.rules import Rule

DAYS = pd.bdate_range("2026-03-02", periods=4)
ON = DAYS[-1].date()
# a: +50%, -20%, -25%, +10% → growth 1.5, 1.2, 0.9, 0.99 ; b: flat ; c: +10% a day
RETURNS = pd.DataFrame(
    {"a": [0.5, -0.2, -0.25, 0.1], "b": [0.0] * 4, "c": [0.1] * 4, "d": [0.0, 0.0, np.nan, 0.0]},
    index=DAYS,
)
RULE: TypeAdapter[Rule] = TypeAdapter(Rule)


def _run(
    rule: dict[str, object], verdict: str | None = None
) -> tuple[bool | None, list[LeafState]]:
    leaves: list[LeafState] = []
    state = evaluate(RULE.validate_python(rule), RETURNS, ON, lambda _: verdict, leaves)
    return state, leaves


def test_excess_over_the_last_n_days() -> None:
    # last 2 days of a over b: 0.75 * 1.1 - 1 = -0.175
    state, [leaf] = _run({"measure": "excess", "of": "a", "vs": "b", "days": 2, "below": -0.17})
    assert state is True and leaf.value == pytest.approx(-0.175, abs=1e-12)
    state, _ = _run({"measure": "excess", "of": "a", "vs": "b", "days": 2, "below": -0.18})
    assert state is False
    # c over a over 4 days: 1.1**4 / 0.99 - 1
    _, [leaf] = _run({"measure": "excess", "of": "c", "vs": "a", "days": 4, "above": 0})
    assert leaf.value == pytest.approx(1.1**4 / 0.99 - 1, abs=1e-12)
    # more days than the data: not known yet
    state, [leaf] = _run({"measure": "excess", "of": "a", "vs": "b", "days": 5, "above": 0})
    assert state is None and leaf.value is None


def test_excess_counts_shared_days_only() -> None:
    # d has no return on day 3: the last 2 shared days of c and d are days 2 and 4
    _, [leaf] = _run({"measure": "excess", "of": "c", "vs": "d", "days": 2, "above": 0})
    assert leaf.value == pytest.approx(1.1**2 - 1, abs=1e-12)


def test_drawdown_since_the_start_and_over_a_look_back() -> None:
    # since the start: peak 1.5, now 0.99 → -0.34
    state, [leaf] = _run({"measure": "drawdown", "of": "a", "below": -0.3})
    assert state is True and leaf.value == pytest.approx(0.99 / 1.5 - 1, abs=1e-12)
    # last 2 days: the closes 1.2, 0.9, 0.99 → peak 1.2 → -0.175
    state, [leaf] = _run({"measure": "drawdown", "of": "a", "days": 2, "below": -0.3})
    assert state is False and leaf.value == pytest.approx(0.99 / 1.2 - 1, abs=1e-12)
    # held for the last 2 days since the start: -0.4 and -0.34 are both below -0.3
    state, _ = _run({"measure": "drawdown", "of": "a", "below": -0.3, "for_days": 2})
    assert state is True
    # ... but not for 3 (-0.2 on day 2)
    state, _ = _run({"measure": "drawdown", "of": "a", "below": -0.3, "for_days": 3})
    assert state is False


def test_ratio_against_its_moving_average() -> None:
    # c / b: 1.1, 1.21, 1.331, 1.4641; last vs the mean of the last 2: 1.4641 / 1.39755 - 1
    state, [leaf] = _run(
        {"measure": "ratio_vs_average", "of": "c", "vs": "b", "days": 2, "above": 0.04}
    )
    assert leaf.value == pytest.approx(1.4641 / ((1.331 + 1.4641) / 2) - 1, abs=1e-12)
    assert state is True
    # a / b on the last day: 0.99 / mean(0.9, 0.99) - 1 > 0 ; for 2 days: day 3 was 0.9/1.05-1
    state, _ = _run(
        {"measure": "ratio_vs_average", "of": "a", "vs": "b", "days": 2, "above": 0, "for_days": 2}
    )
    assert state is False


def test_verdict_and_date_rules() -> None:
    rule = {"measure": "verdict", "is_not": ["supported"]}
    assert _run(rule, "inconclusive")[0] is True
    assert _run(rule, "supported")[0] is False
    assert _run(rule, None)[0] is None  # no verdict yet
    assert _run({"measure": "verdict", "is": ["refuted", "negligible"]}, "negligible")[0] is True
    assert _run({"measure": "date", "on_or_after": ON.isoformat()})[0] is True
    later = (ON + dt.timedelta(days=1)).isoformat()
    assert _run({"measure": "date", "on_or_after": later})[0] is False


def test_all_and_any_combine_with_unknowns() -> None:
    yes = {"measure": "date", "on_or_after": "2000-01-01"}
    no = {"measure": "date", "on_or_after": "2100-01-01"}
    unknown = {"measure": "excess", "of": "a", "vs": "b", "days": 50, "above": 0}
    assert _run({"all": [yes, yes]})[0] is True
    assert _run({"all": [yes, no, unknown]})[0] is False  # one false decides
    assert _run({"all": [yes, unknown]})[0] is None
    assert _run({"any": [no, yes, unknown]})[0] is True  # one true decides
    assert _run({"any": [no, unknown]})[0] is None
    state, leaves = _run({"any": [no, no]})
    assert state is False and len(leaves) == 2


CLAIM = """\
claims:
  - id: duo-beats-spy
    source: "000"
    statement: duo beats SPY
    bucket: duo
    benchmark: SPY
    direction: outperform
    start: 2024-01-02
    counter_signals:
      - name: spy-ahead
        when: {rule}
"""


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ("{measure: excess, of: SPY, vs: duo, days: 63}", "exactly one of above or below"),
        ("{measure: excess, of: SPY, vs: duo, days: 0, above: 0.1}", "days"),
        ("{measure: speed, of: SPY, above: 1}", "a rule needs a measure"),
        ("{measure: verdict, is: [maybe]}", "is"),
        ("{measure: drawdown, of: nowhere, below: -0.3}", "nowhere"),
    ],
)
def test_a_bad_rule_is_one_line_with_file_line_and_field(
    tiny_universe: Path, rule: str, says: str
) -> None:
    (tiny_universe / "claims.yaml").write_text(CLAIM.format(rule=rule))
    with pytest.raises(UniverseErrors) as caught:
        load_universe(tiny_universe)
    text = str(caught.value)
    assert "claims.yaml:" in text and says in text, text
    assert "counter_signals" in text or "nowhere" in text, text


def test_the_shipped_claims_have_three_counter_signals_and_a_stop_and_restart() -> None:
    from tests.conftest import ROOT

    universe = load_universe(ROOT / "universes")
    assert len(universe.claims) >= 8
    for claim in universe.claims:
        assert len(claim.counter_signals) == 3, claim.id
        assert claim.stop is not None and claim.restart is not None, claim.id
        assert claim.resolve_on is not None, claim.id
    by_id = {c.id: c for c in universe.claims}
    assert by_id["gpu-flex-premium"].resolve_on == dt.date(2026, 9, 30)
    assert {"rotation-pipes", "autonomy-e2e", "apps-quality"} <= set(by_id)  # note 000's themes


def test_a_shared_measure_cache_changes_no_state_and_measures_each_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The signals of one day share a cache of measured series (history and board): each
    measure is taken once, thresholds and look-backs of the rules reading it still apply."""
    from backtest.evidence import signals

    rules = [
        {"measure": "excess", "of": "a", "vs": "b", "days": 2, "below": -0.17},
        {"measure": "excess", "of": "a", "vs": "b", "days": 2, "below": -0.18},
        {"measure": "excess", "of": "a", "vs": "b", "days": 3, "above": 0},
        {"all": [{"measure": "drawdown", "of": "a", "below": -0.3},
                 {"measure": "drawdown", "of": "a", "below": -0.4}]},
    ]  # fmt: skip
    plain = [_run(r) for r in rules]
    taken: list[tuple[object, ...]] = []
    measure = signals._measure

    def counted(rule: object, frame: pd.DataFrame) -> pd.Series:
        taken.append((type(rule).__name__, getattr(rule, "days", None)))
        return measure(rule, frame)  # type: ignore[arg-type]

    monkeypatch.setattr(signals, "_measure", counted)
    cache = signals.MeasureCache()
    shared = []
    for r in rules:
        leaves: list[LeafState] = []
        state = evaluate(RULE.validate_python(r), RETURNS, ON, lambda _: None, leaves, cache)
        shared.append((state, leaves))
    assert shared == plain
    assert [s for s, _ in plain] == [True, False, False, False]
    assert taken == [("ExcessRule", 2), ("ExcessRule", 3), ("DrawdownRule", None)]


def test_a_cache_over_a_later_frame_gives_every_earlier_day_exactly_its_own_measures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The history measures each series once on its last day's frame and cuts it for earlier
    days whose columns agree so far; each day's states and values are bit for bit those of the
    day's own frame, and a day whose column differs (a bucket simulated differently on the
    prices up to it) is measured on its own."""
    from backtest.evidence import signals

    rng = np.random.default_rng(7)
    days = pd.bdate_range("2025-01-01", periods=80)
    latest = pd.DataFrame(rng.normal(0.0, 0.02, (80, 2)), index=days, columns=["a", "b"])
    latest.iloc[[3, 40], 1] = np.nan  # b misses two days: the shared days differ from a's
    rules = [
        {"measure": "excess", "of": "a", "vs": "b", "days": 5, "above": 0.0, "for_days": 2},
        {"measure": "drawdown", "of": "a", "below": -0.05},
        {"measure": "drawdown", "of": "a", "days": 10, "below": -0.03},
        {"measure": "ratio_vs_average", "of": "a", "vs": "b", "days": 10, "below": 0.0},
    ]
    parsed = [RULE.validate_python(r) for r in rules]
    altered = latest.iloc[:50].copy()
    altered.iloc[20, 0] += 0.01  # a differs on day 20: nothing of latest's a can be reused
    frames = [latest.iloc[:k] for k in range(1, 81)] + [altered]

    def states(frame: pd.DataFrame, cache: signals.MeasureCache | None) -> list[object]:
        on = frame.index[-1].date()
        out: list[object] = []
        for rule in parsed:
            leaves: list[LeafState] = []
            out.append((evaluate(rule, frame, on, lambda _: None, leaves, cache), leaves))
        return out

    own = [states(f, None) for f in frames]
    taken: list[int] = []
    measure = signals._measure

    def counted(rule: object, frame: pd.DataFrame) -> pd.Series:
        taken.append(len(frame))
        return measure(rule, frame)  # type: ignore[arg-type]

    monkeypatch.setattr(signals, "_measure", counted)
    cache = signals.MeasureCache(latest=latest)
    assert [states(f, cache) for f in frames] == own  # exact: == on every float
    # each measure once on latest (80 days), and on its own for the altered frame (50 days)
    assert sorted(taken) == [50] * 4 + [80] * 4
    assert {s for day in own for s, _ in day} == {True, False, None}  # the rules do vary
