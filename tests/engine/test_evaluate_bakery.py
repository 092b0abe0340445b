"""Evaluating bakery-stored-value on its sample data (docs/evaluation.md, spec §9).

Every expected number below was worked out by hand from
`metrics/bakery-stored-value/examples/sample.csv`; the tables with the arithmetic are in
`metrics/bakery-stored-value/examples/expected.md`, and each literal here carries its sum in
a comment. Nothing is computed by the engine or re-derived generically in this file.

The JSON holds exact values; the literals are the values *as shown* (docs/evaluation.md,
"Output values"): currency to 2 places, percent with `decimals: 1` to 3 places, `decimals: 0`
to whole numbers, half away from zero; so a literal such as `0.749` is the shown value of
2,338 / 3 / 1,040 = 0.74936. `assert_values` compares the shown value of the exact one;
`test_the_json_values_are_exact` checks a few exact values themselves.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from engine.compile.pack import compile_pack
from engine.core.display import shown
from engine.core.errors import InputError, UnknownMetric
from engine.evaluate.evaluation import evaluate, read_table
from engine.load.library import PackLibrary

EXAMPLES = Path(__file__).resolve().parents[2] / "metrics" / "bakery-stored-value" / "examples"
SAMPLE = EXAMPLES / "sample.csv"

S01, S02 = "S01", "S02"
MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]

# The metrics the sample data can feed: every bakery metric, plus the core metric
# new_member_growth = growth(new_members) (new_members is in the data).
COMPUTED = set(
    """
opening_net opening_gift carryover_amount opening_amount closing_amount closing_gift closing_net
opening_points closing_points opening_rebate closing_rebate balance_net_change balance_gap
avg_balance avg_gift_balance cumulative_principal cumulative_gift
avg_members monthly_new_members active_rate churn_rate member_growth_rate high_value_estimate
high_value_share silent_estimate
monthly_recharge_amount monthly_consume_amount recharge_per_visit consume_per_visit
consume_to_recharge_ratio gift_utilization sedimentation_rate fund_turnover gift_share
new_member_growth avg_closing_members
""".split()
) | {
    "silent_member_share",
    "high_value_member_share",
    "rfm_at_risk_share",
    "rfm_champion_share",
    "returning_member_share",
}
# Metrics of optional inputs that only a ledger gives (kpi run): null in the monthly sample
LEDGER_ONLY = {
    "silent_member_share",
    "high_value_member_share",
    "rfm_at_risk_share",
    "rfm_champion_share",
    "returning_member_share",
}
# Core metrics whose inputs (marketing_spend, revenue, orders, members_at_start, ...) are absent.
SKIPPED = set(
    """
cac avg_order_value clv repeat_purchase_rate retention_rate nps active_member_ratio visit_frequency
purchase_frequency silence_rate member_lifespan_periods csat complaint_rate referral_rate
customer_profit_margin email_open_rate email_click_rate service_resolution_rate avg_response_minutes
""".split()
)


# -- helpers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled():
    return compile_pack("bakery-stored-value", PackLibrary.default())


def run(compiled, rows=None, **options) -> dict:
    """The §9 response for the sample rows (or the given rows)."""
    return evaluate(compiled, read_table(SAMPLE) if rows is None else rows, **options).to_json()


@pytest.fixture(scope="module")
def monthly(compiled) -> dict:
    return run(compiled)


@pytest.fixture(scope="module")
def monthly_en(compiled) -> dict:
    return run(compiled, locale="en")


@pytest.fixture(scope="module")
def quarterly(compiled) -> dict:
    return run(compiled, grain="quarter")


@pytest.fixture(scope="module")
def total_monthly(compiled) -> dict:
    return run(compiled, by=[])


@pytest.fixture(scope="module")
def total_quarterly(compiled) -> dict:
    return run(compiled, grain="quarter", by=[])


def row(body: dict, period: str, store: str | None = None) -> dict:
    dims = {} if store is None else {"store": store}
    found = [r for r in body["rows"] if r["period"] == period and r["dims"] == dims]
    assert len(found) == 1, f"expected one row {period} {dims}, got {len(found)}"
    return found[0]


_MISSING = "<missing>"


_PACK = compile_pack("bakery-stored-value", PackLibrary.default()).pack


def assert_values(r: dict, expected: dict) -> None:
    """Every expected value at once (None = null): the exact value as shown equals the literal
    (within 1e-9)."""
    wrong = {}
    for metric, want in expected.items():
        got = r["values"].get(metric, _MISSING)
        if want is None:
            ok = got is None
        else:
            ok = (
                isinstance(got, int | float)
                and not isinstance(got, bool)
                and shown(got, _PACK.metrics.get(metric))[0]
                == pytest.approx(want, rel=1e-9, abs=1e-9)
            )
        if not ok:
            wrong[metric] = {"got": got, "expected": want}
    assert not wrong, f"{r['period']} {r['dims']}: {wrong}"


def rule_ids(r: dict) -> list[str]:
    return sorted(x["id"] for x in r["rules"])


def checks(r: dict) -> dict[str, dict]:
    return {c["id"]: c for c in r["checks"]}


def sample_dicts() -> list[dict]:
    """The sample as JSON-like rows: a list of flat dicts of strings."""
    with SAMPLE.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def edited_csv(tmp_path: Path, data_row: int, column: str, value: str) -> Path:
    """A copy of the sample with one cell replaced (data_row is 1-based, header not counted)."""
    rows = sample_dicts()
    rows[data_row - 1][column] = value
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "edited.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


# -- the response envelope ----------------------------------------------------------------


def test_the_envelope_and_the_row_order(monthly: dict):
    assert monthly["pack"] == "bakery-stored-value"
    assert monthly["version"] == "1.0.0"
    assert monthly["grain"] == "month"  # the rows' grain
    assert monthly["by"] == ["store"]  # every dimension column present
    # the CSV is ordered by month then store; the output by store, then month
    assert [(r["dims"]["store"], r["period"]) for r in monthly["rows"]] == (
        [(S01, m) for m in MONTHS] + [(S02, m) for m in MONTHS]
    )
    for r in monthly["rows"]:
        assert set(r) >= {"period", "dims", "values", "undefined", "bands", "rules", "checks"}
        assert "trace" not in r


def test_every_metric_the_data_can_feed_is_computed(monthly: dict):
    for r in monthly["rows"]:
        assert set(r["values"]) == COMPUTED, r["period"]


def test_only_growth_is_undefined_and_only_in_the_first_month(monthly: dict):
    for r in monthly["rows"]:
        nulls = {m for m, v in r["values"].items() if v is None} - LEDGER_ONLY
        assert all(r["values"][m] is None and m in r["undefined"] for m in LEDGER_ONLY)
        undefined = set(r["undefined"]) - LEDGER_ONLY
        if r["period"] == "2026-01":
            # growth(x) has no previous value in a group's first period
            assert nulls == {"member_growth_rate", "new_member_growth"}
            assert undefined == nulls
            assert all(isinstance(reason, str) and reason for reason in r["undefined"].values())
        else:
            assert nulls == set() and undefined == set(), r["period"]


def test_core_metrics_without_their_inputs_are_listed_in_warnings(monthly: dict):
    text = [json.dumps(w, ensure_ascii=False) for w in monthly["warnings"]]
    for metric in SKIPPED:
        assert any(re.search(rf"\b{metric}\b", t) for t in text), f"{metric} not in warnings"
    # cac lacks marketing_spend (new_members is present)
    assert any(re.search(r"\bcac\b", t) and "marketing_spend" in t for t in text)
    for metric in ("closing_amount", "active_rate", "churn_rate", "new_member_growth"):
        assert not any(re.search(rf"\b{metric}\b", t) for t in text), metric


# -- month grain, by store: the carry-over chain -------------------------------------------

# opening_net = previous(closing_net, default=initial_net), the same for gift;
# carryover = opening_net + opening_gift; opening_amount = imported_balance + carryover;
# closing_amount = opening_amount + recharge + points_to_balance - consume;
# closing_net = opening_net + net_income - net_spent + imported_balance;
# closing_gift = opening_gift + gift_income - gift_spent + points_to_balance.
CARRY_OVER = {
    (S01, "2026-01"): dict(
        opening_net=20_000,
        opening_gift=4_000,  # initial_net, initial_gift
        carryover_amount=24_000,
        opening_amount=24_000,  # 0 imported + 24,000
        closing_amount=29_000,  # 24,000 + 33,000 + 0 - 28,000
        closing_net=24_000,  # 20,000 + 30,000 - 26,000 + 0
        closing_gift=5_000,  # 4,000 + 3,000 - 2,000 + 0
    ),
    (S01, "2026-02"): dict(
        opening_net=24_000,
        opening_gift=5_000,  # January's closings
        carryover_amount=29_000,
        opening_amount=31_000,  # 2,000 imported + 29,000
        closing_amount=41_500,  # 31,000 + 50,000 + 500 - 40,000
        closing_net=32_000,  # 24,000 + 40,000 - 34,000 + 2,000
        closing_gift=9_500,  # 5,000 + 10,000 - 6,000 + 500
    ),
    (S01, "2026-03"): dict(
        opening_net=32_000,
        opening_gift=9_500,
        carryover_amount=41_500,
        opening_amount=41_500,
        closing_amount=34_000,  # 41,500 + 27,500 + 0 - 35,000
        closing_net=27_000,  # 32,000 + 25,000 - 30,000
        closing_gift=7_000,  # 9,500 + 2,500 - 5,000
    ),
    (S01, "2026-04"): dict(
        opening_net=27_000,
        opening_gift=7_000,
        carryover_amount=34_000,
        opening_amount=34_000,
        closing_amount=36_000,  # 34,000 + 34,500 - 32,500
        closing_net=29_000,  # 27,000 + 30,000 - 28,000
        closing_gift=7_000,  # 7,000 + 4,500 - 4,500
    ),
    (S01, "2026-05"): dict(
        opening_net=29_000,
        opening_gift=7_000,
        carryover_amount=36_000,
        opening_amount=36_000,
        closing_amount=39_000,  # 36,000 + 36,800 + 200 - 34,000
        closing_net=31_000,  # 29,000 + 32,000 - 30,000
        closing_gift=8_000,  # 7,000 + 4,800 - 4,000 + 200
    ),
    (S01, "2026-06"): dict(
        opening_net=31_000,
        opening_gift=8_000,
        carryover_amount=39_000,
        opening_amount=39_000,
        closing_amount=39_000,  # 39,000 + 36,600 + 0 - 36,600
        closing_net=30_000,  # 31,000 + 30,000 - 31,000
        closing_gift=9_000,  # 8,000 + 6,600 - 5,600
    ),
    (S02, "2026-01"): dict(
        opening_net=5_000,
        opening_gift=1_000,  # initial_net, initial_gift
        carryover_amount=6_000,
        opening_amount=6_000,
        closing_amount=7_500,  # 6,000 + 27,500 - 26,000
        closing_net=6_000,  # 5,000 + 25,000 - 24,000
        closing_gift=1_500,  # 1,000 + 2,500 - 2,000
    ),
    (S02, "2026-02"): dict(
        opening_net=6_000,
        opening_gift=1_500,
        carryover_amount=7_500,
        opening_amount=7_500,
        closing_amount=9_000,  # 7,500 + 33,000 - 31,500
        closing_net=7_000,  # 6,000 + 30,000 - 29,000
        closing_gift=2_000,  # 1,500 + 3,000 - 2,500
    ),
    (S02, "2026-03"): dict(
        opening_net=7_000,
        opening_gift=2_000,
        carryover_amount=9_000,
        opening_amount=9_000,
        closing_amount=8_700,  # 9,000 + 27,500 - 27,800
        closing_net=7_000,  # 7,000 + 25,000 - 25,000
        closing_gift=1_700,  # 2,000 + 2,500 - 2,800
    ),
    (S02, "2026-04"): dict(
        opening_net=7_000,
        opening_gift=1_700,
        carryover_amount=8_700,
        opening_amount=10_200,  # 1,500 imported + 8,700
        closing_amount=11_000,  # 10,200 + 30,800 - 30,000
        closing_net=9_500,  # 7,000 + 28,000 - 27,000 + 1,500
        closing_gift=1_500,  # 1,700 + 2,800 - 3,000
    ),
    (S02, "2026-05"): dict(
        opening_net=9_500,
        opening_gift=1_500,
        carryover_amount=11_000,
        opening_amount=11_000,
        closing_amount=11_800,  # 11,000 + 33,000 + 100 - 32,300
        closing_net=10_500,  # 9,500 + 30,000 - 29,000
        closing_gift=1_300,  # 1,500 + 3,000 - 3,300 + 100
    ),
    (S02, "2026-06"): dict(
        opening_net=10_500,
        opening_gift=1_300,
        carryover_amount=11_800,
        opening_amount=11_800,
        closing_amount=14_800,  # 11,800 + 35,200 - 32,200
        closing_net=12_500,  # 10,500 + 32,000 - 30,000
        closing_gift=2_300,  # 1,300 + 3,200 - 2,200
    ),
}


@pytest.mark.parametrize(("store", "period"), list(CARRY_OVER), ids=lambda v: v)
def test_month_balance_carry_over(monthly: dict, store: str, period: str):
    assert_values(row(monthly, period, store), CARRY_OVER[(store, period)])


# balance_net_change = closing - opening; avg_balance = (opening + closing) / 2;
# avg_gift_balance = (opening_gift + closing_gift) / 2; balance_gap = reported - closing;
# cumulative_principal = cumulative_sum(net_income); cumulative_gift = cumulative_sum(gift_income)
BALANCE_ANALYSIS = {
    (S01, "2026-01"): dict(
        balance_net_change=5_000,
        avg_balance=26_500,  # (24,000 + 29,000) / 2
        avg_gift_balance=4_500,
        balance_gap=0,  # (4,000 + 5,000) / 2
        cumulative_principal=30_000,
        cumulative_gift=3_000,
    ),
    # +40,000; +10,000
    (S01, "2026-02"): dict(
        balance_net_change=10_500,
        avg_balance=36_250,  # (31,000 + 41,500) / 2
        avg_gift_balance=7_250,
        balance_gap=0,  # (5,000 + 9,500) / 2
        cumulative_principal=70_000,
        cumulative_gift=13_000,
    ),
    (S01, "2026-03"): dict(
        balance_net_change=-7_500,
        avg_balance=37_750,  # (41,500 + 34,000) / 2
        avg_gift_balance=8_250,  # (9,500 + 7,000) / 2
        balance_gap=0.5,  # reported 34,000.50 - 34,000
        cumulative_principal=95_000,
        cumulative_gift=15_500,
    ),
    (S01, "2026-04"): dict(
        balance_net_change=2_000,
        avg_balance=35_000,
        avg_gift_balance=7_000,
        balance_gap=0,
        cumulative_principal=125_000,
        cumulative_gift=20_000,
    ),
    (S01, "2026-05"): dict(
        balance_net_change=3_000,
        avg_balance=37_500,  # (36,000 + 39,000) / 2
        avg_gift_balance=7_500,
        balance_gap=0,
        cumulative_principal=157_000,
        cumulative_gift=24_800,
    ),
    (S01, "2026-06"): dict(
        balance_net_change=0,
        avg_balance=39_000,
        avg_gift_balance=8_500,
        balance_gap=0,
        cumulative_principal=187_000,
        cumulative_gift=31_400,
    ),
    (S02, "2026-01"): dict(
        balance_net_change=1_500,
        avg_balance=6_750,  # (6,000 + 7,500) / 2
        avg_gift_balance=1_250,
        balance_gap=0,
        cumulative_principal=25_000,
        cumulative_gift=2_500,
    ),
    (S02, "2026-02"): dict(
        balance_net_change=1_500,
        avg_balance=8_250,  # (7,500 + 9,000) / 2
        avg_gift_balance=1_750,
        balance_gap=-500,  # reported 8,500 - 9,000
        cumulative_principal=55_000,
        cumulative_gift=5_500,
    ),
    (S02, "2026-03"): dict(
        balance_net_change=-300,
        avg_balance=8_850,  # (9,000 + 8,700) / 2
        avg_gift_balance=1_850,
        balance_gap=0,
        cumulative_principal=80_000,
        cumulative_gift=8_000,
    ),
    (S02, "2026-04"): dict(
        balance_net_change=800,
        avg_balance=10_600,  # (10,200 + 11,000) / 2
        avg_gift_balance=1_600,
        balance_gap=0,
        cumulative_principal=108_000,
        cumulative_gift=10_800,
    ),
    (S02, "2026-05"): dict(
        balance_net_change=800,
        avg_balance=11_400,  # (11,000 + 11,800) / 2
        avg_gift_balance=1_400,
        balance_gap=0,
        cumulative_principal=138_000,
        cumulative_gift=13_800,
    ),
    (S02, "2026-06"): dict(
        balance_net_change=3_000,
        avg_balance=13_300,  # (11,800 + 14,800) / 2
        avg_gift_balance=1_800,
        balance_gap=0,
        cumulative_principal=170_000,
        cumulative_gift=17_000,
    ),
}


@pytest.mark.parametrize(("store", "period"), list(BALANCE_ANALYSIS), ids=lambda v: v)
def test_month_balance_analysis(monthly: dict, store: str, period: str):
    assert_values(row(monthly, period, store), BALANCE_ANALYSIS[(store, period)])


# closing_points = opening + from_consume + from_recharge - redeemed - converted - expired - deleted
# closing_rebate = opening + rebate_income - rebate_spent; openings carry over.
POINTS_AND_REBATES = {
    # 50,000+28,000+3,000-8,000-0-2,000-1,000; 1,000+500-300
    (S01, "2026-01"): (50_000, 70_000, 1_000, 1_200),
    # 70,000+40,000+5,000-15,000-50,000; 1,200+800-1,000
    (S01, "2026-02"): (70_000, 50_000, 1_200, 1_000),
    (S01, "2026-03"): (50_000, 75_000, 1_000, 800),  # 50,000+35,000+2,500-10,000-2,500; 1,000-200
    (S01, "2026-04"): (75_000, 100_000, 800, 1_000),  # 75,000+32,500+3,500-11,000; 800+400-200
    # 100,000+34,000+4,000-12,000-20,000-5,000-1,000; 1,000+600-100
    (S01, "2026-05"): (100_000, 100_000, 1_000, 1_500),
    (S01, "2026-06"): (100_000, 120_000, 1_500, 1_000),  # 100,000+36,600+3,400-20,000; 1,500-500
    (S02, "2026-01"): (20_000, 43_000, 500, 600),  # 20,000+26,000+2,500-5,000-500; 500+200-100
    (S02, "2026-02"): (43_000, 57_000, 600, 500),  # 43,000+31,500+3,000-20,000-500; 600-100
    (S02, "2026-03"): (57_000, 77_000, 500, 800),  # 57,000+27,800+2,500-10,000-300; 500+300
    (S02, "2026-04"): (77_000, 100_000, 800, 500),  # 77,000+30,000+2,800-9,800; 800-300
    # 100,000+32,300+3,000-15,300-10,000-10,000; 500+100-100
    (S02, "2026-05"): (100_000, 100_000, 500, 500),
    (S02, "2026-06"): (100_000, 130_000, 500, 800),  # 100,000+32,200+3,200-5,400; 500+500-200
}


@pytest.mark.parametrize(("store", "period"), list(POINTS_AND_REBATES), ids=lambda v: v)
def test_month_points_and_rebates(monthly: dict, store: str, period: str):
    opening_points, closing_points, opening_rebate, closing_rebate = POINTS_AND_REBATES[
        (store, period)
    ]
    assert_values(
        row(monthly, period, store),
        dict(
            opening_points=opening_points,
            closing_points=closing_points,
            opening_rebate=opening_rebate,
            closing_rebate=closing_rebate,
        ),
    )


# periods = 1 in a month. avg_members = (opening + closing) / 2;
# active_rate = (recharge_count + consume_count) / avg_members; churn_rate (bakery override) =
# churned / avg_members; silent_estimate = max(0, avg_members - visits);
# member_growth_rate = growth(closing_members); monthly_new_members = new_members.
MEMBERS = {
    # (avg_members, active_rate,  # visits / avg_members
    #  churn_rate, silent_estimate, member_growth_rate, monthly_new_members)
    # 30/1,000; 1,000-750; no previous month
    (S01, "2026-01"): (
        1_000,
        0.75,  # 750/1,000
        0.03,
        250,
        None,
        70,
    ),
    # 52/1,040; 1,040-832; 40/1,020 = 0.0392
    (S01, "2026-02"): (
        1_040,
        0.8,  # (1,020+1,060)/2; 832/1,040
        0.05,
        208,
        0.039,
        92,
    ),
    # 27/1,080; 1,080-756; 40/1,060 = 0.0377
    (S01, "2026-03"): (
        1_080,
        0.7,  # 756/1,080
        0.025,
        324,
        0.038,
        67,
    ),
    # 28/1,120; 40/1,100 = 0.0364
    (S01, "2026-04"): (
        1_120,
        0.75,  # 840/1,120
        0.025,
        280,
        0.036,
        68,
    ),
    # 58/1,160; 40/1,140 = 0.0351
    (S01, "2026-05"): (
        1_160,
        0.75,  # 870/1,160
        0.05,
        290,
        0.035,
        98,
    ),
    # 36/1,200; 40/1,180 = 0.0339
    (S01, "2026-06"): (
        1_200,
        0.7,  # 840/1,200
        0.03,
        360,
        0.034,
        76,
    ),
    # 55/1,100
    (S02, "2026-01"): (
        1_100,
        0.7,  # (1,090+1,110)/2; 770/1,100
        0.05,
        330,
        None,
        75,
    ),
    # 56/1,120; 20/1,110 = 0.0180
    (S02, "2026-02"): (
        1_120,
        0.7,  # 784/1,120
        0.05,
        336,
        0.018,
        76,
    ),
    # 117/1,170; 80/1,130 = 0.0708
    (S02, "2026-03"): (
        1_170,
        0.6,  # 702/1,170
        0.1,
        468,
        0.071,
        197,
    ),
    # 50/1,205 = 0.0415; -10/1,210 = -0.0083
    (S02, "2026-04"): (
        1_205,
        0.8,  # (1,210+1,200)/2; 964/1,205
        0.041,
        241,
        -0.008,
        40,
    ),
    # 48/1,210 = 0.0397; 20/1,200 = 0.0167
    (S02, "2026-05"): (
        1_210,
        0.7,  # 847/1,210
        0.04,
        363,
        0.017,
        68,
    ),
    # 61/1,245 = 0.0490; 50/1,220 = 0.0410
    (S02, "2026-06"): (
        1_245,
        0.8,  # 996/1,245
        0.049,
        249,
        0.041,
        111,
    ),
}


@pytest.mark.parametrize(("store", "period"), list(MEMBERS), ids=lambda v: v)
def test_month_members(monthly: dict, store: str, period: str):
    avg_members, active, churn, silent, growth, new = MEMBERS[(store, period)]
    assert_values(
        row(monthly, period, store),
        dict(
            avg_members=avg_members,
            active_rate=active,
            churn_rate=churn,
            silent_estimate=silent,
            member_growth_rate=growth,
            monthly_new_members=new,
        ),
    )


def test_the_json_values_are_exact(monthly: dict, quarterly: dict):
    """Values are not rounded in the JSON: an API client gets every bit of 40 / 1,020."""
    assert row(monthly, "2026-02", S01)["values"]["member_growth_rate"] == 40 / 1_020
    assert row(monthly, "2026-04", S02)["values"]["churn_rate"] == 50 / 1_205
    assert row(monthly, "2026-01", S01)["values"]["high_value_estimate"] == 33_000 / (
        33_000 / 200 * 1.5
    )
    assert row(quarterly, "2026-Q1", S01)["values"]["active_rate"] == pytest.approx(
        2_338 / 3 / 1_040, rel=1e-15
    )


def test_the_inherited_new_member_growth_is_computed(monthly: dict):
    assert_values(row(monthly, "2026-02", S01), {"new_member_growth": 0.314})  # (92-70)/70 = 0.3143
    assert_values(row(monthly, "2026-02", S02), {"new_member_growth": 0.013})  # (76-75)/75 = 0.0133


# recharge_per_visit = recharge / recharge_count; high_value_estimate = recharge /
# (recharge_per_visit * 1.5) = recharge_count / 1.5; consume_to_recharge_ratio = consume /
# recharge (2 places); gift_share = gift_income / net_income; sedimentation_rate = avg_balance /
# net_income; fund_turnover = consume / avg_balance; gift_utilization = gift_spent /
# (avg_gift_balance + gift_income).
EFFICIENCY = {
    (S01, "2026-01"): dict(
        recharge_per_visit=165,  # 33,000 / 200
        high_value_estimate=133,  # 200 / 1.5 = 133.3
        consume_to_recharge_ratio=0.85,  # 28,000 / 33,000 = 0.848
        gift_share=0.1,  # 3,000 / 30,000
        sedimentation_rate=0.883,  # 26,500 / 30,000 = 0.8833
        fund_turnover=1.057,  # 28,000 / 26,500 = 1.0566
        gift_utilization=0.267,  # 2,000 / (4,500 + 3,000) = 0.2667
    ),
    (S01, "2026-02"): dict(
        recharge_per_visit=200,  # 50,000 / 250
        high_value_estimate=167,  # 250 / 1.5 = 166.7
        consume_to_recharge_ratio=0.8,  # 40,000 / 50,000
        gift_share=0.25,  # 10,000 / 40,000
        sedimentation_rate=0.906,  # 36,250 / 40,000 = 0.90625
        fund_turnover=1.103,  # 40,000 / 36,250 = 1.1034
        gift_utilization=0.348,  # 6,000 / (7,250 + 10,000) = 0.3478
    ),
    (S01, "2026-03"): dict(
        recharge_per_visit=110,  # 27,500 / 250
        high_value_estimate=167,  # 250 / 1.5
        consume_to_recharge_ratio=1.27,  # 35,000 / 27,500 = 1.2727
        gift_share=0.1,  # 2,500 / 25,000
        sedimentation_rate=1.51,  # 37,750 / 25,000
        fund_turnover=0.927,  # 35,000 / 37,750 = 0.9272
        gift_utilization=0.465,  # 5,000 / (8,250 + 2,500) = 0.4651
    ),
    (S01, "2026-04"): dict(
        recharge_per_visit=150,  # 34,500 / 230
        high_value_estimate=153,  # 230 / 1.5 = 153.3
        consume_to_recharge_ratio=0.94,  # 32,500 / 34,500 = 0.942
        gift_share=0.15,  # 4,500 / 30,000
        sedimentation_rate=1.167,  # 35,000 / 30,000 = 1.1667
        fund_turnover=0.929,  # 32,500 / 35,000 = 0.9286
        gift_utilization=0.391,  # 4,500 / (7,000 + 4,500) = 0.3913
    ),
    (S01, "2026-05"): dict(
        recharge_per_visit=160,  # 36,800 / 230
        high_value_estimate=153,  # 230 / 1.5
        consume_to_recharge_ratio=0.92,  # 34,000 / 36,800 = 0.9239
        gift_share=0.15,  # 4,800 / 32,000
        sedimentation_rate=1.172,  # 37,500 / 32,000 = 1.171875
        fund_turnover=0.907,  # 34,000 / 37,500 = 0.9067
        gift_utilization=0.325,  # 4,000 / (7,500 + 4,800) = 0.3252
    ),
    (S01, "2026-06"): dict(
        recharge_per_visit=183,  # 36,600 / 200
        high_value_estimate=133,  # 200 / 1.5
        consume_to_recharge_ratio=1,  # 36,600 / 36,600
        gift_share=0.22,  # 6,600 / 30,000
        sedimentation_rate=1.3,  # 39,000 / 30,000
        fund_turnover=0.938,  # 36,600 / 39,000 = 0.9385
        gift_utilization=0.371,  # 5,600 / (8,500 + 6,600) = 0.3709
    ),
    (S02, "2026-01"): dict(
        recharge_per_visit=125,  # 27,500 / 220
        high_value_estimate=147,  # 220 / 1.5 = 146.7
        consume_to_recharge_ratio=0.95,  # 26,000 / 27,500 = 0.9455
        gift_share=0.1,  # 2,500 / 25,000
        sedimentation_rate=0.27,  # 6,750 / 25,000
        fund_turnover=3.852,  # 26,000 / 6,750 = 3.8519
        gift_utilization=0.533,  # 2,000 / (1,250 + 2,500) = 0.5333
    ),
    (S02, "2026-02"): dict(
        recharge_per_visit=150,  # 33,000 / 220
        high_value_estimate=147,  # 220 / 1.5
        consume_to_recharge_ratio=0.95,  # 31,500 / 33,000 = 0.9545
        gift_share=0.1,  # 3,000 / 30,000
        sedimentation_rate=0.275,  # 8,250 / 30,000
        fund_turnover=3.818,  # 31,500 / 8,250 = 3.8182
        gift_utilization=0.526,  # 2,500 / (1,750 + 3,000) = 0.5263
    ),
    (S02, "2026-03"): dict(
        recharge_per_visit=110,  # 27,500 / 250
        high_value_estimate=167,  # 250 / 1.5 = 166.7
        consume_to_recharge_ratio=1.01,  # 27,800 / 27,500 = 1.0109
        gift_share=0.1,
        sedimentation_rate=0.354,  # 8,850 / 25,000
        fund_turnover=3.141,  # 27,800 / 8,850 = 3.1412
        gift_utilization=0.644,  # 2,800 / (1,850 + 2,500) = 0.6437
    ),
    (S02, "2026-04"): dict(
        recharge_per_visit=87.5,  # 30,800 / 352
        high_value_estimate=235,  # 352 / 1.5 = 234.7
        consume_to_recharge_ratio=0.97,  # 30,000 / 30,800 = 0.974
        gift_share=0.1,  # 2,800 / 28,000
        sedimentation_rate=0.379,  # 10,600 / 28,000 = 0.3786
        fund_turnover=2.83,  # 30,000 / 10,600 = 2.8302
        gift_utilization=0.682,  # 3,000 / (1,600 + 2,800) = 0.6818
    ),
    (S02, "2026-05"): dict(
        recharge_per_visit=110,  # 33,000 / 300
        high_value_estimate=200,  # 300 / 1.5
        consume_to_recharge_ratio=0.98,  # 32,300 / 33,000 = 0.9788
        gift_share=0.1,
        sedimentation_rate=0.38,  # 11,400 / 30,000
        fund_turnover=2.833,  # 32,300 / 11,400 = 2.8333
        gift_utilization=0.75,  # 3,300 / (1,400 + 3,000)
    ),
    (S02, "2026-06"): dict(
        recharge_per_visit=110,  # 35,200 / 320
        high_value_estimate=213,  # 320 / 1.5 = 213.3
        consume_to_recharge_ratio=0.91,  # 32,200 / 35,200 = 0.9148
        gift_share=0.1,  # 3,200 / 32,000
        sedimentation_rate=0.416,  # 13,300 / 32,000 = 0.415625
        fund_turnover=2.421,  # 32,200 / 13,300 = 2.4211
        gift_utilization=0.44,  # 2,200 / (1,800 + 3,200)
    ),
}


@pytest.mark.parametrize(("store", "period"), list(EFFICIENCY), ids=lambda v: v)
def test_month_efficiency(monthly: dict, store: str, period: str):
    assert_values(row(monthly, period, store), EFFICIENCY[(store, period)])


def test_month_per_visit_and_per_month_amounts(monthly: dict):
    assert_values(
        row(monthly, "2026-01", S01),
        dict(
            consume_per_visit=50.91,  # 28,000 / 550 = 50.909
            monthly_recharge_amount=33_000,
            monthly_consume_amount=28_000,  # periods = 1
            high_value_share=0.133,  # (200 / 1.5) / 1,000 = 0.1333
        ),
    )
    # 34,000 / 640 = 53.125 exactly (exact in binary too): half away from zero gives 53.13
    # (round-half-even or a plain float round would give 53.12)
    assert_values(row(monthly, "2026-05", S01), {"consume_per_visit": 53.13})


# -- quarter grain, by store ----------------------------------------------------------------

QUARTERS = {
    (S01, "2026-Q1"): dict(
        opening_net=20_000,
        opening_gift=4_000,  # January's initial_*
        opening_amount=26_000,  # imported 2,000 (Feb) + 24,000
        closing_amount=34_000,  # 26,000 + 110,500 + 500 - 103,000 = March's closing
        closing_net=27_000,  # 20,000 + 95,000 - 90,000 + 2,000
        closing_gift=7_000,  # 4,000 + 15,500 - 13,000 + 500
        closing_points=75_000,
        closing_rebate=800,  # = March's
        avg_balance=33_500,  # (26,500 + 36,250 + 37,750) / 3, time: avg
        avg_gift_balance=6_666.67,  # (4,500 + 7,250 + 8,250) / 3 = 6,666.67
        avg_members=1_040,  # (1,000 + 1,040 + 1,080) / 3
        active_rate=0.749,  # (750 + 832 + 756) / 3 / 1,040 = 2,338 / 3,120 = 0.74936 (not 0.75)
        churn_rate=0.035,  # (30 + 52 + 27) / 3 / 1,040 = 109 / 3,120 = 0.0349
        monthly_new_members=76.3,  # (70 + 92 + 67) / 3 = 76.33
        silent_estimate=261,  # 1,040 - 2,338 / 3 = 260.67
        recharge_per_visit=157.86,  # 110,500 / 700 = 157.857
        high_value_estimate=467,  # 700 / 1.5 = 466.7
        gift_share=0.163,  # 15,500 / 95,000 = 0.1632
        sedimentation_rate=1.058,  # 33,500 / (95,000 / 3) = 1.0579
        fund_turnover=1.025,  # (103,000 / 3) / 33,500 = 1.0249
        gift_utilization=0.366,  # (13,000/3) / (20,000/3 + 15,500/3) = 13,000 / 35,500 = 0.3662
        consume_to_recharge_ratio=0.93,  # 103,000 / 110,500 = 0.932
        monthly_recharge_amount=36_833.33,  # 110,500 / 3
        member_growth_rate=None,  # first quarter
        cumulative_principal=95_000,
        balance_gap=0.5,  # reported = March's 34,000.50
    ),
    (S01, "2026-Q2"): dict(
        opening_net=27_000,
        opening_gift=7_000,  # Q1's closings
        opening_amount=34_000,
        closing_amount=39_000,  # 34,000 + 107,900 + 200 - 103,100 = June's closing
        closing_net=30_000,  # 27,000 + 92,000 - 89,000
        closing_gift=9_000,  # 7,000 + 15,900 - 14,100 + 200
        closing_points=120_000,
        closing_rebate=1_000,
        avg_balance=37_166.67,  # (35,000 + 37,500 + 39,000) / 3
        avg_gift_balance=7_666.67,  # (7,000 + 7,500 + 8,500) / 3
        avg_members=1_160,  # (1,120 + 1,160 + 1,200) / 3
        active_rate=0.733,  # (840 + 870 + 840) / 3 / 1,160 = 850 / 1,160 = 0.7328
        churn_rate=0.035,  # (28 + 58 + 36) / 3 / 1,160 = 122 / 3,480 = 0.0351
        monthly_new_members=80.7,  # (68 + 98 + 76) / 3 = 80.67
        silent_estimate=310,  # 1,160 - 850
        recharge_per_visit=163.48,  # 107,900 / 660 = 163.485
        high_value_estimate=440,  # 660 / 1.5
        gift_share=0.173,  # 15,900 / 92,000 = 0.1728
        sedimentation_rate=1.212,  # 111,500 / 92,000 = 1.2120
        fund_turnover=0.925,  # 103,100 / 111,500 = 0.9247
        gift_utilization=0.362,  # 14,100 / (23,000 + 15,900) = 0.3625
        consume_to_recharge_ratio=0.96,  # 103,100 / 107,900 = 0.9555
        member_growth_rate=0.109,  # (1,220 - 1,100) / 1,100 = 0.1091
        cumulative_principal=187_000,  # 95,000 + 92,000
        balance_gap=0,
    ),
    (S02, "2026-Q1"): dict(
        opening_net=5_000,
        opening_gift=1_000,
        opening_amount=6_000,
        closing_amount=8_700,  # 6,000 + 88,000 - 85,300
        closing_net=7_000,  # 5,000 + 80,000 - 78,000
        closing_gift=1_700,  # 1,000 + 8,000 - 7,300
        closing_points=77_000,
        closing_rebate=800,
        avg_balance=7_950,  # (6,750 + 8,250 + 8,850) / 3
        avg_gift_balance=1_616.67,  # (1,250 + 1,750 + 1,850) / 3
        avg_members=1_130,  # (1,100 + 1,120 + 1,170) / 3, not (1,090 + 1,210) / 2 = 1,150
        active_rate=0.665,  # 2,256 / 3 / 1,130 = 752 / 1,130 = 0.66549 (mean of rates: 0.667)
        churn_rate=0.067,  # (55 + 56 + 117) / 3 / 1,130 = 76 / 1,130 = 0.0673
        monthly_new_members=116,  # (75 + 76 + 197) / 3
        silent_estimate=378,  # 1,130 - 752
        recharge_per_visit=127.54,  # 88,000 / 690 = 127.536
        high_value_estimate=460,  # 690 / 1.5
        gift_share=0.1,  # 8,000 / 80,000
        sedimentation_rate=0.298,  # 7,950 / (80,000 / 3) = 0.298125
        fund_turnover=3.577,  # 85,300 / 23,850 = 3.5765
        gift_utilization=0.568,  # 7,300 / (4,850 + 8,000) = 0.5681
        consume_to_recharge_ratio=0.97,  # 85,300 / 88,000 = 0.9693
        member_growth_rate=None,
        cumulative_principal=80_000,
        balance_gap=0,  # reported = March's 8,700 (February's 8,500 is not the last)
    ),
    (S02, "2026-Q2"): dict(
        opening_net=7_000,
        opening_gift=1_700,
        opening_amount=10_200,  # imported 1,500 (Apr) + 8,700
        closing_amount=14_800,  # 10,200 + 99,000 + 100 - 94,500
        closing_net=12_500,  # 7,000 + 90,000 - 86,000 + 1,500
        closing_gift=2_300,  # 1,700 + 9,000 - 8,500 + 100
        closing_points=130_000,
        closing_rebate=800,
        avg_balance=11_766.67,  # (10,600 + 11,400 + 13,300) / 3 = 35,300 / 3
        avg_gift_balance=1_600,  # (1,600 + 1,400 + 1,800) / 3
        avg_members=1_220,  # (1,205 + 1,210 + 1,245) / 3, not (1,210 + 1,270) / 2 = 1,240
        active_rate=0.767,  # 2,807 / 3 / 1,220 = 0.7669
        churn_rate=0.043,  # (50 + 48 + 61) / 3 / 1,220 = 53 / 1,220 = 0.0434
        monthly_new_members=73,  # (40 + 68 + 111) / 3
        silent_estimate=284,  # 1,220 - 2,807 / 3 = 284.33
        recharge_per_visit=101.85,  # 99,000 / 972 = 101.852
        high_value_estimate=648,  # 972 / 1.5
        gift_share=0.1,  # 9,000 / 90,000
        sedimentation_rate=0.392,  # 35,300 / 90,000 = 0.3922
        fund_turnover=2.677,  # 94,500 / 35,300 = 2.6771
        gift_utilization=0.616,  # 8,500 / (4,800 + 9,000) = 0.6159
        consume_to_recharge_ratio=0.95,  # 94,500 / 99,000 = 0.9545
        member_growth_rate=0.05,  # (1,270 - 1,210) / 1,210 = 0.0496
        cumulative_principal=170_000,  # 80,000 + 90,000
        balance_gap=0,
    ),
}


def test_quarter_envelope(quarterly: dict):
    assert quarterly["grain"] == "quarter" and quarterly["by"] == ["store"]
    assert [(r["dims"]["store"], r["period"]) for r in quarterly["rows"]] == [
        (S01, "2026-Q1"),
        (S01, "2026-Q2"),
        (S02, "2026-Q1"),
        (S02, "2026-Q2"),
    ]


@pytest.mark.parametrize(("store", "period"), list(QUARTERS), ids=lambda v: v)
def test_quarter_values(quarterly: dict, store: str, period: str):
    assert_values(row(quarterly, period, store), QUARTERS[(store, period)])


def test_quarter_rules_and_checks(quarterly: dict):
    assert rule_ids(row(quarterly, "2026-Q1", S01)) == ["small_balance_gap"]  # gap 0.50
    assert rule_ids(row(quarterly, "2026-Q2", S01)) == []
    assert rule_ids(row(quarterly, "2026-Q1", S02)) == ["low_sedimentation"]  # 0.298 < 0.3
    # falling(closing_gift, 3) needs 4 quarters
    assert rule_ids(row(quarterly, "2026-Q2", S02)) == []
    q1 = checks(row(quarterly, "2026-Q1", S01))["reported_balance"]
    assert q1["status"] == "fail" and q1["residual"] == pytest.approx(-0.5)  # 34,000 - 34,000.50
    for store, period in QUARTERS:
        c = checks(row(quarterly, period, store))
        assert c["balance_identity"]["status"] == "pass"
        if (store, period) != (S01, "2026-Q1"):
            assert c["reported_balance"]["status"] == "pass", (store, period)


def test_year_grain(compiled):
    body = run(compiled, grain="year")
    assert [(r["dims"]["store"], r["period"]) for r in body["rows"]] == [
        (S01, "2026"),
        (S02, "2026"),
    ]
    assert_values(
        row(body, "2026", S01),
        dict(
            opening_net=20_000,
            closing_amount=39_000,
            cumulative_principal=187_000,
            avg_members=1_100,  # (1,000 + 1,040 + 1,080 + 1,120 + 1,160 + 1,200) / 6
            active_rate=0.741,  # (2,338 + 2,550) / 6 / 1,100 = 4,888 / 6,600 = 0.7406
            monthly_new_members=78.5,  # (229 + 242) / 6
            member_growth_rate=None,
        ),
    )
    assert_values(
        row(body, "2026", S02),
        dict(
            closing_amount=14_800,
            avg_members=1_175,  # 7,050 / 6
            active_rate=0.718,  # (2,256 + 2,807) / 6 / 1,175 = 5,063 / 7,050 = 0.7182
        ),
    )


# -- all stores together (by = []) ----------------------------------------------------------


def test_all_stores_by_month(total_monthly: dict):
    body = total_monthly
    assert body["by"] == [] and body["grain"] == "month"
    assert [(r["dims"], r["period"]) for r in body["rows"]] == [({}, m) for m in MONTHS]
    assert_values(
        row(body, "2026-01"),
        dict(
            opening_net=25_000,
            opening_gift=5_000,  # 20,000 + 5,000; 4,000 + 1,000
            opening_amount=30_000,
            closing_amount=36_500,  # 30,000 + 60,500 - 54,000 = 29,000 + 7,500
            avg_members=2_100,  # 1,000 + 1,100
            active_rate=0.724,  # (750 + 770) / 2,100 = 0.7238
            churn_rate=0.04,  # (30 + 55) / 2,100 = 0.0405
            gift_share=0.1,  # 5,500 / 55,000
            sedimentation_rate=0.605,  # 33,250 / 55,000 = 0.6045
            member_growth_rate=None,
        ),
    )
    assert_values(
        row(body, "2026-02"),
        dict(
            opening_amount=38_500,  # 2,000 imported + 36,500
            closing_amount=50_500,  # 38,500 + 83,000 + 500 - 71,500
            active_rate=0.748,  # (832 + 784) / 2,160 = 0.7481
            gift_share=0.186,  # 13,000 / 70,000 = 0.1857
            member_growth_rate=0.028,  # (2,190 - 2,130) / 2,130 = 0.0282
            balance_gap=-500,  # (41,500 + 8,500) - 50,500
        ),
    )
    # 34,000 + 8,700
    assert_values(row(body, "2026-03"), dict(closing_amount=42_700, balance_gap=0.5))
    assert_values(
        row(body, "2026-04"),
        dict(
            opening_amount=44_200,  # 1,500 imported + 42,700
            closing_amount=47_000,  # 44,200 + 65,300 - 62,500
            churn_rate=0.034,  # (28 + 50) / 2,325 = 0.0335
        ),
    )
    assert_values(
        row(body, "2026-06"),
        dict(
            closing_amount=53_800,  # 39,000 + 14,800
            active_rate=0.751,  # (840 + 996) / 2,445 = 0.7509
            cumulative_principal=357_000,  # 187,000 + 170,000
        ),
    )
    assert {r["period"]: rule_ids(r) for r in body["rows"]} == {
        "2026-01": [],
        "2026-02": [],
        "2026-03": ["small_balance_gap"],
        "2026-04": [],
        "2026-05": [],
        "2026-06": [],
    }
    feb = checks(row(body, "2026-02"))["reported_balance"]
    assert feb["status"] == "fail" and feb["residual"] == pytest.approx(500)  # 50,500 - 50,000


def test_all_stores_by_quarter(total_quarterly: dict):
    body = total_quarterly
    assert body["by"] == [] and body["grain"] == "quarter"
    assert [(r["dims"], r["period"]) for r in body["rows"]] == [({}, "2026-Q1"), ({}, "2026-Q2")]
    assert_values(
        row(body, "2026-Q1"),
        dict(
            opening_amount=32_000,  # 2,000 imported + 25,000 + 5,000
            closing_amount=42_700,  # 34,000 + 8,700
            avg_members=2_170,  # (2,100 + 2,160 + 2,250) / 3
            active_rate=0.706,  # (2,338 + 2,256) / 3 / 2,170 = 4,594 / 6,510 = 0.7057
            churn_rate=0.052,  # (109 + 228) / 3 / 2,170 = 337 / 6,510 = 0.0518
            balance_gap=0.5,  # 42,700.50 - 42,700
        ),
    )
    assert_values(
        row(body, "2026-Q2"),
        dict(
            opening_amount=44_200,  # 1,500 + 42,700
            closing_amount=53_800,  # 39,000 + 14,800
            avg_members=2_380,  # (2,325 + 2,370 + 2,445) / 3
            active_rate=0.75,  # (2,550 + 2,807) / 3 / 2,380 = 5,357 / 7,140 = 0.7503
            member_growth_rate=0.078,  # (2,490 - 2,310) / 2,310 = 0.0779
        ),
    )
    assert rule_ids(row(body, "2026-Q1")) == ["small_balance_gap"]
    assert rule_ids(row(body, "2026-Q2")) == []
    q1 = checks(row(body, "2026-Q1"))["reported_balance"]
    assert q1["status"] == "fail" and q1["residual"] == pytest.approx(-0.5)


# -- bands ------------------------------------------------------------------------------------

BANDS = [
    # store, month, metric, status, zh, en  (value in the comment)
    (S01, "2026-01", "gift_share", "good", "促销成本可控", "Promotion cost under control"),  # 0.1
    # 0.25, min inclusive
    (S01, "2026-02", "gift_share", "critical", "赠送成本失控", "Bonus cost out of control"),
    (S01, "2026-06", "gift_share", "warning", "利润承压", "Profit under pressure"),  # 0.22
    (S01, "2026-01", "active_rate", "good", "健康", "Healthy"),  # 0.75
    (S01, "2026-01", "churn_rate", "good", "健康", "Healthy"),  # 0.03
    (S02, "2026-03", "churn_rate", "fair", "一般", "Fair"),  # 0.1
    (S01, "2026-01", "recharge_per_visit", "good", "合理", "Healthy"),  # 165
    (S01, "2026-04", "recharge_per_visit", "good", "合理", "Healthy"),  # 150, min inclusive
    # 87.5
    (S02, "2026-04", "recharge_per_visit", "critical", "储值档位过低", "Recharge tiers too low"),
    (S01, "2026-01", "gift_utilization", "critical", "赠送未被有效使用", "Bonus not used"),  # 0.267
    (S02, "2026-05", "gift_utilization", "fair", "一般", "Fair"),  # 0.75
    (S02, "2026-01", "sedimentation_rate", "critical", "资金沉淀不足", "Funds drain fast"),  # 0.27
    (S02, "2026-06", "sedimentation_rate", "good", "健康", "Healthy"),  # 0.416
    (S01, "2026-01", "consume_to_recharge_ratio", "good", "合理", "Healthy"),  # 0.848
    (S01, "2026-02", "member_growth_rate", "good", "正常增长", "Normal growth"),  # 0.039
    (S01, "2026-01", "monthly_new_members", "good", "新增稳定", "Steady intake"),  # 70
]


@pytest.mark.parametrize(
    ("store", "period", "metric", "status", "zh", "en"),
    BANDS,
    ids=[f"{b[0]}-{b[1]}-{b[2]}" for b in BANDS],
)
def test_bands(monthly: dict, monthly_en: dict, store, period, metric, status, zh, en):
    band = row(monthly, period, store)["bands"][metric]
    assert (band["status"], band["label"]) == (status, zh)
    band = row(monthly_en, period, store)["bands"][metric]
    assert (band["status"], band["label"]) == (status, en)


def test_values_outside_every_band_get_no_entry(monthly: dict):
    # 200 is the top of the document's "150-200 元": in the band (at_most: 200)
    assert row(monthly, "2026-02", S01)["bands"]["recharge_per_visit"]["status"] == "good"
    assert "recharge_per_visit" not in row(monthly, "2026-03", S01)["bands"]  # 110: in the gap
    assert "sedimentation_rate" not in row(monthly, "2026-01", S01)["bands"]  # 0.883
    assert "member_growth_rate" not in row(monthly, "2026-02", S02)["bands"]  # 0.018
    # null value: no band
    assert "member_growth_rate" not in row(monthly, "2026-01", S01)["bands"]


# -- rules ------------------------------------------------------------------------------------

MONTH_RULES = {
    (S01, "2026-01"): [],
    (S01, "2026-02"): ["gift_share_too_high"],  # 0.25 > 20%
    (S01, "2026-03"): ["small_balance_gap"],  # 0.01 < |0.50| < 100
    (S01, "2026-04"): [],
    (S01, "2026-05"): [],
    (S01, "2026-06"): ["gift_share_too_high"],  # 0.22 > 20%
    (S02, "2026-01"): ["low_sedimentation"],  # 0.27 < 30%
    # 0.275; the gap of -500 is too large for small_balance_gap
    (S02, "2026-02"): ["low_sedimentation"],
    (S02, "2026-03"): [],  # churn 0.1 is not above 15%
    (S02, "2026-04"): ["few_new_members", "members_declining"],  # 40 < 50; growth -0.008 < 0
    (S02, "2026-05"): ["gift_balance_falling"],  # 2,000 > 1,700 > 1,500 > 1,300
    (S02, "2026-06"): [],  # closing_gift rose to 2,300
}


def test_rules_fire_in_the_right_rows(monthly: dict):
    got = {(r["dims"]["store"], r["period"]): rule_ids(r) for r in monthly["rows"]}
    assert got == MONTH_RULES


def _rule(r: dict, rule_id: str) -> dict:
    return next(x for x in r["rules"] if x["id"] == rule_id)


def _remedies(rule: dict) -> list[tuple[str, str]]:
    return [(x["id"], x["label"]) for x in rule["remedies"]]


def test_gift_share_too_high_localized(monthly: dict, monthly_en: dict):
    zh = _rule(row(monthly, "2026-02", S01), "gift_share_too_high")
    assert zh["severity"] == "warning"
    assert zh["label"] == "赠送占比过高，利润承压"
    assert zh["causes"] == ["储值活动力度过大(如储 100 送 20)", "赠送金额未被有效消费"]
    assert _remedies(zh) == [
        ("adjust_gift_tiers", "调整活动档位"),
        ("restrict_gift_scope", "限制赠送金额使用场景"),
    ]
    en = _rule(row(monthly_en, "2026-02", S01), "gift_share_too_high")
    assert en["severity"] == "warning"
    assert en["label"] == "Bonus share too high – profit squeezed"
    assert en["causes"] == [
        "Recharge promotions are too generous (e.g. recharge 100, get 20)",
        "Bonus money is not actually being spent",
    ]
    assert _remedies(en) == [
        ("adjust_gift_tiers", "Adjust bonus tiers"),
        ("restrict_gift_scope", "Restrict where bonus money can be spent"),
    ]


def test_small_balance_gap_localized(monthly: dict, monthly_en: dict):
    zh = _rule(row(monthly, "2026-03", S01), "small_balance_gap")
    assert zh["severity"] == "warning"
    assert zh["label"] == "余额平衡验证不平衡，差额较小"
    assert zh["causes"] == ["烘焙门店手工调整储值", "小额退款未入账", "POS 机零头抹除"]
    assert _remedies(zh) == [
        ("adjustment_ledger", "建立储值调整台账"),
        ("daily_pos_reconciliation", "每日核对 POS 与储值系统"),
    ]
    en = _rule(row(monthly_en, "2026-03", S01), "small_balance_gap")
    assert en["label"] == "Small balance gap"
    assert en["causes"] == [
        "Manual balance adjustments in the shop",
        "Small refunds not booked",
        "The POS rounds off small change",
    ]
    assert _remedies(en) == [
        ("adjustment_ledger", "Keep a balance adjustment ledger"),
        ("daily_pos_reconciliation", "Reconcile POS and card system daily"),
    ]


def test_gift_balance_falling_localized(monthly: dict, monthly_en: dict):
    zh = _rule(row(monthly, "2026-05", S02), "gift_balance_falling")
    assert zh["severity"] == "info"
    assert zh["label"] == "赠送资金沉淀连续下降"
    assert zh["causes"] == ["赠送资金沉淀连续 3 个月下降:赠送消耗持续大于新增赠送"]
    assert _remedies(zh) == [("review_gift_strategy", "调整赠送策略")]
    en = _rule(row(monthly_en, "2026-05", S02), "gift_balance_falling")
    assert en["label"] == "Bonus balance falling"
    assert en["causes"] == [
        "Bonus money has been spent faster than it was granted for three periods"
    ]
    assert _remedies(en) == [("review_gift_strategy", "Review the bonus strategy")]


# -- checks -----------------------------------------------------------------------------------


def test_checks_on_every_month_row(monthly: dict):
    for r in monthly["rows"]:
        key = (r["dims"]["store"], r["period"])
        c = checks(r)
        assert set(c) == {"balance_identity", "reported_balance", "recharge_split", "consume_split"}
        for ident in ("balance_identity", "recharge_split", "consume_split"):
            assert c[ident]["status"] == "pass", (key, ident)
            assert c[ident]["residual"] == pytest.approx(0, abs=1e-9), (key, ident)
        reported = c["reported_balance"]
        if key == (S01, "2026-03"):
            assert reported["status"] == "fail"
            assert reported["residual"] == pytest.approx(-0.5)  # 34,000 - 34,000.50
        elif key == (S02, "2026-02"):
            assert reported["status"] == "fail"
            assert reported["residual"] == pytest.approx(500)  # 9,000 - 8,500
        else:
            assert reported["status"] == "pass", key
            assert reported["residual"] == pytest.approx(0, abs=1e-9), key


def test_check_labels_and_severities(monthly: dict, monthly_en: dict):
    zh = checks(row(monthly, "2026-01", S01))
    en = checks(row(monthly_en, "2026-01", S01))
    expected = {
        "balance_identity": ("critical", "余额平衡验证", "Balance reconciliation"),
        "reported_balance": ("critical", "系统余额核对", "Reported balance check"),
        "recharge_split": ("warning", "充值拆分校验", "Recharge split"),
        "consume_split": ("warning", "消费拆分校验", "Spend split"),
    }
    for ident, (severity, label_zh, label_en) in expected.items():
        assert (zh[ident]["severity"], zh[ident]["label"]) == (severity, label_zh)
        assert (en[ident]["severity"], en[ident]["label"]) == (severity, label_en)


# -- request options ------------------------------------------------------------------------


def test_what_if_high_value_factor(compiled, monthly: dict):
    body = run(compiled, params={"high_value_factor": 2})
    assert_values(
        row(body, "2026-01", S01),
        dict(
            high_value_estimate=100,  # 33,000 / (165 * 2)
            closing_amount=29_000,  # unchanged
        ),
    )
    assert_values(
        row(body, "2026-02", S01),
        dict(
            high_value_estimate=125,  # 50,000 / (200 * 2)
            high_value_share=0.12,  # 125 / 1,040 = 0.1202
        ),
    )
    assert_values(row(body, "2026-04", S02), {"high_value_estimate": 176})  # 30,800 / (87.5 * 2)
    # the default factor 1.5 is untouched by the what-if of another request
    assert_values(
        row(monthly, "2026-02", S01),
        dict(
            high_value_estimate=167,  # 250 / 1.5 = 166.7
            high_value_share=0.16,  # 166.67 / 1,040 = 0.1603
        ),
    )


def test_a_metrics_subset(compiled):
    body = run(compiled, metrics=["closing_amount"])
    assert len(body["rows"]) == 12
    for r in body["rows"]:
        assert set(r["values"]) == {"closing_amount"}
    # its dependencies are computed anyway: the carry-over still starts from initial_*
    assert_values(row(body, "2026-03", S01), {"closing_amount": 34_000})
    assert_values(row(body, "2026-06", S02), {"closing_amount": 14_800})


def test_trace(compiled):
    body = run(compiled, trace=True)
    trace = row(body, "2026-02", S01)["trace"]
    closing = trace["closing_amount"]
    assert (
        closing["formula"]
        == "opening_amount + recharge_amount + points_to_balance - consume_amount"
    )
    assert closing["with_values"].replace(" ", "") == "31000+50000+500-40000"
    assert closing["value"] == pytest.approx(41_500)
    assert trace["opening_amount"]["with_values"].replace(" ", "") == "2000+29000"
    # a previous(...) call is replaced by its value: January's closing_net
    assert trace["opening_net"]["with_values"].replace(" ", "") == "24000"
    assert trace["opening_net"]["value"] == pytest.approx(24_000)
    # in the first month, previous() takes its default, initial_net
    first = row(body, "2026-01", S01)["trace"]["opening_net"]
    assert first["with_values"].replace(" ", "") == "20000"


def test_json_rows_give_the_same_answer_as_the_csv(compiled, monthly: dict):
    as_strings = sample_dicts()  # numeric strings
    assert run(compiled, as_strings) == monthly
    as_numbers = [
        {k: (v if k in ("period", "store") else float(v)) for k, v in r.items()} for r in as_strings
    ]
    assert run(compiled, as_numbers) == monthly


# -- missing columns and blank cells --------------------------------------------------------


def test_a_missing_required_column_skips_its_metrics(compiled):
    rows = [{k: v for k, v in r.items() if k != "consume_count"} for r in sample_dicts()]
    body = run(compiled, rows)
    r = row(body, "2026-01", S01)
    for metric in ("consume_per_visit", "active_rate", "silent_estimate"):
        assert metric not in r["values"], metric
    assert "low_activity" not in rule_ids(r)
    assert_values(r, {"closing_amount": 29_000, "churn_rate": 0.03})
    text = [json.dumps(w, ensure_ascii=False) for w in body["warnings"]]
    assert any("active_rate" in t and "consume_count" in t for t in text)


def test_an_absent_optional_column_takes_its_default_null(compiled):
    rows = [{k: v for k, v in r.items() if k != "reported_closing_amount"} for r in sample_dicts()]
    body = run(compiled, rows)
    for r in body["rows"]:
        assert r["values"]["balance_gap"] is None
        assert "balance_gap" in r["undefined"]
        c = checks(r)
        assert c["reported_balance"]["status"] == "undefined"
        assert c["reported_balance"]["residual"] is None
        assert c["balance_identity"]["status"] == "pass"
        assert "small_balance_gap" not in rule_ids(r)


def test_a_blank_cell_is_null_for_that_row_only(compiled):
    rows = sample_dicts()
    rows[4]["reported_closing_amount"] = None  # data row 5 = 2026-03, S01
    body = run(compiled, rows)
    march = row(body, "2026-03", S01)
    assert march["values"]["balance_gap"] is None and "balance_gap" in march["undefined"]
    assert checks(march)["reported_balance"]["status"] == "undefined"
    assert "small_balance_gap" not in rule_ids(march)
    assert_values(march, {"closing_amount": 34_000})
    april = row(body, "2026-04", S01)
    assert checks(april)["reported_balance"]["status"] == "pass"


# -- bad input ------------------------------------------------------------------------------

BAD_CELLS = [
    # data row (1-based), column, value
    (3, "recharge_amount", "abc"),  # 2026-02, S01
    (5, "consume_amount", "NaN"),
    (7, "net_income", "inf"),
    (2, "gift_income", "true"),
    (5, "period", "March 2026"),  # unparseable period
    (12, "period", "2026-06-30"),  # a day among months: mixed grain
    (4, "period", "2026-01"),  # 2026-02,S02 becomes 2026-01,S02: duplicates data row 2
]


@pytest.mark.parametrize(
    ("data_row", "column", "value"), BAD_CELLS, ids=[f"row{b[0]}-{b[1]}-{b[2]}" for b in BAD_CELLS]
)
def test_a_bad_cell_names_its_row_and_column(compiled, tmp_path: Path, data_row, column, value):
    path = edited_csv(tmp_path, data_row, column, value)
    with pytest.raises(InputError) as err:
        evaluate(compiled, read_table(path))
    assert err.value.row == data_row
    if value != "2026-01":  # for a duplicate key the column may be period or store
        assert err.value.column == column
    assert isinstance(err.value.reason, str) and err.value.reason


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), True, "abc"], ids=["nan", "inf", "bool", "text"]
)
def test_a_bad_json_value_names_its_row_and_column(compiled, value):
    rows = sample_dicts()
    rows[0]["consume_amount"] = value
    with pytest.raises(InputError) as err:
        evaluate(compiled, rows)
    assert (err.value.row, err.value.column) == (1, "consume_amount")


@pytest.mark.parametrize(
    "options",
    [
        {"by": ["city"]},  # not a dimension
        {"grain": "day"},  # finer than the monthly rows
        {"grain": "week"},  # finer too
        {"params": {"no_such_param": 1}},
        {"params": {"high_value_factor": "abc"}},
    ],
    ids=["unknown-dimension", "grain-day", "grain-week", "unknown-param", "non-numeric-param"],
)
def test_bad_request_options(compiled, options):
    with pytest.raises(InputError) as err:
        run(compiled, **options)
    assert err.value.row is None


def test_a_requested_metric_whose_input_is_missing_is_an_error(compiled):
    with pytest.raises(InputError) as err:
        run(compiled, metrics=["cac"])
    assert err.value.column == "marketing_spend" or "marketing_spend" in str(err.value)


def test_an_unknown_metric_is_an_error(compiled):
    with pytest.raises((InputError, UnknownMetric)):
        run(compiled, metrics=["no_such_metric"])


def test_the_typed_judgement_is_what_the_json_says(compiled):
    """Bands, rules and checks are computed before serialising (Evaluation.judge); the JSON of
    each row is made from them. Hand-checked anchors from the quarter test above."""
    result = evaluate(compiled, read_table(SAMPLE), grain="quarter")
    judged = result.judge()
    body = result.to_json()
    periods, dims = result.row_keys()
    keys = list(zip(dims["store"], periods, strict=True))
    q1 = keys.index((S01, "2026-Q1"))
    assert judged.fired["small_balance_gap"][q1]  # gap 0.50
    assert judged.checks["reported_balance"].status[q1] == "fail"
    assert judged.checks["reported_balance"].residual[q1] == pytest.approx(-0.5)
    pack = compiled.pack
    for i, row in enumerate(body["rows"]):
        assert rule_ids(row) == [r for r in judged.fired if judged.fired[r][i]]
        for cid, c in checks(row).items():
            assert c["status"] == judged.checks[cid].status[i]
        for m, index in judged.bands.items():
            band = row["bands"].get(m)
            expected = pack.metrics[m].bands[index[i]].status if index[i] >= 0 else None
            assert (band["status"] if band else None) == expected, (m, i)
    assert judged.bands  # the sample has banded metrics
    assert result.judge() is judged  # computed once
