"""Writers for a run's files. Every write is atomic; a run's files appear together or not at all,
and a folder's files can be checked to come from one run.

``write_files_atomically`` takes files rendered in memory, writes them into a fresh staging folder
inside the output folder (so every rename stays on one device), and then moves them into place
with ``os.replace``, holding the folder's lock (:data:`FOLDER_LOCK`); the staging folder is removed
on every path, and one left by a killed writer is removed by the next write.

``write_run_files`` does the same for a run's files and moves ``manifest.json`` into place last:
the run's id and the SHA-256 of every file it wrote. A process killed between two renames leaves
new files beside the old manifest, which no longer matches them, so ``check_run_folder`` (what
``bucketmap report`` calls) refuses the folder with one line instead of drawing from a mix.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from backtest.results import ClaimsResult, RunResult, SweepResult
from buckets.errors import OutputError, ResultsError
from buckets.fileio import LOCK_TIMEOUT_S, LockError, folder_lock

_M = TypeVar("_M", bound=BaseModel)

RESULTS_JSON = "results.json"
CLAIMS_JSON = "claims.json"
VARIANTS_CSV = "variants.csv"
RETURNS_CSV = "returns.csv"
WEIGHTS_CSV = "weights.csv"
CONTRIBUTIONS_CSV = "contributions.csv"
DAILY_CONTRIBUTIONS_CSV = "contributions_daily.csv"
DAILY_CONTRIBUTIONS_PARQUET = "contributions_daily.parquet"
DAILY_CSV_ROWS = 1_000_000
"""Largest daily contributions table written as CSV (about 70 MB); a larger one is parquet."""
REPORT_HTML = "report.html"
SUMMARY_MD = "summary.md"
SWEEP_CSV = "sweep.csv"
SWEEP_JSON = "sweep.json"
BASKETS_CSV = "baskets.csv"
MANIFEST_JSON = "manifest.json"
HISTORY_CSV = "claims_history.csv"
BOARD_JSON = "board.json"
BOARD_HTML = "board.html"
FOLDER_LOCK = ".bucketmap.lock"
"""Held by every writer of an output folder."""
STAGE_PREFIX = ".bucketmap-stage-"
DERIVED = frozenset({REPORT_HTML, SUMMARY_MD})
"""Files drawn from the others; ``bucketmap report`` writes them again, so they are not checked."""


def returns_csv(returns: pd.DataFrame) -> str:
    """``returns.csv``: date, then one column per bucket/benchmark; empty cell = no return.

    Floats are written with full precision (shortest repr that round-trips), so figures
    recomputed from the file match the tool's to the last digit. The text is
    ``DataFrame.to_csv``'s (a test holds the two equal), written row by row from ``repr`` of each
    float: twice as fast for a table of a million cells.
    """
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(["date", *map(str, returns.columns)])
    dates = pd.DatetimeIndex(returns.index).strftime("%Y-%m-%d")
    rows = returns.to_numpy(dtype="float64").tolist()
    lines = [
        ",".join([day, *("" if v != v else repr(v) for v in row)])  # NaN: an empty cell
        for day, row in zip(dates, rows, strict=True)
    ]
    return header.getvalue() + "".join(line + "\n" for line in lines)


def read_returns_csv(path: Path) -> pd.DataFrame:
    """Read ``returns.csv`` back into a date × series frame of floats; :class:`ResultsError`
    naming the file when it is missing or not a returns table (dates that do not parse, repeat
    or are out of order, values that are not numbers)."""
    try:
        frame = pd.read_csv(path, index_col="date", parse_dates=["date"])
        out = frame.astype("float64")
    except FileNotFoundError:
        raise ResultsError(path, "not found; `bucketmap run` writes it") from None
    except (ValueError, KeyError, pd.errors.ParserError) as exc:
        raise ResultsError(path, f"not a returns table ({_first_line(exc)})") from None
    if not isinstance(out.index, pd.DatetimeIndex):
        raise ResultsError(path, "the date column holds something other than dates", "date")
    if out.index.has_duplicates:
        day = out.index[out.index.duplicated()][0].date()
        raise ResultsError(path, f"{day} appears twice; a returns table has one row a day", "date")
    if not out.index.is_monotonic_increasing:
        raise ResultsError(path, "the dates are not in order", "date")
    return out


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _read_model(path: Path, model: type[_M]) -> _M:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(path, "not found; `bucketmap run` writes it") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(path, f"cannot be read ({_first_line(exc)})") from None
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ResultsError(
            path,
            f"{first['msg']}{more}; was it written by this version of bucketmap? rerun "
            "`bucketmap run`",
            field,
        ) from None


def read_run_result(path: Path) -> RunResult:
    """``results.json`` back as a :class:`RunResult` (:class:`ResultsError` when it is not)."""
    return _read_model(path, RunResult)


def read_claims_result(path: Path) -> ClaimsResult:
    """``claims.json`` back as a :class:`ClaimsResult` (:class:`ResultsError` when it is not)."""
    return _read_model(path, ClaimsResult)


def read_sweep_result(path: Path) -> SweepResult:
    """``sweep.json`` back as a :class:`SweepResult` (:class:`ResultsError` when it is not)."""
    return _read_model(path, SweepResult)


def sweep_csv(table: pd.DataFrame) -> str:
    """``sweep.csv``: one row per variant (:data:`backtest.sweep.SWEEP_COLUMNS`), fractions at
    full precision, dates ISO, ``dropped`` empty when no member is left out."""
    return table.to_csv(index=False, lineterminator="\n")


def baskets_csv(table: pd.DataFrame) -> str:
    """``baskets.csv``: one row per basket of every claim's random and matched nulls
    (:data:`backtest.evidence.special.BASKET_COLUMNS`: claim, null, basket, excess, members
    space-separated), excess at full precision, so the percentile and p-value in
    ``claims.json`` can be recomputed."""
    return table.to_csv(index=False, lineterminator="\n")


def sweep_json(result: SweepResult) -> str:
    """``sweep.json``: the :class:`SweepResult`, indented."""
    return result.model_dump_json(indent=2) + "\n"


def weights_csv(weights: pd.DataFrame) -> str:
    """``weights.csv``: date, bucket, ticker, weight — target weights set at each event."""
    return weights.to_csv(index=False, lineterminator="\n")


def contributions_csv(table: pd.DataFrame) -> str:
    """``contributions.csv``: window, start, end, bucket, ticker (or ``costs``), contribution —
    each member's part of its bucket's compounded return over each window (full precision)."""
    return table.to_csv(index=False, lineterminator="\n")


def daily_contributions_file(table: pd.DataFrame) -> tuple[str, str | bytes]:
    """The daily contributions (date, bucket, ticker, contribution) as a file: name and content,
    ``contributions_daily.csv`` up to :data:`DAILY_CSV_ROWS` rows, else
    ``contributions_daily.parquet`` (zstd; a 12,000-member bucket's 11 million rows are ~400 MB
    of CSV that takes 13 s to write)."""
    if len(table) <= DAILY_CSV_ROWS:
        return DAILY_CONTRIBUTIONS_CSV, table.to_csv(index=False, lineterminator="\n")
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False, compression="zstd")
    return DAILY_CONTRIBUTIONS_PARQUET, buffer.getvalue()


def results_json(result: RunResult) -> str:
    """``results.json``: the :class:`RunResult`, indented."""
    return result.model_dump_json(indent=2) + "\n"


def claims_json(result: ClaimsResult) -> str:
    """``claims.json``: the :class:`ClaimsResult`, indented."""
    return result.model_dump_json(indent=2) + "\n"


def new_run_id() -> str:
    """A fresh run id: the UTC time and 8 random hex digits (``20261123T120000Z-3f2a1b0c``)."""
    now = dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def sha256_of(data: str | bytes) -> str:
    """SHA-256 (hex) of a file's bytes, or of text as written (UTF-8)."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class RunManifest(BaseModel):
    """``manifest.json``: the run a folder's files belong to, and each file's SHA-256."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str = Field(min_length=1, max_length=64)
    files: dict[str, str]

    @field_validator("files")
    @classmethod
    def _names_and_checksums(cls, files: dict[str, str]) -> dict[str, str]:
        for name, digest in files.items():
            if not _FILE_NAME.fullmatch(name):
                raise ValueError(f"{name[:40]!r} is not a file name of the folder")
            if not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise ValueError(f"the checksum of {name} is not a SHA-256")
        return files


def read_manifest(folder: Path) -> RunManifest | None:
    """The folder's ``manifest.json``, None when it has none; :class:`ResultsError` when it is
    damaged."""
    path = folder / MANIFEST_JSON
    if not path.is_file():
        return None
    return _read_model(path, RunManifest)


def check_run_folder(folder: Path, result: RunResult, claims: ClaimsResult | None) -> RunManifest:
    """Check that the run files in ``folder`` are the ones one run wrote: ``manifest.json``
    exists, every file it lists (but the report and summary, which are redrawn) is there with its
    checksum, ``results.json`` and ``returns.csv`` are among them, and ``results.json`` and
    ``claims.json`` carry its run id. :class:`ResultsError` (one line, naming the file) otherwise.
    """
    manifest = read_manifest(folder)
    rerun = f"rerun `bucketmap run --out {folder}`"
    if manifest is None:
        raise ResultsError(
            folder / MANIFEST_JSON,
            "not found: nothing says these files come from one run (an interrupted run or an "
            f"older bucketmap leaves a folder without it); {rerun}",
        )
    run = manifest.run_id
    for name, digest in manifest.files.items():
        if name in DERIVED:
            continue
        path = folder / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ResultsError(
                path,
                f"missing: run {run} wrote it (manifest.json); the folder is incomplete; {rerun}",
            ) from None
        except OSError as exc:
            raise ResultsError(path, f"cannot be read ({exc.strerror or exc})") from None
        if sha256_of(data) != digest:
            raise ResultsError(
                path,
                f"not the file run {run} wrote (manifest.json lists another checksum): the "
                "folder mixes two runs, as a run stopped while moving its files into place "
                f"leaves it; {rerun}",
            )
    present = [RESULTS_JSON, RETURNS_CSV] + ([CLAIMS_JSON] if claims is not None else [])
    for name in present:
        if name not in manifest.files:
            raise ResultsError(
                folder / name, f"not written by run {run} (manifest.json does not list it); {rerun}"
            )
    ids = [(RESULTS_JSON, result.run.run_id)]
    if claims is not None:
        ids.append((CLAIMS_JSON, claims.run_id))
    for name, run_id in ids:
        if run_id != run:
            raise ResultsError(
                folder / name,
                f"belongs to run {run_id or '(none)'}, the folder's manifest.json to run {run}; "
                f"{rerun}",
            )
    return manifest


def check_output_folder(out_dir: Path) -> None:
    """:class:`OutputError` now, before any work, when ``out_dir`` cannot become a folder: it,
    or the nearest of its parents that exists, is a file. Nothing is created; the write itself
    (:func:`write_run_files`) still checks everything else (permissions, space, the lock)."""
    existing = out_dir
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise OutputError(
            f"{out_dir}: cannot write the output files (a file is in the way of the folder); "
            "choose another --out"
        )


@contextmanager
def _output_folder(out_dir: Path) -> Iterator[None]:
    """Create ``out_dir`` if needed and hold its lock; remove staging folders a killed writer
    left; turn an OS error (not a folder, no permission, disk full) into :class:`OutputError`.
    A folder this call created is removed again when the write fails."""
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with folder_lock(out_dir, FOLDER_LOCK):
            for stale in out_dir.glob(f"{STAGE_PREFIX}*"):
                shutil.rmtree(stale, ignore_errors=True)
            yield
    except OSError as exc:
        if created and out_dir.is_dir():
            shutil.rmtree(out_dir, ignore_errors=True)
        if isinstance(exc, LockError) and exc.timed_out:
            raise OutputError(
                f"{out_dir}: another bucketmap process has been writing this folder for over "
                f"{LOCK_TIMEOUT_S:.0f} s; wait for it or choose another --out"
            ) from exc
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, (FileExistsError, NotADirectoryError)):
            reason = "a file is in the way of the folder"
        raise OutputError(
            f"{out_dir}: cannot write the output files ({reason}); choose another --out"
        ) from exc
    except BaseException:
        if created and out_dir.is_dir():
            shutil.rmtree(out_dir, ignore_errors=True)
        raise


def _stage_and_move(out_dir: Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write ``files`` into a staging folder inside ``out_dir`` (fsynced), then rename each into
    place in the given order; the staging folder is removed on every path."""
    stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=out_dir))
    try:
        for name, content in files.items():
            if isinstance(content, bytes):
                with open(stage / name, "wb") as raw:
                    raw.write(content)
                    raw.flush()
                    os.fsync(raw.fileno())
                continue
            with open(stage / name, "w", encoding="utf-8", newline="") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
        written = []
        for name in files:
            os.replace(stage / name, out_dir / name)
            written.append(out_dir / name)
        return written
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def write_files_atomically(out_dir: Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write ``name → text`` into ``out_dir``: staged inside it, then moved into place.

    The output folder is created if needed; files already there that are not named are left
    alone. Returns the paths written. Raises :class:`OutputError` (one line naming the folder)
    when it cannot be written — not a folder, no permission, disk full — having left the files
    that were there untouched.
    """
    with _output_folder(out_dir):
        return _stage_and_move(out_dir, files)


def write_run_files(
    out_dir: Path, files: Mapping[str, str | bytes], run_id: str, *, extend: bool = False
) -> list[Path]:
    """Write a run's files like :func:`write_files_atomically`, then ``manifest.json`` (last) with
    ``run_id`` and every file's checksum.

    Without ``extend`` the files are a new run: the manifest lists them alone. With ``extend``
    they join the run already in the folder (a sweep, a redrawn report): its manifest must name
    ``run_id`` (:class:`ResultsError` otherwise: two runs would mix), and keeps its other files.
    """
    with _output_folder(out_dir):
        listed: dict[str, str] = {}
        if extend:
            previous = read_manifest(out_dir)
            if previous is not None and previous.run_id != run_id:
                raise ResultsError(
                    out_dir / MANIFEST_JSON,
                    f"holds run {previous.run_id}; writing run {run_id}'s files here would mix "
                    "two runs; choose another --out",
                )
            listed = dict(previous.files) if previous is not None else {}
        listed.update({name: sha256_of(text) for name, text in files.items()})
        manifest = RunManifest(run_id=run_id, files=dict(sorted(listed.items())))
        body = json.dumps(manifest.model_dump(), indent=2) + "\n"
        return _stage_and_move(out_dir, {**files, MANIFEST_JSON: body})
