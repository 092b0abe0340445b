"""Formula trees (measure and entity mode) as SQLGlot expressions — never as text.

Names become quoted column references, params become number literals, ``days`` and the
entity attributes become whatever the query that uses the expression says they are (the
``Names`` given). The null rules are the formula language's, as in the in-process evaluator:
division by zero is null (``NULLIF``); a comparison (or ``in``) with null is false, not SQL's
unknown — so ``not (amount > 10)`` holds for a blank amount; min / max of a null is null.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy
from sqlglot import exp

from engine.core.errors import KpiError
from engine.formula import NULL, Coalesce, Day, EntityAttribute, If, In, Text


@dataclass(frozen=True)
class Names:
    """What the names of an expression stand for in the query at hand."""

    params: Mapping[str, float] = field(default_factory=dict)
    #: values of names that are not columns (``days``), by name
    values: Mapping[str, exp.Expression] = field(default_factory=dict)
    #: the column of each entity attribute node (entity mode)
    attribute: Callable[[Any], exp.Expression] | None = None


def number(value: float | int) -> exp.Expression:
    if isinstance(value, int) or float(value).is_integer() and abs(value) < 2**53:
        return exp.Literal.number(str(int(value)))
    return exp.Literal.number(repr(float(value)))


def to_sql(node: Any, names: Names = Names()) -> exp.Expression:  # noqa: C901 - one case per node type
    """A formula tree as a SQL expression tree."""
    if node is NULL:
        return exp.Null()
    if isinstance(node, Text):
        return exp.Literal.string(node.value)
    if isinstance(node, sympy.Number):
        return number(int(node)) if node.is_Integer else number(float(node))
    if node is sympy.true or node is sympy.false:
        return exp.Boolean(this=bool(node))
    if isinstance(node, sympy.Symbol):
        if node.name in names.params:
            return number(names.params[node.name])
        if node.name in names.values:
            return names.values[node.name].copy()
        return exp.column(node.name, quoted=True)
    if isinstance(node, EntityAttribute):
        if names.attribute is None:
            raise KpiError(
                f"{node.kpi_name}() is an entity attribute: only in per: entity measures"
            )
        return names.attribute(node)
    if isinstance(node, In):  # x in (literal, …): the items are a tuple, not an expression
        member = exp.In(
            this=to_sql(node.args[0], names),
            expressions=[to_sql(v, names) for v in node.args[1].args],
        )
        return exp.Coalesce(this=member, expressions=[exp.false()])
    args = [to_sql(a, names) for a in node.args]
    if isinstance(node, sympy.Add):
        out = args[0]
        for a in args[1:]:
            out = exp.Add(this=out, expression=a)
        return exp.paren(out)
    if isinstance(node, sympy.Mul):
        return _product(node, args, names)
    if isinstance(node, sympy.Pow):
        if isinstance(node.exp, sympy.Number) and node.exp < 0:  # 0 ** -2 is null, not infinity
            power = exp.Pow(this=args[0], expression=to_sql(-node.exp, names))
            return exp.Div(
                this=number(1.0), expression=exp.Nullif(this=power, expression=number(0))
            )
        return exp.Pow(this=args[0], expression=args[1])
    if isinstance(node, sympy.Rel):
        cls = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}[
            node.rel_op
        ]
        relation = exp.paren(cls(this=args[0], expression=args[1]))
        return exp.Coalesce(this=relation, expressions=[exp.false()])
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
    if isinstance(node, Day):  # a time column may be text (a CSV): read it as a time first
        return exp.cast(exp.cast(args[0], "timestamp"), "date")
    if isinstance(node, sympy.Abs):
        return exp.Abs(this=args[0])
    if isinstance(node, sympy.Min | sympy.Max):
        # LEAST / GREATEST skip nulls on some engines: null in, null out, as in formulas
        pick_cls: Any = exp.Least if isinstance(node, sympy.Min) else exp.Greatest
        pick = pick_cls(this=args[0], expressions=args[1:])
        return exp.Case(
            ifs=[
                exp.If(
                    this=exp.or_(*(exp.Is(this=a, expression=exp.Null()) for a in args)),
                    true=exp.Null(),
                )
            ],
            default=pick,
        )
    raise KpiError(f"{type(node).__name__} cannot be computed in SQL")


def _product(node: Any, args: list[exp.Expression], names: Names) -> exp.Expression:
    num = [a for f, a in zip(node.args, args, strict=True) if not _is_reciprocal(f)]
    den = [
        to_sql(f.base, names)
        if f.exp == -1
        else to_sql(sympy.Pow(f.base, -f.exp, evaluate=False), names)
        for f in node.args
        if _is_reciprocal(f)
    ]
    top = num[0] if num else exp.Literal.number("1")
    for a in num[1:]:
        top = exp.Mul(this=top, expression=a)
    for (
        d
    ) in den:  # division by zero is null, as in the in-process evaluator; never integer division
        top = exp.Div(
            this=exp.cast(top, "double"),
            expression=exp.Nullif(this=exp.paren(d), expression=exp.Literal.number("0")),
        )
    return exp.paren(top)


def _is_reciprocal(f: Any) -> bool:
    return isinstance(f, sympy.Pow) and isinstance(f.exp, sympy.Number) and f.exp < 0


def distinct_key(parts: list[exp.Expression]) -> exp.Expression:
    """One text value per combination of ``parts`` (null when any part is null), for counting
    distinct combinations on every engine: each part but the last is written with its length
    first (``3:abc``), so no two combinations give the same text."""
    texts = [exp.cast(p, "text") for p in parts]
    key: exp.Expression = texts[-1]
    for text in reversed(texts[:-1]):
        prefix = exp.DPipe(
            this=exp.cast(exp.Length(this=text.copy()), "text"), expression=exp.Literal.string(":")
        )
        key = exp.DPipe(this=exp.DPipe(this=prefix, expression=text), expression=key)
    nulls: Any = exp.or_(*(exp.Is(this=p.copy(), expression=exp.Null()) for p in parts))
    return exp.Case(ifs=[exp.If(this=nulls, true=exp.Null())], default=key)
