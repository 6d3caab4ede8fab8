"""``--bucket`` and ``--verified-only`` on a universe written out by hand: what each keeps, what
it leaves out (one line each), and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from buckets.errors import RunConfigError
from buckets.files import load_universe
from buckets.select import select_universe


def _bucket(side: str, *members: tuple[str, str]) -> str:
    lines = [f"side: {side}", "members:"]
    for ticker, status in members:
        lines += [f"  - ticker: {ticker}", f"    status: {status}", "    rationale: r"]
        if status == "verified":
            lines += ["    verified_by: ana", "    verified_on: 2026-12-01"]
    return "\n".join(lines) + "\n"


CLAIMS = """\
claims:
  - id: a-beats-gpu
    source: "000"
    statement: a beats gpu
    bucket: alpha
    benchmark: gpu
    direction: outperform
    start: 2025-01-02
    counter_signals:
      - name: b-verdict
        when: {measure: verdict, claim: b-beats-spy, is: [refuted]}
  - id: b-beats-spy
    source: "000"
    statement: b beats SPY
    bucket: beta
    benchmark: SPY
    direction: outperform
    start: 2025-01-02
  - id: c-beats-spy
    source: "000"
    statement: c beats SPY, watching alpha
    bucket: gamma
    benchmark: SPY
    direction: outperform
    start: 2025-01-02
    counter_signals:
      - name: alpha-ahead
        when: {measure: excess, of: alpha, vs: gamma, days: 20, above: 0.1}
"""


@pytest.fixture
def universe(tmp_path: Path) -> Path:
    folder = tmp_path / "u"
    folder.mkdir()
    (folder / "alpha.yaml").write_text(_bucket("long", ("AAA", "verified"), ("AAB", "proposed")))
    (folder / "beta.yaml").write_text(_bucket("long", ("BBB", "proposed")))
    (folder / "gamma.yaml").write_text(_bucket("long", ("CCC", "verified")))
    (folder / "gpu.yaml").write_text(_bucket("context", ("NVDA", "proposed")))
    (folder / "benchmarks.yaml").write_text("benchmarks:\n  - SPY\n  - gpu\n")
    (folder / "claims.yaml").write_text(CLAIMS)
    return folder


def test_nothing_asked_is_the_whole_universe(universe: Path) -> None:
    whole = load_universe(universe)
    assert select_universe(whole) is whole


def test_bucket_brings_benchmark_buckets_and_what_its_claims_need(universe: Path) -> None:
    u = select_universe(load_universe(universe), ["alpha"])
    # alpha; gpu (a benchmark bucket, and a-beats-gpu's benchmark); beta, because a-beats-gpu's
    # counter-signal reads b-beats-spy's verdict; gamma is not run
    assert list(u.buckets) == ["alpha", "beta", "gpu"]
    assert [c.id for c in u.claims] == ["a-beats-gpu", "b-beats-spy"]
    assert u.benchmarks == ["SPY", "gpu"]
    assert u.left_out == ["--bucket: claims on buckets not run are left out (c-beats-spy)"]
    assert u.warnings()[0] == u.left_out[0]


def test_a_claim_whose_rule_measures_another_bucket_brings_it(universe: Path) -> None:
    u = select_universe(load_universe(universe), ["gamma"])
    assert list(u.buckets) == ["alpha", "gamma", "gpu"]  # alpha: measured by alpha-ahead
    assert [c.id for c in u.claims] == ["c-beats-spy"]


def test_an_unknown_bucket_is_refused_with_the_closest_name(universe: Path) -> None:
    with pytest.raises(RunConfigError) as err:
        select_universe(load_universe(universe), ["alpah"])
    assert str(err.value) == "--bucket alpah: no bucket named alpah; did you mean alpha?"


def test_verified_only_leaves_out_buckets_and_the_claims_that_need_them(universe: Path) -> None:
    u = select_universe(load_universe(universe), verified_only=True)
    assert list(u.buckets) == ["alpha", "gamma"]
    assert u.benchmarks == ["SPY"]  # gpu had no verified member
    # c-beats-spy needs alpha and gamma, both kept; a-beats-gpu needs gpu; and b-beats-spy beta
    assert [c.id for c in u.claims] == ["c-beats-spy"]
    assert u.left_out == [
        "bucket beta has no verified member: left out (--verified-only)",
        "bucket gpu has no verified member: left out (--verified-only)",
        "claim a-beats-gpu left out: bucket gpu is left out",
        "claim b-beats-spy left out: bucket beta is left out",
    ]


def test_a_claim_reading_a_left_out_claims_verdict_is_left_out_too(universe: Path) -> None:
    text = (universe / "gpu.yaml").read_text().replace("status: proposed", "status: verified")
    (universe / "gpu.yaml").write_text(text + "    verified_by: ana\n    verified_on: 2026-12-01\n")
    u = select_universe(load_universe(universe), verified_only=True)
    assert [c.id for c in u.claims] == ["c-beats-spy"]
    assert u.left_out[-2:] == [
        "claim b-beats-spy left out: bucket beta is left out",
        "claim a-beats-gpu left out: it reads the verdict of claim b-beats-spy, left out",
    ]


def test_verified_only_with_nothing_verified_says_what_to_do(universe: Path) -> None:
    for name in ("alpha", "gamma"):
        path = universe / f"{name}.yaml"
        path.write_text(
            path.read_text()
            .replace("status: verified", "status: proposed")
            .replace("    verified_by: ana\n    verified_on: 2026-12-01\n", "")
        )
    with pytest.raises(RunConfigError, match="no bucket has a verified member; verify some"):
        select_universe(load_universe(universe), verified_only=True)
