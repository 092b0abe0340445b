"""The built-in packs hold the whole of their source documents (issue 4).

Every indicator name of the documents' tables and formulas is written out below, copied from
the documents in ``../shared/seeds/``, and must be found in the resolved pack: as the ``zh``
label of a metric or an input, or — where the documents word one indicator in several ways —
in the ``zh`` label or description of the definition named in an alias list. The documents'
worked examples must evaluate exactly through ``kpi eval``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from engine.compile.pack import CompiledPack, compile_pack
from engine.core.model import Definition, Text
from engine.load.library import PackLibrary
from tests.pack_texts import localized_texts

BAKERY_DOC = "001_844dee85e81e5c79.txt"
CORE_DOCS = {
    "000_5d7547f1c818c278.txt",
    "002_a97900d25f738d1b.txt",
    "003_6b574eb89688d2da.txt",
    "004_1e10664b23d5646f.txt",
}

# -- document 001, in the order the names appear ----------------------------------------------
BAKERY_NAMES = [
    # 适用场景: 分析重点
    "月均充值金额",
    "月均消费金额",
    "会员活跃率",
    "赠送利用率",
    "高价值会员数量",
    "余额平衡验证",
    "沉淀资金率",
    "资金周转率",
    "累计充值本金",
    "赠送总额",
    "赠送占比",
    "会员流失率",
    "沉默会员数量",
    "月均新会员数",
    # 资金维度: 公式(1)–(8)
    "期初余额",
    "导入新会员余额",
    "上月结转余额",
    "期初净值",
    "期初赠送",
    "上月期末净值",
    "上月期末赠送",
    "期末金额",
    "期初金额",
    "充值金额",
    "积分转充值金额",
    "消费金额",
    "期末赠送",
    "收入赠送",
    "支出赠送",
    "期末净值",
    "收入净值",
    "支出净值",
    "导入的新会员期初金额",
    "期末积分",
    "期初积分",
    "消费积分",
    "充值积分",
    "积分兑换",
    "积分转余额",
    "积分过期",
    "积分删除",
    "上个月期末积分",
    "期末返利",
    "期初返利",
    "充值返利",
    "支出返利",
    # 会员维度
    "期初会员数量",
    "期末有效会员数量",
    "新会员数量",
    "月均会员活跃率",
    "月均充值人次",
    "月均消费人次",
    "月均会员数量",
    "月均会员流失率",
    "月均流失会员数",
    "高价值会员数量估算",
    "高价值会员占比",
    "沉默会员数量估算",
    "月均会员数",
    # 效率维度
    "月均人均充值金额",
    "月均人均消费金额",
    "月均充值消费金额转化率",
    "月均赠送消费金额",
    "月均赠送余额",
    "月均新增赠送",
    # 其他指标: 余额相关
    "月均余额",
    "期末余额",
    "月均充值本金",
    # 赠送资金管理
    "赠送资金沉淀",
    # 会员数量与质量
    "月均会员增长率",
    "本月会员数",
    "上月会员数",
    "充值人次",
    "消费人次",
    "高价值会员估算",
    "充值总额",
    "月均人均充值",
    # 会员行为分析
    "月均人均消费",
    "充值消费转化率",
    # 重点关注指标矩阵
    "余额净增量",
    "新会员数",
    "会员增长率",
    "当日消费",
    "周活跃率",
    "赠送使用",
    "充值转化率",
]
# The document's other wordings of one indicator (a table's short name, a formula's component
# such as "月均X" = X / periods, the focus matrix's report names): name → the metric or input
# whose zh label or description carries that wording.
BAKERY_ALIASES = {
    "会员活跃率": "active_rate",  # 门店运营 focus = 月均会员活跃率
    "周活跃率": "active_rate",  # the weekly report: 月均会员活跃率 at weekly grain
    "高价值会员数量": "high_value_estimate",  # 门店运营 focus
    "高价值会员估算": "high_value_estimate",  # 会员数量与质量 table
    "余额平衡验证": "balance_gap",  # the check's label; balance_gap is its difference
    "赠送总额": "cumulative_gift",  # 财务人员 focus "累计充值本金 / 赠送总额"
    "会员流失率": "churn_rate",  # matrix and 营销人员 focus = 月均会员流失率
    "沉默会员数量": "silent_estimate",  # 营销人员 focus
    "上月期末净值": "opening_net",  # formula (2)
    "上月期末赠送": "opening_gift",  # formula (2)
    "期初金额": "opening_amount",  # formula (3) = 期初余额 of formula (1)
    "导入的新会员期初金额": "imported_balance",  # formula (5) = 导入新会员余额 of formula (1)
    "上个月期末积分": "opening_points",  # formula (7)
    "期初会员数量": "opening_members",  # 会员维度: 期初 / 期末有效会员数量
    "月均充值人次": "recharge_count",  # 月均X = X / periods
    "月均消费人次": "consume_count",
    "月均流失会员数": "churned_members",
    "月均会员数": "avg_members",  # 会员数量与质量 = 月均会员数量
    "月均赠送消费金额": "gift_spent",  # 赠送利用率's numerator = 支出赠送 / periods
    "月均新增赠送": "gift_income",  # 赠送利用率's denominator
    "期末余额": "closing_amount",  # 余额相关 = 期末金额
    "月均充值本金": "net_income",  # 沉淀资金率's denominator = 收入净值 / periods
    # 赠送资金管理: the bonus balance kept (falling 3 months = rule)
    "赠送资金沉淀": "closing_gift",
    "本月会员数": "closing_members",  # 月均会员增长率
    "上月会员数": "closing_members",
    "充值总额": "recharge_amount",  # 高价值会员估算
    "月均人均充值": "recharge_per_visit",  # 会员行为分析 = 月均人均充值金额
    "月均人均消费": "consume_per_visit",  # 会员行为分析 and matrix = 月均人均消费金额
    "充值消费转化率": "consume_to_recharge_ratio",  # 会员行为分析 = 月均充值消费金额转化率
    "充值转化率": "consume_to_recharge_ratio",  # matrix
    "新会员数": "new_members",  # matrix, daily report
    # matrix: 月均会员增长率 (not the core's growth of new members)
    "会员增长率": "member_growth_rate",
    "当日消费": "monthly_consume_amount",  # matrix: consume_amount / periods at daily grain
    "赠送使用": "gift_utilization",  # matrix: 赠送利用率 at daily grain
}

# -- documents 000, 002, 003 and 004 (not 004's off-topic biological part) ----------------------
CORE_NAMES = [
    # 000: growth, activity, value, churn
    "新增会员数",
    "会员增长率",
    "会员获取成本",
    "活跃会员比例",
    "日活",
    "周活",
    "月活",
    "平均访问频率",
    "会员生命周期价值",
    "客单价",
    "复购率",
    "会员流失率",
    "会员生命周期",
    "会员沉默率",
    # 002: the five dimensions and retention
    "客户获取成本",
    "客户终身价值",
    "客户流失率",
    "客户满意度",
    "客户参与度",
    "客户留存率",
    # 003: financial, behaviour (RFM), satisfaction, loyalty, interaction
    "客户利润率",
    "客户获利率",
    "购买频率",
    "购买金额",
    "最近一次购买时间",
    "客户满意度调查得分",
    "投诉率",
    "客户口碑",
    "重复购买率",
    "客户推荐率",
    "新客户增长率",
    "电子邮件打开率",
    "电子邮件点击率",
    "社交媒体互动率",
    "客服响应时间",
    "客服解决率",
    # 004: retention indicators
    "客户保持率",
    "客户生命周期价值",
    "净推荐值",
    "客户投诉率",
]
CORE_ALIASES = {
    "会员获取成本": "cac",  # 000's name of 002's 客户获取成本 (CAC)
    "会员生命周期价值": "clv",  # 000 (LTV) = 002's 客户终身价值
    "客户生命周期价值": "clv",  # 004 (CLV)
    "客户流失率": "churn_rate",  # 002 / 003 / 004 = 000's 会员流失率
    "客户获利率": "customer_profit_margin",  # 003's FAQ wording
    "投诉率": "complaint_rate",  # 003 = 004's 客户投诉率
    "重复购买率": "repeat_purchase_rate",  # 003 / 004 = 000's 复购率
    "新客户增长率": "new_member_growth",  # 003 = 000's 会员增长率
    "客户保持率": "retention_rate",  # 004 = 002's 客户留存率
}

CONTRACT_IDS = {
    "cac",
    "churn_rate",
    "avg_order_value",
    "clv",
    "repeat_purchase_rate",
    "new_member_growth",
    "retention_rate",
    "nps",
}
runner = CliRunner()


@pytest.fixture(scope="module")
def packs() -> dict[str, CompiledPack]:
    return {
        p: compile_pack(p, PackLibrary.default())
        for p in ("bakery-stored-value", "membership-core")
    }


def _zh(text: Text) -> str:
    return dict(text.items).get("zh", "")


def _find(c: CompiledPack, names: list[str], aliases: dict[str, str]) -> list[str]:
    """The names not found: by exact zh label, or for an
    alias in its definition's label or description."""
    p = c.pack
    defs: dict[str, Definition] = {**p.inputs, **p.metrics}
    labels = {_zh(d.label) for d in defs.values()}
    missing = []
    for name in names:
        if name in aliases:
            d = defs.get(aliases[name])
            if d is None or (name not in _zh(d.label) and name not in _zh(d.description)):
                missing.append(f"{name} (alias of {aliases[name]})")
        elif name not in labels:
            missing.append(name)
    return missing


def test_every_bakery_indicator_name_is_in_the_pack(packs: dict[str, CompiledPack]):
    assert len(BAKERY_NAMES) == len(set(BAKERY_NAMES))
    assert _find(packs["bakery-stored-value"], BAKERY_NAMES, BAKERY_ALIASES) == []


def test_every_general_membership_indicator_name_is_in_the_core_pack(
    packs: dict[str, CompiledPack],
):
    assert len(CORE_NAMES) == len(set(CORE_NAMES))
    assert _find(packs["membership-core"], CORE_NAMES, CORE_ALIASES) == []


def test_the_aliases_are_used_and_point_at_real_definitions(packs: dict[str, CompiledPack]):
    assert set(BAKERY_ALIASES) <= set(BAKERY_NAMES) and set(CORE_ALIASES) <= set(CORE_NAMES)
    bakery, core = packs["bakery-stored-value"].pack, packs["membership-core"].pack
    assert set(BAKERY_ALIASES.values()) <= {*bakery.inputs, *bakery.metrics}
    assert set(CORE_ALIASES.values()) <= {*core.inputs, *core.metrics}


# -- shape of every definition -------------------------------------------------------------------


@pytest.mark.parametrize("pack", ["bakery-stored-value", "membership-core"])
def test_the_pack_validates_without_errors_or_warnings(packs: dict[str, CompiledPack], pack: str):
    assert [f"{w.code}: {w.message}" for w in packs[pack].warnings] == []


@pytest.mark.parametrize("pack", ["bakery-stored-value", "membership-core"])
def test_every_metric_has_unit_format_direction_category_and_a_cited_source(
    packs: dict[str, CompiledPack], pack: str
):
    docs = {BAKERY_DOC} if pack == "bakery-stored-value" else CORE_DOCS
    problems = []
    for m in packs[pack].pack.metrics.values():
        if m.origin.pack != pack:
            continue  # inherited: checked with its own pack
        written = set(m.sources)
        problems += [
            f"{m.id}: no {f}"
            for f in ("unit", "format", "direction", "category", "source")
            if f not in written
        ]
        # "file name, table or formula": the document, a comma, then where in it
        ref = m.source_ref or ""
        doc, _, where = ref.partition(",")
        if doc.strip() not in docs or not where.strip():
            problems.append(f"{m.id}: source {ref!r}")
    assert problems == []


@pytest.mark.parametrize("pack", ["bakery-stored-value", "membership-core"])
def test_every_text_is_in_chinese_and_english(packs: dict[str, CompiledPack], pack: str):
    bad = [
        where
        for where, t in localized_texts(packs[pack])
        if not all(dict(t.items).get(k) for k in ("zh", "en"))
    ]
    assert bad == []


@pytest.mark.parametrize("pack", ["bakery-stored-value", "membership-core"])
def test_every_input_and_metric_is_described(packs: dict[str, CompiledPack], pack: str):
    p = packs[pack].pack
    assert [i for i, d in {**p.inputs, **p.metrics}.items() if not d.description] == []


def test_the_core_keeps_the_contracts_ids_and_cites_only_its_documents(
    packs: dict[str, CompiledPack],
):
    p = packs["membership-core"].pack
    assert set(p.metrics) >= CONTRACT_IDS
    assert p.params["lifespan_years"].value == 5
    cited = " ".join(
        d.source_ref or ""
        for s in ("inputs", "metrics", "rules", "remedies")
        for d in p.section(s).values()
    )
    assert BAKERY_DOC not in cited
    # 004's last part (survival, mortality, growth and reproduction of populations) is off-topic
    for word in ("存活率", "死亡率", "繁衍率", "群落结构"):
        assert word not in cited and all(
            word not in t.get("zh") for _, t in localized_texts(packs["membership-core"])
        )


# -- document 001's tables as bands, rules, views and roles ----------------------------------------

# metric → bands as (status, min, max), from the document's reference values; where two tables
# disagree, the benchmark quotes both and the stricter one is used (see the comments)
BAKERY_BANDS = {
    # > 30% vs 25%–40%
    "active_rate": [("good", 0.30, None), ("fair", 0.20, 0.30), ("critical", None, 0.20)],
    "churn_rate": [("good", None, 0.08), ("fair", 0.08, 0.15), ("critical", 0.15, None)],
    "recharge_per_visit": [("good", 150, 200), ("critical", None, 100)],
    "consume_per_visit": [("good", 30, 50), ("critical", None, 20)],
    "consume_to_recharge_ratio": [("good", 0.7, 0.9), ("critical", None, 0.5)],
    # > 80% vs > 70%
    "gift_utilization": [("good", 0.80, None), ("fair", 0.60, 0.80), ("critical", None, 0.60)],
    "sedimentation_rate": [("good", 0.40, 0.60), ("critical", None, 0.30)],
    "fund_turnover": [("good", 0.20, 0.30)],
    # < 25% vs > 20%
    "gift_share": [("good", None, 0.20), ("warning", 0.20, 0.25), ("critical", 0.25, None)],
    "member_growth_rate": [("good", 0.03, 0.08), ("warning", None, 0)],  # 3%–8%; 会员数下降
    "high_value_share": [("critical", None, 0.10)],
    "monthly_new_members": [("good", 50, None), ("warning", None, 50)],  # ≥ 50; 新增过少
}


def _bound(x) -> float | None:
    return None if x is None else round(float(x), 10)


@pytest.mark.parametrize("metric", sorted(BAKERY_BANDS))
def test_bakery_bands_are_the_documents_reference_values(
    packs: dict[str, CompiledPack], metric: str
):
    m = packs["bakery-stored-value"].pack.metrics[metric]
    got = [(b.status, _bound(b.min), _bound(b.max)) for b in m.bands]
    assert got == BAKERY_BANDS[metric]
    assert m.benchmark and _zh(m.benchmark)
    # every band below good says what to do, with remedies (the tables' 优化方向 / 管理建议)
    for b in m.bands:
        if b.status in ("warning", "critical"):
            assert b.remedies, (metric, b.status)


@pytest.mark.parametrize("metric", ["active_rate", "gift_utilization", "gift_share"])
def test_disagreeing_tables_are_both_quoted(packs: dict[str, CompiledPack], metric: str):
    quoted = {
        "active_rate": ("30%", "25%–40%"),
        "gift_utilization": ("80%", "70%"),
        "gift_share": ("25%", "20%"),
    }[metric]
    text = _zh(packs["bakery-stored-value"].pack.metrics[metric].benchmark)
    assert all(q in text for q in quoted), text


# 常见问题与解决方案, row by row: (rule, condition,
# causes, remedy details), as the document words them
PROBLEMS = [
    (
        "gift_share_too_high",
        "gift_share > 20%",
        ["储值活动力度过大(如储 100 送 20)", "赠送金额未被有效消费"],
        ["如储 200 送 20、储 300 送 40", "仅可消费正价产品"],
    ),
    (
        "small_balance_gap",
        "0.01 < abs(balance_gap) < 100",
        ["手工调整储值", "小额退款未入账", "POS 机零头抹除"],
        ["审批", "每日核对 POS 机消费与储值系统数据"],
    ),
    (
        "churn_too_high",
        "churn_rate > 15%",
        ["周边竞品推出更优惠储值活动", "储值卡消费场景受限(如仅到店可用)", "产品口感 / 服务下降"],
        ["老会员储值加赠", "外卖 / 自提", "优化产品与服务,降低流失"],
    ),
    (
        "low_sedimentation",
        "sedimentation_rate < 30%",
        ["「小额高频」消费,储值余额快速消耗"],
        ["如储 500 送 80,有效期 1 年", "延长资金沉淀周期"],
    ),
    (
        "low_activity",
        "active_rate < 20%",
        ["储值会员沉睡,未触达激活"],
        ["如满 30 减 5", "积分可兑换新品"],
    ),
    ("gift_balance_falling", "falling(closing_gift, 3)", ["连续 3 个月下降"], ["考虑调整赠送策略"]),
]


@pytest.mark.parametrize(
    ("rule", "when", "causes", "details"), PROBLEMS, ids=[p[0] for p in PROBLEMS]
)
def test_every_common_problem_is_a_rule_with_its_causes_and_remedies(
    packs: dict[str, CompiledPack], rule: str, when: str, causes: list[str], details: list[str]
):
    p = packs["bakery-stored-value"].pack
    r = p.rules[rule]
    assert r.when.replace(" ", "") == when.replace(" ", "")
    got_causes = " ".join(_zh(c) for c in r.causes)
    assert all(c in got_causes for c in causes), got_causes
    got_details = " ".join(_zh(p.remedies[x].detail) for x in r.remedies)
    assert all(d in got_details for d in details), got_details
    assert all(p.remedies[x].owner in p.roles for x in r.remedies)


def test_the_focus_matrix_is_the_views(packs: dict[str, CompiledPack]):
    v = {k: list(x.metrics) for k, x in packs["bakery-stored-value"].pack.views.items()}
    assert v["daily"] == [
        "balance_net_change",
        "monthly_new_members",
        "monthly_consume_amount",
        "gift_utilization",
    ]
    assert v["weekly"] == ["sedimentation_rate", "member_growth_rate", "active_rate", "gift_share"]
    assert v["monthly"] == [
        "fund_turnover",
        "churn_rate",
        "consume_per_visit",
        "consume_to_recharge_ratio",
    ]
    # the rows of the matrix read across the three columns
    for row, i in (
        ("fund_safety", 0),
        ("member_growth", 1),
        ("operating_efficiency", 2),
        ("marketing_effect", 3),
    ):
        assert v[row] == [v["daily"][i], v["weekly"][i], v["monthly"][i]]


def test_the_three_roles_with_their_scenarios_and_focus(packs: dict[str, CompiledPack]):
    roles = packs["bakery-stored-value"].pack.roles
    scenarios = {k: [_zh(s) for s in r.scenarios] for k, r in roles.items()}
    assert scenarios["store_ops"] == [
        "月度 / 季度储值业务复盘",
        "会员活跃度与消费粘性分析",
        "节日储值活动(中秋 / 圣诞 / 春节)效果评估",
    ]
    assert scenarios["finance"] == [
        "储值资金收支平衡核对",
        "沉淀资金率与资金周转率核算",
        "赠送金额成本分摊",
    ]
    assert scenarios["marketing"] == [
        "储值赠送活动 ROI 分析",
        "会员流失 / 新增趋势监控",
        "高价值 / 沉默会员精准营销",
    ]
    assert list(roles["store_ops"].focus) == [
        "monthly_recharge_amount",
        "monthly_consume_amount",
        "active_rate",
        "gift_utilization",
        "high_value_estimate",
    ]
    assert list(roles["finance"].focus)[:2] == ["balance_gap", "sedimentation_rate"]
    assert list(roles["marketing"].focus) == [
        "gift_share",
        "churn_rate",
        "silent_estimate",
        "monthly_new_members",
    ]
    assert all("分析重点" in _zh(r.description) for r in roles.values())


def test_formula_6_is_proved_from_the_split_checks(packs: dict[str, CompiledPack]):
    c = packs["bakery-stored-value"]
    assert c.proofs["balance_identity"].status == "proved"
    assert set(c.proofs["balance_identity"].using) == {"recharge_split", "consume_split"}
    result = runner.invoke(app, ["checks", "bakery-stored-value"], env={"NO_COLOR": "1"})
    assert result.exit_code == 0
    assert "balance_identity: proved" in result.output


def test_the_eight_balance_formulas(packs: dict[str, CompiledPack]):
    m = {
        k: v.formula.replace(" ", "") for k, v in packs["bakery-stored-value"].pack.metrics.items()
    }
    assert m["opening_amount"] == "imported_balance+carryover_amount"  # (1)
    assert m["carryover_amount"] == "opening_net+opening_gift"  # (2)
    assert m["opening_net"] == "previous(closing_net,default=initial_net)"  # (2) carry-over
    assert m["opening_gift"] == "previous(closing_gift,default=initial_gift)"
    # (3)
    assert m["closing_amount"] == "opening_amount+recharge_amount+points_to_balance-consume_amount"
    assert m["closing_gift"] == "opening_gift+gift_income-gift_spent+points_to_balance"  # (4)
    assert m["closing_net"] == "opening_net+net_income-net_spent+imported_balance"  # (5)
    assert packs["bakery-stored-value"].pack.checks["balance_identity"].assertion.replace(
        " ", ""
    ) == ("closing_amount==closing_net+closing_gift")  # (6)
    # (7)
    assert m["closing_points"] == (
        "opening_points+points_from_consume+points_from_recharge-points_redeemed"
        "-points_converted-points_expired-points_deleted"
    )
    assert m["opening_points"] == "previous(closing_points,default=initial_points)"
    assert m["closing_rebate"] == "opening_rebate+rebate_income-rebate_spent"  # (8)
    assert m["opening_rebate"] == "previous(closing_rebate,default=initial_rebate)"


# -- the documents' worked examples, through `kpi eval` --------------------------------------------


def _eval(tmp_path: Path, pack: str, rows: list[dict[str, object]], *options: str) -> dict:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    data = tmp_path / "data.csv"
    data.write_text(out.getvalue(), encoding="utf-8")
    result = runner.invoke(
        app, ["eval", pack, "--inputs", str(data), "--trace", *options], env={"NO_COLOR": "1"}
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_cac_100000_over_200_is_500(tmp_path: Path):
    # 002: 某月花费 10 万元进行市场推广,获得 200 个新客户 → CAC 500 元
    body = _eval(
        tmp_path,
        "membership-core",
        [{"period": "2026-03", "marketing_spend": 100_000, "new_members": 200}],
        "--metrics",
        "cac",
    )
    assert body["rows"][0]["values"]["cac"] == 500


def test_clv_100_times_4_times_5_is_2000(tmp_path: Path):
    # 002: 每次购买 100 元, 平均每年购买 4 次, 生命周期 5 年 → 2000 元; a yearly row: days = 365
    body = _eval(
        tmp_path,
        "membership-core",
        [{"period": "2026", "revenue": 400, "orders": 4, "active_members": 1}],
        "--metrics",
        "clv",
        "--param",
        "lifespan_years=5",
    )
    row = body["rows"][0]
    assert body["grain"] == "year"
    assert row["values"]["clv"] == 2000
    assert row["trace"]["avg_order_value"]["value"] == 100
    assert row["trace"]["clv"]["with_values"] == "100 * 4 / 1 * 365 / 365 * 5"  # days of 2026 = 365


def test_churn_50_of_1000_is_5_percent(tmp_path: Path):
    # 002: 某月有 1000 个客户, 流失了 50 个 → 5%
    body = _eval(
        tmp_path,
        "membership-core",
        [{"period": "2026-05", "churned_members": 50, "members_at_start": 1000}],
        "--metrics",
        "churn_rate",
    )
    assert body["rows"][0]["values"]["churn_rate"] == 0.05


def test_repeat_purchase_28_to_42_percent_and_order_value_plus_15_percent(tmp_path: Path):
    # 000 case one: 复购率仅为 28% … 三个月后复购率提升至 42%, 客单价也增长了 15%
    rows = [
        {
            "period": "2026-Q1",
            "repeat_buyers": 2_800,
            "total_members": 10_000,
            "revenue": 200_000,
            "orders": 4_000,
        },
        {
            "period": "2026-Q2",
            "repeat_buyers": 4_200,
            "total_members": 10_000,
            "revenue": 230_000,
            "orders": 4_000,
        },
    ]
    body = _eval(
        tmp_path, "membership-core", rows, "--metrics", "repeat_purchase_rate,avg_order_value"
    )
    q1, q2 = (r["values"] for r in body["rows"])
    assert (q1["repeat_purchase_rate"], q2["repeat_purchase_rate"]) == (0.28, 0.42)
    assert (q1["avg_order_value"], q2["avg_order_value"]) == (50, 57.5)
    assert round(q2["avg_order_value"] / q1["avg_order_value"] - 1, 10) == 0.15
