"""Event and to-date measures from the records grouped by their enumerated columns first.

A ledger's measures mostly sum a few number columns under conditions on a column declared with
``values`` (``sum of amount where kind == 'recharge'``). When every measure of a query is of
that kind, the records are grouped once by period, dimensions and the enumerated columns the
measures test — ``kpi__fk``: ``COUNT(*)`` and, per number column, its ``SUM`` and ``COUNT`` —
and each measure is computed from that small table instead of from every record.

This is exact, nulls included, because within one group every condition on the enumerated
columns has one value, so what a measure's records add up to in the group follows from the
group's sums. A measure qualifies when its ``where`` names only enumerated columns (and params)
and, for ``sum`` and ``count``, its ``of`` is *piecewise linear*: for each combination of the
conditions of its ``if``\\ s, a constant ``d`` (null included), or ``k·x + d`` of **one** number
column ``x`` (null where ``x`` is null, as in SQL). Then the group adds ``k·SUM(x) + d·COUNT(x)``
(or ``d·COUNT(*)``), and ``count`` counts ``COUNT(x)`` (or ``COUNT(*)``). ``count_distinct``,
``min`` and ``max`` of an expression of enumerated columns alone are the same aggregate over the
groups. Anything else (``amount > 0`` as a condition, ``net + gift`` — null when either is —,
``avg``, ``min`` of a number column) makes :func:`preaggregate` return None, and the query
aggregates the records as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import sympy
from sqlglot import exp

from engine.evaluate.measures.sqlexpr import Names, number, to_sql
from engine.formula import NULL, If
from engine.formula.sites import MeasureExprs

#: most leaves (combinations of if-conditions) of one measure's tree before giving up
MAX_PIECES = 64
N = "kpi__n"


@dataclass(frozen=True)
class _Form:
    """What one record adds: ``k·column + d`` (null where the column is null); ``d`` alone when
    ``column`` is None; null when ``d`` is None."""

    column: str | None = None
    k: float = 0
    d: float | None = 0
    #: a number column or a division is involved: the
    #: record's value is a DOUBLE, not a literal's type
    double: bool = False


@dataclass(frozen=True)
class _Choice:
    """``if(condition, then, otherwise)`` on the enumerated columns: one value per group."""

    condition: Any
    then: _Tree
    otherwise: _Tree


_Tree = _Form | _Choice
_TWO_COLUMNS = object()  # k·x + j·y: null when either is, so not a sum of the groups' sums


def _add(a: _Form, b: _Form) -> _Form | object:
    if a.d is None or b.d is None:
        return _Form(d=None)
    if a.column and b.column and a.column != b.column:
        return _TWO_COLUMNS
    return _Form(a.column or b.column, a.k + b.k, a.d + b.d, a.double or b.double)


def _mul(a: _Form, b: _Form) -> _Form | object:
    if a.d is None or b.d is None:
        return _Form(d=None)
    if a.column and b.column:
        return _TWO_COLUMNS
    if b.column:
        a, b = b, a
    assert a.d is not None and b.d is not None
    return _Form(a.column, a.k * b.d, a.d * b.d, a.double or b.double)


def _leaves(tree: _Tree) -> list[_Form]:
    return [tree] if isinstance(tree, _Form) else _leaves(tree.then) + _leaves(tree.otherwise)


def _combine(a: _Tree, b: _Tree, join: Any) -> _Tree | None:
    """``a`` and ``b`` joined leaf by leaf (``b``'s choices grafted under each leaf of ``a``)."""
    if isinstance(a, _Choice):
        then, otherwise = _combine(a.then, b, join), _combine(a.otherwise, b, join)
        return None if then is None or otherwise is None else _Choice(a.condition, then, otherwise)
    if isinstance(b, _Choice):
        then, otherwise = _combine(a, b.then, join), _combine(a, b.otherwise, join)
        return None if then is None or otherwise is None else _Choice(b.condition, then, otherwise)
    out = join(a, b)
    return None if out is _TWO_COLUMNS else out


class _Planner:
    def __init__(self, enums: set[str], numbers: set[str], names: Names) -> None:
        self.enums, self.numbers, self.names = enums, numbers, names
        self.columns: dict[str, int] = {}  # number column -> its number in kpi__fk
        self.counted: set[str] = set()  # number columns whose COUNT is needed
        self.tested: set[str] = set()  # enumerated columns the measures test

    def enum_only(self, node: Any) -> bool:
        names = {s.name for s in node.free_symbols}
        if not all(n in self.enums or n in self.names.params for n in names):
            return False
        self.tested |= names & self.enums
        return True

    def constant(self, node: Any) -> float:
        """A number or a param's value; raises LookupError for anything else."""
        if isinstance(node, sympy.Number) and node.is_finite:
            return int(node) if node.is_Integer else float(node)
        if isinstance(node, sympy.Symbol) and node.name in self.names.params:
            return self.names.params[node.name]
        raise LookupError

    def tree(self, node: Any) -> _Tree | None:
        """What a record adds, as choices on the enumerated columns down to forms; None if it is
        not piecewise linear in one number column."""
        if node is NULL:
            return _Form(d=None)
        if (
            isinstance(node, sympy.Symbol)
            and node.name in self.numbers
            and node.name not in self.names.params
        ):
            return _Form(node.name, 1, 0, double=True)
        if isinstance(node, sympy.Number | sympy.Symbol):
            try:
                return _Form(d=self.constant(node))
            except LookupError:
                return None
        if isinstance(node, If):
            condition, then, otherwise = node.args
            a, b = self.tree(then), self.tree(otherwise)
            return (
                None
                if a is None or b is None or not self.enum_only(condition)
                else _Choice(condition, a, b)
            )
        if isinstance(node, sympy.Pow):  # a constant's power (a division by a constant)
            try:
                base, power = self.constant(node.base), self.constant(node.exp)
            except LookupError:
                return None
            if base == 0 and power < 0:
                return _Form(d=None)  # division by zero is null
            try:
                value = float(base) ** power
            except OverflowError:
                return None
            return (
                _Form(d=value, double=True)
                if isinstance(value, float) and math.isfinite(value)
                else None
            )
        if isinstance(node, sympy.Add | sympy.Mul):
            join = _add if isinstance(node, sympy.Add) else _mul
            out: _Tree | None = _Form(d=0 if isinstance(node, sympy.Add) else 1)
            for arg in node.args:
                more = self.tree(arg)
                out = None if more is None or out is None else _combine(out, more, join)
                if out is None or len(_leaves(out)) > MAX_PIECES:
                    return None
            return out
        return None

    # -- SQL over kpi__fk -------------------------------------------------------------------

    def _sum_of(self, column: str) -> exp.Expression:
        self.columns.setdefault(column, len(self.columns))
        return exp.column(f"kpi__s{self.columns[column]}", quoted=True)

    def _count_of(self, column: str) -> exp.Expression:
        self.columns.setdefault(column, len(self.columns))
        self.counted.add(column)
        return exp.column(f"kpi__c{self.columns[column]}", quoted=True)

    def _render(self, tree: _Tree, value: Any) -> exp.Expression:
        if isinstance(tree, _Form):
            out: exp.Expression = value(tree)
            return out
        return exp.Case(
            ifs=[
                exp.If(this=to_sql(tree.condition, self.names), true=self._render(tree.then, value))
            ],
            default=self._render(tree.otherwise, value),
        )

    def added(self, form: _Form) -> exp.Expression:
        """What the group's records add up to."""
        if form.d is None:
            return exp.Null()
        if form.column is None:  # kpi__n >= 1
            d = exp.cast(number(form.d), "double") if form.double else number(form.d)
            return d if form.d == 0 else exp.Mul(this=d, expression=exp.column(N, quoted=True))
        out = _times(form.k, self._sum_of(form.column))  # 0·SUM(x) too: null when every x is
        if form.d:
            out = exp.paren(
                exp.Add(this=out, expression=_times(form.d, self._count_of(form.column)))
            )
        return out

    def counted_rows(self, form: _Form) -> exp.Expression:
        """How many of the group's records have a value that is not null."""
        if form.d is None:
            return number(0)
        return exp.column(N, quoted=True) if form.column is None else self._count_of(form.column)

    def measure(self, x: MeasureExprs, where: exp.Expression | None) -> exp.Expression | None:
        """The measure's aggregate over kpi__fk, or None if it cannot be computed from it."""
        m = x.measure
        if m.more or x.where is not None and not self.enum_only(x.where.expr):
            return None
        of = x.of[0].expr if x.of else sympy.Integer(1)
        if m.agg in ("count_distinct", "min", "max") and m.as_of is None and m.of is not None:
            if not self.enum_only(of):
                return None
            value: exp.Expression = to_sql(of, self.names)
            if m.agg == "count_distinct":
                return exp.Count(this=exp.Distinct(expressions=[_when(where, value)]))
            return (exp.Min if m.agg == "min" else exp.Max)(this=_when(where, value))
        tree = self.tree(of)
        if tree is None or m.agg not in ("sum", "count") or all(f.d is None for f in _leaves(tree)):
            return None  # (always null: left to the records, whose null has the expression's type)
        if m.agg == "sum":
            return exp.Sum(this=_when(where, self._render(tree, self.added)))
        total = exp.Sum(this=_when(where, self._render(tree, self.counted_rows)))
        return exp.cast(exp.Coalesce(this=total, expressions=[number(0)]), "bigint")

    def table(self, period: str, keys: list[str], values: dict[str, exp.Expression]) -> exp.Select:
        """kpi__fk: the records grouped by period, dimensions and the enumerated columns tested."""
        names = [period, *keys, *sorted(self.tested)]
        out = exp.select(
            *(exp.column(c, quoted=True) for c in names),
            exp.alias_(exp.Count(this=exp.Star()), N, quoted=True),
            copy=False,
        )
        for column, n in self.columns.items():
            out = out.select(
                exp.alias_(exp.Sum(this=values[column].copy()), f"kpi__s{n}", quoted=True),
                copy=False,
            )
            if column in self.counted:
                out = out.select(
                    exp.alias_(exp.Count(this=values[column].copy()), f"kpi__c{n}", quoted=True),
                    copy=False,
                )
        return out.from_("kpi__ev", copy=False).group_by(
            *(exp.column(c, quoted=True) for c in names), copy=False
        )


def _times(k: float, value: exp.Expression) -> exp.Expression:
    return value if k == 1 else exp.Mul(this=number(k), expression=value)


def _when(condition: exp.Expression | None, value: exp.Expression) -> exp.Expression:
    return value if condition is None else exp.Case(ifs=[exp.If(this=condition, true=value)])


def preaggregate(
    measures: list[MeasureExprs],
    wheres: list[exp.Expression | None],
    enums: set[str],
    names: Names,
    period: str,
    keys: list[str],
) -> tuple[exp.Select, list[exp.Expression]] | None:
    """kpi__fk and each measure's aggregate over it, or None when a measure does not qualify.
    ``names.values`` are the number columns as read (cast to numbers)."""
    if not enums or not measures:
        return None
    planner = _Planner(enums, set(names.values), names)
    out = []
    for m, where in zip(measures, wheres, strict=True):
        aggregate = planner.measure(m, where)
        if aggregate is None:
            return None
        out.append(aggregate)
    return planner.table(period, keys, dict(names.values)), out
