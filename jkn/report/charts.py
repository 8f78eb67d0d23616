"""The report's charts: Vega-Lite specifications rendered to static SVG by vl-convert
(offline: no CDN, no script when the page is viewed), embedded in the page as data URIs.

Readable printed in black and white: every bar and point carries its figure as a label, series
differ by dash and point shape as well as colour, and the colours are the Okabe-Ito palette
(colour-blind safe). Every text on a chart comes from the caller (the catalogues); numbers on
the axes are drawn with the locale's decimal and group symbols.
"""

from __future__ import annotations

import base64
from typing import Any

import vl_convert

# Okabe & Ito (2008), "Color universal design": safe for the common colour blindnesses
BLUE, ORANGE, GREEN, VERMILLION, SKY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9"
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"  # a name only: nothing is fetched
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"


def _base(width: int, height: int) -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "width": width,
        "height": height,
        "background": "white",
        "config": {
            "font": FONT,
            "axis": {"labelFontSize": 11, "titleFontSize": 11, "grid": True, "gridColor": "#ddd"},
            "legend": {
                "labelFontSize": 11,
                "labelLimit": 0,
                "orient": "bottom",
                "columns": 1,
                "symbolSize": 120,
            },
            "view": {"stroke": None},
        },
    }


def svg_data_uri(spec: dict[str, Any], number_locale: dict[str, Any]) -> str:
    """The chart as an ``<img>`` source: SVG rendered offline, base64 in a data URI."""
    svg = vl_convert.vegalite_to_svg(spec, format_locale=number_locale)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def waterfall(
    steps: list[dict[str, Any]], population: int, population_label: str, axis_title: str
) -> dict[str, Any]:
    """The coverage bridge: ``steps`` are ``{label, start, end, text, kind}`` (kind ``total``
    for registered and resident, ``removed`` for each category taken away), with a dashed rule
    at the population the coverage is measured against."""
    spec = _base(560, 260)
    spec["layer"] = [
        {
            "data": {"values": steps},
            "mark": {"type": "bar", "stroke": "black", "strokeWidth": 0.8},
            "encoding": {
                "x": {
                    "field": "label",
                    "type": "nominal",
                    "sort": None,
                    "title": None,
                    "axis": {"labelAngle": -20, "labelLimit": 140},
                },
                "y": {
                    "field": "start",
                    "type": "quantitative",
                    "title": axis_title,
                    "axis": {"format": ",d"},
                },
                "y2": {"field": "end"},
                "color": {
                    "field": "kind",
                    "type": "nominal",
                    "scale": {"domain": ["total", "removed"], "range": [BLUE, ORANGE]},
                    "legend": None,
                },
            },
        },
        {
            "data": {"values": steps},
            "mark": {"type": "text", "dy": -7, "fontSize": 11, "fontWeight": "bold"},
            "encoding": {
                "x": {"field": "label", "type": "nominal", "sort": None},
                "y": {"field": "top", "type": "quantitative"},
                "text": {"field": "text"},
            },
        },
        {
            "data": {"values": [{"population": population, "text": population_label}]},
            "mark": {"type": "rule", "strokeDash": [6, 4], "strokeWidth": 1.5, "color": "black"},
            "encoding": {"y": {"field": "population", "type": "quantitative"}},
        },
        {
            "data": {"values": [{"population": population, "text": population_label}]},
            "mark": {"type": "text", "align": "right", "dy": -6, "x": "width", "fontSize": 11},
            "encoding": {
                "y": {"field": "population", "type": "quantitative"},
                "text": {"field": "text"},
            },
        },
    ]
    return spec


def _share(title: str, scale: dict[str, Any]) -> dict[str, Any]:
    """The quantitative channel of a share (a rate): field ``value``, shown as a percentage."""
    return {
        "field": "value",
        "type": "quantitative",
        "title": title,
        "axis": {"format": ".0%"},
        "scale": scale,
    }


def trend(points: list[dict[str, Any]], series: list[str], axis_title: str) -> dict[str, Any]:
    """Rates month by month: ``points`` are ``{month, order, series, value, text}``; each series
    its own colour, dash and point shape, its value written at each point."""
    spec = _base(560, 220)
    colour = {
        "field": "series",
        "type": "nominal",
        "title": None,
        "scale": {"domain": series, "range": [BLUE, VERMILLION, GREEN]},
    }
    x = {
        "field": "month",
        "type": "ordinal",
        "sort": {"field": "order"},
        "title": None,
        "axis": {"labelAngle": 0},
    }
    y = _share(axis_title, {"zero": False})
    spec["data"] = {"values": points}
    spec["layer"] = [
        {
            "mark": {"type": "line", "strokeWidth": 2, "point": {"size": 70, "filled": True}},
            "encoding": {
                "x": x,
                "y": y,
                "color": colour,
                "strokeDash": {
                    "field": "series",
                    "type": "nominal",
                    "title": None,
                    "scale": {"domain": series, "range": [[1, 0], [6, 3], [2, 2]]},
                },
                "shape": {
                    "field": "series",
                    "type": "nominal",
                    "title": None,
                    "scale": {"domain": series, "range": ["circle", "square", "triangle-up"]},
                },
            },
        },
        {
            # above its point: to the right it would sit on the line to the next month
            "mark": {"type": "text", "dy": -11, "align": "center", "fontSize": 10},
            "encoding": {"x": x, "y": y, "text": {"field": "text"}, "color": colour},
        },
    ]
    return spec


def bars(rows: list[dict[str, Any]], axis_title: str) -> dict[str, Any]:
    """Horizontal bars of a rate, one per ``label`` in the order given, each with its ``text``."""
    spec = _base(460, max(60, 26 * len(rows)))
    y = {
        "field": "label",
        "type": "nominal",
        "sort": None,
        "title": None,
        "axis": {"labelLimit": 200},
    }
    x = _share(axis_title, {"domain": [0, 1.25]})
    spec["data"] = {"values": rows}
    spec["layer"] = [
        {
            "mark": {"type": "bar", "color": BLUE, "stroke": "black", "strokeWidth": 0.6},
            "encoding": {"y": y, "x": x},
        },
        {
            "mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 10},
            "encoding": {"y": y, "x": x, "text": {"field": "text"}},
        },
    ]
    return spec


def grouped_bars(
    rows: list[dict[str, Any]], groups: list[str], axis_x: str, axis_y: str
) -> dict[str, Any]:
    """Bars of a rate per ``band`` (in the order given), side by side per ``group`` (dark then
    light, each outlined), each with its ``text``."""
    spec = _base(560, 220)
    x = {
        "field": "band",
        "type": "nominal",
        "sort": None,
        "title": axis_x,
        "axis": {"labelAngle": 0},
    }
    y = _share(axis_y, {"domain": [0, 1.1]})
    offset = {"field": "group", "type": "nominal", "sort": groups}
    spec["data"] = {"values": rows}
    spec["layer"] = [
        {
            "mark": {"type": "bar", "stroke": "black", "strokeWidth": 0.6},
            "encoding": {
                "x": x,
                "y": y,
                "xOffset": offset,
                "color": {
                    "field": "group",
                    "type": "nominal",
                    "title": None,
                    "scale": {"domain": groups, "range": [BLUE, SKY, ORANGE]},
                },
            },
        },
        {
            # upright labels, reading upwards from the bar's top: side-by-side bars are
            # narrower than a label written across
            "mark": {
                "type": "text",
                "angle": 270,
                "align": "left",
                "baseline": "middle",
                "dx": 3,
                "fontSize": 9,
            },
            "encoding": {"x": x, "y": y, "xOffset": offset, "text": {"field": "text"}},
        },
    ]
    return spec
