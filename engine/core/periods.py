"""Periods: ``2026-01-31`` (day), ``2026-W05`` (ISO week), ``2026-01`` (month), ``2026-Q1``
(quarter) and ``2026`` (year).

A period is a grain and an integer index that counts periods of that grain, so consecutive
periods have consecutive indices and ``previous`` is index − 1. A coarser period is found
from a representative day: the first day, except for a week, which belongs to the month,
quarter and year of its Thursday (the ISO rule), so a week never straddles two of them.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

GRAINS = ("day", "week", "month", "quarter", "year")
#: grains an evaluation may be shown by: the data's grains, and "all" — one period over the whole
#: range of the data (lifetime values); an "all" period has no calendar bounds of its own
OUTPUT_GRAINS = (*GRAINS, "all")
_RANK = {g: i for i, g in enumerate(OUTPUT_GRAINS)}
# ASCII digits only (\d would accept full-width and other scripts' digits); matched with fullmatch
_YEAR = re.compile(r"([0-9]{4})")
_QUARTER = re.compile(r"([0-9]{4})-Q([1-4])")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def coarser_or_same(fine: str, coarse: str) -> bool:
    """Whether data at grain ``fine`` can be rolled up to grain ``coarse``."""
    return _RANK[coarse] >= _RANK[fine]


@dataclass(frozen=True, order=True)
class Period:
    grain: str
    index: int

    @property
    def start(self) -> date:
        g, i = self.grain, self.index
        if g == "all":
            raise ValueError("an 'all' period has no bounds of its own: they are the data's")
        if g == "day":
            return date.fromordinal(i)
        if g == "week":
            return date.fromordinal(i * 7 + 1)  # ordinal 1 (0001-01-01) is a Monday
        if g == "month":
            return date(i // 12, i % 12 + 1, 1)
        if g == "quarter":
            return date(i // 4, (i % 4) * 3 + 1, 1)
        return date(i, 1, 1)

    @property
    def end(self) -> date:
        return self.shift(1).start - timedelta(days=1)

    @property
    def days(self) -> int:
        """Calendar days covered."""
        g, i = self.grain, self.index
        if g == "day":
            return 1
        if g == "week":
            return 7
        if g == "month":
            return calendar.monthrange(i // 12, i % 12 + 1)[1]
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        g, i = self.grain, self.index
        if g == "day":
            return self.start.isoformat()
        if g == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year:04d}-W{week:02d}"
        if g == "month":
            return f"{i // 12:04d}-{i % 12 + 1:02d}"
        if g == "quarter":
            return f"{i // 4:04d}-Q{i % 4 + 1}"
        if g == "all":
            return "all"
        return f"{i:04d}"

    def shift(self, n: int) -> Period:
        return Period(self.grain, self.index + n)

    def to(self, grain: str) -> Period:
        """The period of ``grain`` (same or coarser) that contains this one."""
        if grain == self.grain:
            return self
        if not coarser_or_same(self.grain, grain):
            raise ValueError(f"cannot turn a {self.grain} into a {grain}: {grain} is finer")
        if grain == "all":
            return Period("all", 0)
        day = self.start + timedelta(days=3) if self.grain == "week" else self.start
        return from_date(day, grain)

    def __str__(self) -> str:
        return self.label


def from_date(day: date, grain: str) -> Period:
    if grain == "all":
        return Period("all", 0)
    if grain == "day":
        return Period("day", day.toordinal())
    if grain == "week":
        monday = day - timedelta(days=day.weekday())
        return Period("week", (monday.toordinal() - 1) // 7)
    if grain == "month":
        return Period("month", day.year * 12 + day.month - 1)
    if grain == "quarter":
        return Period("quarter", day.year * 4 + (day.month - 1) // 3)
    return Period("year", day.year)


@lru_cache(maxsize=65536)
def parse_period(text: str) -> Period:
    """Parse a period label; raises ValueError with a message a person can act on.

    Surrounding spaces are ignored (as in CSV cells); anything else must match exactly.
    """
    if not isinstance(text, str):
        raise ValueError(f"a period must be text such as 2026-01, not {text!r}")
    s = text.strip()
    try:
        if m := _YEAR.fullmatch(s):
            return Period("year", _year(m[1]))
        if m := _QUARTER.fullmatch(s):
            return Period("quarter", _year(m[1]) * 4 + int(m[2]) - 1)
        if m := _MONTH.fullmatch(s):
            month = int(m[2])
            if not 1 <= month <= 12:
                raise ValueError(f"month {m[2]} does not exist")
            return Period("month", _year(m[1]) * 12 + month - 1)
        if m := _WEEK.fullmatch(s):
            year, week = _year(m[1]), int(m[2])
            return from_date(date.fromisocalendar(year, week, 1), "week")
        if m := _DAY.fullmatch(s):
            return Period("day", date(_year(m[1]), int(m[2]), int(m[3])).toordinal())
    except ValueError as err:
        raise ValueError(f"'{text}' is not a valid period: {err}") from None
    raise ValueError(
        f"'{text}' is not a period: write 2026-01-31, 2026-W05, 2026-01, 2026-Q1 or 2026"
    )


def _year(text: str) -> int:
    year = int(text)
    if year < 1:
        raise ValueError("year 0000 does not exist")
    if year > 9998:  # the period after it must exist too (previous, roll-ups, day counts)
        raise ValueError("years after 9998 are not supported")
    return year
