"""Benchmark "was the basket special?": 10,000 and 100,000 random 16-member baskets over a
130-day window from the 12,466-ticker pool, side by side with bt's ``benchmark_random`` (one bt
backtest per basket) on a sample, as a ratio per basket.

Run from the repository root (with ../shared/prices beside it):

    .venv/bin/python benchmarks/bench_special.py            # the full table (~3 minutes, 2 cores)
    .venv/bin/python benchmarks/bench_special.py --quick    # small sizes, checks the script works

Every case runs in a fresh interpreter: wall time is the whole process (start-up, imports, the
run's prices, reading the pool, the draws and simulations of both nulls: random and matched, so
2 × N baskets) and peak memory its maximum resident set size. "inner" is timed inside the child
around ``special_for_claim`` alone. The claim is ``rotation-pipes`` (pipes, 16 members, vs the
GPU basket, 2026-01-27 to 2026-08-03: 129 return days); its pool, eligibility and seeds are
those of ``bucketmap claims special``. Cases alternate in rounds; the table gives medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "prices"
CSV = SHARED / "csv"
PARQUET = SHARED / "us_universe_2016.parquet"
CLAIM = "rotation-pipes"


@dataclass
class Measured:
    wall: float
    peak_mb: float
    out: str


def measure(args: list[str]) -> Measured:
    """Run ``args``: wall time, peak resident memory (``os.wait4``) and standard output."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"benchmark case failed: {' '.join(args)}\n{err.read()}")
        return Measured(wall, usage.ru_maxrss / 1024, out.read())


def child(case: str, *args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", case, *args]


def _inputs(pool_path: Path) -> tuple[Any, Any, Any, Any, dict[str, float]]:
    """The run's prepared prices, the claim, its returns and the pool, with their times."""
    t0 = time.perf_counter()
    import datetime as dt

    from backtest.prices.pools import pool_from_path, read_pool
    from backtest.prices.sources import read_price_path
    from backtest.run import simulate_run
    from backtest.simulation.prepare import RunOptions, prepare_run
    from buckets.files import load_universe

    t1 = time.perf_counter()
    universe = load_universe(ROOT / "universes")
    series = read_price_path(CSV, universe.tickers())
    prepared = prepare_run(
        universe, series, RunOptions(start=dt.date(2023, 1, 1)), price_source=str(CSV)
    )
    returns = simulate_run(prepared).returns
    claim = next(c for c in universe.claims if c.id == CLAIM)
    t2 = time.perf_counter()
    pool = read_pool(pool_path.name, pool_from_path(pool_path), ROOT)
    t3 = time.perf_counter()
    times = {"imports": t1 - t0, "run": t2 - t1, "pool": t3 - t2}
    return prepared, claim, returns, pool, times


def child_ours(pool_path: str, baskets: str, workers: str) -> dict[str, float]:
    from backtest.evidence.special import SpecialOptions, special_for_claim
    from backtest.executor import Executor

    prepared, claim, returns, pool, times = _inputs(Path(pool_path))
    t0 = time.perf_counter()
    out = special_for_claim(
        claim,
        None,
        0.05,
        prepared,
        returns,
        pool,
        SpecialOptions(baskets=int(baskets)),
        Executor(workers=int(workers)),
    )
    inner = time.perf_counter() - t0
    assert out is not None and out.result.random.baskets == int(baskets)
    return {
        **times,
        "inner": inner,
        "eligible": out.result.eligible,
        "percentile": out.result.random.percentile or 0.0,
    }


def child_bt(pool_path: str, nsim: str) -> dict[str, float]:
    """bt's ``benchmark_random``: the bucket's strategy (equal weight, monthly at month ends)
    and ``nsim`` random 16-member strategies on the same eligible pool's window closes, one bt
    backtest each; time per random basket."""
    import warnings

    import bt  # type: ignore[import-untyped]
    import pandas as pd

    from backtest.prices.pools import eligible_on

    prepared, claim, _, pool, _ = _inputs(Path(pool_path))
    shared = prepared.shared
    s = int(shared.searchsorted(pd.Timestamp(claim.start), side="right")) - 1
    e = len(shared) - 1
    spec = next(x for x in prepared.specs if x.name == claim.bucket)
    eligible = eligible_on(pool, shared, s, e, leave_out=spec.tickers)
    window = pool.prices.reindex(index=shared[s : e + 1], columns=eligible.tickers).ffill()
    bucket = prepared.prices.reindex(index=shared[s : e + 1], columns=list(spec.tickers)).ffill()
    data = pd.concat([window, bucket], axis=1)
    when = bt.algos.Or([bt.algos.RunOnce(), bt.algos.RunMonthly(run_on_end_of_period=True)])
    own = bt.Strategy(
        "bucket",
        [when, bt.algos.SelectThese(list(spec.tickers)), bt.algos.WeighEqually(),
         bt.algos.Rebalance()],
    )  # fmt: skip
    random_strategy = bt.Strategy(
        "random",
        [when, bt.algos.SelectRandomly(n=len(spec.tickers)), bt.algos.WeighEqually(),
         bt.algos.Rebalance()],
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backtest = bt.Backtest(own, data, initial_capital=1e9)
        t0 = time.perf_counter()
        bt.backtest.benchmark_random(backtest, random_strategy, nsim=int(nsim))
        elapsed = time.perf_counter() - t0
    # benchmark_random runs the bucket's backtest once and the random strategy nsim times
    return {"per_basket": elapsed / (int(nsim) + 1), "columns": float(data.shape[1])}


def run_child(case: str, args: list[str]) -> None:
    fn = {"ours": child_ours, "bt": child_bt}[case]
    print(json.dumps(fn(*args)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: checks it works")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the 10,000 case")
    parser.add_argument("--bt-sample", type=int, default=5, help="random baskets bt simulates")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child[0], args.child[1:])
        return
    pool = CSV if args.quick else PARQUET
    small, large = (500, 2_000) if args.quick else (10_000, 100_000)
    rounds = 1 if args.quick else args.rounds
    rows: dict[str, list[tuple[Measured, dict[str, float]]]] = {}

    def record(name: str, cmd: list[str]) -> None:
        m = measure(cmd)
        rows.setdefault(name, []).append((m, json.loads(m.out.strip().splitlines()[-1])))

    name_small = f"{small:,} random + {small:,} matched baskets"
    name_large = f"{large:,} random + {large:,} matched baskets"
    for r in range(rounds):
        record(name_small, child("ours", str(pool), str(small), "1"))
        record(f"{name_small}, 2 workers", child("ours", str(pool), str(small), "2"))
        if r == 0:
            record(name_large, child("ours", str(pool), str(large), "1"))
            record(f"{name_large}, 2 workers", child("ours", str(pool), str(large), "2"))
            record("bt benchmark_random", child("bt", str(pool), str(args.bt_sample)))

    print(f"pool: {pool.name}; claim {CLAIM} (16 members, 129 return days); this machine: "
          f"{os.cpu_count()} cores")  # fmt: skip
    print("| case | runs | wall s (median) | peak MB | inner s | pool read s | per basket ms |")
    print("|---|---|---|---|---|---|---|")
    ours_per_basket: list[float] = []
    for name, runs in rows.items():
        wall = statistics.median(m.wall for m, _ in runs)
        peak = statistics.median(m.peak_mb for m, _ in runs)
        if name.startswith("bt"):
            per = statistics.median(d["per_basket"] for _, d in runs) * 1000
            cols = int(runs[0][1]["columns"])
            print(f"| {name}, {args.bt_sample} baskets on {cols:,} columns | {len(runs)} | "
                  f"{wall:.2f} | {peak:.0f} | — | — | {per:.1f} |")  # fmt: skip
            bt_per = per
            continue
        inner = statistics.median(d["inner"] for _, d in runs)
        read = statistics.median(d["pool"] for _, d in runs)
        n = small if name.startswith(f"{small:,}") else large
        per = inner / (2 * n) * 1000
        if "workers" not in name:
            ours_per_basket.append(per)
        print(f"| {name} | {len(runs)} | {wall:.2f} | {peak:.0f} | {inner:.2f} | {read:.2f} | "
              f"{per:.3f} |")  # fmt: skip
    ratio = bt_per / min(ours_per_basket)
    print(f"\nbt per random basket / ours per basket (inner, both nulls counted): {ratio:,.0f}×")
    print(f"eligible pool members: {int(rows[name_small][0][1]['eligible']):,}")


if __name__ == "__main__":
    main()
