"""The formula language of KPI packs: parse text into an unevaluated sympy tree, print it back.

Formulas are parsed by a hand-written lexer and parser (never ``eval``, ``sympify`` or
``parse_expr``) that build whitelisted sympy objects directly, under the caps of
:data:`LIMITS`. Only :class:`engine.core.errors.FormulaError` escapes :func:`parse_formula`.

    >>> parsed = parse_formula("previous(closing_net, default=initial_net) + x")
    >>> [(r.name, r.lagged) for r in parsed.refs]
    [('closing_net', True), ('initial_net', False), ('x', False)]
    >>> to_text(parsed.expr)
    'previous(closing_net, default=initial_net) + x'
"""

from engine.formula.functions import (
    BUILTIN_NAMES,
    ENTITY_FUNCTIONS,
    ENTITY_NAMES,
    FUNCTIONS,
    MEASURE_FUNCTIONS,
    NULL,
    RESERVED_WORDS,
    Change,
    Coalesce,
    CumulativeSum,
    Day,
    EntityAttribute,
    Falling,
    FunctionSpec,
    Growth,
    If,
    In,
    Kind,
    KpiCondition,
    KpiFunction,
    Null,
    Param,
    Previous,
    Rising,
    RollingAvg,
    RollingSum,
    Round,
    Text,
    symbol,
)
from engine.formula.limits import LIMITS, Limits
from engine.formula.nodes import rebuild
from engine.formula.parser import ParsedFormula, Ref, parse_formula
from engine.formula.printer import count_nodes, to_latex, to_text

__all__ = [
    "BUILTIN_NAMES",
    "ENTITY_FUNCTIONS",
    "ENTITY_NAMES",
    "FUNCTIONS",
    "MEASURE_FUNCTIONS",
    "Day",
    "EntityAttribute",
    "LIMITS",
    "NULL",
    "RESERVED_WORDS",
    "Change",
    "Coalesce",
    "CumulativeSum",
    "Falling",
    "FunctionSpec",
    "Growth",
    "If",
    "In",
    "Kind",
    "KpiCondition",
    "KpiFunction",
    "Limits",
    "Null",
    "Param",
    "ParsedFormula",
    "Previous",
    "Ref",
    "Rising",
    "RollingAvg",
    "RollingSum",
    "Round",
    "Text",
    "count_nodes",
    "parse_formula",
    "rebuild",
    "symbol",
    "to_latex",
    "to_text",
]
