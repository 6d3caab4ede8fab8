"""Plotly figure builders: computed frames in, ``plotly.graph_objects.Figure`` out.

A builder computes nothing the results files lack: growth of $1 is the cumulative product of
``returns.csv``, a ratio line the quotient of two such growth paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from backtest.results import ClaimDate, ClaimsResult, RunResult, SweepResult


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


def _x(index: pd.Index) -> list[str]:
    """Dates as ``YYYY-MM-DD`` strings: plotly reads them as dates, and they take a third of the
    space of the ISO timestamps it would write for a ``DatetimeIndex``."""
    return list(pd.DatetimeIndex(index).strftime("%Y-%m-%d"))


def _y(values: pd.Series) -> np.ndarray:
    """Values as float32 (7 significant digits, ample for a chart; half the bytes)."""
    return values.to_numpy(dtype="float32")


def _claim_marks(fig: Any, claims: Sequence[ClaimDate]) -> None:
    by_date: dict[str, list[str]] = {}
    for claim in claims:
        by_date.setdefault(claim.start.isoformat(), []).append(claim.id)
    for k, (day, ids) in enumerate(sorted(by_date.items())):
        fig.add_vline(x=day, line_dash="dash", line_color="#555", line_width=1)
        fig.add_annotation(  # at the foot of the plot, staggered so close dates stay legible
            x=day,
            y=0.0,
            yref="paper",
            yshift=4 + 14 * (k % 3),
            text=f"claim {day}",
            hovertext=", ".join(ids),
            showarrow=False,
            xanchor="right",
            yanchor="bottom",
            bgcolor="rgba(255,255,255,0.8)",
            font={"size": 10},
        )


def growth_figure(
    returns: pd.DataFrame,
    start: pd.Timestamp,
    benchmarks: Sequence[str],
    claims: Sequence[ClaimDate],
) -> Any:
    """Growth of $1 for every bucket (solid) and benchmark ticker (dotted), log-scale toggle."""
    import plotly.graph_objects as go

    growth = growth_of_one(returns, start)
    fig = go.Figure()
    for col in growth.columns:
        dotted = col in benchmarks and col.upper() == col
        fig.add_trace(
            go.Scatter(
                x=_x(growth.index),
                y=_y(growth[col]),
                name=col,
                mode="lines",
                line={"dash": "dot" if dotted else "solid", "width": 1.5},
                hovertemplate="%{x|%Y-%m-%d}: %{y:.3f}<extra>" + col + "</extra>",
            )
        )
    _claim_marks(fig, claims)
    fig.update_layout(
        yaxis_title="value of $1 invested at the start",
        hovermode="x unified",
        height=520,
        margin={"t": 90},
        updatemenus=[
            {
                "type": "buttons",
                "direction": "right",
                "x": 1.0,
                "y": 1.16,
                "xanchor": "right",
                "buttons": [
                    {"label": "linear", "method": "relayout", "args": [{"yaxis.type": "linear"}]},
                    {"label": "log", "method": "relayout", "args": [{"yaxis.type": "log"}]},
                ],
            }
        ],
    )
    return fig


def ratio_figure(
    returns: pd.DataFrame,
    buckets: Sequence[str],
    benchmarks: Sequence[str],
    claims: Sequence[ClaimDate],
) -> Any:
    """Ratio lines bucket / benchmark rebased to 1 at the first claim date; one benchmark shown at
    a time (a menu switches). A line rising after the mark is a bucket gaining on the benchmark."""
    import plotly.graph_objects as go

    rebase = pd.Timestamp(min(c.start for c in claims)) if claims else None
    fig = go.Figure()
    counts = []
    for k, bench in enumerate(benchmarks):
        ratios = ratio_lines(returns, buckets, bench, rebase)
        for col in ratios.columns:
            fig.add_trace(
                go.Scatter(
                    x=_x(ratios.index),
                    y=_y(ratios[col]),
                    name=f"{col} / {bench}",
                    mode="lines",
                    visible=k == 0,
                    line={"width": 1.5},
                    hovertemplate="%{x|%Y-%m-%d}: %{y:.3f}<extra>" + f"{col} / {bench}</extra>",
                )
            )
        counts.append(len(ratios.columns))
    titles = [_ratio_title(b, rebase) for b in benchmarks]
    _claim_marks(fig, claims)
    fig.add_hline(y=1.0, line_color="#999", line_width=1)
    fig.update_layout(
        title=titles[0] if titles else "",
        yaxis_title="bucket growth / benchmark growth",
        hovermode="x unified",
        height=520,
        margin={"t": 90},
        updatemenus=_menu([f"vs {b}" for b in benchmarks], counts, titles),
    )
    return fig


def _ratio_title(bench: str, rebase: pd.Timestamp | None) -> str:
    at = f", rebased to 1 at {rebase.date()}" if rebase is not None else ""
    return f"Relative strength: bucket / {bench}{at}"


ROLLING_DAYS = 63


def rolling_excess(returns: pd.DataFrame, bucket: str, benchmark: str, days: int) -> pd.Series:
    """Excess return over the last ``days`` shared trading days:
    ``exp(sum of daily excess log returns) - 1`` (the claims' definition), NaN until there are
    ``days`` of them."""
    both = returns[[bucket, benchmark]].dropna()
    x = np.log1p(both[bucket]) - np.log1p(both[benchmark])
    return pd.Series(np.expm1(x.rolling(days, min_periods=days).sum()), index=both.index)


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


def drawdown_figure(returns: pd.DataFrame, benchmarks: Sequence[str]) -> Any:
    """Drawdown from the running peak of growth of $1 (the start counts as a peak), per series."""
    import plotly.graph_objects as go

    from backtest.evidence.metrics import drawdown

    fig = go.Figure()
    for col in returns.columns:
        dd = drawdown(returns[col])
        dotted = col in benchmarks and col.upper() == col
        fig.add_trace(
            go.Scatter(
                x=_x(dd.index),
                y=_y(dd),
                name=col,
                mode="lines",
                line={"dash": "dot" if dotted else "solid", "width": 1.2},
                hovertemplate="%{x|%Y-%m-%d}: %{y:.1%}<extra>" + col + "</extra>",
            )
        )
    fig.update_layout(
        yaxis_title="drawdown from the running peak",
        yaxis_tickformat=".0%",
        hovermode="x unified",
        height=460,
    )
    return fig


def rolling_excess_figure(
    returns: pd.DataFrame,
    buckets: Sequence[str],
    benchmarks: Sequence[str],
    claims: Sequence[ClaimDate],
    days: int = ROLLING_DAYS,
) -> Any:
    """Rolling ``days``-day excess return of every bucket against one benchmark at a time."""
    import plotly.graph_objects as go

    fig = go.Figure()
    counts = []
    for k, bench in enumerate(benchmarks):
        n = 0
        for bucket in buckets:
            if bucket == bench:
                continue
            line = rolling_excess(returns, bucket, bench, days)
            fig.add_trace(
                go.Scatter(
                    x=_x(line.index),
                    y=_y(line),
                    name=f"{bucket} vs {bench}",
                    mode="lines",
                    visible=k == 0,
                    line={"width": 1.2},
                    hovertemplate="%{x|%Y-%m-%d}: %{y:+.1%}<extra>"
                    + f"{bucket} vs {bench}</extra>",
                )
            )
            n += 1
        counts.append(n)
    titles = [f"Rolling {days}-day excess return vs {b}" for b in benchmarks]
    _claim_marks(fig, claims)
    fig.add_hline(y=0.0, line_color="#999", line_width=1)
    fig.update_layout(
        title=titles[0] if titles else "",
        yaxis_title=f"excess over the last {days} days",
        yaxis_tickformat=".0%",
        hovermode="x unified",
        height=460,
        margin={"t": 90},
        updatemenus=_menu([f"vs {b}" for b in benchmarks], counts, titles),
    )
    return fig


def contributions_figure(result: RunResult) -> Any:
    """Each member's contribution to its bucket's return (results.json's ``contributions``), one
    bucket at a time, for the ``whole`` window and the ``post`` window when there is one."""
    import plotly.graph_objects as go

    windows = [w.name for w in result.run.windows if w.name in ("whole", "post")]
    fig = go.Figure()
    counts, labels, titles = [], [], []
    for k, (name, bucket) in enumerate(result.buckets.items()):
        last = bucket.windows[windows[-1]].contributions
        order = sorted(last, key=lambda t: last[t] or 0.0)
        for w in windows:
            parts = bucket.windows[w].contributions
            fig.add_trace(
                go.Bar(
                    y=order,
                    x=[parts.get(t) for t in order],
                    name=w,
                    orientation="h",
                    visible=k == 0,
                    hovertemplate="%{y}: %{x:+.1%}<extra>" + w + "</extra>",
                )
            )
        counts.append(len(windows))
        labels.append(name)
        titles.append(f"Who carried {name}: contribution to its total return")
    fig.update_layout(
        title=titles[0] if titles else "",
        barmode="group",
        xaxis_title="contribution to the bucket's total return",
        xaxis_tickformat=".0%",
        height=560,
        margin={"t": 90, "l": 90},
        updatemenus=_menu(labels, counts, titles),
    )
    return fig


def leave_one_out_figure(claims: ClaimsResult) -> Any:
    """Per claim: its excess return with each member left out (with its interval), against the
    claim's own excess return (a vertical line)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    counts, labels, titles, shapes = [], [], [], []
    for k, c in enumerate(c for c in claims.claims if c.leave_one_out and c.leave_one_out.members):
        assert c.leave_one_out is not None
        members = c.leave_one_out.members
        fig.add_trace(
            go.Bar(
                y=[f"without {m.ticker}" for m in members],
                x=[m.excess_return for m in members],
                orientation="h",
                visible=k == 0,
                name=c.id,
                marker_color=[
                    "#b00020" if m.ticker in c.leave_one_out.flips else "#4c78a8" for m in members
                ],
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [(m.high or 0) - (m.excess_return or 0) for m in members],
                    "arrayminus": [(m.excess_return or 0) - (m.low or 0) for m in members],
                    "color": "#777",
                },
                hovertemplate="%{y}: %{x:+.1%}<extra>" + c.id + "</extra>",
            )
        )
        counts.append(1)
        labels.append(c.id)
        titles.append(
            f"{c.id}: excess vs {c.benchmark} with one member left out "
            f"(all members: {c.test.excess_return:+.1%}; red = verdict changes)"
        )
        shapes.append(c.test.excess_return)
    fig.update_layout(
        title=titles[0] if titles else "",
        showlegend=False,
        xaxis_title="excess return over the claim window (90% interval)",
        xaxis_tickformat=".0%",
        height=560,
        margin={"t": 90, "l": 110},
        updatemenus=_menu(labels, counts, titles),
    )
    if shapes:
        fig.add_vline(x=shapes[0], line_dash="dash", line_color="#333", line_width=1)
        # the dashed line follows the menu: each button also moves it
        for button, x in zip(fig.layout.updatemenus[0].buttons, shapes, strict=True):
            button.args[1]["shapes[0].x0"] = x
            button.args[1]["shapes[0].x1"] = x
    return fig


def hedge_figure(result: RunResult) -> Any:
    """The long book's worst weeks and each hedge bucket's return in them."""
    import plotly.graph_objects as go

    fig = go.Figure()
    first = next(iter(result.hedges.values()), None)
    if first is None:
        return fig
    weeks = [w.week_end.isoformat() for w in first.worst_weeks]
    fig.add_trace(go.Bar(x=weeks, y=[w.long_book for w in first.worst_weeks], name="long book"))
    for name, hedge in result.hedges.items():
        fig.add_trace(
            go.Bar(
                x=[w.week_end.isoformat() for w in hedge.worst_weeks],
                y=[w.hedge for w in hedge.worst_weeks],
                name=name,
            )
        )
    fig.update_layout(
        barmode="group",
        xaxis_title="week ending (the long book's worst weeks, worst first)",
        xaxis_type="category",
        yaxis_title="weekly return",
        yaxis_tickformat=".0%",
        height=420,
    )
    return fig


def sweep_figure(sweep: SweepResult) -> Any:
    """One box per bucket of its variants' excess returns: the box spans the 25–75% quantiles
    with the median inside, the whiskers reach the 10% and 90% quantiles (sweep.json's summary;
    no point is drawn, so the page stays small however many variants there were)."""
    import plotly.graph_objects as go

    rows = [s for s in sweep.summary if s.p50 is not None]
    fig = go.Figure(
        go.Box(
            x=[s.bucket for s in rows],
            q1=[s.p25 for s in rows],
            median=[s.p50 for s in rows],
            q3=[s.p75 for s in rows],
            lowerfence=[s.p10 for s in rows],
            upperfence=[s.p90 for s in rows],
            name="excess return",
            boxpoints=False,
        )
    )
    fig.add_hline(y=0, line_dash="dot", line_color="grey")
    fig.update_layout(
        yaxis_title=f"excess return vs {sweep.benchmark}",
        yaxis_tickformat=".0%",
        height=420,
        showlegend=False,
    )
    return fig
