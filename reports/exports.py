"""Writers for a run's files. Every write is atomic; a run's files appear together or not at all.

``write_files_atomically`` takes files rendered in memory, writes them into a fresh temporary folder
beside the output folder, and then moves the files into place with ``os.replace``: an error
while rendering leaves nothing behind, and a crash while moving leaves each file either old or new.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

import pandas as pd
from pydantic import BaseModel, ValidationError

from backtest.results import ClaimsResult, RunResult, SweepResult
from buckets.errors import OutputError, ResultsError

_M = TypeVar("_M", bound=BaseModel)

RESULTS_JSON = "results.json"
CLAIMS_JSON = "claims.json"
VARIANTS_CSV = "variants.csv"
RETURNS_CSV = "returns.csv"
WEIGHTS_CSV = "weights.csv"
CONTRIBUTIONS_CSV = "contributions.csv"
REPORT_HTML = "report.html"
SUMMARY_MD = "summary.md"
SWEEP_CSV = "sweep.csv"
SWEEP_JSON = "sweep.json"


def returns_csv(returns: pd.DataFrame) -> str:
    """``returns.csv``: date, then one column per bucket/benchmark; empty cell = no return.

    Floats are written with full precision (shortest repr that round-trips), so figures recomputed
    from the file match the tool's to the last digit.
    """
    out = returns.copy()
    out.index = pd.DatetimeIndex(out.index).strftime("%Y-%m-%d")
    out.index.name = "date"
    return out.to_csv(lineterminator="\n")


def read_returns_csv(path: Path) -> pd.DataFrame:
    """Read ``returns.csv`` back into a date × series frame of floats; :class:`ResultsError`
    naming the file when it is missing or not a returns table."""
    try:
        frame = pd.read_csv(path, index_col="date", parse_dates=["date"])
        out = frame.astype("float64")
    except FileNotFoundError:
        raise ResultsError(path, "not found; `bucketmap run` writes it") from None
    except (ValueError, KeyError, pd.errors.ParserError) as exc:
        raise ResultsError(path, f"not a returns table ({_first_line(exc)})") from None
    if not isinstance(out.index, pd.DatetimeIndex):
        raise ResultsError(path, "the date column holds something other than dates", "date")
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


def sweep_json(result: SweepResult) -> str:
    """``sweep.json``: the :class:`SweepResult`, indented."""
    return result.model_dump_json(indent=2) + "\n"


def weights_csv(weights: pd.DataFrame) -> str:
    """``weights.csv``: date, bucket, ticker, weight — target weights set at each event."""
    return weights.to_csv(index=False, lineterminator="\n")


def results_json(result: RunResult) -> str:
    """``results.json``: the :class:`RunResult`, indented."""
    return result.model_dump_json(indent=2) + "\n"


def claims_json(result: ClaimsResult) -> str:
    """``claims.json``: the :class:`ClaimsResult`, indented."""
    return result.model_dump_json(indent=2) + "\n"


def write_files_atomically(out_dir: Path, files: Mapping[str, str]) -> list[Path]:
    """Write ``name → text`` into ``out_dir``: staged in a temp folder, then moved into place.

    The output folder is created if needed; files already there that are not named are left
    alone. Returns the paths written. Raises :class:`OutputError` (one line naming the folder)
    when it cannot be written — not a folder, no permission, disk full — having left the files
    that were there untouched.
    """
    parent = out_dir.parent if out_dir.parent != Path("") else Path(".")
    stage: Path | None = None
    try:
        parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=parent))
        for name, text in files.items():
            path = stage / name
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for name in files:
            os.replace(stage / name, out_dir / name)
            written.append(out_dir / name)
        return written
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, (FileExistsError, NotADirectoryError)):
            reason = "a file is in the way of the folder"
        raise OutputError(
            f"{out_dir}: cannot write the output files ({reason}); choose another --out"
        ) from exc
    finally:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
