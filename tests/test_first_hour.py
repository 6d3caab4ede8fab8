"""What a new user meets in the first hour: custom windows with hyphens in the terminal, dates in
--help, --verified-only with one verified member, --bucket, and the notebook API whose tables
equal the files the CLI writes."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import bucketmap
from bucketmap.cli import app
from reports.exports import read_returns_csv
from tests.conftest import ROOT

runner = CliRunner()


def _cli(*args: str, columns: int = 100) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bucketmap", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "COLUMNS": str(columns)},
    )  # fmt: skip


def test_a_window_with_a_hyphen_is_run_and_printed(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    proc = _cli("run", "--universes", str(tiny_universe), "--prices", str(tiny_prices),
                "--out", str(out), "--start", "2024-01-30", "--no-record", "--resamples", "100",
                "--window", "since-feb=2024-02-15:2024-03-28", "--window", "_march=2024-02-29:2024-03-28")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    windows = {
        w["name"]: w for w in json.loads((out / "results.json").read_text())["run"]["windows"]
    }
    assert list(windows) == ["whole", "since-feb", "_march"]
    # bought half and half on 2024-01-30 and again at January's end (AAA 10, BBB 5): worth 1.25
    # at the 2024-02-15 close (AAA 15), 1.5 at February's end (AAA 20), rebalanced half and half,
    # then AAA doubles to 40: 1.5 × (0.5 × 2 + 0.5) = 2.25; after the 02-15 close: 2.25 / 1.25 − 1
    total = json.loads((out / "results.json").read_text())["buckets"]["duo"]["windows"]
    assert total["since-feb"]["metrics"]["total_return"] == pytest.approx(
        2.25 / 1.25 - 1, abs=1e-12
    )
    header = next(line for line in proc.stdout.splitlines() if "whole" in line)
    assert re.search(r"whole\s+since-feb\s+_march", header), proc.stdout
    assert max(len(line) for line in proc.stdout.splitlines()) <= 100


@pytest.mark.parametrize(
    ("window", "why"),
    [
        ("pre=2024-02-15:2024-03-28", "is not whole, pre or post"),
        ("since dec=2024-02-15:2024-03-28", "starts with a letter or _"),
        ("1st=2024-02-15:2024-03-28", "starts with a letter or _"),
        ("late=2024-03-28:2024-02-15", "2024-02-15 is not after 2024-03-28"),
    ],
)
def test_a_bad_window_is_one_line_saying_why(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path, window: str, why: str
) -> None:
    res = runner.invoke(app, ["run", "--universes", str(tiny_universe), "--prices",
                              str(tiny_prices), "--out", str(tmp_path / "o"), "--window", window])  # fmt: skip
    assert res.exit_code == 2
    [line] = res.stderr.strip().splitlines()
    assert line.startswith("error: --window ") and why in line, line
    assert not (tmp_path / "o").exists()


def test_help_shows_dates_as_dates() -> None:
    res = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    assert "2023-01-01" in res.output
    assert "00:00:00" not in res.output


@pytest.mark.parametrize("command", [["run"], ["claims", "special"]])
def test_help_shows_the_install_hint_whole(command: list[str]) -> None:
    # rich reads [dask] as markup and printed "pip install 'bucketmap'"
    res = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "250"})
    assert res.exit_code == 0
    assert "pip install 'bucketmap[dask]'" in res.output, res.output


def _copy_universes(tmp_path: Path) -> Path:
    folder = tmp_path / "universes"
    shutil.copytree(ROOT / "universes", folder, ignore=shutil.ignore_patterns(".bucketmap.lock"))
    return folder


def test_verified_only_skips_buckets_without_a_verified_member(tmp_path: Path) -> None:
    universes = _copy_universes(tmp_path)
    verify = _cli("universes", "verify", "pipes", "ANET", "--by", "ana", "--universes",
                  str(universes))  # fmt: skip
    assert verify.returncode == 0, verify.stderr
    out = tmp_path / "verified"
    proc = _cli("run", "--prices", "sample", "--universes", str(universes), "--out", str(out),
                "--verified-only", "--no-record", "--resamples", "200")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning: ")]
    assert (
        "warning: bucket gpu_merchant has no verified member: left out (--verified-only)"
        in warnings
    )
    assert "warning: claim physical-limit-power left out: bucket power is left out" in warnings
    results = json.loads((out / "results.json").read_text())
    assert list(results["buckets"]) == ["pipes"]
    assert results["buckets"]["pipes"]["status_counts"]["verified"] == 1
    assert [m["ticker"] for m in results["buckets"]["pipes"]["members"] if m["used"]] == ["ANET"]
    assert "gpu_merchant" not in results["benchmarks"]
    claims = json.loads((out / "claims.json").read_text())["claims"]
    assert [c["id"] for c in claims] == ["physical-limit-pipes"]  # pipes vs SPY needs nothing else
    # the left-out lines are in the run's warnings, so the report and summary.md say so too
    assert (
        "bucket power has no verified member: left out (--verified-only)"
        in results["run"]["warnings"]
    )
    assert "bucket power has no verified member" in (out / "summary.md").read_text()
    page = (out / "report.html").read_text()
    banner = "This run left part of the universe out (16 lines: "
    assert banner in page and page.index(banner) < page.index("The claims, one by one")
    assert '<h2 id="warnings">Warnings</h2>' in page


def test_bucket_runs_some_buckets_and_what_their_claims_need(tmp_path: Path) -> None:
    out = tmp_path / "pipes"
    proc = _cli("run", "--prices", "sample", "--out", str(out), "--bucket", "pipes",
                "--no-record", "--resamples", "200")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    results = json.loads((out / "results.json").read_text())
    # pipes; gpu_merchant (a benchmark bucket); inference_efficiency, whose claim's verdict the
    # rotation-pipes counter-signals read
    assert list(results["buckets"]) == ["inference_efficiency", "pipes", "gpu_merchant"]
    claims = [c["id"] for c in json.loads((out / "claims.json").read_text())["claims"]]
    assert claims == ["rotation-pipes", "rotation-pipes-smh", "rotation-inference",
                      "physical-limit-pipes"]  # fmt: skip
    assert proc.stderr.splitlines()[0] == (
        "warning: --bucket: claims on buckets not run are left out (apps-quality, "
        "gpu-flex-premium, physical-limit-power, autonomy-e2e)"
    )
    bad = _cli("run", "--prices", "sample", "--out", str(tmp_path / "x"), "--bucket", "pipe")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: --bucket pipe: no bucket named pipe; did you mean pipes?"


# --- the notebook API -----------------------------------------------------------------------------


def _readme_notebook_example() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### In a notebook", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None
    return block.group(1)


def test_the_readme_notebook_example_runs_and_its_tables_equal_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _copy_universes(tmp_path)
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(_readme_notebook_example(), "README.md", "exec"), scope)  # noqa: S102
    res = scope["res"]
    assert isinstance(res, bucketmap.RunResults)
    out = tmp_path / "out" / "notebook"
    assert (out / "manifest.json").is_file() and (out / "report.html").is_file()

    # returns.csv, weights.csv and contributions.csv are the DataFrames, to the last digit
    pd.testing.assert_frame_equal(
        res.returns,
        read_returns_csv(out / "returns.csv"),
        check_freq=False,
        check_names=False,
        check_index_type=False,  # datetime64 unit (ns from the sample, us from the CSV) aside
    )
    weights = pd.read_csv(out / "weights.csv", parse_dates=["date"])
    pd.testing.assert_frame_equal(res.weights.reset_index(drop=True), weights, check_dtype=False)
    contributions = pd.read_csv(out / "contributions.csv", parse_dates=["start", "end"])
    pd.testing.assert_frame_equal(
        res.contributions.reset_index(drop=True), contributions, check_dtype=False
    )
    # the daily table on request: its parts sum to each day's return, and compound to the
    # window's contributions
    assert not (out / "contributions_daily.csv").exists()
    res.save(tmp_path / "daily", record=False, daily_contributions=True)
    daily = pd.read_csv(tmp_path / "daily" / "contributions_daily.csv", parse_dates=["date"])
    pd.testing.assert_frame_equal(
        res.daily_contributions.reset_index(drop=True), daily, check_dtype=False
    )
    # a later save without it leaves the old daily table, and says it is not this run's
    res.save(tmp_path / "daily", record=False)
    assert any("contributions_daily.csv is from an earlier run" in n for n in res.job.notes)
    summed = daily.groupby(["date", "bucket"])["contribution"].sum().unstack()
    for bucket in summed.columns:
        r = res.returns[bucket].dropna()
        np.testing.assert_allclose(summed[bucket].dropna().to_numpy(), r.to_numpy(), atol=1e-14)
    # metrics, relative and claims are results.json's and claims.json's numbers
    results = json.loads((out / "results.json").read_text())
    for (name, window), row in res.metrics.iterrows():
        source = (
            results["buckets"][name]["windows"][window]["metrics"]
            if name in results["buckets"]
            else results["benchmarks"][name]["windows"][window]
        )
        for key in ("total_return", "volatility", "sharpe", "max_drawdown"):
            assert row[key] == source[key] or (row[key] is None and source[key] is None), key
    assert len(res.metrics) == sum(len(b["windows"]) for b in results["buckets"].values()) + sum(
        len(b["windows"]) for b in results["benchmarks"].values() if b["kind"] == "ticker"
    )
    for (bucket, bench, window), row in res.relative.iterrows():
        source = results["buckets"][bucket]["windows"][window]["vs"][bench]
        assert row["excess_return"] == source["excess_return"]
        assert row["return_difference"] == source["return_difference"]
    claims = json.loads((out / "claims.json").read_text())["claims"]
    assert list(res.claims.index) == [c["id"] for c in claims]
    for c in claims:
        row = res.claims.loc[c["id"]]
        assert row["verdict"] == c["verdict"]
        for key in ("excess_return", "low", "high"):
            assert row[key] == c["test"][key] or (np.isnan(row[key]) and c["test"][key] is None)

    # the report's figures, and the answer for Jupyter
    assert {"growth", "drawdown", "rolling", "claim-0-ratio", "contributions"} <= set(res.figures)
    assert type(res.figures["growth"]).__name__ == "Figure"
    html = res._repr_html_()
    assert "bucketmap run" in html and all(c["id"] in html for c in claims)
    assert "<table" in html


def test_the_cli_and_the_api_write_the_same_numbers(tiny_universe: Path, tiny_prices: Path,
                                                    tmp_path: Path) -> None:  # fmt: skip
    res = runner.invoke(app, ["run", "--universes", str(tiny_universe), "--prices",
                              str(tiny_prices), "--out", str(tmp_path / "cli"), "--no-record",
                              "--start", "2024-01-30"])  # fmt: skip
    assert res.exit_code == 0, res.output
    api = bucketmap.run(tiny_universe, prices=tiny_prices, start="2024-01-30")
    written = api.save(tmp_path / "api", record=False)
    assert {p.name for p in written} == {p.name for p in (tmp_path / "cli").iterdir()} - {
        ".bucketmap.lock"
    }
    for name in ("returns.csv", "weights.csv", "contributions.csv", "variants.csv"):
        assert (tmp_path / "api" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    # --daily-contributions is save's daily_contributions
    res = runner.invoke(app, ["run", "--universes", str(tiny_universe), "--prices",
                              str(tiny_prices), "--out", str(tmp_path / "cli"), "--no-record",
                              "--start", "2024-01-30", "--daily-contributions"])  # fmt: skip
    assert res.exit_code == 0, res.output
    api.save(tmp_path / "api", record=False, daily_contributions=True)
    name = "contributions_daily.csv"
    assert (tmp_path / "api" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    with pytest.raises(bucketmap.RunConfigError, match="--end 2024-01-02 is not after"):
        bucketmap.run(tiny_universe, prices=tiny_prices, start="2024-01-30", end="2024-01-02")
    # the CLI's bounds hold for library callers too, before anything is allocated
    with pytest.raises(bucketmap.RunConfigError, match="--resamples 10000000: from 100 to 100,000"):
        bucketmap.run(tiny_universe, prices=tiny_prices, resamples=10_000_000)
    with pytest.raises(bucketmap.RunConfigError, match="--cost-bps 10000"):
        bucketmap.run(tiny_universe, prices=tiny_prices, cost_bps=10_000)
    with pytest.raises(bucketmap.RunConfigError, match="'sometimes' is not a valid Rebalance"):
        bucketmap.run(tiny_universe, prices=tiny_prices, rebalance="sometimes")


def test_universes_status_shows_what_verified_only_would_run(tmp_path: Path) -> None:
    universes = _copy_universes(tmp_path)

    def status() -> list[str]:
        res = runner.invoke(app, ["universes", "status", "--universes", str(universes)])
        assert res.exit_code == 0, res.output
        return [" ".join(line.strip("│┃ ").split()) for line in res.stdout.splitlines()]

    before = status()
    assert before[-1].startswith("--verified-only: no bucket has a verified member")
    assert not any(line.endswith(" runs") for line in before)
    res = runner.invoke(app, ["universes", "verify", "pipes", "ANET", "--by", "ana",
                              "--universes", str(universes)])  # fmt: skip
    assert res.exit_code == 0, res.output
    after = status()
    assert any(re.fullmatch(r"pipes │ long │ 1 │ 16 │ runs 1", line) for line in after), after
    assert any(re.fullmatch(r"power │ context │ 0 │ 7 │ left out", line) for line in after)
    assert any(re.fullmatch(r"physical-limit-pipes │ pipes │ runs", line) for line in after)
    assert any(
        line == "physical-limit-power │ power │ left out: bucket power is left out"
        for line in after
    ), after


def test_the_readme_verify_walkthrough_runs_line_by_line(tmp_path: Path) -> None:
    """Every command of README's "Verifying a universe" block, in order, on a copy of
    universes/ (the working folder is the copy's parent): each succeeds and does what it says."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Verifying a universe", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    commands = [line.split("  #")[0].strip() for line in block.group(1).splitlines()]
    assert (
        commands[-1] == ".venv/bin/bucketmap run --prices sample --out out/verified --verified-only"
    )
    universes = _copy_universes(tmp_path)
    for command in commands:
        assert command.startswith(".venv/bin/bucketmap ")
        args = shlex.split(command)[1:]
        proc = subprocess.run(
            [sys.executable, "-m", "bucketmap", *args],
            cwd=tmp_path, capture_output=True, text=True, timeout=600,
            env={**os.environ, "COLUMNS": "100", "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        assert proc.returncode == 0, (command, proc.stderr)
        if args[:2] == ["universes", "add"]:
            assert "warning: MRVL is in more than one long bucket" in proc.stderr
    from buckets.files import load_bucket

    pipes = {m.ticker: m for m in load_bucket(universes / "pipes.yaml").members}
    assert pipes["ANET"].status.value == pipes["CIEN"].status.value == "verified"
    assert pipes["ANET"].verified_by == "ana" and pipes["ANET"].evidence
    assert pipes["AAOI"].status.value == "rejected" and pipes["AAOI"].rejected_by == "ana"
    assert pipes["MRVL"].status.value == "proposed"
    results = json.loads((tmp_path / "out" / "verified" / "results.json").read_text())
    assert list(results["buckets"]) == ["pipes"]
    used = [m["ticker"] for m in results["buckets"]["pipes"]["members"] if m["used"]]
    assert used == ["ANET", "CIEN"]


def test_wide_shows_every_control_and_every_excess_whole_at_100_columns(tmp_path: Path) -> None:
    # --wide printed the 14 control columns side by side: at 100 columns every cell was cut to
    # one or two characters, and bucket names in the windows' tables to "autonomy…"
    out = tmp_path / "wide"
    proc = _cli("run", "--prices", "sample", "--out", str(out), "--no-record", "--wide")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert not any("…" in line for line in lines), proc.stdout
    claims = json.loads((out / "claims.json").read_text())["claims"]
    text = "\n".join(line.rstrip() for line in lines)
    for c in claims:
        # a block per claim: its title, then each control on a line of its own
        block = text.split(f"\n{c['id']}: {c['bucket']} vs {c['benchmark']}\n", 1)[1]
        block = block.split("\n\n", 1)[0]
        b = c["beta_adjusted"]
        alpha = f"{b['alpha']:+.1%} [{b['alpha_low']:+.1%}, {b['alpha_high']:+.1%}]"
        assert re.search(r"^\s+alpha on factors \(a year\)\s+" + re.escape(alpha), block, re.M)
        days = re.search(r"^\s+days\s+(\d+)$", block, re.M)
        assert days is not None and int(days.group(1)) == c["test"]["days"]
        verdict = re.search(r"^\s+verdict\s+(\S+)$", block, re.M)
        assert verdict is not None and verdict.group(1) == c["verdict"]
    # every bucket's excess over every benchmark in every window, its name whole, on some row
    result = json.loads((out / "results.json").read_text())
    for window in result["run"]["windows"]:
        for name, bucket in result["buckets"].items():
            total = bucket["windows"][window["name"]]["metrics"]["total_return"]
            rows = [line.split() for line in lines if line.split()[:1] == [name]]
            cells = {cell for row in rows for cell in row}
            for bench in result["benchmarks"]:
                if bench == name:
                    continue
                other = (
                    result["buckets"][bench]["windows"][window["name"]]["metrics"]["total_return"]
                    if bench in result["buckets"]
                    else None
                )
                if other is None:
                    continue  # a ticker benchmark: its total is not in results.json
                assert f"{(1 + total) / (1 + other) - 1:+.1%}" in cells, (window["name"], name)
    assert "details: claims.json, summary.md, report.html" in text


def test_version_prints_the_installed_version() -> None:
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0
    assert res.stdout == f"bucketmap {declared}\n"
