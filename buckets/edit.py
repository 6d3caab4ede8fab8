"""Editing a user's bucket files: add, verify, reject members, and nothing else changes.

Each edit loads the file with ruamel.yaml's round-trip loader (comments, key order, quoting and
indentation are kept), changes only the one member, checks the whole universe *as it would be*
after the edit, and only then replaces the file atomically (temp file + rename). An edit that
would make the universe invalid writes nothing.

Fields written by the workflow (see :class:`buckets.models.Member`):

* ``verify``: ``status: verified``, ``verified_by``, ``verified_on``, ``evidence`` (when given);
* ``reject``: ``status: rejected``, ``rejected_why``;
* ``add``: a new member ``ticker``, ``status: proposed``, ``rationale``.

Earlier fields are never removed: a member verified and later rejected keeps who verified it.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.util import load_yaml_guess_indent

from buckets.errors import UniverseError, UniverseErrors
from buckets.fileio import atomic_write_bytes
from buckets.files import read_text, read_yaml, validate_universe
from buckets.models import BUCKET_NAME_PATTERN, TICKER_PATTERN, Status


@dataclass(frozen=True)
class EditResult:
    """What an edit changed: the file and a one-line description."""

    path: Path
    summary: str


def _round_trip(text: str) -> tuple[YAML, Any]:
    _, indent, block_seq_indent = load_yaml_guess_indent(text)
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a user's long lines
    yaml.indent(mapping=indent, sequence=indent, offset=block_seq_indent)
    return yaml, yaml.load(text)


def _dump(yaml: YAML, data: Any) -> str:
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def bucket_path(directory: Path, bucket: str) -> Path:
    """The file of ``bucket`` in a universe folder (``.yaml`` or ``.yml``)."""
    if not BUCKET_NAME_PATTERN.fullmatch(bucket):
        raise UniverseError(None, None, f"{bucket!r} is not a bucket name")
    for suffix in (".yaml", ".yml"):
        path = directory / f"{bucket}{suffix}"
        if path.is_file():
            return path
    raise UniverseError(
        directory, None, f"no bucket named {bucket} (no {bucket}.yaml in {directory})"
    )


def _normalise_ticker(ticker: str) -> str:
    ticker = ticker.strip().upper()
    if not TICKER_PATTERN.fullmatch(ticker):
        raise UniverseError(None, None, f"{ticker!r} is not a ticker symbol")
    return ticker


def _members(path: Path, data: Any) -> CommentedSeq:
    members = data.get("members") if isinstance(data, CommentedMap) else None
    if not isinstance(members, CommentedSeq):
        raise UniverseError(path, "members", "no members list to edit")
    return members


def _member(members: CommentedSeq, ticker: str) -> CommentedMap | None:
    for member in members:
        if isinstance(member, CommentedMap) and str(member.get("ticker", "")).upper() == ticker:
            return member
    return None


def _find_member(path: Path, data: Any, ticker: str) -> CommentedMap:
    member = _member(_members(path, data), ticker)
    if member is None:
        raise UniverseError(path, None, f"{ticker} is not a member of this bucket")
    return member


def _set_after(member: CommentedMap, anchor: str, updates: dict[str, Any]) -> None:
    """Set keys in place when present, else insert them after ``anchor`` in the given order."""
    keys = list(member.keys())
    position = keys.index(anchor) + 1 if anchor in keys else len(keys)
    for key, value in updates.items():
        if key in member:
            member[key] = value
        else:
            member.insert(position, key, value)
            position += 1


def _edit(directory: Path, bucket: str, change: Callable[[Path, Any], str]) -> EditResult:
    path = bucket_path(directory, bucket)
    text = read_text(path)
    read_yaml(path, text)  # a file that is not valid YAML is reported by line, not edited
    yaml, data = _round_trip(text)
    summary = change(path, data)
    new_text = _dump(yaml, data)
    _, errors = validate_universe(directory, {path.name: new_text})
    if errors:
        raise UniverseErrors(errors)
    atomic_write_bytes(path, new_text.encode("utf-8"))
    return EditResult(path, summary)


def verify_member(
    directory: Path,
    bucket: str,
    ticker: str,
    *,
    by: str,
    on: dt.date | None = None,
    evidence: str | None = None,
) -> EditResult:
    """Mark ``ticker`` of ``bucket`` verified by ``by`` on ``on`` (today by default)."""
    ticker = _normalise_ticker(ticker)
    if not by.strip():
        raise UniverseError(None, "verified_by", "say who verified it (--by NAME)")
    day = on or dt.date.today()

    def change(path: Path, data: Any) -> str:
        member = _find_member(path, data, ticker)
        updates: dict[str, Any] = {
            "status": Status.verified.value,
            "verified_by": by.strip(),
            "verified_on": day,
        }
        if evidence is not None and evidence.strip():
            updates["evidence"] = evidence.strip()
        _set_after(member, "status", updates)
        return f"{bucket}: {ticker} verified by {by.strip()} on {day.isoformat()}"

    return _edit(directory, bucket, change)


def reject_member(directory: Path, bucket: str, ticker: str, *, why: str) -> EditResult:
    """Mark ``ticker`` of ``bucket`` rejected, saying why; it leaves every backtest."""
    ticker = _normalise_ticker(ticker)
    if not why.strip():
        raise UniverseError(None, "rejected_why", "say why it is rejected (--why TEXT)")

    def change(path: Path, data: Any) -> str:
        member = _find_member(path, data, ticker)
        _set_after(member, "status", {"status": Status.rejected.value, "rejected_why": why.strip()})
        return f"{bucket}: {ticker} rejected ({why.strip()})"

    return _edit(directory, bucket, change)


def add_member(directory: Path, bucket: str, ticker: str, *, why: str) -> EditResult:
    """Append ``ticker`` to ``bucket`` as a proposed member with ``why`` as its rationale."""
    ticker = _normalise_ticker(ticker)
    if not why.strip():
        raise UniverseError(None, "rationale", "say why it belongs (--why TEXT)")

    def change(path: Path, data: Any) -> str:
        members = _members(path, data)
        if _member(members, ticker) is not None:
            raise UniverseError(path, None, f"{ticker} is already a member of {bucket}")
        new = CommentedMap()
        new["ticker"] = ticker
        new["status"] = Status.proposed.value
        new["rationale"] = why.strip()
        members.append(new)
        return f"{bucket}: {ticker} added as proposed"

    return _edit(directory, bucket, change)
