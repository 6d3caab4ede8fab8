"""Claims as of each week: what the prices up to a day showed about every claim, with no later
price used.

For an evaluation day ``D`` the buckets are simulated on the prices up to ``D`` alone
(:func:`backtest.simulation.engine.simulate_as_of`: a member whose quotes stop before ``D`` is
sold, ``D`` is not a rebalance day) and tickers are taken as they are up to ``D``. Each claim is
then tested over the days ``start < t <= min(D, end)`` with the block length its days up to ``D``
give (:mod:`backtest.evidence.excess`), the claims' p-values are adjusted together as of ``D``,
and each claim's counter-signals, stop and restart are evaluated (:mod:`.signals`). Appending
prices after ``D`` changes nothing of what is said about ``D`` (tested).

The evaluation days are the last trading day of each calendar week (Friday, or the day before a
Friday holiday) after the first claim's start, and the data's last day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from backtest.conventions import Weighting
from backtest.evidence.excess import (
    ClaimOptions,
    choose_block_length,
    excess_log_returns,
    excess_test,
    family_verdicts,
    insufficient,
    paired_days,
)
from backtest.evidence.signals import MeasureCache, SignalState, signal_state
from backtest.results import ExcessTest, PathPoint
from backtest.simulation.engine import simulate_as_of
from backtest.simulation.prepare import PreparedRun
from buckets.models import Claim
from buckets.rules import VerdictRule


def evaluation_dates(
    calendar: pd.DatetimeIndex, after: dt.date, upto: dt.date | None = None
) -> pd.DatetimeIndex:
    """The last trading day of each week of ``calendar`` after ``after`` (up to ``upto``), and
    the last day."""
    days = calendar[calendar > pd.Timestamp(after)]
    if upto is not None:
        days = days[days <= pd.Timestamp(upto)]
    if len(days) == 0:
        return days
    last_of_week = ~pd.Series(days.to_period("W-FRI")).duplicated(keep="last").to_numpy()
    return days[last_of_week]


def as_of_returns(
    prepared: PreparedRun, returns: pd.DataFrame, dates: Sequence[pd.Timestamp]
) -> dict[pd.Timestamp, pd.DataFrame]:
    """For each date, the daily returns known on it: every bucket simulated on the prices up to
    it (in one simulation for all dates, in closed form), every ticker column of ``returns``
    cut at it."""
    calendar = prepared.calendar
    ends = [int(p) for p in calendar.get_indexer(pd.DatetimeIndex(list(dates)))]
    if any(e < 1 for e in ends):
        raise ValueError("an evaluation date is not a return day of the run")
    options = prepared.options
    needs_vol = options.weighting is Weighting.inverse_vol
    frames = simulate_as_of(
        prepared.window,
        prepared.specs,
        ends,
        rebalance=options.rebalance,
        weighting=options.weighting,
        cost_bps=options.cost_bps,
        volatility=prepared.volatility() if needs_vol else None,
    )
    tickers = [c for c in returns.columns if c not in prepared.universe.buckets]
    out = {}
    for date, end in zip(dates, ends, strict=True):
        buckets = frames[end].iloc[1:]
        out[pd.Timestamp(date)] = pd.concat([buckets, returns.loc[buckets.index, tickers]], axis=1)
    return out


@dataclass(frozen=True)
class ClaimState:
    """A claim as the prices up to ``as_of`` showed it."""

    claim: Claim
    as_of: dt.date
    test: ExcessTest
    """The claim's test over ``start < t <= min(as_of, end)``."""
    verdict: str
    """Read with the other claims as of the same day (the run's correction)."""
    p_adjusted: float | None
    counter: list[SignalState]
    stop: SignalState | None
    restart: SignalState | None

    @property
    def counter_on(self) -> list[str]:
        """Names of the counter-signals that hold."""
        return [s.name for s in self.counter if s.on]


def _test_on(
    frame: pd.DataFrame, claim: Claim, start: dt.date, end: dt.date | None, options: ClaimOptions
) -> ExcessTest:
    """The claim's test of its pair over ``start < t <= end`` in ``frame``."""
    pair = paired_days(_col(frame, claim.bucket), _col(frame, claim.benchmark)).between(start, end)
    if len(pair) < options.min_days:
        reason = (
            "no day on which both have a return yet"
            if len(pair) == 0
            else f"{len(pair)} trading days with both returns (fewer than {options.min_days})"
        )
        return insufficient(start, end, len(pair), reason)
    length = choose_block_length(excess_log_returns(pair), options).used
    return excess_test(
        pair,
        claim.direction,
        claim.threshold,
        options,
        block_length=length,
        min_effect=claim.min_effect,
        start=start,
    ).result


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(np.nan, index=frame.index, dtype="float64")


def states_on(
    frame: pd.DataFrame,
    claims: Sequence[Claim],
    on: dt.date,
    options: ClaimOptions,
    measured: MeasureCache | None = None,
) -> list[ClaimState]:
    """Every claim as of ``on`` from ``frame`` (the returns known on it, :func:`as_of_returns`).
    ``measured``: the signals' measures (:class:`MeasureCache`; one per day when not given)."""
    tests = []
    for claim in claims:
        last = min(on, claim.end) if claim.end is not None else on
        if on <= claim.start:
            tests.append(insufficient(claim.start, None, 0, "the claim's window has not begun"))
        else:
            tests.append(_test_on(frame, claim, claim.start, last, options))
    read = family_verdicts(tests, options)
    verdicts = {c.id: v for c, (v, _) in zip(claims, read, strict=True)}
    out = []
    trailing: dict[tuple[str, int], str | None] = {}  # one test per pair and look-back a day
    if measured is None:
        measured = MeasureCache()  # one series per measure, shared by every signal

    def trailing_verdict(rule: VerdictRule, claim: Claim) -> str | None:
        assert rule.trailing is not None
        target = next((c for c in claims if c.id == (rule.claim or claim.id)), claim)
        pair = paired_days(_col(frame, target.bucket), _col(frame, target.benchmark))
        window = pair.between(None, on).last(rule.trailing)
        if len(window) < rule.trailing:
            return None
        first = window.days[0] - pd.Timedelta(days=1)
        return _test_on(frame, target, first.date(), on, options).verdict

    for claim, test, (verdict, p) in zip(claims, tests, read, strict=True):

        def verdict_of(rule: VerdictRule, claim: Claim = claim) -> str | None:
            if rule.trailing is None:
                return verdicts.get(rule.claim or claim.id)
            key = (rule.claim or claim.id, rule.trailing)
            if key not in trailing:
                trailing[key] = trailing_verdict(rule, claim)
            return trailing[key]

        out.append(
            ClaimState(
                claim=claim,
                as_of=on,
                test=test,
                verdict=verdict,
                p_adjusted=p,
                counter=[
                    signal_state(s, frame, on, verdict_of, measured) for s in claim.counter_signals
                ],
                stop=(
                    signal_state(claim.stop, frame, on, verdict_of, measured)
                    if claim.stop
                    else None
                ),
                restart=(
                    signal_state(claim.restart, frame, on, verdict_of, measured)
                    if claim.restart
                    else None
                ),
            )
        )
    return out


def claims_history(
    prepared: PreparedRun,
    returns: pd.DataFrame,
    claims: Sequence[Claim],
    options: ClaimOptions,
    *,
    upto: dt.date | None = None,
) -> list[list[ClaimState]]:
    """Every claim as of each evaluation day (:func:`evaluation_dates` from the first claim's
    start to ``upto`` or the data's end): one list of states per day, in day order.

    ``returns`` holds the run's ticker columns (benchmarks, claims' and rules' tickers).
    """
    if not claims:
        return []
    first = min(c.start for c in claims)
    dates = evaluation_dates(prepared.calendar, first, upto)
    if len(dates) == 0:
        return []
    frames = as_of_returns(prepared, returns, list(dates))
    measured = MeasureCache(latest=frames[dates[-1]])  # a measure taken once for every day
    return [states_on(frames[d], claims, d.date(), options, measured) for d in dates]


def path_points(history: Sequence[Sequence[ClaimState]], claim_id: str) -> list[PathPoint]:
    """One claim's test as of each evaluation day since its start (``claims.json``'s path)."""
    out: list[PathPoint] = []
    for day in history:
        for state in day:
            if state.claim.id != claim_id or state.as_of <= state.claim.start:
                continue
            t = state.test
            if out and t.days == out[-1].days:
                continue  # no new day since the last point (the claim's window has ended)
            out.append(
                PathPoint(
                    as_of=state.as_of,
                    days=t.days,
                    excess_return=t.excess_return,
                    low=t.low,
                    high=t.high,
                    block_length=t.block_length,
                    verdict=t.verdict if t.excess_return is not None else None,
                )
            )
    return out


def states_at(
    prepared: PreparedRun,
    returns: pd.DataFrame,
    claims: Sequence[Claim],
    options: ClaimOptions,
    days: Sequence[dt.date],
) -> dict[dt.date, list[ClaimState]]:
    """Every claim as of each of ``days`` (each taken at the last return day of the run on or
    before it; a day before the first return day is left out)."""
    calendar = prepared.calendar[1:]
    wanted: dict[dt.date, pd.Timestamp] = {}
    for day in days:
        upto = calendar[calendar <= pd.Timestamp(day)]
        if len(upto):
            wanted[day] = upto[-1]
    stamps = sorted(set(wanted.values()))
    frames = as_of_returns(prepared, returns, stamps)
    measured = MeasureCache(latest=frames[stamps[-1]]) if stamps else None
    return {
        day: states_on(frames[stamp], claims, stamp.date(), options, measured)
        for day, stamp in wanted.items()
    }
