"""The pages' downloads (api/web/downloads.py): the pack's template and the report as Excel."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from api.server import Settings, create_app
from engine.api import XLSX_MEDIA_TYPE, compile_pack, evaluate, read_csv_text
from engine.load.library import BUILTIN_ROOT, PackLibrary

BAKERY = "bakery-stored-value"
SAMPLE = (BUILTIN_ROOT / BAKERY / "examples" / "sample.csv").read_bytes()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(
        Settings(data_dir=tmp_path / "data", rate_limit=0, eval_workers=1, eval_timeout=30)
    )
    with TestClient(app) as c:
        yield c
    app.state.pool.close()


def test_the_pack_and_report_pages_link_the_downloads_and_list_the_columns(client: TestClient):
    page = client.get(f"/packs/{BAKERY}", headers={"Accept-Language": "en"}).text
    assert f'href="/packs/{BAKERY}/template.csv"' in page
    assert f'href="/packs/{BAKERY}/template.xlsx"' in page
    report = client.get(
        f"/packs/{BAKERY}/report?grain=quarter&data=example", headers={"Accept-Language": "en"}
    ).text
    assert f'href="/packs/{BAKERY}/report.xlsx?grain=quarter&amp;data=example"' in report
    assert "Columns the data needs (70)" in report  # period, store and the 68 inputs
    assert "<li><code>recharge_amount</code> Recharge amount</li>" in report
    assert f'formaction="/packs/{BAKERY}/report.xlsx"' in report


def test_the_template_evaluates_as_it_is(client: TestClient):
    r = client.get(f"/packs/{BAKERY}/template.csv")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == f'attachment; filename="{BAKERY}-template.csv"'
    text = r.content.decode("utf-8-sig")
    header, example = list(csv.reader(io.StringIO(text)))
    assert header[:4] == ["period", "store", "marketing_spend", "new_members"]
    assert example[:3] == ["2026-01", "store_1", "1.0"]
    c = compile_pack(BAKERY, PackLibrary([BUILTIN_ROOT]))
    body = evaluate(c, read_csv_text(text)).to_json()
    assert [row["period"] for row in body["rows"]] == ["2026-01"]
    x = client.get(f"/packs/{BAKERY}/template.xlsx", headers={"Accept-Language": "zh"})
    assert x.headers["content-type"] == XLSX_MEDIA_TYPE
    book = openpyxl.load_workbook(io.BytesIO(x.content))
    assert book.sheetnames == ["数据", "说明"]
    ledger = client.get(f"/packs/{BAKERY}/template.csv?source=card_events").content
    assert ledger.decode("utf-8-sig").splitlines()[0] == (
        "event_time,store_id,member_id,kind,amount,net,gift,points"
    )
    missing = client.get(f"/packs/{BAKERY}/template.csv?source=nope")
    assert missing.status_code == 422 and "has no source &#39;nope&#39;" in missing.text
    assert client.get(f"/packs/{BAKERY}/template.pdf").status_code == 422


def test_the_report_downloads_as_a_workbook(client: TestClient):
    r = client.get(
        f"/packs/{BAKERY}/report.xlsx?data=example&by=-", headers={"Accept-Language": "en"}
    )
    assert r.status_code == 200 and r.headers["content-type"] == XLSX_MEDIA_TYPE
    ws = openpyxl.load_workbook(io.BytesIO(r.content), data_only=True)["All values"]
    c = compile_pack(BAKERY, PackLibrary([BUILTIN_ROOT]))
    body = evaluate(c, read_csv_text(SAMPLE.decode()), by=[], locale="en").to_json()
    ids = {cell.value: cell.column for cell in ws[2] if cell.value}
    assert ws.max_row - 2 == len(body["rows"]) == 6  # six months, totals across the stores
    for i, row in enumerate(body["rows"]):
        assert ws.cell(i + 3, 1).value == row["period"]
        for metric, value in row["values"].items():
            assert ws.cell(i + 3, ids[metric]).value == value
    posted = client.post(
        f"/packs/{BAKERY}/report.xlsx",
        content="csv=" + SAMPLE.decode().replace("\n", "%0A").replace(",", "%2C") + "&by=-",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert posted.status_code == 200 and posted.content[:2] == b"PK"
    bad = client.post(
        f"/packs/{BAKERY}/report.xlsx",
        content=b"period\n2026-13\n",
        headers={"Content-Type": "text/csv"},
    )
    assert bad.status_code == 422 and "text/html" in bad.headers["content-type"]
    assert client.get(f"/packs/{BAKERY}/report.xlsx").status_code == 422  # no data=example


def _failure_block(html: str) -> str:
    """The report page's failure block (the problem and the offending rows in context)."""
    start = html.index('<div class="problem" role="alert"')
    return html[start : html.index("</div>\n</div>", start)]


def test_a_failed_download_shows_the_report_pages_failure_block(client: TestClient):
    # abc in 充值金额 (recharge_amount) on data row 2: the same rows in context, the same
    # reason and hint as the report page shows for the same body, under the data-error heading
    lines = SAMPLE.decode().splitlines()
    header = lines[0].split(",")
    at = header.index("recharge_amount")
    cells = lines[2].split(",")
    cells[at] = "abc"
    body = "\n".join([lines[0], lines[1], ",".join(cells), *lines[3:6]]).encode()
    zh = {"Cookie": "kpi_lang=zh", "Content-Type": "text/csv"}
    page = client.post(f"/packs/{BAKERY}/report", content=body, headers=zh)
    got = client.post(f"/packs/{BAKERY}/report.xlsx", content=body, headers=zh)
    assert page.status_code == got.status_code == 422
    assert "text/html" in got.headers["content-type"]
    block = _failure_block(page.text)
    assert _failure_block(got.text) == block
    assert 'class="bad-row" id="bad-row-2"' in block and 'class="bad-cell">abc</td>' in block
    assert "<h1>数据有误</h1>" in got.text and "地址中的参数无效" not in got.text
