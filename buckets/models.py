"""Domain models of a universe: members, buckets, benchmarks and claims.

These pydantic models are the only place where input is validated. They are frozen and forbid
unknown keys, so a typo in a universe file is an error, not a silently ignored setting. Variants
(for sweeps, verification) are made with ``model_copy(update=...)``, never by mutation.

Conventions: tickers are Yahoo symbols in upper case (``BRK-B``, ``^IRX``); bucket names are
lower-case identifiers (``pipes``), which keeps the two name spaces disjoint, so a benchmark entry
``gpu_merchant`` is a bucket and ``SMH`` is a ticker.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from buckets.rules import Signal, rule_leaves

TICKER_PATTERN = re.compile(r"^[A-Z0-9^][A-Z0-9.\-^=]{0,14}$")
"""Letters, digits, ``.``, ``-``, ``^``, ``=``; at most 15 characters; starts with a letter, digit
or ``^`` (so ``.``/``..`` can never be a ticker and no ticker can name a path)."""

BUCKET_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

MAX_SHIFT = 2_520
"""Largest start shift of a sweep, in trading days (ten years; ``backtest.conventions`` repeats
it for the CLI)."""


def _upper_ticker(value: object) -> object:
    # YAML reads an all-digit symbol (a Tokyo or Hong Kong code) as a number: keep it a symbol.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value.strip().upper() if isinstance(value, str) else value


def _check_ticker(value: str) -> str:
    if not TICKER_PATTERN.fullmatch(value):
        shown = value if len(value) <= 20 and value.isprintable() else repr(value[:20]) + "…"
        raise ValueError(
            f"{shown!r} is not a ticker symbol (letters, digits, '.', '-', '^', '=', "
            "at most 15 characters)"
        )
    return value


def _check_bucket_name(value: str) -> str:
    if not BUCKET_NAME_PATTERN.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a bucket name (lower-case letters, digits and '_', "
            "starting with a letter)"
        )
    return value


Ticker = Annotated[
    str,
    BeforeValidator(_upper_ticker),
    AfterValidator(_check_ticker),
    # for editors: lower case is accepted too (it is upper-cased on load)
    WithJsonSchema({"type": "string", "pattern": r"^[A-Za-z0-9^][A-Za-z0-9.\-^=]{0,14}$"}),
]
BucketName = Annotated[str, AfterValidator(_check_bucket_name)]
NonEmptyText = Annotated[str, AfterValidator(lambda s: s.strip() or _empty())]


def _empty() -> str:
    raise ValueError("must not be empty")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Status(StrEnum):
    """Where a member stands in the verification workflow."""

    proposed = "proposed"
    verified = "verified"
    rejected = "rejected"


class Side(StrEnum):
    """What a bucket is for: held long, a hedge, a short/avoid list, or context only."""

    long = "long"
    hedge = "hedge"
    avoid = "avoid"
    context = "context"


STATUS_FIELDS: dict[Status, tuple[str, ...]] = {
    Status.proposed: (),
    Status.verified: ("verified_by", "verified_on", "evidence"),
    Status.rejected: ("rejected_why", "rejected_by", "rejected_on"),
}
"""The member fields that belong to each status; a member may carry only its own status's."""


def status_fields_other_than(status: Status) -> tuple[str, ...]:
    """The fields of every status but ``status``, in :data:`STATUS_FIELDS` order: those a member
    of that status must not carry (and an edit to that status removes)."""
    return tuple(f for s, fields in STATUS_FIELDS.items() if s is not status for f in fields)


class Member(_Model):
    """One ticker of a bucket, with why it is there and who checked it.

    A ``verified`` member names who verified it and when (``verified_by``, ``verified_on``, and
    may carry ``evidence``); a ``rejected`` one says why (``rejected_why``, and may say who and
    when: ``rejected_by``, ``rejected_on``). A member carries only its own status's fields: a
    proposed member none of them, a verified one no ``rejected_*``, a rejected one no
    ``verified_by``/``verified_on``/``evidence``. ``weight`` is a non-negative number used by
    custom weighting (normalised to sum 1 within the bucket).
    """

    ticker: Ticker
    status: Status = Status.proposed
    rationale: NonEmptyText
    name: str | None = None
    weight: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    verified_by: str | None = None
    verified_on: dt.date | None = None
    evidence: str | None = None
    rejected_why: str | None = None
    rejected_by: str | None = None
    rejected_on: dt.date | None = None

    @model_validator(mode="after")
    def _status_fields(self) -> Self:
        if self.status is Status.verified:
            if not self.verified_by:
                raise ValueError("a verified member needs verified_by (who checked it)")
            if self.verified_on is None:
                raise ValueError("a verified member needs verified_on (the date it was checked)")
        if self.status is Status.rejected and not self.rejected_why:
            raise ValueError("a rejected member needs rejected_why (why it was dropped)")
        foreign = [f for f in status_fields_other_than(self.status) if getattr(self, f) is not None]
        if foreign:
            owners = [s.value for s, fields in STATUS_FIELDS.items() if set(fields) & set(foreign)]
            one = len(foreign) == 1
            raise ValueError(
                f"a {self.status.value} member cannot have {', '.join(foreign)} "
                f"({'a field' if one else 'fields'} of a {' or '.join(owners)} member); "
                f"remove {'it' if one else 'them'}"
            )
        return self

    @property
    def usable(self) -> bool:
        """True when the member may enter a backtest (proposed or verified, never rejected)."""
        return self.status is not Status.rejected


class Bucket(_Model):
    """A mechanism bucket: a named set of members held by one rule.

    The name comes from the file name (``universes/pipes.yaml`` is bucket ``pipes``).
    """

    name: BucketName
    side: Side
    description: str | None = None
    members: Annotated[list[Member], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_members(self) -> Self:
        seen: set[str] = set()
        for member in self.members:
            if member.ticker in seen:
                raise ValueError(f"ticker {member.ticker} is listed twice")
            seen.add(member.ticker)
        return self

    @model_validator(mode="after")
    def _weights_for_all_or_none(self) -> Self:
        usable = [m for m in self.members if m.usable]
        without = [m.ticker for m in usable if m.weight is None]
        if len(without) < len(usable) and without:
            raise ValueError(
                f"weights are given for {len(usable) - len(without)} of {len(usable)} members; "
                f"give one to every member or to none (missing: {', '.join(without)})"
            )
        total = self.weight_sum()
        if total is not None and not (math.isfinite(total) and total > 0):
            raise ValueError(
                f"the usable members' weights sum to {total:g}; custom weights are normalised "
                "to sum 1, so at least one must be positive (and their sum finite)"
            )
        return self

    def weight_sum(self) -> float | None:
        """Sum of the usable members' custom weights, None when the bucket has none."""
        weights = [m.weight for m in self.members if m.usable and m.weight is not None]
        return sum(weights) if weights else None

    def tickers(self, *, verified_only: bool = False) -> list[str]:
        """Tickers that may be used in a backtest, in file order."""
        return [
            m.ticker
            for m in self.members
            if m.usable and (not verified_only or m.status is Status.verified)
        ]

    def status_counts(self) -> dict[str, int]:
        """Number of members per status, every status present (zero when none)."""
        counts = {s.value: 0 for s in Status}
        for m in self.members:
            counts[m.status.value] += 1
        return counts


class Direction(StrEnum):
    """How a claim's bucket should compare with its benchmark."""

    outperform = "outperform"
    not_underperform = "not_underperform"


class Claim(_Model):
    """A dated, falsifiable statement: ``bucket`` vs ``benchmark`` from ``start`` (to ``end``).

    ``threshold`` (a fraction, 0 by default) is the excess return the statement needs to
    ``outperform``, or the lag it tolerates for ``not_underperform``; the excess return is
    ``(1 + bucket return) / (1 + benchmark return) - 1`` (see :mod:`backtest.evidence.claims`).
    """

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")]
    source: NonEmptyText
    statement: NonEmptyText
    bucket: BucketName
    benchmark: str
    direction: Direction = Direction.outperform
    start: dt.date
    end: dt.date | None = None
    threshold: float = Field(default=0.0, allow_inf_nan=False)
    min_effect: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    """The smallest excess that matters (a fraction): an interval inside threshold ± min_effect
    is judged ``negligible``. 0 (the default) turns that verdict off."""
    resolve_on: dt.date | None = None
    """The date the claim is to be judged: the first board on or after it records its
    resolution once, and keeps it (see :mod:`backtest.evidence.ledger`)."""
    counter_signals: Annotated[list[Signal], Field(max_length=3)] = Field(default_factory=list)
    """Up to three rules that downgrade the claim when they hold (:mod:`buckets.rules`)."""
    stop: Signal | None = None
    """The exit condition written down in advance."""
    restart: Signal | None = None
    """The condition under which a stopped claim is taken up again."""
    notes: str | None = None

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        if self.resolve_on is not None and self.resolve_on <= self.start:
            raise ValueError(f"resolve_on {self.resolve_on} is not after start {self.start}")
        names = [s.name for s in self.signals()]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"signal name {', '.join(twice)} is used twice in this claim")
        return self

    def signals(self) -> list[Signal]:
        """Counter-signals, then the stop and restart points (those the claim has)."""
        return [*self.counter_signals, *(s for s in (self.stop, self.restart) if s is not None)]

    def definition_hash(self) -> str:
        """SHA-256 (first 16 hex digits) of the claim's definition: every field, canonical JSON.
        A ledger record carries it, so an edited claim is seen, not silently re-judged."""
        import hashlib
        import json

        text = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class BenchmarksConfig(_Model):
    """The benchmarks every bucket is compared with: tickers (``SPY``) or bucket names."""

    benchmarks: Annotated[list[str], Field(min_length=1)]

    @model_validator(mode="after")
    def _names(self) -> Self:
        seen: set[str] = set()
        for name in self.benchmarks:
            if not (TICKER_PATTERN.fullmatch(name) or BUCKET_NAME_PATTERN.fullmatch(name)):
                raise ValueError(f"{name!r} is neither a ticker nor a bucket name")
            if name in seen:
                raise ValueError(f"benchmark {name} is listed twice")
            seen.add(name)
        return self


class ClaimsFile(_Model):
    """The claims to test (``universes/claims.yaml``)."""

    claims: list[Claim] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        seen: set[str] = set()
        for claim in self.claims:
            if claim.id in seen:
                raise ValueError(f"claim id {claim.id} is used twice")
            seen.add(claim.id)
        return self


def is_bucket_name(name: str) -> bool:
    """True when ``name`` has the shape of a bucket name (lower case), not of a ticker."""
    return BUCKET_NAME_PATTERN.fullmatch(name) is not None


@dataclass(frozen=True)
class CrossReference:
    """A name in one universe file that does not resolve: ``file`` is ``benchmarks``, ``claims``
    or the bucket's name, ``field`` the dotted location in it."""

    file: str
    field: str
    message: str


def _signal_fields(claim: Claim) -> list[tuple[str, Signal]]:
    """Each signal of a claim with its field path in the file."""
    out = [(f"counter_signals[{k}]", s) for k, s in enumerate(claim.counter_signals)]
    out += [(name, s) for name, s in (("stop", claim.stop), ("restart", claim.restart)) if s]
    return out


def signal_names(claim: Claim) -> list[str]:
    """The buckets and tickers a claim's signal rules measure (``of`` and ``vs``)."""
    return [
        name
        for _, signal in _signal_fields(claim)
        for _, leaf in rule_leaves(signal.when)
        for name in (getattr(leaf, "of", None), getattr(leaf, "vs", None))
        if name is not None
    ]


def cross_reference_problems(
    buckets: Mapping[str, Bucket],
    benchmarks: Sequence[str] | None,
    claims: Sequence[Claim] | None,
    *,
    unreadable: Iterable[str] = (),
) -> list[CrossReference]:
    """Every name that does not resolve: a benchmark bucket or claim bucket that is not a bucket
    of the universe, a claim benchmark that is neither a ticker symbol nor one of its buckets, a
    ticker held long and also avoided. (The single source of these rules: :class:`Universe`
    enforces them, and ``buckets.files`` reports them with file and line.) ``unreadable``: buckets
    whose file exists but has its own errors; a name of one resolves (it is not missing, and
    saying so in every claim that uses it would bury the file's own problem)."""
    out: list[CrossReference] = []
    known = {*buckets, *unreadable}
    for i, name in enumerate(benchmarks or []):
        if is_bucket_name(name) and name not in known:
            out.append(CrossReference("benchmarks", f"benchmarks[{i}]", f"no bucket named {name}"))
    for i, claim in enumerate(claims or []):
        if claim.bucket not in known:
            out.append(
                CrossReference("claims", f"claims[{i}].bucket", f"no bucket named {claim.bucket}")
            )
        name = claim.benchmark
        if is_bucket_name(name):
            if name not in known:
                out.append(
                    CrossReference("claims", f"claims[{i}].benchmark", f"no bucket named {name}")
                )
        elif not TICKER_PATTERN.fullmatch(name):
            shown = name if len(name) <= 20 and name.isprintable() else repr(name[:20]) + "…"
            out.append(
                CrossReference(
                    "claims",
                    f"claims[{i}].benchmark",
                    f"{shown!r} is neither a ticker symbol nor a bucket of this universe",
                )
            )
    ids = {c.id for c in claims or []}
    for i, claim in enumerate(claims or []):
        for field, signal in _signal_fields(claim):
            for path, leaf in rule_leaves(signal.when):
                where = f"claims[{i}].{field}.{path}"
                for key in ("of", "vs"):
                    ref: str | None = getattr(leaf, key, None)
                    if ref is None:
                        continue
                    if is_bucket_name(ref):
                        if ref not in known:
                            out.append(
                                CrossReference("claims", f"{where}.{key}", f"no bucket named {ref}")
                            )
                    elif not TICKER_PATTERN.fullmatch(ref):
                        out.append(
                            CrossReference(
                                "claims",
                                f"{where}.{key}",
                                f"{ref!r} is neither a ticker symbol nor a bucket of this universe",
                            )
                        )
                other = getattr(leaf, "claim", None)
                if other is not None and other not in ids:
                    out.append(
                        CrossReference("claims", f"{where}.claim", f"no claim with id {other}")
                    )
    # a ticker held long and also listed to avoid contradicts itself
    avoid = {
        m.ticker: b.name
        for b in buckets.values()
        if b.side is Side.avoid
        for m in b.members
        if m.usable
    }
    for bucket in buckets.values():
        if bucket.side is not Side.long:
            continue
        for i, member in enumerate(bucket.members):
            if member.usable and member.ticker in avoid:
                out.append(
                    CrossReference(
                        bucket.name,
                        f"members[{i}].ticker",
                        f"{member.ticker} is in long bucket {bucket.name} and in avoid bucket "
                        f"{avoid[member.ticker]}; reject it in one of them",
                    )
                )
    return out


POOL_SURVIVORSHIP = (
    "only tickers that still had prices when the data were taken: names delisted before then are "
    "absent, so the pool leans toward survivors and its baskets did better than the baskets one "
    "could really have drawn"
)
"""What a pool's survivorship is, unless its file says otherwise (the shared universe's README
says exactly this of its data)."""


class Pool(_Model):
    """A set of tickers baskets are drawn from (``universes/pools.yaml``, or ``--pool PATH``).

    ``prices``: a price file or folder (a path relative to the pools file's folder; see
    ``bucketmap prices import`` for the layouts) or ``store`` (every ticker of the price store);
    omitted, the run's own price source. ``tickers``: draw only from these. One of the two must
    be given. Series that are not clean prices are excluded and counted by reason: a close that
    is not positive, a one-day move beyond ``max_daily_move`` (a fraction; the default 5.0
    excludes a close more than 6 times or less than a sixth of the one before: reverse splits
    and bad ticks, not real crashes), fewer than ``min_history_days`` trading
    days of prices before the claim's start (the matched null needs 252 for its trailing
    return and beta).
    """

    description: str = ""
    prices: Annotated[str, Field(min_length=1)] | None = None
    tickers: list[Ticker] | None = None
    max_daily_move: Annotated[float, Field(gt=0, le=1_000)] = 5.0
    min_history_days: Annotated[int, Field(ge=0, le=2_520)] = 252
    survivorship: Annotated[str, Field(min_length=1)] = POOL_SURVIVORSHIP

    @model_validator(mode="after")
    def _source(self) -> Self:
        if self.prices is None and not self.tickers:
            raise ValueError("a pool needs prices (a file, a folder or store) or tickers")
        if self.tickers is not None and len(set(self.tickers)) != len(self.tickers):
            raise ValueError("a pool lists a ticker twice")
        return self


class PoolsFile(_Model):
    """The pools of a universe (``universes/pools.yaml``): ``default`` is the pool ``run`` and
    ``claims special`` draw from when no ``--pool`` is given."""

    default: BucketName | None = None
    pools: Annotated[dict[BucketName, Pool], Field(min_length=1)]

    @model_validator(mode="after")
    def _default_exists(self) -> Self:
        if self.default is not None and self.default not in self.pools:
            raise ValueError(
                f"default {self.default!r} is not one of the pools ({', '.join(self.pools)})"
            )
        return self


class Universe(_Model):
    """Everything a run needs to know about what to test: buckets, benchmarks, claims.

    Cross-references are checked here (:func:`cross_reference_problems`): a benchmark or claim
    naming a bucket must name one that exists, and a claim's benchmark must be a ticker symbol
    or a bucket of the universe.
    """

    buckets: dict[str, Bucket]
    benchmarks: list[str]
    claims: list[Claim] = Field(default_factory=list)
    pools: PoolsFile | None = None
    """The universe's ``pools.yaml``, when it has one."""
    left_out: list[str] = Field(default_factory=list)
    """What a selection (``--bucket``, ``--verified-only``: :mod:`buckets.select`) left out of
    the universe's files, one line each."""

    @model_validator(mode="after")
    def _cross_references(self) -> Self:
        problems = cross_reference_problems(self.buckets, self.benchmarks, self.claims)
        if problems:
            raise ValueError("; ".join(f"{p.file}: {p.field}: {p.message}" for p in problems))
        return self

    def overlaps(self) -> dict[str, dict[str, list[str]]]:
        """Tickers held in more than one long bucket: bucket → ticker → the other long buckets.

        Allowed, but it blurs a comparison between those buckets, so runs report it.
        """
        out: dict[str, dict[str, list[str]]] = {}
        for ticker, names in self._shared_long_tickers().items():
            for name in names:
                out.setdefault(name, {})[ticker] = [n for n in names if n != name]
        return out

    def _shared_long_tickers(self) -> dict[str, list[str]]:
        holders: dict[str, list[str]] = {}
        for bucket in self.buckets.values():
            if bucket.side is Side.long:
                for ticker in bucket.tickers():
                    holders.setdefault(ticker, []).append(bucket.name)
        return {t: names for t, names in holders.items() if len(names) > 1}

    def overlap_warnings(
        self, tickers: Collection[str] | None = None, *, bucket: str | None = None
    ) -> list[str]:
        """One line per ticker held by more than one long bucket, by ticker (only ``tickers``,
        and only those ``bucket`` is one of, when given): the run's overlap warnings."""
        return [
            f"{ticker} is in more than one long bucket ({', '.join(names)})"
            for ticker, names in sorted(self._shared_long_tickers().items())
            if (tickers is None or ticker in tickers) and (bucket is None or bucket in names)
        ]

    def warnings(self) -> list[str]:
        """Things that are allowed but worth saying: what a selection left out, overlaps, custom
        weights not summing to 1."""
        out = [*self.left_out, *self.overlap_warnings()]
        for name, bucket in self.buckets.items():
            total = bucket.weight_sum()
            if total is not None and abs(total - 1.0) > 1e-9:
                out.append(f"bucket {name}: weights sum to {total:g}; they are normalised to 1")
        return out

    def benchmark_tickers(self) -> list[str]:
        """Benchmarks that are single tickers."""
        return [b for b in self.benchmarks if not is_bucket_name(b)]

    def benchmark_buckets(self) -> list[str]:
        """Benchmarks that are buckets of this universe."""
        return [b for b in self.benchmarks if is_bucket_name(b)]

    def claim_tickers(self, claims: Sequence[Claim] | None = None) -> list[str]:
        """Single tickers the claims (all, or ``claims``) name, as benchmarks or in their signal
        rules (each needs prices, whether or not it is a run benchmark)."""
        chosen = self.claims if claims is None else claims
        names = [c.benchmark for c in chosen]
        names += [n for c in chosen for n in signal_names(c)]
        return list(dict.fromkeys(n for n in names if not is_bucket_name(n)))

    def tickers(self, *, verified_only: bool = False) -> list[str]:
        """Every ticker a run needs: usable members of every bucket, then benchmark tickers."""
        out: dict[str, None] = {}
        for bucket in self.buckets.values():
            out.update(dict.fromkeys(bucket.tickers(verified_only=verified_only)))
        out.update(dict.fromkeys(self.benchmark_tickers()))
        return list(out)


class SweepGrid(_Model):
    """The variants of a sweep (``bucketmap sweep --grid FILE``, or its flags): every listed
    bucket under every weighting × rebalance × start shift, and, with ``leave_one_out``, each of
    those again without each member in turn. ``benchmark`` (a ticker or a bucket) is what each
    variant's excess return is measured against."""

    buckets: list[BucketName] = Field(default_factory=list)
    """Buckets to vary; empty means every bucket of the universe."""
    weightings: Annotated[list[Literal["equal", "inverse_vol"]], Field(min_length=1)] = [
        "equal",
        "inverse_vol",
    ]
    rebalances: Annotated[
        list[Literal["daily", "weekly", "monthly", "quarterly", "none"]], Field(min_length=1)
    ] = ["monthly", "quarterly"]
    shifts: Annotated[list[Annotated[int, Field(ge=0, le=MAX_SHIFT)]], Field(min_length=1)] = [
        0,
        5,
        10,
        20,
    ]
    """Trading days by which the start is moved later."""
    leave_one_out: bool = True
    benchmark: str = "SPY"

    @model_validator(mode="after")
    def _choices(self) -> Self:
        name = self.benchmark
        if not (TICKER_PATTERN.fullmatch(name) or BUCKET_NAME_PATTERN.fullmatch(name)):
            raise ValueError(f"benchmark {name!r} is neither a ticker nor a bucket name")
        for field_name in ("buckets", "weightings", "rebalances", "shifts"):
            values = getattr(self, field_name)
            if len(set(values)) != len(values):
                raise ValueError(f"{field_name} lists a value twice")
        return self
