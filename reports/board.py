"""The signal board, drawn: the terminal lines and the HTML page of one ``board.json``.

The board is computed by :mod:`backtest.evidence.board` (each claim's state, what changed since
the last board, its signals, resolution and next thing to look at); this module lays it out and
escapes it, and computes no number. Every string from the result goes through :func:`html.escape`
on the page; the terminal lines are plain text (the CLI makes control characters visible).
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterable

from backtest.results import BoardEntry, BoardResult, SignalView

WIDTH = 100
"""The terminal lines are wrapped to this many columns."""


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.1%}"


def _interval(e: BoardEntry, confidence: float) -> str:
    if e.excess_return is None:
        return "no excess yet"
    return f"{_pct(e.excess_return)} ({confidence:.0%} interval {_pct(e.low)} to {_pct(e.high)})"


def _state(s: SignalView) -> str:
    return {True: "ON", False: "off", None: "n/a"}[s.on]


def board_title(result: BoardResult) -> str:
    """``Signal board as of D (data to D2): N claims, ...``."""
    moved = sum(bool(e.changes) for e in result.entries)
    counters = sum(any(s.on for s in e.counter_signals) for e in result.entries)
    stops = sum(bool(e.stop and e.stop.on) for e in result.entries)
    return (
        f"Signal board as of {result.as_of} (data to {result.data_last_date}): "
        f"{len(result.entries)} claims, {moved} changed since the last board, "
        f"{counters} with a counter-signal on, {stops} at their stop point"
    )


def entry_headline(e: BoardEntry, confidence: float) -> str:
    """``pipes vs gpu_merchant since 2026-01-27: +20.6% (...): inconclusive (was ...)``."""
    was = ""
    if e.compared_verdict is not None and e.compared_with is not None:
        was = (
            f" (unchanged since {e.compared_with})"
            if e.compared_verdict == e.verdict
            else f" (was {e.compared_verdict} on {e.compared_with})"
        )
    return (
        f"{e.bucket} vs {e.benchmark} since {e.start}, {e.days} days: "
        f"{_interval(e, confidence)}: {e.verdict.replace('_', ' ')}{was}"
    )


def _resolution_text(e: BoardEntry) -> str | None:
    if e.resolution is not None:
        r = e.resolution
        return (
            f"resolved {r.outcome} on the prices to {r.data_date} (due {r.resolve_on}; "
            f"recorded {r.recorded_at}): {r.reason}"
        )
    if e.resolve_on is not None and e.days_to_resolve is not None:
        if e.days_to_resolve > 0:
            return f"resolves on {e.resolve_on}: {e.days_to_resolve} days left"
        return f"due on {e.resolve_on}: not resolved yet (the data do not reach it)"
    return None


def board_lines(result: BoardResult, width: int = WIDTH, *, wide: bool = False) -> list[str]:
    """The board for a terminal: the title, then per claim its headline, what changed, the
    signals that are on (``wide``: every signal with its measured parts), observations,
    resolution and the next thing to look at, each wrapped to ``width`` columns."""
    out: list[str] = []

    def put(text: str, indent: str = "", hang: str | None = None) -> None:
        out.extend(
            textwrap.wrap(
                text,
                width=width,
                initial_indent=indent,
                subsequent_indent=hang if hang is not None else indent + "  ",
                break_on_hyphens=False,
            )
            or [indent]
        )

    put(board_title(result))
    if result.ledger_problems:
        for p in result.ledger_problems:
            put(f"! {p}")
    for e in result.entries:
        out.append("")
        put(f"{e.id}: {entry_headline(e, result.confidence)}", hang="    ")
        for change in e.changes:
            put(f"changed: {change}", "  ")
        signals: Iterable[tuple[str, SignalView]] = [
            *(("counter", s) for s in e.counter_signals),
            *((("stop", e.stop),) if e.stop else ()),
            *((("restart", e.restart),) if e.restart else ()),
        ]
        shown = [(k, s) for k, s in signals if wide or s.on]
        for kind, s in shown:
            put(f"{kind} {s.name} [{_state(s)}]: {s.detail}", "  ", "      ")
        if not wide and e.counter_signals:
            on = sum(bool(s.on) for s in e.counter_signals)
            put(f"counter-signals on: {on} of {len(e.counter_signals)}", "  ")
        for o in e.observations:
            value = "" if o.value is None else f" = {o.value:g}"
            put(f"observed {o.signal}{value} on {o.observed_on}: {o.text} ({o.source})", "  ")
        resolution = _resolution_text(e)
        if resolution:
            put(resolution, "  ")
        put(f"next: {e.next}", "  ", "        ")
    out.append("")
    recorded = "recorded in" if result.recorded else "not recorded (an earlier day) in"
    put(
        f"{result.verified} verified and {result.proposed} proposed members used; "
        f"{result.correction} correction; {recorded} {result.ledger}"
    )
    return out


# --- the page ------------------------------------------------------------------------------------

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;
max-width:1200px;color:#222;padding:0 20px;line-height:1.45}
h1{font-size:1.4em;margin:0 0 .3em}
.meta{color:#555;font-size:.9em}
.card{border:1px solid #dde3ea;border-radius:6px;padding:6px 18px 12px;margin:14px 0;
break-inside:avoid-page}
.card h2{font-size:1.05em;margin:.5em 0 .3em;display:flex;gap:.6em;flex-wrap:wrap;
align-items:baseline}
.badge{display:inline-block;padding:0 .5em;border-radius:3px;font-size:.85em;font-weight:600;
background:#e8e8e8;color:#333;white-space:nowrap}
.badge.supported{background:#dff2e3;color:#0a6d2c}.badge.refuted{background:#fbe3e6;color:#b00020}
.badge.negligible{background:#e6eefa;color:#2a4d7a}.badge.insufficient_data{background:#eee;color:#666}
.on{color:#b00020;font-weight:600}.off{color:#0a6d2c}.na{color:#777}
.changes{background:#fff4e5;border-left:4px solid #e08a00;padding:4px 10px;margin:6px 0}
.next{background:#f6f8fb;border-left:4px solid #2a4d7a;padding:4px 10px;margin:6px 0}
table{border-collapse:collapse;font-size:.86em;margin:6px 0;width:100%}
th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.wrap{overflow-wrap:anywhere}td.tight,th.tight{white-space:nowrap}
th{font-weight:600;background:#fafafa}
td.num,th.num{text-align:right;white-space:nowrap}
.banner{background:#fbe3e6;border-left:4px solid #b00020;padding:6px 12px;margin:10px 0}
@media (max-width:1000px){
 table.stack thead{display:none}
 table.stack tr{display:block;border-bottom:1px solid #ddd;padding:4px 0}
 table.stack td{display:flex;justify-content:space-between;gap:12px;border:0;padding:2px 4px}
 table.stack td::before{content:attr(data-label);font-weight:600;color:#555}
}
@media print{body{max-width:none;margin:0}.card{break-inside:avoid}}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _badge(verdict: str) -> str:
    return f'<span class="badge {_e(verdict)}">{_e(verdict.replace("_", " "))}</span>'


def _signal_rows(e: BoardEntry) -> str:
    rows = [
        *(("counter-signal", s) for s in e.counter_signals),
        *((("stop", e.stop),) if e.stop else ()),
        *((("restart", e.restart),) if e.restart else ()),
    ]
    if not rows:
        return '<p class="meta">No counter-signal, stop or restart is written for this claim.</p>'
    body = "".join(
        "<tr>"
        f'<td data-label="kind" class="tight">{_e(kind)}</td>'
        f'<td data-label="signal"><b>{_e(s.name)}</b><br><span class="meta">'
        f"{_e(s.description)}</span></td>"
        f'<td data-label="state" class="{ {True: "on", False: "off", None: "na"}[s.on] }">'
        f"{_e(_state(s))}</td>"
        f'<td data-label="measured" class="wrap">{_e(s.detail)}</td>'
        "</tr>"
        for kind, s in rows
    )
    return (
        '<table class="stack"><thead><tr><th class="tight">kind</th><th>signal</th>'
        '<th class="tight">state</th>'
        f"<th>measured now</th></tr></thead><tbody>{body}</tbody></table>"
    )


def _trail(e: BoardEntry) -> str:
    points = e.trail[-8:]
    body = "".join(
        "<tr>"
        f'<td data-label="data to">{_e(p.data_date)}</td>'
        f'<td data-label="from">{_e(p.source)}</td>'
        f'<td data-label="verdict">{_badge(p.verdict)}</td>'
        f'<td data-label="excess" class="num">{_e(_pct(p.excess_return))}</td>'
        f'<td data-label="interval" class="num">{_e(_pct(p.low))} to {_e(_pct(p.high))}</td>'
        "</tr>"
        for p in points
    )
    more = "" if len(e.trail) <= 8 else f" (last 8 of {len(e.trail)})"
    return (
        f"<details><summary>What was said before{_e(more)}</summary>"
        '<table class="stack"><thead><tr><th>data to</th><th>from</th><th>verdict</th>'
        '<th class="num">excess</th><th class="num">interval</th></tr></thead>'
        f"<tbody>{body}</tbody></table></details>"
    )


def _card(e: BoardEntry, confidence: float) -> str:
    parts = [
        f'<section class="card" id="claim-{_e(e.id)}">',
        f"<h2>{_badge(e.verdict)}<span>{_e(e.id)}</span>"
        f'<span class="meta">{_e(e.source)}</span></h2>',
        f"<p><b>{_e(entry_headline(e, confidence))}</b></p>",
        f'<p class="meta">{_e(e.statement)}</p>',
    ]
    if e.changes:
        items = "".join(f"<li>{_e(c)}</li>" for c in e.changes)
        parts.append(f'<div class="changes">Changed since the last board:<ul>{items}</ul></div>')
    parts.append(f'<div class="next"><b>Next:</b> {_e(e.next)}</div>')
    parts.append(_signal_rows(e))
    resolution = _resolution_text(e)
    if resolution:
        parts.append(f"<p>{_e(resolution)}</p>")
    if e.observations:
        items = "".join(
            f"<li><b>{_e(o.signal)}</b>{'' if o.value is None else ' = ' + _e(f'{o.value:g}')}"
            f" on {_e(o.observed_on)}: {_e(o.text)} <span class='meta'>({_e(o.source)})</span>"
            "</li>"
            for o in e.observations
        )
        parts.append(f"<p>Latest observations:</p><ul>{items}</ul>")
    for note in e.notes:
        parts.append(f'<p class="meta">Note: {_e(note)}</p>')
    parts.append(_trail(e))
    parts.append("</section>")
    return "".join(parts)


def _overview(result: BoardResult) -> str:
    """One row per claim: the whole board at a glance, each row linking to its card."""
    body = "".join(
        "<tr>"
        f'<td data-label="claim" class="tight"><a href="#claim-{_e(e.id)}">{_e(e.id)}</a></td>'
        f'<td data-label="pair">{_e(e.bucket)} vs {_e(e.benchmark)}</td>'
        f'<td data-label="excess" class="num">{_e(_pct(e.excess_return))}</td>'
        f'<td data-label="verdict" class="tight">{_badge(e.verdict)}</td>'
        f'<td data-label="counter-signals on" class="num">'
        f"{sum(bool(s.on) for s in e.counter_signals)} of {len(e.counter_signals)}</td>"
        f'<td data-label="changed">{_e("; ".join(e.changes) or "no")}</td>'
        f'<td data-label="next" class="wrap">{_e(e.next)}</td>'
        "</tr>"
        for e in result.entries
    )
    return (
        '<table class="stack overview"><thead><tr><th class="tight">claim</th><th>pair</th>'
        '<th class="num">excess</th><th class="tight">verdict</th>'
        '<th class="num">counter-signals on</th><th>changed</th><th>next</th></tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def render_board(result: BoardResult) -> str:
    """``board.html``: one self-contained page (no script, no request) with the board's title,
    then one card per claim."""
    problems = "".join(f'<div class="banner">{_e(p)}</div>' for p in result.ledger_problems)
    recorded = "Recorded in" if result.recorded else "Not recorded (an earlier day) in"
    cards = "".join(_card(e, result.confidence) for e in result.entries)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>bucketmap board {_e(result.as_of)}</title><style>{_CSS}</style></head><body>"
        f'<h1 id="headline">{_e(board_title(result))}</h1>'
        f'<p class="meta">Prices: {_e(result.price_source)}. {result.verified} verified and '
        f"{result.proposed} proposed members used. Verdicts at {result.confidence:.0%} with "
        f"{_e(result.correction)} correction across the claims. {_e(recorded)} "
        f"{_e(result.ledger)}. bucketmap {_e(result.bucketmap_version)}, "
        f"{_e(result.created_at)}.</p>"
        f"{problems}{_overview(result)}{cards}</body></html>\n"
    )
