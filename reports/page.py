"""The report page: one self-contained HTML file (plotly.js inline; no request leaves the page).

This module lays out and escapes; it computes no new numbers. Every user-supplied string (bucket
names, descriptions, tickers, reasons, the price source) goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from backtest.results import ClaimsResult, MemberResult, Metrics, RunResult, SweepResult
from reports.figures import (
    ROLLING_DAYS,
    contributions_figure,
    drawdown_figure,
    growth_figure,
    hedge_figure,
    leave_one_out_figure,
    ratio_figure,
    rolling_excess_figure,
    sweep_figure,
)
from reports.summary import (
    SWEEP_SUMMARY_COLUMNS,
    claim_columns,
    claim_note,
    claim_rows,
    claims_caption,
    shifts_text,
)

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;
max-width:1400px;color:#222;padding:0 16px}
h1{font-size:1.6em;margin-bottom:.2em}
h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;font-size:.85em;margin:8px 0}
th,td{padding:4px 8px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
td.text{text-align:left;white-space:normal}
span.text{display:inline-block;white-space:normal;text-align:left;min-width:12em;max-width:32em}
.neg{color:#b00020}.pos{color:#0a6d2c}.muted{color:#777}
.meta{color:#555;font-size:.9em}
.scroll{overflow-x:auto}
.banner{background:#fff4e5;border-left:4px solid #e08a00;padding:8px 12px}
.banner.ok{background:#eaf6ec;border-left-color:#0a6d2c}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


_NA = '<span class="muted">n/a</span>'


def _coloured(value: float, text: str, signed: bool) -> str:
    """``text`` red when ``value`` is negative; green when positive and ``signed``."""
    cls = "neg" if value < 0 else "pos" if signed and value > 0 else ""
    return f'<span class="{cls}">{_e(text)}</span>' if cls else _e(text)


def _pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return _NA
    return _coloured(value, f"{value:+.1%}" if signed else f"{value:.1%}", signed)


def _pp(value: float | None) -> str:
    """A difference of two returns, in percentage points."""
    return _NA if value is None else _coloured(value, f"{value * 100:+.1f} pp", signed=True)


def _num(value: float | None) -> str:
    return _NA if value is None else _e(f"{value:.2f}")


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{_e(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _metric_cells(metrics: Metrics) -> list[str]:
    return [
        _pct(metrics.total_return, signed=True),
        _pct(metrics.cagr, signed=True),
        _pct(metrics.volatility),
        _num(metrics.sharpe),
        _num(metrics.sortino),
        _pct(metrics.max_drawdown),
        _num(metrics.calmar),
        _pct(metrics.best_month, signed=True),
        _pct(metrics.worst_month, signed=True),
        _e(metrics.days),
    ]


_METRIC_HEADERS = [
    "total return",
    "CAGR",
    "volatility",
    "Sharpe",
    "Sortino",
    "max drawdown",
    "Calmar",
    "best month",
    "worst month",
    "days",
]


def metrics_table(result: RunResult, window: str = "whole") -> str:
    """One window's metrics of every bucket and benchmark, then the bucket's excess total return
    over each benchmark (pp) in that window."""
    benches = list(result.benchmarks)
    headers = ["series", "side", *_METRIC_HEADERS, *(f"excess vs {b}" for b in benches)]
    rows = []
    for name, bucket in result.buckets.items():
        w = bucket.windows[window]
        excess = [_pp(w.vs[b].excess_total_return) if b in w.vs else "—" for b in benches]
        rows.append([_e(name), _e(bucket.side), *_metric_cells(w.metrics), *excess])
    for name, bench in result.benchmarks.items():
        if bench.kind == "bucket":
            continue
        cells = _metric_cells(bench.windows[window])
        rows.append([_e(name), "benchmark", *cells, *(["—"] * len(benches))])
    return _table(headers, rows)


def window_tables(result: RunResult) -> str:
    """A metrics table per analysis window, each headed by its dates."""
    parts = []
    for w in result.run.windows:
        parts.append(
            f"<h3>{_e(w.name)} <span class='meta'>({_e(w.description)}: returns after the close "
            f"of {_e(w.start)} up to the close of {_e(w.end)})</span></h3>"
            f'<div class="scroll">{metrics_table(result, w.name)}</div>'
        )
    return "\n".join(parts)


def _verification(m: MemberResult) -> str:
    if m.status != "verified":
        return m.status
    evidence = f": {m.evidence}" if m.evidence else ""
    return f"by {m.verified_by} on {m.verified_on}{evidence}"


def coverage_table(result: RunResult) -> str:
    """Per bucket: member counts by status, and each member's prices and use."""
    parts = []
    for name, bucket in result.buckets.items():
        counts = bucket.status_counts
        used = sum(m.used for m in bucket.members)
        parts.append(
            f"<h3>{_e(name)} <span class='meta'>({_e(bucket.side)}; {used} of "
            f"{len(bucket.members)} members used; verified {counts.get('verified', 0)}, "
            f"proposed {counts.get('proposed', 0)}, rejected {counts.get('rejected', 0)})"
            "</span></h3>"
        )
        if bucket.description:
            parts.append(f"<p class='meta'>{_e(bucket.description)}</p>")
        if bucket.overlaps:
            shared = "; ".join(
                f"{_e(t)} (also in {_e(', '.join(others))})"
                for t, others in bucket.overlaps.items()
            )
            parts.append(f"<p class='meta'>Shared with other long buckets: {shared}</p>")
        rows = [
            [
                _e(m.ticker),
                _e(m.status),
                _e(m.first_date or "—"),
                _e(m.last_date or "—"),
                _e(m.joined or "—"),
                _e(m.exited or "—"),
                "yes" if m.used else "no",
                f'<span class="text">{_e(m.reason or "")}</span>',
                f'<span class="text">{_e(_verification(m))}</span>',
                f'<span class="text">{_e(m.rationale)}</span>',
            ]
            for m in bucket.members
        ]
        parts.append(
            _table(
                [
                    "ticker",
                    "status",
                    "first price",
                    "last price",
                    "joined",
                    "sold",
                    "used",
                    "why not",
                    "verified",
                    "rationale",
                ],
                rows,
            )
        )
    return "\n".join(parts)


_VERDICT_CLASS = {"supported": "pos", "refuted": "neg"}


def claims_section(claims: ClaimsResult | None, result: RunResult) -> str:
    """The verdict table (one row per claim with its controls), each claim's caveats, and how the
    verdicts were reached. Without ``claims``, the claims are listed with their dates only."""
    if claims is None:
        items = "".join(
            f"<li><b>{_e(c.id)}</b>: {_e(c.bucket)} vs {_e(c.benchmark)} from {_e(c.start)}"
            f"{' to ' + _e(c.end) if c.end else ''}</li>"
            for c in result.claims
        )
        return f"<ul>{items or '<li>none</li>'}</ul>"
    if not claims.claims:
        return "<p>No claims in claims.yaml.</p>"
    rows = []
    columns = claim_columns(claims)
    verdict_at = columns.index("verdict")
    for claim, cells in zip(claims.claims, claim_rows(claims), strict=True):
        escaped = [_e(x) for x in cells]
        statement = f"<span class='meta text'>{_e(claim.statement)}</span>"
        escaped[0] = f"<b>{_e(claim.id)}</b><br>{statement}"
        cls = _VERDICT_CLASS.get(claim.verdict)
        if cls:
            escaped[verdict_at] = f'<span class="{cls}"><b>{_e(cells[verdict_at])}</b></span>'
        rows.append(escaped)
    notes = "".join(f"<li><b>{_e(c.id)}</b>: {_e(claim_note(c))}</li>" for c in claims.claims)
    s = claims.settings
    how = (
        f"{claims_caption(claims)} Supported: the adjusted p-value is under the level; refuted: "
        "the same for the excess being below the level; negligible: the interval lies within "
        f"the claim's min_effect of its level; else inconclusive; fewer than {s.min_days} days: "
        "insufficient_data. Placebo: the same test over as many days before the claim date. "
        f"Leave-one-out: the bucket without each member. Alpha: OLS on "
        f"{' and '.join(s.factors)}, × 252 (a year). Robust: variants "
        f"({' / '.join(s.grid_weightings)} × {' / '.join(s.grid_rebalances)} × start +"
        f"{'/'.join(str(x) for x in s.grid_shifts)} days) giving the same verdict. "
        "Series: returns.csv and variants.csv."
    )
    table = _table(columns, rows)
    return f'<div class="scroll">{table}</div><ul>{notes}</ul><p class="meta">{_e(how)}</p>'


def hedge_section(result: RunResult) -> str:
    """Per hedge bucket: beta and correlation to the long book, and its return in the long
    book's worst weeks (a table; the figure beside it draws the same numbers)."""
    if not result.hedges:
        return "<p>No bucket on the hedge side.</p>"
    rows = [
        [
            _e(name),
            _num(h.beta),
            _num(h.correlation),
            _pct(h.hedge_mean_in_worst_weeks, signed=True),
            _e(f"{h.hedge_fell_share:.0%}") if h.hedge_fell_share is not None else _NA,
            _e(h.days),
        ]
        for name, h in result.hedges.items()
    ]
    first = next(iter(result.hedges.values()))
    table = _table(
        [
            "hedge",
            "beta to long book",
            "correlation",
            f"mean in the {len(first.worst_weeks)} worst weeks",
            "share of those weeks it fell",
            "days",
        ],
        rows,
    )
    books = ", ".join(first.long_buckets)
    return (
        f"<p class='meta'>Long book: the mean of the daily returns of {_e(books)}. A hedge is "
        "held long in the run; held short it earns the negative of these returns, so a good "
        "hedge has a high beta and falls in the long book's worst weeks.</p>" + table
    )


def sweep_section(sweep: SweepResult) -> str:
    """How the sweep was run and the distribution of each bucket's excess returns over its
    variants (sweep.json's summary, recomputable from sweep.csv)."""
    rows = [
        [
            _e(s.bucket),
            _e(s.variants),
            _e(f"{s.positive:.0%}") if s.positive is not None else _NA,
            *(_pct(v, signed=True) for v in (s.min, s.p10, s.p25, s.p50, s.p75, s.p90, s.max)),
        ]
        for s in sweep.summary
    ]
    table = _table(SWEEP_SUMMARY_COLUMNS, rows)
    shifts = shifts_text(sweep.shifts)
    how = (
        f"{sweep.variants:,} variants over {sweep.run_start} → {sweep.run_end} (data to "
        f"{sweep.data_last_date}; {sweep.price_source}; costs {sweep.cost_bps:g} bps): "
        f"{' / '.join(sweep.weightings)} × {' / '.join(sweep.rebalances)} × start +{shifts} "
        f"trading days{' × each member left out' if sweep.leave_one_out else ''}. Excess = "
        f"(1 + variant return) / (1 + {sweep.benchmark} return) − 1 over the days both have a "
        f"return. Made {sweep.created_at}; one row per variant in sweep.csv."
    )
    return f'<p class="meta">{_e(how)}</p><div class="scroll">{table}</div>'


def _sweep_html(sweep: SweepResult | None, html_of: Mapping[str, str]) -> str:
    if sweep is None:
        return ""
    return "<h2>Sweep: excess return across variants</h2>" + sweep_section(sweep) + html_of["sweep"]


def _figure_html(fig: Any, div_id: str) -> str:
    html_text = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )
    return f'<div class="chart" data-chart="{_e(div_id)}">{html_text}</div>'


# records how long the page took to load and draw (read by the browser test; no request leaves)
_TIMING = """<script>window.addEventListener("load", function () {
document.body.dataset.renderedMs = String(Math.round(performance.now())); });</script>"""


def render_report(
    result: RunResult,
    returns: pd.DataFrame,
    claims: ClaimsResult | None = None,
    sweep: SweepResult | None = None,
) -> str:
    """The whole page as one HTML string (plotly.js embedded, so it opens offline).

    ``returns`` is ``returns.csv``; ``claims`` is ``claims.json`` and ``sweep`` ``sweep.json``
    when there are.
    """
    from plotly.offline import get_plotlyjs

    run = result.run
    members = "verified members only" if run.verified_only else "proposed and verified members"
    bucket_names = list(result.buckets)
    benches = list(result.benchmarks)
    series = [c for c in returns.columns if c in result.buckets or c in result.benchmarks]
    shown = returns[series]
    start = pd.Timestamp(run.start)
    charts = {
        "growth": growth_figure(shown, start, benches, result.claims),
        "ratio": ratio_figure(shown, bucket_names, benches, result.claims),
        "drawdown": drawdown_figure(shown, benches),
        "rolling": rolling_excess_figure(shown, bucket_names, benches, result.claims),
        "contributions": contributions_figure(result),
    }
    if claims is not None and any(
        c.leave_one_out and c.leave_one_out.members for c in claims.claims
    ):
        charts["leave_one_out"] = leave_one_out_figure(claims)
    if result.hedges:
        charts["hedge"] = hedge_figure(result)
    if sweep is not None:
        charts["sweep"] = sweep_figure(sweep)
    html_of = {name: _figure_html(fig, f"chart-{name}") for name, fig in charts.items()}
    meta = (
        f"Window {_e(run.start)} → {_e(run.end)} ({run.trading_days} trading days, "
        f"{_e(run.calendar)}). Rebalance {_e(run.rebalance)}, weighting {_e(run.weighting)}, "
        f"costs {run.cost_bps:g} bps, {members}. "
        f"Prices: {_e(run.price_source)}, data to {_e(run.data_last_date)}. "
        f"Returns are fractions shown as %, annualised with {run.annualisation_days} days; "
        f"risk-free rate {_e(run.risk_free)}."
    )
    used = [m for b in result.buckets.values() for m in b.members if m.used]
    unverified = sum(m.status != "verified" for m in used)
    banner = (
        f'<p class="banner">{unverified} of the {len(used)} members used in this run are '
        "not verified (status proposed): treat every figure as provisional until they are, or "
        "rerun with --verified-only.</p>"
        if unverified
        else f'<p class="banner ok">All {len(used)} members used in this run are verified.</p>'
    )
    limitations = "".join(f"<li>{_e(x)}</li>" for x in run.limitations)
    warnings = "".join(f"<li>{_e(x)}</li>" for x in run.warnings)
    loo = (
        "<h3>Leave-one-out, per claim</h3>" + html_of["leave_one_out"]
        if "leave_one_out" in html_of
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bucketmap report {_e(run.start)} to {_e(run.end)}</title>
<style>{_CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head><body>
<h1>bucketmap: buckets against benchmarks</h1>
<p class="meta">{meta}</p>
{banner}
<h2>Claims: verdicts and controls</h2>
{claims_section(claims, result)}
<h2>Growth of $1</h2>
{html_of["growth"]}
<h2>Relative strength</h2>
{html_of["ratio"]}
<h2>Drawdowns</h2>
{html_of["drawdown"]}
<h2>Rolling {ROLLING_DAYS}-day excess return</h2>
<p class="meta">exp(sum of daily excess log returns over the last {ROLLING_DAYS} shared trading
days) − 1: above 0, the bucket gained on the benchmark over the past quarter.</p>
{html_of["rolling"]}
<h2>Metrics by window</h2>
{window_tables(result)}
<p class="meta">Excess = bucket total return − benchmark total return over the days both have a
return, in percentage points (pp). Every figure can be recomputed from returns.csv.</p>
<h2>Who carried each bucket</h2>
<p class="meta">Each member's part of the bucket's total return (results.json
<code>windows.*.contributions</code>; with costs they add up to it).</p>
{html_of["contributions"]}
{loo}
<h2>Hedge effectiveness</h2>
{hedge_section(result)}
{html_of.get("hedge", "")}
{_sweep_html(sweep, html_of)}
<h2>Coverage</h2>
<p class="meta">Prices: {_e(run.price_source)}; data to {_e(run.data_last_date)}. A member joins
at its first price (never back-filled).</p>
{coverage_table(result)}
<h2>Limitations</h2><ul>{limitations}</ul>
{"<h2>Warnings</h2><ul>" + warnings + "</ul>" if warnings else ""}
<p class="meta">bucketmap {_e(run.bucketmap_version)}, made {_e(run.created_at)}.</p>
{_TIMING}
</body></html>
"""
