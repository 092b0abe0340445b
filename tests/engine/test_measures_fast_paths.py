"""The query's shortcuts give what the plain computation gives (engine.evaluate.measures.preagg,
engine.evaluate.measures.entity): event and to-date measures from the records grouped by their
enumerated columns against the same measures over every record, blank numbers and blank
enumerated values included; ``count_distinct`` of the entity column counted from the
per-entity rows against ``COUNT(DISTINCT …)``; which measures qualify."""

from __future__ import annotations

import functools
import math
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.compile.pack import CompiledPack, check_text
from engine.evaluate.measures.query import SourceQuery
from engine.load.library import PackLibrary

#: measures computable from the grouped records: sums piecewise linear in one number column
GROUPED = {
    "amount_a": "{source: ev, agg: sum, of: amount, where: \"kind == 'a'\"}",
    "rows": "{source: ev, agg: count}",
    "qty_counted": "{source: ev, agg: count, of: qty, where: \"kind != 'c'\"}",
    "balance": "{source: ev, agg: sum, as_of: start, "
    "of: \"if(kind == 'a', amount, 0) - if(kind in ('a', 'b'), amount, 0)\"}",
    "b_to_date": "{source: ev, agg: count, as_of: end, where: \"kind == 'b'\"}",
    "affine": "{source: ev, agg: sum, of: 'amount / 4 - lim * amount + 3', where: \"flag == 'x'\"}",
    "blank_a": "{source: ev, agg: sum, as_of: end, of: \"if(kind == 'a', null, qty)\"}",
    "halves": "{source: ev, agg: sum, of: \"if(kind == 'b', 2, 0.5)\"}",
    "scaled": "{source: ev, agg: sum, "
    "of: \"if(kind == 'b', 2, 1) * if(flag == 'x', qty, 3 * qty)\"}",
    "constants": "{source: ev, agg: count, of: \"if(kind == 'b', null, 2)\"}",
    "top": "{source: ev, agg: max, of: \"if(kind == 'a', 5, lim)\", where: \"flag == 'y'\"}",
    "flags": "{source: ev, agg: count_distinct, of: flag, where: \"kind == 'a'\"}",
    "members": "{source: ev, agg: count_distinct, of: m, where: \"kind == 'b'\"}",
}
#: measures that need the records as they are, each on its own
RECORDS = {
    "two_columns": "{source: ev, agg: sum, of: 'amount - qty'}",  # null when either is
    "on_a_number": "{source: ev, agg: count, where: 'amount > 2'}",
    "smallest": "{source: ev, agg: min, of: amount}",
    "mean": "{source: ev, agg: avg, of: amount, where: \"kind == 'a'\"}",
    "kinds": "{source: ev, agg: count_distinct, of: kind}",  # not a shortcut: fine either way
}


@functools.cache
def pack(inputs: tuple[tuple[str, str], ...], entity: bool = True) -> CompiledPack:
    lines = "\n".join(f"  {n}: {{label: {{zh: {n}, en: {n}}}, measure: {m}}}" for n, m in inputs)
    text = f"""pack: fast
version: '1.0.0'
title: {{zh: 快, en: Fast}}
dimensions: {{store: {{label: {{zh: 店, en: Store}}}}}}
params:
  lim: {{value: 10, label: {{zh: l, en: l}}}}
sources:
  ev:
    label: {{zh: 流水, en: Events}}
    time: t
    dimensions: {{store: s}}
    {"entity: m" if entity else ""}
    columns:
      m: {{type: text}}
      kind: {{type: text, values: [a, b, c]}}
      flag: {{type: text, values: [x, y]}}
      amount: {{type: number}}
      qty: {{type: number}}
inputs:
{lines}
metrics:
  shown: {{label: {{zh: 值, en: Shown}}, formula: '1'}}
"""
    c, problems = check_text(text, library=PackLibrary([]))
    assert c is not None, [str(p) for p in problems if p.severity == "error"]
    return c


def results(
    c: CompiledPack, con: Any, grain: str, *, preaggregate: bool = True
) -> tuple[str, list[tuple]]:
    sq = SourceQuery(c, "ev", grain)
    sq.preaggregate = preaggregate
    sql = sq.build().sql("duckdb")
    return sql, con.execute(sql).fetchall()


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return type(a) is type(b) and (
        math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) if isinstance(a, float) else a == b
    )


_EDGES = [datetime(2024, m, 1) for m in range(1, 7)]
_TIMES = st.one_of(
    st.datetimes(min_value=_EDGES[0], max_value=datetime(2024, 6, 30)),
    st.sampled_from(_EDGES),
    st.sampled_from([e - timedelta(seconds=1) for e in _EDGES[1:]]),
)
_NUMBER = st.one_of(st.none(), st.sampled_from([0.0, 0.1, 0.2, 1.0, 2.5, 10.0]))
_ROW = st.tuples(
    _TIMES,
    st.sampled_from(["S1", "S2"]),
    st.sampled_from(["M1", "M2", "M3"]),
    st.sampled_from(["a", "a", "b", "c", None]),
    st.sampled_from(["x", "y", None]),
    _NUMBER,
    _NUMBER,
)


def ledger(rows: list[tuple]) -> Any:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE ev (t TIMESTAMP, s VARCHAR, m VARCHAR, "
        "kind VARCHAR, flag VARCHAR, amount DOUBLE, qty DOUBLE)"
    )
    con.executemany("INSERT INTO ev VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return con


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ROW, min_size=1, max_size=40), st.sampled_from(["month", "week"]))
def test_grouped_records_give_what_the_records_give(rows: list[tuple], grain: str) -> None:
    c, con = pack(tuple(GROUPED.items())), ledger(rows)
    sql, fast = results(c, con, grain)
    assert "kpi__fk" in sql
    plain_sql, plain = results(c, con, grain, preaggregate=False)
    assert "kpi__fk" not in plain_sql and len(fast) == len(plain)
    for got, want in zip(fast, plain, strict=True):
        assert all(same(a, b) for a, b in zip(got, want, strict=True)), (got, want)


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_other_measures_are_computed_from_the_records(name: str) -> None:
    sql, _ = results(
        pack((*GROUPED.items(), (name, RECORDS[name]))),
        ledger([(_EDGES[0], "S1", "M1", "a", "x", 1.0, 2.0)]),
        "month",
    )
    assert ("kpi__fk" in sql) == (name == "kinds")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ROW, min_size=1, max_size=40))
def test_distinct_entities_from_their_rows_equal_count_distinct(rows: list[tuple]) -> None:
    con = ledger(rows)
    inputs = (
        ("members", GROUPED["members"]),
        ("all_members", "{source: ev, agg: count_distinct, of: m}"),
        ("with_amount", "{source: ev, agg: count_distinct, of: m, where: 'amount > 1'}"),
    )
    sql, fast = results(pack(inputs), con, "month")
    assert "kpi__edistinct" in sql and "COUNT(DISTINCT" not in sql
    plain_sql, plain = results(pack(inputs, entity=False), con, "month")
    assert "kpi__eflow" not in plain_sql and "COUNT(DISTINCT" in plain_sql
    assert fast == plain
