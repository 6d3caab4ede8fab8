"""Which part of a universe a run uses: ``--bucket NAME`` and ``--verified-only``.

:func:`select_universe` returns the universe a run sees and says, one line each, what it left
out and why. The rules:

* ``--bucket`` (repeatable) runs the named buckets, the benchmark buckets of ``benchmarks.yaml``,
  the claims whose bucket is named, the claims whose verdicts their rules read, and every bucket
  those claims compare with or measure in a signal rule. Other claims are left out (one line
  lists them).
* ``--verified-only`` leaves out every bucket without a verified member (a line each), a
  benchmark bucket among them, and every claim that names a bucket left out (as its bucket, its
  benchmark or in a signal rule) or asks for the verdict of a claim left out (a line each).
  When no bucket is left, the run cannot start (:class:`RunConfigError`).

A name that is not a bucket is refused with the closest names (did you mean …?).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from buckets.errors import RunConfigError, did_you_mean
from buckets.models import Claim, Universe, is_bucket_name, signal_names
from buckets.rules import VerdictRule, rule_leaves


def _names(kind: str, names: Sequence[str]) -> str:
    """``bucket a``, ``buckets a and b``, ``buckets a, b and c``."""
    if len(names) == 1:
        return f"{kind} {names[0]}"
    return f"{kind}s {', '.join(names[:-1])} and {names[-1]}"


def claim_buckets(claim: Claim) -> list[str]:
    """The buckets a claim needs: its bucket, its benchmark when that is a bucket, and the
    buckets its signal rules measure."""
    names = [claim.bucket, claim.benchmark, *signal_names(claim)]
    return list(dict.fromkeys(n for n in names if is_bucket_name(n)))


def _claims_asked(claim: Claim) -> set[str]:
    """Ids of the other claims whose verdicts the claim's rules read."""
    signals = [*claim.counter_signals, claim.stop, claim.restart]
    return {
        leaf.claim
        for s in signals
        if s is not None
        for _, leaf in rule_leaves(s.when)
        if isinstance(leaf, VerdictRule) and leaf.claim is not None and leaf.claim != claim.id
    }


def select_universe(
    universe: Universe, buckets: Sequence[str] = (), *, verified_only: bool = False
) -> Universe:
    """The part of ``universe`` a run uses (module docstring); what was left out is in the
    returned universe's ``left_out`` (and so in its :meth:`~Universe.warnings`)."""
    if not buckets and not verified_only:
        return universe
    return _select(universe, buckets, verified_only)[0]


def _select(
    universe: Universe, buckets: Sequence[str], verified_only: bool
) -> tuple[Universe, dict[str, str]]:
    """:func:`select_universe`, and why each claim left out for a missing bucket or verdict was
    (claim id → reason)."""
    names = list(universe.buckets)
    for name in buckets:
        if name not in universe.buckets:
            raise RunConfigError(
                f"--bucket {name}: no bucket named {name}{did_you_mean(name, names, n=2)}"
            )
    notes: list[str] = []
    claims = list(universe.claims)
    if buckets:
        chosen = set(buckets)
        by_id = {c.id: c for c in claims}
        keep = {c.id for c in claims if c.bucket in chosen}
        # a claim whose rules read another claim's verdict brings that claim along
        asked = set().union(*(_claims_asked(by_id[i]) for i in keep)) - keep
        while asked:
            keep |= asked
            asked = set().union(*(_claims_asked(by_id[i]) for i in asked)) - keep
        kept = [c for c in claims if c.id in keep]
        dropped = [c.id for c in claims if c.id not in keep]
        wanted = chosen | set(universe.benchmark_buckets())
        wanted |= {b for c in kept for b in claim_buckets(c)}
        if dropped:
            notes.append(f"--bucket: claims on buckets not run are left out ({', '.join(dropped)})")
        claims = kept
    else:
        wanted = set(names)
    if verified_only:
        for name in names:
            if name in wanted and not universe.buckets[name].tickers(verified_only=True):
                wanted.discard(name)
                notes.append(f"bucket {name} has no verified member: left out (--verified-only)")
    if not wanted:
        raise RunConfigError(
            "--verified-only: no bucket has a verified member; verify some "
            "(`bucketmap universes verify BUCKET TICKER --by NAME`) or drop --verified-only"
        )
    # a claim needs every bucket it names and every claim whose verdict it reads
    reasons: dict[str, str] = {}
    while True:
        ids = {c.id for c in claims}
        out = [
            c for c in claims if not set(claim_buckets(c)) <= wanted or not _claims_asked(c) <= ids
        ]
        if not out:
            break
        for c in out:
            missing = [b for b in claim_buckets(c) if b not in wanted]
            gone = sorted(_claims_asked(c) - ids)
            why = (
                f"{_names('bucket', missing)} {'is' if len(missing) == 1 else 'are'} left out"
                if missing
                else f"it reads the verdict of {_names('claim', gone)}, left out"
            )
            reasons[c.id] = why
            notes.append(f"claim {c.id} left out: {why}")
        claims = [c for c in claims if c not in out]
    selected = Universe(
        buckets={n: b for n, b in universe.buckets.items() if n in wanted},
        benchmarks=[b for b in universe.benchmarks if not is_bucket_name(b) or b in wanted],
        claims=claims,
        pools=universe.pools,
        left_out=[*universe.left_out, *notes],
    )
    return selected, reasons


@dataclass(frozen=True)
class VerifiedOnlyView:
    """What ``--verified-only`` would run of a universe (``bucketmap universes status``)."""

    universe: Universe | None
    """The universe it would run; None when no bucket has a verified member (``problem``)."""
    claims_left_out: dict[str, str]
    """Claim id → why it would be left out."""
    problem: str | None = None


def verified_only_view(universe: Universe) -> VerifiedOnlyView:
    """What ``--verified-only`` would run of ``universe`` and why each claim would not."""
    try:
        chosen, reasons = _select(universe, (), verified_only=True)
    except RunConfigError as exc:
        return VerifiedOnlyView(None, {}, str(exc))
    return VerifiedOnlyView(chosen, reasons)
