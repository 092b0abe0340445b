"""The built-in packs' measures on DuckDB equal the independent plain-Python reference
(tests/ledger_reference.py, written from the definitions without reading the engine):
every bakery input over the demo card ledger, every membership-core input over an order log,
and random small ledgers (hypothesis) whose edges — month boundaries, cancel and re-register,
churn crossing — the demo data may not reach."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.compile.pack import CompiledPack, compile_pack
from engine.core.errors import InputError
from engine.core.periods import from_date
from engine.demo.bakery import bakery_ledger, write_ledger
from engine.evaluate.evaluation import evaluate
from engine.evaluate.measures import run_measures
from engine.evaluate.records import evaluate_records
from tests.ledger_reference import (
    BAKERY_INPUTS,
    BAKERY_KINDS,
    ORDER_INPUTS,
    bakery_inputs,
    order_inputs,
)

CARD_COLUMNS = ("event_time", "store_id", "member_id", "kind", "amount", "net", "gift", "points")


@pytest.fixture(scope="module")
def bakery() -> CompiledPack:
    return compile_pack("bakery-stored-value")


@pytest.fixture(scope="module")
def core() -> CompiledPack:
    return compile_pack("membership-core")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    # four shops (imports at the start and five-eighths in; the last shop declines), July 2024 to
    # January 2026: 90-day churn, cancellations, points fairs, and the December 2025 expiry of the
    # points earned in 2024
    data = bakery_ledger(stores=4, months=19, members=400, seed=5, start="2024-07")
    out = tmp_path_factory.mktemp("demo")
    write_ledger(data, out)
    return data, out


def by_key(
    cols: dict[str, list[Any]], dims: tuple[str, ...]
) -> dict[tuple[str, ...], dict[str, Any]]:
    return {
        (cols["period"][k], *(str(cols[d][k]) for d in dims)): {n: v[k] for n, v in cols.items()}
        for k in range(len(cols["period"]))
    }


def assert_equal_inputs(got: dict, want: dict, names: tuple[str, ...]) -> None:
    assert set(got) == set(want), sorted(set(got) ^ set(want))[:5]
    for key, values in want.items():
        for name in names:
            expected = values[name]
            if expected is None:
                assert got[key][name] is None, (key, name)
            else:
                assert got[key][name] == pytest.approx(expected, rel=1e-9, abs=1e-6), (
                    key,
                    name,
                    got[key][name],
                )


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_every_bakery_input_equals_the_reference(bakery: CompiledPack, demo, fmt: str) -> None:
    data, folder = demo
    got = by_key(run_measures(bakery, {"card_events": folder / f"card_events.{fmt}"}), ("store",))
    want = bakery_inputs({c: data[c] for c in CARD_COLUMNS}, churn_days=90)
    assert_equal_inputs(got, want, BAKERY_INPUTS)
    # the demo ledger exercises what the inputs are about: nothing is vacuously zero
    for name in (
        "imported_balance",
        "points_to_balance",
        "points_expired",
        "rebate_income",
        "churned_members",
        "silent_members",
        "high_value_members",
        "initial_points",
    ):
        assert any(v[name] for v in want.values()), name


def test_the_ledger_balances_through_the_formulas(bakery: CompiledPack, demo) -> None:
    """The running balance of the ledger (reported_closing_amount) equals the formula chain (1)-(3)
    month after month, and formula (6) holds: the books balance."""
    _, folder = demo
    result = evaluate(
        bakery,
        run_measures(bakery, {"card_events": folder / "card_events.parquet"}),
        metrics=["balance_gap", "closing_amount", "closing_net", "closing_gift"],
    ).to_json()
    rows = result["rows"]
    assert len(rows) >= 4 * 12
    for row in rows:
        v = row["values"]
        assert v["balance_gap"] == pytest.approx(0, abs=0.005), row["period"]
        assert v["closing_amount"] == pytest.approx(v["closing_net"] + v["closing_gift"], abs=0.011)
        assert {c["id"]: c["status"] for c in row["checks"]} == dict.fromkeys(
            (
                "balance_identity",
                "reported_balance",
                "recharge_split",
                "consume_split",
                "member_flow",
            ),
            "pass",
        )


def test_quarter_of_measured_inputs_follows_their_rollups(bakery: CompiledPack, demo) -> None:
    data, folder = demo
    monthly = bakery_inputs({c: data[c] for c in CARD_COLUMNS})
    cols = run_measures(bakery, {"card_events": folder / "card_events.parquet"})
    result = evaluate(
        bakery, cols, grain="quarter", by=[], metrics=["avg_members", "monthly_new_members"]
    ).to_json()
    q1 = next(r for r in result["rows"] if r["period"] == "2024-Q3")
    months = ("2024-07", "2024-08", "2024-09")
    opening = sum(v["opening_members"] for (p, _), v in monthly.items() if p == "2024-07")
    closing = sum(v["closing_members"] for (p, _), v in monthly.items() if p == "2024-09")
    new = sum(v["new_members"] for (p, _), v in monthly.items() if p in months)
    # avg_members declares rollup time: avg — the average of the months' (opening + closing) / 2
    per_month = [
        sum(
            (v["opening_members"] + v["closing_members"]) / 2
            for (p, _), v in monthly.items()
            if p == m
        )
        for m in months
    ]
    # shown to 1 decimal
    assert q1["values"]["avg_members"] == pytest.approx(sum(per_month) / 3, abs=0.05)
    assert q1["values"]["monthly_new_members"] == pytest.approx(new / 3, abs=0.05)
    assert opening < closing  # the programme grows in its first quarter


# -- membership-core over an order log ---------------------------------------------------------


def order_log(data: dict[str, Any]) -> dict[str, list[Any]]:
    """Card purchases as orders, plus a refund for every 23rd and a zero row for every 31st."""
    rows: dict[str, list[Any]] = {"customer_id": [], "order_time": [], "amount": []}
    consume = np.flatnonzero(data["kind"] == "consume")
    for n, k in enumerate(consume):
        t = data["event_time"][k].astype("datetime64[s]").astype(datetime)
        rows["customer_id"].append(str(data["member_id"][k]))
        rows["order_time"].append(t)
        rows["amount"].append(float(data["amount"][k]))
        if n % 23 == 0:  # a refund two days later
            rows["customer_id"].append(str(data["member_id"][k]))
            rows["order_time"].append(t + timedelta(days=2))
            rows["amount"].append(-round(float(data["amount"][k]) / 2, 2))
        if n % 31 == 0:
            rows["customer_id"].append(str(data["member_id"][k]))
            rows["order_time"].append(t + timedelta(hours=1))
            rows["amount"].append(0.0)
    return rows


def write_csv(path: Path, columns: dict[str, list[Any]]) -> Path:
    names = list(columns)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(names)
        for k in range(len(columns[names[0]])):
            w.writerow(
                [
                    v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else v
                    for v in (columns[n][k] for n in names)
                ]
            )
    return path


def test_every_order_log_input_equals_the_reference(
    core: CompiledPack, demo, tmp_path: Path
) -> None:
    data, _ = demo
    log = order_log(data)
    path = write_csv(tmp_path / "orders.csv", log)
    got = by_key(run_measures(core, {"orders": path}), ())
    want = order_inputs(
        [dict(zip(log, v, strict=True)) for v in zip(*log.values(), strict=True)], lapse_days=90
    )
    assert_equal_inputs(got, want, ORDER_INPUTS)
    assert any(v["rfm_champions"] for v in want.values()) and any(
        v["rfm_at_risk"] for v in want.values()
    )


def test_order_log_worked_by_hand(core: CompiledPack, tmp_path: Path) -> None:
    rows = [  # customer, time, amount
        ("A", "2025-01-05 10:00:00", 100.0),
        ("A", "2025-01-20 10:00:00", 50.0),
        ("B", "2025-01-31 23:59:59", 80.0),
        ("B", "2025-02-03 09:00:00", -30.0),
        ("C", "2025-02-01 00:00:00", 0.0),
        ("C", "2025-02-14 12:00:00", 200.0),
        ("A", "2025-05-02 08:00:00", 40.0),
    ]
    path = write_csv(
        tmp_path / "o.csv",
        {
            "customer_id": [r[0] for r in rows],
            "order_time": [r[1] for r in rows],
            "amount": [r[2] for r in rows],
        },
    )
    got = by_key(run_measures(core, {"orders": path}), ())
    jan, feb, may = got[("2025-01",)], got[("2025-02",)], got[("2025-05",)]
    assert (
        jan["orders"],
        jan["revenue"],
        jan["active_members"],
        jan["new_members"],
        jan["repeat_buyers"],
    ) == (3, 230, 2, 2, 1)  # A twice (a repeat buyer), B once
    # members at 1 Feb: A (20 Jan, 12 days) and B (31 Jan); at 1 Mar: A, B and C; new in Feb: C
    assert (
        feb["orders"],
        feb["revenue"],
        feb["new_members"],
        feb["members_at_start"],
        feb["total_members"],
    ) == (1, 170, 1, 2, 3)  # C's 200 less B's refund of 30; the zero row is no order
    # The data ends on 2 May: May is measured at its end so far, 3 May 00:00 (2 days of May).
    # Lapse = no order for more than 90 days, counted in the period it is crossed:
    # B: 31 Jan → 3 May is 92 days, 92 - 2 = 90 at 1 May: crosses in May;
    # C: 14 Feb → 3 May is 78 days: not lapsed (measured at 1 Jun it would have been 107:
    # wrongly churned);
    # A crossed in April (20 Jan → 1 May is 101, 71 at 1 Apr), which is no period: counted nowhere;
    # in May A ordered again (2 May → 3 May is 1 day) and is a member again: new in May
    assert (may["churned_members"], may["new_members"], may["returning_members"]) == (1, 1, 1)
    # A, B, C at 3 May
    assert may["avg_days_since_last_purchase"] == pytest.approx((1 + 92 + 78) / 3)
    # B and C at 1 May; A and C at 3 May
    assert (may["members_at_start"], may["total_members"]) == (2, 2)
    # said to be complete up to 31 May, May is measured
    # at 1 Jun: C has lapsed too, and A is 30 days old
    late = by_key(run_measures(core, {"orders": path}, as_of=date(2025, 5, 31)), ())[("2025-05",)]
    assert late["churned_members"] == 2
    assert late["avg_days_since_last_purchase"] == pytest.approx((30 + 121 + 107) / 3)


# -- random ledgers ------------------------------------------------------------------------------

_START = datetime(2024, 1, 1)
_EDGES = [datetime(2024, m, 1) for m in range(1, 6)]
_TIMES = st.one_of(
    st.datetimes(min_value=_START, max_value=datetime(2024, 5, 31, 23, 59, 59)),
    st.sampled_from(_EDGES),
    st.sampled_from([e - timedelta(seconds=1) for e in _EDGES[1:]]),
)
_CENTS = st.integers(min_value=0, max_value=40_000).map(lambda c: c / 100)
_ROW = st.tuples(
    _TIMES,
    st.sampled_from(["S1", "S2"]),
    st.sampled_from(["M1", "M2", "M3", "M4"]),
    st.sampled_from(BAKERY_KINDS),
    _CENTS,
    _CENTS,
    _CENTS,
    st.integers(0, 300).map(float),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(_ROW, min_size=1, max_size=40))
def test_random_ledgers_equal_the_reference(
    bakery: CompiledPack, tmp_path: Path, rows: list[tuple]
) -> None:
    columns = {c: [r[k] for r in rows] for k, c in enumerate(CARD_COLUMNS)}
    path = write_csv(tmp_path / "card_events.csv", columns)
    got = by_key(run_measures(bakery, {"card_events": path}), ("store",))
    assert_equal_inputs(
        got, bakery_inputs([dict(zip(CARD_COLUMNS, r, strict=True)) for r in rows]), BAKERY_INPUTS
    )


# -- bad data: one clear error naming the source, the column and sample rows ------------------

GOOD = ["2025-01-03 10:00:00", "S01", "M1", "recharge", "100", "80", "20", "0"]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (
            "kind",
            "refund",
            "column 'kind': 1 row with a value outside the "
            "declared values (register, import, recharge",
        ),
        (
            "amount",
            "-5",
            "column 'amount': 1 row with a value below the declared minimum 0 — row 2: '-5'",
        ),
        (
            "event_time",
            "2025-13-45 10:00",
            "column 'event_time': 1 row with a time that does not parse",
        ),
        (
            "points",
            "many",
            "column 'points': 1 row with a value that is not a number — row 2: 'many'",
        ),
        ("store_id", "", "column 'store_id': 1 row with an empty value — row 2: empty"),
    ],
)
def test_bad_records_are_named_with_sample_rows(
    bakery: CompiledPack, tmp_path: Path, column: str, value: str, message: str
) -> None:
    bad = list(GOOD)
    bad[CARD_COLUMNS.index(column)] = value
    path = write_csv(
        tmp_path / "card_events.csv",
        {c: [GOOD[k], bad[k], GOOD[k]] for k, c in enumerate(CARD_COLUMNS)},
    )
    with pytest.raises(InputError) as err:
        run_measures(bakery, {"card_events": path})
    assert str(err.value).startswith(f"source 'card_events' (card_events.csv), {message}"), str(
        err.value
    )


def test_many_bad_rows_show_five_and_the_count(bakery: CompiledPack, tmp_path: Path) -> None:
    rows = [list(GOOD) for _ in range(12)]
    for k in range(1, 12, 2):
        rows[k][3] = f"oops{k}"
    path = write_csv(
        tmp_path / "card_events.csv", {c: [r[n] for r in rows] for n, c in enumerate(CARD_COLUMNS)}
    )
    with pytest.raises(InputError) as err:
        run_measures(bakery, {"card_events": path})
    text = str(err.value)
    assert "6 rows with a value outside" in text
    assert (
        "row 2: 'oops1'; row 4: 'oops3'; row 6: 'oops5'; row 8: 'oops7'; row 10: 'oops9' …" in text
    )


def test_a_missing_column_is_named_with_what_the_file_has(
    bakery: CompiledPack, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "card_events.csv",
        {c: [GOOD[k]] for k, c in enumerate(CARD_COLUMNS) if c != "gift"},
    )
    with pytest.raises(
        InputError,
        match=r"source 'card_events' \(card_events.csv\): no column 'gift' \(it has: "
        r"event_time, store_id, member_id, kind, amount, net, points\)",
    ):
        run_measures(bakery, {"card_events": path})


# -- metrics in SQL equal the in-process evaluator -----------------------------------------------


GRAINS_BY = [
    (g, by) for g in ("day", "week", "month", "quarter", "year", "all") for by in (None, ())
]


@pytest.mark.parametrize(
    ("grain", "by"),
    GRAINS_BY,
    ids=[f"{g}-{'store' if b is None else 'total'}" for g, b in GRAINS_BY],
)
def test_sql_equals_the_evaluator_at_every_grain(
    bakery: CompiledPack, demo, grain: str, by: tuple | None
) -> None:
    """The SQL of one evaluation plan (kpi sql) and the in-process evaluation over the same records
    (kpi run) agree cell by cell — inputs and every metric the SQL computes, nulls included — at
    day, week, month, quarter, year and all grain, by store and in total."""
    from engine.evaluate.measures import metric_query, open_sources, sql_metrics, sql_plan

    _, folder = demo
    path = folder / "card_events.parquet"
    plan = sql_plan(bakery, grain, by)
    metrics = sql_metrics(bakery, "card_events", plan)
    assert {
        "churn_rate",
        "active_rate",
        "gift_share",
        "avg_order_value",
        "high_value_share",
        "avg_members",
        "active_member_ratio",
    } <= set(metrics)
    # carry-over, growth()
    assert "closing_amount" not in metrics and "member_growth_rate" not in metrics
    con = open_sources(bakery, {"card_events": path})
    cursor = con.execute(metric_query(bakery, "card_events", plan=plan).sql("duckdb"))
    names = [d[0] for d in cursor.description]
    label = (lambda v: "all") if grain == "all" else (lambda v: str(from_date(v.date(), grain)))
    sql_rows = {
        (label(r[0]), *(r[1 : 1 + len(plan.by)])): dict(zip(names, r, strict=True))
        for r in cursor.fetchall()
    }
    result = evaluate_records(bakery, {"card_events": path}, grain=grain, by=by)
    periods, dims = result.row_keys()
    assert len(periods) == len(sql_rows)
    compared = nulls = 0
    inputs = [
        i
        for i in [*plan.combined, *plan.direct]
        if bakery.pack.inputs[i].measure.source == "card_events"
    ]
    assert {"active_members", "repeat_buyers"} <= set(inputs) and set(inputs) <= set(names)
    for name in [*inputs, *metrics]:
        for k, value in enumerate(result.values(name)):
            key = ("all" if grain == "all" else periods[k], *(dims[d][k] for d in plan.by))
            got = sql_rows[key][name]
            compared += 1
            if np.isnan(value):
                nulls += 1
                assert got is None, (name, key, got)
            else:
                assert got == pytest.approx(value, rel=1e-9, abs=1e-9), (name, key)
    assert compared >= 40 * len(metrics) or grain in ("quarter", "year", "all")
    if grain == "month":
        # division by zero happens in the demo (a store's first month has no opening members)
        assert nulls > 0


def test_bakery_rfm_from_card_purchases_equals_the_order_log_reference(
    bakery: CompiledPack, demo
) -> None:
    """The bakery's RFM segments (card purchases as orders) summed over its shops equal the
    reference over an order log of the same purchases (every member has one home shop)."""
    data, folder = demo
    got = by_key(run_measures(bakery, {"card_events": folder / "card_events.parquet"}), ("store",))
    buys = np.flatnonzero(data["kind"] == "consume")
    log = [
        {
            "customer_id": str(data["member_id"][k]),
            "amount": float(data["amount"][k]),
            "order_time": data["event_time"][k].astype("datetime64[s]").astype(datetime),
        }
        for k in buys
    ]
    want = order_inputs(log)
    segments = ("rfm_champions", "rfm_potential", "rfm_at_risk", "rfm_hibernating")
    for (period,), values in want.items():
        for name in segments:
            assert sum(v[name] for (p, _), v in got.items() if p == period) == values[name], (
                period,
                name,
            )
    assert sum(want[("2025-12",)][s] for s in segments) > 100


def test_a_blank_number_column_is_zero_not_a_type_error(
    bakery: CompiledPack, tmp_path: Path
) -> None:
    rows = {c: [GOOD[k]] * 2 for k, c in enumerate(CARD_COLUMNS)}
    rows["points"] = ["", ""]  # DuckDB reads an all-blank column as text
    got = run_measures(bakery, {"card_events": write_csv(tmp_path / "card_events.csv", rows)})
    assert got["recharge_amount"] == [200] and got["points_from_consume"] == [0]


def test_bad_record_errors_carry_the_row_and_column(bakery: CompiledPack, tmp_path: Path) -> None:
    rows = {c: [GOOD[k]] * 3 for k, c in enumerate(CARD_COLUMNS)}
    rows["kind"][2] = "refund"
    with pytest.raises(InputError) as err:
        run_measures(bakery, {"card_events": write_csv(tmp_path / "card_events.csv", rows)})
    assert (err.value.row, err.value.column) == (3, "kind")
