"""Files as an analyst saves them (issue 14): CSV in UTF-8 with or without a mark, UTF-16 and
GB18030 (Chinese Excel / POS), and Excel workbooks, each read cell by cell as its UTF-8 CSV twin;
anything else refused with a code and a hint in English and Chinese."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from engine.compile.pack import compile_pack
from engine.core.encodings import HINT, decode_text, is_utf8, plausible_chinese
from engine.core.errors import InputError
from engine.evaluate.evaluation import evaluate, read_table
from engine.evaluate.table import numeric
from engine.evaluate.workbook import MAX_XML_BYTES, read_xlsx, split_sheet
from engine.load.library import PackLibrary
from tests.xlsx_writer import ErrorCell, Formula, write_xlsx

SAMPLE = Path(__file__).resolve().parents[2] / "metrics" / "bakery-stored-value" / "examples"
STORES = {"S01": "上海南京路店", "S02": "北京国贸店", "S03": "广州天河店"}


def sample_text() -> str:
    """The bakery sample with Chinese store names (a GB18030 file must read as Chinese text)."""
    text = (SAMPLE / "sample.csv").read_text(encoding="utf-8")
    for code, name in STORES.items():
        text = text.replace(f",{code},", f",{name},")
    return text


@pytest.fixture(scope="module")
def compiled():
    return compile_pack("bakery-stored-value", PackLibrary.default())


TWINS = {
    "utf-8": lambda t: t.encode("utf-8"),
    "utf-8-bom": lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"),
    "utf-16-le-bom": lambda t: t.encode("utf-16"),  # little-endian with its mark, as Python writes
    "utf-16-be-bom": lambda t: b"\xfe\xff" + t.encode("utf-16-be"),
    "gb18030": lambda t: t.encode("gb18030"),
    "gbk": lambda t: t.encode("gbk"),
}


@pytest.mark.parametrize("encoding", sorted(TWINS))
def test_each_encoding_reads_as_the_utf8_twin_cell_by_cell(tmp_path, encoding):
    text = sample_text()
    (tmp_path / "utf8.csv").write_bytes(text.encode("utf-8"))
    (tmp_path / "twin.csv").write_bytes(TWINS[encoding](text))
    want = read_table(tmp_path / "utf8.csv")
    got = read_table(tmp_path / "twin.csv")
    assert got.n == want.n == 12
    assert list(got.data) == list(want.data)
    assert got.data == want.data
    assert got.data["store"][:3] == ["上海南京路店", "北京国贸店", "上海南京路店"]


def test_gb18030_with_chinese_headers_and_values(tmp_path):
    text = "期间,门店,收入\n2026-01,上海店,1200.50\n2026-02,北京店,980\n"
    (tmp_path / "gbk.csv").write_bytes(text.encode("gb18030"))
    cols = read_table(tmp_path / "gbk.csv")
    assert cols.data == {
        "期间": ["2026-01", "2026-02"],
        "门店": ["上海店", "北京店"],
        "收入": ["1200.50", "980"],
    }
    assert decode_text(text.encode("gb18030")) == (text, "gb18030")
    assert decode_text(text.encode("utf-16-be").join([b"\xfe\xff", b""])) == (text, "utf-16-be")


def test_latin1_is_refused_with_the_hint_in_english_and_chinese(tmp_path):
    (tmp_path / "latin1.csv").write_bytes("name,city\nGérard,Zürich\n".encode("latin-1"))
    with pytest.raises(InputError) as info:
        read_table(tmp_path / "latin1.csv")
    err = info.value
    assert err.code == "KPI-E003"
    assert "byte 0xE9 at line 2" in str(err)
    assert err.hint == HINT
    assert "File → Save As → CSV UTF-8" in HINT and "另存为 → CSV UTF-8(逗号分隔)" in HINT


@pytest.mark.parametrize(
    "raw",
    [
        "Müller".encode("latin-1"),  # decodes as GB18030 "M黮ler": a character outside GB2312
        "ßé Ünal".encode("cp1252"),  # two accented letters side by side: still not Chinese text
        b"\x81\x30",  # a GB18030 four-byte sequence cut short
        b"\xef\xbb\xbfok\xff",  # marked as UTF-8, then not UTF-8
        "上海".encode("gb18030") + b"\x01",  # Chinese, with a control character
    ],
    ids=["latin1-word", "cp1252-pair", "cut-gb18030", "bad-after-bom", "control-char"],
)
def test_bytes_that_are_not_text_here_are_refused(raw):
    with pytest.raises(InputError) as info:
        decode_text(raw, source="x.csv")
    assert info.value.code == "KPI-E003" and info.value.hint == HINT


def test_the_plausibility_rule():
    assert plausible_chinese("门店,收入\n上海,1\n")
    assert not plausible_chinese("abc\n")  # no Chinese character: never GB18030
    assert not plausible_chinese("M黮ler")  # 黮 is GBK, not GB2312
    assert plausible_chinese("门店堃,上海南京路店")  # one rare character of 8: 7/8 are GB2312
    assert not plausible_chinese("唛 躰al")  # "ßé Ünal" in Windows-1252: 1 of 2
    assert is_utf8([b"ab\xe4\xb8", b"\x8a\n"])  # 上 split across two pieces
    assert not is_utf8([b"\xef\xbb\xbfab"]) and not is_utf8([b"a\xe4"])
    assert not is_utf8([b"ab\xe4\xb8", b"ascii after a cut character"])
    assert is_utf8([b"plain", b"ascii"]) and not is_utf8([b"plain", b"caf\xe9"])


def _rows_of(text: str) -> list[list[object]]:
    """The CSV as an analyst's sheet: numbers typed as numbers, text as text."""
    rows: list[list[object]] = []
    for i, record in enumerate(csv.reader(io.StringIO(text))):
        if i == 0:
            rows.append(list(record))
            continue
        cells: list[object] = []
        for cell in record:
            try:
                number = float(cell)
            except ValueError:
                cells.append(cell)
            else:
                cells.append(int(number) if number.is_integer() else number)
        rows.append(cells)
    return rows


def test_an_xlsx_evaluates_as_its_csv_twin(tmp_path, compiled):
    text = sample_text()
    (tmp_path / "twin.csv").write_text(text, encoding="utf-8")
    rows = _rows_of(text)
    rows[3][2] = Formula("B2*0", float(rows[3][2]))  # a formula: its cached value is read
    rows += [[""] * len(rows[0])] * 3  # empty rows at the end are left out
    book = write_xlsx(tmp_path / "twin.xlsx", {"数据": [[*r, " "] for r in rows]})
    from python_calamine import CalamineWorkbook

    with CalamineWorkbook.from_path(str(book)) as wb:  # calamine sees them: 1 + 12 + 3 rows
        sheet = wb.get_sheet_by_name("数据")
        assert (sheet.height, sheet.width) == (16, len(rows[0]) + 1)
    csv_cols, xlsx_cols = read_table(tmp_path / "twin.csv"), read_table(book)
    assert xlsx_cols.n == csv_cols.n == 12 and list(xlsx_cols.data) == list(csv_cols.data)
    for name in csv_cols.data:
        if name in ("period", "store"):
            assert xlsx_cols.data[name] == csv_cols.data[name]
        else:  # numbers are numbers: the same floats as the CSV's text gives, cell by cell
            assert isinstance(xlsx_cols.data[name][0], int | float)
            np.testing.assert_array_equal(numeric(xlsx_cols, name), numeric(csv_cols, name))
    want = evaluate(compiled, csv_cols).to_json()
    got = evaluate(compiled, xlsx_cols).to_json()
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)
    assert got["rows"][0]["dims"] == {"store": "上海南京路店"}


def test_cells_keep_their_excel_types(tmp_path):
    book = write_xlsx(
        tmp_path / "t.xlsx",
        {
            "Sheet1": [
                ["period", "门店", "收入", "会员", "开业", None],
                [date(2026, 1, 5), 1001, 1200.5, True, datetime(2026, 1, 5, 9, 30), " "],
                [datetime(2026, 1, 6), "上海", 0.1, False, datetime(2026, 1, 6, 0, 0, 1), ""],
            ]
        },
    )
    cols = read_xlsx(book.read_bytes())
    assert cols.data == {  # the empty last column is left out
        "period": ["2026-01-05", "2026-01-06"],
        "门店": [1001, "上海"],
        "收入": [1200.5, 0.1],
        "会员": [True, False],
        "开业": ["2026-01-05 09:30:00", "2026-01-06 00:00:01"],
    }
    assert not cols.text_only
    text = read_xlsx(book.read_bytes(), text=True)
    assert text.data["门店"] == ["1001", "上海"] and text.data["会员"] == ["true", "false"]
    assert text.data["收入"] == ["1200.5", "0.1"] and text.text_only
    with pytest.raises(InputError) as info:  # a boolean where a number is needed
        numeric(cols, "会员")
    assert (info.value.code, info.value.row, info.value.column) == ("KPI-E017", 1, "会员")


def test_sheets_are_chosen_by_name_and_a_missing_one_lists_the_others(tmp_path):
    book = write_xlsx(
        tmp_path / "b.xlsx", {"说明": [["read me"]], "数据": [["period", "x"], ["2026-01", 5]]}
    )
    assert read_table(book).data == {"read me": []}  # the first sheet by default
    assert read_table(book, "数据").data == {"period": ["2026-01"], "x": [5]}
    assert read_table(f"{book}#数据").data == {"period": ["2026-01"], "x": [5]}
    assert split_sheet(f"{book}#数据") == (book, "数据")
    with pytest.raises(InputError) as info:
        read_table(book, "Sheet1")
    assert info.value.code == "KPI-E049"
    assert "has no sheet 'Sheet1'; its sheets: '说明', '数据'" in str(info.value)
    (tmp_path / "a.csv").write_text("period\n2026-01\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_table(tmp_path / "a.csv", "Sheet1")
    assert info.value.code == "KPI-E052"


def test_data_grain_reads_the_periods_as_evaluate_does(compiled):
    from engine.evaluate.evaluation import data_grain
    from engine.evaluate.table import read_csv_text

    assert data_grain(compiled, [{"期间": "2026年1月", "x": 1}]) == "month"  # a label header
    assert data_grain(compiled, read_csv_text("period\n2026/1/5\n")) == "day"
    with pytest.raises(InputError) as info:
        data_grain(compiled, [{"period": "2026-01"}, {"period": "2026-01-05"}])
    assert info.value.code == "KPI-E015"


def test_a_macro_enabled_workbook_is_refused_as_everywhere_else(tmp_path):
    # the upload page, its script and the HTTP API take .xlsx only: so does the reader
    book = write_xlsx(tmp_path / "b.xlsx", {"数据": [["period", "x"], ["2026-01", 5]]})
    xlsm = tmp_path / "b.xlsm"
    xlsm.write_bytes(book.read_bytes())
    with pytest.raises(InputError) as info:
        read_table(xlsm)
    assert info.value.code == "KPI-E002"
    assert str(info.value) == "cannot read 'b.xlsm': use a .csv, .json, .parquet or .xlsx file"
    assert info.value.hint == "save the workbook as .xlsx (Excel: File → Save As → Excel Workbook)"
    with pytest.raises(InputError) as info:
        read_table(xlsm, "数据")
    assert info.value.code == "KPI-E052"
    assert split_sheet(f"{xlsm}#数据") == (Path(f"{xlsm}#数据"), None)


def test_an_excel_error_value_is_refused_with_its_cell(tmp_path):
    book = write_xlsx(
        tmp_path / "e.xlsx",
        {"S": [["period", "收入"], ["2026-01", 5], ["2026-02", ErrorCell("#DIV/0!")]]},
    )
    with pytest.raises(InputError) as info:
        read_table(book)
    err = info.value
    assert (err.code, err.row, err.column) == ("KPI-E051", 2, "收入")
    assert "cell B3" in str(err)


def test_a_zip_bomb_is_refused_before_it_expands(tmp_path):
    book = write_xlsx(tmp_path / "ok.xlsx", {"S": [["a"], [1]]})
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        with out.open("xl/worksheets/sheet2.xml", "w") as fh:  # streamed: never in memory here
            block = b" " * (1024 * 1024)
            for _ in range(MAX_XML_BYTES // len(block) + 1):
                fh.write(block)
    assert bomb.stat().st_size < 2 * 1024 * 1024  # ~0.3 MB on disk, 256 MB inflated
    with pytest.raises(InputError) as info:
        read_table(bomb)
    assert info.value.code == "KPI-E050" and "refused before it is read" in str(info.value)


def test_a_lying_size_field_does_not_get_past(tmp_path):
    """A part whose zip header says it is small but inflates to more: Python's zip reader stops
    at the declared size and fails the CRC check, so the real size is what counts."""
    book = write_xlsx(tmp_path / "ok.xlsx", {"S": [["a"], [1]]})
    raw = bytearray(book.read_bytes())
    with zipfile.ZipFile(book) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    # the central directory's "uncompressed size" field of that part, set to 10 bytes
    at = raw.rfind(b"xl/worksheets/sheet1.xml") - 46 + 24
    raw[at : at + 4] = (10).to_bytes(4, "little")
    assert info.file_size > 10
    (tmp_path / "lie.xlsx").write_bytes(bytes(raw))
    with pytest.raises(InputError) as err:
        read_table(tmp_path / "lie.xlsx")
    assert err.value.code == "KPI-E048"


@pytest.mark.parametrize(
    "content", [b"not a zip", b"PK\x03\x04broken", b"\xd0\xcf\x11\xe0" + b"\x00" * 100]
)
def test_what_is_not_a_workbook_is_refused(tmp_path, content):
    (tmp_path / "x.xlsx").write_bytes(content)
    with pytest.raises(InputError) as info:
        read_table(tmp_path / "x.xlsx")
    assert info.value.code == "KPI-E048"
    assert "without a password" in (info.value.hint or "")


def test_rows_and_cells_are_capped_before_the_cells_are_read(tmp_path, monkeypatch):
    from engine.evaluate import workbook

    book = write_xlsx(tmp_path / "r.xlsx", {"S": [["period", "x"], ["2026-01", 1], ["2026-02", 2]]})
    assert read_xlsx(book.read_bytes(), max_rows=2).n == 2
    with pytest.raises(InputError) as info:
        read_xlsx(book.read_bytes(), max_rows=1)
    assert (info.value.code, info.value.kind) == ("KPI-E009", "too_many_rows")
    assert "has 2 rows below its header" in str(info.value)
    monkeypatch.setattr(workbook, "MAX_CELLS", 5)
    with pytest.raises(InputError) as info:
        read_xlsx(book.read_bytes())
    assert info.value.code == "KPI-E050" and "3 rows × 2 columns = 6 cells" in str(info.value)
