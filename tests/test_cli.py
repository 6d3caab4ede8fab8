"""The command line: numbers of a tiny run, one-line errors with exit code 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from bucketmap.cli import app
from tests.conftest import plotly_rewrites

runner = CliRunner()


def invoke(*args: str) -> object:
    return runner.invoke(app, list(args))


def run_tiny(universe: Path, prices: Path, out: Path, *extra: str) -> object:
    """``bucketmap run`` on a test universe and price folder."""
    return invoke(
        "run", "--universes", str(universe), "--prices", str(prices), "--out", str(out), *extra
    )


def test_run_writes_files_with_the_hand_computed_numbers(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    res = run_tiny(tiny_universe, tiny_prices, out, "--start", "2024-01-01")
    assert res.exit_code == 0, res.output
    results = json.loads((out / "results.json").read_text())
    duo = results["buckets"]["duo"]
    # (1.25)(1.2)(1.5) - 1 = 1.25 (test_engine derives it); SPY: +10%
    assert duo["metrics"]["total_return"] == pytest.approx(1.25, abs=1e-9)
    assert duo["vs"]["SPY"]["return_difference"] == pytest.approx(1.25 - 0.10, abs=1e-9)
    assert duo["vs"]["SPY"]["excess_return"] == pytest.approx(2.25 / 1.10 - 1, abs=1e-9)
    assert results["benchmarks"]["SPY"]["metrics"]["total_return"] == pytest.approx(0.1, abs=1e-12)
    assert results["run"]["start"] == "2024-01-30"
    assert results["run"]["end"] == "2024-03-28"
    assert results["run"]["rebalance"] == "monthly"
    assert [m["ticker"] for m in duo["members"] if m["used"]] == ["AAA", "BBB"]
    assert duo["status_counts"] == {"proposed": 2, "verified": 0, "rejected": 0}
    returns = pd.read_csv(out / "returns.csv", index_col="date")
    assert list(returns.columns) == ["duo", "SPY"]
    assert float((1 + returns["duo"]).prod() - 1) == pytest.approx(1.25, abs=1e-12)
    weights = pd.read_csv(out / "weights.csv")
    assert list(weights.columns) == ["date", "bucket", "ticker", "weight"]
    assert set(weights["date"]) == {"2024-01-30", "2024-01-31", "2024-02-29"}
    html = (out / "report.html").read_text()
    assert "Growth of $1" in html
    assert "wrote" in res.output


def assert_one_line_error(res: object, expected: str, tmp_path: Path) -> None:
    assert res.exit_code == 2  # type: ignore[attr-defined]
    lines = res.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, lines
    assert lines[0] == expected
    assert "Traceback" not in res.output  # type: ignore[attr-defined]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda t: t.replace("description:", "colour: red\ndescription:"),
            "duo.yaml:3: colour: unknown key",
        ),
        (
            lambda t: t.replace("ticker: BBB", "ticker: B/B"),
            "duo.yaml:8: members[1].ticker: 'B/B' is not a ticker symbol (letters, digits, '.', "
            "'-', '^', '=', at most 15 characters)",
        ),
        (
            lambda t: "side: long\nmembers: []\n",
            "duo.yaml:2: members: a bucket needs at least one member",
        ),
    ],
)
def test_bad_universe_is_one_line_exit_2_nothing_written(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path, edit: object, expected: str
) -> None:
    path = tiny_universe / "duo.yaml"
    path.write_text(edit(path.read_text()))  # type: ignore[operator]
    res = run_tiny(tiny_universe, tiny_prices, tmp_path / "out")
    assert_one_line_error(res, f"error: {tiny_universe}/{expected}", tmp_path)


def test_missing_member_prices_stop_the_run_unless_allowed(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path
) -> None:
    (tiny_prices / "BBB.csv").unlink()
    args = [
        "run",
        "--universes",
        str(tiny_universe),
        "--prices",
        str(tiny_prices),
        "--out",
        str(tmp_path / "out"),
        "--start",
        "2024-01-01",
    ]
    res = invoke(*args)
    assert_one_line_error(
        res,
        f"error: bucket duo: 1 of 2 members have no prices in files: {tiny_prices} (BBB); "
        "fetch or import them, reject them in duo.yaml, or allow it with --max-missing 0.5",
        tmp_path,
    )
    res = invoke(*args, "--max-missing", "0.5")
    assert res.exit_code == 0, res.output
    duo = json.loads((tmp_path / "out" / "results.json").read_text())["buckets"]["duo"]
    bbb = duo["members"][1]
    assert (bbb["used"], bbb["reason"]) == (False, "no prices in the price source")
    # AAA alone: 10 → 40
    assert duo["metrics"]["total_return"] == pytest.approx(3.0, abs=1e-9)


def test_a_misspelt_member_gets_a_close_name_and_a_max_missing_that_works(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path
) -> None:
    # 1 of 3 members unpriced: a share of 0.333…, which --max-missing 0.33 would still refuse
    path = tiny_universe / "duo.yaml"
    path.write_text(
        path.read_text() + "  - ticker: AAAA\n    status: proposed\n    rationale: typo\n"
    )
    res = run_tiny(tiny_universe, tiny_prices, tmp_path / "out")
    assert_one_line_error(
        res,
        f"error: bucket duo: 1 of 3 members have no prices in files: {tiny_prices} (AAAA (did "
        "you mean AAA?)); fetch or import them, reject them in duo.yaml, or allow it with "
        "--max-missing 0.34",
        tmp_path,
    )
    res = invoke("run", "--universes", str(tiny_universe), "--prices", str(tiny_prices),
                 "--out", str(tmp_path / "out"), "--start", "2024-01-01", "--max-missing", "0.34")  # fmt: skip
    assert res.exit_code == 0, res.output


def test_missing_benchmark_prices(tiny_universe: Path, tiny_prices: Path, tmp_path: Path) -> None:
    (tiny_prices / "SPY.csv").unlink()
    res = run_tiny(tiny_universe, tiny_prices, tmp_path / "out")
    assert_one_line_error(
        res,
        f"error: benchmark SPY has no prices in files: {tiny_prices}; add them (`bucketmap "
        "prices fetch` / `prices import`) or remove it from benchmarks.yaml",
        tmp_path,
    )


def test_bad_price_file_names_file_and_field(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path
) -> None:
    (tiny_prices / "AAA.csv").write_text("Date,Close\n2024-01-30,10\n2024-01-31,-1\n")
    res = run_tiny(tiny_universe, tiny_prices, tmp_path / "out")
    assert_one_line_error(
        res,
        f"error: {tiny_prices}/AAA.csv: Close: price -1 on 2024-01-31 is not positive",
        tmp_path,
    )


def test_window_after_the_data(tiny_universe: Path, tiny_prices: Path, tmp_path: Path) -> None:
    res = run_tiny(tiny_universe, tiny_prices, tmp_path / "out", "--start", "2030-01-01")
    assert res.exit_code == 2
    assert "has 0 shared trading day(s) of SPY (their prices end 2024-03-28)" in res.stderr


def test_debug_shows_the_traceback(tiny_universe: Path, tiny_prices: Path, tmp_path: Path) -> None:
    (tiny_universe / "duo.yaml").write_text("side: long\nmembers: []\n")
    res = invoke(
        "--debug",
        "run",
        "--universes",
        str(tiny_universe),
        "--prices",
        str(tiny_prices),
        "--out",
        str(tmp_path / "out"),
    )
    assert res.exit_code != 0
    assert res.exception is not None
    assert type(res.exception).__name__ == "UniverseErrors"


def test_prices_import_and_run_from_the_store(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    res = invoke("prices", "import", str(tiny_prices), "--store", str(store))
    assert res.exit_code == 0, res.output
    assert "stored 3 ticker(s)" in res.output
    res = invoke("prices", "info", "--store", str(store))
    assert "AAA" in res.output and "import:prices" in res.output
    res = invoke(
        "run",
        "--universes",
        str(tiny_universe),
        "--store",
        str(store),
        "--out",
        str(tmp_path / "out"),
        "--start",
        "2024-01-01",
        "--no-fetch",
    )
    assert res.exit_code == 0, res.output
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["buckets"]["duo"]["metrics"]["total_return"] == pytest.approx(1.25, abs=1e-9)
    assert results["run"]["price_source"] == f"store: {store} (import:prices)"


def test_prices_import_refuses_bad_series_and_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "AAA.csv").write_text("Date,Close\n2024-01-02,1\n2024-01-03,2\n")
    (folder / "BBB.csv").write_text("Date,Close\n2024-01-02,1\n2024-01-02,2\n")
    res = invoke("prices", "import", str(folder), "--store", str(tmp_path / "st"))
    assert res.exit_code == 1
    assert f"refused: {folder}/BBB.csv: Date: date 2024-01-02 appears twice" in res.stderr


def test_store_from_environment(
    tiny_prices: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUCKETMAP_STORE", str(tmp_path / "envstore"))
    res = invoke("prices", "import", str(tiny_prices))
    assert res.exit_code == 0, res.output
    assert (tmp_path / "envstore" / "manifest.json").exists()


def test_universes_validate_lists_every_problem(tiny_universe: Path) -> None:
    (tiny_universe / "duo.yaml").write_text(
        "side: long\ncolour: red\nmembers:\n  - ticker: B/B\n    rationale: x\n"
    )
    res = invoke("universes", "validate", str(tiny_universe))
    assert res.exit_code == 2
    assert res.stderr.splitlines() == [
        f"{tiny_universe}/duo.yaml:2: colour: unknown key",
        f"{tiny_universe}/duo.yaml:4: members[0].ticker: 'B/B' is not a ticker symbol "
        "(letters, digits, '.', '-', '^', '=', at most 15 characters)",
        "2 problem(s)",
    ]


def test_fetch_without_network_is_one_line(
    tiny_universe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yfinance

    def offline(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Failed to perform, curl: (6) Could not resolve host")

    monkeypatch.setattr(yfinance, "download", offline)
    res = invoke(
        "prices", "fetch", "--universes", str(tiny_universe), "--store", str(tmp_path / "st")
    )
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        "error: cannot reach Yahoo Finance (no network or Yahoo refused the connection); use "
        "`--prices sample` (the sample shipped with bucketmap), `--prices PATH` or "
        "`bucketmap prices import PATH` instead"
    )


# --- universes: list, show, verify, reject, add, schema ------------------------------------------
def test_verify_workflow_from_the_command_line(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path
) -> None:
    res = invoke(
        "universes",
        "verify",
        "duo",
        "aaa",
        "--by",
        "ana",
        "--on",
        "2026-11-20",
        "--evidence",
        "https://example.org/10-k",
        "--universes",
        str(tiny_universe),
    )
    assert res.exit_code == 0, res.output
    assert res.output.startswith("duo: AAA verified by ana on 2026-11-20")
    res = invoke("universes", "show", "duo", "--universes", str(tiny_universe))
    assert "https://example.org/10-k" in res.output and "2026-11-20" in res.output
    res = invoke("universes", "list", "--universes", str(tiny_universe))
    row = next(line for line in res.output.splitlines() if "duo" in line)
    # bucket, side, verified, proposed, rejected, members
    assert [c.strip() for c in row.split("│")[1:-1]] == ["duo", "long", "1", "1", "0", "2"]

    # --verified-only: the bucket is AAA alone, 10 → 40 = +300%
    out = tmp_path / "out"
    res = run_tiny(tiny_universe, tiny_prices, out, "--start", "2024-01-01", "--verified-only")
    assert res.exit_code == 0, res.output
    duo = json.loads((out / "results.json").read_text())["buckets"]["duo"]
    assert duo["metrics"]["total_return"] == pytest.approx(3.0, abs=1e-9)
    assert duo["members"][1]["reason"] == "not verified (--verified-only)"
    assert duo["status_counts"] == {"proposed": 1, "verified": 1, "rejected": 0}
    assert "1 of the 1 members used" not in (out / "report.html").read_text()
    assert "The one member used in this run is verified." in (out / "report.html").read_text()

    # rejected: never in a run
    res = invoke(
        "universes",
        "reject",
        "duo",
        "AAA",
        "--why",
        "changed my mind",
        "--by",
        "bo",
        "--universes",
        str(tiny_universe),
    )
    assert res.exit_code == 0, res.output
    res = run_tiny(tiny_universe, tiny_prices, out, "--start", "2024-01-01")
    assert res.exit_code == 0, res.output
    duo = json.loads((out / "results.json").read_text())["buckets"]["duo"]
    assert duo["metrics"]["total_return"] == pytest.approx(0.0, abs=1e-12)  # BBB is flat
    assert duo["members"][0]["reason"] == "rejected: changed my mind"
    assert (
        "1 of the 1 members used in this run are not verified" in (out / "report.html").read_text()
    )


def test_add_and_overlap_is_reported(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path
) -> None:
    (tiny_universe / "solo.yaml").write_text(
        "side: long\nmembers:\n  - ticker: BBB\n    rationale: r\n"
    )
    res = invoke(
        "universes", "add", "solo", "AAA", "--why", "also here", "--universes", str(tiny_universe)
    )
    assert res.exit_code == 0, res.output
    # said at once, in the run's own words (below)
    assert res.stderr == "warning: AAA is in more than one long bucket (duo, solo)\n"
    out = tmp_path / "out"
    res = run_tiny(tiny_universe, tiny_prices, out, "--start", "2024-01-01")
    assert res.exit_code == 0, res.output
    assert "warning: AAA is in more than one long bucket (duo, solo)" in res.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["buckets"]["duo"]["overlaps"] == {"AAA": ["solo"], "BBB": ["solo"]}
    assert "AAA is in more than one long bucket (duo, solo)" in results["run"]["warnings"]


def test_edit_errors_are_one_line(tiny_universe: Path) -> None:
    res = invoke(
        "universes", "verify", "duo", "ZZZ", "--by", "ana", "--universes", str(tiny_universe)
    )
    assert res.exit_code == 2
    assert (
        res.stderr.strip() == f"error: {tiny_universe}/duo.yaml: ZZZ is not a member of this bucket"
    )


def test_verify_and_reject_take_several_tickers_and_name_the_close_ones(
    tiny_universe: Path, tmp_path: Path
) -> None:
    from tests.conftest import TINY_BUCKET

    folder = str(tiny_universe)
    res = invoke(
        "universes", "verify", "duo", "aaa", "BBB", "--by", "ana", "--on", "2026-11-20",
        "--universes", folder,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert res.stdout == (
        f"duo: AAA, BBB verified by ana on 2026-11-20 ({tiny_universe / 'duo.yaml'})\n"
    )
    verified = "    status: verified\n    verified_by: ana\n    verified_on: 2026-11-20\n"
    assert (tiny_universe / "duo.yaml").read_text() == TINY_BUCKET.replace(
        "    status: proposed\n", verified
    )
    res = invoke(
        "universes", "reject", "duo", "BBB", "--why", "flat", "--by", "bo", "--on", "2026-11-21",
        "--universes", folder,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("duo: BBB rejected by bo on 2026-11-21 (flat)")
    after = TINY_BUCKET.replace("    status: proposed\n", verified, 1).replace(
        "    status: proposed\n",
        "    status: rejected\n    rejected_why: flat\n    rejected_by: bo\n"
        "    rejected_on: 2026-11-21\n",
    )
    assert (tiny_universe / "duo.yaml").read_text() == after

    # all or nothing: AAA is a member, ABA is not; one line, nothing written
    for args, expected in [
        (
            ("verify", "duo", "AAA", "ABA", "--by", "ana"),
            f"error: {tiny_universe}/duo.yaml: ABA is not a member of this bucket; "
            "did you mean AAA?",
        ),
        (
            ("reject", "duo", "AAA", "BBX", "ZZZ", "--why", "x", "--by", "bo"),
            f"error: {tiny_universe}/duo.yaml: BBX, ZZZ are not members of this bucket; "
            "did you mean BBB for BBX?",
        ),
        (
            ("show", "du"),
            f"error: {tiny_universe}: no bucket named du (no du.yaml in {tiny_universe}); "
            "did you mean duo?",
        ),
        (
            ("verify", "du", "AAA", "--by", "ana"),
            f"error: {tiny_universe}: no bucket named du (no du.yaml in {tiny_universe}); "
            "did you mean duo?",
        ),
        (
            ("reject", "dou", "AAA", "--why", "x", "--by", "bo"),
            f"error: {tiny_universe}: no bucket named dou (no dou.yaml in {tiny_universe}); "
            "did you mean duo?",
        ),
        (
            ("add", "Duo", "CCC", "--why", "x"),
            "error: 'Duo' is not a bucket name; did you mean duo?",
        ),
    ]:
        res = invoke("universes", *args, "--universes", folder)
        assert_one_line_error(res, expected, tmp_path)
        assert (tiny_universe / "duo.yaml").read_text() == after


def test_validate_refuses_a_member_with_another_statuss_fields(tiny_universe: Path) -> None:
    from tests.conftest import TINY_BUCKET

    (tiny_universe / "duo.yaml").write_text(
        TINY_BUCKET.replace("rationale: flat", "rationale: flat\n    rejected_by: bo")
    )
    res = invoke("universes", "validate", str(tiny_universe))
    assert res.exit_code == 2
    assert res.stderr.splitlines() == [
        f"{tiny_universe}/duo.yaml:8: members[1]: a proposed member cannot have rejected_by "
        "(a field of a rejected member); remove it",
        "1 problem(s)",
    ]


def test_validate_single_files_and_warnings(tiny_universe: Path) -> None:
    res = invoke("universes", "validate", str(tiny_universe / "duo.yaml"))
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"ok: {tiny_universe / 'duo.yaml'}"
    (tiny_universe / "duo.yaml").write_text(
        "side: long\nmembers:\n  - ticker: AAA\n    rationale: r\n    weight: 2\n"
        "  - ticker: BBB\n    rationale: r\n    weight: 2\n"
    )
    res = invoke("universes", "validate", str(tiny_universe))
    assert res.exit_code == 0
    assert "warning: bucket duo: weights sum to 4; they are normalised to 1" in res.stderr


def test_schema_is_the_shipped_file() -> None:
    from tests.conftest import ROOT

    res = invoke("universes", "schema")
    assert res.exit_code == 0
    assert res.output == (ROOT / "universes" / "bucket.schema.json").read_text(), (
        "universes/bucket.schema.json is stale: bucketmap universes schema > "
        "universes/bucket.schema.json"
    )
    schema = json.loads(res.output)
    assert "name" not in schema["properties"]
    claims = invoke("universes", "schema", "--claims")
    assert claims.exit_code == 0
    assert claims.output == (ROOT / "universes" / "claims.schema.json").read_text(), (
        "universes/claims.schema.json is stale: bucketmap universes schema --claims > "
        "universes/claims.schema.json"
    )
    rules = json.loads(claims.output)["$defs"]
    assert {"ExcessRule", "DrawdownRule", "RatioAverageRule", "VerdictRule", "DateRule"} <= set(
        rules
    )
    assert schema["required"] == ["side", "members"]


CLAIMS = """\
claims:
  - id: duo-beats-spy
    source: test
    statement: duo beats SPY
    bucket: duo
    benchmark: SPY
    start: 2024-01-31
"""


def test_claims_check_writes_claims_json_and_says_when_data_is_short(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path
) -> None:
    (tiny_universe / "claims.yaml").write_text(CLAIMS)
    out = tmp_path / "claims"
    res = invoke(
        "claims", "check", "--universes", str(tiny_universe), "--prices", str(tiny_prices),
        "--out", str(out), "--start", "2024-01-01",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    claims = json.loads((out / "claims.json").read_text())
    (claim,) = claims["claims"]
    # four return days after 2024-01-31: too few for a verdict
    assert claim["test"]["verdict"] == "insufficient_data"
    assert claim["test"]["reason"] == "4 trading days with both returns (fewer than 20)"
    assert claim["placebo"] is None and claim["survives_controls"] is None
    assert "duo-beats-spy" in res.stdout and "insufficient_data" in res.stdout
    # it points to the details it wrote, not to the run's summary.md and report.html
    assert "details: claims.json" in res.stdout
    assert "summary.md" not in res.stdout and "report.html" not in res.stdout
    # the claims' files, their run's manifest (written last), and the folder's writer lock
    assert sorted(p.name for p in out.iterdir()) == [
        ".bucketmap.lock",
        "claims.json",
        "manifest.json",
        "returns.csv",
        "variants.csv",
    ]


def test_claims_check_unknown_claim_is_one_line(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path
) -> None:
    (tiny_universe / "claims.yaml").write_text(CLAIMS)
    res = invoke(
        "claims", "check", "--universes", str(tiny_universe), "--prices", str(tiny_prices),
        "--out", str(tmp_path / "out"), "--claim", "nope",
    )  # fmt: skip
    expected = f"error: {tiny_universe}/claims.yaml: no claim nope (claims: duo-beats-spy)"
    assert_one_line_error(res, expected, tmp_path)


def test_run_writes_claims_and_variants(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path
) -> None:
    hostile = CLAIMS.replace("duo beats SPY", "'<script>alert(1)</script> duo beats SPY'")
    (tiny_universe / "claims.yaml").write_text(hostile)
    out = tmp_path / "out"
    res = run_tiny(tiny_universe, tiny_prices, out, "--start", "2024-01-01")
    assert res.exit_code == 0, res.output
    html = (out / "report.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; duo beats SPY" in html
    assert "<script>alert(1)" not in html
    summary = (out / "summary.md").read_text()
    # only what Markdown acts on is escaped: the tags, not the parentheses
    assert "\\<script>alert(1)\\</script> duo beats SPY" in summary
    assert "<" not in summary.replace("\\<", "")  # every < is escaped
    claims = json.loads((out / "claims.json").read_text())
    assert [c["id"] for c in claims["claims"]] == ["duo-beats-spy"]
    variants = pd.read_csv(out / "variants.csv", index_col="date")
    # duo without BBB is AAA alone: +50%, +33%, 0, +100% on the four days after 2024-01-31
    assert variants["duo|drop=BBB"].tolist()[1:] == pytest.approx([0.5, 1 / 3, 0.0, 1.0])
    assert "duo-beats-spy" in html and "insufficient_data" in html


def test_report_rebuilds_the_page_and_summary_from_the_files(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path
) -> None:
    (tiny_universe / "claims.yaml").write_text(CLAIMS)
    out = tmp_path / "out"
    assert run_tiny(tiny_universe, tiny_prices, out, "--start", "2024-01-01").exit_code == 0
    first = (out / "summary.md").read_text()
    (out / "report.html").unlink()
    (out / "summary.md").unlink()
    res = invoke("report", str(out))
    assert res.exit_code == 0, res.output
    assert f"wrote {out / 'report.html'}" in res.stdout
    # the same content as the run wrote, from the files alone
    assert (out / "summary.md").read_text() == first
    assert "duo-beats-spy" in (out / "report.html").read_text()
    # summary.md: the verdict table and the hand-computed total return (+125%, SPY +10%)
    assert "| duo-beats-spy | 2024-01-31 → 2024-03-28 | 4 | n/a |  | insufficient_data |" in first
    assert "| duo | long | +125.0% |" in first
    assert f"{2.25 / 1.10 - 1:+.1%}" in first  # excess over SPY: 2.25 / 1.10 − 1


def test_report_errors_name_the_file_and_field(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path
) -> None:
    res = invoke("report", str(tmp_path / "nothing"))
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        f"error: {tmp_path / 'nothing' / 'results.json'}: not found; `bucketmap run` writes it"
    )
    out = tmp_path / "out"
    assert run_tiny(tiny_universe, tiny_prices, out, "--start", "2024-01-01").exit_code == 0
    results = json.loads((out / "results.json").read_text())
    results["run"]["trading_days"] = "many"
    (out / "results.json").write_text(json.dumps(results))
    before = (out / "report.html").read_bytes()
    res = invoke("report", str(out))
    assert res.exit_code == 2
    line = res.stderr.strip()
    assert line.startswith(f"error: {out / 'results.json'}: run.trading_days: Input should be")
    assert "\n" not in line
    assert (out / "report.html").read_bytes() == before  # nothing rewritten


def test_sweep_writes_one_row_per_variant_and_joins_the_run_report(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert run_tiny(tiny_universe, tiny_prices, out, "--start", "2024-01-01").exit_code == 0
    res = invoke(
        "sweep", "--universes", str(tiny_universe), "--prices", str(tiny_prices),
        "--out", str(out), "--start", "2024-01-01", "--weighting", "equal",
        "--rebalance", "monthly", "--rebalance", "none", "--shifts", "0-1",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "sweep.csv", keep_default_na=False)
    # duo (AAA, BBB): (1 + 2 dropped) × 1 weighting × 2 rebalances × 2 shifts
    assert len(table) == 12
    base = table[
        (table["dropped"] == "") & (table["rebalance"] == "monthly") & (table["shift"] == 0)
    ]
    # the run's own bucket: +125% (test_engine's arithmetic), SPY +10% → 2.25 / 1.1 - 1
    assert float(base["total_return"].iloc[0]) == pytest.approx(1.25, abs=1e-9)
    assert float(base["excess_return"].iloc[0]) == pytest.approx(2.25 / 1.1 - 1, abs=1e-9)
    only_bbb = table[(table["dropped"] == "AAA") & (table["shift"] == 0)]
    assert only_bbb["total_return"].abs().max() < 1e-12  # BBB is flat
    summary = json.loads((out / "sweep.json").read_text())
    assert summary["variants"] == 12
    (duo,) = summary["summary"]
    assert duo["p50"] == pytest.approx(float(table["excess_return"].median()), abs=1e-12)
    html = (out / "report.html").read_text()
    assert "Sweep: excess return across variants" in html
    assert 'data-chart="chart-sweep"' in html
    assert plotly_rewrites(html) == []  # the sweep's boxes too are plotly's own JSON
    assert "## Sweep: 12 variants" in (out / "summary.md").read_text()
    assert "across 12 variants" in res.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("--weighting", "custom"),
            "error: the sweep's options: weightings[0]: Input should be 'equal' or 'inverse_vol'",
        ),
        (("--shifts", "0,x"), "error: --shifts '0,x': 'x' is not a number or a range like 0-20"),
        (("--bucket", "nope"), "error: sweep: no bucket nope in the universe (it has duo)"),
        (
            ("--benchmark", "QQQ", "--shifts", "0"),
            "error: sweep: benchmark QQQ has no prices in files: {prices}",
        ),
    ],
)
def test_bad_sweep_options_are_one_line_and_write_nothing(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    res = invoke(
        "sweep", "--universes", str(tiny_universe), "--prices", str(tiny_prices),
        "--out", str(tmp_path / "out"), "--start", "2024-01-01", *args,
    )  # fmt: skip
    assert_one_line_error(res, expected.format(prices=tiny_prices), tmp_path)


def test_a_bad_grid_file_names_file_and_field(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path
) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text("rebalances: [monthly]\nshifts: [0, -3]\n")
    res = invoke(
        "sweep", "--universes", str(tiny_universe), "--prices", str(tiny_prices),
        "--out", str(tmp_path / "out"), "--grid", str(grid),
    )  # fmt: skip
    assert_one_line_error(
        res,
        f"error: {grid}:2: shifts[1]: Input should be greater than or equal to 0",
        tmp_path,
    )


def test_a_sweep_into_a_broken_run_folder_writes_nothing(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path
) -> None:
    # the report cannot be redrawn from a damaged results.json: neither it nor the sweep is written
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text("{}")
    res = invoke(
        "sweep", "--universes", str(tiny_universe), "--prices", str(tiny_prices),
        "--out", str(out), "--start", "2024-01-01", "--shifts", "0",
    )  # fmt: skip
    assert res.exit_code == 2
    assert res.stderr.startswith(f"error: {out / 'results.json'}")
    assert sorted(p.name for p in out.iterdir()) == ["results.json"]


@pytest.mark.parametrize("cores", [1, 2])
def test_run_computes_in_a_second_process_only_with_a_second_core(
    tiny_universe: Path,
    tiny_prices: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cores: int,
) -> None:
    import backtest.background as background

    started: list[object] = []
    real = background.Background

    def counted(modules: list[str]) -> object:
        started.append(modules)
        return real(modules)

    monkeypatch.setattr(background, "usable_cores", lambda: cores)
    monkeypatch.setattr(background, "Background", counted)
    res = run_tiny(tiny_universe, tiny_prices, tmp_path / "out", "--no-record")
    assert res.exit_code == 0, res.output
    assert started == ([] if cores == 1 else [background.RUN_IMPORTS])
    assert "note:" not in res.output  # the second process delivered: nothing to say


@pytest.mark.parametrize(
    ("claim_date", "where"),
    [
        ("2030-01-01", "on or after the run's last day 2024-03-28"),
        ("2024-03-28", "on or after the run's last day 2024-03-28"),
        ("2024-01-30", "on or before the run's first day 2024-01-30"),
    ],
)
def test_a_claim_date_outside_the_run_is_a_warning_not_silence(
    tiny_universe: Path, tiny_prices: Path, tmp_path: Path, claim_date: str, where: str
) -> None:
    out = tmp_path / "out"
    res = run_tiny(tiny_universe, tiny_prices, out, "--claim-date", claim_date, "--no-record")
    assert res.exit_code == 0, res.output
    warning = f"the claim date {claim_date} is {where}: the run has no pre and post windows"
    assert f"warning: {warning}" in res.stderr
    run = json.loads((out / "results.json").read_text())["run"]
    assert warning in run["warnings"]
    assert [w["name"] for w in run["windows"]] == ["whole"]
    # inside the run: pre and post, and no warning
    res = run_tiny(tiny_universe, tiny_prices, out, "--claim-date", "2024-02-29", "--no-record")
    run = json.loads((out / "results.json").read_text())["run"]
    assert [w["name"] for w in run["windows"]] == ["whole", "pre", "post"]
    assert not any("claim date" in w for w in run["warnings"])


@pytest.mark.parametrize("command", [["run"], ["claims", "check"]])
def test_a_file_in_the_way_of_out_is_said_before_any_work(
    tiny_universe: Path,
    tiny_prices: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    import bucketmap.api

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("the run was computed although its --out cannot be written")

    monkeypatch.setattr(bucketmap.api, "compute_run", no_work)
    monkeypatch.setattr(bucketmap.api, "prepare_run", no_work)
    blocker = tmp_path / "afile"
    blocker.write_text("mine\n")
    res = invoke(*command, "--universes", str(tiny_universe), "--prices", str(tiny_prices),
                 "--out", str(blocker / "sub"))  # fmt: skip
    assert_one_line_error(
        res,
        f"error: {blocker / 'sub'}: cannot write the output files (a file is in the way of the "
        "folder); choose another --out",
        tmp_path,
    )
    assert blocker.read_text() == "mine\n"
