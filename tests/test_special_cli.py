"""``bucketmap claims special`` and ``run`` with a pool: the files, the words, the report's
histogram, and one-line errors for a bad pool or bad options (nothing written)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bucketmap.cli import app
from tests.conftest import ROOT, SNAPSHOT_CSV, plotly_rewrites

runner = CliRunner()

pytestmark = pytest.mark.skipif(not SNAPSHOT_CSV.is_dir(), reason="needs ../shared/prices")


def _universe(tmp_path: Path, pools: str | None) -> Path:
    folder = tmp_path / "universes"
    shutil.copytree(ROOT / "universes", folder)
    if pools is not None:
        (folder / "pools.yaml").write_text(pools)
    return folder


POOLS = f"""\
# the 115 hand-picked tickers of the snapshot: a small pool, for the tests
default: snapshot
pools:
  snapshot:
    description: the snapshot's hand-picked tickers
    prices: {SNAPSHOT_CSV}
    min_history_days: 252
"""


@pytest.mark.e2e
def test_claims_special_writes_every_basket_and_the_rank_they_give(tmp_path: Path) -> None:
    universes = _universe(tmp_path, None)
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        [
            "claims", "special", "--universes", str(universes), "--prices", str(SNAPSHOT_CSV),
            "--pool", str(SNAPSHOT_CSV), "--baskets", "400", "--claim", "rotation-pipes",
            "--claim", "physical-limit-power", "--out", str(out),
        ],
        env={"COLUMNS": "100"},
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Was the basket special?" in res.stdout
    assert "beat" in res.stdout and "baskets.csv" in res.stdout
    claims = json.loads((out / "claims.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert "baskets.csv" in manifest["files"]
    table = pd.read_csv(out / "baskets.csv")
    assert list(table.columns) == ["claim", "null", "basket", "excess", "members"]
    for claim in claims["claims"]:
        sp = claim["special"]
        assert sp["pool"] == "csv" and "survivors" in sp["survivorship"]
        assert sp["eligible"] + sum(sp["excluded"].values()) == sp["pool_tickers"]
        for null in ("random", "matched"):
            got = sp[null]
            if got["reason"] is not None:
                continue
            x = table.loc[(table["claim"] == claim["id"]) & (table["null"] == null), "excess"]
            assert len(x) == got["baskets"] == 400
            assert got["p_value"] == pytest.approx(
                (1 + (x >= sp["bucket_excess"]).sum()) / 401, abs=1e-15
            )
            assert got["percentile"] == pytest.approx(
                100 * ((x < sp["bucket_excess"]).mean() + 0.5 * (x == sp["bucket_excess"]).mean())
            )
            members = table.loc[table["claim"] == claim["id"], "members"].str.split(" ")
            assert (members.map(len) == sp["members"]).all()


@pytest.mark.e2e
def test_a_run_with_a_default_pool_draws_the_histogram_and_words(tmp_path: Path) -> None:
    universes = _universe(tmp_path, POOLS)
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        [
            "run", "--universes", str(universes), "--prices", str(SNAPSHOT_CSV), "--out",
            str(out), "--baskets", "200", "--no-record", "--bucket", "pipes",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    claims = json.loads((out / "claims.json").read_text())
    specials = [c["special"] for c in claims["claims"] if c["special"] is not None]
    assert specials and all(s["random"]["baskets"] == 200 for s in specials)
    html = (out / "report.html").read_text()
    assert "claim-0-special" in html and "Was the basket special?" in html
    assert plotly_rewrites(html) == []  # the histogram too is plotly's own JSON
    summary = (out / "summary.md").read_text()
    assert "## Was the basket special?" in summary
    assert (out / "baskets.csv").is_file()
    # the histogram in claims.json is the baskets' own
    first = next(c for c in claims["claims"] if c["special"] is not None)
    x = pd.read_csv(out / "baskets.csv").query(f"claim == '{first['id']}' and null == 'random'")
    counts, _ = np.histogram(x["excess"], bins=len(first["special"]["random"]["histogram_counts"]))
    assert counts.tolist() == first["special"]["random"]["histogram_counts"]


def _one_line(res: object, expected: str, out: Path) -> None:
    assert res.exit_code == 2, res.output  # type: ignore[attr-defined]
    lines = res.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, lines
    assert expected in lines[0], lines[0]
    assert "Traceback" not in res.output  # type: ignore[attr-defined]
    assert not out.exists()


@pytest.mark.parametrize(
    ("pools", "extra", "expected"),
    [
        (None, [], "no pool to draw baskets from: give --pool"),
        (None, ["--pool", "/no/such/file.parquet"], "--pool /no/such/file.parquet: neither a pool"),
        ("default: nope\npools:\n  a:\n    tickers: [NVDA]\n", [], "pools.yaml: default 'nope'"),
        (
            "pools:\n  a:\n    prices: x.parquet\n    max_daily_move: -1\n",
            [],
            "pools.yaml:4: pools.a.max_daily_move",
        ),
        ("pools:\n  a:\n    description: nothing\n", [], "a pool needs prices"),
        (None, ["--pool", "x", "--scheduler", "localhost:8786"], "a Dask scheduler address"),
    ],
)
def test_a_bad_pool_or_option_is_one_line_and_writes_nothing(
    tmp_path: Path, pools: str | None, extra: list[str], expected: str
) -> None:
    universes = _universe(tmp_path, pools)
    out = tmp_path / "out"
    if "x" in extra:
        (tmp_path / "x").mkdir()
        extra = [str(tmp_path / "x") if e == "x" else e for e in extra]
    res = runner.invoke(
        app,
        [
            "claims", "special", "--universes", str(universes), "--prices", str(SNAPSHOT_CSV),
            "--claim", "rotation-pipes", "--out", str(out), *extra,
        ],
    )  # fmt: skip
    _one_line(res, expected, out)
