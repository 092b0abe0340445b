"""Evaluation semantics (docs/evaluation.md), on small inline packs and hand-computed data.

Every expected number is written out as a literal (or a literal expression) with the
arithmetic in a comment; nothing here calls the engine to find what it should return.
"""

from __future__ import annotations

import json
import math
import textwrap
from typing import Any

import pytest

from engine.compile.pack import check_text
from engine.core.display import display_text, shown
from engine.core.errors import InputError
from engine.evaluate.evaluation import evaluate

MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]


# -- helpers -------------------------------------------------------------------------------


def compile_pack(body: str, *, grain: str = "month", dims: bool = True, extra_header: str = ""):
    """Compile ``body`` (the sections after the header) with a small fixed header.

    (The pack id is `tt`: ids need at least two characters.)
    """
    head = f"pack: tt\nversion: '1.0.0'\ntitle: T\ngrain: {grain}\n"
    if dims:
        head += "dimensions: {store: {label: Store}}\n"
    text = head + textwrap.dedent(extra_header) + textwrap.dedent(body)
    c, problems = check_text(text)
    assert c is not None, [p.render_short() for p in problems]
    return c


def run(c, rows, formatted: bool = False, **options) -> dict[str, Any]:
    body = evaluate(c, rows, **options).to_json(formatted=formatted)
    # No inf or NaN anywhere in any output: strict JSON must accept the whole body.
    json.dumps(body, allow_nan=False)
    return body


def series(store: str | None, periods: list[str], **columns: list[Any]) -> list[dict[str, Any]]:
    """Rows for one store: ``columns`` are lists aligned with ``periods``."""
    rows = []
    for i, p in enumerate(periods):
        row: dict[str, Any] = {"period": p}
        if store is not None:
            row["store"] = store
        for name, values in columns.items():
            row[name] = values[i]
        rows.append(row)
    return rows


def at(body: dict[str, Any], period: str, **dims: str) -> dict[str, Any]:
    """The output row of ``period`` and exactly these dimension members."""
    found = [r for r in body["rows"] if r["period"] == period and r["dims"] == dims]
    assert len(found) == 1, (period, dims, [(r["period"], r["dims"]) for r in body["rows"]])
    return found[0]


def column(body: dict[str, Any], metric: str, **dims: str) -> list[Any]:
    """Values of ``metric`` along the rows of one group, in output order."""
    return [r["values"][metric] for r in body["rows"] if r["dims"] == dims]


def periods_of(body: dict[str, Any], **dims: str) -> list[str]:
    return [r["period"] for r in body["rows"] if r["dims"] == dims]


def fired(row: dict[str, Any]) -> list[str]:
    return sorted(r["id"] for r in row["rules"])


def check_of(row: dict[str, Any], check_id: str) -> dict[str, Any]:
    found = [c for c in row["checks"] if c["id"] == check_id]
    assert len(found) == 1, row["checks"]
    return found[0]


def approx(v: float) -> Any:
    return pytest.approx(v, rel=1e-9)


# -- output shape and order ----------------------------------------------------------------

SIMPLE = """\
inputs:
  x: {label: X}
metrics:
  v: {label: V, formula: x}
"""


def test_rows_are_sorted_by_dims_then_period_and_by_defaults_to_every_dimension():
    c = compile_pack(SIMPLE)
    rows = [
        {"period": "2026-01", "store": "B", "x": 3},
        {"period": "2025-12", "store": "B", "x": 2},
        {"period": "2026-01", "store": "A", "x": 1},
        {"period": "2025-12", "store": "A", "x": 0},
    ]
    body = run(c, rows)
    assert body["grain"] == "month"
    assert body["by"] == ["store"]
    assert [(r["dims"], r["period"]) for r in body["rows"]] == [
        ({"store": "A"}, "2025-12"),
        ({"store": "A"}, "2026-01"),
        ({"store": "B"}, "2025-12"),
        ({"store": "B"}, "2026-01"),
    ]
    assert [r["values"]["v"] for r in body["rows"]] == [0, 1, 2, 3]


# -- rollup: across dimension members, then across periods ---------------------------------

# Two stores, one quarter of months:
#            Jan  Feb  Mar
#   store A   10   20   30
#   store B    8   25    4
# Step 1, across stores within each month:
#   dims sum: 18, 45, 34    dims avg: 9, 22.5, 17    dims min: 8, 20, 4    dims max: 10, 25, 30
# Step 2, across the months of the quarter. Several cases are chosen so that doing the two
# steps the other way round (time first) gives a different number, shown as "time-first".
ROLLUP_ROWS = series("A", ["2026-01", "2026-02", "2026-03"], x=[10, 20, 30]) + series(
    "B", ["2026-01", "2026-02", "2026-03"], x=[8, 25, 4]
)


@pytest.mark.parametrize(
    ("rollup", "expected"),
    [
        pytest.param("{}", 97, id="default-sum-sum"),  # 18 + 45 + 34
        pytest.param("{time: sum, dims: sum}", 97, id="sum-sum"),
        pytest.param("{time: first}", 18, id="time-first"),  # January's 10 + 8
        pytest.param("{time: last}", 34, id="time-last"),  # March's 30 + 4
        pytest.param("{time: avg}", 97 / 3, id="time-avg"),  # (18 + 45 + 34) / 3 = 32.333…
        # min(18, 45, 34) = 18; time-first would be min(A) + min(B) = 10 + 4 = 14
        pytest.param("{time: min}", 18, id="time-min"),
        # max(18, 45, 34) = 45; time-first would be max(A) + max(B) = 30 + 25 = 55
        pytest.param("{time: max}", 45, id="time-max"),
        pytest.param("{dims: avg}", 48.5, id="dims-avg"),  # 9 + 22.5 + 17
        # 8 + 20 + 4 = 32; time-first would be min(sum A 60, sum B 37) = 37
        pytest.param("{dims: min}", 32, id="dims-min"),
        # 10 + 25 + 30 = 65; time-first would be max(60, 37) = 60
        pytest.param("{dims: max}", 65, id="dims-max"),
        # max(8, 20, 4) = 20; time-first would be min(max A 30, max B 25) = 25
        pytest.param("{dims: min, time: max}", 20, id="dims-min-time-max"),
        pytest.param("{dims: avg, time: avg}", 48.5 / 3, id="dims-avg-time-avg"),  # 16.1666…
        pytest.param("{dims: max, time: last}", 30, id="dims-max-time-last"),  # max(30, 4)
        pytest.param("{dims: avg, time: first}", 9, id="dims-avg-time-first"),  # (10 + 8) / 2
    ],
)
def test_rollup_goes_across_dimension_members_first_then_across_periods(rollup, expected):
    c = compile_pack(f"""\
        inputs:
          x: {{label: X, rollup: {rollup}}}
        metrics:
          v: {{label: V, formula: x}}
    """)
    body = run(c, ROLLUP_ROWS, grain="quarter", by=[])
    assert body["grain"] == "quarter"
    assert body["by"] == []
    assert len(body["rows"]) == 1
    row = at(body, "2026-Q1")
    assert row["values"]["v"] == approx(expected)


@pytest.mark.parametrize(
    ("rollup", "expected"),
    [
        pytest.param("{}", [18, 45, 34], id="sum"),
        pytest.param("{dims: avg}", [9, 22.5, 17], id="avg"),
        pytest.param("{dims: min}", [8, 20, 4], id="min"),
        pytest.param("{dims: max}", [10, 25, 30], id="max"),
        pytest.param("{time: last}", [18, 45, 34], id="time-rule-unused-at-base-grain"),
    ],
)
def test_by_nothing_at_the_base_grain_rolls_up_only_across_members(rollup, expected):
    c = compile_pack(f"""\
        inputs:
          x: {{label: X, rollup: {rollup}}}
        metrics:
          v: {{label: V, formula: x}}
    """)
    body = run(c, ROLLUP_ROWS, by=[])
    assert periods_of(body) == ["2026-01", "2026-02", "2026-03"]
    assert column(body, "v") == expected


@pytest.mark.parametrize(
    ("rollup", "a", "b"),
    [
        pytest.param("{}", 60, 37, id="sum"),  # A 10+20+30; B 8+25+4
        pytest.param("{time: first}", 10, 8, id="first"),
        pytest.param("{time: last}", 30, 4, id="last"),
        pytest.param("{time: avg}", 20, 37 / 3, id="avg"),
        pytest.param("{time: min}", 10, 4, id="min"),
        pytest.param("{time: max}", 30, 25, id="max"),
    ],
)
def test_keeping_the_store_rolls_up_only_across_periods(rollup, a, b):
    c = compile_pack(f"""\
        inputs:
          x: {{label: X, rollup: {rollup}}}
        metrics:
          v: {{label: V, formula: x}}
    """)
    body = run(c, ROLLUP_ROWS, grain="quarter")
    assert body["by"] == ["store"]
    assert at(body, "2026-Q1", store="A")["values"]["v"] == approx(a)
    assert at(body, "2026-Q1", store="B")["values"]["v"] == approx(b)


@pytest.mark.parametrize(
    ("rows", "rule", "expected"),
    [
        # the quarter has January and February only: `last` is February's balance
        pytest.param(
            series("A", ["2026-01", "2026-02"], balance=[500, 700]),
            "last",
            700,
            id="last-of-jan-feb",
        ),
        # the quarter has February and March only: `first` is February's balance
        pytest.param(
            series("A", ["2026-02", "2026-03"], balance=[700, 900]),
            "first",
            700,
            id="first-of-feb-mar",
        ),
    ],
)
def test_first_and_last_take_the_first_and_last_period_present(rows, rule, expected):
    c = compile_pack(f"""\
        inputs:
          balance: {{label: Balance, rollup: {{time: {rule}}}}}
        metrics:
          bal: {{label: B, formula: balance}}
    """)
    body = run(c, rows, grain="quarter")
    assert at(body, "2026-Q1", store="A")["values"]["bal"] == expected


def test_a_balance_over_stores_takes_the_last_month_present_after_the_dimension_rollup():
    # Store B has no March row. Dims first: Jan = 10 + 8, Feb = 20 + 25, Mar = 30 (A only).
    # Then time `last`: the last month present is March -> 30 (B's February balance is not
    # carried into March: the doc rolls up across members *within each base period* first).
    c = compile_pack("""\
        inputs:
          balance: {label: Balance, rollup: {time: last}}
        metrics:
          bal: {label: B, formula: balance}
    """)
    rows = series("A", ["2026-01", "2026-02", "2026-03"], balance=[10, 20, 30]) + series(
        "B", ["2026-01", "2026-02"], balance=[8, 25]
    )
    body = run(c, rows, grain="quarter", by=[])
    assert at(body, "2026-Q1")["values"]["bal"] == 30


def test_null_propagates_through_a_roll_up():
    c = compile_pack("""\
        inputs:
          x: {label: X}
          bal: {label: Balance, rollup: {time: last}}
        metrics:
          v: {label: V, formula: x}
          b: {label: B, formula: bal}
    """)
    rows = [
        {"period": "2026-01", "store": "A", "x": None, "bal": 5},
        {"period": "2026-01", "store": "B", "x": 8, "bal": 6},
        {"period": "2026-02", "store": "A", "x": 1, "bal": None},
        {"period": "2026-02", "store": "B", "x": 2, "bal": 7},
        {"period": "2026-03", "store": "B", "x": 4, "bal": 9},
    ]
    body = run(c, rows, by=[])
    jan = at(body, "2026-01")
    assert jan["values"]["v"] is None  # A's x is unknown, so the total is unknown (not B's 8)
    assert "x is empty" in jan["undefined"]["v"]
    assert at(body, "2026-02")["values"]["v"] == 3  # 1 + 2
    assert at(body, "2026-02")["values"]["b"] is None  # A's balance is unknown in February
    # across time: Jan is null, so Q1's sum is null; `last` takes March (B only: 9), null or not
    q1 = at(run(c, rows, grain="quarter", by=[]), "2026-Q1")
    assert q1["values"]["v"] is None
    assert q1["values"]["b"] == 9
    # per store, B's quarter is complete: 8 + 2 + 4 = 14
    assert at(run(c, rows, grain="quarter"), "2026-Q1", store="B")["values"]["v"] == 14


def test_weeks_roll_up_into_the_month_of_their_thursday():
    # W05 (26 Jan .. 1 Feb, Thursday 29 Jan) -> January; W09 (23 Feb .. 1 Mar, Thursday
    # 26 Feb) -> February; W10 (2 .. 8 Mar) -> March; W14 (30 Mar .. 5 Apr, Thursday 2 Apr)
    # -> April.
    c = compile_pack(
        """\
        inputs:
          x: {label: X}
        metrics:
          v: {label: V, formula: x}
          n_periods: {label: N, formula: periods + 0 * x}
          n_days: {label: D, formula: days + 0 * x}
    """,
        grain="week",
    )
    rows = series(
        "A", ["2026-W04", "2026-W05", "2026-W09", "2026-W10", "2026-W14"], x=[1, 2, 10, 100, 1000]
    )
    body = run(c, rows, grain="month")
    assert periods_of(body, store="A") == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert column(body, "v", store="A") == [3, 10, 100, 1000]  # Jan: W04 1 + W05 2 = 3
    assert column(body, "n_periods", store="A") == [2, 1, 1, 1]
    # a month of weeks covers its weeks' days: January 2026 is W01 (29 Dec .. 4 Jan) to W05, 35
    # days; February W06 .. W09, 28; March W10 .. W13, 28; April W14 (30 Mar ..) .. W18, 35
    assert column(body, "n_days", store="A") == [35, 28, 28, 35]


# -- metrics at a coarser grain ----------------------------------------------------------------


RATE = """\
inputs:
  a: {label: A}
  b: {label: B}
metrics:
  rate: {label: Rate, formula: a / b}
"""


def test_a_metric_is_re_derived_at_the_coarser_grain_as_a_ratio_of_sums():
    # Jan: a = 1, b = 1 (ratio 1); Feb: a = 6, b = 2 (ratio 3).
    # Ratio of sums: (1 + 6) / (1 + 2) = 7/3 = 2.333…; the average of ratios would be 2 and
    # the sum of ratios 4.
    c = compile_pack(RATE)
    rows = series("A", ["2026-01", "2026-02"], a=[1, 6], b=[1, 2])
    body = run(c, rows, grain="quarter")
    assert at(body, "2026-Q1", store="A")["values"]["rate"] == approx(7 / 3)


def test_a_metric_is_re_derived_across_stores_as_a_ratio_of_sums():
    # A: a = 1, b = 1; B: a = 6, b = 2 -> (1 + 6) / (1 + 2) = 7/3, not (1 + 3) / 2 = 2
    c = compile_pack(RATE)
    rows = [
        {"period": "2026-01", "store": "A", "a": 1, "b": 1},
        {"period": "2026-01", "store": "B", "a": 6, "b": 2},
    ]
    body = run(c, rows, by=[])
    assert at(body, "2026-01")["values"]["rate"] == approx(7 / 3)


AVG_BALANCE = """\
inputs:
  opening: {label: Opening, rollup: {time: first}}
  closing: {label: Closing, rollup: {time: last}}
  flow: {label: Flow}
metrics:
  avg_bal:
    label: Average balance
    formula: (opening + closing) / 2
    rollup: {time: avg}
  turnover: {label: Turnover, formula: flow / avg_bal}
"""

#                 Jan        Feb        Mar
# store A  open  100        200        400
#          close 200        400        300
#          avg   150        300        350      -> quarter avg (150 + 300 + 350) / 3 = 800/3
#          flow   10         20         30      -> quarter 60
# store B  open   10         30         50
#          close  30         50         10
#          avg    20         40         30
#          flow    1          2          3      -> quarter 6
AVG_ROWS = series(
    "A",
    ["2026-01", "2026-02", "2026-03"],
    opening=[100, 200, 400],
    closing=[200, 400, 300],
    flow=[10, 20, 30],
) + series(
    "B",
    ["2026-01", "2026-02", "2026-03"],
    opening=[10, 30, 50],
    closing=[30, 50, 10],
    flow=[1, 2, 3],
)


def test_a_metric_with_rollup_is_computed_per_base_period_and_averaged():
    c = compile_pack(AVG_BALANCE)
    body = run(c, AVG_ROWS, grain="quarter")
    a = at(body, "2026-Q1", store="A")
    # (150 + 300 + 350) / 3 = 266.666…; re-deriving would give (100 + 300) / 2 = 200
    assert a["values"]["avg_bal"] == approx(800 / 3)
    # its dependent uses the averaged value: 60 / (800/3) = 180/800 = 0.225 (not 60/200 = 0.3)
    assert a["values"]["turnover"] == approx(0.225)
    b = at(body, "2026-Q1", store="B")
    assert b["values"]["avg_bal"] == approx(30)  # (20 + 40 + 30) / 3 = 30
    assert b["values"]["turnover"] == approx(0.2)  # 6 / 30


def test_a_metric_with_rollup_goes_across_members_first_then_across_periods():
    # dims (default sum) per month: Jan 150 + 20 = 170, Feb 300 + 40 = 340, Mar 350 + 30 = 380
    # then time avg: (170 + 340 + 380) / 3 = 890/3 = 296.666…
    # turnover = (60 + 6) / (890/3) = 198/890 = 0.22247…
    c = compile_pack(AVG_BALANCE)
    body = run(c, AVG_ROWS, grain="quarter", by=[])
    row = at(body, "2026-Q1")
    assert row["values"]["avg_bal"] == approx(890 / 3)
    assert row["values"]["turnover"] == approx(198 / 890)


# -- built-ins: periods and days -------------------------------------------------------------

BUILTINS = """\
inputs:
  x: {label: X}
metrics:
  n_periods: {label: N, formula: periods + 0 * x}
  n_days: {label: D, formula: days + 0 * x}
  per_period: {label: Per period, formula: x / periods}
  per_day: {label: Per day, formula: x / days}
"""


def test_periods_and_days_at_the_base_grain():
    c = compile_pack(BUILTINS)
    rows = series("A", ["2026-01", "2026-02", "2024-02"], x=[31, 56, 58])
    body = run(c, rows)
    assert column(body, "n_periods", store="A") == [1, 1, 1]  # order: 2024-02, 2026-01, 2026-02
    assert periods_of(body, store="A") == ["2024-02", "2026-01", "2026-02"]
    assert column(body, "n_days", store="A") == [29, 31, 28]
    assert column(body, "per_day", store="A") == [2, 1, 2]  # 58/29, 31/31, 56/28


def test_periods_counts_base_periods_present_and_days_the_whole_output_period():
    # Q1 has January and March only (February is missing): periods = 2, days = 31+28+31 = 90.
    # Q2 has all three months: periods = 3, days = 30 + 31 + 30 = 91.
    c = compile_pack(BUILTINS)
    rows = series("A", ["2026-01", "2026-03", "2026-04", "2026-05", "2026-06"], x=[10, 20, 1, 2, 3])
    body = run(c, rows, grain="quarter")
    q1, q2 = at(body, "2026-Q1", store="A"), at(body, "2026-Q2", store="A")
    assert (q1["values"]["n_periods"], q1["values"]["n_days"]) == (2, 90)
    assert (q2["values"]["n_periods"], q2["values"]["n_days"]) == (3, 91)
    assert q1["values"]["per_period"] == 15  # (10 + 20) / 2
    assert q2["values"]["per_period"] == 2  # (1 + 2 + 3) / 3
    assert q1["values"]["per_day"] == approx(30 / 90)
    body = run(c, rows, grain="year")
    year = at(body, "2026", store="A")
    assert (year["values"]["n_periods"], year["values"]["n_days"]) == (5, 365)


def test_periods_counts_periods_after_the_dimension_rollup_not_rows():
    # A has Jan and Feb, B has Feb only. By store: A 2, B 1. Across stores: the base periods
    # present are Jan and Feb -> 2 (three rows, but two months).
    c = compile_pack(BUILTINS)
    rows = series("A", ["2026-01", "2026-02"], x=[1, 2]) + series("B", ["2026-02"], x=[4])
    body = run(c, rows, grain="quarter")
    assert at(body, "2026-Q1", store="A")["values"]["n_periods"] == 2
    assert at(body, "2026-Q1", store="B")["values"]["n_periods"] == 1
    body = run(c, rows, grain="quarter", by=[])
    row = at(body, "2026-Q1")
    assert row["values"]["n_periods"] == 2
    assert row["values"]["per_period"] == 3.5  # (1 + 2 + 4) / 2


# -- time functions ------------------------------------------------------------------------------

PREVIOUS = """\
inputs:
  x: {label: X}
metrics:
  p1: {label: P1, formula: previous(x)}
  p2: {label: P2, formula: 'previous(x, n=2)'}
  p_def: {label: PD, formula: 'previous(x, default=0)'}
  p2_def: {label: P2D, formula: 'previous(x, n=2, default=0)'}
  p_cur: {label: PC, formula: 'previous(x, default=x * 2)'}
"""


def test_previous_with_n_and_default():
    c = compile_pack(PREVIOUS)
    rows = series("A", MONTHS[:4], x=[10, 20, 50, 80])
    body = run(c, rows)
    assert column(body, "p1", store="A") == [None, 10, 20, 50]
    assert column(body, "p2", store="A") == [None, None, 10, 20]
    assert column(body, "p_def", store="A") == [0, 10, 20, 50]
    assert column(body, "p2_def", store="A") == [0, 0, 10, 20]
    # the default is evaluated in the current period: January's x * 2 = 20
    assert column(body, "p_cur", store="A") == [20, 10, 20, 50]
    jan = at(body, "2026-01", store="A")
    assert "p1" in jan["undefined"] and "p2" in jan["undefined"]
    assert "p2" in at(body, "2026-02", store="A")["undefined"]


def test_previous_stays_within_its_group_and_each_group_has_its_own_first_period():
    # B starts in February: its February is its first period (default, not a gap).
    c = compile_pack(PREVIOUS)
    rows = series("A", MONTHS[:4], x=[10, 20, 50, 80]) + series("B", MONTHS[1:4], x=[1, 2, 3])
    body = run(c, rows)
    assert column(body, "p1", store="A") == [None, 10, 20, 50]
    assert column(body, "p1", store="B") == [None, 1, 2]  # not A's January 10
    assert column(body, "p_def", store="B") == [0, 1, 2]
    assert column(body, "p2_def", store="B") == [0, 0, 1]


def test_previous_over_a_gap_is_null_with_the_missing_period_named():
    # Rows for Jan, Feb and Apr: March is missing. At April, previous(x) is March's x, which
    # does not exist -> null "no data for 2026-03", even with a default (the default is only
    # for periods before the group's first). previous(x, n=2) at April is February's 20.
    c = compile_pack(PREVIOUS)
    rows = series("A", ["2026-01", "2026-02", "2026-04"], x=[10, 20, 80])
    body = run(c, rows)
    apr = at(body, "2026-04", store="A")
    for metric in ("p1", "p_def", "p_cur"):
        assert apr["values"][metric] is None, metric
        assert "2026-03" in apr["undefined"][metric], apr["undefined"]
        assert "no data" in apr["undefined"][metric]
    assert apr["values"]["p2"] == 20
    assert apr["values"]["p2_def"] == 20
    assert at(body, "2026-02", store="A")["values"]["p1"] == 10


def test_previous_at_a_coarser_grain_is_the_previous_output_period():
    # Quarters: Q1 = 1 + 2 + 3 = 6, Q2 = 4 + 5 + 6 = 15, Q3 = 7 + 8 + 9 = 24
    c = compile_pack(PREVIOUS)
    rows = series("A", MONTHS[:9], x=[1, 2, 3, 4, 5, 6, 7, 8, 9])
    body = run(c, rows, grain="quarter")
    assert column(body, "p1", store="A") == [None, 6, 15]
    assert column(body, "p2", store="A") == [None, None, 6]


CHANGE = """\
inputs:
  x: {label: X}
metrics:
  ch: {label: Change, formula: change(x)}
  gr: {label: Growth, formula: growth(x)}
"""


def test_change_and_growth():
    # x:       10, 20,  50,   0,   5
    # change:   -, 10,  30, -50,   5
    # growth:   -, 10/10 = 1, 30/20 = 1.5, -50/50 = -1, 5/0 -> null (division by zero)
    c = compile_pack(CHANGE)
    rows = series("A", MONTHS[:5], x=[10, 20, 50, 0, 5]) + series("B", MONTHS[:2], x=[100, 110])
    body = run(c, rows)
    assert column(body, "ch", store="A") == [None, 10, 30, -50, 5]
    assert column(body, "gr", store="A") == [None, 1, 1.5, -1, None]
    may = at(body, "2026-05", store="A")
    assert may["undefined"]["gr"].startswith("division by zero")
    assert "gr" in at(body, "2026-01", store="A")["undefined"]
    # B: its own first period, then (110 - 100) / 100 = 0.1
    assert column(body, "ch", store="B") == [None, 10]
    assert column(body, "gr", store="B") == [None, approx(0.1)]


def test_change_over_a_gap_is_null():
    c = compile_pack(CHANGE)
    rows = series("A", ["2026-01", "2026-02", "2026-04"], x=[10, 20, 80])
    body = run(c, rows)
    assert column(body, "ch", store="A") == [None, 10, None]
    assert column(body, "gr", store="A") == [None, 1, None]


ROLLING = """\
inputs:
  x: {label: X}
metrics:
  rs: {label: RS, formula: 'rolling_sum(x, 3)'}
  ra: {label: RA, formula: 'rolling_avg(x, 3)'}
  cs: {label: CS, formula: cumulative_sum(x)}
"""


def test_rolling_sum_and_avg_need_n_periods():
    # x:  1, 2, 4, 8, 16
    # rs: -, -, 1+2+4 = 7, 2+4+8 = 14, 4+8+16 = 28;  ra: 7/3, 14/3, 28/3
    # B: 100, 200, 300 -> rs at March 600 (A's values never enter B's window)
    c = compile_pack(ROLLING)
    rows = series("A", MONTHS[:5], x=[1, 2, 4, 8, 16]) + series("B", MONTHS[:3], x=[100, 200, 300])
    body = run(c, rows)
    assert column(body, "rs", store="A") == [None, None, 7, 14, 28]
    assert column(body, "ra", store="A") == [
        None,
        None,
        approx(7 / 3),
        approx(14 / 3),
        approx(28 / 3),
    ]
    assert column(body, "rs", store="B") == [None, None, 600]
    assert column(body, "ra", store="B") == [None, None, 200]


def test_rolling_is_null_when_a_period_in_the_window_is_absent_or_null():
    c = compile_pack(ROLLING)
    # gap: April missing. Windows: Mar (Jan..Mar) = 7; May (Mar, Apr, May): Apr absent -> null;
    # Jun (Apr..Jun): null; Jul (May, Jun, Jul) = 16 + 32 + 64 = 112
    rows = series(
        "A",
        ["2026-01", "2026-02", "2026-03", "2026-05", "2026-06", "2026-07"],
        x=[1, 2, 4, 16, 32, 64],
    )
    body = run(c, rows)
    assert column(body, "rs", store="A") == [None, None, 7, None, None, 112]
    assert column(body, "ra", store="A") == [None, None, approx(7 / 3), None, None, approx(112 / 3)]
    # null value: February blank. Mar (Jan..Mar) and Apr (Feb..Apr) hold it -> null;
    # May (Mar, Apr, May) = 4 + 8 + 16 = 28
    rows = series("A", MONTHS[:5], x=[1, None, 4, 8, 16])
    body = run(c, rows)
    assert column(body, "rs", store="A") == [None, None, None, None, 28]


def test_cumulative_sum_is_null_from_the_first_null_or_gap_on():
    c = compile_pack(ROLLING)
    # 1, 3 (= 1 + 2), then a blank in March: null from there on
    rows = series("A", MONTHS[:4], x=[1, 2, None, 8]) + series("B", MONTHS[:3], x=[10, 20, 30])
    body = run(c, rows)
    assert column(body, "cs", store="A") == [1, 3, None, None]
    assert column(body, "cs", store="B") == [10, 30, 60]  # its own running total
    # a gap (March absent): April is null
    rows = series("A", ["2026-01", "2026-02", "2026-04"], x=[1, 2, 8])
    body = run(c, rows)
    assert column(body, "cs", store="A") == [1, 3, None]


TRENDS = """\
inputs:
  x: {label: X}
metrics:
  v: {label: V, formula: x}
rules:
  up:
    label: Up
    when: rising(x, 2)
  down:
    label: Down
    when: falling(x, 2)
"""


def test_rising_and_falling_need_n_strict_steps_within_the_group():
    # A: 1, 2, 3, 2 -> rising(x, 2) needs 3 values with 2 strict increases: only at March
    #    (1 < 2 < 3). April: 2 < 3 then 3 > 2 -> neither. falling never (no two decreases).
    # B: 5, 4, 3, 3 -> falling at March (5 > 4 > 3); April: 4 > 3 but 3 = 3 is not strict.
    # C: 3, 2, 1, 0 -> falling at March and April.
    c = compile_pack(TRENDS)
    rows = (
        series("A", MONTHS[:4], x=[1, 2, 3, 2])
        + series("B", MONTHS[:4], x=[5, 4, 3, 3])
        + series("C", MONTHS[:4], x=[3, 2, 1, 0])
    )
    body = run(c, rows)
    assert [fired(at(body, m, store="A")) for m in MONTHS[:4]] == [[], [], ["up"], []]
    assert [fired(at(body, m, store="B")) for m in MONTHS[:4]] == [[], [], ["down"], []]
    assert [fired(at(body, m, store="C")) for m in MONTHS[:4]] == [[], [], ["down"], ["down"]]


def test_rising_needs_every_period_of_its_window_present():
    # 1, 2, (March missing), 3, 4, 5: April's window (Feb, Mar, Apr) and May's (Mar, Apr, May)
    # hold the gap -> false; June (Apr 3 < May 4 < Jun 5) -> true.
    c = compile_pack(TRENDS)
    periods = ["2026-01", "2026-02", "2026-04", "2026-05", "2026-06"]
    body = run(c, series("A", periods, x=[1, 2, 3, 4, 5]))
    assert [fired(at(body, p, store="A")) for p in periods] == [[], [], [], [], ["up"]]
    # a null value in the window: false as well
    body = run(c, series("A", MONTHS[:5], x=[1, 2, None, 4, 5]))
    assert [fired(at(body, p, store="A")) for p in MONTHS[:5]] == [[], [], [], [], []]


# -- carry-over recurrence -------------------------------------------------------------------------

CARRY = """\
inputs:
  initial: {label: Initial, rollup: {time: first}}
  inflow: {label: In}
  outflow: {label: Out}
metrics:
  opening: {label: Opening, formula: 'previous(closing, default=initial)'}
  closing: {label: Closing, formula: opening + inflow - outflow}
"""

CARRY_IN = [100, 200, 150, 0, 300, 50, 250, 100, 0, 400, 80, 120]
CARRY_OUT = [50, 300, 100, 200, 100, 150, 50, 300, 100, 100, 200, 60]
# closing = opening + in - out, opening of January = initial 1000:
#   Jan 1000 + 100 -  50 = 1050     Jul  900 + 250 -  50 = 1100
#   Feb 1050 + 200 - 300 =  950     Aug 1100 + 100 - 300 =  900
#   Mar  950 + 150 - 100 = 1000     Sep  900 +   0 - 100 =  800
#   Apr 1000 +   0 - 200 =  800     Oct  800 + 400 - 100 = 1100
#   May  800 + 300 - 100 = 1000     Nov 1100 +  80 - 200 =  980
#   Jun 1000 +  50 - 150 =  900     Dec  980 + 120 -  60 = 1040
# check: 1000 + sum(in) 1750 - sum(out) 1710 = 1040
CARRY_CLOSING = [1050, 950, 1000, 800, 1000, 900, 1100, 900, 800, 1100, 980, 1040]
CARRY_OPENING = [1000, 1050, 950, 1000, 800, 1000, 900, 1100, 900, 800, 1100, 980]
# the `initial` column is 1000 in January and 5 afterwards: only the first period uses it
CARRY_ROWS = (
    series("A", MONTHS, initial=[1000] + [5] * 11, inflow=CARRY_IN, outflow=CARRY_OUT)
    # B: initial 0, +10 a month, nothing out -> closings 10, 20, …, 120
    + series("B", MONTHS, initial=[0] * 12, inflow=[10] * 12, outflow=[0] * 12)
)


def test_a_carry_over_recurrence_over_twelve_months():
    c = compile_pack(CARRY)
    body = run(c, CARRY_ROWS)
    assert column(body, "closing", store="A") == CARRY_CLOSING
    assert column(body, "opening", store="A") == CARRY_OPENING
    assert column(body, "closing", store="B") == [10 * k for k in range(1, 13)]
    assert column(body, "opening", store="B") == [10 * k for k in range(0, 12)]


def test_a_carry_over_recurrence_at_quarter_grain():
    # Quarters: initial (time first) = January's 1000.
    #   Q1 in 100+200+150 = 450, out 50+300+100 = 450 -> 1000 + 450 - 450 = 1000
    #   Q2 in 0+300+50 = 350,    out 200+100+150 = 450 -> 1000 + 350 - 450 = 900
    #   Q3 in 250+100+0 = 350,   out 50+300+100 = 450  ->  900 + 350 - 450 = 800
    #   Q4 in 400+80+120 = 600,  out 100+200+60 = 360  ->  800 + 600 - 360 = 1040
    # (the same as the monthly closings of Mar, Jun, Sep and Dec)
    c = compile_pack(CARRY)
    body = run(c, CARRY_ROWS, grain="quarter")
    assert column(body, "closing", store="A") == [1000, 900, 800, 1040]
    assert column(body, "opening", store="A") == [1000, 1000, 900, 800]
    assert column(body, "closing", store="B") == [30, 60, 90, 120]


def test_a_carry_over_over_all_stores():
    # by nothing: initial = 1000 + 0, in/out summed: each month's closing is A's + B's
    c = compile_pack(CARRY)
    body = run(c, CARRY_ROWS, by=[])
    assert column(body, "closing") == [a + 10 * k for k, a in enumerate(CARRY_CLOSING, 1)]


# -- null rules ----------------------------------------------------------------------------------

NULLS = """\
inputs:
  a: {label: A}
  b: {label: B}
  n: {label: N}
metrics:
  ratio: {label: R, formula: a / b}
  self_ratio: {label: SR, formula: b / b}
  ratio_plus: {label: RP, formula: ratio + 1}
  with_n: {label: WN, formula: a + n}
  just_n: {label: JN, formula: n}
  if_gt: {label: IG, formula: 'if(n > 1, 10, 20)'}
  if_le: {label: IL, formula: 'if(n <= 1, 10, 20)'}
  filled: {label: F, formula: 'coalesce(n, 0)'}
  filled_ratio: {label: FR, formula: 'coalesce(ratio, -1)'}
rules:
  gt: {label: GT, when: n > 1}
  ne: {label: NE, when: n != 1}
  chained: {label: CH, when: 0 < n < 10}
  negated: {label: NEG, when: not (n > 1)}
"""


def test_division_by_zero_is_null_with_its_reason():
    c = compile_pack(NULLS)
    body = run(c, [{"period": "2026-01", "store": "A", "a": 5, "b": 0, "n": 1}])
    row = at(body, "2026-01", store="A")
    assert row["values"]["ratio"] is None
    assert row["undefined"]["ratio"] == "division by zero: b = 0"
    # no algebra shortcuts: b / b is null when b = 0, not 1
    assert row["values"]["self_ratio"] is None
    assert row["undefined"]["self_ratio"].startswith("division by zero")
    # null propagates to a dependent metric, with the reason carried
    assert row["values"]["ratio_plus"] is None
    assert "division by zero" in row["undefined"]["ratio_plus"]
    assert "b = 0" in row["undefined"]["ratio_plus"]
    # coalesce replaces it
    assert row["values"]["filled_ratio"] == -1


def test_a_blank_cell_is_null_and_propagates_through_arithmetic():
    c = compile_pack(NULLS)
    body = run(c, [{"period": "2026-01", "store": "A", "a": 5, "b": 2, "n": None}])
    row = at(body, "2026-01", store="A")
    assert row["values"]["ratio"] == 2.5
    assert row["values"]["just_n"] is None and "just_n" in row["undefined"]
    assert row["values"]["with_n"] is None and "with_n" in row["undefined"]
    assert "ratio" not in row["undefined"]


def test_comparisons_with_null_are_false():
    c = compile_pack(NULLS)
    rows = [
        {"period": "2026-01", "store": "A", "a": 5, "b": 2, "n": None},
        {"period": "2026-02", "store": "A", "a": 5, "b": 2, "n": 5},
    ]
    body = run(c, rows)
    jan, feb = at(body, "2026-01", store="A"), at(body, "2026-02", store="A")
    # n null: n > 1, n != 1 and 0 < n < 10 are all false; `not` works on that false
    assert fired(jan) == ["negated"]
    # n = 5: 5 > 1, 5 != 1, 0 < 5 < 10 -> three rules; not (5 > 1) is false
    assert fired(feb) == ["chained", "gt", "ne"]


def test_if_with_a_null_condition_takes_the_else_branch_and_coalesce_fills():
    c = compile_pack(NULLS)
    rows = [
        {"period": "2026-01", "store": "A", "a": 5, "b": 2, "n": None},
        {"period": "2026-02", "store": "A", "a": 5, "b": 2, "n": 7},
    ]
    body = run(c, rows)
    jan, feb = at(body, "2026-01", store="A"), at(body, "2026-02", store="A")
    assert jan["values"]["if_gt"] == 20  # null > 1 is false
    assert jan["values"]["if_le"] == 20  # null <= 1 is false as well
    assert jan["values"]["filled"] == 0
    assert feb["values"]["if_gt"] == 10  # 7 > 1
    assert feb["values"]["if_le"] == 20  # 7 <= 1 is false
    assert feb["values"]["filled"] == 7


OVERFLOW = """\
inputs:
  a: {label: A}
  tiny: {label: T}
metrics:
  power: {label: P, formula: a ** 10}
  square: {label: S, formula: a * a}
  neg_square: {label: NS, formula: -a * a}
  nan: {label: N, formula: a * a - a * a}
  quotient: {label: Q, formula: a / tiny}
  fine: {label: F, formula: a * 10}
"""


def test_overflow_is_null_with_reason_overflow_and_no_inf_or_nan_reaches_the_output():
    # a = 1e40: a ** 10 = 1e400 > max float (~1.8e308)
    # a * a = 1e80 (fine), a / tiny = 1e40 / 1e-300 = 1e340 (overflow)
    c = compile_pack(OVERFLOW)
    body = run(c, [{"period": "2026-01", "store": "A", "a": 1e40, "tiny": 1e-300}])
    row = at(body, "2026-01", store="A")
    assert row["values"]["power"] is None
    assert "overflow" in row["undefined"]["power"]
    assert row["values"]["square"] == approx(1e80)
    assert row["values"]["quotient"] is None
    assert "overflow" in row["undefined"]["quotient"]
    assert row["values"]["fine"] == approx(1e41)
    # a = 1e200: a * a = 1e400 -> overflow, -a * a -> -inf -> overflow, inf - inf -> NaN
    body = run(c, [{"period": "2026-01", "store": "A", "a": 1e200, "tiny": 1}])
    row = at(body, "2026-01", store="A")
    for metric in ("power", "square", "neg_square", "nan"):
        assert row["values"][metric] is None, metric
        assert "overflow" in row["undefined"][metric], (metric, row["undefined"])
    for value in row["values"].values():
        assert value is None or math.isfinite(value)


FUNCS = """\
inputs:
  a: {label: A}
  b: {label: B}
  c: {label: C}
  n: {label: N}
metrics:
  lo: {label: Lo, formula: 'min(a, b, c)'}
  hi: {label: Hi, formula: 'max(a, b, c)'}
  size: {label: Size, formula: abs(b)}
  rnd: {label: Rnd, formula: 'round(a / c, 1)'}
  lo_n: {label: LoN, formula: 'min(a, n)'}
  hi_n: {label: HiN, formula: 'max(a, n)'}
  abs_n: {label: AbsN, formula: abs(n)}
  rnd_n: {label: RndN, formula: 'round(n, 1)'}
"""


def test_min_max_abs_round_and_null_propagation_through_them():
    # a = 3, b = -7, c = 5: min -7, max 5, abs(-7) = 7, round(3 / 5, 1) = round(0.6, 1) = 0.6
    c = compile_pack(FUNCS)
    body = run(c, [{"period": "2026-01", "store": "A", "a": 3, "b": -7, "c": 5, "n": None}])
    row = at(body, "2026-01", store="A")
    assert row["values"]["lo"] == -7
    assert row["values"]["hi"] == 5
    assert row["values"]["size"] == 7
    assert row["values"]["rnd"] == 0.6
    for metric in ("lo_n", "hi_n", "abs_n", "rnd_n"):
        assert row["values"][metric] is None, metric
        assert metric in row["undefined"]


@pytest.mark.parametrize(
    ("x", "digits", "expected"),
    [
        pytest.param(2.675, 2, 2.68, id="2.675->2.68"),  # binary 2.67499999…, corrected
        pytest.param(1.005, 2, 1.01, id="1.005->1.01"),  # binary 1.00499999…
        pytest.param(-1.005, 2, -1.01, id="-1.005->-1.01"),
        pytest.param(0.125, 2, 0.13, id="0.125->0.13"),  # an exact half: away from zero
        pytest.param(-2.5, 0, -3, id="-2.5->-3"),  # half away from zero, not to even
        pytest.param(2.5, 0, 3, id="2.5->3"),
        pytest.param(0.5, 0, 1, id="0.5->1"),
        pytest.param(1234.5, 0, 1235, id="1234.5->1235"),
        pytest.param(1.004, 2, 1.0, id="1.004->1.00"),
        pytest.param(-0.4, 0, 0, id="-0.4->0"),
    ],
)
def test_round_is_half_away_from_zero_on_the_decimal_value(x, digits, expected):
    c = compile_pack(f"""\
        inputs:
          x: {{label: X}}
        metrics:
          r: {{label: R, formula: 'round(x, {digits})'}}
    """)
    body = run(c, [{"period": "2026-01", "store": "A", "x": x}])
    assert at(body, "2026-01", store="A")["values"]["r"] == expected


# -- params ------------------------------------------------------------------------------------

PARAMS = """\
params:
  factor: {value: 1.5, label: Factor}
inputs:
  x: {label: X}
metrics:
  scaled: {label: S, formula: x * factor}
"""


def test_params_override_the_value_for_one_evaluation():
    c = compile_pack(PARAMS)
    rows = [{"period": "2026-01", "store": "A", "x": 10}]
    assert at(run(c, rows), "2026-01", store="A")["values"]["scaled"] == 15  # 10 * 1.5
    body = run(c, rows, params={"factor": 2})
    assert at(body, "2026-01", store="A")["values"]["scaled"] == 20  # 10 * 2
    # the override does not stick to the compiled pack
    assert at(run(c, rows), "2026-01", store="A")["values"]["scaled"] == 15


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"nope": 1}, id="unknown-param"),
        pytest.param({"factor": "abc"}, id="non-numeric-value"),
    ],
)
def test_an_unknown_param_or_a_non_numeric_value_is_an_input_error(params):
    c = compile_pack(PARAMS)
    with pytest.raises(InputError):
        evaluate(c, [{"period": "2026-01", "store": "A", "x": 10}], params=params)


# -- bands ---------------------------------------------------------------------------------------

BANDS = """\
inputs:
  x: {label: X}
metrics:
  v:
    label: V
    formula: x
    bands:
      - {status: critical, max: 10, label: {zh: 差, en: Bad}}
      - {status: fair, min: 10, max: 20, label: {zh: 一般, en: Fair}}
      - {status: good, min: 30, label: {zh: 好, en: Good}}
"""


@pytest.mark.parametrize(
    ("x", "status", "zh", "en"),
    [
        pytest.param(-5, "critical", "差", "Bad", id="below"),
        pytest.param(9.999, "critical", "差", "Bad", id="just-below-10"),
        pytest.param(10, "fair", "一般", "Fair", id="min-inclusive-10"),
        pytest.param(19.99, "fair", "一般", "Fair", id="just-below-20"),
        pytest.param(20, None, None, None, id="max-exclusive-20-in-gap"),
        pytest.param(25, None, None, None, id="gap"),
        pytest.param(29.999, None, None, None, id="gap-end"),
        pytest.param(30, "good", "好", "Good", id="min-inclusive-30"),
        pytest.param(1000, "good", "好", "Good", id="open-max"),
        pytest.param(None, None, None, None, id="null"),
    ],
)
def test_band_boundaries_gaps_and_nulls(x, status, zh, en):
    c = compile_pack(BANDS)
    rows = [{"period": "2026-01", "store": "A", "x": x}]
    row = at(run(c, rows), "2026-01", store="A")
    if status is None:
        assert "v" not in row["bands"]
        return
    assert row["bands"]["v"]["status"] == status
    assert row["bands"]["v"]["label"] == zh  # default locale: the first of [zh, en]
    row = at(run(c, rows, locale="en"), "2026-01", store="A")
    assert row["bands"]["v"]["status"] == status
    assert row["bands"]["v"]["label"] == en


@pytest.mark.parametrize(
    ("a", "b", "status"),
    [
        pytest.param(3, 10, "good", id="0.3-exactly"),  # 3/10 = 0.3 = 30%: min inclusive
        pytest.param(5, 10, "good", id="0.5"),
        pytest.param(29, 100, "fair", id="0.29"),
        pytest.param(2, 10, "fair", id="0.2-exactly"),  # 20%: fair's min, critical's max
        pytest.param(1, 10, "critical", id="0.1"),
    ],
)
@pytest.mark.parametrize(
    ("good", "fair", "critical"),
    [
        pytest.param("min: 30%", "min: 20%, max: 30%", "max: 20%", id="percent-bounds"),
        pytest.param("min: 0.3", "min: 0.2, max: 0.3", "max: 0.2", id="decimal-bounds"),
    ],
)
def test_percent_band_bounds(a, b, status, good, fair, critical):
    # "30%" means exactly what 0.3 means: a rate of 3/10 is 30% exactly, and the doc says
    # "30% exactly is good" (pack-language.md §8) whichever way the bound is written.
    c = compile_pack(f"""\
        inputs:
          a: {{label: A}}
          b: {{label: B}}
        metrics:
          rate:
            label: Rate
            formula: a / b
            format: percent
            bands:
              - {{status: good, {good}}}
              - {{status: fair, {fair}}}
              - {{status: critical, {critical}}}
    """)
    row = at(run(c, [{"period": "2026-01", "store": "A", "a": a, "b": b}]), "2026-01", store="A")
    assert row["bands"]["rate"]["status"] == status


# -- rules ----------------------------------------------------------------------------------------

RULES = """\
inputs:
  x: {label: X}
metrics:
  v: {label: V, formula: x}
rules:
  too_low:
    label: {zh: 太低, en: Too low}
    when: v < 10
    severity: critical
    causes:
      - {zh: 原因一, en: Cause one}
      - {zh: 原因二, en: Cause two}
    remedies: [fix_it, wait]
  high:
    label: {zh: 偏高, en: High}
    when: v >= 100
    severity: info
remedies:
  fix_it: {label: {zh: 修复, en: Fix it}}
  wait: {label: {zh: 等待, en: Wait}}
"""


def test_rules_fire_when_their_condition_holds_with_localized_causes_and_remedies():
    c = compile_pack(RULES)
    rows = series("A", MONTHS[:3], x=[5, 50, 100])
    body = run(c, rows)
    jan, feb, mar = (at(body, m, store="A") for m in MONTHS[:3])
    assert fired(jan) == ["too_low"]  # 5 < 10
    assert fired(feb) == []  # 50: neither
    assert fired(mar) == ["high"]  # 100 >= 100
    rule = jan["rules"][0]
    assert rule["severity"] == "critical"
    assert rule["label"] == "太低"
    assert rule["causes"] == ["原因一", "原因二"]
    assert [{"id": r["id"], "label": r["label"]} for r in rule["remedies"]] == [
        {"id": "fix_it", "label": "修复"},
        {"id": "wait", "label": "等待"},
    ]
    assert mar["rules"][0]["severity"] == "info"

    rule = at(run(c, rows, locale="en"), "2026-01", store="A")["rules"][0]
    assert rule["label"] == "Too low"
    assert rule["causes"] == ["Cause one", "Cause two"]
    assert [{"id": r["id"], "label": r["label"]} for r in rule["remedies"]] == [
        {"id": "fix_it", "label": "Fix it"},
        {"id": "wait", "label": "Wait"},
    ]


# -- checks ----------------------------------------------------------------------------------------


def check_results(assertion: str, tolerance: str | None, rows: list[dict[str, Any]]):
    tol = "" if tolerance is None else f"\n    tolerance: {tolerance}"
    names = sorted({k for r in rows for k in r} - {"period", "store"})
    inputs = "".join(f"  {k}: {{label: {k}}}\n" for k in names)
    c = compile_pack(
        f"inputs:\n{inputs}metrics:\n  m: {{label: M, formula: {' + '.join(names)}}}\n"
        f"checks:\n  k:\n    label: K\n    assert: {assertion}{tol}\n"
    )
    body = run(c, rows)
    return [check_of(r, "k") for r in body["rows"]]


def months_rows(**columns: list[Any]) -> list[dict[str, Any]]:
    n = len(next(iter(columns.values())))
    return series("A", MONTHS[:n], **columns)


def test_checks_pass_fail_or_undefined_with_the_residual():
    # a == b + c:  10 vs 4 + 6 -> pass, residual 0;  10 vs 4 + 5 -> fail, residual 1;
    #              c blank -> undefined, residual null;  3 vs 4 + 5 -> fail, residual -6
    results = check_results(
        "a == b + c", None, months_rows(a=[10, 10, 10, 3], b=[4, 4, 4, 4], c=[6, 5, None, 5])
    )
    assert [r["status"] for r in results] == ["pass", "fail", "undefined", "fail"]
    assert [r["residual"] for r in results] == [0, 1, None, -6]


def test_a_check_that_is_not_an_equality_has_no_residual():
    results = check_results("a >= 0", None, months_rows(a=[1, -1, None]))
    assert [r["status"] for r in results] == ["pass", "fail", "undefined"]
    assert [r["residual"] for r in results] == [None, None, None]


@pytest.mark.parametrize(
    ("tolerance", "a", "b", "status", "residual"),
    [
        # absolute 0.01
        pytest.param("0.01", 1.005, 1, "pass", 0.005, id="abs-0.005-passes"),
        pytest.param("0.01", 1, 1.005, "pass", -0.005, id="abs-minus-0.005-passes"),
        pytest.param("0.01", 1.02, 1, "fail", 0.02, id="abs-0.02-fails"),
        pytest.param("0.01", 1, 1.02, "fail", -0.02, id="abs-minus-0.02-fails"),
        # absolute 0.25 (exact in binary): the boundary itself passes (<=)
        pytest.param("0.25", 100.25, 100, "pass", 0.25, id="abs-boundary-passes"),
        pytest.param("0.25", 100, 100.25, "pass", -0.25, id="abs-minus-boundary-passes"),
        pytest.param("0.25", 100.5, 100, "fail", 0.5, id="abs-beyond-fails"),
        # relative 1% of max(|a|, |b|)
        pytest.param('"1%"', 100, 101, "pass", -1, id="rel-1-of-101"),  # 1 <= 1.01
        pytest.param('"1%"', 101, 100, "pass", 1, id="rel-1-of-101-reversed"),
        pytest.param('"1%"', 100, 102, "fail", -2, id="rel-2-of-102"),  # 2 > 1.02
        pytest.param('"1%"', -100, -101, "pass", 1, id="rel-negative"),  # 1 <= 1.01
        pytest.param('"1%"', 0, 0, "pass", 0, id="rel-zero-zero"),
        pytest.param('"1%"', 1, 0, "fail", 1, id="rel-1-vs-0"),  # 1 > 0.01
        # 1% of 1000 is 10: a residual of 5 passes, where an absolute 1 would fail
        pytest.param('"1%"', 1005, 1000, "pass", 5, id="rel-scales"),
    ],
)
def test_check_tolerances(tolerance, a, b, status, residual):
    (result,) = check_results("a == b", tolerance, months_rows(a=[a], b=[b]))
    assert result["status"] == status
    assert result["residual"] == pytest.approx(residual, abs=1e-9)


@pytest.mark.parametrize(
    ("a", "b", "c", "status"),
    [
        # 0.3 vs 0.1 + 0.2 = 0.30000000000000004: |diff| 5.6e-17 <= 1e-9 * 0.3
        pytest.param(0.1, 0.2, 0.3, "pass", id="0.1+0.2==0.3"),
        # 1e6 vs 1e6 + 0.01: 0.01 > 1e-9 * 1e6 = 0.001
        pytest.param(1e6, 0.01, 1e6, "fail", id="1e6-off-by-0.01"),
        # 1e9 vs 1e9 + 0.5: 0.5 <= 1e-9 * (1e9 + 0.5) ≈ 1.0 -> relative, so it passes
        pytest.param(1e9, 0.5, 1e9, "pass", id="1e9-off-by-0.5"),
        # 1 vs 1 + 2e-9: 2e-9 > 1e-9 * 1.000000002
        pytest.param(1, 2e-9, 1, "fail", id="1-off-by-2e-9"),
        # 1 vs 1 + 5e-10: 5e-10 <= 1e-9 * 1.0000000005
        pytest.param(1, 5e-10, 1, "pass", id="1-off-by-5e-10"),
    ],
)
def test_the_default_tolerance_is_relative_1e_9(a, b, c, status):
    (result,) = check_results("c == a + b", None, months_rows(a=[a], b=[b], c=[c]))
    assert result["status"] == status


# -- output rounding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "x", "expected"),
    [
        pytest.param("format: currency", 1.005, 1.01, id="currency-1.005"),  # binary 1.00499…
        pytest.param("format: currency", 2.675, 2.68, id="currency-2.675"),
        pytest.param("format: currency", -1.005, -1.01, id="currency-neg"),
        pytest.param("format: currency", 0.125, 0.13, id="currency-exact-half"),
        pytest.param("format: currency", 1.004, 1.0, id="currency-down"),
        pytest.param("format: currency", 12345.678, 12345.68, id="currency-large"),
        pytest.param("format: currency, decimals: 0", 2.5, 3, id="currency-decimals-0"),
        # percent: decimals count percentage digits -> decimals + 2 places
        pytest.param("format: percent, decimals: 1", 0.12345, 0.123, id="percent-1-down"),
        # 0.1235 is binary 0.12349999…; corrected, half away from zero -> 0.124
        pytest.param("format: percent, decimals: 1", 0.1235, 0.124, id="percent-1-half"),
        # 0.305 is binary 0.30499999…; 2 places -> 0.31
        pytest.param("format: percent, decimals: 0", 0.305, 0.31, id="percent-0-half"),
        pytest.param("decimals: 2", 3.14159, 3.14, id="decimals-2"),
        pytest.param("decimals: 0", -2.5, -3, id="decimals-0-neg-half"),
        pytest.param("format: number, decimals: 3", 2.0005, 2.001, id="number-3-half"),
        # no format, no decimals: 15 significant digits (what float64 holds; hides binary noise)
        pytest.param("unit: ratio", 123456789.123456789, 123456789.123457, id="15-sig-large"),
        pytest.param("unit: ratio", 0.0001234567890123456, 0.000123456789012346, id="15-sig-small"),
        pytest.param("unit: ratio", 1234567890123456, 1234567890123460, id="15-sig-integer"),
        pytest.param("unit: ratio", 2.5, 2.5, id="15-sig-unchanged"),
    ],
)
def test_values_are_exact_and_shown_rounded_once(fmt, x, expected):
    """The JSON value is exact; what people read (tables, CSV, web, ``formatted``) is rounded
    half away from zero to the metric's places, correcting binary representation."""
    c = compile_pack(f"""\
        inputs:
          x: {{label: X}}
        metrics:
          m: {{label: M, formula: x, {fmt}}}
    """)
    row = at(
        run(c, [{"period": "2026-01", "store": "A", "x": x}], formatted=True), "2026-01", store="A"
    )
    assert row["values"]["m"] == x
    assert shown(row["values"]["m"], c.pack.metrics["m"])[0] == expected
    assert row["formatted"]["m"] == display_text(x, c.pack.metrics["m"])


@pytest.mark.parametrize(
    ("formula", "a", "b", "exact", "expected"),
    [
        pytest.param("a + b", 0.1, 0.2, 0.30000000000000004, 0.3, id="0.1+0.2"),
        pytest.param("a / b", 1, 3, 1 / 3, 0.333333333333333, id="1/3"),  # 15 significant digits
        pytest.param("a / b", 2, 3, 2 / 3, 0.666666666666667, id="2/3"),  # last digit rounds up
        pytest.param("a * b", 1.1, 1.1, 1.2100000000000002, 1.21, id="1.1*1.1"),
    ],
)
def test_the_json_keeps_every_bit_and_the_display_hides_binary_noise(
    formula, a, b, exact, expected
):
    c = compile_pack(f"""\
        inputs:
          a: {{label: A}}
          b: {{label: B}}
        metrics:
          m: {{label: M, formula: {formula}}}
    """)
    row = at(run(c, [{"period": "2026-01", "store": "A", "a": a, "b": b}]), "2026-01", store="A")
    assert row["values"]["m"] == exact
    assert shown(row["values"]["m"], c.pack.metrics["m"])[0] == expected


def test_no_rounding_between_metrics_nor_in_the_json():
    # third = 1/3 is exact in the JSON and tripled is 3 * (1/3) = 1; `cents` is shown as 0.33 but
    # is 1/3 in the JSON, and cents * 3 uses 0.333… -> 1.0
    c = compile_pack("""\
        inputs:
          a: {label: A}
          b: {label: B}
        metrics:
          third: {label: T, formula: a / b}
          tripled: {label: TT, formula: third * 3}
          cents: {label: C, formula: a / b, format: currency}
          cents_tripled: {label: CT, formula: cents * 3}
    """)
    row = at(
        run(c, [{"period": "2026-01", "store": "A", "a": 1, "b": 3}], formatted=True),
        "2026-01",
        store="A",
    )
    assert row["values"]["third"] == 1 / 3
    assert row["values"]["tripled"] == 1
    assert row["values"]["cents"] == 1 / 3
    assert row["values"]["cents_tripled"] == 1
    assert row["formatted"] == {
        "third": "0.3333",
        "tripled": "1",
        "cents": "0.33",
        "cents_tripled": "1",
    }


# -- input validation -----------------------------------------------------------------------------

VALIDATE = """\
inputs:
  a: {label: A}
  b: {label: B}
metrics:
  ratio: {label: R, formula: a / b}
  plus_one: {label: P, formula: a + 1}
"""


def three_rows(**third: Any) -> list[dict[str, Any]]:
    """Two good rows, then a third row with the given changes (an error names row 3)."""
    rows = [
        {"period": "2026-01", "store": "A", "a": 1, "b": 2},
        {"period": "2026-02", "store": "A", "a": 3, "b": 4},
        {"period": "2026-03", "store": "A", "a": 5, "b": 6},
    ]
    rows[2].update(third)
    return rows


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("abc", id="text"),
        pytest.param("NaN", id="NaN-text"),
        pytest.param("nan", id="nan-text"),
        pytest.param("inf", id="inf-text"),
        pytest.param("-inf", id="minus-inf-text"),
        pytest.param("Infinity", id="Infinity-text"),
        pytest.param(float("nan"), id="nan-float"),
        pytest.param(float("inf"), id="inf-float"),
        pytest.param(True, id="true"),
        pytest.param(False, id="false"),
        pytest.param("1,00", id="comma-not-grouping-thousands"),
        pytest.param("1_000", id="underscore-digits"),
        pytest.param([1], id="list"),
        pytest.param({"v": 1}, id="object"),
    ],
)
def test_a_cell_that_is_not_a_finite_number_is_an_input_error(bad):
    c = compile_pack(VALIDATE)
    with pytest.raises(InputError) as info:
        evaluate(c, three_rows(a=bad))
    assert info.value.row == 3
    assert info.value.column == "a"
    assert info.value.reason


def test_a_bad_cell_in_a_column_that_no_requested_metric_needs_is_still_an_error():
    c = compile_pack(VALIDATE)
    with pytest.raises(InputError) as info:
        evaluate(c, three_rows(b="abc"), metrics=["plus_one"])
    assert (info.value.row, info.value.column) == (3, "b")


def test_numeric_strings_are_numbers():
    c = compile_pack(VALIDATE)
    rows = [
        {"period": "2026-01", "store": "A", "a": "12", "b": 1},
        {"period": "2026-02", "store": "A", "a": "-3.5", "b": 1},
        {"period": "2026-03", "store": "A", "a": "1e3", "b": "4"},
    ]
    body = run(c, rows)
    assert column(body, "plus_one", store="A") == [13, -2.5, 1001]
    assert column(body, "ratio", store="A") == [12, -3.5, 250]  # 1000 / 4


@pytest.mark.parametrize(
    "period",
    [
        pytest.param("2026-Q1", id="quarter-among-months"),
        pytest.param("2026-03-01", id="day-among-months"),
        pytest.param("2026", id="year-among-months"),
        pytest.param("2026-13", id="unparseable-month-13"),
        pytest.param("March 2026", id="unparseable-words"),
        pytest.param("", id="empty"),
        pytest.param(None, id="null"),
    ],
)
def test_a_bad_or_mixed_grain_period_is_an_input_error(period):
    c = compile_pack(VALIDATE)
    with pytest.raises(InputError) as info:
        evaluate(c, three_rows(period=period))
    assert info.value.row == 3
    assert info.value.column == "period"


def test_a_duplicate_period_and_dimensions_key_is_an_input_error():
    c = compile_pack(VALIDATE)
    with pytest.raises(InputError) as info:
        evaluate(c, three_rows(period="2026-01"))  # row 3 repeats (2026-01, A) of row 1
    assert info.value.row == 3
    # the same period for another store is not a duplicate
    body = run(c, three_rows(period="2026-01", store="B"))
    assert len(body["rows"]) == 3


def test_a_missing_required_column_for_a_requested_metric_is_an_input_error():
    c = compile_pack(VALIDATE)
    rows = [{"period": "2026-01", "store": "A", "a": 1}]
    with pytest.raises(InputError) as info:
        evaluate(c, rows, metrics=["ratio"])
    assert info.value.column == "b"
    assert info.value.row is None
    # a requested metric that does not need the missing column is fine
    body = run(c, rows, metrics=["plus_one"])
    assert at(body, "2026-01", store="A")["values"] == {"plus_one": 2}


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"metrics": ["nope"]}, id="unknown-metric"),
        pytest.param({"metrics": ["c"]}, id="an-input-the-pack-lacks"),
        pytest.param({"by": ["region"]}, id="unknown-dimension-in-by"),
        pytest.param({"grain": "day"}, id="grain-day-finer-than-month"),
        pytest.param({"grain": "week"}, id="grain-week-finer-than-month"),
    ],
)
def test_bad_request_options_are_input_errors(options):
    c = compile_pack(VALIDATE)
    with pytest.raises(InputError):
        evaluate(c, three_rows(), **options)


def test_inputs_are_selected_and_shown_like_metrics():
    """`metrics` may name inputs: their values (rolled up like any input) are returned too."""
    c = compile_pack(VALIDATE)
    body = run(c, three_rows(), metrics=["b", "ratio"], grain="quarter")
    (row,) = body["rows"]
    assert row["values"] == {"b": 12, "ratio": 9 / 12}  # a: 1 + 3 + 5, b: 2 + 4 + 6
    with pytest.raises(InputError, match="not in the data"):
        evaluate(c, [{"period": "2026-01", "store": "A", "a": 1}], metrics=["b"])


def test_a_missing_column_without_metrics_drops_its_dependents_into_warnings():
    c = compile_pack("""\
        inputs:
          orders: {label: Orders}
          visits_total: {label: Visits}
        metrics:
          order_count: {label: O, formula: orders}
          conversion_rate: {label: C, formula: orders / visits_total}
          conversion_pct: {label: P, formula: conversion_rate * 100}
        rules:
          converting: {label: Conv, when: conversion_rate > 0}
    """)
    body = run(c, [{"period": "2026-01", "store": "A", "orders": 7}])
    row = at(body, "2026-01", store="A")
    assert row["values"]["order_count"] == 7
    assert "conversion_rate" not in row["values"]
    assert "conversion_pct" not in row["values"]
    assert row["rules"] == []  # the rule's names are unavailable: skipped
    texts = [json.dumps(w, ensure_ascii=False) for w in body["warnings"]]
    for metric in ("conversion_rate", "conversion_pct"):
        assert any(metric in t and "visits_total" in t for t in texts), (metric, texts)
    assert not any("order_count" in t for t in texts)


# -- optional inputs -----------------------------------------------------------------------------

OPTIONAL = """\
inputs:
  a: {label: A}
  bonus: {label: Bonus, required: false, default: 0}
  reported: {label: Reported, required: false, default: null}
metrics:
  total: {label: T, formula: a + bonus}
  gap: {label: G, formula: reported - a}
checks:
  matches: {label: M, assert: reported == a}
"""


def test_an_absent_optional_column_takes_its_default():
    c = compile_pack(OPTIONAL)
    body = run(c, [{"period": "2026-01", "store": "A", "a": 10}])
    row = at(body, "2026-01", store="A")
    assert row["values"]["total"] == 10  # 10 + default 0
    # default null: the metric is computed and null (not dropped), the check undefined
    assert row["values"]["gap"] is None
    assert "gap" in row["undefined"]
    assert check_of(row, "matches")["status"] == "undefined"
    assert not any("total" in json.dumps(w) or "gap" in json.dumps(w) for w in body["warnings"])


def test_a_blank_optional_cell_takes_its_default():
    c = compile_pack(OPTIONAL)
    rows = series("A", MONTHS[:2], a=[10, 10], bonus=[None, 5], reported=[None, 10])
    body = run(c, rows)
    assert column(body, "total", store="A") == [10, 15]  # 10 + 0 (blank -> default), 10 + 5
    assert column(body, "gap", store="A") == [None, 0]
    feb = at(body, "2026-02", store="A")
    assert check_of(feb, "matches")["status"] == "pass"


# -- metrics subset --------------------------------------------------------------------------------


def test_only_requested_metrics_appear_but_their_dependencies_are_computed():
    c = compile_pack("""\
        inputs:
          a: {label: A}
          b: {label: B}
        metrics:
          ratio: {label: R, formula: a / b}
          doubled: {label: D, formula: ratio * 2}
          other: {label: O, formula: a + 1}
    """)
    body = run(c, [{"period": "2026-01", "store": "A", "a": 3, "b": 4}], metrics=["doubled"])
    row = at(body, "2026-01", store="A")
    assert row["values"] == {"doubled": 1.5}  # 3 / 4 * 2


def test_trace_explains_each_metric_a_value_is_made_of():
    c = compile_pack("""\
        inputs:
          a: {label: A}
          b: {label: B}
        metrics:
          s: {label: S, formula: a + b}
          r: {label: R, formula: s / b}
    """)
    rows = [{"period": "2026-01", "store": "A", "a": 6, "b": 2}]
    body = evaluate(c, rows, metrics=["r"], trace=True).to_json()
    trace = body["rows"][0]["trace"]
    assert list(body["rows"][0]["values"]) == ["r"]  # only what was asked for is returned...
    assert trace["r"] == {"formula": "s / b", "with_values": "8 / 2", "value": 4.0}  # (6 + 2) / 2
    # ...but s is explained
    assert trace["s"] == {"formula": "a + b", "with_values": "6 + 2", "value": 8.0}


def test_huge_finite_values_stay_finite_through_output_rounding():
    # 1e308 is a finite double; rounding a currency to cents multiplies it by 100 (inf) —
    # the output must still be a number (or null), never Infinity, which JSON cannot hold
    c = compile_pack("""\
        inputs:
          x: {label: X}
        metrics:
          money: {label: M, formula: x, format: currency}
          twice: {label: T, formula: x * 2, format: currency}
    """)
    body = run(c, [{"period": "2026-01", "store": "A", "x": 1e308}])
    row = at(body, "2026-01", store="A")
    assert row["values"]["money"] == 1e308
    assert row["values"]["twice"] is None and "overflow" in row["undefined"]["twice"]
    json.dumps(body, allow_nan=False)
