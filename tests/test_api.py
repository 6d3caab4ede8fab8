"""The declared API, where the top-level packages come from, and the import rule between stages."""

from __future__ import annotations

import ast
import importlib

import pytest

import bucketmap
from tests.conftest import ROOT

# stage → our packages it may import (the data flow: buckets → backtest → reports → bucketmap)
ALLOWED = {
    "buckets": {"buckets"},
    "backtest": {"backtest", "buckets"},
    # reports read the results contract, and draw with the metrics' own formulas (a drawdown
    # chart must be the drawdown the tables report), never the engine or the sources
    "reports": {"reports", "backtest.results", "backtest.evidence.metrics", "buckets"},
    "bucketmap": {"bucketmap", "buckets", "backtest", "reports"},
}
OURS = ("buckets", "backtest", "reports", "bucketmap")


def test_exact_public_api() -> None:
    assert sorted(bucketmap.__all__) == sorted(
        [
            "BucketmapError",
            "FetchError",
            "OutputError",
            "PriceDataError",
            "Rebalance",
            "ResultsError",
            "RunConfigError",
            "RunResults",
            "StoreError",
            "UniverseError",
            "UniverseErrors",
            "Weighting",
            "__version__",
            "run",
        ]
    )


def test_importing_bucketmap_stays_light() -> None:
    # bucketmap.run and RunResults load the engine on first use, not on `import bucketmap`
    import subprocess
    import sys

    code = "import sys, bucketmap; print(sorted(m for m in ('vectorbt', 'pandas', 'bucketmap.api') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    assert bucketmap.RunResults.__module__ == "bucketmap.notebook"


@pytest.mark.parametrize("package", OURS)
def test_packages_import_from_this_repository(package: str) -> None:
    # PyPI has packages named backtest, buckets and reports: ours must be the ones imported
    module = importlib.import_module(package)
    assert module.__file__ is not None
    assert ROOT in __import__("pathlib").Path(module.__file__).resolve().parents


def _imports(path: __import__("pathlib").Path) -> set[str]:  # type: ignore[valid-type]
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n.split(".")[0] in OURS}


@pytest.mark.parametrize("stage", list(ALLOWED))
def test_no_stage_reaches_over_another(stage: str) -> None:
    for path in sorted((ROOT / stage).rglob("*.py")):
        for name in _imports(path):
            ok = any(name == a or name.startswith(a + ".") for a in ALLOWED[stage])
            assert ok, f"{path.name} imports {name}, outside what {stage} may import"


# the rooms of backtest/, in data-flow order: each may import the shared modules and the rooms
# before it, never one after it
SHARED = ("backtest.conventions", "backtest.results")
ROOMS = ["backtest.prices", "backtest.simulation", "backtest.evidence", "backtest.run"]
JOBS = {"backtest.run": "backtest.run", "backtest.sweep": "backtest.run"}


def _room(module: str) -> str | None:
    for shared in SHARED:
        if module == shared:
            return None
    if module in JOBS:
        return JOBS[module]
    return next((r for r in ROOMS if module == r or module.startswith(r + ".")), None)


def test_backtest_rooms_import_only_earlier_rooms() -> None:
    for path in sorted((ROOT / "backtest").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        own = _room(module)
        if own is None:
            continue
        for name in _imports(path):
            if not name.startswith("backtest"):
                continue
            other = _room(name)
            assert other is None or ROOMS.index(other) <= ROOMS.index(own), (
                f"{module} imports {name}: {other} comes after {own}"
            )


def test_help_does_not_import_heavy_libraries() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from typer.testing import CliRunner; from bucketmap.cli import app; "
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0; "
        "print(','.join(m for m in ('pandas', 'vectorbt', 'plotly', 'yfinance') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
