"""A source's measures → one SQL query, built as a SQLGlot syntax tree (never spliced text).

The query has the same shape for every pack (docs/measures.md, "Compilation")::

    ev       the records, with their period (DATE_TRUNC of the time), dimension keys, entity
    periods  the periods present in the source
    spine    every period of each group from the group's first record on (no holes)
    flow     event measures per period and group; to-date measures' per-period parts
    base     spine ⟕ flow; to-date measures as window sums over the group's periods
    eflow    per entity and period: attribute parts, lifecycle (since / until) times
    estate   every period of each entity from its first record on; attributes as of the instant
    emeasure entity measures per period and group: aggregates over entities in scope
    SELECT   base ⟕ emeasure, with the pack's names

Identifiers come from the pack (validated ids, the source's columns) and are quoted by
SQLGlot; literals are bound as literals. ``period`` is the first moment of the period.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from engine.compile import CompiledPack
from engine.errors import InputError
from engine.formula import (
    ENTITY_FUNCTIONS,
    EntityAttribute,
    parse_formula,
)
from engine.measures.sqlexpr import Names, number, to_sql
from engine.model import DataSource, Input, Measure

DIALECTS = ("duckdb", "spark", "trino", "postgres", "bigquery", "snowflake")
#: grain → (DATE_TRUNC unit, length, unit of the length)
GRAINS = {"day": ("DAY", 1, "DAY"), "week": ("WEEK", 7, "DAY"), "month": ("MONTH", 1, "MONTH"),
          "quarter": ("QUARTER", 3, "MONTH"), "year": ("YEAR", 1, "YEAR")}

P, T, ENT, FIRST = "kpi__period", "kpi__time", "kpi__entity", "kpi__first"
_COUNTS = ("sum", "count", "count_distinct")
#: entity totals are compared at this many decimals (see _exact)
TOTAL_DECIMALS = 6  # an empty group is 0 for these, null for the others


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _window(agg: exp.Expression, partition: list[str], *, until: str, table: str = "s") -> exp.Window:
    """``agg OVER (PARTITION BY … ORDER BY period ROWS UNBOUNDED PRECEDING … until)``;
    ``until`` is "CURRENT ROW" (to the end of the period) or "1" (to its start)."""
    spec = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end=until,
                          end_side=None if until == "CURRENT ROW" else "PRECEDING")
    return exp.Window(this=agg, partition_by=[col(p, table) for p in partition],
                      order=exp.Order(expressions=[exp.Ordered(this=col(P, table))]), spec=spec)


def _when(condition: exp.Expression | None, value: exp.Expression) -> exp.Expression:
    return value if condition is None else exp.Case(ifs=[exp.If(this=condition, true=value)])


def _aggregate(agg: str, value: exp.Expression) -> exp.Expression:
    if agg == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[value]))
    cls: Any = {"sum": exp.Sum, "count": exp.Count, "min": exp.Min, "max": exp.Max, "avg": exp.Avg}[agg]
    out: exp.Expression = cls(this=value)
    return out


def _zero(agg: str, value: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=value, expressions=[number(0)]) if agg in _COUNTS else value


@dataclass
class _Entity:
    """The entity part of a query: attribute and lifecycle columns, numbered as met."""

    attributes: dict[Any, str] = field(default_factory=dict)  # attribute node -> column
    lifecycle: dict[str, tuple[str, exp.Expression]] = field(default_factory=dict)  # sql -> (column, condition)
    instants: dict[str, set[str]] = field(default_factory=dict)  # column -> instants needed

    def attribute(self, node: Any, instant: str) -> str:
        name = self.attributes.setdefault(node, f"kpi__a{len(self.attributes)}")
        self.instants.setdefault(name, set()).add(instant)
        return name

    def condition(self, condition: exp.Expression, instant: str) -> str:
        name, _ = self.lifecycle.setdefault(condition.sql(), (f"kpi__l{len(self.lifecycle)}", condition))
        self.instants.setdefault(name, set()).add(instant)
        return name


class SourceQuery:
    """The query computing every input measured on one source, per period and dimension member."""

    def __init__(self, c: CompiledPack, source_id: str, grain: str | None = None,
                 params: Mapping[str, Any] | None = None) -> None:
        pack = c.pack
        self.source_id = source_id
        self.source: DataSource = pack.sources[source_id]
        self.grain = grain or pack.grain
        if self.grain not in GRAINS:
            raise InputError(f"measures cannot be computed by '{self.grain}': use {', '.join(GRAINS)}")
        self.params = {k: p.value for k, p in pack.params.items()}
        for k, v in (params or {}).items():
            if k not in self.params:
                raise InputError(f"unknown param '{k}' (the pack's params: {', '.join(self.params) or 'none'})")
            try:
                self.params[k] = float(v)
            except (TypeError, ValueError):
                raise InputError(f"param '{k}' must be a number, not {str(v)[:40]!r}") from None
            if not math.isfinite(self.params[k]):
                raise InputError(f"param '{k}' must be a finite number")
        self.inputs = [i for i in pack.inputs.values() if i.measure is not None and i.measure.source == source_id]
        if not self.inputs:
            raise InputError(f"no input of pack '{pack.id}' is measured on source '{source_id}'")
        self.dims = list(self.source.dimensions.items())
        self.keys = [f"kpi__d{k}" for k in range(len(self.dims))]
        # declared number columns are read as numbers whatever the file's types (an all-blank
        # column comes back as text from a CSV)
        self.columns = {name: exp.cast(col(name), "double") for name, spec in self.source.columns.items()
                        if spec.type == "number"}
        self.names = Names(params=self.params, values=self.columns)

    # -- pieces -------------------------------------------------------------------------

    def _expr(self, text: str | None, mode: str, expect: str, names: Names | None = None) -> exp.Expression | None:
        if text is None:
            return None
        parsed = parse_formula(text, expect=expect, mode=mode)  # type: ignore[arg-type]
        return to_sql(parsed.expr, names or self.names)

    def _end(self, start: exp.Expression) -> exp.Expression:
        _, length, unit = GRAINS[self.grain]
        return exp.DateAdd(this=start, expression=number(length), unit=exp.var(unit))

    def _days(self, start: exp.Expression, end: exp.Expression) -> exp.Expression:
        return exp.DateDiff(this=exp.cast(end, "date"), expression=exp.cast(start, "date"), unit=exp.var("DAY"))

    def _ev(self) -> exp.Select:
        time = exp.cast(col(self.source.time), "timestamp")
        unit = GRAINS[self.grain][0]
        extra = [exp.alias_(time, T, quoted=True),
                 exp.alias_(exp.TimestampTrunc(this=time, unit=exp.var(unit)), P, quoted=True)]
        # dimension members and entities are text (labels), whatever the file's types
        extra += [exp.alias_(exp.cast(col(column), "text"), key, quoted=True)
                  for (_, column), key in zip(self.dims, self.keys, strict=True)]
        if self.source.entity:
            extra.append(exp.alias_(exp.cast(col(self.source.entity), "text"), ENT, quoted=True))
        return exp.select(exp.Star(), *extra, copy=False).from_(exp.table_(self.source_id, quoted=True), copy=False)

    def _spine(self, table: str, keys: list[str]) -> tuple[exp.Select, exp.Select]:
        first = exp.select(*(col(k) for k in keys), exp.alias_(exp.Min(this=col(P)), FIRST, quoted=True), copy=False) \
            .from_(table, copy=False).group_by(*(col(k) for k in keys), copy=False)
        spine = exp.select(*(col(k, "g") for k in keys), col(FIRST, "g"), col(P, "p"), copy=False) \
            .from_(exp.table_("kpi__groups_" + table, alias="g"), copy=False) \
            .join(exp.table_("kpi__periods", alias="p"),
                  on=exp.GTE(this=col(P, "p"), expression=col(FIRST, "g")), copy=False)
        return first, spine

    def _joined(self, left: str, right: str, keys: list[str]) -> exp.Expression:
        joined: Any = exp.and_(*(exp.EQ(this=col(k, left), expression=col(k, right)) for k in [P, *keys]))
        return exp.paren(joined)

    # -- the query ----------------------------------------------------------------------

    def build(self) -> exp.Select:
        events = [i for i in self.inputs if i.measure and i.measure.per is None and i.measure.as_of is None]
        to_date = [i for i in self.inputs if i.measure and i.measure.per is None and i.measure.as_of is not None]
        entities = [i for i in self.inputs if i.measure and i.measure.per == "entity"]
        keys = self.keys
        query = exp.select(copy=False).with_("kpi__ev", as_=self._ev(), copy=False)
        query = query.with_("kpi__periods", as_=exp.select(col(P)).distinct().from_("kpi__ev"), copy=False)
        groups, spine = self._spine("kpi__ev", keys)
        query = query.with_("kpi__groups_kpi__ev", as_=groups, copy=False).with_("kpi__spine", as_=spine, copy=False)

        flow = exp.select(col(P), *(col(k) for k in keys), copy=False)
        for n, i in enumerate(events + to_date):
            m = i.measure
            assert m is not None
            value = self._expr(m.of, "measure", "any") or number(1)
            agg = "sum" if m.as_of is not None and m.agg == "sum" else m.agg
            flow = flow.select(exp.alias_(_aggregate(agg, _when(self._expr(m.where, "measure", "condition"), value)),
                                          f"kpi__m{n}", quoted=True), copy=False)
        query = query.with_("kpi__flow", as_=flow.from_("kpi__ev").group_by(col(P), *(col(k) for k in keys)), copy=False)

        base = exp.select(col(P, "s"), *(col(k, "s") for k in keys), copy=False)
        for n, i in enumerate(events + to_date):
            m = i.measure
            assert m is not None
            part = col(f"kpi__m{n}", "f")
            if m.as_of is None:
                value = _zero(m.agg, part)
            else:
                window = _window(exp.Sum(this=part), keys,
                                 until="CURRENT ROW" if m.as_of == "end" else "1")
                value = exp.Coalesce(this=window, expressions=[number(0)])
            base = base.select(exp.alias_(value, i.id, quoted=True), copy=False)
        base = base.from_(exp.table_("kpi__spine", alias="s"), copy=False).join(
            exp.table_("kpi__flow", alias="f"), on=self._joined("s", "f", keys), join_type="left", copy=False)
        query = query.with_("kpi__base", as_=base, copy=False)

        final = exp.select(exp.alias_(col(P, "b"), "period", quoted=True), copy=False)
        final = final.select(*(exp.alias_(col(k, "b"), dim, quoted=True) for (dim, _), k in zip(self.dims, keys, strict=True)), copy=False)
        final = final.select(*(col(i.id, "b") for i in events + to_date), copy=False)
        final = final.from_(exp.table_("kpi__base", alias="b"), copy=False)
        if entities:
            query = self._entity_ctes(query, entities)
            final = final.select(*(col(i.id, "e") if i.measure and i.measure.agg not in _COUNTS
                                   else exp.alias_(exp.Coalesce(this=col(i.id, "e"), expressions=[number(0)]), i.id,
                                                   quoted=True) for i in entities), copy=False)
            final = final.join(exp.table_("kpi__emeasure", alias="e"),
                               on=self._joined("b", "e", keys), join_type="left", copy=False)
        out: exp.Select = final.order_by(*(col(k, "b") for k in keys), col(P, "b"), copy=False)
        out.set("with_", query.args.get("with_"))
        return out

    def _entity_ctes(self, query: exp.Select, entities: list[Input]) -> exp.Select:
        keys, ekeys = self.keys, [*self.keys, ENT]
        ent = _Entity()
        instant_of: dict[str, str] = {}
        parts: list[tuple[Input, Measure, exp.Expression | None, exp.Expression | None, str | None, str | None]] = []
        for i in entities:
            m = i.measure
            assert m is not None
            instant = m.instant or "end"
            instant_of[i.id] = instant

            def attribute(node: Any, instant: str = instant) -> exp.Expression:
                return col(ent.attribute(node, instant) + "_" + _attr_suffix(node, instant))

            names = Names(params=self.params, values={**self.columns, "days": col("kpi__days")}, attribute=attribute)
            of = self._expr(m.of, "entity", "number", names)
            having = self._expr(m.having, "entity", "condition", names)
            since = self._expr(m.since, "measure", "condition")
            until = self._expr(m.until, "measure", "condition")
            parts.append((i, m, of, having,
                          ent.condition(since, instant) if since is not None else None,
                          ent.condition(until, instant) if until is not None else None))

        eflow = exp.select(col(P), *(col(k) for k in ekeys), copy=False)
        for node, name in ent.attributes.items():
            arg = self._expr_node(node.args[0])
            if isinstance(node, _cls("count", "count_to_date")):
                value: exp.Expression = exp.Count(this=_when(arg, number(1)))
            elif isinstance(node, _cls("total", "total_to_date")):
                value = exp.Sum(this=arg)
            elif isinstance(node, _cls("days_since_last")):
                value = exp.Max(this=_when(arg, col(T)))
            else:
                value = exp.Min(this=_when(arg, col(T)))
            eflow = eflow.select(exp.alias_(value, name, quoted=True), copy=False)
        for name, condition in ent.lifecycle.values():
            eflow = eflow.select(exp.alias_(exp.Max(this=_when(condition, col(T))), name, quoted=True), copy=False)
        query = query.with_("kpi__eflow", as_=eflow.from_("kpi__ev").group_by(col(P), *(col(k) for k in ekeys)), copy=False)
        groups, spine = self._spine("kpi__eflow", ekeys)
        query = query.with_("kpi__groups_kpi__eflow", as_=groups, copy=False).with_("kpi__espine", as_=spine, copy=False)

        state = exp.select(col(P, "s"), *(col(k, "s") for k in ekeys), col(FIRST, "s"), copy=False)
        period = col(P, "s")
        state = state.select(exp.alias_(self._days(period, self._end(period)), "kpi__days", quoted=True), copy=False)
        for node, name in ent.attributes.items():
            for instant in sorted(ent.instants[name]):
                state = state.select(exp.alias_(self._state(node, col(name, "f"), instant, ekeys), name + "_" +
                                                _attr_suffix(node, instant), quoted=True), copy=False)
        for name, _ in ent.lifecycle.values():
            for instant in sorted(ent.instants[name]):
                state = state.select(exp.alias_(_window(exp.Max(this=col(name, "f")), ekeys, until=_until(instant)),
                                                f"{name}_{instant}", quoted=True), copy=False)
        state = state.from_(exp.table_("kpi__espine", alias="s"), copy=False).join(
            exp.table_("kpi__eflow", alias="f"), on=self._joined("s", "f", ekeys),
            join_type="left", copy=False)
        query = query.with_("kpi__estate", as_=state, copy=False)

        emeasure = exp.select(col(P), *(col(k) for k in keys), copy=False)
        for i, m, of, having, since_col, until_col in parts:
            instant = instant_of[i.id]
            scope: list[Any] = []
            if since_col is not None:
                scope.append(exp.Not(this=exp.Is(this=col(f"{since_col}_{instant}"), expression=exp.Null())))
                if until_col is not None:
                    scope.append(exp.or_(exp.Is(this=col(f"{until_col}_{instant}"), expression=exp.Null()),
                                         exp.LT(this=col(f"{until_col}_{instant}"), expression=col(f"{since_col}_{instant}"))))
            else:
                if instant == "start":
                    scope.append(exp.LT(this=col(FIRST), expression=col(P)))
                if until_col is not None:
                    scope.append(exp.Is(this=col(f"{until_col}_{instant}"), expression=exp.Null()))
            if having is not None:
                scope.append(having)
            in_scope: Any = exp.and_(*scope) if scope else None
            value = _when(in_scope, of if of is not None else number(1))
            emeasure = emeasure.select(exp.alias_(_aggregate(m.agg, value), i.id, quoted=True), copy=False)
        return query.with_("kpi__emeasure", as_=emeasure.from_("kpi__estate").group_by(col(P), *(col(k) for k in keys)), copy=False)

    def _expr_node(self, node: Any) -> exp.Expression:
        return to_sql(node, self.names)

    def _state(self, node: EntityAttribute, part: exp.Expression, instant: str, ekeys: list[str]) -> exp.Expression:
        """An attribute as of the instant, from its per-period parts."""
        if node.window == "period":
            return _exact(node, exp.Coalesce(this=part, expressions=[number(0)]))
        if isinstance(node, _cls("count_to_date", "total_to_date")):
            return _exact(node, exp.Coalesce(this=_window(exp.Sum(this=part), ekeys, until=_until(instant)),
                                             expressions=[number(0)]))
        pick: Any = exp.Max if isinstance(node, _cls("days_since_last")) else exp.Min
        at = col(P, "s") if instant == "start" else self._end(col(P, "s"))
        return self._days(_window(pick(this=part), ekeys, until=_until(instant)), at)


def _exact(node: EntityAttribute, value: exp.Expression) -> exp.Expression:
    """A total rounded to 6 decimals: float sums depend on the order engines add in, which varies
    between runs, and a total of exactly 500.00 must meet ``>= 500`` every time."""
    if isinstance(node, _cls("total", "total_to_date")):
        return exp.Round(this=value, decimals=number(TOTAL_DECIMALS))
    return value


def _until(instant: str) -> str:
    return "CURRENT ROW" if instant == "end" else "1"


def _attr_suffix(node: Any, instant: str) -> str:
    return "p" if node.window == "period" else instant


def _cls(*names: str) -> tuple[type, ...]:
    return tuple(ENTITY_FUNCTIONS[n].sympy_class for n in names)


def measure_query(c: CompiledPack, source_id: str, grain: str | None = None,
                  params: Mapping[str, Any] | None = None) -> exp.Select:
    """The query computing every input measured on ``source_id``, per period and dimension member."""
    return SourceQuery(c, source_id, grain, params).build()


def for_dialect(tree: exp.Expression, dialect: str) -> exp.Expression:
    """Adjust a query for a dialect whose functions are typed differently: BigQuery adds to and
    truncates DATETIMEs with DATETIME_ADD / DATETIME_TRUNC (its DATE_ADD takes dates only)."""
    if dialect != "bigquery":
        return tree

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.DateAdd):
            return exp.DatetimeAdd(**node.args)
        if isinstance(node, exp.TimestampTrunc):
            return exp.DatetimeTrunc(**node.args)
        return node

    return tree.transform(swap)


def measured_sources(c: CompiledPack) -> list[str]:
    """The sources that at least one input is measured on, in the pack's order."""
    used = {i.measure.source for i in c.pack.inputs.values() if i.measure is not None}
    return [s for s in c.pack.sources if s in used]


def measure_sql(c: CompiledPack, dialect: str = "duckdb", grain: str | None = None,
                sources: Iterable[str] | None = None, *, metrics: bool = False) -> dict[str, str]:
    """The SQL of every measured source (or of ``sources``), rendered for ``dialect``; with
    ``metrics``, also the metrics computable from the source's measures (engine.measures.metrics)."""
    if dialect not in DIALECTS:
        raise InputError(f"unknown SQL dialect '{dialect}': choose one of {', '.join(DIALECTS)}")
    wanted = measured_sources(c) if sources is None else list(sources)
    if metrics:
        from engine.measures.metrics import metric_query

        return {sid: for_dialect(metric_query(c, sid, grain), dialect).sql(dialect=dialect, pretty=True)
                for sid in wanted}
    return {sid: for_dialect(measure_query(c, sid, grain), dialect).sql(dialect=dialect, pretty=True) for sid in wanted}
