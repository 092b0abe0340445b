"""The bakery pack's bands and rules at every edge the document gives (issue 11): the document's
ranges are read inclusively where it writes a range ("150–200 元", "0.7–0.9", "40%-60%"),
exclusively where it writes "> 15%" or "< 20%", and a band and a rule on the same metric agree
at their common edge.

Each case is (metric, value, band status or None, rules that fire), written from the document:
001_844dee85e81e5c79.txt and builtin-packs.md."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engine.compile.pack import compile_pack
from engine.core.display import band_index
from engine.evaluate.backends.numpy_backend import NumpyBackend
from engine.evaluate.frame import Frame
from engine.load.library import PackLibrary

EPS = 1e-9

CASES = [
    # 月均会员流失率: 建议 < 8%; 流失率 > 15% 排查 (the rule churn_too_high)
    ("churn_rate", 0.08 - EPS, "good", []),
    ("churn_rate", 0.08, "fair", []),
    ("churn_rate", 0.15, "fair", []),  # exactly 15% is not "> 15%": fair, and the rule is silent
    ("churn_rate", 0.15 + EPS, "critical", ["churn_too_high"]),
    # 赠送占比: > 20% 利润承压 (gift_share_too_high), < 25% 促销成本可控
    ("gift_share", 0.20, "good", []),
    ("gift_share", 0.20 + EPS, "warning", ["gift_share_too_high"]),
    ("gift_share", 0.25 - EPS, "warning", ["gift_share_too_high"]),
    ("gift_share", 0.25, "critical", ["gift_share_too_high"]),
    # 月均人均充值金额: 建议 150-200 元; < 100 元 档位过低
    ("recharge_per_visit", 150, "good", []),
    ("recharge_per_visit", 200, "good", []),  # the top of 150-200 is in it
    ("recharge_per_visit", 200 + EPS, None, []),
    ("recharge_per_visit", 100, None, []),  # between the document's ranges: no status
    ("recharge_per_visit", 100 - EPS, "critical", []),
    # 月均人均消费金额: 建议 30-50 元; < 20 元
    ("consume_per_visit", 30, "good", []),
    ("consume_per_visit", 50, "good", []),
    ("consume_per_visit", 20, None, []),
    ("consume_per_visit", 20 - EPS, "critical", []),
    # 充值消费转化率: 建议 0.7-0.9; < 0.5 使用率低
    ("consume_to_recharge_ratio", 0.7, "good", []),
    ("consume_to_recharge_ratio", 0.9, "good", []),
    ("consume_to_recharge_ratio", 0.5, None, []),
    ("consume_to_recharge_ratio", 0.5 - EPS, "critical", []),
    # 沉淀资金率: 40%-60%; < 30% (low_sedimentation)
    ("sedimentation_rate", 0.4, "good", []),
    ("sedimentation_rate", 0.6, "good", []),
    ("sedimentation_rate", 0.3, None, []),
    ("sedimentation_rate", 0.3 - EPS, "critical", ["low_sedimentation"]),
    # 资金周转率: 20%-30%
    ("fund_turnover", 0.2, "good", []),
    ("fund_turnover", 0.3, "good", []),
    ("fund_turnover", 0.3 + EPS, None, []),
    # 月均会员活跃率: 建议 > 30% (the bands of builtin-packs.md:
    # good from 30%); < 20% 沉睡 (low_activity)
    ("active_rate", 0.3, "good", []),
    ("active_rate", 0.2, "fair", []),
    ("active_rate", 0.2 - EPS, "critical", ["low_activity"]),
    # 赠送利用率: 建议 > 80% (good from 80%), < 60% 未被有效使用
    ("gift_utilization", 0.8, "good", []),
    ("gift_utilization", 0.6, "fair", []),
    ("gift_utilization", 0.6 - EPS, "critical", []),
    # 月均会员增长率: 3%-8%; 会员数下降 (< 0, members_declining)
    ("member_growth_rate", 0.03, "good", []),
    ("member_growth_rate", 0.08, "good", []),
    ("member_growth_rate", 0.0, None, []),
    ("member_growth_rate", -EPS, "warning", ["members_declining"]),
    # 月均新会员数: 建议月均 ≥ 50 人 (few_new_members below)
    ("monthly_new_members", 50, "good", []),
    ("monthly_new_members", 50 - EPS, "warning", ["few_new_members"]),
    # 高价值会员占比 < 10%
    ("high_value_share", 0.1, None, []),
    ("high_value_share", 0.1 - EPS, "critical", []),
]


@pytest.fixture(scope="module")
def bakery() -> Any:
    return compile_pack("bakery-stored-value", PackLibrary.default())


def _fired(c: Any, metric: str, value: float) -> list[str]:
    """The rules on ``metric`` alone that fire at ``value`` (the evaluator's own backend)."""
    frame = Frame(
        "month",
        2026 * 12,
        (),
        [()],
        np.ones((1, 1), bool),
        np.zeros(1, np.int64),
        np.ones((1, 1)),
        {metric: np.full((1, 1), value)},
    )
    backend = NumpyBackend()
    ctx = backend.run(frame, [], {}, c.graph.graph, {})
    fired = []
    for site in c.rules.values():
        if site.names == {metric} and bool(backend.value(ctx, site.parsed.expr)[0, 0]):
            fired.append(site.owner.id)
    return sorted(fired)


@pytest.mark.parametrize(
    ("metric", "value", "status", "rules"), CASES, ids=[f"{m}={v:g}" for m, v, _, _ in CASES]
)
def test_bands_and_rules_at_the_documents_edges(
    bakery: Any, metric: str, value: float, status: str | None, rules: list[str]
) -> None:
    bands = bakery.pack.metrics[metric].bands
    k = band_index(value, bands)
    assert (bands[k].status if k >= 0 else None) == status
    assert _fired(bakery, metric, value) == rules


def test_every_rule_on_a_banded_metric_agrees_with_its_bands(bakery: Any) -> None:
    """No KPI-R021 in either built-in pack: every edge a rule shares with a band is on one side."""
    assert not [p for p in bakery.warnings if p.code == "KPI-R021"]
    core = compile_pack("membership-core", PackLibrary.default())
    assert not [p for p in core.warnings if p.code == "KPI-R021"]


def test_binary_noise_at_an_edge_is_the_edge(bakery: Any) -> None:
    bands = bakery.pack.metrics["active_rate"].bands
    assert bands[band_index(0.7 - 0.4, bands)].status == "good"  # 0.29999999999999993
    assert bands[band_index(0.29999, bands)].status == "fair"
