"""Event measures → one SQL query per source, built as a SQLGlot syntax tree (never spliced text),
and run on DuckDB. See docs/measures-design.md; state measures (``as_of``, entity lifecycles)
are designed there and not built yet.

A source's measures become conditional aggregates grouped by period and dimensions::

    SELECT <period label> AS period, store_id AS store,
           COALESCE(SUM(CASE WHEN kind = 'recharge' THEN amount END), 0) AS recharge_amount, …
    FROM card_events GROUP BY 1, 2

Identifiers come from the pack (validated ids, the source's columns) and are quoted by
SQLGlot; literals are bound as literals. The same tree renders for DuckDB, Spark, Trino,
PostgreSQL, BigQuery and Snowflake.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlglot
import sympy
from sqlglot import exp

from engine.compile import CompiledPack
from engine.errors import InputError, KpiError
from engine.formula import NULL, Coalesce, If, In, Text, parse_formula
from engine.model import DataSource, Input

DIALECTS = ("duckdb", "spark", "trino", "postgres", "bigquery", "snowflake")
_FORMATS = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


def _sql(node: Any) -> exp.Expression:  # noqa: C901 - one case per node type of the language
    """A measure-mode formula tree as a SQL expression tree."""
    if node is NULL:
        return exp.Null()
    if isinstance(node, Text):
        return exp.Literal.string(node.value)
    if isinstance(node, sympy.Number):
        return exp.Literal.number(str(float(node)) if not node.is_Integer else str(int(node)))
    if node is sympy.true or node is sympy.false:
        return exp.Boolean(this=bool(node))
    if isinstance(node, sympy.Symbol):
        return exp.column(node.name, quoted=True)
    if isinstance(node, In):  # x in (literal, …): the items are a tuple, not an expression
        return exp.In(this=_sql(node.args[0]), expressions=[_sql(v) for v in node.args[1].args])
    args = [_sql(a) for a in node.args]
    if isinstance(node, sympy.Add):
        out = args[0]
        for a in args[1:]:
            out = exp.Add(this=out, expression=a)
        return exp.paren(out)
    if isinstance(node, sympy.Mul):
        num = [a for f, a in zip(node.args, args, strict=True) if not _is_reciprocal(f)]
        den = [_sql(f.base) if f.exp == -1 else _sql(sympy.Pow(f.base, -f.exp, evaluate=False))
               for f in node.args if _is_reciprocal(f)]
        top = num[0] if num else exp.Literal.number("1")
        for a in num[1:]:
            top = exp.Mul(this=top, expression=a)
        for d in den:  # division by zero is null, as in the in-process evaluator
            top = exp.Div(this=top, expression=exp.Nullif(this=exp.paren(d), expression=exp.Literal.number("0")))
        return exp.paren(top)
    if isinstance(node, sympy.Pow):
        return exp.Pow(this=args[0], expression=args[1])
    if isinstance(node, sympy.Rel):
        cls = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}[node.rel_op]
        return exp.paren(cls(this=args[0], expression=args[1]))
    if isinstance(node, sympy.And):
        return exp.paren(exp.and_(*args))
    if isinstance(node, sympy.Or):
        return exp.paren(exp.or_(*args))
    if isinstance(node, sympy.Not):
        return exp.Not(this=exp.paren(args[0]))
    if isinstance(node, If):
        return exp.Case(ifs=[exp.If(this=args[0], true=args[1])], default=args[2])
    if isinstance(node, Coalesce):
        return exp.Coalesce(this=args[0], expressions=args[1:])
    if isinstance(node, sympy.Abs):
        return exp.Abs(this=args[0])
    if isinstance(node, sympy.Min):
        return exp.Least(this=args[0], expressions=args[1:])
    if isinstance(node, sympy.Max):
        return exp.Greatest(this=args[0], expressions=args[1:])
    raise KpiError(f"{type(node).__name__} cannot be computed in SQL")


def _is_reciprocal(f: Any) -> bool:
    return isinstance(f, sympy.Pow) and isinstance(f.exp, sympy.Number) and f.exp < 0


def _period(source: DataSource, grain: str) -> exp.Expression:
    time = exp.column(source.time, quoted=True)
    if grain in _FORMATS:
        return exp.TimeToStr(this=time, format=exp.Literal.string(_FORMATS[grain]))
    if grain == "quarter":
        return exp.Concat(expressions=[exp.TimeToStr(this=time, format=exp.Literal.string("%Y")),
                                       exp.Literal.string("-Q"), exp.cast(exp.Quarter(this=time), "text")])
    raise InputError(f"measures cannot be computed by {grain} yet: use day, month, quarter or year")


def _aggregate(i: Input) -> Any:
    m = i.measure
    assert m is not None
    value: exp.Expression = _sql(parse_formula(m.of, expect="any", mode="measure").expr) if m.of \
        else exp.Literal.number("1")
    if m.where:
        value = exp.Case(ifs=[exp.If(this=_sql(parse_formula(m.where, expect="condition", mode="measure").expr),
                                     true=value)])
    agg: Any
    if m.agg == "count_distinct":
        agg = exp.Count(this=exp.Distinct(expressions=[value]))
    else:
        agg = {"sum": exp.Sum, "count": exp.Count, "min": exp.Min, "max": exp.Max, "avg": exp.Avg}[m.agg](this=value)
    if m.agg in ("sum", "count", "count_distinct"):  # nothing happened: 0, not null
        agg = exp.Coalesce(this=agg, expressions=[exp.Literal.number("0")])
    return exp.alias_(agg, i.id, quoted=True)


def measure_query(c: CompiledPack, source_id: str, grain: str | None = None) -> exp.Select:
    """The query computing every input measured on ``source_id``, per period and dimension member."""
    pack = c.pack
    source = pack.sources[source_id]
    inputs = [i for i in pack.inputs.values() if i.measure is not None and i.measure.source == source_id]
    if not inputs:
        raise InputError(f"no input of pack '{pack.id}' is measured on source '{source_id}'")
    keys: list[Any] = [exp.alias_(_period(source, grain or pack.grain), "period", quoted=True)]
    keys += [exp.alias_(exp.column(col, quoted=True), dim, quoted=True) for dim, col in source.dimensions.items()]
    select = exp.select(*keys, *(_aggregate(i) for i in inputs)).from_(exp.table_(source_id, quoted=True))
    return select.group_by(*(exp.Literal.number(str(k + 1)) for k in range(len(keys))))


def measure_sql(c: CompiledPack, dialect: str = "duckdb", grain: str | None = None) -> dict[str, str]:
    """The SQL of every source, rendered for ``dialect``."""
    if dialect not in DIALECTS:
        raise InputError(f"unknown SQL dialect '{dialect}': choose one of {', '.join(DIALECTS)}")
    return {sid: measure_query(c, sid, grain).sql(dialect=dialect, pretty=True)
            for sid in c.pack.sources
            if any(i.measure is not None and i.measure.source == sid for i in c.pack.inputs.values())}


def run_measures(c: CompiledPack, paths: Mapping[str, Path], grain: str | None = None) -> dict[str, list[Any]]:
    """Compute the measured inputs with DuckDB over CSV / Parquet files, one per source.

    Returns columns for :func:`engine.evaluate.evaluate` (period, dimensions, inputs); sources
    are joined on period and dimensions.
    """
    import duckdb

    queries = measure_sql(c, "duckdb", grain)
    for sid in queries:
        if sid not in paths:
            raise InputError(f"no data for source '{sid}': give it as --source {sid}=PATH")
    con = duckdb.connect()
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    names: list[str] = []
    for sid, sql in queries.items():
        path = Path(paths[sid])
        if not path.is_file():
            raise InputError(f"source '{sid}': file not found: {path}")
        try:
            reader = con.read_parquet if path.suffix.lower() == ".parquet" else con.read_csv
            reader(str(path)).create_view(sid, replace=True)
            cursor = con.execute(sql)
        except duckdb.Error as err:
            raise InputError(f"source '{sid}' ({path.name}): {str(err).splitlines()[0]}") from None
        columns = [d[0] for d in cursor.description]
        keys = 1 + len(c.pack.sources[sid].dimensions)
        names += [n for n in columns if n not in names]
        for row in cursor.fetchall():
            merged.setdefault(tuple(row[:keys]), {}).update(zip(columns, row, strict=True))
    return {n: [values.get(n) for values in merged.values()] for n in names}


__all__ = ["DIALECTS", "measure_query", "measure_sql", "run_measures", "sqlglot"]
