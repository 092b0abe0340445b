"""Grains over input rows (docs/evaluation.md, "Grain and by", "As of"): figures that cannot be
combined (rollup none), the grain all, as_of and partial periods. Every expected number is worked
out by hand in a comment."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from engine.compile.pack import check_text
from engine.core.errors import InputError
from engine.evaluate.evaluation import evaluate

PACK = """\
pack: grains
version: '1.0.0'
title: {en: Grains}
locales: [en]
dimensions: {store: {label: Store}}
inputs:
  orders: {label: Orders}
  revenue: {label: Revenue}
  buyers: {label: Buyers, rollup: {time: none, dims: none}}
  repeat: {label: Repeat buyers, rollup: {time: none, dims: none}}
  members: {label: Members, rollup: {time: last}}
metrics:
  aov: {label: AOV, formula: revenue / orders}
  repeat_share: {label: Repeat share, formula: repeat / buyers, domain: [0, 1]}
  per_buyer: {label: Orders per buyer, formula: orders / buyers}
  per_day: {label: Orders a day, formula: orders / days}
  monthly_orders: {label: Orders a month, formula: orders / periods}
"""


@pytest.fixture(scope="module")
def c() -> Any:
    compiled, problems = check_text(PACK)
    assert compiled is not None, problems
    return compiled


ROWS = [  # store, month, orders, revenue, buyers, repeat, members
    ("A", "2026-01", 10, 100.0, 8, 2, 50),
    ("A", "2026-02", 20, 300.0, 12, 5, 55),
    ("A", "2026-03", 30, 300.0, 20, 6, 60),
    ("B", "2026-01", 5, 50.0, 5, 0, 20),
    ("B", "2026-02", 5, 100.0, 4, 1, 22),
    ("B", "2026-03", 10, 100.0, 6, 3, 25),
]


def rows() -> list[dict[str, Any]]:
    return [
        {
            "store": s,
            "period": p,
            "orders": o,
            "revenue": r,
            "buyers": b,
            "repeat": rp,
            "members": m,
        }
        for s, p, o, r, b, rp, m in ROWS
    ]


def at(body: dict[str, Any], period: str, **dims: str) -> dict[str, Any]:
    (row,) = [r for r in body["rows"] if r["period"] == period and r["dims"] == dims]
    return row


def test_distinct_counts_are_not_combined_from_rows(c: Any) -> None:
    """A quarter's buyers are neither the months' sum (40) nor their largest (20): from monthly rows
    every metric that needs them is left out, with the reason; the others are computed."""
    body = evaluate(c, rows(), grain="quarter").to_json()
    row = at(body, "2026-Q1", store="A")
    assert row["values"] == {"aov": 700 / 60, "per_day": 60 / 90, "monthly_orders": 60 / 3}
    warned = {w["metric"]: w for w in body["warnings"] if "metric" in w}
    assert set(warned) == {"repeat_share", "per_buyer"}
    assert warned["repeat_share"]["missing_inputs"] == ["buyers", "repeat"]
    assert "cannot be combined from month rows into quarter" in warned["per_buyer"]["message"]
    with pytest.raises(
        InputError, match="cannot be computed by quarter: buyers cannot be combined"
    ) as info:
        evaluate(c, rows(), grain="quarter", metrics=["per_buyer"])
    assert info.value.column == "buyers" and "raw records" in (info.value.hint or "")


def test_distinct_counts_are_not_summed_across_stores(c: Any) -> None:
    """dims: none — a member may buy at both stores: the chain's buyers are not 8 + 5."""
    body = evaluate(c, rows(), by=[]).to_json()
    assert at(body, "2026-01")["values"] == {
        "aov": 150 / 15,
        "per_day": 15 / 31,
        "monthly_orders": 15,
    }
    # at the rows' own grain and dimensions they are what the rows say
    body = evaluate(c, rows()).to_json()
    assert at(body, "2026-02", store="A")["values"]["per_buyer"] == 20 / 12
    assert at(body, "2026-02", store="B")["values"]["repeat_share"] == 1 / 4


def test_the_grain_all_is_one_period_over_the_whole_range(c: Any) -> None:
    body = evaluate(c, rows(), grain="all", by=[]).to_json()
    (row,) = body["rows"]
    assert row["period"] == "2026-01/2026-03" and row["partial"] is False and body["grain"] == "all"
    # 80 orders, 950 revenue, over 3 months and 31 + 28 + 31 = 90 days
    assert row["values"] == {"aov": 950 / 80, "per_day": 80 / 90, "monthly_orders": 80 / 3}
    one = evaluate(c, rows()[:1], grain="all").to_json()["rows"][0]
    assert one["period"] == "2026-01"  # one base period: its own label


def test_as_of_makes_the_last_period_partial_and_leaves_later_rows_out(c: Any) -> None:
    body = evaluate(c, rows(), grain="quarter", by=[], as_of=date(2026, 2, 14)).to_json()
    (row,) = body["rows"]
    assert body["as_of"] == "2026-02-14" and row["partial"] is True
    # January and February only (March starts after as_of): 40 orders over 31 + 14 days
    assert row["values"]["per_day"] == 40 / 45 and row["values"]["monthly_orders"] == 40 / 2
    (note,) = [w for w in body["warnings"] if "rows_left_out" in w]
    assert note["rows_left_out"] == 2 and "2026-02-14" in note["message"]
    monthly = evaluate(c, rows(), as_of=date(2026, 2, 14)).to_json()
    assert [
        (r["period"], r["partial"]) for r in monthly["rows"] if r["dims"] == {"store": "A"}
    ] == [("2026-01", False), ("2026-02", True)]
    assert at(monthly, "2026-02", store="A")["values"]["per_day"] == 20 / 14
    # as_of on a period's last day: complete
    full = evaluate(c, rows(), as_of=date(2026, 3, 31)).to_json()
    assert not any(r["partial"] for r in full["rows"]) and full["warnings"] == []


def test_as_of_before_every_row_is_an_input_error(c: Any) -> None:
    with pytest.raises(InputError, match="after as_of 2025-12-31"):
        evaluate(c, rows(), as_of=date(2025, 12, 31))


def test_without_as_of_nothing_is_partial(c: Any) -> None:
    body = evaluate(c, rows(), grain="year").to_json()
    assert body["as_of"] is None and not any(r["partial"] for r in body["rows"])
    assert at(body, "2026", store="A")["values"]["per_day"] == 60 / 365  # the calendar year


def test_a_value_outside_its_domain_gets_no_band_and_is_listed(c: Any) -> None:
    text = PACK.replace("domain: [0, 1]}", "domain: [0, 1], bands: [{status: good, min: 20%}]}")
    compiled, _ = check_text(text)
    assert compiled is not None
    data = rows()
    data[0]["repeat"] = 9  # 9 repeat buyers of 8 buyers: impossible
    body = evaluate(compiled, data).to_json()
    bad = at(body, "2026-01", store="A")
    assert bad["values"]["repeat_share"] == 9 / 8 and "repeat_share" not in bad["bands"]
    assert bad["implausible"] == {"repeat_share": "outside [0, 1]"}
    good = at(body, "2026-02", store="A")
    assert good["bands"]["repeat_share"]["status"] == "good" and good["implausible"] == {}
    (warning,) = [w for w in body["warnings"] if w.get("value") is not None]
    assert warning == {
        "code": "KPI-W010",
        "metric": "repeat_share",
        "period": "2026-01",
        "dims": {"store": "A"},
        "value": 9 / 8,
        "domain": [0.0, 1.0],
        "message": warning["message"],
    }
    assert "1.125" in warning["message"] and "no band" in warning["message"]


def test_only_50_values_outside_a_domain_are_listed_one_by_one(c: Any) -> None:
    data = [
        {
            "store": "A",
            "period": f"{2000 + k // 12}-{k % 12 + 1:02d}",
            "orders": 1,
            "revenue": 1,
            "buyers": 1,
            "repeat": 2,
            "members": 1,
        }
        for k in range(60)
    ]
    warnings = evaluate(c, data).to_json()["warnings"]
    listed = [w for w in warnings if w.get("metric") == "repeat_share" and "value" in w]
    more = [w for w in warnings if w.get("more")]
    assert len(listed) == 50 and len(more) == 1 and "not listed one by one" in more[0]["message"]
