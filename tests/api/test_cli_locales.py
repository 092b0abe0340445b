"""`kpi validate --strict-locales zh,en`: every text of a user pack lacking a listed locale is an
error KPI-R026 at its line and column; the built-in packs have none."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1"})


@pytest.fixture
def chinese_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # not "shop" as in test_cli.py: the CLI caches source lines by path (one run per process)
    folder = tmp_path / "zh-shop"
    folder.mkdir()
    (folder / "pack.yaml").write_text(
        textwrap.dedent("""\
        pack: shop
        version: '1.0.0'
        title: {zh: 门店, en: Shop}
        inputs:
          充值金额: {unit: CNY}
          消费金额: {label: {zh: 消费金额, en: Consumption}}
        metrics:
          净充值:
            label: 净充值
            formula: 充值金额 - 消费金额
            description: {zh: 充值减去消费, en: Recharge minus consumption}
    """),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    return folder


def test_without_the_flag_a_chinese_only_pack_is_valid(chinese_only: Path):
    result = run("validate", "zh-shop")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("✓ shop 1.0.0: 2 inputs, 1 metrics")


def test_each_missing_translation_is_an_error_at_its_line(chinese_only: Path):
    result = run("validate", "zh-shop", "--strict-locales", "zh,en")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "zh-shop/pack.yaml:5:3: error KPI-R026: input '充值金额' has no label, so it is shown by "
        "its id: no 'zh', 'en' text",
        "  5 |   充值金额: {unit: CNY}",
        "    |   ^~~~",
        "  hint: add label: {zh: 充值金额, en: …}",
        "zh-shop/pack.yaml:9:12: error KPI-R026: metric '净充值', 'label': no 'en' text",
        "  9 |     label: 净充值",
        "    |            ^~~",
        "  hint: write it in every locale: {zh: 净充值, en: …}",
        "✗ zh-shop: 2 error(s), 0 warning(s)",
        "",
    ]


def test_json_lists_the_missing_translations(chinese_only: Path):
    result = run("validate", "zh-shop", "--strict-locales", "en", "--json")
    assert result.exit_code == 1
    [entry] = json.loads(result.output)
    assert entry["valid"] is False
    got = [(p["code"], p["line"], p["column"], p["path"]) for p in entry["problems"]]
    assert got == [
        ("KPI-R026", 5, 3, "inputs.充值金额"),
        ("KPI-R026", 9, 12, "metrics.净充值.label"),
    ]


def test_the_builtin_packs_pass_strict_locales():
    result = run("validate", "--strict-locales", "zh,en")
    assert result.exit_code == 0, result.output
    assert "KPI-R026" not in result.output
    assert "✓ bakery-stored-value 1.0.0" in result.output
    assert "✓ membership-core 1.0.0" in result.output


@pytest.mark.parametrize("option", ["zh,EN", "zh,,en", "中文", ""])
def test_a_bad_locale_is_a_usage_error(chinese_only: Path, option: str):
    result = run("validate", "zh-shop", "--strict-locales", option)
    assert result.exit_code == 2
    assert "--strict-locales:" in result.output and "is not a locale code" in result.output


def test_a_pack_without_definitions_of_its_own_points_at_its_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # a `kpi init` pack: pack.yaml holds `pack:` and the title; inputs.yaml and metrics.yaml
    # (first in name order) define nothing, so no definition leads to the pack's document
    monkeypatch.chdir(tmp_path)
    result = run("init", "init-shop", "--extends", "bakery-stored-value", "--id", "my-shop")
    assert result.exit_code == 0, result.output
    result = run("validate", "init-shop", "--strict-locales", "zh,en,ja", "--json")
    assert result.exit_code == 1
    [entry] = json.loads(result.output)
    got = [(p["code"], p["file"], p["line"], p["column"], p["path"]) for p in entry["problems"]]
    assert got == [("KPI-R026", "init-shop/pack.yaml", 4, 8, "title")]
    assert entry["problems"][0]["message"] == "'title': no 'ja' text"
