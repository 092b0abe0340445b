"""Unit tests of the plain-Python ledger reference (``tests/ledger_reference.py``).

Every expected value is computed by hand in the test, with the arithmetic in a comment. The
reference itself is checked here on tiny ledgers only; comparing it with the product's SQL is
the job of other tests.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ledger_reference import (
    BAKERY_INPUTS,
    BAKERY_KINDS,
    ORDER_INPUTS,
    bakery_inputs,
    month_bounds,
    order_inputs,
)

T = datetime.fromisoformat


def card(t: str, member: str, kind: str, amount: float = 0.0, net: float = 0.0,
         gift: float = 0.0, points: float = 0.0, store: str = "S1") -> dict[str, object]:
    return {"event_time": T(t), "store_id": store, "member_id": member, "kind": kind,
            "amount": amount, "net": net, "gift": gift, "points": points}


def order(customer: str, t: str, amount: float, order_id: str | None = None
          ) -> dict[str, object]:
    row: dict[str, object] = {"customer_id": customer, "order_time": T(t), "amount": amount}
    if order_id is not None:
        row["order_id"] = order_id
    return row


ZERO_EVENTS = {name: 0 for name in (
    "imported_balance", "recharge_amount", "recharge_count", "points_to_balance",
    "consume_amount", "consume_count", "net_income", "net_spent", "gift_income", "gift_spent",
    "points_from_consume", "points_from_recharge", "points_redeemed", "points_converted",
    "points_expired", "points_deleted", "rebate_income", "rebate_spent", "new_members")}


def test_month_bounds() -> None:
    assert month_bounds("2024-02") == (T("2024-02-01"), T("2024-03-01"))
    assert month_bounds("2024-12") == (T("2024-12-01"), T("2025-01-01"))


# -- bakery: event inputs and month boundaries -------------------------------------------------

BOUNDARY_LEDGER = [
    card("2024-01-05 10:00", "A", "register"),
    card("2024-01-05 10:00", "A", "recharge", 120, 100, 20),
    card("2024-01-05 10:00", "A", "points_earn_recharge", points=100),
    card("2024-01-15 09:00", "C", "register"),
    card("2024-01-20 09:00", "C", "recharge", 600, 500, 100),
    card("2024-01-31 23:59:59", "A", "consume", 36, 30, 6),  # last second of January
    card("2024-01-31 23:59:59", "A", "points_earn_consume", points=36),
    card("2024-02-01 00:00:00", "A", "consume", 24, 20, 4),  # first second of February
    card("2024-02-01 00:00:00", "A", "points_earn_consume", points=24),
    card("2024-02-10 03:00", "B", "import", 50, 50, 0),
    card("2024-02-11 12:00", "B", "consume", 10, 10, 0),
    card("2024-02-15 12:00", "A", "points_redeem", points=30),
    card("2024-02-20 12:00", "A", "rebate_grant", 80),
    card("2024-02-21 12:00", "A", "rebate_spend", 25),
    card("2024-02-25 12:00", "A", "points_convert", 1, 0, 1, 100),
    card("2024-02-28 12:00", "A", "points_expire", points=5),
    card("2024-02-29 23:59:59", "A", "points_delete", points=1),  # leap day, last second
]


def test_bakery_event_inputs_and_month_boundaries() -> None:
    result = bakery_inputs(BOUNDARY_LEDGER)
    assert list(result) == [("2024-01", "S1"), ("2024-02", "S1")]
    assert all(list(values) == list(BAKERY_INPUTS) for values in result.values())

    jan = result[("2024-01", "S1")]
    assert jan == pytest.approx({
        **ZERO_EVENTS,
        "recharge_amount": 720,  # 120 + 600
        "recharge_count": 2,
        "consume_amount": 36,  # only the 23:59:59 consume; the 00:00:00 one is February's
        "consume_count": 1,
        "net_income": 600,  # 100 + 500
        "net_spent": 30,
        "gift_income": 120,  # 20 + 100
        "gift_spent": 6,
        "points_from_consume": 36,
        "points_from_recharge": 100,
        "new_members": 2,  # A, C
        "initial_net": 0, "initial_gift": 0, "initial_points": 0, "initial_rebate": 0,
        "reported_closing_amount": 684,  # 720 - 36
        "opening_members": 0,
        "closing_members": 2,  # A, C
        "churned_members": 0,
        "silent_members": 0,  # A and C both recharged in January
        "high_value_members": 1,  # C: recharge 600 >= 500; A: 1 consume, 120 recharged
    })

    feb = result[("2024-02", "S1")]
    assert feb == pytest.approx({
        **ZERO_EVENTS,
        "imported_balance": 50,
        "points_to_balance": 1,
        "consume_amount": 34,  # 24 (00:00:00) + 10
        "consume_count": 2,
        "net_spent": 30,  # 20 + 10
        "gift_spent": 4,  # 4 + 0
        "points_from_consume": 24,
        "points_redeemed": 30,
        "points_converted": 100,
        "points_expired": 5,
        "points_deleted": 1,  # 29 Feb 23:59:59 is still February
        "rebate_income": 80,
        "rebate_spent": 25,
        "new_members": 1,  # B, by import
        "initial_net": 570,  # 100 + 500 - 30
        "initial_gift": 114,  # 20 + 100 - 6
        "initial_points": 136,  # 100 + 36
        "initial_rebate": 0,
        "reported_closing_amount": 701,  # 684 + 50 (import) + 1 (convert) - 34
        "opening_members": 2,  # A, C
        "closing_members": 3,  # A, B (import), C
        "churned_members": 0,
        "silent_members": 1,  # C: no recharge or consume in February; A and B consumed
        "high_value_members": 0,
    })
    for values in result.values():  # counts are ints, sums floats
        assert isinstance(values["consume_count"], int)
        assert isinstance(values["closing_members"], int)
        assert isinstance(values["consume_amount"], float)


def test_bakery_accepts_columns_and_any_row_order() -> None:
    expected = bakery_inputs(BOUNDARY_LEDGER)
    columns = {name: [r[name] for r in BOUNDARY_LEDGER] for name in BOUNDARY_LEDGER[0]}
    assert bakery_inputs(columns) == expected
    shuffled = list(BOUNDARY_LEDGER)
    random.Random(4).shuffle(shuffled)
    assert bakery_inputs(shuffled) == expected
    as_text = [{**r, "event_time": r["event_time"].isoformat()} for r in BOUNDARY_LEDGER]
    assert bakery_inputs(as_text) == expected
    assert bakery_inputs([]) == {}


def test_bakery_rejects_bad_rows() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        bakery_inputs([card("2024-01-01", "A", "refund")])
    with pytest.raises(TypeError, match="datetime"):
        bakery_inputs([{**card("2024-01-01", "A", "register"),
                        "event_time": T("2024-01-01").date()}])


# -- bakery: effective members, cancels, re-registration ---------------------------------------

CANCEL_LEDGER = [
    card("2024-01-10 10:00", "A", "register"),
    card("2024-01-20 10:00", "A", "cancel"),
    card("2024-02-05 10:00", "A", "register"),  # A registers again: effective again
    card("2024-01-03 10:00", "B", "register"),
    card("2024-02-01 00:00:00", "B", "cancel"),  # exactly at E(Jan) = S(Feb)
    card("2024-01-04 03:00", "C", "import", 30, 30, 0),
    card("2024-03-01 00:00:00", "C", "cancel"),  # exactly at E(Feb) = S(Mar)
    card("2024-02-10 12:00", "D", "register"),
    card("2024-02-10 12:00", "D", "cancel"),  # same instant as its register
]


def test_bakery_cancel_reregister_and_cancel_at_an_instant() -> None:
    result = bakery_inputs(CANCEL_LEDGER)
    assert list(result) == [("2024-01", "S1"), ("2024-02", "S1"), ("2024-03", "S1")]
    members = ("new_members", "opening_members", "closing_members", "churned_members",
               "silent_members")

    def pick(period: str) -> dict[str, int]:
        return {name: result[(period, "S1")][name] for name in members}

    # January, E = 1 Feb 00:00. A: register 10 Jan, cancel 20 Jan >= it -> not effective.
    # B: cancel at 1 Feb 00:00 is not before E -> effective. C: import -> effective.
    assert pick("2024-01") == {
        "new_members": 3,  # A, B (register), C (import)
        "opening_members": 0,
        "closing_members": 2,  # B, C
        "churned_members": 1,  # A cancelled in January
        "silent_members": 2,  # B, C effective at E, no recharge / consume
    }
    # February, S = 1 Feb, E = 1 Mar. At S: B effective (its cancel is not before S), C.
    # At E: A effective (latest register 5 Feb, no cancel after it); B not (cancel in
    # [3 Jan, 1 Mar)); C effective (cancel at 1 Mar is not before E); D not (cancel at the
    # instant of its register counts as "at or after" it).
    assert pick("2024-02") == {
        "new_members": 2,  # A (registers again), D
        "opening_members": 2,  # B, C
        "closing_members": 2,  # A, C
        "churned_members": 2,  # B (cancel at S is in the period), D
        "silent_members": 2,  # A, C
    }
    # March: C's cancel at 1 Mar 00:00 is in the period; A stays effective.
    assert pick("2024-03") == {
        "new_members": 0,
        "opening_members": 2,  # A, C
        "closing_members": 1,  # A
        "churned_members": 1,  # C
        "silent_members": 1,  # A
    }
    assert result[("2024-01", "S1")]["imported_balance"] == 30
    assert result[("2024-03", "S1")]["reported_closing_amount"] == 30  # the import, only


# -- bakery: churn by inactivity ---------------------------------------------------------------

CHURN_LEDGER = [
    # X: last activity 31 Jan 2024. Days at E: 1 Apr -> 61, 1 May -> 91, 1 Jun -> 122.
    card("2024-01-31 18:00", "X", "register"),
    card("2024-01-31 18:00", "X", "recharge", 100, 100, 0),
    # Y: last activity 1 Feb 2024. Days at E: 1 May -> 90, 1 Jun -> 121.
    card("2024-02-01 08:00", "Y", "register"),
    card("2024-03-20 12:00", "Y", "points_expire", points=3),  # not an activity kind
    # W: cancels in January; never counted again by inactivity.
    card("2024-01-10 08:00", "W", "register"),
    card("2024-01-20 08:00", "W", "cancel"),
    # Z: active every month (keeps every month Jan..Jun in the ledger).
    card("2024-01-02 08:00", "Z", "register"),
    card("2024-01-15 08:00", "Z", "consume", 10, 10, 0),
    card("2024-02-15 08:00", "Z", "consume", 10, 10, 0),
    card("2024-03-15 08:00", "Z", "consume", 10, 10, 0),
    card("2024-04-15 08:00", "Z", "consume", 10, 10, 0),
    card("2024-05-15 08:00", "Z", "consume", 10, 10, 0),
    card("2024-06-15 08:00", "Z", "consume", 10, 10, 0),
]


def _series(result: dict, name: str, store: str = "S1") -> dict[str, object]:
    return {period: values[name] for (period, s), values in result.items() if s == store}


def test_bakery_churn_crossing_at_churn_days_and_one_more() -> None:
    result = bakery_inputs(CHURN_LEDGER)
    # April (30 days, E = 1 May): X d = 91 > 90 and 91 - 30 = 61 <= 90 -> churned.
    #   Y d = 90, not > 90.
    # May (31 days, E = 1 Jun): Y d = 121 > 90 and 121 - 31 = 90 <= 90 -> churned.
    #   X d = 122, 122 - 31 = 91 > 90 -> not again.
    # January: W's cancel. W is excluded from the inactivity branch afterwards.
    assert _series(result, "churned_members") == {
        "2024-01": 1, "2024-02": 0, "2024-03": 0, "2024-04": 1, "2024-05": 1, "2024-06": 0}
    # Silent: effective at E with no recharge / consume in the month.
    # Jan: X recharged, Z consumed, W cancelled -> 0. Feb..Jun: X and Y (Y only registered).
    assert _series(result, "silent_members") == {
        "2024-01": 0, "2024-02": 2, "2024-03": 2, "2024-04": 2, "2024-05": 2, "2024-06": 2}
    # Jan: X, Z (W cancelled); Feb on: X, Y, Z.
    assert _series(result, "closing_members") == {
        "2024-01": 2, "2024-02": 3, "2024-03": 3, "2024-04": 3, "2024-05": 3, "2024-06": 3}


def test_bakery_churn_days_is_a_parameter() -> None:
    result = bakery_inputs(CHURN_LEDGER, churn_days=60)
    # March (31 days, E = 1 Apr): X d = 61 > 60, 61 - 31 = 30 <= 60 -> churned.
    #   Y d = 60 (1 Feb -> 1 Apr), not > 60.
    # April (30 days, E = 1 May): Y d = 90 > 60, 90 - 30 = 60 <= 60 -> churned.
    assert _series(result, "churned_members") == {
        "2024-01": 1, "2024-02": 0, "2024-03": 1, "2024-04": 1, "2024-05": 0, "2024-06": 0}


# -- bakery: high-value members, stores that start later, to-date balances ----------------------

HIGH_VALUE_LEDGER = [
    card("2024-02-28 23:59:59", "Q", "consume", 5, 5, 0),  # February: not in March's count
    card("2024-03-01 09:00", "P", "register"),
    card("2024-03-02 09:00", "P", "consume", 5, 5, 0),
    card("2024-03-03 09:00", "P", "consume", 5, 5, 0),
    card("2024-03-04 09:00", "P", "consume", 5, 5, 0),
    card("2024-03-02 10:00", "Q", "consume", 5, 5, 0),
    card("2024-03-03 10:00", "Q", "consume", 5, 5, 0),
    card("2024-03-05 09:00", "R", "recharge", 300, 300, 0),
    card("2024-03-06 09:00", "R", "recharge", 200, 200, 0),
    card("2024-03-05 11:00", "T", "recharge", 499.99, 499.99, 0),
    card("2024-03-07 09:00", "U", "recharge", 250, 250, 0),
    card("2024-03-08 09:00", "U", "consume", 5, 5, 0),
    card("2024-03-09 09:00", "U", "consume", 5, 5, 0),
    card("2024-03-10 09:00", "U", "consume", 5, 5, 0),
    card("2024-03-11 09:00", "V", "register"),
    card("2024-03-11 09:00", "V", "recharge", 200, 200, 0),
    card("2024-03-12 09:00", "V", "recharge", 400, 400, 0, store="S2"),  # another store
]


def test_bakery_high_value_by_count_and_by_amount() -> None:
    result = bakery_inputs(HIGH_VALUE_LEDGER)
    # S2 starts in March: no February row for it.
    assert list(result) == [("2024-02", "S1"), ("2024-03", "S1"), ("2024-03", "S2")]
    # S1, March: P (3 consumes), R (300 + 200 = 500 >= 500), U (3 consumes; 250 < 500,
    # counted once). Not: Q (2 consumes in March; the third is 28 Feb), T (499.99),
    # V (200 at S1; its 400 is at S2).
    assert result[("2024-03", "S1")]["high_value_members"] == 3
    assert result[("2024-03", "S1")]["consume_count"] == 8  # P 3 + Q 2 + U 3
    assert result[("2024-02", "S1")]["high_value_members"] == 0
    # S2, March: V recharged 400 < 500. V never registered at S2: not effective there.
    assert result[("2024-03", "S2")]["high_value_members"] == 0
    assert result[("2024-03", "S2")]["closing_members"] == 0
    assert result[("2024-03", "S2")]["silent_members"] == 0
    assert result[("2024-03", "S2")]["recharge_amount"] == 400
    # S1 closing members in March: P and V (registered); Q, R, T, U have no register row.
    assert result[("2024-03", "S1")]["closing_members"] == 2
    # Thresholds are parameters: with 2 consumes Q counts too; with 499.99, T counts too.
    assert bakery_inputs(HIGH_VALUE_LEDGER, high_value_consumes=2)[
        ("2024-03", "S1")]["high_value_members"] == 4
    assert bakery_inputs(HIGH_VALUE_LEDGER, high_value_recharge=499.99)[
        ("2024-03", "S1")]["high_value_members"] == 4


TO_DATE_LEDGER = [
    card("2024-01-03 10:00", "M1", "register"),
    card("2024-01-03 10:00", "M1", "recharge", 110, 100, 10),
    card("2024-01-03 10:00", "M1", "points_earn_recharge", points=10),
    card("2024-01-20 10:00", "M1", "consume", 22, 20, 2),
    card("2024-01-20 10:00", "M1", "points_earn_consume", points=22),
    card("2024-02-10 10:00", "M1", "rebate_grant", 50),
    card("2024-02-12 10:00", "M1", "consume", 55, 50, 5),
    card("2024-02-12 10:00", "M1", "points_earn_consume", points=55),
    card("2024-02-12 10:00", "M1", "rebate_spend", 15),
    card("2024-03-05 10:00", "M1", "points_convert", 0.5, 0, 0.5, 50),
    card("2024-03-06 10:00", "M1", "points_redeem", points=20),
    card("2024-02-02 03:00", "M2", "import", 80, 80, 0, store="S2"),
    card("2024-02-09 10:00", "M2", "recharge", 220, 200, 20, store="S2"),
    card("2024-02-09 10:00", "M2", "points_earn_recharge", points=20, store="S2"),
    card("2024-03-31 23:59:59", "M2", "consume", 30, 27.5, 2.5, store="S2"),
    card("2024-03-31 23:59:59", "M2", "points_expire", points=5, store="S2"),
    card("2024-04-02 10:00", "M1", "consume", 3.5, 3, 0.5),
]


def test_bakery_to_date_balances_over_three_months() -> None:
    result = bakery_inputs(TO_DATE_LEDGER)
    assert list(result) == [("2024-01", "S1"), ("2024-02", "S1"), ("2024-02", "S2"),
                            ("2024-03", "S1"), ("2024-03", "S2"), ("2024-04", "S1"),
                            ("2024-04", "S2")]
    to_date = ("initial_net", "initial_gift", "initial_points", "initial_rebate",
               "reported_closing_amount")

    def pick(period: str, store: str) -> tuple[float, ...]:
        return tuple(result[(period, store)][name] for name in to_date)

    # (initial_net, initial_gift, initial_points, initial_rebate, reported_closing_amount)
    assert pick("2024-01", "S1") == (0, 0, 0, 0, 88)  # closing 110 - 22
    assert pick("2024-02", "S1") == (
        80,  # 100 - 20
        8,  # 10 - 2
        32,  # 10 + 22
        0,
        33,  # 88 - 55
    )
    assert pick("2024-03", "S1") == (
        30,  # 80 - 50
        3,  # 8 - 5
        87,  # 32 + 55
        35,  # 50 - 15
        33.5,  # 33 + 0.5 (points_convert)
    )
    assert pick("2024-04", "S1") == (
        30,  # 80 - 50; the convert has net 0
        3.5,  # 3 + 0.5 (the convert's gift)
        17,  # 87 - 50 (converted) - 20 (redeemed)
        35,
        30,  # 33.5 - 3.5
    )
    # S2 starts in February: nothing before it.
    assert pick("2024-02", "S2") == (0, 0, 0, 0, 300)  # 80 (import) + 220
    assert pick("2024-03", "S2") == (
        280,  # 80 (import) + 200
        20,
        20,
        0,
        270,  # 300 - 30 (consume at 31 Mar 23:59:59)
    )
    assert pick("2024-04", "S2") == (  # no record of S2 in April: still a row
        252.5,  # 280 - 27.5
        17.5,  # 20 - 2.5
        15,  # 20 - 5 (expired)
        0,
        270,
    )
    s2_feb = result[("2024-02", "S2")]
    assert (s2_feb["new_members"], s2_feb["opening_members"], s2_feb["closing_members"]) == (
        1, 0, 1)  # the import is new and effective
    assert result[("2024-03", "S1")]["points_converted"] == 50
    assert result[("2024-03", "S1")]["points_redeemed"] == 20


def test_bakery_rows_are_only_months_present_in_the_ledger() -> None:
    ledger = [
        card("2024-01-10 10:00", "A", "recharge", 100, 100, 0),
        card("2024-03-10 10:00", "A", "consume", 40, 40, 0),
        card("2024-03-11 10:00", "B", "register", store="S2"),
    ]
    result = bakery_inputs(ledger)
    # No record anywhere in February: no February row.
    assert list(result) == [("2024-01", "S1"), ("2024-03", "S1"), ("2024-03", "S2")]
    assert result[("2024-03", "S1")]["initial_net"] == 100  # January's recharge
    assert result[("2024-03", "S1")]["reported_closing_amount"] == 60  # 100 - 40
    # A store with no record in a month of the ledger after its first still gets the row.
    ledger.append(card("2024-04-01 10:00", "B", "recharge", 5, 5, 0, store="S2"))
    result = bakery_inputs(ledger)
    assert result[("2024-04", "S1")] == pytest.approx({
        **result[("2024-04", "S1")], **ZERO_EVENTS,
        "initial_net": 60, "reported_closing_amount": 60})  # 100 - 40


# -- bakery: property test ---------------------------------------------------------------------

_EDGES = [T("2024-01-01") + timedelta(days=d) for d in (0, 31, 60, 91, 121)]  # month starts
_INSTANTS = st.one_of(
    st.datetimes(min_value=T("2024-01-01"), max_value=T("2024-05-31 23:59:59")),
    st.sampled_from(_EDGES),
    st.sampled_from([e - timedelta(seconds=1) for e in _EDGES[1:]]),
)
_MONEY = st.integers(min_value=0, max_value=400).map(lambda cents: cents * 0.25)
_CARD_ROW = st.builds(
    lambda t, store, member, kind, amount, net, gift, points: {
        "event_time": t, "store_id": store, "member_id": member, "kind": kind,
        "amount": amount, "net": net, "gift": gift, "points": points},
    _INSTANTS, st.sampled_from(["S1", "S2"]), st.sampled_from(["M1", "M2", "M3", "M4"]),
    st.sampled_from(BAKERY_KINDS), _MONEY, _MONEY, _MONEY,
    st.integers(min_value=0, max_value=300).map(float))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_CARD_ROW, min_size=1, max_size=30), st.integers(min_value=1, max_value=60))
def test_bakery_to_date_identities(rows: list[dict[str, object]], churn_days: int) -> None:
    result = bakery_inputs(rows, churn_days=churn_days)
    months = sorted({period for period, _ in result})
    for store in {s for _, s in result}:
        periods = [p for p in months if (p, store) in result]
        assert periods == months[months.index(periods[0]):]  # every ledger month from its first
        first = result[(periods[0], store)]
        assert first["opening_members"] == 0
        for name in ("initial_net", "initial_gift", "initial_points", "initial_rebate"):
            assert first[name] == 0
        previous_closing = 0.0
        for i, period in enumerate(periods):
            v = result[(period, store)]
            assert v["reported_closing_amount"] == pytest.approx(
                previous_closing + v["recharge_amount"] + v["imported_balance"]
                + v["points_to_balance"] - v["consume_amount"])
            previous_closing = v["reported_closing_amount"]
            assert 0 <= v["silent_members"] <= v["closing_members"]
            if i + 1 < len(periods):
                nxt = result[(periods[i + 1], store)]
                assert v["closing_members"] == nxt["opening_members"]
                assert nxt["initial_points"] == pytest.approx(
                    v["initial_points"] + v["points_from_consume"] + v["points_from_recharge"]
                    - v["points_redeemed"] - v["points_converted"] - v["points_expired"]
                    - v["points_deleted"])
                assert nxt["initial_rebate"] == pytest.approx(
                    v["initial_rebate"] + v["rebate_income"] - v["rebate_spent"])
    assert bakery_inputs(list(reversed(rows)), churn_days=churn_days) == result


def test_bakery_on_the_demo_ledger() -> None:
    from engine.demo_data import bakery_ledger  # only to produce a ledger

    ledger = bakery_ledger(stores=2, months=5, members=120, seed=3)
    result = bakery_inputs(ledger)  # a dict of NumPy columns
    assert {store for _, store in result} == {"S01", "S02"}
    for store in ("S01", "S02"):
        periods = sorted(p for p, s in result if s == store)
        assert len(periods) == 5
        for this, nxt in zip(periods, periods[1:], strict=False):
            a, b = result[(this, store)], result[(nxt, store)]
            assert a["closing_members"] == b["opening_members"]
            # In the demo ledger amount = net + gift on every money row, so the reported
            # balance is the principal plus the bonus.
            assert a["reported_closing_amount"] == pytest.approx(
                b["initial_net"] + b["initial_gift"], abs=1e-6)
            assert b["initial_points"] >= 0
            assert b["initial_rebate"] >= -1e-9


# -- orders ------------------------------------------------------------------------------------

ORDER_LOG = [
    order("a", "2024-01-05 10:00", 100),
    order("a", "2024-01-20 10:00", 50),
    order("b", "2024-01-31 23:59:59", 30),
    order("b", "2024-01-10 10:00", 0),  # zero: ignored
    order("c", "2024-01-15 10:00", -20),  # a refund from someone who never ordered
    order("a", "2024-02-01 00:00:00", -50),  # refund
    order("b", "2024-02-03 10:00", 40),
    order("d", "2024-02-04 10:00", 0),  # zero: d is nobody
    order("e", "2024-02-10 10:00", 70),
    order("e", "2024-02-11 10:00", 10),
    order("e", "2024-02-12 10:00", 5),
    order("f", "2024-03-05 10:00", 0),  # March has only a zero row: not a period
    order("b", "2024-04-02 10:00", 25),
]


def test_orders_refunds_zero_rows_first_purchase_and_lapse() -> None:
    result = order_inputs(ORDER_LOG)
    assert list(result) == [("2024-01",), ("2024-02",), ("2024-04",)]
    assert all(list(values) == list(ORDER_INPUTS) for values in result.values())
    zero_rfm = {"rfm_champions": 0, "rfm_at_risk": 0}
    # January, E = 1 Feb: a last ordered 20 Jan -> 12 days; b 31 Jan 23:59:59 -> 1 day.
    assert result[("2024-01",)] == {
        "orders": 3,  # a 2, b 1
        "revenue": 160.0,  # 100 + 50 + 30 - 20
        "active_members": 2,  # a, b
        "new_members": 2,  # a, b
        "repeat_buyers": 1,  # a
        "members_at_start": 0,
        "total_members": 2,
        "churned_members": 0,
        "avg_days_since_last_purchase": 6.5,  # (12 + 1) / 2
        # a: R (12), F 2, M 150; b: R (1), F 1, M 30 -> both R and not (F and M).
        **zero_rfm, "rfm_potential": 2, "rfm_hibernating": 0,
    }
    # February, E = 1 Mar 2024 (29 days in Feb): a 20 Jan -> 41; b 3 Feb -> 27; e 12 Feb -> 18.
    feb = result[("2024-02",)]
    assert feb == {
        "orders": 4,  # b 1, e 3
        "revenue": 75.0,  # -50 + 40 + 70 + 10 + 5
        "active_members": 2,  # b, e (a only refunded)
        "new_members": 1,  # e
        "repeat_buyers": 1,  # e
        "members_at_start": 2,  # a, b
        "total_members": 3,  # a, b, e
        "churned_members": 0,
        "avg_days_since_last_purchase": pytest.approx(86 / 3),  # (41 + 27 + 18) / 3
        # a: not R (41), F 2, M 100 + 50 - 50 = 100 -> hibernating;
        # b: R, F 2, M 70 -> potential; e: R, F 3, M 85 -> potential.
        **zero_rfm, "rfm_potential": 2, "rfm_hibernating": 1,
    }
    # April (30 days), E = 1 May: a 20 Jan -> 41 + 31 + 30 = 102; b 2 Apr -> 29;
    # e 12 Feb -> 18 + 31 + 30 = 79.
    assert result[("2024-04",)] == {
        "orders": 1,
        "revenue": 25.0,
        "active_members": 1,
        "new_members": 0,
        "repeat_buyers": 0,
        "members_at_start": 3,  # a, b, e
        "total_members": 3,
        "churned_members": 1,  # a: 102 > 90 and 102 - 30 = 72 <= 90
        "avg_days_since_last_purchase": 70.0,  # (102 + 29 + 79) / 3
        # a: hibernating (M 100); b: R (29), F 3, M 30 + 40 + 25 = 95 -> potential;
        # e: not R (79), F 3, M 85 -> hibernating.
        **zero_rfm, "rfm_potential": 1, "rfm_hibernating": 2,
    }


ORDER_ID_LOG = [
    order("a", "2024-01-05 10:00", 60, "o1"),
    order("a", "2024-01-05 10:00", 40, "o1"),  # a second line of order o1
    order("a", "2024-01-09 10:00", 30, "o2"),
    order("b", "2024-01-10 10:00", 20, "o3"),
    order("b", "2024-01-10 11:00", -5, "o3"),  # refund of o3: not an order
    order("b", "2024-01-12 10:00", 0, "o4"),  # zero: ignored
    order("a", "2024-02-03 10:00", 10, "o2"),  # o2 continues in February
]


def test_orders_with_order_id_duplicates() -> None:
    result = order_inputs(ORDER_ID_LOG)
    jan, feb = result[("2024-01",)], result[("2024-02",)]
    assert jan["orders"] == 3  # o1, o2, o3 (4 order rows)
    assert jan["revenue"] == 145.0  # 60 + 40 + 30 + 20 - 5
    assert jan["repeat_buyers"] == 1  # a: o1, o2; b: o3 only
    assert feb["orders"] == 1  # o2 again, counted in February too
    assert feb["repeat_buyers"] == 0
    # Without order_id every order row is an order.
    plain = [{k: v for k, v in r.items() if k != "order_id"} for r in ORDER_ID_LOG]
    jan_plain = order_inputs(plain)[("2024-01",)]
    assert jan_plain["orders"] == 4  # 60, 40, 30, 20
    assert jan_plain["repeat_buyers"] == 1  # a: 3 rows; b: 1
    # F counts distinct orders: a has o1, o2 (2 orders, 4 rows) before 1 Mar; with a
    # threshold of 3 orders a is not F-high with order_id, and is without.
    # a: d = 27 (3 Feb -> 1 Mar), M = 60 + 40 + 30 + 10 = 140; b: d = 51, F 1, M 15.
    with_id = order_inputs(ORDER_ID_LOG, rfm_frequent_orders=3, rfm_monetary=100)
    without = order_inputs(plain, rfm_frequent_orders=3, rfm_monetary=100)
    assert with_id[("2024-02",)]["rfm_champions"] == 0  # a: R, F 2 < 3, M
    assert without[("2024-02",)]["rfm_champions"] == 1  # a: R, F 4 >= 3, M 140 >= 100
    with pytest.raises(ValueError, match="order_id"):
        order_inputs([*ORDER_ID_LOG, order("c", "2024-01-01 10:00", 5)])


RFM_LOG = [
    order("champ", "2024-03-10 10:00", 200),
    order("champ", "2024-04-10 10:00", 150),
    order("champ", "2024-05-10 10:00", 100),
    order("champ", "2024-06-20 10:00", 60),
    order("pot", "2024-06-01 00:00:00", 20),
    *(order("risk", f"2024-01-{day:02d} 10:00", 10) for day in (5, 10, 15, 20, 25)),
    order("hib", "2024-05-31 10:00", 30),
    order("edge365", "2023-07-02 10:00", 600),
    order("old", "2023-07-01 10:00", 1000),
    order("lapsed", "2024-04-01 10:00", 10),
    order("not_yet", "2024-04-02 10:00", 10),
    order("boundary", "2024-03-03 10:00", 10),
    *(order("refunded", f"2024-06-0{day} 10:00", 130) for day in (2, 3, 4, 5)),
    order("refunded", "2024-06-06 10:00", -30),
]


def test_orders_rfm_segments_and_lapse_boundary() -> None:
    result = order_inputs(RFM_LOG)
    assert list(result) == [("2023-07",), ("2024-01",), ("2024-03",), ("2024-04",),
                            ("2024-05",), ("2024-06",)]
    # June 2024, E = 1 Jul. Days since last order at E:
    #   champ 20 Jun -> 11; pot 1 Jun -> 30; risk 25 Jan -> 7 + 29 + 31 + 30 + 31 + 30 = 158;
    #   hib 31 May -> 31; edge365 2 Jul 2023 -> 365; old 1 Jul 2023 -> 366 (out of scope);
    #   lapsed 1 Apr -> 91; not_yet 2 Apr -> 90; refunded 5 Jun -> 26;
    #   boundary 3 Mar -> 29 + 30 + 31 + 30 = 120.
    # Segments: champ R, F 4, M 200+150+100+60 = 510 -> champion;
    #   pot R (30 <= 30), F 1 -> potential; refunded R, F 4, M 4*130 - 30 = 490 -> potential;
    #   risk not R, F 5, M 50 -> at risk; edge365 not R, F 1, M 600 -> at risk;
    #   hib, lapsed, not_yet, boundary: not R, F 1, M 30 / 10 / 10 / 10 -> hibernating.
    assert result[("2024-06",)] == {
        "orders": 6,  # champ 1, pot 1, refunded 4
        "revenue": 570.0,  # 60 + 20 + 4 * 130 - 30
        "active_members": 3,  # champ, pot, refunded
        "new_members": 2,  # pot, refunded
        "repeat_buyers": 1,  # refunded
        # champ, risk, hib, edge365, old, lapsed, not_yet, boundary
        "members_at_start": 8,
        "total_members": 10,  # + pot, refunded
        # lapsed: 91 > 90, 91 - 30 = 61 <= 90; boundary: 120 > 90, 120 - 30 = 90 <= 90;
        # not_yet: 90, not > 90.
        "churned_members": 2,
        # (11 + 30 + 158 + 31 + 365 + 91 + 90 + 26 + 120) / 9 = 922 / 9
        "avg_days_since_last_purchase": pytest.approx(922 / 9),
        "rfm_champions": 1, "rfm_potential": 2, "rfm_at_risk": 2, "rfm_hibernating": 4,
    }
    # April (30 days), E = 1 May: risk 25 Jan -> 97 > 90 and 97 - 30 = 67 <= 90: churned.
    # (old and edge365 crossed 90 days in October 2023, not a period: never counted.)
    # boundary: at E(May) = 1 Jun, d = 90: not yet.
    assert [values["churned_members"] for values in result.values()] == [0, 0, 0, 1, 0, 2]
    # Thresholds are parameters: with a 30-day window only champ (11), pot (30), refunded (26).
    narrow = order_inputs(RFM_LOG, recency_window_days=30)[("2024-06",)]
    assert narrow["avg_days_since_last_purchase"] == pytest.approx(67 / 3)  # (11 + 30 + 26) / 3
    assert (narrow["rfm_champions"], narrow["rfm_potential"], narrow["rfm_at_risk"],
            narrow["rfm_hibernating"]) == (1, 2, 0, 0)
    # With R = d <= 29 pot moves from potential to hibernating.
    shifted = order_inputs(RFM_LOG, rfm_recent_days=29)[("2024-06",)]
    assert (shifted["rfm_potential"], shifted["rfm_hibernating"]) == (1, 5)


def test_orders_avg_days_is_none_without_recent_customers() -> None:
    log = [order("a", "2023-01-10 10:00", 10), order("b", "2024-06-10 10:00", -10)]
    result = order_inputs(log)
    # June 2024: a's last order is 1 Jul 2024 - 10 Jan 2023 = 538 days old > 365; b never
    # ordered. No customer in scope.
    june = result[("2024-06",)]
    assert june["avg_days_since_last_purchase"] is None
    assert june["total_members"] == 1
    assert june["revenue"] == -10.0
    assert june["orders"] == 0
    assert order_inputs([order("a", "2024-01-01", 0)]) == {}
