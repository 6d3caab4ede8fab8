"""The local price store: files on disk, no server.

Layout under the store root (``--store``, ``$BUCKETMAP_STORE`` or ``./.bucketmap``)::

    manifest.json          one record per ticker: file, source, stored_at, first, last, rows, sha256
    prices/<TICKER>.<SHA256[:12]>.parquet
                           columns date (date32), close (float64), sorted, unique dates
    .lock                  held while writing (and while reading, so a reader never sees a file
                           whose checksum is not yet in the manifest)

A new version of a series is written under a new name (its content hash), never over the file the
manifest points to; then the manifest is replaced (``os.replace``, after an fsync); then the old
files are deleted. A process killed at any point leaves the manifest pointing at complete files
whose checksums match: the old versions if it died before the manifest was replaced, the new ones
after. Files no manifest points to (left by such a crash) are deleted by the next write. A price
file whose checksum does not match the manifest is reported as damaged by name and never used.
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
from typing import Any

import pandas as pd

from buckets.errors import StoreError
from buckets.fileio import atomic_write_bytes
from buckets.models import TICKER_PATTERN

STORE_ENV = "BUCKETMAP_STORE"
DEFAULT_STORE = Path(".bucketmap")
MANIFEST = "manifest.json"
LOCK_TIMEOUT_S = 60.0


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
        from filelock import FileLock, Timeout

        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.root / ".lock"), timeout=LOCK_TIMEOUT_S)
        try:
            with lock:
                yield
        except Timeout:
            raise StoreError(
                f"{self.root}: another bucketmap process holds the store lock for over "
                f"{LOCK_TIMEOUT_S:.0f} s; wait for it or remove {self.root / '.lock'} if none runs"
            ) from None

    def _read_manifest(self) -> dict[str, dict[str, Any]]:
        if not self.manifest_path.exists():
            return {}
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise StoreError(
                f"{self.manifest_path}: damaged ({exc}); re-import or re-fetch into a new store"
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("tickers"), dict):
            raise StoreError(f"{self.manifest_path}: not a bucketmap manifest")
        tickers: dict[str, dict[str, Any]] = data["tickers"]
        return tickers

    def _write_manifest(self, tickers: Mapping[str, Mapping[str, Any]]) -> None:
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
    def records(self) -> dict[str, StoredSeries]:
        """Provenance of every stored ticker."""
        return {t: StoredSeries(ticker=t, **rec) for t, rec in self._read_manifest().items()}

    def tickers(self) -> list[str]:
        """Tickers the store holds, sorted."""
        return sorted(self._read_manifest())

    def write(self, series: Mapping[str, pd.Series], source: str) -> list[StoredSeries]:
        """Store validated series (``sources.validate_series``) under ``source``, each replacing
        what the store held for that ticker. (Extending a stored series is the caller's job:
        ``backtest.prices.refresh.join_fetched`` does it only where the adjusted closes agree.)
        """
        written: list[StoredSeries] = []
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        with self._locked(), self._os_errors_as_store_errors():
            manifest = self._read_manifest()
            for ticker, values in series.items():
                data = _series_to_parquet_bytes(values)
                digest = hashlib.sha256(data).hexdigest()
                path = self._file_for(ticker, digest)
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

    def _delete_unlisted(self, manifest: Mapping[str, Mapping[str, Any]]) -> None:
        """Delete price files (and temp files) the manifest does not point to: replaced versions,
        and what a killed writer left behind."""
        if not self.prices_dir.is_dir():
            return
        listed = {Path(str(rec["file"])).name for rec in manifest.values()}
        for path in self.prices_dir.iterdir():
            if path.is_file() and path.name not in listed:
                try:
                    path.unlink(missing_ok=True)
                except OSError:  # best effort: the next write tries again
                    pass

    def _read_one(self, ticker: str, record: Mapping[str, Any]) -> pd.Series:
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = self.root / str(record["file"])
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise StoreError(
                f"{path}: missing from the store; re-import or re-fetch {ticker}"
            ) from None
        if hashlib.sha256(data).hexdigest() != record["sha256"]:
            raise StoreError(
                f"{path}: damaged (checksum does not match the manifest); "
                f"re-import or re-fetch {ticker}"
            )
        try:
            table = pq.read_table(pa.BufferReader(data))
        except (pa.ArrowInvalid, OSError) as exc:
            raise StoreError(
                f"{path}: unreadable ({exc}); re-import or re-fetch {ticker}"
            ) from None
        dates = table.column("date").to_numpy(zero_copy_only=False)
        index = pd.DatetimeIndex(dates, name="date").as_unit("ns")
        return pd.Series(table.column("close").to_numpy(), index=index, name=ticker)

    def read(self, tickers: Iterable[str]) -> tuple[dict[str, pd.Series], list[str]]:
        """Stored series of the wanted tickers, and the wanted tickers the store lacks.

        Raises :class:`StoreError` naming the first damaged file: damaged data is never used.
        """
        found, missing, damaged = self.read_checked(tickers)
        if damaged:
            raise StoreError(next(iter(damaged.values())))
        return found, missing

    def read_checked(
        self, tickers: Iterable[str]
    ) -> tuple[dict[str, pd.Series], list[str], dict[str, str]]:
        """Like :meth:`read`, but damaged files are returned (ticker → message), not raised, so a
        fetch can download them again."""
        found: dict[str, pd.Series] = {}
        missing: list[str] = []
        damaged: dict[str, str] = {}
        with self._locked():
            manifest = self._read_manifest()
            for ticker in tickers:
                record = manifest.get(ticker)
                if record is None:
                    missing.append(ticker)
                    continue
                try:
                    found[ticker] = self._read_one(ticker, record)
                except StoreError as exc:
                    damaged[ticker] = str(exc)
        return found, missing, damaged
