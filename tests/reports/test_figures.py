"""The report's figures are built as plain dicts: the very JSON plotly writes for them.

plotly is the judge: every chart of a page is read back by ``go.Figure`` (which validates each
property) and must come out unchanged; each shape helper must equal what plotly's own
``add_hline``/``add_vline``/``add_vrect`` add; and the notebook's figures are those of the page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from plotly.utils import PlotlyJSONEncoder

import reports.figures as f
from bucketmap.api import read_run_folder
from reports.page import Charts, _PlotlyEncoder, render_report, report_figures
from tests.conftest import page_charts, plotly_rewrites


def _written(spec: Any) -> Any:
    """``spec`` as the page writes it (numpy arrays as plotly's typed arrays), read back."""
    return json.loads(json.dumps(spec, cls=_PlotlyEncoder))


def _plotlys(fig: Any) -> Any:
    """A plotly figure as plotly writes it, its template aside."""
    spec = fig.to_plotly_json()
    spec["layout"].pop("template", None)
    return json.loads(json.dumps(spec, cls=PlotlyJSONEncoder))


def test_every_chart_of_the_demo_report_is_plotlys_own_json(demo_run: Path) -> None:
    html = (demo_run / "report.html").read_text()
    charts = page_charts(html)
    # the charts of every kind the demo run draws: paths, claim cards, tear sheets, the rest
    kinds = {name.split("-")[-1] for name in charts}
    assert {"growth", "drawdown", "rolling", "ratio", "path", "loo", "grid"} <= kinds
    assert {"monthly", "yearly", "beta", "contributions", "hedge"} <= kinds
    assert plotly_rewrites(html) == []


def test_the_check_catches_what_plotly_would_write_otherwise() -> None:
    page = '<script type="application/json" id="chart-{}-json">{}</script>'
    shorthand = {
        "title": {"data": [], "layout": {"title": "a title"}},  # plotly: {"text": "a title"}
        "scale": {"data": [{"type": "heatmap", "z": [[1.0]], "colorscale": "RdBu"}], "layout": {}},
        "typo": {"data": [{"type": "scatter", "y": [1.0], "colour": "red"}], "layout": {}},
        "fine": {"data": [{"type": "scatter", "y": [1.0]}], "layout": {"height": 300}},
    }
    html = "".join(page.format(k, json.dumps(v)) for k, v in shorthand.items())
    with pytest.raises(ValueError, match="colour"):  # an unknown property: plotly refuses it
        plotly_rewrites(html)
    del shorthand["typo"]
    html = "".join(page.format(k, json.dumps(v)) for k, v in shorthand.items())
    assert plotly_rewrites(html) == ["title", "scale"]


def test_shapes_and_labels_are_plotlys_add_hline_vline_vrect() -> None:
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=["2025-01-02", "2025-03-31"], y=[1.0, 2.0]))
    fig.add_hline(y=1.0, line_color="#999", line_width=1)
    fig.add_hline(y=0, line_dash="dot", line_color="grey")
    fig.add_vline(x="2025-02-03", line_dash="dash", line_color="#555", line_width=1)
    fig.add_vline(x=0.05, line_dash="dash", line_color="#333")
    fig.add_vrect(x0="2025-01-10", x1="2025-02-10", fillcolor="#4e79a7", opacity=0.10,
                  line_width=0, annotation_text="claim window", annotation_position="top left",
                  annotation_font_size=10)  # fmt: skip
    fig.add_vrect(x0="2025-02-10", x1="2025-03-10", fillcolor="#999", opacity=0.08, line_width=0,
                  annotation_text="still to come", annotation_position="top right",
                  annotation_font_size=10)  # fmt: skip
    layout = _plotlys(fig)["layout"]
    assert layout["shapes"] == [
        f._hline(1.0, "#999", width=1),
        f._hline(0, "grey", dash="dot"),
        f._vline("2025-02-03", "#555", width=1, dash="dash"),
        f._vline(0.05, "#333", dash="dash"),
        f._vrect("2025-01-10", "2025-02-10", "#4e79a7", 0.10),
        f._vrect("2025-02-10", "2025-03-10", "#999", 0.08),
    ]
    assert layout["annotations"] == [
        f._band_label("2025-01-10", "claim window", "left"),
        f._band_label("2025-03-10", "still to come", "right"),
    ]


def test_a_heat_map_keeps_plotly_pythons_red_blue_scale() -> None:
    import plotly.graph_objects as go

    fig = go.Figure(go.Heatmap(z=[[0.0]], colorscale="RdBu"))
    assert _plotlys(fig)["data"][0]["colorscale"] == f._RDBU


def test_numpy_arrays_are_written_as_plotlys_typed_arrays() -> None:
    import plotly.graph_objects as go

    y32 = np.array([1.5, np.nan, -2.25], dtype="float32")
    z = np.arange(6, dtype="float64").reshape(2, 3)
    empty = np.array([], dtype="float32")
    spec = f.figure(
        [
            {"type": "scatter", "y": y32},
            {"type": "heatmap", "z": z},
            {"type": "scatter", "y": empty},
        ]
    )
    assert _written(spec) == _plotlys(go.Figure(spec))
    assert _written(spec)["data"][0]["y"]["dtype"] == "f4"
    assert _written(spec)["data"][1]["z"]["shape"] == "2, 3"


def test_the_notebooks_figures_are_the_pages(demo_run: Path) -> None:
    folder = read_run_folder(demo_run)
    charts = Charts()
    render_report(folder.result, folder.returns, folder.claims, None, charts=charts)
    figures = report_figures(folder.result, folder.returns, folder.claims)
    assert figures.keys() == charts.figures.keys()
    assert all(type(fig).__name__ == "Figure" for fig in figures.values())
    page = page_charts((demo_run / "report.html").read_text())
    for name, fig in figures.items():
        assert _plotlys(fig) == page[name] == _written(charts.figures[name]), name
