"""The default run's outputs on the shipped sample, kept as a reference: what a speed-up must
not change (issue 20: every output identical to 1e-12).

``tests/data/reference_run/`` holds, from ``bucketmap run --prices sample --no-record``:
``results.json``, ``claims.json``, ``weights.csv``, ``contributions.csv`` and ``summary.md``
whole (gzip), and for ``returns.csv`` and ``variants.csv`` (1.7 MB of daily returns) each
column's fingerprint: its count of values, sum, sum of squares, sum of absolute values, growth
``Π(1 + r) - 1`` and first and last values (``columns.json``). The run's id and creation times are
left out. ``scripts/make_reference_run.py`` rewrites the folder: only when a change of numbers
is intended, said in its commit.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REFERENCE = Path(__file__).resolve().parent / "data" / "reference_run"
WHOLE = ("results.json", "claims.json", "weights.csv", "contributions.csv", "summary.md")
FINGERPRINTED = ("returns.csv", "variants.csv")
VOLATILE = {"run_id", "created_at"}
"""JSON keys that differ from one run of the same job to the next."""
RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")


def strip_volatile(value: Any) -> Any:
    """``value`` without the :data:`VOLATILE` keys, at any depth."""
    if isinstance(value, dict):
        return {k: strip_volatile(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [strip_volatile(v) for v in value]
    return value


def column_fingerprints(csv_text: str) -> dict[str, list[float]]:
    """Per column of a returns CSV: ``[count, sum, sum of squares, sum of |r|, Π(1 + r) - 1,
    first, last]`` over its values (NaN skipped)."""
    frame = pd.read_csv(io.StringIO(csv_text), index_col=0)
    out: dict[str, list[float]] = {}
    for name in frame.columns:
        x = frame[name].dropna().to_numpy(dtype="float64")
        if len(x) == 0:
            out[str(name)] = [0.0, 0.0, 0.0, 0.0, 0.0, math.nan, math.nan]
            continue
        out[str(name)] = [
            float(len(x)),
            float(x.sum()),
            float((x * x).sum()),
            float(np.abs(x).sum()),
            float(np.expm1(np.log1p(x).sum())),
            float(x[0]),
            float(x[-1]),
        ]
    return out


def reference_of(out: Path) -> dict[str, bytes]:
    """The reference folder's files (name → bytes) for a run folder ``out``."""
    files: dict[str, bytes] = {}
    for name in WHOLE:
        text = (out / name).read_text()
        if name.endswith(".json"):
            text = json.dumps(strip_volatile(json.loads(text)), indent=1, sort_keys=True)
        else:
            text = RUN_ID.sub("RUN_ID", text)
        files[name + ".gz"] = gzip.compress(text.encode(), mtime=0)
    prints = {name: column_fingerprints((out / name).read_text()) for name in FINGERPRINTED}
    files["columns.json"] = json.dumps(prints, indent=1, sort_keys=True).encode()
    return files


def read_reference(folder: Path = REFERENCE) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def differences(
    expected: Any, actual: Any, *, atol: float = 1e-12, rtol: float = 1e-12, at: str = ""
) -> list[str]:
    """Where two JSON-like trees differ: numbers by more than ``atol + rtol × |expected|``
    (NaN equals NaN), anything else when unequal. Each difference as ``path: expected != actual``."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return [] if expected == actual else [f"{at}: {expected!r} != {actual!r}"]
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        a, b = float(expected), float(actual)
        if (math.isnan(a) and math.isnan(b)) or a == b:
            return []
        if abs(a - b) <= atol + rtol * abs(a):
            return []
        return [f"{at}: {expected!r} != {actual!r}"]
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            return [f"{at}: keys {sorted(expected)} != {sorted(actual)}"]
        return [
            d for k in expected for d in differences(expected[k], actual[k], at=f"{at}/{k}",
                                                     atol=atol, rtol=rtol)
        ]  # fmt: skip
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{at}: {len(expected)} items != {len(actual)}"]
        return [
            d
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in differences(e, a, at=f"{at}[{i}]", atol=atol, rtol=rtol)
        ]
    return [] if expected == actual else [f"{at}: {expected!r} != {actual!r}"]


def csv_rows(text: str) -> list[list[float | str]]:
    """A CSV's cells, numbers as floats (so they compare within a tolerance)."""
    rows: list[list[float | str]] = []
    for line in text.splitlines():
        cells: list[float | str] = []
        for cell in line.split(","):
            try:
                cells.append(float(cell))
            except ValueError:
                cells.append(cell)
        rows.append(cells)
    return rows


def compare_with_reference(out: Path, folder: Path = REFERENCE) -> list[str]:
    """Every difference between run folder ``out`` and the reference (empty: the same outputs
    to 1e-12)."""
    expected, actual = read_reference(folder), reference_of(out)
    found: list[str] = []
    if expected.keys() != actual.keys():
        return [f"files {sorted(expected)} != {sorted(actual)}"]
    for name in expected:
        if name == "columns.json":
            e, a = json.loads(expected[name]), json.loads(actual[name])
        else:
            e_text = gzip.decompress(expected[name]).decode()
            a_text = gzip.decompress(actual[name]).decode()
            if name.endswith(".json.gz"):
                e, a = json.loads(e_text), json.loads(a_text)
            elif name.endswith(".csv.gz"):
                e, a = csv_rows(e_text), csv_rows(a_text)
            else:  # summary.md: its words and rounded figures, exactly
                e, a = e_text, a_text
        found += differences(e, a, at=name)
    return found
