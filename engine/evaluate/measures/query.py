"""A source's measures → one SQL query, built as a SQLGlot syntax tree (never spliced text).

The query has the same shape for every pack (docs/measures.md, "Compilation")::

    range     the first base period of the source, the first period of the grain asked, and the cut:
              the day after as_of (by default the day after the last record's), after which
              nothing is read
    ev        the records before the cut, with their period (of the grain asked: DATE_TRUNC of the
              time, through the ISO week for a weekly pack), dimension keys, entity
    fk        if every event and to-date measure allows it (engine.evaluate.measures.preagg): the
              records grouped by period, group and the enumerated columns the measures test
    flow      event measures per period and group; to-date measures' per-period parts (from fk
              or ev)
    count     the numbers 0 … 99,999 (a cross join of ten digits: portable)
    periods   every period from the first to the one holding as_of — a calendar, quiet periods
              included — with its days and end date (cut at the cut: a period not over ends there)
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

The entity CTEs are built by engine.evaluate.measures.entity. Identifiers come from the pack
(validated ids, the source's columns) and are quoted by SQLGlot; literals are bound as literals.
``period`` is the first moment of the period.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import sympy
from sqlglot import exp

from engine.compile.pack import CompiledPack
from engine.core.errors import InputError
from engine.core.model import DataSource, Input
from engine.evaluate.measures.entity import entity_ctes
from engine.evaluate.measures.preagg import preaggregate
from engine.evaluate.measures.sqlexpr import Names, distinct_key, number, to_sql
from engine.evaluate.measures.sqlparts import (
    BEGIN,
    COUNTER_DIGITS,
    CUT,
    DAYS,
    ENT,
    FIRST,
    FIRST_PERIOD,
    GRAINS,
    START,
    ZERO_WHEN_EMPTY,
    P,
    T,
    aggregate,
    base_period,
    col,
    period_bounds,
    when,
    window,
    zero_when_empty,
)
from engine.evaluate.plan import check_as_of
from engine.formula import ParsedFormula


class SourceQuery:
    """The query computing inputs measured on one source, per period and dimension member.

    ``grain``: the periods (default the pack's base grain; "all" is one period over the whole
    range); ``dims``: the pack dimensions to group by (default every dimension of the source);
    ``inputs``: the inputs to compute (default every input measured on the source); ``as_of``:
    the data is read up to the end of this day (default: the last record's day)."""

    def __init__(
        self,
        c: CompiledPack,
        source_id: str,
        grain: str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        dims: Iterable[str] | None = None,
        inputs: Iterable[str] | None = None,
        as_of: date | None = None,
    ) -> None:
        pack = c.pack
        self.source_id = source_id
        self.source: DataSource = pack.sources[source_id]
        #: the parsed expressions of each measured input (parsed once, when compiled)
        self.exprs = c.measures
        self.base = pack.grain
        self.grain = grain or pack.grain
        if self.grain not in GRAINS and self.grain != "all":
            raise InputError(
                f"measures cannot be computed by '{self.grain}': use {', '.join(GRAINS)} or all",
                code="KPI-E022",
            )
        self.as_of = as_of
        self.params = {k: p.value for k, p in pack.params.items()}
        for k, v in (params or {}).items():
            if k not in self.params:
                raise InputError(
                    f"unknown param '{k}' (the pack's params: {', '.join(self.params) or 'none'})",
                    code="KPI-E027",
                )
            try:
                self.params[k] = float(v)
            except (TypeError, ValueError):
                raise InputError(
                    f"param '{k}' must be a number, not {str(v)[:40]!r}", code="KPI-E028"
                ) from None
            if not math.isfinite(self.params[k]):
                raise InputError(f"param '{k}' must be a finite number", code="KPI-E028")
        wanted = None if inputs is None else set(inputs)
        self.inputs = [
            i
            for i in pack.inputs.values()
            if i.measure is not None
            and i.measure.source == source_id
            and (wanted is None or i.id in wanted)
        ]
        if not self.inputs:
            raise InputError(
                f"no input of pack '{pack.id}' is measured on source '{source_id}'", code="KPI-E036"
            )
        check_as_of(as_of)
        kept = None if dims is None else set(dims)
        self.dims = [
            (d, column) for d, column in self.source.dimensions.items() if kept is None or d in kept
        ]
        self.keys = [f"kpi__d{k}" for k in range(len(self.dims))]
        # declared number columns are read as numbers whatever the file's types (an all-blank
        # column comes back as text from a CSV)
        self.columns = {
            name: exp.cast(col(name), "double")
            for name, spec in self.source.columns.items()
            if spec.type == "number"
        }
        self.names = Names(params=self.params, values=self.columns)
        #: compute event and to-date measures from the records grouped by enumerated columns when
        #: they allow it (engine.evaluate.measures.preagg); off: always from the records (for tests)
        self.preaggregate = True
        #: add each period's days (kpi__days) to the result (for the metrics computed in SQL)
        self.with_days = False

    # -- pieces -------------------------------------------------------------------------

    def _expr(
        self, parsed: ParsedFormula | None, names: Names | None = None
    ) -> exp.Expression | None:
        """A measure expression (parsed when the pack was compiled) as SQL."""
        if parsed is None:
            return None
        return to_sql(parsed.expr, names or self.names)

    def _bounds(self, start: exp.Expression) -> tuple[exp.Expression, exp.Expression]:
        """The first moment of the period that starts at ``start`` and its end, cut at the cut
        (for "all", the cut itself: the period runs to as_of)."""
        if self.grain == "all":
            return start, col(CUT, "r")
        begin, end = period_bounds(start, self.base, self.grain)
        return begin, exp.Least(this=end, expressions=[col(CUT, "r")])

    def grain_days(self) -> exp.Expression:
        """The built-in ``grain_days`` of entity measures: the longest period of the grain (31 for
        months, 92 for quarters, 366 for years), the whole range's days for "all" (kpi__days)."""
        if self.grain == "all":
            return col(DAYS)
        return number({"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}[self.grain])

    def _days(self, start: exp.Expression, end: exp.Expression) -> exp.Expression:
        return exp.DateDiff(
            this=exp.cast(end, "date"), expression=exp.cast(start, "date"), unit=exp.var("DAY")
        )

    def _range(self) -> exp.Select:
        """kpi__range: the source's first base period, the
        cut, and the first period of the grain asked."""
        time = exp.cast(col(self.source.time), "timestamp")
        base = base_period(time, self.base)
        if self.as_of is not None:
            cut: exp.Expression = exp.cast(
                exp.Literal.string((self.as_of + timedelta(days=1)).isoformat()), "timestamp"
            )
        else:  # the day after the last record's day
            cut = exp.DateAdd(
                this=base_period(exp.Max(this=time.copy()), "day"),
                expression=number(1),
                unit=exp.var("DAY"),
            )
        out = exp.select(
            exp.alias_(exp.Min(this=base), START, quoted=True),
            exp.alias_(cut, CUT, quoted=True),
            copy=False,
        )
        if self.grain != "all":
            out = out.select(
                exp.alias_(exp.Min(this=self._period_of(time.copy())), FIRST_PERIOD, quoted=True),
                copy=False,
            )
        return out.from_(exp.table_(self.source_id, quoted=True), copy=False)

    def _period_of(self, time: exp.Expression) -> exp.Expression:
        """The first moment of the period (of the grain asked) holding ``time``."""
        if self.grain == "all":
            return col(START, "r")
        if self.base == "week" and self.grain in ("month", "quarter", "year"):
            # a week belongs to the month (quarter, year) of its Thursday, as in the evaluator
            thursday = exp.DateAdd(
                this=base_period(time, "week"), expression=number(3), unit=exp.var("DAY")
            )
            return exp.TimestampTrunc(this=thursday, unit=exp.var(GRAINS[self.grain][0]))
        return base_period(time, self.grain)

    def _ev(self) -> exp.Select:
        time = exp.cast(col(self.source.time), "timestamp")
        extra = [
            exp.alias_(time.copy(), T, quoted=True),
            exp.alias_(self._period_of(time.copy()), P, quoted=True),
        ]
        # dimension members and entities are text (labels), whatever the file's types
        extra += [
            exp.alias_(exp.cast(col(column), "text"), key, quoted=True)
            for (_, column), key in zip(self.dims, self.keys, strict=True)
        ]
        if self.source.entity:
            extra.append(exp.alias_(exp.cast(col(self.source.entity), "text"), ENT, quoted=True))
        records = exp.select(exp.Star(), *extra, copy=False).from_(
            exp.table_(self.source_id, quoted=True), copy=False
        )
        records = records.join(exp.table_("kpi__range", alias="r"), join_type="cross", copy=False)
        return records.where(exp.LT(this=time.copy(), expression=col(CUT, "r")), copy=False)

    def _periods(self) -> exp.Select:
        """kpi__periods: every period of the grain from the source's first to the one holding as_of
        (a quiet month is a period too), with its days and end, both cut at the cut."""
        if self.grain == "all":
            start: exp.Expression = col(START, "r")
            table: exp.Expression = exp.select(
                exp.alias_(start, P, quoted=True), exp.Star(), copy=False
            ).from_(exp.table_("kpi__range", alias="r"), copy=False)
        else:
            _, length, unit = GRAINS[self.grain]
            step = (
                exp.Mul(this=col("n", "d"), expression=number(length))
                if length != 1
                else col("n", "d")
            )
            start = exp.DateAdd(this=col(FIRST_PERIOD, "r"), expression=step, unit=exp.var(unit))
            table = (
                exp.select(exp.alias_(start, P, quoted=True), exp.Star(), copy=False)
                .from_(exp.table_("kpi__count", alias="d"), copy=False)
                .join(exp.table_("kpi__range", alias="r"), join_type="cross", copy=False)
            )
        calendar = exp.Subquery(this=table, alias=exp.TableAlias(this=exp.to_identifier("r")))
        begin, end = self._bounds(col(P, "r"))
        periods = exp.select(
            col(P, "r"),
            exp.alias_(self._days(begin, end), DAYS, quoted=True),
            exp.alias_(exp.cast(begin.copy(), "date"), BEGIN, quoted=True),
            exp.alias_(exp.cast(end.copy(), "date"), "kpi__end", quoted=True),
            copy=False,
        )
        return periods.from_(calendar, copy=False).where(
            exp.LT(this=begin.copy(), expression=col(CUT, "r")), copy=False
        )

    def _spine(self, table: str, keys: list[str]) -> tuple[exp.Select, exp.Select]:
        first = (
            exp.select(
                *(col(k) for k in keys),
                exp.alias_(exp.Min(this=col(P)), FIRST, quoted=True),
                copy=False,
            )
            .from_(table, copy=False)
            .group_by(*(col(k) for k in keys), copy=False)
        )
        spine = (
            exp.select(*(col(k, "g") for k in keys), col(FIRST, "g"), col(P, "p"), copy=False)
            .from_(exp.table_("kpi__groups", alias="g"), copy=False)
            .join(
                exp.table_("kpi__periods", alias="p"),
                on=exp.GTE(this=col(P, "p"), expression=col(FIRST, "g")),
                copy=False,
            )
        )
        return first, spine

    def _joined(self, left: str, right: str, keys: list[str]) -> exp.Expression:
        joined: Any = exp.and_(
            *(exp.EQ(this=col(k, left), expression=col(k, right)) for k in [P, *keys])
        )
        return exp.paren(joined)

    # -- the query ----------------------------------------------------------------------

    def build(self) -> exp.Select:
        events = [
            i
            for i in self.inputs
            if i.measure and i.measure.per is None and i.measure.as_of is None
        ]
        to_date = [
            i
            for i in self.inputs
            if i.measure and i.measure.per is None and i.measure.as_of is not None
        ]
        entities = [i for i in self.inputs if i.measure and i.measure.per == "entity"]
        distinct = [i for i in events if self._counts_entities(i)]
        flowed = [i for i in events + to_date if i not in distinct]
        keys = self.keys
        query = exp.select(copy=False).with_("kpi__range", as_=self._range(), copy=False)
        query = query.with_("kpi__ev", as_=self._ev(), copy=False)
        fk, flow = self._flow(flowed)
        if fk is not None:
            query = query.with_("kpi__fk", as_=fk, copy=False)
        query = query.with_("kpi__flow", as_=flow, copy=False)
        # every period from the first to as_of (a calendar: a quiet month is a period); the groups
        # present in the source: from kpi__flow (one row per group and period), not the records
        if self.grain != "all":
            query = query.with_("kpi__count", as_=_counting(), copy=False)
        query = query.with_("kpi__periods", as_=self._periods(), copy=False)
        groups, spine = self._spine("kpi__flow", keys)
        query = query.with_("kpi__groups", as_=groups, copy=False).with_(
            "kpi__spine", as_=spine, copy=False
        )

        base = exp.select(col(P, "s"), *(col(k, "s") for k in keys), copy=False)
        for n, i in enumerate(flowed):
            m = i.measure
            assert m is not None
            part = col(f"kpi__m{n}", "f")
            if m.as_of is None:
                value = zero_when_empty(m.agg, part)
            else:
                running = window(
                    exp.Sum(this=part), keys, until="CURRENT ROW" if m.as_of == "end" else "1"
                )
                value = exp.Coalesce(this=running, expressions=[number(0)])
            base = base.select(exp.alias_(value, i.id, quoted=True), copy=False)
        base = base.from_(exp.table_("kpi__spine", alias="s"), copy=False).join(
            exp.table_("kpi__flow", alias="f"),
            on=self._joined("s", "f", keys),
            join_type="left",
            copy=False,
        )
        query = query.with_("kpi__base", as_=base, copy=False)

        final = exp.select(exp.alias_(col(P, "b"), "period", quoted=True), copy=False)
        final = final.select(
            *(
                exp.alias_(col(k, "b"), dim, quoted=True)
                for (dim, _), k in zip(self.dims, keys, strict=True)
            ),
            copy=False,
        )
        final = final.select(
            *(
                col(i.id, "b")
                if i not in distinct
                else exp.alias_(zero_when_empty("count", col(i.id, "d")), i.id, quoted=True)
                for i in events + to_date
            ),
            copy=False,
        )
        if self.with_days:
            final = final.select(col(DAYS, "pd"), copy=False)
        final = final.from_(exp.table_("kpi__base", alias="b"), copy=False)
        if self.with_days:
            final = final.join(
                exp.table_("kpi__periods", alias="pd"),
                on=exp.EQ(this=col(P, "b"), expression=col(P, "pd")),
                copy=False,
            )
        if entities or distinct:
            query = entity_ctes(self, query, entities, distinct)
        if distinct:
            final = final.join(
                exp.table_("kpi__edistinct", alias="d"),
                on=self._joined("b", "d", keys),
                join_type="left",
                copy=False,
            )
        if entities:
            final = final.select(
                *(
                    col(i.id, "e")
                    if i.measure and i.measure.agg not in ZERO_WHEN_EMPTY
                    else exp.alias_(
                        exp.Coalesce(this=col(i.id, "e"), expressions=[number(0)]),
                        i.id,
                        quoted=True,
                    )
                    for i in entities
                ),
                copy=False,
            )
            final = final.join(
                exp.table_("kpi__emeasure", alias="e"),
                on=self._joined("b", "e", keys),
                join_type="left",
                copy=False,
            )
        out: exp.Select = final.order_by(*(col(k, "b") for k in keys), col(P, "b"), copy=False)
        out.set("with_", query.args.get("with_"))
        return out

    def _flow(self, flowed: list[Input]) -> tuple[exp.Select | None, exp.Select]:
        """kpi__flow: the event measures and to-date measures' parts (kpi__m<n>) per period and
        group, from the records or, when every measure allows it, from kpi__fk
        (engine.evaluate.measures.preagg)."""
        exprs = [self.exprs[i.id] for i in flowed if i.measure is not None]
        measures = [x.measure for x in exprs]
        wheres = [self._expr(x.where) for x in exprs]
        enums = {name for name, spec in self.source.columns.items() if spec.values is not None}
        pre = (
            preaggregate(exprs, wheres, enums, self.names, P, self.keys)
            if self.preaggregate
            else None
        )
        flow = exp.select(col(P), *(col(k) for k in self.keys), copy=False)
        for n, (m, x, where) in enumerate(zip(measures, exprs, wheres, strict=True)):
            if pre:
                value = pre[1][n]
            else:
                agg = "sum" if m.as_of is not None and m.agg == "sum" else m.agg
                of = self._expr(x.of[0] if x.of else None) or number(1)
                if m.more:  # count_distinct of combinations (customer-days)
                    terms = [self._expr(t) for t in x.of[1:]]
                    of = distinct_key([of, *(t for t in terms if t is not None)])
                value = aggregate(agg, when(where, of))
            flow = flow.select(exp.alias_(value, f"kpi__m{n}", quoted=True), copy=False)
        flow = flow.from_("kpi__fk" if pre else "kpi__ev", copy=False).group_by(
            col(P), *(col(k) for k in self.keys), copy=False
        )
        return (pre[0] if pre else None), flow

    def _counts_entities(self, i: Input) -> bool:
        """``count_distinct`` of the source's entity column (read as text, as kpi__entity): counted
        from kpi__eflow's rows, one per entity and period, instead of over the records."""
        m, entity = i.measure, self.source.entity
        if (
            m is None
            or m.agg != "count_distinct"
            or m.of is None
            or m.more
            or not entity
            or entity in self.columns
            or entity in self.params
        ):
            return False
        of = self.exprs[i.id].of[0].expr
        return isinstance(of, sympy.Symbol) and of.name == entity


def measure_query(
    c: CompiledPack,
    source_id: str,
    grain: str | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    dims: Iterable[str] | None = None,
    inputs: Iterable[str] | None = None,
    as_of: date | None = None,
) -> exp.Select:
    """The query computing inputs measured on ``source_id``, per period and dimension member
    (:class:`SourceQuery` says what the options do)."""
    return SourceQuery(c, source_id, grain, params, dims=dims, inputs=inputs, as_of=as_of).build()


def _counting() -> exp.Select:
    """kpi__count: the numbers 0 … 10^COUNTER_DIGITS - 1, from a table of ten digits (portable:
    no series functions, no recursive CTEs)."""
    digits = exp.Values(
        expressions=[exp.tuple_(number(k)) for k in range(10)],
        alias=exp.TableAlias(this=exp.to_identifier("d0"), columns=[exp.to_identifier("n")]),
    )
    total: exp.Expression = col("n", "d0")
    for k in range(1, COUNTER_DIGITS):
        total = exp.Add(
            this=total, expression=exp.Mul(this=col("n", f"d{k}"), expression=number(10**k))
        )
    out = exp.select(exp.alias_(total, "n", quoted=True), copy=False).from_(digits, copy=False)
    for k in range(1, COUNTER_DIGITS):
        more = exp.Values(
            expressions=[exp.tuple_(number(j)) for j in range(10)],
            alias=exp.TableAlias(this=exp.to_identifier(f"d{k}"), columns=[exp.to_identifier("n")]),
        )
        out = out.join(more, join_type="cross", copy=False)
    return out


def measured_sources(c: CompiledPack) -> list[str]:
    """The sources that at least one input is measured on, in the pack's order."""
    used = {i.measure.source for i in c.pack.inputs.values() if i.measure is not None}
    return [s for s in c.pack.sources if s in used]
