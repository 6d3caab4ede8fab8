"""The price sample shipped with the package (``--prices sample``): it covers the default
universes, its values are the snapshot's own, the word ``sample`` reads it from any command, and
the package ships it."""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from backtest.conventions import RISK_FREE_TICKER
from backtest.evidence.excess import ClaimOptions
from backtest.prices.sample import SAMPLE_SOURCE, sample_path, sample_tickers
from backtest.prices.sources import read_price_path
from backtest.prices.store import PriceStore
from bucketmap.cli import app
from buckets.errors import PriceDataError
from buckets.files import load_universe
from tests.conftest import ROOT, SAMPLE_PARQUET, SNAPSHOT_CSV

PROVENANCE = SAMPLE_PARQUET.parent / "README.md"


def test_the_sample_holds_every_ticker_the_default_universes_name() -> None:
    universe = load_universe(ROOT / "universes")
    wide = pd.read_parquet(SAMPLE_PARQUET)
    wanted = sample_tickers(universe, [RISK_FREE_TICKER, *ClaimOptions().factors])
    assert set(wanted) <= set(wide.columns)
    # every member of every bucket, rejected ones too, and the claims' rule tickers (IGV)
    members = {m.ticker for b in universe.buckets.values() for m in b.members}
    assert members | {"SPY", "QQQ", "SMH", "NVDA", "IGV", "^IRX"} <= set(wide.columns)
    assert wide.index[0] == pd.Timestamp("2015-01-02")
    assert wide.index[-1] == pd.Timestamp("2026-08-03")
    assert sample_path() == SAMPLE_PARQUET


@pytest.mark.skipif(not SNAPSHOT_CSV.is_dir(), reason="checks the sample against ../shared")
def test_the_samples_values_are_the_snapshots_csvs_exactly() -> None:
    wide = pd.read_parquet(SAMPLE_PARQUET)
    for ticker in wide.columns:
        csv = pd.read_csv(SNAPSHOT_CSV / f"{ticker}.csv", index_col="Date", parse_dates=True)
        got = wide[ticker].dropna()
        assert got.index.equals(pd.DatetimeIndex(csv.index)), ticker
        assert np.array_equal(got.to_numpy(), csv["Close"].to_numpy()), ticker


def test_the_word_sample_reads_the_sample_and_a_folder_named_so_is_a_folder(
    tmp_path: Path,
) -> None:
    got = read_price_path(Path("sample"), ["NVDA", "ALAB", "NOPE"])
    wide = pd.read_parquet(SAMPLE_PARQUET)
    assert set(got) == {"NVDA", "ALAB"}
    for t, s in got.items():
        assert np.array_equal(s.to_numpy(), wide[t].dropna().to_numpy())
    assert got["ALAB"].index[0] == pd.Timestamp("2024-03-20")  # not back-filled
    # beside a folder called sample the word is ambiguous: refused, naming it; its full path reads it
    folder = tmp_path / "sample"
    folder.mkdir()
    (folder / "AAA.csv").write_text("Date,Close\n2024-01-02,10\n2024-01-03,11\n")
    cwd = Path.cwd()
    try:
        os.chdir(tmp_path)
        with pytest.raises(PriceDataError, match="names both the price sample shipped with"):
            read_price_path(Path("sample"))
        assert list(read_price_path(folder)) == ["AAA"]
    finally:
        os.chdir(cwd)


def test_prices_import_sample_fills_the_store(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["prices", "import", "sample", "--store", str(tmp_path / "st")])
    assert res.exit_code == 0, res.output
    found, missing = PriceStore(tmp_path / "st").read(["SPY", "^IRX"])
    assert not missing
    wide = pd.read_parquet(SAMPLE_PARQUET)
    assert np.array_equal(found["SPY"].to_numpy(), wide["SPY"].dropna().to_numpy())
    assert SAMPLE_SOURCE.startswith("sample shipped with bucketmap")


def test_the_provenance_note_names_the_origin_and_the_files_checksum() -> None:
    text = PROVENANCE.read_text()
    assert (
        "dsturdy/Factor_Attribution" in text and "712ab00cb7d01c788507bc417162a4269e29bf69" in text
    )
    digest = hashlib.sha256(SAMPLE_PARQUET.read_bytes()).hexdigest()
    assert digest in text, "sample.parquet was rebuilt: put its SHA-256 in data/README.md"
    assert f"{len(pd.read_parquet(SAMPLE_PARQUET).columns)}" in text  # the ticker count


def test_the_package_ships_the_sample_and_every_subpackage() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    data = config["package-data"]["backtest.prices"]
    assert {"data/sample.parquet", "data/README.md"} <= set(data)
    include = config["packages"]["find"]["include"]
    packages = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("bucketmap", "buckets", "backtest", "reports")
        for p in (ROOT / top).rglob("__init__.py")
    }
    assert {"backtest.prices", "backtest.evidence", "backtest.simulation"} <= packages
    for package in packages:
        assert any(re.fullmatch(pat.replace("*", ".*"), package) for pat in include), package
