"""The shared pieces of the measures' SQL (engine.evaluate.measures.query, .entity, .metrics):
the dialects, the grains as SQL date units, the working column names, and small SQLGlot builders
(columns, windows, conditional values, aggregates, period bounds)."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from engine.evaluate.measures.sqlexpr import number

DIALECTS = ("duckdb", "spark", "trino", "postgres", "bigquery", "snowflake")
#: grain → (DATE_TRUNC unit, length, unit of the length)
GRAINS = {
    "day": ("DAY", 1, "DAY"),
    "week": ("WEEK", 7, "DAY"),
    "month": ("MONTH", 1, "MONTH"),
    "quarter": ("QUARTER", 3, "MONTH"),
    "year": ("YEAR", 1, "YEAR"),
}

P, T, ENT, FIRST = "kpi__period", "kpi__time", "kpi__entity", "kpi__first"
START, CUT, DAYS = "kpi__start", "kpi__cut", "kpi__days"
FIRST_PERIOD, BEGIN = "kpi__first_period", "kpi__begin"
#: digits of the period counter: 10^5 periods (273 years of days) at most
COUNTER_DIGITS = 5
#: an empty group is 0 for these aggregates, null for the others
ZERO_WHEN_EMPTY = ("sum", "count", "count_distinct")


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def window(
    agg: exp.Expression, partition: list[str], *, until: str, table: str | None = "s"
) -> exp.Window:
    """``agg OVER (PARTITION BY … ORDER BY period ROWS UNBOUNDED PRECEDING … until)``;
    ``until`` is "CURRENT ROW" (to the end of the period) or "1" (to its start)."""
    spec = exp.WindowSpec(
        kind="ROWS",
        start="UNBOUNDED",
        start_side="PRECEDING",
        end=until,
        end_side=None if until == "CURRENT ROW" else "PRECEDING",
    )
    return exp.Window(
        this=agg,
        partition_by=[col(p, table) for p in partition],
        order=exp.Order(expressions=[exp.Ordered(this=col(P, table))]),
        spec=spec,
    )


def when(condition: exp.Expression | None, value: exp.Expression) -> exp.Expression:
    return (
        value
        if condition is None
        else exp.Case(ifs=[exp.If(this=_positive(condition), true=value)])
    )


def _positive(condition: exp.Expression) -> exp.Expression:
    """A condition that only ever selects (``CASE WHEN``) without the ``COALESCE(…, FALSE)`` of its
    comparisons outside any NOT: under AND / OR alone, null and false select the same rows."""
    if (
        isinstance(condition, exp.Coalesce)
        and len(condition.expressions) == 1
        and isinstance(condition.expressions[0], exp.Boolean)
        and not condition.expressions[0].this
    ):
        return _positive(condition.this)
    if isinstance(condition, exp.Paren):
        return exp.paren(_positive(condition.this), copy=False)
    if isinstance(condition, exp.And | exp.Or):
        return type(condition)(
            this=_positive(condition.this), expression=_positive(condition.expression)
        )
    return condition


def aggregate(agg: str, value: exp.Expression) -> exp.Expression:
    if agg == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[value]))
    cls: Any = {"sum": exp.Sum, "count": exp.Count, "min": exp.Min, "max": exp.Max, "avg": exp.Avg}[
        agg
    ]
    out: exp.Expression = cls(this=value)
    return out


def zero_when_empty(agg: str, value: exp.Expression) -> exp.Expression:
    """``value``, or 0 where it is null for aggregates that are 0 over no records."""
    return exp.Coalesce(this=value, expressions=[number(0)]) if agg in ZERO_WHEN_EMPTY else value


def base_period(time: exp.Expression, grain: str) -> exp.Expression:
    """The first moment of the period of ``grain`` holding ``time``."""
    return exp.TimestampTrunc(this=time, unit=exp.var(GRAINS[grain][0]))


def period_bounds(
    start: exp.Expression, base: str, grain: str
) -> tuple[exp.Expression, exp.Expression]:
    """The first moment and the end of the period of ``grain`` that starts at ``start``, made of
    base periods: for a weekly base, from the Monday of its first week (the one whose Thursday is
    in it) to the Monday after its last — the weeks the evaluator puts in it."""
    end = period_end(start, grain)
    if base == "week" and grain in ("month", "quarter", "year"):

        def monday(day: exp.Expression) -> exp.Expression:
            return base_period(
                exp.DateAdd(this=day, expression=number(3), unit=exp.var("DAY")), "week"
            )

        return monday(start.copy()), monday(end)
    return start, end


def period_end(start: exp.Expression, grain: str) -> exp.Expression:
    """The first moment after the period of ``grain`` that starts at ``start``."""
    _, length, unit = GRAINS[grain]
    return exp.DateAdd(this=start, expression=number(length), unit=exp.var(unit))


def for_dialect(tree: exp.Expression, dialect: str) -> exp.Expression:
    """Adjust a query for a dialect whose functions are typed differently: BigQuery adds to and
    truncates DATETIMEs with DATETIME_ADD / DATETIME_TRUNC (its DATE_ADD takes dates only)."""
    if dialect != "bigquery":
        return tree

    tree = tree.copy()
    for node in list(
        tree.find_all(exp.DateAdd, exp.TimestampTrunc)
    ):  # inner ones too: every one, in place
        cls: Any = exp.DatetimeAdd if isinstance(node, exp.DateAdd) else exp.DatetimeTrunc
        node.replace(cls(**{k: v for k, v in node.args.items()}))
    return tree
