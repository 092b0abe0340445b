"""The "needs attention" summary names the band the value is in (the engine's, not the first band
with the same status) and says its status in the page's language (issue 14 review, #3)."""

from __future__ import annotations

import json
from pathlib import Path

from api.web import attention, i18n, report
from api.web.pages import _ENV
from engine.api import compile_pack, evaluate

SHARE_PACK = """\
pack: share-demo
version: 1.0.0
title: {en: Share demo, zh: 占比演示}
locales: [en, zh]
grain: month
inputs:
  spent: {label: {en: Spent, zh: 消费}}
  topped: {label: {en: Topped up, zh: 充值}}
metrics:
  消费占比:
    label: {en: Spend share, zh: 消费占比}
    formula: spent / topped
    format: percent
    decimals: 1
    bands:
      - {status: warning, max: 20%}
      - {status: good, min: 20%, max: 80%}
      - {status: warning, min: 80%}
rules:
  share_high:
    label: {en: Share too high, zh: 消费占比过高}
    severity: warning
    when: 消费占比 > 80%
    metric: 消费占比
"""


def test_the_summary_shows_the_band_the_value_is_in_with_its_translated_status(tmp_path: Path):
    (tmp_path / "pack.yaml").write_text(SHARE_PACK, encoding="utf-8")
    c = compile_pack(tmp_path)
    rows = [{"period": "2026-01", "spent": 95, "topped": 100}]  # 95 / 100 = 95.0%: third band
    body = evaluate(c, rows, locale="zh").to_json()
    row = body["rows"][0]
    assert [x["id"] for x in row["rules"]] == ["share_high"]
    entry = attention.fired_entry(c, row, "合计", row["rules"][0], "zh")
    assert (entry["value"], entry["status"], entry["band"]) == ("95.0%", "warning", None)
    assert entry["band_edges"] == "≥ 80.0%"  # not the first warning band's "< 20.0%"
    words = i18n.words("zh")
    result = report.layout(c, json.dumps(body).encode(), "zh", words)
    html = _ENV.from_string(
        '{% from "_attention.html" import summary %}{{ summary(result, pack, t) }}'
    ).render(result=result, pack=c.pack, t=words)
    assert "(警告: ≥ 80.0%)" in html
    assert "warning:" not in html and "< 20.0%" not in html
    # the table cell's screen-reader text: the translated status, no "None" for a band
    # without a label
    cell = result["tables"][0]["lines"][0]["cells"][0]
    assert (cell["text"], cell["status"], cell["band"]) == ("95.0%", "warning", None)
