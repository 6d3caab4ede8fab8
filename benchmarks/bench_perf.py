"""Benchmark the jobs a user waits for: --help, a run, the weekly board, a 10,000-variant sweep
(side by side with the peers doing the same work: one ``bt`` backtest per variant over all four
rebalance rules, and vectorbt's ``Portfolio.from_orders`` used directly), a 12,000-member bucket,
a claim on a 300- and a 1,000-member bucket, and how time grows.

Run from the repository root (with ../shared/prices beside it):

    .venv/bin/python benchmarks/bench_perf.py             # the full table (~4 minutes, 2 cores)
    .venv/bin/python benchmarks/bench_perf.py --quick     # small sizes, checks the script works

Every case runs in a fresh interpreter, so wall time is the whole process (start-up, imports,
numba compilation, reading prices) and peak memory is the child's maximum resident set size
(``os.wait4``'s ``ru_maxrss``) or, when larger, the summed memory of the child and its own
children sampled every 20 ms (``bucketmap run`` computes in two processes). "inner" figures are
timed inside the child around the library call only. Repeated cases print the median (and the
runs' count); heavy cases run once unless ``--repeat-heavy`` says otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from backtest.simulation.prepare import PreparedRun
    from buckets.models import SweepGrid

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "prices"
CSV = SHARED / "csv"
PARQUET = SHARED / "us_universe_2016.parquet"
SWEEP_START = "2016-01-01"
SWEEP_REBALANCES = ["weekly", "monthly", "quarterly", "none"]
# 10 buckets, 54 members (a one-member bucket has no leave-one-out): 63 × 2 × 4 × 22 = 11,088
SWEEP_SHIFTS = "0-21"


@dataclass
class Measured:
    wall: float
    peak_mb: float
    out: str


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants now, in KiB (Linux ``/proc``; 0 where
    it cannot be read)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next((int(x.split()[1]) for x in f if x.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return total


def measure(args: list[str], extra_env: dict[str, str] | None = None) -> Measured:
    """Run ``args`` to completion: its wall time, peak resident memory and standard output.

    The peak is the larger of ``os.wait4``'s ``ru_maxrss`` (the largest single process of the
    tree, exactly) and the summed resident memory of the process and its descendants sampled
    every 20 ms (``bucketmap run`` computes in two processes at once)."""
    import threading

    env = {**os.environ, "TERMINAL_WIDTH": "200", **(extra_env or {})}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=err, text=True, env=env)
        sampled = [0]
        finished = threading.Event()

        def sample() -> None:
            while not finished.wait(0.02):
                sampled[0] = max(sampled[0], _tree_rss_kb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        finished.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"benchmark case failed: {' '.join(args)}\n{err.read()}")
        return Measured(wall, max(usage.ru_maxrss, sampled[0]) / 1024, out.read())


def last_json(m: Measured) -> dict[str, float]:
    """The JSON a child case prints as its last line."""
    data: dict[str, float] = json.loads(m.out.strip().splitlines()[-1])
    return data


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "bucketmap", *args]


def child(case: str, *args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", case, *args]


# --- the in-process cases (run in a child) ------------------------------------------------------


def _prepared(start: str, store: str | None) -> PreparedRun:
    from backtest.prices.store import PriceStore
    from backtest.simulation.prepare import RunOptions, prepare_run
    from bucketmap.api import prices_for_run
    from buckets.files import load_universe

    universe = load_universe(ROOT / "universes")
    gathered = prices_for_run(
        universe,
        prices=None if store else CSV,
        store=PriceStore(Path(store) if store else ROOT / ".bucketmap"),  # unread with files
        fetch_missing=False,
    )
    options = RunOptions(start=dt.date.fromisoformat(start))
    return prepare_run(universe, gathered.series, options, price_source=gathered.source)


def child_sim(store: str) -> dict[str, float]:
    """The run's vectorbt simulation of every bucket and benchmark basket alone, and with the
    metrics of every window (``simulate_run``): each its first call in the process (numba
    compiles vectorbt's functions) and a second call."""
    from backtest.run import simulate_run
    from backtest.simulation.engine import simulate_buckets

    prepared = _prepared("2023-01-01", store)
    out: dict[str, float] = {}
    for name in ("simulation", "with_metrics"):
        for call in ("first", "second"):
            t0 = time.perf_counter()
            if name == "simulation":
                simulate_buckets(prepared.window, prepared.specs)
            else:
                simulate_run(prepared)
            out[f"{name}_{call}"] = time.perf_counter() - t0
    return out


def _grid(shifts: list[int]) -> SweepGrid:
    from buckets.models import SweepGrid

    return SweepGrid(
        weightings=["equal", "inverse_vol"], rebalances=SWEEP_REBALANCES, shifts=shifts
    )


def _shift_list(text: str) -> list[int]:
    low, _, high = text.partition("-")
    return list(range(int(low), int(high or low) + 1))


def child_bt(sample: str, shifts: str) -> dict[str, float]:
    """``sample`` variants of each of the four rebalance rules, one ``bt`` backtest each (equal
    weight, the same rebalance days and start), timed per variant, and how far bt's total return
    is from the sweep's. ``per_variant`` is the mean over the four rules of each rule's median
    (the sweep's grid has as many variants of each rule)."""
    import bt  # type: ignore[import-untyped]
    import numpy as np

    from backtest.sweep import grid_variants, sweep_variants

    prepared = _prepared(SWEEP_START, None)
    variants = grid_variants(prepared, _grid(_shift_list(shifts)))
    rng = np.random.default_rng(0)
    chosen = []
    for rule in SWEEP_REBALANCES:
        pool = [v for v in variants if v.weighting.value == "equal" and v.rebalance.value == rule]
        picks = rng.choice(len(pool), size=min(int(sample), len(pool)), replace=False)
        chosen += [pool[i] for i in sorted(picks)]
    ours = sweep_variants(prepared, chosen, "SPY").table
    run_on = {
        "weekly": bt.algos.RunWeekly,
        "monthly": bt.algos.RunMonthly,
        "quarterly": bt.algos.RunQuarterly,
        "daily": bt.algos.RunDaily,
    }
    times: dict[str, list[float]] = {rule: [] for rule in SWEEP_REBALANCES}
    gaps = []
    window = prepared.window
    for v, total in zip(chosen, ours["total_return"], strict=True):
        prices = window[list(v.tickers)].iloc[v.shift :]
        # from the variant's first purchase: the first day a member has a price (bt's RunOnce
        # would otherwise fire on a day when SelectAll finds nothing, and never buy)
        prices = prices.loc[prices.notna().any(axis=1).idxmax() :]
        rule = v.rebalance.value
        t0 = time.perf_counter()
        when = (
            bt.algos.RunOnce()
            if rule == "none"
            else bt.algos.Or([bt.algos.RunOnce(), run_on[rule](run_on_end_of_period=True)])
        )
        algos = [when, bt.algos.SelectAll(), bt.algos.WeighEqually(), bt.algos.Rebalance()]
        result = bt.run(bt.Backtest(bt.Strategy("v", algos), prices, initial_capital=1e9))
        times[rule].append(time.perf_counter() - t0)
        path = result.prices["v"]
        gaps.append(abs((path.iloc[-1] / path.iloc[0] - 1) - total) / (1 + total))
    medians = {rule: statistics.median(t) for rule, t in times.items() if t}
    return {
        "per_variant": statistics.mean(medians.values()),
        **{f"per_variant_{rule}": value for rule, value in medians.items()},
        "variants": len(chosen),
        "max_rel_gap": max(gaps),
    }


def child_vbt(shifts: str) -> dict[str, float]:
    """The sweep's variants with each chunk's orders simulated by ``vectorbt.Portfolio
    .from_orders`` (vectorbt used directly: the same event plans and targets, vectorbt's own
    portfolio simulation), against the closed form, both timed in this process after a warm-up,
    and the largest gap between their figures."""
    import numpy as np

    from backtest.sweep import grid_variants, sweep_variants

    prepared = _prepared(SWEEP_START, None)
    variants = grid_variants(prepared, _grid(_shift_list(shifts)))
    _warm_up()
    sweep_variants(prepared, variants[:10], "SPY", via="portfolio")
    sweep_variants(prepared, variants[:10], "SPY")
    out: dict[str, float] = {"variants": len(variants)}
    tables = {}
    # vectorbt and the closed form on every variant (the same work), then the sweep as it runs
    # (variants that differ by their shift share their path after their first common rebalance)
    for name, via, share in (
        ("vectorbt", "portfolio", False),
        ("closed_form", "closed_form", False),
        ("shared", "closed_form", True),
    ):
        t0 = time.perf_counter()
        tables[name] = sweep_variants(
            prepared,
            variants,
            "SPY",
            via=via,
            share_paths=share,  # type: ignore[arg-type]
        ).table
        out[name] = time.perf_counter() - t0
    figures = ["total_return", "cagr", "volatility", "sharpe", "max_drawdown", "excess_return"]
    a, b, c = (tables[v][figures].to_numpy(dtype="float64") for v in tables)
    out["max_abs_gap"] = float(np.nanmax(np.abs(a - b)))
    out["max_abs_gap_shared"] = float(np.nanmax(np.abs(b - c)))
    return out


def _warm_up() -> None:
    """Run a tiny bucket first (vectorbt's first call, numba's cache loaded), so "inner" times the
    work only."""
    import pandas as pd

    from backtest.simulation.engine import BucketSpec, simulate_buckets

    days = pd.bdate_range("2024-01-01", periods=30)
    prices = pd.DataFrame({"A": range(10, 40), "B": range(40, 10, -1)}, index=days, dtype=float)
    simulate_buckets(prices, [BucketSpec("w", ["A", "B"])])


def _clean_universe(members: int | None) -> tuple[pd.DataFrame, int, int]:
    import pandas as pd

    wide = pd.read_parquet(PARQUET)
    positive = ((wide <= 0).sum() == 0) & wide.notna().any()
    clean = wide.loc[:, positive]
    dropped = int((~positive).sum())
    if members is not None:
        clean = clean.iloc[:, :members]
    return clean, dropped, int(wide.shape[1])


def child_big(members: str) -> dict[str, float]:
    """One bucket of ``members`` tickers of the universe parquet (``all``: every usable one),
    monthly, equal weight, 2016–2026. Series with a zero or negative close are dropped first."""
    from backtest.simulation.engine import BucketSpec, simulate_buckets

    t0 = time.perf_counter()
    prices, dropped, total = _clean_universe(None if members == "all" else int(members))
    read = time.perf_counter() - t0
    _warm_up()
    t0 = time.perf_counter()
    sim = simulate_buckets(prices, [BucketSpec("all", list(prices.columns))])
    inner = time.perf_counter() - t0
    return {
        "members": len(prices.columns),
        "dropped_nonpositive_or_empty": dropped,
        "tickers_in_file": total,
        "read": read,
        "inner": inner,
        "days": int(sim.returns["all"].notna().sum()),
    }


def child_variants(count: str, shifts: str) -> dict[str, float]:
    """The first ``count`` variants of the sweep grid, in one sweep."""
    from backtest.sweep import grid_variants, sweep_variants

    prepared = _prepared(SWEEP_START, None)
    variants = grid_variants(prepared, _grid(_shift_list(shifts)))[: int(count)]
    _warm_up()
    t0 = time.perf_counter()
    sweep_variants(prepared, variants, "SPY")
    return {"variants": len(variants), "inner": time.perf_counter() - t0}


def _one_bucket_universe(folder: Path, bucket: str, tickers: Sequence[str]) -> Path:
    """``folder`` as a universe: SPY the benchmark, one bucket ``bucket`` of ``tickers`` (every
    member proposed)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "benchmarks.yaml").write_text("benchmarks:\n  - SPY\n")
    lines = ["side: long", "description: many tickers", "members:"]
    member = "  - ticker: {}\n    status: proposed\n    rationale: a benchmark case"
    lines += [member.format(t) for t in tickers]
    (folder / f"{bucket}.yaml").write_text("\n".join(lines) + "\n")
    return folder


def claim_universe(work: Path, members: int) -> tuple[Path, Path]:
    """A universe folder with one bucket of the first ``members`` tickers of the universe
    parquet that are priced through 2023–2026 with no close ≤ 0, SPY as its benchmark and one
    claim on it (from 2025-01-02), and a parquet of their prices: the case where a claim's
    leave-one-out simulates ``members`` buckets of ``members - 1``."""
    import pandas as pd

    wide = pd.read_parquet(PARQUET).loc["2023-01-01":]
    usable = wide.notna().all() & (wide > 0).all()
    tickers = [t for t in wide.columns[usable.to_numpy()] if t != "SPY"][:members]
    folder = _one_bucket_universe(work / f"claim-universe-{members}", "big", tickers)
    (folder / "claims.yaml").write_text(
        "claims:\n  - id: big-beats-spy\n    source: benchmark\n    statement: big beats SPY\n"
        "    bucket: big\n"
        "    benchmark: SPY\n    direction: outperform\n    start: 2025-01-02\n"
    )
    prices = work / f"claim-prices-{members}.parquet"
    wide[[*tickers, "SPY"]].to_parquet(prices)
    return folder, prices


def big_run_universe(work: Path, members: int | None) -> tuple[Path, Path]:
    """A universe folder with one bucket of every usable ticker of the universe parquet (the
    first ``members`` with a number; as :func:`_clean_universe`, with two prices or more, SPY
    aside) and SPY as its benchmark, no claim, and a parquet of their prices: the whole
    ``bucketmap run`` of a 12,000-member bucket (reading, aligning, the simulation, the
    files)."""
    clean, _, _ = _clean_universe(None)
    returns_two = clean.count() >= 2  # a series of one price has no return: the run refuses it
    tickers = [t for t in clean.columns[returns_two.to_numpy()] if t != "SPY"][:members]
    folder = _one_bucket_universe(work / "big-run-universe", "everything", tickers)
    prices = work / "big-run-prices.parquet"
    clean[[*tickers, "SPY"]].to_parquet(prices)
    return folder, prices


def child_big_run_universe(work: str, members: str) -> dict[str, float]:
    """:func:`big_run_universe` in a child (``all`` for every usable ticker)."""
    folder, _ = big_run_universe(Path(work), None if members == "all" else int(members))
    return {"members": sum(1 for line in (folder / "everything.yaml").open() if "ticker:" in line)}


def child_claim_universe(work: str, members: str) -> dict[str, float]:
    """:func:`claim_universe` in a child: the parent stays small (a child's peak memory counts the
    parent's pages it was forked from)."""
    claim_universe(Path(work), int(members))
    return {"members": int(members)}


CHILDREN: dict[str, Callable[..., dict[str, float]]] = {
    "sim": child_sim,
    "bt": child_bt,
    "big": child_big,
    "variants": child_variants,
    "vbt": child_vbt,
    "claim_universe": child_claim_universe,
    "big_run_universe": child_big_run_universe,
}


def run_child(case: str, args: list[str]) -> None:
    print(json.dumps(CHILDREN[case](*args)))


# --- the table ----------------------------------------------------------------------------------


def med(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (checks the script)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of the light cases")
    parser.add_argument("--repeat-heavy", type=int, default=1, help="runs of the heavy cases")
    parser.add_argument("--bt-sample", type=int, default=3, help="variants per rule timed with bt")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.child:
        run_child(ns.child[0], ns.child[1:])
        return
    if not CSV.is_dir() or not PARQUET.is_file():
        raise SystemExit(f"needs {CSV} and {PARQUET} (../shared/prices beside the repository)")
    light = 1 if ns.quick else ns.repeat
    heavy = 1 if ns.quick else ns.repeat_heavy
    shifts = "0-0" if ns.quick else SWEEP_SHIFTS
    bt_sample = 1 if ns.quick else ns.bt_sample
    scale = [10, 100] if ns.quick else [10, 100, 1000, 10000]
    rows: list[list[str]] = []

    def add(
        case: str, runs: int, walls: list[float], peaks: list[float], inner: str, target: str
    ) -> None:
        rows.append([case, str(runs), f"{med(walls):.2f}", f"{max(peaks):,.0f}", inner, target])
        print(f"  … {case}: {med(walls):.2f} s", file=sys.stderr)

    work = Path(tempfile.mkdtemp(prefix="bucketmap-bench-"))
    try:
        # 1. --help
        ms = [measure(cli("--help")) for _ in range(light)]
        add("bucketmap --help", light, [m.wall for m in ms], [m.peak_mb for m in ms], "", "< 1 s")

        # 2. run from the store
        store = work / "store"
        measure(cli("prices", "import", str(CSV), "--store", str(store)))
        ms = [
            measure(cli("run", "--store", str(store), "--no-fetch", "--out", str(work / f"run{i}")))
            for i in range(light)
        ]
        sims = [last_json(measure(child("sim", str(store)))) for _ in range(min(light, 3))]
        add(
            "bucketmap run (default universes, store)",
            light,
            [m.wall for m in ms],
            [m.peak_mb for m in ms],
            f"simulation {med([s['simulation_first'] for s in sims]):.2f} s first call in the "
            f"process, {med([s['simulation_second'] for s in sims]):.2f} s again; with "
            f"every window's metrics {med([s['with_metrics_second'] for s in sims]):.2f} s",
            "≤ 2.5 s",
        )

        # 2a. a new machine's first run: numba's cache empty (NUMBA_CACHE_DIR a fresh folder, so
        # vectorbt's compiled functions are not found either), then a second run on that cache;
        # interleaved, each pair in fresh processes
        cold, warm = [], []
        for i in range(light):
            cache = {"NUMBA_CACHE_DIR": str(work / f"numba{i}")}
            args = cli("run", "--store", str(store), "--no-fetch", "--out", str(work / f"cold{i}"))
            cold.append(measure(args, cache))
            warm.append(measure(args, cache))
        gap = med([c.wall - w.wall for c, w in zip(cold, warm, strict=True)])
        add(
            "bucketmap run, first on a new machine (empty numba cache)",
            light,
            [m.wall for m in cold],
            [m.peak_mb for m in cold],
            f"{gap:+.2f} s over the second run on the same cache "
            f"({med([m.wall for m in warm]):.2f} s)",
            "≤ warm + 1 s",
        )

        # 2b. the weekly board from the same store (its ledger in the work folder)
        ledger = work / "ledger.jsonl"
        ms = [
            measure(cli("board", "--store", str(store), "--no-fetch", "--ledger", str(ledger),
                        "--out", str(work / f"board{i}")))
            for i in range(light)
        ]  # fmt: skip
        add(
            "bucketmap board (default universes, store)",
            light,
            [m.wall for m in ms],
            [m.peak_mb for m in ms],
            "every claim as of the data's last day and the week before, with its signals",
            "< 3 s",
        )

        # 3. the sweep, with bt on a sample of the same variants and vectorbt used directly on
        # all of them, interleaved (fresh processes, one after the other, `heavy` rounds)
        sweep_args = ["sweep", "--prices", str(CSV), "--start", SWEEP_START, "--shifts", shifts]
        for r in SWEEP_REBALANCES:
            sweep_args += ["--rebalance", r]
        ms, bts, vbts = [], [], []
        for i in range(heavy):
            ms.append(measure(cli(*sweep_args, "--out", str(work / f"sweep{i}"))))
            bts.append(last_json(measure(child("bt", str(bt_sample), shifts))))
            m = measure(child("vbt", shifts))
            vbts.append({**last_json(m), "wall": m.wall, "peak": m.peak_mb})
        variants = sum(1 for _ in (work / "sweep0" / "sweep.csv").open()) - 1
        ours = med([m.wall for m in ms]) / variants
        add(
            f"sweep, {variants:,} variants 2016–2026",
            heavy,
            [m.wall for m in ms],
            [m.peak_mb for m in ms],
            f"{ours * 1000:.2f} ms per variant (whole process)",
            "≤ 6 s, ≤ 1 GB",
        )
        bt_per = med([b["per_variant"] for b in bts])
        rules = ", ".join(
            f"{r} {med([b[f'per_variant_{r}'] for b in bts]) * 1000:.0f}" for r in SWEEP_REBALANCES
        )
        rows.append(
            [
                f"bt, one backtest per variant ({int(bts[0]['variants'])} sampled, "
                f"{bt_sample} per rule)",
                str(heavy),
                f"{bt_per * variants:.0f} (est.)",
                "",
                f"{bt_per * 1000:.0f} ms per variant (ms by rule: {rules}): the sweep is "
                f"{bt_per / ours:.0f}× faster; total returns agree within "
                f"{max(b['max_rel_gap'] for b in bts):.1e} (relative)",
                "≥ 150× per variant",
            ]
        )
        rows.append(
            [
                "vectorbt used directly on the same variants",
                str(heavy),
                f"{med([v['wall'] for v in vbts]):.2f}",
                f"{max(v['peak'] for v in vbts):,.0f}",
                f"Portfolio.from_orders {med([v['vectorbt'] for v in vbts]):.2f} s vs closed form "
                f"{med([v['closed_form'] for v in vbts]):.2f} s on every variant in one process "
                f"({med([v['vectorbt'] / v['closed_form'] for v in vbts]):.1f}×; figures agree "
                f"within {max(v['max_abs_gap'] for v in vbts):.1e}), "
                f"{med([v['shared'] for v in vbts]):.2f} s with shared paths (within "
                f"{max(v['max_abs_gap_shared'] for v in vbts):.1e})",
                "",
            ]
        )

        # 4. every usable ticker of the universe parquet in one bucket
        big = [measure(child("big", "100" if ns.quick else "all")) for _ in range(heavy)]
        info = last_json(big[0])
        add(
            f"one bucket of {info['members']:,} tickers, monthly (the simulation alone)",
            heavy,
            [m.wall for m in big],
            [m.peak_mb for m in big],
            f"simulation {info['inner']:.2f} s (after a warm-up), reading {info['read']:.2f} s; "
            f"{info['dropped_nonpositive_or_empty']} of {info['tickers_in_file']:,} series "
            "dropped (a close ≤ 0, or no price)",
            "< 30 s, < 6 GB",
        )

        # 4a. the same tickers through a whole `bucketmap run` (prices from a parquet file)
        info = last_json(
            measure(child("big_run_universe", str(work), "100" if ns.quick else "all"))
        )
        big_args = ["run", "--universes", str(work / "big-run-universe"),
                    "--prices", str(work / "big-run-prices.parquet"),
                    "--store", str(work / "big-run-store")]  # fmt: skip
        runs = [measure(cli(*big_args, "--out", str(work / f"big-run{i}"))) for i in range(heavy)]
        add(
            f"bucketmap run, one bucket of {info['members']:,} tickers (SPY its benchmark)",
            heavy,
            [m.wall for m in runs],
            [m.peak_mb for m in runs],
            "reading the parquet, aligning, the simulation, every file (per-member "
            "contributions; no daily table)",
            "≤ 10 s, ≤ 2 GB",
        )

        # 4b. a claim on a big bucket: its leave-one-out is members buckets of members - 1
        for n in [100] if ns.quick else [300, 1000]:
            measure(child("claim_universe", str(work), str(n)))
            folder = work / f"claim-universe-{n}"
            prices = work / f"claim-prices-{n}.parquet"
            m = measure(
                cli("run", "--universes", str(folder), "--prices", str(prices), "--out",
                    str(work / f"claim{n}"), "--ledger", str(work / "claim-ledger.jsonl"))
            )  # fmt: skip
            add(
                f"bucketmap run, a claim on a {n:,}-member bucket",
                1,
                [m.wall],
                [m.peak_mb],
                f"leave-one-out: {n:,} buckets of {n - 1:,}; the rule grid; weekly history",
                "≤ 15 s, ≤ 2 GB (1,000)",
            )

        # 5. how time grows
        for n in scale:
            m = measure(child("big", str(n)))
            add(
                f"scaling: {n:,} members",
                1,
                [m.wall],
                [m.peak_mb],
                f"simulation {last_json(m)['inner']:.2f} s (after a warm-up)",
                "",
            )
        for n in scale:
            m = measure(child("variants", str(n), SWEEP_SHIFTS))
            add(
                f"scaling: {n:,} variants",
                1,
                [m.wall],
                [m.peak_mb],
                f"sweep {last_json(m)['inner']:.2f} s (after a warm-up)",
                "",
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    headers = ["case", "runs", "wall s (median)", "peak MB", "inner", "target"]
    print(f"bucketmap benchmarks, {dt.date.today()}, {os.cpu_count()} cores")
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
