"""The vocabulary of the formula language as sympy objects.

* :func:`symbol` is the one way a name becomes a sympy ``Symbol``.
* :data:`NULL` (the only instance of :class:`Null`) is the missing value.
* One sympy class per function of the language that sympy does not have. None of them ever
  evaluates itself (``eval`` returns ``None``), so ``previous(x)`` stays ``Previous(x, 1, null)``
  until the evaluator gives it a meaning.
* :data:`FUNCTIONS` is the signature table the parser checks calls against, and
  :data:`RESERVED_WORDS` the words that may not be used as ids.

sympy quirks this module works around (sympy 1.14):

* A ``Function`` subclass is an ``Expr``; a function that gives a condition (``rising``,
  ``falling``) must be a ``BooleanFunction`` instead, or ``Not``/``And`` refuse it.
* ``Function.__new__`` calls ``evalf`` on the result when an argument is a ``Float``;
  ``_should_evalf`` is overridden so that never happens.
* ``If`` is an ``Expr`` even when its branches are conditions: the parser tracks kinds itself
  and builds ``And``/``Or`` without sympy's argument checks (see ``parser.py``).
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Literal

import sympy
from sympy.logic.boolalg import BooleanFunction

#: What a (sub-)formula is. "text" (a text literal) exists only in measure mode.
Kind = Literal["number", "condition", "text"]


def symbol(name: str) -> sympy.Symbol:
    """The sympy ``Symbol`` of an input, metric, param or built-in name.

    This is the only place where names become symbols: the name must be an identifier
    (``str.isidentifier()``), which keeps tenant-controlled text such as
    ``__import__("os").system(...)`` out of every symbol name.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"not a valid name for a formula symbol: {name!r}")
    return sympy.Symbol(name, real=True)


class Null(sympy.AtomicExpr):  # type: ignore[misc]  # sympy is untyped
    """The missing value (``null`` in a formula). A singleton: use :data:`NULL`.

    It is numeric-kind: it may stand wherever a number may, and the evaluator propagates it
    through arithmetic.
    """

    _instance: ClassVar[Null | None] = None

    def __new__(cls) -> Null:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def _hashable_content(self) -> tuple[()]:
        return ()

    def __getnewargs__(self) -> tuple[()]:
        return ()

    def _sympystr(self, printer: Any) -> str:
        return "null"

    def _latex(self, printer: Any) -> str:
        return r"\mathrm{null}"


NULL = Null()


class Text(sympy.Atom):  # type: ignore[misc]  # sympy is untyped
    """A text literal of measure mode (``'recharge'``): holds the Python str, never a Symbol.

    Compared and hashed by its value: ``Text("a") == Text("a")``. It is not an ``Expr``, so
    sympy arithmetic refuses it; the parser only lets it be compared with ``==``/``!=`` or
    listed after ``in``.
    """

    __slots__ = ("_value",)

    _value: str

    def __new__(cls, value: str) -> Text:
        if not isinstance(value, str):
            raise TypeError(f"Text holds a str, not {type(value).__name__}")
        obj = super().__new__(cls)
        obj._value = value
        return obj  # type: ignore[no-any-return]

    @property
    def value(self) -> str:
        """The text, without quotes."""
        return self._value

    def _hashable_content(self) -> tuple[str]:
        return (self._value,)

    def __getnewargs__(self) -> tuple[str]:
        return (self._value,)

    def _sympystr(self, printer: Any) -> str:
        return "'" + self._value.replace("'", "''") + "'"

    def _latex(self, printer: Any) -> str:
        return r"\text{“" + "".join(_LATEX_TEXT.get(ch, ch) for ch in self._value) + "”}"


_LATEX_TEXT = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
}


class KpiFunction(sympy.Function):  # type: ignore[misc]  # sympy is untyped
    """Base of the number-valued functions of the language: never evaluates itself."""

    #: The name of the function in the formula language.
    kpi_name: ClassVar[str] = ""

    # No ``eval`` classmethod: sympy's default returns None, so a call never evaluates itself.

    @classmethod
    def _should_evalf(cls, arg: Any) -> int:
        # sympy would otherwise evalf the whole call as soon as one argument is a Float.
        return -1


class KpiCondition(BooleanFunction):  # type: ignore[misc]  # sympy is untyped
    """Base of the condition-valued functions of the language: never evaluates itself."""

    kpi_name: ClassVar[str] = ""


class If(KpiFunction):
    """``if(condition, then, else)``. An ``Expr`` even when the branches are conditions."""

    kpi_name = "if"
    nargs = 3


class Coalesce(KpiFunction):
    """``coalesce(x, fallback, …)``: the first argument that is not null."""

    kpi_name = "coalesce"


class Round(KpiFunction):
    """``round(x, digits)``; always built with both arguments, ``digits`` an ``Integer``."""

    kpi_name = "round"
    nargs = 2


class Previous(KpiFunction):
    """``previous(x, n=1, default=null)``; always built as ``(x, Integer(n), default)``."""

    kpi_name = "previous"
    nargs = 3


class Change(KpiFunction):
    """``change(x)``: x minus previous x."""

    kpi_name = "change"
    nargs = 1


class Growth(KpiFunction):
    """``growth(x)``: change of x divided by previous x."""

    kpi_name = "growth"
    nargs = 1


class RollingSum(KpiFunction):
    """``rolling_sum(x, n)``: sum over the last n periods, this one included."""

    kpi_name = "rolling_sum"
    nargs = 2


class RollingAvg(KpiFunction):
    """``rolling_avg(x, n)``: average over the last n periods, this one included."""

    kpi_name = "rolling_avg"
    nargs = 2


class CumulativeSum(KpiFunction):
    """``cumulative_sum(x)``: running total since the first period of the group."""

    kpi_name = "cumulative_sum"
    nargs = 1


class Rising(KpiCondition):
    """``rising(x, n)``: x increased in each of the last n periods."""

    kpi_name = "rising"
    nargs = 2


class Falling(KpiCondition):
    """``falling(x, n)``: x decreased in each of the last n periods."""

    kpi_name = "falling"
    nargs = 2


#: The functions that reach into other periods of the row's group (time functions).
TIME_CLASSES: tuple[type[KpiFunction] | type[KpiCondition], ...] = (
    Previous,
    Change,
    Growth,
    RollingSum,
    RollingAvg,
    CumulativeSum,
    Rising,
    Falling,
)
TIME_FUNCTIONS: frozenset[str] = frozenset(c.kpi_name for c in TIME_CLASSES)


class Day(KpiFunction):
    """``day(t)`` (measure mode): the date of a time — to count
    distinct days, e.g. customer-days."""

    kpi_name = "day"
    nargs = 1


class In(KpiCondition):
    """``x in ('a', 'b', 3)`` (measure mode): ``In(x, Tuple(items…))``, the items text or
    number literals. ``x not in (…)`` is ``Not(In(…))``."""

    kpi_name = "in"
    nargs = 2


# -- signature table -------------------------------------------------------------------

#: What an argument must be: a number, a condition, a branch of ``if`` (either kind, the
#: same for both branches), a window length (whole-number literal 1..1000) or the digits of
#: ``round`` (whole-number literal 0..10).
ArgRole = Literal["number", "condition", "branch", "window", "digits"]


@dataclass(frozen=True)
class Param:
    """One parameter of a function of the language."""

    name: str
    role: ArgRole
    #: The default as written in the formula language (``"1"``, ``"null"``), or None if the
    #: parameter is required.
    default: str | None = None


@dataclass(frozen=True)
class FunctionSpec:
    """The signature of one function of the language."""

    name: str
    params: tuple[Param, ...]
    min_args: int
    #: None: no upper limit (the last parameter repeats).
    max_args: int | None
    #: Parameters that may also be given by name (``previous(x, n=2)``).
    named: frozenset[str]
    #: "branch" means: the kind of the then/else branches.
    result: Literal["number", "condition", "branch"]
    #: The sympy class the call becomes (``Min``, ``Max``, ``Abs`` or a class of this module).
    sympy_class: Any
    summary: str

    def usage(self) -> str:
        """How a call looks, e.g. ``previous(x, n=1, default=null)``."""
        parts = []
        for p in self.params:
            parts.append(f"{p.name}={p.default}" if p.name in self.named and p.default else p.name)
        if self.max_args is None:
            parts.append("…")
        return f"{self.name}({', '.join(parts)})"


def _spec(
    name: str,
    params: tuple[Param, ...],
    result: Literal["number", "condition", "branch"],
    sympy_class: Any,
    summary: str,
    *,
    min_args: int | None = None,
    max_args: int | None | Literal["params"] = "params",
    named: tuple[str, ...] = (),
) -> FunctionSpec:
    required = sum(1 for p in params if p.default is None)
    return FunctionSpec(
        name=name,
        params=params,
        min_args=required if min_args is None else min_args,
        max_args=len(params) if max_args == "params" else max_args,
        named=frozenset(named),
        result=result,
        sympy_class=sympy_class,
        summary=summary,
    )


_X = Param("x", "number")
_N = Param("n", "window")

#: Every function of the language, by name. Read-only.
FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType(
    {
        s.name: s
        for s in (
            _spec(
                "min",
                (Param("value", "number"),),
                "number",
                sympy.Min,
                "the smallest of the values",
                min_args=1,
                max_args=None,
            ),
            _spec(
                "max",
                (Param("value", "number"),),
                "number",
                sympy.Max,
                "the largest of the values",
                min_args=1,
                max_args=None,
            ),
            _spec("abs", (_X,), "number", sympy.Abs, "the absolute value"),
            _spec(
                "round",
                (_X, Param("digits", "digits", "0")),
                "number",
                Round,
                "x rounded to a number of decimal places",
            ),
            _spec(
                "if",
                (Param("condition", "condition"), Param("then", "branch"), Param("else", "branch")),
                "branch",
                If,
                "`then` where the condition holds, `else` otherwise",
            ),
            _spec(
                "coalesce",
                (Param("value", "number"), Param("fallback", "number")),
                "number",
                Coalesce,
                "the first value that is not null",
                min_args=2,
                max_args=None,
            ),
            _spec(
                "previous",
                (_X, Param("n", "window", "1"), Param("default", "number", "null")),
                "number",
                Previous,
                "x n periods earlier (default where there is none)",
                named=("n", "default"),
            ),
            _spec("change", (_X,), "number", Change, "x minus previous x"),
            _spec("growth", (_X,), "number", Growth, "change of x divided by previous x"),
            _spec(
                "rolling_sum", (_X, _N), "number", RollingSum, "sum of x over the last n periods"
            ),
            _spec(
                "rolling_avg",
                (_X, _N),
                "number",
                RollingAvg,
                "average of x over the last n periods",
            ),
            _spec("cumulative_sum", (_X,), "number", CumulativeSum, "running total of x"),
            _spec(
                "rising", (_X, _N), "condition", Rising, "x increased in each of the last n periods"
            ),
            _spec(
                "falling",
                (_X, _N),
                "condition",
                Falling,
                "x decreased in each of the last n periods",
            ),
        )
    }
)

#: Functions of measure mode only (over a source's columns), by name. Read-only.
MEASURE_FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType(
    {
        s.name: s
        for s in (
            _spec("day", (Param("time", "number"),), "number", Day, "the date of a time (its day)"),
        )
    }
)


class EntityAttribute(KpiFunction):
    """An attribute of an entity computed from its records (entity measures only)."""

    #: "period": the records in the period; "to_date": every record before the instant.
    window: ClassVar[str] = "period"


class CountIn(EntityAttribute):
    kpi_name = "count"
    nargs = 1


class TotalIn(EntityAttribute):
    kpi_name = "total"
    nargs = 1


class CountToDate(EntityAttribute):
    kpi_name = "count_to_date"
    nargs = 1
    window = "to_date"


class TotalToDate(EntityAttribute):
    kpi_name = "total_to_date"
    nargs = 1
    window = "to_date"


class DaysSinceLast(EntityAttribute):
    kpi_name = "days_since_last"
    nargs = 1
    window = "to_date"


class DaysSinceFirst(EntityAttribute):
    kpi_name = "days_since_first"
    nargs = 1
    window = "to_date"


_C = Param("condition", "condition")

#: The entity attributes of ``per: entity`` measures (``having`` and ``of``), by name: the
#: argument is over the source's columns, the value is one number per entity.
ENTITY_FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType(
    {
        s.name: s
        for s in (
            _spec(
                "count",
                (_C,),
                "number",
                CountIn,
                "the entity's records in the period where the condition holds",
            ),
            _spec(
                "total",
                (_X,),
                "number",
                TotalIn,
                "the sum of x over the entity's records in the period",
            ),
            _spec(
                "count_to_date",
                (_C,),
                "number",
                CountToDate,
                "the entity's records before the instant where the condition holds",
            ),
            _spec(
                "total_to_date",
                (_X,),
                "number",
                TotalToDate,
                "the sum of x over the entity's records before the instant",
            ),
            _spec(
                "days_since_last",
                (_C,),
                "number",
                DaysSinceLast,
                "days from the entity's last record where the "
                "condition holds to the instant (null if none)",
            ),
            _spec(
                "days_since_first",
                (_C,),
                "number",
                DaysSinceFirst,
                "days from the entity's first record where the "
                "condition holds to the instant (null if none)",
            ),
        )
    }
)

#: Names that are values in every formula without being defined by a pack.
#: The built-in names of formulas, each with what it means (lineage shows the description).
BUILTINS: Mapping[str, str] = MappingProxyType(
    {
        "periods": "number of base periods in the row's group",
        "days": "calendar days the row's group covers",
    }
)
BUILTIN_NAMES: frozenset[str] = frozenset(BUILTINS)

#: Values of entity measures outside attributes, beside params: ``days`` (the period's days, up
#: to as_of) and ``grain_days`` (the longest period of the grain asked: 31 for months, 92 for
#: quarters, 366 for years; the whole range for "all") — for a lapse line never shorter than
#: the period that stays the same from one period to the next.
ENTITY_NAMES: frozenset[str] = frozenset({"days", "grain_days"})

#: Words of the formula language literals and operators.
LANGUAGE_WORDS: frozenset[str] = frozenset({"and", "or", "not", "if", "true", "false", "null"})

#: Words that may not be used as ids of inputs, metrics, params, … (``periods`` and ``days``
#: are valid *in formulas*, as built-ins, but no pack may define them).
RESERVED_WORDS: frozenset[str] = (
    LANGUAGE_WORDS | BUILTIN_NAMES | ENTITY_NAMES | frozenset(FUNCTIONS) | frozenset(keyword.kwlist)
)
