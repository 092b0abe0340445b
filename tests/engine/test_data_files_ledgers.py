"""Raw ledgers as a Chinese POS or Excel saves them (issue 14): `kpi run` over a GB18030, UTF-16
or UTF-8-with-mark CSV, or an .xlsx sheet, gives the very JSON of its UTF-8 CSV twin."""

from __future__ import annotations

import csv
import json
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from engine.demo.bakery import bakery_ledger, write_ledger
from tests.xlsx_writer import write_xlsx

STORES = {"S01": "上海南京路店", "S02": "北京国贸店"}


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo ledger (2 stores, 3 months) with Chinese store names, as UTF-8 CSV text."""
    out = tmp_path_factory.mktemp("ledger")
    write_ledger(bakery_ledger(stores=2, months=3, members=60, seed=5), out)
    text = (out / "card_events.csv").read_text(encoding="utf-8")
    for code, name in STORES.items():
        text = text.replace(f",{code},", f",{name},")
    (out / "utf8.csv").write_text(text, encoding="utf-8", newline="")
    return out, text


def _run(*args: str) -> dict:
    result = CliRunner().invoke(app, ["run", "bakery-stored-value", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _sheet(text: str) -> list[list[object]]:
    """The ledger as Excel holds it: times as date cells, numbers as number cells."""
    rows: list[list[object]] = []
    for i, record in enumerate(csv.reader(text.splitlines())):
        if i == 0:
            rows.append(list(record))
            continue
        time, store, member, kind, *numbers = record
        rows.append(
            [datetime.fromisoformat(time), store, member, kind, *(float(n) for n in numbers)]
        )
    return rows


ENCODED = {
    "gb18030": lambda t: t.encode("gb18030"),
    "utf-16": lambda t: t.encode("utf-16"),
    "utf-8-bom": lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"),
}


@pytest.mark.parametrize("encoding", sorted(ENCODED))
def test_a_ledger_in_another_encoding_gives_the_utf8_twins_numbers(
    ledger, encoding, tmp_path, monkeypatch
):
    folder, text = ledger
    twin = tmp_path / "card_events.csv"
    twin.write_bytes(ENCODED[encoding](text))
    copies = tmp_path / "tmp"
    copies.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(copies))
    want = _run("--source", f"card_events={folder / 'utf8.csv'}")
    got = _run("--source", f"card_events={twin}")
    assert got == want
    stores = {r["dims"]["store"] for r in got["rows"]}
    assert stores == {"上海南京路店", "北京国贸店"} and len(got["rows"]) == 6
    assert [p.name for p in copies.iterdir()] == []  # the UTF-8 copy is removed


def test_an_xlsx_ledger_gives_the_csv_twins_numbers(ledger, tmp_path):
    folder, text = ledger
    rows = _sheet(text)
    book = write_xlsx(tmp_path / "ledger.xlsx", {"说明": [["见下一页"]], "流水": rows})
    want = _run("--source", f"card_events={folder / 'utf8.csv'}", "--by", "")
    got = _run("--source", f"card_events={book}#流水", "--by", "")
    assert got == want
    assert want["rows"][0]["values"]["avg_order_value"] is not None
    missing = CliRunner().invoke(
        app, ["run", "bakery-stored-value", "--source", f"card_events={book}#Sheet1"]
    )
    assert missing.exit_code == 2
    assert "KPI-E049" in missing.output and "its sheets: '说明', '流水'" in missing.output


def test_a_latin1_ledger_is_refused_with_the_hint(tmp_path):
    bad = tmp_path / "card_events.csv"
    bad.write_bytes(
        "event_time,store_id,member_id,kind,amount,net,gift,points\n"
        "2025-01-01 02:00:00,Zürich,M1,import,1,1,0,0\n".encode("latin-1")
    )
    result = CliRunner().invoke(
        app, ["run", "bakery-stored-value", "--source", f"card_events={bad}"]
    )
    assert result.exit_code == 2
    assert "error KPI-E003: source 'card_events' (card_events.csv) is not text" in result.output
    assert "CSV UTF-8(逗号分隔)" in result.output


def test_errors_about_an_xlsx_ledger_name_the_workbook(tmp_path):
    # the POS export's headers with 积分 (points) misspelled: the pack's headers map reads 积分
    head = ["发生时间", "门店编号", "会员编号", "类型", "金额", "本金", "赠送", "积分X"]
    row = [datetime(2026, 1, 3, 9, 12), "S01", "M001", "register", 0.0, 0.0, 0.0, 0.0]
    book = write_xlsx(tmp_path / "bad.xlsx", {"流水": [head, row]})
    result = CliRunner().invoke(
        app,
        ["run", "tests/packs/measures/bakery-pos-export", "--source", f"card_events={book}"],
    )
    assert result.exit_code == 2
    assert "error KPI-E058: source 'card_events' (bad.xlsx): no header '积分'" in result.output
    assert "(records)" not in result.output
