"""The signal rules of ``claims.yaml`` (:mod:`buckets.rules`) evaluated on returns.

Every function here takes the daily returns known on the evaluation day (a date × series frame
that ends on it: buckets as the prices up to that day give them, tickers as they are) and so
cannot look ahead. A rule's state is three-valued: ``True`` (it holds), ``False`` (it does not),
``None`` (the data cannot tell yet: fewer days than it looks back over). ``all`` is False when any
part is False, else None when any is None; ``any`` is True when any part is True, else None when
any is None. A signal is *on* only when its rule is True.

Measures (each a value on every trading day of the frame; a numeric rule compares the last
``for_days`` of them with its threshold):

* ``excess``: ``exp(Σ_{last days} x_t) − 1`` over the shared days of ``of`` and ``vs``, with
  ``x_t = ln(1 + r_of) − ln(1 + r_vs)``;
* ``drawdown``: growth of ``of`` over its running peak − 1 (the start counting as a peak), or
  over the highest close of the last ``days`` (the close before them included);
* ``ratio_vs_average``: the ratio line ``Π(1 + r_of) / Π(1 + r_vs)`` over their shared days,
  divided by its mean over the last ``days`` of them, − 1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from buckets.rules import (
    AllRule,
    AnyRule,
    DateRule,
    DrawdownRule,
    ExcessRule,
    RatioAverageRule,
    Rule,
    Signal,
    VerdictRule,
)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(np.nan, index=frame.index, dtype="float64")


def excess_series(frame: pd.DataFrame, of: str, vs: str, days: int) -> pd.Series:
    """Excess return of ``of`` over ``vs`` over each run of ``days`` shared days."""
    both = pd.concat([_column(frame, of), _column(frame, vs)], axis=1, keys=["a", "b"]).dropna()
    x = np.log1p(both["a"]) - np.log1p(both["b"])
    return pd.Series(np.expm1(x.rolling(days, min_periods=days).sum()), index=both.index)


def drawdown_series(frame: pd.DataFrame, of: str, days: int | None) -> pd.Series:
    """Growth of ``of`` below its running peak (or the highest of the last ``days`` closes,
    the close before them included), a negative fraction or 0."""
    r = _column(frame, of).dropna()
    growth = pd.Series(np.cumprod(1.0 + r.to_numpy()), index=r.index)
    with_start = pd.concat([pd.Series([1.0]), growth.reset_index(drop=True)], ignore_index=True)
    if days is None:
        peak = with_start.cummax()
    else:
        peak = with_start.rolling(days + 1, min_periods=1).max()
        peak[:days] = np.nan  # fewer closes than the look-back: not known yet
    values = (with_start / peak - 1.0).iloc[1:].to_numpy()
    return pd.Series(values, index=r.index)


def ratio_vs_average_series(frame: pd.DataFrame, of: str, vs: str, days: int) -> pd.Series:
    """The ratio line ``of`` / ``vs`` over its ``days``-day moving average, − 1."""
    both = pd.concat([_column(frame, of), _column(frame, vs)], axis=1, keys=["a", "b"]).dropna()
    ratio = (1.0 + both["a"]).cumprod() / (1.0 + both["b"]).cumprod()
    return ratio / ratio.rolling(days, min_periods=days).mean() - 1.0


_MeasureKey = tuple[str, str, str | None, int | None]


def _key(rule: ExcessRule | DrawdownRule | RatioAverageRule) -> _MeasureKey:
    return (type(rule).__name__, rule.of, getattr(rule, "vs", None), rule.days)


class MeasureCache:
    """Measured series, taken once per measure (kind, ``of``, ``vs``, ``days``) and frame: the
    signals of all claims on one evaluation day share it, as several read the same measure.

    With ``latest`` (the returns known on a later day, over a calendar that begins as the
    frames' do) a measure is taken once on ``latest`` and an earlier day's frame gets it cut at
    its last day, provided the columns the measure reads hold the same numbers in both up to
    that day. That is exact, not an approximation: every measure's value on a day reads only the
    days up to it, in the same order of operations (rolling sums and means, running products and
    peaks), so it is bit for bit what the frame itself would give. Otherwise (a bucket the
    prices up to the earlier day simulate differently) the frame is measured on its own.
    """

    def __init__(self, latest: pd.DataFrame | None = None) -> None:
        self._latest = latest
        self._of_latest: dict[_MeasureKey, pd.Series] = {}
        self._frame: pd.DataFrame | None = None
        self._of_frame: dict[_MeasureKey, pd.Series] = {}
        self._prefix = False

    def _use(self, frame: pd.DataFrame) -> None:
        """Start on ``frame`` (what was taken on an earlier frame does not belong to it)."""
        if frame is self._frame:
            return
        self._frame, self._of_frame = frame, {}
        latest = self._latest
        self._prefix = latest is not None and (
            len(frame.index) <= len(latest.index)
            and bool((latest.index[: len(frame.index)] == frame.index).all())
        )

    def series(
        self, rule: ExcessRule | DrawdownRule | RatioAverageRule, frame: pd.DataFrame
    ) -> pd.Series:
        """The rule's measure on ``frame`` (NaN dropped), as :func:`measure_series`."""
        self._use(frame)
        key = _key(rule)
        if key in self._of_frame:
            return self._of_frame[key]
        if self._prefix and self._same_so_far(rule, frame):
            assert self._latest is not None
            if key not in self._of_latest:
                self._of_latest[key] = _measure(rule, self._latest).dropna()
            whole = self._of_latest[key]
            values = whole.iloc[: int(whole.index.searchsorted(frame.index[-1], side="right"))]
        else:
            values = _measure(rule, frame).dropna()
        self._of_frame[key] = values
        return values

    def _same_so_far(
        self, rule: ExcessRule | DrawdownRule | RatioAverageRule, frame: pd.DataFrame
    ) -> bool:
        assert self._latest is not None
        n = len(frame.index)
        if n == 0:
            return False
        names = [rule.of] + ([rule.vs] if not isinstance(rule, DrawdownRule) else [])
        return all(
            np.array_equal(
                _column(frame, name).to_numpy(dtype="float64"),
                _column(self._latest, name).to_numpy(dtype="float64")[:n],
                equal_nan=True,
            )
            for name in names
        )


def measure_series(
    rule: ExcessRule | DrawdownRule | RatioAverageRule,
    frame: pd.DataFrame,
    cache: MeasureCache | None = None,
) -> pd.Series:
    """The rule's measure on every day it can be computed (NaN dropped). With ``cache``
    (:class:`MeasureCache`) a measure already taken is not computed again."""
    if cache is not None:
        return cache.series(rule, frame)
    return _measure(rule, frame).dropna()


def _measure(rule: ExcessRule | DrawdownRule | RatioAverageRule, frame: pd.DataFrame) -> pd.Series:
    if isinstance(rule, ExcessRule):
        return excess_series(frame, rule.of, rule.vs, rule.days)
    if isinstance(rule, DrawdownRule):
        return drawdown_series(frame, rule.of, rule.days)
    return ratio_vs_average_series(frame, rule.of, rule.vs, rule.days)


@dataclass(frozen=True)
class LeafState:
    """One measured rule on the evaluation day: whether it holds, and its latest value."""

    description: str
    holds: bool | None
    value: float | None
    """The measure's latest value (None: not computable, or not a number)."""
    threshold: float | None


VerdictOf = Callable[[VerdictRule], str | None]
"""How a verdict rule is looked up: the verdict it refers to on the evaluation day (None when
there is none yet)."""


def evaluate(
    rule: Rule,
    frame: pd.DataFrame,
    on: dt.date,
    verdict_of: VerdictOf,
    leaves: list[LeafState],
    cache: MeasureCache | None = None,
) -> bool | None:
    """The rule's state on ``on`` from ``frame`` (returns up to ``on``); each measured part's
    state is appended to ``leaves``. ``cache``: see :func:`measure_series`."""
    if isinstance(rule, AllRule):
        parts = [evaluate(r, frame, on, verdict_of, leaves, cache) for r in rule.all]
        return False if False in parts else (None if None in parts else True)
    if isinstance(rule, AnyRule):
        parts = [evaluate(r, frame, on, verdict_of, leaves, cache) for r in rule.any]
        return True if True in parts else (None if None in parts else False)
    if isinstance(rule, DateRule):
        holds = on >= rule.on_or_after
        leaves.append(LeafState(rule.describe(), holds, None, None))
        return holds
    if isinstance(rule, VerdictRule):
        verdict = verdict_of(rule)
        known = None if verdict is None else rule.holds_for(verdict)
        leaves.append(LeafState(f"{rule.describe()} (now {verdict or 'n/a'})", known, None, None))
        return known
    values = measure_series(rule, frame, cache)
    threshold = rule.above if rule.above is not None else rule.below
    latest = float(values.iloc[-1]) if len(values) else None
    if len(values) < rule.for_days:
        state: bool | None = None
    else:
        state = all(rule.holds(float(v)) for v in values.iloc[-rule.for_days :])
    leaves.append(LeafState(rule.describe(), state, latest, threshold))
    return state


@dataclass(frozen=True)
class SignalState:
    """A signal on the evaluation day: on (True), off (False) or not known yet (None)."""

    name: str
    description: str
    on: bool | None
    leaves: list[LeafState]


def signal_state(
    signal: Signal,
    frame: pd.DataFrame,
    on: dt.date,
    verdict_of: VerdictOf,
    cache: MeasureCache | None = None,
) -> SignalState:
    """Evaluate one signal (counter-signal, stop or restart) on ``on``; ``cache``: see
    :func:`measure_series`."""
    leaves: list[LeafState] = []
    state = evaluate(signal.when, frame, on, verdict_of, leaves, cache)
    return SignalState(signal.name, signal.description or signal.when.describe(), state, leaves)


def signal_states(
    signals: Mapping[str, Signal], frame: pd.DataFrame, on: dt.date, verdict_of: VerdictOf
) -> dict[str, SignalState]:
    """:func:`signal_state` of each named signal (sharing one measure cache)."""
    cache = MeasureCache()
    return {k: signal_state(s, frame, on, verdict_of, cache) for k, s in signals.items()}
