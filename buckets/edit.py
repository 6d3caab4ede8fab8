"""Editing a user's bucket files: add, verify, reject members, and nothing else changes.

Each edit holds the universe folder's lock (:data:`UNIVERSE_LOCK`, the one lock every writer of
the folder takes), reads the file under it, loads it with ruamel.yaml's round-trip loader, changes
only the members it edits, checks the whole universe *as it would be* after the edit, and only then
replaces the file atomically (temp file + rename). An edit that would make the universe invalid
writes nothing; two edits at once are applied one after the other, each to the other's result.

What is written: the lines ruamel.yaml renders differently for the edited members are spliced
into the file's own text, indented like the lines around them, so every other line stays byte for
byte (line endings, indentation, quoting, comments: a comment line below a removed field stays
where it was; an end-of-line comment on a removed field goes with it); the result is checked to
mean exactly the edited document (when the splice cannot be made, ruamel.yaml's rendering of the
whole file is written and ``EditResult.layout_kept`` says so).

``verify`` and ``reject`` take several tickers of one bucket and change them all in one write, or
none (a ticker that is not a member is named, with the close member tickers). An edit may change
its members only: a member that shares fields with others through a YAML anchor and merge key
(``<<: *defaults``) is not edited when the change would reach them too (:class:`UniverseError`
says which). A bucket file that is a symbolic link stays one.

Fields written by the workflow (see :class:`buckets.models.Member`):

* ``verify``: ``status: verified``, ``verified_by``, ``verified_on``, ``evidence`` (when given);
* ``reject``: ``status: rejected``, ``rejected_why``, ``rejected_by``, ``rejected_on``;
* ``add``: a new member ``ticker``, ``status: proposed``, ``rationale``.

A status change removes the old status's fields (:func:`buckets.models.status_fields_other_than`):
verifying a rejected member removes ``rejected_why``, ``rejected_by`` and ``rejected_on``; rejecting
a verified one removes ``verified_by``, ``verified_on`` and ``evidence``. (Verifying a verified
member again replaces who and when, and keeps its evidence unless new evidence is given.)
"""

from __future__ import annotations

import codecs
import copy
import datetime as dt
import difflib
import io
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

from buckets.errors import UniverseError, UniverseErrors, close_names, did_you_mean
from buckets.fileio import LOCK_TIMEOUT_S, LockError, atomic_write_bytes, folder_lock
from buckets.files import (
    YAML_SUFFIXES,
    bucket_files,
    decode_text,
    plain_data,
    read_bytes,
    read_yaml,
    validate_universe,
)
from buckets.models import (
    BUCKET_NAME_PATTERN,
    TICKER_PATTERN,
    Status,
    status_fields_other_than,
)

UNIVERSE_LOCK = ".bucketmap.lock"
"""The lock file every writer of a universe folder holds while it reads, checks and writes."""


@dataclass(frozen=True)
class EditResult:
    """What an edit changed: the file, a one-line description, whether the file's own layout was
    kept around the edit (False: ruamel.yaml re-rendered the whole file, same meaning), and what
    the edit made worth saying though allowed (an added ticker now in two long buckets)."""

    path: Path
    summary: str
    layout_kept: bool = True
    warnings: tuple[str, ...] = ()


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


def _bucket_names(directory: Path) -> list[str]:
    try:
        return [p.stem for p in bucket_files(directory)] if directory.is_dir() else []
    except OSError:
        return []


def bucket_path(directory: Path, bucket: str) -> Path:
    """The file of ``bucket`` in a universe folder (``.yaml`` or ``.yml``, any case); when there is
    none, the error names the folder's close bucket names (``did you mean pipes?``)."""
    if not BUCKET_NAME_PATTERN.fullmatch(bucket):
        hint = did_you_mean(bucket.lower(), _bucket_names(directory))
        raise UniverseError(None, None, f"{bucket!r} is not a bucket name{hint}")
    for suffix in YAML_SUFFIXES:
        path = directory / f"{bucket}{suffix}"
        if path.is_file():
            return path
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.stem == bucket and path.suffix.lower() in YAML_SUFFIXES and path.is_file():
                return path
    hint = did_you_mean(bucket, _bucket_names(directory))
    raise UniverseError(
        directory, None, f"no bucket named {bucket} (no {bucket}.yaml in {directory}){hint}"
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


def _normalise_tickers(tickers: Sequence[str]) -> list[str]:
    """Upper-cased tickers, each once, in the order given; at least one."""
    out = list(dict.fromkeys(_normalise_ticker(t) for t in tickers))
    if not out:
        raise UniverseError(None, None, "name at least one ticker")
    return out


def _find_members(path: Path, data: Any, tickers: Sequence[str]) -> list[CommentedMap]:
    """The member of each ticker; UniverseError naming every ticker that is not a member, with
    the close member tickers (``did you mean ANET?``)."""
    members = _members(path, data)
    found = {t: _member(members, t) for t in tickers}
    missing = [t for t, member in found.items() if member is None]
    if missing:
        names = [_ticker_of(m) for m in members if _ticker_of(m)]
        close = {t: close_names(t, names) for t in missing}
        if len(missing) == 1:
            (ticker,) = missing
            message = f"{ticker} is not a member of this bucket"
            if close[ticker]:
                message += f"; did you mean {' or '.join(close[ticker])}?"
        else:
            message = f"{', '.join(missing)} are not members of this bucket"
            hints = [f"{' or '.join(m)} for {t}" for t, m in close.items() if m]
            if hints:
                message += f"; did you mean {', '.join(hints)}?"
        raise UniverseError(path, None, message)
    return [m for m in found.values() if m is not None]


# --- changing a member's keys, its comments kept ---------------------------------------------
#
# ruamel.yaml keeps the comment lines (and blank lines) below a key's line in that key's comment
# token, after the key's own end-of-line comment: ``rejected_why: x  # eol\n  # storage\n``. So a
# key removed, or keys inserted after it, would take the lines below it away or put the new keys
# below them; these helpers move those lines to the key that is now above them.


def _own_keys(member: CommentedMap) -> list[Any]:
    return [key for key, _ in member.non_merged_items()]


def _is_block(member: CommentedMap, key: Any) -> bool:
    """True when ``key``'s value is a block scalar (``|``, ``>``): its comment token holds only
    lines below the block, no end-of-line comment."""
    value = dict(member.non_merged_items()).get(key)
    return isinstance(value, LiteralScalarString | FoldedScalarString)


def _take_lines_below(member: CommentedMap, key: Any) -> str:
    """Remove and return the comment and blank lines below ``key``'s line (its end-of-line comment
    stays)."""
    entry = member.ca.items.get(key)
    token = entry[2] if entry is not None and len(entry) > 2 else None
    if not isinstance(token, CommentToken):
        return ""
    if _is_block(member, key):  # the token's first line starts at its column
        indent = " " * (token.column or 0) if token.value.startswith("#") else ""
        eol, below = "", indent + token.value
    else:
        eol, _, below = token.value.partition("\n")
    if eol:
        token.value = eol + "\n"
    else:
        entry[2] = None
        if all(part is None for part in entry):
            del member.ca.items[key]
    return below


def _put_lines_below(member: CommentedMap, key: Any, lines: str) -> None:
    """Append comment and blank lines below ``key``'s line (after those already there)."""
    if not lines:
        return
    entry = member.ca.items.setdefault(key, [None, None, None, None])
    entry.extend([None] * (3 - len(entry)))
    token = entry[2]
    if isinstance(token, CommentToken):
        value = token.value
        token.value = (value if value.endswith("\n") else value + "\n") + lines
    elif _is_block(member, key):  # the first line starts at the token's column
        first = lines.lstrip(" ")
        entry[2] = CommentToken(first, CommentMark(len(lines) - len(first)))
    else:
        entry[2] = CommentToken("\n" + lines, CommentMark(0))


def _set_after(member: CommentedMap, anchor: str, updates: dict[str, Any]) -> None:
    """Set keys in place when present, else insert them after ``anchor`` in the given order. Only
    the member's own keys count: a key it takes through a merge key (``<<: *name``) is written
    into its own mapping, never into the shared one. Each value is the member's own copy (one
    object in two members would be written as a YAML anchor and alias)."""
    keys = _own_keys(member)
    position = keys.index(anchor) + 1 if anchor in keys else len(keys)
    merges = bool(getattr(member, "merge", None))
    inserted: list[str] = []
    for key, value in updates.items():
        if key in keys or merges:  # (ruamel places inserts wrongly in a merging mapping: append)
            if key not in keys:
                inserted.append(key)
            member[key] = copy.copy(value)
        else:
            member.insert(position, key, copy.copy(value))
            position += 1
            inserted.append(key)
    if inserted:  # the lines below the key the new ones follow stay below the new ones
        now = _own_keys(member)
        first = now.index(inserted[0])
        if first > 0:
            _put_lines_below(member, inserted[-1], _take_lines_below(member, now[first - 1]))


def _remove(member: CommentedMap, fields: Iterable[str]) -> None:
    """Remove the member's own ``fields`` (with their end-of-line comments); the comment lines
    below a removed field move up to the key above it."""
    for field in fields:
        keys = _own_keys(member)
        if field not in keys:
            continue
        below = _take_lines_below(member, field)
        member.ca.items.pop(field, None)
        at = keys.index(field)
        del member[field]
        rest = [k for k in keys if k != field]
        if below and rest:
            _put_lines_below(member, rest[at - 1] if at > 0 else rest[0], below)


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


def _check_only_member_changed(
    path: Path, old: Any, new: Any, tickers: Collection[str], *, added: bool
) -> None:
    """Refuse an edit whose document differs from the old one anywhere but in the members of
    ``tickers`` (or, for ``added``, anywhere but members appended at the end)."""
    old_rest = {k: v for k, v in old.items() if k != "members"}
    new_rest = {k: v for k, v in new.items() if k != "members"}
    old_members: list[Any] = old.get("members") or []
    new_members: list[Any] = new.get("members") or []
    expected = len(old_members) + (len(tickers) if added else 0)
    reached = [
        _ticker_of(b) or f"members[{i}]"
        for i, (a, b) in enumerate(zip(old_members, new_members, strict=False))
        if a != b and (added or _ticker_of(b) not in tickers)
    ]
    if old_rest != new_rest or len(new_members) != expected:
        reached.append("keys outside members")
    if reached:
        raise UniverseError(
            path,
            None,
            f"editing {', '.join(tickers)} would also change {', '.join(reached)}: they share "
            "its fields through a YAML anchor (&name) and alias or merge key (<<: *name); write "
            "those fields out in each member, then edit again",
        )


def _edit(
    directory: Path,
    bucket: str,
    tickers: Sequence[str],
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
        _check_only_member_changed(path, plain_data(old), meaning, tickers, added=added)
        spliced = _splice(text, before, after)
        if spliced is not None:
            try:
                kept = plain_data(read_yaml(path, spliced.replace("\r\n", "\n"))) == meaning
            except UniverseError:
                kept = False
            spliced = spliced if kept else None
        new_text = spliced if spliced is not None else _line_endings_like(text, after)
        universe, errors = validate_universe(directory, {path.name: new_text.replace("\r\n", "\n")})
        if errors:
            raise UniverseErrors(errors)
        assert universe is not None
        bom = codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b""
        atomic_write_bytes(path, bom + new_text.encode("utf-8"))
    warnings = tuple(universe.overlap_warnings(tickers, bucket=path.stem)) if added else ()
    return EditResult(path, summary, layout_kept=spliced is not None, warnings=warnings)


def _line_endings_like(original: str, text: str) -> str:
    """``text`` (LF) with the original's line endings when those were Windows' (CRLF)."""
    crlf = 2 * original.count("\r\n") > original.count("\n")
    return text.replace("\n", "\r\n") if crlf else text


def verify_members(
    directory: Path,
    bucket: str,
    tickers: Sequence[str],
    *,
    by: str,
    on: dt.date | None = None,
    evidence: str | None = None,
) -> EditResult:
    """Mark each of ``tickers`` of ``bucket`` verified by ``by`` on ``on`` (today by default), in
    one write: all of them, or (one is not a member, the universe would be invalid) none. A
    rejected member loses its ``rejected_*`` fields."""
    chosen = _normalise_tickers(tickers)
    if not by.strip():
        raise UniverseError(None, "verified_by", "say who verified it (--by NAME)")
    day = on or dt.date.today()
    updates: dict[str, Any] = {
        "status": Status.verified.value,
        "verified_by": by.strip(),
        "verified_on": day,
    }
    if evidence is not None and evidence.strip():
        updates["evidence"] = evidence.strip()

    def change(path: Path, data: Any) -> str:
        for member in _find_members(path, data, chosen):
            _set_after(member, "status", updates)
            _remove(member, status_fields_other_than(Status.verified))
        return f"{bucket}: {', '.join(chosen)} verified by {by.strip()} on {day.isoformat()}"

    return _edit(directory, bucket, chosen, change)


def verify_member(
    directory: Path,
    bucket: str,
    ticker: str,
    *,
    by: str,
    on: dt.date | None = None,
    evidence: str | None = None,
) -> EditResult:
    """Mark ``ticker`` of ``bucket`` verified (:func:`verify_members` with one ticker)."""
    return verify_members(directory, bucket, [ticker], by=by, on=on, evidence=evidence)


def reject_members(
    directory: Path,
    bucket: str,
    tickers: Sequence[str],
    *,
    why: str,
    by: str,
    on: dt.date | None = None,
) -> EditResult:
    """Mark each of ``tickers`` of ``bucket`` rejected by ``by`` on ``on`` (today by default),
    saying why, in one write (all or none); they leave every backtest. A verified member loses
    its ``verified_by``, ``verified_on`` and ``evidence``."""
    chosen = _normalise_tickers(tickers)
    if not why.strip():
        raise UniverseError(None, "rejected_why", "say why it is rejected (--why TEXT)")
    if not by.strip():
        raise UniverseError(None, "rejected_by", "say who rejected it (--by NAME)")
    day = on or dt.date.today()
    updates: dict[str, Any] = {
        "status": Status.rejected.value,
        "rejected_why": why.strip(),
        "rejected_by": by.strip(),
        "rejected_on": day,
    }

    def change(path: Path, data: Any) -> str:
        for member in _find_members(path, data, chosen):
            _set_after(member, "status", updates)
            _remove(member, status_fields_other_than(Status.rejected))
        return (
            f"{bucket}: {', '.join(chosen)} rejected by {by.strip()} on {day.isoformat()} "
            f"({why.strip()})"
        )

    return _edit(directory, bucket, chosen, change)


def reject_member(
    directory: Path,
    bucket: str,
    ticker: str,
    *,
    why: str,
    by: str,
    on: dt.date | None = None,
) -> EditResult:
    """Mark ``ticker`` of ``bucket`` rejected (:func:`reject_members` with one ticker)."""
    return reject_members(directory, bucket, [ticker], why=why, by=by, on=on)


def add_member(directory: Path, bucket: str, ticker: str, *, why: str) -> EditResult:
    """Append ``ticker`` to ``bucket`` as a proposed member with ``why`` as its rationale. When
    the ticker is now in another long bucket too, ``EditResult.warnings`` says so, as a run
    would."""
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

    return _edit(directory, bucket, [ticker], change, added=True)
