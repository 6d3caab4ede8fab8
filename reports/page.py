"""The report page: one self-contained HTML file (plotly.js inline; no request leaves the page).

The page opens with the answer (the thesis line and a headline per claim, in words generated from
the numbers), then one card per claim, the buckets' paths, the metrics, a tear sheet per bucket,
and the checks behind it all. This module lays out and escapes; it computes no new numbers (the
figures come from :mod:`reports.figures`). Every string from the results goes through
:func:`html.escape`.

Charts are drawn by the page itself from JSON it carries, each when it comes near the screen (a
tear sheet's when it is opened), and all of them before printing: a page of sixty charts opens
as fast as one of five.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from backtest.results import (
    BucketResult,
    ClaimResult,
    ClaimsResult,
    MemberResult,
    Metrics,
    Relative,
    RunResult,
    SweepResult,
)
from reports.figures import (
    BETA_DAYS,
    ROLLING_DAYS,
    Spec,
    claim_leave_one_out_figure,
    claim_path_figure,
    claim_ratio_figure,
    claim_robustness_figure,
    claim_special_figure,
    contributions_figure,
    drawdown_figure,
    growth_figure,
    hedge_figure,
    monthly_heatmap_figure,
    plotly_figure,
    rolling_beta_figure,
    rolling_excess_figure,
    sweep_figure,
    yearly_figure,
)
from reports.palette import Style, styles
from reports.summary import (
    SWEEP_SUMMARY_COLUMNS,
    claim_note,
    claims_caption,
    compact_columns,
    compact_rows,
    shifts_text,
    tear_sheet_benchmark,
)
from reports.words import claim_headline, options_echo, signed, special_line, thesis_line

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;
max-width:1400px;color:#222;padding:0 20px;line-height:1.45}
h1{font-size:1.55em;margin:0 0 .2em}
h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:4px;font-size:1.3em}
h3{font-size:1.08em;margin:1.2em 0 .4em}
table{border-collapse:collapse;font-size:.85em;margin:8px 0;width:100%}
th,td{padding:4px 8px;border-bottom:1px solid #eee;text-align:right;vertical-align:top}
th{font-weight:600;background:#fafafa}
th:first-child,td:first-child{text-align:left}
td.text,th.text{text-align:left}
.neg{color:#b00020}.pos{color:#0a6d2c}.muted{color:#777}
.meta{color:#555;font-size:.9em}
.banner{background:#fff4e5;border-left:4px solid #e08a00;padding:8px 12px;margin:12px 0}
.banner.ok{background:#eaf6ec;border-left-color:#0a6d2c}
.answer{background:#f6f8fb;border:1px solid #dde3ea;border-radius:6px;padding:12px 18px}
.answer .thesis{font-size:1.08em;font-weight:600;margin:.2em 0 .6em}
.answer ol{padding-left:1.2em;margin:.4em 0}
.answer li{margin:.45em 0}
.badge{display:inline-block;padding:0 .5em;border-radius:3px;font-size:.85em;font-weight:600;
background:#e8e8e8;color:#333;white-space:nowrap}
.badge.supported{background:#dff2e3;color:#0a6d2c}.badge.refuted{background:#fbe3e6;color:#b00020}
.badge.negligible{background:#e6eefa;color:#2a4d7a}.badge.insufficient_data{background:#eee;color:#666}
.card{border:1px solid #dde3ea;border-radius:6px;padding:4px 18px 14px;margin:18px 0;
break-inside:avoid-page}
.card h3{display:flex;gap:.6em;align-items:baseline;flex-wrap:wrap}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:6px 16px;
margin:10px 0;font-size:.88em}
.facts div{border-left:3px solid #e5e9ef;padding-left:8px}
.facts dt{color:#666;font-size:.85em}.facts dd{margin:0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:8px 16px}
.chart{min-width:0;break-inside:avoid}
.named{white-space:nowrap}
.swatch{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:.3em;
vertical-align:baseline}
details{border:1px solid #e5e9ef;border-radius:6px;margin:10px 0;padding:4px 14px}
details>summary{cursor:pointer;font-weight:600;padding:6px 0}
ul.notes{margin:.3em 0;padding-left:1.2em;font-size:.9em}
@media (max-width:1000px){
 .charts{grid-template-columns:1fr}
 table.stack thead{display:none}
 table.stack tr{display:block;border-bottom:1px solid #ddd;padding:4px 0}
 table.stack td{display:flex;justify-content:space-between;gap:12px;border:0;padding:2px 4px;
 text-align:right}
 table.stack td::before{content:attr(data-label);font-weight:600;color:#555;text-align:left}
}
@media print{
 body{max-width:none;margin:0;padding:0 8px}
 .card,.chart,table,details{break-inside:avoid}
 h2{break-after:avoid}
 .charts{grid-template-columns:1fr 1fr}
}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


_NA = '<span class="muted">n/a</span>'


def _coloured(value: float, text: str, signed_: bool) -> str:
    """``text`` red when ``value`` is negative; green when positive and ``signed_``."""
    cls = "neg" if value < 0 else "pos" if signed_ and value > 0 else ""
    return f'<span class="{cls}">{_e(text)}</span>' if cls else _e(text)


def _pct(value: float | None, signed_: bool = False) -> str:
    if value is None:
        return _NA
    return _coloured(value, f"{value:+.1%}" if signed_ else f"{value:.1%}", signed_)


def _num(value: float | None) -> str:
    return _NA if value is None else _e(f"{value:.2f}")


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    text_columns: int | Sequence[int] = 1,
) -> str:
    """A table whose text columns (the first ``text_columns``, or those listed) are left-aligned
    and numbers right-aligned; under 1,000 px wide it stacks (each row a block of
    ``header: value`` lines), so it never runs off the page."""
    texts = set(range(text_columns)) if isinstance(text_columns, int) else set(text_columns)
    head = "".join(
        f'<th class="{"text" if i in texts else ""}">{_e(h)}</th>' for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td data-label="{_e(h)}" class="{"text" if i in texts else ""}">{c}</td>'
            for i, (h, c) in enumerate(zip(headers, row, strict=True))
        )
        + "</tr>"
        for row in rows
    )
    return f'<table class="stack"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _swatch(name: str, palette: Mapping[str, Style]) -> str:
    style = palette.get(name)
    if style is None:
        return _e(name)
    border = "border:1px dashed #333;" if style.dash != "solid" else ""
    return (
        f'<span class="named"><span class="swatch" style="background:{style.colour};{border}">'
        f"</span>{_e(name)}</span>"
    )


def _badge(verdict: str) -> str:
    return f'<span class="badge {_e(verdict)}">{_e(verdict.replace("_", " "))}</span>'


# --- charts ---------------------------------------------------------------------------------------


class Charts:
    """The page's charts: each a placeholder ``div`` plus its figure as JSON, drawn by the page's
    script (:data:`_DRAW`). The plotly template they share (``plotly_white``) is written once."""

    def __init__(self) -> None:
        self.count = 0
        self.figures: dict[str, Spec] = {}
        """Every figure drawn (its spec, :mod:`reports.figures`), by chart name (the page's
        ``chart-NAME`` id without ``chart-``)."""

    def html(self, spec: Spec, name: str) -> str:
        self.figures[name] = spec
        text = json.dumps(spec, cls=_PlotlyEncoder).replace("</", "<\\/")
        self.count += 1
        chart_id = f"chart-{name}"
        return (
            f'<div class="chart" data-chart="{_e(chart_id)}" id="{_e(chart_id)}"></div>'
            f'<script type="application/json" id="{_e(chart_id)}-json">{text}</script>'
        )

    def script(self) -> str:
        import plotly.io as pio

        shared = pio.templates["plotly_white"].to_plotly_json()
        template = json.dumps(shared, cls=_PlotlyEncoder).replace("</", "<\\/")
        return f"<script>var BM_TEMPLATE = {template};</script>{_DRAW}"


def _plotly_encoder() -> type[json.JSONEncoder]:
    from plotly.utils import PlotlyJSONEncoder

    encoder: type[json.JSONEncoder] = PlotlyJSONEncoder
    return encoder


class _PlotlyEncoder(json.JSONEncoder):
    """plotly's own JSON: a numpy array as plotly's typed array (``{"dtype", "bdata"[, "shape"]}``,
    as ``Figure.to_plotly_json()`` writes it) when plotly has one for its dtype, anything else as
    plotly's encoder writes it (imported late)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, np.ndarray):
            from _plotly_utils.utils import to_typed_array_spec

            typed = to_typed_array_spec(o)
            if not isinstance(typed, np.ndarray):
                return typed
        return _plotly_encoder().default(_plotly_encoder()(), o)


# draws a chart when it comes near the screen (inside an open section), and every chart before
# printing; records how long the page took to load and draw (read by the browser test)
_DRAW = """<script>
(function () {
  var config = {displaylogo: false, responsive: true};
  function draw(el) {
    if (el.dataset.drawn) return;
    var spec = JSON.parse(document.getElementById(el.id + "-json").textContent);
    spec.layout.template = BM_TEMPLATE;
    Plotly.newPlot(el, spec.data, spec.layout, config);
    el.dataset.drawn = "1";
  }
  function shown(el) { return !el.closest("details:not([open])"); }
  function drawAll() { document.querySelectorAll(".chart").forEach(draw); }
  window.addEventListener("DOMContentLoaded", function () {
    var charts = document.querySelectorAll(".chart");
    if (!("IntersectionObserver" in window)) { charts.forEach(function (el) {
      if (shown(el)) draw(el); }); return; }
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting && shown(e.target)) { draw(e.target); seen.unobserve(e.target); }
      });
    }, {rootMargin: "800px 0px"});
    charts.forEach(function (el) { seen.observe(el); });
    document.querySelectorAll("details").forEach(function (d) {
      d.addEventListener("toggle", function () {
        if (d.open) d.querySelectorAll(".chart").forEach(function (el) {
          seen.unobserve(el); seen.observe(el); });
      });
    });
  });
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
    drawAll();
  });
  window.addEventListener("load", function () {
    document.body.dataset.renderedMs = String(Math.round(performance.now()));
  });
})();
</script>"""


# --- the answer -----------------------------------------------------------------------------------


def answer_section(claims: ClaimsResult | None, result: RunResult) -> str:
    """The thesis line, a headline per claim (linked to its card) and the compact verdict table."""
    if claims is None:
        items = "".join(
            f"<li><b>{_e(c.id)}</b>: {_e(c.bucket)} vs {_e(c.benchmark)} from {_e(c.start)}</li>"
            for c in result.claims
        )
        return (
            '<section class="answer"><p class="thesis">No claims.json beside this run: the '
            f"claims were not tested.</p><ul>{items}</ul></section>"
        )
    if not claims.claims:
        return '<section class="answer"><p class="thesis">No claims in claims.yaml.</p></section>'
    confidence = claims.settings.confidence
    items = "".join(
        f'<li>{_badge(c.verdict)} <a href="#claim-{i}"><b>{_e(c.id)}</b></a>: '
        f"{_e(claim_headline(c, confidence))}</li>"
        for i, c in enumerate(claims.claims)
    )
    table = _table(
        compact_columns(claims),
        ([_e(x) for x in row] for row in compact_rows(claims)),
        text_columns=(0, 1, 3, 4),
    )
    return (
        f'<section class="answer" id="answer"><p class="thesis">{_e(thesis_line(claims))}</p>'
        f"<ol>{items}</ol>{table}</section>"
    )


# --- a card per claim -----------------------------------------------------------------------------


def _facts(c: ClaimResult, claims: ClaimsResult) -> str:
    """The claim's numbers as a grid of labelled facts (it wraps to the page's width)."""
    t, s = c.test, c.significance
    pairs: list[tuple[str, str]] = []
    if t.excess_return is not None:
        pairs.append(
            (
                f"excess [{claims.settings.confidence:.0%} interval]",
                f"{_pct(t.excess_return, True)} [{_pct(t.low, True)}, {_pct(t.high, True)}]",
            )
        )
        pairs.append(
            ("bucket / benchmark return", f"{_pct(t.bucket_return, True)} / "
             f"{_pct(t.benchmark_return, True)} over {t.days} days")
        )  # fmt: skip
    if s is not None and t.p_above is not None and s.p_above is not None:
        adjusted = "unadjusted" if s.correction == "none" else f"{s.correction}, {s.family} claims"
        pairs.append(
            ("p, excess above the level", f"{t.p_above:.3f} ({adjusted}: {s.p_above:.3f})")
        )
    if c.block_length is not None:
        b = c.block_length
        how = f"Politis–White {b.estimate:.1f}" if b.estimate is not None else b.source
        pairs.append(("block length", f"{b.used} days ({_e(how)})"))
    h = c.own_history
    if h is not None:
        if h.percentile is not None and h.p_value is not None:
            pairs.append(
                (
                    f"own history: {h.windows} windows (~{h.independent} independent)",
                    f"{h.percentile:.0%} percentile, p = {h.p_value:.2f}; the rule said "
                    f"supported in {h.supported_share:.0%} of them",
                )
            )
        else:
            pairs.append(("own history", _e(h.reason or "")))
    w = c.power
    if w is not None and w.detectable_above is not None and w.detectable_below is not None:
        more = (
            f"; {w.further_days} more days at this pace"
            if c.verdict == "inconclusive" and w.further_days
            else ""
        )
        pairs.append(
            (
                f"detectable ({w.power:.0%} power)",
                f"above {_e(signed(w.detectable_above, 0))} or below "
                f"{_e(signed(w.detectable_below, 0))}{_e(more)}",
            )
        )
    if c.placebo is not None:
        p = c.placebo.test
        pairs.append(
            (
                f"placebo: {p.days} days before",
                f"{_pct(p.excess_return, True)} {_e(p.verdict)}"
                + ("" if c.placebo.passes is None else (" (passes)" if c.placebo.passes else
                                                         " (fails)")),
            )
        )  # fmt: skip
    if c.leave_one_out is not None and c.leave_one_out.fragile is not None:
        loo = c.leave_one_out
        pairs.append(
            ("leave-one-out", _e(f"fragile ({', '.join(loo.flips)})" if loo.fragile else "stable"))
        )
    if c.beta_adjusted is not None:
        a = c.beta_adjusted
        pairs.append(
            (
                f"alpha on {' + '.join(a.factors)} (a year)",
                f"{_pct(a.alpha, True)} [{_pct(a.alpha_low, True)}, {_pct(a.alpha_high, True)}]"
                if a.alpha is not None
                else _e(a.verdict),
            )
        )
    if c.robustness is not None and c.robustness.variants:
        pairs.append(
            ("robustness", f"{c.robustness.agree} of {len(c.robustness.variants)} variants agree")
        )
    if c.block_length_sensitivity is not None and c.block_length_sensitivity.checks:
        pairs.append(
            (
                "block lengths",
                _e(", ".join(f"{k.block_length} d: {k.verdict}" for k in
                             c.block_length_sensitivity.checks)),
            )
        )  # fmt: skip
    pairs.append(
        ("survives its controls", {True: "yes", False: "no", None: "—"}[c.survives_controls])
    )
    cells = "".join(f"<div><dt>{_e(k)}</dt><dd>{v}</dd></div>" for k, v in pairs)
    return f'<dl class="facts">{cells}</dl>'


def claim_card(
    i: int,
    c: ClaimResult,
    claims: ClaimsResult,
    returns: pd.DataFrame,
    palette: Mapping[str, Style],
    run: RunResult,
    charts: Charts,
) -> str:
    """One claim: its headline, its numbers, the ratio line around its window, the evidence
    path, leave-one-out and the robustness grid."""
    head = (
        f'<article class="card" id="claim-{i}"><h3><span>{_e(c.id)}</span>{_badge(c.verdict)}'
        f'<span class="meta">{_swatch(c.bucket, palette)} vs {_swatch(c.benchmark, palette)}; '
        f"note {_e(c.source)}</span></h3>"
        f'<p class="meta">{_e(c.statement)}</p>'
        f"<p>{_e(claim_headline(c, claims.settings.confidence))}</p>"
    )
    if c.test.excess_return is None:
        return head + "</article>"
    lines = [*c.caveats, *c.notes]
    notes = "".join(f"<li>{_e(x)}</li>" for x in lines)
    parts = [
        charts.html(claim_ratio_figure(returns, c, palette, run.run.start), f"claim-{i}-ratio"),
        charts.html(claim_path_figure(c, claims.settings.confidence), f"claim-{i}-path"),
    ]
    if c.leave_one_out is not None and c.leave_one_out.members:
        parts.append(charts.html(claim_leave_one_out_figure(c), f"claim-{i}-loo"))
    if c.robustness is not None and c.robustness.variants:
        parts.append(charts.html(claim_robustness_figure(c), f"claim-{i}-grid"))
    special = ""
    if c.special is not None:
        special = f'<p class="special">{_e(special_line(c))}</p>'
        if c.special.random.histogram_counts:
            parts.append(charts.html(claim_special_figure(c), f"claim-{i}-special"))
    return (
        head
        + _facts(c, claims)
        + special
        + (f'<ul class="notes">{notes}</ul>' if notes else "")
        + f'<div class="charts">{"".join(parts)}</div></article>'
    )


# --- tables ---------------------------------------------------------------------------------------


_METRIC_HEADERS = [
    "total return",
    "CAGR",
    "volatility (a year)",
    "Sharpe (a year)",
    "Sortino (a year)",
    "max drawdown",
    "Calmar",
    "best month",
    "worst month",
    "days",
]


def _metric_cells(metrics: Metrics) -> list[str]:
    return [
        _pct(metrics.total_return, True),
        _pct(metrics.cagr, True),
        _pct(metrics.volatility),
        _num(metrics.sharpe),
        _num(metrics.sortino),
        _pct(metrics.max_drawdown),
        _num(metrics.calmar),
        _pct(metrics.best_month, True),
        _pct(metrics.worst_month, True),
        _e(metrics.days),
    ]


def metrics_table(result: RunResult, window: str, palette: Mapping[str, Style]) -> str:
    """One window's metrics of every bucket and benchmark ticker."""
    rows = []
    for name, bucket in result.buckets.items():
        rows.append([_swatch(name, palette), _e(bucket.side),
                     *_metric_cells(bucket.windows[window].metrics)])  # fmt: skip
    for name, bench in result.benchmarks.items():
        if bench.kind == "ticker":
            rows.append([_swatch(name, palette), "benchmark",
                         *_metric_cells(bench.windows[window])])  # fmt: skip
    return _table(["series", "side", *_METRIC_HEADERS], rows, text_columns=2)


def excess_table(result: RunResult, window: str, palette: Mapping[str, Style]) -> str:
    """One window's excess return of every bucket over every benchmark (ratio of growth − 1)."""
    benches = list(result.benchmarks)
    rows = []
    for name, bucket in result.buckets.items():
        vs = bucket.windows[window].vs
        rows.append(
            [_swatch(name, palette),
             *(_pct(vs[b].excess_return, True) if b in vs else "—" for b in benches)]
        )  # fmt: skip
    return _table(["bucket", *(f"excess vs {b}" for b in benches)], rows)


def window_tables(result: RunResult, palette: Mapping[str, Style]) -> str:
    """Per analysis window: the metrics, and the excess over each benchmark."""
    parts = []
    for w in result.run.windows:
        parts.append(
            f"<h3>{_e(w.name)} <span class='meta'>({_e(w.description)}: returns after the close "
            f"of {_e(w.start)} up to the close of {_e(w.end)})</span></h3>"
            f"{metrics_table(result, w.name, palette)}{excess_table(result, w.name, palette)}"
        )
    return "\n".join(parts)


# --- tear sheets ----------------------------------------------------------------------------------


def _relative_cells(r: Relative | None) -> list[tuple[str, str]]:
    if r is None:
        return []
    return [
        ("excess return", _pct(r.excess_return, True)),
        ("difference (pp)", _NA if r.return_difference is None else
         _coloured(r.return_difference, f"{r.return_difference * 100:+.1f} pp", True)),
        ("beta", _num(r.beta)),
        ("tracking error (a year)", _pct(r.tracking_error)),
        ("information ratio (a year)", _num(r.information_ratio)),
        ("up / down capture (monthly)", f"{_num(r.up_capture)} / {_num(r.down_capture)}"),
        ("correlation (daily)", _num(r.correlation)),
        ("months beaten", _pct(r.months_beaten_share)),
    ]  # fmt: skip


def tear_sheet(
    k: int,
    name: str,
    bucket: BucketResult,
    bench: str,
    returns: pd.DataFrame,
    palette: Mapping[str, Style],
    charts: Charts,
) -> str:
    """One bucket's tear sheet (collapsed until opened): key metrics against its benchmark, the
    monthly heat map, returns by year beside the benchmark's, the five worst drawdowns and the
    rolling beta."""
    from backtest.evidence.metrics import drawdown_periods

    metrics = bucket.metrics
    panel = [
        ("total return", _pct(metrics.total_return, True)),
        ("CAGR", _pct(metrics.cagr, True)),
        ("volatility (a year)", _pct(metrics.volatility)),
        ("Sharpe (a year)", _num(metrics.sharpe)),
        ("Sortino (a year)", _num(metrics.sortino)),
        ("max drawdown", _pct(metrics.max_drawdown)),
        *_relative_cells(bucket.vs.get(bench)),
    ]
    facts = "".join(f"<div><dt>{_e(a)}</dt><dd>{b}</dd></div>" for a, b in panel)
    series = returns[name] if name in returns.columns else pd.Series(dtype="float64")
    bench_series = returns[bench] if bench in returns.columns else pd.Series(dtype="float64")
    worst = drawdown_periods(series, 5)
    rows = [
        [
            _e(p.peak.date() if p.peak is not None else "start"),
            _e(p.trough.date()),
            _e(p.recovery.date() if p.recovery is not None else "not recovered"),
            _pct(p.depth),
            _e(p.days),
        ]
        for p in worst
    ]
    table = _table(["peak", "trough", "recovery", "depth", "trading days"], rows, text_columns=3)
    parts = [charts.html(monthly_heatmap_figure(series, name), f"tear-{k}-monthly")]
    if len(bench_series.dropna()):
        parts.append(
            charts.html(
                yearly_figure(series, bench_series, name, bench, palette), f"tear-{k}-yearly"
            )
        )
        parts.append(
            charts.html(
                rolling_beta_figure(series, bench_series, name, bench, palette), f"tear-{k}-beta"
            )
        )
    return (
        f"<details><summary>{_swatch(name, palette)} <span class='meta'>({_e(bucket.side)}; "
        f"against {_e(bench)}, over the whole run)</span></summary>"
        f'<dl class="facts">{facts}</dl>'
        f'<div class="charts">{"".join(parts)}</div>'
        f"<h3>Five worst drawdowns</h3>{table}</details>"
    )


# --- the rest -------------------------------------------------------------------------------------


def _verification(m: MemberResult) -> str:
    if m.status != "verified":
        return m.status
    evidence = f": {m.evidence}" if m.evidence else ""
    return f"by {m.verified_by} on {m.verified_on}{evidence}"


def coverage_table(result: RunResult, palette: Mapping[str, Style]) -> str:
    """Per bucket: member counts by status, and each member's prices and use."""
    parts = []
    for name, bucket in result.buckets.items():
        counts = bucket.status_counts
        used = sum(m.used for m in bucket.members)
        parts.append(
            f"<h3>{_swatch(name, palette)} <span class='meta'>({_e(bucket.side)}; {used} of "
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
                _e(m.reason or ""),
                _e(_verification(m)),
                _e(m.rationale),
            ]
            for m in bucket.members
        ]
        headers = ["ticker", "status", "first price", "last price", "joined", "sold", "used",
                   "why not", "verified", "rationale"]  # fmt: skip
        parts.append(_table(headers, rows, text_columns=2))
    return "\n".join(parts)


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
            _pct(h.hedge_mean_in_worst_weeks, True),
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
            *(_pct(v, True) for v in (s.min, s.p10, s.p25, s.p50, s.p75, s.p90, s.max)),
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
    return f'<p class="meta">{_e(how)}</p>{table}'


def _all_verified(count: int) -> str:
    if count == 1:
        return "The one member used in this run is verified."
    return f"All {count} members used in this run are verified."


def render_report(
    result: RunResult,
    returns: pd.DataFrame,
    claims: ClaimsResult | None = None,
    sweep: SweepResult | None = None,
    *,
    charts: Charts | None = None,
) -> str:
    """The whole page as one HTML string (plotly.js embedded, so it opens offline).

    ``returns`` is ``returns.csv``; ``claims`` is ``claims.json`` and ``sweep`` ``sweep.json``
    when there are. ``charts``, when given, collects the page's figures (:func:`report_figures`).
    """
    from plotly.offline import get_plotlyjs

    run = result.run
    palette = styles(
        result.buckets,
        [
            *(b for b, x in result.benchmarks.items() if x.kind == "ticker"),
            *(c.benchmark for c in result.claims),
        ],
    )
    series = [c for c in returns.columns if c in result.buckets or c in result.benchmarks]
    shown = returns[series]
    charts = charts if charts is not None else Charts()
    growth = charts.html(growth_figure(shown, pd.Timestamp(run.start), palette, result.claims),
                         "growth")  # fmt: skip
    drawdowns = charts.html(drawdown_figure(shown, palette, result.claims), "drawdown")
    rolling = (
        f"<h2>Rolling {ROLLING_DAYS}-day excess return of each claim</h2>"
        f'<p class="meta">exp(sum of daily excess log returns over the last {ROLLING_DAYS} shared '
        "trading days) − 1 of each claim's bucket against the claim's own benchmark: above 0, "
        "the bucket gained on it over the past quarter.</p>"
        + charts.html(rolling_excess_figure(returns, palette, result.claims), "rolling")
        if result.claims
        else ""
    )
    cards = ""
    if claims is not None:
        cards = "".join(
            claim_card(i, c, claims, returns, palette, result, charts)
            for i, c in enumerate(claims.claims)
        )
    sheets = "".join(
        tear_sheet(k, name, bucket, tear_sheet_benchmark(name, result), returns, palette, charts)
        for k, (name, bucket) in enumerate(result.buckets.items())
    )
    contributions = charts.html(contributions_figure(result, palette), "contributions")
    hedge = charts.html(hedge_figure(result, palette), "hedge") if result.hedges else ""
    sweep_html = ""
    if sweep is not None:
        sweep_html = (
            "<h2>Sweep: excess return across variants</h2>"
            + sweep_section(sweep)
            + charts.html(sweep_figure(sweep, palette), "sweep")
        )
    meta = (
        f"Window {_e(run.start)} → {_e(run.end)} ({run.trading_days} trading days, "
        f"{_e(run.calendar)}); {_e(options_echo(run))}. "
        f"Prices: {_e(run.price_source)}, data to {_e(run.data_last_date)}. "
        f"Returns are fractions shown as %; annualised figures use {run.annualisation_days} "
        f"days; risk-free rate {_e(run.risk_free)}. Excess return = (1 + bucket) / "
        "(1 + benchmark) − 1 everywhere; a difference of total returns is in pp."
    )
    used = [m for b in result.buckets.values() for m in b.members if m.used]
    unverified = sum(m.status != "verified" for m in used)
    banner = (
        f'<p class="banner">{unverified} of the {len(used)} members used in this run are '
        "not verified (status proposed): treat every figure as provisional until they are, or "
        "rerun with --verified-only.</p>"
        if unverified
        else f'<p class="banner ok">{_all_verified(len(used))}</p>'
    )
    # --bucket / --verified-only left part of the universe out: said at the top, listed below
    left_out = [x for x in run.warnings if " left out" in x]
    if left_out:
        banner += (
            f'<p class="banner">This run left part of the universe out ({len(left_out)} '
            f'line{"s" if len(left_out) > 1 else ""}: <a href="#warnings">Warnings</a>).</p>'
        )
    limitations = "".join(f"<li>{_e(x)}</li>" for x in run.limitations)
    warnings = "".join(f"<li>{_e(x)}</li>" for x in run.warnings)
    how = ""
    if claims is not None and claims.claims:
        notes = "".join(f"<li><b>{_e(c.id)}</b>: {_e(claim_note(c))}</li>" for c in claims.claims)
        how = f'<ul class="notes">{notes}</ul><p class="meta">{_e(claims_caption(claims))}</p>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bucketmap: did the claims show up? {_e(run.start)} to {_e(run.end)}</title>
<style>{_CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head><body>
<h1>Did the claims show up in relative returns?</h1>
<p class="meta">{meta}</p>
{answer_section(claims, result)}
{banner}
<h2>The claims, one by one</h2>
<p class="meta">Each card: the ratio line bucket / benchmark (1 at the claim date; the claim's
window and its placebo window shaded), the excess and its interval as of each week since the
claim date (from the prices up to that week only), the excess with each member left out, and
the verdict under other weightings, rebalances and start dates.</p>
{cards}
{how}
<h2>Growth of $1</h2>
{growth}
<h2>Drawdowns</h2>
{drawdowns}
{rolling}
<h2>Metrics by window</h2>
{window_tables(result, palette)}
<p class="meta">Every figure can be recomputed from returns.csv with the formulas in the README.
</p>
<h2>Tear sheets</h2>
<p class="meta">Each bucket against the benchmark of its first claim (or the first benchmark):
capture ratios in Morningstar's convention (monthly returns, geometric means); rolling beta over
{BETA_DAYS} shared days. Open one to draw it.</p>
{sheets}
<h2>Who carried each bucket</h2>
<p class="meta">Each member's part of the bucket's total return (results.json
<code>windows.*.contributions</code>; with costs they add up to it).</p>
{contributions}
<h2>Hedge effectiveness</h2>
{hedge_section(result)}
{hedge}
{sweep_html}
<h2>Coverage</h2>
<p class="meta">Prices: {_e(run.price_source)}; data to {_e(run.data_last_date)}. A member joins
at its first price (never back-filled).</p>
{coverage_table(result, palette)}
<h2>Limitations</h2><ul>{limitations}</ul>
{'<h2 id="warnings">Warnings</h2><ul>' + warnings + "</ul>" if warnings else ""}
<p class="meta">bucketmap {_e(run.bucketmap_version)}, made {_e(run.created_at)}.</p>
{charts.script()}
</body></html>
"""


def report_figures(
    result: RunResult,
    returns: pd.DataFrame,
    claims: ClaimsResult | None = None,
    sweep: SweepResult | None = None,
) -> dict[str, Any]:
    """The report's plotly figures, by chart name (``growth``, ``drawdown``, ``rolling``,
    ``claim-K-ratio``/``-path``/``-loo``/``-grid`` for the K-th claim of ``claims.json``,
    ``tear-K-monthly``/``-yearly``/``-beta`` for the K-th bucket, ``contributions``, ``hedge``,
    ``sweep``): the very figures :func:`render_report` draws, as ``plotly.graph_objects.Figure``
    objects (:func:`reports.figures.plotly_figure`)."""
    charts = Charts()
    render_report(result, returns, claims, sweep, charts=charts)
    return {name: plotly_figure(spec) for name, spec in charts.figures.items()}
