"""Editing bucket files: only the changed member changes; a failed or refused edit writes nothing."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from buckets.edit import (
    add_member,
    reject_member,
    reject_members,
    verify_member,
    verify_members,
)
from buckets.errors import UniverseError, UniverseErrors
from buckets.files import load_universe
from buckets.models import Status

COMMENTED = """\
# Header comment: why this bucket exists.
side: long   # inline comment on side
description: "quoted, with: colon"
members:
  # networking
  - ticker: AAA
    status: proposed
    rationale: first one   # trailing note
  - ticker: BBB
    status: proposed
    rationale: second one
  # storage
  - ticker: CCC
    rationale: "no status key, so proposed by default"
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "duo.yaml").write_text(COMMENTED)
    (tmp_path / "benchmarks.yaml").write_text("benchmarks:\n  - SPY\n")
    return tmp_path


def test_verify_twice_keeps_everything_outside_the_member_byte_for_byte(folder: Path) -> None:
    verify_member(folder, "duo", "bbb", by="ana", on=dt.date(2026, 11, 20), evidence="10-K p.4")
    verify_member(folder, "duo", "BBB", by="bo", on=dt.date(2026, 11, 23))
    after = (folder / "duo.yaml").read_text()
    expected = COMMENTED.replace(
        "  - ticker: BBB\n    status: proposed\n",
        "  - ticker: BBB\n    status: verified\n    verified_by: bo\n"
        "    verified_on: 2026-11-23\n    evidence: 10-K p.4\n",
    )
    assert after == expected
    member = load_universe(folder).buckets["duo"].members[1]
    assert (member.status, member.verified_by, member.verified_on) == (
        Status.verified,
        "bo",
        dt.date(2026, 11, 23),
    )


def test_verify_a_member_without_status_key_inserts_it_at_the_end(folder: Path) -> None:
    verify_member(folder, "duo", "CCC", by="ana", on=dt.date(2026, 1, 2))
    assert (
        (folder / "duo.yaml")
        .read_text()
        .endswith(
            '  - ticker: CCC\n    rationale: "no status key, so proposed by default"\n'
            "    status: verified\n    verified_by: ana\n    verified_on: 2026-01-02\n"
        )
    )


def test_reject_and_add(folder: Path) -> None:
    reject_member(folder, "duo", "AAA", why="not a pure play", by="bo", on=dt.date(2026, 3, 4))
    add_member(folder, "duo", "ddd", why="new idea")
    text = (folder / "duo.yaml").read_text()
    assert (
        "  - ticker: AAA\n    status: rejected\n    rejected_why: not a pure play\n"
        "    rejected_by: bo\n    rejected_on: 2026-03-04\n" in text
    )
    assert text.endswith("  - ticker: DDD\n    status: proposed\n    rationale: new idea\n")
    assert text.startswith("# Header comment: why this bucket exists.\nside: long   # inline")
    bucket = load_universe(folder).buckets["duo"]
    assert bucket.tickers() == ["BBB", "CCC", "DDD"]  # rejected members never enter a run


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda f: verify_member(f, "duo", "ZZZ", by="ana"),
            "duo.yaml: ZZZ is not a member of this bucket",
        ),
        (
            lambda f: verify_member(f, "nope", "AAA", by="ana"),
            "no bucket named nope (no nope.yaml in",
        ),
        (
            lambda f: verify_member(f, "duo", "AAA", by="  "),
            "verified_by: say who verified it (--by NAME)",
        ),
        (
            lambda f: reject_member(f, "duo", "AAA", why="", by="ana"),
            "rejected_why: say why it is rejected (--why TEXT)",
        ),
        (
            lambda f: reject_member(f, "duo", "AAA", why="x", by=" "),
            "rejected_by: say who rejected it (--by NAME)",
        ),
        (
            lambda f: add_member(f, "duo", "AAA", why="x"),
            "duo.yaml: AAA is already a member of duo",
        ),
        (lambda f: add_member(f, "duo", "A/B", why="x"), "'A/B' is not a ticker symbol"),
    ],
)
def test_refused_edits_write_nothing(folder: Path, call: object, message: str) -> None:
    before = (folder / "duo.yaml").read_bytes()
    with pytest.raises(UniverseError) as err:
        call(folder)  # type: ignore[operator]
    assert message in str(err.value)
    assert (folder / "duo.yaml").read_bytes() == before


def test_an_edit_that_breaks_the_universe_writes_nothing(folder: Path) -> None:
    (folder / "shorts.yaml").write_text(
        "side: avoid\nmembers:\n  - ticker: EEE\n    rationale: r\n"
    )
    before = (folder / "duo.yaml").read_bytes()
    with pytest.raises(UniverseErrors) as err:
        add_member(folder, "duo", "EEE", why="contradiction")
    assert "EEE is in long bucket duo and in avoid bucket shorts" in str(err.value)
    assert (folder / "duo.yaml").read_bytes() == before


def test_a_file_that_is_not_yaml_is_reported_not_edited(folder: Path) -> None:
    (folder / "duo.yaml").write_text("side: long\nmembers:\n  - ticker: [AAA\n")
    with pytest.raises(UniverseError, match=r"duo.yaml:4: not valid YAML"):
        verify_member(folder, "duo", "AAA", by="ana")


def test_interrupted_write_leaves_the_old_file_intact(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (folder / "duo.yaml").read_bytes()

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        verify_member(folder, "duo", "AAA", by="ana")
    assert (folder / "duo.yaml").read_bytes() == before
    # no temp file left; the folder lock (held while editing) stays, empty
    assert sorted(p.name for p in folder.iterdir()) == [
        ".bucketmap.lock",
        "benchmarks.yaml",
        "duo.yaml",
    ]


def test_an_edit_keeps_windows_line_endings_and_every_untouched_line(folder: Path) -> None:
    # a block scalar and a member indented unlike the rest: ruamel.yaml alone would re-indent both
    text = (
        "side: long\r\n"
        "description: |\r\n"
        "      indented six\r\n"
        "members:\r\n"
        "  - ticker: AAA\r\n"
        "    rationale: a\r\n"
        "  -   ticker: BBB\r\n"
        "      rationale:   b   # spaced\r\n"
    )
    (folder / "duo.yaml").write_bytes(text.encode())
    result = verify_member(folder, "duo", "BBB", by="ana", on=dt.date(2026, 1, 2))
    add_member(folder, "duo", "CCC", why="third")
    assert result.layout_kept
    assert (folder / "duo.yaml").read_bytes().decode() == text + (
        "      status: verified\r\n"
        "      verified_by: ana\r\n"
        "      verified_on: 2026-01-02\r\n"
        "  - ticker: CCC\r\n"
        "    status: proposed\r\n"
        "    rationale: third\r\n"
    )
    bucket = load_universe(folder).buckets["duo"]
    assert [(m.ticker, m.status.value) for m in bucket.members] == [
        ("AAA", "proposed"),
        ("BBB", "verified"),
        ("CCC", "proposed"),
    ]
    assert bucket.description == "indented six"


def test_an_edit_keeps_a_symlinked_bucket_file_a_link(folder: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "duo.yaml").write_text(COMMENTED)
    (folder / "duo.yaml").unlink()
    (folder / "duo.yaml").symlink_to(shared / "duo.yaml")
    verify_member(folder, "duo", "AAA", by="ana", on=dt.date(2026, 1, 2))
    assert (folder / "duo.yaml").is_symlink()
    assert "verified_by: ana" in (shared / "duo.yaml").read_text()
    assert sorted(p.name for p in shared.iterdir()) == ["duo.yaml"]  # no temp file left


MERGED = """\
side: long
members:
  - &base
    ticker: AAA
    status: proposed
    rationale: shared reason
  - <<: *base
    ticker: BBB
  - <<: *base
    ticker: CCC
"""


def test_an_edit_never_reaches_members_that_share_fields_through_a_merge_key(
    folder: Path,
) -> None:
    (folder / "duo.yaml").write_text(MERGED)
    # AAA's mapping is the one BBB and CCC merge: verifying it would verify them too
    with pytest.raises(UniverseError) as err:
        verify_member(folder, "duo", "AAA", by="ana", on=dt.date(2026, 1, 2))
    assert str(err.value) == (
        f"{folder / 'duo.yaml'}: editing AAA would also change BBB, CCC: they share its fields "
        "through a YAML anchor (&name) and alias or merge key (<<: *name); write those fields "
        "out in each member, then edit again"
    )
    assert (folder / "duo.yaml").read_text() == MERGED
    # BBB merges the fields: its own mapping gets the change, AAA and CCC keep theirs
    reject_member(folder, "duo", "BBB", why="too small", by="bo", on=dt.date(2026, 1, 3))
    statuses = [(m.ticker, m.status.value) for m in load_universe(folder).buckets["duo"].members]
    assert statuses == [("AAA", "proposed"), ("BBB", "rejected"), ("CCC", "proposed")]
    assert (folder / "duo.yaml").read_text() == MERGED.replace(
        "    ticker: BBB\n",
        "    ticker: BBB\n    status: rejected\n    rejected_why: too small\n"
        "    rejected_by: bo\n    rejected_on: 2026-01-03\n",
    )


def test_an_edit_that_cannot_be_fitted_into_the_layout_says_so(folder: Path) -> None:
    # the status value on a line of its own: ruamel.yaml writes it on the key's line, so the
    # changed line has no counterpart in the file; the whole file is re-rendered, same meaning
    (folder / "duo.yaml").write_text(
        "side: long\nmembers:\n  - ticker: AAA\n    status:\n      proposed\n    rationale: a\n"
    )
    result = verify_member(folder, "duo", "AAA", by="ana", on=dt.date(2026, 1, 2))
    assert not result.layout_kept
    member = load_universe(folder).buckets["duo"].members[0]
    assert (member.status, member.verified_by, member.rationale) == (Status.verified, "ana", "a")


# --- several tickers per edit; status changes; did-you-mean; overlaps ----------------------------


def test_verify_and_reject_several_tickers_in_one_write_each(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import buckets.edit

    writes: list[Path] = []
    real_write = buckets.edit.atomic_write_bytes

    def counting(path: Path, data: bytes) -> None:
        writes.append(path)
        real_write(path, data)

    monkeypatch.setattr(buckets.edit, "atomic_write_bytes", counting)
    result = verify_members(folder, "duo", ["aaa", "CCC", "AAA"], by="ana", on=dt.date(2026, 1, 2))
    assert writes == [folder / "duo.yaml"]
    assert result.summary == "duo: AAA, CCC verified by ana on 2026-01-02"
    verified = "    verified_by: ana\n    verified_on: 2026-01-02\n"  # no YAML anchor for the date
    after_verify = COMMENTED.replace(
        "  - ticker: AAA\n    status: proposed\n",
        f"  - ticker: AAA\n    status: verified\n{verified}",
    ).replace(
        '"no status key, so proposed by default"\n',
        f'"no status key, so proposed by default"\n    status: verified\n{verified}',
    )
    assert (folder / "duo.yaml").read_text() == after_verify

    result = reject_members(
        folder, "duo", ["BBB", "ccc"], why="too small", by="bo", on=dt.date(2026, 1, 3)
    )
    assert len(writes) == 2
    assert result.summary == "duo: BBB, CCC rejected by bo on 2026-01-03 (too small)"
    rejected = "    rejected_why: too small\n    rejected_by: bo\n    rejected_on: 2026-01-03\n"
    # BBB gains the rejected fields; CCC's verified ones are replaced by them (its status line
    # stays where it was, after its rationale)
    after_reject = after_verify.replace(
        "  - ticker: BBB\n    status: proposed\n",
        f"  - ticker: BBB\n    status: rejected\n{rejected}",
    ).replace(
        f'"no status key, so proposed by default"\n    status: verified\n{verified}',
        f'"no status key, so proposed by default"\n    status: rejected\n{rejected}',
    )
    assert (folder / "duo.yaml").read_text() == after_reject
    members = load_universe(folder).buckets["duo"].members
    assert [(m.ticker, m.status.value, m.verified_by, m.rejected_by) for m in members] == [
        ("AAA", "verified", "ana", None),
        ("BBB", "rejected", None, "bo"),
        ("CCC", "rejected", None, "bo"),
    ]


def test_several_tickers_are_all_or_nothing_and_each_missing_one_is_named(folder: Path) -> None:
    before = (folder / "duo.yaml").read_bytes()
    with pytest.raises(UniverseError) as err:
        verify_members(folder, "duo", ["AAA", "BBD", "ZZZ"], by="ana")
    assert str(err.value) == (
        f"{folder / 'duo.yaml'}: BBD, ZZZ are not members of this bucket; did you mean BBB for BBD?"
    )
    with pytest.raises(UniverseError) as err:
        reject_members(folder, "duo", ["CCC", "aab"], why="x", by="bo")
    assert str(err.value) == (
        f"{folder / 'duo.yaml'}: AAB is not a member of this bucket; did you mean AAA?"
    )
    with pytest.raises(UniverseError, match="name at least one ticker"):
        verify_members(folder, "duo", [], by="ana")
    assert (folder / "duo.yaml").read_bytes() == before


def test_reject_records_who_and_when(folder: Path) -> None:
    result = reject_member(folder, "duo", "bbb", why="not a pure play", by=" bo ")
    today = dt.date.today()
    assert result.summary == f"duo: BBB rejected by bo on {today.isoformat()} (not a pure play)"
    assert (folder / "duo.yaml").read_text() == COMMENTED.replace(
        "  - ticker: BBB\n    status: proposed\n",
        "  - ticker: BBB\n    status: rejected\n    rejected_why: not a pure play\n"
        f"    rejected_by: bo\n    rejected_on: {today.isoformat()}\n",
    )
    member = load_universe(folder).buckets["duo"].members[1]
    assert (member.status, member.rejected_by, member.rejected_on) == (Status.rejected, "bo", today)


STATUSES = """\
# two members that change status
side: long
members:
  - ticker: AAA
    status: rejected
    rationale: a
    rejected_why: too small   # said twice
    # the numbers: 10-K p.4
    rejected_by: bo
    rejected_on: 2026-01-05
  # storage

  - ticker: BBB
    status: verified
    verified_by: ana   # the analyst
    verified_on: 2026-01-02
    rationale: b
    evidence: |
      10-K p.4
    # after the block
  # end
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_status_change_removes_the_old_status_fields_and_keeps_the_comments(
    folder: Path, newline: str
) -> None:
    (folder / "duo.yaml").write_bytes(STATUSES.replace("\n", newline).encode())
    verify_member(folder, "duo", "AAA", by="cy", on=dt.date(2026, 2, 1))
    reject_member(folder, "duo", "BBB", why="double counted", by="cy", on=dt.date(2026, 2, 2))
    # removed: each old field's line with its end-of-line comment; the comment lines below a
    # removed field stay where they were, every other line byte for byte
    expected = """\
# two members that change status
side: long
members:
  - ticker: AAA
    status: verified
    verified_by: cy
    verified_on: 2026-02-01
    rationale: a
    # the numbers: 10-K p.4
  # storage

  - ticker: BBB
    status: rejected
    rejected_why: double counted
    rejected_by: cy
    rejected_on: 2026-02-02
    rationale: b
    # after the block
  # end
"""
    assert (folder / "duo.yaml").read_bytes().decode() == expected.replace("\n", newline)
    aaa, bbb = load_universe(folder).buckets["duo"].members
    assert (aaa.rejected_why, aaa.rejected_by, aaa.rejected_on) == (None, None, None)
    assert (bbb.verified_by, bbb.verified_on, bbb.evidence) == (None, None, None)


def test_fields_inserted_after_a_key_go_above_the_comment_lines_below_it(folder: Path) -> None:
    text = (
        "side: long\nmembers:\n  - ticker: AAA\n    rationale: a\n    status: proposed\n"
        "  # storage\n  - ticker: BBB\n    rationale: b\n"
    )
    (folder / "duo.yaml").write_text(text)
    verify_member(folder, "duo", "AAA", by="ana", on=dt.date(2026, 1, 2))
    assert (folder / "duo.yaml").read_text() == text.replace(
        "    status: proposed\n",
        "    status: verified\n    verified_by: ana\n    verified_on: 2026-01-02\n",
    )


@pytest.mark.parametrize(
    ("bucket", "message"),
    [
        ("du", "no bucket named du (no du.yaml in {folder}); did you mean duo?"),
        ("Duo", "'Duo' is not a bucket name; did you mean duo?"),
        ("xyz", "no bucket named xyz (no xyz.yaml in {folder})"),
    ],
)
def test_an_unknown_bucket_names_the_close_ones(folder: Path, bucket: str, message: str) -> None:
    with pytest.raises(UniverseError) as err:
        verify_member(folder, bucket, "AAA", by="ana")
    assert str(err.value).endswith(message.format(folder=folder))
    assert str(err.value).count(message.format(folder=folder)) == 1


def test_add_says_when_the_ticker_is_now_in_another_long_bucket(folder: Path) -> None:
    (folder / "solo.yaml").write_text("side: long\nmembers:\n  - ticker: ZZZ\n    rationale: r\n")
    (folder / "cover.yaml").write_text("side: hedge\nmembers:\n  - ticker: YYY\n    rationale: r\n")
    result = add_member(folder, "solo", "aaa", why="also here")
    # the run's own warning (Universe.warnings), at once
    assert result.warnings == ("AAA is in more than one long bucket (duo, solo)",)
    assert result.warnings[0] in load_universe(folder).warnings()
    assert add_member(folder, "cover", "AAA", why="a hedge is no overlap").warnings == ()
    assert add_member(folder, "solo", "NEW", why="only here").warnings == ()
