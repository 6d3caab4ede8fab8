"""bucketmap: test an investment thesis by backtesting buckets of tickers against benchmarks.

The public Python API. The command line (``bucketmap.cli``) is a thin layer over these:
``bucketmap.run(...)`` is ``bucketmap run`` as a function returning a :class:`RunResults`
(:mod:`bucketmap.notebook`); ``bucketmap.api`` has every other job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from bucketmap.notebook import RunResults

__version__ = "0.1.0"


def run(universes: Any = "universes", **options: Any) -> RunResults:
    """``bucketmap run`` as a function: see :func:`bucketmap.notebook.run` for the options (the
    CLI's, as keywords). Imported on first call, so ``import bucketmap`` stays light."""
    from bucketmap.notebook import run as run_

    return run_(universes, **options)


def __getattr__(name: str) -> Any:
    if name == "RunResults":
        from bucketmap.notebook import RunResults

        return RunResults
    raise AttributeError(f"module 'bucketmap' has no attribute {name!r}")


__all__ = [
    "BucketmapError",
    "FetchError",
    "OutputError",
    "PriceDataError",
    "Rebalance",
    "ResultsError",
    "RunResults",
    "RunConfigError",
    "StoreError",
    "UniverseError",
    "UniverseErrors",
    "Weighting",
    "__version__",
    "run",
]
