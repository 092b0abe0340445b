"""Input rows given with the records (``kpi run --data``): joined with the measured inputs on the
period and the dimensions as an evaluation reads them (workbook number cells, export-style
periods), and checked before the join so that errors name the data's own rows and headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from engine.compile.pack import CompiledPack, compile_pack
from engine.core.errors import InputError
from engine.evaluate.measures.run import merge_inputs
from engine.evaluate.records import evaluate_records
from engine.evaluate.table import Columns, read_table

#: two members register in January (M001, M002) and one in February (M003) at store 101
LEDGER = """event_time,store_id,member_id,kind,amount,net,gift,points
2026-01-03 09:12:00,101,M001,register,0,0,0,0
2026-01-05 10:00:00,101,M002,register,0,0,0,0
2026-01-06 09:15:00,101,M001,recharge,1100,1000,100,0
2026-02-10 18:02:00,101,M003,register,0,0,0,0
2026-02-28 18:02:00,101,M001,consume,230,209,21,0
"""


@pytest.fixture(scope="module")
def bakery() -> CompiledPack:
    return compile_pack("bakery-stored-value")


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "pos.csv"
    path.write_text(LEDGER, encoding="utf-8")
    return path


def _cac(bakery: CompiledPack, ledger: Path, data: Columns) -> dict[tuple[str, str], float]:
    result = evaluate_records(bakery, {"card_events": ledger}, data=data, metrics=["cac"])
    periods, dims = result.row_keys()
    values = result.values("cac")
    return {(p, dims["store"][k]): float(values[k]) for k, p in enumerate(periods)}


def _workbook(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_numeric_store_ids_from_a_workbook_join_the_records(
    bakery: CompiledPack, ledger: Path, tmp_path: Path
) -> None:
    book = _workbook(
        tmp_path / "d.xlsx",
        [["period", "store", "marketing_spend"], ["2026-01", 101, 500], ["2026-02", 101, 600]],
    )
    data = read_table(book)
    assert data.data["store"] == [101.0, 101.0]  # as a workbook's number cells arrive
    # cac = marketing_spend / new_members: 500 / 2 in January, 600 / 1 in February
    assert _cac(bakery, ledger, data) == {("2026-01", "101"): 250.0, ("2026-02", "101"): 600.0}


@pytest.mark.parametrize(
    "periods",
    [["2026/1", "2026/2"], ["2026年1月", "2026年2月"], ["2026-01", "2026-02"]],
    ids=["slash", "chinese", "iso"],
)
def test_export_style_periods_join_as_kpi_eval_reads_them(
    bakery: CompiledPack, ledger: Path, periods: list[str]
) -> None:
    data = Columns(
        2, {"period": periods, "store": ["101", "101"], "marketing_spend": ["500", "600"]}, True
    )
    assert _cac(bakery, ledger, data) == {("2026-01", "101"): 250.0, ("2026-02", "101"): 600.0}


def test_merged_keys_are_the_evaluation_s_text(bakery: CompiledPack) -> None:
    measured = {"period": ["2026-01"], "store": ["101"], "new_members": [2]}
    data = Columns(1, {"period": ["2026/1"], "store": [101.0], "marketing_spend": [500.0]})
    merged = merge_inputs(bakery, measured, data)
    assert merged == {
        "period": ["2026-01"],
        "store": ["101"],
        "new_members": [2],
        "marketing_spend": [500.0],
    }


def test_a_bad_cell_is_named_by_the_data_s_row_and_header(
    bakery: CompiledPack, ledger: Path, tmp_path: Path
) -> None:
    plain = tmp_path / "d8.csv"
    plain.write_text("period,store,marketing_spend\n2026-02,101,abc\n2026-01,101,500\n", "utf-8")
    with pytest.raises(InputError) as err:
        _cac(bakery, ledger, read_table(plain))
    assert (err.value.code, err.value.row, err.value.column) == ("KPI-E017", 1, "marketing_spend")
    labelled = tmp_path / "d7.csv"
    labelled.write_text("期间,门店,营销和销售支出\n2026-01,101,500\n2026-02,101,abc\n", "utf-8")
    with pytest.raises(InputError) as err:
        _cac(bakery, ledger, read_table(labelled))
    assert (err.value.code, err.value.row, err.value.column) == ("KPI-E017", 2, "营销和销售支出")


def test_a_bad_period_names_its_row_and_column(bakery: CompiledPack, ledger: Path) -> None:
    data = Columns(
        2, {"period": ["2026-01", "2026-13"], "store": ["101"] * 2, "marketing_spend": ["1"] * 2}
    )
    with pytest.raises(InputError) as err:
        merge_inputs(bakery, {"period": ["2026-01"], "store": ["101"], "new_members": [2]}, data)
    assert (err.value.code, err.value.row, err.value.column) == ("KPI-E014", 2, "period")


def test_a_data_row_given_twice_is_refused_not_overwritten(
    bakery: CompiledPack, ledger: Path
) -> None:
    # the same store once as text and once as a workbook number: one member, twice
    data = Columns(
        2, {"period": ["2026-01", "2026/1"], "store": ["101", 101.0], "marketing_spend": [5, 7]}
    )
    with pytest.raises(InputError) as err:
        _cac(bakery, ledger, data)
    assert (err.value.code, err.value.row) == ("KPI-E020", 2)
    assert "duplicate row for (2026-01, 101): the same key is on data row 1" in str(err.value)
    once = Columns(1, {"period": ["2026-01"], "store": ["101"], "marketing_spend": [5]})
    assert _cac(bakery, ledger, once)[("2026-01", "101")] == 2.5
