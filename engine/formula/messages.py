"""The parser's error messages, in plain English, each with a hint that says how to fix it.

Every function returns a :class:`FormulaError` for the parser to raise. Offsets are 0-based
character offsets in the formula text (``FormulaError.__str__`` shows them 1-based as a column).
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Mapping

from engine.core.errors import FormulaError
from engine.formula.functions import ENTITY_FUNCTIONS, FUNCTIONS, LANGUAGE_WORDS, FunctionSpec, Kind
from engine.formula.lexer import Token, TokenKind
from engine.formula.limits import LIMITS

KIND_WORDS: dict[str, str] = {
    "number": "a number",
    "condition": "a condition (true/false)",
    "text": "text in quotes",
}

_TEXT_HINT = (
    "text can only be compared with a column with == or !=, as in kind == 'recharge', "
    "or listed after in, as in kind in ('a', 'b')"
)


def describe(tok: Token | None) -> str:
    """A token as an analyst would name it in a sentence."""
    if tok is None or tok.kind is TokenKind.END:
        return "the end of the formula"
    if tok.kind is TokenKind.NUMBER:
        return f"the number {tok.source}"
    if tok.kind is TokenKind.STRING:
        return f"the text {tok.source}"
    if tok.kind is TokenKind.NAME and tok.text not in LANGUAGE_WORDS:
        return f"the name '{tok.source}'"
    return f"'{tok.source}'"


# -- kinds ---------------------------------------------------------------------------------


def kind_hint(needed: str, got: str | None = None) -> str:
    if got == "text":
        return _TEXT_HINT
    if needed == "number":
        return "to turn a condition into a number, use if(condition, 1, 0)"
    return "compare the number with something, e.g. x > 0"


def kind_mismatch(
    got: Kind, needed: Kind, start: int, end: int, *, whole: bool = False
) -> FormulaError:
    what = "the formula" if whole else "this part"
    return FormulaError(
        "KPI-F010",
        f"{what} is {KIND_WORDS[got]} but {KIND_WORDS[needed]} is needed here",
        start,
        end - start,
        kind_hint(needed, got),
    )


def if_branches(then: Kind, other: Kind, start: int, end: int) -> FormulaError:
    return FormulaError(
        "KPI-F010",
        f"both results of if(...) must be numbers or both conditions, but 'then' is "
        f"{KIND_WORDS[then]} and 'else' is {KIND_WORDS[other]}",
        start,
        end - start,
        "make both results numbers, or both conditions",
    )


def text_ordered(op: Token) -> FormulaError:
    return FormulaError(
        "KPI-F010",
        f"text cannot be compared with '{op.source}': only == and != compare text",
        op.offset,
        op.length,
        _TEXT_HINT,
    )


def text_compared_with(got: Kind, start: int, end: int) -> FormulaError:
    return FormulaError(
        "KPI-F010",
        f"text can only be compared with a column name or other text, "
        f"but this part is {KIND_WORDS[got]} computed by a formula",
        start,
        end - start,
        _TEXT_HINT,
    )


def text_not_here(start: int, end: int) -> FormulaError:
    return FormulaError(
        "KPI-F010", "text cannot be a result of if(...)", start, end - start, _TEXT_HINT
    )


# -- in (measure mode) ---------------------------------------------------------------------

_IN_HINT = "write it like kind in ('recharge', 'consume')"


def in_without_list(tok: Token) -> FormulaError:
    return FormulaError(
        "KPI-F001",
        f"'in' must be followed by a list in brackets, not {describe(tok)}",
        tok.offset,
        tok.length,
        _IN_HINT,
    )


def in_without_left(tok: Token) -> FormulaError:
    return FormulaError(
        "KPI-F001", "'in' needs a column or a number on its left", tok.offset, tok.length, _IN_HINT
    )


def in_empty(lpar: Token, rpar: Token) -> FormulaError:
    return FormulaError(
        "KPI-F001",
        "the list after 'in' is empty",
        lpar.offset,
        rpar.offset + 1 - lpar.offset,
        "list at least one value: " + _IN_HINT,
    )


def in_not_literal(start: int, end: int) -> FormulaError:
    return FormulaError(
        "KPI-F004",
        "only literal values may be listed after in: text in quotes or numbers",
        start,
        end - start,
        _IN_HINT,
    )


def in_too_many(start: int, length: int, most: int) -> FormulaError:
    return FormulaError(
        "KPI-F006",
        f"the list after 'in' has more than {most} values",
        start,
        length,
        "split the condition, or group the values in the data",
    )


def in_left(got: Kind, start: int, end: int) -> FormulaError:
    return FormulaError(
        "KPI-F010",
        f"the left side of 'in' must be a column name or a number, but it is {KIND_WORDS[got]}",
        start,
        end - start,
        _IN_HINT,
    )


# -- caps ----------------------------------------------------------------------------------


def too_long(length: int) -> FormulaError:
    return FormulaError(
        "KPI-F005",
        f"the formula is {length:,} characters long; at most {LIMITS.max_length:,} are allowed",
        LIMITS.max_length,
        1,
        "split it into intermediate metrics",
    )


def too_deep(offset: int, length: int) -> FormulaError:
    return FormulaError(
        "KPI-F006",
        f"the formula nests too deeply: more than {LIMITS.max_depth} "
        "levels of brackets, function calls and operators",
        offset,
        length,
        "split it into intermediate metrics",
    )


def too_many_nodes(offset: int, length: int) -> FormulaError:
    return FormulaError(
        "KPI-F006",
        f"the formula is too complex: it has more than {LIMITS.max_nodes:,} parts",
        offset,
        length,
        "split it into intermediate metrics",
    )


def power_product(offset: int, length: int) -> FormulaError:
    return FormulaError(
        "KPI-F007",
        "powers nested inside powers multiply their exponents, and "
        f"here they exceed {LIMITS.max_power_product}",
        offset,
        length,
        "use a smaller exponent",
    )


def exponent_not_literal(tok: Token) -> FormulaError:
    cap = LIMITS.max_power
    return FormulaError(
        "KPI-F007",
        f"the exponent of ** must be a number between -{cap} and {cap}, not a formula",
        tok.offset,
        tok.length,
        "write the exponent as a number, e.g. x ** 2 or x ** 0.5",
    )


def exponent_out_of_range(written: str, start: int, length: int) -> FormulaError:
    cap = LIMITS.max_power
    return FormulaError(
        "KPI-F007",
        f"the exponent {written} is outside the allowed range -{cap} to {cap}",
        start,
        length,
        f"use an exponent between -{cap} and {cap}",
    )


def power_tower(tok: Token) -> FormulaError:
    return FormulaError(
        "KPI-F007",
        "a power of a power (a ** b ** c) is not allowed",
        tok.offset,
        tok.length,
        "put brackets around the first power, e.g. (a ** 2) ** 3",
    )


# -- syntax --------------------------------------------------------------------------------


def unexpected_value(tok: Token, last: Token | None, text: str) -> FormulaError:
    """A value (number, name, bracket, unary operator) was expected at ``tok``."""
    if tok.kind is TokenKind.END:
        after = f" after {describe(last)}" if last is not None else ""
        return FormulaError(
            "KPI-F001",
            f"the formula ends too early: a value is missing{after}",
            len(text.rstrip()),
            1,
            "complete the formula",
        )
    if tok.kind is TokenKind.ASSIGN:
        return FormulaError(
            "KPI-F001", "'=' is not a comparison", tok.offset, 1, "use == to compare"
        )
    if last is not None and last.kind is TokenKind.LPAREN and tok.kind is TokenKind.RPAREN:
        return FormulaError(
            "KPI-F001",
            "empty brackets: a value is missing inside '()'",
            last.offset,
            tok.offset + 1 - last.offset,
            "put a value inside",
        )
    if last is not None and last.kind is TokenKind.COMMA:
        return FormulaError(
            "KPI-F001",
            f"a value is missing after ',' (before {describe(tok)})",
            tok.offset,
            tok.length,
            "remove the extra ',' or add the value",
        )
    if last is not None and last.kind is TokenKind.OP and tok.kind is TokenKind.OP:
        return FormulaError(
            "KPI-F001",
            f"two operators in a row: {describe(last)} and {describe(tok)}",
            tok.offset,
            tok.length,
            "remove one of them, or put a value between them",
        )
    if tok.kind is TokenKind.RPAREN:
        return FormulaError(
            "KPI-F001",
            "unexpected ')': a value is missing before it",
            tok.offset,
            1,
            "add the missing value, or remove the bracket",
        )
    return FormulaError(
        "KPI-F001",
        f"unexpected {describe(tok)}: a value is missing before it",
        tok.offset,
        tok.length,
        "put a number, an id or a bracket here",
    )


def unexpected_after_value(
    tok: Token, last: Token | None, *, opened: Token | None = None, function: str | None = None
) -> FormulaError:
    """A complete value was read; ``tok`` neither continues it nor closes what is open."""
    if tok.kind is TokenKind.END and opened is not None:
        what = f"the bracket of {function}(" if function else "the bracket '('"
        return FormulaError(
            "KPI-F001",
            f"{what} at column {opened.offset + 1} is never closed",
            opened.offset,
            1,
            "add the missing ')'",
        )
    if tok.kind is TokenKind.RPAREN:
        return FormulaError(
            "KPI-F001",
            "unexpected ')': is there an extra closing bracket?",
            tok.offset,
            1,
            "remove it, or add the matching '('",
        )
    if tok.kind is TokenKind.COMMA:
        return FormulaError(
            "KPI-F001",
            "unexpected ',': commas only separate the arguments of a function",
            tok.offset,
            1,
            "write decimal numbers with a point, as in 0.5",
        )
    if tok.kind is TokenKind.ASSIGN:
        return FormulaError(
            "KPI-F001", "'=' is not a comparison", tok.offset, 1, "use == to compare"
        )
    if tok.kind is TokenKind.NAME and tok.text == "if":
        return FormulaError(
            "KPI-F001",
            "unexpected 'if'",
            tok.offset,
            tok.length,
            "write choices as if(condition, then, else)",
        )
    if tok.kind is TokenKind.NAME and tok.text == "not":
        return FormulaError(
            "KPI-F001",
            "unexpected 'not'",
            tok.offset,
            tok.length,
            "'not' goes before a condition, as in not (a < b); for 'not equal' use !=",
        )
    if tok.kind is TokenKind.LPAREN:
        return FormulaError(
            "KPI-F001",
            f"'(' follows {describe(last)} directly: is an operator missing?",
            tok.offset,
            1,
            "to multiply, write * before the bracket",
        )
    return FormulaError(
        "KPI-F001",
        f"{describe(tok)} follows {describe(last)} directly: is an operator missing?",
        tok.offset,
        tok.length,
        "put an operator such as + or * between the two",
    )


# -- functions -----------------------------------------------------------------------------


def unknown_function(tok: Token, table: Mapping[str, FunctionSpec] = FUNCTIONS) -> FormulaError:
    name = tok.text
    folded = unicodedata.normalize("NFKC", name).lower()
    if folded in ENTITY_FUNCTIONS and folded not in table:
        return FormulaError(
            "KPI-F002",
            f"{folded}() is an entity attribute",
            tok.offset,
            tok.length,
            "entity attributes exist only in the 'of' and 'having' of a 'per: entity' measure",
        )
    close = difflib.get_close_matches(folded, list(table), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}? " if close else ""
    hint += "the functions are: " + ", ".join(sorted(table))
    return FormulaError("KPI-F002", f"unknown function '{name}'", tok.offset, tok.length, hint)


def arity(spec: FunctionSpec, count: int, tok: Token) -> FormulaError:
    def plural(k: int) -> str:
        return f"{k} argument" + ("" if k == 1 else "s")

    if spec.max_args is None:
        need = f"at least {plural(spec.min_args)}"
    elif spec.min_args == spec.max_args:
        need = f"exactly {plural(spec.min_args)}"
    else:
        need = f"{spec.min_args} to {plural(spec.max_args)}"
    got = "none" if count == 0 else str(count)
    return FormulaError(
        "KPI-F003",
        f"{spec.name} takes {need}, but got {got}",
        tok.offset,
        tok.length,
        f"write it like {spec.usage()}",
    )


def missing_argument(spec: FunctionSpec, param: str, tok: Token) -> FormulaError:
    return FormulaError(
        "KPI-F003",
        f"{spec.name} is missing its argument '{param}'",
        tok.offset,
        tok.length,
        f"write it like {spec.usage()}",
    )


def named_not_taken(spec: FunctionSpec, tok: Token) -> FormulaError:
    return FormulaError(
        "KPI-F009",
        f"{spec.name} does not take named arguments",
        tok.offset,
        tok.length,
        f"write it like {spec.usage()}; to compare, use ==",
    )


def named_unknown(spec: FunctionSpec, tok: Token) -> FormulaError:
    takes = " and ".join(f"{n}=" for n in sorted(spec.named))
    return FormulaError(
        "KPI-F009",
        f"{spec.name} has no argument named '{tok.text}'",
        tok.offset,
        tok.length,
        f"it takes {takes}: {spec.usage()}",
    )


def named_twice(spec: FunctionSpec, tok: Token) -> FormulaError:
    return FormulaError(
        "KPI-F009",
        f"the argument '{tok.text}' of {spec.name} is given twice",
        tok.offset,
        tok.length,
        f"write it like {spec.usage()}",
    )


def positional_after_named(spec: FunctionSpec, tok: Token) -> FormulaError:
    return FormulaError(
        "KPI-F009",
        "an argument without a name cannot follow a named one",
        tok.offset,
        tok.length,
        f"write it like {spec.usage()}",
    )


def whole_literal(
    spec: FunctionSpec,
    param: str,
    written: str,
    start: int,
    end: int,
    low: int,
    high: int,
    *,
    is_literal: bool,
) -> FormulaError:
    what = (
        f"the number of decimal places of {spec.name}"
        if param == "digits"
        else f"the window length '{param}' of {spec.name}"
    )
    if is_literal:
        message = f"{what} must be a whole number from {low} to {high}, not {written}"
    else:
        message = f"{what} must be a whole number written as a literal such as 3, not '{written}'"
    return FormulaError(
        "KPI-F011", message, start, end - start, f"write a whole number from {low} to {high}"
    )
