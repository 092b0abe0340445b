"""Lexer: formula text → tokens with 0-based character offsets.

The lexer is a generator, so the parser reports the leftmost problem first. It refuses
everything that is not part of the language as early as possible: quotes, square and curly
brackets, ``.`` outside a number (attribute access), ``;``, ``:``, ``@``, backslashes,
programming keywords and names that start with two underscores are KPI-F004; any other
character outside the language is KPI-F001. Number literals are checked against the caps
(KPI-F008) *before* any integer is built from their digits, and become exact sympy
``Integer``/``Rational`` values (``0.1`` is ``1/10``, ``30%`` is ``3/10``), never floats.

Accepted spellings besides ASCII: ``×`` (``*``), ``÷`` (``/``), ``−`` (``-``), full-width
``（ ）， ％``, and ``≤ ≥ ≠``. Whitespace: space, tab, newline, carriage return, no-break space
and the full-width (ideographic) space.

In *measure mode* (``tokenize(text, measure=True)``, for the ``of`` and ``where`` of ledger
measures) two things are added, and nothing else changes: text literals in straight single
or double quotes (STRING tokens: a doubled quote inside stands for one quote, a backslash is
an ordinary character, no line breaks, control or invisible formatting characters, at most
``max_text_length`` characters), and the word ``in`` (a NAME token).
"""

from __future__ import annotations

import enum
import keyword
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sympy

from engine.core.errors import FormulaError
from engine.formula.limits import LIMITS

WHITESPACE = frozenset(" \t\n\r\u00a0\u3000")

#: Python keywords that are words of the formula language (or its literals, which get a
#: friendlier message); every other keyword is a programming construct (KPI-F004).
_LANGUAGE_KEYWORDS = frozenset({"and", "or", "not", "if", "True", "False", "None"})
_PROGRAMMING_KEYWORDS = frozenset(keyword.kwlist) - _LANGUAGE_KEYWORDS


class TokenKind(enum.Enum):
    NUMBER = "number"
    NAME = "name"
    OP = "operator"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    ASSIGN = "="
    #: A text literal (measure mode only); ``value`` is the text without its quotes.
    STRING = "string"
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    """One token. ``text`` is the normalized spelling (``×`` → ``*``), ``source`` as written."""

    kind: TokenKind
    text: str
    source: str
    offset: int
    length: int
    #: The exact value of a NUMBER token (a sympy Integer or Rational), or the str of a
    #: STRING token.
    value: Any = None


# Single characters that are tokens on their own (after normalization).
_SIMPLE: dict[str, tuple[TokenKind, str]] = {
    "+": (TokenKind.OP, "+"),
    "-": (TokenKind.OP, "-"),
    "\u2212": (TokenKind.OP, "-"),  # − minus sign
    "\u00d7": (TokenKind.OP, "*"),  # ×
    "\u00f7": (TokenKind.OP, "/"),  # ÷
    "\u2264": (TokenKind.OP, "<="),  # ≤
    "\u2265": (TokenKind.OP, ">="),  # ≥
    "\u2260": (TokenKind.OP, "!="),  # ≠
    "(": (TokenKind.LPAREN, "("),
    "\uff08": (TokenKind.LPAREN, "("),  # （
    ")": (TokenKind.RPAREN, ")"),
    "\uff09": (TokenKind.RPAREN, ")"),  # ）
    ",": (TokenKind.COMMA, ","),
    "\uff0c": (TokenKind.COMMA, ","),  # ，
}

_PERCENT = frozenset("%\uff05")  # % ％

# Characters of programming constructs (KPI-F004): (message, hint).
_FORBIDDEN: dict[str, tuple[str, str]] = {
    "[": (
        "square brackets (indexing such as a[0]) are not allowed in a formula",
        "use round brackets ( ) to group, and write ids rather than labels",
    ),
    "]": (
        "square brackets (indexing such as a[0]) are not allowed in a formula",
        "use round brackets ( ) to group, and write ids rather than labels",
    ),
    "{": ("curly brackets are not allowed in a formula", "use round brackets ( ) to group"),
    "}": ("curly brackets are not allowed in a formula", "use round brackets ( ) to group"),
    ";": (
        "';' is not allowed: a formula is a single expression",
        "write one formula; put intermediate results in their own metrics",
    ),
    "\uff1b": (
        "'；' is not allowed: a formula is a single expression",
        "write one formula; put intermediate results in their own metrics",
    ),
    ":": (
        "':' is not allowed in a formula (no lambdas, slices or dictionaries)",
        "use if(condition, then, else) for choices",
    ),
    "\uff1a": ("'：' is not allowed in a formula", "use if(condition, then, else) for choices"),
    "@": ("'@' is not allowed in a formula", "use * to multiply"),
    "\\": (
        "a backslash is not allowed in a formula",
        "a formula may span several lines without one",
    ),
}
_QUOTES = frozenset("'\"`\u2018\u2019\u201c\u201d\u300c\u300d\u300e\u300f")
#: The quotes of text literals in measure mode.
_TEXT_QUOTES = frozenset("'\"")
#: Longest text literal in measure mode, in characters (KPI-F008).
MAX_TEXT_LENGTH = 200

# Characters that are not in the language but look like something that is: (message, hint).
_LOOKALIKES: dict[str, str] = {
    "^": "use ** for powers, e.g. x ** 2",
    "&": "use 'and' to combine conditions",
    "|": "use 'or' to combine conditions",
    "~": "use 'not' to negate a condition",
    "!": "use != to compare, or 'not' to negate a condition",
    "#": "comments are not part of a formula; put them in the YAML outside the formula",
    "\uff0b": "use + instead",
    "\uff0d": "use - instead",
    "\u2013": "use - instead",
    "\u2014": "use - instead",
    "\uff0a": "use * instead",
    "\u00b7": "use * to multiply",
    "\u22c5": "use * to multiply",
    "\uff0f": "use / instead",
    "\uff1c": "use < instead",
    "\uff1e": "use > instead",
    "\uff1d": "use == to compare",
    "\u3001": "use , to separate arguments",
    "\uff0e": "use . as the decimal point",
}


def _is_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _is_name_start(ch: str) -> bool:
    return ch.isidentifier()


def _is_name_char(ch: str) -> bool:
    # Unicode-aware: a character may continue an identifier iff "a" + ch is an identifier.
    return ("a" + ch).isidentifier()


def _show(ch: str) -> str:
    """A character for a message: itself if printable, else its code point."""
    if ch.isprintable() and not ch.isspace():
        return f"'{ch}'"
    return f"U+{ord(ch):04X} ({unicodedata.name(ch, 'an invisible or control character')})"


def _err(
    code: str, message: str, offset: int, length: int = 1, hint: str | None = None
) -> FormulaError:
    return FormulaError(code, message, offset, length, hint)


def tokenize(text: str, *, measure: bool = False) -> Iterator[Token]:
    """Yield the tokens of ``text``, ending with one END token. Raises FormulaError.

    ``measure`` adds text literals and the word ``in`` (see the module docstring).
    """
    n = len(text)
    i = 0
    prev: Token | None = None
    while True:
        while i < n and text[i] in WHITESPACE:
            i += 1
        if i >= n:
            yield Token(TokenKind.END, "", "", n, 1)
            return
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if (
            ch == "."
            and prev is not None
            and prev.offset + prev.length == i
            and prev.kind in (TokenKind.NAME, TokenKind.RPAREN, TokenKind.NUMBER)
        ):
            raise _err(
                "KPI-F004",
                "attribute access with '.' is not allowed in a formula",
                i,
                hint="'.' may only be the decimal point of a number such as 0.5",
            )
        if _is_digit(ch) or (ch == "." and _is_digit(nxt)):
            tok = _number(text, i)
        elif _is_name_start(ch):
            tok = _name(text, i, measure=measure)
        elif measure and ch in _TEXT_QUOTES:
            tok = _string(text, i)
        elif ch in _SIMPLE:
            kind, norm = _SIMPLE[ch]
            tok = Token(kind, norm, ch, i, 1)
        else:
            tok = _operator(text, i, prev)
        prev = tok
        i = tok.offset + tok.length
        yield tok


def _operator(text: str, i: int, prev: Token | None) -> Token:
    ch = text[i]
    two = text[i : i + 2]
    if two in ("**", "<=", ">=", "==", "!="):
        return Token(TokenKind.OP, two, two, i, 2)
    if two == "//":
        raise _err(
            "KPI-F001",
            "'//' (whole-number division) is not part of the formula language",
            i,
            2,
            "use / to divide, and round(x) if you need a whole number",
        )
    if two == "<>":
        raise _err(
            "KPI-F001", "'<>' is not a comparison in a formula", i, 2, "use != for 'not equal'"
        )
    if two in ("=>", "=<"):
        raise _err(
            "KPI-F001",
            f"'{two}' is not a comparison in a formula",
            i,
            2,
            f"did you mean {two[::-1]}?",
        )
    if ch in "*/<>":
        return Token(TokenKind.OP, ch, ch, i, 1)
    if ch == "=":
        return Token(TokenKind.ASSIGN, "=", "=", i, 1)
    if ch in _PERCENT:
        raise _err(
            "KPI-F001",
            f"'{ch}' can only follow a number, as in 30%",
            i,
            hint="the formula language has no remainder (modulo) operator",
        )
    if ch == ".":
        raise _err(
            "KPI-F004",
            "'.' is only allowed as the decimal point of a number such as 0.5",
            i,
            hint="attribute access such as a.b is not part of the formula language",
        )
    if ch in _QUOTES:
        raise _err(
            "KPI-F004",
            "text in quotes is not allowed in a formula",
            i,
            hint="refer to inputs, metrics and params by their id, without quotes",
        )
    if ch in _FORBIDDEN:
        message, hint = _FORBIDDEN[ch]
        raise _err("KPI-F004", message, i, hint=hint)
    if ch in _LOOKALIKES:
        raise _err("KPI-F001", f"unexpected character {_show(ch)}", i, hint=_LOOKALIKES[ch])
    if "\uff10" <= ch <= "\uff19":
        raise _err(
            "KPI-F001",
            f"unexpected character {_show(ch)}",
            i,
            hint="write numbers with the digits 0-9",
        )
    raise _err(
        "KPI-F001",
        f"unexpected character {_show(ch)}",
        i,
        hint="a formula may use numbers, ids, + - * / **, comparisons, brackets and "
        "the functions of the formula language",
    )


def _string(text: str, start: int) -> Token:
    """Lex a text literal (measure mode): ``'…'`` or ``"…"``, a doubled quote for a quote."""
    quote = text[start]
    n = len(text)
    chars: list[str] = []
    j = start + 1
    while True:
        if j >= n:
            raise _err(
                "KPI-F001",
                f"the text in quotes that starts here is never closed: the "
                f"closing {quote} is missing",
                start,
                hint=f"end the text with {quote}; to put {quote} inside, write it twice",
            )
        ch = text[j]
        if ch == quote:
            if j + 1 < n and text[j + 1] == quote:
                chars.append(quote)
                j += 2
                continue
            break
        if ch in "\n\r":
            raise _err(
                "KPI-F001",
                "text in quotes must end on the line where it starts: the "
                f"closing {quote} is missing",
                start,
                hint=f"end the text with {quote} before the end of the line",
            )
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            raise _err(
                "KPI-F001",
                f"text in quotes may not contain {_show(ch)}",
                j,
                hint="remove the control or invisible formatting character",
            )
        chars.append(ch)
        j += 1
    value = "".join(chars)
    end = j + 1
    if len(value) > MAX_TEXT_LENGTH:
        raise _err(
            "KPI-F008",
            f"this text is {len(value):,} characters long; at most {MAX_TEXT_LENGTH} are allowed",
            start,
            end - start,
            "compare with a shorter value, e.g. a code rather than a description",
        )
    return Token(TokenKind.STRING, text[start:end], text[start:end], start, end - start, value)


def _name(text: str, start: int, *, measure: bool = False) -> Token:
    n = len(text)
    j = start + 1
    while j < n and _is_name_char(text[j]):
        j += 1
    name = text[start:j]
    if name.startswith("__"):
        raise _err(
            "KPI-F004",
            f"names starting with two underscores ('{name}') are not allowed",
            start,
            len(name),
            "ids of inputs, metrics and params start with a letter",
        )
    if name in _PROGRAMMING_KEYWORDS and not (measure and name == "in"):
        raise _err(
            "KPI-F004",
            f"'{name}' is a programming keyword, not part of the formula language",
            start,
            len(name),
            "a formula is a calculation: numbers, ids, operators and "
            "the functions of the formula language",
        )
    if name in ("True", "False", "None"):
        lower = "null" if name == "None" else name.lower()
        raise _err(
            "KPI-F001",
            f"'{name}' is not a value of the formula language",
            start,
            len(name),
            f"write {lower} in lower case",
        )
    return Token(TokenKind.NAME, name, name, start, len(name))


def _digits(text: str, i: int) -> int:
    n = len(text)
    while i < n and _is_digit(text[i]):
        i += 1
    return i


def _number(text: str, start: int) -> Token:
    """Lex a number literal and compute its exact value within the caps."""
    n = len(text)
    i = _digits(text, start)
    int_part = text[start:i]
    frac_part = ""
    if i < n and text[i] == "." and i + 1 < n and _is_digit(text[i + 1]):
        j = _digits(text, i + 1)
        frac_part = text[i + 1 : j]
        i = j
    exponent = 0
    if i < n and text[i] in "eE":
        j = i + 1
        sign = 1
        if j < n and text[j] in "+-":
            sign = -1 if text[j] == "-" else 1
            j += 1
        if not (j < n and _is_digit(text[j])):
            raise _err(
                "KPI-F001",
                f"'{text[start:j]}' is not a complete number: the digits of "
                "the exponent are missing",
                start,
                j - start,
                "write it like 1e3 or 1.5e-2",
            )
        k = _digits(text, j)
        exp_digits = text[j:k].lstrip("0")
        # Never convert a long digit string to int: the cap is checked on the length first.
        if len(exp_digits) > len(str(LIMITS.max_decimal_exponent)):
            raise _number_too_big(text, start, k)
        exponent = sign * int(exp_digits or "0")
        if abs(exponent) > LIMITS.max_decimal_exponent:
            raise _number_too_big(text, start, k)
        i = k
    if i < n and _is_name_char(text[i]):
        end = i
        while end < n and _is_name_char(text[end]):
            end += 1
        hint = (
            "write numbers without '_' separators"
            if text[i] == "_"
            else f"to multiply, write {text[start:i]} * {text[i:end]}"
        )
        raise _err(
            "KPI-F001",
            f"'{text[start:end]}': a number cannot be directly followed by letters or '_'",
            start,
            end - start,
            hint,
        )
    percent = i < n and text[i] in _PERCENT
    end = i + 1 if percent else i
    value = _exact_value(int_part + frac_part, exponent - len(frac_part), text, start, end)
    if percent:
        value = value / 100
    source = text[start:end]
    return Token(TokenKind.NUMBER, source, source, start, end - start, value)


def _exact_value(digits: str, scale: int, text: str, start: int, end: int) -> Any:
    """``int(digits) * 10**scale`` as a sympy Integer/Rational, after checking the caps."""
    significant = digits.lstrip("0")
    if not significant:
        return sympy.Integer(0)
    trimmed = significant.rstrip("0")
    scale += len(significant) - len(trimmed)
    if len(trimmed) > LIMITS.max_significant_digits:
        raise _err(
            "KPI-F008",
            f"this number has {len(trimmed):,} significant digits; at most "
            f"{LIMITS.max_significant_digits} are allowed",
            start,
            end - start,
            "round the number, or write it with an exponent such as 1.5e12",
        )
    if abs(scale + len(trimmed) - 1) > LIMITS.max_decimal_exponent:
        raise _number_too_big(text, start, end)
    mantissa = int(trimmed)
    if scale >= 0:
        return sympy.Integer(mantissa * 10**scale)
    return sympy.Rational(mantissa, 10**-scale)


def _number_too_big(text: str, start: int, end: int) -> FormulaError:
    cap = LIMITS.max_decimal_exponent
    return _err(
        "KPI-F008",
        f"this number is too large or too small: numbers must lie between "
        f"1e-{cap} and 1e{cap} in size",
        start,
        end - start,
        "use a smaller unit (thousands, millions) in the data instead",
    )
