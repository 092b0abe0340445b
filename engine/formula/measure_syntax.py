"""Measure mode of the parser: text literals compared with names, and ``x in (…)``.

A mixin of the parser (:mod:`engine.formula.parser`): the methods it needs from the parser are
declared here and defined there.
"""

from __future__ import annotations

from typing import Any

import sympy

from engine.formula import messages as msg
from engine.formula.functions import In, Text
from engine.formula.items import Item
from engine.formula.lexer import Token, TokenKind

#: Most values in the list after ``in`` (measure mode).
MAX_IN_VALUES = 100


class MeasureSyntax:
    """``x in (v, …)`` and the rules for text (measure mode)."""

    _last: Token | None

    def _peek(self, k: int = 0) -> Token:
        raise NotImplementedError

    def _advance(self) -> Token:
        raise NotImplementedError

    def _at_word(self, word: str, k: int = 0) -> bool:
        raise NotImplementedError

    def _expr(self, min_bp: int) -> Item:
        raise NotImplementedError

    def _finish(self, item: Item, at: Token) -> Item:
        raise NotImplementedError

    def _at_in(self) -> bool:
        """At ``in`` or ``not in`` (only lexed as such in measure mode)."""
        return self._at_word("in") or (self._at_word("not") and self._at_word("in", 1))

    @staticmethod
    def _check_text_pair(a: Item, op: Token, b: Item) -> None:
        """Text may be compared only with == or !=, and only with a name or other text."""
        if a.kind != "text" and b.kind != "text":
            return
        if op.text not in ("==", "!="):
            raise msg.text_ordered(op)
        for one, other in ((a, b), (b, a)):
            if one.kind == "text" and other.kind != "text" and not other.name:
                raise msg.text_compared_with(other.kind, other.start, other.end)

    def _membership(self, left: Item) -> Item:
        """``x in (v, …)`` / ``x not in (v, …)``: ``In(x, Tuple(v, …))``, maybe in ``Not``."""
        negated = self._at_word("not")
        first = self._advance()
        if negated:
            self._advance()  # in
        if left.kind != "number":
            raise msg.in_left(left.kind, left.start, left.end)
        lpar = self._peek()
        if lpar.kind is not TokenKind.LPAREN:
            raise msg.in_without_list(lpar)
        self._advance()
        if self._peek().kind is TokenKind.RPAREN:
            raise msg.in_empty(lpar, self._peek())
        values: list[Any] = []
        depth, nodes = left.depth, left.nodes + 2 + (1 if negated else 0)
        while True:
            item = self._expr(0)
            if not isinstance(item.expr, Text | sympy.Number) or item.kind == "condition":
                raise msg.in_not_literal(item.start, item.end)
            values.append(item.expr)
            if len(values) > MAX_IN_VALUES:
                raise msg.in_too_many(item.start, item.end - item.start, MAX_IN_VALUES)
            depth, nodes = max(depth, item.depth), nodes + item.nodes
            sep = self._peek()
            if sep.kind is TokenKind.COMMA:
                self._advance()
                continue
            if sep.kind is TokenKind.RPAREN:
                close = self._advance()
                break
            raise msg.unexpected_after_value(sep, self._last, opened=lpar, function=None)
        expr: Any = In(left.expr, sympy.Tuple(*values), evaluate=False)
        depth += 2
        if negated:
            expr = sympy.Not(expr, evaluate=False)
            depth += 1
        return self._finish(
            Item(expr, "condition", left.start, close.offset + 1, depth, nodes, False, left.power),
            first,
        )
