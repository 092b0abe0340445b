"""Number cells are written with the digits 0-9.

Python's ``float`` reads ``"١٢٣"`` (Arabic-Indic), ``"１２３"`` (full-width) and the digits of
every other script as 123, and NumPy's string-to-float cast does the same: such a cell would be
read as a number without a word. Input rows (CSV and JSON), raw records of a source and param
overrides refuse them, naming the row, the column and the digit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.compile.pack import CompiledPack, check_text
from engine.core.errors import InputError
from engine.evaluate.evaluation import evaluate
from engine.evaluate.measures import run_measures
from engine.evaluate.table import numeric, read_csv_text, to_columns
from engine.load.library import PackLibrary

PACK = """pack: cells
version: '1.0.0'
title: T
dimensions: {store: {label: Store}}
params: {factor: {value: 2}}
inputs: {sales: {label: Sales}, cost: {label: Cost}}
metrics: {margin: {label: Margin, formula: (sales - cost) * factor}}
"""
FOREIGN = {
    "arabic-indic": ("١٢٣", "'١' (U+0661 ARABIC-INDIC DIGIT ONE)"),
    "full-width": ("１２３", "'１' (U+FF11 FULLWIDTH DIGIT ONE)"),
    "persian": ("۱۲۳", "'۱' (U+06F1 EXTENDED ARABIC-INDIC DIGIT ONE)"),
    "devanagari": ("१२३", "'१' (U+0967 DEVANAGARI DIGIT ONE)"),
    "mixed": ("1２3", "'２' (U+FF12 FULLWIDTH DIGIT TWO)"),
    "decimal": ("12.٥", "'٥' (U+0665 ARABIC-INDIC DIGIT FIVE)"),
}


def compiled() -> CompiledPack:
    c, problems = check_text(PACK, library=PackLibrary([]))
    assert c is not None, [p.render_short() for p in problems]
    return c


def test_python_really_reads_these_digits_as_numbers() -> None:
    # the hazard itself: without the check these cells would be 123
    assert float("١٢٣") == float("１２３") == float("१२३") == 123.0


@pytest.mark.parametrize(("cell", "digit"), FOREIGN.values(), ids=FOREIGN)
def test_a_csv_cell_with_other_digits_is_refused(cell: str, digit: str) -> None:
    rows = read_csv_text(f"period,store,sales,cost\n2026-01,S1,10,4\n2026-02,S1,{cell},4\n")
    with pytest.raises(InputError) as err:
        evaluate(compiled(), rows)
    assert err.value.to_json() == {
        "code": "KPI-E019",
        "row": 2,
        "column": "sales",
        "hint": "write digits 0-9",
        "reason": f"'{cell}' is not a number: {digit} is not one of the digits 0-9",
    }


@pytest.mark.parametrize(("cell", "digit"), FOREIGN.values(), ids=FOREIGN)
def test_a_json_string_with_other_digits_is_refused(cell: str, digit: str) -> None:
    rows = [
        {"period": "2026-01", "store": "S1", "sales": 10, "cost": 4},
        {"period": "2026-02", "store": "S1", "sales": 10, "cost": cell},
    ]
    with pytest.raises(InputError) as err:
        evaluate(compiled(), rows)
    assert (err.value.row, err.value.column, err.value.hint) == (2, "cost", "write digits 0-9")
    assert err.value.reason == f"'{cell}' is not a number: {digit} is not one of the digits 0-9"


def test_the_first_offending_row_is_named_among_many() -> None:
    cells = ["1"] * 1000 + ["  ٣  "] + ["2"] * 10
    column = read_csv_text("a\n" + "\n".join(cells) + "\n")
    with pytest.raises(InputError) as err:
        numeric(column, "a")
    assert (err.value.row, err.value.column) == (1001, "a")
    with pytest.raises(InputError) as err:
        numeric(to_columns({"a": cells}), "a")
    assert (err.value.row, err.value.column) == (1001, "a")


def test_ascii_numbers_and_non_ascii_text_elsewhere_still_work() -> None:
    rows = read_csv_text(
        'period,store,sales,cost\n2026-01,门店一," 12 ",-3.5\n2026-02,门店一,1e1,0\n'
    )
    body = evaluate(compiled(), rows).to_json()
    assert [(r["period"], r["dims"], r["values"]["margin"]) for r in body["rows"]] == [
        ("2026-01", {"store": "门店一"}, 31.0),  # (12 - -3.5) * 2
        ("2026-02", {"store": "门店一"}, 20.0),  # (10 - 0) * 2
    ]


def test_a_param_override_with_other_digits_is_refused() -> None:
    rows = [{"period": "2026-01", "store": "S1", "sales": 10, "cost": 4}]
    assert (
        evaluate(compiled(), rows, params={"factor": "3"}).to_json()["rows"][0]["values"]["margin"]
        == 18.0
    )
    with pytest.raises(InputError, match=r"param 'factor' must be a number, not '３'") as err:
        evaluate(compiled(), rows, params={"factor": "３"})
    assert err.value.hint == "write digits 0-9"


SOURCE_PACK = """pack: edge
version: '1.0.0'
title: T
dimensions: {store: {label: Store}}
sources:
  ev:
    label: Events
    time: t
    dimensions: {store: s}
    columns: {amount: {type: number}}
inputs:
  x: {label: X, measure: {source: ev, agg: sum, of: amount}}
metrics:
  shown: {label: Shown, formula: x}
"""


@pytest.mark.parametrize(("cell", "digit"), FOREIGN.values(), ids=FOREIGN)
def test_a_source_record_with_other_digits_is_refused(
    tmp_path: Path, cell: str, digit: str
) -> None:
    c, problems = check_text(SOURCE_PACK, library=PackLibrary([]))
    assert c is not None, [p.render_short() for p in problems]
    path = tmp_path / "ev.csv"
    path.write_text(
        f"t,s,amount\n2025-01-05,S1,2\n2025-01-06,S1,{cell}\n2025-01-07,S1,3\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as err:
        run_measures(c, {"ev": path})
    assert str(err.value) == (
        f"source 'ev' (ev.csv), column 'amount': 1 row with a number written with digits "
        f"other than 0-9 — row 2: '{cell}'"
    )
    assert (err.value.row, err.value.column, err.value.hint) == (2, "amount", "write digits 0-9")
    path.write_text("t,s,amount\n2025-01-05,S1,2\n2025-01-06,S1,3.5\n", encoding="utf-8")
    assert run_measures(c, {"ev": path})["x"] == [5.5]
