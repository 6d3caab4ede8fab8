"""The answer in words: one headline per claim and one line for the thesis, generated from the
numbers in ``claims.json`` and nothing else (no adjective the numbers do not carry).

The same sentences open the terminal output, ``summary.md`` and the report. They are plain text
(no markup); each writer escapes them for its medium.
"""

from __future__ import annotations

from collections.abc import Sequence

from backtest.evidence.metrics import TRADING_DAYS
from backtest.results import ClaimResult, ClaimsResult, RunInfo

VERDICTS = ("supported", "refuted", "negligible", "inconclusive", "insufficient_data")

_CORRECTION = {"holm": "Holm-adjusted", "bh": "Benjamini–Hochberg-adjusted", "none": "unadjusted"}


def signed(x: float, digits: int = 1) -> str:
    """A signed percentage with a typographic minus: ``+20.6%``, ``−27.7%``."""
    text = f"{x:+.{digits}%}"
    return text.replace("-", "−")


def _window(c: ClaimResult) -> str:
    if c.end is None:
        return f"After {c.start}"
    if c.window_complete:
        return f"From {c.start} to {c.end}"
    return f"After {c.start} (the window runs to {c.end}; the data end on {c.test.end})"


def _level(c: ClaimResult) -> str:
    """The level the claim is judged against, when it is not 0."""
    if c.threshold == 0:
        return ""
    if c.direction == "outperform":
        return f" (the claim needs more than {signed(c.threshold)})"
    return f" (the claim tolerates a lag of {c.threshold:.1%})"


def _verdict_clause(c: ClaimResult) -> str:
    """``inconclusive``, or a decided verdict with its adjusted p-value and survival."""
    s = c.significance
    if c.verdict not in ("supported", "refuted", "negligible") or s is None:
        return c.verdict
    p = {"supported": s.p_above, "refuted": s.p_below, "negligible": s.p_negligible}[c.verdict]
    shown = f"{c.verdict} ({_CORRECTION[s.correction]} p = {p:.3f})" if p is not None else c.verdict
    if c.survives_controls:
        return f"{shown}, and it survives its controls"
    failed = list(dict.fromkeys(x.split(":")[0] for x in c.caveats))
    return f"{shown}, but it does not survive its controls ({', '.join(failed)})"


def _in_years(days: int) -> str:
    """`` (~N years)`` for a count of trading days of two years or more (252 a year), else
    ``""``."""
    return f" (~{days / TRADING_DAYS:.1f} years)" if days >= 2 * TRADING_DAYS else ""


def claim_headline(c: ClaimResult, confidence: float) -> str:
    """One or two sentences: what happened after the claim's date, the verdict, how unusual it was
    for this pair, and what the data could detect so far."""
    t = c.test
    if t.excess_return is None or t.low is None or t.high is None:
        return f"{_window(c)}, {c.bucket} against {c.benchmark}: no verdict ({t.reason})."
    verb = "gained" if t.excess_return >= 0 else "lost"
    how = "on" if t.excess_return >= 0 else "against"
    first = (
        f"{_window(c)}, {c.bucket} {verb} {abs(t.excess_return):.1%} {how} {c.benchmark} "
        f"({confidence:.0%} interval {signed(t.low)} to {signed(t.high)}){_level(c)}: "
        f"{_verdict_clause(c)}."
    )
    parts = [first]
    h = c.own_history
    if h is not None and h.share_above is not None:
        rank = f"{h.share_above:.0%} of the windows of this length before {c.start} gave more"
        if h.p_value is not None:
            rank += f" (own-history p = {h.p_value:.2f}"
            if h.reason is not None and h.p_floor is not None:
                # too few independent windows before the claim for any result to be unusual
                rank += f"; at best {h.p_floor:.3f} with this much history"
            rank += ")"
        parts.append(rank)
    w = c.power
    if w is not None and w.detectable_above is not None and w.detectable_below is not None:
        detect = (
            f"the data can detect effects above {signed(w.detectable_above, 0)} or below "
            f"{signed(w.detectable_below, 0)} so far"
        )
        if c.verdict == "inconclusive" and w.side is not None:
            if w.further_days is not None and w.further_days > 0:
                detect += (
                    f"; at the pace so far, about {w.further_days} more trading days"
                    f"{_in_years(w.further_days)} would make it detectable as {w.side}"
                )
            elif w.further_days is None and w.reason:
                detect += "; at the pace so far it would not be detectable within 10 years"
        parts.append(detect)
    if len(parts) == 1:
        return first
    rest = "; ".join(parts[1:])
    return f"{first} {rest[0].upper()}{rest[1:]}."


def thesis_line(claims: ClaimsResult) -> str:
    """How the claims came out together: counts by verdict and how many survive their controls."""
    found = [c.verdict for c in claims.claims]
    counts = [f"{found.count(v)} {v.replace('_', ' ')}" for v in VERDICTS if found.count(v)]
    decided = [c for c in claims.claims if c.verdict in ("supported", "refuted", "negligible")]
    surviving = sum(bool(c.survives_controls) for c in decided)
    n = len(found)
    s = claims.settings
    adjusted = (
        "each read alone"
        if s.correction == "none"
        else f"read together ({_CORRECTION[s.correction]} p-values)"
    )
    survival = (
        f"{surviving} of the {len(decided)} decided survive their controls"
        if decided
        else "none is decided, so none has controls to survive"
    )
    return f"{n} claim{'s' if n != 1 else ''}, {adjusted}: {', '.join(counts)}; {survival}."


def headlines(claims: ClaimsResult) -> list[str]:
    """The thesis line, then one headline per claim, in file order."""
    confidence = claims.settings.confidence
    return [thesis_line(claims), *(claim_headline(c, confidence) for c in claims.claims)]


def options_echo(run: RunInfo, extra: Sequence[str] = ()) -> str:
    """The choices that change the numbers, in one line (weighting, rebalance, costs, which
    members, custom windows)."""
    parts = [
        f"{run.weighting} weight",
        f"rebalance {run.rebalance}",
        f"costs {run.cost_bps:g} bps",
        "verified members only" if run.verified_only else "proposed and verified members",
    ]
    custom = [w for w in run.windows if w.name not in ("whole", "pre", "post")]
    if custom:
        parts.append("windows " + ", ".join(f"{w.name} {w.start} → {w.end}" for w in custom))
    return "; ".join([*parts, *extra])


def dropped_members(buckets: dict[str, list[tuple[str, str | None]]]) -> list[str]:
    """One warning per bucket whose usable members were left out for lack of prices (what
    ``--max-missing`` allowed): ``buckets`` is bucket → (ticker, reason) of its unused members."""
    out = []
    for name, members in buckets.items():
        missing = [t for t, why in members if why == "no prices in the price source"]
        if missing:
            out.append(
                f"bucket {name}: {', '.join(missing)} left out, no prices in the price source "
                "(--max-missing allowed it)"
            )
    return out


def special_line(c: ClaimResult) -> str:
    """Where the claim's bucket ranks among random and matched baskets of its size (the
    ``special`` control), in one or two sentences; empty without it."""
    sp = c.special
    if sp is None:
        return ""
    excess = signed(sp.bucket_excess) if sp.bucket_excess is not None else "no excess"
    size = f"{sp.members} member{'s' if sp.members != 1 else ''}"
    head = (
        f"Bought on {sp.start} as every basket is, {c.bucket} ({size}; {excess} against "
        f"{c.benchmark} to {sp.end})"
    )
    parts: list[str] = []
    for null in (sp.random, sp.matched):
        if null.percentile is None or null.p_value is None:
            parts.append(f"no {null.kind} baskets ({null.reason})")
            continue
        kind = (
            f"{null.baskets:,} random {sp.members}-member baskets from {sp.pool}"
            if null.kind == "random"
            else f"{null.baskets:,} matched on momentum, beta and volatility"
        )
        unmatched = (
            f"; {', '.join(null.unmatched)} unmatched: too little history" if null.unmatched else ""
        )
        parts.append(
            f"{null.percentile:.1f}% of {kind} (p = {null.p_value:.4f}; median basket "
            f"{signed(null.median or 0.0)}{unmatched})"
        )
    verdict = ""
    if sp.passes is True:
        verdict = " The supported verdict holds: baskets of its size rarely did as well."
    elif sp.passes is False:
        verdict = " Baskets of its size often did as well: the verdict does not survive this."
    return f"{head} beat " + ", and ".join(parts) + "." + verdict
