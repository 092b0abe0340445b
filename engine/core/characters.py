"""Characters that make text read differently from how it looks (``unicodedata`` only).

- **Bidirectional controls** (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) reorder
  what an editor or a review page shows, so a pack could read one way and run another
  ("Trojan Source"): the loader refuses them anywhere in a pack's text (``KPI-L012``).
- **Confusable ids**: an id that mixes scripts which look alike (Latin ``ratio`` with a Cyrillic
  ``а``), uses full-width or other compatibility forms (``ｒatio``), or digits other than 0-9
  would look like another id (``KPI-R022``). Chinese ids, and Chinese mixed with ASCII letters,
  digits and ``_``, are fine.
- **Digits other than 0-9** in a number cell: Python's ``float`` reads ``"١٢٣"`` and
  ``"１２３"`` as 123 (the tables refuse them).

:func:`visible` spells invisible characters out for messages, :func:`mask_bidi` hides bidi
controls in a source line echoed to a terminal.

The script of a character is the first word of its Unicode name (``LATIN``, ``CYRILLIC``,
``GREEK``, ``CJK`` …), the rule of UTS #39's "highly restrictive" level: one script per id,
or Latin with Han and the Japanese kana, with Han and Bopomofo, or with Han and Hangul.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

#: bidirectional formatting characters: embeddings, overrides, isolates and the three marks
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

#: scripts that may share one id besides a single script (UTS #39, highly restrictive)
_ALLOWED_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
#: name prefixes that are one script under another name
_SCRIPT_ALIASES = {
    "CJK": "HAN",
    "IDEOGRAPHIC": "HAN",
    "HANGZHOU": "HAN",
    "KATAKANA-HIRAGANA": "KATAKANA",
}
# FULLWIDTH EXCLAMATION MARK … FULLWIDTH RIGHT WHITE PARENTHESIS
_FULL_WIDTH = range(0xFF01, 0xFF5F)


def describe_char(ch: str) -> str:
    """A character for a message: ``'а' (U+0430 CYRILLIC SMALL LETTER A)``, or only the code
    point and name for an invisible one: ``U+200B (ZERO WIDTH SPACE)``."""
    name = unicodedata.name(ch, "")
    code = f"U+{ord(ch):04X}"
    if not name:
        name = {"\n": "LINE FEED", "\r": "CARRIAGE RETURN", "\t": "TAB"}.get(
            ch, "a control character"
        )
    if ch.isprintable() and not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Mn", "Me"):
        return f"'{ch}' ({code} {name})"
    return f"{code} ({name})"


def visible(text: str) -> str:
    """Text for a message with its invisible characters spelt out: a trailing newline shows as
    ``\\n``, a zero-width space as ``\\u200b``; printable text (Chinese too) is unchanged."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def bidi_controls(text: str) -> Iterator[re.Match[str]]:
    """Each bidirectional control character of ``text``."""
    return BIDI_CONTROLS.finditer(text)


def mask_bidi(text: str) -> str:
    """``text`` with each bidirectional control replaced by U+FFFD, for echoing a source line to
    a terminal or page (one character for one, so columns and carets stay put)."""
    return BIDI_CONTROLS.sub("\ufffd", text)


def script_of(ch: str) -> str | None:
    """The script of a letter or mark by its Unicode name, or None for what belongs to every
    script (ASCII digits, ``_``, combining marks)."""
    if "0" <= ch <= "9" or ch == "_":
        return None
    name = unicodedata.name(ch, "")
    if not name:
        return "UNKNOWN"
    first = name.split()[0]
    if first == "COMBINING":
        return None  # takes the script of the letter it is attached to
    return _SCRIPT_ALIASES.get(first, first)


def _fits(scripts: set[str]) -> bool:
    return len(scripts) <= 1 or any(scripts <= mix for mix in _ALLOWED_MIXES)


#: Default_Ignorable_Code_Point characters that Python accepts in identifiers: they show as
#: nothing, so ``orders`` and ``orders`` + U+1160 would look the same
_INVISIBLE = frozenset(
    [
        0x034F,
        0x115F,
        0x1160,
        0x17B4,
        0x17B5,
        0x3164,
        0xFFA0,
        *range(0x180B, 0x1810),
        *range(0xFE00, 0xFE10),
        *range(0xE0100, 0xE01F0),
    ]
)


def confusable(ident: str) -> tuple[int, str] | None:
    """Why an id (a valid identifier) could be mistaken for another, as (index of the character,
    reason), or None when it is fine."""
    for i, ch in enumerate(ident):
        if ord(ch) in _INVISIBLE:
            return i, f"{describe_char(ch)} is invisible: delete it"
    for i, ch in enumerate(ident):
        category = unicodedata.category(ch)
        if ord(ch) in _FULL_WIDTH:
            return i, (
                f"{describe_char(ch)} is a full-width form; write "
                f"'{unicodedata.normalize('NFKC', ch)}'"
            )
        if category == "Nd" and not "0" <= ch <= "9":
            return i, f"{describe_char(ch)} is not one of the digits 0-9"
        if not unicodedata.is_normalized("NFKC", ch):
            return i, (
                f"{describe_char(ch)} is a compatibility form of "
                f"'{unicodedata.normalize('NFKC', ch)}'"
            )
        if ch != "_" and category[0] not in "LM" and category not in ("Nd", "Nl"):
            return i, f"{describe_char(ch)} is not a letter or a digit"  # a middle dot, say
    if not unicodedata.is_normalized("NFKC", ident):
        composed = unicodedata.normalize("NFKC", ident)
        mark = next((i for i, ch in enumerate(ident) if unicodedata.combining(ch)), 0)
        return mark, (
            f"{describe_char(ident[mark])} is an accent written apart from its letter; write "
            f"'{composed}', with the accented letter as one character"
        )
    seen: dict[str, str] = {}  # script → its first character
    for i, ch in enumerate(ident):
        script = script_of(ch)
        if script is None or script in seen:
            continue
        if not _fits({*seen, script}):
            other = next(iter(seen))
            return i, (
                f"it mixes {_title(other)} and {_title(script)} letters: {describe_char(ch)} "
                f"after {describe_char(seen[other])}"
            )
        seen[script] = ch
    return None


def _title(script: str) -> str:
    return {"HAN": "Chinese (Han)"}.get(script, script.title())


def foreign_digit(text: str) -> str | None:
    """The first decimal digit of ``text`` that is not 0-9 (``float`` reads ``'١٢'`` as 12)."""
    if text.isascii():
        return None
    return next(
        (ch for ch in text if unicodedata.category(ch) == "Nd" and not "0" <= ch <= "9"), None
    )


#: Full-width punctuation that a Chinese input method types where YAML expects its ASCII syntax:
#: character → (English name, Chinese name, what YAML needs instead). Inside a text value these
#: characters are ordinary text; the loader reports them only where YAML syntax is expected
#: (``KPI-L015``, ``KPI-L016``, ``KPI-S007``). The formula lexer has its own, narrower spellings
#: (``（ ）`` and ``，`` are accepted in formulas; engine/formula/lexer.py).
FULL_WIDTH_SYNTAX: dict[str, tuple[str, str, str]] = {
    "\uff1a": ("full-width colon", "全角冒号", "the half-width ':' followed by a space"),
    "\uff0c": ("full-width comma", "全角逗号", "the half-width ',' between items"),
    "\u3001": ("ideographic comma", "顿号", "the half-width ',' between items"),
    "\uff5b": ("full-width left curly bracket", "全角左花括号", "the half-width '{'"),
    "\uff5d": ("full-width right curly bracket", "全角右花括号", "the half-width '}'"),
    "\uff3b": ("full-width left square bracket", "全角左方括号", "the half-width '['"),
    "\uff3d": ("full-width right square bracket", "全角右方括号", "the half-width ']'"),
    "\u3010": ("left lenticular bracket", "左方头括号", "the half-width '[' (or '{')"),
    "\u3011": ("right lenticular bracket", "右方头括号", "the half-width ']' (or '}')"),
    "\uff08": ("full-width left parenthesis", "全角左括号", "'{' for a mapping or '[' for a list"),
    "\uff09": ("full-width right parenthesis", "全角右括号", "'}' or ']'"),
    "\u3000": ("full-width space", "全角空格", "half-width spaces"),
}
#: the ASCII character each full-width syntax character stands for, in a suggested fix
HALF_WIDTH = {
    "\uff1a": ":",
    "\uff0c": ",",
    "\u3001": ",",
    "\uff5b": "{",
    "\uff5d": "}",
    "\uff3b": "[",
    "\uff3d": "]",
    "\u3010": "[",
    "\u3011": "]",
    "\uff08": "{",
    "\uff09": "}",
    "\u3000": " ",
}
#: opening brackets of the table (where a list or mapping would start)
FULL_WIDTH_OPENING = "\uff5b\uff3b\u3010\uff08"


def describe_full_width(ch: str) -> str:
    """``"full-width colon '：' (U+FF1A, 全角冒号)"`` for a character of
    :data:`FULL_WIDTH_SYNTAX` (the full-width space is shown by its code point only)."""
    english, chinese, _ = FULL_WIDTH_SYNTAX[ch]
    shown = "" if ch.isspace() else f" '{ch}'"
    return f"{english}{shown} (U+{ord(ch):04X}, {chinese})"


#: a full-width comma followed by a key (`，en：`): a separator, not text
_COMMA_BEFORE_KEY = re.compile(r"[\uff0c\u3001](?=[ ]*[A-Za-z][A-Za-z0-9_-]*[ ]*[:\uff1a])")


def to_half_width(text: str) -> str:
    """``text`` with its full-width YAML syntax typed half-width, for a suggested fix: brackets
    and colons become ASCII (a colon followed by a space), a comma only before a key (``，en：``),
    so that a comma inside a Chinese phrase stays as written."""
    text = _COMMA_BEFORE_KEY.sub(", ", text)
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in HALF_WIDTH and ch not in "\uff0c\u3001\u3000":
            half = HALF_WIDTH[ch]
            nxt = text[i + 1 : i + 2]
            out.append(half + " " if half == ":" and nxt not in ("", " ") else half)
        else:
            out.append(ch)
    return re.sub(", +", ", ", "".join(out))
