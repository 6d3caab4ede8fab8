"""Build the price sample shipped with the package (``bucketmap run --prices sample``).

Reads the closes of every ticker the default universes name (all members of every bucket,
benchmarks, the claims' benchmark and rule tickers), the claims' factors and the risk-free proxy
``^IRX`` from the snapshot in ``../shared/prices/csv``, and writes them as one wide
zstd-compressed parquet, ``backtest/prices/data/sample.parquet`` (index = date, columns =
tickers, float64 adjusted closes, empty before a listing). The values are the CSVs' own numbers,
parsed exactly as ``--prices ../shared/prices/csv`` parses them, so a run on the sample equals a
run on the folder (``tests/backtest/test_sample.py`` checks it).

Usage: ``python scripts/make_sample.py [SNAPSHOT_CSV_FOLDER]``
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backtest.conventions import RISK_FREE_TICKER  # noqa: E402
from backtest.evidence.excess import ClaimOptions  # noqa: E402
from backtest.prices.sample import SAMPLE_FILE, sample_tickers  # noqa: E402
from backtest.prices.sources import read_price_folder, to_price_frame  # noqa: E402
from buckets.files import load_universe  # noqa: E402


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/prices/csv"
    universe = load_universe(ROOT / "universes")
    tickers = sample_tickers(universe, [RISK_FREE_TICKER, *ClaimOptions().factors])
    series = read_price_folder(folder, tickers)
    missing = [t for t in tickers if t not in series]
    if missing:
        raise SystemExit(f"{folder}: no prices for {', '.join(missing)}")
    frame = to_price_frame(series)[tickers]
    frame.index.name = "date"
    out = ROOT / "backtest/prices/data" / SAMPLE_FILE
    tmp = out.with_suffix(".tmp")
    frame.to_parquet(tmp, compression="zstd", compression_level=19)
    tmp.replace(out)
    print(
        f"wrote {out}: {len(tickers)} tickers, {frame.index[0].date()} → "
        f"{frame.index[-1].date()}, {out.stat().st_size / 1e6:.2f} MB"
    )


if __name__ == "__main__":
    main()
