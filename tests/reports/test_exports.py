"""The daily contributions file: CSV while it is small, parquet when large, written atomically
with its checksum in the manifest like every other file."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports import exports
from reports.exports import daily_contributions_file, returns_csv, write_run_files


def _table(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "date": pd.bdate_range("2024-01-01", periods=rows).strftime("%Y-%m-%d"),
            "bucket": "b",
            "ticker": [f"T{i % 7}" for i in range(rows)],
            "contribution": rng.normal(0, 0.01, rows),
        }
    )


def test_a_small_table_is_csv_at_full_precision() -> None:
    table = _table(50)
    name, content = daily_contributions_file(table)
    assert name == "contributions_daily.csv" and isinstance(content, str)
    back = pd.read_csv(io.StringIO(content))
    assert back["contribution"].tolist() == table["contribution"].tolist()  # to the last digit


def test_a_table_over_the_row_limit_is_parquet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "DAILY_CSV_ROWS", 49)
    table = _table(50)
    name, content = daily_contributions_file(table)
    assert name == "contributions_daily.parquet" and isinstance(content, bytes)
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(content)), table)


def test_bytes_are_written_atomically_with_their_checksum(tmp_path: Path) -> None:
    table = _table(20)
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    data = buffer.getvalue()
    write_run_files(tmp_path, {"a.csv": "x\n", "contributions_daily.parquet": data}, "run-1")
    assert (tmp_path / "contributions_daily.parquet").read_bytes() == data
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["files"]["contributions_daily.parquet"] == hashlib.sha256(data).hexdigest()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bucketmap-stage-")]


@given(
    st.integers(0, 6),
    st.integers(0, 30),
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from([0.0, -0.0, 1e-300, 5e-324, 1e300, 0.1, 1 / 3]),
        ),
        min_size=180,
        max_size=180,
    ),
    st.lists(st.text(min_size=1, max_size=8), min_size=6, max_size=6, unique=True),
)
def test_returns_csv_is_pandas_to_csv(
    n_cols: int, n_rows: int, cells: list[float], names: list[str]
) -> None:
    # the hand-written rows are pandas' own text: NaN empty, infinities, signed zeros, subnormals,
    # and column names that need quoting (commas, quotes, new lines)
    index = pd.bdate_range("2024-01-01", periods=n_rows)
    values = np.array(cells[: n_rows * n_cols], dtype="float64").reshape(n_rows, n_cols)
    frame = pd.DataFrame(values, index=index, columns=names[:n_cols])
    expected = frame.copy()
    expected.index = expected.index.strftime("%Y-%m-%d")
    expected.index.name = "date"
    assert returns_csv(frame) == expected.to_csv(lineterminator="\n")
