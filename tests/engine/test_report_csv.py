"""CSV for spreadsheets: text that a spreadsheet would run as a formula is written with a
leading ``'`` (OWASP, "CSV injection"); numbers are never altered."""

from __future__ import annotations

import csv
import io

import pytest

from engine.compile.pack import check_text
from engine.evaluate.evaluation import evaluate
from engine.load.library import PackLibrary
from engine.render.report import render_csv, spreadsheet_safe, write_csv


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1", "'+1"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ],
)
def test_text_that_a_spreadsheet_would_run_gets_a_quote(cell: str, written: str) -> None:
    assert spreadsheet_safe(cell) == written


@pytest.mark.parametrize("cell", ["S1", "门店 = 一", "a=b", "2026-01", "", " =1", "'=1", "true"])
def test_other_text_is_unchanged(cell: str) -> None:
    assert spreadsheet_safe(cell) == cell


@pytest.mark.parametrize("number", [-3.5, -1, 0, 2.5, -1e-05, 10**20])
def test_numbers_are_never_altered(number: float) -> None:
    assert spreadsheet_safe(number) is number
    assert write_csv([[number]]) == repr(number)


def test_write_csv_escapes_every_text_cell_and_quotes_as_csv_does() -> None:
    text = write_csv([["store", "value"], ['=HYPERLINK("http://x","y")', -3.5], ["@SUM(A1)", 2.0]])
    assert text == 'store,value\n"\'=HYPERLINK(""http://x"",""y"")",-3.5\n\'@SUM(A1),2.0'
    assert list(csv.reader(io.StringIO(text))) == [
        ["store", "value"],
        ['\'=HYPERLINK("http://x","y")', "-3.5"],
        ["'@SUM(A1)", "2.0"],
    ]


def test_an_evaluation_as_csv_escapes_dimension_values_but_not_negative_numbers() -> None:
    c, problems = check_text(
        "pack: inj\nversion: '1.0.0'\ntitle: T\ndimensions: {store: {label: Store}}\n"
        "inputs: {sales: {label: Sales}, cost: {label: Cost}}\n"
        "metrics: {margin: {label: Margin, formula: sales - cost}}\n",
        library=PackLibrary([]),
    )
    assert c is not None, [p.render_short() for p in problems]
    stores = ['=HYPERLINK("http://x","y")', "+1", "-x", "@SUM(A1)", "plain"]
    rows = [{"period": "2026-01", "store": s, "sales": 1.0, "cost": 4.5} for s in stores]
    body = evaluate(c, rows).to_json()
    got = list(csv.reader(io.StringIO(render_csv(body, c.pack))))
    assert got[0] == ["period", "store", "margin", "partial"]
    assert sorted(got[1:]) == sorted(
        [
            ["2026-01", '\'=HYPERLINK("http://x","y")', "-3.5", "false"],  # 1.0 - 4.5
            ["2026-01", "'+1", "-3.5", "false"],
            ["2026-01", "'-x", "-3.5", "false"],
            ["2026-01", "'@SUM(A1)", "-3.5", "false"],
            ["2026-01", "plain", "-3.5", "false"],
        ]
    )
