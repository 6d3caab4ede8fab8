"""Price sources: files a user already has (CSV, parquet) and Yahoo Finance, read into one shape.

The shape every source returns is a *price frame*: a ``DataFrame`` indexed by trading date
(``DatetimeIndex`` named ``date``, tz-naive, midnight), one float64 column per ticker holding the
adjusted close (split- and dividend-adjusted, i.e. a total-return price), ``NaN`` where the ticker
has no price (before listing, after its last row). Nothing is filled.

Accepted files:

* per-ticker CSV, ticker = file name (``NVDA.csv``), with one of the layouts
  ``Date,Close`` / yfinance's ``Date,Open,High,Low,Close,Adj Close,Volume`` (``Adj Close`` is
  preferred when present) / Stooq's lower-case ``date,open,high,low,close,volume``;
* a wide CSV: a date column then one column per ticker;
* a wide parquet: index = dates (or a ``date`` column), columns = tickers;
* a folder of per-ticker CSVs.

Every series is checked before use (:func:`validate_series`): values are numbers (not booleans or
timestamps), dates parse whole and are calendar days, one row per day, sorted, values finite and
positive (yield series such as ``^IRX`` may be zero or negative), and there are at least two rows.
A file's columns must be unique after normalising case and spaces (``NVDA`` and `` nvda`` are one
ticker: the file is refused naming both), and a file's dates must be dates (a parquet index of
integers is refused, never read as nanoseconds since 1970).

Whether a single CSV is per-ticker or wide is decided by the form of its header, never by whether
a name could be a ticker: a per-ticker file's columns besides the date are price-field names
(``Open``, ``High``, ``Low``, ``Close``, ``Adj Close``, ``Volume``, ...) written as yfinance (title
case) or Stooq (lower case) write them, including a close; a wide file's are ticker symbols, which
are upper case, so a wide file with tickers ``LOW``, ``OPEN`` or ``HIGH`` is read as wide.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtest.prices.sample import resolve_sample
from buckets.errors import FetchError, PriceDataError
from buckets.fileio import NotARegularFile, ensure_regular_file
from buckets.models import TICKER_PATTERN

YIELD_TICKERS = frozenset({"^IRX", "^FVX", "^TNX", "^TYX"})
"""Yahoo symbols that are interest rates in percent, not prices: zero and negative are real."""

_OHLC_NAMES = {
    "open",
    "high",
    "low",
    "close",
    "adj close",
    "adj_close",
    "adjclose",
    "volume",
    "dividends",
    "stock splits",
    "capital gains",
}
_CLOSE_NAMES = ("adj close", "adj_close", "adjclose", "close")
_DATE_NAMES = ("date", "datetime", "timestamp", "time", "index")
_TIME_TEXT = r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
"""What may follow a ``YYYY-MM-DD`` date in a cell: a time and a zone (the day is kept)."""


def empty_price_frame() -> pd.DataFrame:
    """A price frame with no rows and no columns."""
    return pd.DataFrame(index=pd.DatetimeIndex([], name="date"), dtype="float64")


def validate_series(values: pd.Series, ticker: str, *, file: Path | str | None = None) -> pd.Series:
    """Check one ticker's closes and return them as a clean float64 series.

    Raises :class:`PriceDataError` naming the file and the first offending date: a row with a
    date but no value (empty, NaN, null) is an error, like anything else that is not a finite
    positive number (zero/negative values are allowed for yield series). A day without a quote is
    a day without a row; wide readers drop a ticker's blank cells before calling this.
    """

    def fail(message: str, field: str | None = None) -> PriceDataError:
        return PriceDataError(message, file=file, ticker=ticker, field=field)

    if not isinstance(values.index, pd.DatetimeIndex):
        raise fail("dates did not parse", "Date")
    if values.index.tz is not None:
        values = values.tz_localize(None)
    if values.index.hasnans:
        raise fail("a date is empty or did not parse", "Date")
    # a price is a day's close: two timestamps on one day are two rows for that day
    values = values.set_axis(pd.DatetimeIndex(values.index).normalize())
    dtype = values.dtype
    is_number = pd.api.types.is_numeric_dtype(dtype) and not (
        pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_complex_dtype(dtype)
    )
    is_text = pd.api.types.is_string_dtype(dtype) and pd.api.types.infer_dtype(
        values, skipna=True
    ) in ("string", "empty")
    if not (is_number or is_text):
        kind = "booleans" if pd.api.types.is_bool_dtype(dtype) else f"{dtype} values"
        if pd.api.types.is_object_dtype(dtype):
            first = next((v for v in values if not isinstance(v, str) and not pd.isna(v)), None)
            kind = f"{type(first).__name__} values"
        raise fail(f"the column holds {kind}, not prices", "Close")
    if is_number:
        numeric = values.astype("float64")  # already numbers (parquet, yfinance): no text to find
    else:
        numeric = pd.to_numeric(values, errors="coerce")
        text = values.astype("string").str.strip()
        bad_text = numeric.isna() & values.notna() & (text != "")
        if bad_text.any():
            first = values.index[int(bad_text.to_numpy().argmax())]
            raise fail(f"value {values[first]!r} on {first.date()} is not a number", "Close")
    numeric = numeric.astype("float64")
    if numeric.isna().any():
        first = numeric.index[int(numeric.isna().to_numpy().argmax())]
        raise fail(
            f"no value on {first.date()} (empty or NaN); delete the row if there was no quote",
            "Close",
        )
    dates = pd.DatetimeIndex(numeric.index)
    if dates.has_duplicates:
        raise fail(f"date {dates[dates.duplicated()][0].date()} appears twice", "Date")
    if not dates.is_monotonic_increasing:
        pos = int(np.argmax(np.diff(dates.asi8) < 0)) + 1
        raise fail(
            f"dates are not sorted ({dates[pos].date()} comes after {dates[pos - 1].date()})",
            "Date",
        )
    arr = numeric.to_numpy()
    infinite = ~np.isfinite(arr)
    if infinite.any():
        raise fail(f"value on {dates[int(infinite.argmax())].date()} is not finite", "Close")
    if ticker not in YIELD_TICKERS:
        nonpositive = arr <= 0
        if nonpositive.any():
            i = int(nonpositive.argmax())
            raise fail(f"price {arr[i]:g} on {dates[i].date()} is not positive", "Close")
    if len(numeric) < 2:
        rows = f"{len(numeric)} price row{'s' if len(numeric) != 1 else ''}"
        raise fail(f"has {rows}; at least 2 are needed for a return")
    out = pd.Series(arr, index=dates.as_unit("ns").rename("date"), name=ticker)
    return out


def ticker_from_path(path: Path) -> str:
    """The ticker a per-ticker file names (``nvda.csv`` → ``NVDA``); checked against the pattern."""
    ticker = path.stem.strip().upper()
    if not TICKER_PATTERN.fullmatch(ticker):
        raise PriceDataError(
            f"file name {path.name!r} is not <TICKER>.csv with a valid ticker symbol", file=path
        )
    return ticker


def _read_csv_frame(path: Path) -> pd.DataFrame:
    """A CSV's cells as text, with the header exactly as written (pandas would rename a repeated
    column ``X.1``); PriceDataError for anything that is not a regular, readable CSV, or whose
    columns repeat after normalising case and spaces."""
    try:
        ensure_regular_file(path)
        raw = pd.read_csv(path, encoding="utf-8-sig", dtype=str, skipinitialspace=True, header=None)
    except FileNotFoundError:
        raise PriceDataError("file not found", file=path) from None
    except NotARegularFile as exc:
        raise PriceDataError(f"{exc}; refusing to read it", file=path) from None
    except pd.errors.EmptyDataError:
        raise PriceDataError("the file is empty", file=path) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PriceDataError(f"not a readable CSV ({first})", file=path) from None
    except OSError as exc:
        raise PriceDataError(f"cannot read ({exc.strerror})", file=path) from None
    header = ["" if pd.isna(c) else str(c).strip() for c in raw.iloc[0]]
    _check_unique(header, path)
    frame = raw.iloc[1:].reset_index(drop=True)
    frame.columns = pd.Index(header)
    return frame


def _check_unique(columns: Sequence[str], path: Path) -> None:
    """PriceDataError naming two columns that are one after normalising case and spaces."""
    seen: dict[str, str] = {}
    for column in columns:
        key = " ".join(column.split()).casefold()
        if key in seen:
            raise PriceDataError(
                f"columns {seen[key]!r} and {column!r} are the same name (case and spaces "
                "aside); keep one",
                file=path,
            )
        seen[key] = column


def _date_column(frame: pd.DataFrame, path: Path) -> str:
    """The date column: the first column when it is named like one, else the first such name in
    order of preference (so a ticker called ``TIME`` further right is never taken for it)."""
    columns = list(frame.columns)
    if columns and columns[0].lower() in _DATE_NAMES:
        return str(columns[0])
    for name in _DATE_NAMES:
        for col in columns:
            if col.lower() == name:
                return str(col)
    raise PriceDataError(
        f"no date column (expected one of Date, date; found {', '.join(frame.columns) or 'none'})",
        file=path,
        field="Date",
    )


def _parse_dates(raw: pd.Series, path: Path, column: str) -> pd.DatetimeIndex:
    text = raw.astype("string").str.strip()
    # the whole cell must be a date (2025-03-039 is not 2025-03-03); a timestamp keeps its
    # calendar date, and a time zone suffix is dropped instead of shifting the day
    rest = text.str.slice(10).fillna("")
    whole = rest == ""
    if not whole.all():  # a time and zone may follow the date, nothing else
        whole = whole | rest.str.fullmatch(_TIME_TEXT).fillna(False).astype(bool)
    parsed = pd.to_datetime(text.str.slice(0, 10).where(whole), format="%Y-%m-%d", errors="coerce")
    if parsed.isna().any():
        i = int(parsed.isna().to_numpy().argmax())
        raise PriceDataError(
            f"row {i + 2}: {raw.iloc[i]!r} is not a date (YYYY-MM-DD)", file=path, field=column
        )
    return pd.DatetimeIndex(parsed, name="date")


def _close_column(frame: pd.DataFrame) -> str | None:
    by_lower = {c.lower(): c for c in frame.columns}
    for name in _CLOSE_NAMES:
        if name in by_lower:
            return by_lower[name]
    return None


def read_price_csv(path: Path, ticker: str | None = None) -> pd.Series:
    """Read one per-ticker CSV (any accepted layout) into a validated series of closes."""
    ticker = ticker or ticker_from_path(path)
    frame = _read_csv_frame(path)
    date_col = _date_column(frame, path)
    close_col = _close_column(frame)
    if close_col is None:
        raise PriceDataError(
            f"no Close or Adj Close column (found {', '.join(frame.columns)})",
            file=path,
            field="Close",
        )
    if frame.empty:
        raise PriceDataError("has a header but no rows", file=path)
    index = _parse_dates(frame[date_col], path, date_col)
    values = pd.Series(frame[close_col].to_numpy(), index=index)
    return validate_series(values, ticker, file=path)


def is_wide_csv(frame: pd.DataFrame) -> bool:
    """True unless the header is a per-ticker price layout: besides the date, only price-field
    names (open, high, low, close, adj close, volume, ...), a close among them, written as a
    field name is (``Close``, ``close``: not in capitals, as a ticker symbol is)."""
    others = [c for c in frame.columns if c.lower() not in _DATE_NAMES]
    fields = all(c.lower() in _OHLC_NAMES and c != c.upper() for c in others)
    has_close = any(c.lower() in _CLOSE_NAMES for c in others)
    return not (others and fields and has_close)


def read_wide_csv(
    path: Path,
    tickers: Iterable[str] | None = None,
    *,
    problems: list[PriceDataError] | None = None,
) -> dict[str, pd.Series]:
    """Read a wide CSV (date column + one column per ticker) into validated series."""
    frame = _read_csv_frame(path)
    date_col = _date_column(frame, path)
    index = _parse_dates(frame[date_col], path, date_col)
    wanted = _wanted_columns([c for c in frame.columns if c != date_col], tickers, path)
    out: dict[str, pd.Series] = {}
    for column, ticker in wanted.items():
        values = pd.Series(frame[column].to_numpy(), index=index)
        values = values[values.notna() & (values.astype("string").str.strip() != "")]
        _validate_into(out, values, ticker, path, problems)
    return out


def _validate_into(
    out: dict[str, pd.Series],
    values: pd.Series,
    ticker: str,
    path: Path,
    problems: list[PriceDataError] | None,
) -> None:
    try:
        out[ticker] = validate_series(values, ticker, file=path)
    except PriceDataError as exc:
        if problems is None:
            raise
        problems.append(exc)


def _wanted_columns(
    columns: Sequence[str], tickers: Iterable[str] | None, path: Path
) -> dict[str, str]:
    """Map file columns to tickers (upper case), keeping only the wanted tickers."""
    by_ticker: dict[str, str] = {}
    for column in columns:
        ticker = str(column).strip().upper()
        if not TICKER_PATTERN.fullmatch(ticker):
            raise PriceDataError(f"column {column!r} is not a ticker symbol", file=path)
        by_ticker[ticker] = column
    if tickers is None:
        return {col: t for t, col in by_ticker.items()}
    return {by_ticker[t]: t for t in tickers if t in by_ticker}


def read_wide_parquet(
    path: Path,
    tickers: Iterable[str] | None = None,
    *,
    problems: list[PriceDataError] | None = None,
) -> dict[str, pd.Series]:
    """Read a wide parquet (index = dates, columns = tickers); only the wanted columns are read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        ensure_regular_file(path)
        schema = pq.read_schema(path)
    except FileNotFoundError:
        raise PriceDataError("file not found", file=path) from None
    except NotARegularFile as exc:
        raise PriceDataError(f"{exc}; refusing to read it", file=path) from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise PriceDataError(f"not a readable parquet file ({exc})", file=path) from None
    _check_unique([str(n) for n in schema.names], path)
    names = [n for n in schema.names if not n.startswith("__index_level_")]
    pandas_meta = schema.pandas_metadata or {}
    index_cols = [c for c in pandas_meta.get("index_columns", []) if isinstance(c, str)]
    # dates: the stored pandas index, else columns typed as dates; never a name alone (a ticker
    # may be called TIME or DATE)
    date_cols = (
        index_cols[:1]
        or [
            n
            for n in names
            if pa.types.is_timestamp(schema.field(n).type) or pa.types.is_date(schema.field(n).type)
        ][:1]
    )
    if not date_cols:
        raise PriceDataError("no date index or date-typed column", file=path, field="index")
    date_type = schema.field(date_cols[0]).type
    if not (
        pa.types.is_timestamp(date_type)
        or pa.types.is_date(date_type)
        or pa.types.is_string(date_type)
        or pa.types.is_large_string(date_type)
    ):
        raise PriceDataError(
            f"the index holds {date_type} values, not dates (store dates or YYYY-MM-DD text)",
            file=path,
            field=date_cols[0],
        )
    ticker_cols = [n for n in names if n not in date_cols and n not in index_cols]
    wanted = _wanted_columns(ticker_cols, tickers, path)
    try:
        parquet = pq.ParquetFile(path)
        dates = _parquet_dates(parquet, date_cols, path)
        kinds = {f.name: f.type for f in schema}
        numeric = [c for c in wanted if _holds_real_numbers(kinds[c])]
        values = _parquet_values(parquet, numeric, len(dates))
        numeric_set = set(numeric)
        others = [c for c in wanted if c not in numeric_set]
        other_frame = _parquet_frame(parquet, others, date_cols, dates) if others else None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise PriceDataError(f"not a readable parquet file ({exc})", file=path) from None
    grid = _day_grid(dates)
    column_of = {c: j for j, c in enumerate(numeric)}
    clean: dict[str, pd.Series] = {}
    refused: set[str] = set(wanted)  # bad dates: every column is validated on its own
    if grid is not None:
        clean, bad = clean_wide_values(grid, values, [wanted[c] for c in numeric])
        refused = {c for c in wanted if c not in column_of or bad[column_of[c]]}
    checked: dict[str, pd.Series] = {}
    for column in (c for c in wanted if c in refused):
        if column in column_of:
            raw = pd.Series(values[:, column_of[column]], index=dates)
        else:
            assert other_frame is not None
            raw = other_frame[column]
        raw = raw.dropna()
        if raw.empty:
            continue
        _validate_into(checked, raw, wanted[column], path, problems)
    # in the file's column order, as one pass over every column would give them
    return {t: s for c, t in wanted.items() if (s := clean.get(t, checked.get(t))) is not None}


_PARQUET_BATCH = 256
"""Columns decoded per read of a wide parquet: the decoded batch is copied into one days ×
tickers array and dropped, so memory stays near that array's size (12,000 columns at once held
about 1.1 GB of Arrow buffers for a 255 MB table, and took 2-3 times as long)."""


def _holds_real_numbers(kind: Any) -> bool:
    """Whether a parquet column of this Arrow type reads as float64 prices without pandas (
    integers and 32/64-bit floats; a null is no price). Anything else (text, booleans,
    decimals, dictionaries) goes through pandas and :func:`validate_series` as it is."""
    import pyarrow as pa

    return bool(pa.types.is_integer(kind) or pa.types.is_float32(kind) or pa.types.is_float64(kind))


def _parquet_dates(parquet: Any, date_cols: list[str], path: Path) -> pd.DatetimeIndex:
    """The file's dates as pandas restores them (the stored index or the date column), text
    parsed strictly."""
    frame = parquet.read(columns=date_cols, use_pandas_metadata=True).to_pandas()
    if date_cols[0] in frame.columns:
        frame = frame.set_index(date_cols[0])
    if isinstance(frame.index, pd.DatetimeIndex):
        return frame.index
    return _parse_dates(pd.Series(frame.index), path, date_cols[0])


def _parquet_values(parquet: Any, columns: list[str], rows: int) -> np.ndarray:
    """The named numeric columns as one read-only days × columns float64 array, column-major
    (each column contiguous); a null is NaN."""
    values = np.empty((rows, len(columns)), order="F")
    for start in range(0, len(columns), _PARQUET_BATCH):
        batch = columns[start : start + _PARQUET_BATCH]
        table = parquet.read(columns=batch, use_pandas_metadata=False)
        for k, name in enumerate(batch):
            values[:, start + k] = table.column(name).to_numpy()
    values.flags.writeable = False
    return values


def _parquet_frame(
    parquet: Any, columns: list[str], date_cols: list[str], dates: pd.DatetimeIndex
) -> pd.DataFrame:
    """The named columns as pandas reads them (with the file's pandas metadata), on ``dates``."""
    frame: pd.DataFrame = parquet.read(
        columns=columns + date_cols, use_pandas_metadata=True
    ).to_pandas()
    return frame[columns].set_axis(dates)


def _day_grid(index: pd.Index) -> pd.DatetimeIndex | None:
    """A wide file's dates as calendar days (ns, named ``date``), or None when
    they would fail :func:`validate_series` for every column: unparsed, with a zone, empty,
    repeated after dropping the time of day, or out of order."""
    if not isinstance(index, pd.DatetimeIndex) or index.tz is not None or index.hasnans:
        return None
    days = index.normalize().as_unit("ns")
    if days.has_duplicates or not days.is_monotonic_increasing:
        return None
    return days.rename("date")


def clean_wide_values(
    days: pd.DatetimeIndex, values: np.ndarray, tickers: Sequence[str]
) -> tuple[dict[str, pd.Series], np.ndarray]:
    """The columns of a days × tickers float64 array that pass every check of
    :func:`validate_series`, as it would return them (each ticker's priced days; a column with
    no price is left out), and a flag per column that does not (for the caller to validate on
    its own, which names its first problem; the answer is the same either way, tested).

    ``days`` is :func:`_day_grid`'s. The checks: finite values, positive ones except for yield
    tickers, at least two prices per priced column. One pass over the array instead of a pandas
    round trip per ticker. A column priced on consecutive days (no gap) comes back as a view of
    ``values``, which should be read-only; one with gaps as a copy of its priced days.
    """
    priced = ~np.isnan(values)
    positive = np.array([t not in YIELD_TICKERS for t in tickers], dtype=bool)
    bad: np.ndarray = np.isinf(values).any(axis=0) | ((values <= 0).any(axis=0) & positive)
    counts = priced.sum(axis=0)
    bad |= counts == 1
    first = priced.argmax(axis=0)
    last = len(days) - 1 - priced[::-1].argmax(axis=0)
    gapless = last - first + 1 == counts
    out: dict[str, pd.Series] = {}
    spans: dict[tuple[int, int], pd.DatetimeIndex] = {}  # tickers of one span share its index
    for j, ticker in enumerate(tickers):
        if counts[j] == 0 or bad[j]:
            continue
        if gapless[j]:
            span = (int(first[j]), int(last[j]) + 1)
            if span not in spans:
                spans[span] = days[span[0] : span[1]]
            out[ticker] = pd.Series(
                values[span[0] : span[1], j], index=spans[span], name=ticker, copy=False
            )
        else:
            rows = priced[:, j]
            out[ticker] = pd.Series(values[rows, j], index=days[rows], name=ticker)
    return out, bad


def clean_wide_columns(
    frame: pd.DataFrame, wanted: Mapping[str, str]
) -> tuple[dict[str, pd.Series], list[str]] | None:
    """:func:`clean_wide_values` for a wide frame: the ``wanted`` columns (column → ticker) that
    pass, and the columns that do not (also those that do not hold numbers), in file order.
    None when the dates themselves fail (unparsed, with a zone, duplicated or out of order):
    then every column would fail the same way."""
    days = _day_grid(frame.index)
    if days is None:
        return None
    dtypes = frame.dtypes
    numeric = [
        c
        for c in wanted
        if pd.api.types.is_numeric_dtype(dtypes[c])
        and not pd.api.types.is_bool_dtype(dtypes[c])
        and not pd.api.types.is_complex_dtype(dtypes[c])
    ]
    values = np.array(frame[numeric].to_numpy(dtype="float64"), order="F")
    values.flags.writeable = False
    clean, bad = clean_wide_values(days, values, [wanted[c] for c in numeric])
    refused = {c for c, b in zip(numeric, bad, strict=True) if b} | (set(wanted) - set(numeric))
    return clean, [c for c in wanted if c in refused]


def _find_csv(folder: Path, ticker: str, listing: dict[str, Path]) -> Path | None:
    return listing.get(ticker)


def read_price_folder(
    folder: Path,
    tickers: Iterable[str] | None = None,
    *,
    problems: list[PriceDataError] | None = None,
) -> dict[str, pd.Series]:
    """Read per-ticker CSVs from a folder: the wanted tickers, or every ``*.csv`` when None.

    With ``problems`` given, a file that fails validation is recorded there and skipped;
    otherwise its error is raised.
    """
    listing: dict[str, Path] = {}
    clashes: dict[str, list[Path]] = {}
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() == ".csv" and p.is_file():
            key = p.stem.strip().upper()
            if key in listing:
                clashes.setdefault(key, [listing[key]]).append(p)
            listing[key] = p
    for key, paths in clashes.items():
        error = PriceDataError(
            f"{' and '.join(p.name for p in paths)} are both ticker {key}; keep one",
            file=folder,
        )
        if problems is None:
            raise error
        problems.append(error)
        del listing[key]
    wanted: list[tuple[str | None, Path]]
    if not listing and not clashes:
        # also for a run, which would otherwise say its first benchmark has no prices here
        raise PriceDataError(
            "no <TICKER>.csv files in this folder (a folder holds one CSV per ticker)"
            + _subfolders_with_csvs(folder),
            file=folder,
        )
    if tickers is None:
        wanted = [(None, file) for _, file in sorted(listing.items())]
    else:
        wanted = [(t, f) for t in tickers if (f := _find_csv(folder, t, listing)) is not None]
    out: dict[str, pd.Series] = {}
    for ticker, path in wanted:
        try:
            series = read_price_csv(path, ticker)
        except PriceDataError as exc:
            if problems is None:
                raise
            problems.append(exc)
            continue
        out[str(series.name)] = series
    return out


def _subfolders_with_csvs(folder: Path) -> str:
    """What ``folder`` holds instead of per-ticker CSVs, for a user who passed the parent of the
    folder they meant: ``"; its subfolder csv/ holds 115"`` (the subfolders that hold CSVs) and
    ``"; pass wide.parquet itself to read it"``; ``""`` when neither."""
    found = []
    try:
        entries = sorted(folder.iterdir())
        for sub in (p for p in entries if p.is_dir()):
            count = sum(1 for f in sub.iterdir() if f.suffix.lower() == ".csv")
            if count:
                found.append(f"{sub.name}/ holds {count}")
    except OSError:
        return ""
    hints = []
    if found:
        hints.append(f"its subfolder{'s' if len(found) > 1 else ''} {', '.join(found[:3])}")
    wide = [f.name for f in entries if f.suffix.lower() in {".parquet", ".pq"} and f.is_file()]
    if wide:
        hints.append(
            f"pass {', '.join(wide[:3])} itself to read {'it' if len(wide) == 1 else 'one'}"
        )
    return "".join(f"; {hint}" for hint in hints)


def read_price_path(
    path: Path,
    tickers: Iterable[str] | None = None,
    *,
    problems: list[PriceDataError] | None = None,
) -> dict[str, pd.Series]:
    """Read prices from a folder of CSVs, one CSV (per-ticker or wide) or a wide parquet.

    With ``tickers`` only those are read (absent ones are simply not in the result); with None,
    everything in the path. With ``problems`` a series that fails validation is recorded there
    and skipped (for imports); without, the first problem is raised (for runs). The word
    ``sample`` names the sample shipped with the package (:mod:`backtest.prices.sample`).
    """
    path = resolve_sample(path)
    if path.is_dir():
        return read_price_folder(path, tickers, problems=problems)
    if not path.exists():
        raise PriceDataError("no such file or folder", file=path)
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return read_wide_parquet(path, tickers, problems=problems)
    if suffix in {".csv", ".txt"}:
        frame = _read_csv_frame(path)
        if is_wide_csv(frame):
            return read_wide_csv(path, tickers, problems=problems)
        ticker = ticker_from_path(path)
        if tickers is not None and ticker not in set(tickers):
            return {}
        return {ticker: read_price_csv(path, ticker)}
    raise PriceDataError("expected a folder of CSVs, a .csv or a .parquet file", file=path)


def to_price_frame(
    series: dict[str, pd.Series], order: Sequence[str] | None = None
) -> pd.DataFrame:
    """Series per ticker → one price frame (outer join on dates, NaN where absent, no filling)."""
    if not series:
        return empty_price_frame()
    keys = [t for t in (order or series) if t in series]
    # one union of dates, then each column placed by position: linear in the number of values
    # (a pandas concat of 12,000 series re-aligns pairwise and takes ~10 s)
    nanos = {t: _nanos(series[t].index) for t in keys}
    arrays = [a for a in nanos.values() if len(a)]

    def in_batches() -> Iterator[np.ndarray]:
        # a few hundred series at a time: one array of every date would be as big as the
        # frame, and fresh memory is slow to touch (0.25 s for 12,000 series here)
        for start in range(0, len(arrays), 512):
            yield np.concatenate(arrays[start : start + 512])

    day = 86_400 * 10**9
    bounds = [(int(b.min()), int(b.max()), not (b % day).any()) for b in in_batches()]
    first = min((lo for lo, _, _ in bounds), default=0)
    if bounds and all(days for _, _, days in bounds):
        # dates without a time (every validated series): a grid of days, no sort of all values
        present = np.zeros((max(hi for _, hi, _ in bounds) - first) // day + 1, dtype=bool)
        for b in in_batches():
            present[(b - first) // day] = True
        slot = np.cumsum(present) - 1
        stamps = first + np.flatnonzero(present).astype(np.int64) * day

        def positions(values: np.ndarray) -> np.ndarray:
            at: np.ndarray = slot[(values - first) // day]
            return at
    else:
        stamps = np.unique(np.concatenate(arrays)) if arrays else np.array([], dtype=np.int64)

        def positions(values: np.ndarray) -> np.ndarray:
            return np.searchsorted(stamps, values)

    index = pd.DatetimeIndex(stamps.view("datetime64[ns]"), name="date")
    # column-major: each column is filled in place and becomes the frame's block without a copy;
    # each is written once (NaN around a span of consecutive days): fresh memory is slow to
    # touch, and a 12,000-ticker frame is 260 MB
    values = np.empty((len(index), len(keys)), order="F")
    for j, t in enumerate(keys):
        at, column = nanos[t], series[t].to_numpy(dtype="float64")
        if len(at) and (len(at) == 1 or bool((np.diff(at) > 0).all())):
            a, b = positions(at[[0, -1]])
            if b - a + 1 == len(at):  # sorted and on consecutive days of the union: one slice
                values[:a, j] = np.nan
                values[a : b + 1, j] = column
                values[b + 1 :, j] = np.nan
                continue
        values[:, j] = np.nan
        values[positions(at), j] = column
    return pd.DataFrame(values, index=index, columns=pd.Index(keys), copy=False)


def _nanos(index: pd.Index) -> np.ndarray:
    """A date index as int64 nanoseconds."""
    if isinstance(index, pd.DatetimeIndex) and index.dtype == "datetime64[ns]":
        out: np.ndarray = index.asi8
        return out
    converted: np.ndarray = pd.DatetimeIndex(index).as_unit("ns").asi8
    return converted


# --- Yahoo Finance --------------------------------------------------------------------------------

Download = Callable[..., Any]


@dataclass
class FetchOutcome:
    """What a fetch brought back: series per ticker that succeeded, and a reason per failure."""

    prices: dict[str, pd.Series] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


class _CaptureYfinanceLog(logging.Handler):
    """yfinance reports per-ticker failures only through its logger; collect them."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.messages.append(record.getMessage())


_NETWORK_MARKERS = (
    "could not resolve host",
    "failed to perform",
    "dnserror",
    "connection refused",
    "network is unreachable",
    "timed out",
    "connectionerror",
)


def _reason_for(ticker: str, messages: list[str]) -> str:
    """The failure reason yfinance logged for ``ticker``, in words a user can act on."""
    for message in messages:
        if ticker in message:
            text = message.split(":", 1)[-1].strip() if ":" in message else message
            if "404" in text:
                return "Yahoo Finance does not know this symbol (HTTP 404); check its spelling"
            return text.splitlines()[0][:200]
    return "Yahoo Finance returned no prices"


_TRANSIENT_MARKERS = (
    "too many requests",
    "ratelimit",
    "rate limit",
    "timed out",
    "timeout",
    "502",
    "503",
    "504",
    "connection reset",
    "temporarily",
    # yfinance's SQLite timezone cache, hit by two of its download threads at once
    "database is locked",
)


def is_transient(reason: str) -> bool:
    """True when a failure reason looks like it may pass on a retry (rate limit, timeout, 5xx)."""
    text = reason.lower()
    return any(marker in text for marker in _TRANSIENT_MARKERS)


def _yfinance_debug_config() -> Any:
    """yfinance's debug settings object (``YfConfig.debug``), or None in versions without it."""
    try:
        from yfinance.config import YfConfig
    except ImportError:
        return None
    return getattr(YfConfig, "debug", None)


class YahooSource:
    """Adjusted daily closes from Yahoo Finance through yfinance.

    ``session`` is handed to ``yfinance.download`` (a ``requests`` or ``curl_cffi`` session); tests
    pass a ``requests`` session whose transport replays recorded responses, so yfinance's own
    request and parsing code runs with no network. ``download`` replaces ``yfinance.download``
    itself (for callers that bring their own source). Prices are requested with
    ``auto_adjust=True``: ``Close`` is the split- and dividend-adjusted close, the same series as
    the snapshot's. Transient failures (rate limits, timeouts, 5xx) are retried ``retries`` times
    with exponential backoff (1 s, 2 s, 4 s, ...).
    """

    name = "yahoo"

    def __init__(
        self,
        download: Download | None = None,
        *,
        session: Any = None,
        batch_size: int = 50,
        retries: int = 3,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._download = download
        self.session = session
        self.batch_size = batch_size
        self.retries = retries
        self._sleep = sleep or time.sleep

    def _download_fn(self) -> Download:
        if self._download is None:
            import yfinance

            return yfinance.download  # type: ignore[no-any-return]
        return self._download

    def fetch(
        self,
        tickers: Sequence[str],
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
        *,
        on_batch: Callable[[int], None] | None = None,
        on_prices: Callable[[dict[str, pd.Series]], None] | None = None,
    ) -> FetchOutcome:
        """Download ``tickers`` in batches; failures are collected, successes kept.

        ``on_prices`` receives each batch's new series as soon as the batch is done (the caller
        stores them, so an interrupted fetch keeps what it had).

        Raises :class:`FetchError` when nothing at all could be fetched and the failures look like
        a missing network, so the user learns that once instead of once per ticker.
        """
        outcome = FetchOutcome()
        for i in range(0, len(tickers), self.batch_size):
            batch = list(tickers[i : i + self.batch_size])
            pending = batch
            for attempt in range(self.retries + 1):
                if attempt:
                    self._sleep(2.0 ** (attempt - 1))
                for t in pending:
                    outcome.failed.pop(t, None)
                self._fetch_batch(pending, start, end, outcome)
                pending = [t for t in pending if is_transient(outcome.failed.get(t, ""))]
                if not pending:
                    break
            if on_prices is not None:
                done = {t: outcome.prices[t] for t in batch if t in outcome.prices}
                if done:
                    on_prices(done)
            if on_batch is not None:
                on_batch(len(batch))
        if tickers and not outcome.prices:
            reasons = " ".join(outcome.failed.values()).lower()
            if any(marker in reasons for marker in _NETWORK_MARKERS):
                raise FetchError(
                    "cannot reach Yahoo Finance (no network or Yahoo refused the connection); "
                    "use `--prices sample` (the sample shipped with bucketmap), `--prices PATH` "
                    "or `bucketmap prices import PATH` instead"
                )
        return outcome

    def _fetch_batch(
        self,
        batch: list[str],
        start: pd.Timestamp | None,
        end: pd.Timestamp | None,
        outcome: FetchOutcome,
    ) -> None:
        download = self._download_fn()
        logger = logging.getLogger("yfinance")
        handler = _CaptureYfinanceLog()
        previous_level, previous_propagate = logger.level, logger.propagate
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.WARNING)
        kwargs: dict[str, Any] = {
            "start": None if start is None else start.strftime("%Y-%m-%d"),
            "end": None if end is None else end.strftime("%Y-%m-%d"),
            "auto_adjust": True,
            "progress": False,
            "threads": True,
            "group_by": "column",
            "multi_level_index": True,
        }
        if self.session is not None:
            kwargs["session"] = self.session
        debug = _yfinance_debug_config() if self._download is None else None
        hidden = getattr(debug, "hide_exceptions", None)
        try:
            if debug is not None:
                # by default yfinance swallows a request's exception and reports "possibly
                # delisted"; with this off it reports the real cause (no network, HTTP 404, ...)
                debug.hide_exceptions = False
            with warnings.catch_warnings():
                # yfinance's own pandas deprecations are not the user's to read
                warnings.simplefilter("ignore")
                frame = download(batch, **kwargs)
        except Exception as exc:  # yfinance raises many types; each is a failure
            for t in batch:
                outcome.failed[t] = f"{type(exc).__name__}: {exc}"[:200]
        else:
            self._collect(frame, batch, handler.messages, outcome)
        finally:
            if debug is not None:
                debug.hide_exceptions = hidden
            logger.removeHandler(handler)
            logger.setLevel(previous_level)
            logger.propagate = previous_propagate

    @staticmethod
    def _collect(frame: Any, batch: list[str], messages: list[str], outcome: FetchOutcome) -> None:
        closes: pd.DataFrame | None = None
        if isinstance(frame, pd.DataFrame) and not frame.empty:
            if isinstance(frame.columns, pd.MultiIndex):
                level0 = frame.columns.get_level_values(0)
                if "Close" in level0:
                    closes = pd.DataFrame(frame["Close"])
            elif "Close" in frame.columns and len(batch) == 1:
                closes = frame[["Close"]].rename(columns={"Close": batch[0]})
        for ticker in batch:
            values = None if closes is None or ticker not in closes else closes[ticker].dropna()
            if values is None or values.empty:
                outcome.failed[ticker] = _reason_for(ticker, messages)
                continue
            index = pd.DatetimeIndex(values.index)
            if index.tz is not None:
                index = index.tz_localize(None)
            values = pd.Series(values.to_numpy(dtype="float64"), index=index.normalize())
            try:
                outcome.prices[ticker] = validate_series(values, ticker, file="yahoo")
            except PriceDataError as exc:
                outcome.failed[ticker] = exc.message
