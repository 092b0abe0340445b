"""kpi eval / kpi run --format xlsx --out, --out for the text formats, and kpi template: the
template of a pack, filled with its example row, evaluates with kpi eval as it is."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()
BAKERY = "bakery-stored-value"
DATA = Path(__file__).resolve().parents[2] / "metrics" / BAKERY / "examples" / "stores-24m.csv"


def run(*args: str):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1"})


def test_eval_writes_the_workbook_of_the_same_evaluation(tmp_path: Path):
    out = tmp_path / "report.xlsx"
    result = run(
        "eval", BAKERY, "-i", str(DATA), "--grain", "quarter", "-f", "xlsx", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    body = json.loads(run("eval", BAKERY, "-i", str(DATA), "--grain", "quarter").output)
    ws = openpyxl.load_workbook(out, data_only=True)["全部数值"]  # the pack's first locale
    ids = {c.value: c.column for c in ws[2] if c.value}
    assert ws.max_row - 2 == len(body["rows"]) == 40  # 8 quarters x 5 stores
    for i, row in enumerate(body["rows"]):
        assert (ws.cell(i + 3, 1).value, ws.cell(i + 3, 2).value) == (
            row["period"],
            row["dims"]["store"],
        )
        for metric, value in row["values"].items():
            assert ws.cell(i + 3, ids[metric]).value == value


def test_xlsx_needs_out_and_text_formats_can_go_to_a_file(tmp_path: Path):
    result = run("eval", BAKERY, "-i", str(DATA), "-f", "xlsx")
    assert result.exit_code == 2
    assert "--format xlsx writes a workbook: give the file to write with --out" in result.output
    assert run("eval", BAKERY, "-i", str(DATA), "-f", "pdf").exit_code == 2
    out = tmp_path / "r.csv"
    assert (
        run("eval", BAKERY, "-i", str(DATA), "-f", "csv", "--by", "", "-o", str(out)).exit_code == 0
    )
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert rows[0][0] == "period" and len(rows) == 1 + 24


def test_the_template_filled_with_its_example_row_evaluates(tmp_path: Path):
    out = tmp_path / "template.csv"
    result = run("template", BAKERY, "-o", str(out))
    assert result.exit_code == 0, result.output
    header, example = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert header[:3] == ["period", "store", "marketing_spend"] and len(header) == 70
    assert example[:3] == ["2026-01", "store_1", "1.0"]
    assert "recharge_amount" in header and "consume_amount" in header
    evaluated = run("eval", BAKERY, "-i", str(out))
    assert evaluated.exit_code == 0, evaluated.output
    body = json.loads(evaluated.output)
    assert [(r["period"], r["dims"]) for r in body["rows"]] == [("2026-01", {"store": "store_1"})]
    # every input 1.0: net_income / recharge_amount and the like are 1
    assert body["rows"][0]["values"]["active_member_ratio"] == 1.0
    stdout = run("template", BAKERY)
    assert stdout.output.splitlines()[0] == ",".join(header)


def test_the_source_template_is_read_by_kpi_run(tmp_path: Path):
    out = tmp_path / "card_events.csv"
    assert run("template", BAKERY, "--source", "card_events", "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8-sig").splitlines() == [
        "event_time,store_id,member_id,kind,amount,net,gift,points",
        "2026-01-15,store_1,member_id_1,register,1.0,1.0,1.0,1.0",
    ]
    result = run("run", BAKERY, "--source", f"card_events={out}", "--metrics", "total_members")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output[result.output.index("{") :])["rows"]
    assert [(r["period"], r["values"]["total_members"]) for r in rows] == [("2026-01", 1.0)]
    wrong = run("template", BAKERY, "--source", "nope")
    assert wrong.exit_code == 2
    assert "error KPI-E060: pack 'bakery-stored-value' has no source 'nope'" in wrong.output
    assert "hint: the pack's sources: orders, card_events" in wrong.output


def test_the_xlsx_template_has_a_notes_sheet_in_the_chosen_language(tmp_path: Path):
    out = tmp_path / "t.xlsx"
    assert run("template", BAKERY, "-f", "xlsx", "--locale", "en", "-o", str(out)).exit_code == 0
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Data", "Notes"]
    data, notes = book["Data"], book["Notes"]
    assert [c.value for c in data[1]][:3] == ["period", "store", "marketing_spend"]
    assert [c.value for c in data[2]][:3] == ["2026-01", "store_1", 1.0]
    assert data["A3"].number_format == "@"  # periods stay text: 2026-01 is not made a date
    notes_rows = {r[0]: r for r in notes.iter_rows(min_row=2, values_only=True)}
    assert [c.value for c in notes[1]] == [
        *("Column", "Label", "Kind", "Unit", "Needed", "Description", "Note")
    ]
    recharge = notes_rows["recharge_amount"]
    assert recharge[1:5] == ("Recharge amount", "input", "CNY", "yes")
    assert recharge[6].startswith("kpi run computes it from the records of source 'card_events'")
    assert notes_rows["returning_members"][4] == "optional"
    assert run("template", BAKERY, "-f", "xlsx").exit_code == 2  # a workbook needs --out


def test_run_writes_the_workbook_of_the_records(tmp_path: Path):
    ledger = tmp_path / "card_events.csv"
    ledger.write_text(
        "event_time,store_id,member_id,kind,amount,net,gift,points\n"
        "2026-01-02,S1,M1,register,0,0,0,0\n"
        "2026-01-03,S1,M1,recharge,120,100,20,0\n"
        "2026-01-05,S1,M1,consume,60,50,10,0\n",
        encoding="utf-8",
    )
    out = tmp_path / "run.xlsx"
    args = ("run", BAKERY, "--source", f"card_events={ledger}", "--locale", "en")
    result = run(*args, "--metrics", "recharge_amount,gift_share", "-f", "xlsx", "-o", str(out))
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out)
    ws = book["All values"]
    # as_of is the last record's day (2026-01-05): January is not over, a column says so
    assert [c.value for c in ws[1]][:3] == ["Period", "Store", "Partial"]
    assert [c.value for c in ws[2]] == [
        *(None, "store", None, "recharge_amount", "net_income", "gift_income", "gift_share")
    ]
    assert [c.value for c in ws[3]] == [
        *("2026-01", "S1", "yes", 120.0, 100.0, 20.0, '=IFERROR(F3/E3,"")')
    ]
    cached = openpyxl.load_workbook(out, data_only=True)["All values"]
    assert cached["G3"].value == 0.2 and ws["G3"].number_format == "0.0%"


def test_the_xlsx_template_filled_in_evaluates_as_it_is(tmp_path: Path):
    out = tmp_path / "t.xlsx"
    assert run("template", BAKERY, "-f", "xlsx", "-o", str(out)).exit_code == 0
    as_is = run("eval", BAKERY, "-i", str(out), "--metrics", "active_member_ratio")
    assert as_is.exit_code == 0, as_is.output
    assert [r["values"] for r in json.loads(as_is.output)["rows"]] == [{"active_member_ratio": 1.0}]
    # an analyst adds a store below the example, as Excel stores what is typed: numbers as numbers
    book = openpyxl.load_workbook(out)
    data = book.worksheets[0]
    ids = [c.value for c in data[1]]
    row = {"period": "2026-01", "store": "S02", "active_members": 30, "total_members": 120}
    for col, ident in enumerate(ids, 1):
        data.cell(3, col, row.get(ident, 1))
    book.save(out)
    filled = run("eval", BAKERY, "-i", str(out), "--metrics", "active_member_ratio")
    assert filled.exit_code == 0, filled.output
    rows = json.loads(filled.output)["rows"]
    assert [(r["dims"]["store"], r["values"]["active_member_ratio"]) for r in rows] == [
        ("S02", 30 / 120),
        ("store_1", 1.0),
    ]


def test_a_file_that_is_not_a_workbook_is_a_coded_error(tmp_path: Path):
    bad = tmp_path / "rows.xlsx"
    bad.write_bytes(b"period,store\n2026-01,S1\n")
    result = run("eval", BAKERY, "-i", str(bad))
    assert result.exit_code == 2
    assert (
        "error KPI-E048: " in result.output and "is not a readable .xlsx workbook" in result.output
    )


def test_a_workbook_that_unpacks_to_too_much_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from engine.evaluate import workbook

    out = tmp_path / "t.xlsx"
    assert run("template", BAKERY, "-f", "xlsx", "-o", str(out)).exit_code == 0
    monkeypatch.setattr(workbook, "MAX_XML_BYTES", 10_000)  # 256 MB, made small
    result = run("eval", BAKERY, "-i", str(out))
    assert result.exit_code == 2
    assert "error KPI-E050: " in result.output and "is refused before it is read" in result.output


def test_csv_output_escapes_a_member_that_a_spreadsheet_would_run(tmp_path: Path):
    data = tmp_path / "rows.csv"
    data.write_text(
        'period,store,marketing_spend,new_members\n2026-01,"=HYPERLINK(""http://x"",""y"")",-50,5\n',
        encoding="utf-8",
    )
    result = run("eval", "membership-core", "-i", str(data), "--metrics", "cac", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert list(csv.reader(result.output.splitlines())) == [
        ["period", "store", "cac", "partial"],
        ["2026-01", '\'=HYPERLINK("http://x","y")', "-10.0", "false"],  # -50 / 5 stays a number
    ]
    out = tmp_path / "r.xlsx"
    args = ("eval", "membership-core", "-i", str(data), "--metrics", "cac", "--locale", "en")
    assert run(*args, "-f", "xlsx", "-o", str(out)).exit_code == 0
    cell = openpyxl.load_workbook(out)["All values"]["B3"]
    assert (cell.value, cell.data_type) == (
        '=HYPERLINK("http://x","y")',
        "s",
    )  # text, not a formula


LEDGER_DEMO = Path(__file__).resolve().parents[1] / "packs" / "measures" / "ledger-demo"


def test_a_source_template_has_the_columns_its_measures_read(tmp_path: Path):
    """ledger-demo declares no columns: its measures read amount, kind and gift."""
    out = tmp_path / "t.csv"
    args = ("template", str(LEDGER_DEMO), "--source", "card_events", "-o", str(out))
    assert run(*args).exit_code == 0
    assert out.read_text(encoding="utf-8-sig").splitlines() == [
        "event_time,store_id,member_id,amount,kind,gift",
        "2026-01-15,store_1,member_id_1,1.0,x,1.0",
    ]
    result = run("run", str(LEDGER_DEMO), "--source", f"card_events={out}", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-2:] == [
        "period,store,recharge_per_visit,gift_share_of_recharge,newcomers,partial",
        "2026-01,store_1,,,0.0,true",
    ]
    # headed as the source's headers map them (they map declared columns only: KPI-R023)
    pack = tmp_path / "pos"
    pack.mkdir()
    text = (LEDGER_DEMO / "pack.yaml").read_text(encoding="utf-8")
    text = text.replace("pack: ledger-demo", "pack: ledger-pos").replace(
        "    entity: member_id\n",
        "    entity: member_id\n    headers: {member_id: 会员编号}\n",
    )
    (pack / "pack.yaml").write_text(text, encoding="utf-8")
    book = tmp_path / "t.xlsx"
    assert run(
        "template", str(pack), "--source", "card_events", "-f", "xlsx", "--locale", "zh",
        "-o", str(book),
    ).exit_code == 0  # fmt: skip
    sheets = openpyxl.load_workbook(book)
    data, notes = sheets.worksheets
    assert [c.value for c in data[1]] == [
        *("event_time", "store_id", "会员编号", "amount", "kind", "gift")
    ]
    assert [c.value for c in data[2]] == ["2026-01-15", "store_1", "member_id_1", 1.0, "x", 1.0]
    amount = next(r for r in notes.iter_rows(min_row=2, values_only=True) if r[0] == "amount")
    assert (amount[4], amount[6]) == ("是", "指标计算要用到此列(数据源未声明)")
    result = run("run", str(pack), "--source", f"card_events={book}", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "2026-01,store_1,,,0.0,true"
