"""Stage 1, diagnosis: YAML syntax typed on a Chinese keyboard, and indentation that drifts.

A Chinese input method types full-width punctuation (``：``, ``，``, ``【】``, ``（）``, ``［］``,
``｛｝``, the full-width space U+3000) where YAML needs its ASCII syntax. YAML then either fails
with a message about another line (``mapping values are not allowed here``) or, worse, reads the
text as something else (``label：充值`` becomes one string). This module finds the character
and says which one it is, at its own line and column:

- :func:`key_problem` and :func:`flow_value_problem` look at what parsed: a plain key holding
  ``：`` or starting with a full-width space, a flow value holding ``，en：`` (KPI-L015,
  KPI-L016);
- :func:`syntax_error_problem` explains a libyaml error by the full-width character near it, or
  by the line whose indentation matches none of its neighbours (KPI-L015, KPI-L016, KPI-L017).

Full-width punctuation inside a text value (``description: 说明：这是一个例子，没问题``) is text
and is never reported. The character table lives in :mod:`engine.core.characters`.
"""

from __future__ import annotations

import re

from engine.core.characters import (
    FULL_WIDTH_OPENING,
    FULL_WIDTH_SYNTAX,
    HALF_WIDTH,
    describe_char,
    describe_full_width,
    to_half_width,
)
from engine.core.problems import Location, Problem

_COLON = "\uff1a"
_COMMAS = "\uff0c\u3001"
#: spaces that are not the ASCII space, as indentation before a key or a list item: YAML reads
#: them as text (a Chinese paragraph indented with "　　" inside a text value is not matched)
_WIDE = "\u3000\u00a0\u2002-\u200a\u202f\u205f"
_WIDE_SPACE = re.compile(f"^[ ]*([{_WIDE}])[ {_WIDE}]*(?:-[ ]|[^\\s:#]+:(?:[ ]|$))")
#: `key:　value` — a full-width space after a key's colon
_COLON_WIDE = re.compile(f"^[ ]*(?:-[ ]+)?[^\\s#'\"{{}}\\[\\],:][^:#'\"]*:([{_WIDE}])")
#: `key：value` — a line whose first colon (before any half-width one) is full-width, so that the
#: key is never separated from its value (list items `- 原因：…` are text and are not matched)
_COLON_KEY = re.compile(r"^[ ]*(?:[{,][ ]*)?[^\s#'\"{}\[\],:\-][^:#'\"]*?(\uff1a)")
#: a full-width bracket where a value starts: after the indentation, `- ` or `: `
_OPENING = re.compile(r"(?:^[ ]*(?:-[ ]+)?|:[ ]+)([" + FULL_WIDTH_OPENING + "])")
#: `，en:` — a full-width comma followed by a key inside { … } or [ … ]
_FLOW_COMMA = re.compile(r"([\uff0c\u3001])[ ]*[^\s,:\uff1a{}\[\]'\"]+[ ]*[:\uff1a]")
#: the same inside one flow scalar's text, with an ASCII key after it (`充值，en：Recharge`)
_FLOW_COMMA_KEY = re.compile(r"([\uff0c\u3001])[ ]*[A-Za-z][A-Za-z0-9_-]*[ ]*[:\uff1a]")
_INDENT_MESSAGES = (
    "did not find expected key",
    "mapping values are not allowed",
    "did not find expected '-' indicator",
    "expected <block end>",
)


def full_width_problem(
    ch: str, loc: Location, *, path: str = "", line_text: str = "", indentation: bool = True
) -> Problem:
    """KPI-L015 at a full-width character typed for YAML syntax; KPI-L016 for a space other than
    the ASCII one used as ``indentation`` (else it is KPI-L015: beside a key's colon)."""
    where = f"at line {loc.line}, column {loc.column}"
    shown = describe_full_width(ch) if ch in FULL_WIDTH_SYNTAX else describe_char(ch)
    if ch.isspace() and not indentation:
        return Problem.at(
            "KPI-L015",
            f"{shown} {where} beside a key's colon: YAML needs the half-width ':' followed by "
            "a half-width space",
            loc,
            path=path,
            hint="replace it with a half-width space; switch the input method to half-width "
            "(English) mode for YAML syntax",
        )
    if ch.isspace():
        return Problem.at(
            "KPI-L016",
            f"{shown} {where} used as indentation: YAML indents with half-width spaces only",
            loc,
            path=path,
            hint="replace each full-width space at the start of the line with two half-width "
            "spaces (as many as the keys next to it are indented); switch the input method to "
            "half-width (English) mode for YAML syntax",
        )
    _, _, needs = FULL_WIDTH_SYNTAX[ch]
    return Problem.at(
        "KPI-L015",
        f"{describe_full_width(ch)} {where}: YAML needs {needs}",
        loc,
        path=path,
        hint=_fix_hint(ch, loc, line_text),
    )


def _fix_hint(ch: str, loc: Location, line_text: str) -> str:
    fixed = ""
    if line_text and 0 < loc.column <= len(line_text) and line_text[loc.column - 1] == ch:
        half = HALF_WIDTH[ch]
        after = line_text[loc.column :]
        if half in ":," and not after.startswith(" "):
            half += " "
        line = line_text[: loc.column - 1] + half + after
        line = re.sub(r"\s+#[^'\"]*$", "", line)  # without a trailing comment
        fixed = f"write `{to_half_width(line).strip()}`; "
    return (
        f"{fixed}switch the input method to half-width (English) punctuation for YAML syntax "
        "(inside a text value full-width punctuation is fine)"
    )


def key_problem(key: str, loc: Location, line_text: str, flow: bool) -> Problem | None:
    """A plain (unquoted) mapping key that holds YAML syntax typed full-width: ``label：充值`` read
    as one key, ``{zh：充值}``, or a key that starts with full-width spaces (indentation)."""
    if key[:1].isspace() and key[:1] != " ":
        return full_width_problem(key[0], loc, line_text=line_text)
    if key[-1:].isspace() and key[-1:] != " " and "\n" not in key:
        at = _in_line(loc, len(key) - 1, key, line_text)
        return full_width_problem(key[-1], at, line_text=line_text, indentation=False)
    marks = _COLON + (_COMMAS if flow else "")
    index = next((i for i, c in enumerate(key) if c in marks), None)
    if index is None or "\n" in key:
        return None
    at = _in_line(loc, index, key, line_text)
    return full_width_problem(key[index], at, line_text=line_text)


def flow_value_problem(value: str, loc: Location, line_text: str) -> Problem | None:
    """A plain value inside ``{ … }`` that swallowed the next key: ``{zh: 充值，en：Recharge}`` is
    read as ``zh: "充值，en：Recharge"``."""
    found = _FLOW_COMMA_KEY.search(value)
    if found is None or "\n" in value:
        return None
    at = _in_line(loc, found.start(1), value, line_text)
    return full_width_problem(found.group(1), at, line_text=line_text)


def _in_line(loc: Location, index: int, text: str, line_text: str) -> Location:
    """The location of ``text[index]`` when ``text`` is written as is at ``loc``."""
    start = loc.column - 1
    if line_text[start : start + len(text)] == text:
        return Location(loc.file, loc.line, loc.column + index)
    return loc


def syntax_error_problem(
    message: str, line: int, context_line: int | None, lines: list[str], file: str
) -> Problem | None:
    """Explain a libyaml error (at 0-based ``line``) by a full-width character typed for YAML on
    that line or the lines just above it, or by a line indented unlike its neighbours; None when
    neither explains it."""
    if not 0 <= line < len(lines) or "\t" in lines[line]:
        return None
    first = line
    if "flow" in message and context_line is not None and 0 <= context_line <= line:
        first = context_line
    candidates = sorted({*range(first, line + 1), *_previous(lines, line, 2)})
    for number in candidates:
        found = _full_width_in(lines[number], number, file, number == line)
        if found is not None:
            return found
    if any(m in message for m in _INDENT_MESSAGES):
        return _indentation_problem(lines, line, file)
    return None


def _previous(lines: list[str], line: int, count: int) -> list[int]:
    """Up to ``count`` non-blank, non-comment lines before ``line``."""
    out: list[int] = []
    for number in range(line - 1, -1, -1):
        if len(out) == count:
            break
        if lines[number].strip() and not lines[number].lstrip().startswith("#"):
            out.append(number)
    return out


def _code_part(text: str) -> str:
    """The line without a trailing comment, and cut at the first quote (quoted text is text)."""
    cut = len(text)
    for i, ch in enumerate(text):
        if ch in "'\"" or (ch == "#" and (i == 0 or text[i - 1] in " \t")):
            cut = i
            break
    return text[:cut]


def _full_width_in(text: str, number: int, file: str, at_error: bool) -> Problem | None:
    """The full-width character typed for YAML syntax on a line near a libyaml error (a bracket
    where a value starts only on the error's own line: `label: 【重要】…` above it is text)."""
    code = _code_part(text)
    candidates: list[int] = []
    after = _COLON_WIDE.match(code)
    if after:
        at = Location(file, number + 1, after.start(1) + 1)
        return full_width_problem(after.group(1), at, line_text=text, indentation=False)
    space = _WIDE_SPACE.match(code)
    if space:
        return full_width_problem(
            space.group(1), Location(file, number + 1, space.start(1) + 1), line_text=text
        )
    for pattern in (_COLON_KEY, _OPENING) if at_error else (_COLON_KEY,):
        found = pattern.search(code)
        if found:
            candidates.append(found.start(1))
    opened = min((i for i, c in enumerate(code) if c in "{["), default=None)
    if opened is not None:
        found = _FLOW_COMMA.search(code, opened)
        if found:
            candidates.append(found.start(1))
    if not candidates:
        return None
    column = min(candidates)
    return full_width_problem(code[column], Location(file, number + 1, column + 1), line_text=text)


def _levels(lines: list[str], line: int) -> list[tuple[int, int, str]]:
    """(indentation, 0-based line, first word) of the lines that enclose or precede ``line``:
    the line just above, then each line above with less indentation, up to the top level. A
    list item ``- key: …`` gives the indentation of its dash and of its key."""
    out: list[tuple[int, int, str]] = []
    lowest: int | None = None
    for number in _previous(lines, line, line):
        text = lines[number]
        indent = len(text) - len(text.lstrip(" "))
        body = text.strip()
        word = re.split(r"[:\s]", body.lstrip("- "), maxsplit=1)[0] or body[:1]
        levels = [indent]
        dash = re.match(r"-[ ]+", body)
        if dash and body[dash.end() :]:
            levels.append(indent + dash.end())
        for level in sorted(levels, reverse=True):
            if lowest is None or level < lowest:
                out.append((level, number, word))
                lowest = level
        if lowest == 0:
            break
    return out


def _indentation_problem(lines: list[str], line: int, file: str) -> Problem | None:
    text = lines[line]
    indent = len(text) - len(text.lstrip(" "))
    if not text.strip():
        return None
    levels = _levels(lines, line)
    if not levels or indent in {level for level, _, _ in levels}:
        return None
    above = lines[levels[0][1]].split(" #")[0].rstrip()
    if indent > levels[0][0] and (above.endswith(":") or above.strip() == "-"):
        return None  # deeper than a line that opens a block: that is its content, not a sibling
    ranked = sorted(levels, key=lambda x: (abs(x[0] - indent), -x[1]))
    level, number, word = ranked[0]
    alt = ""
    if len(ranked) > 1:
        level2, number2, word2 = ranked[1]
        alt = f", or like '{word2}' on line {number2 + 1} ({_spaces(level2)}) to end that block"
    word_here = re.split(r"[:\s]", text.strip(), maxsplit=1)[0]
    return Problem.at(
        "KPI-L017",
        f"inconsistent indentation at line {line + 1}: '{word_here}' is indented "
        f"{_spaces(indent)}, but '{word}' on line {number + 1} is indented {_spaces(level)} "
        f"and no key around it is indented {_spaces(indent)}",
        Location(file, line + 1, indent + 1),
        hint="keys of one mapping must start in the same column: indent this line like "
        f"'{word}' ({_spaces(level)}){alt}",
    )


def _spaces(n: int) -> str:
    return f"{n} space" if n == 1 else f"{n} spaces"
