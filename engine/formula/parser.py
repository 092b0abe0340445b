"""Parser: tokens → an unevaluated sympy tree, with kinds, refs and caps checked.

A precedence-climbing (Pratt) parser. Binding powers, loosest first, as in Python::

    or < and < not < comparisons (chained) < + - < * / < unary - + < **

The sympy shapes are described in :mod:`engine.formula.nodes`.

In *measure mode* (``mode="measure"``, for the ``of`` and ``where`` of ledger measures) the
language also has text literals (``'recharge'``, kind "text", a :class:`Text` atom) that may
only be compared with ``==``/``!=`` with a name or other text, and ``x in (…)`` /
``x not in (…)`` with a list of text or number literals (``In(x, Tuple(…))``, wrapped in
``Not`` for ``not in``). In formula mode neither exists: quotes and ``in`` are refused as
before.

Depth is capped on the way *down* (the number of active sub-expressions), so hostile input
such as 10,000 opening brackets stops after 65 levels, with a bounded Python stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import sympy

from engine.core.errors import FormulaError
from engine.formula import messages as msg
from engine.formula.functions import (
    ENTITY_FUNCTIONS,
    FUNCTIONS,
    MEASURE_FUNCTIONS,
    NULL,
    FunctionSpec,
    Kind,
    Text,
    symbol,
)
from engine.formula.items import Item as _Item
from engine.formula.lexer import Token, TokenKind, tokenize
from engine.formula.limits import LIMITS
from engine.formula.measure_syntax import MeasureSyntax
from engine.formula.nodes import DEFAULTS, MINUS_ONE, RELATIONS, is_negation, logic, negate
from engine.formula.printer import count_nodes

# Binding powers (higher binds tighter). A prefix - or + parses its operand at _POW, so it
# binds tighter than * and looser than ** (-x ** 2 is -(x ** 2)), as in Python.
_OR, _AND, _NOT, _CMP, _ADD, _MUL, _UNARY, _POW = range(1, 9)

_INFIX: dict[str, int] = {
    "or": _OR,
    "and": _AND,
    "<": _CMP,
    "<=": _CMP,
    ">": _CMP,
    ">=": _CMP,
    "==": _CMP,
    "!=": _CMP,
    "+": _ADD,
    "-": _ADD,
    "*": _MUL,
    "/": _MUL,
    "**": _POW,
}


@dataclass(frozen=True)
class Ref:
    """One occurrence of a name in a formula."""

    name: str
    #: 0-based character offset in the formula text.
    offset: int
    length: int
    #: True iff the name occurs inside the first argument of ``previous(...)``.
    lagged: bool
    #: True iff the name occurs inside an entity attribute (``count(…)``, entity mode only).
    in_attribute: bool = False


@dataclass(frozen=True)
class ParsedFormula:
    """A formula that parsed: its unevaluated sympy tree and what the compiler needs."""

    text: str
    #: The unevaluated sympy tree (see :mod:`engine.formula.nodes` for its shapes).
    expr: sympy.Basic
    kind: Kind
    #: Every name occurrence, in text order (the built-ins ``periods``/``days`` included).
    refs: tuple[Ref, ...]
    #: Formula-language names of the functions called.
    functions: frozenset[str]
    node_count: int
    depth: int


def parse_formula(
    text: str,
    *,
    expect: Literal["number", "condition", "any"] = "number",
    mode: Literal["formula", "measure", "entity"] = "formula",
) -> ParsedFormula:
    """Parse a formula. Raises :class:`FormulaError` (and nothing else) for any text.

    ``mode="measure"`` adds text literals and ``in`` (see the module docstring); with
    ``expect="any"`` the kind of a lone text literal is "text". ``mode="entity"`` (the ``of`` and
    ``having`` of ``per: entity`` measures) is measure mode plus the entity attributes of
    :data:`ENTITY_FUNCTIONS`, which may not be nested (refs inside them say ``in_attribute``).
    """
    if not isinstance(text, str):
        raise TypeError(f"a formula must be a str, not {type(text).__name__}")
    if expect not in ("number", "condition", "any"):
        raise ValueError(f"expect must be 'number', 'condition' or 'any', not {expect!r}")
    if mode not in ("formula", "measure", "entity"):
        raise ValueError(f"mode must be 'formula', 'measure' or 'entity', not {mode!r}")
    if len(text) > LIMITS.max_length:
        raise msg.too_long(len(text))
    if not text.strip():
        raise FormulaError(
            "KPI-F001", "the formula is empty", 0, 1, "write a calculation, e.g. a / b"
        )
    parser = _Parser(text, measure=mode != "formula", entity=mode == "entity")
    try:
        item = parser.parse()
    except RecursionError:  # defence in depth: the depth cap should make this unreachable
        raise msg.too_deep(0, len(text)) from None
    if expect != "any" and item.kind != expect:
        raise msg.kind_mismatch(item.kind, expect, item.start, item.end, whole=True)
    node_count = count_nodes(item.expr)
    if node_count > LIMITS.max_nodes:
        raise msg.too_many_nodes(0, len(text))
    return ParsedFormula(
        text=text,
        expr=item.expr,
        kind=item.kind,
        refs=tuple(parser.refs),
        functions=frozenset(parser.functions),
        node_count=node_count,
        depth=item.depth,
    )


class _Parser(MeasureSyntax):
    def __init__(self, text: str, *, measure: bool = False, entity: bool = False) -> None:
        self.text = text
        self.measure = measure
        self._entity = entity
        self.functions_table = (
            {**FUNCTIONS, **MEASURE_FUNCTIONS, **ENTITY_FUNCTIONS}
            if entity
            else {**FUNCTIONS, **MEASURE_FUNCTIONS}
            if measure
            else FUNCTIONS
        )
        self._attribute = 0  # > 0 inside an entity attribute
        self._tokens = tokenize(text, measure=measure)
        self._buffer: list[Token] = []
        self._last: Token | None = None  # the last token consumed
        self._active = 0  # sub-expressions being parsed: the depth guard on the way down
        self._lag = 0  # > 0 inside the first argument of previous(...)
        self.refs: list[Ref] = []
        self.functions: set[str] = set()

    # -- tokens ------------------------------------------------------------------------

    def _peek(self, k: int = 0) -> Token:
        while len(self._buffer) <= k:
            if self._buffer and self._buffer[-1].kind is TokenKind.END:
                return self._buffer[-1]
            self._buffer.append(next(self._tokens))
        return self._buffer[k]

    def _advance(self) -> Token:
        tok = self._peek()
        if tok.kind is not TokenKind.END:
            self._buffer.pop(0)
        self._last = tok
        return tok

    def _at_op(self, *ops: str) -> bool:
        tok = self._peek()
        return tok.kind is TokenKind.OP and tok.text in ops

    def _at_word(self, word: str, k: int = 0) -> bool:
        tok = self._peek(k)
        return tok.kind is TokenKind.NAME and tok.text == word

    # -- entry -------------------------------------------------------------------------

    def parse(self) -> _Item:
        item = self._expr(0)
        tok = self._peek()
        if tok.kind is not TokenKind.END:
            raise msg.unexpected_after_value(tok, self._last)
        return item

    def _expr(self, min_bp: int) -> _Item:
        """Parse a sub-expression whose operators bind at least as tightly as ``min_bp``."""
        self._active += 1
        if self._active > LIMITS.max_depth + 1:
            tok = self._peek()
            raise msg.too_deep(tok.offset, tok.length)
        left = self._prefix(min_bp)
        while True:
            tok = self._peek()
            bp = _INFIX.get(tok.text) if tok.kind in (TokenKind.OP, TokenKind.NAME) else None
            membership = self.measure and self._at_in()
            if membership:
                bp = _CMP
            if bp is None or bp < min_bp:
                break
            if membership:
                left = self._membership(left)
            elif bp in (_OR, _AND):
                left = self._logic(left, tok.text)
            elif bp == _CMP:
                left = self._comparison(left)
            elif bp == _ADD:
                left = self._sum(left)
            elif bp == _MUL:
                left = self._product(left)
            else:
                left = self._power(left)
        self._active -= 1
        return left

    # -- checks ------------------------------------------------------------------------

    def _need(self, item: _Item, kind: Kind) -> None:
        if item.kind != kind:
            raise msg.kind_mismatch(item.kind, kind, item.start, item.end)

    def _finish(self, item: _Item, at: Token) -> _Item:
        """Check the caps on a newly built node; ``at`` is its operator, bracket or name."""
        if item.depth > LIMITS.max_depth:
            raise msg.too_deep(at.offset, at.length)
        if item.nodes > LIMITS.max_nodes:
            raise msg.too_many_nodes(at.offset, at.length)
        if item.power > LIMITS.max_power_product:
            raise msg.power_product(at.offset, at.length)
        return item

    # -- prefix position: a value is expected ------------------------------------------

    def _prefix(self, min_bp: int) -> _Item:
        tok = self._peek()
        if tok.kind is TokenKind.NUMBER:
            self._advance()
            return _Item(tok.value, "number", tok.offset, tok.offset + tok.length, literal=True)
        if tok.kind is TokenKind.STRING:
            self._advance()
            return _Item(Text(tok.value), "text", tok.offset, tok.offset + tok.length)
        if tok.kind is TokenKind.NAME:
            return self._word(self._advance(), min_bp)
        if tok.kind is TokenKind.LPAREN:
            self._advance()
            inner = self._expr(0)
            close = self._peek()
            if close.kind is not TokenKind.RPAREN:
                raise msg.unexpected_after_value(close, self._last, opened=tok)
            self._advance()
            return self._finish(
                _Item(
                    inner.expr,
                    inner.kind,
                    tok.offset,
                    close.offset + 1,
                    inner.depth + 1,
                    inner.nodes,
                    False,
                    inner.power,
                    inner.name,
                ),
                tok,
            )
        if tok.kind is TokenKind.OP and tok.text in ("-", "+"):
            self._advance()
            operand = self._expr(_POW)
            self._need(operand, "number")
            expr, extra = negate(operand.expr) if tok.text == "-" else (operand.expr, 0)
            return self._finish(
                _Item(
                    expr,
                    "number",
                    tok.offset,
                    operand.end,
                    operand.depth + 1,
                    operand.nodes + extra,
                    False,
                    operand.power,
                ),
                tok,
            )
        raise msg.unexpected_value(tok, self._last, self.text)

    def _word(self, tok: Token, min_bp: int) -> _Item:
        name = tok.text
        end = tok.offset + tok.length
        if name == "not":
            if min_bp > _NOT:
                raise FormulaError(
                    "KPI-F001",
                    "'not' cannot stand here without brackets",
                    tok.offset,
                    tok.length,
                    "write it as (not …)",
                )
            operand = self._expr(_NOT)
            self._need(operand, "condition")
            expr = sympy.Not(operand.expr, evaluate=False)
            return self._finish(
                _Item(
                    expr,
                    "condition",
                    tok.offset,
                    operand.end,
                    operand.depth + 1,
                    operand.nodes + 1,
                    False,
                    operand.power,
                ),
                tok,
            )
        if name in ("true", "false"):
            return _Item(
                sympy.true if name == "true" else sympy.false, "condition", tok.offset, end
            )
        if name == "null":
            return _Item(NULL, "number", tok.offset, end)
        if name in ("and", "or"):
            raise FormulaError(
                "KPI-F001",
                f"'{name}' needs a condition on each side",
                tok.offset,
                tok.length,
                "e.g. a > 0 and b > 0",
            )
        if name == "in":  # only a NAME in measure mode
            raise msg.in_without_left(tok)
        if self._peek().kind is TokenKind.LPAREN:
            spec = self.functions_table.get(name)
            if spec is None:
                raise msg.unknown_function(tok, self.functions_table)
            return self._call(tok, spec)
        if name in self.functions_table:
            raise FormulaError(
                "KPI-F001",
                f"'{name}' is a function: call it with brackets",
                tok.offset,
                tok.length,
                f"write it like {self.functions_table[name].usage()}",
            )
        self.refs.append(Ref(name, tok.offset, tok.length, self._lag > 0, self._attribute > 0))
        return _Item(symbol(name), "number", tok.offset, end, name=True)

    # -- infix runs --------------------------------------------------------------------

    def _logic(self, left: _Item, word: str) -> _Item:
        """``a and b and c`` (or ``or``): one n-ary node, nested runs of the same word flattened."""
        cls = sympy.And if word == "and" else sympy.Or
        first_op = self._peek()
        args: list[Any] = []

        def take(item: _Item) -> int:
            self._need(item, "condition")
            if isinstance(item.expr, cls):
                args.extend(item.expr.args)
                return item.nodes - 1
            args.append(item.expr)
            return item.nodes

        nodes = 1 + take(left)
        depth, power, end = left.depth, left.power, left.end
        while self._peek().kind is TokenKind.NAME and self._peek().text == word:
            op = self._advance()
            right = self._expr((_AND if word == "and" else _OR) + 1)
            nodes += take(right)
            depth, power, end = max(depth, right.depth), max(power, right.power), right.end
            if nodes > LIMITS.max_nodes:
                raise msg.too_many_nodes(op.offset, op.length)
        return self._finish(
            _Item(logic(cls, args), "condition", left.start, end, depth + 1, nodes, False, power),
            first_op,
        )

    def _comparison(self, left: _Item) -> _Item:
        """``a < b``, or a chain ``a < b <= c`` = ``And(a < b, b <= c)``."""
        first_op = self._peek()
        if left.kind != "text":  # text only exists in measure mode; checked with its partner
            self._need(left, "number")
        operands = [left]
        ops: list[Token] = []
        nodes = left.nodes
        while self._peek().kind is TokenKind.OP and self._peek().text in RELATIONS:
            ops.append(self._advance())
            right = self._expr(_CMP + 1)
            if right.kind != "text":
                self._need(right, "number")
            self._check_text_pair(operands[-1], ops[-1], right)
            operands.append(right)
            # A relation node; from the second relation on, the middle operand appears in two
            # relations, and the relations are joined by one And node.
            nodes += 1 + right.nodes
            if len(ops) >= 2:
                nodes += operands[-2].nodes + (1 if len(ops) == 2 else 0)
            if nodes > LIMITS.max_nodes:
                raise msg.too_many_nodes(ops[-1].offset, ops[-1].length)
        rels = [
            RELATIONS[op.text](a.expr, b.expr, evaluate=False)
            for op, a, b in zip(ops, operands[:-1], operands[1:], strict=True)
        ]
        expr = rels[0] if len(rels) == 1 else logic(sympy.And, rels)
        depth = 1 + max(o.depth for o in operands)
        power = max(o.power for o in operands)
        return self._finish(
            _Item(expr, "condition", left.start, operands[-1].end, depth, nodes, False, power),
            first_op,
        )

    def _sum(self, left: _Item) -> _Item:
        """``a + b - c``: one n-ary ``Add``; subtraction adds the negation."""
        first_op = self._peek()
        self._need(left, "number")
        args: list[Any] = []

        def take(item: _Item) -> int:
            if isinstance(item.expr, sympy.Add):  # (a + b) + c is a + b + c
                args.extend(item.expr.args)
                return item.nodes - 1
            args.append(item.expr)
            return item.nodes

        nodes = 1 + take(left)
        depth, power, end = left.depth, left.power, left.end
        while self._at_op("+", "-"):
            op = self._advance()
            right = self._expr(_ADD + 1)
            self._need(right, "number")
            if op.text == "-":
                expr, extra = negate(right.expr)
                args.append(expr)
                nodes += right.nodes + extra
            else:
                nodes += take(right)
            depth, power, end = max(depth, right.depth), max(power, right.power), right.end
            if nodes > LIMITS.max_nodes:
                raise msg.too_many_nodes(op.offset, op.length)
        return self._finish(
            _Item(
                sympy.Add(*args, evaluate=False),
                "number",
                left.start,
                end,
                depth + 1,
                nodes,
                False,
                power,
            ),
            first_op,
        )

    def _product(self, left: _Item) -> _Item:
        """``a * b / c``: one n-ary ``Mul``; division multiplies by ``Pow(c, -1)``."""
        first_op = self._peek()
        self._need(left, "number")
        args: list[Any] = []
        nodes = 1
        if isinstance(left.expr, sympy.Mul):  # (a * b) * c, and -a * b = Mul(-1, a, b)
            args.extend(left.expr.args)
            nodes += left.nodes - 1
        else:
            args.append(left.expr)
            nodes += left.nodes
        depth, power, end = left.depth, left.power, left.end
        while self._at_op("*", "/"):
            op = self._advance()
            right = self._expr(_MUL + 1)
            self._need(right, "number")
            if op.text == "/":
                args.append(sympy.Pow(right.expr, MINUS_ONE, evaluate=False))
                nodes += right.nodes + 2
            elif isinstance(right.expr, sympy.Mul) and not is_negation(right.expr):
                args.extend(right.expr.args)  # a * (b * c); but a * -b stays a factor -b
                nodes += right.nodes - 1
            else:
                args.append(right.expr)
                nodes += right.nodes
            depth, power, end = max(depth, right.depth), max(power, right.power), right.end
            if nodes > LIMITS.max_nodes:
                raise msg.too_many_nodes(op.offset, op.length)
        return self._finish(
            _Item(
                sympy.Mul(*args, evaluate=False),
                "number",
                left.start,
                end,
                depth + 1,
                nodes,
                False,
                power,
            ),
            first_op,
        )

    def _power(self, left: _Item) -> _Item:
        """``a ** k`` with k a number literal in [-10, 10], optionally signed."""
        op = self._advance()
        self._need(left, "number")
        sign = self._advance() if self._at_op("-", "+") else None
        tok = self._peek()
        start = sign.offset if sign else tok.offset
        if tok.kind is TokenKind.END:
            raise msg.unexpected_value(tok, self._last, self.text)
        if tok.kind is not TokenKind.NUMBER:
            raise msg.exponent_not_literal(tok)
        self._advance()
        value = -tok.value if sign is not None and sign.text == "-" else tok.value
        exponent = Fraction(int(value.p), int(value.q))
        if abs(exponent) > LIMITS.max_power:
            end = tok.offset + tok.length
            raise msg.exponent_out_of_range(self.text[start:end], start, end - start)
        if self._at_op("**"):
            raise msg.power_tower(self._peek())
        expr = sympy.Pow(left.expr, value, evaluate=False)
        power = max(Fraction(1), abs(exponent)) * left.power
        return self._finish(
            _Item(
                expr,
                "number",
                left.start,
                tok.offset + tok.length,
                left.depth + 1,
                left.nodes + 2,
                False,
                power,
            ),
            op,
        )

    # -- function calls ----------------------------------------------------------------

    def _call(self, name_tok: Token, spec: FunctionSpec) -> _Item:
        lpar = self._advance()
        self.functions.add(spec.name)
        attribute = spec.name in ENTITY_FUNCTIONS and self._entity
        if attribute and self._attribute:
            raise FormulaError(
                "KPI-F004",
                f"{spec.name}() cannot stand inside another entity attribute",
                name_tok.offset,
                name_tok.length,
                "an attribute's argument is over the source's columns; combine attributes outside",
            )
        self._attribute += attribute
        positional: list[_Item] = []
        named: dict[str, _Item] = {}
        if self._peek().kind is TokenKind.RPAREN:
            close = self._advance()
        else:
            while True:
                tok = self._peek()
                if tok.kind is TokenKind.NAME and self._peek(1).kind is TokenKind.ASSIGN:
                    self._check_named(spec, tok, len(positional), named)
                    self._advance()
                    self._advance()
                    named[tok.text] = self._expr(0)
                else:
                    if named:
                        raise msg.positional_after_named(spec, tok)
                    lagged = spec.name == "previous" and not positional
                    self._lag += lagged
                    positional.append(self._expr(0))
                    self._lag -= lagged
                sep = self._peek()
                if sep.kind is TokenKind.COMMA:
                    self._advance()
                    continue
                if sep.kind is TokenKind.RPAREN:
                    close = self._advance()
                    break
                raise msg.unexpected_after_value(sep, self._last, opened=lpar, function=spec.name)
        self._attribute -= attribute
        count = len(positional) + len(named)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            raise msg.arity(spec, count, name_tok)
        args = self._check_args(spec, name_tok, positional, named)
        expr = spec.sympy_class(*args, evaluate=False)
        items = positional + list(named.values())
        kind: Kind = positional[1].kind if spec.result == "branch" else spec.result
        item = _Item(
            expr,
            kind,
            name_tok.offset,
            close.offset + 1,
            1 + max(i.depth for i in items),
            count_nodes(expr, stop_after=LIMITS.max_nodes),
            False,
            max(i.power for i in items),
        )
        return self._finish(item, name_tok)

    def _check_named(
        self, spec: FunctionSpec, tok: Token, n_positional: int, named: dict[str, _Item]
    ) -> None:
        if not spec.named:
            raise msg.named_not_taken(spec, tok)
        if tok.text not in spec.named:
            raise msg.named_unknown(spec, tok)
        index = next(i for i, p in enumerate(spec.params) if p.name == tok.text)
        if tok.text in named or index < n_positional:
            raise msg.named_twice(spec, tok)

    def _check_args(
        self, spec: FunctionSpec, name_tok: Token, positional: list[_Item], named: dict[str, _Item]
    ) -> list[Any]:
        """Check each argument against its parameter; return the sympy arguments in order."""
        if spec.max_args is None:  # variadic: every argument is a number
            for item in positional:
                self._need(item, "number")
            return [i.expr for i in positional]
        args: list[Any] = []
        for index, param in enumerate(spec.params):
            given = positional[index] if index < len(positional) else named.get(param.name)
            if given is None:
                if param.default is None:
                    raise msg.missing_argument(spec, param.name, name_tok)
                args.append(DEFAULTS[param.default])
                continue
            item = given
            if param.role == "branch" and item.kind == "text":
                raise msg.text_not_here(item.start, item.end)
            if param.role in ("number", "condition"):
                self._need(item, param.role)
            elif param.role == "window":
                self._whole_literal(spec, param.name, item, LIMITS.min_window, LIMITS.max_window)
            elif param.role == "digits":
                self._whole_literal(spec, param.name, item, 0, LIMITS.max_round_digits)
            args.append(item.expr)
        if spec.name == "if" and positional[1].kind != positional[2].kind:
            other = positional[2]
            raise msg.if_branches(positional[1].kind, other.kind, other.start, other.end)
        return args

    def _whole_literal(
        self, spec: FunctionSpec, param: str, item: _Item, low: int, high: int
    ) -> None:
        value = item.expr
        if not item.literal or not value.is_Integer or not low <= int(value) <= high:
            raise msg.whole_literal(
                spec,
                param,
                self.text[item.start : item.end],
                item.start,
                item.end,
                low,
                high,
                is_literal=item.literal,
            )
