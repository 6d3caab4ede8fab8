"""The weekly signal board: each claim's state now, what changed since the last board, its
counter-signals, stop and restart, its resolution, and the next thing to look at.

Pure functions over claim states (:mod:`.history`) and what the ledger holds (:mod:`.ledger`);
the job that gathers them and writes is ``bucketmap.api.board``.

* **Compared with**: the last ``board`` record of the claim in the ledger from an earlier data
  day; on a first board, the claim as of the week before (recomputed from the prices up to it).
* **Changes**: the verdict moved; a counter-signal switched on or off; the stop or restart rule
  fired; the claim's definition was edited since its last record.
* **Resolution**: a claim with ``resolve_on`` is judged once, from the prices up to the last
  trading day on or before that date, the first time the data reach it; ``ambiguous`` when that
  test could not decide (inconclusive, or too few days). The ledger keeps it; later boards show
  the recorded resolution, whatever later prices say.
* **Next thing to look at**, the first that applies: the stop point reached; a resolution due
  but the data not reaching it yet; a counter-signal that just switched on; a counter-signal
  already on; the counter-signal nearest its threshold; the days to the resolve date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from backtest.evidence.history import ClaimState
from backtest.evidence.ledger import (
    Evaluation,
    LedgerRead,
    Observation,
    Resolution,
    now_utc,
)
from backtest.evidence.signals import LeafState, SignalState
from backtest.results import (
    BoardEntry,
    BoardResolution,
    ObservationView,
    SignalView,
    TrailPoint,
)
from buckets.models import Claim


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.1%}"


def leaf_detail(leaf: LeafState) -> str:
    """``<rule>: now <value>`` (or what it found) for one measured part of a rule."""
    if leaf.value is None:
        state = {True: "holds", False: "does not hold", None: "not enough data yet"}[leaf.holds]
        return f"{leaf.description}: {state}"
    return f"{leaf.description}: now {_pct(leaf.value)}"


def signal_view(state: SignalState) -> SignalView:
    return SignalView(
        name=state.name,
        description=state.description,
        on=state.on,
        detail="; ".join(leaf_detail(leaf) for leaf in state.leaves),
    )


def _distance(state: SignalState) -> float | None:
    """How far an off counter-signal is from holding: the smallest gap between a numeric part's
    latest value and its threshold (None when no part is numeric)."""
    gaps = [
        abs(leaf.value - leaf.threshold)
        for leaf in state.leaves
        if leaf.value is not None and leaf.threshold is not None
    ]
    return min(gaps) if gaps else None


def evaluation_record(
    state: ClaimState,
    source: Literal["run", "board"],
    data_date: dt.date,
    verified: int,
    proposed: int,
) -> Evaluation:
    """The ledger record of what a run or board said about a claim."""
    t = state.test
    return Evaluation(
        recorded_at=now_utc(),
        source=source,
        data_date=data_date,
        claim=state.claim.id,
        definition=state.claim.definition_hash(),
        verdict=state.verdict,
        excess_return=t.excess_return,
        low=t.low,
        high=t.high,
        p_adjusted=state.p_adjusted,
        days=t.days,
        counter_on=state.counter_on,
        stop=state.stop.on if state.stop else None,
        restart=state.restart.on if state.restart else None,
        verified=verified,
        proposed=proposed,
    )


def resolution_record(state: ClaimState, resolve_on: dt.date) -> Resolution:
    """The claim judged as of its resolve date (``state`` is the claim as of the last trading
    day on or before it)."""
    t = state.test
    outcome: Literal["supported", "refuted", "negligible", "ambiguous"]
    if state.verdict == "supported":
        outcome = "supported"
    elif state.verdict == "refuted":
        outcome = "refuted"
    elif state.verdict == "negligible":
        outcome = "negligible"
    if state.verdict in ("supported", "refuted", "negligible"):
        reason = f"{state.verdict} as of {state.as_of} ({t.days} trading days)"
    elif t.excess_return is None:
        outcome, reason = "ambiguous", f"no verdict as of {state.as_of}: {t.reason}"
    else:
        outcome = "ambiguous"
        reason = (
            f"inconclusive as of {state.as_of}: the interval {_pct(t.low)} to {_pct(t.high)} "
            "spans the claim's level"
        )
    return Resolution(
        recorded_at=now_utc(),
        claim=state.claim.id,
        definition=state.claim.definition_hash(),
        resolve_on=resolve_on,
        data_date=state.as_of,
        outcome=outcome,
        excess_return=t.excess_return,
        low=t.low,
        high=t.high,
        reason=reason,
    )


def resolutions_due(claims: Sequence[Claim], ledger: LedgerRead, data_date: dt.date) -> list[Claim]:
    """Claims whose resolve date the data have reached and that have no resolution yet."""
    return [
        c
        for c in claims
        if c.resolve_on is not None
        and c.resolve_on <= data_date
        and ledger.resolution(c.id) is None
    ]


def _last_board(ledger: LedgerRead, claim: str, before: dt.date) -> Evaluation | None:
    boards = [r for r in ledger.evaluations(claim) if r.source == "board" and r.data_date < before]
    return boards[-1] if boards else None


def _changes(
    state: ClaimState,
    verdict_then: str | None,
    counter_then: Sequence[str],
    stop_then: bool | None,
    restart_then: bool | None,
) -> list[str]:
    out = []
    if verdict_then is not None and verdict_then != state.verdict:
        out.append(f"verdict {verdict_then} → {state.verdict}")
    now_on = state.counter_on
    out += [f"counter-signal {n} switched on" for n in now_on if n not in counter_then]
    out += [f"counter-signal {n} switched off" for n in counter_then if n not in now_on]
    if state.stop is not None and state.stop.on and not stop_then:
        out.append(f"stop point reached: {state.stop.name}")
    if state.restart is not None and state.restart.on and not restart_then:
        out.append(f"restart point reached: {state.restart.name}")
    return out


def board_entry(
    now: ClaimState,
    week_before: ClaimState | None,
    ledger: LedgerRead,
    observations_upto: dt.date,
    flags: Sequence[str] = (),
) -> BoardEntry:
    """One claim's line of the board (the module docstring has the rules)."""
    claim = now.claim
    last = _last_board(ledger, claim.id, now.as_of)
    then: tuple[str | None, Sequence[str], bool | None, bool | None]
    if last is not None:
        compared_with, source = last.data_date, "board"
        then = (last.verdict, last.counter_on, last.stop, last.restart)
    elif week_before is not None:
        compared_with, source = week_before.as_of, "week before"
        then = (
            week_before.verdict,
            week_before.counter_on,
            week_before.stop.on if week_before.stop else None,
            week_before.restart.on if week_before.restart else None,
        )
    else:
        compared_with, source, then = None, None, (None, [], None, None)
    changes = _changes(now, *then)
    changes += [f for f in flags if f.startswith(f"claim {claim.id} ")]
    recorded = ledger.resolution(claim.id)
    resolution = (
        BoardResolution(
            resolve_on=recorded.resolve_on,
            data_date=recorded.data_date,
            outcome=recorded.outcome,
            excess_return=recorded.excess_return,
            low=recorded.low,
            high=recorded.high,
            reason=recorded.reason,
            recorded_at=recorded.recorded_at,
        )
        if recorded is not None and recorded.data_date <= now.as_of
        else None
    )
    latest: dict[str, Observation] = {}
    for o in ledger.observations(claim.id):
        if o.observed_on <= observations_upto:
            latest[o.signal] = o
    counter = [signal_view(s) for s in now.counter]
    days_left = (claim.resolve_on - now.as_of).days if claim.resolve_on else None
    trail: dict[dt.date, TrailPoint] = {}
    for r in ledger.evaluations(claim.id):
        if r.data_date < now.as_of and r.definition == claim.definition_hash():
            trail[r.data_date] = TrailPoint(
                data_date=r.data_date,
                source=r.source,
                verdict=r.verdict,
                excess_return=r.excess_return,
                low=r.low,
                high=r.high,
            )
    t = now.test
    trail[now.as_of] = TrailPoint(
        data_date=now.as_of,
        source="now",
        verdict=now.verdict,
        excess_return=t.excess_return,
        low=t.low,
        high=t.high,
    )
    return BoardEntry(
        id=claim.id,
        source=claim.source,
        statement=claim.statement,
        bucket=claim.bucket,
        benchmark=claim.benchmark,
        start=claim.start,
        end=claim.end,
        resolve_on=claim.resolve_on,
        verdict=now.verdict,
        excess_return=t.excess_return,
        low=t.low,
        high=t.high,
        days=t.days,
        p_adjusted=now.p_adjusted,
        compared_with=compared_with,
        compared_source=source,
        compared_verdict=then[0],
        changes=changes,
        counter_signals=counter,
        stop=signal_view(now.stop) if now.stop else None,
        restart=signal_view(now.restart) if now.restart else None,
        days_to_resolve=days_left,
        resolution=resolution,
        observations=[
            ObservationView(
                signal=o.signal,
                observed_on=o.observed_on,
                value=o.value,
                text=o.text,
                source=o.source,
            )
            for o in latest.values()
        ],  # fmt: skip
        next=next_thing(now, changes, resolution, days_left),
        trail=[trail[d] for d in sorted(trail)],
        notes=[claim.notes] if claim.notes else [],
    )


def next_thing(
    now: ClaimState,
    changes: Sequence[str],
    resolution: BoardResolution | None,
    days_left: int | None,
) -> str:
    """The next thing to look at (the module docstring has the order)."""
    claim = now.claim
    if now.stop is not None and now.stop.on:
        return f"the stop point is reached ({now.stop.description}): act on the exit written down"
    if claim.resolve_on is not None and resolution is None and days_left is not None:
        if days_left <= 0:
            return (
                f"due on {claim.resolve_on}, but the data end {now.as_of}: fetch prices up to "
                "it to resolve the claim"
            )
    switched = [c for c in changes if c.startswith("counter-signal") and c.endswith("on")]
    if switched:
        name = switched[0].split()[1]
        view = next(s for s in now.counter if s.name == name)
        return f"counter-signal {name} switched on: {view.description}"
    already = [s for s in now.counter if s.on]
    if already:
        return f"counter-signal {already[0].name} is on: {already[0].description}"
    near = [(d, s) for s in now.counter if s.on is False and (d := _distance(s)) is not None]
    if near:
        _, s = min(near, key=lambda x: x[0])
        return f"nearest counter-signal: {s.name} ({'; '.join(leaf_detail(x) for x in s.leaves)})"
    if days_left is not None and days_left > 0 and resolution is None:
        return f"resolves on {claim.resolve_on}, in {days_left} days"
    return "nothing has moved: look again next week"
