"""The local price store: files on disk, no server.

Layout under the store root (``--store``, ``$BUCKETMAP_STORE`` or ``./.bucketmap``)::

    manifest.json          one record per ticker: file, source, stored_at, first, last, rows, sha256
    prices/<TICKER>.<SHA256[:12]>.parquet
                           columns date (date32), close (float64), sorted, unique dates
    .lock                  held while writing

A new version of a series is written under a new name (its content hash), never over the file the
manifest points to; then the manifest is replaced (``os.replace``, after an fsync); then the old
files are deleted. A process killed at any point leaves the manifest pointing at complete files
whose checksums match: the old versions if it died before the manifest was replaced, the new ones
after. A write that fails (disk full) deletes the files it wrote before giving up, and every write
first deletes what no manifest record points to (left by a killed writer), so nothing it left
keeps the disk full. A price file whose checksum does not match the manifest is reported as
damaged by name and never used.

Reading takes no lock and writes nothing (a read-only store can be read; reading a store that
does not exist creates nothing): the manifest only ever names complete files, and a file deleted
by a writer between the reader's look at the manifest and its read is read again from the new
manifest. Every manifest record is checked (:class:`ManifestRecord`) before it is used: its file
must be ``prices/<TICKER>.<SHA256[:12]>.parquet`` for its own ticker and checksum, so a
hand-edited manifest can never make bucketmap open anything but its own price files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from buckets.errors import StoreError
from buckets.fileio import LOCK_TIMEOUT_S, LockError, atomic_write_bytes, folder_lock
from buckets.models import TICKER_PATTERN

STORE_ENV = "BUCKETMAP_STORE"
DEFAULT_STORE = Path(".bucketmap")
MANIFEST = "manifest.json"
LOCK = ".lock"
READ_ATTEMPTS = 3
"""Times a read starts again when a writer replaced a file under it."""


def default_store_path() -> Path:
    """``$BUCKETMAP_STORE`` when set, else ``.bucketmap`` in the working directory."""
    env = os.environ.get(STORE_ENV)
    return Path(env) if env else DEFAULT_STORE


@dataclass(frozen=True)
class StoredSeries:
    """The manifest record of one ticker."""

    ticker: str
    file: str
    source: str
    stored_at: str
    first: str
    last: str
    rows: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "ticker"}


_ISO_DAY = r"^\d{4}-\d{2}-\d{2}$"


class ManifestRecord(BaseModel):
    """One record of ``manifest.json`` as it must be: a file name inside the store that is the
    ticker's own (``prices/<TICKER>.<sha256[:12]>.parquet``), a SHA-256, ISO dates."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    file: str
    source: str
    stored_at: str
    first: str = Field(pattern=_ISO_DAY)
    last: str = Field(pattern=_ISO_DAY)
    rows: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _own_file(self, info: Any) -> Self:
        ticker = (info.context or {}).get("ticker", "")
        expected = f"prices/{ticker}.{self.sha256[:12]}.parquet"
        if self.file != expected:
            raise ValueError(f"file must be {expected!r} (the store's own name for it)")
        return self


def _series_to_parquet_bytes(series: pd.Series) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "date": pa.array(pd.DatetimeIndex(series.index).date, type=pa.date32()),
            "close": pa.array(series.to_numpy(dtype="float64"), type=pa.float64()),
        }
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


class PriceStore:
    """Adjusted closes per ticker on disk, with provenance.

    ``write`` replaces series (atomic per file, manifest last, under a lock); ``read``
    returns a price frame and the tickers it does not hold; ``records`` the provenance.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.prices_dir = root / "prices"
        self.manifest_path = root / MANIFEST

    # --- locking and manifest ------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the store's write lock (creating the store folder); StoreError when it cannot."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with folder_lock(self.root, LOCK):
                yield
        except LockError as exc:
            if exc.timed_out:
                raise StoreError(
                    f"{self.root}: another bucketmap process holds the store lock for over "
                    f"{LOCK_TIMEOUT_S:.0f} s; wait for it or remove {self.root / LOCK} if none "
                    "runs"
                ) from None
            raise StoreError(
                f"{self.root}: cannot write to the store ({exc.strerror or exc}); reading it "
                "needs no write access"
            ) from None

    def exists(self) -> bool:
        """True when the store's folder exists (it may still be empty)."""
        return self.root.is_dir()

    def _manifest_text(self) -> str | None:
        try:
            return self.manifest_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError as exc:
            raise StoreError(
                f"{self.manifest_path}: damaged ({exc.reason}); re-import or re-fetch into a new "
                "store"
            ) from None
        except OSError as exc:
            raise StoreError(f"{self.manifest_path}: cannot read ({exc.strerror or exc})") from None

    def _parse_manifest(self, text: str | None) -> dict[str, Any]:
        if text is None:
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StoreError(
                f"{self.manifest_path}: damaged ({exc}); re-import or re-fetch into a new store"
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("tickers"), dict):
            raise StoreError(f"{self.manifest_path}: not a bucketmap manifest")
        tickers: dict[str, Any] = data["tickers"]
        return tickers

    def _read_manifest(self) -> dict[str, Any]:
        """Raw records by ticker (each checked only when used: :meth:`_record`)."""
        return self._parse_manifest(self._manifest_text())

    def _record(self, ticker: str, raw: object) -> StoredSeries:
        """The checked record of ``ticker``; StoreError (one line) when it is damaged."""
        if not TICKER_PATTERN.fullmatch(ticker):
            raise StoreError(
                f"{self.manifest_path}: {ticker[:20]!r} is not a ticker symbol; re-import or "
                "re-fetch into a new store"
            )
        try:
            record = ManifestRecord.model_validate(raw, context={"ticker": ticker})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            message = str(first["msg"]).removeprefix("Value error, ")
            raise StoreError(
                f"{self.manifest_path}: record {ticker}"
                + (f": {where}" if where else "")
                + f": {message}; re-import or re-fetch {ticker}"
            ) from None
        return StoredSeries(ticker=ticker, **record.model_dump())

    def _write_manifest(self, tickers: Mapping[str, Any]) -> None:
        body = {"version": 1, "tickers": dict(sorted(tickers.items()))}
        atomic_write_bytes(
            self.manifest_path, json.dumps(body, indent=1, sort_keys=False).encode("utf-8")
        )

    def _file_for(self, ticker: str, sha256: str) -> Path:
        if not TICKER_PATTERN.fullmatch(ticker):
            raise StoreError(
                f"{ticker!r} is not a ticker symbol; refusing to use it as a file name"
            )
        path = self.prices_dir / f"{ticker}.{sha256[:12]}.parquet"
        if path.parent != self.prices_dir:
            raise StoreError(f"{ticker!r} does not map to a file inside the store")
        return path

    # --- public API ------------------------------------------------------------------------------
    def records(self, tickers: Iterable[str] | None = None) -> dict[str, StoredSeries]:
        """Provenance of the stored ``tickers`` (every stored ticker when None); StoreError naming
        the first damaged record."""
        manifest = self._read_manifest()
        wanted = manifest if tickers is None else [t for t in tickers if t in manifest]
        return {t: self._record(t, manifest[t]) for t in wanted}

    def tickers(self) -> list[str]:
        """Tickers the store holds, sorted."""
        return sorted(self._read_manifest())

    def write(self, series: Mapping[str, pd.Series], source: str) -> list[StoredSeries]:
        """Store validated series (``sources.validate_series``) under ``source``, each replacing
        what the store held for that ticker. (Extending a stored series is the caller's job:
        ``backtest.prices.refresh.join_fetched`` does it only where the adjusted closes agree.)

        A write that fails (disk full, read-only) deletes the files it wrote and raises
        :class:`StoreError`; the store is as it was.
        """
        written: list[StoredSeries] = []
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        with self._locked(), self._os_errors_as_store_errors():
            manifest = self._read_manifest()
            # first what a failed or killed writer left: it may be what keeps the disk full
            self._delete_unlisted(manifest)
            listed = self._listed_names(manifest)
            new_files: list[Path] = []
            try:
                for ticker, values in series.items():
                    data = _series_to_parquet_bytes(values)
                    digest = hashlib.sha256(data).hexdigest()
                    path = self._file_for(ticker, digest)
                    if path.name not in listed:
                        new_files.append(path)
                    atomic_write_bytes(path, data)  # a new name: the current file is untouched
                    record = StoredSeries(
                        ticker=ticker,
                        file=f"prices/{path.name}",
                        source=source,
                        stored_at=now,
                        first=values.index[0].date().isoformat(),
                        last=values.index[-1].date().isoformat(),
                        rows=len(values),
                        sha256=digest,
                    )
                    manifest[ticker] = record.as_dict()
                    written.append(record)
                self._write_manifest(manifest)
            except BaseException:
                for path in new_files:  # the manifest still points to the old versions
                    path.unlink(missing_ok=True)
                raise
            self._delete_unlisted(manifest)
        return written

    @contextmanager
    def _os_errors_as_store_errors(self) -> Iterator[None]:
        """A failed write (disk full, read-only) becomes one line naming the store; what the
        manifest pointed to before is still there and still matches it."""
        try:
            yield
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise StoreError(
                f"{self.root}: cannot write to the store ({reason}); every stored series is "
                "as it was before this write"
            ) from exc

    def _listed_names(self, manifest: Mapping[str, Any]) -> set[str]:
        """File names (in ``prices/``) that manifest records point to, damaged records too."""
        names = set()
        for record in manifest.values():
            file = record.get("file") if isinstance(record, dict) else None
            if isinstance(file, str) and file.startswith("prices/"):
                names.add(file.removeprefix("prices/"))
        return names

    def _delete_unlisted(self, manifest: Mapping[str, Any]) -> None:
        """Delete price files (and temp files) the manifest does not point to: replaced versions,
        and what a failed or killed writer left behind (also its temp manifest)."""
        if self.prices_dir.is_dir():
            listed = self._listed_names(manifest)
            for path in self.prices_dir.iterdir():
                if path.name not in listed and not path.is_dir():
                    _unlink_quietly(path)
        for path in self.root.glob(f".{MANIFEST}.*.tmp"):
            _unlink_quietly(path)

    def _read_one(self, record: StoredSeries) -> pd.Series:
        """The series of a checked record. FileNotFoundError when its file is not there (the
        caller decides whether a writer replaced it); StoreError when it is damaged."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        ticker = record.ticker
        path = self.prices_dir / Path(record.file).name
        try:
            # never through a symbolic link: the store opens its own files and nothing else
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise StoreError(
                f"{path}: cannot be read ({exc.strerror or exc}); re-import or re-fetch {ticker}"
            ) from None
        with os.fdopen(fd, "rb") as fh:
            data = fh.read()
        if hashlib.sha256(data).hexdigest() != record.sha256:
            raise StoreError(
                f"{path}: damaged (checksum does not match the manifest); "
                f"re-import or re-fetch {ticker}"
            )
        try:
            table = pq.read_table(pa.BufferReader(data))
            dates = table.column("date").to_numpy(zero_copy_only=False)
            closes = table.column("close").to_numpy()
        except (pa.ArrowInvalid, OSError, KeyError) as exc:
            raise StoreError(
                f"{path}: unreadable ({exc}); re-import or re-fetch {ticker}"
            ) from None
        index = pd.DatetimeIndex(dates, name="date").as_unit("ns")
        return pd.Series(closes, index=index, name=ticker)

    def read(self, tickers: Iterable[str]) -> tuple[dict[str, pd.Series], list[str]]:
        """Stored series of the wanted tickers, and the wanted tickers the store lacks.

        Raises :class:`StoreError` naming the first damaged file or record: damaged data is
        never used.
        """
        found, missing, damaged = self.read_checked(tickers)
        if damaged:
            raise StoreError(next(iter(damaged.values())))
        return found, missing

    def read_checked(
        self, tickers: Iterable[str]
    ) -> tuple[dict[str, pd.Series], list[str], dict[str, str]]:
        """Like :meth:`read`, but damaged files and records are returned (ticker → message), not
        raised, so a fetch can download them again. Takes no lock and writes nothing."""
        wanted = list(tickers)
        for attempt in range(READ_ATTEMPTS):
            text = self._manifest_text()
            manifest = self._parse_manifest(text)
            found: dict[str, pd.Series] = {}
            missing: list[str] = []
            damaged: dict[str, str] = {}
            replaced = False
            for ticker in wanted:
                if ticker not in manifest:
                    missing.append(ticker)
                    continue
                try:
                    record = self._record(ticker, manifest[ticker])
                    found[ticker] = self._read_one(record)
                except StoreError as exc:
                    damaged[ticker] = str(exc)
                except FileNotFoundError:
                    if self._manifest_text() != text and attempt + 1 < READ_ATTEMPTS:
                        replaced = True  # a writer switched versions under us: read again
                        break
                    damaged[ticker] = (
                        f"{self.root / record.file}: missing from the store; re-import or "
                        f"re-fetch {ticker}"
                    )
            if not replaced:
                return found, missing, damaged
        raise AssertionError("unreachable: the last attempt always returns")


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:  # best effort: the next write tries again
        pass
