"""The main job as objects, for a notebook: :func:`run` returns a :class:`RunResults` whose
DataFrames are the run's files as tables, whose ``figures`` are the report's plotly figures, and
which ``.save(out)`` writes exactly as ``bucketmap run`` does (the CLI calls :func:`run` too).

    >>> import bucketmap
    >>> res = bucketmap.run(prices="sample")
    >>> res.claims[["excess_return", "low", "high", "verdict"]]
    >>> res.figures["growth"]
    >>> res.save("out/notebook")
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from backtest.background import Background
from backtest.conventions import DEFAULT_BASKETS, MAX_BASKETS, Correction, Rebalance, Weighting
from backtest.evidence.excess import ClaimOptions
from backtest.evidence.special import SpecialOptions
from backtest.executor import Executor
from backtest.prices.store import PriceStore, default_store_path
from backtest.results import ClaimsResult, RunResult, Special
from backtest.run import daily_contributions_table
from backtest.simulation.prepare import DEFAULT_START, RunOptions
from bucketmap.api import PoolChoice, RunJob, compute_run, save_run

DateLike = dt.date | str


def _day(value: DateLike | None, option: str) -> dt.date | None:
    from buckets.errors import RunConfigError

    if value is None or isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise RunConfigError(f"{option} {value!r}: expected a date YYYY-MM-DD") from None


def _dated(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of a long table with its ``date`` column as timestamps (the CSV writes dates)."""
    out = table.copy()
    out["date"] = pd.to_datetime(out["date"])
    return out


@dataclass
class RunResults:
    """A computed run. Tables (each a copy; change it freely):

    * ``returns``: date × (bucket | benchmark ticker | claim ticker) daily returns, fractions
      (``returns.csv``; NaN: no return that day);
    * ``weights``: date, bucket, ticker, weight — target weights at each event (``weights.csv``);
    * ``contributions``: window, start, end, bucket, ticker (or ``costs``), contribution — each
      member's part of its bucket's return over each window (``contributions.csv``);
    * ``daily_contributions``: date, bucket, ticker (or ``costs``), contribution — the parts of
      each daily return (``contributions_daily.csv``/``.parquet`` with ``--daily-contributions``);
    * ``metrics``: one row per (name, window) for every bucket and benchmark: total return, CAGR,
      volatility, Sharpe, ... (``results.json`` → ``buckets.*.windows.*.metrics`` and
      ``benchmarks.*.windows``), with ``kind`` (the bucket's side, or ``benchmark``);
    * ``relative``: one row per (bucket, benchmark, window): excess return, return difference,
      tracking error, beta, ... (``results.json`` → ``buckets.*.windows.*.vs``);
    * ``claims``: one row per claim: window, excess return and its interval, p-values, verdict,
      (``p_above``/``p_below`` one-sided, and adjusted across the claims), whether it survives
      its controls, caveats (``claims.json``); with a pool also the bucket's percentile and
      p-value among random and matched baskets;
    * ``baskets``: claim, null, basket, excess, members — every random and matched basket, when
      a pool was given (``baskets.csv``; None otherwise).

    ``result`` and ``claims_result`` are the validated models behind ``results.json`` and
    ``claims.json``; ``job`` holds everything else the run computed."""

    job: RunJob
    store: PriceStore | None = None
    ledger: Path | None = None

    @property
    def result(self) -> RunResult:
        return self.job.output.result

    @property
    def claims_result(self) -> ClaimsResult:
        return self.job.claims.result

    @property
    def notes(self) -> list[str]:
        """Things the user should know (an earlier sweep not drawn, the ledger recorded)."""
        return self.job.notes

    @property
    def warnings(self) -> list[str]:
        """What the run left out or allowed but worth saying (overlaps, ``--verified-only``)."""
        return list(self.result.run.warnings)

    @property
    def returns(self) -> pd.DataFrame:
        out = self.job.claims.returns.copy()
        out.index = pd.DatetimeIndex(out.index, name="date")
        return out

    @property
    def weights(self) -> pd.DataFrame:
        return _dated(self.job.output.weights)

    @property
    def contributions(self) -> pd.DataFrame:
        out = self.job.output.contributions.copy()
        out["start"] = pd.to_datetime(out["start"])
        out["end"] = pd.to_datetime(out["end"])
        return out

    @property
    def daily_contributions(self) -> pd.DataFrame:
        return _dated(daily_contributions_table(self.job.output.daily_contributions))

    @property
    def metrics(self) -> pd.DataFrame:
        rows: list[dict[str, Any]] = []
        for name, bucket in self.result.buckets.items():
            for window, w in bucket.windows.items():
                rows.append(
                    {"name": name, "window": window, "kind": bucket.side, **dict(w.metrics)}
                )
        for name, bench in self.result.benchmarks.items():
            if bench.kind != "ticker":
                continue  # a benchmark bucket is listed with the buckets
            for window, metrics in bench.windows.items():
                rows.append({"name": name, "window": window, "kind": "benchmark", **dict(metrics)})
        return pd.DataFrame(rows).set_index(["name", "window"])

    @property
    def relative(self) -> pd.DataFrame:
        rows = [
            {"bucket": name, "benchmark": bench, "window": window, **dict(rel)}
            for name, bucket in self.result.buckets.items()
            for window, w in bucket.windows.items()
            for bench, rel in w.vs.items()
        ]
        return pd.DataFrame(rows).set_index(["bucket", "benchmark", "window"])

    @property
    def claims(self) -> pd.DataFrame:
        rows = []
        for c in self.claims_result.claims:
            t, sig = c.test, c.significance
            rows.append(
                {
                    "id": c.id,
                    "bucket": c.bucket,
                    "benchmark": c.benchmark,
                    "direction": c.direction,
                    "threshold": c.threshold,
                    "start": c.start,
                    "end": t.end,
                    "days": t.days,
                    "bucket_return": t.bucket_return,
                    "benchmark_return": t.benchmark_return,
                    "excess_return": t.excess_return,
                    "low": t.low,
                    "high": t.high,
                    "p_above": t.p_above,
                    "p_below": t.p_below,
                    "p_above_adjusted": None if sig is None else sig.p_above,
                    "p_below_adjusted": None if sig is None else sig.p_below,
                    "verdict": c.verdict,
                    "survives_controls": c.survives_controls,
                    "caveats": list(c.caveats),
                    **_special_columns(c.special),
                }
            )
        return pd.DataFrame(rows).set_index("id")

    @property
    def baskets(self) -> pd.DataFrame | None:
        table = self.job.claims.baskets
        return None if table is None else table.copy()

    @cached_property
    def figures(self) -> dict[str, Any]:
        """The report's plotly figures by chart name (``growth``, ``drawdown``, ``rolling``,
        ``claim-K-ratio``, ``claim-K-path``, ``tear-K-monthly``, ``contributions``, …; see
        :func:`reports.page.report_figures`)."""
        from reports.page import report_figures

        return report_figures(self.result, self.job.claims.returns, self.claims_result)

    def _repr_html_(self) -> str:
        """The report's answer: the run's window and options, the thesis line, a headline per
        claim and the compact verdict table."""
        from html import escape

        from reports.page import answer_section
        from reports.words import options_echo

        run = self.result.run
        head = escape(
            f"{run.start} → {run.end} (data to {run.data_last_date}); {options_echo(run)}"
        )
        return f"<p><b>bucketmap run</b> {head}</p>" + answer_section(
            self.claims_result, self.result
        )

    def save(
        self, out: str | Path, *, record: bool = True, daily_contributions: bool = False
    ) -> list[Path]:
        """Write the run's files to ``out`` as ``bucketmap run --out OUT`` does (with
        ``daily_contributions``, as ``--daily-contributions`` does) and (``record``) append each
        claim's state to the ledger; returns the paths written."""
        return save_run(
            self.job,
            Path(out),
            store=self.store,
            ledger=self.ledger,
            record=record,
            daily_contributions=daily_contributions,
        )


def _special_columns(special: Special | None) -> dict[str, Any]:
    if special is None:
        return {}
    return {
        "random_percentile": special.random.percentile,
        "random_p": special.random.p_value,
        "matched_percentile": special.matched.percentile,
        "matched_p": special.matched.p_value,
    }


def pool_choice(
    pool: str | Path | None, baskets: int, seed: int, workers: int, scheduler: str | None
) -> PoolChoice:
    """The pool, basket count, stream and executor of the random and matched baskets, checked:
    :class:`RunConfigError` naming the option when one is out of bounds."""
    from buckets.errors import RunConfigError

    if not 1 <= baskets <= MAX_BASKETS:
        raise RunConfigError(f"--baskets {baskets}: from 1 to {MAX_BASKETS:,}")
    return PoolChoice(
        pool=None if pool is None else str(pool),
        special=SpecialOptions(baskets=baskets, seed=seed),
        executor=Executor(workers=workers, scheduler=scheduler),
    )


def run(
    universes: str | Path = "universes",
    *,
    prices: str | Path | None = None,
    store: str | Path | None = None,
    start: DateLike = DEFAULT_START,
    end: DateLike | None = None,
    rebalance: Rebalance | str = Rebalance.monthly,
    weighting: Weighting | str = Weighting.equal,
    cost_bps: float = 0.0,
    verified_only: bool = False,
    max_missing: float = 0.0,
    fetch: bool = True,
    claim_date: DateLike | None = None,
    windows: Mapping[str, tuple[DateLike, DateLike]] | None = None,
    buckets: Sequence[str] = (),
    block_length: int | None = None,
    resamples: int = 10_000,
    seed: int = 0,
    correction: Correction | str = Correction.holm,
    ledger: str | Path | None = None,
    pool: str | Path | None = None,
    baskets: int = DEFAULT_BASKETS,
    workers: int = 1,
    scheduler: str | None = None,
    background: Background | None = None,
) -> RunResults:
    """Backtest every bucket of ``universes``, test its claims and return the results; nothing
    is written until ``.save(out)``. The options are ``bucketmap run``'s, as keywords
    (``prices="sample"`` is the shipped sample; ``windows={"since-dec": ("2025-12-01",
    "2026-08-03")}``; ``buckets=["pipes"]``; ``pool="us_2016"`` or a price file draws
    ``baskets`` random and matched baskets per claim, on ``workers`` local processes or the Dask
    ``scheduler``). Bad options raise a :class:`bucketmap.BucketmapError` naming the option.
    ``background``: a second process, started before the imports, to simulate in
    (:func:`bucketmap.api.compute_run`; ``bucketmap run`` starts one); in a session that has
    imported vectorbt already it gains nothing."""
    from buckets.errors import RunConfigError

    first = _day(start, "start") or DEFAULT_START
    try:
        rebalance, weighting = Rebalance(rebalance), Weighting(weighting)
        correction = Correction(correction)
    except ValueError as exc:
        raise RunConfigError(str(exc)) from None
    spans: dict[str, tuple[dt.date, dt.date]] = {}
    for name, (a, b) in (windows or {}).items():
        w_start, w_end = _day(a, f"window {name}"), _day(b, f"window {name}")
        assert w_start is not None and w_end is not None
        spans[name] = (w_start, w_end)
    options = RunOptions(
        start=first,
        end=_day(end, "end"),
        rebalance=rebalance,
        weighting=weighting,
        cost_bps=cost_bps,
        verified_only=verified_only,
        max_missing=max_missing,
        claim_date=_day(claim_date, "claim_date"),
        windows=spans,
        buckets=tuple(dict.fromkeys(buckets)),
    )
    claim_options = ClaimOptions(
        block_length=block_length, resamples=resamples, seed=seed, correction=correction
    )
    price_store = PriceStore(Path(store)) if store is not None else PriceStore(default_store_path())
    job = compute_run(
        Path(universes),
        options,
        claim_options=claim_options,
        prices=None if prices is None else Path(prices),
        store=price_store,
        fetch_missing=fetch,
        pool=pool_choice(pool, baskets, seed, workers, scheduler),
        background=background,
    )
    return RunResults(job, price_store, None if ledger is None else Path(ledger))
