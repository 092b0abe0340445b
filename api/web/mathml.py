"""Formulas as MathML: sympy's presentation printer over the already-parsed, whitelisted tree.

Nothing here parses text: the tree comes from :mod:`engine.formula` (the compiled pack's parsed
formulas, or the lineage expander). The printer is sympy's, taught the formula language's own
nodes (``if``, ``previous``, ``null``, text literals, ``in``) and told not to read
``closing_amount`` as *closing* with subscript *amount*. Sums, products, powers, comparisons and
logic are drawn here with the brackets of :mod:`engine.formula.printer` (the text and LaTeX
printers): a child is bracketed when it binds more loosely than its place needs, so
``a - (b - c)`` keeps its brackets (sympy's own printer drops them from an unevaluated
``Mul(-1, Add)``). Its output is checked against an allow-list of MathML elements and attributes
before a page shows it; anything else (or a tree too large to show, or past a page's budget)
falls back to the formula's text, which the template escapes.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import escape

import sympy
from markupsafe import Markup
from sympy.printing.mathml import MathMLPresentationPrinter

from engine.formula import KpiCondition, KpiFunction, Null, Previous, Round, Text, count_nodes
from engine.formula.functions import In

# the shapes and precedences of the text and LaTeX printers, so that all three bracket alike
from engine.formula.printer import (
    ADD,
    AND,
    ATOM,
    CMP,
    MUL,
    NOT,
    OR,
    POW,
    UNARY,
    chain,
    is_reciprocal,
    negation_rest,
    subtracted,
)

MAX_NODES = (
    400  # larger trees are shown as text: MathML of them is unreadable (and the printer recurses)
)
PAGE_NODES = (
    20_000  # formula nodes one page may draw as MathML (a built-in pack's page needs ~1,000)
)
_RELATIONS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=", "!=": "≠"}
_MINUS, _TIMES = "−", "·"
_ELEMENTS = {
    "math",
    "mrow",
    "mi",
    "mn",
    "mo",
    "ms",
    "mtext",
    "mfrac",
    "msup",
    "msub",
    "msubsup",
    "msqrt",
    "mroot",
    "mfenced",
    "mspace",
    "mstyle",
    "mtable",
    "mtr",
    "mtd",
}
_ATTRIBUTES = {
    "mathvariant",
    "separators",
    "open",
    "close",
    "display",
    "linethickness",
    "form",
    "stretchy",
    "fence",
    "columnalign",
    "lspace",
    "rspace",
}


def _signed(e: Any) -> bool:
    """Whether ``e`` is drawn starting with a minus sign."""
    while isinstance(e, sympy.Mul):
        e = e.args[0]
    return isinstance(e, sympy.Number) and e.is_negative is True


def _precedence(e: Any) -> int:
    """How tightly ``e`` binds as :class:`_Printer`
    draws it (the levels of engine.formula.printer)."""
    if isinstance(e, sympy.Add):
        return ADD
    if isinstance(e, sympy.Mul):
        if negation_rest(e) is not None:
            return MUL
        return UNARY if any(is_reciprocal(f) for f in e.args) else MUL  # a fraction bar, or a·b
    if isinstance(e, sympy.Pow):
        exp = e.args[1]
        if exp == -1 or (exp.is_Rational and exp.q != 1 and exp.is_negative):
            return UNARY  # 1 over …
        if exp.is_Rational and exp.q != 1 and abs(exp.p) == 1:
            return ATOM  # a root sign encloses its base
        return POW
    if isinstance(e, sympy.Number):
        whole = isinstance(e, sympy.Rational) and _decimal(int(e.p), int(e.q)) is not None
        return UNARY if e.is_negative or not (whole or isinstance(e, sympy.Float)) else ATOM
    if isinstance(e, sympy.core.relational.Relational | In):
        return CMP
    if isinstance(e, sympy.Not):
        return CMP if isinstance(e.args[0], In) else NOT
    if isinstance(e, sympy.And):
        return CMP if chain(e) else AND
    if isinstance(e, sympy.Or):
        return OR
    return ATOM  # names, numbers, calls, |x|, text


class _Printer(MathMLPresentationPrinter):  # type: ignore[misc]  # sympy is untyped
    def __init__(self) -> None:
        super().__init__({"order": "none", "disable_split_super_sub": True, "mul_symbol": "dot"})
        # sympy writes text nodes *raw* (so that its '&InvisibleTimes;' survives): a text literal
        # '<script>' would become markup. Every text node is escaped here; sympy's own entities
        # are turned into the characters they stand for first.
        raw = self.dom.createTextNode
        self._raw = raw
        self.dom.createTextNode = lambda data: raw(escape(html.unescape(data)))

    def _el(self, tag: str, text: str | None = None, *children: Any) -> Any:
        node = self.dom.createElement(tag)
        if text is not None:
            node.appendChild(self.dom.createTextNode(text))
        for child in children:
            node.appendChild(child)
        return node

    def _print_Symbol(self, sym: Any, style: str = "plain") -> Any:
        return self._el("mi", sym.name)

    def _print_Null(self, e: Any) -> Any:
        return self._el("mi", "null")

    def _print_Text(self, e: Any) -> Any:  # tenant text: escaped as it is, entities included
        node = self.dom.createElement("ms")
        node.appendChild(self._raw(escape(e.value)))
        return node

    def _print_Rational(self, e: Any) -> Any:
        text = _decimal(int(e.p), int(e.q))
        return self._el("mn", text) if text is not None else super()._print_Rational(e)

    def _print_BooleanTrue(self, e: Any) -> Any:
        return self._el("mi", "true")

    def _print_BooleanFalse(self, e: Any) -> Any:
        return self._el("mi", "false")

    # -- structure, with the brackets of the text printer -------------------------------------
    def _bracketed(self, node: Any) -> Any:
        return self._el("mrow", None, self._el("mo", "("), node, self._el("mo", ")"))

    def _wrap(self, e: Any, at_least: int) -> Any:
        """``e`` drawn, in brackets when it binds more loosely than ``at_least``."""
        node = self._print(e)
        return self._bracketed(node) if _precedence(e) < at_least else node

    def _join(self, factors: list[Any], grouped: bool) -> Any:
        if (
            len(factors) == 1
        ):  # alone above or below a fraction bar, no brackets; else as a first factor
            return self._print(factors[0]) if grouped else self._wrap(factors[0], MUL)
        row = self._el("mrow", None, self._wrap(factors[0], MUL))
        for factor in factors[1:]:
            row.appendChild(self._el("mo", _TIMES))
            row.appendChild(self._wrap(factor, UNARY))
        return row

    def _product(self, factors: list[Any]) -> tuple[Any, int]:
        """Factors as ``a·b``, or as a fraction when some are reciprocals; with its precedence."""
        top = [f for f in factors if not is_reciprocal(f)]
        bottom = [f.args[0] for f in factors if is_reciprocal(f)]
        if not bottom:
            return self._join(top, False), MUL
        numerator = self._join(top, True) if top else self._el("mn", "1")
        return self._el("mfrac", None, numerator, self._join(bottom, True)), UNARY

    def _print_Add(self, e: Any, order: Any = None) -> Any:
        row = self._el("mrow", None, self._wrap(e.args[0], ADD))
        for term in e.args[1:]:
            after_minus = subtracted(term)
            if after_minus is None:
                row.appendChild(self._el("mo", "+"))
                row.appendChild(self._wrap(term, ADD))
                continue
            row.appendChild(self._el("mo", _MINUS))
            row.appendChild(self._negated(after_minus))
        return row

    def _print_Mul(self, e: Any) -> Any:
        rest = negation_rest(e)
        if rest is None:
            return self._product(list(e.args))[0]
        return self._el("mrow", None, self._el("mo", _MINUS), self._negated(rest))

    def _negated(self, factors: list[Any]) -> Any:
        """What follows a minus sign: bracketed if
        looser than a product or signed itself (−(−b))."""
        node, prec = self._product(factors)
        return (
            self._bracketed(node) if prec < MUL or (prec == MUL and _signed(factors[0])) else node
        )

    def _print_Pow(self, e: Any) -> Any:
        base, exp = e.args
        if exp == -1:
            return self._el("mfrac", None, self._el("mn", "1"), self._print(base))
        if exp.is_Rational and exp.q != 1:  # roots and fractional powers: sympy's drawing
            return super()._print_Pow(e)
        return self._el("msup", None, self._wrap(base, ATOM), self._print(exp))

    def _print_Relational(self, e: Any) -> Any:
        return self._el(
            "mrow",
            None,
            self._wrap(e.args[0], ADD),
            self._el("mo", _RELATIONS.get(e.rel_op, e.rel_op)),
            self._wrap(e.args[1], ADD),
        )

    def _print_And(self, e: Any) -> Any:
        if chain(e):  # a < b <= c
            row = self._el("mrow", None, self._wrap(e.args[0].lhs, ADD))
            for rel in e.args:
                row.appendChild(self._el("mo", _RELATIONS[rel.rel_op]))
                row.appendChild(self._wrap(rel.rhs, ADD))
            return row
        return self._logic(e.args, "∧", NOT)

    def _print_Or(self, e: Any) -> Any:
        return self._logic(e.args, "∨", AND)

    def _logic(self, args: Any, symbol: str, at_least: int) -> Any:
        row = self._el("mrow", None, self._wrap(args[0], at_least))
        for arg in args[1:]:
            row.appendChild(self._el("mo", symbol))
            row.appendChild(self._wrap(arg, at_least))
        return row

    def _print_Min(self, e: Any) -> Any:
        return self._call("min", [self._print(a) for a in e.args])

    def _print_Max(self, e: Any) -> Any:
        return self._call("max", [self._print(a) for a in e.args])

    def _print_Function(self, e: Any) -> Any:
        if isinstance(e, In):
            return self._in(e)
        if not isinstance(e, KpiFunction | KpiCondition):
            return super()._print_Function(e)
        args = [self._print(a) for a in e.args]
        if isinstance(e, Previous):
            shown = [args[0]]
            if e.args[1] != 1:
                shown.append(self._keyword("n", args[1]))
            if not isinstance(e.args[2], Null):
                shown.append(self._keyword("default", args[2]))
            return self._call("previous", shown)
        if isinstance(e, Round) and e.args[1] == 0:
            return self._call("round", args[:1])
        return self._call(e.kpi_name, args)

    def _print_BooleanFunction(self, e: Any) -> Any:  # rising(), falling(), in
        if isinstance(e, In):
            return self._in(e)
        if isinstance(e, KpiCondition):
            return self._call(e.kpi_name, [self._print(a) for a in e.args])
        return super()._print_Basic(e)

    def _print_Not(self, e: Any) -> Any:
        if isinstance(e.args[0], In):
            return self._in(e.args[0], negated=True)
        return self._el("mrow", None, self._el("mo", "¬"), self._wrap(e.args[0], ATOM))

    def _in(self, e: Any, negated: bool = False) -> Any:
        return self._el(
            "mrow",
            None,
            self._wrap(e.args[0], ADD),
            self._el("mo", "∉" if negated else "∈"),
            self._paren_comma_separated(*e.args[1].args),
        )

    def _keyword(self, name: str, value: Any) -> Any:
        return self._el("mrow", None, self._el("mi", name), self._el("mo", "="), value)

    def _call(self, name: str, args: list[Any]) -> Any:
        inner = self._el("mrow")
        for i, arg in enumerate(args):
            if i:
                inner.appendChild(self._el("mo", ","))
            inner.appendChild(arg)
        return self._el(
            "mrow", None, self._el("mi", name), self._el("mo", "("), inner, self._el("mo", ")")
        )


def _decimal(p: int, q: int) -> str | None:
    """p/q as a short exact decimal (0.2, 0.01), else None (then a fraction is drawn)."""
    for places in range(0, 7):
        scaled = p * 10**places
        if scaled % q == 0:
            digits = str(abs(scaled // q)).rjust(places + 1, "0")
            sign = "-" if p < 0 else ""
            return sign + (digits[:-places] + "." + digits[-places:] if places else digits)
    return None


def _safe(markup: str) -> bool:
    """Whether printed MathML holds only allowed elements and attributes (defence in depth)."""
    try:
        root = ET.fromstring(markup)
    except ET.ParseError:
        return False
    return all(el.tag in _ELEMENTS and set(el.attrib) <= _ATTRIBUTES for el in root.iter())


class Budget:
    """How many more formula nodes a page may draw as MathML: drawing costs CPU time (about 8 µs
    a node), and a pack of thousands of large formulas would take seconds a page. Past the
    budget, formulas are shown as their text."""

    def __init__(self, nodes: int | None = None) -> None:
        self.left = PAGE_NODES if nodes is None else nodes

    def take(self, nodes: int) -> bool:
        if nodes > self.left:
            self.left = 0  # formulas keep their order: none after the first that did not fit
            return False
        self.left -= nodes
        return True


def to_mathml(expr: Any, text: str, budget: Budget | None = None) -> Markup | None:
    """``<math>`` for a parsed formula tree, or None (show ``text`` instead) when it cannot be
    drawn: too large, past the page's ``budget``, or refused by the allow-list."""
    if budget is not None and budget.left == 0:
        return None
    size = count_nodes(expr, stop_after=MAX_NODES)
    if size > MAX_NODES or (budget is not None and not budget.take(size)):
        return None
    try:
        body = _Printer().doprint(expr)
    except (
        TypeError,
        ValueError,
        AttributeError,
        NotImplementedError,
        RecursionError,
        sympy.SympifyError,
    ):
        return None
    alttext = (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )
    markup = f'<math alttext="{alttext}">{body}</math>'
    if not _safe(markup.replace(f' alttext="{alttext}"', "")):
        return None
    return Markup(markup)  # escaped text nodes, allow-list checked above


__all__ = ["Budget", "Text", "to_mathml"]
