"""Every shipped pack validates, carries the contract's fixed ids, and is bilingual and cited."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.compile.pack import CompiledPack, compile_pack
from engine.load.library import BUILTIN_ROOT, PackLibrary
from engine.render.lineage import lineage
from engine.validate.locales import missing_translations
from tests.pack_texts import localized_texts

PACKS = sorted(p.name for p in BUILTIN_ROOT.iterdir() if p.is_dir())
SEEDS = {
    "000_5d7547f1c818c278.txt",
    "001_844dee85e81e5c79.txt",
    "002_a97900d25f738d1b.txt",
    "003_6b574eb89688d2da.txt",
    "004_1e10664b23d5646f.txt",
}

# builtin-packs.md: ids that API clients rely on
BAKERY_INPUTS = """imported_balance recharge_amount points_to_balance consume_amount net_income
net_spent gift_income gift_spent points_from_consume points_from_recharge points_redeemed
points_converted points_expired points_deleted rebate_income rebate_spent initial_net initial_gift
initial_points initial_rebate reported_closing_amount
opening_members closing_members new_members churned_members recharge_count consume_count""".split()
BAKERY_METRICS = """opening_net opening_gift carryover_amount opening_amount closing_amount
closing_gift closing_net opening_points closing_points opening_rebate closing_rebate
balance_net_change balance_gap avg_balance avg_members avg_gift_balance monthly_new_members
active_rate churn_rate member_growth_rate recharge_per_visit consume_per_visit
consume_to_recharge_ratio gift_utilization sedimentation_rate fund_turnover gift_share
high_value_estimate high_value_share silent_estimate cumulative_principal cumulative_gift""".split()
CORE_METRICS = (
    "cac churn_rate avg_order_value clv repeat_purchase_rate new_member_growth retention_rate nps"
).split()


@pytest.fixture(scope="module")
def compiled() -> dict[str, CompiledPack]:
    return {p: compile_pack(p, PackLibrary.default()) for p in PACKS}


def test_the_builtin_packs_are_there():
    assert {"bakery-stored-value", "membership-core"} <= set(PACKS)


@pytest.mark.parametrize("pack", PACKS)
def test_every_builtin_pack_validates_without_errors(compiled: dict[str, CompiledPack], pack: str):
    c = compiled[pack]
    assert c.pack.id == pack
    assert [w.code for w in c.warnings if w.code != "KPI-R011"] == []


def test_bakery_has_every_fixed_id(compiled: dict[str, CompiledPack]):
    p = compiled["bakery-stored-value"].pack
    assert set(BAKERY_INPUTS) <= set(p.inputs)
    assert set(BAKERY_METRICS) <= set(p.metrics)
    assert {"balance_identity", "reported_balance"} <= set(p.checks)
    assert {
        "gift_share_too_high",
        "small_balance_gap",
        "churn_too_high",
        "low_sedimentation",
        "low_activity",
        "gift_balance_falling",
    } <= set(p.rules)
    assert {"store_ops", "finance", "marketing"} <= set(p.roles)
    assert p.params["high_value_factor"].value == 1.5
    assert p.extends == ("membership-core",) and p.grain == "month" and "store" in p.dimensions


def test_bakery_overrides_the_inherited_churn_rate(compiled: dict[str, CompiledPack]):
    m = compiled["bakery-stored-value"].pack.metrics["churn_rate"]
    assert m.inherited_from == "membership-core"
    assert m.formula.replace(" ", "") == "churned_members/periods/avg_members"
    core = compiled["membership-core"].pack.metrics["churn_rate"]
    assert core.formula.replace(" ", "") == "churned_members/members_at_start"


def test_core_has_every_fixed_id(compiled: dict[str, CompiledPack]):
    p = compiled["membership-core"].pack
    assert set(CORE_METRICS) <= set(p.metrics)
    assert "lifespan_years" in p.params


@pytest.mark.parametrize("pack", PACKS)
def test_every_label_is_in_chinese_and_english(compiled: dict[str, CompiledPack], pack: str):
    missing = [
        where
        for where, text in localized_texts(compiled[pack])
        if not {"zh", "en"} <= dict(text.items).keys()
    ]
    assert missing == []


@pytest.mark.parametrize("pack", PACKS)
def test_strict_locales_zh_en_find_nothing(compiled: dict[str, CompiledPack], pack: str):
    """What `kpi validate --strict-locales zh,en` checks: no text of its own lacks zh or en."""
    assert missing_translations(compiled[pack].pack, ["zh", "en"]) == []


def test_a_label_left_out_of_a_builtin_pack_is_caught(tmp_path: Path):
    """A label may be left out of a user pack (it shows the id), never out of a built-in one:
    both bilingual checks above fail on a copy of membership-core without one label."""
    import shutil

    copy = tmp_path / "membership-core"
    shutil.copytree(BUILTIN_ROOT / "membership-core", copy)
    inputs = copy / "inputs.yaml"
    text = inputs.read_text(encoding="utf-8")
    line = "    label: {zh: 营销和销售支出, en: Marketing and sales spend}\n"
    assert line in text
    inputs.write_text(text.replace(line, ""), encoding="utf-8")
    c = compile_pack(copy, PackLibrary([tmp_path]))
    assert c.pack.inputs["marketing_spend"].label.to_json() == {"zh": "marketing_spend"}
    missing = [w for w, t in localized_texts(c) if not {"zh", "en"} <= dict(t.items).keys()]
    assert missing == ["inputs.marketing_spend.label"]
    found = [(p.code, p.file, p.line) for p in missing_translations(c.pack, ["zh", "en"])]
    assert found == [("KPI-R026", str(inputs), 6)]


@pytest.mark.parametrize("pack", PACKS)
def test_every_metric_cites_a_source_document(compiled: dict[str, CompiledPack], pack: str):
    for m in compiled[pack].pack.metrics.values():
        assert m.source_ref and m.source_ref.split(",")[0].strip() in SEEDS, m.id


def test_closing_amount_expands_down_to_inputs(compiled: dict[str, CompiledPack]):
    info = lineage(compiled["bakery-stored-value"], "closing_amount", "en")
    # (3) 期末金额 = 期初余额 + 充值 + 积分转充值 - 消费, with (1) 期初余额 = 导入 + 上月结转 and
    # (2) 上月结转 = 期初净值 + 期初赠送 = previous closing net + previous closing gift
    assert info["expanded"] == (
        "imported_balance + previous(closing_net, default=initial_net) + "
        "previous(closing_gift, default=initial_gift) + recharge_amount + "
        "points_to_balance - consume_amount"
    )
    assert info["inputs"] == sorted(
        [
            "imported_balance",
            "initial_net",
            "initial_gift",
            "recharge_amount",
            "points_to_balance",
            "consume_amount",
            "net_income",
            "net_spent",
            "gift_income",
            "gift_spent",
        ]
    )
    assert ["opening_amount", "closing_amount"] in info["upstream"]["edges"]
    assert ["closing_net", "opening_net"] in info["upstream"]["lagged_edges"]
    assert {"balance_net_change", "balance_gap", "avg_balance"} <= set(info["downstream"])
    assert info["source"].startswith("001_844dee85e81e5c79.txt")
    assert info["defined_in"]["pack"] == "bakery-stored-value"


def test_the_balance_identity_is_proved_from_the_split_checks(compiled: dict[str, CompiledPack]):
    proofs = compiled["bakery-stored-value"].proofs
    assert proofs["balance_identity"].status == "proved"
    assert set(proofs["balance_identity"].using) == {"recharge_split", "consume_split"}
    assert proofs["reported_balance"].status == "depends_on_data"
    assert proofs["recharge_split"].status == "depends_on_data"


def test_the_core_worked_examples_parse_to_the_documented_formulas(
    compiled: dict[str, CompiledPack],
):
    p = compiled["membership-core"].pack.metrics
    assert p["cac"].formula.replace(" ", "") == "marketing_spend/new_members"
    assert (
        p["clv"].formula.replace(" ", "")
        == "avg_order_value*orders/active_members*365/days*lifespan_years"
    )


def test_every_pack_folder_name_is_its_id():
    for name in PACKS:
        assert (Path(BUILTIN_ROOT) / name / "pack.yaml").is_file()
