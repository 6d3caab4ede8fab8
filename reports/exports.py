"""Writers for a run's files. Every write is atomic; a run's files appear together or not at all.

``write_run_files`` renders everything in memory first, writes it into a fresh temporary folder
beside the output folder, and then moves the files into place with ``os.replace``: an error
while rendering leaves nothing behind, and a crash while moving leaves each file either old or new.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from backtest.results import ClaimsResult, RunResult

RESULTS_JSON = "results.json"
CLAIMS_JSON = "claims.json"
VARIANTS_CSV = "variants.csv"
RETURNS_CSV = "returns.csv"
WEIGHTS_CSV = "weights.csv"
CONTRIBUTIONS_CSV = "contributions.csv"
REPORT_HTML = "report.html"


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
    """Read ``returns.csv`` back into a date × series frame of floats."""
    frame = pd.read_csv(path, index_col="date", parse_dates=["date"])
    return frame.astype("float64")


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
    alone. Returns the paths written.
    """
    parent = out_dir.parent if out_dir.parent != Path("") else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=parent))
    try:
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
    finally:
        shutil.rmtree(stage, ignore_errors=True)
