"""Reading price files: every accepted layout, and each validation error's exact message."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.prices.sources import (
    FetchOutcome,
    YahooSource,
    read_price_csv,
    read_price_path,
    to_price_frame,
)
from buckets.errors import FetchError, PriceDataError


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_date_close(tmp_path: Path) -> None:
    s = read_price_csv(write(tmp_path / "abc.csv", "Date,Close\n2024-01-02,10\n2024-01-03,11\n"))
    assert s.name == "ABC"
    assert s.to_list() == [10.0, 11.0]
    assert list(s.index.strftime("%Y-%m-%d")) == ["2024-01-02", "2024-01-03"]


def test_yfinance_layout_prefers_adj_close(tmp_path: Path) -> None:
    text = (
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2024-01-02,1,1,1,100,90,5\n2024-01-03,1,1,1,110,99,5\n"
    )
    assert read_price_csv(write(tmp_path / "X.csv", text)).to_list() == [90.0, 99.0]


def test_stooq_lowercase_layout(tmp_path: Path) -> None:
    text = "date,open,high,low,close,volume\n2024-01-02,1,1,1,7,5\n2024-01-03,1,1,1,8,5\n"
    assert read_price_csv(write(tmp_path / "X.csv", text)).to_list() == [7.0, 8.0]


def test_bom_crlf_and_timestamps_with_zone(tmp_path: Path) -> None:
    text = "\ufeffDate,Close\r\n2024-01-02 00:00:00-05:00,10\r\n2024-01-03 00:00:00-05:00,11\r\n"
    s = read_price_csv(write(tmp_path / "X.csv", text.encode("utf-8")))
    assert list(s.index.strftime("%Y-%m-%d")) == ["2024-01-02", "2024-01-03"]


@pytest.mark.parametrize("cell", ["", "NaN", "nan", "null"])
def test_a_dated_row_without_a_price_is_an_error_not_a_gap_or_a_zero(
    tmp_path: Path, cell: str
) -> None:
    path = write(
        tmp_path / "X.csv", f"Date,Close\n2024-01-02,10\n2024-01-03,{cell}\n2024-01-04,12\n"
    )
    with pytest.raises(PriceDataError) as err:
        read_price_csv(path)
    assert str(err.value) == (
        f"{path}: Close: no value on 2024-01-03 (empty or NaN); delete the row if there was no quote"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "X.csv: the file is empty"),
        ("Date,Close\n", "X.csv: has a header but no rows"),
        (
            "Date,Close\n2024-01-02,10\n",
            "X.csv: has 1 price row; at least 2 are needed for a return",
        ),
        (
            "When,Close\n2024-01-02,1\n",
            "X.csv: Date: no date column (expected one of Date, date; found When, Close)",
        ),
        (
            "Date,Open\n2024-01-02,1\n",
            "X.csv: Close: no Close or Adj Close column (found Date, Open)",
        ),
        (
            "Date,Close\n2024-13-02,1\n2024-01-03,1\n",
            "X.csv: Date: row 2: '2024-13-02' is not a date (YYYY-MM-DD)",
        ),
        (
            "Date,Close\n2024-01-02,ten\n2024-01-03,1\n",
            "X.csv: Close: value 'ten' on 2024-01-02 is not a number",
        ),
        ("Date,Close\n2024-01-02,1\n2024-01-02,2\n", "X.csv: Date: date 2024-01-02 appears twice"),
        (
            "Date,Close\n2024-01-03,1\n2024-01-02,2\n",
            "X.csv: Date: dates are not sorted (2024-01-02 comes after 2024-01-03)",
        ),
        (
            "Date,Close\n2024-01-02,1\n2024-01-03,inf\n",
            "X.csv: Close: value on 2024-01-03 is not finite",
        ),
        (
            "Date,Close\n2024-01-02,1\n2024-01-03,0\n",
            "X.csv: Close: price 0 on 2024-01-03 is not positive",
        ),
        (
            "Date,Close\n2024-01-02,1\n2024-01-03,-2\n",
            "X.csv: Close: price -2 on 2024-01-03 is not positive",
        ),
    ],
)
def test_validation_messages(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "X.csv", text)
    with pytest.raises(PriceDataError) as err:
        read_price_csv(path)
    assert str(err.value) == f"{tmp_path}/{message}"


def test_yield_series_may_be_zero(tmp_path: Path) -> None:
    s = read_price_csv(write(tmp_path / "^IRX.csv", "Date,Close\n2024-01-02,0\n2024-01-03,0.01\n"))
    assert s.to_list() == [0.0, 0.01]


def test_file_name_must_be_a_ticker(tmp_path: Path) -> None:
    path = write(tmp_path / "no good.csv", "Date,Close\n2024-01-02,1\n2024-01-03,1\n")
    with pytest.raises(PriceDataError, match="is not <TICKER>.csv with a valid ticker symbol"):
        read_price_csv(path)


def test_folder_reads_only_the_wanted_tickers(tmp_path: Path) -> None:
    write(tmp_path / "A.csv", "Date,Close\n2024-01-02,1\n2024-01-03,2\n")
    write(tmp_path / "B.csv", "garbage that would fail")
    assert list(read_price_path(tmp_path, ["A", "C"])) == ["A"]


def test_folder_import_collects_problems_and_keeps_the_good(tmp_path: Path) -> None:
    write(tmp_path / "A.csv", "Date,Close\n2024-01-02,1\n2024-01-03,2\n")
    write(tmp_path / "B.csv", "Date,Close\n2024-01-02,1\n2024-01-03,-1\n")
    problems: list[PriceDataError] = []
    got = read_price_path(tmp_path, None, problems=problems)
    assert list(got) == ["A"]
    assert [p.ticker for p in problems] == ["B"]


def test_wide_csv_and_wide_parquet(tmp_path: Path) -> None:
    wide = write(
        tmp_path / "wide.csv", "Date,AAA,BBB\n2024-01-02,1,\n2024-01-03,2,5\n2024-01-04,3,6\n"
    )
    got = read_price_path(wide)
    assert got["AAA"].to_list() == [1.0, 2.0, 3.0]
    assert got["BBB"].to_list() == [5.0, 6.0]  # listed a day later: no back-fill
    frame = to_price_frame(got)
    frame.to_parquet(tmp_path / "wide.parquet")
    back = read_price_path(tmp_path / "wide.parquet", ["BBB"])
    assert list(back) == ["BBB"]
    assert back["BBB"].to_list() == [5.0, 6.0]


def test_a_file_that_is_not_parquet(tmp_path: Path) -> None:
    path = write(tmp_path / "x.parquet", "not a parquet at all")
    with pytest.raises(PriceDataError, match=r"x.parquet: not a readable parquet file"):
        read_price_path(path)


def test_to_price_frame_outer_joins_without_filling() -> None:
    a = pd.Series([1.0, 2.0], index=pd.to_datetime(["2024-01-02", "2024-01-03"]))
    b = pd.Series([5.0], index=pd.to_datetime(["2024-01-03"]))
    f = to_price_frame({"A": a, "B": b})
    assert math.isnan(f.loc["2024-01-02", "B"])


# --- Yahoo, with the download function injected ---------------------------------------------
def yf_frame(data: dict[str, list[float]], dates: list[str]) -> pd.DataFrame:
    """The shape yfinance.download returns: columns (Price, Ticker), tz-aware index."""
    cols = pd.MultiIndex.from_product([["Close", "Open"], list(data)], names=["Price", "Ticker"])
    values = [data[t] for t in data] * 2
    idx = pd.DatetimeIndex(pd.to_datetime(dates), name="Date")
    return pd.DataFrame(list(zip(*values, strict=True)), index=idx, columns=cols)


def test_yahoo_source_keeps_successes_and_reports_failures() -> None:
    calls: list[list[str]] = []

    def download(tickers: list[str], **kwargs: object) -> pd.DataFrame:
        calls.append(tickers)
        assert kwargs["auto_adjust"] is True
        return yf_frame(
            {"AAA": [1.0, 2.0], "BAD": [float("nan"), float("nan")]}, ["2024-01-02", "2024-01-03"]
        )

    out = YahooSource(download).fetch(["AAA", "BAD"])
    assert isinstance(out, FetchOutcome)
    assert out.prices["AAA"].to_list() == [1.0, 2.0]
    assert out.failed == {"BAD": "Yahoo Finance returned no prices"}
    assert calls == [["AAA", "BAD"]]


def test_yahoo_without_network_is_one_clear_error() -> None:
    def download(tickers: list[str], **kwargs: object) -> pd.DataFrame:
        raise ConnectionError("Failed to perform, curl: (6) Could not resolve host")

    with pytest.raises(FetchError, match="cannot reach Yahoo Finance"):
        YahooSource(download).fetch(["AAA"])


def test_a_ticker_named_like_a_date_column_is_a_ticker(tmp_path: Path) -> None:
    # the real universe parquet has a ticker TIME beside its Date index
    idx = pd.DatetimeIndex(pd.to_datetime(["2024-01-02", "2024-01-03"]), name="Date")
    pd.DataFrame({"TIME": [1.0, 2.0], "AAA": [3.0, 4.0]}, index=idx).to_parquet(tmp_path / "w.pq")
    got = read_price_path(tmp_path / "w.pq")
    assert got["TIME"].to_list() == [1.0, 2.0]
    text = "Date,TIME,AAA\n2024-01-02,1,3\n2024-01-03,2,4\n"
    assert read_price_path(write(tmp_path / "w.csv", text))["TIME"].to_list() == [1.0, 2.0]


def test_to_price_frame_mixes_time_units() -> None:
    a = pd.Series([1.0, 2.0], index=pd.DatetimeIndex(["2024-01-02", "2024-01-04"]).as_unit("s"))
    b = pd.Series([5.0, 6.0], index=pd.DatetimeIndex(["2024-01-03", "2024-01-04"]).as_unit("ns"))
    f = to_price_frame({"A": a, "B": b})
    assert list(f.index.strftime("%Y-%m-%d")) == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert f["A"].tolist()[0] == 1.0 and math.isnan(f["A"].tolist()[1])
    assert f["B"].tolist()[1:] == [5.0, 6.0]


@pytest.mark.parametrize(
    ("reason", "transient"),
    [
        ("YFRateLimitError('Too Many Requests')", True),
        ("OperationalError('database is locked')", True),
        ("HTTPError('503 Server Error')", True),
        ("Read timed out", True),
        ("Yahoo Finance does not know this symbol (HTTP 404); check its spelling", False),
        ("possibly delisted; no price data found", False),
    ],
)
def test_which_failures_are_retried(reason: str, transient: bool) -> None:
    from backtest.prices.sources import is_transient

    assert is_transient(reason) is transient


def _per_column(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """What the column-by-column validation returns for a wide frame."""
    from backtest.prices.sources import validate_series

    out = {}
    for column in frame.columns:
        values = frame[column].dropna()
        if len(values):
            out[str(column)] = validate_series(values, str(column))
    return out


def test_the_whole_frame_check_returns_what_the_per_column_one_does() -> None:
    from backtest.prices.sources import clean_wide_columns

    rng = np.random.default_rng(5)
    index = pd.DatetimeIndex(pd.bdate_range("2024-01-01", periods=60), name="date")
    frame = pd.DataFrame(
        100 * np.cumprod(1 + rng.normal(0, 0.02, (60, 4)), axis=0),
        index=index,
        columns=["AAA", "BBB", "CCC", "^IRX"],
    )
    frame.iloc[:20, 1] = np.nan  # lists late
    frame.iloc[30:33, 2] = np.nan  # a gap
    frame["^IRX"] = np.r_[np.zeros(10), np.full(50, 4.2)]  # a yield may be 0
    frame["DDD"] = np.nan  # never priced: left out, as per column
    frame["EEE"] = np.arange(60, dtype="int64") + 1  # integers are prices too
    wanted = {c: c for c in frame.columns}
    split = clean_wide_columns(frame, wanted)
    assert split is not None
    fast, dirty = split
    assert dirty == []
    slow = _per_column(frame)
    assert list(fast) == list(slow)
    for ticker in slow:
        pd.testing.assert_series_equal(fast[ticker], slow[ticker])


@pytest.mark.parametrize(
    "spoil",
    ["zero", "negative", "inf", "one_price", "duplicate_date", "unsorted", "text", "bool"],
)
def test_the_whole_frame_check_declines_what_the_per_column_one_refuses(spoil: str) -> None:
    """A column the per-column validation would refuse is left to it (named dirty), and bad
    dates leave every column to it (None), so the error the user sees is the per-column one; the
    clean column still comes back from the one pass."""
    from backtest.prices.sources import clean_wide_columns

    index = pd.DatetimeIndex(pd.bdate_range("2024-01-01", periods=10), name="date")
    frame = pd.DataFrame({"AAA": np.linspace(10, 20, 10), "BBB": np.linspace(5, 6, 10)}, index)
    if spoil == "zero":
        frame.iloc[3, 0] = 0.0
    elif spoil == "negative":
        frame.iloc[3, 1] = -1.0
    elif spoil == "inf":
        frame.iloc[3, 1] = np.inf
    elif spoil == "one_price":
        frame.iloc[1:, 1] = np.nan
    elif spoil == "duplicate_date":
        frame.index = index.insert(1, index[0])[:-1]
    elif spoil == "unsorted":
        frame.index = index[::-1]
    elif spoil == "text":
        frame["BBB"] = frame["BBB"].astype(str)
    elif spoil == "bool":
        frame["BBB"] = True
    split = clean_wide_columns(frame, {"AAA": "AAA", "BBB": "BBB"})
    if spoil in ("duplicate_date", "unsorted"):
        assert split is None
        return
    assert split is not None
    clean, dirty = split
    spoiled = "AAA" if spoil == "zero" else "BBB"
    assert dirty == [spoiled]
    assert list(clean) == [t for t in ("AAA", "BBB") if t != spoiled]


def test_a_parquet_with_a_few_bad_series_reads_the_rest_and_names_the_bad(tmp_path: Path) -> None:
    """The one-pass check keeps the clean columns and validates only the dirty ones, in file
    order: the same series and the same problems as validating every column on its own."""
    from backtest.prices.sources import read_wide_parquet

    index = pd.DatetimeIndex(pd.bdate_range("2024-01-01", periods=30), name="date")
    frame = pd.DataFrame(
        {t: np.linspace(10 + i, 20 + i, 30) for i, t in enumerate(["AAA", "BAD", "CCC", "NEG"])},
        index=index,
    )
    frame.iloc[4, 1] = 0.0
    frame.iloc[7, 3] = -2.0
    path = tmp_path / "wide.parquet"
    frame.to_parquet(path)
    problems: list[PriceDataError] = []
    got = read_wide_parquet(path, problems=problems)
    assert list(got) == ["AAA", "CCC"]
    pd.testing.assert_series_equal(got["CCC"], _per_column(frame[["CCC"]])["CCC"])
    assert [p.ticker for p in problems] == ["BAD", "NEG"]
    assert "not positive" in str(problems[0])
    with pytest.raises(PriceDataError, match="BAD"):
        read_wide_parquet(path)


def test_a_parquet_of_mixed_columns_read_in_batches_is_what_per_column_validation_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batched Arrow read (several batches here) returns, for every kind of column a wide
    parquet may hold, exactly what validating each column of pandas' own reading of the file
    returns, with the same problems in file order."""
    import backtest.prices.sources as sources

    monkeypatch.setattr(sources, "_PARQUET_BATCH", 3)
    rng = np.random.default_rng(11)
    n = 40
    index = pd.DatetimeIndex(pd.bdate_range("2023-03-01", periods=n), name="date")
    closes = 50 * np.cumprod(1 + rng.normal(0, 0.02, (n, 6)), axis=0)
    frame = pd.DataFrame(closes, index=index, columns=["AAA", "LATE", "GAP", "F32", "ZERO", "ONE"])
    frame.iloc[:15, 1] = np.nan  # lists late: a view of the array
    frame.iloc[10:12, 2] = np.nan  # a gap: a copy of its priced days
    frame["F32"] = frame["F32"].astype("float32")
    frame.iloc[7, 4] = 0.0  # refused: not positive
    frame.iloc[1:, 5] = np.nan  # refused: one price
    frame["INT"] = pd.array(np.arange(n) + 1, dtype="int64")
    frame["INTNA"] = pd.array([None] * 5 + list(range(1, n - 4)), dtype="Int64")
    frame["TEXT"] = [f"{v:.2f}" for v in np.linspace(10, 11, n)]  # numbers as text are read
    frame["BOOL"] = True  # refused: booleans
    frame["^IRX"] = np.r_[np.zeros(5), np.full(n - 5, 4.1)]  # a yield may be 0
    frame["NONE"] = np.nan  # never priced: left out
    path = tmp_path / "mixed.parquet"
    frame.to_parquet(path)

    expected: dict[str, pd.Series] = {}
    expected_problems: list[str] = []
    for column, values in pd.read_parquet(path).items():
        values = values.dropna()
        if values.empty:
            continue
        try:
            expected[str(column)] = sources.validate_series(values, str(column), file=path)
        except PriceDataError as exc:
            expected_problems.append(str(exc))
    problems: list[PriceDataError] = []
    got = sources.read_wide_parquet(path, problems=problems)
    assert list(got) == list(expected)
    assert list(got) == ["AAA", "LATE", "GAP", "F32", "INT", "INTNA", "TEXT", "^IRX"]
    for ticker, series in expected.items():
        pd.testing.assert_series_equal(got[ticker], series)
    assert [str(p) for p in problems] == expected_problems
    assert [p.ticker for p in problems] == ["ZERO", "ONE", "BOOL"]
    wanted = sources.read_wide_parquet(path, ["GAP", "TEXT", "MISSING"])
    assert list(wanted) == ["GAP", "TEXT"]
    pd.testing.assert_series_equal(wanted["GAP"], expected["GAP"])


def test_to_price_frame_is_pandas_outer_join() -> None:
    """Every series placed on the union of dates exactly as pandas' outer join places it:
    sorted and gapless, with gaps, unsorted, with times of day, single rows, empty."""
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2024-01-01", periods=30)
    series = {
        "WHOLE": pd.Series(rng.random(30), index=days),
        "LATE": pd.Series(rng.random(10), index=days[20:]),
        "GAPS": pd.Series(rng.random(20), index=days[::3].append(days[1::3])[:20]),
        "SHUFFLED": pd.Series(rng.random(8), index=days[5:13][[0, 3, 1, 2, 6, 4, 5, 7]]),
        "ONE": pd.Series([7.0], index=days[4:5]),
        "EMPTY": pd.Series([], index=pd.DatetimeIndex([]), dtype="float64"),
    }
    for name in ("WHOLE", "LATE", "GAPS", "SHUFFLED", "ONE", "EMPTY"):
        expected = pd.concat([s.rename(t) for t, s in series.items()], axis=1, sort=True)
        got = to_price_frame(series)
        np.testing.assert_array_equal(got.index.asi8, expected.index.as_unit("ns").asi8)
        np.testing.assert_array_equal(got.to_numpy(), expected[list(series)].to_numpy())
        series = {name: series[name], **{t: s for t, s in series.items() if t != name}}
    timed = {"A": pd.Series([1.0, 2.0], index=pd.DatetimeIndex(["2024-01-02 10:00", "2024-01-03"]))}
    got = to_price_frame({**timed, **series})
    expected = pd.concat([s.rename(t) for t, s in {**timed, **series}.items()], axis=1, sort=True)
    assert pd.Timestamp("2024-01-02 10:00") in got.index
    np.testing.assert_array_equal(got.index.asi8, expected.index.as_unit("ns").asi8)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())


def test_a_folder_without_csvs_says_what_it_holds_even_for_a_run(tmp_path: Path) -> None:
    # the parent of the folder meant: a run read it as "benchmark SPY has no prices" there
    parent = tmp_path / "prices"
    (parent / "csv").mkdir(parents=True)
    for ticker in ("SPY", "QQQ"):
        pd.DataFrame({"date": ["2024-01-02", "2024-01-03"], "close": [1.0, 1.1]}).to_csv(
            parent / "csv" / f"{ticker}.csv", index=False
        )
    pd.DataFrame({"SPY": [1.0]}, index=pd.to_datetime(["2024-01-02"])).to_parquet(
        parent / "wide.parquet"
    )
    for tickers in (None, ["SPY"]):
        with pytest.raises(PriceDataError) as err:
            read_price_path(parent, tickers)
        assert str(err.value) == (
            f"{parent}: no <TICKER>.csv files in this folder (a folder holds one CSV per ticker); "
            "its subfolder csv/ holds 2; pass wide.parquet itself to read it"
        )
    assert sorted(read_price_path(parent / "csv", ["SPY", "QQQ", "NONE"])) == ["QQQ", "SPY"]
