"""Printers: a sympy tree → formula text (:func:`to_text`) or LaTeX (:func:`to_latex`).

Both print parsed (unevaluated) trees and evaluated ones, with as few brackets as the
precedence of the formula language allows. For a parsed tree, ``to_text`` is the inverse of
the parser: ``parse_formula(to_text(t)).expr == t`` (see :mod:`engine.formula.nodes` for the
shapes this relies on); for trees with text or ``in`` (measure mode), with
``mode="measure"``. Text prints in single quotes (a quote inside doubled), ``In`` as
``x in ('a', 2)`` and ``Not(In(…))`` as ``x not in (…)``.

Trees can be deep (evaluated lineage, substituted formulas), so nothing here recurses: a
post-order walk with an explicit stack renders every node once (shared sub-trees included)
into ``(text, precedence)``, and the parent decides whether a child needs brackets. Texts are
built by concatenation, so the cost grows with size × depth: instant for formulas within the
caps, a fraction of a second for a chain 4,000 levels deep.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable, Mapping
from typing import Any

import sympy

from engine.formula.functions import (
    BUILTIN_NAMES,
    RESERVED_WORDS,
    In,
    KpiCondition,
    KpiFunction,
    Null,
    Previous,
    Round,
    Text,
)

# Precedence of what a text is, loosest first (the parser's binding powers, plus atoms).
_NONE, _OR, _AND, _NOT, _CMP, _ADD, _MUL, _UNARY, _POW, _ATOM = range(10)

Rendered = tuple[str, int]
Lookup = Callable[[Any], Rendered]

_LATEX_RELATIONS = {"<": "<", "<=": r"\leq", ">": ">", ">=": r"\geq", "==": "=", "!=": r"\neq"}
_LATEX_SPECIALS = {
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


def count_nodes(expr: Any, *, stop_after: int | None = None) -> int:
    """Count every node of a sympy tree (a sub-tree that occurs twice counts twice).

    Iterative. With ``stop_after``, stops counting once the count exceeds it (a cheap size
    guard for trees that share sub-trees and would be huge when counted in full).
    """
    count = 0
    stack = [expr]
    while stack:
        node = stack.pop()
        count += 1
        if stop_after is not None and count > stop_after:
            break
        stack.extend(node.args)
    return count


def to_text(expr: Any, names: Mapping[str, str] | None = None) -> str:
    """Print a tree in the formula language. ``names`` maps symbol names to display labels
    (a label that is not an identifier is printed in square brackets)."""
    return _render(expr, lambda node, get: _text(node, get, names or {}))[0]


def to_latex(expr: Any, names: Mapping[str, str] | None = None) -> str:
    """Print a tree as LaTeX. ``names`` maps symbol names to display labels (``\\text{…}``)."""
    return _render(expr, lambda node, get: _latex(node, get, names or {}))[0]


def _render(expr: Any, visit: Callable[[Any, Lookup], Rendered]) -> Rendered:
    """Render every node after its children, without recursion."""
    done: dict[int, Rendered] = {}

    def get(node: Any) -> Rendered:
        # Children are rendered already; leaves made up by a printer (the 2 in ``a - 2 * b``
        # from ``Add(a, Mul(-2, b))``) are rendered on the spot.
        found = done.get(id(node))
        return found if found is not None else visit(node, get)

    stack: list[tuple[Any, bool]] = [(expr, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in done:
            continue
        if expanded:
            done[id(node)] = visit(node, get)
        else:
            stack.append((node, True))
            stack.extend((arg, False) for arg in reversed(node.args) if id(arg) not in done)
    return done[id(expr)]


def _paren(rendered: Rendered, at_least: int) -> str:
    text, prec = rendered
    return f"({text})" if prec < at_least else text


def _lparen(rendered: Rendered, at_least: int) -> str:
    text, prec = rendered
    return rf"\left({text}\right)" if prec < at_least else text


def _minus(text: str) -> str:
    return f"- {text}" if text.startswith("-") else f"-{text}"


def _is_reciprocal(node: Any) -> bool:
    return isinstance(node, sympy.Pow) and node.args[1] == -1


def _negative(node: Any) -> bool:
    return isinstance(node, sympy.Number) and node.is_negative is True


def _negation_rest(node: Any) -> list[Any] | None:
    """The factors of ``Mul(-1, f, …)`` after the -1, when it prints as ``-f …``.

    Not when f is a number: ``Mul(-1, 3)`` must print as ``-1 * 3``, since ``-3`` would
    parse as the number -3.
    """
    if (
        isinstance(node, sympy.Mul)
        and node.args[0] == -1
        and not isinstance(node.args[1], sympy.Number)
    ):
        return list(node.args[1:])
    return None


def _subtracted(term: Any) -> list[Any] | None:
    """If an ``Add`` term prints as ``- …``, the factors (or number) that follow the minus."""
    if _negative(term):
        return [-term]
    if isinstance(term, sympy.Mul) and _negative(term.args[0]):
        if term.args[0] == -1:
            return _negation_rest(term)
        return [-term.args[0], *term.args[1:]]
    return None


# -- numbers -------------------------------------------------------------------------------


def _int_text(value: int) -> str:
    # str() refuses integers of more than 4,300 digits; decimal does not.
    return str(value) if value.bit_length() < 14_000 else f"{decimal.Decimal(value):f}"


def _decimal_text(p: int, q: int) -> str | None:
    """p/q as an exact decimal, if q has no prime factors but 2 and 5 (else None).

    Very large and very small values get an exponent (``1.5e300``, ``2e-9``), which the
    lexer reads back exactly.
    """
    twos = fives = 0
    rest = q
    while rest % 2 == 0:
        rest //= 2
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        return None
    places = max(twos, fives)
    digits = _int_text(abs(p) * (10**places // q))
    sign = "-" if p < 0 else ""
    if digits == "0":
        return "0"
    significant = digits.rstrip("0")
    exponent = len(digits) - len(significant) - places + len(significant) - 1
    if exponent > 20 or exponent < -6:
        mantissa = significant[0] + ("." + significant[1:] if len(significant) > 1 else "")
        return f"{sign}{mantissa}e{exponent}"
    if places == 0:
        return sign + digits
    digits = digits.rjust(places + 1, "0")
    return sign + digits[:-places] + "." + digits[-places:]


def _number(node: Any) -> Rendered:
    sign_prec = _UNARY if node.is_negative else _ATOM
    if isinstance(node, sympy.Rational):  # Integer included
        p, q = int(node.p), int(node.q)
        text = _decimal_text(p, q)
        return (text, sign_prec) if text is not None else (f"{_int_text(p)}/{_int_text(q)}", _MUL)
    if isinstance(node, sympy.Float):
        value = float(node)
        if math.isfinite(value):
            return repr(value), sign_prec
    return str(node), _ATOM


# -- formula text --------------------------------------------------------------------------


def _label(name: str, names: Mapping[str, str]) -> str:
    label = names.get(name)
    if label is None:
        return name
    if label.isidentifier() and (label not in RESERVED_WORDS or label in BUILTIN_NAMES):
        return label
    return f"[{label}]"


def _product(factors: list[Any], get: Lookup) -> str:
    """Factors joined with * and / (a factor ``Pow(b, -1)`` after the first prints ``/ b``)."""
    return _paren(get(factors[0]), _MUL) + _product_tail(factors[1:], get)


def _product_tail(factors: list[Any], get: Lookup) -> str:
    parts = []
    for factor in factors:
        if _is_reciprocal(factor):
            parts.append(" / " + _paren(get(factor.args[0]), _UNARY))
        else:
            parts.append(" * " + _paren(get(factor), _UNARY))
    return "".join(parts)


def _call(name: str, args: list[str]) -> Rendered:
    return f"{name}({', '.join(args)})", _ATOM


def _chain(node: Any) -> bool:
    """``And(a < b, b <= c)`` prints as the chain ``a < b <= c`` (same direction only)."""
    args = node.args
    if len(args) < 2 or not all(isinstance(r, sympy.core.relational.Relational) for r in args):
        return False
    ops = {r.rel_op for r in args}
    if not (ops <= {"<", "<="} or ops <= {">", ">="}):
        return False
    return all(
        r.rhs == s.lhs and type(r.rhs) is type(s.lhs) for r, s in zip(args, args[1:], strict=False)
    )


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _text(node: Any, get: Lookup, names: Mapping[str, str]) -> Rendered:
    args = node.args
    if isinstance(node, Text):
        return _quoted(node.value), _ATOM
    if isinstance(node, In):
        return f"{_paren(get(args[0]), _ADD)} in {get(args[1])[0]}", _CMP
    if isinstance(node, sympy.Tuple):
        return "(" + ", ".join(get(a)[0] for a in args) + ")", _ATOM
    if isinstance(node, sympy.Not) and isinstance(args[0], In):
        inner = args[0].args
        return f"{_paren(get(inner[0]), _ADD)} not in {get(inner[1])[0]}", _CMP
    if isinstance(node, sympy.Symbol):
        return _label(node.name, names), _ATOM
    if isinstance(node, Null):
        return "null", _ATOM
    if node is sympy.true or node is sympy.false:
        return ("true" if node is sympy.true else "false"), _ATOM
    if isinstance(node, sympy.Number):
        return _number(node)
    if isinstance(node, sympy.Add):
        parts = [_paren(get(args[0]), _ADD)]
        for term in args[1:]:
            after_minus = _subtracted(term)
            if after_minus is None:
                parts.append(" + " + _paren(get(term), _ADD))
            elif len(after_minus) == 1:
                parts.append(" - " + _paren(get(after_minus[0]), _MUL))
            else:
                parts.append(" - " + _product(after_minus, get))
        return "".join(parts), _ADD
    if isinstance(node, sympy.Mul):
        rest = _negation_rest(node)
        if rest is None:
            return _product(list(args), get), _MUL
        head = _minus(_paren(get(rest[0]), _UNARY))
        if len(rest) == 1:
            return head, _UNARY
        return head + _product_tail(rest[1:], get), _MUL
    if isinstance(node, sympy.Pow):
        base, exponent = args
        return f"{_paren(get(base), _ATOM)} ** {_paren(get(exponent), _UNARY)}", _POW
    if isinstance(node, sympy.core.relational.Relational):
        return f"{_paren(get(args[0]), _ADD)} {node.rel_op} {_paren(get(args[1]), _ADD)}", _CMP
    if isinstance(node, sympy.And):
        if _chain(node):
            parts = [_paren(get(args[0].lhs), _ADD)]
            parts += [f" {a.rel_op} {_paren(get(a.rhs), _ADD)}" for a in args]
            return "".join(parts), _CMP
        return " and ".join(_paren(get(a), _NOT) for a in args), _AND
    if isinstance(node, sympy.Or):
        return " or ".join(_paren(get(a), _AND) for a in args), _OR
    if isinstance(node, sympy.Not):
        return "not " + _paren(get(args[0]), _NOT), _NOT
    if not _is_call(node):  # not a formula-language node: sympy's notation, best effort
        return str(node), (_NONE if args else _ATOM)
    return _call(*_function_parts(node, [get(a)[0] for a in args]))


def _is_call(node: Any) -> bool:
    return isinstance(node, sympy.Function | sympy.Min | sympy.Max | KpiCondition)


def _function_parts(node: Any, texts: list[str]) -> tuple[str, list[str]]:
    """The formula-language name and argument texts of a function call."""
    if isinstance(node, Previous):
        shown = [texts[0]]
        if node.args[1] != 1:
            shown.append(f"n={texts[1]}")
        if not isinstance(node.args[2], Null):
            shown.append(f"default={texts[2]}")
        return "previous", shown
    if isinstance(node, Round) and node.args[1] == 0:
        return "round", texts[:1]
    if isinstance(node, KpiFunction | KpiCondition):
        return node.kpi_name, texts
    if isinstance(node, sympy.Min | sympy.Max | sympy.Abs):
        return type(node).__name__.lower(), texts
    return type(node).__name__, texts


# -- LaTeX ---------------------------------------------------------------------------------


def _escape(text: str) -> str:
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in text)


def _latex_symbol(name: str, names: Mapping[str, str]) -> str:
    label = names.get(name)
    if label is not None:
        return rf"\text{{{_escape(label)}}}"
    if name.isascii():
        return rf"\mathrm{{{_escape(name)}}}"
    return rf"\text{{{_escape(name)}}}"


def _latex_number(node: Any) -> Rendered:
    is_fraction = isinstance(node, sympy.Rational) and not node.is_Integer
    if is_fraction and _decimal_text(int(node.p), int(node.q)) is None:
        frac = rf"\frac{{{_int_text(abs(int(node.p)))}}}{{{_int_text(int(node.q))}}}"
        return ("-" + frac if node.is_negative else frac), _UNARY
    if not isinstance(node, sympy.Rational | sympy.Float):
        return sympy.latex(node), _ATOM  # oo, nan, …
    text, prec = _number(node)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}", _MUL
    return text, prec


def _latex_product(factors: list[Any], get: Lookup) -> Rendered:
    """``a \\cdot b``, or ``\\frac{…}{…}`` when some factors are reciprocals."""
    top = [f for f in factors if not _is_reciprocal(f)]
    bottom = [f.args[0] for f in factors if _is_reciprocal(f)]

    def join(group: list[Any], grouped: bool) -> str:
        if grouped and len(group) == 1:  # inside \frac's braces: no brackets needed
            return get(group[0])[0]
        first = _lparen(get(group[0]), _MUL)
        return " \\cdot ".join([first] + [_lparen(get(f), _UNARY) for f in group[1:]])

    if not bottom:
        return join(top, False), _MUL
    numerator = join(top, True) if top else "1"
    return rf"\frac{{{numerator}}}{{{join(bottom, True)}}}", _UNARY


def _latex(node: Any, get: Lookup, names: Mapping[str, str]) -> Rendered:
    args = node.args
    if isinstance(node, Text):
        return f"\\text{{“{_escape(node.value)}”}}", _ATOM
    if isinstance(node, In):
        return rf"{_lparen(get(args[0]), _ADD)} \in {get(args[1])[0]}", _CMP
    if isinstance(node, sympy.Tuple):
        return r"\{" + ", ".join(get(a)[0] for a in args) + r"\}", _ATOM
    if isinstance(node, sympy.Not) and isinstance(args[0], In):
        inner = args[0].args
        return rf"{_lparen(get(inner[0]), _ADD)} \notin {get(inner[1])[0]}", _CMP
    if isinstance(node, sympy.Symbol):
        return _latex_symbol(node.name, names), _ATOM
    if isinstance(node, Null) or node is sympy.true or node is sympy.false:
        word = "null" if isinstance(node, Null) else str(bool(node)).lower()
        return rf"\mathrm{{{word}}}", _ATOM
    if isinstance(node, sympy.Number):
        return _latex_number(node)
    if isinstance(node, sympy.Add):
        parts = [_lparen(get(args[0]), _ADD)]
        for term in args[1:]:
            after_minus = _subtracted(term)
            if after_minus is None:
                parts.append(" + " + _lparen(get(term), _ADD))
            else:
                parts.append(" - " + _lparen(_latex_product(after_minus, get), _MUL))
        return "".join(parts), _ADD
    if isinstance(node, sympy.Mul):
        rest = _negation_rest(node)
        if rest is None:
            return _latex_product(list(args), get)
        return _minus(_lparen(_latex_product(rest, get), _MUL)), _MUL
    if isinstance(node, sympy.Pow):
        base, exponent = args
        if exponent == -1:
            return rf"\frac{{1}}{{{get(base)[0]}}}", _UNARY
        return rf"{_lparen(get(base), _ATOM)}^{{{get(exponent)[0]}}}", _POW
    if isinstance(node, sympy.core.relational.Relational):
        op = _LATEX_RELATIONS[node.rel_op]
        return f"{_lparen(get(args[0]), _ADD)} {op} {_lparen(get(args[1]), _ADD)}", _CMP
    if isinstance(node, sympy.And):
        if _chain(node):
            parts = [_lparen(get(args[0].lhs), _ADD)]
            parts += [f" {_LATEX_RELATIONS[a.rel_op]} {_lparen(get(a.rhs), _ADD)}" for a in args]
            return "".join(parts), _CMP
        return r" \wedge ".join(_lparen(get(a), _NOT) for a in args), _AND
    if isinstance(node, sympy.Or):
        return r" \vee ".join(_lparen(get(a), _AND) for a in args), _OR
    if isinstance(node, sympy.Not):
        return r"\neg " + _lparen(get(args[0]), _ATOM), _NOT
    if isinstance(node, sympy.Abs):
        return rf"\left|{get(args[0])[0]}\right|", _ATOM
    if not _is_call(node):  # not a formula-language node: best effort
        return sympy.latex(node), (_NONE if args else _ATOM)
    name, texts = _function_parts(node, [get(a)[0] for a in args])
    head = rf"\{name}" if name in ("min", "max") else rf"\operatorname{{{_escape(name)}}}"
    return rf"{head}\left({', '.join(texts)}\right)", _ATOM


# -- shared with the other renderers (api/web/mathml.py), so that every rendering brackets alike --

#: binding powers of the printed forms, loosest first
OR, AND, NOT, CMP, ADD, MUL, UNARY, POW, ATOM = (
    _OR,
    _AND,
    _NOT,
    _CMP,
    _ADD,
    _MUL,
    _UNARY,
    _POW,
    _ATOM,
)
chain = _chain
is_reciprocal = _is_reciprocal
negation_rest = _negation_rest
subtracted = _subtracted
