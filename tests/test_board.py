"""Evidence over time, the ledger and the board on a small made-up market: no look-ahead, a
resolution is kept, an edited claim is flagged, observations show; then the board of the real
snapshot from the command line, on a 100-column terminal and in headless Chromium."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtest.evidence.excess import ClaimOptions
from backtest.evidence.ledger import Ledger, Resolution
from backtest.prices.store import PriceStore
from backtest.simulation.prepare import RunOptions
from bucketmap import api
from tests.browser import chromium, opened
from tests.conftest import ROOT, TINY_BENCH, TINY_BUCKET, write_csvs

START, RESOLVE = "2025-01-02", "2025-06-30"
CLAIMS = """\
claims:
  - id: duo-beats-spy
    source: "000"
    statement: duo beats SPY after the claim date
    bucket: duo
    benchmark: SPY
    direction: outperform
    start: {start}
    resolve_on: {resolve}
    threshold: {threshold}
    counter_signals:
      - name: spy-ahead
        description: SPY beats duo by more than 5% over 20 days
        when: {{measure: excess, of: SPY, vs: duo, days: 20, above: 0.05}}
      - name: duo-drawdown
        when: {{measure: drawdown, of: duo, days: 60, below: -0.25}}
      - name: duo-below-trend
        when: {{measure: ratio_vs_average, of: duo, vs: SPY, days: 50, below: 0, for_days: 5}}
    stop:
      name: refuted
      when: {{measure: verdict, is: [refuted]}}
    restart:
      name: supported-lately
      when: {{measure: verdict, trailing: 60, is: [supported]}}
"""
OPTIONS = RunOptions(start=dt.date(2024, 1, 2))
FAST = ClaimOptions(resamples=300, block_length=5)


def _market(days: int = 420, seed: int = 7) -> pd.DataFrame:
    """Closes of AAA, BBB (duo's members) and SPY: correlated random walks."""
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2024-01-01", periods=days)
    common = rng.normal(0.0004, 0.01, days)
    r = {
        "AAA": common + rng.normal(0.0006, 0.012, days),
        "BBB": common + rng.normal(0.0002, 0.012, days),
        "SPY": common + rng.normal(0.0, 0.004, days),
    }
    return pd.DataFrame({k: 100 * np.cumprod(1 + v) for k, v in r.items()}, index=index)


@pytest.fixture
def market(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path / "universes"
    folder.mkdir()
    (folder / "duo.yaml").write_text(TINY_BUCKET)
    (folder / "benchmarks.yaml").write_text(TINY_BENCH)
    (folder / "claims.yaml").write_text(CLAIMS.format(start=START, resolve=RESOLVE, threshold=0))
    return folder, _market()


def _history(universes: Path, prices: pd.DataFrame, tmp: Path) -> pd.DataFrame:
    folder = write_csvs(tmp / f"prices-{len(prices)}", prices)
    job, _ = api.claims_history_job(
        universes, tmp / f"out-{len(prices)}", OPTIONS, FAST, prices=folder,
        store=PriceStore(tmp / "store"), fetch_missing=False,
    )  # fmt: skip
    return job.table


def test_history_rows_before_a_day_do_not_move_when_later_prices_come(
    market: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    universes, prices = market
    cut = pd.Timestamp("2025-04-04")  # a Friday: an evaluation day in both histories
    short = _history(universes, prices.loc[:cut], tmp_path)
    full = _history(universes, prices, tmp_path)
    assert short["as_of"].iloc[-1] == "2025-04-04" and full["as_of"].iloc[-1] > "2025-04-04"
    early = full[full["as_of"] <= "2025-04-04"].reset_index(drop=True)
    pd.testing.assert_frame_equal(early, short.reset_index(drop=True))
    # one row a week since the claim's start, each a Friday (or the data's last day)
    fridays = pd.to_datetime(full["as_of"].iloc[:-1]).dt.day_of_week
    assert (fridays == 4).all()
    assert full["as_of"].iloc[0] == "2025-01-03"
    # the last row is the claim's test over its window as the run computes it
    run = api.check_claims_job(
        universes, tmp_path / "claims", OPTIONS, FAST,
        prices=write_csvs(tmp_path / "all", prices), store=PriceStore(tmp_path / "s2"),
        fetch_missing=False,
    )[0]  # fmt: skip
    [c] = run.result.claims
    last = full.iloc[-1]
    assert last["excess_return"] == pytest.approx(c.test.excess_return, abs=1e-12)
    assert (last["low"], last["high"]) == pytest.approx((c.test.low, c.test.high), abs=1e-12)
    assert last["verdict"] == c.verdict


def _board(
    universes: Path, prices: pd.DataFrame, tmp: Path, name: str, **kw: object
) -> api.BoardJob:
    folder = write_csvs(tmp / f"prices-{name}", prices)
    job, written = api.board(
        universes, tmp / f"board-{name}", OPTIONS, FAST, prices=folder,
        store=PriceStore(tmp / "store"), fetch_missing=False, ledger=tmp / "ledger.jsonl",
        **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    assert {p.name for p in written} == {"board.json", "board.html"}
    return job


def test_a_resolution_is_recorded_once_and_kept_when_the_data_move(
    market: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    universes, prices = market
    before = _board(universes, prices.loc[:"2025-06-20"], tmp_path, "before")
    [e] = before.result.entries
    assert e.resolution is None and e.days_to_resolve == 10
    first = _board(universes, prices.loc[:"2025-07-15"], tmp_path, "first")
    [e] = first.result.entries
    assert e.resolution is not None and e.resolution.data_date == dt.date(2025, 6, 30)
    recorded = e.resolution
    # the outcome follows from the test as of the resolve date
    asof = _board(universes, prices, tmp_path, "asof", as_of=dt.date(2025, 6, 30))
    [at] = asof.result.entries
    outcome = at.verdict if at.verdict in ("supported", "refuted", "negligible") else "ambiguous"
    assert recorded.outcome == outcome and recorded.excess_return == at.excess_return
    # the data before the resolve date are revised (a re-adjusted history) and more days come:
    # the recorded resolution stands, and it is not recorded twice
    revised = prices.copy()
    revised.loc["2025-03-03":, "AAA"] *= 1.5
    later = _board(universes, revised, tmp_path, "later")
    [e] = later.result.entries
    assert e.resolution == recorded
    resolutions = [r for r in Ledger(tmp_path / "ledger.jsonl").read().records
                   if isinstance(r, Resolution)]  # fmt: skip
    assert len(resolutions) == 1
    # a board of an earlier day appends nothing
    assert asof.records == 0 and not asof.result.recorded


def test_an_edited_claim_is_flagged_and_changes_are_listed(
    market: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    universes, prices = market
    first = _board(universes, prices.loc[:"2025-03-14"], tmp_path, "a")
    assert first.records == 1 and first.result.ledger_problems == []
    [e] = first.result.entries
    assert e.compared_source == "week before" and e.compared_with == dt.date(2025, 3, 7)
    # next week, same definition: compared with the last board's record
    second = _board(universes, prices.loc[:"2025-03-21"], tmp_path, "b")
    [e] = second.result.entries
    assert e.compared_source == "board" and e.compared_with == dt.date(2025, 3, 14)
    assert [t.data_date for t in e.trail] == [dt.date(2025, 3, 14), dt.date(2025, 3, 21)]
    # the claim is edited: flagged, and its earlier records leave its trail
    (universes / "claims.yaml").write_text(
        CLAIMS.format(start=START, resolve=RESOLVE, threshold=0.05)
    )
    third = _board(universes, prices.loc[:"2025-03-28"], tmp_path, "c")
    [problem] = third.result.ledger_problems
    assert problem.startswith("claim duo-beats-spy was edited after 2 ledger record(s)")
    [e] = third.result.entries
    assert problem in e.changes
    assert [t.source for t in e.trail] == ["now"]


def test_a_counter_signal_switching_on_is_a_change_and_the_next_thing(
    market: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    universes, prices = market
    crashed = prices.copy()
    crashed.loc["2025-03-17":, ["AAA", "BBB"]] *= 0.8  # duo falls 20% in a day; SPY does not
    _board(universes, crashed.loc[:"2025-03-14"], tmp_path, "a")
    job = _board(universes, crashed.loc[:"2025-03-21"], tmp_path, "b")
    [e] = job.result.entries
    spy = next(s for s in e.counter_signals if s.name == "spy-ahead")
    assert spy.on is True
    assert "counter-signal spy-ahead switched on" in e.changes
    assert e.next.startswith("counter-signal spy-ahead switched on")


def test_a_rule_on_a_ticker_that_is_no_benchmark_is_evaluated_by_run_and_board_alike(
    market: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """QQQ appears only in a counter-signal: the run's history (and so its ledger records) must
    price it, as the board does, rather than call the signal unknown."""
    universes, prices = market
    prices = prices.assign(QQQ=prices["SPY"] * 1.5)  # duo's excess over QQQ equals that over SPY
    text = (universes / "claims.yaml").read_text()
    rule = "{measure: drawdown, of: duo, days: 60, below: -0.25}"
    assert rule in text
    (universes / "claims.yaml").write_text(
        text.replace(rule, "{measure: excess, of: duo, vs: QQQ, days: 20, above: -1}")
    )
    out, _ = api.check_claims_job(
        universes, tmp_path / "claims", OPTIONS, FAST, prices=write_csvs(tmp_path / "p", prices),
        store=PriceStore(tmp_path / "store"), fetch_missing=False,
    )  # fmt: skip
    # an excess over 20 days is always above -100%: on, once the rule has 20 days
    ran = {s.name: s.on for s in out.history[-1][0].counter}
    assert ran["duo-drawdown"] is True
    job = _board(universes, prices, tmp_path, "qqq")
    [e] = job.result.entries
    assert {s.name: s.on for s in e.counter_signals} == ran


def test_observations_are_recorded_and_the_latest_per_signal_shown(
    market: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    universes, prices = market
    ledger = tmp_path / "ledger.jsonl"
    for day, value in [("2025-03-01", 3.0), ("2025-03-10", 7.0), ("2025-04-20", 9.0)]:
        api.observe(
            universes, "duo-beats-spy", "calls naming a bottleneck", signal="mentions",
            source="transcripts", value=value, on=dt.date.fromisoformat(day), ledger=ledger,
        )  # fmt: skip
    # today's board shows the latest observation, whatever day the prices end on ...
    job = _board(universes, prices.loc[:"2025-03-21"], tmp_path, "obs")
    [e] = job.result.entries
    [o] = e.observations
    assert (o.signal, o.value, o.observed_on) == ("mentions", 9.0, dt.date(2025, 4, 20))
    # ... and a board as of an earlier day only what was observed by then
    job = _board(universes, prices, tmp_path, "obs-asof", as_of=dt.date(2025, 3, 21))
    [e] = job.result.entries
    [o] = e.observations
    assert (o.signal, o.value, o.observed_on) == ("mentions", 7.0, dt.date(2025, 3, 10))
    with pytest.raises(api.RunConfigError, match="no claim nope"):
        api.observe(universes, "nope", "x", signal="s", source="r", ledger=ledger)


# --- the real snapshot, from the command line --------------------------------------------------


@pytest.fixture(scope="module")
def snapshot_board(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("board")
    proc = subprocess.run(
        [sys.executable, "-m", "bucketmap", "board", "--prices", "sample",
         "--out", str(tmp / "board"), "--ledger", str(tmp / "ledger.jsonl")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "COLUMNS": "100"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return tmp / "board", proc.stdout


def test_the_snapshot_board_fits_100_columns_and_names_every_claim(
    snapshot_board: tuple[Path, str],
) -> None:
    folder, printed = snapshot_board
    lines = printed.splitlines()
    assert max(len(line) for line in lines) <= 100
    board = json.loads((folder / "board.json").read_text())
    assert board["as_of"] == "2026-08-03" and board["recorded"] is True
    for entry in board["entries"]:
        assert any(line.startswith(f"{entry['id']}: ") for line in lines), entry["id"]
        assert len(entry["counter_signals"]) == 3
    flex = next(e for e in board["entries"] if e["id"] == "gpu-flex-premium")
    assert flex["days_to_resolve"] == (dt.date(2026, 9, 30) - dt.date(2026, 8, 3)).days
    assert flex["resolution"] is None
    assert lines[0].startswith("Signal board as of 2026-08-03 (data to 2026-08-03)")


@pytest.mark.skipif(chromium() is None, reason="chromium is not installed")
@pytest.mark.parametrize("width", [1280, 1920, 900])
def test_the_board_page_fits_the_window_and_opens_with_its_title(
    snapshot_board: tuple[Path, str], tmp_path: Path, width: int
) -> None:
    folder, _ = snapshot_board
    with opened(folder / "board.html", width=width, height=1000) as o:
        assert o.console == [] and o.requests == []
        title = o.page.locator("#headline").inner_text()
        assert title.startswith("Signal board as of 2026-08-03")
        assert o.eval("document.querySelector('#headline').getBoundingClientRect().top") < 1000
        # the board at a glance (the overview table) starts in the first screen
        assert o.eval("document.querySelector('.overview').getBoundingClientRect().top") < 1000
        assert o.eval("document.documentElement.scrollWidth") <= width
        sideways = o.eval(
            "Array.from(document.querySelectorAll('table, .card, details'))"
            ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.id || e.tagName)"
        )
        assert sideways == []
        o.page.screenshot(path=str(tmp_path / f"board-{width}.png"), full_page=False)
        assert (tmp_path / f"board-{width}.png").stat().st_size > 20_000


def test_the_readme_shows_the_board_as_printed(snapshot_board: tuple[Path, str]) -> None:
    _, printed = snapshot_board
    lines = printed[: printed.index("wrote ")].rstrip().splitlines()
    # up to the closing line, which names this test's own ledger
    last = next(i for i, line in enumerate(lines) if line.startswith("0 verified and 52 proposed"))
    block = "\n".join(line.rstrip() for line in lines[:last])
    readme = (ROOT / "README.md").read_text()
    assert block in readme, "update the README's board:\n" + block
    assert "0 verified and 52 proposed members used; holm correction; recorded in" in readme
