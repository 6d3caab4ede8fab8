"""Benchmark the price store: import and load times for both snapshot files.

Run from the repository root (with ../shared/prices beside it):

    .venv/bin/python benchmarks/bench_prices.py            # small cases 5x, scale case once
    .venv/bin/python benchmarks/bench_prices.py --big 3    # scale case 3x

Prints one table: median, min and max wall time per case, and the rows/tickers involved. Each
import goes into a fresh temporary store; loads read a store filled once beforehand. Wall time is
measured in-process with time.perf_counter around the library call (no interpreter start-up).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backtest.prices.sources import to_price_frame  # noqa: E402
from backtest.prices.store import PriceStore  # noqa: E402
from bucketmap.api import import_prices  # noqa: E402

SHARED = ROOT.parent / "shared" / "prices"
CSV = SHARED / "csv"
PARQUET = SHARED / "us_universe_2016.parquet"


def timed(fn: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def fresh_import(path: Path) -> Callable[[], object]:
    def run() -> object:
        root = Path(tempfile.mkdtemp(prefix="bench-store-"))
        try:
            return len(import_prices(path, PriceStore(root)).stored)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    return run


def load(store: PriceStore, tickers: list[str]) -> Callable[[], object]:
    def run() -> object:
        found, _ = store.read(tickers)
        return to_price_frame(found).shape

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=5, help="repeats of the 115-ticker cases")
    parser.add_argument("--big", type=int, default=1, help="repeats of the 12,466-ticker cases")
    args = parser.parse_args()
    if not CSV.is_dir() or not PARQUET.exists():
        sys.exit(f"needs {CSV} and {PARQUET}")

    rows: list[tuple[str, list[float], object]] = []
    small = Path(tempfile.mkdtemp(prefix="bench-small-"))
    big = Path(tempfile.mkdtemp(prefix="bench-big-"))
    try:
        rows.append(("import 115 CSVs (folder)", *timed(fresh_import(CSV), args.small)))
        import_prices(CSV, PriceStore(small))
        store = PriceStore(small)
        rows.append(
            ("load 115 tickers from the store", *timed(load(store, store.tickers()), args.small))
        )
        rows.append(("import 12,466-ticker parquet", *timed(fresh_import(PARQUET), args.big)))
        import_prices(PARQUET, PriceStore(big))
        big_store = PriceStore(big)
        everything = big_store.tickers()
        rows.append(
            (
                f"load all {len(everything):,} tickers from the store",
                *timed(load(big_store, everything), args.big),
            )
        )
        rows.append(
            (
                "load 115 of them from the big store",
                *timed(load(big_store, everything[:115]), args.small),
            )
        )
    finally:
        shutil.rmtree(small, ignore_errors=True)
        shutil.rmtree(big, ignore_errors=True)

    print(
        f"bucketmap price store benchmark, {dt.date.today()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}"
    )
    print(f"{'case':44} {'runs':>4} {'median s':>9} {'min s':>7} {'max s':>7}  result")
    for name, times, result in rows:
        print(
            f"{name:44} {len(times):>4} {statistics.median(times):>9.3f} {min(times):>7.3f} "
            f"{max(times):>7.3f}  {result}"
        )


if __name__ == "__main__":
    main()
