"""The error tree of bucketmap.

Every error a user can cause is one of these, raised in the library and turned into one line and
exit code 2 by the CLI (``bucketmap.cli``). They carry structured fields so that tests and callers
need not parse messages::

    BucketmapError                  anything the user can fix; str() is the one-line message
    ├── UniverseError               a universe file: file, line, field
    ├── PriceDataError              a price file or series: file, ticker, field
    ├── StoreError                  the local price store (missing, locked, damaged)
    ├── FetchError                  downloading prices (no network, Yahoo refused)
    └── RunConfigError              options of a run that cannot work together (dates, names)

They live in ``buckets`` (the lowest layer) so that every stage may raise them without importing
from a later one; ``bucketmap`` re-exports them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class BucketmapError(Exception):
    """Base class: a problem the user can fix. ``str(err)`` is a complete one-line message."""


def _where(file: Path | str | None, line: int | None, field: str | None) -> str:
    parts: list[str] = []
    if file is not None:
        parts.append(f"{file}:{line}" if line is not None else str(file))
    if field:
        parts.append(field)
    return ": ".join(parts)


class UniverseError(BucketmapError):
    """A universe file (bucket, benchmarks or claims YAML) is invalid.

    ``file`` is the path, ``line`` the 1-based line of the offending key when known, ``field`` the
    dotted location inside the file (``members[2].ticker``), ``message`` what is wrong.
    """

    def __init__(
        self,
        file: Path | str | None,
        field: str | None,
        message: str,
        *,
        line: int | None = None,
    ) -> None:
        self.file = file
        self.field = field
        self.message = message
        self.line = line
        where = _where(file, line, field)
        super().__init__(f"{where}: {message}" if where else message)


class UniverseErrors(UniverseError):
    """Several universe problems found at once; ``errors`` lists them all, ``str()`` the first."""

    def __init__(self, errors: list[UniverseError]) -> None:
        if not errors:
            raise ValueError("UniverseErrors needs at least one error")
        self.errors = errors
        first = errors[0]
        super().__init__(first.file, first.field, first.message, line=first.line)
        if len(errors) > 1:
            more = len(errors) - 1
            named = Path(first.file) if first.file is not None else None
            folder = named.parent if named is not None and named.suffix else named
            where = "" if folder is None or folder in (Path("universes"), Path()) else f" {folder}"
            self.args = (
                f"{first} (and {more} more problem{'s' if more > 1 else ''}: "
                f"run `bucketmap universes validate{where}` to list them)",
            )


class PriceDataError(BucketmapError):
    """A price file or series is unusable: ``file`` and/or ``ticker``, ``field``, ``message``."""

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        ticker: str | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.ticker = ticker
        self.field = field
        self.message = message
        named_by_file = file is not None and Path(str(file)).stem.upper() == ticker
        parts = [str(file)] if file is not None else []
        if ticker and not named_by_file:
            parts.append(ticker)
        if field:
            parts.append(field)
        where = ": ".join(parts)
        super().__init__(f"{where}: {message}" if where else message)


class StoreError(BucketmapError):
    """The local price store cannot be used as asked (missing, locked, damaged)."""


class FetchError(BucketmapError):
    """Prices could not be downloaded."""


class RunConfigError(BucketmapError):
    """The options of a run do not fit together or do not fit the data."""


class ResultsError(BucketmapError):
    """A results folder that cannot be read back (missing, damaged or from another version)."""

    def __init__(self, file: Path | str, message: str, field: str | None = None) -> None:
        self.file, self.field = file, field
        super().__init__(f"{_where(file, None, field)}: {message}")


class OutputError(BucketmapError):
    """Output files cannot be written (folder not writable, not a folder, disk full)."""


def close_names(name: str, choices: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """Up to ``n`` of ``choices`` closest to a misspelt ``name`` (difflib's ratio ≥ ``cutoff``)."""
    return difflib.get_close_matches(name, list(choices), n=n, cutoff=cutoff)


def did_you_mean(name: str, choices: Iterable[str], n: int = 3) -> str:
    """``"; did you mean X?"`` (or ``"X or Y"``) for the closest of ``choices``, else ``""``:
    the hint an error about a misspelt name ends with."""
    close = close_names(name, choices, n)
    return f"; did you mean {' or '.join(close)}?" if close else ""
