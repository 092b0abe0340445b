"""Metrics in SQL: the metrics without a carry-over (no time function anywhere beneath them)
computed in the same query as a source's measures, at the measures' grain.

The in-process evaluator is the reference, so the SQL keeps its null rules: a comparison with
null is false (not SQL's unknown), ``min`` / ``max`` of a null is null, division by zero is
null. Each metric becomes a column of a layer ``SELECT *, <formula> AS metric FROM <previous
layer>`` — one layer per depth of the metric graph, so formulas are never pasted into each
other (a chain of metrics stays linear in size). ``periods`` is 1 (one base period per row) and
``days`` the days of the row's period. ``round()`` is left to the evaluator (its half-up rule
corrects binary noise that SQL engines round differently).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy
from sqlglot import exp

from engine.compile import CompiledPack
from engine.formula import BUILTIN_NAMES, KpiCondition, KpiFunction, Round
from engine.measures.query import GRAINS, SourceQuery, col
from engine.measures.sqlexpr import Names, number, to_sql


def _formulas(c: CompiledPack) -> dict[str, Any]:
    return {s.owner.id: s.parsed.expr for s in c.sites if s.field == "formula"}


def _plain(node: Any) -> bool:
    """No time function (previous, growth, …) and no round() anywhere in the tree."""
    for sub in sympy.preorder_traversal(node):
        if isinstance(sub, KpiFunction | KpiCondition) and sub.kpi_name not in ("if", "coalesce") \
                or isinstance(sub, Round):
            return False
    return True


def sql_metrics(c: CompiledPack, source_id: str) -> list[str]:
    """The metrics computable in SQL from the inputs measured on ``source_id``, dependencies first."""
    measured = {i.id for i in c.pack.inputs.values() if i.measure is not None and i.measure.source == source_id}
    formulas = _formulas(c)
    done: dict[str, bool] = {}

    def ok(mid: str, depth: int = 0) -> bool:
        if mid not in done:
            done[mid] = False  # a cycle through previous() is a time function anyway
            expr = formulas.get(mid)
            done[mid] = expr is not None and depth < 200 and _plain(expr) and all(
                s.name in measured or s.name in c.pack.params or s.name in BUILTIN_NAMES
                or (s.name in c.pack.metrics and ok(s.name, depth + 1))
                for s in expr.free_symbols)
        return done[mid]

    ordered = [m for m in _topological(c) if ok(m)]
    return ordered


def _topological(c: CompiledPack) -> list[str]:
    import networkx as nx

    graph = c.graph.graph
    metrics = [n for n in nx.topological_sort(nx.DiGraph(
        (u, v) for u, v, d in graph.edges(data=True) if not d.get("lagged"))) if n in c.pack.metrics]
    return metrics + [m for m in c.pack.metrics if m not in metrics]


def metric_query(c: CompiledPack, source_id: str, grain: str | None = None,
                 params: Mapping[str, Any] | None = None) -> exp.Select:
    """The source's measures and every metric computable from them, per period and dimension member."""
    sq = SourceQuery(c, source_id, grain, params)
    inner = sq.build()
    metrics = sql_metrics(c, source_id)
    formulas = _formulas(c)
    period = col("period")
    _, length, unit = GRAINS[sq.grain]
    end = exp.DateAdd(this=period, expression=number(length), unit=exp.var(unit))
    days = exp.DateDiff(this=exp.cast(end, "date"), expression=exp.cast(period, "date"), unit=exp.var("DAY"))
    names = Names(params=sq.params, values={"periods": number(1), "days": days})
    depth: dict[str, int] = {}
    for m in metrics:
        deps = [s.name for s in formulas[m].free_symbols if s.name in depth]
        depth[m] = 1 + max((depth[d] for d in deps), default=0)
    layers = max(depth.values(), default=0)
    with_ = inner.args.get("with_")
    inner.set("with_", None)
    ctes = [*(with_.expressions if with_ is not None else []), _cte("kpi__layer0", inner)]
    for k in range(1, layers + 1):
        ctes.append(_cte(f"kpi__layer{k}", exp.select(exp.Star(), *(
            exp.alias_(to_sql(formulas[m], names), m, quoted=True) for m in metrics if depth[m] == k), copy=False)
            .from_(f"kpi__layer{k - 1}", copy=False)))
    keys = [col("period"), *(col(d) for d in sq.source.dimensions)]
    out = exp.select(*keys, *(col(i.id) for i in sq.inputs), *(col(m) for m in metrics), copy=False) \
        .from_(f"kpi__layer{layers}", copy=False).order_by(*keys[1:], keys[0], copy=False)
    out.set("with_", exp.With(expressions=ctes))
    return out


def _cte(name: str, select: exp.Select) -> exp.CTE:
    return exp.CTE(this=select, alias=exp.TableAlias(this=exp.to_identifier(name)))
