"""bucketmap: test an investment thesis by backtesting buckets of tickers against benchmarks.

The public Python API. The command line (``bucketmap.cli``) is a thin layer over these.
"""

from backtest.conventions import Rebalance, Weighting
from buckets.errors import (
    BucketmapError,
    FetchError,
    OutputError,
    PriceDataError,
    ResultsError,
    RunConfigError,
    StoreError,
    UniverseError,
    UniverseErrors,
)

__version__ = "0.1.0"

__all__ = [
    "BucketmapError",
    "FetchError",
    "OutputError",
    "PriceDataError",
    "Rebalance",
    "ResultsError",
    "RunConfigError",
    "StoreError",
    "UniverseError",
    "UniverseErrors",
    "Weighting",
    "__version__",
]
