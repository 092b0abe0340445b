"""Evaluating raw records (kpi run, HTTP sources) at every grain, by store and in total, as of a
day — against the independent plain-Python reference (tests/ledger_reference.py), which knows
nothing of the engine.

What the product computes at a coarser grain: a measured input is measured per base period and
rolled up by its rollup (sums of events, first / last head-counts — the same as measuring at the
coarser grain), except a distinct count (rollup none), which is measured again at the grain and
`by` asked. So at quarter, year and all grain, by store and in total, the head-counts, the
event sums and the distinct counts equal the reference's direct measurement at that grain.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.compile.pack import CompiledPack, compile_pack
from engine.demo.bakery import bakery_ledger, write_ledger
from engine.evaluate.records import evaluate_records
from engine.evaluate.table import Columns
from tests.engine.test_measures_packs import order_log, write_csv
from tests.ledger_reference import bakery_inputs, order_inputs

CARD = ("event_time", "store_id", "member_id", "kind", "amount", "net", "gift", "points")
#: inputs whose value at a coarser grain is the reference's measured at that grain
BAKERY_SAME = (
    "active_members",
    "repeat_buyers",
    "churned_members",
    "closing_members",
    "opening_members",
    "members_at_start",
    "total_members",
    "reported_closing_amount",
    "recharge_amount",
    "consume_count",
    "initial_net",
    "new_members",
    "cancelled_members",
    "orders",
    "revenue",
)
ORDER_SAME = (
    "active_members",
    "repeat_buyers",
    "members_at_start",
    "total_members",
    "new_members",
    "returning_members",
    "churned_members",
    "orders",
    "revenue",
    "avg_days_since_last_purchase",
    "rfm_champions",
    "rfm_at_risk",
    "visits",
)


@pytest.fixture(scope="module")
def bakery() -> CompiledPack:
    return compile_pack("bakery-stored-value")


@pytest.fixture(scope="module")
def core() -> CompiledPack:
    return compile_pack("membership-core")


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    data = bakery_ledger(stores=3, months=15, members=300, seed=9, start="2024-10")
    out = tmp_path_factory.mktemp("records")
    write_ledger(data, out, formats=("parquet",))
    return data, out / "card_events.parquet"


def _reference_rows(data: dict[str, Any]) -> dict[str, Any]:
    return {c: data[c] for c in CARD}


def _product(
    result: Any, names: tuple[str, ...], by_store: bool
) -> dict[tuple[str, ...], dict[str, Any]]:
    periods, dims = result.row_keys()
    grain = result.plan.grain
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for k, period in enumerate(periods):
        key = ("all" if grain == "all" else period, *((dims["store"][k],) if by_store else ()))
        out[key] = {n: None if np.isnan(v := float(result.values(n)[k])) else v for n in names}
    return out


def _assert_equal(got: dict, want: dict, names: tuple[str, ...]) -> int:
    assert set(got) == set(want), sorted(set(got) ^ set(want))[:5]
    compared = 0
    for key, values in want.items():
        for name in names:
            expected, value = values[name], got[key][name]
            compared += 1
            if expected is None:
                assert value is None, (key, name, value)
            else:
                assert value == pytest.approx(float(expected), rel=1e-9, abs=1e-6), (
                    key,
                    name,
                    value,
                    expected,
                )
    return compared


@pytest.mark.parametrize("grain", ["quarter", "year", "all"])
@pytest.mark.parametrize("by_store", [True, False], ids=["by-store", "total"])
def test_bakery_records_at_a_coarser_grain_equal_the_reference(
    bakery: CompiledPack, ledger, grain: str, by_store: bool
) -> None:
    data, parquet = ledger
    result = evaluate_records(
        bakery,
        {"card_events": parquet},
        grain=grain,
        by=None if by_store else [],
        metrics=list(BAKERY_SAME),
    )
    want = bakery_inputs(_reference_rows(data), grain=grain, by_store=by_store)
    assert _assert_equal(_product(result, BAKERY_SAME, by_store), want, BAKERY_SAME) >= len(
        BAKERY_SAME
    )
    # counted at the grain, not rolled up: distinct counts, and the churn line crossed in the period
    assert set(result.plan.direct) == {"active_members", "repeat_buyers", "churned_members"}


def test_distinct_counts_are_not_the_largest_month(bakery: CompiledPack, ledger) -> None:
    """The members active in a quarter are more than in
    its busiest month (what the rollup max gave)."""
    data, parquet = ledger
    months = bakery_inputs(_reference_rows(data), by_store=False)
    quarters = bakery_inputs(_reference_rows(data), grain="quarter", by_store=False)
    result = evaluate_records(
        bakery, {"card_events": parquet}, grain="quarter", by=[], metrics=["active_members"]
    )
    got = _product(result, ("active_members",), False)
    q = ("2025-Q2",)
    busiest = max(
        v["active_members"] for (p,), v in months.items() if p in ("2025-04", "2025-05", "2025-06")
    )
    assert got[q]["active_members"] == quarters[q]["active_members"] > busiest


def test_as_of_cuts_the_last_month_short_as_the_reference_does(
    bakery: CompiledPack, ledger
) -> None:
    data, parquet = ledger
    day = date(2025, 11, 12)
    names = (
        "closing_members",
        "churned_members",
        "silent_members",
        "high_value_members",
        "recharge_amount",
        "reported_closing_amount",
        "active_members",
    )
    result = evaluate_records(bakery, {"card_events": parquet}, as_of=day, metrics=list(names))
    want = bakery_inputs(_reference_rows(data), as_of=day)
    assert _assert_equal(_product(result, names, True), want, names) > 0
    body = result.to_json()
    assert body["as_of"] == "2025-11-12"
    # nothing after 12 November
    assert {(r["period"], r["partial"]) for r in body["rows"] if r["period"] >= "2025-10"} == {
        ("2025-10", False),
        ("2025-11", True),
    }
    assert not any(r["period"] > "2025-11" for r in body["rows"])


def test_the_member_flow_balances_at_every_grain(bakery: CompiledPack, ledger) -> None:
    _, parquet = ledger
    for grain in ("month", "quarter", "year", "all"):
        for by in (None, []):
            body = evaluate_records(bakery, {"card_events": parquet}, grain=grain, by=by).to_json()
            statuses = {
                c["status"] for r in body["rows"] for c in r["checks"] if c["id"] == "member_flow"
            }
            assert statuses == {"pass"}, (grain, by)


@pytest.fixture(scope="module")
def orders(ledger, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], Path]:
    data, _ = ledger
    log = order_log(data)
    path = write_csv(tmp_path_factory.mktemp("orders") / "orders.csv", log)
    return [dict(zip(log, v, strict=True)) for v in zip(*log.values(), strict=True)], path


@pytest.mark.parametrize("grain", ["month", "quarter", "year", "all"])
def test_order_log_at_every_grain_equals_the_reference(
    core: CompiledPack, orders, grain: str
) -> None:
    rows, path = orders
    result = evaluate_records(core, {"orders": path}, grain=grain, metrics=list(ORDER_SAME))
    want = order_inputs(rows, lapse_days=90, grain=grain)
    _assert_equal(_product(result, ORDER_SAME, False), want, ORDER_SAME)


def test_retention_is_not_always_one_and_the_members_balance(core: CompiledPack, orders) -> None:
    """Total members drop the churned: retention is below 100% when members lapse, and
    total = start + new − churned on every row (the member_flow check)."""
    _, path = orders
    body = evaluate_records(core, {"orders": path}).to_json()
    retention = [
        r["values"]["retention_rate"]
        for r in body["rows"]
        if r["values"]["retention_rate"] is not None
    ]
    assert retention and min(retention) < 0.95 and max(retention) <= 1
    assert {c["status"] for r in body["rows"] for c in r["checks"] if c["id"] == "member_flow"} == {
        "pass"
    }


def test_a_year_not_over_is_measured_at_the_data_s_end(core: CompiledPack, tmp_path: Path) -> None:
    """A customer silent for 83 days on the last day of the data is not churned by a 90-day line,
    and recency is measured on that day, not at a calendar end in the future (issue 11)."""
    start = datetime(2025, 1, 10, 12)
    log = {
        "customer_id": ["a", "a", "b", "c"],
        "order_time": [
            start,
            start + timedelta(days=100),
            start + timedelta(days=110),
            start + timedelta(days=192),
        ],
        "amount": [10.0, 10.0, 10.0, 10.0],
    }
    # a: 10 Jan and 20 Apr; b: 30 Apr; c: 21 Jul — the data ends on 21 Jul 2025
    path = write_csv(tmp_path / "orders.csv", log)
    names = ["churned_members", "avg_days_since_last_purchase", "total_members"]
    (year,) = evaluate_records(core, {"orders": path}, grain="year", metrics=names).to_json()[
        "rows"
    ]
    # measured at 22 Jul (202 days of 2025, the year's lapse line): a 93, b 83, c 1 days silent,
    # all three bought in the year so far and are members; at 1 Jan 2026 recency would have been
    # (256 + 246 + 164) / 3
    assert year["partial"] is True
    assert year["values"] == {
        "churned_members": 0,
        "avg_days_since_last_purchase": (93 + 83 + 1) / 3,
        "total_members": 3,
    }
    # by month: July is measured at 22 Jul (22 days): a crosses 90 days (93, 93 - 22 = 71), b does
    # not yet (83); said to be complete up to 31 July, b crosses too (93 at 1 Aug)
    july = [
        r
        for r in evaluate_records(core, {"orders": path}, metrics=names).to_json()["rows"]
        if r["period"] == "2025-07"
    ][0]
    assert july["partial"] is True and july["values"]["churned_members"] == 1
    whole = [
        r
        for r in evaluate_records(
            core, {"orders": path}, metrics=names, as_of=date(2025, 7, 31)
        ).to_json()["rows"]
        if r["period"] == "2025-07"
    ][0]
    assert whole["partial"] is False and whole["values"]["churned_members"] == 2
    end = evaluate_records(
        core,
        {"orders": path},
        grain="year",
        as_of=date(2025, 12, 31),
        metrics=["avg_days_since_last_purchase"],
    ).to_json()["rows"][0]
    assert end["partial"] is False
    assert end["values"] == {"avg_days_since_last_purchase": (256 + 246 + 164) / 3}


# -- regressions from an adversarial review ------------------------------------------------------


def _card_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    write_csv(path, {c: [r.get(c) for r in rows] for c in CARD})
    return path


def test_chain_totals_follow_a_member_across_stores(bakery: CompiledPack, tmp_path: Path) -> None:
    """In total, a member who registers at one store and shops (or cancels) at another is one member
    of the chain — as the reference counts with by_store=False — and the books balance."""
    from tests.test_ledger_reference import STORES_LEDGER

    names = (
        "new_members",
        "opening_members",
        "closing_members",
        "cancelled_members",
        "churned_members",
        "active_members",
        "silent_members",
        "repeat_buyers",
        "high_value_members",
    )
    path = _card_csv(tmp_path / "card_events.csv", STORES_LEDGER)
    result = evaluate_records(bakery, {"card_events": path}, by=[], metrics=list(names))
    want = bakery_inputs(STORES_LEDGER, by_store=False)
    _assert_equal(_product(result, names, False), want, names)
    statuses = {
        c["status"]
        for r in result.to_json()["rows"]
        for c in r["checks"]
        if c["id"] == "member_flow"
    }
    assert statuses == {"pass"}
    # with rows joined on every dimension the members are counted per store and added up: said so
    rows = Columns(
        2, {"period": ["2024-01", "2024-01"], "store": ["S1", "S2"], "marketing_spend": [1.0, 2.0]}
    )
    joined = evaluate_records(
        bakery, {"card_events": path}, data=rows, by=[], metrics=["closing_members"]
    )
    assert any(
        w.get("input") == "closing_members"
        and "counts twice" in w["message"]
        and w["code"] == "KPI-W009"
        for w in joined.to_json()["warnings"]
    )


def test_rows_combined_where_the_measure_depends_on_the_period_length_are_warned(
    core: CompiledPack, orders
) -> None:
    """Monthly rows of members rolled up to a year are not what the records count at a year: the
    evaluation says so for each such input it uses."""
    _, path = orders
    monthly = evaluate_records(
        core,
        {"orders": path},
        metrics=["members_at_start", "new_members", "churned_members", "total_members"],
    )
    periods, _ = monthly.row_keys()
    rows = {
        "period": periods,
        **{
            n: [float(v) for v in monthly.values(n)]
            for n in ("members_at_start", "new_members", "churned_members", "total_members")
        },
    }
    from engine.evaluate.evaluation import evaluate

    body = evaluate(core, rows, grain="year", metrics=["churn_rate"]).to_json()
    warned = {w["input"] for w in body["warnings"] if "input" in w}
    # churn_rate's inputs, and the member_flow check's
    assert warned == {"churned_members", "members_at_start", "new_members", "total_members"}
    assert all(
        "depends on the period's length" in w["message"] and w["code"] == "KPI-W008"
        for w in body["warnings"]
        if "input" in w
    )
    # and it shows: the months' churn added up over a year passes 100% of the year's first members
    assert [w["metric"] for w in body["warnings"] if "value" in w] == ["churn_rate"]


def test_a_weekly_pack_s_months_are_made_of_its_weeks(tmp_path: Path) -> None:
    """With a base grain of weeks, a month holds the weeks whose Thursday is in it: its days are
    those weeks' (28 or 35), and it is not over until its last week is."""
    from engine.compile.pack import check_text
    from engine.evaluate.evaluation import evaluate

    c, _ = check_text(
        "pack: weekly\nversion: '1.0.0'\ntitle: {en: W}\nlocales: [en]\ngrain: week\n"
        "inputs: {orders: {label: O}}\nmetrics: {per_day: {label: P, formula: orders / days}}\n"
    )
    assert c is not None
    rows = [{"period": f"2025-W{w:02d}", "orders": 7} for w in range(27, 32)]  # 30 Jun … 3 Aug 2025
    body = evaluate(c, rows, grain="month", as_of=date(2025, 7, 31)).to_json()
    july = [r for r in body["rows"] if r["period"] == "2025-07"][0]
    # W27 (Thursday 3 Jul) … W31 (Thursday 31 Jul): five
    # weeks, 30 Jun to 3 Aug; on 31 Jul, 32 days of them
    assert july["partial"] is True and july["values"]["per_day"] == 35 / 32
    whole = evaluate(c, rows, grain="month", as_of=date(2025, 8, 3)).to_json()["rows"][0]
    assert whole["partial"] is False and whole["values"]["per_day"] == 35 / 35


def test_more_periods_than_a_query_holds_and_a_late_as_of_are_clean_errors(
    bakery: CompiledPack, ledger
) -> None:
    from engine.core.errors import InputError

    _, parquet = ledger
    with pytest.raises(InputError, match="at most 100,000 periods"):
        evaluate_records(bakery, {"card_events": parquet}, grain="day", as_of=date(2300, 1, 1))
    with pytest.raises(InputError, match="as_of 9999-12-31 is too late"):
        evaluate_records(bakery, {"card_events": parquet}, as_of=date(9999, 12, 31))
    from engine.evaluate.evaluation import evaluate

    with pytest.raises(InputError, match="too late"):
        evaluate(
            bakery,
            [{"period": "2026-01", "store": "S1", "recharge_amount": 1}],
            as_of=date(9999, 12, 31),
        )


def test_a_grain_finer_than_the_pack_s_says_what_per_month_figures_become(
    bakery: CompiledPack, ledger
) -> None:
    _, parquet = ledger
    body = evaluate_records(
        bakery, {"card_events": parquet}, grain="week", metrics=["monthly_new_members"]
    ).to_json()
    assert any(
        "finer than the pack's month" in w["message"] and w["code"] == "KPI-W007"
        for w in body["warnings"]
    )


def test_data_rows_at_another_grain_than_the_records_say_so(bakery: CompiledPack, ledger) -> None:
    from engine.core.errors import InputError

    _, parquet = ledger
    rows = Columns(1, {"period": ["2025-01"], "store": ["S01"], "marketing_spend": [1.0]})
    with pytest.raises(
        InputError, match="the data rows are by month, but the records are measured by week"
    ):
        evaluate_records(bakery, {"card_events": parquet}, data=rows, grain="week")
