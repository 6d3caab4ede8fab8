"""The library's entry points: each wires the stages for one job, with I/O at the edges.

``run`` is the main job (universe files → prices → backtest → report files); ``import_prices``
and ``fetch_prices`` fill the local store. The CLI calls these and nothing else of substance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from backtest.background import Background
from backtest.conventions import MAX_CHUNK_COLUMNS, RISK_FREE_TICKER, SWEEP_CONFIRM_VARIANTS
from backtest.evidence.board import (
    board_entry,
    evaluation_record,
    resolution_record,
    resolutions_due,
)
from backtest.evidence.claims import (
    ClaimsOutput,
    check_claims,
    history_before_simulation,
    rank_null_keys_ahead,
    rank_nulls,
)
from backtest.evidence.excess import ClaimOptions
from backtest.evidence.history import ClaimState, claims_history, states_at
from backtest.evidence.ledger import (
    LEDGER_FILE,
    Evaluation,
    Ledger,
    LedgerRead,
    Observation,
    Resolution,
    changed_definitions,
    now_utc,
)
from backtest.evidence.special import SpecialOptions, special_claims
from backtest.executor import Executor
from backtest.prices.pools import pool_from_path, read_pool
from backtest.prices.refresh import StoredState, join_fetched, plan_fetch
from backtest.prices.sample import SAMPLE_SOURCE, is_sample
from backtest.prices.sources import YahooSource, read_price_path
from backtest.prices.store import PriceStore, StoredSeries, default_store_path
from backtest.results import BoardResult, ClaimsResult, RunResult, SweepResult
from backtest.run import RunOutput, daily_contributions_table, run_tickers, simulate_run
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
from buckets.files import CLAIMS_FILE, POOLS_FILE, load_universe
from buckets.models import Claim, Pool, SweepGrid, Universe
from buckets.select import select_universe
from reports.board import render_board
from reports.exports import (
    BASKETS_CSV,
    BOARD_HTML,
    BOARD_JSON,
    CLAIMS_JSON,
    CONTRIBUTIONS_CSV,
    DAILY_CONTRIBUTIONS_CSV,
    DAILY_CONTRIBUTIONS_PARQUET,
    HISTORY_CSV,
    REPORT_HTML,
    RESULTS_JSON,
    RETURNS_CSV,
    SUMMARY_MD,
    SWEEP_CSV,
    SWEEP_JSON,
    VARIANTS_CSV,
    WEIGHTS_CSV,
    RunManifest,
    baskets_csv,
    check_run_folder,
    claims_json,
    contributions_csv,
    daily_contributions_file,
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
    write_files_atomically,
    write_run_files,
)
from reports.page import render_report
from reports.summary import summary_markdown

DEFAULT_FETCH_START = dt.date(2015, 1, 1)


def run_universe(universes: Path, options: RunOptions) -> Universe:
    """The universe files of ``universes`` as a run with ``options`` uses them: only
    ``options.buckets`` (when given) and, with ``verified_only``, only buckets with a verified
    member (:func:`buckets.select.select_universe`; what is left out is in its warnings)."""
    return select_universe(
        load_universe(universes), options.buckets, verified_only=options.verified_only
    )


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
        source = SAMPLE_SOURCE if is_sample(prices) else f"files: {prices}"
        return PricesForRun(read_price_path(prices, tickers), source)
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
    """What ``run`` computed: the backtest and the claims, what they started from, and notes for
    the user."""

    output: RunOutput
    claims: ClaimsOutput
    prepared: PreparedRun
    claim_options: ClaimOptions
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PoolChoice:
    """Which pool the random and matched baskets are drawn from, and how many."""

    pool: str | None = None
    """A pool of the universe's ``pools.yaml``, or a price file or folder; None: the pools
    file's ``default`` (and no baskets when there is none)."""
    special: SpecialOptions = field(default_factory=SpecialOptions)
    executor: Executor = field(default_factory=Executor)


def chosen_pool(
    universes: Path, universe: Universe, choice: PoolChoice, store: PriceStore | None
) -> tuple[str, Pool, Path] | None:
    """The pool ``choice`` names (its name, model and the folder its paths are relative to), or
    the universe's default pool, or None. :class:`RunConfigError` when ``--pool`` names neither
    a pool of ``pools.yaml`` nor an existing price file or folder."""
    pools = universe.pools
    if choice.pool is None:
        if pools is None or pools.default is None:
            return None
        return pools.default, pools.pools[pools.default], universes
    if pools is not None and choice.pool in pools.pools:
        return choice.pool, pools.pools[choice.pool], universes
    path = Path(choice.pool).expanduser()
    if not path.exists():
        names = ", ".join(pools.pools) if pools is not None else "none: no pools.yaml"
        raise RunConfigError(
            f"--pool {choice.pool}: neither a pool of {universes / POOLS_FILE} ({names}) nor a "
            "price file or folder"
        )
    return path.name, pool_from_path(path), Path.cwd()


def attach_special(
    universes: Path,
    prepared: PreparedRun,
    claims: ClaimsOutput,
    claim_options: ClaimOptions,
    choice: PoolChoice,
    store: PriceStore | None,
    *,
    required: bool = False,
) -> None:
    """Draw the random and matched baskets of every claim from the chosen pool and put them in
    ``claims`` (:func:`backtest.evidence.special.special_claims`: ``claims.result`` and
    ``claims.baskets``). Nothing when no pool is chosen, unless ``required``
    (:class:`RunConfigError` naming what to give)."""
    picked = chosen_pool(universes, prepared.universe, choice, store)
    if picked is None:
        if required:
            raise RunConfigError(
                f"no pool to draw baskets from: give --pool (a price file or folder, or a pool "
                f"of {universes / POOLS_FILE}) or set a default pool in {universes / POOLS_FILE}"
            )
        return
    name, pool_model, base = picked

    def run_series(tickers: Sequence[str]) -> dict[str, pd.Series]:
        return {t: prepared.series[t] for t in tickers if t in prepared.series}

    pool = read_pool(name, pool_model, base, store=store, run_series=run_series)
    alpha = (1.0 - claim_options.confidence) / 2.0
    result, table = special_claims(
        prepared, claims.result, claims.returns, pool, alpha, choice.special, choice.executor
    )
    claims.result = result
    claims.baskets = table


BACKGROUND_MAX_TICKERS = 2_000
"""Up to this many price columns a run shares its work with a second process
(:func:`compute_run`): its inputs and outputs are pickled across, which at the default run's
115 columns costs milliseconds, and at 12,000 columns would cost more than the import it hides
(and hold the prices twice)."""


def compute_run(
    universes: Path,
    options: RunOptions,
    *,
    claim_options: ClaimOptions | None = None,
    prices: Path | None = None,
    store: PriceStore | None = None,
    fetch_missing: bool = True,
    yahoo: YahooSource | None = None,
    pool: PoolChoice | None = None,
    background: Background | None = None,
) -> RunJob:
    """The main job's numbers, nothing written: backtest every bucket of ``universes`` (as
    :func:`run_universe` selects them) and test its claims, under a new run id. With a pool
    (``pool``, or a ``default`` in the universe's ``pools.yaml``) each claim also gets its
    random and matched baskets (:func:`attach_special`).

    ``background``: a second process started early with
    :data:`backtest.background.RUN_IMPORTS`. The simulation runs
    there while this process computes the claims' weekly history, then the claims' tests are
    shared between the two (:func:`backtest.evidence.claims.check_claims`); for runs of at most
    :data:`BACKGROUND_MAX_TICKERS` price columns (with more, everything runs here and the
    process is stopped). The numbers are the same either way."""
    claim_options = claim_options or ClaimOptions()
    universe = run_universe(universes, options)
    prepared = _prepared_run(universe, options, prices, store, fetch_missing, yahoo)
    require_claim_prices(prepared, universe.claims)
    notes: list[str] = []
    output, claims = _simulated_and_tested(
        prepared, universe.claims, claim_options, background, notes
    )
    attach_special(universes, prepared, claims, claim_options, pool or PoolChoice(), store)
    run_id = new_run_id()
    output.result = output.result.model_copy(
        update={"run": output.result.run.model_copy(update={"run_id": run_id})}
    )
    claims.result = claims.result.model_copy(update={"run_id": run_id})
    return RunJob(output, claims, prepared, claim_options, notes)


def _simulated_and_tested(
    prepared: PreparedRun,
    claims: Sequence[Claim],
    claim_options: ClaimOptions,
    background: Background | None,
    notes: list[str],
) -> tuple[RunOutput, ClaimsOutput]:
    """The run's simulation and its ``claims`` tested, sharing the work with ``background``
    when given and the run has at most :data:`BACKGROUND_MAX_TICKERS` price columns (see
    :func:`compute_run`); the process is closed when done, and a note added to ``notes`` when a
    part of the work came back to this process."""
    if background is not None and len(prepared.prices.columns) > BACKGROUND_MAX_TICKERS:
        background.close()
        background = None
    if background is None:
        output = simulate_run(prepared, version=__version__)
        return output, check_claims(prepared, output.returns, claim_options, claims=claims)
    simulated = background.submit(simulate_run, prepared, version=__version__)
    tickers = prepared.ticker_returns(run_tickers(prepared.universe))
    keys = rank_null_keys_ahead(prepared, tickers, claims, claim_options)
    nulls = background.submit(rank_nulls, keys)  # the second process, once it has simulated
    history = history_before_simulation(prepared, tickers, claim_options, claims=claims)
    output = simulated.result()
    tested = check_claims(
        prepared,
        output.returns,
        claim_options,
        claims=claims,
        history=history,
        background=background,
        rank_nulls=nulls.result(),
    )
    background.close()  # nothing more to share: its memory is freed before the files
    if background.why_local is not None:
        why = _last_line(background.why_local)
        notes.append(f"a part of the run ran in this process, not in the second one ({why})")
    return output, tested


def _last_line(text: str | None) -> str:
    """The last non-blank line of ``text`` (a traceback's: the exception)."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no reason given"


def run_files(job: RunJob, *, daily_contributions: bool = False) -> dict[str, str | bytes]:
    """The run's files (name → content) as :func:`save_run` writes them, ``manifest.json``
    aside; with ``daily_contributions`` also the daily table
    (:func:`reports.exports.daily_contributions_file`: CSV, or parquet when large)."""
    output, claims = job.output, job.claims
    files: dict[str, str | bytes] = {
        RESULTS_JSON: results_json(output.result),
        CLAIMS_JSON: claims_json(claims.result),
        RETURNS_CSV: returns_csv(claims.returns),
        VARIANTS_CSV: returns_csv(claims.variants),
        WEIGHTS_CSV: weights_csv(output.weights),
        CONTRIBUTIONS_CSV: contributions_csv(output.contributions),
        REPORT_HTML: render_report(output.result, claims.returns, claims.result, None),
        SUMMARY_MD: summary_markdown(output.result, claims.result, None),
    }
    if claims.baskets is not None:
        files[BASKETS_CSV] = baskets_csv(claims.baskets)
    if daily_contributions:
        name, content = daily_contributions_file(
            daily_contributions_table(output.daily_contributions)
        )
        files[name] = content
    return files


def save_run(
    job: RunJob,
    out: Path,
    *,
    store: PriceStore | None = None,
    ledger: Path | None = None,
    record: bool = True,
    daily_contributions: bool = False,
) -> list[Path]:
    """Write a computed run's files to ``out`` atomically (``manifest.json`` last: the run's id
    and every file's checksum) and, with ``record``, append each claim's state on the data's
    last day, and any resolution now due, to the ledger (``ledger``, else
    :func:`default_ledger_path` of ``store``). ``daily_contributions`` adds the daily
    contributions table. Notes for the user are added to ``job.notes``."""
    claims = job.claims
    if (out / SWEEP_JSON).exists():
        job.notes.append(
            f"{out / SWEEP_JSON} is from an earlier run and is not drawn in this run's report; "
            f"run `bucketmap sweep --out {out}` again to draw one"
        )
    files = run_files(job, daily_contributions=daily_contributions)
    for stale in (DAILY_CONTRIBUTIONS_CSV, DAILY_CONTRIBUTIONS_PARQUET):
        if stale not in files and (out / stale).exists():
            job.notes.append(
                f"{out / stale} is from an earlier run (not in this run's manifest); "
                "--daily-contributions writes this run's"
            )
    book = Ledger(ledger or default_ledger_path(store)) if record else None
    read = book.read() if book is not None else None
    written = write_run_files(out, files, job.output.result.run.run_id)
    if book is not None and read is not None and claims.history:
        last = claims.history[-1]
        records = ledger_records(job.prepared, claims.returns, last, "run", read, job.claim_options)
        book.append(records)
        job.notes.append(f"recorded {len(last)} claims in {book.path}")
    return written


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
    ledger: Path | None = None,
    record: bool = True,
    daily_contributions: bool = False,
    pool: PoolChoice | None = None,
) -> tuple[RunJob, list[Path]]:
    """The main job: :func:`compute_run`, then :func:`save_run` to ``out``.

    Everything is computed before anything is written; the files are then written atomically
    (``results.json``, ``claims.json``, ``returns.csv``, ``variants.csv``, ``weights.csv``,
    ``contributions.csv``, ``report.html``, ``summary.md``, with ``daily_contributions`` the
    daily table), ``manifest.json`` last: the run's id (also in ``results.json`` and
    ``claims.json``) and every file's checksum. A ``sweep.json`` already in ``out`` belongs to an
    earlier run: it is not drawn (a note says so).

    With ``record`` (the default), each claim's state on the data's last day, and any resolution
    now due, is then appended to the ledger (``ledger``, else :func:`default_ledger_path`).
    """
    job = compute_run(
        universes,
        options,
        claim_options=claim_options,
        prices=prices,
        store=store,
        fetch_missing=fetch_missing,
        yahoo=yahoo,
        pool=pool,
    )
    return job, save_run(
        job, out, store=store, ledger=ledger, record=record, daily_contributions=daily_contributions
    )


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
    executor: Executor | None = None,
) -> tuple[SweepJob, list[Path]]:
    """Simulate every variant of ``grid`` on the run's window and write ``sweep.csv`` (one row
    per variant) and ``sweep.json`` (settings and per-bucket summary) to ``out``. When ``out``
    holds a run (``results.json``), its ``report.html`` and ``summary.md`` are redrawn with the
    sweep's section, and all four files are written together (or none is).

    The sweep's size is counted first (:func:`backtest.sweep.sweep_size`) and given to
    ``on_size``; more than :data:`SWEEP_CONFIRM_VARIANTS` variants raise :class:`RunConfigError`
    with the estimated memory unless ``confirm``. The chunks run on ``executor`` (this process
    by default; local processes or a Dask cluster: :mod:`backtest.executor`), with the same
    table on any of them."""
    if not 1 <= chunk_columns <= MAX_CHUNK_COLUMNS:
        raise RunConfigError(
            f"--chunk-columns {chunk_columns}: from 1 to {MAX_CHUNK_COLUMNS:,} member columns"
        )
    universe = run_universe(universes, options)
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
    swept = run_sweep(
        prepared, grid, chunk_columns=chunk_columns, progress=progress, executor=executor
    )
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
    pool: PoolChoice | None = None,
    special: bool = False,
    background: Background | None = None,
    notes: list[str] | None = None,
) -> tuple[ClaimsOutput, list[Path]]:
    """Test the claims of ``universes`` (those named in ``only``, or all) and write
    ``claims.json`` with the series its numbers come from (``returns.csv``, ``variants.csv``).

    With ``pool`` (or ``special``: ``bucketmap claims special``, which also takes the pools
    file's default and refuses to run without a pool) each claim gets its random and matched
    baskets, written to ``baskets.csv`` (:func:`attach_special`). ``background`` shares the
    work as in :func:`compute_run`; a note on it goes to ``notes``."""
    universe = run_universe(universes, options)
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
    claim_options = claim_options or ClaimOptions()
    said = [] if notes is None else notes
    _, claims = _simulated_and_tested(prepared, chosen, claim_options, background, said)
    if pool is not None or special:
        attach_special(
            universes,
            prepared,
            claims,
            claim_options,
            pool or PoolChoice(),
            store,
            required=special,
        )
    run_id = new_run_id()
    claims.result = claims.result.model_copy(update={"run_id": run_id})
    files = {
        CLAIMS_JSON: claims_json(claims.result),
        RETURNS_CSV: returns_csv(claims.returns),
        VARIANTS_CSV: returns_csv(claims.variants),
    }
    if claims.baskets is not None:
        files[BASKETS_CSV] = baskets_csv(claims.baskets)
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


# --- the ledger, the history and the board ---------------------------------------------------


def default_ledger_path(store: PriceStore | None = None) -> Path:
    """``$BUCKETMAP_LEDGER``, else ``ledger.jsonl`` beside the price store."""
    import os

    env = os.environ.get("BUCKETMAP_LEDGER")
    if env:
        return Path(env)
    root = store.root if store is not None else default_store_path()
    return root / LEDGER_FILE


def _member_counts(prepared: PreparedRun) -> tuple[int, int]:
    """Members the run uses, verified and proposed (a ticker counted once)."""
    status: dict[str, str] = {}
    for spec in prepared.specs:
        bucket = prepared.universe.buckets[spec.name]
        for member in bucket.members:
            if member.ticker in spec.tickers:
                status[member.ticker] = member.status.value
    verified = sum(s == "verified" for s in status.values())
    return verified, len(status) - verified


def _claim_series(prepared: PreparedRun, returns: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ticker returns the claims and their rules need (benchmarks, claims' and rules'
    tickers), beside ``returns`` when given."""
    universe = prepared.universe
    tickers = [*universe.benchmark_tickers(), *universe.claim_tickers()]
    have = [] if returns is None else list(returns.columns)
    extra = prepared.ticker_returns([t for t in dict.fromkeys(tickers) if t not in have])
    return extra if returns is None else pd.concat([returns, extra], axis=1)


def ledger_records(
    prepared: PreparedRun,
    series: pd.DataFrame,
    states: Sequence[ClaimState],
    source: Literal["run", "board"],
    read: LedgerRead,
    options: ClaimOptions,
) -> list[Evaluation | Resolution | Observation]:
    """What a run or board adds to the ledger: each claim's state on the data's last day, and
    the resolution of each claim whose resolve date the data have now reached."""
    verified, proposed = _member_counts(prepared)
    records: list[Evaluation | Resolution | Observation] = [
        evaluation_record(s, source, s.as_of, verified, proposed) for s in states
    ]
    if not states:
        return records
    claims = [s.claim for s in states]
    due = resolutions_due(claims, read, states[0].as_of)
    if due:
        days = [c.resolve_on for c in due if c.resolve_on is not None]
        at = states_at(prepared, series, claims, options, days)
        for claim in due:
            assert claim.resolve_on is not None
            state = next(s for s in at[claim.resolve_on] if s.claim.id == claim.id)
            records.append(resolution_record(state, claim.resolve_on))
    return records


@dataclass
class HistoryJob:
    """What ``claims history`` computed: every claim as of each week."""

    history: list[list[ClaimState]]
    table: pd.DataFrame


def history_table(history: Sequence[Sequence[ClaimState]]) -> pd.DataFrame:
    """``claims_history.csv``: one row per claim and evaluation day."""
    rows = []
    for day in history:
        for s in day:
            t = s.test
            rows.append(
                {
                    "as_of": s.as_of.isoformat(),
                    "claim": s.claim.id,
                    "days": t.days,
                    "excess_return": t.excess_return,
                    "low": t.low,
                    "high": t.high,
                    "p_above": t.p_above,
                    "p_adjusted": s.p_adjusted,
                    "verdict": s.verdict,
                    "interval_verdict": t.verdict,
                    "block_length": t.block_length,
                    "counter_signals_on": ";".join(s.counter_on),
                    "stop": "" if s.stop is None or s.stop.on is None else s.stop.on,
                    "restart": "" if s.restart is None or s.restart.on is None else s.restart.on,
                }
            )
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


HISTORY_COLUMNS = [
    "as_of", "claim", "days", "excess_return", "low", "high", "p_above", "p_adjusted",
    "verdict", "interval_verdict", "block_length", "counter_signals_on", "stop", "restart",
]  # fmt: skip


def claims_history_job(
    universes: Path,
    out: Path,
    options: RunOptions,
    claim_options: ClaimOptions | None = None,
    *,
    prices: Path | None = None,
    store: PriceStore | None = None,
    fetch_missing: bool = True,
    yahoo: YahooSource | None = None,
) -> tuple[HistoryJob, list[Path]]:
    """Every claim as of the end of each week since the first claim's start, from the prices up
    to that day only; writes ``claims_history.csv`` to ``out``."""
    claim_options = claim_options or ClaimOptions()
    universe = run_universe(universes, options)
    prepared = _prepared_run(universe, options, prices, store, fetch_missing, yahoo)
    require_claim_prices(prepared, universe.claims)
    series = _claim_series(prepared)
    history = claims_history(prepared, series, universe.claims, claim_options)
    table = history_table(history)
    text = table.to_csv(index=False, lineterminator="\n")
    return HistoryJob(history, table), write_files_atomically(out, {HISTORY_CSV: text})


@dataclass
class BoardJob:
    """What ``board`` computed and recorded."""

    result: BoardResult
    records: int
    """Records appended to the ledger (0 for a board of an earlier day)."""


def board(
    universes: Path,
    out: Path,
    options: RunOptions,
    claim_options: ClaimOptions | None = None,
    *,
    as_of: dt.date | None = None,
    ledger: Path | None = None,
    prices: Path | None = None,
    store: PriceStore | None = None,
    fetch_missing: bool = True,
    yahoo: YahooSource | None = None,
) -> tuple[BoardJob, list[Path]]:
    """The weekly signal board: every claim as of the data's last day (or ``as_of``), against
    the last board; writes ``board.json`` and ``board.html`` to ``out``, then (for the data's
    last day) appends each claim's record, and any resolution now due, to the ledger."""
    claim_options = claim_options or ClaimOptions()
    universe = run_universe(universes, options)
    store = store or PriceStore(default_store_path())
    prepared = _prepared_run(universe, options, prices, store, fetch_missing, yahoo)
    require_claim_prices(prepared, universe.claims)
    calendar = prepared.calendar[1:]
    days = calendar if as_of is None else calendar[calendar <= pd.Timestamp(as_of)]
    if len(days) == 0:
        raise RunConfigError(
            f"--as-of {as_of}: the run's first return day is {calendar[0].date()}; choose a "
            "later date or an earlier --start"
        )
    now = days[-1].date()
    week = days[days.to_period("W-FRI") < pd.Timestamp(now).to_period("W-FRI")]
    before = week[-1].date() if len(week) else None
    book = Ledger(ledger or default_ledger_path(store))
    read = book.read()
    series = _claim_series(prepared)
    claims = universe.claims
    at = states_at(prepared, series, claims, claim_options, [d for d in (before, now) if d])
    states = at[now]
    flags = changed_definitions(read, [(c.id, c.definition_hash()) for c in claims])
    recording = now == calendar[-1].date()
    records = ledger_records(prepared, series, states, "board", read, claim_options)
    resolutions = [r for r in records if isinstance(r, Resolution)]
    seen = LedgerRead(records=[*read.records, *resolutions], problems=read.problems)
    upto = as_of or dt.date.max
    entries = [
        board_entry(s, next((b for b in at[before] if b.claim.id == s.claim.id), None)
                    if before else None, seen, upto, flags)
        for s in states
    ]  # fmt: skip
    verified, proposed = _member_counts(prepared)
    result = BoardResult(
        bucketmap_version=__version__,
        created_at=now_utc(),
        as_of=now,
        data_last_date=calendar[-1].date(),
        price_source=prepared.price_source,
        correction=claim_options.correction.value,
        confidence=claim_options.confidence,
        ledger=str(book.path),
        ledger_problems=[*read.problems, *flags],
        recorded=recording,
        verified=verified,
        proposed=proposed,
        entries=entries,
    )
    files = {
        BOARD_JSON: result.model_dump_json(indent=2) + "\n",
        BOARD_HTML: render_board(result),
    }
    written = write_files_atomically(out, files)
    if recording:
        book.append(records)
    return BoardJob(result, len(records) if recording else 0), written


def observe(
    universes: Path,
    claim: str,
    text: str,
    *,
    signal: str,
    source: str,
    value: float | None = None,
    on: dt.date | None = None,
    ledger: Path | None = None,
) -> Observation:
    """Record one dated manual observation of a non-price signal of ``claim`` in the ledger."""
    from pydantic import ValidationError

    universe = load_universe(universes)
    known = [c.id for c in universe.claims]
    if claim not in known:
        raise RunConfigError(
            f"{universes / CLAIMS_FILE}: no claim {claim} (claims: {', '.join(known) or 'none'})"
        )
    try:
        record = Observation(
            recorded_at=now_utc(),
            claim=claim,
            signal=signal,
            observed_on=on or dt.date.today(),
            value=value,
            text=" ".join(text.split()),
            source=source,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field_name = ".".join(str(k) for k in first["loc"])
        raise RunConfigError(f"claims observe: {field_name}: {first['msg']}") from None
    Ledger(ledger or default_ledger_path()).append([record])
    return record
