"""One colour per series across every chart and table of a report.

Buckets take the colours of a qualitative palette in the order of the universe (so ``pipes`` is
the same blue in the growth chart, its claim cards, its tear sheet and the tables); benchmark
tickers are grey and dashed, each with its own dash; a bucket used as a benchmark keeps its colour
and is drawn dashed where it is the benchmark.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Tableau 10 without its grey (which marks benchmarks here)
BUCKET_COLOURS = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1",
    "#76b7b2", "#edc948", "#9c755f", "#ff9da7",
)  # fmt: skip
BENCHMARK_STYLES = (("#555555", "dash"), ("#888888", "dot"), ("#333333", "dashdot"),
                    ("#aaaaaa", "longdash"))  # fmt: skip


@dataclass(frozen=True)
class Style:
    colour: str
    dash: str
    """plotly's ``line.dash``: ``solid`` for a bucket, a dash for a benchmark ticker."""


def styles(buckets: Iterable[str], tickers: Iterable[str]) -> dict[str, Style]:
    """Each bucket's colour (solid) and each benchmark ticker's grey and dash, by name."""
    out = {
        name: Style(BUCKET_COLOURS[i % len(BUCKET_COLOURS)], "solid")
        for i, name in enumerate(buckets)
    }
    for i, name in enumerate(t for t in tickers if t not in out):
        colour, dash = BENCHMARK_STYLES[i % len(BENCHMARK_STYLES)]
        out[name] = Style(colour, dash)
    return out
