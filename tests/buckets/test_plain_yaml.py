"""The fast reader (:mod:`buckets.plain_yaml`) gives exactly the data of ruamel's round-trip load
(through :func:`buckets.files.plain_data`), or steps aside (None) for the careful reader."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from buckets import files
from buckets.files import load_bucket, load_universe, plain_data
from buckets.plain_yaml import plain_yaml

ROOT = Path(__file__).resolve().parents[2]


def careful(text: str) -> object:
    return plain_data(YAML(typ="rt").load(text))


def fast(text: str) -> object:
    return plain_yaml(text, max_depth=files.MAX_YAML_DEPTH)


def repository_yaml() -> list[Path]:
    return sorted(
        p
        for pattern in ("*.yaml", "*.yml")
        for p in ROOT.rglob(pattern)
        if ".venv" not in p.parts and ".git" not in p.parts
    )


def test_every_yaml_file_of_the_repository_reads_the_same() -> None:
    paths = repository_yaml()
    assert len(paths) >= 12  # the shipped universes at least
    for path in paths:
        text = path.read_text()
        got = fast(text)
        assert got is not None, path  # they are plain documents: the fast path is taken
        assert got == careful(text), path


AWKWARD = [
    "ON", "OFF", "yes", "no", "y", "n", "true", "True", "TRUE", "false", "FALSE", "null", "Null",
    "NULL", "~", "017", "0o17", "0x1F", "0b101", "1_000", "+12", "-0", "1e3", "1.5e-3", ".5",
    "5.", ".inf", "-.Inf", ".NaN", "2024-01-03", "2024-1-3", "2024-01-03 10:00:00",
    "2024-01-03T10:00:00Z", "10:20:30", "1:20", "NVDA", "BRK.B", "BRK-B", "^IRX", "3.0.1",
    "0.1.2", "1,000", "$5", "50%", "=", "é", "日本", "a b  c", "'quoted'", "1e", "0x", "inf",
]  # fmt: skip


@pytest.mark.parametrize("scalar", AWKWARD)
def test_awkward_scalars_resolve_as_ruamel_resolves_them(scalar: str) -> None:
    for text in (
        f"k: {scalar}\n",
        f"list:\n  - {scalar}\n  - x\n",
        f"{scalar}: v\n" if scalar not in ("=",) else "k: v\n",
        f'k: "{scalar}"\n',
        f"k: [{scalar}, b]\n" if "," not in scalar else "k: [a, b]\n",
    ):
        try:
            expected = careful(text)
        except Exception:  # noqa: BLE001  (not YAML to ruamel: the fast path must step aside)
            assert fast(text) is None, text
            continue
        got = fast(text)
        assert got is None or got == expected, text
        if not isinstance(expected, dict) or scalar == "=":  # ruamel's !!value: careful way
            continue
        assert got is not None, text  # a plain document: taken the fast way


STYLES = [
    "k: |\n  line one\n  line two\n",
    "k: >\n  folded\n  text\n\n  para\n",
    "k: |-\n  keep\n",
    "k: plain\n  continued on the next line\n",
    'k: "esc \\u00e9 \\x41 \\t \\/ \\\\ \\""\n',
    "k: 'it''s'\n",
    "k: {a: 1, b: [x, 'y'], c: {d: null}}\n",
    "k:\n  - a: 1\n    b: 2\n  - []\n  - {}\n",
    "# comment\nk: v # trailing\n...\n",
    "---\nk: v\n",
    "k:\n",
    "k: ''\n",
    "1: one\n2024-01-03: date key\nfalse: bool key\n",
]


@pytest.mark.parametrize("text", STYLES)
def test_scalar_styles_and_layouts_read_the_same(text: str) -> None:
    got = fast(text)
    assert got is not None, text
    assert got == careful(text), text


NOT_PLAIN = {
    "an anchor and alias": "a: &x [1]\nb: *x\n",
    "a tag": "k: !!str 5\n",
    "a python tag": "k: !!python/object:os.system x\n",
    "a local tag": "k: !thing 5\n",
    "a merge key": "base: {a: 1}\nk:\n  <<: {a: 2}\n",
    "a duplicate key": "k: 1\nk: 2\n",
    "keys equal as text": "1: a\n'1': b\n",
    "keys equal as values": "1: a\ntrue: b\n",
    "a collection as key": "? [a, b]\n: v\n",
    "two documents": "k: 1\n---\nk: 2\n",
    "a YAML 1.1 directive": "%YAML 1.1\n---\nk: yes\n",
    "a list at the root": "- a\n- b\n",
    "a scalar at the root": "just text\n",
    "an empty file": "",
    "a syntax error": "k: [unclosed\n",
    "an impossible date": "k: 2024-13-45\n",
    "deep nesting": "k: " + "[" * 40 + "]" * 40 + "\n",
}


@pytest.mark.parametrize("case", sorted(NOT_PLAIN))
def test_what_is_not_a_plain_document_goes_the_careful_way(case: str) -> None:
    assert fast(NOT_PLAIN[case]) is None


_key = st.sampled_from(["a", "b", "ticker", "ON", "017", "2024-01-03", "x y", "true"])
_scalar = st.sampled_from(AWKWARD).filter(lambda s: "," not in s and s not in ("=", "'quoted'"))
_value = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_key, inner, max_size=3),
    max_leaves=8,
)


def _dump(value: object, indent: int = 0) -> str:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "\n" + "".join(f"{pad}{k}: {_dump(v, indent + 2)}\n" for k, v in value.items())
    if isinstance(value, list):
        if not value:
            return "[]"
        return "\n" + "".join(f"{pad}- {_dump(v, indent + 2).lstrip()}\n" for v in value)
    return str(value)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_key, _value, min_size=1, max_size=4))
def test_generated_documents_read_the_same_or_go_the_careful_way(doc: dict[str, object]) -> None:
    text = _dump(doc).lstrip("\n").replace("\n\n", "\n")
    try:
        expected = careful(text)
    except Exception:  # noqa: BLE001
        assert fast(text) is None
        return
    got = fast(text)
    assert got is None or got == expected, text


def _big_bucket(folder: Path, members: int) -> Path:
    lines = ["side: long", "description: many tickers", "members:"]
    for i in range(members):
        lines += [f"  - ticker: T{i:05d}", "    status: proposed", "    rationale: many"]
    path = folder / "big.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_big_bucket_loads_the_fast_way_to_the_same_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(How much faster: benchmarks/bench_perf.py's 12,000-member run.)"""
    path = _big_bucket(tmp_path, 2_000)
    quick = load_bucket(path)
    monkeypatch.setattr(files, "plain_yaml", lambda text, max_depth: None)
    slow = load_bucket(path)
    assert quick == slow and len(quick.members) == 2_000


def test_the_universe_loads_without_the_careful_reader_when_its_files_are_plain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = load_universe(ROOT / "universes")

    def refuse(*_: object) -> None:
        raise AssertionError("the careful reader was used for a plain, valid file")

    monkeypatch.setattr(files, "read_yaml", refuse)
    assert load_universe(ROOT / "universes") == before


def test_an_invalid_plain_file_is_still_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "pipes.yaml"
    path.write_text(
        "side: long\ndescription: x\nmembers:\n  - ticker: ANET\n    status: maybe\n"
        "    rationale: r\n"
    )
    with pytest.raises(files.UniverseErrors) as caught:
        load_bucket(path)
    (error,) = caught.value.errors
    assert error.line == 5 and "status" in str(error)
