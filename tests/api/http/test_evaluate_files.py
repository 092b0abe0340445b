"""POST /v1/packs/{pack}/evaluate with the files an analyst has (issue 14): CSV in GB18030 or
UTF-16 and Excel workbooks (the raw .xlsx bytes), as input rows and as a source's records; each
answers exactly as its UTF-8 CSV twin."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient

from engine.load.library import BUILTIN_ROOT
from tests.api.http.conftest import assert_problem
from tests.api.http.test_evaluate_sources import LEDGER, ledger  # noqa: F401
from tests.api.http.test_evaluate_sources import URL as LEDGER_URL
from tests.xlsx_writer import ErrorCell, write_xlsx

SAMPLE = BUILTIN_ROOT / "bakery-stored-value" / "examples" / "sample.csv"
URL = "/v1/packs/bakery-stored-value/evaluate"
XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
CSV = {"Content-Type": "text/csv"}
QUERY = {"grain": "quarter", "by": "", "trace": "true"}


def _sample_text() -> str:
    text = SAMPLE.read_text(encoding="utf-8")
    return text.replace(",S01,", ",上海南京路店,").replace(",S02,", ",北京国贸店,")


def _sheet(text: str) -> list[list[object]]:
    rows: list[list[object]] = []
    for i, record in enumerate(csv.reader(io.StringIO(text))):
        rows.append(record if i == 0 else [record[0], record[1], *(float(c) for c in record[2:])])
    return rows


def test_gb18030_and_utf16_csv_answer_as_the_utf8_twin(client: TestClient):
    text = _sample_text()
    want = client.post(URL, content=text.encode("utf-8"), headers=CSV, params=QUERY)
    assert want.status_code == 200, want.text
    assert want.json()["rows"][0]["period"] == "2026-Q1"
    for raw in (text.encode("gb18030"), text.encode("utf-16")):
        got = client.post(URL, content=raw, headers=CSV, params=QUERY)
        assert got.status_code == 200, got.text
        assert got.json() == want.json()


def test_latin1_csv_is_a_400_with_the_hint(client: TestClient):
    r = client.post(URL, content="period,store\n2026-01,Zürich\n".encode("latin-1"), headers=CSV)
    body = assert_problem(r, 400, "malformed-body")
    assert body["code"] == "KPI-E003" and "byte 0xFC at line 2" in body["detail"]
    assert "CSV UTF-8(逗号分隔)" in body["errors"][0]["hint"]


def test_an_xlsx_body_answers_as_its_csv_twin(client: TestClient, tmp_path: Path):
    text = _sample_text()
    book = write_xlsx(tmp_path / "b.xlsx", {"说明": [["备注"], ["见月报"]], "月报": _sheet(text)})
    want = client.post(URL, content=text.encode("utf-8"), headers=CSV, params=QUERY).json()
    got = client.post(
        URL, content=book.read_bytes(), headers=XLSX, params={**QUERY, "sheet": "月报"}
    )
    assert got.status_code == 200, got.text
    assert got.json() == want
    missing = client.post(URL, content=book.read_bytes(), headers=XLSX)  # the first sheet
    body = assert_problem(missing, 422, "invalid-input")
    assert body["code"] == "KPI-E013"  # 说明 has no period column
    other = client.post(URL, content=book.read_bytes(), headers=XLSX, params={"sheet": "Sheet1"})
    body = assert_problem(other, 422, "invalid-input")
    assert body["code"] == "KPI-E049" and "its sheets: '说明', '月报'" in body["detail"]


def test_bad_workbooks_are_refused_with_codes(client: TestClient, tmp_path: Path):
    body = assert_problem(
        client.post(URL, content=b"PK\x03\x04junk", headers=XLSX), 400, "malformed-body"
    )
    assert body["code"] == "KPI-E048"
    book = write_xlsx(
        tmp_path / "e.xlsx",
        {"S": [["period", "store", "recharge_amount"], ["2026-01", "S01", ErrorCell("#N/A")]]},
    )
    body = assert_problem(
        client.post(URL, content=book.read_bytes(), headers=XLSX), 422, "invalid-input"
    )
    assert body["code"] == "KPI-E051"
    assert body["errors"][0]["row"] == 1 and body["errors"][0]["column"] == "recharge_amount"
    r = client.post(URL, content=SAMPLE.read_bytes(), headers=CSV, params={"sheet": "S"})
    assert_problem(r, 422, "invalid-request")


def test_a_sources_records_as_xlsx(ledger: TestClient, tmp_path: Path):  # noqa: F811
    fields = list(LEDGER[0])
    rows: list[list[object]] = [fields]
    for rec in LEDGER:
        rows.append([datetime.fromisoformat(str(rec["event_time"])), *(rec[f] for f in fields[1:])])
    book = write_xlsx(tmp_path / "ledger.xlsx", {"流水": rows})
    want = ledger.post(LEDGER_URL, json={"sources": {"card_events": LEDGER}, "by": []}).json()
    got = ledger.post(
        LEDGER_URL,
        content=book.read_bytes(),
        headers=XLSX,
        params={"source": "card_events", "by": ""},
    )
    assert got.status_code == 200, got.text
    assert got.json() == want
    january = want["rows"][0]["values"]  # by hand: 200 + 100 + 300 recharged in 3 recharges
    assert january["recharge_per_visit"] == 200.0 and january["newcomers"] == 3.0
    assert january["gift_share_of_recharge"] == 55 / 600  # 20 + 5 + 30 of gifts


def test_a_sources_gb18030_csv(ledger: TestClient):  # noqa: F811
    records = [
        {**rec, "store_id": {"S1": "上海店", "S2": "北京店"}[rec["store_id"]]} for rec in LEDGER
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    want = ledger.post(LEDGER_URL, json={"sources": {"card_events": records}}).json()
    got = ledger.post(
        LEDGER_URL,
        content=out.getvalue().encode("gb18030"),
        headers=CSV,
        params={"source": "card_events"},
    )
    assert got.status_code == 200, got.text
    assert got.json() == want
    assert {r["dims"]["store"] for r in want["rows"]} == {"上海店", "北京店"}
