"""Editing a user's bucket files: add, verify, reject members, and nothing else changes.

Each edit holds the universe folder's lock (:data:`UNIVERSE_LOCK`, the one lock every writer of
the folder takes), reads the file under it, loads it with ruamel.yaml's round-trip loader, changes
only the one member, checks the whole universe *as it would be* after the edit, and only then
replaces the file atomically (temp file + rename). An edit that would make the universe invalid
writes nothing; two edits at once are applied one after the other, each to the other's result.

What is written: the lines ruamel.yaml renders differently for the edited member are spliced into
the file's own text, indented like the lines around them, so every other line stays byte for byte
(line endings, indentation, quoting, comments); the result is checked to mean exactly the edited
document (when the splice cannot be made, ruamel.yaml's rendering of the whole file is written and
``EditResult.layout_kept`` says so). An edit may change its member only: a member that shares
fields with others through a YAML anchor and merge key (``<<: *defaults``) is not edited when the
change would reach them too (:class:`UniverseError` says which). A bucket file that is a symbolic
link stays one.

Fields written by the workflow (see :class:`buckets.models.Member`):

* ``verify``: ``status: verified``, ``verified_by``, ``verified_on``, ``evidence`` (when given);
* ``reject``: ``status: rejected``, ``rejected_why``;
* ``add``: a new member ``ticker``, ``status: proposed``, ``rationale``.

Earlier fields are never removed: a member verified and later rejected keeps who verified it.
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.util import load_yaml_guess_indent

from buckets.errors import UniverseError, UniverseErrors
from buckets.fileio import LOCK_TIMEOUT_S, LockError, atomic_write_bytes, folder_lock
from buckets.files import (
    YAML_SUFFIXES,
    decode_text,
    plain_data,
    read_bytes,
    read_yaml,
    validate_universe,
)
from buckets.models import BUCKET_NAME_PATTERN, TICKER_PATTERN, Status

UNIVERSE_LOCK = ".bucketmap.lock"
"""The lock file every writer of a universe folder holds while it reads, checks and writes."""


@dataclass(frozen=True)
class EditResult:
    """What an edit changed: the file, a one-line description, and whether the file's own layout
    was kept around the edit (False: ruamel.yaml re-rendered the whole file, same meaning)."""

    path: Path
    summary: str
    layout_kept: bool = True


@contextmanager
def universe_lock(directory: Path) -> Iterator[None]:
    """Hold the universe folder's lock; :class:`UniverseError` when it cannot be had (another
    writer for over a minute, or a folder this process may not write)."""
    try:
        with folder_lock(directory, UNIVERSE_LOCK):
            yield
    except LockError as exc:
        if exc.timed_out:
            raise UniverseError(
                directory,
                None,
                f"another bucketmap process has held {UNIVERSE_LOCK} for over "
                f"{LOCK_TIMEOUT_S:.0f} s; wait for it, or delete the file if none runs",
            ) from None
        raise UniverseError(
            directory, None, f"cannot lock the folder for editing ({exc.strerror or exc})"
        ) from None


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
    """The file of ``bucket`` in a universe folder (``.yaml`` or ``.yml``, any case)."""
    if not BUCKET_NAME_PATTERN.fullmatch(bucket):
        raise UniverseError(None, None, f"{bucket!r} is not a bucket name")
    for suffix in YAML_SUFFIXES:
        path = directory / f"{bucket}{suffix}"
        if path.is_file():
            return path
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.stem == bucket and path.suffix.lower() in YAML_SUFFIXES and path.is_file():
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
    """Set keys in place when present, else insert them after ``anchor`` in the given order. Only
    the member's own keys count: a key it takes through a merge key (``<<: *name``) is written
    into its own mapping, never into the shared one."""
    keys = [key for key, _ in member.non_merged_items()]
    position = keys.index(anchor) + 1 if anchor in keys else len(keys)
    merges = bool(getattr(member, "merge", None))
    for key, value in updates.items():
        if key in keys or merges:  # (ruamel places inserts wrongly in a merging mapping: append)
            member[key] = value
        else:
            member.insert(position, key, value)
            position += 1


# --- keeping the file's own text around the edit -------------------------------------------------

_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_DASH = re.compile(r"^( *- +)(?=\S)")


def _split(text: str) -> tuple[list[str], list[str]]:
    """Lines of ``text`` without their endings, and each line's ending (``\\r\\n``, ``\\n`` or
    ``""`` for a last line without one)."""
    bodies, endings = [], []
    for line in _LINE.findall(text):
        body = line.rstrip("\n")
        ending = line[len(body) :]
        if body.endswith("\r") and ending:
            body, ending = body[:-1], "\r\n"
        bodies.append(body)
        endings.append(ending)
    return bodies, endings


def _lead(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(line: str) -> int:
    """Column where a line's content starts: after its indentation and any ``- `` item marks."""
    dash = _DASH.match(line)
    return len(dash.group(1)) if dash else _lead(line)


def _shift(line: str, by: int) -> str | None:
    if by >= 0:
        return " " * by + line if line else line
    return line[-by:] if line[:-by].strip(" ") == "" else None


def _normal(line: str) -> str:
    return " ".join(line.split())


def _splice(original: str, before: str, after: str) -> str | None:
    """``original`` with the changes that turn ruamel's rendering ``before`` into ``after``, the
    changed lines indented like the original's; every line the change does not touch is kept
    with its own ending. None when the change cannot be placed in the original's lines."""
    o, endings = _split(original)
    a = before.split("\n")[:-1]
    b = after.split("\n")[:-1]
    if o == a:
        a_to_o = {i: i for i in range(len(a))}
    else:
        matcher = difflib.SequenceMatcher(
            None, [_normal(x) for x in o], [_normal(x) for x in a], autojunk=False
        )
        a_to_o = {j + k: i + k for i, j, size in matcher.get_matching_blocks() for k in range(size)}
    newline = "\r\n" if 2 * original.count("\r\n") > original.count("\n") else "\n"

    def dash_delta(index: int, lead: int) -> int | None:
        """Indentation change of the nearest item line before ``index`` at ``lead`` in ``a``."""
        for k in range(index - 1, -1, -1):
            if k in a_to_o and _DASH.match(a[k]) and _lead(a[k]) == lead:
                return _lead(o[a_to_o[k]]) - _lead(a[k])
        return None

    edits: list[tuple[int, int, list[str]]] = []  # replace o[start:end] with lines
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if i1 < i2:  # replace or delete: the lines must sit together in the original
            spots = [a_to_o.get(i, -1) for i in range(i1, i2)]
            start = spots[0]
            if start < 0 or spots != list(range(start, start + i2 - i1)):
                return None
            end = start + (i2 - i1)
            delta = _content(o[start]) - _content(a[i1])
        elif i1 < len(a) and i1 in a_to_o:  # insert before the next line
            start = end = a_to_o[i1]
            delta = _content(o[a_to_o[i1 - 1]]) - _content(a[i1 - 1]) if i1 - 1 in a_to_o else 0
        elif i1 == len(a):  # append at the end
            start = end = len(o)
            delta = _content(o[a_to_o[i1 - 1]]) - _content(a[i1 - 1]) if i1 - 1 in a_to_o else 0
        else:
            return None
        lines: list[str] = []
        for offset, line in enumerate(b[j1:j2]):
            paired = i1 + offset < i2 and _DASH.match(a[i1 + offset]) and _DASH.match(line)
            if paired and (mark := _DASH.match(o[start + offset])):
                # a changed item line keeps the original's "  - " and takes the new content
                lines.append(mark.group(1) + line[_content(line) :])
                continue
            if _DASH.match(line):
                found = dash_delta(i1, _lead(line))
                delta = found if found is not None else delta
            shifted = _shift(line, delta)
            if shifted is None:
                return None
            lines.append(shifted)
        edits.append((start, end, lines))

    out: list[list[str]] = []  # [body, ending] per line
    position = 0
    for start, end, lines in edits:
        out += [[o[k], endings[k]] for k in range(position, start)]
        out += [[line, newline] for line in lines]
        position = end
    out += [[o[k], endings[k]] for k in range(position, len(o))]
    for pair in out[:-1]:  # an original last line without an ending that is no longer last
        pair[1] = pair[1] or newline
    return "".join(body + ending for body, ending in out)


# --- the edit ------------------------------------------------------------------------------------


def _ticker_of(member: object) -> str:
    return str(member.get("ticker", "")).strip().upper() if isinstance(member, dict) else ""


def _check_only_member_changed(path: Path, old: Any, new: Any, ticker: str, *, added: bool) -> None:
    """Refuse an edit whose document differs from the old one anywhere but in ``ticker``'s
    member (or, for ``added``, anywhere but a member appended at the end)."""
    old_rest = {k: v for k, v in old.items() if k != "members"}
    new_rest = {k: v for k, v in new.items() if k != "members"}
    old_members: list[Any] = old.get("members") or []
    new_members: list[Any] = new.get("members") or []
    expected = len(old_members) + (1 if added else 0)
    reached = [
        _ticker_of(b) or f"members[{i}]"
        for i, (a, b) in enumerate(zip(old_members, new_members, strict=False))
        if a != b and (added or _ticker_of(b) != ticker)
    ]
    if old_rest != new_rest or len(new_members) != expected:
        reached.append("keys outside members")
    if reached:
        raise UniverseError(
            path,
            None,
            f"editing {ticker} would also change {', '.join(reached)}: they share its fields "
            "through a YAML anchor (&name) and alias or merge key (<<: *name); write those "
            "fields out in each member, then edit again",
        )


def _edit(
    directory: Path,
    bucket: str,
    ticker: str,
    change: Callable[[Path, Any], str],
    *,
    added: bool = False,
) -> EditResult:
    path = bucket_path(directory, bucket)
    with universe_lock(directory):
        raw = read_bytes(path)  # under the lock: another edit's result, never what it replaced
        text = decode_text(path, raw)
        lf_text = text.replace("\r\n", "\n")
        old = read_yaml(path, lf_text)  # not valid YAML: reported by line, not edited
        yaml, data = _round_trip(lf_text)
        before = _dump(yaml, data)
        summary = change(path, data)
        after = _dump(yaml, data)
        meaning = plain_data(read_yaml(path, after))
        _check_only_member_changed(path, plain_data(old), meaning, ticker, added=added)
        spliced = _splice(text, before, after)
        if spliced is not None:
            try:
                kept = plain_data(read_yaml(path, spliced.replace("\r\n", "\n"))) == meaning
            except UniverseError:
                kept = False
            spliced = spliced if kept else None
        new_text = spliced if spliced is not None else _line_endings_like(text, after)
        _, errors = validate_universe(directory, {path.name: new_text.replace("\r\n", "\n")})
        if errors:
            raise UniverseErrors(errors)
        bom = codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b""
        atomic_write_bytes(path, bom + new_text.encode("utf-8"))
    return EditResult(path, summary, layout_kept=spliced is not None)


def _line_endings_like(original: str, text: str) -> str:
    """``text`` (LF) with the original's line endings when those were Windows' (CRLF)."""
    crlf = 2 * original.count("\r\n") > original.count("\n")
    return text.replace("\n", "\r\n") if crlf else text


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

    return _edit(directory, bucket, ticker, change)


def reject_member(directory: Path, bucket: str, ticker: str, *, why: str) -> EditResult:
    """Mark ``ticker`` of ``bucket`` rejected, saying why; it leaves every backtest."""
    ticker = _normalise_ticker(ticker)
    if not why.strip():
        raise UniverseError(None, "rejected_why", "say why it is rejected (--why TEXT)")

    def change(path: Path, data: Any) -> str:
        member = _find_member(path, data, ticker)
        _set_after(member, "status", {"status": Status.rejected.value, "rejected_why": why.strip()})
        return f"{bucket}: {ticker} rejected ({why.strip()})"

    return _edit(directory, bucket, ticker, change)


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

    return _edit(directory, bucket, ticker, change, added=True)
