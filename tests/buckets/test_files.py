"""Universe files: the shipped universe loads; each kind of mistake names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from buckets.errors import UniverseError, UniverseErrors
from buckets.files import load_universe, validate_universe
from buckets.models import Side, Status
from tests.conftest import ROOT, TINY_BENCH, TINY_BUCKET


def test_shipped_universe_loads_with_every_bucket_of_the_thesis() -> None:
    u = load_universe(ROOT / "universes")
    assert set(u.buckets) == {
        "inference_efficiency",
        "pipes",
        "workflow_entry",
        "hedges",
        "avoid",
        "gpu_merchant",
        "power",
        "foundry",
        "autonomy_e2e",
        "autonomy_rules",
    }
    assert u.buckets["autonomy_rules"].side is Side.avoid
    assert u.benchmarks == ["SPY", "QQQ", "SMH", "NVDA", "gpu_merchant"]
    assert u.buckets["hedges"].side is Side.hedge
    assert u.buckets["avoid"].side is Side.avoid
    assert all(
        m.status is Status.proposed and m.rationale for b in u.buckets.values() for m in b.members
    )
    assert len(u.claims) == 8


def problems(folder: Path) -> list[str]:
    _, errors = validate_universe(folder)
    return [str(e).replace(f"{folder}/", "") for e in errors]


@pytest.mark.parametrize(
    ("bucket_text", "expected"),
    [
        (
            TINY_BUCKET.replace("description:", "colour: red\ndescription:"),
            "duo.yaml:3: colour: unknown key",
        ),
        (
            TINY_BUCKET.replace("ticker: BBB", "ticker: B/B"),
            "duo.yaml:8: members[1].ticker: 'B/B' is not a ticker symbol (letters, digits, '.', "
            "'-', '^', '=', at most 15 characters)",
        ),
        (
            TINY_BUCKET.replace("ticker: BBB", "ticker: ../../etc/passwd"),
            "duo.yaml:8: members[1].ticker: '../../ETC/PASSWD' is not a ticker symbol (letters, "
            "digits, '.', '-', '^', '=', at most 15 characters)",
        ),
        ("side: long\nmembers: []\n", "duo.yaml:2: members: a bucket needs at least one member"),
        (
            TINY_BUCKET.replace("side: long", "side: sideways"),
            "duo.yaml:2: side: must be one of 'long', 'hedge', 'avoid' or 'context'",
        ),
        (
            TINY_BUCKET.replace("    rationale: flat\n", ""),
            "duo.yaml:8: members[1].rationale: required key is missing",
        ),
        (
            TINY_BUCKET.replace(
                "status: proposed\n    rationale: flat", "status: verified\n    rationale: flat"
            ),
            "duo.yaml:8: members[1]: a verified member needs verified_by (who checked it)",
        ),
        (
            TINY_BUCKET.replace("rationale: flat", "rationale: flat\n    evidence: 10-K"),
            "duo.yaml:8: members[1]: a proposed member cannot have evidence (a field of a verified "
            "member); remove it",
        ),
        (TINY_BUCKET.replace("ticker: BBB", "ticker: AAA"), "duo.yaml: ticker AAA is listed twice"),
        (
            "side: long\nmembers:\n  - ticker: [unclosed\n",
            "duo.yaml:4: not valid YAML: expected ',' or ']', but got '<stream end>'",
        ),
        ("", "duo.yaml: the file is empty"),
        ("- a\n- b\n", "duo.yaml: the file must hold a mapping of keys to values"),
        (
            "side: long\nside: hedge\nmembers: []\n",
            'duo.yaml:2: not valid YAML: found duplicate key "side" with value "hedge" '
            '(original value: "long")',
        ),
    ],
)
def test_bucket_file_errors(tiny_universe: Path, bucket_text: str, expected: str) -> None:
    (tiny_universe / "duo.yaml").write_text(bucket_text)
    assert problems(tiny_universe)[0] == expected


def test_all_problems_are_collected(tiny_universe: Path) -> None:
    (tiny_universe / "duo.yaml").write_text(
        TINY_BUCKET.replace("description:", "colour: red\ndescription:").replace(
            "ticker: BBB", "ticker: B/B"
        )
    )
    (tiny_universe / "benchmarks.yaml").write_text("benchmarks:\n  - SPY\n  - nosuch\n")
    got = problems(tiny_universe)
    assert len(got) == 3
    assert (
        got[2] == "benchmarks.yaml:3: benchmarks[1]: no bucket named nosuch (no nosuch.yaml in "
        f"{tiny_universe})"
    )
    with pytest.raises(UniverseErrors) as err:
        load_universe(tiny_universe)
    # the folder the problems are in, not the default universes/
    assert str(err.value).endswith(
        f"(and 2 more problems: run `bucketmap universes validate {tiny_universe}` to list them)"
    )


def test_a_broken_bucket_file_is_one_problem_not_one_per_reference(tiny_universe: Path) -> None:
    # duo is a benchmark and the bucket of two claims: its file's own error was followed by
    # "no bucket named duo" for each of them
    (tiny_universe / "benchmarks.yaml").write_text("benchmarks:\n  - SPY\n  - duo\n")
    claim = "  - {{id: c{0}, source: s, statement: s, bucket: duo, benchmark: SPY, start: 2024-01-31}}\n"
    (tiny_universe / "claims.yaml").write_text("claims:\n" + claim.format(1) + claim.format(2))
    assert problems(tiny_universe) == []
    (tiny_universe / "duo.yaml").write_text("side: long\nmembers:\n  - ticker: [\n")
    got = problems(tiny_universe)
    assert len(got) == 1 and got[0].startswith("duo.yaml:4: not valid YAML"), got
    # a bucket that is not there at all is still named wherever it is used
    (tiny_universe / "duo.yaml").unlink()
    (tiny_universe / "trio.yaml").write_text(TINY_BUCKET)
    got = problems(tiny_universe)
    assert sum("no bucket named duo" in p for p in got) == 3, got


def test_a_misspelt_required_key_names_the_key_it_meant(tiny_universe: Path) -> None:
    (tiny_universe / "duo.yaml").write_text(
        TINY_BUCKET.replace("rationale: flat", "rationle: flat")
    )
    got = problems(tiny_universe)
    assert "duo.yaml:10: members[1].rationle: unknown key; did you mean rationale?" in got, got
    assert "duo.yaml:8: members[1].rationale: required key is missing" in got, got
    # an unknown key with no missing key beside it gets no guess
    (tiny_universe / "duo.yaml").write_text(
        TINY_BUCKET.replace("description:", "colour: red\ndescription:")
    )
    assert problems(tiny_universe) == ["duo.yaml:3: colour: unknown key"]


def test_a_ticker_long_and_avoided_is_an_error(tiny_universe: Path) -> None:
    (tiny_universe / "bad.yaml").write_text(
        "side: avoid\nmembers:\n  - ticker: AAA\n    rationale: r\n"
    )
    assert problems(tiny_universe) == [
        "duo.yaml:5: members[0].ticker: AAA is in long bucket duo and in avoid bucket bad; "
        "reject it in one of them"
    ]


def test_file_names_must_be_bucket_names(tiny_universe: Path) -> None:
    (tiny_universe / "Bad-Name.yaml").write_text(TINY_BUCKET)
    assert problems(tiny_universe) == [
        "Bad-Name.yaml: 'Bad-Name' is not a bucket name: name bucket files in lower-case "
        "letters, digits and '_' (e.g. pipes.yaml)"
    ]


def test_yaml_tags_never_construct_objects(tiny_universe: Path) -> None:
    (tiny_universe / "duo.yaml").write_text(
        "side: !!python/object/apply:os.system ['echo hacked']\nmembers: []\n"
    )
    got = problems(tiny_universe)
    assert got and got[0].startswith("duo.yaml")


def test_missing_benchmarks_file(tmp_path: Path) -> None:
    (tmp_path / "duo.yaml").write_text(TINY_BUCKET)
    with pytest.raises(UniverseError, match=r"benchmarks.yaml: file not found"):
        load_universe(tmp_path)


def test_tiny_universe_loads(tiny_universe: Path) -> None:
    u = load_universe(tiny_universe)
    assert u.tickers() == ["AAA", "BBB", "SPY"]
    assert TINY_BENCH.strip().endswith("SPY")
