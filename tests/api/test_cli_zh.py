"""`--locale zh` and `KPI_LOCALE=zh`: problems and evaluation errors with their code's Chinese
title (docs/errors.md), the code's Chinese hint when the error has none of its own; English
stays the default and the messages themselves stay English."""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()
SAMPLE = (
    Path(__file__).resolve().parents[2]
    / "metrics"
    / "bakery-stored-value"
    / "examples"
    / "sample.csv"
)
E017_HINT_ZH = (
    "输入单元格应为数字（数字字符，可带正负号、小数点和指数），或留空表示无值；"
    "`1_000`、`true` 和文本会被拒绝。"
)


def run(*args: str, **env: str):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1", "KPI_LOCALE": "", **env})


@pytest.fixture
def broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "pack.yaml").write_text(
        textwrap.dedent("""\
        pack: shop
        version: '1.0.0'
        title: Shop
        inputs:
          revenue: {label: Revenue}
          orders: {label: Orders}
        metrics:
          aov:
            label: Average order value
            formula: revenu / orders
          total: {label: Revenue total, formula: revenue}
    """),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    return folder


ZH_LINES = [
    "shop/pack.yaml:10:14: 错误 KPI-R001（未知引用）: "
    "unknown name 'revenu' in the formula of 'aov'",
    "  10 |     formula: revenu / orders",
    "     |              ^~~~~~",
    "  提示: did you mean 'revenue'?",
]


def test_validate_in_chinese_prints_the_titles_and_a_chinese_summary(broken: Path):
    result = run("validate", "shop", "--locale", "zh")
    assert result.exit_code == 1
    assert result.output.splitlines() == [*ZH_LINES, "✗ shop: 1 个错误，0 个警告", ""]


def test_a_problem_without_a_hint_gets_its_codes_explanation(tmp_path: Path):
    pack = tmp_path / "band.yaml"
    pack.write_text(
        "pack: band\nversion: '1.0.0'\ntitle: Band\ninputs:\n  sales: {label: Sales}\n"
        "metrics:\n  total:\n    formula: sales\n    bands: [{status: bad, min: 0}]\n",
        encoding="utf-8",
    )
    result = run("validate", str(pack), "--locale", "zh")
    assert result.exit_code == 1
    head, _, _, explanation, _, _ = result.output.splitlines()
    assert head == (
        f"{pack}:9:14: 错误 KPI-S004（不允许的值）: metric 'total', band 1, 'status': 'bad' is "
        "not one of: good, fair, warning, critical"
    )
    assert explanation == "  说明: 值不在允许的选项之中（未知的状态、粒度等）。"
    assert "  hint: " not in run("validate", str(pack)).output  # English: no catalogue text


def test_kpi_locale_chooses_chinese_and_the_option_wins(broken: Path):
    assert run("validate", "shop", KPI_LOCALE="zh-CN").output.splitlines()[:4] == ZH_LINES
    english = run("validate", "shop", "--locale", "en", KPI_LOCALE="zh").output.splitlines()
    assert english[0] == (
        "shop/pack.yaml:10:14: error KPI-R001: unknown name 'revenu' in the formula of 'aov'"
    )
    assert english[3] == "  hint: did you mean 'revenue'?"
    assert english[-2] == "✗ shop: 1 error(s), 0 warning(s)"
    assert "说明" not in run("validate", "shop").output  # English is the default


def test_eval_of_a_broken_pack_in_chinese(broken: Path):
    result = run("eval", "shop", "-i", str(SAMPLE), "--locale", "zh")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:4] == ZH_LINES
    assert result.stderr.splitlines()[-1] == (
        "错误: 指标包 'shop' 有错误；运行 `kpi validate shop` 查看详情"
    )


def test_a_valid_pack_summary_in_chinese():
    result = run("validate", "bakery-stored-value", "--locale", "zh")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "✓ bakery-stored-value 1.0.0: 68 个输入，71 个指标，18 条规则；"
        "校验: 已证明 1 项，取决于数据 4 项；0 个警告\n\n"
    )


def _bad_cell(tmp_path: Path, value: str) -> Path:
    with SAMPLE.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[2]["recharge_amount"] = value
    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return bad


def test_an_evaluation_error_in_chinese_has_the_title_and_the_catalogue_hint(tmp_path: Path):
    bad = _bad_cell(tmp_path, "abc")
    result = run("eval", "bakery-stored-value", "-i", str(bad), "--locale", "zh")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"错误 KPI-E017（不是数字）: {bad}: row 3, column 'recharge_amount': 'abc' is not a number",
        f"  提示: {E017_HINT_ZH}",
    ]
    result = run("eval", "bakery-stored-value", "-i", str(bad))
    assert result.stderr.splitlines() == [
        f"error KPI-E017: {bad}: row 3, column 'recharge_amount': 'abc' is not a number"
    ]


def test_an_error_with_its_own_hint_keeps_it(tmp_path: Path):
    bad = _bad_cell(tmp_path, "1,00")
    result = run("eval", "bakery-stored-value", "-i", str(bad), KPI_LOCALE="zh")
    assert result.exit_code == 2
    first, second = result.stderr.splitlines()
    assert first.startswith(f"错误 KPI-E056（数字单元格有两种读法）: {bad}: row 3, column")
    assert second == "  提示: write 1200 or 1,200 (and 1.5 for one and a half)"


def test_run_with_a_missing_ledger_in_chinese(tmp_path: Path):
    missing = tmp_path / "card_events.csv"
    result = run(
        "run", "bakery-stored-value", "--source", f"card_events={missing}", "--locale", "zh"
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"错误 KPI-E001（找不到文件）: source 'card_events': file not found: {missing}",
        "  提示: 作为数据（`--inputs`、`--data`）或来源记录（`--source NAME=PATH`）"
        "给出的文件不存在：请检查路径。",
    ]


def test_codes_lists_the_chinese_titles():
    lines = run("codes", "--locale", "zh").output.splitlines()
    assert lines[0] == "KPI-L001  error    文件或指标包过大"
    assert "KPI-E017  error    不是数字" in lines
    assert "KPI-W011  warning  按标签读取的列" in lines
    assert run("codes").output.splitlines()[0] == "KPI-L001  error    File or pack too large"
