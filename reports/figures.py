"""Plotly figure builders: computed frames in, ``plotly.graph_objects.Figure`` out.

A builder computes nothing the results files lack: growth of $1 is the cumulative product of
``returns.csv``, a ratio line the quotient of two such growth paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from backtest.results import ClaimDate


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
                x=growth.index,
                y=growth[col],
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
    groups: list[tuple[str, int]] = []
    for k, bench in enumerate(benchmarks):
        ratios = ratio_lines(returns, buckets, bench, rebase)
        for col in ratios.columns:
            fig.add_trace(
                go.Scatter(
                    x=ratios.index,
                    y=ratios[col],
                    name=f"{col} / {bench}",
                    mode="lines",
                    visible=k == 0,
                    line={"width": 1.5},
                    hovertemplate="%{x|%Y-%m-%d}: %{y:.3f}<extra>" + f"{col} / {bench}</extra>",
                )
            )
        groups.append((bench, len(ratios.columns)))
    buttons = []
    total = sum(n for _, n in groups)
    offset = 0
    for bench, n in groups:
        visible = [False] * total
        visible[offset : offset + n] = [True] * n
        offset += n
        buttons.append(
            {
                "label": f"vs {bench}",
                "method": "update",
                "args": [{"visible": visible}, {"title.text": _ratio_title(bench, rebase)}],
            }
        )
    _claim_marks(fig, claims)
    fig.add_hline(y=1.0, line_color="#999", line_width=1)
    fig.update_layout(
        title=_ratio_title(benchmarks[0] if benchmarks else "", rebase),
        yaxis_title="bucket growth / benchmark growth",
        hovermode="x unified",
        height=520,
        margin={"t": 90},
        updatemenus=[
            {"type": "dropdown", "x": 1.0, "y": 1.16, "xanchor": "right", "buttons": buttons}
        ],
    )
    return fig


def _ratio_title(bench: str, rebase: pd.Timestamp | None) -> str:
    at = f", rebased to 1 at {rebase.date()}" if rebase is not None else ""
    return f"Relative strength: bucket / {bench}{at}"
