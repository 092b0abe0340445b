"""The measures' SQL rendered for Spark runs on Spark (local mode) and gives DuckDB's results."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from engine.compile.pack import CompiledPack, check_pack
from engine.demo.bakery import bakery_ledger, write_ledger
from engine.evaluate.measures import run_measures
from engine.load.library import PackLibrary
from tests.spark_support import (
    assert_same_results,
    collect_sql,
    register,
    run_spark_measures,
    run_spark_sql,
)

PACK = Path(__file__).resolve().parent.parent / "packs" / "measures" / "ledger-demo"
KEYS = ("period", "store")


@pytest.fixture(scope="module")
def compiled() -> CompiledPack:
    c, problems = check_pack(PACK, PackLibrary([]))
    assert c is not None and not problems
    return c


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, np.ndarray], Path]:
    data = bakery_ledger(stores=3, months=6, members=300, seed=11)
    out = tmp_path_factory.mktemp("ledger")
    write_ledger(data, out, formats=("parquet",))
    return data, out / "card_events.parquet"


@pytest.mark.parametrize("grain", ["month", "quarter", "day"])
def test_spark_gives_duckdbs_results(spark, compiled, ledger, grain: str):
    data, parquet = ledger
    want = run_measures(compiled, {"card_events": parquet}, grain)
    got = run_spark_measures(spark, compiled, {"card_events": data}, grain)
    periods = {"month": 6, "quarter": 2, "day": 181}[grain]
    assert len(set(want["period"])) == periods and len(set(want["store"])) == 3
    assert sum(want["recharge_count"]) > 100 and sum(want["new_members"]) == 300
    assert_same_results(want, got, keys=KEYS, grain=grain)


def test_the_comparison_can_fail(compiled, ledger):
    _, parquet = ledger
    want = run_measures(compiled, {"card_events": parquet})
    off = {**want, "gift_income": [v * (1 + 1e-7) for v in want["gift_income"]]}
    with pytest.raises(AssertionError, match="gift_income"):
        assert_same_results(want, off, keys=KEYS)
    fewer = {n: v[1:] for n, v in want.items()}
    with pytest.raises(AssertionError, match="rows only from duckdb"):
        assert_same_results(want, fewer, keys=KEYS)
    as_dates = {**want, "period": [dt.date(int(p[:4]), int(p[5:]), 1) for p in want["period"]]}
    assert_same_results(want, as_dates, keys=KEYS)  # a month's first day is that month
    last_days = {**want, "period": [d.replace(day=28) for d in as_dates["period"]]}
    with pytest.raises(AssertionError, match="rows only"):
        assert_same_results(want, last_days, keys=KEYS)


@pytest.fixture(params=["UTC", "Asia/Shanghai", "America/Los_Angeles"])
def python_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The Python process's local time zone, which PySpark uses for naive datetimes by default."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", request.param)
        time.tzset()
        try:
            assert (
                time.timezone
                == {"UTC": 0, "Asia/Shanghai": -8 * 3600, "America/Los_Angeles": 8 * 3600}[
                    request.param
                ]
            )
            yield request.param
        finally:
            mp.undo()
            time.tzset()


def test_month_edges_land_in_their_months(spark, compiled, python_zone: str):
    times = np.array(
        ["2024-12-31T23:59:59", "2025-01-01T00:00:00", "2025-01-31T23:59:59"], "datetime64[s]"
    )
    ledger = {
        "event_time": times,
        "store_id": np.array(["S01"] * 3),
        "member_id": np.array(["M1", "M2", "M2"]),
        "kind": np.array(["recharge", "register", "recharge"]),
        "amount": np.array([200.0, 0.0, 100.0]),
        "gift": np.array([20.0, 0.0, 10.0]),
    }
    register(spark, "edges", ledger)
    assert run_spark_sql(
        spark,
        "SELECT DATE_FORMAT(event_time, 'yyyy-MM-dd HH:mm:ss'), event_time FROM edges "
        "ORDER BY event_time",
    ) == [
        ("2024-12-31 23:59:59", dt.datetime(2024, 12, 31, 23, 59, 59)),
        ("2025-01-01 00:00:00", dt.datetime(2025, 1, 1)),
        ("2025-01-31 23:59:59", dt.datetime(2025, 1, 31, 23, 59, 59)),
    ]
    got = run_spark_measures(spark, compiled, {"card_events": ledger})
    want = {
        "period": ["2024-12", "2025-01"],
        "store": ["S01", "S01"],
        "recharge_amount": [200.0, 100.0],
        "recharge_count": [1, 1],
        "new_members": [0, 1],
        "gift_income": [20.0, 10.0],
    }
    assert_same_results(want, got, keys=KEYS)


# -- the built-in bakery pack: event, to-date and entity measures, and metrics, on Spark -----------


@pytest.fixture(scope="module")
def bakery_ledger_14m(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, np.ndarray], Path]:
    # 14 months: 90-day churn, cancellations, a points fair and imports happen
    data = bakery_ledger(stores=3, months=14, members=250, seed=4)
    out = tmp_path_factory.mktemp("bakery")
    write_ledger(data, out, formats=("parquet",))
    return data, out / "card_events.parquet"


def test_every_bakery_input_on_spark_equals_the_reference(spark, bakery_ledger_14m):
    """Spark's results for every bakery input equal the plain-Python reference (and so DuckDB's)."""
    from engine.compile.pack import compile_pack
    from tests.ledger_reference import BAKERY_INPUTS, bakery_inputs

    data, _ = bakery_ledger_14m
    bakery = compile_pack("bakery-stored-value")
    got = run_spark_measures(spark, bakery, {"card_events": data})
    cols = ("event_time", "store_id", "member_id", "kind", "amount", "net", "gift", "points")
    want_rows = bakery_inputs({c: data[c] for c in cols})
    want = {"period": [p for p, _ in want_rows], "store": [s for _, s in want_rows]}
    for name in BAKERY_INPUTS:
        want[name] = [v[name] for v in want_rows.values()]
    assert sum(want["churned_members"]) > 10 and sum(want["closing_members"]) > 1000
    assert_same_results(want, {n: got[n] for n in want}, keys=KEYS)


GRAINS_BY = [
    (g, by) for g in ("day", "week", "month", "quarter", "year", "all") for by in (None, ())
]


@pytest.mark.parametrize(
    ("grain", "by"),
    GRAINS_BY,
    ids=[f"{g}-{'store' if b is None else 'total'}" for g, b in GRAINS_BY],
)
def test_bakery_sql_on_spark_equals_the_evaluator(
    spark, bakery_ledger_14m, grain: str, by: tuple | None
):
    """The evaluation plan's SQL (kpi sql --dialect spark) on Spark equals the in-process
    evaluation of the same records (kpi run), cell by cell: inputs, inputs counted again at the
    grain (distinct counts) and every SQL metric, at every grain, by store and in total."""
    from engine.compile.pack import compile_pack
    from engine.evaluate.measures import metric_query, sql_plan
    from engine.evaluate.records import evaluate_records

    data, parquet = bakery_ledger_14m
    bakery = compile_pack("bakery-stored-value")
    register(spark, "card_events", data)
    plan = sql_plan(bakery, grain, by)
    names, rows = collect_sql(spark, metric_query(bakery, "card_events", plan=plan).sql("spark"))
    got = {n: [r[k] for r in rows] for k, n in enumerate(names)}
    result = evaluate_records(bakery, {"card_events": parquet}, grain=grain, by=by)
    periods, dims = result.row_keys()
    keys = ["period", *plan.by]
    want: dict[str, list] = {
        "period": ["all"] * len(periods) if grain == "all" else periods,
        **{d: dims[d] for d in plan.by},
    }
    values = [n for n in names if n not in keys]
    assert {"active_members", "repeat_buyers", "active_rate", "avg_members", "churn_rate"} <= set(
        values
    )
    for n in values:
        want[n] = [None if np.isnan(v) else float(v) for v in result.values(n)]
    assert_same_results(want, got, keys=keys, grain=grain)
