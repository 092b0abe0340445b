"""KPI-R020: the types of a measure's expressions, checked against the source's declared columns.

A measure runs as SQL on the records; an expression that mixes types (``customer_id +
order_time``: text plus a time) would only fail there, with an engine's error. This rule gives
every sub-expression a type — ``number``, ``text``, ``time``, ``condition`` or ``any`` (a column
whose type is not declared) — and reports the first place where the types do not fit:

* arithmetic, ``abs``, ``min``, ``max`` need numbers;
* ``==`` / ``!=`` / ``in`` compare values of one type; ``<`` ``<=`` ``>`` ``>=`` compare numbers
  or times;
* ``and`` / ``or`` / ``not`` / ``if``'s condition need conditions; ``if`` / ``coalesce``'s
  values are of one type;
* ``day(t)`` needs a time; ``count(c)`` / ``days_since_*(c)`` a condition, ``total(x)`` a number;
* ``sum`` / ``avg`` / ``min`` / ``max`` aggregate numbers; ``count`` and ``count_distinct`` any
  type.

The source's ``time`` column is a time, its dimension and entity columns are text, unless
``columns`` says otherwise; a name that is a param is a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from engine.core.model import DataSource
from engine.formula import NULL, Coalesce, Day, EntityAttribute, If, In, ParsedFormula, Text

Type = str  # "number" | "text" | "time" | "condition" | "any"


@dataclass(frozen=True)
class TypeMismatch(Exception):
    """Where the types do not fit: the message, and the name to point at (or None)."""

    message: str
    name: str | None = None
    hint: str | None = None


def column_types(source: DataSource) -> dict[str, Type]:
    """The type of each column the pack knows of, declared or implied."""
    types: dict[str, Type] = {source.time: "time"}
    for column in [*source.dimensions.values(), *([source.entity] if source.entity else [])]:
        types[column] = "text"
    for name, spec in source.columns.items():
        types[name] = spec.type
    return types


def type_of(parsed: ParsedFormula, columns: dict[str, Type], params: set[str]) -> Type:
    """The type of a measure expression; raises :class:`TypeMismatch`."""
    return _Typer(columns, params).of(parsed.expr)


class _Typer:
    def __init__(self, columns: dict[str, Type], params: set[str]) -> None:
        self.columns, self.params = columns, params

    def of(self, node: Any) -> Type:  # noqa: C901 - one case per node type
        if node is NULL:
            return "any"
        if isinstance(node, Text):
            return "text"
        if node is sympy.true or node is sympy.false:
            return "condition"
        if isinstance(node, sympy.Number):
            return "number"
        if isinstance(node, sympy.Symbol):
            if node.name in self.params or node.name in ("days", "grain_days"):
                return "number"
            return self.columns.get(node.name, "any")
        if isinstance(node, In):
            left = self.of(node.args[0])
            for item in node.args[1].args:
                self._same(left, self.of(item), node.args[0], "in")
            return "condition"
        if isinstance(node, sympy.Rel):
            a, b = (self.of(x) for x in node.args)
            if node.rel_op in ("==", "!="):
                self._same(a, b, node, node.rel_op)
            else:
                for t, x in ((a, node.args[0]), (b, node.args[1])):
                    if t not in ("number", "time", "any"):
                        raise self._wrong(
                            x,
                            t,
                            f"{node.rel_op} compares numbers or times",
                            "text is compared with == or != (kind == 'consume') or in (…)",
                        )
                self._same(a, b, node, node.rel_op)
            return "condition"
        if isinstance(node, sympy.And | sympy.Or | sympy.Not):
            for x in node.args:
                self._need(
                    x, "condition", {"And": "and", "Or": "or", "Not": "not"}[type(node).__name__]
                )
            return "condition"
        if isinstance(node, If):
            self._need(node.args[0], "condition", "if's condition")
            a, b = self.of(node.args[1]), self.of(node.args[2])
            return self._same(a, b, node, "if's two values")
        if isinstance(node, Coalesce):
            out = "any"
            for x in node.args:
                out = self._same(out, self.of(x), node, "coalesce")
            return out
        if isinstance(node, Day):
            self._need(node.args[0], "time", "day()")
            return "time"
        if isinstance(node, EntityAttribute):
            want = "number" if node.kpi_name in ("total", "total_to_date") else "condition"
            self._need(node.args[0], want, f"{node.kpi_name}()")
            return "number"
        if isinstance(node, sympy.Add | sympy.Mul | sympy.Pow | sympy.Abs | sympy.Min | sympy.Max):
            what = {
                "Add": "+ and - work",
                "Mul": "* and / work",
                "Pow": "** works",
                "Abs": "abs() works",
                "Min": "min() works",
                "Max": "max() works",
            }[type(node).__name__]
            for x in node.args:
                if isinstance(node, sympy.Pow) and x is node.exp:
                    continue
                self._need(x, "number", what, on=True)
            return "number"
        return "any"

    def _need(self, node: Any, want: Type, what: str, on: bool = False) -> None:
        got = self.of(node)
        if got not in (want, "any"):
            plural = {
                "number": "numbers",
                "condition": "conditions",
                "time": "times",
                "text": "text",
            }[want]
            raise self._wrong(
                node, got, f"{what} on {plural}" if on else f"{what} needs {_a(want)}"
            )

    def _same(self, a: Type, b: Type, node: Any, what: str) -> Type:
        if a == "any":
            return b
        if b in ("any", a):
            return a
        names = _names(node)
        raise TypeMismatch(
            f"{what} mixes {_a(a)} and {_a(b)}{_naming(names)}",
            names[0] if names else None,
            "give both sides one type: a column with a value of its own type",
        )

    def _wrong(self, node: Any, got: Type, why: str, hint: str | None = None) -> TypeMismatch:
        names = _names(node)
        shown = (
            f"'{names[0]}' is {_a(got)}"
            if len(names) == 1 and isinstance(node, sympy.Symbol)
            else f"this is {_a(got)}{_naming(names)}"
        )
        hint = hint or {
            "text": "text is compared (kind == 'consume') "
            "or counted (count_distinct), not computed with",
            "time": "count distinct days with day(time), or compare times with < and >",
            "condition": "a condition is true or false: if(condition, 1, 0) is a number",
        }.get(got)
        return TypeMismatch(f"{shown}: {why}", names[0] if names else None, hint)


def _names(node: Any) -> list[str]:
    return sorted({s.name for s in getattr(node, "free_symbols", set())})


def _naming(names: list[str]) -> str:
    return f" ({', '.join(names[:3])})" if names else ""


def _a(t: Type) -> str:
    return {
        "number": "a number",
        "text": "text",
        "time": "a time",
        "condition": "a condition",
        "any": "a value",
    }[t]


def number_columns(
    parsed: ParsedFormula, columns: dict[str, Type], params: set[str], *, number: bool = False
) -> set[str]:
    """The columns of undeclared type (``any``) the expression reads as numbers: operands of
    arithmetic, ``abs``/``min``/``max`` and ``total()``, compared with a number (``amount >
    100``), or the whole value when ``number`` (the ``of`` of sum/avg/min/max). A ledger's cells
    there must be numbers, and are checked as a declared number column is (KPI-E043)."""
    typer = _Typer(columns, params)
    out: set[str] = set()

    def is_number(node: Any) -> bool:
        try:
            return typer.of(node) == "number"
        except TypeMismatch:
            return False

    def walk(node: Any, as_number: bool) -> None:  # noqa: C901 - one case per node type
        if isinstance(node, sympy.Symbol):
            if as_number and typer.of(node) == "any":
                out.add(node.name)
        elif isinstance(node, sympy.Rel):
            a, b = node.args
            walk(a, is_number(b))
            walk(b, is_number(a))
        elif isinstance(node, In):
            left, items = node.args[0], node.args[1].args
            walk(left, any(is_number(x) for x in items))
        elif isinstance(node, If):
            walk(node.args[0], False)
            walk(node.args[1], as_number)
            walk(node.args[2], as_number)
        elif isinstance(node, Coalesce):
            for x in node.args:
                walk(x, as_number)
        elif isinstance(node, EntityAttribute):
            walk(node.args[0], node.kpi_name in ("total", "total_to_date"))
        elif isinstance(
            node, sympy.Add | sympy.Mul | sympy.Pow | sympy.Abs | sympy.Min | sympy.Max
        ):
            for x in node.args:
                walk(x, True)
        else:
            for x in getattr(node, "args", ()):
                walk(x, False)

    walk(parsed.expr, number)
    return out
