"""Fetching from Yahoo with yfinance's HTTP layer replayed: yfinance's own code parses every answer.

The recorded chart responses hold SPY and NVDA from 2026-06-18 to 2026-08-03 (31 trading days).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from backtest.prices.sources import YahooSource, read_price_path
from backtest.prices.store import PriceStore
from bucketmap.api import fetch_prices
from buckets.errors import FetchError
from tests.yahoo_replay import YahooReplay, replay_session

START = dt.date(2026, 6, 1)
JUL31 = int(pd.Timestamp("2026-07-31 00:00", tz="UTC").timestamp())  # bars up to 07-30


TODAY = dt.datetime.now(dt.UTC).date()  # the store stamps what it writes with the real date
TOMORROW = TODAY + dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _isolated_yfinance_caches(tmp_path: Path) -> None:
    import yfinance as yf
    from yfinance.data import YfData

    yf.set_tz_cache_location(str(tmp_path / "yf-cache"))
    # yfinance memoises identical chart requests in-process; each test starts afresh
    YfData.cache_get.cache_clear()


@pytest.fixture
def replay() -> YahooReplay:
    return YahooReplay()


def source(replay: YahooReplay) -> YahooSource:
    return YahooSource(session=replay_session(replay), sleep=lambda s: None)


def snapshot(ticker: str) -> pd.Series:
    """The closes the recordings were made from (the snapshot's, as the shipped sample has them)."""
    return read_price_path(Path("sample"), [ticker])[ticker].loc["2026-06-18":]


def test_yfinance_parses_the_replayed_adjusted_closes(replay: YahooReplay, tmp_path: Path) -> None:
    store = PriceStore(tmp_path / "st")
    report = fetch_prices(["SPY", "NVDA"], store, start=START, yahoo=source(replay))
    assert not report.failed, report.failed
    assert report.stored == ["NVDA", "SPY"]
    got, _ = store.read(["SPY"])
    assert len(got["SPY"]) == 31
    # adjusted close (not the raw close, which the recording sets 0.4% higher), to 6 decimals
    assert got["SPY"].to_numpy() == pytest.approx(snapshot("SPY").to_numpy(), abs=1e-6)
    assert store.records()["SPY"].source == "yahoo"


def test_second_run_the_same_day_downloads_nothing(replay: YahooReplay, tmp_path: Path) -> None:
    store = PriceStore(tmp_path / "st")
    fetch_prices(["SPY", "NVDA"], store, start=START, yahoo=source(replay))
    before = sum(replay.calls.values())
    report = fetch_prices(["SPY", "NVDA"], store, start=START, yahoo=source(replay), today=TODAY)
    assert sum(replay.calls.values()) == before
    assert report.up_to_date == ["SPY", "NVDA"] and report.stored == []


def test_next_day_fetches_only_the_new_rows_and_joins_them(
    replay: YahooReplay, tmp_path: Path
) -> None:
    store = PriceStore(tmp_path / "st")
    replay.last_day["SPY"] = JUL31  # Yahoo had data up to 07-30 on the first day
    fetch_prices(["SPY"], store, start=START, yahoo=source(replay))
    assert store.records()["SPY"].last == "2026-07-30"
    del replay.last_day["SPY"]
    report = fetch_prices(["SPY"], store, start=START, yahoo=source(replay), today=TOMORROW)
    assert report.stored == ["SPY"] and report.refetched == {}
    got, _ = store.read(["SPY"])
    assert got["SPY"].index[-1] == pd.Timestamp("2026-08-03")
    assert got["SPY"].to_numpy() == pytest.approx(snapshot("SPY").to_numpy(), abs=1e-6)


def test_a_dividend_readjustment_refetches_the_whole_history(
    replay: YahooReplay, tmp_path: Path
) -> None:
    store = PriceStore(tmp_path / "st")
    replay.last_day["SPY"] = JUL31
    fetch_prices(["SPY"], store, start=START, yahoo=source(replay))
    del replay.last_day["SPY"]
    replay.adjust["SPY"] = 0.99  # Yahoo rescaled the adjusted history (an ex-dividend day)
    report = fetch_prices(["SPY"], store, start=START, yahoo=source(replay), today=TOMORROW)
    assert report.refetched == {"SPY": "adjusted closes changed since they were stored"}
    got, _ = store.read(["SPY"])
    # one consistent series on the new basis, no seam
    assert got["SPY"].to_numpy() == pytest.approx(0.99 * snapshot("SPY").to_numpy(), abs=1e-6)


def test_partial_failure_keeps_what_succeeded(replay: YahooReplay, tmp_path: Path) -> None:
    store = PriceStore(tmp_path / "st")
    report = fetch_prices(["SPY", "NOSUCH"], store, start=START, yahoo=source(replay))
    assert report.stored == ["SPY"]
    assert report.failed == {
        "NOSUCH": "Yahoo Finance does not know this symbol (HTTP 404); check its spelling"
    }
    assert store.tickers() == ["SPY"]


def test_rate_limits_are_retried_with_backoff(replay: YahooReplay, tmp_path: Path) -> None:
    waits: list[float] = []
    replay.rate_limited["SPY"] = 2  # two 429s, then the answer
    src = YahooSource(session=replay_session(replay), sleep=waits.append)
    report = fetch_prices(["SPY"], PriceStore(tmp_path), start=START, yahoo=src)
    assert report.stored == ["SPY"], report.failed
    assert waits == [1.0]  # yfinance retries once inside; one more round of ours succeeds


def test_no_network_is_one_clear_error(replay: YahooReplay, tmp_path: Path) -> None:
    replay.offline = True
    with pytest.raises(FetchError, match="cannot reach Yahoo Finance"):
        fetch_prices(["SPY", "NVDA"], PriceStore(tmp_path), start=START, yahoo=source(replay))
    assert not (tmp_path / "manifest.json").exists()


def test_damaged_file_is_fetched_again(replay: YahooReplay, tmp_path: Path) -> None:
    store = PriceStore(tmp_path / "st")
    fetch_prices(["SPY"], store, start=START, yahoo=source(replay))
    path = tmp_path / "st" / store.records()["SPY"].file
    path.write_bytes(b"garbage")
    report = fetch_prices(["SPY"], store, start=START, yahoo=source(replay), today=TOMORROW)
    assert report.refetched == {"SPY": "the stored file was damaged"}
    got, _ = store.read(["SPY"])
    assert len(got["SPY"]) == 31


def test_a_run_fetches_what_the_store_lacks(replay: YahooReplay, tmp_path: Path) -> None:
    from bucketmap.api import prices_for_run
    from buckets.models import Bucket, Universe

    bucket = Bucket.model_validate(
        {"name": "gpu", "side": "long", "members": [{"ticker": "NVDA", "rationale": "r"}]}
    )
    universe = Universe(buckets={"gpu": bucket}, benchmarks=["SPY"])
    store = PriceStore(tmp_path / "st")
    got = prices_for_run(universe, prices=None, store=store, yahoo=source(replay))
    assert sorted(got.series) == ["NVDA", "SPY"]  # ^IRX is not in the recording: optional
    # ^IRX and SMH (a claims factor) are optional: not in the recording, and no error
    assert got.fetched is not None and set(got.fetched.failed) == {"^IRX", "SMH"}
    stored, _ = store.read(["NVDA"])
    assert got.series["NVDA"].to_list() == stored["NVDA"].to_list()
    assert got.source == f"store: {tmp_path / 'st'} (yahoo)"
