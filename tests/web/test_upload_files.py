"""The report page's upload takes the files an analyst has (issue 14): a GB18030 CSV and an .xlsx
workbook show the very results of the UTF-8 CSV; a Latin-1 file shows the hint to re-save it."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.server import Settings, create_app
from tests.xlsx_writer import write_xlsx

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = (ROOT / "metrics" / "bakery-stored-value" / "examples" / "sample.csv").read_text("utf-8")
TEXT = SAMPLE.replace(",S01,", ",上海南京路店,").replace(",S02,", ",北京国贸店,")
PAGE = "/packs/bakery-stored-value/report"
EN = {"Cookie": "kpi_lang=en"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(
        Settings(data_dir=tmp_path / "data", rate_limit=0, eval_workers=1, eval_timeout=30)
    )
    with TestClient(app) as c:
        yield c
    app.state.pool.close()


def _results(client: TestClient, body: bytes, media: str) -> str:
    r = client.post(PAGE, content=body, headers={**EN, "Content-Type": media})
    assert r.status_code == 200, r.text[:500]
    # the results section holds sections of its own (needs attention): up to the page's end
    found = re.search(r'<section id="results".*</section>\s*</main>', r.text, re.S)
    assert found is not None
    return found.group(0)


def test_gb18030_and_xlsx_uploads_show_the_utf8_results(client: TestClient, tmp_path: Path):
    want = _results(client, TEXT.encode("utf-8"), "text/csv")
    assert "上海南京路店" in want and "data-problem" not in want and "<table" in want
    assert _results(client, TEXT.encode("gb18030"), "text/csv") == want
    rows: list[list[object]] = []
    for i, record in enumerate(csv.reader(io.StringIO(TEXT))):
        rows.append(record if i == 0 else [*record[:2], *(float(c) for c in record[2:])])
    book = write_xlsx(tmp_path / "sample.xlsx", {"月报": rows, "其他": [["x"], [1]]})
    assert _results(client, book.read_bytes(), XLSX) == want


def test_a_latin1_upload_shows_how_to_save_it(client: TestClient):
    r = client.post(
        PAGE,
        content="period,store\n2026-01,Zürich\n".encode("latin-1"),
        headers={**EN, "Content-Type": "text/csv"},
    )
    assert r.status_code == 400
    assert 'data-problem="malformed-body"' in r.text
    assert "File → Save As → CSV UTF-8" in r.text and "CSV UTF-8(逗号分隔)" in r.text


def test_the_page_the_script_and_the_reader_take_the_same_workbooks(client: TestClient):
    # the file input's accept list, the script's test for a workbook and the reader's suffixes
    from engine.evaluate.workbook import SUFFIXES

    page = client.get(PAGE, headers=EN).text
    accept = re.search(r'<input id="file" name="file" type="file" accept="([^"]+)"', page)
    assert accept is not None
    suffixes = [a for a in accept.group(1).split(",") if a.startswith(".")]
    assert suffixes == [".csv", *SUFFIXES] == [".csv", ".xlsx"]
    script = (ROOT / "api" / "web" / "static" / "web.js").read_text("utf-8")
    assert "var xlsx = /\\.xlsx$/i.test(file.files[0].name);" in script
