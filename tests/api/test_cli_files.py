"""`kpi eval --inputs` and `kpi run --data` over the files an analyst has (issue 14): a GB18030
CSV and a sheet of an .xlsx print exactly what the UTF-8 CSV prints; a Latin-1 file is refused
with the code and the hint to re-save it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from tests.xlsx_writer import write_xlsx

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = (ROOT / "metrics" / "bakery-stored-value" / "examples" / "sample.csv").read_text("utf-8")
TEXT = SAMPLE.replace(",S01,", ",上海南京路店,").replace(",S02,", ",北京国贸店,")


def _eval(*args: str) -> str:
    result = CliRunner().invoke(
        app, ["eval", "bakery-stored-value", "--grain", "quarter", "-f", "csv", *args]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def _book(path: Path) -> Path:
    rows: list[list[object]] = []
    for i, record in enumerate(csv.reader(io.StringIO(TEXT))):
        rows.append(record if i == 0 else [*record[:2], *(float(c) for c in record[2:])])
    return write_xlsx(path, {"说明": [["备注"], ["见月报"]], "月报": rows})


def test_kpi_eval_reads_gb18030_and_a_sheet_as_the_utf8_csv(tmp_path: Path):
    (tmp_path / "utf8.csv").write_text(TEXT, encoding="utf-8")
    (tmp_path / "gbk.csv").write_bytes(TEXT.encode("gb18030"))
    book = _book(tmp_path / "月报.xlsx")
    want = _eval("--inputs", str(tmp_path / "utf8.csv"))
    assert "上海南京路店" in want and want.startswith("period,")
    assert _eval("--inputs", str(tmp_path / "gbk.csv")) == want
    assert _eval("--inputs", str(book), "--sheet", "月报") == want
    assert _eval("--inputs", f"{book}#月报") == want
    wrong = CliRunner().invoke(app, ["eval", "bakery-stored-value", "--inputs", str(book)])
    assert wrong.exit_code == 2 and "error KPI-E013" in wrong.output  # the first sheet: 说明


def test_kpi_eval_refuses_latin1_with_the_hint(tmp_path: Path):
    (tmp_path / "latin1.csv").write_bytes("period,store\n2026-01,Zürich\n".encode("latin-1"))
    result = CliRunner().invoke(
        app, ["eval", "bakery-stored-value", "--inputs", str(tmp_path / "latin1.csv")]
    )
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0].startswith("error KPI-E003: ") and "byte 0xFC at line 2" in lines[0]
    assert lines[1] == (
        "  hint: save it as UTF-8: in Excel, File → Save As → CSV UTF-8 (Comma delimited) (*.csv)"
        " / 在 Excel 中选择 文件 → 另存为 → CSV UTF-8(逗号分隔)(*.csv)"
    )


def test_kpi_run_data_from_a_sheet(tmp_path: Path):
    """Rows for the inputs without a measure (marketing spend) may come from an .xlsx sheet."""
    from engine.demo.bakery import bakery_ledger, write_ledger

    write_ledger(bakery_ledger(stores=2, months=1, members=30, seed=2), tmp_path)
    rows = [
        ["period", "store", "marketing_spend"],
        ["2025-01", "S01", 1200],
        ["2025-01", "S02", 0.5],
    ]
    (tmp_path / "spend.csv").write_text(
        "".join(",".join(map(str, r)) + "\n" for r in rows), encoding="utf-8"
    )
    book = write_xlsx(tmp_path / "spend.xlsx", {"空": [["x"], [1]], "营销": rows})
    args = ["run", "bakery-stored-value", "--source", f"card_events={tmp_path / 'card_events.csv'}"]
    args += ["--metrics", "marketing_spend,cac", "-f", "csv"]
    want = CliRunner().invoke(app, [*args, "--data", str(tmp_path / "spend.csv")])
    got = CliRunner().invoke(app, [*args, "--data", str(book), "--sheet", "营销"])
    assert want.exit_code == 0, want.output
    assert got.exit_code == 0, got.output
    assert got.stdout == want.stdout
    lines = want.stdout.splitlines()
    assert lines[1].startswith("2025-01,S01,1200") and lines[2].startswith("2025-01,S02,0.5")
