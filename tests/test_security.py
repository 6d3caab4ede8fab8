"""Security: ticker symbols never become paths unchecked, YAML builds no objects, every user
string is escaped in HTML and Markdown, and a run opens no connection and no port."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from backtest.prices.store import PriceStore
from bucketmap.cli import app
from buckets.errors import StoreError
from tests.conftest import TINY_BENCH

runner = CliRunner()

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> | [a](javascript:alert(1)) *b*'

BUCKET = f"""\
side: long
description: '{HOSTILE}'
members:
  - ticker: AAA
    status: verified
    rationale: '{HOSTILE}'
    verified_by: '{HOSTILE}'
    verified_on: 2024-01-02
    evidence: '{HOSTILE}'
  - ticker: BBB
    status: proposed
    rationale: plain
"""

CLAIMS = f"""\
claims:
  - id: hostile
    source: '{HOSTILE}'
    statement: '{HOSTILE}'
    bucket: duo
    benchmark: SPY
    start: 2024-01-10
"""


@pytest.fixture
def hostile_world(tmp_path: Path) -> Path:
    (tmp_path / "universes").mkdir()
    (tmp_path / "universes" / "duo.yaml").write_text(BUCKET)
    (tmp_path / "universes" / "benchmarks.yaml").write_text(TINY_BENCH)
    (tmp_path / "universes" / "claims.yaml").write_text(CLAIMS)
    (tmp_path / "prices").mkdir()
    days = pd.bdate_range("2024-01-02", periods=40)
    for i, t in enumerate(("AAA", "BBB", "SPY")):
        (tmp_path / "prices" / f"{t}.csv").write_text(
            "Date,Close\n" + "".join(f"{d:%Y-%m-%d},{100 + i + k}\n" for k, d in enumerate(days))
        )
    return tmp_path


def _run(world: Path) -> object:
    return runner.invoke(
        app,
        ["run", "--universes", str(world / "universes"), "--prices", str(world / "prices"),
         "--out", str(world / "out"), "--start", "2024-01-01"],
    )  # fmt: skip


def test_every_user_string_is_escaped_in_the_report_and_the_summary(hostile_world: Path) -> None:
    res = _run(hostile_world)
    assert res.exit_code == 0, res.output
    html = (hostile_world / "out" / "report.html").read_text()
    assert "<img src=x" not in html and '<script>alert("x")' not in html
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
    # description, rationale, verified_by/evidence and the claim's statement: each shown as text
    assert html.count(escaped) >= 4
    summary = (hostile_world / "out" / "summary.md").read_text()
    assert "<" not in summary.replace("\\<", "")  # every < is escaped
    assert "\\[a\\](javascript:alert(1))" in summary  # no live link: its brackets are escaped
    assert "\\*b\\*" in summary


def test_yaml_builds_no_python_objects(tmp_path: Path, hostile_world: Path) -> None:
    marker = tmp_path / "PWNED"
    (hostile_world / "universes" / "duo.yaml").write_text(
        f"side: !!python/object/apply:os.system ['touch {marker}']\nmembers: []\n"
    )
    res = runner.invoke(app, ["universes", "validate", str(hostile_world / "universes")])
    assert res.exit_code == 2
    assert not marker.exists()
    assert "Traceback" not in res.output


@pytest.mark.parametrize("ticker", ["../../etc/passwd", "..", "a/b", "A\x00B", "", "X" * 200])
def test_a_ticker_never_becomes_a_path(tmp_path: Path, ticker: str) -> None:
    store = PriceStore(tmp_path / "st")
    series = pd.Series([1.0, 2.0], pd.bdate_range("2024-01-02", periods=2))
    with pytest.raises(StoreError):
        store.write({ticker: series}, source="test")
    assert not (tmp_path / "st" / "prices").exists() or not any(
        (tmp_path / "st" / "prices").iterdir()
    )
    for command in (["prices", "fetch", ticker], ["prices", "info", ticker]):
        res = runner.invoke(app, [*command, "--store", str(tmp_path / "st")])
        assert res.exit_code == 2, (command, res.output)
        assert "Traceback" not in res.output
    assert list(tmp_path.rglob("passwd")) == []


def test_a_run_opens_no_connection_and_no_port(
    hostile_world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[str] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(repr(address))
        raise OSError("the test forbids network access")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket.socket, "bind", refuse)
    res = _run(hostile_world)
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["report", str(hostile_world / "out")])
    assert res.exit_code == 0, res.output
    assert attempts == []


def test_the_report_loads_nothing_from_outside(hostile_world: Path) -> None:
    assert _run(hostile_world).exit_code == 0
    html = (hostile_world / "out" / "report.html").read_text()
    assert not re.search(r"<(script|img|iframe|link)[^>]+(src|href)\s*=", html, re.I)
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?https?:", html)


# --- YAML is data: aliases and nesting are bounded before anything is built ------------------------


def _alias_bomb(key: str) -> str:
    """~700 bytes whose aliases of aliases stand for 9**9 (387 million) strings."""
    lines = ['b0: &b0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"b{i}: &b{i} [{', '.join([f'*b{i - 1}'] * 9)}]" for i in range(1, 9)]
    return "\n".join(lines) + f"\n{key}: *b8\n"


@pytest.mark.parametrize(
    ("name", "key"),
    [("duo.yaml", "members"), ("benchmarks.yaml", "benchmarks"), ("claims.yaml", "claims")],
)
def test_a_yaml_alias_bomb_is_refused_at_once(hostile_world: Path, name: str, key: str) -> None:
    import time

    path = hostile_world / "universes" / name
    path.write_text(_alias_bomb(key))
    assert len(path.read_bytes()) < 800
    began = time.monotonic()
    res = runner.invoke(app, ["universes", "validate", str(hostile_world / "universes")])
    assert time.monotonic() - began < 5
    assert res.exit_code == 2
    assert f"{path}:5: aliases (*name) repeat more than 10,000 values" in res.stderr
    assert "Traceback" not in res.output


def test_a_sweep_grid_alias_bomb_is_refused(hostile_world: Path) -> None:
    grid = hostile_world / "grid.yaml"
    grid.write_text(_alias_bomb("shifts"))
    res = runner.invoke(
        app,
        ["sweep", "--universes", str(hostile_world / "universes"), "--prices",
         str(hostile_world / "prices"), "--out", str(hostile_world / "out"), "--grid", str(grid)],
    )  # fmt: skip
    assert res.exit_code == 2
    assert res.stderr.strip().startswith(f"error: {grid}:5: aliases (*name) repeat more than")
    assert not (hostile_world / "out").exists()


def test_a_few_shared_defaults_through_merge_keys_are_fine(hostile_world: Path) -> None:
    (hostile_world / "universes" / "duo.yaml").write_text(
        "side: long\nmembers:\n"
        "  - &base\n    ticker: AAA\n    status: proposed\n    rationale: shared\n"
        "  - <<: *base\n    ticker: BBB\n"
    )
    res = runner.invoke(app, ["universes", "validate", str(hostile_world / "universes")])
    assert res.exit_code == 0, res.output


def test_an_alias_inside_itself_is_refused(hostile_world: Path) -> None:
    path = hostile_world / "universes" / "duo.yaml"
    path.write_text("side: long\nmembers: &m\n  - ticker: AAA\n    rationale: *m\n")
    res = runner.invoke(app, ["universes", "validate", str(hostile_world / "universes")])
    assert res.exit_code == 2
    assert f"{path}:4: the alias *m refers to a collection it is inside" in res.stderr


def test_the_manifest_cannot_point_a_ticker_at_a_file_outside_the_store(
    tmp_path: Path, hostile_world: Path
) -> None:
    import hashlib
    import json

    store = tmp_path / "st"
    res = runner.invoke(app, ["prices", "import", str(hostile_world / "prices"), "--store",
                              str(store)])  # fmt: skip
    assert res.exit_code == 0, res.output
    # a file outside the store with a checksum that matches: the only defence is the path
    outside = tmp_path / "elsewhere.parquet"
    outside.write_bytes((store / PriceStore(store).records()["SPY"].file).read_bytes())
    manifest = json.loads((store / "manifest.json").read_text())
    for path in (f"prices/../../{outside.name}", str(outside)):
        manifest["tickers"]["AAA"]["file"] = path
        manifest["tickers"]["AAA"]["sha256"] = hashlib.sha256(outside.read_bytes()).hexdigest()
        (store / "manifest.json").write_text(json.dumps(manifest))
        res = runner.invoke(
            app,
            ["run", "--universes", str(hostile_world / "universes"), "--store", str(store),
             "--no-fetch", "--out", str(tmp_path / "out"), "--start", "2024-01-01"],
        )  # fmt: skip
        assert res.exit_code == 2
        line = res.stderr.strip()
        assert line.startswith(
            f"error: {store / 'manifest.json'}: record AAA: file must be 'prices/AAA."
        )
        assert line.endswith("(the store's own name for it); re-import or re-fetch AAA")
        assert not (tmp_path / "out").exists()


def test_a_symlink_in_the_store_is_never_followed(tmp_path: Path, hostile_world: Path) -> None:
    store = tmp_path / "st"
    assert runner.invoke(app, ["prices", "import", str(hostile_world / "prices"), "--store",
                               str(store)]).exit_code == 0  # fmt: skip
    path = store / PriceStore(store).records()["AAA"].file
    outside = tmp_path / "elsewhere.parquet"
    outside.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(outside)
    with pytest.raises(StoreError, match=r"AAA\.\w{12}\.parquet: cannot be read .*re-fetch AAA"):
        PriceStore(store).read(["AAA"])


# --- user text on the terminal and in summary.md ---------------------------------------------------

TERMINAL_HOSTILE = "[/i] [bold red]loud[/] \x1b[2J\x1b]0;pwned\x07 \u202eevil"


def test_the_terminal_shows_user_text_as_text(hostile_world: Path) -> None:
    import json as _json

    bucket = (
        "side: long\n"
        f"description: {_json.dumps(TERMINAL_HOSTILE)}\n"
        "members:\n"
        "  - ticker: AAA\n"
        "    status: verified\n"
        f"    rationale: {_json.dumps(TERMINAL_HOSTILE)}\n"
        f"    verified_by: {_json.dumps(TERMINAL_HOSTILE)}\n"
        "    verified_on: 2024-01-02\n"
        "  - ticker: BBB\n"
        "    rationale: plain\n"
    )
    (hostile_world / "universes" / "duo.yaml").write_text(bucket)
    res = runner.invoke(
        app, ["universes", "show", "duo", "--universes", str(hostile_world / "universes")]
    )
    assert res.exit_code == 0, res.output  # rich used to crash on the stray closing tag [/i]
    assert "\x1b" not in res.output and "\x07" not in res.output and "\u202e" not in res.output
    # markup is shown as typed, control characters as escapes
    assert res.output.count("[/i] [bold red]loud[/] \\x1b[2J\\x1b]0;pwned\\x07 \\u202eevil") == 3
    res = _run(hostile_world)
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.output


def test_errors_show_control_characters_as_escapes(hostile_world: Path) -> None:
    res = runner.invoke(
        app, ["universes", "verify", "duo", "AAA", "--by", "x", "--universes",
              str(hostile_world / "nowhere\x1b[2J")],
    )  # fmt: skip
    assert res.exit_code == 2
    assert "\x1b" not in res.stderr and "nowhere\\x1b[2J" in res.stderr


def test_summary_md_escapes_every_field_of_a_tampered_results_folder(hostile_world: Path) -> None:
    import json as _json

    from backtest.results import ClaimsResult, RunResult
    from reports.summary import summary_markdown

    assert _run(hostile_world).exit_code == 0
    out = hostile_world / "out"
    tag = "<img src=x onerror=alert(1)>"
    results = _json.loads((out / "results.json").read_text())
    results["run"]["rebalance"] = results["run"]["weighting"] = tag
    results["run"]["windows"][0]["description"] = tag
    results["buckets"][tag] = results["buckets"].pop("duo")
    results["buckets"][tag]["side"] = tag
    results["benchmarks"]["SPY"]["kind"] = "ticker"
    claims = _json.loads((out / "claims.json").read_text())
    claims["claims"][0].update(id=tag, statement=tag, bucket=tag, benchmark=tag)
    claims["claims"][0]["test"].update(verdict=tag, reason=tag)
    summary = summary_markdown(
        RunResult.model_validate(results), ClaimsResult.model_validate(claims)
    )
    assert "<" not in summary.replace("\\<", "")
    assert summary.count("\\<img src=x onerror=alert(1)>") >= 8
    assert "\\\\" not in summary  # escaped once: no backslash is itself escaped again
