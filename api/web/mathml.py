"""Formulas as MathML: sympy's presentation printer over the already-parsed, whitelisted tree.

Nothing here parses text: the tree comes from :mod:`engine.formula` (``CompiledPack.sites`` or
the lineage expander). The printer is sympy's, taught the formula language's own nodes (``if``,
``previous``, ``null``, text literals, ``in``) and told not to read ``closing_amount`` as
*closing* with subscript *amount*. Its output is checked against an allow-list of MathML
elements and attributes before a page shows it; anything else (or a tree too large to show)
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

MAX_NODES = 400  # larger trees are shown as text: MathML of them is unreadable (and the printer recurses)
_ELEMENTS = {"math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mfrac", "msup", "msub", "msubsup", "msqrt",
             "mroot", "mfenced", "mspace", "mstyle", "mtable", "mtr", "mtd"}
_ATTRIBUTES = {"mathvariant", "separators", "open", "close", "display", "linethickness", "form", "stretchy",
               "fence", "columnalign", "lspace", "rspace"}


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
        return super()._print_Not(e)

    def _in(self, e: Any, negated: bool = False) -> Any:
        return self._el("mrow", None, self._print(e.args[0]), self._el("mo", "∉" if negated else "∈"),
                        self._paren_comma_separated(*e.args[1].args))

    def _keyword(self, name: str, value: Any) -> Any:
        return self._el("mrow", None, self._el("mi", name), self._el("mo", "="), value)

    def _call(self, name: str, args: list[Any]) -> Any:
        inner = self._el("mrow")
        for i, arg in enumerate(args):
            if i:
                inner.appendChild(self._el("mo", ","))
            inner.appendChild(arg)
        return self._el("mrow", None, self._el("mi", name), self._el("mo", "("), inner, self._el("mo", ")"))


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


def to_mathml(expr: Any, text: str) -> Markup | None:
    """``<math>`` for a parsed formula tree, or None (show ``text`` instead) when it cannot be drawn."""
    if count_nodes(expr, stop_after=MAX_NODES) > MAX_NODES:
        return None
    try:
        body = _Printer().doprint(expr)
    except (TypeError, ValueError, AttributeError, NotImplementedError, RecursionError, sympy.SympifyError):
        return None
    alttext = text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    markup = f'<math alttext="{alttext}">{body}</math>'
    if not _safe(markup.replace(f' alttext="{alttext}"', "")):
        return None
    return Markup(markup)  # escaped text nodes, allow-list checked above


__all__ = ["Text", "to_mathml"]
