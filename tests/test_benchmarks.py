"""The benchmark script runs from a checkout and prints its table (no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT, SHARED_PRICES


def test_bench_perf_quick_prints_the_table() -> None:
    if not (SHARED_PRICES / "us_universe_2016.parquet").is_file():
        pytest.skip("../shared/prices is not beside the repository")
    proc = subprocess.run(
        [sys.executable, "benchmarks/bench_perf.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1].startswith("| case | runs | wall s (median) | peak MB |")
    cases = [line.split(" | ")[0].lstrip("| ") for line in lines[3:]]
    assert cases[:5] == ["bucketmap --help", "bucketmap run (default universes, store)",
                         "bucketmap run, first on a new machine (empty numba cache)",
                         "bucketmap board (default universes, store)",
                         "sweep, 504 variants 2016–2026"]  # fmt: skip
    assert "s over the second run on the same cache" in proc.stdout
    assert any(c.startswith("bt, one backtest per variant") for c in cases)
    assert "total returns agree within" in proc.stdout


def test_bench_special_quick_prints_the_table() -> None:
    if not (SHARED_PRICES / "csv").is_dir():
        pytest.skip("../shared/prices is not beside the repository")
    proc = subprocess.run(
        [sys.executable, "benchmarks/bench_special.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1].startswith("| case | runs | wall s (median) | peak MB | inner s |")
    assert any(line.startswith("| bt benchmark_random") for line in lines)
    assert "bt per random basket / ours per basket" in proc.stdout
