"""POST /v1/packs/{pack}/evaluate with ``Accept`` the Excel media type: the workbook of the same
evaluation (docs/excel.md), compared cell by cell with the JSON answer of the same request."""

from __future__ import annotations

import io

import openpyxl
from fastapi.testclient import TestClient

from engine.api import XLSX_MEDIA_TYPE
from engine.load.library import BUILTIN_ROOT
from tests.api.http.conftest import assert_problem

BAKERY = "bakery-stored-value"
SAMPLE = (BUILTIN_ROOT / BAKERY / "examples" / "sample.csv").read_bytes()
URL = f"/v1/packs/{BAKERY}/evaluate"
CSV = {"Content-Type": "text/csv"}


def test_the_workbook_holds_the_values_of_the_json_answer(client: TestClient):
    body = client.post(URL, content=SAMPLE, headers=CSV, params={"locale": "en"}).json()
    r = client.post(
        URL, content=SAMPLE, headers={**CSV, "Accept": XLSX_MEDIA_TYPE}, params={"locale": "en"}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX_MEDIA_TYPE
    assert r.headers["content-disposition"] == f'attachment; filename="{BAKERY}.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(r.content), data_only=True)
    ws = book["All values"]
    ids = {c.value: c.column for c in ws[2] if c.value}
    assert len(body["rows"]) == ws.max_row - 2 == 12
    for i, row in enumerate(body["rows"]):
        assert ws.cell(i + 3, 1).value == row["period"]
        assert ws.cell(i + 3, 2).value == row["dims"]["store"]
        for metric, value in row["values"].items():
            assert ws.cell(i + 3, ids[metric]).value == value, (metric, i)
    rules = [r for r in book["Rules fired"].iter_rows(min_row=3, values_only=True)]
    assert [x[2] for x in rules] == [rule["id"] for row in body["rows"] for rule in row["rules"]]


def test_a_json_request_can_ask_for_the_workbook_too(client: TestClient):
    rows = [{"period": "2026-01", "marketing_spend": 1000, "new_members": 8}]
    r = client.post(
        "/v1/packs/membership-core/evaluate",
        json={"rows": rows, "metrics": ["cac"], "locale": "en"},
        headers={"Accept": XLSX_MEDIA_TYPE},
    )
    assert r.status_code == 200 and r.headers["content-type"] == XLSX_MEDIA_TYPE
    formulas = openpyxl.load_workbook(io.BytesIO(r.content))["All values"]
    values = openpyxl.load_workbook(io.BytesIO(r.content), data_only=True)["All values"]
    assert [c.value for c in formulas[2]] == [None, "marketing_spend", "new_members", "cac"]
    assert formulas["D3"].value == '=IFERROR(B3/C3,"")' and values["D3"].value == 125.0


def test_errors_stay_problem_json_when_the_workbook_is_asked_for(client: TestClient):
    r = client.post(
        URL, content=b"period,store\n2026-13,S1\n", headers={**CSV, "Accept": XLSX_MEDIA_TYPE}
    )
    assert_problem(r, 422, "invalid-input")


def test_openapi_documents_the_workbook_answer(client: TestClient):
    doc = client.get("/openapi.json").json()
    answer = doc["paths"]["/v1/packs/{pack}/evaluate"]["post"]["responses"]["200"]
    assert answer["content"][XLSX_MEDIA_TYPE] == {"schema": {"type": "string", "format": "binary"}}
    assert "application/json" in answer["content"]
