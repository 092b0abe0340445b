"""A source's measures → one SQL query, built as a SQLGlot syntax tree (never spliced text).

The query has the same shape for every pack (docs/measures.md, "Compilation")::

    ev        the records, with their period (DATE_TRUNC of the time), dimension keys, entity
    fk        if every event and to-date measure allows it (engine.measures.preagg): the records
              grouped by period, group and the enumerated columns the measures test
    flow      event measures per period and group; to-date measures' per-period parts (from fk or ev)
    periods   the periods present in the source (from flow), with their days and end date
    groups    each group's first period (from flow)
    spine     every period of each group from the group's first period on (no holes)
    base      spine ⟕ flow; to-date measures as window sums over the group's periods
    eflow     per entity and period with records: attribute parts, lifecycle (since / until)
              times, the records meeting a count_distinct's where
    edistinct count_distinct of the entity column: entities with such records, per period and group
    ecarry    per entity and period with records: to-date windows over those periods, the next one
    estate    ecarry ⋈ periods, each row carried up to the entity's next period with records:
              every period of each entity from its first record on; attributes as of the instant
    emeasure  entity measures per period and group: aggregates over entities in scope
    SELECT    base ⟕ edistinct ⟕ emeasure, with the pack's names

The entity CTEs are built by engine.measures.entity. Identifiers come from the pack (validated
ids, the source's columns) and are quoted by SQLGlot; literals are bound as literals.
``period`` is the first moment of the period.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import sympy
from sqlglot import exp

from engine.compile import CompiledPack
from engine.errors import InputError
from engine.formula import parse_formula
from engine.measures.preagg import preaggregate
from engine.measures.sqlexpr import Names, number, to_sql
from engine.model import DataSource, Input

DIALECTS = ("duckdb", "spark", "trino", "postgres", "bigquery", "snowflake")
#: grain → (DATE_TRUNC unit, length, unit of the length)
GRAINS = {"day": ("DAY", 1, "DAY"), "week": ("WEEK", 7, "DAY"), "month": ("MONTH", 1, "MONTH"),
          "quarter": ("QUARTER", 3, "MONTH"), "year": ("YEAR", 1, "YEAR")}

P, T, ENT, FIRST = "kpi__period", "kpi__time", "kpi__entity", "kpi__first"
_COUNTS = ("sum", "count", "count_distinct")  # an empty group is 0 for these, null for the others


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def window(agg: exp.Expression, partition: list[str], *, until: str, table: str | None = "s") -> exp.Window:
    """``agg OVER (PARTITION BY … ORDER BY period ROWS UNBOUNDED PRECEDING … until)``;
    ``until`` is "CURRENT ROW" (to the end of the period) or "1" (to its start)."""
    spec = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end=until,
                          end_side=None if until == "CURRENT ROW" else "PRECEDING")
    return exp.Window(this=agg, partition_by=[col(p, table) for p in partition],
                      order=exp.Order(expressions=[exp.Ordered(this=col(P, table))]), spec=spec)


def when(condition: exp.Expression | None, value: exp.Expression) -> exp.Expression:
    return value if condition is None else exp.Case(ifs=[exp.If(this=_positive(condition), true=value)])


def _positive(condition: exp.Expression) -> exp.Expression:
    """A condition that only ever selects (``CASE WHEN``) without the ``COALESCE(…, FALSE)`` of its
    comparisons outside any NOT: under AND / OR alone, null and false select the same rows."""
    if isinstance(condition, exp.Coalesce) and len(condition.expressions) == 1 \
            and isinstance(condition.expressions[0], exp.Boolean) and not condition.expressions[0].this:
        return _positive(condition.this)
    if isinstance(condition, exp.Paren):
        return exp.paren(_positive(condition.this), copy=False)
    if isinstance(condition, exp.And | exp.Or):
        return type(condition)(this=_positive(condition.this), expression=_positive(condition.expression))
    return condition


def aggregate(agg: str, value: exp.Expression) -> exp.Expression:
    if agg == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[value]))
    cls: Any = {"sum": exp.Sum, "count": exp.Count, "min": exp.Min, "max": exp.Max, "avg": exp.Avg}[agg]
    out: exp.Expression = cls(this=value)
    return out


def _zero(agg: str, value: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=value, expressions=[number(0)]) if agg in _COUNTS else value


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
        #: compute event and to-date measures from the records grouped by enumerated columns when
        #: they allow it (engine.measures.preagg); off: always from the records (for tests)
        self.preaggregate = True

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
            .from_(exp.table_("kpi__groups", alias="g"), copy=False) \
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
        distinct = [i for i in events if self._counts_entities(i)]
        flowed = [i for i in events + to_date if i not in distinct]
        keys = self.keys
        query = exp.select(copy=False).with_("kpi__ev", as_=self._ev(), copy=False)
        fk, flow = self._flow(flowed)
        if fk is not None:
            query = query.with_("kpi__fk", as_=fk, copy=False)
        query = query.with_("kpi__flow", as_=flow, copy=False)
        # the periods and groups present in the source: from kpi__flow (one row per both), not the records
        end = self._end(col(P))
        periods = exp.select(col(P), exp.alias_(self._days(col(P), end), "kpi__days", quoted=True),
                             exp.alias_(exp.cast(end.copy(), "date"), "kpi__end", quoted=True), copy=False)
        query = query.with_("kpi__periods", as_=periods.distinct().from_("kpi__flow", copy=False), copy=False)
        groups, spine = self._spine("kpi__flow", keys)
        query = query.with_("kpi__groups", as_=groups, copy=False).with_("kpi__spine", as_=spine, copy=False)

        base = exp.select(col(P, "s"), *(col(k, "s") for k in keys), copy=False)
        for n, i in enumerate(flowed):
            m = i.measure
            assert m is not None
            part = col(f"kpi__m{n}", "f")
            if m.as_of is None:
                value = _zero(m.agg, part)
            else:
                running = window(exp.Sum(this=part), keys, until="CURRENT ROW" if m.as_of == "end" else "1")
                value = exp.Coalesce(this=running, expressions=[number(0)])
            base = base.select(exp.alias_(value, i.id, quoted=True), copy=False)
        base = base.from_(exp.table_("kpi__spine", alias="s"), copy=False).join(
            exp.table_("kpi__flow", alias="f"), on=self._joined("s", "f", keys), join_type="left", copy=False)
        query = query.with_("kpi__base", as_=base, copy=False)

        final = exp.select(exp.alias_(col(P, "b"), "period", quoted=True), copy=False)
        final = final.select(*(exp.alias_(col(k, "b"), dim, quoted=True) for (dim, _), k in zip(self.dims, keys, strict=True)), copy=False)
        final = final.select(*(col(i.id, "b") if i not in distinct else
                               exp.alias_(_zero("count", col(i.id, "d")), i.id, quoted=True)
                               for i in events + to_date), copy=False)
        final = final.from_(exp.table_("kpi__base", alias="b"), copy=False)
        if entities or distinct:
            from engine.measures.entity import entity_ctes

            query = entity_ctes(self, query, entities, distinct)
        if distinct:
            final = final.join(exp.table_("kpi__edistinct", alias="d"),
                               on=self._joined("b", "d", keys), join_type="left", copy=False)
        if entities:
            final = final.select(*(col(i.id, "e") if i.measure and i.measure.agg not in _COUNTS
                                   else exp.alias_(exp.Coalesce(this=col(i.id, "e"), expressions=[number(0)]), i.id,
                                                   quoted=True) for i in entities), copy=False)
            final = final.join(exp.table_("kpi__emeasure", alias="e"),
                               on=self._joined("b", "e", keys), join_type="left", copy=False)
        out: exp.Select = final.order_by(*(col(k, "b") for k in keys), col(P, "b"), copy=False)
        out.set("with_", query.args.get("with_"))
        return out

    def _flow(self, flowed: list[Input]) -> tuple[exp.Select | None, exp.Select]:
        """kpi__flow: the event measures and to-date measures' parts (kpi__m<n>) per period and
        group, from the records or, when every measure allows it, from kpi__fk (engine.measures.preagg)."""
        measures = [i.measure for i in flowed if i.measure is not None]
        wheres = [self._expr(m.where, "measure", "condition") for m in measures]
        enums = {name for name, spec in self.source.columns.items() if spec.values is not None}
        pre = preaggregate(measures, wheres, enums, self.names, P, self.keys) if self.preaggregate else None
        flow = exp.select(col(P), *(col(k) for k in self.keys), copy=False)
        for n, (m, where) in enumerate(zip(measures, wheres, strict=True)):
            if pre:
                value = pre[1][n]
            else:
                agg = "sum" if m.as_of is not None and m.agg == "sum" else m.agg
                value = aggregate(agg, when(where, self._expr(m.of, "measure", "any") or number(1)))
            flow = flow.select(exp.alias_(value, f"kpi__m{n}", quoted=True), copy=False)
        flow = flow.from_("kpi__fk" if pre else "kpi__ev", copy=False).group_by(col(P), *(col(k) for k in self.keys),
                                                                                copy=False)
        return (pre[0] if pre else None), flow

    def _counts_entities(self, i: Input) -> bool:
        """``count_distinct`` of the source's entity column (read as text, as kpi__entity): counted
        from kpi__eflow's rows, one per entity and period, instead of over the records."""
        m, entity = i.measure, self.source.entity
        if m is None or m.agg != "count_distinct" or m.of is None or not entity or entity in self.columns \
                or entity in self.params:
            return False
        of = parse_formula(m.of, expect="any", mode="measure").expr
        return isinstance(of, sympy.Symbol) and of.name == entity


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
