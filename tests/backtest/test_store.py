"""The price store: round trip, provenance, merge, damage detection, path safety."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from backtest.prices.store import PriceStore
from buckets.errors import StoreError


def s(values: list[float], start: str = "2024-01-02") -> pd.Series:
    idx = pd.bdate_range(start, periods=len(values), name="date")
    return pd.Series(values, index=idx, dtype="float64")


def test_round_trip_and_provenance(tmp_path: Path) -> None:
    store = PriceStore(tmp_path / "st")
    store.write({"AAA": s([1.0, 2.0, 3.0])}, source="import:x")
    got, missing = store.read(["AAA", "ZZZ"])
    assert missing == ["ZZZ"]
    assert got["AAA"].to_list() == [1.0, 2.0, 3.0]
    assert list(got["AAA"].index.strftime("%Y-%m-%d")) == ["2024-01-02", "2024-01-03", "2024-01-04"]
    rec = store.records()["AAA"]
    assert (rec.first, rec.last, rec.rows, rec.source) == (
        "2024-01-02",
        "2024-01-04",
        3,
        "import:x",
    )


def test_write_replaces_a_stored_series_whole(tmp_path: Path) -> None:
    store = PriceStore(tmp_path)
    store.write({"AAA": s([1.0, 2.0, 3.0])}, source="yahoo")
    store.write({"AAA": s([9.0, 3.0], start="2024-01-03")}, source="import:x")
    got, _ = store.read(["AAA"])
    assert got["AAA"].to_list() == [9.0, 3.0]
    assert (store.records()["AAA"].first, store.records()["AAA"].source) == (
        "2024-01-03",
        "import:x",
    )


def test_damaged_file_is_reported_by_name(tmp_path: Path) -> None:
    store = PriceStore(tmp_path)
    (record,) = store.write({"AAA": s([1.0, 2.0])}, source="yahoo")
    path = tmp_path / record.file
    path.write_bytes(path.read_bytes()[:20])  # truncated
    with pytest.raises(
        StoreError, match=r"AAA\.\w{12}\.parquet: damaged .*re-import or re-fetch AAA"
    ):
        store.read(["AAA"])


def test_a_ticker_never_becomes_a_path_outside_the_store(tmp_path: Path) -> None:
    store = PriceStore(tmp_path)
    with pytest.raises(StoreError, match="not a ticker symbol"):
        store.write({"../../etc/passwd": s([1.0, 2.0])}, source="x")
    assert not (tmp_path / "manifest.json").exists()


WRITER = """
import sys
from pathlib import Path
import pandas as pd
from backtest.prices.store import PriceStore
store = PriceStore(Path(sys.argv[1]))
prefix = sys.argv[2]
for i in range(25):
    idx = pd.bdate_range("2024-01-02", periods=50 + i, name="date")
    store.write({f"{prefix}{i}": pd.Series(range(1, 51 + i), index=idx, dtype="float64")},
                source=prefix)
"""


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    root = tmp_path / "shared-store"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(root), prefix], cwd=ROOT)
        for prefix in ("A", "B")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    store = PriceStore(root)
    expected = sorted(f"{p}{i}" for p in "AB" for i in range(25))
    assert store.tickers() == expected
    got, missing = store.read(expected)  # every file matches its checksum
    assert missing == []
    assert [len(got[f"A{i}"]) for i in range(25)] == [50 + i for i in range(25)]


def test_a_new_version_never_overwrites_the_file_the_manifest_points_to(tmp_path: Path) -> None:
    store = PriceStore(tmp_path)
    (old,) = store.write({"AAA": s([1.0, 2.0])}, source="a")
    (new,) = store.write({"AAA": s([1.0, 3.0])}, source="b")
    assert old.file != new.file
    assert sorted(p.name for p in (tmp_path / "prices").iterdir()) == [Path(new.file).name]
    # what a killed writer leaves (a file no manifest lists, a temp file) goes at the next write
    (tmp_path / "prices" / "AAA.0123456789ab.parquet").write_bytes(b"half")
    (tmp_path / "prices" / ".x.parquet.abc.tmp").write_bytes(b"half")
    store.write({"BBB": s([5.0, 6.0])}, source="c")
    names = sorted(p.name for p in (tmp_path / "prices").iterdir())
    assert names == sorted([Path(new.file).name, Path(store.records()["BBB"].file).name])
