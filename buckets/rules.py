"""The signal rules of ``claims.yaml``: counter-signals, stop and restart points, in a small
language of validated models.

A **rule** is one measure compared with a threshold, or ``all`` / ``any`` of rules:

* ``excess``: the excess return of ``of`` over ``vs`` over the last ``days`` shared trading days,
  ``exp(Σ daily excess log returns) − 1`` (the claims' definition);
* ``drawdown``: how far the growth of ``of`` is below its running peak (a negative fraction),
  over the whole run or the last ``days`` trading days;
* ``ratio_vs_average``: the ratio line ``of`` / ``vs`` against its own ``days``-day moving
  average: ``ratio / mean(ratio over the last days) − 1``;
* ``verdict``: a claim's verdict (this claim, or ``claim: ID``), over its own window or the last
  ``trailing`` shared trading days, is (``is``) or is not (``is_not``) one of the verdicts given;
* ``date``: the evaluation date is on or after ``on_or_after``.

A numeric rule holds when its value is ``above`` (>) or ``below`` (<) its threshold — exactly one
of them — on each of the last ``for_days`` evaluation days (default 1: today). ``of`` and ``vs``
name a bucket (lower case) or a ticker (upper case). A **signal** is a named rule with an optional
description; a claim has up to three ``counter_signals`` and optional ``stop`` and ``restart``.

Example::

    counter_signals:
      - name: gpus-beat-pipes
        description: the GPU basket beats pipes by more than 10% over a quarter
        when: {measure: excess, of: gpu_merchant, vs: pipes, days: 63, above: 0.10}
    stop:
      name: neither-supported-by-2027
      when:
        all:
          - {measure: date, on_or_after: 2027-01-27}
          - {measure: verdict, claim: rotation-pipes, is_not: [supported]}
          - {measure: verdict, claim: rotation-inference, is_not: [supported]}
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

VERDICTS = ("supported", "refuted", "negligible", "inconclusive", "insufficient_data")
Verdict = Literal["supported", "refuted", "negligible", "inconclusive", "insufficient_data"]
SIGNAL_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
MAX_DAYS = 2520
"""Ten years of trading days: the longest window a rule may look back over."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


Name = Annotated[str, Field(min_length=1, max_length=64)]
Days = Annotated[int, Field(ge=2, le=MAX_DAYS)]


class _Threshold(_Model):
    above: float | None = Field(default=None, allow_inf_nan=False)
    below: float | None = Field(default=None, allow_inf_nan=False)
    for_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 1
    """Evaluation days in a row the comparison must hold (ending on the date evaluated)."""

    @model_validator(mode="after")
    def _one_threshold(self) -> Self:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of above or below")
        return self

    def holds(self, value: float) -> bool:
        """``value > above`` or ``value < below``."""
        if self.above is not None:
            return value > self.above
        assert self.below is not None
        return value < self.below

    def threshold_text(self) -> str:
        return f"> {self.above:+.1%}" if self.above is not None else f"< {self.below:+.1%}"


class ExcessRule(_Threshold):
    measure: Literal["excess"]
    of: Name
    vs: Name
    days: Days

    def describe(self) -> str:
        return f"excess of {self.of} over {self.vs}, last {self.days} days, {self.threshold_text()}"


class DrawdownRule(_Threshold):
    measure: Literal["drawdown"]
    of: Name
    days: Days | None = None
    """Look back this many trading days for the peak (None: since the run's start)."""

    def describe(self) -> str:
        span = f"last {self.days} days" if self.days else "since the start"
        return f"drawdown of {self.of} ({span}) {self.threshold_text()}"


class RatioAverageRule(_Threshold):
    measure: Literal["ratio_vs_average"]
    of: Name
    vs: Name
    days: Days

    def describe(self) -> str:
        return f"{self.of} / {self.vs} against its {self.days}-day average {self.threshold_text()}"


class VerdictRule(_Model):
    measure: Literal["verdict"]
    claim: str | None = None
    """A claim id of the same file; None: the claim the rule belongs to."""
    trailing: Days | None = None
    """Judge the claim's pair over the last this many shared days instead of its own window."""
    is_: list[Verdict] | None = Field(default=None, alias="is")
    is_not: list[Verdict] | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _one_list(self) -> Self:
        if (self.is_ is None) == (self.is_not is None):
            raise ValueError("give exactly one of is or is_not")
        if not (self.is_ or self.is_not):
            raise ValueError("list at least one verdict")
        return self

    def holds_for(self, verdict: str) -> bool:
        if self.is_ is not None:
            return verdict in self.is_
        assert self.is_not is not None
        return verdict not in self.is_not

    def describe(self) -> str:
        whose = f"claim {self.claim}" if self.claim else "this claim"
        span = f" over the last {self.trailing} days" if self.trailing else ""
        which = (
            f"is {' or '.join(self.is_)}"
            if self.is_ is not None
            else f"is not {' or '.join(self.is_not or [])}"
        )
        return f"verdict of {whose}{span} {which}"


class DateRule(_Model):
    measure: Literal["date"]
    on_or_after: dt.date

    def describe(self) -> str:
        return f"on or after {self.on_or_after}"


class AllRule(_Model):
    all: Annotated[list[Rule], Field(min_length=1, max_length=8)]

    def describe(self) -> str:
        return "all of: " + "; ".join(r.describe() for r in self.all)


class AnyRule(_Model):
    any: Annotated[list[Rule], Field(min_length=1, max_length=8)]

    def describe(self) -> str:
        return "any of: " + "; ".join(r.describe() for r in self.any)


RULE_KINDS = ("excess", "drawdown", "ratio_vs_average", "verdict", "date", "all", "any")


def _rule_kind(value: Any) -> str | None:
    """Which rule a mapping is: ``all`` / ``any`` by its key, else its ``measure``."""
    if isinstance(value, dict):
        for key in ("all", "any"):
            if key in value:
                return key
        measure = value.get("measure")
        return measure if isinstance(measure, str) and measure in RULE_KINDS else None
    if isinstance(value, AllRule):
        return "all"
    if isinstance(value, AnyRule):
        return "any"
    return getattr(value, "measure", None)


Rule = Annotated[
    Annotated[ExcessRule, Tag("excess")]
    | Annotated[DrawdownRule, Tag("drawdown")]
    | Annotated[RatioAverageRule, Tag("ratio_vs_average")]
    | Annotated[VerdictRule, Tag("verdict")]
    | Annotated[DateRule, Tag("date")]
    | Annotated[AllRule, Tag("all")]
    | Annotated[AnyRule, Tag("any")],
    Discriminator(
        _rule_kind,
        custom_error_type="rule",
        custom_error_message=(
            "a rule needs a measure (excess, drawdown, ratio_vs_average, verdict, date) or a "
            "list under all or any"
        ),
    ),
]


def _check_name(value: str) -> str:
    if not SIGNAL_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a signal name (lower-case letters, digits, '-' and '_')"
        )
    return value


class Signal(_Model):
    """A named rule: a counter-signal, a stop or a restart point."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    description: str | None = None
    when: Rule

    @model_validator(mode="after")
    def _name(self) -> Self:
        _check_name(self.name)
        return self


def rule_leaves(rule: Rule, path: str = "when") -> list[tuple[str, Any]]:
    """The measured rules inside ``rule``, depth first, each with its field path
    (``when.all[1]``)."""
    if isinstance(rule, AllRule):
        return [x for k, r in enumerate(rule.all) for x in rule_leaves(r, f"{path}.all[{k}]")]
    if isinstance(rule, AnyRule):
        return [x for k, r in enumerate(rule.any) for x in rule_leaves(r, f"{path}.any[{k}]")]
    return [(path, rule)]


AllRule.model_rebuild()
AnyRule.model_rebuild()
Signal.model_rebuild()
