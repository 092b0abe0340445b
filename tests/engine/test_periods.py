"""Periods: parsing, labels, calendar days, conversion to a coarser grain, shifting, order.

Every expected value below was worked out by hand from the calendar (ISO 8601 weeks: a week
runs Monday to Sunday and belongs to the month, quarter and year of its Thursday; week 1 of
a year is the week holding its first Thursday). Facts used more than once:

* 1 Jan 2026 is a Thursday, so 2026-W01 runs Mon 29 Dec 2025 .. Sun 4 Jan 2026, and week n
  starts on 29 Dec 2025 + 7·(n − 1) days.
* 2026 starts on a Thursday, so it has 53 ISO weeks; 2026-W53 runs Mon 28 Dec 2026 ..
  Sun 3 Jan 2027 (1 Jan 2027 is a Friday and belongs to 2026-W53).
* 1 Jan 2025 is a Wednesday and 2025 is not a leap year: 52 weeks; 2025-W01 starts
  Mon 30 Dec 2024.
* 2020 is a leap year starting on a Wednesday: 53 weeks; 2020-W53 runs Mon 28 Dec 2020 ..
  Sun 3 Jan 2021, Thursday 31 Dec 2020.
"""

from __future__ import annotations

from datetime import date

import pytest

from engine.core.periods import Period, parse_period

# -- parsing and labels -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "grain"),
    [
        ("2026-01-31", "day"),
        ("2024-02-29", "day"),  # a leap day exists in 2024
        ("2026-W05", "week"),
        ("2026-W53", "week"),  # 2026 has 53 ISO weeks (starts on a Thursday)
        ("2020-W53", "week"),  # 2020 too (leap year starting on a Wednesday)
        ("2026-01", "month"),
        ("2026-12", "month"),
        ("2026-Q1", "quarter"),
        ("2026-Q4", "quarter"),
        ("2026", "year"),
    ],
)
def test_each_format_parses_to_its_grain_and_its_label_round_trips(text: str, grain: str):
    p = parse_period(text)
    assert isinstance(p, Period)
    assert p.grain == grain
    assert p.label == text
    assert parse_period(p.label).label == text


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-01-31", date(2026, 1, 31), date(2026, 1, 31)),
        # 2026-W05 starts 29 Dec 2025 + 28 days = Mon 26 Jan 2026, ends Sun 1 Feb 2026
        ("2026-W05", date(2026, 1, 26), date(2026, 2, 1)),
        # 2026-W01 starts in the previous calendar year
        ("2026-W01", date(2025, 12, 29), date(2026, 1, 4)),
        ("2026-W53", date(2026, 12, 28), date(2027, 1, 3)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
        ("2024", date(2024, 1, 1), date(2024, 12, 31)),
    ],
)
def test_start_and_end_are_the_first_and_last_calendar_day(text: str, start: date, end: date):
    p = parse_period(text)
    assert (p.start, p.end) == (start, end)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("2026-01-31", 1),
        ("2026-W05", 7),
        ("2026-W01", 7),  # straddles two calendar years, still 7 days
        ("2026-01", 31),
        ("2026-02", 28),
        ("2024-02", 29),  # leap year
        ("2026-04", 30),
        ("2026-Q1", 90),  # 31 + 28 + 31
        ("2024-Q1", 91),  # 31 + 29 + 31
        ("2026-Q2", 91),  # 30 + 31 + 30
        ("2026-Q3", 92),  # 31 + 31 + 30
        ("2026-Q4", 92),  # 31 + 30 + 31
        ("2026", 365),
        ("2024", 366),
        ("2100", 365),  # divisible by 100 but not by 400: not a leap year
        ("2000", 366),  # divisible by 400: a leap year
    ],
)
def test_days_is_the_number_of_calendar_days_covered(text: str, days: int):
    assert parse_period(text).days == days


# -- conversion to a coarser grain ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "grain", "expected"),
    [
        # day -> week (ISO): Sat 31 Jan 2026 is in the week starting Mon 26 Jan = W05
        ("2026-01-31", "week", "2026-W05"),
        ("2026-01-01", "week", "2026-W01"),
        # Mon 29 Dec 2025 is the first day of ISO week 1 of 2026
        ("2025-12-29", "week", "2026-W01"),
        # Fri 1 Jan 2027 is still in the last ISO week of 2026 (W53)
        ("2027-01-01", "week", "2026-W53"),
        # day -> month / quarter / year: the calendar, not the ISO week-year
        ("2026-01-31", "month", "2026-01"),
        ("2024-02-29", "month", "2024-02"),
        ("2026-05-15", "quarter", "2026-Q2"),
        ("2026-03-31", "quarter", "2026-Q1"),
        ("2026-04-01", "quarter", "2026-Q2"),
        ("2026-12-31", "year", "2026"),
        # 29 Dec 2025 is in week 2026-W01 but in the calendar year 2025
        ("2025-12-29", "month", "2025-12"),
        ("2025-12-29", "quarter", "2025-Q4"),
        ("2025-12-29", "year", "2025"),
        ("2027-01-01", "year", "2027"),
        ("2026-01-31", "day", "2026-01-31"),  # same grain: unchanged
    ],
)
def test_a_day_goes_to_the_week_month_quarter_and_year_that_contain_it(text, grain, expected):
    p = parse_period(text).to(grain)
    assert p.grain == grain
    assert p.label == expected


@pytest.mark.parametrize(
    ("text", "grain", "expected"),
    [
        # W05: Mon 26 Jan .. Sun 1 Feb 2026, Thursday 29 Jan -> January (not February)
        ("2026-W05", "month", "2026-01"),
        # W09: Mon 23 Feb .. Sun 1 Mar 2026, Thursday 26 Feb -> February (not March)
        ("2026-W09", "month", "2026-02"),
        # W10: Mon 2 Mar .. Sun 8 Mar, Thursday 5 Mar -> March
        ("2026-W10", "month", "2026-03"),
        # W14: Mon 30 Mar .. Sun 5 Apr 2026, Thursday 2 Apr -> April: starts in March,
        # belongs to the NEXT month (and the next quarter)
        ("2026-W14", "month", "2026-04"),
        ("2026-W14", "quarter", "2026-Q2"),
        ("2026-W13", "quarter", "2026-Q1"),  # Mon 23 .. Sun 29 Mar, Thursday 26 Mar
        # W01 of 2026 starts Mon 29 Dec 2025; its Thursday is 1 Jan 2026 -> January, Q1, 2026
        ("2026-W01", "month", "2026-01"),
        ("2026-W01", "quarter", "2026-Q1"),
        ("2026-W01", "year", "2026"),
        # 2026-W53 ends Sun 3 Jan 2027; its Thursday is 31 Dec 2026 -> 2026
        ("2026-W53", "month", "2026-12"),
        ("2026-W53", "year", "2026"),
        # 2025-W01 starts Mon 30 Dec 2024; Thursday 2 Jan 2025 -> 2025
        ("2025-W01", "year", "2025"),
        ("2025-W01", "month", "2025-01"),
        # 2020-W53: Thursday 31 Dec 2020
        ("2020-W53", "month", "2020-12"),
        ("2020-W53", "quarter", "2020-Q4"),
        ("2020-W53", "year", "2020"),
        ("2026-W05", "week", "2026-W05"),  # same grain: unchanged
    ],
)
def test_a_week_goes_to_the_month_quarter_and_year_of_its_thursday(text, grain, expected):
    p = parse_period(text).to(grain)
    assert p.grain == grain
    assert p.label == expected


@pytest.mark.parametrize(
    ("text", "grain", "expected"),
    [
        ("2026-01", "quarter", "2026-Q1"),
        ("2026-03", "quarter", "2026-Q1"),
        ("2026-04", "quarter", "2026-Q2"),
        ("2026-09", "quarter", "2026-Q3"),
        ("2026-10", "quarter", "2026-Q4"),
        ("2026-12", "quarter", "2026-Q4"),
        ("2026-07", "year", "2026"),
        ("2026-Q3", "year", "2026"),
        ("2026-01", "month", "2026-01"),
        ("2026-Q1", "quarter", "2026-Q1"),
        ("2026", "year", "2026"),
    ],
)
def test_month_to_quarter_to_year(text, grain, expected):
    p = parse_period(text).to(grain)
    assert p.grain == grain
    assert p.label == expected


# -- shifting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "n", "expected"),
    [
        ("2026-01", 0, "2026-01"),
        ("2026-01", 1, "2026-02"),
        ("2026-01", -1, "2025-12"),
        ("2025-12", 1, "2026-01"),
        ("2026-01", -13, "2024-12"),  # 12 back is 2025-01, one more is 2024-12
        ("2026-11", 14, "2028-01"),  # 2026-11 + 2 = 2027-01, + 12 = 2028-01
        ("2026-Q1", -1, "2025-Q4"),
        ("2026-Q4", 1, "2027-Q1"),
        ("2026-Q2", -6, "2024-Q4"),  # Q2 -> Q1 (1), -> 2025-Q4 (2), 4 more: 2024-Q4 (6)
        ("2026", -2, "2024"),
        ("2026", 1, "2027"),
        ("2026-W01", -1, "2025-W52"),  # 2025 has 52 weeks
        ("2026-W52", 1, "2026-W53"),  # 2026 has 53 weeks
        ("2026-W53", 1, "2027-W01"),
        ("2021-W01", -1, "2020-W53"),  # 2020 has 53 weeks
        ("2026-W05", 4, "2026-W09"),
        ("2026-12-31", 1, "2027-01-01"),
        ("2024-02-28", 1, "2024-02-29"),  # leap day
        ("2026-03-01", -1, "2026-02-28"),  # no 29 Feb in 2026
        ("2026-01-31", 1, "2026-02-01"),
        ("2026-01-01", -365, "2025-01-01"),  # 2025 has 365 days
    ],
)
def test_shift_moves_by_whole_periods_across_year_boundaries(text: str, n: int, expected: str):
    p = parse_period(text).shift(n)
    assert p.grain == parse_period(text).grain
    assert p.label == expected


def test_shift_there_and_back_is_the_identity():
    for text in ("2026-01-31", "2026-W01", "2026-W53", "2026-02", "2026-Q1", "2026"):
        assert parse_period(text).shift(-7).shift(7).label == text


# -- ordering ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [
        ["2025-12-31", "2026-01-01", "2026-01-02", "2026-02-01"],
        ["2025-W52", "2026-W01", "2026-W02", "2026-W10", "2026-W53", "2027-W01"],
        ["2025-12", "2026-01", "2026-02", "2026-10"],
        ["2025-Q4", "2026-Q1", "2026-Q2"],
        ["1999", "2025", "2026"],
    ],
)
def test_periods_of_one_grain_compare_by_time(labels: list[str]):
    periods = [parse_period(t) for t in labels]
    shuffled = list(reversed(periods))
    assert [p.label for p in sorted(shuffled)] == labels
    for earlier, later in zip(periods, periods[1:], strict=False):
        assert earlier < later
        assert later > earlier
        assert not later < earlier
    assert parse_period(labels[0]) == parse_period(labels[0])
    assert parse_period(labels[0]) <= parse_period(labels[0])


# -- invalid strings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2026-13", id="month-13"),
        pytest.param("2026-00", id="month-00"),
        pytest.param("2026-W54", id="week-54"),
        pytest.param("2025-W53", id="week-53-of-a-52-week-year"),
        pytest.param("2026-W00", id="week-00"),
        pytest.param("2026-W5", id="week-one-digit"),
        pytest.param("2026-Q0", id="quarter-0"),
        pytest.param("2026-Q5", id="quarter-5"),
        pytest.param("2026-02-29", id="29-feb-non-leap"),
        pytest.param("2026-04-31", id="31-april"),
        pytest.param("2026-01-32", id="day-32"),
        pytest.param("2026-1-01", id="day-one-digit-month"),
        pytest.param("26-01", id="two-digit-year"),
        pytest.param("2026-1", id="one-digit-month"),
        pytest.param("", id="empty"),
        pytest.param("2026/01", id="slash"),
        pytest.param("202601", id="no-dash"),
        pytest.param("2026-M01", id="M-prefix"),
        pytest.param("Jan 2026", id="words"),
        pytest.param("2026-01 x", id="trailing-text"),
        pytest.param("２０２６-01", id="fullwidth-digits"),
    ],
)
def test_anything_else_raises_value_error(text: str):
    with pytest.raises(ValueError):
        parse_period(text)


@pytest.mark.parametrize("text", ["2026-13", "2026-W54", "26-01"])
def test_the_error_message_quotes_the_bad_text(text: str):
    # "a clear message": at the least it names what was given
    with pytest.raises(ValueError) as info:
        parse_period(text)
    assert text in str(info.value)


@pytest.mark.parametrize("text", ["2026-01\n", " 2026-01", "2026-01  "])
def test_surrounding_spaces_are_ignored_as_in_csv_cells(text: str):
    # a deliberate choice (docs/evaluation.md): spaces around a CSV cell are not a different period
    assert parse_period(text) == parse_period("2026-01")
