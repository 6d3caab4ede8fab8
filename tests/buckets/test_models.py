"""Every validation rule of the models, with its exact message."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from buckets.models import Bucket, Member, Universe

OK = {"ticker": "AAA", "rationale": "r"}


def message(model: type, data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as err:
        model.model_validate(data)
    first = err.value.errors()[0]
    return str(first["msg"]).removeprefix("Value error, ")


@pytest.mark.parametrize(
    ("ticker", "ok"),
    [
        ("NVDA", True),
        ("brk-b", True),
        ("^IRX", True),
        ("EURUSD=X", True),
        ("7203.T", True),
        ("", False),
        ("A" * 16, False),
        ("A" * 200, False),
        ("../../etc/passwd", False),
        ("..", False),
        (".A", False),
        ("A B", False),
        ("A\x00B", False),
        ("A\nB", False),
        ("A/B", False),
        ("$X", False),
    ],
)
def test_ticker_pattern(ticker: str, ok: bool) -> None:
    if ok:
        assert Member.model_validate({**OK, "ticker": ticker}).ticker == ticker.upper()
    else:
        assert (
            "is not a ticker symbol (letters, digits, '.', '-', '^', '=', at most 15 "
            "characters)" in message(Member, {**OK, "ticker": ticker})
        )


def test_numeric_symbols_from_yaml_stay_symbols() -> None:
    assert Member.model_validate({**OK, "ticker": 7203}).ticker == "7203"


def test_status_rules() -> None:
    assert (
        message(Member, {**OK, "status": "verified"})
        == "a verified member needs verified_by (who checked it)"
    )
    assert (
        message(Member, {**OK, "status": "verified", "verified_by": "ana"})
        == "a verified member needs verified_on (the date it was checked)"
    )
    assert (
        message(Member, {**OK, "status": "rejected"})
        == "a rejected member needs rejected_why (why it was dropped)"
    )
    assert message(Member, {**OK, "rationale": "   "}) == "must not be empty"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"verified_by": "ana", "evidence": "10-K"},
            "a proposed member cannot have verified_by, evidence (fields of a verified member); "
            "remove them",
        ),
        (
            {"rejected_why": "x"},
            "a proposed member cannot have rejected_why (a field of a rejected member); remove it",
        ),
        (
            {"verified_on": "2026-01-02", "rejected_on": "2026-01-03"},
            "a proposed member cannot have verified_on, rejected_on (fields of a verified or "
            "rejected member); remove them",
        ),
        (
            {"status": "verified", "verified_by": "a", "verified_on": "2026-01-02",
             "rejected_by": "bo"},
            "a verified member cannot have rejected_by (a field of a rejected member); remove it",
        ),
        (
            {"status": "rejected", "rejected_why": "x", "evidence": "e", "verified_by": "a"},
            "a rejected member cannot have verified_by, evidence (fields of a verified member); "
            "remove them",
        ),
    ],
)  # fmt: skip
def test_a_member_carries_only_its_own_status_fields(fields: dict[str, str], expected: str) -> None:
    assert message(Member, {**OK, **fields}) == expected


def test_rejected_by_and_on_are_optional() -> None:
    old = Member.model_validate({**OK, "status": "rejected", "rejected_why": "x"})
    assert (old.rejected_by, old.rejected_on) == (None, None)
    new = Member.model_validate(
        {**OK, "status": "rejected", "rejected_why": "x", "rejected_by": "bo",
         "rejected_on": "2026-01-03"}
    )  # fmt: skip
    assert (new.rejected_by, str(new.rejected_on)) == ("bo", "2026-01-03")


def test_weights() -> None:
    assert message(Member, {**OK, "weight": -1}) == "Input should be greater than or equal to 0"
    members = [
        {**OK, "weight": 2},
        {"ticker": "BBB", "rationale": "r"},
        {"ticker": "CCC", "rationale": "r", "status": "rejected", "rejected_why": "x"},
    ]
    assert message(Bucket, {"name": "b", "side": "long", "members": members}) == (
        "weights are given for 1 of 2 members; give one to every member or to none (missing: BBB)"
    )
    members[1]["weight"] = 1
    bucket = Bucket.model_validate({"name": "b", "side": "long", "members": members})
    assert bucket.weight_sum() == 3


def test_bucket_names() -> None:
    assert message(Bucket, {"name": "Pipes", "side": "long", "members": [OK]}) == (
        "'Pipes' is not a bucket name (lower-case letters, digits and '_', starting with a letter)"
    )


def test_overlaps_and_warnings() -> None:
    def bucket(name: str, side: str, tickers: list[str], **extra: Any) -> Bucket:
        return Bucket.model_validate(
            {
                "name": name,
                "side": side,
                "members": [{"ticker": t, "rationale": "r", **extra} for t in tickers],
            }
        )

    u = Universe(
        buckets={
            "a": bucket("a", "long", ["X", "Y"], weight=1),
            "b": bucket("b", "long", ["X"]),
            "h": bucket("h", "hedge", ["X"]),
        },
        benchmarks=["SPY"],
    )
    assert u.overlaps() == {"a": {"X": ["b"]}, "b": {"X": ["a"]}}  # hedges do not count
    assert u.warnings() == [
        "X is in more than one long bucket (a, b)",
        "bucket a: weights sum to 2; they are normalised to 1",
    ]


def test_a_universe_holds_only_claims_whose_names_resolve() -> None:
    from buckets.models import Claim

    bucket = Bucket.model_validate({"name": "duo", "side": "long", "members": [OK]})

    def claim(bucket: str, benchmark: str) -> Claim:
        return Claim.model_validate(
            {"id": "c", "source": "s", "statement": "s", "bucket": bucket,
             "benchmark": benchmark, "start": "2024-01-10"}
        )  # fmt: skip

    ok = Universe(buckets={"duo": bucket}, benchmarks=["SPY"], claims=[claim("duo", "QQQ")])
    assert ok.claim_tickers() == ["QQQ"]
    for bad, message in [
        (claim("duo", "S&P 500"), "claims[0].benchmark: 'S&P 500' is neither a ticker symbol"),
        (claim("duo", "gpus"), "claims[0].benchmark: no bucket named gpus"),
        (claim("trio", "SPY"), "claims[0].bucket: no bucket named trio"),
    ]:
        with pytest.raises(ValidationError, match=re.escape(message)):
            Universe(buckets={"duo": bucket}, benchmarks=["SPY"], claims=[bad])
    with pytest.raises(ValidationError, match="benchmarks\\[1\\]: no bucket named gpus"):
        Universe(buckets={"duo": bucket}, benchmarks=["SPY", "gpus"])
