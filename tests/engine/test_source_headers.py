"""A POS export used as it is (issue 14): a source's ``headers`` maps the pack's column names to
the export's Chinese headers, and ``kpi run`` measures the export exactly as it measures the same
ledger under the pack's own names — compared cell by cell; a mapped header the file lacks is a
coded error naming the header and the file's headers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from api.cli import app
from engine.compile.pack import CompiledPack, compile_pack
from engine.core.errors import InputError
from engine.demo.bakery import bakery_ledger, write_ledger
from engine.evaluate.measures import run_measures
from engine.evaluate.records import evaluate_records
from engine.evaluate.table import Columns

POS = Path(__file__).resolve().parent.parent / "packs" / "measures" / "bakery-pos-export"
HEADERS = {
    "event_time": "发生时间",
    "store_id": "门店编号",
    "member_id": "会员编号",
    "kind": "类型",
    "amount": "金额",
    "net": "本金",
    "gift": "赠送",
    "points": "积分",
}
runner = CliRunner()


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same demo ledger under the pack's names and under the POS export's headers."""
    out = tmp_path_factory.mktemp("pos")
    write_ledger(bakery_ledger(stores=3, months=5, members=250, seed=3, start="2025-01"), out)
    csv = (out / "card_events.csv").read_text(encoding="utf-8")
    header, rest = csv.split("\n", 1)
    assert header.split(",") == list(HEADERS)
    (out / "pos.csv").write_text(",".join(HEADERS.values()) + "\n" + rest, encoding="utf-8")
    select = ", ".join(f'"{k}" AS "{v}"' for k, v in HEADERS.items())
    duckdb.sql(
        f"COPY (SELECT {select} FROM '{out / 'card_events.parquet'}') "
        f"TO '{out / 'pos.parquet'}' (FORMAT parquet)"
    )
    return {
        "csv": out / "card_events.csv",
        "parquet": out / "card_events.parquet",
        "pos.csv": out / "pos.csv",
        "pos.parquet": out / "pos.parquet",
    }


@pytest.fixture(scope="module")
def pos() -> CompiledPack:
    return compile_pack(POS)


def _run(pack: str | Path, source: Path, *more: str) -> dict[str, Any]:
    result = runner.invoke(app, ["run", str(pack), "--source", f"card_events={source}", *more])
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    return body


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_kpi_run_over_the_pos_export_equals_the_ledger_under_the_packs_names(
    ledgers: dict[str, Path], fmt: str
) -> None:
    want = _run("bakery-stored-value", ledgers[fmt])
    got = _run(POS, ledgers[f"pos.{fmt}"])
    assert len(want["rows"]) == 15  # 5 months x 3 stores
    compared = 0
    for a, b in zip(want["rows"], got["rows"], strict=True):
        assert (a["period"], a["dims"]) == (b["period"], b["dims"])
        assert set(a["values"]) == set(b["values"]) and len(a["values"]) > 40
        for name, value in a["values"].items():
            assert b["values"][name] == value, (a["period"], a["dims"], name)
            compared += 1
    assert compared > 600
    inputs = ("recharge_amount", "consume_amount", "recharge_count", "new_members")
    asked = ("--metrics", ",".join(inputs))
    want_inputs = _run("bakery-stored-value", ledgers[fmt], *asked)["rows"]
    got_inputs = _run(POS, ledgers[f"pos.{fmt}"], *asked)["rows"]
    assert got_inputs == want_inputs
    jan = next(r for r in got_inputs if r["period"] == "2025-01" and r["dims"]["store"] == "S01")
    assert all(jan["values"][n] > 0 for n in inputs)  # real money and counts from 金额, 类型…


def test_the_export_in_memory_is_read_through_the_headers_too(
    ledgers: dict[str, Path], pos: CompiledPack
) -> None:
    text = ledgers["pos.csv"].read_text(encoding="utf-8").splitlines()
    names = text[0].split(",")
    cells = [line.split(",") for line in text[1:]]
    table = {h: [row[k] for row in cells] for k, h in enumerate(names)}
    got = run_measures(pos, {"card_events": table})
    want = run_measures(compile_pack("bakery-stored-value"), {"card_events": ledgers["csv"]})
    assert got.keys() == want.keys() and got["period"] == want["period"]
    for name in ("recharge_amount", "recharge_count", "new_members", "consume_amount"):
        assert got[name] == pytest.approx(want[name], rel=1e-12), name


def test_a_mapped_header_the_file_lacks_names_it_and_the_files_headers(
    ledgers: dict[str, Path], pos: CompiledPack
) -> None:
    with pytest.raises(InputError) as info:
        run_measures(pos, {"card_events": ledgers["csv"]})  # headed by the pack's own names
    err = info.value
    assert err.code == "KPI-E058"
    assert err.reason == (
        "source 'card_events' (card_events.csv): no header '发生时间' (headers maps column "
        "'event_time' to it; the file has: event_time, store_id, member_id, kind, amount, net, "
        "gift, points)"
    )
    result = runner.invoke(app, ["run", str(POS), "--source", f"card_events={ledgers['csv']}"])
    assert result.exit_code == 2 and "no header '发生时间'" in result.output


def test_a_file_with_both_the_header_and_the_packs_name_is_refused(pos: CompiledPack) -> None:
    table = {"发生时间": ["2025-01-02 10:00:00"], "event_time": ["2025-01-02 10:00:00"]}
    table |= {h: ["x"] for k, h in HEADERS.items() if k != "event_time"}
    with pytest.raises(InputError) as info:
        run_measures(pos, {"card_events": table})
    assert info.value.code == "KPI-E058"
    assert "has both a column 'event_time' and the header '发生时间'" in info.value.reason


def test_data_rows_with_the_records_are_read_by_their_labels(
    ledgers: dict[str, Path], pos: CompiledPack
) -> None:
    """``kpi run --data``: rows headed 期间 / 门店 / 营销和销售支出 join the measured inputs."""
    rows = Columns(
        2,
        {
            "期间": ["2025-01", "2025-01"],
            "门店": ["S01", "S02"],
            "营销和销售支出": ["1,200", "¥800"],
        },
        text_only=True,
    )
    e = evaluate_records(
        pos, {"card_events": ledgers["pos.parquet"]}, data=rows, metrics=["marketing_spend"]
    )
    json_body = e.to_json()
    spend = {
        (r["period"], r["dims"]["store"]): r["values"].get("marketing_spend")
        for r in json_body["rows"]
    }
    assert spend[("2025-01", "S01")] == 1200.0 and spend[("2025-01", "S02")] == 800.0
    assert spend[("2025-01", "S03")] is None
    note = next(w for w in json_body["warnings"] if w["code"] == "KPI-W011")
    assert note["columns"] == {
        "期间": "period",
        "门店": "store",
        "营销和销售支出": "marketing_spend",
    }


def test_ledger_numbers_as_exports_write_them_are_read_by_the_rows_rule(
    pos: CompiledPack,
) -> None:
    """A ledger's number cells written as exports write them are read as input rows read them
    (1,200 and ¥80 and 300元); a cell that reads two ways, or a percent (a ledger's column has no
    unit), is refused with its rows and why, not summed as something else."""
    table = {
        "发生时间": ["2026-01-02 09:05:00", "2026-01-03 10:00:00", "2026-01-04 11:00:00"],
        "门店编号": ["S1", "S1", "S1"],
        "会员编号": ["M1", "M2", "M3"],
        "类型": ["recharge"] * 3,
        "金额": ["100", "1,200", "¥80"],
        "本金": ["1", "1", "1"],
        "赠送": ["0", "0", "300元"],
        "积分": ["0", "0", "0"],
    }
    got = run_measures(pos, {"card_events": table})
    assert got["recharge_amount"] == [1380.0]  # 100 + 1200 + 80
    assert got["gift_income"] == [300.0]
    table["金额"] = ["100", "1,20", "12%"]
    with pytest.raises(InputError) as info:
        run_measures(pos, {"card_events": table})
    err = info.value
    assert err.code == "KPI-E043" and (err.row, err.column) == (2, "amount")
    assert err.reason == (
        "source 'card_events' (records), column 'amount' (header '金额'): 2 rows with a value "
        "that is not a number — row 2: '1,20'; row 3: '12%'"
    )
    assert err.hint is not None and "could be read two ways" in err.hint


def test_a_blank_header_is_a_located_problem() -> None:
    from engine.compile.pack import check_text

    text = (POS / "pack.yaml").read_text(encoding="utf-8").replace("amount: 金额", "amount: '  '")
    compiled, problems = check_text(text)
    assert compiled is None
    assert [(p.code, p.line, p.message) for p in problems] == [
        ("KPI-R023", 15, "source 'card_events': headers maps 'amount' to a blank header")
    ]
