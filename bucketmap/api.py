"""The library's entry points: each wires the stages for one job, with I/O at the edges.

``run`` is the main job (universe files → prices → backtest → report files); ``import_prices``
and ``fetch_prices`` fill the local store. The CLI calls these and nothing else of substance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from backtest.conventions import MAX_CHUNK_COLUMNS, RISK_FREE_TICKER, SWEEP_CONFIRM_VARIANTS
from backtest.evidence.claims import ClaimsOutput, check_claims
from backtest.evidence.excess import ClaimOptions
from backtest.prices.refresh import StoredState, join_fetched, plan_fetch
from backtest.prices.sources import YahooSource, read_price_path
from backtest.prices.store import PriceStore, StoredSeries, default_store_path
from backtest.results import ClaimsResult, RunResult, SweepResult
from backtest.run import RunOutput, simulate_run
from backtest.simulation.prepare import (
    PreparedRun,
    RunOptions,
    prepare_run,
    require_claim_prices,
)
from backtest.sweep import (
    CHUNK_COLUMNS,
    SweepSize,
    run_differences,
    run_sweep,
    sweep_mismatch,
    sweep_result,
    sweep_size,
)
from bucketmap import __version__
from buckets.errors import PriceDataError, ResultsError, RunConfigError, StoreError
from buckets.files import CLAIMS_FILE, load_universe
from buckets.models import SweepGrid, Universe
from reports.exports import (
    CLAIMS_JSON,
    CONTRIBUTIONS_CSV,
    REPORT_HTML,
    RESULTS_JSON,
    RETURNS_CSV,
    SUMMARY_MD,
    SWEEP_CSV,
    SWEEP_JSON,
    VARIANTS_CSV,
    WEIGHTS_CSV,
    RunManifest,
    check_run_folder,
    claims_json,
    new_run_id,
    read_claims_result,
    read_returns_csv,
    read_run_result,
    read_sweep_result,
    results_json,
    returns_csv,
    sweep_csv,
    sweep_json,
    weights_csv,
    write_run_files,
)
from reports.page import render_report
from reports.summary import summary_markdown

DEFAULT_FETCH_START = dt.date(2015, 1, 1)


@dataclass
class PricesForRun:
    """Prices gathered for a run, and a description of where they came from."""

    series: dict[str, pd.Series]
    source: str
    fetched: FetchReport | None = None


def prices_for_run(
    universe: Universe,
    *,
    prices: Path | None,
    store: PriceStore,
    verified_only: bool = False,
    fetch_missing: bool = True,
    yahoo: YahooSource | None = None,
) -> PricesForRun:
    """Prices of every ticker the universe needs.

    From ``prices`` (a folder of CSVs, a CSV or a parquet) when given, read in place and not
    stored; otherwise from the store, first fetching from Yahoo what the store lacks (unless
    ``fetch_missing`` is False).
    """
    # the risk-free proxy and the claims' factors are read when the source has them; a run
    # does not need them
    optional = [RISK_FREE_TICKER, *ClaimOptions().factors]
    needed = [*universe.tickers(verified_only=verified_only), *universe.claim_tickers()]
    tickers = list(dict.fromkeys([*needed, *optional]))
    if prices is not None:
        return PricesForRun(read_price_path(prices, tickers), f"files: {prices}")
    if not store.exists() and not fetch_missing:
        raise StoreError(
            f"{store.root}: no price store here; check --store, pass --prices PATH, or fill it "
            "with `bucketmap prices import` / `prices fetch`"
        )
    found, missing = store.read(tickers)
    report = None
    if missing and fetch_missing:
        report = fetch_prices(missing, store, yahoo=yahoo)
        found.update(report.prices)
    sources = sorted({rec.source for rec in store.records(found).values()})
    return PricesForRun(found, f"store: {store.root} ({', '.join(sources) or 'empty'})", report)


def _prepared_run(
    universe: Universe,
    options: RunOptions,
    prices: Path | None,
    store: PriceStore | None,
    fetch_missing: bool,
    yahoo: YahooSource | None,
) -> PreparedRun:
    """The universe's prices (files, or the store with what it lacks fetched) laid out for a run."""
    gathered = prices_for_run(
        universe,
        prices=prices,
        store=store or PriceStore(default_store_path()),
        verified_only=options.verified_only,
        fetch_missing=fetch_missing,
        yahoo=yahoo,
    )
    return prepare_run(universe, gathered.series, options, price_source=gathered.source)


@dataclass
class RunJob:
    """What ``run`` computed: the backtest and the claims, and notes for the user."""

    output: RunOutput
    claims: ClaimsOutput
    notes: list[str] = field(default_factory=list)


def run(
    universes: Path,
    out: Path,
    options: RunOptions,
    *,
    claim_options: ClaimOptions | None = None,
    prices: Path | None = None,
    store: PriceStore | None = None,
    fetch_missing: bool = True,
    yahoo: YahooSource | None = None,
) -> tuple[RunJob, list[Path]]:
    """The main job: backtest every bucket of ``universes``, test its claims, and write the run's
    files to ``out``.

    Everything is computed before anything is written; the files are then written atomically
    (``results.json``, ``claims.json``, ``returns.csv``, ``variants.csv``, ``weights.csv``,
    ``contributions.csv``, ``report.html``, ``summary.md``), ``manifest.json`` last: the run's id
    (also in ``results.json`` and ``claims.json``) and every file's checksum. A ``sweep.json``
    already in ``out`` belongs to an earlier run: it is not drawn (a note says so).
    """
    universe = load_universe(universes)
    prepared = _prepared_run(universe, options, prices, store, fetch_missing, yahoo)
    require_claim_prices(prepared, universe.claims)
    output = simulate_run(prepared, version=__version__)
    claims = check_claims(prepared, output.returns, claim_options)
    run_id = new_run_id()
    output.result = output.result.model_copy(
        update={"run": output.result.run.model_copy(update={"run_id": run_id})}
    )
    claims.result = claims.result.model_copy(update={"run_id": run_id})
    notes = []
    if (out / SWEEP_JSON).exists():
        notes.append(
            f"{out / SWEEP_JSON} is from an earlier run and is not drawn in this run's report; "
            f"run `bucketmap sweep --out {out}` again to draw one"
        )
    files = {
        RESULTS_JSON: results_json(output.result),
        CLAIMS_JSON: claims_json(claims.result),
        RETURNS_CSV: returns_csv(claims.returns),
        VARIANTS_CSV: returns_csv(claims.variants),
        WEIGHTS_CSV: weights_csv(output.weights),
        CONTRIBUTIONS_CSV: output.contributions.to_csv(index=False, lineterminator="\n"),
        REPORT_HTML: render_report(output.result, claims.returns, claims.result, None),
        SUMMARY_MD: summary_markdown(output.result, claims.result, None),
    }
    return RunJob(output, claims, notes), write_run_files(out, files, run_id)


@dataclass
class RunFolder:
    """A run's files read back, checked to come from one run (``manifest.json``)."""

    result: RunResult
    claims: ClaimsResult | None
    returns: pd.DataFrame
    manifest: RunManifest


def read_run_folder(results_dir: Path) -> RunFolder:
    """``results.json``, ``claims.json`` (when present) and ``returns.csv`` of a run's folder,
    checked to be whole files of one run (:func:`reports.exports.check_run_folder`).
    :class:`ResultsError` (one line, naming the file) when they are not."""
    result = read_run_result(results_dir / RESULTS_JSON)
    claims_path = results_dir / CLAIMS_JSON
    claims = read_claims_result(claims_path) if claims_path.exists() else None
    returns = read_returns_csv(results_dir / RETURNS_CSV)
    manifest = check_run_folder(results_dir, result, claims)
    tickers = [b for b, bench in result.benchmarks.items() if bench.kind == "ticker"]
    missing = [c for c in [*result.buckets, *tickers] if c not in returns.columns]
    if missing:
        raise ResultsError(
            results_dir / RETURNS_CSV,
            f"no column for {', '.join(missing)}; it belongs to another run",
        )
    return RunFolder(result, claims, returns, manifest)


def report(results_dir: Path, out: Path | None = None) -> tuple[list[Path], list[str]]:
    """Rebuild ``report.html`` and ``summary.md`` from a run's ``results.json``, ``claims.json``
    and ``sweep.json`` (when it belongs to the run) and ``returns.csv``, without running the
    backtest again; written to ``out`` (default: ``results_dir``). A folder whose files do not
    all come from one run is refused (:class:`ResultsError`). Returns the files written and
    notes (a ``sweep.json`` of another run, left out)."""
    folder = read_run_folder(results_dir)
    sweep, notes = None, []
    sweep_path = results_dir / SWEEP_JSON
    if sweep_path.exists():
        candidate = read_sweep_result(sweep_path)
        listed = {SWEEP_JSON, SWEEP_CSV} <= set(folder.manifest.files)
        why = sweep_mismatch(folder.result, candidate) or (
            None if listed else "manifest.json does not list it"
        )
        if why is None:
            sweep = candidate
        else:
            notes.append(
                f"{sweep_path} is not drawn: {why}; run `bucketmap sweep --out {results_dir}` "
                "again to draw one"
            )
    files = _report_files(folder, sweep)
    written = write_run_files(out or results_dir, files, folder.manifest.run_id, extend=True)
    return written, notes


def _report_files(folder: RunFolder, sweep: SweepResult | None) -> dict[str, str]:
    """``report.html`` and ``summary.md`` rendered from a run's files."""
    return {
        REPORT_HTML: render_report(folder.result, folder.returns, folder.claims, sweep),
        SUMMARY_MD: summary_markdown(folder.result, folder.claims, sweep),
    }


@dataclass
class SweepJob:
    """What ``sweep`` computed: one row per variant, and sweep.json's content."""

    table: pd.DataFrame
    result: SweepResult


def sweep(
    universes: Path,
    out: Path,
    options: RunOptions,
    grid: SweepGrid,
    *,
    prices: Path | None = None,
    store: PriceStore | None = None,
    fetch_missing: bool = True,
    yahoo: YahooSource | None = None,
    chunk_columns: int = CHUNK_COLUMNS,
    progress: Callable[[int, int], None] | None = None,
    confirm: bool = False,
    on_size: Callable[[SweepSize], None] | None = None,
) -> tuple[SweepJob, list[Path]]:
    """Simulate every variant of ``grid`` on the run's window and write ``sweep.csv`` (one row
    per variant) and ``sweep.json`` (settings and per-bucket summary) to ``out``. When ``out``
    holds a run (``results.json``), its ``report.html`` and ``summary.md`` are redrawn with the
    sweep's section, and all four files are written together (or none is).

    The sweep's size is counted first (:func:`backtest.sweep.sweep_size`) and given to
    ``on_size``; more than :data:`SWEEP_CONFIRM_VARIANTS` variants raise :class:`RunConfigError`
    with the estimated memory unless ``confirm``."""
    if not 1 <= chunk_columns <= MAX_CHUNK_COLUMNS:
        raise RunConfigError(
            f"--chunk-columns {chunk_columns}: from 1 to {MAX_CHUNK_COLUMNS:,} member columns"
        )
    universe = load_universe(universes)
    prepared = _prepared_run(universe, options, prices, store, fetch_missing, yahoo)
    size = sweep_size(prepared, grid, chunk_columns)
    if size.variants > SWEEP_CONFIRM_VARIANTS and not confirm:
        raise RunConfigError(
            f"sweep: {size.variants:,} variants ({size.member_columns:,} member columns), "
            f"estimated peak memory {size.estimated_bytes / 2**30:.1f} GB: more than "
            f"{SWEEP_CONFIRM_VARIANTS:,} variants runs only with --yes (or narrow the grid: "
            "fewer --shifts, --bucket, --no-leave-one-out)"
        )
    folder = read_run_folder(out) if (out / RESULTS_JSON).is_file() else None
    if folder is not None:
        differences = run_differences(folder.result, prepared)
        if differences:
            raise RunConfigError(
                f"{out}: holds a run this sweep does not belong to ({'; '.join(differences)}); "
                f"sweep into another --out, or rerun `bucketmap run --out {out}` with the "
                "sweep's settings first"
            )
    if on_size is not None:
        on_size(size)
    swept = run_sweep(prepared, grid, chunk_columns=chunk_columns, progress=progress)
    run_id = folder.manifest.run_id if folder is not None else new_run_id()
    result = sweep_result(prepared, grid, swept.table, version=__version__)
    result = result.model_copy(update={"run_id": run_id})
    files = {SWEEP_CSV: sweep_csv(swept.table), SWEEP_JSON: sweep_json(result)}
    if folder is not None:
        files.update(_report_files(folder, result))
    written = write_run_files(out, files, run_id, extend=folder is not None)
    return SweepJob(swept.table, result), written


def check_claims_job(
    universes: Path,
    out: Path,
    options: RunOptions,
    claim_options: ClaimOptions | None = None,
    *,
    only: Sequence[str] = (),
    prices: Path | None = None,
    store: PriceStore | None = None,
    fetch_missing: bool = True,
    yahoo: YahooSource | None = None,
) -> tuple[ClaimsOutput, list[Path]]:
    """Test the claims of ``universes`` (those named in ``only``, or all) and write
    ``claims.json`` with the series its numbers come from (``returns.csv``, ``variants.csv``)."""
    universe = load_universe(universes)
    known = [c.id for c in universe.claims]
    unknown = [c for c in only if c not in known]
    if unknown:
        raise RunConfigError(
            f"{universes / CLAIMS_FILE}: no claim {', '.join(unknown)} "
            f"(claims: {', '.join(known) or 'none'})"
        )
    prepared = _prepared_run(universe, options, prices, store, fetch_missing, yahoo)
    chosen = [c for c in universe.claims if not only or c.id in only]
    require_claim_prices(prepared, chosen)
    output = simulate_run(prepared, version=__version__)
    claims = check_claims(prepared, output.returns, claim_options, claims=chosen)
    run_id = new_run_id()
    claims.result = claims.result.model_copy(update={"run_id": run_id})
    files = {
        CLAIMS_JSON: claims_json(claims.result),
        RETURNS_CSV: returns_csv(claims.returns),
        VARIANTS_CSV: returns_csv(claims.variants),
    }
    return claims, write_run_files(out, files, run_id)


@dataclass
class ImportReport:
    """What an import stored, and the series it refused with the reason."""

    stored: list[StoredSeries] = field(default_factory=list)
    problems: list[PriceDataError] = field(default_factory=list)


def import_prices(path: Path, store: PriceStore) -> ImportReport:
    """Import every series in ``path`` (folder of CSVs, CSV, parquet) into the store.

    Each series is validated; those that fail are reported and not stored, the others are
    (each replacing what the store held for that ticker).
    """
    problems: list[PriceDataError] = []
    series = read_price_path(path, None, problems=problems)
    if not series and not problems:
        raise PriceDataError("holds no price series; nothing to import", file=path)
    stored = store.write(series, source=f"import:{path.name}") if series else []
    return ImportReport(stored=stored, problems=problems)


@dataclass
class FetchReport:
    """What ``fetch_prices`` did: stored, skipped (fetched today already), refetched in full
    (the overlap with the store disagreed, or the stored file was damaged), and failures."""

    stored: list[str] = field(default_factory=list)
    prices: dict[str, pd.Series] = field(default_factory=dict)
    """The series written to the store, as written."""
    up_to_date: list[str] = field(default_factory=list)
    refetched: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def fetch_prices(
    tickers: Sequence[str],
    store: PriceStore,
    *,
    start: dt.date = DEFAULT_FETCH_START,
    yahoo: YahooSource | None = None,
    today: dt.date | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> FetchReport:
    """Bring the store up to date for ``tickers`` from Yahoo Finance, downloading only what it
    lacks.

    Tickers stored today are skipped; others are fetched from a few days before their last stored
    date and joined when the overlap agrees (see :mod:`backtest.prices.refresh`), else fetched
    again in full; damaged files are fetched again in full. What succeeds is stored even when
    other tickers fail; a missing network raises :class:`FetchError`.
    """
    source = yahoo or YahooSource()
    today = today or dt.datetime.now(dt.UTC).date()
    report = FetchReport()
    found, _, damaged = store.read_checked(tickers)
    records = store.records(found)
    states = {
        t: StoredState(
            last=dt.date.fromisoformat(records[t].last),
            stored_on=dt.date.fromisoformat(records[t].stored_at[:10]),
        )
        for t in found
    }
    report.refetched.update(dict.fromkeys(damaged, "the stored file was damaged"))
    plan, report.up_to_date = plan_fetch(tickers, states, start, today)
    results: dict[str, pd.Series] = {}
    full_again: list[str] = []

    def keep(fetched: dict[str, pd.Series]) -> None:
        """Join a finished batch onto the store and write it at once: a fetch that is cut off
        (network gone, Ctrl-C, killed) keeps every batch it finished."""
        ready: dict[str, pd.Series] = {}
        for ticker, series in fetched.items():
            if ticker not in found:
                ready[ticker] = series
                continue
            joined = join_fetched(found[ticker], series)
            if joined is None:
                full_again.append(ticker)
                report.refetched[ticker] = "adjusted closes changed since they were stored"
            else:
                ready[ticker] = joined
        if ready:
            store.write(ready, source="yahoo")
            results.update(ready)

    for since, batch in sorted(plan.items()):
        outcome = source.fetch(batch, pd.Timestamp(since), on_batch=on_batch, on_prices=keep)
        report.failed.update(outcome.failed)
    if full_again:
        found = {t: s for t, s in found.items() if t not in full_again}
        outcome = source.fetch(full_again, pd.Timestamp(start), on_prices=keep)
        report.failed.update(outcome.failed)
    report.stored = sorted(results)
    report.prices = results
    return report
