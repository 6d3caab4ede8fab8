"""Plain-text views of the results: the rows of the verdict table, for the terminal and Markdown.

Formatting only; every number comes from :class:`ClaimsResult` as it is written to
``claims.json``.
"""

from __future__ import annotations

from collections.abc import Iterator

from backtest.results import BetaAdjusted, ClaimsResult, LeaveOneOut, Placebo

CLAIM_COLUMNS = [
    "claim",
    "window",
    "days",
    "excess [90% interval]",
    "verdict",
    "placebo (before)",
    "leave-one-out",
    "alpha on factors",
    "robust",
    "survives",
]


def pct(x: float | None) -> str:
    """A signed percentage with one decimal, ``n/a`` for a missing value."""
    return "n/a" if x is None else f"{x:+.1%}"


def claim_rows(result: ClaimsResult) -> Iterator[list[str]]:
    """One row of display strings per claim, in :data:`CLAIM_COLUMNS` order."""
    for c in result.claims:
        t = c.test
        interval = f" [{pct(t.low)}, {pct(t.high)}]" if t.low is not None else ""
        yield [
            c.id,
            f"{t.start or c.start} → {t.end or c.end or 'latest'}",
            str(t.days),
            f"{pct(t.excess_return)}{interval}" if t.excess_return is not None else "n/a",
            t.verdict,
            "" if c.placebo is None else placebo_cell(c.placebo),
            loo_cell(c.leave_one_out),
            "" if c.beta_adjusted is None else alpha_cell(c.beta_adjusted),
            "" if c.robustness is None else f"{c.robustness.agree}/{len(c.robustness.variants)}",
            {True: "yes", False: "no", None: "—"}[c.survives_controls],
        ]


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
    """The verdict table as Markdown."""
    return markdown_table(CLAIM_COLUMNS, list(claim_rows(result)))
