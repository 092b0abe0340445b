"""Edges of measures found by an adversarial review: file types guessed from a sample, time
zones, joins of several sources, null comparisons, reserved names, param overrides, dialects,
validation of what SQL cannot compute. Each expectation is worked by hand."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from engine.compile.pack import CompiledPack, check_text, compile_pack
from engine.core.errors import InputError
from engine.evaluate.measures import (
    measure_sql,
    merge_inputs,
    metric_query,
    open_sources,
    run_measures,
)
from engine.evaluate.table import read_table
from engine.load.library import PackLibrary


def pack(
    inputs: str, *, sources: str | None = None, params: str = "", metrics: str = ""
) -> CompiledPack:
    text = f"""pack: edge
version: '1.0.0'
title: {{zh: 边, en: Edge}}
dimensions: {{store: {{label: {{zh: 店, en: Store}}}}}}
{params}
sources:
{
        sources
        or '''  ev:
    label: {zh: 流水, en: Events}
    time: t
    dimensions: {store: s}
    entity: m'''
    }
inputs:
{inputs}
metrics:
  shown: {{label: {{zh: 值, en: Shown}}, formula: '1'}}
{metrics}
"""
    c, problems = check_text(text, library=PackLibrary([]))
    assert c is not None, [str(p) for p in problems]
    return c


def problems_of(inputs: str, sources: str) -> list[str]:
    text = f"""pack: edge
version: '1.0.0'
title: {{zh: 边, en: Edge}}
sources:
{sources}
inputs:
{inputs}
metrics:
  shown: {{label: {{zh: 值, en: Shown}}, formula: '1'}}
"""
    _, problems = check_text(text, library=PackLibrary([]))
    return [f"{p.code} {p.message}" for p in problems if p.severity == "error"]


def csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


SUM = "  x: {label: {zh: x, en: x}, measure: {source: ev, agg: sum, of: amount}}"


def test_a_late_decimal_is_not_rounded_by_a_sampled_integer_type(tmp_path: Path) -> None:
    c = pack(SUM)
    lines = (
        ["t,s,m,amount"]
        + ["2025-01-05 10:00:00,S1,m1,1"] * 30_000
        + ["2025-02-05 10:00:00,S1,m1,1.5"]
    )
    got = run_measures(c, {"ev": csv(tmp_path, "ev.csv", "\n".join(lines) + "\n")})
    assert dict(zip(got["period"], got["x"], strict=True)) == {"2025-01": 30_000, "2025-02": 1.5}


def test_a_late_word_in_a_number_column_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    c = pack(
        SUM,
        sources="""  ev:
    label: {zh: 流水, en: Events}
    time: t
    dimensions: {store: s}
    columns: {amount: {type: number}}""",
    )
    lines = ["t,s,amount"] + ["2025-01-05 10:00:00,S1,1"] * 30_000 + ["2025-02-05 10:00:00,S1,abc"]
    with pytest.raises(
        InputError,
        match=r"column 'amount': 1 row with a value that is not a number — row 30001: 'abc'",
    ):
        run_measures(c, {"ev": csv(tmp_path, "ev.csv", "\n".join(lines) + "\n")})
    # undeclared but summed: checked as a declared number column is (not a SQL type error)
    lines = (
        ["t,s,m,amount"]
        + ["2025-01-05 10:00:00,S1,m1,1"] * 30_000
        + ["2025-02-05 10:00:00,S1,m1,abc"]
    )
    with pytest.raises(
        InputError,
        match=r"source 'ev' \(ev.csv\), column 'amount': 1 row with a value that is not a "
        r"number — row 30001: 'abc'",
    ):
        run_measures(pack(SUM), {"ev": csv(tmp_path, "ev.csv", "\n".join(lines) + "\n")})


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("2025-02-01T00:30:00+08:00", "a time with a UTC offset"),
        ("2025-02-01T00:30:00Z", "a time with a UTC offset"),
        ("03/04/2025", "a time that does not parse as an ISO date or time"),
    ],
)
def test_times_are_local_iso_times(tmp_path: Path, value: str, why: str) -> None:
    path = csv(tmp_path, "ev.csv", f"t,s,m,amount\n2025-01-05 10:00:00,S1,a,1\n{value},S1,b,2\n")
    with pytest.raises(
        InputError, match=f"column 't': 1 row with {why}.* — row 2: '{re.escape(value)}'"
    ):
        run_measures(pack(SUM), {"ev": path})


def test_a_parquet_time_with_a_time_zone_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ev.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT TIMESTAMPTZ '2025-02-01 00:30:00+08' AS t, 'S1' AS s, 'a' AS m, "
        f"1.0 AS amount) TO '{path}' (FORMAT parquet)"
    )
    with pytest.raises(InputError, match="times with a time zone; give local business time"):
        run_measures(pack(SUM), {"ev": path})


def test_a_comparison_with_null_is_false_in_measures_as_in_formulas(tmp_path: Path) -> None:
    c = pack("""  calm:
    label: {zh: c, en: c}
    measure: {source: ev, agg: count, where: "not (amount > 10)"}
  fresh:
    label: {zh: f, en: f}
    measure:
      {source: ev, per: entity, agg: count, having: "not (days_since_last(amount > 100) <= 30)"}""")
    got = run_measures(
        c,
        {
            "ev": csv(
                tmp_path,
                "ev.csv",
                "t,s,m,amount\n2025-01-05 10:00:00,S1,a,\n2025-01-06 10:00:00,S1,b,5\n",
            )
        },
    )
    # a blank amount: amount > 10 is false, so not(...) is true — both records count;
    # nobody bought over 100: days_since_last is null, <= 30 is false, not(...) is true for a and b
    assert (got["calm"], got["fresh"]) == ([2], [2])


def test_a_column_with_an_engine_name_is_refused(tmp_path: Path) -> None:
    path = csv(tmp_path, "ev.csv", "t,s,m,amount,kpi__entity\n2025-01-05 10:00:00,S1,a,1,z\n")
    with pytest.raises(InputError, match="column 'kpi__entity' has a name reserved for the engine"):
        run_measures(pack(SUM), {"ev": path})


def test_header_only_is_no_records(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"source 'ev' \(ev.csv\) has no records"):
        run_measures(pack(SUM), {"ev": csv(tmp_path, "ev.csv", "t,s,m,amount\n")})


def test_declared_values_may_be_booleans_and_numbers_must_be_finite(tmp_path: Path) -> None:
    c = pack(
        "  x: {label: {zh: x, en: x}, measure: {source: "
        "ev, agg: sum, of: amount, where: ok == 'true'}}",
        sources="""  ev:
    label: {zh: 流水, en: Events}
    time: t
    dimensions: {store: s}
    columns: {ok: {values: [true, false]}, amount: {type: number}}""",
    )
    got = run_measures(
        c,
        {
            "ev": csv(
                tmp_path, "ev.csv", "t,s,ok,amount\n2025-01-05,S1,true,2\n2025-01-06,S1,false,3\n"
            )
        },
    )
    assert got["x"] == [2]
    with pytest.raises(
        InputError, match="column 'amount': 1 row with a value that is not a finite number"
    ):
        run_measures(c, {"ev": csv(tmp_path, "ev.csv", "t,s,ok,amount\n2025-01-05,S1,true,inf\n")})
    with pytest.raises(
        InputError, match="column 'amount': 1 row with a value that is not a number — row 1: 'True'"
    ):
        run_measures(c, {"ev": csv(tmp_path, "ev.csv", "t,s,ok,amount\n2025-01-05,S1,true,True\n")})


def test_sources_and_data_join_by_dimension_name_and_text(tmp_path: Path) -> None:
    text = """pack: edge2
version: '1.0.0'
title: {zh: 边, en: Edge}
dimensions: {store: {label: {zh: 店, en: Store}}, region: {label: {zh: 区, en: Region}}}
sources: {a: {label: {zh: a, en: a}, time: t, dimensions: {store: s, region: r}},
          b: {label: {zh: b, en: b}, time: t, dimensions: {region: r, store: s}}}
inputs:
  x: {label: {zh: x, en: x}, measure: {source: a, agg: sum, of: amount}}
  y: {label: {zh: y, en: y}, measure: {source: b, agg: count}}
  z: {label: {zh: z, en: z}}
metrics:
  w: {label: {zh: w, en: w}, formula: x + y + z}
"""
    compiled, problems = check_text(text, library=PackLibrary([]))
    assert compiled is not None, problems
    a = csv(tmp_path, "a.csv", "t,s,r,amount\n2025-01-05,1,north,10\n")
    b = tmp_path / "b.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT DATE '2025-01-09' AS t, '1' AS s, 'north' AS r) TO '{b}' (FORMAT parquet)"
    )
    got = run_measures(compiled, {"a": a, "b": b})
    assert (got["period"], got["store"], got["region"], got["x"], got["y"]) == (
        ["2025-01"],
        ["1"],
        ["north"],
        [10],
        [1],
    )
    data = read_table(csv(tmp_path, "data.csv", "period,store,region,z\n2025-01,1,north,100\n"))
    merged = merge_inputs(compiled, got, data)
    assert (merged["x"], merged["y"], merged["z"]) == ([10], [1], ["100"])


def test_params_override_measures_too(tmp_path: Path) -> None:
    core = compile_pack("membership-core")
    rows = [
        "customer_id,order_time,amount",
        "c1,2025-01-05 10:00:00,10",
        "c2,2025-01-06 10:00:00,10",
    ]
    # never lapses
    rows += [f"filler,2025-{m:02d}-{d:02d} 09:00:00,1" for m in range(1, 7) for d in (1, 15)]
    path = csv(tmp_path, "orders.csv", "\n".join(rows) + "\n")

    def churned(params: dict[str, float] | None) -> dict[str, int]:
        got = run_measures(core, {"orders": path}, params=params)
        return {p: n for p, n in zip(got["period"], got["churned_members"], strict=True) if n}

    # last orders on 5 and 6 Jan: 90 days later falls in
    # April (5 Apr, 6 Apr); 30 days later in February
    assert churned(None) == {"2025-04": 2}
    assert churned({"churn_days": 30}) == {"2025-02": 2}
    with pytest.raises(InputError, match="unknown param 'churn_day'"):
        churned({"churn_day": 30})


def test_bigquery_adds_to_datetimes_with_datetime_functions() -> None:
    sql = measure_sql(compile_pack("bakery-stored-value"), "bigquery", metrics=True)["card_events"]
    assert "DATETIME_ADD(" in sql and "DATETIME_TRUNC(" in sql
    assert "DATE_ADD(" not in sql.replace("DATETIME_ADD(", "") and "TIMESTAMP_TRUNC(" not in sql


def test_what_sql_cannot_compute_is_refused_when_the_pack_is_checked() -> None:
    sources = """  ev:
    label: {zh: 流水, en: Events}
    time: t
    columns: {amount: {type: number}, kind: {type: text}}"""
    assert problems_of(
        "  x: {label: {zh: x, en: x}, measure: {source: ev, agg: sum, of: 'round(amount, 2)'}}",
        sources,
    ) == ["KPI-R018 input 'x': round() is not available in a measure"]
    assert problems_of(
        "  x: {label: {zh: x, en: x}, measure: {source: ev, agg: sum, of: kind}}", sources
    ) == ["KPI-R018 input 'x': agg sum needs numbers, and 'kind' is text"]


def test_a_negative_power_of_zero_is_null_in_sql_as_in_the_evaluator(tmp_path: Path) -> None:
    c = pack(
        "  buys: {label: {zh: b, en: b}, measure: {source: ev, agg: count, where: amount > 100}}",
        metrics="  inverse: {label: {zh: i, en: i}, formula: buys ** -2}",
    )
    path = csv(tmp_path, "ev.csv", "t,s,m,amount\n2025-01-05,S1,a,1\n2025-02-05,S1,a,200\n")
    cursor = open_sources(c, {"ev": path}).execute(metric_query(c, "ev").sql("duckdb"))
    column = [d[0] for d in cursor.description].index("inverse")
    # 0 ** -2 is null (not inf); 1 ** -2 is 1
    assert [r[column] for r in cursor.fetchall()] == [None, 1.0]


LEDGER_DEMO = Path(__file__).resolve().parents[1] / "packs" / "measures" / "ledger-demo"


def test_export_numbers_in_an_undeclared_summed_column_are_read_or_refused_with_their_row(
    tmp_path: Path,
) -> None:
    """ledger-demo declares no columns: amount and gift are summed, kind compared with text. An
    export form that reads one way ("1,100") is read as the number; one that reads two ways
    ("1,10") is refused with its row and the hint; kind (text) is never taken for a number."""
    c = compile_pack(LEDGER_DEMO)
    head = "event_time,store_id,member_id,kind,amount,gift\n"
    text = (
        head + "2026-01-03 09:15:00,S01,M001,recharge,200,10\n"
        '2026-01-04 09:15:00,S01,M002,recharge,"1,100",100\n'
    )
    got = run_measures(c, {"card_events": csv(tmp_path, "ld.csv", text)})
    assert (got["recharge_amount"], got["gift_income"]) == ([1300], [110])
    bad = csv(tmp_path, "bad.csv", text.replace('"1,100"', '"1,10"'))
    with pytest.raises(InputError) as err:
        run_measures(c, {"card_events": bad})
    assert err.value.code == "KPI-E043"
    assert (err.value.row, err.value.column) == (2, "amount")
    assert "column 'amount': 1 row with a value that is not a number — row 2: '1,10'" in str(
        err.value
    )
    assert err.value.hint is not None and "could be read two ways" in err.value.hint


@pytest.mark.parametrize(
    ("text", "summed", "want"),
    [
        ("if(kind == 'recharge', amount - gift, 0)", True, {"amount", "gift"}),
        ("amount", True, {"amount"}),
        ("amount", False, set()),  # count_distinct of amount: any type
        ("kind == 'recharge'", False, set()),
        ("amount > 100 and kind in ('a', 'b')", False, {"amount"}),
        ("code in (1, 2)", False, {"code"}),
        ("store_id == 'S01' and qty * price >= 10", False, {"qty", "price"}),
    ],
)
def test_number_columns_are_those_read_as_numbers(text: str, summed: bool, want: set[str]) -> None:
    from engine.formula import parse_formula
    from engine.validate.measure_types import number_columns

    parsed = parse_formula(text, expect="any", mode="measure")
    # store_id is a dimension column (text): declared, so never reported
    assert number_columns(parsed, {"store_id": "text"}, set(), number=summed) == want
