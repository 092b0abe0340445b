"""Number and period cells as POS and spreadsheet exports write them.

:func:`engine.evaluate.table.numeric` reads plain numbers itself (``12``, ``-3.5``, ``1e3``); a
cell that is not one comes here, and is read if it is one of the export forms below, else
refused with its row and column (docs/evaluation.md, "Cells as exports write them"):

- thousands separators ``1,200`` and ``1，200`` (full-width comma), in groups of three digits
  only: ``1,20`` (a decimal comma?) and ``1 200`` (two numbers?) are ambiguous and refused;
- a currency sign before the number (``¥``, ``￥``, ``RMB``, ``CNY``) or ``元`` after it;
- a negative in parentheses, as accounting exports write it: ``(120)`` is -120;
- a percent ``12.5%`` is 0.125, only in an input whose unit is a ratio (``ratio``, ``%``):
  elsewhere it is refused (a percent of 元 means nothing).

Period cells: ``2026/1`` and ``2026年1月`` are the month 2026-01; ``2026-1-31``, ``2026/01/31``,
``2026年1月31日`` and ``20260131`` are the day 2026-01-31. A date is always a day (never silently
its month: a monthly pack reads day rows and rolls them up). ``01/02/2026`` is refused: it is
the 1st of February to some and the 2nd of January to others; ``13/02/2026`` (which can only be
day first) and ``02/13/2026`` are read.

Digits are 0-9 only, everywhere (KPI-E019), and ``1_000`` stays refused (KPI-E017).
"""

from __future__ import annotations

import re

from engine.core.errors import InputError

#: input units whose cells may be written as percents (``12.5%`` is 0.125)
RATIO_UNITS = frozenset({"ratio", "%", "percent", "比例", "比率"})

_CURRENCY_BEFORE = re.compile(r"(?:¥|￥|RMB|CNY)\s*", re.IGNORECASE)
_GROUPED = re.compile(r"[0-9]{1,3}(?:[,，][0-9]{3})+(?:\.[0-9]+)?")
_PLAIN = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: forms that look like numbers but read two ways: 1 200, 1,20, 1.200,50
_TWO_WAYS = (
    re.compile(r"[0-9]{1,3}(?:[ \u00a0\u3000][0-9]{3})+(?:\.[0-9]+)?"),
    re.compile(r"[0-9]+(?:[,，][0-9]+)+(?:\.[0-9]+)?"),
    re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+"),
)


def export_number(cell: str, *, percent: bool, row: int, column: str) -> float | None:
    """The number an export cell stands for, or None if it is no export form at all (the caller
    then refuses it as not a number). A cell that looks like a number but could be read two
    ways, or a percent outside a ratio column, is refused here (KPI-E056)."""
    s = cell.strip()
    negative = False
    if len(s) > 2 and s[0] == "(" and s[-1] == ")":
        negative, s = True, s[1:-1].strip()
    elif s[:1] in ("-", "+"):
        negative, s = s[0] == "-", s[1:].lstrip()
    if m := _CURRENCY_BEFORE.match(s):
        s = s[m.end() :]
        if s[:1] == "-" and not negative:  # ¥-120
            negative, s = True, s[1:]
    elif s.endswith("元"):
        s = s[:-1].rstrip()
    is_percent = s.endswith("%") or s.endswith("％")
    if is_percent:
        s = s[:-1].rstrip()
    if _GROUPED.fullmatch(s):
        value = float(s.replace(",", "").replace("，", ""))
    elif _PLAIN.fullmatch(s):
        value = float(s)
    elif any(p.fullmatch(s) for p in _TWO_WAYS):
        raise InputError(
            f"'{_clip(cell)}' could be read two ways: thousands are grouped by three digits "
            "with a comma (1,200), and a decimal comma or a space is not read",
            code="KPI-E056",
            row=row,
            column=column,
            hint="write 1200 or 1,200 (and 1.5 for one and a half)",
        )
    else:
        return None
    if is_percent:
        if not percent:
            raise InputError(
                f"'{_clip(cell)}' is a percent, but this input is not a ratio (its unit is not "
                "ratio or %): the percent of an amount or a count means nothing",
                code="KPI-E056",
                row=row,
                column=column,
                hint="write the number itself, or give the input unit: ratio",
            )
        value /= 100
    return -value if negative else value


_MONTH_FORMS = (
    re.compile(r"([0-9]{4})\s*/\s*([0-9]{1,2})"),
    re.compile(r"([0-9]{4})\s*年\s*([0-9]{1,2})\s*月"),
    re.compile(r"([0-9]{4})-([0-9])"),
)
_DAY_FORMS = (
    re.compile(r"([0-9]{4})([-/])([0-9]{1,2})\2([0-9]{1,2})"),
    re.compile(r"([0-9]{4})\s*年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*日"),
    re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})"),
)
_AMBIGUOUS_DATE = re.compile(r"([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})")


def export_period(label: str) -> str:
    """A period cell in an export's form as the engine's label (``2026/1`` → ``2026-01``,
    ``2026年1月31日`` → ``2026-01-31``); any other text is returned stripped, as it is, for
    :func:`engine.core.periods.parse_period` to read or refuse. A date that could be read
    day-first or month-first is refused (KPI-E057; the caller adds its row and column)."""
    s = label.strip()
    for pattern in _MONTH_FORMS:
        if m := pattern.fullmatch(s):
            return f"{m[1]}-{int(m[2]):02d}"
    for pattern in _DAY_FORMS:
        if m := pattern.fullmatch(s):
            parts = [g for g in m.groups() if g not in ("-", "/")]
            return f"{parts[0]}-{int(parts[1]):02d}-{int(parts[2]):02d}"
    if m := _AMBIGUOUS_DATE.fullmatch(s):
        first, second, year = int(m[1]), int(m[2]), m[3]
        day_first = f"{year}-{second:02d}-{first:02d}"
        month_first = f"{year}-{first:02d}-{second:02d}"
        if first == second or first > 12:
            return day_first  # one reading only (or both the same day)
        if second > 12:
            return month_first
        raise InputError(
            f"'{_clip(label)}' is ambiguous: day first it is {day_first}, month first "
            f"{month_first}",
            code="KPI-E057",
            hint=f"write the year first: {day_first} or {month_first}",
        )
    return s


def _clip(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "…"
