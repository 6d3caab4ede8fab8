"""The verify workflow's second round: several tickers per edit, who and when on a rejection, a
status change that clears the old status's fields, contradictory fields refused, an overlap
warned at once, and the closest names for a typo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bucketmap.cli import app
from buckets.edit import add_member, reject_members, verify_members
from buckets.errors import UniverseError
from buckets.files import load_universe, validate_paths

BUCKET = """\
# why this bucket exists
side: long
members:
  - ticker: AAA
    status: proposed
    rationale: first   # keep me
  # a comment between members
  - ticker: BBB
    status: proposed
    rationale: second
  - ticker: CCC
    status: proposed
    rationale: third
"""
OTHER = """\
side: long
members:
  - ticker: ZZZ
    status: proposed
    rationale: elsewhere
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "trio.yaml").write_text(BUCKET)
    (tmp_path / "other.yaml").write_text(OTHER)
    (tmp_path / "benchmarks.yaml").write_text("benchmarks:\n  - SPY\n")
    return tmp_path


DAY = dt.date(2026, 12, 1)


def test_several_tickers_are_verified_in_one_write(folder: Path) -> None:
    verify_members(folder, "trio", ["aaa", "CCC"], by="ana", on=DAY, evidence="10-K")
    assert (folder / "trio.yaml").read_text() == BUCKET.replace(
        "  - ticker: AAA\n    status: proposed\n",
        "  - ticker: AAA\n    status: verified\n    verified_by: ana\n    verified_on: 2026-12-01\n"
        "    evidence: 10-K\n",
    ).replace(
        "  - ticker: CCC\n    status: proposed\n",
        "  - ticker: CCC\n    status: verified\n    verified_by: ana\n    verified_on: 2026-12-01\n"
        "    evidence: 10-K\n",
    )


def test_one_non_member_stops_the_whole_edit_naming_it_and_the_closest(folder: Path) -> None:
    with pytest.raises(
        UniverseError, match=r"BBC is not a member of this bucket; did you mean BBB"
    ):
        verify_members(folder, "trio", ["AAA", "BBC"], by="ana", on=DAY)
    assert (folder / "trio.yaml").read_text() == BUCKET  # AAA was not verified either


def test_reject_records_who_and_when_and_a_status_change_clears_the_old_fields(
    folder: Path,
) -> None:
    verify_members(folder, "trio", ["AAA"], by="ana", on=DAY, evidence="10-K")
    reject_members(folder, "trio", ["AAA", "BBB"], why="not a pure play", by="bo", on=DAY)
    text = (folder / "trio.yaml").read_text()
    assert (
        "  - ticker: AAA\n    status: rejected\n    rejected_why: not a pure play\n"
        "    rejected_by: bo\n    rejected_on: 2026-12-01\n    rationale: first   # keep me\n"
    ) in text
    assert "verified_by" not in text and "evidence" not in text
    assert "  # a comment between members\n" in text and text.startswith("# why this bucket")
    # and back: verifying a rejected member removes rejected_why, _by and _on
    verify_members(folder, "trio", ["AAA", "BBB"], by="cy", on=dt.date(2026, 12, 2))
    text = (folder / "trio.yaml").read_text()
    assert "rejected" not in text
    assert text == BUCKET.replace(
        "  - ticker: AAA\n    status: proposed\n",
        "  - ticker: AAA\n    status: verified\n    verified_by: cy\n    verified_on: 2026-12-02\n",
    ).replace(
        "  - ticker: BBB\n    status: proposed\n",
        "  - ticker: BBB\n    status: verified\n    verified_by: cy\n    verified_on: 2026-12-02\n",
    )
    members = load_universe(folder).buckets["trio"].members
    assert [(m.status.value, m.verified_by) for m in members] == [
        ("verified", "cy"),
        ("verified", "cy"),
        ("proposed", None),
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            "    status: proposed\n    verified_by: ana\n",
            "a proposed member cannot have verified_by (a field of a verified member); remove it",
        ),
        (
            "    status: verified\n    verified_by: ana\n    verified_on: 2026-12-01\n"
            "    rejected_why: old\n",
            "a verified member cannot have rejected_why (a field of a rejected member); remove it",
        ),
        (
            "    status: rejected\n    rejected_why: no\n    verified_by: ana\n    evidence: x\n",
            "a rejected member cannot have verified_by, evidence (fields of a verified member); "
            "remove them",
        ),
    ],
)
def test_validate_refuses_another_statuss_fields(folder: Path, fields: str, message: str) -> None:
    (folder / "trio.yaml").write_text(
        "side: long\nmembers:\n  - ticker: AAA\n" + fields + "    rationale: r\n"
    )
    report = validate_paths([folder])
    assert len(report.errors) == 1
    assert message in str(report.errors[0])


def test_add_warns_about_an_overlap_at_once(folder: Path) -> None:
    result = add_member(folder, "trio", "ZZZ", why="also here")
    assert result.warnings == ("ZZZ is in more than one long bucket (other, trio)",)
    res = CliRunner().invoke(
        app, ["universes", "add", "other", "AAA", "--why", "x", "--universes", str(folder)]
    )
    assert res.exit_code == 0
    assert "warning: AAA is in more than one long bucket (other, trio)" in res.stderr


def test_typos_get_the_closest_names(folder: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["universes", "show", "tri", "--universes", str(folder)])
    assert res.exit_code == 2
    assert res.stderr.strip().endswith("did you mean trio?")
    res = runner.invoke(
        app, ["universes", "verify", "trio", "AAB", "--by", "ana", "--universes", str(folder)]
    )
    assert res.exit_code == 2
    assert res.stderr.strip().endswith("AAB is not a member of this bucket; did you mean AAA?")
    assert (folder / "trio.yaml").read_text() == BUCKET


def test_reject_needs_who(folder: Path) -> None:
    res = CliRunner().invoke(
        app, ["universes", "reject", "trio", "AAA", "--why", "x", "--universes", str(folder)]
    )
    assert res.exit_code == 2
    assert "--by" in res.stderr
    assert (folder / "trio.yaml").read_text() == BUCKET
