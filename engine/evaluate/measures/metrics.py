"""An evaluation plan as SQL: a source's measures, their roll-up to the output grain and `by`, and
the metrics without a carry-over — the same steps (:mod:`engine.evaluate.steps`) as the in-process
evaluation executes, here by :class:`SqlBackend`, so that both compute the same thing
(docs/measures.md, "Metrics in SQL"; docs/design.md, "One plan, several backends").

    kpi__b_*  the measures at the pack's base grain, per dimension member
              (engine.evaluate.measures.query)
    kpi__b0   … their result: period, dimensions, inputs, kpi__days
    kpi__bN   metrics that declare a rollup (and what they are made of), per member and base period
    kpi__m    across dimension members, within each base period (the inputs' `dims` rules)
    kpi__o    each base period's output period, and its rank in it (first / last)
    kpi__r    across periods into the output period (the `time` rules); kpi__periods counts them
    kpi__d_*  inputs that cannot be combined (rollup none), measured again at the output grain
              and `by`
    kpi__j    kpi__r ⟕ kpi__d0, with the output period's days (cut at as_of)
    kpi__lN   the metrics, one layer per depth of the metric graph
    SELECT    period, dimensions, inputs, metrics

The in-process evaluator is the reference, so the SQL keeps its null rules: a roll-up of a
null is null (``CASE WHEN COUNT(x) = COUNT(*) THEN SUM(x) END``), a comparison with null is false,
``min`` / ``max`` of a null is null, division by zero is null. Formulas are never pasted into
each other. Metrics with a time function (``previous``, ``growth``, …) or ``round()`` anywhere
beneath them stay in the evaluator (its half-up rule corrects binary noise that SQL engines
round differently).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import sympy
from sqlglot import exp

from engine.compile.pack import CompiledPack
from engine.core.errors import InputError
from engine.evaluate.measures.query import SourceQuery, measured_sources
from engine.evaluate.measures.sqlexpr import Names, number, to_sql
from engine.evaluate.measures.sqlparts import (
    CUT,
    DAYS,
    DIALECTS,
    GRAINS,
    START,
    base_period,
    col,
    for_dialect,
    period_bounds,
)
from engine.evaluate.plan import Plan, make_plan, records_grain
from engine.evaluate.steps import (
    CombineMembers,
    CombinePeriods,
    ComputeMetrics,
    MeasureDirect,
    ReadInputs,
    ShapeOutput,
    execute,
    plan_steps,
)
from engine.formula import BUILTIN_NAMES, KpiCondition, KpiFunction, Round

_RF, _RL, _OP, _PERIODS = "kpi__rf", "kpi__rl", "kpi__op", "kpi__periods"


def _formulas(c: CompiledPack) -> dict[str, Any]:
    return {m: site.parsed.expr for m, site in c.metrics.items()}


def _plain(node: Any) -> bool:
    """No time function (previous, growth, …) and no round() anywhere in the tree."""
    for sub in sympy.preorder_traversal(node):
        if (
            isinstance(sub, KpiFunction | KpiCondition)
            and sub.kpi_name not in ("if", "coalesce")
            or isinstance(sub, Round)
        ):
            return False
    return True


def sql_plan(
    c: CompiledPack,
    grain: str | None = None,
    by: Iterable[str] | None = None,
    *,
    as_of: date | None = None,
    params: Mapping[str, Any] | None = None,
) -> Plan:
    """The plan of evaluating every measured input of the pack's sources, as ``kpi run`` makes it
    for the same request (the inputs without a measure are not there)."""
    sources = measured_sources(c)
    columns = [i.id for i in c.pack.inputs.values() if i.measure is not None]
    # the records are measured for the dimensions kept (as kpi run does): a member of two stores is
    # one member of the chain
    dims = [d for d in c.pack.dimensions if any(d in c.pack.sources[s].dimensions for s in sources)]
    kept = set(by) if by is not None else set(dims)
    unknown = sorted(kept - set(dims))
    if unknown:
        raise InputError(
            f"'{unknown[0]}' is not a dimension of the pack's "
            f"sources (they have: {', '.join(dims) or 'none'})",
            code="KPI-E025",
        )
    columns += [d for d in dims if d in kept]
    return make_plan(
        c,
        columns,
        records_grain(c.pack.grain, grain),
        grain=grain,
        by=None if by is None else list(by),
        params=params,
        records=True,
        as_of=as_of,
    )


class _Computable:
    """Which metrics one source's SQL can compute: plain formulas over what the level has."""

    def __init__(self, c: CompiledPack, plan: Plan, have: set[str]) -> None:
        self.c, self.plan, self.have = c, plan, have
        self.formulas = _formulas(c)
        self.done: dict[str, bool] = {}

    def __call__(self, m: str, *, rolled: set[str] | None = None) -> bool:
        """Whether ``m`` is computable at this level; ``rolled``: the metrics this level gets rolled
        up (the output level; a metric the plan rolls up is available there only if among them)."""
        if m not in self.done:
            self.done[m] = False  # a cycle (through previous) has a time function anyway
            expr = self.formulas.get(m)
            self.done[m] = (
                expr is not None
                and _plain(expr)
                and all(self._has(s.name, rolled) for s in expr.free_symbols)
            )
        return self.done[m]

    def _has(self, name: str, rolled: set[str] | None) -> bool:
        if name in self.have or name in self.c.pack.params or name in BUILTIN_NAMES:
            return True
        if name not in self.c.pack.metrics:
            return False
        if rolled is not None and name in self.plan.rolled:
            return name in rolled
        return self(name, rolled=rolled)


def sql_metrics(c: CompiledPack, source_id: str, plan: Plan | None = None) -> list[str]:
    """The metrics the SQL of ``source_id`` computes (at
    the plan's output grain), dependencies first."""
    return _Layout(c, source_id, plan or sql_plan(c)).output_metrics


class _Layout:
    """What one source's SQL computes at each level of the plan."""

    def __init__(
        self, c: CompiledPack, source_id: str, plan: Plan, *, metrics: bool = True
    ) -> None:
        measured = {
            i.id
            for i in c.pack.inputs.values()
            if i.measure is not None and i.measure.source == source_id
        }
        self.inputs = [i for i in plan.inputs if i in measured]
        self.direct = [i for i in plan.direct if i in measured]
        self.combined = [i for i in self.inputs if i in set(plan.combined)]
        base = _Computable(c, plan, set(self.inputs))
        self.rolled = [m for m in plan.rolled if base(m)] if metrics else []
        self.base_metrics = [m for m in plan.base_metrics if base(m)] if self.rolled else []
        top = _Computable(
            c, plan, set(self.combined) | set(self.direct) if plan.aggregates else set(self.inputs)
        )
        rolled = set(self.rolled)
        self.metrics = (
            [m for m in plan.metrics if m not in plan.rolled and top(m, rolled=rolled)]
            if metrics
            else []
        )
        order = [m for m in plan.metrics if m in rolled or m in set(self.metrics)]
        self.output_metrics = order


def metric_query(
    c: CompiledPack,
    source_id: str,
    grain: str | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    plan: Plan | None = None,
    metrics: bool = True,
) -> exp.Select:
    """The source's measures and every metric computable from them (``metrics=False``: the
    inputs only), as ``plan`` (default: the plan of :func:`sql_plan` at ``grain``) says: per
    output period and ``by`` member. The plan's steps executed by :class:`SqlBackend`."""
    plan = plan or sql_plan(c, grain, params=params)
    backend = SqlBackend(c, source_id, plan, metrics=metrics)
    return backend.select(execute(plan_steps(plan), backend))


@dataclass(frozen=True)
class SqlState:
    """What one step leaves: the CTEs so far, the last one's name, the ``periods`` built-in at
    this level, and the inputs measured at the output grain (joined when the output is shaped)."""

    ctes: tuple[exp.CTE, ...]
    last: str
    periods: exp.Expression
    direct: tuple[str, ...] = ()


class SqlBackend:
    """Executes a plan's steps (:mod:`engine.evaluate.steps`) as the common table expressions of
    one query over one source's records. It computes what the source can: its own inputs, and the
    metrics whose formulas SQL computes as the evaluator does (:class:`_Layout`)."""

    def __init__(self, c: CompiledPack, source_id: str, plan: Plan, *, metrics: bool = True):
        self.c, self.source_id, self.plan = c, source_id, plan
        self.layout = _Layout(c, source_id, plan, metrics=metrics)
        self.formulas = _formulas(c)
        source = c.pack.sources[source_id]
        self.dims = [d for d in c.pack.dimensions if d in source.dimensions]
        self.by = [d for d in plan.by if d in self.dims]
        self._carried = {*self.layout.combined, *self.layout.rolled}

    def read_inputs(self, step: ReadInputs) -> SqlState:
        layout = self.layout
        sq = SourceQuery(
            self.c,
            self.source_id,
            step.grain,
            self.plan.params,
            dims=step.dims,
            inputs=[i for i in step.inputs if i in set(layout.inputs)],
            as_of=self.plan.as_of,
        )
        sq.with_days = True
        return SqlState(tuple(_renamed(sq.build(), "kpi__b_", "kpi__b0")), "kpi__b0", number(1))

    def compute_metrics(self, state: SqlState, step: ComputeMetrics) -> SqlState:
        if step.level == "base":
            mine, prefix, periods = set(self.layout.base_metrics), "kpi__b", number(1)
        else:
            mine, prefix, periods = set(self.layout.metrics), "kpi__l", state.periods
        names = Names(params=self.plan.params, values={"periods": periods, "days": col(DAYS)})
        ctes = list(state.ctes)
        last = _layers(
            ctes, state.last, [m for m in step.metrics if m in mine], self.formulas, names, prefix
        )
        return replace(state, ctes=tuple(ctes), last=last)

    def combine_members(self, state: SqlState, step: CombineMembers) -> SqlState:
        carried = [(n, how) for n, how in step.carried if n in self._carried]
        select = exp.select(
            col("period"),
            *(col(d) for d in self.by),
            exp.alias_(exp.Max(this=col(DAYS)), DAYS, quoted=True),
            copy=False,
        )
        select = select.select(
            *(exp.alias_(_rollup(how, col(n)), n, quoted=True) for n, how in carried), copy=False
        )
        grouped = select.from_(state.last, copy=False).group_by(
            col("period"), *(col(d) for d in self.by), copy=False
        )
        return replace(state, ctes=(*state.ctes, _cte("kpi__m", grouped)), last="kpi__m")

    def combine_periods(self, state: SqlState, step: CombinePeriods) -> SqlState:
        carried = [(n, how) for n, how in step.carried if n in self._carried]
        part = [*(col(d) for d in self.by), col(_OP)]
        ranked = exp.select(
            exp.Star(),
            exp.alias_(_output_period(col("period"), step.base, step.grain), _OP, quoted=True),
            copy=False,
        ).from_(state.last, copy=False)
        ranked = ranked.join(
            exp.table_("kpi__b_kpi__range", alias="r"), join_type="cross", copy=False
        )
        ordered = exp.select(exp.Star(), copy=False)
        for name, desc in ((_RF, False), (_RL, True)):
            order = exp.Order(expressions=[exp.Ordered(this=col("period"), desc=desc)])
            ordered = ordered.select(
                exp.alias_(
                    exp.Window(
                        this=exp.RowNumber(), partition_by=[p.copy() for p in part], order=order
                    ),
                    name,
                    quoted=True,
                ),
                copy=False,
            )
        select = exp.select(
            exp.alias_(col(_OP), "period", quoted=True),
            *(col(d) for d in self.by),
            exp.alias_(exp.Count(this=exp.Star()), _PERIODS, quoted=True),
            copy=False,
        )
        select = select.select(
            *(exp.alias_(_rollup(how, col(n)), n, quoted=True) for n, how in carried), copy=False
        )
        grouped = select.from_("kpi__o", copy=False).group_by(
            col(_OP), *(col(d) for d in self.by), copy=False
        )
        ctes = (
            _cte("kpi__o0", ranked),
            _cte("kpi__o", ordered.from_("kpi__o0", copy=False)),
            _cte("kpi__r", grouped),
        )
        return replace(state, ctes=(*state.ctes, *ctes), last="kpi__r", periods=col(_PERIODS))

    def measure_direct(self, state: SqlState, step: MeasureDirect) -> SqlState:
        direct = tuple(i for i in step.inputs if i in set(self.layout.direct))
        if not direct:
            return state
        dq = SourceQuery(
            self.c,
            self.source_id,
            step.grain,
            self.plan.params,
            dims=[d for d in step.by if d in self.dims],
            inputs=list(direct),
            as_of=self.plan.as_of,
        )
        ctes = _renamed(dq.build(), "kpi__d_", "kpi__d0")
        return replace(state, ctes=(*state.ctes, *ctes), direct=direct)

    def shape_output(self, state: SqlState, step: ShapeOutput) -> SqlState:
        combined = step.grain != step.base
        carried = [*self.layout.combined, *self.layout.rolled]
        days: exp.Expression = col(DAYS, "x")
        if combined:
            begin, end = (
                (col("period", "x"), col(CUT, "rg"))
                if step.grain == "all"
                else period_bounds(col("period", "x"), step.base, step.grain)
            )
            if step.grain != "all":
                end = exp.Least(this=end, expressions=[col(CUT, "rg")])
            days = exp.DateDiff(
                this=exp.cast(end, "date"), expression=exp.cast(begin, "date"), unit=exp.var("DAY")
            )
        joined = exp.select(
            *(col(n, "x") for n in ["period", *self.by, *carried]),
            exp.alias_(days, DAYS, quoted=True),
            copy=False,
        )
        if combined:
            joined = joined.select(col(_PERIODS, "x"), copy=False)
        joined = joined.from_(exp.table_(state.last, alias="x"), copy=False)
        if combined:
            joined = joined.join(
                exp.table_("kpi__b_kpi__range", alias="rg"), join_type="cross", copy=False
            )
        if state.direct:
            on: Any = exp.and_(
                *(exp.EQ(this=col(k, "x"), expression=col(k, "d")) for k in ["period", *self.by])
            )
            joined = joined.select(*(col(n, "d") for n in state.direct), copy=False).join(
                exp.table_("kpi__d0", alias="d"), on=on, join_type="left", copy=False
            )
        return replace(state, ctes=(*state.ctes, _cte("kpi__j", joined)), last="kpi__j")

    def select(self, state: SqlState) -> exp.Select:
        """The query: per output period and ``by`` member, the inputs and the metrics computed."""
        layout, plan = self.layout, self.plan
        values = [*layout.combined, *layout.direct] if plan.aggregates else layout.inputs
        keys = [col("period"), *(col(d) for d in self.by)]
        out = (
            exp.select(
                *keys,
                *(col(i) for i in values),
                *(col(m) for m in layout.output_metrics),
                copy=False,
            )
            .from_(state.last, copy=False)
            .order_by(*keys[1:], keys[0], copy=False)
        )
        out.set("with_", exp.With(expressions=list(state.ctes)))
        return out


def _layers(
    ctes: list[exp.CTE],
    last: str,
    metrics: list[str],
    formulas: Mapping[str, Any],
    names: Names,
    prefix: str,
) -> str:
    """One CTE per depth of the metric graph, each
    adding its metrics as columns; the last's name."""
    depth: dict[str, int] = {}
    for m in metrics:
        deps = [s.name for s in formulas[m].free_symbols if s.name in depth]
        depth[m] = 1 + max((depth[d] for d in deps), default=0)
    for k in range(1, max(depth.values(), default=0) + 1):
        name = f"{prefix}{k}"
        ctes.append(
            _cte(
                name,
                exp.select(
                    exp.Star(),
                    *(
                        exp.alias_(to_sql(formulas[m], names), m, quoted=True)
                        for m in metrics
                        if depth[m] == k
                    ),
                    copy=False,
                ).from_(last, copy=False),
            )
        )
        last = name
    return last


def _rollup(how: str, value: exp.Expression) -> exp.Expression:
    """One roll-up rule as an aggregate, null in → null out (the evaluator's rule)."""
    if how in ("first", "last"):
        rank = col(_RF if how == "first" else _RL)
        return exp.Max(
            this=exp.Case(ifs=[exp.If(this=exp.EQ(this=rank, expression=number(1)), true=value)])
        )
    agg: Any = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}[how]
    complete = exp.EQ(this=exp.Count(this=value.copy()), expression=exp.Count(this=exp.Star()))
    return exp.Case(ifs=[exp.If(this=complete, true=agg(this=value))])


def _output_period(period: exp.Expression, base: str, grain: str) -> exp.Expression:
    """The output period holding a base period (a week: the one of its Thursday)."""
    if grain == "all":
        return col(START, "r")
    if base == "week":
        period = exp.DateAdd(this=period, expression=number(3), unit=exp.var("DAY"))
    return base_period(period, grain)


def _renamed(query: exp.Select, prefix: str, name: str) -> list[exp.CTE]:
    """A query's CTEs with ``prefix`` on their names, and the query itself as CTE ``name``."""
    with_ = query.args.get("with_")
    ctes = list(with_.expressions) if with_ is not None else []
    names = {cte.alias for cte in ctes}
    query.set("with_", None)

    def rename(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and not node.args.get("db") and node.name in names:
            return exp.Table(
                this=exp.to_identifier(prefix + node.name, quoted=True),
                alias=node.args.get("alias"),
            )
        return node

    out = []
    for cte in ctes:
        out.append(_cte(prefix + cte.alias, cte.this.transform(rename)))
    out.append(_cte(name, query.transform(rename)))
    return out


def _cte(name: str, select: exp.Expression) -> exp.CTE:
    return exp.CTE(this=select, alias=exp.TableAlias(this=exp.to_identifier(name)))


__all__ = ["GRAINS", "SqlBackend", "metric_query", "sql_metrics", "sql_plan"]


def measure_sql(
    c: CompiledPack,
    dialect: str = "duckdb",
    grain: str | None = None,
    sources: Iterable[str] | None = None,
    *,
    metrics: bool = False,
    by: Iterable[str] | None = None,
    as_of: date | None = None,
    params: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The SQL of every measured source (or of ``sources``), rendered for ``dialect``: the inputs
    (and, with ``metrics``, the metrics computable from them) at ``grain`` and ``by``, as the
    evaluation plan of ``kpi run`` computes them (engine.evaluate.measures.metrics)."""
    if dialect not in DIALECTS:
        raise InputError(
            f"unknown SQL dialect '{dialect}': choose one of {', '.join(DIALECTS)}", code="KPI-E034"
        )
    wanted = measured_sources(c) if sources is None else list(sources)
    plan = sql_plan(c, grain, by, as_of=as_of, params=params)
    return {
        sid: for_dialect(metric_query(c, sid, plan=plan, metrics=metrics), dialect).sql(
            dialect=dialect, pretty=True
        )
        for sid in wanted
    }
