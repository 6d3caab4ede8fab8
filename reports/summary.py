"""Plain-text views of the results: the verdict tables for the terminal, and ``summary.md``.

Formatting only; every number comes from ``claims.json`` / ``results.json`` as written. Every
string that came from a file (statements, names, verdicts, reasons, the price source: all of them,
since a results folder can be edited by hand) is escaped with :func:`md_text` before it is placed
(:func:`inert`), so nothing in ``summary.md`` renders as HTML, a link or emphasis; and only what
Markdown would act on is escaped, so a pasted summary reads as plain text too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, TypeVar

from pydantic import BaseModel

from backtest.results import (
    BetaAdjusted,
    ClaimResult,
    ClaimsResult,
    LeaveOneOut,
    Metrics,
    Placebo,
    RunResult,
    SweepResult,
)


def pct(x: float | None) -> str:
    """A signed percentage with one decimal, ``n/a`` for a missing value."""
    return "n/a" if x is None else f"{x:+.1%}"


def compact_columns(result: ClaimsResult) -> list[str]:
    """Headers of the compact verdict table (:func:`compact_rows`): it fits 100 columns."""
    return [
        "claim",
        "bucket vs benchmark",
        f"excess [{result.settings.confidence:.0%} interval]",
        "verdict",
        "survives",
    ]


def compact_rows(result: ClaimsResult) -> Iterator[list[str]]:
    """One short row per claim: which pair, the excess with its interval, the verdict and
    whether it survives its controls."""
    for c in result.claims:
        t = c.test
        excess = (
            f"{pct(t.excess_return)} [{pct(t.low)}, {pct(t.high)}]"
            if t.excess_return is not None and t.low is not None
            else "n/a"
        )
        survives = {True: "yes", False: "no", None: "—"}[c.survives_controls]
        yield [c.id, f"{c.bucket} vs {c.benchmark}", excess, c.verdict, survives]


def tear_sheet_benchmark(bucket: str, result: RunResult) -> str:
    """What a bucket's tear sheet compares it with: the benchmark of its first claim, else the
    first benchmark of the run."""
    for c in result.claims:
        if c.bucket == bucket and c.benchmark != bucket:
            return c.benchmark
    return next((b for b in result.benchmarks if b != bucket), bucket)


def claim_columns(result: ClaimsResult) -> list[str]:
    """Headers of the verdict table (:func:`claim_rows`); the p-value's says its correction."""
    s = result.settings
    adjusted = "p" if s.correction == "none" else f"p ({s.correction})"
    return [
        "claim",
        "window",
        "days",
        f"excess [{s.confidence:.0%} interval]",
        adjusted,
        "verdict",
        "own history",
        "detectable",
        "placebo (before)",
        "leave-one-out",
        "alpha on factors (a year)",
        "robust",
        "blocks",
        "survives",
    ]


def claim_rows(result: ClaimsResult) -> Iterator[list[str]]:
    """One row of display strings per claim, in :func:`claim_columns` order."""
    for c in result.claims:
        t = c.test
        interval = f" [{pct(t.low)}, {pct(t.high)}]" if t.low is not None else ""
        yield [
            c.id,
            f"{t.start or c.start} → {t.end or c.end or 'latest'}",
            str(t.days),
            f"{pct(t.excess_return)}{interval}" if t.excess_return is not None else "n/a",
            p_cell(c),
            c.verdict,
            history_cell(c),
            detectable_cell(c),
            "" if c.placebo is None else placebo_cell(c.placebo),
            loo_cell(c.leave_one_out),
            "" if c.beta_adjusted is None else alpha_cell(c.beta_adjusted),
            "" if c.robustness is None else f"{c.robustness.agree}/{len(c.robustness.variants)}",
            blocks_cell(c),
            {True: "yes", False: "no", None: "—"}[c.survives_controls],
        ]


def p_cell(c: ClaimResult) -> str:
    """The adjusted one-sided p-value of the claim's statement (excess above its level)."""
    s = c.significance
    if s is None or s.p_above is None:
        return ""
    return f"{s.p_above:.3f}"


def history_cell(c: ClaimResult) -> str:
    """The claim's percentile among the earlier windows of its length, and its calibrated p."""
    h = c.own_history
    if h is None or h.percentile is None or h.p_value is None:
        return "" if h is None else f"{h.windows} windows"
    return f"{h.percentile:.0%} (p {h.p_value:.2f})"


def detectable_cell(c: ClaimResult) -> str:
    """The smallest excess detectable as support and the largest as refutation."""
    w = c.power
    if w is None or w.detectable_above is None or w.detectable_below is None:
        return ""
    return f"≥ {pct(w.detectable_above)} / ≤ {pct(w.detectable_below)}"


def blocks_cell(c: ClaimResult) -> str:
    """The block length used, and whether the verdict holds at every sensitivity length."""
    if c.block_length is None:
        return ""
    sens = c.block_length_sensitivity
    same = "" if sens is None or sens.agree is None else (" same" if sens.agree else " differ")
    lengths = "" if sens is None else "/".join(str(k.block_length) for k in sens.checks)
    return f"{c.block_length.used} d; {lengths}:{same}" if lengths else f"{c.block_length.used} d"


_CORRECTION = {
    "holm": "Holm-adjusted",
    "bh": "Benjamini–Hochberg-adjusted",
    "none": "not adjusted",
}


def claims_caption(result: ClaimsResult) -> str:
    """How the verdict table's figures were made, in one paragraph (terminal, summary.md and
    report say the same)."""
    s = result.settings
    family = next((c.significance.family for c in result.claims if c.significance), 0)
    blocks = (
        f"{s.block_length}-day blocks"
        if s.block_length is not None
        else "blocks of the Politis–White length per claim (at least 5 days)"
    )
    alpha = (1 - s.confidence) / 2
    return (
        f"Excess = (1 + bucket) / (1 + benchmark) − 1 after the claim date; "
        f"{s.confidence:.0%} moving-block bootstrap interval ({s.resamples:,} resamples, "
        f"{blocks}, seed {s.seed}). p: one-sided p-value that the excess is above the claim's "
        f"level, {_CORRECTION[s.correction]} across the {family} claims tested; the verdict "
        f"reads the adjusted p-values at {alpha:g}. Own history: the claim's percentile among "
        "every earlier window of its length in the run, with a calibrated p-value. Detectable: "
        f"the smallest excess called supported, and the largest called refuted, in "
        f"{s.power:.0%} of bootstrap worlds like the window. Blocks: the block length used, and "
        f"whether the verdict is the same at {'/'.join(map(str, s.sensitivity_lengths))} days. "
        "Details in claims.json."
    )


def claim_note(c: ClaimResult) -> str:
    """One line under the verdict table: why there is no verdict, what the verdict does not
    survive, or that it survives; then what else the reader must know."""
    if c.test.reason:
        text = c.test.reason
    elif c.caveats:
        text = "; ".join(c.caveats)
    elif c.survives_controls:
        text = f"{c.verdict}, and it survives every control"
    else:
        text = "the interval spans the threshold: no verdict for the controls to test"
    return "; ".join([text, *c.notes])


def placebo_cell(p: Placebo) -> str:
    if p.test.excess_return is None:
        return p.test.verdict
    return f"{pct(p.test.excess_return)} {p.test.verdict}"


def loo_cell(loo: LeaveOneOut | None) -> str:
    if loo is None or loo.fragile is None:
        return ""
    return f"fragile ({', '.join(loo.flips)})" if loo.fragile else "stable"


def alpha_cell(b: BetaAdjusted) -> str:
    if b.alpha is None:
        return b.verdict
    return f"{pct(b.alpha)} [{pct(b.alpha_low)}, {pct(b.alpha_high)}]"


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table; ``|`` and line breaks in cells are escaped."""

    def cell(text: str) -> str:
        return " ".join(text.split()).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(h) for h in headers) + " |"]
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    lines.extend("| " + " | ".join(cell(c) for c in row) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def claims_markdown(result: ClaimsResult) -> str:
    """The verdict table as Markdown (every string of ``result`` escaped)."""
    return markdown_table(claim_columns(result), list(claim_rows(inert(result))))


_MARKDOWN_ACTIVE = "\\*_[]|<"
"""What text inside a line needs escaped: the escape itself, emphasis (``*``, ``_`` at a word's
edge), links (``[…](…)``), table cells (``|``) and HTML (``<``). Parentheses, ``#``, ``+`` and
``!`` only act at the start of a line or after ``]``, which user text never is here."""

_WORD = r"[^\s" + re.escape(_MARKDOWN_ACTIVE) + r"]+"
_NOTHING_TO_DO = re.compile(rf"(?:{_WORD}(?: {_WORD})*)?")
"""A string :func:`md_text` returns as it is: no active character, and no whitespace but single
spaces between words (no line break, tab, run of spaces or space at either end). Words are
separated by exactly one space, so a failing match backtracks in linear time."""


def md_text(text: str) -> str:
    """User-supplied text made inert in Markdown, escaping only what Markdown would act on inside
    a line (:data:`_MARKDOWN_ACTIVE`), so the text still reads as itself when pasted where
    Markdown is not rendered; line breaks become spaces. An underscore inside a word
    (``insufficient_data``) is left alone: Markdown never reads it as emphasis."""
    text = str(text)
    if _NOTHING_TO_DO.fullmatch(text):
        return text  # most strings (tickers, statuses, dates): already one plain line
    flat = " ".join(text.split())
    out = []
    for i, ch in enumerate(flat):
        inside_word = (
            ch == "_" and 0 < i < len(flat) - 1 and flat[i - 1].isalnum() and flat[i + 1].isalnum()
        )
        out.append("\\" + ch if ch in _MARKDOWN_ACTIVE and not inside_word else ch)
    return "".join(out)


_M = TypeVar("_M", bound=BaseModel)


def inert(model: _M) -> _M:
    """A copy of a results model with every string in it (values and mapping keys, at any depth)
    passed through :func:`md_text`; numbers and dates are untouched."""

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return md_text(value)
        if isinstance(value, dict):
            return {walk(k): walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return type(model).model_validate(walk(model.model_dump()))


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _pp(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:+.1f} pp"


def metrics_markdown(result: RunResult, window: str) -> str:
    """One window's metrics per bucket and benchmark ticker, with the excess return over each
    benchmark (ratio of growth − 1; every string of ``result`` escaped)."""
    return _metrics_table(inert(result), md_text(window))


def _metrics_table(result: RunResult, window: str) -> str:
    """:func:`metrics_markdown` of a result already passed through :func:`inert` (a
    12,000-member run is walked once for all windows, not once per window)."""
    benches = list(result.benchmarks)
    headers = ["series", "side", "total", "CAGR", "volatility (a year)", "Sharpe (a year)",
               "max drawdown", "days"]  # fmt: skip
    headers += [f"excess vs {b}" for b in benches]
    rows = []

    def cells(m: Metrics) -> list[str]:
        vol = "n/a" if m.volatility is None else f"{m.volatility:.1%}"
        dd = "n/a" if m.max_drawdown is None else f"{m.max_drawdown:.1%}"
        return [pct(m.total_return), pct(m.cagr), vol, _num(m.sharpe), dd, str(m.days)]

    for name, bucket in result.buckets.items():
        w = bucket.windows[window]
        vs = [pct(w.vs[b].excess_return) if b in w.vs else "—" for b in benches]
        rows.append([name, bucket.side, *cells(w.metrics), *vs])
    for name, bench in result.benchmarks.items():
        if bench.kind == "ticker":
            rows.append([name, "benchmark", *cells(bench.windows[window]), *["—"] * len(benches)])
    return markdown_table(headers, rows)


def shifts_text(shifts: list[int]) -> str:
    """Shifts for a caption: runs of consecutive days as ``0–21``, the rest with ``/``."""
    parts: list[str] = []
    values = sorted(shifts)
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        parts.append(
            f"{values[i]}–{values[j]}" if j - i >= 2 else "/".join(map(str, values[i : j + 1]))
        )
        i = j + 1
    return "/".join(parts)


SWEEP_SUMMARY_COLUMNS = [
    "bucket", "variants", "excess > 0", "min", "10%", "25%", "median", "75%", "90%", "max",
]  # fmt: skip
"""Headers of the sweep's per-bucket table (report and summary.md)."""


def sweep_markdown(sweep: SweepResult) -> str:
    """The sweep's per-bucket distribution of excess returns as a markdown table (every string
    of ``sweep`` escaped)."""
    rows = [
        [
            s.bucket,
            str(s.variants),
            f"{s.positive:.0%}" if s.positive is not None else "n/a",
            *(pct(v) for v in (s.min, s.p10, s.p25, s.p50, s.p75, s.p90, s.max)),
        ]
        for s in inert(sweep).summary
    ]
    return markdown_table(SWEEP_SUMMARY_COLUMNS, rows)


def summary_markdown(
    result: RunResult, claims: ClaimsResult | None, sweep: SweepResult | None = None
) -> str:
    """``summary.md``, for pasting into notes, a chat or a pull request: the answer first (the
    thesis line and a headline per claim), the verdict tables with each claim's caveats, the
    metrics of every window, the sweep's summary when there is one, and the limitations last.
    Numbers as in ``claims.json`` / ``results.json`` / ``sweep.json``; every string from them is
    escaped (:func:`inert`)."""
    from reports.words import claim_headline, options_echo, special_line, thesis_line

    claims_table = claims_markdown(claims) if claims is not None else ""
    sweep_table = sweep_markdown(sweep) if sweep is not None else ""
    result = inert(result)
    tables = {w.name: _metrics_table(result, w.name) for w in result.run.windows}
    claims = inert(claims) if claims is not None else None
    sweep = inert(sweep) if sweep is not None else None
    run = result.run
    used = [m for b in result.buckets.values() for m in b.members if m.used]
    unverified = sum(m.status != "verified" for m in used)
    lines = [f"# Did the claims show up? bucketmap, {run.start} → {run.end}", ""]
    if claims is not None and claims.claims:
        confidence = claims.settings.confidence
        lines += [f"**{thesis_line(claims)}**", ""]
        lines += [
            f"- **{c.id}** ({c.verdict}): {claim_headline(c, confidence)}" for c in claims.claims
        ]
        lines.append("")
    lines += [
        f"Prices: {run.price_source}, data to {run.data_last_date}; {options_echo(run)}; "
        f"{unverified} of the {len(used)} members used are not verified.",
        "",
    ]
    if claims is not None and claims.claims:
        lines += [
            "## Claims",
            "",
            markdown_table(compact_columns(claims), list(compact_rows(claims))),
            "Every control of every claim:",
            "",
            claims_table,
            claims_caption(claims),
            "",
        ]
        for c in claims.claims:
            lines.append(f"- **{c.id}** ({c.statement}): {claim_note(c)}")
        lines.append("")
        special = [c for c in claims.claims if c.special is not None]
        if special:
            first = special[0].special
            assert first is not None
            lines += [
                "## Was the basket special?",
                "",
                *(f"- **{c.id}**: {special_line(c)}" for c in special),
                "",
                f"Pool {first.pool} ({first.pool_source}): {first.survivorship}. Every basket "
                "and its excess: baskets.csv.",
                "",
            ]
    for w, table in zip(run.windows, tables.values(), strict=True):
        lines += [
            f"## {w.name}: {w.start} → {w.end}",
            "",
            f"{w.description}; excess vs X = (1 + total return) / (1 + X's) − 1 over the same "
            "days.",
            "",
            table,
        ]
    if sweep is not None:
        lines += [
            f"## Sweep: {sweep.variants:,} variants, excess return vs {sweep.benchmark}",
            "",
            f"{sweep.run_start} → {sweep.run_end}; {' / '.join(sweep.weightings)} × "
            f"{' / '.join(sweep.rebalances)} × start +{shifts_text(sweep.shifts)} days"
            f"{' × each member left out' if sweep.leave_one_out else ''}; rows in sweep.csv.",
            "",
            sweep_table,
        ]
    lines += ["## Limitations", "", *(f"- {x}" for x in run.limitations)]
    if run.warnings:
        lines += ["", "## Warnings", "", *(f"- {x}" for x in run.warnings)]
    return "\n".join(lines) + "\n"
