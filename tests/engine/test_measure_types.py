"""Measure expressions are type-checked against the source's declared columns (KPI-R020), so that
`kpi validate` refuses a measure the SQL engine could not run; `day()` and lists in `of` count
distinct combinations (customer-days)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engine.compile.pack import check_text
from engine.evaluate.measures import measure_sql, run_measures

HEAD = """\
pack: typed
version: '1.0.0'
title: {en: Typed}
locales: [en]
params: {threshold: {value: 10}}
sources:
  orders:
    time: order_time
    entity: customer_id
    columns:
      order_time: {type: time}
      customer_id: {type: text}
      channel: {type: text, values: [web, shop]}
      amount: {type: number}
inputs:
"""


def problems(measure: str) -> list[tuple[str, int, int, str]]:
    text = (
        HEAD
        + f"  x:\n    label: X\n    measure: {measure}\nmetrics:\n  m: {{label: M, formula: x}}\n"
    )
    _, found = check_text(text)
    return [(p.code, p.line or 0, p.column or 0, p.message) for p in found if p.severity == "error"]


@pytest.mark.parametrize(
    ("measure", "message"),
    [
        (
            '{source: orders, agg: count_distinct, of: "customer_id + order_time"}',
            "'customer_id' is text: + and - work on numbers",
        ),
        (
            '{source: orders, agg: sum, of: "amount * channel"}',
            "'channel' is text: * and / work on numbers",
        ),
        (
            '{source: orders, agg: count, where: "customer_id > 3"}',
            "'customer_id' is text: > compares numbers or times",
        ),
        ("{source: orders, agg: count, where: \"amount == 'web'\"}", "== mixes a number and text"),
        ('{source: orders, agg: count, where: "channel in (1, 2)"}', "in mixes text and a number"),
        (
            '{source: orders, agg: count, where: "order_time > amount"}',
            "> mixes a time and a number",
        ),
        (
            '{source: orders, agg: sum, of: "if(amount > 0, amount, channel)"}',
            "if's two values mix a number and text",
        ),
        (
            "{source: orders, agg: sum, of: order_time}",
            "agg sum needs numbers, and 'order_time' is a time",
        ),
        ('{source: orders, agg: max, of: "day(order_time)"}', "agg max needs numbers"),
        (
            '{source: orders, agg: count_distinct, of: "day(amount)"}',
            "'amount' is a number: day() needs a time",
        ),
        (
            '{source: orders, per: entity, agg: count, having: "total(channel) > 1"}',
            "total() needs a number",
        ),
    ],
)
def test_types_that_do_not_fit_are_refused_where_they_are_written(
    measure: str, message: str
) -> None:
    (problem,) = problems(measure)
    code, line, column, text = problem
    assert code == "KPI-R020" and line == 18 and column > 0  # the measure's line, at the name
    assert message.replace("values mix", "values mixes") in text or message in text, text


@pytest.mark.parametrize(
    "measure",
    [
        "{source: orders, agg: count_distinct, of: [customer_id, "
        '"day(order_time)"], where: amount > threshold}',
        "{source: orders, agg: sum, of: \"if(channel == 'web', amount, 0)\"}",
        "{source: orders, agg: count, where: \"order_time >= order_time and channel in ('web')\"}",
        "{source: orders, agg: count_distinct, of: customer_id}",
        "{source: orders, agg: count, of: channel}",
        '{source: orders, per: entity, agg: avg, of: "days_since_last(amount > 0)", '
        'having: "total(amount) > threshold"}',
    ],
)
def test_types_that_fit_are_accepted(measure: str) -> None:
    assert problems(measure) == []


def test_a_list_of_is_only_for_count_distinct() -> None:
    (problem,) = problems("{source: orders, agg: sum, of: [amount, amount]}")
    assert problem[0] == "KPI-R019" and "distinct combinations" in problem[3]


def test_distinct_customer_days_are_counted_on_duckdb_and_rendered_for_every_engine(
    tmp_path: Path,
) -> None:
    text = HEAD + (
        "  visits:\n    label: Visits\n    measure: {source: orders, agg: count_distinct, "
        'of: [customer_id, "day(order_time)"], where: amount > 0}\n'
        "  buyers:\n    label: Buyers\n"
        "    measure: {source: orders, agg: count_distinct, of: customer_id, where: amount > 0}\n"
        "metrics:\n  visits_per_buyer: {label: V, formula: visits / buyers}\n"
    )
    c, found = check_text(text)
    assert c is not None and not found
    path = tmp_path / "orders.csv"
    # 'a'+'1' and 'a1' are different customers
    records = [
        ("2025-01-01 10:00:00", "a", "web", 5),
        ("2025-01-01 18:00:00", "a", "shop", 5),  # a: one day
        ("2025-01-02 09:00:00", "a", "web", 5),  # a: day two
        ("2025-01-02 10:00:00", "b", "web", 5),
        ("2025-01-03 10:00:00", "b", "web", -5),  # b: a refund
        ("2025-01-04 10:00:00", "a", "web", 1),  # a: day three
        ("2025-01-04 10:00:00", "a1", "web", 1),
    ]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["order_time", "customer_id", "channel", "amount"])
        w.writerows(records)
    got = run_measures(c, {"orders": path})
    # a: 3 days, b: 1 (the refund is no order), a1: 1
    assert got["visits"] == [5] and got["buyers"] == [3]
    for dialect in ("spark", "trino", "postgres", "bigquery", "snowflake"):
        sql = measure_sql(c, dialect)["orders"]
        assert "LENGTH(" in sql.upper() and "DISTINCT" in sql.upper(), dialect
