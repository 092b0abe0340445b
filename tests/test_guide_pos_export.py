"""The walk-through of docs/guide-pos-export.md, step by step: a pack folder started from the
bakery pack, a GB18030 POS export with Chinese headers read through the source's ``headers``,
the quarter's numbers (worked out by hand below), the Excel report and the ledger template."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()

HEADERS = """
# the POS export's own headers (pack column: header in the file)
sources:
  card_events:
    override: true
    headers:
      event_time: 发生时间
      store_id: 门店编号
      member_id: 会员编号
      kind: 类型
      amount: 金额
      net: 本金
      gift: 赠送
      points: 积分
    recode:
      kind: {注册: register, 充值: recharge, 消费: consume}
"""

POS = """发生时间,门店编号,会员编号,类型,金额,本金,赠送,积分
2026-01-03 09:12:00,S01,M001,注册,0,0,0,0
2026-01-03 09:15:00,S01,M001,充值,1100,1000,100,0
2026-01-10 18:02:00,S01,M001,消费,230,209,21,0
2026-01-20 08:30:00,S02,M002,注册,0,0,0,0
2026-01-20 08:31:00,S02,M002,充值,550,500,50,0
2026-02-14 12:00:00,S02,M002,消费,110,100,10,0
2026-02-18 17:45:00,S01,M001,消费,440,400,40,0
"""
METRICS = "new_members,recharge_amount,consume_amount,closing_amount,gift_share"


def kpi(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout  # progress lines go to stderr


def test_from_a_pos_export_to_a_report(tmp_path: Path) -> None:
    shop = tmp_path / "我的门店"
    kpi("init", str(shop), "--extends", "bakery-stored-value", "--id", "my-bakery")
    with (shop / "pack.yaml").open("a", encoding="utf-8") as f:
        f.write(HEADERS)
    assert "✓ my-bakery 0.1.0" in kpi("validate", str(shop))

    pos = tmp_path / "pos.csv"
    pos.write_bytes(POS.encode("gb18030"))  # as Chinese Excel saves it
    body = json.loads(
        kpi(
            "run", str(shop), "--source", f"card_events={pos}", "--grain", "quarter",
            "--by", "", "--metrics", METRICS,
        )
    )  # fmt: skip
    ((row,),) = [body["rows"]]
    assert row["period"] == "2026-Q1" and row["partial"] is True  # the data ends 2026-02-18
    # the POS's kinds read as the pack's codes (注册 register, 充值 recharge, 消费 consume):
    # two new members; recharges 1100 + 550; spending 230 + 110 + 440; what is left
    # 1650 − 780; the bonus share of the money recharged: (100 + 50) / (1000 + 500)
    assert row["values"] == {
        "new_members": 2.0,
        "recharge_amount": 1650.0,
        "consume_amount": 780.0,
        "closing_amount": 870.0,
        "gift_share": 0.1,
    }

    # the same export with its amounts written as POS exports write them: the same numbers
    formatted = tmp_path / "pos-formatted.csv"
    text = POS.replace(",1100,", ',"1,100",').replace(",550,", ",¥550.00,")
    formatted.write_bytes(text.replace(",440,", ",440元,").encode("gb18030"))
    again = json.loads(
        kpi(
            "run", str(shop), "--source", f"card_events={formatted}", "--grain", "quarter",
            "--by", "", "--metrics", METRICS,
        )
    )  # fmt: skip
    assert again["rows"][0]["values"] == row["values"]

    report = tmp_path / "报表.xlsx"
    kpi(
        "run", str(shop), "--source", f"card_events={pos}", "--grain", "quarter", "--by", "",
        "--metrics", METRICS, "--format", "xlsx", "--out", str(report), "--locale", "zh",
    )  # fmt: skip
    book = openpyxl.load_workbook(report, data_only=True)
    found = {}
    for sheet in book.worksheets:
        header = [c.value for c in sheet[1]]
        for label in ("充值金额", "消费金额", "期末金额"):
            if label in header:  # a row of labels, one of ids, then the quarter's values
                column = [c.value for c in sheet[openpyxl.utils.get_column_letter(
                    header.index(label) + 1)]]  # fmt: skip
                assert column[1] in ("recharge_amount", "consume_amount", "closing_amount")
                found[label] = column[2]
    assert found == {"充值金额": 1650, "消费金额": 780, "期末金额": 870}

    template = tmp_path / "流水模板.csv"
    kpi("template", str(shop), "--source", "card_events", "--out", str(template))
    header, example = template.read_text(encoding="utf-8-sig").splitlines()
    assert header.split(",") == [line.split(": ")[1] for line in HEADERS.splitlines()[6:14]]
    # the templates are read back through the same headers, as CSV and as a workbook: one
    # register event of 1 (the example row), so one new member and no money
    book_template = tmp_path / "流水模板.xlsx"
    kpi("template", str(shop), "--source", "card_events", "-f", "xlsx", "-o", str(book_template))
    for filled in (template, book_template):
        rows = json.loads(
            kpi("run", str(shop), "--source", f"card_events={filled}", "--metrics",
                "new_members,recharge_amount", "--by", "")
        )["rows"]  # fmt: skip
        assert [(r["period"], r["values"]) for r in rows] == [
            ("2026-01", {"new_members": 1.0, "recharge_amount": 0.0})
        ]


def test_a_recode_into_a_code_the_pack_lacks_is_located(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    kpi("init", str(shop), "--extends", "bakery-stored-value", "--id", "my-bakery")
    with (shop / "pack.yaml").open("a", encoding="utf-8") as f:
        f.write(HEADERS.replace("消费: consume}", "消费: consumption}"))
    result = runner.invoke(app, ["validate", str(shop)])
    assert result.exit_code == 1
    line = len((shop / "pack.yaml").read_text(encoding="utf-8").splitlines())
    assert (
        f"pack.yaml:{line}:42: error KPI-R027: source 'card_events': recode reads '消费' in "
        "column 'kind' as 'consumption', which is not one of its values"
    ) in result.output
    assert "hint: did you mean 'consume'?" in result.output
