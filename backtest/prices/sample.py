"""The price sample shipped with the package: ``--prices sample``.

``data/sample.parquet`` holds the adjusted daily closes of every ticker the default universes
name (all members of every bucket, the benchmarks, the claims' benchmark and rule tickers), the
claims' factors and the risk-free proxy ``^IRX``, from 2015-01-02 to 2026-08-03, taken from the
project's price snapshot (``data/README.md`` states where it comes from and on what terms). It
lets a fresh install run the main job with no network and no data of its own; it is a sample,
not a price source to keep up to date (``bucketmap prices fetch`` is).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from buckets.errors import PriceDataError
from buckets.models import Universe

SAMPLE = "sample"
"""The ``--prices`` value that names the shipped sample. When the working folder holds a file or
folder called ``sample`` the word is ambiguous and refused (:func:`resolve_sample`)."""
SAMPLE_FILE = "sample.parquet"
SAMPLE_SOURCE = "sample shipped with bucketmap (Yahoo adjusted closes, 2015-01-02 to 2026-08-03)"
"""How a run on the sample names its price source (``results.json`` → ``run.price_source``)."""


def sample_path() -> Path:
    """Where the installed package keeps the sample (a wide zstd parquet)."""
    return Path(__file__).resolve().parent / "data" / SAMPLE_FILE


def is_sample(path: Path) -> bool:
    """True when ``path`` is the bare word ``sample`` (``./sample`` reads the same to pathlib)."""
    return str(path) == SAMPLE


def resolve_sample(path: Path) -> Path:
    """The sample's file for the word ``sample``, else ``path`` itself.

    Raises :class:`PriceDataError` when ``sample`` also names something in the working folder:
    which one was meant cannot be told, so neither is read."""
    if not is_sample(path):
        return path
    if path.exists() or path.is_symlink():
        raise PriceDataError(
            "names both the price sample shipped with bucketmap and the "
            f"{'folder' if path.is_dir() else 'file'} ./sample here; for yours pass its full "
            "path (e.g. $PWD/sample), for the shipped one run from another folder",
            file=path,
        )
    return sample_path()


def sample_tickers(universe: Universe, extra: Iterable[str] = ()) -> list[str]:
    """Every ticker ``universe`` names, in file order: all members of every bucket (rejected ones
    too, so a reversed rejection still has prices), benchmark tickers and the claims' tickers,
    then ``extra``."""
    names: list[str] = []
    for bucket in universe.buckets.values():
        names += [m.ticker for m in bucket.members]
    names += [*universe.benchmark_tickers(), *universe.claim_tickers(), *extra]
    return list(dict.fromkeys(names))
