"""Sources given in memory (column → values) give what the same records give as a CSV file.

Each comparison writes the records once as a CSV (the csv module, as the API did) and once hands
them over as a table; the views DuckDB builds over both must have the same column types and the
same values, and the measured inputs must be equal.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import Any

import pytest

from engine.compile.pack import CompiledPack, check_pack
from engine.core.errors import InputError
from engine.demo.bakery import bakery_ledger, write_ledger
from engine.evaluate.measures import open_sources, run_measures
from engine.evaluate.records import evaluate_records
from engine.evaluate.table import read_table
from engine.load.library import PackLibrary

PACK = Path(__file__).resolve().parent.parent / "packs" / "measures" / "ledger-demo"
BASE = {
    "event_time": ["2026-01-02 09:00:00", "2026-01-15 18:30:00", "2026-02-01 00:00:00"],
    "store_id": ["S1", "S1", "S2"],
    "member_id": ["M1", "007", "M3"],
    "kind": ["recharge", "recharge", "register"],
    "amount": ["200", "100", "0"],
    "gift": ["20", "5", "0"],
}
#: extra, undeclared columns: (values, the type DuckDB's CSV sniffer gives them)
EXTRA: dict[str, tuple[list[str], str]] = {
    "integers": (["1", "-2", "30"], "BIGINT"),
    "blank_integers": (["", "3", ""], "BIGINT"),
    "decimals": (["1.5", "2", "1e3"], "DOUBLE"),
    # the sniffer allows spaces before a decimal, and around an integer, not after a decimal
    "decimals_spaced_before": ([" 1.5", "2", "3"], "DOUBLE"),
    "decimals_spaced_after": (["1.5 ", "2.5", "3"], "VARCHAR"),
    "decimals_tab_after": (["1.5\t", "2", "3"], "VARCHAR"),
    "integers_spaced_with_decimals": (["1 ", "2.5", "3"], "DOUBLE"),
    "leading_zeros": (["007", "8", "9"], "VARCHAR"),
    "plus_signs": (["+1", "2", "3"], "VARCHAR"),
    "infinite": (["inf", "2.5", "1"], "VARCHAR"),
    "huge": (["9223372036854775808", "1", "2"], "HUGEINT"),
    "flags": (["true", "F", "yes"], "BOOLEAN"),
    "ones_zeros": (["1", "0", "1"], "BIGINT"),
    "iso_dates": (["2026-01-02", "2026-1-3", " 2026-02-28"], "DATE"),
    "bad_dates": (["2026-02-30", "2026-01-01", "2026-01-02"], "VARCHAR"),
    "timestamps": (
        ["2026-01-02 09:00:00", "2026-01-02T10:00", "2026-01-03 10:00:00.25"],
        "TIMESTAMP",
    ),
    "dates_and_times": (["2026-01-02", "2026-01-02 10:00:00", "2026-01-03"], "VARCHAR"),
    "with_offsets": (
        ["2026-01-02 09:00:00+01:00", "2026-01-02T10:00:00Z", "2026-01-03 10:00+0800"],
        "TIMESTAMP WITH TIME ZONE",
    ),
    "clock": (["10:00:00", "11:30", "23:59:59.5"], "TIME"),
    "text": (["a b", " c ", "1"], "VARCHAR"),
    "all_blank": (["", "", ""], "VARCHAR"),
    "nulls_as_text": (["NULL", "1", "2"], "VARCHAR"),
}


@pytest.fixture(scope="module")
def ledger_pack() -> CompiledPack:
    c, problems = check_pack(PACK, PackLibrary([]))
    assert c is not None and not problems
    return c


def _write_csv(path: Path, table: dict[str, list[str]]) -> Path:
    names = list(table)
    with path.open("x", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(names)
        writer.writerows(zip(*(table[n] for n in names), strict=True))
    return path


def _view(c: CompiledPack, data: Any) -> tuple[list[tuple[str, str]], list[tuple[Any, ...]]]:
    con = open_sources(c, {"card_events": data})
    try:
        cursor = con.execute("SELECT * FROM card_events")
        rows = cursor.fetchall()
        types = [(d[0], str(d[1])) for d in cursor.description]
        return types, rows
    finally:
        con.close()


def test_a_table_in_memory_is_typed_as_its_csv(ledger_pack: CompiledPack, tmp_path: Path):
    table = {**BASE, **{name: values for name, (values, _) in EXTRA.items()}}
    from_csv = _view(ledger_pack, _write_csv(tmp_path / "card_events.csv", table))
    in_memory = _view(ledger_pack, table)
    assert in_memory[0] == from_csv[0]
    assert repr(in_memory[1]) == repr(from_csv[1])  # repr: NaN and -0.0 compare as written
    types = dict(in_memory[0])
    assert {name: types[name] for name in EXTRA} == {name: t for name, (_, t) in EXTRA.items()}
    # the source's own columns stay text, as they are read from a CSV
    assert {types[n] for n in ("event_time", "store_id", "member_id")} == {"VARCHAR"}
    assert in_memory[1][1][2] == "007" and in_memory[1][0][table_index("blank_integers")] is None


def table_index(name: str) -> int:
    return [*BASE, *EXTRA].index(name)


def test_where_the_sniffer_reads_more_a_table_keeps_text(ledger_pack: CompiledPack):
    """Day-first or slashed dates are dates to DuckDB's CSV sniffer; in memory they stay text."""
    table = {**BASE, "day_first": ["03/04/2025", "13/04/2025", "01/01/2025"]}
    types = dict(_view(ledger_pack, table)[0])
    assert types["day_first"] == "VARCHAR"


def test_the_demo_ledger_measures_the_same_in_memory(ledger_pack: CompiledPack, tmp_path: Path):
    data = bakery_ledger(stores=3, months=4, members=150, seed=11)
    (path,) = write_ledger(data, tmp_path, formats=("csv",))
    table = read_table(path)  # the CSV's text, as the API reads a posted CSV
    assert table.text_only and table.n > 1000
    want = run_measures(ledger_pack, {"card_events": path}, "month")
    assert run_measures(ledger_pack, {"card_events": table}, "month") == want
    assert run_measures(ledger_pack, {"card_events": table.data}, "quarter", dims=[]) == (
        run_measures(ledger_pack, {"card_events": path}, "quarter", dims=[])
    )
    assert sum(want["recharge_count"]) > 0


def test_an_evaluation_over_a_table_equals_the_one_over_its_file(
    ledger_pack: CompiledPack, tmp_path: Path
):
    path = _write_csv(tmp_path / "card_events.csv", BASE)
    by_file = evaluate_records(ledger_pack, {"card_events": path}, trace=True).to_json()
    in_memory = evaluate_records(ledger_pack, {"card_events": BASE}, trace=True).to_json()
    assert in_memory == by_file
    values = {(r["period"], r["dims"]["store"]): r["values"] for r in in_memory["rows"]}
    assert values[("2026-01", "S1")]["recharge_per_visit"] == 150.0


def test_messages_name_the_records_in_place_of_a_file(ledger_pack: CompiledPack, tmp_path: Path):
    table = {k: v for k, v in BASE.items() if k != "amount"}
    with pytest.raises(InputError) as by_file:
        run_measures(ledger_pack, {"card_events": _write_csv(tmp_path / "card_events.csv", table)})
    with pytest.raises(InputError) as in_memory:
        run_measures(ledger_pack, {"card_events": table})
    assert str(by_file.value).startswith(
        "source 'card_events' (card_events.csv): no column 'amount'"
    )
    assert str(in_memory.value) == str(by_file.value).replace("(card_events.csv)", "(records)")

    bad = {**BASE, "event_time": ["2026-01-02 09:00:00", "the tenth", "2026-02-01 00:00:00"]}
    with pytest.raises(InputError) as err:
        run_measures(ledger_pack, {"card_events": bad})
    assert str(err.value) == (
        "source 'card_events' (records), column 'event_time': 1 row with a time that does not "
        "parse as an ISO date or time (or is empty) — row 2: 'the tenth'"
    )
    assert (err.value.row, err.value.column) == (2, "event_time")


def test_ragged_columns_are_refused(ledger_pack: CompiledPack):
    with pytest.raises(
        InputError, match=r"\(records\): the columns have different lengths \(2, 3\)"
    ):
        run_measures(ledger_pack, {"card_events": {**BASE, "kind": ["recharge", "register"]}})


def test_numbers_and_booleans_are_read_as_their_text(ledger_pack: CompiledPack):
    typed = {**BASE, "amount": [200, 100.0, None], "flag": [True, False, None]}
    types, rows = _view(ledger_pack, typed)
    assert dict(types)["amount"] == "DOUBLE" and dict(types)["flag"] == "BOOLEAN"
    assert [r[4] for r in rows] == [200.0, 100.0, None] and [r[6] for r in rows] == [
        True,
        False,
        None,
    ]


def test_no_file_is_written(ledger_pack: CompiledPack, tmp_path: Path, monkeypatch):
    """Measuring a table in memory writes nothing: not below the temporary directory, not in the
    working directory."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    measured = run_measures(ledger_pack, {"card_events": BASE})
    assert sorted(
        zip(measured["period"], measured["store"], measured["recharge_count"], strict=True)
    ) == [
        ("2026-01", "S1", 2),
        ("2026-02", "S1", 0),
        ("2026-02", "S2", 0),
    ]
    assert list((tmp_path / "tmp").iterdir()) == [] and list((tmp_path / "cwd").iterdir()) == []
