"""The ledger: an append-only record of what was said about each claim, and when.

One JSON object per line (``ledger.jsonl``, beside the price store by default), of three kinds:

* ``evaluation`` — what a ``run`` or a ``board`` said about a claim: the data's last date, when it
  was said, the claim's definition hash (:meth:`buckets.models.Claim.definition_hash`), its
  verdict and numbers, the counter-signals that were on, whether the stop or restart rule had
  fired, and how many members of the universe were verified or proposed;
* ``resolution`` — a claim with a ``resolve_on`` date judged once, from the prices up to that
  date, the first time the data reached it: ``supported``, ``refuted``, ``negligible``, or
  ``ambiguous`` (the test could not decide: inconclusive, or too few days); it is kept even if
  later prices would say otherwise;
* ``observation`` — a manual observation of a non-price signal (``claims observe``).

Writes take the ledger's lock and replace the whole file atomically (the old lines, unchanged,
then the new ones), so a process killed at any moment leaves the ledger as it was before or after
the write, and two writers never lose each other's lines. A line that is not a record (edited by
hand, cut short) is reported with its number and kept as it is; the other lines are read.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from buckets.errors import BucketmapError
from buckets.fileio import LockError, atomic_write_bytes, folder_lock, read_regular_file

LEDGER_FILE = "ledger.jsonl"
MAX_LEDGER_BYTES = 200_000_000


class LedgerError(BucketmapError):
    """The ledger cannot be read or written (one line: the file and the reason)."""


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Evaluation(_Record):
    kind: Literal["evaluation"] = "evaluation"
    recorded_at: str
    """When it was said (UTC, ISO 8601)."""
    source: Literal["run", "board"]
    data_date: dt.date
    """The last day of the prices it was said from."""
    claim: str
    definition: str
    verdict: str
    excess_return: float | None = None
    low: float | None = None
    high: float | None = None
    p_adjusted: float | None = None
    days: int = 0
    counter_on: list[str] = []
    stop: bool | None = None
    restart: bool | None = None
    verified: int = 0
    proposed: int = 0
    """Members the run used, by status."""


class Resolution(_Record):
    kind: Literal["resolution"] = "resolution"
    recorded_at: str
    claim: str
    definition: str
    resolve_on: dt.date
    data_date: dt.date
    outcome: Literal["supported", "refuted", "negligible", "ambiguous"]
    excess_return: float | None = None
    low: float | None = None
    high: float | None = None
    reason: str


class Observation(_Record):
    kind: Literal["observation"] = "observation"
    recorded_at: str
    claim: str
    signal: Annotated[str, Field(min_length=1, max_length=64)]
    observed_on: dt.date
    value: float | None = Field(default=None, allow_inf_nan=False)
    text: Annotated[str, Field(max_length=2000)]
    source: Annotated[str, Field(min_length=1, max_length=2000)]


Record = Annotated[Evaluation | Resolution | Observation, Field(discriminator="kind")]
_RECORD: TypeAdapter[Evaluation | Resolution | Observation] = TypeAdapter(Record)


def now_utc() -> str:
    """The current time, UTC, to the second (ISO 8601)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@dataclass
class LedgerRead:
    """What a ledger holds: its records in file order, and its damaged lines (one message each,
    naming the file and line)."""

    records: list[Evaluation | Resolution | Observation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def evaluations(self, claim: str) -> list[Evaluation]:
        return [r for r in self.records if isinstance(r, Evaluation) and r.claim == claim]

    def resolution(self, claim: str) -> Resolution | None:
        """The claim's resolution (the first one recorded: it is kept)."""
        return next(
            (r for r in self.records if isinstance(r, Resolution) and r.claim == claim), None
        )

    def observations(self, claim: str) -> list[Observation]:
        return [r for r in self.records if isinstance(r, Observation) and r.claim == claim]


class Ledger:
    """The ledger file at ``path`` (its lock beside it: ``<path>.lock``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> LedgerRead:
        """Every record, and every damaged line by number; an absent ledger is empty. Takes no
        lock: a write replaces the whole file at once."""
        out = LedgerRead()
        try:
            data = read_regular_file(self.path, max_bytes=MAX_LEDGER_BYTES)
        except FileNotFoundError:
            return out
        except OSError as exc:
            raise LedgerError(f"{self.path}: cannot be read ({exc.strerror or exc})") from None
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.records.append(_RECORD.validate_json(line))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(k) for k in first["loc"]) or "line"
                out.problems.append(
                    f"{self.path}:{number}: not a ledger record ({where}: {first['msg']}); "
                    "kept as it is, the other lines are read"
                )
        return out

    def append(self, records: Sequence[Evaluation | Resolution | Observation]) -> None:
        """Add ``records`` at the end, under the ledger's lock, replacing the file atomically."""
        if not records:
            return
        lines = b"".join(
            (json.dumps(r.model_dump(mode="json"), sort_keys=True) + "\n").encode() for r in records
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with folder_lock(self.path.parent, self.path.name + ".lock"):
                try:
                    old = read_regular_file(self.path, max_bytes=MAX_LEDGER_BYTES)
                except FileNotFoundError:
                    old = b""
                if old and not old.endswith(b"\n"):
                    old += b"\n"
                atomic_write_bytes(self.path, old + lines)
        except LockError as exc:
            reason = (
                "another bucketmap process holds its lock"
                if exc.timed_out
                else f"cannot take its lock ({exc.strerror or exc})"
            )
            raise LedgerError(f"{self.path}: {reason}") from None
        except OSError as exc:
            raise LedgerError(
                f"{self.path}: cannot be written ({exc.strerror or exc}); it is as it was"
            ) from None


def changed_definitions(read: LedgerRead, definitions: Iterable[tuple[str, str]]) -> list[str]:
    """Claims whose definition hash differs from the one their latest record carries (the claim
    was edited after records of it exist): one line each."""
    out = []
    for claim, definition in definitions:
        earlier = [r for r in read.records if not isinstance(r, Observation) and r.claim == claim]
        if earlier and earlier[-1].definition != definition:
            out.append(
                f"claim {claim} was edited after {len(earlier)} ledger record(s) of it (the last "
                f"on {earlier[-1].recorded_at[:10]}): earlier records judged another definition"
            )
    return out
