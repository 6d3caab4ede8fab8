"""The ledger is append-only and survives what a disk and a user do to it: a kill -9 mid-append,
two writers at once, a damaged line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from backtest.evidence.ledger import Evaluation, Ledger, LedgerError, Observation
from tests.conftest import ROOT
from tests.test_faults import _kill_while_running


def _evaluation(claim: str, n: int) -> Evaluation:
    return Evaluation(
        recorded_at="2026-08-03T00:00:00+00:00",
        source="board",
        data_date="2026-08-03",  # type: ignore[arg-type]
        claim=claim,
        definition="d" * 16,
        verdict="inconclusive",
        excess_return=n / 1000,
        days=n,
    )


def test_records_read_back_in_order(tmp_path: Path) -> None:
    book = Ledger(tmp_path / "ledger.jsonl")
    assert book.read().records == []  # an absent ledger is empty
    book.append([_evaluation("a", 1), _evaluation("b", 2)])
    book.append([_evaluation("a", 3)])
    read = book.read()
    assert [(r.claim, r.days) for r in read.records if isinstance(r, Evaluation)] == [
        ("a", 1),
        ("b", 2),
        ("a", 3),
    ]
    assert [r.days for r in read.evaluations("a")] == [1, 3]
    assert read.problems == []


def test_a_damaged_line_is_reported_by_number_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    book = Ledger(path)
    book.append([_evaluation("a", 1)])
    with path.open("a") as f:
        f.write('{"kind": "evaluation", "claim": "cut sh\n')  # cut short by hand
    book.append([_evaluation("a", 2)])
    read = book.read()
    assert [r.days for r in read.evaluations("a")] == [1, 2]
    assert len(read.problems) == 1 and read.problems[0].startswith(f"{path}:2: not a ledger")
    assert '"claim": "cut sh' in path.read_text()  # nothing is thrown away


def test_a_file_that_is_not_a_ledger_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ledger.jsonl"
    folder.mkdir()
    with pytest.raises(LedgerError, match="ledger.jsonl"):
        Ledger(folder).read()


def test_an_observation_keeps_its_text_value_and_source(tmp_path: Path) -> None:
    book = Ledger(tmp_path / "l.jsonl")
    book.append(
        [
            Observation(
                recorded_at="2026-08-03T00:00:00+00:00",
                claim="a",
                signal="bottleneck-mentions",
                observed_on="2026-07-30",  # type: ignore[arg-type]
                value=14,
                text="14 of 20 calls name interconnect",
                source="transcripts Q2",
            )
        ]
    )
    [o] = book.read().observations("a")
    assert (o.value, o.source, str(o.observed_on)) == (14, "transcripts Q2", "2026-07-30")


APPENDER = """
import sys, pathlib
sys.path.insert(0, {root!r})
from backtest.evidence.ledger import Evaluation, Ledger
book = Ledger(pathlib.Path({path!r}))
for i in range({count}):
    batch = [Evaluation(recorded_at="t", source="run", data_date="2026-08-03", claim={who!r},
                        definition="x", verdict="inconclusive", days=i) for _ in range(5)]
    book.append(batch)
    pathlib.Path({ready!r}).touch()
"""


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2])
def test_kill_9_mid_append_leaves_whole_lines_and_whole_batches(
    tmp_path: Path, delay: float
) -> None:
    path, ready = tmp_path / "ledger.jsonl", tmp_path / "ready"
    Ledger(path).append([_evaluation("before", 1)])
    before = path.read_bytes()
    script = APPENDER.format(root=str(ROOT), path=str(path), ready=str(ready), count=10**6, who="w")
    _kill_while_running(script, ready, tmp_path, delay)
    read = Ledger(path).read()
    assert read.problems == []
    assert path.read_bytes().startswith(before)  # what was there is there, byte for byte
    written = [r for r in read.records if r.claim == "w"]
    assert len(written) % 5 == 0 and len(written) >= 5  # batches land whole or not at all
    # and the next writer appends after it
    Ledger(path).append([_evaluation("after", 2)])
    assert Ledger(path).read().records[-1].claim == "after"


def test_two_writers_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                APPENDER.format(
                    root=str(ROOT),
                    path=str(path),
                    ready=str(tmp_path / f"r{k}"),
                    count=25,
                    who=f"w{k}",
                ),
            ],
        )  # fmt: skip
        for k in range(2)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    read = Ledger(path).read()
    assert read.problems == []
    assert sorted(r.claim for r in read.records) == ["w0"] * 125 + ["w1"] * 125
    for line in path.read_text().splitlines():
        json.loads(line)
