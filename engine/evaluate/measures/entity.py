"""The entity part of a source's query (engine.evaluate.measures.query): ``per: entity``
measures, and ``count_distinct`` of the source's entity column::

    eflow     per entity and period with records: attribute parts, lifecycle (since / until) times
    edistinct count_distinct of the entity column: entities with a matching record, per period
              and group
    ecarry    per entity and period with records: to-date windows over those periods, the next
              such period
    estate    every period of each entity from its first record on (ecarry ⋈ periods, up to the next
              period with records): attributes as of the instant
    emeasure  entity measures per period and group: aggregates over the entities in scope

An entity's state only changes in periods in which it has records, so the windows run over those
(kpi__ecarry) and a row is carried to the periods up to the next one: there the period's own
attributes (``count``, ``total``) are 0, and its to-date values as of the start and as of the end
both equal the row's as of the end. ``days_since_*`` count to each period's own instant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from engine.core.model import Input, Measure
from engine.evaluate.measures.sqlexpr import Names, number, to_sql
from engine.evaluate.measures.sqlparts import BEGIN, ENT, P, T, aggregate, col, when, window
from engine.formula import ENTITY_FUNCTIONS, EntityAttribute

if TYPE_CHECKING:  # the query builder calls this module; only its type is needed here
    from engine.evaluate.measures.query import SourceQuery

#: entity totals are compared at this many decimals (see _exact)
TOTAL_DECIMALS = 6
#: after every period: the open end of an entity's last stretch of periods (portable: no 'infinity')
FAR = "9999-12-31 00:00:00"
NEXT = "kpi__next"


@dataclass
class _Entity:
    """The entity part of a query: attribute and lifecycle columns, numbered as met."""

    attributes: dict[Any, str] = field(default_factory=dict)  # attribute node -> column
    # sql -> (column, condition)
    lifecycle: dict[str, tuple[str, exp.Expression]] = field(default_factory=dict)
    instants: dict[str, set[str]] = field(default_factory=dict)  # column -> instants needed
    # column -> its kpi__eflow column (shared when equal)
    parts: dict[str, str] = field(default_factory=dict)

    def attribute(self, node: Any, instant: str) -> str:
        name = self.attributes.setdefault(node, f"kpi__a{len(self.attributes)}")
        self.instants.setdefault(name, set()).add(instant)
        return name

    def condition(self, condition: exp.Expression, instant: str) -> str:
        name, _ = self.lifecycle.setdefault(
            condition.sql(), (f"kpi__l{len(self.lifecycle)}", condition)
        )
        self.instants.setdefault(name, set()).add(instant)
        return name


def entity_ctes(
    sq: SourceQuery, query: exp.Select, entities: list[Input], distinct: list[Input]
) -> exp.Select:
    """``query`` with kpi__eflow, then kpi__edistinct (for ``distinct``: count_distinct of the
    entity column) and kpi__ecarry, kpi__estate, kpi__emeasure (for ``entities``)."""
    keys, ekeys = sq.keys, [*sq.keys, ENT]
    ent = _Entity()
    parts: list[
        tuple[
            Input,
            Measure,
            str,
            exp.Expression | None,
            exp.Expression | None,
            str | None,
            str | None,
        ]
    ] = []
    for i in entities:
        m = i.measure
        assert m is not None
        instant = m.instant or "end"

        def attribute(node: Any, instant: str = instant) -> exp.Expression:
            return col(ent.attribute(node, instant) + "_" + _attr_suffix(node, instant))

        names = Names(
            params=sq.params,
            values={**sq.columns, "days": col("kpi__days"), "grain_days": sq.grain_days()},
            attribute=attribute,
        )
        x = sq.exprs[i.id]
        of = sq._expr(x.of[0] if x.of else None, names)
        having = sq._expr(x.having, names)
        since = sq._expr(x.since)
        until = sq._expr(x.until)
        parts.append(
            (
                i,
                m,
                instant,
                of,
                having,
                ent.condition(since, instant) if since is not None else None,
                ent.condition(until, instant) if until is not None else None,
            )
        )

    # kpi__eflow: one aggregate per distinct part (count(c) and count_to_date(c) share theirs)
    eflow = exp.select(col(P), *(col(k) for k in ekeys), copy=False)
    made: dict[str, str] = {}  # aggregate (SQL) -> column

    def part(name: str, value: exp.Expression) -> None:
        nonlocal eflow
        if value.sql() not in made:
            made[value.sql()] = name
            eflow = eflow.select(exp.alias_(value, name, quoted=True), copy=False)
        ent.parts[name] = made[value.sql()]

    for node, name in ent.attributes.items():
        arg = to_sql(node.args[0], sq.names)
        if isinstance(node, _cls("count", "count_to_date")):
            part(name, exp.Count(this=when(arg, number(1))))
        elif isinstance(node, _cls("total", "total_to_date")):
            part(name, exp.Sum(this=arg))
        else:
            pick: Any = exp.Max if isinstance(node, _cls("days_since_last")) else exp.Min
            part(name, pick(this=when(arg, col(T))))
    for name, condition in ent.lifecycle.values():
        part(name, exp.Max(this=when(condition, col(T))))
    for k, i in enumerate(distinct):
        assert i.measure is not None
        where = sq._expr(sq.exprs[i.id].where)
        if where is not None:
            part(f"kpi__x{k}", exp.Count(this=when(where, number(1))))
    query = query.with_(
        "kpi__eflow",
        as_=eflow.from_("kpi__ev").group_by(col(P), *(col(k) for k in ekeys)),
        copy=False,
    )
    if distinct:
        query = query.with_("kpi__edistinct", as_=_edistinct(sq, distinct, ent.parts), copy=False)
    if not entities:
        return query

    # kpi__ecarry: the state of each entity at its periods with records (windows over them) ...
    carry = exp.select(col(P), *(col(k) for k in ekeys), copy=False)
    following = exp.Window(
        this=exp.Lead(this=col(P)),
        partition_by=[col(k) for k in ekeys],
        order=exp.Order(expressions=[exp.Ordered(this=col(P))]),
    )
    far = exp.cast(exp.Literal.string(FAR), "timestamp")
    carry = carry.select(
        exp.alias_(exp.Coalesce(this=following, expressions=[far]), NEXT, quoted=True), copy=False
    )
    period_parts = sorted(
        {ent.parts[name] for node, name in ent.attributes.items() if node.window == "period"}
    )
    carry = carry.select(*(col(name) for name in period_parts), copy=False)
    for node, name in ent.attributes.items():
        if node.window != "period":
            for instant in _carried(ent.instants[name]):
                carry = carry.select(
                    exp.alias_(
                        _to_date(node, col(ent.parts[name]), instant, ekeys),
                        f"{name}_{instant}",
                        quoted=True,
                    ),
                    copy=False,
                )
    for name, _ in ent.lifecycle.values():
        for instant in _carried(ent.instants[name]):
            carry = carry.select(
                exp.alias_(
                    _window(exp.Max(this=col(ent.parts[name])), ekeys, _until(instant)),
                    f"{name}_{instant}",
                    quoted=True,
                ),
                copy=False,
            )
    query = query.with_("kpi__ecarry", as_=carry.from_("kpi__eflow"), copy=False)

    # ... kpi__estate: carried to every period up to the next one with records (or for good)
    def here() -> exp.Expression:
        return exp.EQ(this=col(P, "p"), expression=col(P, "c"))

    state = exp.select(
        exp.alias_(col(P, "p"), P, quoted=True), *(col(k, "c") for k in ekeys), copy=False
    )
    state = state.select(col("kpi__days", "p"), copy=False)
    for node, name in ent.attributes.items():
        for suffix in sorted({_attr_suffix(node, i) for i in ent.instants[name]}):
            if node.window == "period":
                own = _exact(
                    node, exp.Coalesce(this=col(ent.parts[name], "c"), expressions=[number(0)])
                )
                value = _if(here(), own, number(0))
            else:
                value = _carry(here(), name, suffix)
                if isinstance(
                    node, _cls("days_since_last", "days_since_first")
                ):  # dates, in kpi__ecarry
                    at = col(BEGIN, "p") if suffix == "start" else col("kpi__end", "p")
                    value = exp.DateDiff(this=at, expression=value, unit=exp.var("DAY"))
            state = state.select(exp.alias_(value, f"{name}_{suffix}", quoted=True), copy=False)
    for name, _ in ent.lifecycle.values():
        for instant in sorted(ent.instants[name]):
            state = state.select(
                exp.alias_(_carry(here(), name, instant), f"{name}_{instant}", quoted=True),
                copy=False,
            )
    state = state.from_(exp.table_("kpi__ecarry", alias="c"), copy=False).join(
        exp.table_("kpi__periods", alias="p"),
        on=exp.and_(
            exp.GTE(this=col(P, "p"), expression=col(P, "c")),
            exp.LT(this=col(P, "p"), expression=col(NEXT, "c")),
        ),
        copy=False,
    )
    query = query.with_("kpi__estate", as_=state, copy=False)

    emeasure = exp.select(col(P), *(col(k) for k in keys), copy=False)
    for i, m, instant, of, having, since_col, until_col in parts:
        scope: list[Any] = []
        if since_col is not None:
            scope.append(
                exp.Not(this=exp.Is(this=col(f"{since_col}_{instant}"), expression=exp.Null()))
            )
            if until_col is not None:
                scope.append(
                    exp.or_(
                        exp.Is(this=col(f"{until_col}_{instant}"), expression=exp.Null()),
                        exp.LT(
                            this=col(f"{until_col}_{instant}"),
                            expression=col(f"{since_col}_{instant}"),
                        ),
                    )
                )
        else:  # every entity with a record before the period's end; `having` says which count
            if until_col is not None:
                scope.append(exp.Is(this=col(f"{until_col}_{instant}"), expression=exp.Null()))
        if having is not None:
            scope.append(having)
        in_scope: Any = exp.and_(*scope) if scope else None
        value = when(in_scope, of if of is not None else number(1))
        emeasure = emeasure.select(
            exp.alias_(aggregate(m.agg, value), i.id, quoted=True), copy=False
        )
    return query.with_(
        "kpi__emeasure",
        as_=emeasure.from_("kpi__estate").group_by(col(P), *(col(k) for k in keys)),
        copy=False,
    )


def _edistinct(sq: SourceQuery, distinct: list[Input], parts: dict[str, str]) -> exp.Select:
    """``count_distinct`` of the entity column: the entities with a record meeting ``where`` in
    the period (a row of kpi__eflow), per period and group."""
    out = exp.select(col(P), *(col(k) for k in sq.keys), copy=False)
    for k, i in enumerate(distinct):
        counted: list[exp.Expression] = [exp.Not(this=exp.Is(this=col(ENT), expression=exp.Null()))]
        if f"kpi__x{k}" in parts:
            counted.append(exp.GT(this=col(parts[f"kpi__x{k}"]), expression=number(0)))
        counts: Any = exp.and_(*counted)
        out = out.select(
            exp.alias_(exp.Count(this=when(counts, number(1))), i.id, quoted=True), copy=False
        )
    return out.from_("kpi__eflow", copy=False).group_by(
        col(P), *(col(k) for k in sq.keys), copy=False
    )


def _window(agg: exp.Expression, partition: list[str], until: str) -> exp.Window:
    return window(agg, partition, until=until, table=None)


def _to_date(
    node: EntityAttribute, part: exp.Expression, instant: str, ekeys: list[str]
) -> exp.Expression:
    """A to-date attribute's window over the entity's periods with records: its sum (counts,
    totals) or the date of its last / first record (days_since_*), as of the instant."""
    if isinstance(node, _cls("count_to_date", "total_to_date")):
        return _exact(
            node,
            exp.Coalesce(
                this=_window(exp.Sum(this=part), ekeys, _until(instant)), expressions=[number(0)]
            ),
        )
    pick: Any = exp.Max if isinstance(node, _cls("days_since_last")) else exp.Min
    return exp.cast(_window(pick(this=part), ekeys, _until(instant)), "date")


def _exact(node: EntityAttribute, value: exp.Expression) -> exp.Expression:
    """A total rounded to 6 decimals: float sums depend on the order engines add in, which varies
    between runs, and a total of exactly 500.00 must meet ``>= 500`` every time."""
    if isinstance(node, _cls("total", "total_to_date")):
        return exp.Round(this=value, decimals=number(TOTAL_DECIMALS))
    return value


def _if(
    condition: exp.Expression, value: exp.Expression, otherwise: exp.Expression
) -> exp.Expression:
    return exp.Case(ifs=[exp.If(this=condition, true=value)], default=otherwise)


def _carried(instants: set[str]) -> list[str]:
    """The windows kept per period with records: "end" always (the state carried to the periods
    after it), "start" when an instant needs it."""
    return ["end", *(["start"] if "start" in instants else [])]


def _carry(here: exp.Expression, name: str, instant: str) -> exp.Expression:
    """A to-date value at period p from the entity's last period c <= p with records: as of the
    end, c's; as of the start, c's start value if p is c, else c's end value (no record between)."""
    if instant == "end":
        return col(f"{name}_end", "c")
    return _if(here, col(f"{name}_start", "c"), col(f"{name}_end", "c"))


def _until(instant: str) -> str:
    return "CURRENT ROW" if instant == "end" else "1"


def _attr_suffix(node: Any, instant: str) -> str:
    return "p" if node.window == "period" else instant


def _cls(*names: str) -> tuple[type, ...]:
    return tuple(ENTITY_FUNCTIONS[n].sympy_class for n in names)
