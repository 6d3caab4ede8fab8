"""Bad input: every kind gets one line naming the file (and line or field), exit code 2, no
traceback, nothing written. Property tests: generated universes and price tables either run or
fail that way, never with an unhandled exception."""

from __future__ import annotations

import json
import os
import re
import string
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bucketmap.cli import app
from tests.conftest import ROOT, TINY_BENCH, TINY_BUCKET

runner = CliRunner()

GOOD_CSV = "Date,Close\n" + "".join(
    f"{d:%Y-%m-%d},{100 + i}\n" for i, d in enumerate(pd.bdate_range("2024-01-02", periods=30))
)


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """universes/ (duo: AAA, BBB; benchmark SPY) and prices/ with 30 good days each."""
    (tmp_path / "universes").mkdir()
    (tmp_path / "universes" / "duo.yaml").write_text(TINY_BUCKET)
    (tmp_path / "universes" / "benchmarks.yaml").write_text(TINY_BENCH)
    (tmp_path / "prices").mkdir()
    for t in ("AAA", "BBB", "SPY"):
        (tmp_path / "prices" / f"{t}.csv").write_text(GOOD_CSV)
    return tmp_path


def run(world: Path, *extra: str) -> object:
    return runner.invoke(
        app,
        ["run", "--universes", str(world / "universes"), "--prices", str(world / "prices"),
         "--out", str(world / "out"), "--start", "2024-01-01", *extra],
    )  # fmt: skip


def assert_clean_failure(res: object, world: Path, *expected: str) -> str:
    """Exit 2, one line on stderr containing each ``expected`` piece, no traceback, no output."""
    assert res.exit_code == 2, res.output  # type: ignore[attr-defined]
    line = res.stderr.strip()  # type: ignore[attr-defined]
    assert "\n" not in line and line.startswith("error: "), line
    assert "Traceback" not in res.output  # type: ignore[attr-defined]
    for piece in expected:
        assert piece in line, (piece, line)
    assert not (world / "out").exists()
    return line


def test_the_world_runs(world: Path) -> None:
    assert run(world).exit_code == 0


UNIVERSE_CASES = {
    "malformed YAML": ("duo.yaml", "side: long\nmembers: [\n", "duo.yaml:3: not valid YAML"),
    "wrong type": ("duo.yaml", "side: long\nmembers: 5\n", "duo.yaml:2: members:"),
    "unknown key": (
        "duo.yaml",
        TINY_BUCKET.replace("side: long", "side: long\ncolour: red"),
        "duo.yaml:3: colour: unknown key",
    ),
    "duplicate member": (
        "duo.yaml",
        TINY_BUCKET.replace("ticker: BBB", "ticker: AAA"),
        "duo.yaml: ticker AAA is listed twice",
    ),
    "duplicate key": (
        "duo.yaml",
        TINY_BUCKET.replace("side: long", "side: long\nside: hedge"),
        "duo.yaml",
    ),
    "path as ticker": (
        "duo.yaml",
        TINY_BUCKET.replace("ticker: BBB", "ticker: ../../etc/passwd"),
        "members[1].ticker: '../../ETC/PASSWD' is not a ticker symbol",
    ),
    "empty ticker": (
        "duo.yaml",
        TINY_BUCKET.replace("ticker: BBB", "ticker: ''"),
        "members[1].ticker: '' is not a ticker symbol",
    ),
    "200-character ticker": (
        "duo.yaml",
        TINY_BUCKET.replace("ticker: BBB", "ticker: " + "B" * 200),
        "members[1].ticker:",
    ),
    "control character": (
        "duo.yaml",
        TINY_BUCKET.replace("ticker: BBB", 'ticker: "B\\x07B"'),
        "members[1].ticker:",
    ),
    "impossible date": (
        "claims.yaml",
        "claims:\n  - id: a\n    source: s\n    statement: s\n    bucket: duo\n"
        "    benchmark: SPY\n    start: 2024-13-45\n",
        "claims.yaml:7: not a valid date (month must be in 1..12)",
    ),
    "date that is not a date": (
        "claims.yaml",
        "claims:\n  - id: a\n    source: s\n    statement: s\n    bucket: duo\n"
        "    benchmark: SPY\n    start: someday\n",
        "claims.yaml:7: claims[0].start:",
    ),
    "end before start": (
        "claims.yaml",
        "claims:\n  - id: a\n    source: s\n    statement: s\n    bucket: duo\n"
        "    benchmark: SPY\n    start: 2024-03-01\n    end: 2024-02-01\n",
        "end 2024-02-01 is not after start 2024-03-01",
    ),
    "python object tag": (
        "duo.yaml",
        "side: !!python/object/apply:os.system ['touch PWNED']\nmembers: []\n",
        "duo.yaml",
    ),
    "benchmark bucket that does not exist": (
        "benchmarks.yaml",
        "benchmarks:\n  - SPY\n  - nosuch\n",
        "benchmarks.yaml",
    ),
}


@pytest.mark.parametrize("case", list(UNIVERSE_CASES))
def test_bad_universe_files(world: Path, case: str) -> None:
    name, text, expected = UNIVERSE_CASES[case]
    (world / "universes" / name).write_text(text)
    assert_clean_failure(run(world), world, str(world / "universes"), expected)
    assert not Path("PWNED").exists()


def test_a_second_bucket_file_duplicating_a_bucket_is_an_error(world: Path) -> None:
    (world / "universes" / "duo.yml").write_text(TINY_BUCKET)
    assert_clean_failure(run(world), world, "duo")


PRICE_CASES = {
    "missing column": ("Date,Price\n2024-01-02,1\n2024-01-03,2\n", "Close: no Close or Adj Close"),
    "non-numeric": (GOOD_CSV.replace(",105\n", ",abc\n"), "Close: value 'abc' on 2024-01-09"),
    "NaN": (GOOD_CSV.replace(",105\n", ",NaN\n"), "Close: no value on 2024-01-09"),
    "empty value": (GOOD_CSV.replace(",105\n", ",\n"), "Close: no value on 2024-01-09"),
    "inf": (GOOD_CSV.replace(",105\n", ",inf\n"), "Close: value on 2024-01-09 is not finite"),
    "zero": (GOOD_CSV.replace(",105\n", ",0\n"), "Close: price 0 on 2024-01-09 is not positive"),
    "negative": (GOOD_CSV.replace(",105\n", ",-3\n"), "price -3 on 2024-01-09 is not positive"),
    "duplicate date": (
        GOOD_CSV + "2024-02-12,200\n",
        "Date: date 2024-02-12 appears twice",
    ),
    "unsorted dates": (
        "Date,Close\n2024-01-03,1\n2024-01-02,2\n2024-01-04,3\n",
        "Date: dates are not sorted",
    ),
    "bad date": (GOOD_CSV.replace("2024-01-09", "2024-02-30"), "'2024-02-30' is not a date"),
    "empty file": ("", "the file is empty"),
    "header only": ("Date,Close\n", "has a header but no rows"),
    "one row": ("Date,Close\n2024-01-02,1\n", "has 1 price row; at least 2 are needed"),
    "binary": ("\x00\x01garbage\x02", "AAA.csv"),
}


@pytest.mark.parametrize("case", list(PRICE_CASES))
def test_bad_price_files(world: Path, case: str) -> None:
    text, expected = PRICE_CASES[case]
    (world / "prices" / "AAA.csv").write_text(text)
    assert_clean_failure(run(world), world, str(world / "prices" / "AAA.csv"), expected)


def test_bom_and_windows_line_endings_are_fine(world: Path) -> None:
    crlf = GOOD_CSV.replace("\n", "\r\n")
    (world / "prices" / "AAA.csv").write_bytes(b"\xef\xbb\xbf" + crlf.encode())
    assert run(world).exit_code == 0


def test_a_parquet_that_is_not_a_parquet(world: Path) -> None:
    fake = world / "prices.parquet"
    fake.write_text("not a parquet")
    res = runner.invoke(
        app,
        ["run", "--universes", str(world / "universes"), "--prices", str(fake),
         "--out", str(world / "out")],
    )  # fmt: skip
    assert_clean_failure(res, world, str(fake), "not a readable parquet file")
    res = runner.invoke(app, ["prices", "import", str(fake), "--store", str(world / "st")])
    assert res.exit_code == 2 and str(fake) in res.stderr
    assert not (world / "st" / "manifest.json").exists()


def test_member_and_benchmark_without_prices(world: Path) -> None:
    (world / "prices" / "BBB.csv").unlink()
    assert_clean_failure(run(world), world, "bucket duo: 1 of 2 members have no prices", "BBB")
    (world / "prices" / "SPY.csv").unlink()
    assert_clean_failure(run(world), world, "benchmark SPY has no prices")


def test_dates_on_the_command_line(world: Path) -> None:
    assert_clean_failure(run(world, "--end", "2023-01-01"), world, "--end 2023-01-01 is not after")
    res = run(world, "--start", "tomorrow")
    assert res.exit_code == 2 and "Traceback" not in res.output  # typer's own usage error
    assert not (world / "out").exists()


# --- property tests --------------------------------------------------------------------------------

scalars = st.one_of(
    st.text(max_size=12),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.dates().map(str),
    st.sampled_from(["long", "hedge", "avoid", "context", "proposed", "verified", "rejected"]),
)
tickers = st.one_of(
    st.sampled_from(["AAA", "BBB", "SPY", "ZZZ", "../x", "", "a b", "X" * 40]),
    st.text(alphabet=string.printable, max_size=8),
)
members = st.lists(
    st.fixed_dictionaries(
        {"ticker": tickers, "status": scalars, "rationale": scalars},
        optional={"weight": scalars, "verified_by": scalars, "verified_on": scalars, "x": scalars},
    ),
    max_size=3,
)
bucket_docs = st.fixed_dictionaries(
    {"side": scalars, "members": st.one_of(members, scalars)}, optional={"description": scalars}
)


def _yaml_dump(doc: object) -> str:
    import io

    from ruamel.yaml import YAML

    out = io.StringIO()
    YAML(typ="safe", pure=True).dump(doc, out)
    return out.getvalue()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(doc=bucket_docs)
def test_any_bucket_file_runs_or_fails_cleanly(world: Path, doc: dict[str, object]) -> None:
    (world / "universes" / "duo.yaml").write_text(_yaml_dump(doc))
    res = run(world)
    if res.exit_code == 0:  # type: ignore[attr-defined]
        assert (world / "out" / "results.json").exists()
        import shutil

        shutil.rmtree(world / "out")
    else:
        assert_clean_failure(res, world)


price_cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from(["", "abc", "NaN", "null", "1e400", "-0", " 5 "]),
)
date_cells = st.one_of(
    st.dates(
        min_value=pd.Timestamp("2023-12-01").date(), max_value=pd.Timestamp("2024-03-01").date()
    ).map(str),
    st.sampled_from(["", "2024-02-30", "yesterday", "2024/01/05"]),
)


GOOD_ROWS = [tuple(line.split(",")) for line in GOOD_CSV.splitlines()[1:]]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(GOOD_ROWS) - 1), st.booleans(), date_cells, price_cells),
        max_size=3,
    ),
    drop=st.lists(st.integers(0, len(GOOD_ROWS) - 1), max_size=30),
    header=st.booleans(),
)
def test_any_price_table_runs_or_fails_cleanly(
    world: Path,
    edits: list[tuple[int, bool, str, object]],
    drop: list[int],
    header: bool,
) -> None:
    # a good table, with rows dropped and up to three cells replaced by anything
    rows = [list(r) for r in GOOD_ROWS]
    for at, date_side, date, price in edits:
        rows[at][0 if date_side else 1] = date if date_side else str(price)
    rows = [r for i, r in enumerate(rows) if i not in set(drop)]
    text = ("Date,Close\n" if header else "") + "".join(f"{d},{p}\n" for d, p in rows)
    (world / "prices" / "AAA.csv").write_text(text)
    res = run(world)
    if res.exit_code == 0:  # type: ignore[attr-defined]
        assert (world / "out" / "results.json").exists()
        import shutil

        shutil.rmtree(world / "out")
    else:
        line = assert_clean_failure(res, world)
        assert "AAA.csv" in line or "duo" in line or "window" in line, line


# --- YAML files that are not data, or not files ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "side: long\nmembers: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "side: long\nmembers: " + "{a: " * 100_000 + "1" + "}" * 100_000 + "\n",
        "side: long\nmembers:\n"
        + "".join(" " * i + "-\n" for i in range(1, 2000))
        + " " * 2000
        + "x\n",
    ],
    ids=["flow sequences", "flow mappings", "block sequences"],
)
def test_deep_nesting_is_one_line(world: Path, text: str) -> None:
    (world / "universes" / "duo.yaml").write_text(text)
    assert_clean_failure(
        run(world), world, str(world / "universes" / "duo.yaml"), "nested deeper than 32 levels"
    )


def _validate_in_a_process(folder: Path) -> subprocess.CompletedProcess[str]:
    """``bucketmap universes validate`` in a fresh interpreter, so a hang fails the test instead
    of stopping the suite."""
    return subprocess.run(
        [sys.executable, "-m", "bucketmap", "universes", "validate", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_benchmarks_file_that_is_a_device_or_a_fifo_is_refused_before_reading(
    world: Path,
) -> None:
    bench = world / "universes" / "benchmarks.yaml"
    bench.unlink()
    bench.symlink_to("/dev/zero")
    proc = _validate_in_a_process(world / "universes")
    assert proc.returncode == 2
    assert f"{bench}: a device, not a regular file; refusing to read it" in proc.stderr
    bench.unlink()
    os.mkfifo(bench)
    proc = _validate_in_a_process(world / "universes")
    assert proc.returncode == 2
    assert f"{bench}: a FIFO (named pipe), not a regular file; refusing to read it" in proc.stderr


# --- the price store: a hand-edited manifest, a mistyped --store -------------------------------------


@pytest.fixture
def stored(world: Path) -> Path:
    """world's prices imported into world/store."""
    res = runner.invoke(
        app, ["prices", "import", str(world / "prices"), "--store", str(world / "store")]
    )
    assert res.exit_code == 0, res.output
    return world


def _edit_record(world: Path, change: object) -> None:
    import json

    path = world / "store" / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest["tickers"])  # type: ignore[operator]
    path.write_text(json.dumps(manifest))


MANIFEST_EDITS = {
    "a key removed": (lambda t: t["AAA"].pop("sha256"), "record AAA: sha256: Field required"),
    "a key added": (
        lambda t: t["AAA"].update(note="x"),
        "record AAA: note: Extra inputs are not permitted",
    ),
    "rows as text": (
        lambda t: t["AAA"].update(rows="30"),
        "record AAA: rows: Input should be a valid integer",
    ),
    "a date that is not one": (
        lambda t: t["AAA"].update(first="soon"),
        "record AAA: first: String should match pattern",
    ),
    "a record that is a list": (
        lambda t: t.update(AAA=[1]),
        "record AAA: Input should be a valid dictionary",
    ),
    "a ticker that is a path": (
        lambda t: t.update({"../X": t["AAA"]}),
        "'../X' is not a ticker symbol",
    ),
}


@pytest.mark.parametrize("case", list(MANIFEST_EDITS))
def test_a_hand_edited_manifest_record_is_one_line(stored: Path, case: str) -> None:
    change, expected = MANIFEST_EDITS[case]
    _edit_record(stored, change)
    res = runner.invoke(app, ["prices", "info", "--store", str(stored / "store")])
    assert res.exit_code == 2, res.output
    line = res.stderr.strip()
    assert "\n" not in line and "Traceback" not in res.output
    assert line.startswith(f"error: {stored / 'store' / 'manifest.json'}: ") and expected in line
    if case != "a ticker that is a path":
        res = runner.invoke(
            app,
            ["run", "--universes", str(stored / "universes"), "--store", str(stored / "store"),
             "--no-fetch", "--out", str(stored / "out"), "--start", "2024-01-01"],
        )  # fmt: skip
        assert_clean_failure(res, stored, expected)


def test_a_mistyped_store_is_not_created(world: Path) -> None:
    typo = world / "stroe"
    res = runner.invoke(app, ["prices", "info", "--store", str(typo)])
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        f"error: {typo}: no price store here; check --store, or fill one with `bucketmap prices "
        "import` / `prices fetch`"
    )
    res = runner.invoke(
        app,
        ["run", "--universes", str(world / "universes"), "--store", str(typo), "--no-fetch",
         "--out", str(world / "out")],
    )  # fmt: skip
    assert_clean_failure(res, world, f"{typo}: no price store here")
    assert not typo.exists()


# --- prices are numbers on dates ---------------------------------------------------------------------

DAYS30 = [f"{d:%Y-%m-%d}" for d in pd.bdate_range("2024-01-02", periods=30)]


def _wide_csv(world: Path, header: str, rows: list[str] | None = None) -> Path:
    """A wide CSV beside the world: ``header``, then one row per day of GOOD_CSV's 30 days with
    the day's number 100 + i in every column (unless ``rows`` are given)."""
    width = header.count(",")
    body = rows or [f"{d}," + ",".join([str(100 + i)] * width) for i, d in enumerate(DAYS30)]
    path = world / "wide.csv"
    path.write_text(header + "\n" + "\n".join(body) + "\n")
    return path


def run_on(world: Path, prices: Path) -> object:
    return runner.invoke(
        app,
        ["run", "--universes", str(world / "universes"), "--prices", str(prices),
         "--out", str(world / "out"), "--start", "2024-01-01"],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Date,AAA,BBB,SPY,aaa", "columns 'AAA' and 'aaa' are the same name"),
        ("Date,AAA,BBB,SPY,AAA", "columns 'AAA' and 'AAA' are the same name"),
        ("Date,AAA,BBB,SPY,AAA ", "columns 'AAA' and 'AAA' are the same name"),
        # (the one-line error shows runs of spaces as one)
        ("Date,AAA,BBB,SPY,A  A,a a", "columns 'A A' and 'a a' are the same name"),
    ],
    ids=["case", "repeated", "trailing space", "inner spaces"],
)
def test_columns_repeated_after_normalising_are_refused_naming_them(
    world: Path, header: str, expected: str
) -> None:
    path = _wide_csv(world, header)
    assert_clean_failure(run_on(world, path), world, f"{path}: {expected} (case and spaces aside)")


def test_dates_parse_whole(world: Path) -> None:
    (world / "prices" / "AAA.csv").write_text(GOOD_CSV.replace("2024-01-09", "2024-01-099"))
    assert_clean_failure(run(world), world, "AAA.csv: Date: row 7: '2024-01-099' is not a date")


def test_a_wide_csv_with_tickers_named_like_price_fields_is_wide(world: Path) -> None:
    (world / "universes" / "duo.yaml").write_text(
        TINY_BUCKET.replace("AAA", "LOW").replace("BBB", "OPEN")
    )
    rows = [f"{d},{100 + i},{50 + i},{200 + i},7" for i, d in enumerate(DAYS30)]
    path = _wide_csv(world, "Date,LOW,OPEN,SPY,HIGH", rows)
    res = run_on(world, path)
    assert res.exit_code == 0, res.output
    returns = pd.read_csv(world / "out" / "returns.csv", index_col="date")
    # SPY from 200 to 229; the bucket holds LOW (100 → 129) and OPEN (50 → 79) equally at first
    assert float((1 + returns["SPY"]).prod()) == pytest.approx(229 / 200, abs=1e-12)


def _parquet(world: Path, table: object) -> Path:
    import pyarrow.parquet as pq

    path = world / "wide.parquet"
    pq.write_table(table, path)  # type: ignore[arg-type]
    return path


def _good_columns() -> dict[str, list[float]]:
    return {t: [100.0 + i for i in range(30)] for t in ("AAA", "BBB", "SPY")}


def test_a_parquet_whose_dates_are_integers_is_refused(world: Path) -> None:
    import pyarrow as pa

    for dates in ([int(d.replace("-", "")) for d in DAYS30],  # YYYYMMDD
                  [int(pd.Timestamp(d).timestamp()) for d in DAYS30]):  # epoch seconds  # fmt: skip
        frame = pd.DataFrame(_good_columns(), index=pd.Index(dates, name="date"))
        path = _parquet(world, pa.Table.from_pandas(frame))
        assert_clean_failure(
            run_on(world, path), world, f"{path}: date: the index holds int64 values, not dates"
        )


def test_a_parquet_with_a_repeated_field_is_refused(world: Path) -> None:
    import pyarrow as pa

    arrays = [pa.array(pd.to_datetime(DAYS30))] + [pa.array([100.0 + i for i in range(30)])] * 4
    table = pa.Table.from_arrays(arrays, names=["date", "AAA", "BBB", "SPY", "AAA"])
    path = _parquet(world, table)
    assert_clean_failure(
        run_on(world, path), world, f"{path}: columns 'AAA' and 'AAA' are the same"
    )


def test_two_timestamps_on_one_day_are_two_rows_for_that_day(world: Path) -> None:
    import pyarrow as pa

    stamps = list(pd.to_datetime(DAYS30))
    stamps[5] = stamps[4] + pd.Timedelta(hours=16)  # 2024-01-08 09:30 and 16:00... on one day
    stamps[4] = stamps[4] + pd.Timedelta(hours=9, minutes=30)
    frame = pd.DataFrame(_good_columns(), index=pd.DatetimeIndex(stamps, name="date"))
    path = _parquet(world, pa.Table.from_pandas(frame))
    assert_clean_failure(run_on(world, path), world, "Date: date 2024-01-08 appears twice")


@pytest.mark.parametrize("kind", ["bool", "timestamp"])
def test_a_column_of_booleans_or_timestamps_is_not_prices(world: Path, kind: str) -> None:
    import pyarrow as pa

    columns: dict[str, object] = dict(_good_columns())
    columns["AAA"] = [True] * 30 if kind == "bool" else list(pd.to_datetime(DAYS30))
    frame = pd.DataFrame(columns, index=pd.DatetimeIndex(pd.to_datetime(DAYS30), name="date"))
    path = _parquet(world, pa.Table.from_pandas(frame))
    shown = "booleans" if kind == "bool" else "datetime64[us] values"
    assert_clean_failure(
        run_on(world, path), world, f"AAA: Close: the column holds {shown}, not prices"
    )


def test_two_files_of_one_ticker_in_a_folder_are_refused(world: Path) -> None:
    (world / "prices" / "aaa.csv").write_text(GOOD_CSV)
    assert_clean_failure(
        run(world), world, f"{world / 'prices'}: AAA.csv and aaa.csv are both ticker AAA; keep one"
    )
    res = runner.invoke(
        app, ["prices", "import", str(world / "prices"), "--store", str(world / "st")]
    )
    assert res.exit_code == 1
    assert (
        "refused: " + f"{world / 'prices'}: AAA.csv and aaa.csv are both ticker AAA" in res.stderr
    )
    assert sorted(json.loads((world / "st" / "manifest.json").read_text())["tickers"]) == [
        "BBB",
        "SPY",
    ]


def test_a_folder_without_csv_files_imports_nothing_and_says_why(world: Path) -> None:
    empty = world / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no prices here")
    res = runner.invoke(app, ["prices", "import", str(empty), "--store", str(world / "st")])
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        f"error: {empty}: no <TICKER>.csv files in this folder (a folder holds one CSV per ticker)"
    )
    assert not (world / "st").exists()


def test_a_price_file_that_is_a_fifo_is_refused_before_reading(world: Path) -> None:
    fifo = world / "prices.csv"
    os.mkfifo(fifo)
    proc = subprocess.run(
        [sys.executable, "-m", "bucketmap", "prices", "import", str(fifo), "--store",
         str(world / "st")],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"error: {fifo}: a FIFO (named pipe), not a regular file; refusing to read it"
    )


def test_a_bucket_file_with_an_upper_case_suffix_is_not_skipped(world: Path) -> None:
    (world / "universes" / "X.YAML").write_text(TINY_BUCKET)
    assert_clean_failure(run(world), world, "X.YAML: 'X' is not a bucket name")
    (world / "universes" / "X.YAML").rename(world / "universes" / "trio.YAML")
    res = runner.invoke(app, ["universes", "list", "--universes", str(world / "universes")])
    assert res.exit_code == 0 and "trio" in res.stdout


def test_a_parquet_without_a_single_price_imports_nothing_and_says_why(world: Path) -> None:
    columns = {"AAA": [float("nan")] * 30}
    frame = pd.DataFrame(columns, index=pd.DatetimeIndex(pd.to_datetime(DAYS30), name="date"))
    frame.to_parquet(world / "empty.parquet")
    res = runner.invoke(
        app, ["prices", "import", str(world / "empty.parquet"), "--store", str(world / "st")]
    )
    assert res.exit_code == 2
    assert (
        res.stderr.strip()
        == f"error: {world / 'empty.parquet'}: holds no price series; nothing to import"
    )


# --- claims name what exists; custom weights hold something ----------------------------------------

CLAIM = (
    "claims:\n  - id: c\n    source: s\n    statement: s\n    bucket: duo\n"
    "    benchmark: {benchmark}\n    start: 2024-01-10\n"
)


@pytest.mark.parametrize(
    ("benchmark", "expected"),
    [
        (
            "'S&P 500'",
            "claims.yaml:6: claims[0].benchmark: 'S&P 500' is neither a ticker symbol nor a bucket",
        ),
        (
            "Nvda",
            "claims.yaml:6: claims[0].benchmark: 'Nvda' is neither a ticker symbol nor a bucket",
        ),
        ("gpus", "claims.yaml:6: claims[0].benchmark: no bucket named gpus"),
    ],
)
def test_a_claim_benchmark_that_names_nothing_is_refused(
    world: Path, benchmark: str, expected: str
) -> None:
    (world / "universes" / "claims.yaml").write_text(CLAIM.format(benchmark=benchmark))
    assert_clean_failure(run(world), world, expected)


def test_a_claim_benchmark_ticker_without_prices_is_refused(world: Path) -> None:
    (world / "universes" / "claims.yaml").write_text(CLAIM.format(benchmark="ZZZ"))
    assert_clean_failure(
        run(world), world, f"claim c: benchmark ZZZ has no prices in files: {world / 'prices'}"
    )


def test_a_claim_against_a_ticker_that_is_not_a_run_benchmark_loads_its_prices(
    world: Path,
) -> None:
    # QQQ is priced but not in benchmarks.yaml: it is read for the claim, and returns.csv has it
    closes = [200 + 3 * i - (i % 4) for i in range(30)]
    (world / "prices" / "QQQ.csv").write_text(
        "Date,Close\n" + "".join(f"{d},{c}\n" for d, c in zip(DAYS30, closes, strict=True))
    )
    (world / "universes" / "claims.yaml").write_text(CLAIM.format(benchmark="QQQ"))
    assert run(world).exit_code == 0
    returns = pd.read_csv(world / "out" / "returns.csv", index_col="date")
    assert returns["QQQ"].tolist() == pytest.approx(
        [closes[i] / closes[i - 1] - 1 for i in range(1, 30)], abs=1e-15
    )
    (claim,) = json.loads((world / "out" / "claims.json").read_text())["claims"]
    # days after the start (2024-01-10, the 7th of the 30 days) on which both have a return
    assert claim["test"]["days"] == 30 - 7
    assert claim["test"]["verdict"] != "insufficient_data"
    # duo (AAA and BBB, both 100 + i, equal weight) grows 129/106; QQQ from closes[6] to closes[29]
    assert claim["test"]["benchmark_return"] == pytest.approx(closes[29] / closes[6] - 1, abs=1e-12)
    assert claim["test"]["bucket_return"] == pytest.approx(129 / 106 - 1, abs=1e-12)


@pytest.mark.parametrize(("weights", "total"), [((0, 0), "0"), ((1e308, 1e308), "inf")])
def test_custom_weights_that_sum_to_zero_or_overflow_are_refused(
    world: Path, weights: tuple[float, float], total: str
) -> None:
    text = TINY_BUCKET.replace(
        "rationale: doubles", f"rationale: doubles\n    weight: {weights[0]}"
    )
    text = text.replace("rationale: flat", f"rationale: flat\n    weight: {weights[1]}")
    (world / "universes" / "duo.yaml").write_text(text)
    assert_clean_failure(
        run(world, "--weighting", "custom"),
        world,
        f"duo.yaml: the usable members' weights sum to {total}; custom weights are normalised",
    )


def test_custom_weights_of_the_priced_members_that_sum_to_zero_are_refused(world: Path) -> None:
    text = TINY_BUCKET.replace("rationale: doubles", "rationale: doubles\n    weight: 0")
    text = text.replace("rationale: flat", "rationale: flat\n    weight: 1")
    (world / "universes" / "duo.yaml").write_text(text)
    (world / "prices" / "BBB.csv").unlink()
    assert_clean_failure(
        run(world, "--weighting", "custom", "--max-missing", "0.5"),
        world,
        "bucket duo: the custom weights of its members with prices sum to 0 (AAA)",
    )


# --- bounds on every option, checked before anything is allocated; click's errors in one line ------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("--cost-bps", "10000"),
            "error: --cost-bps 10000: costs are a finite number of basis points from 0 up to (not including) 10,000",
        ),
        (("--cost-bps", "25000"), "error: --cost-bps 25000: costs are a finite number"),
        (("--cost-bps", "inf"), "error: --cost-bps inf: costs are a finite number"),
        (
            ("--cost-bps", "nan"),
            "error: Invalid value for '--cost-bps': Input should be greater than or equal to 0",
        ),
        (
            ("--cost-bps", "-1"),
            "error: Invalid value for '--cost-bps': Input should be greater than or equal to 0",
        ),
        (
            ("--max-missing", "nan"),
            "error: Invalid value for '--max-missing': Input should be less than or equal to 1",
        ),
        (
            ("--resamples", "99999999999"),
            "error: Invalid value for '--resamples': Input should be less than or equal to 100000",
        ),
        (
            ("--block-length", "0"),
            "error: Invalid value for '--block-length': Input should be greater than or equal to 1",
        ),
        (
            ("--seed", "4294967296"),
            "error: Invalid value for '--seed': Input should be less than or equal to 4294967295",
        ),
        (
            ("--start", "tomorrow"),
            "error: Invalid value for '--start': 'tomorrow' does not match the formats '%Y-%m-%d'.",
        ),
        (("--colour", "red"), "error: No such option: --colour"),
    ],
)
def test_option_errors_are_one_line(world: Path, args: tuple[str, ...], expected: str) -> None:
    line = assert_clean_failure(run(world, *args), world)
    assert line.startswith(expected), line


def test_a_huge_shift_range_is_refused_before_it_is_built(world: Path) -> None:
    import time

    began = time.monotonic()
    res = runner.invoke(
        app,
        ["sweep", "--universes", str(world / "universes"), "--prices", str(world / "prices"),
         "--out", str(world / "out"), "--shifts", "0-1000000000"],
    )  # fmt: skip
    assert time.monotonic() - began < 5
    line = assert_clean_failure(res, world)
    assert line == "error: --shifts '0-1000000000': 1000000000 is more than 2,520 trading days"


@pytest.mark.parametrize("value", ["0", "50001"])
def test_chunk_columns_are_bounded(world: Path, value: str) -> None:
    res = runner.invoke(
        app,
        ["sweep", "--universes", str(world / "universes"), "--prices", str(world / "prices"),
         "--out", str(world / "out"), "--chunk-columns", value],
    )  # fmt: skip
    line = assert_clean_failure(res, world)
    assert line.startswith("error: Invalid value for '--chunk-columns': Input should be")


def test_a_sweep_larger_than_the_limit_asks_for_yes_and_states_its_memory(
    world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bucketmap.api.SWEEP_CONFIRM_VARIANTS", 10)
    monkeypatch.setattr("bucketmap.cli.SWEEP_CONFIRM_VARIANTS", 10)
    args = ["sweep", "--universes", str(world / "universes"), "--prices", str(world / "prices"),
            "--out", str(world / "out"), "--start", "2024-01-01", "--shifts", "0-5"]  # fmt: skip
    # duo (AAA, BBB) and each left out: 3 × equal/inverse_vol × monthly/quarterly × 6 shifts
    line = assert_clean_failure(runner.invoke(app, args), world)
    assert re.fullmatch(
        r"error: sweep: 72 variants \(96 member columns\), estimated peak memory \d+\.\d GB: "
        r"more than 10 variants runs only with --yes \(or narrow the grid: fewer --shifts, "
        r"--bucket, --no-leave-one-out\)",
        line,
    ), line
    res = runner.invoke(app, [*args, "--yes"])
    assert res.exit_code == 0, res.output
    assert re.search(r"sweep: 72 variants \(96 member columns\), estimated peak memory", res.stderr)
    assert len(pd.read_csv(world / "out" / "sweep.csv")) == 72


def test_a_returns_table_with_a_repeated_date_is_one_line(world: Path) -> None:
    import hashlib

    assert run(world).exit_code == 0
    out = world / "out"
    lines = (out / "returns.csv").read_text().splitlines(keepends=True)
    tampered = "".join([*lines[:5], lines[4], *lines[5:]])  # a day's row twice
    (out / "returns.csv").write_text(tampered)
    # the manifest is edited too, as a hand who edits files can: the table itself must be checked
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"]["returns.csv"] = hashlib.sha256(tampered.encode()).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest))
    res = runner.invoke(app, ["report", str(out)])
    assert res.exit_code == 2
    day = lines[4].split(",")[0]
    assert res.stderr.strip() == (
        f"error: {out / 'returns.csv'}: date: {day} appears twice; a returns table has one row a day"
    )
