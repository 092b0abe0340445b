"""Input rows as POS and spreadsheet exports write them (issue 14): columns headed by the pack's
labels, number cells with thousands separators, currency signs, parentheses and percents,
periods written 2026/1 or 2026年1月 — each read to its value, and each ambiguous form refused
with its row and column."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.compile.pack import CompiledPack, check_text, compile_pack
from engine.core.errors import InputError
from engine.evaluate.cells import export_number, export_period
from engine.evaluate.evaluation import evaluate
from engine.evaluate.headers import header_key
from engine.evaluate.table import read_csv_text, read_table

SAMPLE = Path(__file__).resolve().parents[2] / "metrics" / "bakery-stored-value" / "examples"

SMALL = """\
pack: tt
version: '1.0.0'
title: T
grain: month
dimensions: {store: {label: {zh: 门店, en: Store}}}
inputs:
  amount: {label: {zh: 金额, en: Amount}, unit: CNY}
  count: {label: {zh: 人次, en: Visits}, unit: count}
  share: {label: {zh: 占比, en: Share}, unit: ratio}
metrics:
  per_visit: {label: {zh: 客单价, en: Per visit}, formula: amount / count}
  share_pct: {label: {zh: 占比值, en: Share value}, formula: share}
"""


@pytest.fixture(scope="module")
def small() -> CompiledPack:
    c, problems = check_text(SMALL)
    assert c is not None, [p.render_short() for p in problems]
    return c


@pytest.fixture(scope="module")
def bakery() -> CompiledPack:
    return compile_pack("bakery-stored-value")


def _csv(*lines: str) -> Any:
    return read_csv_text("\n".join(lines) + "\n")


# -- headers ---------------------------------------------------------------------------------


def _relabel(bakery: CompiledPack, locale: str, every_other: bool = False) -> str:
    """The bakery sample with its header written as the pack's labels in ``locale``."""
    text = (SAMPLE / "sample.csv").read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    pack = bakery.pack
    names = []
    for k, h in enumerate(header.split(",")):
        if every_other and k % 2:
            names.append(h)
        elif h == "period":
            names.append({"zh": "期间", "en": "Period"}[locale])
        elif h in pack.dimensions:
            names.append(pack.dimensions[h].label.get(locale))
        else:
            names.append(pack.inputs[h].label.get(locale))
    return ",".join(names) + "\n" + rest


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_rows_headed_by_labels_give_the_values_of_rows_headed_by_ids(
    bakery: CompiledPack, locale: str
) -> None:
    by_id = evaluate(bakery, read_table(SAMPLE / "sample.csv")).to_json()
    labelled = evaluate(bakery, read_csv_text(_relabel(bakery, locale))).to_json()
    assert labelled["rows"] == by_id["rows"]  # cell by cell: periods, stores, every value
    assert len(by_id["rows"]) == 12 and len(by_id["rows"][0]["values"]) > 30
    note = labelled["warnings"][0]
    assert note["code"] == "KPI-W011"
    want = {"zh": ("充值金额", "期间", "门店"), "en": ("Recharge amount", "Period", "Store")}
    amount, period, store = want[locale]
    assert note["columns"][amount] == "recharge_amount"
    assert note["columns"][period] == "period" and note["columns"][store] == "store"
    assert [w for w in by_id["warnings"] if w["code"] == "KPI-W011"] == []


def test_ids_and_labels_of_both_locales_mixed(bakery: CompiledPack) -> None:
    by_id = evaluate(bakery, read_table(SAMPLE / "sample.csv")).to_json()
    mixed = _relabel(bakery, "en", every_other=True).replace("recharge_amount", "充值金额", 1)
    assert "充值金额" in mixed.split("\n")[0] and "recharge_amount" not in mixed.split("\n")[0]
    assert evaluate(bakery, read_csv_text(mixed)).to_json()["rows"] == by_id["rows"]


def test_labels_match_after_nfkc_trimming_and_case_folding(small: CompiledPack) -> None:
    rows = [
        {"月份": "2026-01", " STORE ": "A", "ＡＭＯＵＮＴ": 300, "visits": 3},
        {"月份": "2026-02", " STORE ": "A", "ＡＭＯＵＮＴ": 500, "visits": 4},
    ]
    e = evaluate(small, rows)
    assert e.values("per_visit").tolist() == [100.0, 125.0]
    assert e.to_json()["rows"][0]["dims"] == {"store": "A"}


@pytest.mark.parametrize("pack", ["bakery-stored-value", "membership-core"])
def test_no_two_inputs_or_dimensions_of_a_built_in_pack_share_a_label(pack: str) -> None:
    p = compile_pack(pack).pack
    seen: dict[str, str] = {}
    for ident, d in [*p.inputs.items(), *p.dimensions.items()]:
        for _, text in d.label.items:
            key = header_key(text)
            assert seen.setdefault(key, ident) == ident, (text, seen[key], ident)
    assert len(seen) > 2 * len(p.inputs) - 5  # zh and en labels, nearly all distinct


def test_a_header_shared_by_two_inputs_is_refused_naming_both() -> None:
    text = SMALL.replace("share: {label: {zh: 占比, en: Share}", "share: {label: {zh: 人次, en: S}")
    c, _ = check_text(text)
    assert c is not None
    with pytest.raises(InputError) as info:
        evaluate(c, [{"period": "2026-01", "人次": 1, "amount": 2}])
    err = info.value
    assert err.code == "KPI-E053" and err.column == "人次"
    assert "'count' (the zh label of input 'count')" in err.reason
    assert "'share' (the zh label of input 'share')" in err.reason


def test_a_header_that_is_one_id_and_another_label_is_refused() -> None:
    text = SMALL.replace(
        "share: {label: {zh: 占比, en: Share}", "share: {label: {zh: 占比, en: count}"
    )
    c, _ = check_text(text)
    assert c is not None
    with pytest.raises(InputError) as info:
        evaluate(c, [{"period": "2026-01", "count": 1, "amount": 2}])
    err = info.value
    assert err.code == "KPI-E053" and err.column == "count"
    assert "'count' (its id)" in err.reason and "the en label of input 'share'" in err.reason


def test_two_columns_for_one_input_are_refused(small: CompiledPack) -> None:
    with pytest.raises(InputError) as info:
        evaluate(small, [{"period": "2026-01", "amount": 1, "金额": 2, "count": 1}])
    assert info.value.code == "KPI-E054"
    assert "'amount' and '金额' both stand for 'amount'" in info.value.reason


def test_errors_name_the_column_as_the_file_heads_it(small: CompiledPack) -> None:
    with pytest.raises(InputError) as info:
        evaluate(small, _csv("期间,门店,金额,人次", "2026-01,A,12x,3"))
    assert (info.value.code, info.value.row, info.value.column) == ("KPI-E017", 1, "金额")


def test_a_misnamed_dimension_column_is_named_as_the_cause(bakery: CompiledPack) -> None:
    text = (
        (SAMPLE / "sample.csv")
        .read_text(encoding="utf-8")
        .replace("period,store", "period,门店编号")
    )
    with pytest.raises(InputError) as info:
        evaluate(bakery, read_csv_text(text))
    err = info.value
    assert err.code == "KPI-E055" and err.column == "store" and err.row == 2
    assert err.reason.startswith(
        "the data has no column for dimension 'store' ('门店编号' is not a column of this pack)"
    )
    assert err.hint == "did you mean '门店编号'? head it 'store' or '门店' or 'Store'"


def test_rows_without_a_dimension_column_and_no_stray_column_still_say_duplicate(
    small: CompiledPack,
) -> None:
    rows = [{"period": "2026-01", "amount": 1}, {"period": "2026-01", "amount": 2}]
    with pytest.raises(InputError) as info:
        evaluate(small, rows)
    assert info.value.code == "KPI-E020"


# -- number cells ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("1,200", 1200.0),
        ("1，200", 1200.0),
        ("12,345,678.5", 12345678.5),
        ("¥1,200.50", 1200.5),
        ("￥1200", 1200.0),
        ("RMB 1,200", 1200.0),
        ("CNY80", 80.0),
        ("1200元", 1200.0),
        ("1,200.50 元", 1200.5),
        ("(120)", -120.0),
        ("(¥1,200.50)", -1200.5),
        ("-¥30", -30.0),
        ("¥-30", -30.0),
        (" 1,200 ", 1200.0),
        ("1200", 1200.0),
    ],
)
def test_money_cells_as_exports_write_them(small: CompiledPack, cell: str, value: float) -> None:
    csv_rows = _csv("period,store,amount,count", f'2026-01,A,"{cell}",4', "2026-02,A,8,2")
    assert evaluate(small, csv_rows).values("amount").tolist() == [value, 8.0]
    json_rows = [{"period": "2026-01", "store": "A", "amount": cell, "count": 4}]
    assert evaluate(small, json_rows).values("amount").tolist() == [value]


@pytest.mark.parametrize(
    ("cell", "value"), [("12.5%", 0.125), ("100%", 1.0), ("0.5 ％", 0.005), ("(2%)", -0.02)]
)
def test_percent_cells_in_a_ratio_input(small: CompiledPack, cell: str, value: float) -> None:
    rows = _csv("period,store,share", f"2026-01,A,{cell}")
    assert evaluate(small, rows).values("share").tolist() == [value]


@pytest.mark.parametrize(
    ("column", "cell", "code", "says"),
    [
        ("amount", "12.5%", "KPI-E056", "is a percent, but this input is not a ratio"),
        ("amount", "1,20", "KPI-E056", "could be read two ways"),
        ("amount", "1 200", "KPI-E056", "could be read two ways"),
        ("amount", "1.200,50", "KPI-E056", "could be read two ways"),
        ("amount", "12,0000", "KPI-E056", "could be read two ways"),
        ("amount", "1_000", "KPI-E017", "is not a number"),
        ("amount", "$12", "KPI-E017", "is not a number"),
        ("amount", "¥", "KPI-E017", "is not a number"),
        ("amount", "--5", "KPI-E017", "is not a number"),
        ("amount", "１，２００", "KPI-E019", "is not one of the digits 0-9"),
        ("amount", "¥١٢٠", "KPI-E019", "is not one of the digits 0-9"),
        ("count", "3 4", "KPI-E017", "is not a number"),
    ],
)
def test_number_cells_that_read_two_ways_or_not_at_all_are_refused(
    small: CompiledPack, column: str, cell: str, code: str, says: str
) -> None:
    rows = _csv(
        "period,store,amount,count",
        "2026-01,A,1,1",
        f'2026-02,A,"{cell if column == "amount" else 1}","{cell if column == "count" else 1}"',
    )
    with pytest.raises(InputError) as info:
        evaluate(small, rows)
    err = info.value
    assert (err.code, err.row, err.column) == (code, 2, column)
    assert says in err.reason


def test_export_number_reads_nothing_else() -> None:
    assert export_number("abc", percent=True, row=1, column="x") is None
    assert export_number("1.5.5", percent=True, row=1, column="x") is None
    assert math.isclose(export_number("¥0.10", percent=False, row=1, column="x") or 0, 0.1)


# -- period cells ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "label"),
    [
        ("2026/1", "2026-01"),
        ("2026/01", "2026-01"),
        ("2026 / 12", "2026-12"),
        ("2026年1月", "2026-01"),
        ("2026年 11 月", "2026-11"),
        ("2026-1", "2026-01"),
        ("2026-1-31", "2026-01-31"),
        ("2026/01/31", "2026-01-31"),
        ("2026/1/5", "2026-01-05"),
        ("2026年1月31日", "2026-01-31"),
        ("20260131", "2026-01-31"),
        ("13/02/2026", "2026-02-13"),
        ("02/13/2026", "2026-02-13"),
        ("03/03/2026", "2026-03-03"),
        ("2026-01", "2026-01"),
        ("2026-Q1", "2026-Q1"),
    ],
)
def test_period_cells_as_exports_write_them(small: CompiledPack, cell: str, label: str) -> None:
    assert export_period(cell) == label
    e = evaluate(small, _csv("期间,store,amount,count", f"{cell},A,10,2"))
    assert e.to_json()["rows"][0]["period"] == label
    assert e.values("per_visit").tolist() == [5.0]


@pytest.mark.parametrize(
    ("cell", "code", "says"),
    [
        ("01/02/2026", "KPI-E057", "day first it is 2026-02-01, month first 2026-01-02"),
        ("5-6-2026", "KPI-E057", "day first it is 2026-06-05, month first 2026-05-06"),
        ("2026/13", "KPI-E014", "month 13 does not exist"),
        ("20260230", "KPI-E014", "is not a valid period"),
        ("202601", "KPI-E014", "is not a period"),
        ("２０２６/1", "KPI-E014", "is not a period"),
    ],
)
def test_period_cells_that_read_two_ways_are_refused_with_row_and_column(
    small: CompiledPack, cell: str, code: str, says: str
) -> None:
    rows = _csv("月份,store,amount", "2026-01-01,A,1", f"{cell},B,2")
    with pytest.raises(InputError) as info:
        evaluate(small, rows)
    err = info.value
    assert (err.code, err.row, err.column) == (code, 2, "月份")
    assert says in err.reason
    if code == "KPI-E057":
        assert err.hint is not None and err.hint.startswith("write the year first: ")


def test_kpi_eval_reads_a_file_headed_by_labels(bakery: CompiledPack, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    labelled = tmp_path / "导出.csv"
    labelled.write_text(_relabel(bakery, "zh"), encoding="utf-8")
    runner = CliRunner()
    want = runner.invoke(app, ["eval", "bakery-stored-value", "-i", str(SAMPLE / "sample.csv")])
    got = runner.invoke(app, ["eval", "bakery-stored-value", "-i", str(labelled)])
    assert want.exit_code == 0 and got.exit_code == 0, got.output
    assert json.loads(got.stdout)["rows"] == json.loads(want.stdout)["rows"]
    bad = tmp_path / "bad.csv"
    bad.write_text('期间,门店,充值金额\n2026-01,S01,"1,20"\n', encoding="utf-8")
    refused = runner.invoke(app, ["eval", "bakery-stored-value", "-i", str(bad)])
    assert refused.exit_code == 2
    assert "row 1, column '充值金额': '1,20' could be read two ways" in refused.output


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False))
def test_grouped_money_reads_back_to_its_value(x: Decimal) -> None:
    text = f"{abs(x):,.2f}"
    for cell, sign in ((text, 1), (f"¥{text}", 1), (f"({text})", -1), (f"{text} 元", 1)):
        got = export_number(cell, percent=False, row=1, column="x")
        assert got == sign * float(abs(x)), cell
    full_width = text.replace(",", "，")
    assert export_number(full_width, percent=False, row=1, column="x") == float(abs(x))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789,.，%％()¥￥RMBCNY元-+ eE_", max_size=14))
def test_a_cell_is_read_refused_or_left_as_no_number_never_a_crash(cell: str) -> None:
    try:
        got = export_number(cell, percent=True, row=1, column="x")
    except InputError as err:
        assert err.code == "KPI-E056" and err.row == 1
        return
    assert got is None or math.isfinite(got) or "e" in cell.lower()


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_json_and_parquet_rows_headed_by_labels(
    bakery: CompiledPack, tmp_path: Path, fmt: str
) -> None:
    import csv
    import io

    import duckdb

    labelled = list(csv.DictReader(io.StringIO(_relabel(bakery, "zh"))))
    assert "充值金额" in labelled[0]
    path = tmp_path / f"导出.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps(labelled, ensure_ascii=False), encoding="utf-8")
    else:
        csv_path = tmp_path / "labelled.csv"
        csv_path.write_text(_relabel(bakery, "zh"), encoding="utf-8")
        duckdb.sql(f"COPY (SELECT * FROM read_csv('{csv_path}')) TO '{path}' (FORMAT parquet)")
    want = evaluate(bakery, read_table(SAMPLE / "sample.csv")).to_json()["rows"]
    got = evaluate(bakery, read_table(path)).to_json()
    assert got["rows"] == want
    assert got["warnings"][0]["columns"]["期间"] == "period"
