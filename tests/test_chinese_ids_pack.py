"""A pack written with Chinese ids and no labels (tests/packs/chinese_ids): it validates, every
label is its id (in the catalog JSON, the lineage and the pack's docs), and it evaluates."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.server.packjson import pack_json
from engine.api import (
    CompiledPack,
    compile_pack,
    evaluate,
    lineage,
    missing_translations,
    pack_markdown,
    read_csv_text,
)

PACK = Path(__file__).resolve().parent / "packs" / "chinese_ids"


@pytest.fixture(scope="module")
def compiled() -> CompiledPack:
    return compile_pack(PACK)


def test_it_validates_without_a_single_label(compiled: CompiledPack):
    text = (PACK / "pack.yaml").read_text(encoding="utf-8")
    assert "label:" not in text.split("\n", 1)[1]  # the first line is a comment about labels
    assert [p.code for p in compiled.warnings] == []
    assert list(compiled.pack.inputs) == ["充值金额", "消费金额"]
    assert list(compiled.pack.metrics) == ["净充值", "消费占比"]


def test_the_catalog_shows_each_id_as_its_label(compiled: CompiledPack):
    catalog = pack_json(compiled)
    labels = {
        ident: entry["label"]
        for section in ("inputs", "metrics")
        for ident, entry in catalog[section].items()
    }
    assert labels == {
        "充值金额": {"zh": "充值金额"},
        "消费金额": {"zh": "消费金额"},
        "净充值": {"zh": "净充值"},
        "消费占比": {"zh": "消费占比"},
    }
    # full-width punctuation inside a text value is text
    assert catalog["metrics"]["净充值"]["description"] == {"zh": "说明：充值减去消费，单位（元）"}


def test_lineage_and_docs_show_the_ids(compiled: CompiledPack):
    info = lineage(compiled, "净充值", "zh")
    assert info["label"] == "净充值"
    assert info["inputs"] == ["充值金额", "消费金额"]
    assert "### 消费占比 (`消费占比`)" in pack_markdown(compiled)


def test_it_evaluates(compiled: CompiledPack):
    rows = read_csv_text((PACK / "data.csv").read_text(encoding="utf-8"))
    out = evaluate(compiled, rows).to_json()
    values = [(r["period"], r["values"]) for r in out["rows"]]
    assert values == [
        ("2026-01", {"净充值": 750.0, "消费占比": 0.25}),
        ("2026-02", {"净充值": -100.0, "消费占比": None}),
    ]
    assert out["rows"][1]["undefined"]["消费占比"].startswith("division by zero")


def test_strict_locales_count_a_label_left_out_as_missing(compiled: CompiledPack):
    found = [
        (p.code, p.line, p.column, p.message) for p in missing_translations(compiled.pack, ["zh"])
    ]
    assert found == [
        ("KPI-R026", 7, 3, "input '充值金额' has no label, so it is shown by its id: no 'zh' text"),
        ("KPI-R026", 8, 3, "input '消费金额' has no label, so it is shown by its id: no 'zh' text"),
        ("KPI-R026", 10, 3, "metric '净充值' has no label, so it is shown by its id: no 'zh' text"),
        (
            "KPI-R026",
            14,
            3,
            "metric '消费占比' has no label, so it is shown by its id: no 'zh' text",
        ),
    ]
