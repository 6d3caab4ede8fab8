"""Plotly figure builders: computed frames in, ``plotly.graph_objects.Figure`` out.

A builder computes nothing the results files lack: growth of $1 is the cumulative product of
``returns.csv``, a ratio line the quotient of two such growth paths, a monthly heat map and the
returns by year the compounded returns of its calendar months and years
(:mod:`backtest.evidence.metrics`). Colours come from :mod:`reports.palette`: one per bucket in
every chart, benchmark tickers grey and dashed. No chart shows more than
:data:`MAX_VISIBLE` lines until the reader asks for more (a click on the legend).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

import backtest.evidence.metrics as m
from backtest.results import ClaimDate, ClaimResult, RunResult, SweepResult
from reports.palette import Style

MAX_VISIBLE = 6
"""Lines a chart shows before the reader asks for more (the rest are one legend click away)."""


def growth_of_one(returns: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """Growth of $1 per column: 1.0 at the close before its first return, then ``prod(1 + r)``.

    ``start`` is the run's first close (the day before the first row of ``returns``). A series
    that starts later starts at 1.0 on the close before its own first return; before that it is
    NaN, and so are days on which it has no return.
    """
    index = pd.DatetimeIndex([start]).append(pd.DatetimeIndex(returns.index))
    out = {}
    for col in returns.columns:
        r = returns[col].reindex(index)
        g = (1.0 + r).cumprod().where(r.notna())
        valid = r.dropna()
        if not valid.empty:
            g.iloc[int(index.searchsorted(valid.index[0])) - 1] = 1.0
        out[col] = g
    return pd.DataFrame(out, index=index)


def ratio_lines(
    returns: pd.DataFrame, buckets: Sequence[str], benchmark: str, rebase: pd.Timestamp | None
) -> pd.DataFrame:
    """Bucket / benchmark growth ratio on shared days, rebased to 1 at ``rebase`` (or the first
    shared day when ``rebase`` is None or outside the data)."""
    out = {}
    for bucket in buckets:
        if bucket == benchmark:
            continue
        both = returns[[bucket, benchmark]].dropna()
        if both.empty:
            continue
        growth = (1.0 + both).cumprod()
        ratio = growth[bucket] / growth[benchmark]
        base_idx = ratio.index[ratio.index >= rebase] if rebase is not None else ratio.index
        base = ratio.loc[base_idx[0]] if len(base_idx) else ratio.iloc[0]
        out[bucket] = ratio / base
    return pd.DataFrame(out)


def claim_ratio_line(returns: pd.DataFrame, bucket: str, benchmark: str, at: dt.date) -> pd.Series:
    """The claim's ratio line: bucket growth / benchmark growth over the days both have a return,
    rebased to 1 at the close of ``at`` (the last shared day on or before it), so its value on any
    later day is 1 + the excess return since the claim date."""
    both = returns[[bucket, benchmark]].dropna()
    if both.empty:
        return pd.Series(dtype="float64")
    growth = (1.0 + both).cumprod()
    ratio = growth[bucket] / growth[benchmark]
    before = ratio.loc[: pd.Timestamp(at)]
    base = before.iloc[-1] if len(before) else 1.0
    return ratio / base


ROLLING_DAYS = 63


def rolling_excess(returns: pd.DataFrame, bucket: str, benchmark: str, days: int) -> pd.Series:
    """Excess return over the last ``days`` shared trading days:
    ``exp(sum of daily excess log returns) - 1`` (the claims' definition), NaN until there are
    ``days`` of them."""
    both = returns[[bucket, benchmark]].dropna()
    x = np.log1p(both[bucket]) - np.log1p(both[benchmark])
    return pd.Series(np.expm1(x.rolling(days, min_periods=days).sum()), index=both.index)


def default_visible(claims: Sequence[ClaimDate], names: Sequence[str]) -> list[str]:
    """The series a chart shows at first: those the claims compare (buckets, then benchmarks, in
    claim order), then the rest, up to :data:`MAX_VISIBLE`."""
    wanted = [n for c in claims for n in (c.bucket, c.benchmark)]
    ordered = list(dict.fromkeys([*(n for n in wanted if n in names), *names]))
    return ordered[:MAX_VISIBLE]


# --- figure specs --------------------------------------------------------------------------------
#
# A builder returns the figure as the dict plotly itself writes for it (``Figure.to_plotly_json()``
# without the template): traces with their ``type``, nested property dicts rather than plotly's
# ``line_color``-style shorthands, shapes and their labels as ``add_hline``/``add_vline``/
# ``add_vrect`` would add them. plotly validates and deep-copies its whole layout on every such
# call (about 15 ms a chart, a second for a report of sixty); a dict costs nothing, and
# :func:`plotly_figure` turns it into the validated ``go.Figure`` (a test checks, chart by chart,
# that plotly writes back exactly the dict it was given).

Spec = dict[str, Any]
"""A figure as plotly writes it: ``{"data": [trace, ...], "layout": {...}}``; arrays may be numpy
arrays (written as plotly's typed arrays)."""


def figure(data: Sequence[Spec] = (), layout: Mapping[str, Any] | None = None) -> Spec:
    """A figure spec of ``data`` traces and ``layout``."""
    return {"data": list(data), "layout": dict(layout or {})}


def plotly_figure(spec: Spec) -> Any:
    """The ``plotly.graph_objects.Figure`` of a spec (validated by plotly; plotly's default
    template, as a figure built with ``go.Figure()`` has)."""
    import plotly.graph_objects as go

    return go.Figure(spec)


def _props(**values: Any) -> dict[str, Any]:
    """The keyword arguments that are not None (plotly leaves a property it is given as None
    unset)."""
    return {k: v for k, v in values.items() if v is not None}


def _hline(y: float, color: str, width: float | None = None, dash: str | None = None) -> Spec:
    """A horizontal line across the plot at ``y`` (``add_hline``'s shape)."""
    return {
        "line": _props(color=color, dash=dash, width=width),
        "type": "line",
        "x0": 0,
        "x1": 1,
        "xref": "x domain",
        "y0": y,
        "y1": y,
        "yref": "y",
    }


def _vline(x: str | float, color: str, width: float | None = None, dash: str | None = None) -> Spec:
    """A vertical line over the plot's height at ``x`` (``add_vline``'s shape)."""
    return {
        "line": _props(color=color, dash=dash, width=width),
        "type": "line",
        "x0": x,
        "x1": x,
        "xref": "x",
        "y0": 0,
        "y1": 1,
        "yref": "y domain",
    }


def _vrect(x0: str, x1: str, fillcolor: str, opacity: float) -> Spec:
    """A shaded band from ``x0`` to ``x1`` over the plot's height, no border (``add_vrect``'s)."""
    return {
        "fillcolor": fillcolor,
        "line": {"width": 0},
        "opacity": opacity,
        "type": "rect",
        "x0": x0,
        "x1": x1,
        "xref": "x",
        "y0": 0,
        "y1": 1,
        "yref": "y domain",
    }


def _band_label(x: str, text: str, side: str) -> Spec:
    """A band's label inside its top ``side`` corner (``add_vrect``'s ``annotation_position``
    ``"top left"`` at ``x0`` or ``"top right"`` at ``x1``), 10 px."""
    return {
        "font": {"size": 10},
        "showarrow": False,
        "text": text,
        "x": x,
        "xanchor": side,
        "xref": "x",
        "y": 1,
        "yanchor": "top",
        "yref": "y domain",
    }


def _marks(shapes: Sequence[Spec], annotations: Sequence[Spec]) -> dict[str, Any]:
    """The layout's ``shapes`` and ``annotations``, each only when there are any."""
    return _props(shapes=list(shapes) or None, annotations=list(annotations) or None)


def _x(index: pd.Index) -> list[str]:
    """Dates as ``YYYY-MM-DD`` strings: plotly reads them as dates, and they take a third of the
    space of the ISO timestamps it would write for a ``DatetimeIndex``."""
    return pd.DatetimeIndex(index).strftime("%Y-%m-%d").tolist()  # list(): 4× slower


def _y(values: pd.Series | np.ndarray) -> np.ndarray:
    """Values as float32 (7 significant digits, ample for a chart; half the bytes)."""
    return np.asarray(values, dtype="float32")


def _line(style: Style | None, width: float = 1.6, dash: str | None = None) -> dict[str, Any]:
    if style is None:
        return {"width": width}
    return {"color": style.colour, "dash": dash or style.dash, "width": width}


def _marker(colour: str | None, **more: Any) -> dict[str, Any]:
    """A trace's ``marker`` (no colour: plotly's own)."""
    return _props(color=colour, **more)


def _claim_marks(claims: Sequence[ClaimDate]) -> tuple[list[Spec], list[Spec]]:
    """A dashed line at each claim date and its label at the plot's foot (claims of one date share
    a label; labels are staggered so close dates stay legible): (shapes, annotations)."""
    by_date: dict[str, list[str]] = {}
    for claim in claims:
        by_date.setdefault(claim.start.isoformat(), []).append(claim.id)
    shapes, labels = [], []
    for k, (day, ids) in enumerate(sorted(by_date.items())):
        shapes.append(_vline(day, "#555", width=1, dash="dash"))
        labels.append(
            {
                "bgcolor": "rgba(255,255,255,0.8)",
                "font": {"size": 10},
                "hovertext": ", ".join(ids),
                "showarrow": False,
                "text": f"claim {day}",
                "x": day,
                "xanchor": "right",
                "y": 0.0,
                "yanchor": "bottom",
                "yref": "paper",
                "yshift": 4 + 14 * (k % 3),
            }
        )
    return shapes, labels


def _legend(**more: Any) -> dict[str, Any]:
    """The page's legend: one row above the plot, 11 px."""
    return {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "font": {"size": 11},
            **more}  # fmt: skip


def _margin(**more: int) -> dict[str, int]:
    return {"t": 40, "b": 40, "l": 60, "r": 20, **more}


def growth_figure(
    returns: pd.DataFrame,
    start: pd.Timestamp,
    styles: Mapping[str, Style],
    claims: Sequence[ClaimDate],
) -> Spec:
    """Growth of $1 of every bucket and benchmark ticker (log-scale toggle); the series the
    claims compare are shown, the others one legend click away."""
    growth = growth_of_one(returns, start)
    shown = default_visible(claims, list(growth.columns))
    x = _x(growth.index)
    traces = [
        {
            "type": "scatter",
            "x": x,
            "y": _y(growth[col]),
            "name": col,
            "mode": "lines",
            "line": _line(styles.get(col)),
            "visible": True if col in shown else "legendonly",
            "hovertemplate": "%{x|%Y-%m-%d}: %{y:.3f}<extra>" + col + "</extra>",
        }
        for col in growth.columns
    ]
    layout = {
        "yaxis": {"title": {"text": "value of $1 invested at the start"}, "type": "log"},
        "hovermode": "x unified",
        "height": 480,
        "legend": _legend(),
        "margin": _margin(t=60),
        "updatemenus": [
            {
                # inside the plot's top left corner, where every line starts low (at 1): above
                # the plot a legend of two rows ran under the buttons
                "type": "buttons",
                "direction": "right",
                "x": 0.01,
                "y": 0.99,
                "xanchor": "left",
                "yanchor": "top",
                "bgcolor": "rgba(255,255,255,0.8)",
                "buttons": [
                    {"label": "log", "method": "relayout", "args": [{"yaxis.type": "log"}]},
                    {"label": "linear", "method": "relayout", "args": [{"yaxis.type": "linear"}]},
                ],
            }
        ],
        **_marks(*_claim_marks(claims)),
    }
    return figure(traces, layout)


def drawdown_figure(
    returns: pd.DataFrame, styles: Mapping[str, Style], claims: Sequence[ClaimDate]
) -> Spec:
    """Drawdown from the running peak of growth of $1 (the start counts as a peak), per series;
    the same series shown as in the growth chart."""
    shown = default_visible(claims, list(returns.columns))
    traces = []
    for col in returns.columns:
        dd = m.drawdown(returns[col])
        traces.append(
            {
                "type": "scatter",
                "x": _x(dd.index),
                "y": _y(dd),
                "name": col,
                "mode": "lines",
                "line": _line(styles.get(col), width=1.2),
                "visible": True if col in shown else "legendonly",
                "hovertemplate": "%{x|%Y-%m-%d}: %{y:.1%}<extra>" + col + "</extra>",
            }
        )
    layout = {
        "yaxis": {"title": {"text": "drawdown from the running peak"}, "tickformat": ".0%"},
        "hovermode": "x unified",
        "height": 420,
        "legend": _legend(),
        "margin": _margin(),
    }
    return figure(traces, layout)


def rolling_excess_figure(
    returns: pd.DataFrame,
    styles: Mapping[str, Style],
    claims: Sequence[ClaimDate],
    days: int = ROLLING_DAYS,
) -> Spec:
    """Rolling ``days``-day excess return of each claim's bucket against the claim's own
    benchmark (one line per claim)."""
    traces = []
    pairs = list(dict.fromkeys((c.bucket, c.benchmark) for c in claims))
    for k, (bucket, bench) in enumerate(pairs):
        if bucket not in returns.columns or bench not in returns.columns:
            continue
        line = rolling_excess(returns, bucket, bench, days)
        name = f"{bucket} vs {bench}"
        dash = styles[bench].dash if bench in styles and styles[bench].dash != "solid" else None
        traces.append(
            {
                "type": "scatter",
                "x": _x(line.index),
                "y": _y(line),
                "name": name,
                "mode": "lines",
                "line": _line(styles.get(bucket), width=1.3, dash=dash),
                "visible": True if k < MAX_VISIBLE else "legendonly",
                "hovertemplate": "%{x|%Y-%m-%d}: %{y:+.1%}<extra>" + name + "</extra>",
            }
        )
    shapes, labels = _claim_marks(claims)
    layout = {
        "yaxis": {"title": {"text": f"excess over the last {days} days"}, "tickformat": ".0%"},
        "hovermode": "x unified",
        "height": 420,
        "legend": _legend(),
        "margin": _margin(),
        **_marks([*shapes, _hline(0.0, "#999", width=1)], labels),
    }
    return figure(traces, layout)


# --- a claim's card ------------------------------------------------------------------------------


def _card_layout(title: str, **extra: Any) -> dict[str, Any]:
    """A card's layout: 300 px high, no legend, 11 px text, ``title`` at the top left; ``extra``
    layout properties added (or replacing these)."""
    return {
        "height": 300,
        "margin": {"t": 36, "b": 36, "l": 56, "r": 12},
        "showlegend": False,
        "font": {"size": 11},
        "title": {"text": title, "font": {"size": 13}, "x": 0, "xanchor": "left"},
        **extra,
    }


def claim_ratio_figure(
    returns: pd.DataFrame, claim: ClaimResult, styles: Mapping[str, Style], run_start: dt.date
) -> Spec:
    """The claim's ratio line (bucket / benchmark, 1 at the claim date) from a year before the
    claim to the data's end (to the claim's end when its window is still open), with the claim
    window and the placebo window shaded and the data's last day marked."""
    line = claim_ratio_line(returns, claim.bucket, claim.benchmark, claim.start)
    first = max(run_start, (pd.Timestamp(claim.start) - pd.DateOffset(years=1)).date())
    shown = line.loc[pd.Timestamp(first) :]
    last = claim.test.end or (shown.index[-1].date() if len(shown) else claim.start)
    right = claim.end if claim.end is not None and claim.end > last else last
    trace = {
        "type": "scatter",
        "x": _x(shown.index),
        "y": _y(shown),
        "mode": "lines",
        "line": _line(styles.get(claim.bucket), width=1.8),
        "name": f"{claim.bucket} / {claim.benchmark}",
        "hovertemplate": "%{x|%Y-%m-%d}: %{y:.3f}<extra></extra>",
    }
    shapes = [_vrect(str(claim.start), str(last), "#4e79a7", 0.10)]
    labels = [_band_label(str(claim.start), "claim window", "left")]
    if right != last:
        shapes.append(_vrect(str(last), str(right), "#999", 0.08))
        labels.append(_band_label(str(right), "still to come", "right"))
    placebo = claim.placebo.test if claim.placebo is not None else None
    if placebo is not None and placebo.start is not None and placebo.end is not None:
        shapes.append(_vrect(str(placebo.start), str(placebo.end), "#f28e2b", 0.10))
        labels.append(_band_label(str(placebo.start), "placebo", "left"))
    shapes.append(_vline(str(last), "#333", width=1, dash="dot"))
    labels.append(
        {
            "font": {"size": 10},
            "showarrow": False,
            "text": f"data end {last}",
            "x": str(last),
            "xanchor": "right",
            "y": 0,
            "yanchor": "bottom",
            "yref": "paper",
        }
    )
    shapes.append(_hline(1.0, "#999", width=1))
    level = claim.threshold if claim.direction == "outperform" else -claim.threshold
    if level:
        shapes.append(_hline(1.0 + level, "#999", width=1, dash="dash"))
    layout = _card_layout(
        f"{claim.bucket} / {claim.benchmark}, 1 at {claim.start}",
        xaxis={"range": [str(first), str(right)]},
        yaxis={"title": {"text": "ratio of growth"}},
        **_marks(shapes, labels),
    )
    return figure([trace], layout)


def claim_path_figure(claim: ClaimResult, confidence: float) -> Spec:
    """The excess return and its interval as of each week since the claim date (each point from
    the prices up to that week only): the interval narrows as the days come in."""
    points = [p for p in claim.path if p.excess_return is not None]
    x = [p.as_of.isoformat() for p in points]
    traces: list[Spec] = [
        {"type": "scatter", "x": x, "y": [p.high for p in points], "mode": "lines",
         "line": {"width": 0}, "hoverinfo": "skip", "name": "high"},
        {"type": "scatter", "x": x, "y": [p.low for p in points], "mode": "lines",
         "line": {"width": 0}, "fill": "tonexty", "fillcolor": "rgba(78,121,167,0.18)",
         "hoverinfo": "skip", "name": "low"},
        {
            "type": "scatter",
            "x": x,
            "y": [p.excess_return for p in points],
            "mode": "lines+markers",
            "marker": {"size": 4},
            "line": {"color": "#4e79a7", "width": 1.6},
            "name": "excess",
            "customdata": [[p.low, p.high, p.days, p.verdict] for p in points],
            "hovertemplate": "as of %{x}: %{y:+.1%} [%{customdata[0]:+.1%}, "
            "%{customdata[1]:+.1%}], %{customdata[2]} days, %{customdata[3]}<extra></extra>",
        },
    ]  # fmt: skip
    level = claim.threshold if claim.direction == "outperform" else -claim.threshold
    layout = _card_layout(
        f"Excess and its {confidence:.0%} interval, as of each week",
        yaxis={"tickformat": ".0%"},
        shapes=[_hline(level, "#999", width=1)],
    )
    return figure(traces, layout)


class _Interval(Protocol):
    """A test's excess return and interval (a leave-one-out member, a robustness cell)."""

    @property
    def excess_return(self) -> float | None: ...
    @property
    def low(self) -> float | None: ...
    @property
    def high(self) -> float | None: ...


def _interval_bars(tests: Sequence[_Interval], colour: str) -> dict[str, Any]:
    """Error bars from each test's excess return to its interval's ends (none where unknown)."""
    return {
        "type": "data",
        "symmetric": False,
        "array": [(t.high or 0) - (t.excess_return or 0) for t in tests],
        "arrayminus": [(t.excess_return or 0) - (t.low or 0) for t in tests],
        "color": colour,
        "thickness": 1,
    }


def claim_leave_one_out_figure(claim: ClaimResult) -> Spec:
    """The claim's excess with each member left out, with its interval (red: the verdict
    changes), against the claim's own excess (the dashed line)."""
    loo = claim.leave_one_out
    members = loo.members if loo is not None else []
    flips = set(loo.flips) if loo is not None else set()
    trace = {
        "type": "bar",
        "y": [f"without {x.ticker}" for x in members],
        "x": [x.excess_return for x in members],
        "orientation": "h",
        "marker": {"color": ["#e15759" if x.ticker in flips else "#9db4cf" for x in members]},
        "error_x": _interval_bars(members, "#777"),
        "customdata": [[x.verdict] for x in members],
        "hovertemplate": "%{y}: %{x:+.1%}, %{customdata[0]}<extra></extra>",
    }
    shapes = []
    if claim.test.excess_return is not None:
        shapes.append(_vline(claim.test.excess_return, "#333", dash="dash"))
    layout = _card_layout(
        "Leave one member out (red: the verdict changes)",
        xaxis={"tickformat": ".0%"},
        height=max(300, 22 * len(members) + 80),
        yaxis={"autorange": "reversed", "tickfont": {"size": 10}},
        **_marks(shapes, []),
    )
    return figure([trace], layout)


def claim_robustness_figure(claim: ClaimResult) -> Spec:
    """Every cell of the robustness grid: its excess and interval (red: a different verdict)."""
    cells = claim.robustness.variants if claim.robustness is not None else []
    short = {"equal": "eq", "inverse_vol": "iv", "monthly": "M", "quarterly": "Q"}
    labels = [
        f"{short.get(v.weighting, v.weighting)} {short.get(v.rebalance, v.rebalance)} +{v.shift}"
        for v in cells
    ]
    trace = {
        "type": "scatter",
        "x": labels,
        "y": [v.excess_return for v in cells],
        "mode": "markers",
        "marker": {
            "size": 7,
            "color": ["#4e79a7" if v.verdict == claim.verdict else "#e15759" for v in cells],
        },
        "error_y": _interval_bars(cells, "#999"),
        "customdata": [[v.verdict, str(v.start)] for v in cells],
        "hovertemplate": "%{x} (from %{customdata[1]}): %{y:+.1%}, %{customdata[0]}<extra></extra>",
    }
    shapes = []
    if claim.test.excess_return is not None:
        shapes.append(_hline(claim.test.excess_return, "#333", dash="dash"))
    layout = _card_layout(
        "Weighting · rebalance · start shift (red: a different verdict)",
        yaxis={"tickformat": ".0%"},
        xaxis={"tickangle": -45, "tickfont": {"size": 9}},
        **_marks(shapes, []),
    )
    return figure([trace], layout)


# --- a bucket's tear sheet -----------------------------------------------------------------------


_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

_RDBU = [
    [k / 10, colour]
    for k, colour in enumerate(
        ["rgb(103,0,31)", "rgb(178,24,43)", "rgb(214,96,77)", "rgb(244,165,130)",
         "rgb(253,219,199)", "rgb(247,247,247)", "rgb(209,229,240)", "rgb(146,197,222)",
         "rgb(67,147,195)", "rgb(33,102,172)", "rgb(5,48,97)"]
    )
]  # fmt: skip
"""plotly.py's ``"RdBu"`` colour scale (ColorBrewer's, red low, blue high) as plotly writes it:
plotly.js's own ``"RdBu"`` is a different scale, so the name alone would draw other colours."""


def monthly_table(returns: pd.Series) -> pd.DataFrame:
    """Compounded monthly returns as a year × month table (months cut by the window count with
    the days they have; NaN where there is no return)."""
    months = m.monthly_returns(returns)
    if months.empty:
        return pd.DataFrame(columns=_MONTHS, dtype="float64")
    idx = pd.PeriodIndex(months.index)
    frame = pd.DataFrame({"year": idx.year, "month": idx.month, "r": months.to_numpy()})
    table = frame.pivot(index="year", columns="month", values="r").reindex(columns=range(1, 13))
    table.columns = _MONTHS
    return table


def monthly_heatmap_figure(returns: pd.Series, name: str) -> Spec:
    """The monthly returns of one series as a heat map (red below 0, blue above), each cell
    labelled with its return."""
    table = monthly_table(returns)
    z = table.to_numpy(dtype="float64")
    limit = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    text = [["" if np.isnan(v) else f"{v:+.1%}" for v in row] for row in z]
    trace = {
        "type": "heatmap",
        "z": z,
        "x": list(_MONTHS),
        "y": [str(y) for y in table.index],
        "text": text,
        "texttemplate": "%{text}",
        "textfont": {"size": 9},
        "colorscale": [list(stop) for stop in _RDBU],
        "zmid": 0,
        "zmin": -limit,
        "zmax": limit,
        "showscale": False,
        "hovertemplate": "%{y} %{x}: %{z:+.1%}<extra></extra>",
    }
    layout = _card_layout(
        f"{name}: monthly returns",
        height=60 + 26 * max(1, len(table)),
        yaxis={"autorange": "reversed", "type": "category"},
    )
    return figure([trace], layout)


def yearly_figure(
    returns: pd.Series, benchmark: pd.Series, name: str, bench: str, styles: Mapping[str, Style]
) -> Spec:
    """Returns by calendar year of a bucket beside its benchmark's (over the days each has)."""
    a, b = m.yearly_returns(returns), m.yearly_returns(benchmark)
    years = sorted(set(a.index) | set(b.index))
    traces = []
    for series, label in ((a, name), (b, bench)):
        style = styles.get(label)
        traces.append(
            _props(
                type="bar",
                x=[str(y) for y in years],
                y=[series.get(y) for y in years],
                name=label,
                marker=_marker(style.colour) if style else None,
                hovertemplate="%{x}: %{y:+.1%}<extra>" + label + "</extra>",
            )
        )
    layout = _card_layout(
        f"Returns by year: {name} and {bench}",
        barmode="group",
        yaxis={"tickformat": ".0%"},
        showlegend=True,
        legend={"orientation": "h", "yanchor": "top", "y": -0.1, "x": 0, "font": {"size": 11}},
    )
    return figure(traces, layout)


BETA_DAYS = 126


def rolling_beta_figure(
    returns: pd.Series, benchmark: pd.Series, name: str, bench: str, styles: Mapping[str, Style]
) -> Spec:
    """Rolling ``BETA_DAYS``-day beta of a bucket to its benchmark (OLS slope of daily returns)."""
    beta = m.rolling_beta(returns, benchmark, BETA_DAYS).dropna()
    trace = {
        "type": "scatter",
        "x": _x(beta.index),
        "y": _y(beta),
        "mode": "lines",
        "line": _line(styles.get(name)),
        "hovertemplate": "%{x|%Y-%m-%d}: %{y:.2f}<extra></extra>",
    }
    layout = _card_layout(
        f"Rolling {BETA_DAYS}-day beta to {bench}", shapes=[_hline(1.0, "#999", width=1)]
    )
    return figure([trace], layout)


# --- the rest of the page ------------------------------------------------------------------------


def contributions_figure(result: RunResult, styles: Mapping[str, Style]) -> Spec:
    """Each member's contribution to its bucket's return (results.json's ``contributions``), one
    bucket at a time, for the ``whole`` window and the ``post`` window when there is one."""
    windows = [w.name for w in result.run.windows if w.name in ("whole", "post")]
    traces: list[Spec] = []
    counts, labels, titles = [], [], []
    for k, (name, bucket) in enumerate(result.buckets.items()):
        last = bucket.windows[windows[-1]].contributions
        order = sorted(last, key=lambda t: last[t] or 0.0)
        colour = styles[name].colour if name in styles else None
        for w in windows:
            parts = bucket.windows[w].contributions
            traces.append(
                {
                    "type": "bar",
                    "y": order,
                    "x": [parts.get(t) for t in order],
                    "name": w,
                    "orientation": "h",
                    "visible": k == 0,
                    "marker": _marker(colour, opacity=1.0 if w == "whole" else 0.45),
                    "hovertemplate": "%{y}: %{x:+.1%}<extra>" + w + "</extra>",
                }
            )
        counts.append(len(windows))
        labels.append(name)
        titles.append(f"Who carried {name}: contribution to its total return")
    layout = {
        "title": {"text": titles[0] if titles else ""},
        "barmode": "group",
        "xaxis": {"title": {"text": "contribution to the bucket's total return"},
                  "tickformat": ".0%"},
        "height": 560,
        "legend": _legend(),
        "margin": {"t": 90, "l": 90, "r": 20, "b": 40},
        "updatemenus": _menu(labels, counts, titles),
    }  # fmt: skip
    return figure(traces, layout)


def _menu(labels: Sequence[str], counts: Sequence[int], titles: Sequence[str]) -> list[Any]:
    """Dropdown buttons showing one group of traces at a time (groups in trace order)."""
    total = sum(counts)
    buttons = []
    offset = 0
    for label, n, title in zip(labels, counts, titles, strict=True):
        visible = [False] * total
        visible[offset : offset + n] = [True] * n
        offset += n
        buttons.append(
            {
                "label": label,
                "method": "update",
                "args": [{"visible": visible}, {"title.text": title}],
            }
        )
    return [{"type": "dropdown", "x": 1.0, "y": 1.16, "xanchor": "right", "buttons": buttons}]


def hedge_figure(result: RunResult, styles: Mapping[str, Style]) -> Spec:
    """The long book's worst weeks and each hedge bucket's return in them."""
    first = next(iter(result.hedges.values()), None)
    if first is None:
        return figure()
    traces: list[Spec] = [
        {
            "type": "bar",
            "x": [w.week_end.isoformat() for w in first.worst_weeks],
            "y": [w.long_book for w in first.worst_weeks],
            "name": "long book",
            "marker": {"color": "#bbbbbb"},
        }
    ]
    for name, hedge in result.hedges.items():
        style = styles.get(name)
        traces.append(
            _props(
                type="bar",
                x=[w.week_end.isoformat() for w in hedge.worst_weeks],
                y=[w.hedge for w in hedge.worst_weeks],
                name=name,
                marker=_marker(style.colour) if style else None,
            )
        )
    layout = {
        "barmode": "group",
        "xaxis": {"title": {"text": "week ending (the long book's worst weeks, worst first)"},
                  "type": "category"},
        "yaxis": {"title": {"text": "weekly return"}, "tickformat": ".0%"},
        "height": 420,
        "legend": _legend(),
        "margin": _margin(),
    }  # fmt: skip
    return figure(traces, layout)


def sweep_figure(sweep: SweepResult, styles: Mapping[str, Style]) -> Spec:
    """One box per bucket of its variants' excess returns: the box spans the 25–75% quantiles
    with the median inside, the whiskers reach the 10% and 90% quantiles (sweep.json's summary;
    no point is drawn, so the page stays small however many variants there were)."""
    rows = [s for s in sweep.summary if s.p50 is not None]
    trace = {
        "type": "box",
        "x": [s.bucket for s in rows],
        "q1": [s.p25 for s in rows],
        "median": [s.p50 for s in rows],
        "q3": [s.p75 for s in rows],
        "lowerfence": [s.p10 for s in rows],
        "upperfence": [s.p90 for s in rows],
        "name": "excess return",
        "boxpoints": False,
        "marker": {"color": "#4e79a7"},
    }
    layout = {
        "yaxis": {"title": {"text": f"excess return vs {sweep.benchmark}"}, "tickformat": ".0%"},
        "height": 420,
        "showlegend": False,
        "margin": _margin(),
        "shapes": [_hline(0, "grey", dash="dot")],
    }
    return figure([trace], layout)


def claim_special_figure(claim: ClaimResult) -> Spec:
    """The baskets' excess returns (random and matched: the histograms of ``claims.json``), with
    the bucket's own marked: how far out in the tail it lies."""
    sp = claim.special
    if sp is None:
        return figure()
    colours = {"random": "#9db4cf", "matched": "#f1a340"}
    traces = []
    for null in (sp.random, sp.matched):
        edges, counts = null.histogram_edges, null.histogram_counts
        if not counts:
            continue
        mids = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=True)]
        widths = [b - a for a, b in zip(edges[:-1], edges[1:], strict=True)]
        share = [c / null.baskets for c in counts]
        label = f"{null.kind} ({null.percentile:.1f}% below the bucket)"
        traces.append(
            {
                "type": "bar",
                "x": mids,
                "y": share,
                "width": widths,
                "name": label,
                "marker": {"color": colours[null.kind]},
                "opacity": 0.65,
                "customdata": [
                    [a, b, c] for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True)
                ],
                "hovertemplate": f"{null.kind}: %{{customdata[2]}} baskets from "
                "%{customdata[0]:+.1%} to %{customdata[1]:+.1%}<extra></extra>",
            }
        )
    shapes, labels = [], []
    if sp.bucket_excess is not None:
        shapes.append(_vline(sp.bucket_excess, "#333", dash="dash"))
        labels.append(
            {
                "showarrow": False,
                "text": f"{claim.bucket} {sp.bucket_excess:+.1%}",
                "x": sp.bucket_excess,
                "xanchor": "center",
                "xref": "x",
                "y": 1,
                "yanchor": "bottom",
                "yref": "y domain",
            }
        )
    layout = _card_layout(
        f"Was the basket special? Baskets of {sp.members} from {sp.pool}",
        barmode="overlay",
        bargap=0,
        xaxis={"tickformat": ".0%"},
        yaxis={"tickformat": ".0%", "title": {"text": "share of baskets"}},
        showlegend=True,
        legend={"orientation": "h", "y": -0.18},
        height=330,
        **_marks(shapes, labels),
    )
    return figure(traces, layout)
