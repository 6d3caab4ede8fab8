"""The ``bucketmap`` command line: parse options, call one library function, print the result.

This is the only place that knows about exit codes: a :class:`BucketmapError` becomes one line on
stderr and exit code 2 (``--debug`` shows the traceback instead). Heavy libraries (pandas,
vectorbt, plotly) are imported inside the commands, so ``bucketmap --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.core

from backtest.conventions import (
    DEFAULT_BASKETS,
    MAX_BASKETS,
    MAX_BLOCK_LENGTH,
    MAX_CHUNK_COLUMNS,
    MAX_RESAMPLES,
    MAX_SEED,
    MAX_SHIFT,
    MAX_WORKERS,
    MIN_RESAMPLES,
    SWEEP_CONFIRM_VARIANTS,
    Correction,
    Rebalance,
    Weighting,
)
from buckets.errors import BucketmapError, StoreError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from backtest.background import Background
    from backtest.evidence.excess import ClaimOptions
    from backtest.prices.store import PriceStore
    from backtest.results import ClaimsResult, SweepResult
    from backtest.run import RunOutput
    from backtest.simulation.prepare import RunOptions
    from backtest.sweep import SweepSize
    from buckets.edit import EditResult


class _OneLineErrors(typer.core.TyperGroup):
    """The command group whose usage errors (an unknown option, a value click refuses, a missing
    argument) are one line, ``error: <message>``, and exit code 2, like every other error: click
    would draw a usage box instead."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        from typer.exceptions import TyperException

        def call() -> Any:
            return super(_OneLineErrors, self).main(
                args, prog_name, complete_var, False, windows_expand_args, **extra
            )

        if not standalone_mode:
            return call()
        try:
            code = call()
        except TyperException as exc:  # click's own errors (UsageError, BadParameter, ...)
            if type(exc).__name__ == "NoArgsIsHelpError":  # no arguments: the help, as usual
                _echo(exc.format_message(), err=True)
                sys.exit(exc.exit_code)
            ctx = getattr(exc, "ctx", None)
            see = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            message = _one_line(exc.format_message()).replace("Value error, ", "")
            _echo(f"error: {message}{see}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            _echo("aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


GC_YOUNG_ALLOCATIONS = 10_000
"""Net allocations between two runs of the collector's youngest generation in a command (see
:func:`main`); Python's default is 700."""

app = typer.Typer(
    help="Test an investment thesis: backtest buckets of tickers against benchmarks.",
    cls=_OneLineErrors,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
prices_app = typer.Typer(help="Fill and inspect the local price store.", no_args_is_help=True)
universes_app = typer.Typer(
    help="Inspect, check and edit the universe files.", no_args_is_help=True
)
claims_app = typer.Typer(help="Test the claims of claims.yaml.", no_args_is_help=True)
app.add_typer(prices_app, name="prices")
app.add_typer(claims_app, name="claims")
app.add_typer(universes_app, name="universes")

_state = {"debug": False}

UniversesOpt = Annotated[
    Path, typer.Option("--universes", help="Folder of universe files.", file_okay=False)
]
StoreOpt = Annotated[
    Path,
    typer.Option("--store", envvar="BUCKETMAP_STORE", help="Price store folder.", file_okay=False),
]
DateFormats = ["%Y-%m-%d"]


def _print_version(value: bool) -> None:
    if value:
        from bucketmap import __version__

        _echo(f"bucketmap {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    _state["debug"] = debug


def _visible(text: str) -> str:
    """Text as the terminal must show it: control characters (escape sequences, bell, bidi
    overrides, ...) written as escapes (``\\x1b``), so no file can move the cursor, retitle
    the window or hide text; tabs and carriage returns as spaces, line breaks kept."""
    return "".join(
        ch
        if ch.isprintable() or ch == "\n"
        else " "
        if ch in "\t\r"
        else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def _one_line(text: str) -> str:
    return " ".join(_visible(" ".join(text.split())).split())


def _echo(message: object, *, err: bool = False) -> None:
    """Print a line of output; user text in it is shown by :func:`_visible`."""
    typer.echo(_visible(str(message)), err=err)


def _table(*, title: object = None, caption: object = None) -> Table:
    """A rich table whose title, caption and string cells are text, never markup (a rationale
    with ``[/i]`` is shown as typed, not parsed), with control characters shown as escapes."""
    from rich.table import Table
    from rich.text import Text

    def text(value: object) -> Text | None:
        return None if value is None else Text(_visible(str(value)).replace("\n", " "))

    class TextTable(Table):
        def add_row(self, *renderables: Any, **kwargs: Any) -> None:
            cells = [text(c) if isinstance(c, str) else c for c in renderables]
            super().add_row(*cells, **kwargs)

    return TextTable(title=text(title), caption=text(caption))


@contextmanager
def _errors_to_exit() -> Iterator[None]:
    """BucketmapError → ``error: <message>`` on stderr and exit 2 (traceback with --debug)."""
    try:
        yield
    except BucketmapError as exc:
        if _state["debug"]:
            raise
        _echo(f"error: {_one_line(str(exc))}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        _echo("interrupted", err=True)
        raise typer.Exit(130) from None


def _store(path: Path) -> PriceStore:
    from backtest.prices.store import PriceStore

    return PriceStore(path)


def _date(value: dt.datetime | None) -> dt.date | None:
    return None if value is None else value.date()


PricesOpt = Annotated[
    Path | None,
    typer.Option(
        "--prices",
        help="Read prices from this folder of CSVs, CSV or parquet instead of the store "
        "('sample': the sample of real prices shipped with bucketmap).",
    ),
]
StartOpt = Annotated[
    dt.datetime,
    typer.Option(
        "--start", formats=DateFormats, help="First day of the window.", show_default="2023-01-01"
    ),
]
EndOpt = Annotated[
    dt.datetime | None,
    typer.Option("--end", formats=DateFormats, help="Last day (default: last common date)."),
]
RebalanceOpt = Annotated[Rebalance, typer.Option("--rebalance", help="When weights are reset.")]
WeightingOpt = Annotated[
    Weighting, typer.Option("--weighting", help="Target weights at each rebalance.")
]
CostOpt = Annotated[
    float,
    typer.Option(
        "--cost-bps",
        min=0,
        help="Cost per trade, basis points of traded value: 0 up to (not including) 10,000.",
    ),
]
VerifiedOnlyOpt = Annotated[
    bool, typer.Option("--verified-only", help="Use verified members only.")
]
MaxMissingOpt = Annotated[
    float,
    typer.Option(
        "--max-missing",
        min=0,
        max=1,
        help="Share of a bucket's members that may lack prices (default: none may).",
    ),
]
FetchOpt = Annotated[
    bool, typer.Option("--fetch/--no-fetch", help="Fetch tickers the store lacks.")
]
BlockLengthOpt = Annotated[
    int | None,
    typer.Option(
        "--block-length",
        min=1,
        max=MAX_BLOCK_LENGTH,
        help="Bootstrap block length, trading days (default: Politis-White per claim).",
    ),
]
ResamplesOpt = Annotated[
    int,
    typer.Option(
        "--resamples", min=MIN_RESAMPLES, max=MAX_RESAMPLES, help="Bootstrap resamples per test."
    ),
]
SeedOpt = Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED, help="Seed of the bootstrap.")]
WideOpt = Annotated[
    bool,
    typer.Option("--wide", help="Also print every control of every claim and each window's table."),
]
CorrectionOpt = Annotated[
    Correction,
    typer.Option(
        "--correction",
        help="Adjust p-values across the claims: holm, bh (Benjamini-Hochberg), none.",
    ),
]

PoolOpt = Annotated[
    str | None,
    typer.Option(
        "--pool",
        help="Draw random and matched baskets per claim from this pool: a pool of pools.yaml, "
        "or a price file or folder (default: pools.yaml's default pool, if any).",
    ),
]
BasketsOpt = Annotated[
    int,
    typer.Option(
        "--baskets", min=1, max=MAX_BASKETS, help="Random (and matched) baskets per claim."
    ),
]
WorkersOpt = Annotated[
    int,
    typer.Option(
        "--workers",
        min=1,
        max=MAX_WORKERS,
        help="Local processes that draw and simulate the baskets (1: this process).",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Run the basket chunks on the Dask cluster at tcp://HOST:PORT "
        "(pip install 'bucketmap\\[dask]').",
    ),
]

LedgerOpt = Annotated[
    Path | None,
    typer.Option(
        "--ledger",
        envvar="BUCKETMAP_LEDGER",
        help="The append-only ledger (default: ledger.jsonl in the store folder).",
        dir_okay=False,
    ),
]
RecordOpt = Annotated[
    bool,
    typer.Option("--record/--no-record", help="Append each claim's state to the ledger."),
]


def _run_options(
    start: dt.datetime,
    end: dt.datetime | None,
    rebalance: Rebalance,
    weighting: Weighting,
    cost_bps: float,
    verified_only: bool,
    max_missing: float,
) -> RunOptions:
    from backtest.simulation.prepare import RunOptions

    return RunOptions(
        start=start.date(),
        end=_date(end),
        rebalance=rebalance,
        weighting=weighting,
        cost_bps=cost_bps,
        verified_only=verified_only,
        max_missing=max_missing,
    )


def _claim_options(
    block_length: int | None, resamples: int, seed: int, correction: Correction
) -> ClaimOptions:
    from backtest.evidence.excess import ClaimOptions

    return ClaimOptions(
        block_length=block_length, resamples=resamples, seed=seed, correction=correction
    )


@app.command()
def run(
    universes: UniversesOpt = Path("universes"),
    prices: PricesOpt = None,
    store: StoreOpt = Path(".bucketmap"),
    out: Annotated[Path, typer.Option("--out", help="Folder for the run's files.")] = Path(
        "out/run"
    ),
    start: StartOpt = dt.datetime(2023, 1, 1),
    end: EndOpt = None,
    rebalance: RebalanceOpt = Rebalance.monthly,
    weighting: WeightingOpt = Weighting.equal,
    cost_bps: CostOpt = 0.0,
    verified_only: VerifiedOnlyOpt = False,
    max_missing: MaxMissingOpt = 0.0,
    fetch: FetchOpt = True,
    claim_date: Annotated[
        dt.datetime | None,
        typer.Option(
            "--claim-date",
            formats=DateFormats,
            help="Split pre/post here (default: the earliest claim start).",
        ),
    ] = None,
    window: Annotated[
        list[str] | None,
        typer.Option("--window", help="Extra analysis window NAME=START:END (repeatable)."),
    ] = None,
    bucket: Annotated[
        list[str] | None,
        typer.Option(
            "--bucket",
            help="Run only this bucket (repeatable); benchmark buckets and what its claims "
            "need come along.",
        ),
    ] = None,
    block_length: BlockLengthOpt = None,
    resamples: ResamplesOpt = 10_000,
    seed: SeedOpt = 0,
    correction: CorrectionOpt = Correction.holm,
    wide: WideOpt = False,
    ledger: LedgerOpt = None,
    record: RecordOpt = True,
    daily_contributions: Annotated[
        bool,
        typer.Option(
            "--daily-contributions",
            help="Also write each member's part of every daily return "
            "(contributions_daily.csv, or .parquet above a million rows).",
        ),
    ] = False,
    pool: PoolOpt = None,
    baskets: BasketsOpt = DEFAULT_BASKETS,
    workers: WorkersOpt = 1,
    scheduler: SchedulerOpt = None,
) -> None:
    """Backtest every bucket against the benchmarks, test the claims, write results and report;
    record each claim's state in the ledger."""
    background = _second_process()
    with _errors_to_exit(), background or nullcontext():
        from bucketmap.notebook import run as run_job
        from reports.exports import check_output_folder

        check_output_folder(out)  # a file in the way: say so before the work, not after

        results = run_job(
            universes,
            prices=prices,
            store=store,
            start=start.date(),
            end=_date(end),
            rebalance=rebalance,
            weighting=weighting,
            cost_bps=cost_bps,
            verified_only=verified_only,
            max_missing=max_missing,
            fetch=fetch,
            claim_date=_date(claim_date),
            windows=dict(_parse_window(w) for w in window or []),
            buckets=bucket or [],
            block_length=block_length,
            resamples=resamples,
            seed=seed,
            correction=correction,
            ledger=ledger,
            pool=pool,
            baskets=baskets,
            workers=workers,
            scheduler=scheduler,
            background=background,
        )
        written = results.save(out, record=record, daily_contributions=daily_contributions)
        job = results.job
        for warning in job.output.result.run.warnings:
            _echo(f"warning: {warning}", err=True)
        for note in job.notes:
            _echo(f"note: {note}", err=True)
        _print_run_header(job.output)
        _print_claims(job.claims.result, wide=wide, written=written)
        _print_special(job.claims.result)
        _print_windows(job.output, wide=wide)
        for path in written:
            _echo(f"wrote {path}")


@claims_app.command("check")
def claims_check(
    universes: UniversesOpt = Path("universes"),
    prices: PricesOpt = None,
    store: StoreOpt = Path(".bucketmap"),
    out: Annotated[
        Path, typer.Option("--out", help="Folder for claims.json and its series.")
    ] = Path("out/claims"),
    claim: Annotated[
        list[str] | None, typer.Option("--claim", help="Test only this claim id (repeatable).")
    ] = None,
    start: StartOpt = dt.datetime(2023, 1, 1),
    end: EndOpt = None,
    rebalance: RebalanceOpt = Rebalance.monthly,
    weighting: WeightingOpt = Weighting.equal,
    cost_bps: CostOpt = 0.0,
    verified_only: VerifiedOnlyOpt = False,
    max_missing: MaxMissingOpt = 0.0,
    fetch: FetchOpt = True,
    block_length: BlockLengthOpt = None,
    resamples: ResamplesOpt = 10_000,
    seed: SeedOpt = 0,
    correction: CorrectionOpt = Correction.holm,
    wide: WideOpt = False,
) -> None:
    """Test the claims of claims.yaml with their controls and write claims.json."""
    background = _second_process()
    notes: list[str] = []
    with _errors_to_exit(), background or nullcontext():
        from bucketmap.api import check_claims_job
        from reports.exports import check_output_folder

        check_output_folder(out)

        options = _run_options(
            start, end, rebalance, weighting, cost_bps, verified_only, max_missing
        )
        claims, written = check_claims_job(
            universes,
            out,
            options,
            _claim_options(block_length, resamples, seed, correction),
            only=claim or [],
            prices=prices,
            store=_store(store),
            fetch_missing=fetch,
            background=background,
            notes=notes,
        )
        for note in notes:
            _echo(f"note: {note}", err=True)
        _print_claims(claims.result, wide=wide, written=written)
        for path in written:
            _echo(f"wrote {path}")


@claims_app.command("special")
def claims_special(
    universes: UniversesOpt = Path("universes"),
    prices: PricesOpt = None,
    store: StoreOpt = Path(".bucketmap"),
    out: Annotated[
        Path, typer.Option("--out", help="Folder for claims.json, baskets.csv and their series.")
    ] = Path("out/claims"),
    pool: PoolOpt = None,
    baskets: BasketsOpt = DEFAULT_BASKETS,
    workers: WorkersOpt = 1,
    scheduler: SchedulerOpt = None,
    claim: Annotated[
        list[str] | None, typer.Option("--claim", help="Test only this claim id (repeatable).")
    ] = None,
    start: StartOpt = dt.datetime(2023, 1, 1),
    end: EndOpt = None,
    rebalance: RebalanceOpt = Rebalance.monthly,
    weighting: WeightingOpt = Weighting.equal,
    cost_bps: CostOpt = 0.0,
    verified_only: VerifiedOnlyOpt = False,
    max_missing: MaxMissingOpt = 0.0,
    fetch: FetchOpt = True,
    block_length: BlockLengthOpt = None,
    resamples: ResamplesOpt = 10_000,
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=MAX_SEED, help="Seed of the bootstrap and baskets.")
    ] = 0,
    correction: CorrectionOpt = Correction.holm,
    wide: WideOpt = False,
) -> None:
    """Was the basket special? Rank each claim's bucket among random and matched baskets of its
    size drawn from a pool; write claims.json (with each claim's special) and baskets.csv."""
    background = _second_process()
    notes: list[str] = []
    with _errors_to_exit(), background or nullcontext():
        from bucketmap.api import check_claims_job
        from bucketmap.notebook import pool_choice
        from reports.exports import check_output_folder

        check_output_folder(out)

        options = _run_options(
            start, end, rebalance, weighting, cost_bps, verified_only, max_missing
        )
        claims, written = check_claims_job(
            universes,
            out,
            options,
            _claim_options(block_length, resamples, seed, correction),
            only=claim or [],
            prices=prices,
            store=_store(store),
            fetch_missing=fetch,
            pool=pool_choice(pool, baskets, seed, workers, scheduler),
            special=True,
            background=background,
            notes=notes,
        )
        for note in notes:
            _echo(f"note: {note}", err=True)
        _print_claims(claims.result, wide=wide, written=written)
        _print_special(claims.result)
        for path in written:
            _echo(f"wrote {path}")


@claims_app.command("history")
def claims_history_command(
    universes: UniversesOpt = Path("universes"),
    prices: PricesOpt = None,
    store: StoreOpt = Path(".bucketmap"),
    out: Annotated[Path, typer.Option("--out", help="Folder for claims_history.csv.")] = Path(
        "out/claims"
    ),
    start: StartOpt = dt.datetime(2023, 1, 1),
    end: EndOpt = None,
    rebalance: RebalanceOpt = Rebalance.monthly,
    weighting: WeightingOpt = Weighting.equal,
    cost_bps: CostOpt = 0.0,
    verified_only: VerifiedOnlyOpt = False,
    max_missing: MaxMissingOpt = 0.0,
    fetch: FetchOpt = True,
    block_length: BlockLengthOpt = None,
    resamples: ResamplesOpt = 10_000,
    seed: SeedOpt = 0,
    correction: CorrectionOpt = Correction.holm,
) -> None:
    """Every claim as of each Friday since its start, from the prices up to that day only;
    writes claims_history.csv."""
    with _errors_to_exit():
        from bucketmap.api import claims_history_job

        options = _run_options(
            start, end, rebalance, weighting, cost_bps, verified_only, max_missing
        )
        job, written = claims_history_job(
            universes,
            out,
            options,
            _claim_options(block_length, resamples, seed, correction),
            prices=prices,
            store=_store(store),
            fetch_missing=fetch,
        )
        table = job.table
        days = table["as_of"].nunique() if len(table) else 0
        last = table["as_of"].iloc[-1] if len(table) else "none"
        _echo(f"{len(table)} rows: {table['claim'].nunique() if len(table) else 0} claims "
              f"as of {days} days, the last {last}")  # fmt: skip
        for path in written:
            _echo(f"wrote {path}")


@claims_app.command("observe")
def claims_observe(
    claim: Annotated[str, typer.Argument(help="The claim id.")],
    text: Annotated[str, typer.Argument(help="What was observed, in words.")],
    signal: Annotated[str, typer.Option("--signal", help="The signal's name.")],
    source: Annotated[str, typer.Option("--source", help="A URL or reference.")],
    value: Annotated[
        float | None, typer.Option("--value", help="The observed value, if it is a number.")
    ] = None,
    on: Annotated[
        dt.datetime | None,
        typer.Option("--on", formats=DateFormats, help="The day observed (default: today)."),
    ] = None,
    universes: UniversesOpt = Path("universes"),
    store: StoreOpt = Path(".bucketmap"),
    ledger: LedgerOpt = None,
) -> None:
    """Record one dated observation of a signal that is not a price (e.g. how often earnings
    calls name an interconnect bottleneck) in the ledger; the board shows the latest."""
    with _errors_to_exit():
        from bucketmap.api import default_ledger_path, observe

        path = ledger or default_ledger_path(_store(store))
        record = observe(
            universes, claim, text, signal=signal, source=source, value=value, on=_date(on),
            ledger=path,
        )  # fmt: skip
        _echo(f"recorded {record.signal} for {record.claim} on {record.observed_on} in {path}")


@app.command("board")
def board_command(
    universes: UniversesOpt = Path("universes"),
    prices: PricesOpt = None,
    store: StoreOpt = Path(".bucketmap"),
    out: Annotated[
        Path, typer.Option("--out", help="Folder for board.json and board.html.")
    ] = Path("out/board"),
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of", formats=DateFormats, help="Show the board as it was that day (no record)."
        ),
    ] = None,
    ledger: LedgerOpt = None,
    start: StartOpt = dt.datetime(2023, 1, 1),
    rebalance: RebalanceOpt = Rebalance.monthly,
    weighting: WeightingOpt = Weighting.equal,
    cost_bps: CostOpt = 0.0,
    verified_only: VerifiedOnlyOpt = False,
    max_missing: MaxMissingOpt = 0.0,
    fetch: FetchOpt = True,
    block_length: BlockLengthOpt = None,
    resamples: ResamplesOpt = 10_000,
    seed: SeedOpt = 0,
    correction: CorrectionOpt = Correction.holm,
    wide: Annotated[
        bool, typer.Option("--wide", help="Print every signal with its measured parts.")
    ] = False,
) -> None:
    """The weekly signal board: each claim now, what changed since the last board, its
    counter-signals, stop and restart, days to its resolve date and the next thing to look at.
    Appends each claim's state to the ledger (not for an earlier --as-of)."""
    with _errors_to_exit():
        from bucketmap.api import board
        from reports.board import board_lines

        options = _run_options(
            start, None, rebalance, weighting, cost_bps, verified_only, max_missing
        )
        job, written = board(
            universes,
            out,
            options,
            _claim_options(block_length, resamples, seed, correction),
            as_of=_date(as_of),
            ledger=ledger,
            prices=prices,
            store=_store(store),
            fetch_missing=fetch,
        )
        for line in board_lines(job.result, wide=wide):
            _echo(line)
        for path in written:
            _echo(f"wrote {path}")
        if job.records:
            _echo(f"appended {job.records} records to {job.result.ledger}")


@app.command("sweep")
def sweep_command(
    universes: UniversesOpt = Path("universes"),
    prices: PricesOpt = None,
    store: StoreOpt = Path(".bucketmap"),
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder for sweep.csv and sweep.json (a run's: its report too)."
        ),
    ] = Path("out/run"),
    grid: Annotated[
        Path | None,
        typer.Option("--grid", dir_okay=False, help="YAML grid file; the flags below override it."),
    ] = None,
    bucket: Annotated[
        list[str] | None,
        typer.Option("--bucket", help="Bucket to vary (repeatable; default: every bucket)."),
    ] = None,
    vary_weighting: Annotated[
        list[str] | None,
        typer.Option("--weighting", help="equal / inverse_vol (repeatable)."),
    ] = None,
    vary_rebalance: Annotated[
        list[str] | None,
        typer.Option(
            "--rebalance", help="daily / weekly / monthly / quarterly / none (repeatable)."
        ),
    ] = None,
    shifts: Annotated[
        str | None,
        typer.Option(
            "--shifts",
            help=f"Start shifts in trading days: 0,5,10,20 or 0-20 (each 0 to {MAX_SHIFT:,}).",
        ),
    ] = None,
    leave_one_out: Annotated[
        bool | None,
        typer.Option("--leave-one-out/--no-leave-one-out", help="Also drop each member in turn."),
    ] = None,
    benchmark: Annotated[
        str | None, typer.Option("--benchmark", help="Ticker or bucket for the excess return.")
    ] = None,
    start: StartOpt = dt.datetime(2023, 1, 1),
    end: EndOpt = None,
    cost_bps: CostOpt = 0.0,
    verified_only: VerifiedOnlyOpt = False,
    max_missing: MaxMissingOpt = 0.0,
    fetch: FetchOpt = True,
    chunk_columns: Annotated[
        int,
        typer.Option(
            "--chunk-columns",
            min=1,
            max=MAX_CHUNK_COLUMNS,
            help="Member columns per simulation (memory).",
        ),
    ] = 5_000,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            help=f"Run a sweep of more than {SWEEP_CONFIRM_VARIANTS:,} variants (its estimated "
            "memory is printed first).",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=MAX_WORKERS,
            help="Local processes that simulate the chunks (1: this process).",
        ),
    ] = 1,
    scheduler: SchedulerOpt = None,
) -> None:
    """Simulate every bucket under a grid of choices at once; write one row per variant."""
    with _errors_to_exit():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        from backtest.executor import Executor
        from bucketmap.api import sweep

        executor = Executor(workers=workers, scheduler=scheduler)
        from buckets.files import sweep_grid

        overrides: dict[str, object] = {}
        if bucket:
            overrides["buckets"] = bucket
        if vary_weighting:
            overrides["weightings"] = vary_weighting
        if vary_rebalance:
            overrides["rebalances"] = vary_rebalance
        if shifts is not None:
            overrides["shifts"] = _parse_shifts(shifts)
        if leave_one_out is not None:
            overrides["leave_one_out"] = leave_one_out
        if benchmark is not None:
            overrides["benchmark"] = benchmark
        chosen = sweep_grid(grid, overrides)
        options = _run_options(
            start, end, Rebalance.monthly, Weighting.equal, cost_bps, verified_only, max_missing
        )
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=_console(),
            transient=True,
        ) as bar:
            task = bar.add_task("variants", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            def announce(size: SweepSize) -> None:
                if size.variants > SWEEP_CONFIRM_VARIANTS:
                    _echo(
                        f"sweep: {size.variants:,} variants ({size.member_columns:,} member "
                        f"columns), estimated peak memory {size.estimated_bytes / 2**30:.1f} GB",
                        err=True,
                    )

            job, written = sweep(
                universes,
                out,
                options,
                chosen,
                prices=prices,
                store=_store(store),
                fetch_missing=fetch,
                chunk_columns=chunk_columns,
                progress=advance,
                confirm=yes,
                on_size=announce,
                executor=executor,
            )
        _print_sweep(job.result)
        for path in written:
            _echo(f"wrote {path}")


def _parse_shifts(text: str) -> list[int]:
    """``0,5,10`` or ``0-20`` (inclusive) or a mix, as a list of trading-day shifts; each bound is
    checked against :data:`MAX_SHIFT` before any list is built."""
    from buckets.errors import RunConfigError

    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        low, sep, high = part.partition("-")
        try:
            bounds = [int(low), int(high)] if sep else [int(part)]
        except ValueError:
            raise RunConfigError(
                f"--shifts {text!r}: {part!r} is not a number or a range like 0-20"
            ) from None
        if any(b > MAX_SHIFT for b in bounds):
            raise RunConfigError(
                f"--shifts {text!r}: {max(bounds)} is more than {MAX_SHIFT:,} trading days"
            )
        out.extend(range(bounds[0], bounds[1] + 1) if sep else bounds)
    return out


def _print_sweep(result: SweepResult) -> None:

    table = _table(title=f"excess return vs {result.benchmark} across {result.variants:,} variants")
    for header in ["bucket", "variants", "excess > 0", "10%", "median", "90%"]:
        table.add_column(header, justify="left" if header == "bucket" else "right")
    for s in result.summary:
        table.add_row(
            s.bucket,
            str(s.variants),
            f"{s.positive:.0%}" if s.positive is not None else "n/a",
            *(f"{v:+.1%}" if v is not None else "n/a" for v in (s.p10, s.p50, s.p90)),
        )
    _console().print(table)


@app.command("report")
def report_command(
    results_dir: Annotated[
        Path, typer.Argument(help="A run's --out folder (results.json, returns.csv, claims.json).")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of RESULTS_DIR.")
    ] = None,
) -> None:
    """Rebuild report.html and summary.md from a run's files, without running it again."""
    with _errors_to_exit():
        from bucketmap.api import report

        written, notes = report(results_dir, out)
        for note in notes:
            _echo(f"note: {note}", err=True)
        for path in written:
            _echo(f"wrote {path}")


DETAIL_FILES = ("claims.json", "summary.md", "report.html")
"""The files the claims' table points to for details, those of them a command wrote."""


def _print_claims(
    result: ClaimsResult, *, wide: bool = False, written: Sequence[Path] = ()
) -> None:
    """The answer: the thesis line and a headline per claim, then the compact verdict table
    (claim, pair, excess and interval, verdict, survives), which fits 100 columns, its caption
    naming the files of ``written`` that hold the details; ``wide`` adds every control of every
    claim, a block of ``control  value`` lines per claim (the columns of summary.md's claims
    table, which no terminal is wide enough to show side by side)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from reports.summary import (
        claim_columns,
        claim_rows,
        claims_caption,
        compact_columns,
        compact_rows,
    )
    from reports.words import claim_headline, thesis_line

    if not result.claims:
        return
    console = _console()
    console.print(Text(_visible(thesis_line(result)), style="bold"))
    for c in result.claims:
        line = Text(f"• {c.id}: ", style="bold")
        line.append(_visible(claim_headline(c, result.settings.confidence)))
        console.print(line)
    rows = list(compact_rows(result))
    names = {path.name for path in written}
    details = [name for name in DETAIL_FILES if name in names]
    table = _table(caption=f"details: {', '.join(details)}" if details else None)
    table.box = box.SIMPLE_HEAD
    for i, name in enumerate(compact_columns(result)):
        whole = i != 1  # only the pair may wrap: the others are short, and cut they mislead
        table.add_column(
            name,
            justify="right" if i == 2 else "left",
            no_wrap=whole,
            min_width=max((len(r[i]) for r in rows), default=0) if whole else None,
            overflow="fold",
        )
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if not wide:
        return
    console.print(
        Text(
            _visible(
                f"Every control of every claim (data to {result.data_last_date}; "
                f"{result.weighting} weight, rebalance {result.rebalance})"
            ),
            style="bold",
        )
    )
    labels = claim_columns(result)[1:]
    pairs = {c.id: f"{c.bucket} vs {c.benchmark}" for c in result.claims}
    for row in claim_rows(result):
        console.print(Text(_visible(f"{row[0]}: {pairs[row[0]]}"), style="bold"))
        card = Table.grid(padding=(0, 2), pad_edge=True)
        card.add_column(no_wrap=True, min_width=max(len(label) for label in labels) + 2)
        card.add_column(overflow="fold")
        for label, value in zip(labels, row[1:], strict=True):
            card.add_row(Text(f"  {label}"), Text(_visible(value or "—")))
        console.print(card)
    console.print(Text(_visible(claims_caption(result)), style="dim"))


def _print_special(result: ClaimsResult) -> None:
    """Where each claim's bucket ranks among random and matched baskets (when a pool was
    given): a line per claim in words, then the pool's survivorship."""
    from rich.text import Text

    from reports.words import special_line

    with_special = [c for c in result.claims if c.special is not None]
    if not with_special:
        return
    console = _console()
    console.print(Text("Was the basket special?", style="bold"))
    for c in with_special:
        line = Text(f"• {c.id}: ", style="bold")
        line.append(_visible(special_line(c)))
        console.print(line)
    first = with_special[0].special
    assert first is not None
    console.print(
        Text(_visible(f"Pool {first.pool}: {first.survivorship}. Every basket: baskets.csv."))
    )


def _parse_window(text: str) -> tuple[str, tuple[dt.date, dt.date]]:
    """``NAME=START:END`` → (name, (start, end)); RunConfigError naming the option otherwise."""
    from buckets.errors import RunConfigError

    name, _, span = text.partition("=")
    first, _, last = span.partition(":")
    try:
        start, end = dt.date.fromisoformat(first.strip()), dt.date.fromisoformat(last.strip())
    except ValueError:
        raise RunConfigError(f"--window {text!r}: expected NAME=YYYY-MM-DD:YYYY-MM-DD") from None
    # the name and the order of the dates are checked by RunOptions, for every caller
    return name.strip(), (start, end)


def _print_run_header(output: RunOutput) -> None:
    """What was run, with every choice that changes the numbers, and the members left out."""
    from reports.words import dropped_members, options_echo

    result = output.result
    run = result.run
    from rich.text import Text

    header = f"bucketmap run: {run.start} → {run.end} (data to {run.data_last_date}); "
    _console().print(Text(_visible(header + options_echo(run))))
    unused = {
        name: [(m.ticker, m.reason) for m in bucket.members if not m.used]
        for name, bucket in result.buckets.items()
    }
    for line in dropped_members(unused):
        _echo(f"warning: {line}", err=True)


def _print_windows(output: RunOutput, *, wide: bool = False) -> None:
    """Each bucket's total return in every window of the run (whole, pre, post and each
    ``--window``); ``wide`` adds a table per window with the excess over every benchmark, in as
    many parts as the console's width needs (names are never cut)."""
    from rich import box
    from rich.text import Text

    result = output.result
    run = result.run

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x:+.1%}"

    table = _table(caption="total return of each bucket in each window (returns after START's "
                   "close up to END's close)")  # fmt: skip
    table.box = box.SIMPLE_HEAD
    table.add_column("bucket", no_wrap=True)
    for w in run.windows:
        table.add_column(f"{w.name}\n{w.start} →\n{w.end}", justify="right")
    for name, bucket in result.buckets.items():
        table.add_row(
            name, *(pct(bucket.windows[w.name].metrics.total_return) for w in run.windows)
        )
    _console().print(table)
    if not wide:
        return
    benches = list(result.benchmarks)
    console = _console()
    for w in run.windows:
        rows = {
            name: (
                f"{sum(m.used for m in bucket.members)}/{len(bucket.members)}",
                f"{bucket.status_counts['verified']}/{len(bucket.members)}",
                pct(bucket.windows[w.name].metrics.total_return),
                {
                    b: pct(bucket.windows[w.name].vs[b].excess_return)
                    if b in bucket.windows[w.name].vs
                    else "—"
                    for b in benches
                },
            )
            for name, bucket in result.buckets.items()
        }
        first = max(len("bucket"), *(len(name) for name in rows))
        fixed = [("used", 0), ("verified", 1), ("total", 2)]
        fixed_width = first + sum(
            max(len(h), *(len(r[i]) for r in rows.values())) for h, i in fixed
        ) + 3 * (len(fixed) + 1) + 1  # fmt: skip
        # as many benchmark columns per table as the console is wide (rich's simple-head table:
        # each column its widest cell, a space of padding either side and one between columns,
        # one at either edge); the bucket and its totals repeat on each part
        parts: list[list[str]] = [[]]
        width = fixed_width
        for b in benches:
            need = max(len(f"vs {b}"), *(len(r[3][b]) for r in rows.values())) + 3
            if parts[-1] and width + need > console.width:
                parts.append([])
                width = fixed_width
            parts[-1].append(b)
            width += need
        for k, part in enumerate(parts):
            more = f" ({k + 1} of {len(parts)})" if len(parts) > 1 else ""
            title = f"{w.name}: {w.start} → {w.end} ({w.description}){more}"
            console.print(Text(_visible(title), style="bold"))
            table = _table()
            table.box = box.SIMPLE_HEAD
            table.add_column("bucket", no_wrap=True, min_width=first)
            for header, _ in fixed:
                table.add_column(header, justify="right", no_wrap=True)
            for b in part:
                table.add_column(f"vs {b}", justify="right", no_wrap=True)
            for name, (used, verified, total, vs) in rows.items():
                table.add_row(name, used, verified, total, *(vs[b] for b in part))
            console.print(table)
    console.print(
        Text(
            "vs X: the excess over X = (1 + total) / (1 + X's total return) − 1 over the same days"
        )
    )


@prices_app.command("import")
def prices_import(
    path: Annotated[Path, typer.Argument(help="Folder of per-ticker CSVs, a CSV or a parquet.")],
    store: StoreOpt = Path(".bucketmap"),
) -> None:
    """Import price files into the store (each series validated; bad ones are listed, not stored).

    Exit code 1 when some series were refused.
    """
    with _errors_to_exit():
        from bucketmap.api import import_prices

        report = import_prices(path, _store(store))
        _echo(f"stored {len(report.stored)} ticker(s) in {store}")
        for problem in report.problems:
            _echo(f"refused: {_one_line(str(problem))}", err=True)
        if report.problems:
            _echo(f"{len(report.problems)} series refused", err=True)
            raise typer.Exit(1)


def _ticker_args(tickers: list[str]) -> list[str]:
    """Ticker arguments upper-cased and checked: a symbol that is not one stops the command."""
    from buckets.errors import RunConfigError
    from buckets.models import TICKER_PATTERN

    out = [t.strip().upper() for t in tickers]
    for t in out:
        if not TICKER_PATTERN.fullmatch(t):
            shown = repr(t if len(t) <= 20 else t[:20] + "…")
            raise RunConfigError(
                f"{shown} is not a ticker symbol (letters, digits, '.', '-', '^', '=', at most "
                "15 characters)"
            )
    return out


@prices_app.command("fetch")
def prices_fetch(
    tickers: Annotated[
        list[str] | None, typer.Argument(help="Tickers (default: every member and benchmark).")
    ] = None,
    universes: UniversesOpt = Path("universes"),
    start: Annotated[
        dt.datetime, typer.Option("--start", formats=DateFormats, help="First date to fetch.")
    ] = dt.datetime(2015, 1, 1),
    store: StoreOpt = Path(".bucketmap"),
) -> None:
    """Download adjusted daily closes from Yahoo Finance into the store."""
    with _errors_to_exit():
        from rich.progress import Progress

        from bucketmap.api import fetch_prices
        from buckets.files import load_universe

        wanted = _ticker_args(tickers) if tickers else load_universe(universes).tickers()
        with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
            task = progress.add_task("fetching from Yahoo Finance", total=len(wanted))
            report = fetch_prices(
                wanted,
                _store(store),
                start=start.date(),
                on_batch=lambda n: progress.advance(task, n),
            )
        _echo(
            f"stored {len(report.stored)} ticker(s) in {store}; "
            f"{len(report.up_to_date)} already fetched today"
        )
        for ticker, reason in sorted(report.refetched.items()):
            _echo(f"fetched again in full: {ticker}: {reason}")
        for ticker, reason in sorted(report.failed.items()):
            _echo(f"failed: {ticker}: {_one_line(reason)}", err=True)
        if report.failed:
            _echo(f"{len(report.failed)} ticker(s) failed; the others were stored", err=True)
            raise typer.Exit(1)


@prices_app.command("info")
def prices_info(
    tickers: Annotated[list[str] | None, typer.Argument(help="Tickers (default: all).")] = None,
    store: StoreOpt = Path(".bucketmap"),
) -> None:
    """Per ticker: first and last date, rows, source and when it was stored."""
    with _errors_to_exit():
        price_store = _store(store)
        if not price_store.exists():
            raise StoreError(
                f"{store}: no price store here; check --store, or fill one with "
                "`bucketmap prices import` / `prices fetch`"
            )
        chosen = _ticker_args(tickers) if tickers else None
        records = price_store.records(chosen)
        wanted = chosen or sorted(records)
        table = _table(title=f"price store {store}")
        for col in ("ticker", "first", "last", "rows", "source", "stored at"):
            table.add_column(col)
        for t in wanted:
            rec = records.get(t)
            if rec is None:
                table.add_row(t, "—", "—", "0", "not stored", "—")
            else:
                table.add_row(t, rec.first, rec.last, str(rec.rows), rec.source, rec.stored_at)
        _console().print(table)


@universes_app.command("validate")
def universes_validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Universe folders or single files (default: universes)."),
    ] = None,
) -> None:
    """Check universe folders or files and list every problem as file:line: field: message."""
    with _errors_to_exit():
        from buckets.files import validate_paths

        report = validate_paths(paths or [Path("universes")])
        for warning in report.warnings:
            _echo(f"warning: {warning}", err=True)
        for err in report.errors:
            _echo(_one_line(str(err)), err=True)
        if report.errors:
            _echo(f"{len(report.errors)} problem(s)", err=True)
            raise typer.Exit(2)
        _echo(f"ok: {report.summary}")


@universes_app.command("list")
def universes_list(universes: UniversesOpt = Path("universes")) -> None:
    """One row per bucket: side and members by status."""
    with _errors_to_exit():
        from buckets.files import load_universe

        universe = load_universe(universes)
        table = _table(title=f"universe {universes}")
        for col in ("bucket", "side", "verified", "proposed", "rejected", "members"):
            table.add_column(col, justify="left" if col in ("bucket", "side") else "right")
        for name, bucket in universe.buckets.items():
            c = bucket.status_counts()
            table.add_row(
                name,
                bucket.side.value,
                str(c["verified"]),
                str(c["proposed"]),
                str(c["rejected"]),
                str(len(bucket.members)),
            )
        _console().print(table)
        for warning in universe.warnings():
            _echo(f"warning: {warning}", err=True)


@universes_app.command("status")
def universes_status(universes: UniversesOpt = Path("universes")) -> None:
    """What a run uses now and what --verified-only would run: buckets with their verified
    members, and the claims it would keep or leave out (and why)."""
    with _errors_to_exit():
        from buckets.files import load_universe
        from buckets.select import claim_buckets, verified_only_view

        universe = load_universe(universes)
        view = verified_only_view(universe)
        chosen = view.universe
        kept = set(chosen.buckets) if chosen is not None else set()
        table = _table(title=f"universe {universes}: what --verified-only would run")
        for col in ("bucket", "side", "verified", "usable", "--verified-only"):
            table.add_column(col, justify="left" if col in ("bucket", "side") else "right")
        for name, bucket in universe.buckets.items():
            verified = len(bucket.tickers(verified_only=True))
            table.add_row(
                name,
                bucket.side.value,
                str(verified),
                str(len(bucket.tickers())),
                f"runs {verified}" if name in kept else "left out",
            )
        _console().print(table)
        claims = _table(title="claims")
        for col in ("claim", "needs buckets", "--verified-only"):
            claims.add_column(col, overflow="fold")
        ran = {c.id for c in chosen.claims} if chosen is not None else set()
        for claim in universe.claims:
            reason = view.claims_left_out.get(claim.id, "no bucket would run")
            claims.add_row(
                claim.id,
                ", ".join(claim_buckets(claim)),
                "runs" if claim.id in ran else f"left out: {reason}",
            )
        _console().print(claims)
        if view.problem is not None:
            _echo(view.problem)


@universes_app.command("show")
def universes_show(
    bucket: Annotated[str, typer.Argument(help="Bucket name.")],
    universes: UniversesOpt = Path("universes"),
) -> None:
    """Every member of one bucket with its status, who verified it and why it is there."""
    with _errors_to_exit():
        from buckets.edit import bucket_path
        from buckets.files import load_bucket

        b = load_bucket(bucket_path(universes, bucket))
        table = _table(title=f"{b.name} ({b.side.value})", caption=b.description)
        for col in (
            "ticker",
            "status",
            "verified by",
            "on",
            "evidence / why rejected",
            "weight",
            "rationale",
        ):
            table.add_column(col, overflow="fold")
        for m in b.members:
            table.add_row(
                m.ticker,
                m.status.value,
                m.verified_by or "",
                str(m.verified_on or ""),
                m.rejected_why if m.status.value == "rejected" else (m.evidence or ""),
                "" if m.weight is None else f"{m.weight:g}",
                m.rationale,
            )
        _console().print(table)


def _print_edit(result: EditResult) -> None:
    _echo(f"{result.summary} ({result.path})")
    for warning in result.warnings:
        _echo(f"warning: {warning}", err=True)
    if not result.layout_kept:
        _echo(
            f"warning: {result.path}: the edit could not be fitted into the file's own layout; "
            "ruamel.yaml re-rendered the file (its meaning is unchanged)",
            err=True,
        )


@universes_app.command("verify")
def universes_verify(
    bucket: Annotated[str, typer.Argument(help="Bucket name.")],
    tickers: Annotated[
        list[str], typer.Argument(metavar="TICKER", help="Members to verify (one or more).")
    ],
    by: Annotated[str, typer.Option("--by", help="Who verified them.")],
    evidence: Annotated[
        str | None, typer.Option("--evidence", help="What it was checked against (text or URL).")
    ] = None,
    on: Annotated[
        dt.datetime | None,
        typer.Option("--on", formats=DateFormats, help="Date verified (default: today)."),
    ] = None,
    universes: UniversesOpt = Path("universes"),
) -> None:
    """Mark members verified (who, when, on what evidence), in one write: all or none. A rejected
    member loses its rejected_* fields; the file keeps its comments."""
    with _errors_to_exit():
        from buckets.edit import verify_members

        result = verify_members(universes, bucket, tickers, by=by, on=_date(on), evidence=evidence)
        _print_edit(result)


@universes_app.command("reject")
def universes_reject(
    bucket: Annotated[str, typer.Argument(help="Bucket name.")],
    tickers: Annotated[
        list[str], typer.Argument(metavar="TICKER", help="Members to reject (one or more).")
    ],
    why: Annotated[str, typer.Option("--why", help="Why they do not belong.")],
    by: Annotated[str, typer.Option("--by", help="Who rejected them.")],
    on: Annotated[
        dt.datetime | None,
        typer.Option("--on", formats=DateFormats, help="Date rejected (default: today)."),
    ] = None,
    universes: UniversesOpt = Path("universes"),
) -> None:
    """Mark members rejected (why, who, when), in one write: all or none. They stay in the file
    and leave every backtest; a verified member loses verified_by, verified_on and evidence."""
    with _errors_to_exit():
        from buckets.edit import reject_members

        result = reject_members(universes, bucket, tickers, why=why, by=by, on=_date(on))
        _print_edit(result)


@universes_app.command("add")
def universes_add(
    bucket: Annotated[str, typer.Argument(help="Bucket name.")],
    ticker: Annotated[str, typer.Argument(help="Ticker to add.")],
    why: Annotated[str, typer.Option("--why", help="Rationale: why it belongs.")],
    universes: UniversesOpt = Path("universes"),
) -> None:
    """Add a ticker to a bucket as a proposed member (a warning when it is now in another long
    bucket too)."""
    with _errors_to_exit():
        from buckets.edit import add_member

        result = add_member(universes, bucket, ticker, why=why)
        _print_edit(result)


@universes_app.command("schema")
def universes_schema(
    claims: Annotated[
        bool, typer.Option("--claims", help="The schema of claims.yaml instead.")
    ] = False,
) -> None:
    """Print the JSON Schema of a bucket file, or of claims.yaml (for editors that validate and
    complete YAML)."""
    from buckets.schema import bucket_file_schema_json, claims_file_schema_json

    text = claims_file_schema_json() if claims else bucket_file_schema_json()
    typer.echo(text, nl=False)  # our own JSON: printed as is


def _second_process() -> Background | None:
    """On two cores or more, a second process that starts its imports (pandas, vectorbt's order
    kernel) now, beside this one's, then simulates the run and tests half its claims
    (:func:`bucketmap.api.compute_run`); None on one core."""
    from backtest.background import RUN_IMPORTS, Background, usable_cores

    return Background(RUN_IMPORTS) if usable_cores() >= 2 else None


def _console() -> Console:
    """Rich output at the terminal's width; when the output is not a terminal, at ``$COLUMNS``
    or 100 columns."""
    import os

    from rich.console import Console

    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 100
    return Console(width=width)


def main() -> None:
    """Console-script entry point.

    The cyclic garbage collector runs its youngest generation every 10,000 net allocations
    instead of Python's 700: a command creates millions of short-lived objects (imports, frames,
    models) that reference counting frees anyway, and each collection walks the survivors again
    (0.5 s of the default run's 5.5 s on this machine; peak memory the same). The objects still
    alive when a command ends (a run's frames, the imported libraries) are frozen out of the
    collector, so the interpreter's exit does not walk them again: 0.7-1.0 s less at the end of
    a run or a board. The library itself leaves the collector as the caller set it."""
    import gc

    gc.set_threshold(GC_YOUNG_ALLOCATIONS, 10, 10)
    try:
        app()
    finally:
        gc.freeze()
