"""Geometry of the pictures the pages draw as inline SVG: band scales, lineage graphs, trend charts.

Only numbers and the strings the templates escape come out of here; the templates
(``templates/_svg.html``) turn them into SVG. Sizes are in SVG user units; each picture
scales to the width of its container.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx

from engine.api import Band, format_value

MAX_GRAPH_NODES = 80
_KIND_ORDER = {"metric": 0, "input": 1, "param": 2, "builtin": 3}
_MAX = sys.float_info.max


def _float(value: Any) -> float:
    """A bound or value as a finite float (a bound past the float range is clamped to it)."""
    try:
        f = float(value)
    except OverflowError:
        f = _MAX if value > 0 else -_MAX
    return max(-_MAX, min(_MAX, f)) if not math.isnan(f) else 0.0


def _unit(values: Sequence[float]) -> float:
    """What to divide by so that every value is within [-1, 1] (at least 1): differences and
    padding of numbers near ±1e308 would overflow to infinity, and positions to NaN."""
    return max([1.0, *(abs(v) for v in values)])


# -- band scale ------------------------------------------------------------------------------
def band_scale(
    bands: Sequence[Band], fmt: str, decimals: int | None, locale: str, width: float = 600.0
) -> dict[str, Any] | None:
    """Bands on one horizontal axis: a segment per band
    (open ends drawn to the edge), ticks at bounds."""
    if not bands:
        return None
    bounds = sorted({_float(v) for b in bands for v in (b.min, b.max) if v is not None})
    unit = _unit(bounds)
    lo, hi = (bounds[0] / unit, bounds[-1] / unit) if bounds else (0.0, 1.0)
    span = hi - lo or abs(hi) or 1.0
    left = lo - 0.25 * span if any(b.min is None for b in bands) or len(bounds) < 2 else lo
    right = hi + 0.25 * span if any(b.max is None for b in bands) or len(bounds) < 2 else hi

    def x(value: float) -> float:  # value in units of ``unit``
        return round(10 + (value - left) / (right - left) * (width - 20), 1)

    segments = []
    for b in bands:
        x0 = x(_float(b.min) / unit if b.min is not None else left)
        x1 = x(_float(b.max) / unit if b.max is not None else right)
        segments.append(
            {
                "x": x0,
                "w": round(max(x1 - x0, 1.0), 1),
                "status": b.status,
                "label": b.label.get(locale, b.status),
                "mid": round((x0 + x1) / 2, 1),
            }
        )
    ticks = [{"x": x(v / unit), "text": format_value(v, fmt, decimals)} for v in bounds]
    return {"width": width, "segments": segments, "ticks": ticks}


# -- lineage graph ----------------------------------------------------------------------------
def lineage_graph(
    graph: Any, info: Mapping[str, Any], labels: Mapping[str, str]
) -> dict[str, Any] | None:
    """Layered layout of a lineage: inputs on the left, the node itself, then what uses it.

    ``graph`` is the pack's dependency graph (networkx, edge attribute ``lagged``), ``info``
    the lineage JSON. None when there are too many nodes to draw (the page lists them instead).
    """
    target = info["metric"]
    shown = [n["id"] for n in info["upstream"]["nodes"]]
    shown += [n for n in info["downstream"] if n not in shown]
    if len(shown) > MAX_GRAPH_NODES:
        return None
    members = set(shown)
    now = nx.DiGraph()
    now.add_nodes_from(shown)
    now.add_edges_from(
        (a, b) for a, b, lag in graph.subgraph(members).edges(data="lagged") if not lag
    )
    layer: dict[str, int] = {}
    for node in nx.topological_sort(now):
        layer[node] = max((layer[p] + 1 for p in now.predecessors(node)), default=0)
    for node in shown:  # an input sits just left of its first user, not far away in column 0
        users = [layer[s] for s in now.successors(node)]
        if not any(True for _ in now.predecessors(node)) and users:
            layer[node] = min(users) - 1
    columns: dict[int, list[str]] = {}
    for node in shown:
        columns.setdefault(layer[node], []).append(node)
    order = {n: i for i, n in enumerate(graph.nodes)}
    col_w, row_h, box_w, box_h = 214, 56, 164, 42
    tallest = max(len(c) for c in columns.values())
    pos: dict[str, tuple[float, float]] = {}
    nodes = []
    for col, idents in sorted(columns.items()):
        # order a column by where its predecessors sit
        # (fewer crossings), then by kind and definition
        def key(n: str) -> tuple[float, int, int]:
            ys = [pos[p][1] for p in graph.predecessors(n) if p in pos]
            return (
                sum(ys) / len(ys) if ys else -1.0,
                _KIND_ORDER[graph.nodes[n]["kind"]],
                order[n],
            )

        idents.sort(key=key)
        top = 10 + (tallest - len(idents)) * row_h / 2  # columns centred on each other
        for row, ident in enumerate(idents):
            x, y = 10 + col * col_w, top + row * row_h
            pos[ident] = (x, y)
            kind = graph.nodes[ident]["kind"]
            nodes.append(
                {
                    "id": ident,
                    "x": x,
                    "y": y,
                    "w": box_w,
                    "h": box_h,
                    "kind": kind,
                    "label": labels.get(ident, ident),
                    "self": ident == target,
                    "link": kind != "builtin" and ident != target,
                }
            )
    edges = []
    for a, b, lag in graph.subgraph(members).edges(data="lagged"):
        if a == b:
            continue
        (ax, ay), (bx, by) = pos[a], pos[b]
        x1, y1, x2, y2 = ax + box_w, ay + box_h / 2, bx, by + box_h / 2
        if x2 <= x1:  # a lagged edge pointing back: loop under the boxes
            low = max(ay, by) + box_h + 10
            d = (
                f"M{x1 - box_w / 2},{ay + box_h} C{x1 - box_w / 2},{low} "
                f"{x2 + box_w / 2},{low} {x2 + box_w / 2},{by + box_h}"
            )
        else:
            mid = (x1 + x2) / 2
            d = f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"
        edges.append({"d": d, "lagged": bool(lag)})
    width = 20 + max(columns) * col_w + box_w
    height = 40 + tallest * row_h
    return {"width": width, "height": height, "nodes": nodes, "edges": edges}


# -- trend charts -----------------------------------------------------------------------------
def trend_chart(
    periods: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    bands: Sequence[Band],
    fmt: str,
    decimals: int | None,
    locale: str,
) -> dict[str, Any] | None:
    """A line per series over the periods, with the bands as shaded stripes behind the lines."""
    values = [_float(v) for vs in series.values() for v in vs if v is not None and math.isfinite(v)]
    if not values:
        return None
    unit = _unit(values)  # positions are computed in units of ``unit``: nothing overflows
    vmin, vmax = min(values) / unit, max(values) / unit
    span = vmax - vmin or abs(vmax) or 1.0
    near = [
        _float(v) / unit
        for b in bands
        for v in (b.min, b.max)
        if v is not None and vmin - span <= _float(v) / unit <= vmax + span
    ]
    lo, hi = min([vmin, *near]), max([vmax, *near])
    pad = (hi - lo or abs(hi) or 1.0) * 0.08
    lo, hi = lo - pad, hi + pad
    width, height, left, right, top, bottom = 640.0, 220.0, 70.0, 34.0, 12.0, 34.0
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(periods)

    def x(i: int) -> float:
        return round(left + (plot_w / 2 if n == 1 else i * plot_w / (n - 1)), 1)

    def y(v: float) -> float:  # v in its own units, drawn in units of ``unit``
        return round(top + (hi - min(max(_float(v) / unit, lo), hi)) / (hi - lo) * plot_h, 1)

    stripes = []
    for b in bands:
        y0 = y(_float(b.max)) if b.max is not None else top
        y1 = y(_float(b.min)) if b.min is not None else top + plot_h
        if y1 - y0 > 0.5:
            stripes.append(
                {
                    "y": y0,
                    "h": round(y1 - y0, 1),
                    "status": b.status,
                    "label": b.label.get(locale, b.status),
                }
            )
    lines = []
    for index, (name, vs) in enumerate(series.items()):
        runs: list[list[tuple[float, float]]] = [[]]
        points = []
        for i, v in enumerate(vs):
            if v is None or not math.isfinite(v):
                runs.append([])
                continue
            runs[-1].append((x(i), y(v)))
            points.append(
                {
                    "x": x(i),
                    "y": y(v),
                    "title": f"{name} {periods[i]}: {format_value(v, fmt, decimals)}",
                }
            )
        paths = [" ".join(f"{px},{py}" for px, py in run) for run in runs if run]
        lines.append({"name": name, "paths": paths, "points": points, "style": index % 6})
    step = max(1, math.ceil(n / 8))
    xlabels = [{"x": x(i), "text": p} for i, p in enumerate(periods) if i % step == 0 or i == n - 1]
    yticks = [
        {"y": y(_float(v * unit)), "text": format_value(_float(v * unit), fmt, decimals)}
        for v in (hi - pad, (hi + lo) / 2, lo + pad)
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "top": top,
        "plot_w": plot_w,
        "plot_h": plot_h,
        "stripes": stripes,
        "lines": lines,
        "xlabels": xlabels,
        "yticks": yticks,
        "base": top + plot_h,
    }
