"""Faults lose nothing: a network that drops mid-fetch, a process killed (kill -9) while writing
the store or rewriting a universe file, an output folder that cannot be written or a full disk,
and two runs at once on one store."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from backtest.prices.sources import YahooSource
from backtest.prices.store import PriceStore
from bucketmap.api import fetch_prices
from bucketmap.cli import app
from buckets.files import load_universe
from tests.conftest import ROOT, TINY_BENCH, TINY_BUCKET

runner = CliRunner()
DAYS = pd.bdate_range("2024-01-02", periods=30)


def _frame(tickers: list[str]) -> pd.DataFrame:
    """What yfinance.download returns for a batch: (field, ticker) columns."""
    cols = pd.MultiIndex.from_product([["Close"], tickers])
    values = np.repeat(100.0 + np.arange(len(DAYS))[:, None], len(tickers), axis=1)
    return pd.DataFrame(values, index=DAYS, columns=cols)


def test_network_drop_mid_fetch_keeps_what_was_fetched_and_a_rerun_resumes(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def flaky(batch: list[str], **_: object) -> pd.DataFrame:
        calls.append(list(batch))
        if len(calls) > 1:  # the network goes after the first batch
            raise ConnectionError("Failed to establish a new connection: Network is unreachable")
        return _frame(batch)

    store = PriceStore(tmp_path / "st")
    source = YahooSource(download=flaky, batch_size=2, retries=1, sleep=lambda s: None)
    report = fetch_prices(["AAA", "BBB", "CCC", "DDD"], store, yahoo=source)
    assert report.stored == ["AAA", "BBB"]
    assert set(report.failed) == {"CCC", "DDD"}
    assert store.tickers() == ["AAA", "BBB"]

    def working(batch: list[str], **_: object) -> pd.DataFrame:
        calls.append(list(batch))
        return _frame(batch)

    calls.clear()
    again = fetch_prices(["AAA", "BBB", "CCC", "DDD"], store, yahoo=YahooSource(download=working))
    assert calls == [["CCC", "DDD"]]  # only what was missing
    assert again.up_to_date == ["AAA", "BBB"] and again.stored == ["CCC", "DDD"]


def test_an_interrupted_fetch_keeps_the_batches_it_finished(tmp_path: Path) -> None:
    def interrupted(batch: list[str], **_: object) -> pd.DataFrame:
        if "CCC" in batch:
            raise KeyboardInterrupt
        return _frame(batch)

    store = PriceStore(tmp_path / "st")
    with pytest.raises(KeyboardInterrupt):
        fetch_prices(
            ["AAA", "BBB", "CCC"], store, yahoo=YahooSource(download=interrupted, batch_size=2)
        )
    assert store.tickers() == ["AAA", "BBB"]


def _kill_while_running(script: str, ready: Path, cwd: Path, kills_after: float) -> None:
    """Start ``script`` in a fresh interpreter, wait until it creates ``ready``, let it run for
    ``kills_after`` seconds more, then kill -9 it."""
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=cwd)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None, "the writer died on its own"
            assert time.monotonic() < deadline, "the writer never got going"
            time.sleep(0.01)
        time.sleep(kills_after)
        assert proc.poll() is None, "the writer finished before it was killed"
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


STORE_WRITER = """
import sys, pathlib
sys.path.insert(0, {root!r})
import numpy as np, pandas as pd
from backtest.prices.store import PriceStore
store = PriceStore(pathlib.Path({store!r}))
days = pd.bdate_range("2000-01-03", periods=2000)
tickers = [f"T{{i:03d}}" for i in range(40)]
version = 1
while True:
    store.write({{t: pd.Series(np.full(len(days), float(version)), days) for t in tickers}}, "v")
    pathlib.Path({ready!r}).touch()
    version += 1
"""


@pytest.mark.parametrize("delay", [0.0, 0.13, 0.37])
def test_kill_9_during_store_writes_leaves_every_series_whole(tmp_path: Path, delay: float) -> None:
    store_dir, ready = tmp_path / "st", tmp_path / "ready"
    script = STORE_WRITER.format(root=str(ROOT), store=str(store_dir), ready=str(ready))
    _kill_while_running(script, ready, tmp_path, delay)
    store = PriceStore(store_dir)
    tickers = store.tickers()
    assert len(tickers) == 40
    found, missing, damaged = store.read_checked(tickers)
    assert damaged == {} and missing == []
    versions = set()
    for series in found.values():
        assert len(series) == 2000
        assert series.nunique() == 1  # one complete version, never a mix
        versions.add(float(series.iloc[0]))
    # the manifest switches all 40 at once: every ticker is at the same version
    assert len(versions) == 1
    # the next write clears what the killed one left behind
    store.write({"T000": found["T000"] + 1}, source="after")
    listed = {Path(r.file).name for r in store.records().values()}
    assert {p.name for p in (store_dir / "prices").iterdir()} == listed


UNIVERSE_WRITER = """
import sys, pathlib
sys.path.insert(0, {root!r})
from buckets.edit import add_member
folder = pathlib.Path({folder!r})
i = 0
while True:
    add_member(folder, "duo", f"N{{i:04d}}", why="added by the test")
    pathlib.Path({ready!r}).touch()
    i += 1
"""


@pytest.mark.parametrize("delay", [0.0, 0.21])
def test_kill_9_during_universe_rewrites_leaves_a_valid_file(tmp_path: Path, delay: float) -> None:
    folder, ready = tmp_path / "universes", tmp_path / "ready"
    folder.mkdir()
    (folder / "duo.yaml").write_text(TINY_BUCKET)
    (folder / "benchmarks.yaml").write_text(TINY_BENCH)
    script = UNIVERSE_WRITER.format(root=str(ROOT), folder=str(folder), ready=str(ready))
    _kill_while_running(script, ready, tmp_path, delay)
    universe = load_universe(folder)  # parses and validates: the old or the new file, whole
    added = [m.ticker for m in universe.buckets["duo"].members][2:]
    assert added == [f"N{i:04d}" for i in range(len(added))]  # no edit lost or half-applied
    text = (folder / "duo.yaml").read_text()
    assert text.startswith(TINY_BUCKET)  # the user's comment and order survive


def _world(tmp_path: Path) -> Path:
    (tmp_path / "universes").mkdir()
    (tmp_path / "universes" / "duo.yaml").write_text(TINY_BUCKET)
    (tmp_path / "universes" / "benchmarks.yaml").write_text(TINY_BENCH)
    (tmp_path / "prices").mkdir()
    for i, t in enumerate(("AAA", "BBB", "SPY")):
        closes = 100 * np.cumprod(1 + np.random.default_rng(i).normal(0, 0.01, len(DAYS)))
        (tmp_path / "prices" / f"{t}.csv").write_text(
            "Date,Close\n"
            + "".join(f"{d:%Y-%m-%d},{float(c)!r}\n" for d, c in zip(DAYS, closes, strict=True))
        )
    store = tmp_path / "store"
    res = runner.invoke(app, ["prices", "import", str(tmp_path / "prices"), "--store", str(store)])
    assert res.exit_code == 0, res.output
    return tmp_path


def _run_from_store(world: Path, out: Path) -> object:
    return runner.invoke(
        app,
        ["run", "--universes", str(world / "universes"), "--store", str(world / "store"),
         "--no-fetch", "--out", str(out), "--start", "2024-01-01"],
    )  # fmt: skip


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_an_output_folder_that_cannot_be_written_is_one_line_and_touches_nothing(
    tmp_path: Path,
) -> None:
    world = _world(tmp_path)
    before = _snapshot(world / "store")
    (world / "blocker").write_text("a file where the output folder's parent should be")
    res = _run_from_store(world, world / "blocker" / "out")
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        f"error: {world / 'blocker' / 'out'}: cannot write the output files (a file is in the "
        "way of the folder); choose another --out"
    )
    assert _snapshot(world / "store") == before


def test_a_full_disk_while_writing_the_outputs_keeps_the_previous_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = _world(tmp_path)
    out = world / "out"
    assert _run_from_store(world, out).exit_code == 0
    previous, store_before = _snapshot(out), _snapshot(world / "store")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("reports.exports.os.fsync", full)
    res = _run_from_store(world, out)
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        f"error: {out}: cannot write the output files (No space left on device); "
        "choose another --out"
    )
    assert _snapshot(out) == previous  # the last run's files, whole
    assert _snapshot(world / "store") == store_before
    assert [p.name for p in world.iterdir() if p.name.startswith(".out.")] == []  # no stage left


def test_a_full_disk_while_storing_prices_keeps_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = _world(tmp_path)
    before = _snapshot(world / "store")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("buckets.fileio.os.fsync", full)
    res = runner.invoke(
        app, ["prices", "import", str(world / "prices"), "--store", str(world / "store")]
    )
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        f"error: {world / 'store'}: cannot write to the store (No space left on device); every "
        "stored series is as it was before this write"
    )
    assert _snapshot(world / "store") == before


def test_two_runs_and_an_import_at_once_on_one_store(tmp_path: Path) -> None:
    world = _world(tmp_path)
    env = {**os.environ, "BUCKETMAP_STORE": str(world / "store")}
    common = ["--universes", str(world / "universes"), "--no-fetch", "--start", "2024-01-01"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bucketmap", "run", *common, "--out", str(world / f"o{i}")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i in (1, 2)
    ]
    procs.append(
        subprocess.Popen(
            [sys.executable, "-m", "bucketmap", "prices", "import", str(world / "prices")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
    )
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    one, two = (json.loads((world / f"o{i}" / "results.json").read_text()) for i in (1, 2))
    assert one["buckets"] == two["buckets"]
    found, missing, damaged = PriceStore(world / "store").read_checked(["AAA", "BBB", "SPY"])
    assert not missing and not damaged


def test_twelve_verifies_at_once_keep_all_twelve(tmp_path: Path) -> None:
    # each edit reads, changes and renames the file: without one lock for the folder, edits
    # started together each rewrite what they read, and all but one are lost
    folder = tmp_path / "universes"
    folder.mkdir()
    tickers = [f"T{i:02d}" for i in range(12)]
    (folder / "dozen.yaml").write_text(
        "# twelve members\nside: long\nmembers:\n"
        + "".join(f"  - ticker: {t}\n    rationale: r\n" for t in tickers)
    )
    (folder / "benchmarks.yaml").write_text(TINY_BENCH)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bucketmap",
                "universes",
                "verify",
                "dozen",
                t,
                "--by",
                f"person{i}",
                "--on",
                "2026-01-02",
                "--universes",
                str(folder),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i, t in enumerate(tickers)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "verified by" in out
    members = load_universe(folder).buckets["dozen"].members
    assert [(m.ticker, m.status.value, m.verified_by) for m in members] == [
        (t, "verified", f"person{i}") for i, t in enumerate(tickers)
    ]
    assert (folder / "dozen.yaml").read_text().startswith("# twelve members\n")


def _small_disk(monkeypatch: pytest.MonkeyPatch, folder: Path, capacity: int) -> None:
    """Pretend ``folder`` sits on a disk of ``capacity`` bytes: a write whose data would take the
    folder's files past it fails at its fsync with ENOSPC, as a full disk does (the bytes are
    already in the file then, as on a real disk that filled up)."""
    real = os.fsync

    def fsync(fd: int) -> None:
        used = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        if used > capacity:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd)

    monkeypatch.setattr("buckets.fileio.os.fsync", fsync)


def test_a_disk_full_import_leaves_no_orphan_and_the_next_import_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = _world(tmp_path)
    store = world / "store"
    before = _snapshot(store)
    more = world / "more"
    more.mkdir()
    for i in range(10):
        closes = 50 + np.cumsum(np.random.default_rng(100 + i).normal(0, 1, len(DAYS)))
        (more / f"T{i}.csv").write_text(
            "Date,Close\n"
            + "".join(f"{d:%Y-%m-%d},{float(c)!r}\n" for d, c in zip(DAYS, closes, strict=True))
        )
    one_file = max(len(data) for name, data in before.items() if name.startswith("prices/"))
    _small_disk(monkeypatch, store, sum(map(len, before.values())) + int(2.5 * one_file))
    res = runner.invoke(app, ["prices", "import", str(more), "--store", str(store)])
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        f"error: {store}: cannot write to the store (No space left on device); every "
        "stored series is as it was before this write"
    )
    # the files written before the disk filled are gone: the store is byte for byte as before
    assert _snapshot(store) == before
    # so the disk has room again, and a one-ticker import fits
    res = runner.invoke(app, ["prices", "import", str(more / "T0.csv"), "--store", str(store)])
    assert res.exit_code == 0, res.output
    assert PriceStore(store).tickers() == ["AAA", "BBB", "SPY", "T0"]


def test_a_write_first_clears_what_a_killed_writer_left(tmp_path: Path) -> None:
    world = _world(tmp_path)
    store = world / "store"
    (store / "prices" / "ZZZ.0123456789ab.parquet").write_bytes(b"x" * 1000)
    (store / ".manifest.json.abc123.tmp").write_bytes(b"{")
    res = runner.invoke(app, ["prices", "import", str(world / "prices" / "AAA.csv"), "--store",
                              str(store)])  # fmt: skip
    assert res.exit_code == 0, res.output
    listed = {Path(r.file).name for r in PriceStore(store).records().values()}
    assert {p.name for p in (store / "prices").iterdir()} == listed
    assert sorted(p.name for p in store.iterdir()) == [".lock", "manifest.json", "prices"]


def test_a_read_only_store_can_be_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = _world(tmp_path)
    (world / "store" / ".lock").unlink()

    import filelock

    real = filelock.FileLock
    store = str(world / "store")

    def read_only(path: str, *args: object, **kwargs: object) -> object:
        """filelock's FileLock, as on a read-only folder: in the store, the lock file cannot be
        created."""
        if not str(path).startswith(store):
            return real(path, *args, **kwargs)  # type: ignore[arg-type]

        class ReadOnly:
            def acquire(self, *_: object, **__: object) -> None:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS))

            def __enter__(self) -> None:
                self.acquire()

            def __exit__(self, *_: object) -> None:
                pass

        return ReadOnly()

    monkeypatch.setattr("filelock.FileLock", read_only)
    res = _run_from_store(world, world / "out")
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["prices", "info", "--store", str(world / "store")])
    assert res.exit_code == 0, res.output
    assert "AAA" in res.stdout
    assert not (world / "store" / ".lock").exists()  # reading needs no lock file
    res = runner.invoke(app, ["prices", "import", str(world / "prices"), "--store",
                              str(world / "store")])  # fmt: skip
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        f"error: {world / 'store'}: cannot write to the store (Read-only file system); reading "
        "it needs no write access"
    )


# --- a run's output folder is one unit ---------------------------------------------------------------

RUN_FILES = (
    9  # results, claims, returns, variants, weights, contributions, report, summary, manifest
)


class _Killed(BaseException):
    """Stands for the process dying: nothing in bucketmap catches it."""


def _folder_is_one_run(out: Path) -> str:
    """The run id every file of ``out`` carries, asserting they agree and match the manifest."""
    import hashlib

    manifest = json.loads((out / "manifest.json").read_text())
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name
    run_id = str(manifest["run_id"])
    assert json.loads((out / "results.json").read_text())["run"]["run_id"] == run_id
    assert json.loads((out / "claims.json").read_text())["run_id"] == run_id
    return run_id


@pytest.mark.parametrize("renames", range(RUN_FILES + 1))
def test_a_run_stopped_between_its_renames_is_refused_or_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, renames: int
) -> None:
    world = _world(tmp_path)
    out = world / "out"
    assert _run_from_store(world, out).exit_code == 0
    first = _folder_is_one_run(out)
    real = os.replace
    done: list[str] = []

    def replace(src: str, dst: str) -> None:
        if len(done) == renames:
            raise _Killed
        real(src, dst)
        done.append(str(dst))

    monkeypatch.setattr("reports.exports.os.replace", replace)
    if renames < RUN_FILES:
        with pytest.raises(_Killed):  # CliRunner lets it through, as a death would be
            _run_from_store(world, out)
    else:
        assert _run_from_store(world, out).exit_code == 0
        assert Path(done[-1]).name == "manifest.json"  # the manifest is moved in last
    monkeypatch.setattr("reports.exports.os.replace", real)
    res = runner.invoke(app, ["report", str(out)])
    if renames in (0, RUN_FILES):  # before the first rename or after the last: one whole run
        assert res.exit_code == 0, res.output
        assert (_folder_is_one_run(out) == first) is (renames == 0)
    else:
        assert res.exit_code == 2
        line = res.stderr.strip()
        assert "\n" not in line and "Traceback" not in res.output
        assert line.startswith(f"error: {out}/")
        assert "the folder mixes two runs" in line and f"rerun `bucketmap run --out {out}`" in line


KILLED_RUN = """
import os, signal, sys
sys.path.insert(0, {root!r})
import reports.exports as exports
real, done = os.replace, []
def replace(src, dst):
    if len(done) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst)
    done.append(dst)
exports.os.replace = replace
from bucketmap.cli import main
sys.argv = ["bucketmap", "run", "--universes", {universes!r}, "--store", {store!r}, "--no-fetch",
            "--out", {out!r}, "--start", "2024-01-01"]
main()
"""


def test_kill_9_between_renames_leaves_a_folder_report_refuses_and_the_next_run_repairs(
    tmp_path: Path,
) -> None:
    world = _world(tmp_path)
    out = world / "out"
    assert _run_from_store(world, out).exit_code == 0
    script = KILLED_RUN.format(
        root=str(ROOT), universes=str(world / "universes"), store=str(world / "store"), out=str(out)
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, timeout=300)
    assert proc.returncode == -signal.SIGKILL
    stages = [p for p in out.iterdir() if p.name.startswith(".bucketmap-stage-")]
    assert len(stages) == 1  # what the killed writer had staged, inside --out
    res = runner.invoke(app, ["report", str(out)])
    assert res.exit_code == 2 and "the folder mixes two runs" in res.stderr
    assert _run_from_store(world, out).exit_code == 0
    _folder_is_one_run(out)
    assert not [p for p in out.iterdir() if p.name.startswith(".bucketmap-stage-")]
    assert runner.invoke(app, ["report", str(out)]).exit_code == 0


def test_files_are_staged_inside_the_output_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a rename across devices fails (EXDEV): staging beside --out broke an --out that is a mount
    world = _world(tmp_path)
    out = world / "out"
    real = os.replace

    def same_folder_only(src: str, dst: str) -> None:
        if Path(dst).parent != out or Path(src).parent.parent != out:
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
        real(src, dst)

    monkeypatch.setattr("reports.exports.os.replace", same_folder_only)
    res = _run_from_store(world, out)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".bucketmap.lock", "claims.json", "contributions.csv", "manifest.json", "report.html",
         "results.json", "returns.csv", "summary.md", "variants.csv", "weights.csv"]
    )  # fmt: skip
    assert [p.name for p in world.iterdir() if p.name.startswith(".")] == []


def _sweep(world: Path, out: Path, *extra: str) -> object:
    return runner.invoke(
        app,
        ["sweep", "--universes", str(world / "universes"), "--store", str(world / "store"),
         "--no-fetch", "--out", str(out), "--start", "2024-01-01", "--shifts", "0,1",
         "--rebalance", "monthly", *extra],
    )  # fmt: skip


def test_a_sweep_is_drawn_only_with_the_run_it_was_made_for(tmp_path: Path) -> None:
    world = _world(tmp_path)
    out = world / "out"
    assert _run_from_store(world, out).exit_code == 0
    res = _sweep(world, out)
    assert res.exit_code == 0, res.output
    run_id = _folder_is_one_run(out)
    assert json.loads((out / "sweep.json").read_text())["run_id"] == run_id
    assert "## Sweep: " in (out / "summary.md").read_text()
    # a new run in the folder: the old sweep's variants are not this run's
    res = _run_from_store(world, out)
    assert res.exit_code == 0, res.output
    note = (
        f"note: {out / 'sweep.json'} is from an earlier run and is not drawn in this run's report"
    )
    assert note in res.stderr
    assert "## Sweep: " not in (out / "summary.md").read_text()
    res = runner.invoke(app, ["report", str(out)])
    assert res.exit_code == 0, res.output
    assert f"note: {out / 'sweep.json'} is not drawn: it was made for run {run_id}, not run" in (
        res.stderr
    )
    assert "## Sweep: " not in (out / "summary.md").read_text()


def test_a_sweep_into_the_folder_of_another_window_is_refused(tmp_path: Path) -> None:
    world = _world(tmp_path)
    out = world / "out"
    assert _run_from_store(world, out).exit_code == 0
    before = _snapshot(out)
    res = _sweep(world, out, "--end", "2024-01-31")
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        f"error: {out}: holds a run this sweep does not belong to (the run is 2024-01-02 → "
        "2024-02-12, the sweep 2024-01-02 → 2024-01-31); sweep into another --out, or rerun "
        f"`bucketmap run --out {out}` with the sweep's settings first"
    )
    assert _snapshot(out) == before


def test_report_refuses_files_of_two_runs(tmp_path: Path) -> None:
    world = _world(tmp_path)
    one, two = world / "o1", world / "o2"
    assert _run_from_store(world, one).exit_code == 0
    assert _run_from_store(world, two).exit_code == 0
    run_one = _folder_is_one_run(one)
    # the report of run one drawn into run two's folder would mix them
    res = runner.invoke(app, ["report", str(one), "--out", str(two)])
    assert res.exit_code == 2
    assert res.stderr.strip().startswith(
        f"error: {two / 'manifest.json'}: holds run {_folder_is_one_run(two)}; writing run "
        f"{run_one}'s files here would mix two runs"
    )
    # a results.json of run two copied into run one's folder
    (one / "results.json").write_bytes((two / "results.json").read_bytes())
    res = runner.invoke(app, ["report", str(one)])
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        f"error: {one / 'results.json'}: not the file run {run_one} wrote (manifest.json lists "
        "another checksum): the folder mixes two runs, as a run stopped while moving its files "
        f"into place leaves it; rerun `bucketmap run --out {one}`"
    )
    # a folder without a manifest (an older bucketmap, or a run that never finished)
    (two / "manifest.json").unlink()
    res = runner.invoke(app, ["report", str(two)])
    assert res.exit_code == 2
    assert res.stderr.strip().startswith(
        f"error: {two / 'manifest.json'}: not found: nothing says these files come from one run"
    )
