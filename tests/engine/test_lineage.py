"""Lineage of the built-in packs against reviewed snapshot files in tests/golden/lineage/.

A snapshot is the exact output an auditor reads; after an intended change, regenerate with
``KPI_UPDATE_GOLDEN=1 pytest tests/engine/test_lineage.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.compile.pack import compile_pack
from engine.load.library import PackLibrary
from engine.render.lineage import graph_export, lineage, render_text

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "lineage"
CASES = [
    ("bakery-stored-value", "closing_amount", "zh"),
    ("bakery-stored-value", "active_rate", "en"),
    ("bakery-stored-value", "gift_utilization", "en"),
    ("membership-core", "clv", "en"),
]


def _check(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KPI_UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == actual, f"{name} changed; see the module docstring"


@pytest.mark.parametrize(
    ("pack", "metric", "locale"), CASES, ids=[f"{p}.{m}.{loc}" for p, m, loc in CASES]
)
def test_lineage_matches_its_snapshot(
    pack: str, metric: str, locale: str, monkeypatch: pytest.MonkeyPatch
):
    # file paths in the output are relative to the repo
    monkeypatch.chdir(GOLDEN.parent.parent.parent)
    c = compile_pack(pack, PackLibrary.default())
    info = lineage(c, metric, locale)
    _check(f"{pack}.{metric}.{locale}.json", json.dumps(info, ensure_ascii=False, indent=2) + "\n")
    _check(f"{pack}.{metric}.{locale}.txt", render_text(info, c) + "\n")


def test_graph_snapshot_in_mermaid(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(GOLDEN.parent.parent.parent)
    c = compile_pack("membership-core", PackLibrary.default())
    _check("membership-core.mermaid", graph_export(c, "mermaid", "en") + "\n")


def test_lineage_stays_bounded_for_a_doubling_chain(tmp_path: Path):
    # m1 = x + x, m2 = m1 + m1, …: expanding m40 would have 2**40 parts (the threat model's blow-up)
    lines = [
        "pack: chain",
        "version: '1.0.0'",
        "title: Chain",
        "inputs:",
        "  x: {label: X}",
        "metrics:",
        "  m1: {label: M1, formula: x + x}",
    ]
    lines += [f"  m{i}: {{label: M{i}, formula: m{i - 1} + m{i - 1}}}" for i in range(2, 41)]
    (tmp_path / "chain.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    c = compile_pack(tmp_path / "chain.yaml", PackLibrary([]))
    info = lineage(c, "m40")
    assert info["expanded"] is None and info["latex"] is None
    # size(m_n) = 2 * size(m_n-1) + 1 with size(m1) = 3,
    # so 2**(n+1) - 1: m40 has 2,199,023,255,551 parts
    assert info["expanded_note"] == (
        "too large to expand: more than 1,000,000,000,000 parts "
        "(the limit is 4,000 parts and 120 levels)"
    )
    assert lineage(c, "m10")["expanded"].count("x") == 1024  # 2,047 parts: under the limit
    assert lineage(c, "m11")["expanded_note"] == (
        "too large to expand: 4,095 parts (the limit is 4,000 parts and 120 levels)"
    )
    assert lineage(c, "m5")["expanded"].count("x") == 32


# -- down to the raw ledger; checks and rules ------------------------------------------------------


def test_a_measured_input_shows_how_the_ledger_gives_it():
    c = compile_pack("bakery-stored-value", PackLibrary.default())
    info = lineage(c, "gift_share", "en")
    ledger = {m["input"]: m for m in info["measured_from"]}
    assert set(ledger) == {"gift_income", "net_income"}
    gift = ledger["gift_income"]
    assert (gift["source"], gift["agg"], gift["of"], gift["where"]) == (
        "card_events",
        "sum",
        "gift",
        "kind == 'recharge'",
    )
    assert (
        gift["columns"] == ["gift", "kind"]
        and gift["time"] == "event_time"
        and gift["dimensions"] == {"store": "store_id"}
    )
    assert gift["text"] == "sum of gift where kind == 'recharge' — source card_events"
    node = next(n for n in info["upstream"]["nodes"] if n["id"] == "gift_income")
    assert node["measure"]["source_label"] == "Stored-value card events"
    text = render_text(info, c)
    assert (
        "from the raw ledger:" in text
        and "gift_income = sum of gift where kind == 'recharge'" in text
    )
    churn = {m["input"]: m for m in lineage(c, "churn_rate", "en")["measured_from"]}[
        "churned_members"
    ]
    assert (
        churn["per"] == "entity" and churn["params"] == ["churn_days"] and "having" in churn["text"]
    )
    visits = lineage(c, "visits", "en")["measured_from"][0]
    assert visits["of"] == ["member_id", "day(event_time)"] and visits["agg"] == "count_distinct"


def test_checks_and_rules_have_a_lineage_too():
    c = compile_pack("bakery-stored-value", PackLibrary.default())
    check = lineage(c, "member_flow", "en")
    assert check["kind"] == "check" and check["formula"] == (
        "total_members == members_at_start + new_members - cancelled_members"
    )
    assert (
        check["inherited_from"] == "membership-core"
        and check["proof"]["status"] == "depends_on_data"
    )
    assert {m["input"] for m in check["measured_from"]} == {
        "total_members",
        "members_at_start",
        "new_members",
        "cancelled_members",
    }
    rule = lineage(c, "churn_too_high", "en", kind="rule")
    assert rule["names"] == ["churn_rate"] and rule["severity"] == "critical"
    assert set(rule["inputs"]) == {"churned_members", "opening_members", "closing_members"}
    assert rule["remedies"] and rule["causes"]
    assert "  made of:" in render_text(rule, c) and "churned_members" in render_text(rule, c)
    with pytest.raises(Exception, match="no metric, input, param, check or rule 'churn_too_hi'"):
        lineage(c, "churn_too_hi", "en")
