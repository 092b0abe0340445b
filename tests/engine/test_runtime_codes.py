"""Every evaluation error and warning has a code of :data:`RUNTIME_CODES` (docs/errors.md).

The scans read the engine's source: every ``InputError(...)`` passes a ``code`` that the
catalogue knows, every warning the evaluation builds carries one, and every catalogued code is
used somewhere, so a code cannot be forgotten nor left in the catalogue after its last use. The
evaluations below check that real bad data and real warnings come back with the expected code.
"""

from __future__ import annotations

import ast
import re
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from engine.compile.pack import check_text
from engine.core.errors import InputError
from engine.core.problems import CODES
from engine.core.runtime_codes import RUNTIME_CODES
from engine.evaluate.evaluation import evaluate
from engine.evaluate.records import evaluate_records

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"KPI-[EW][0-9]{3}")


def _modules(*folders: str) -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text(encoding="utf-8")))
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*.py"))
    ]


def _constants(node: ast.expr) -> list[str] | None:
    """The codes an expression can take: a string constant, or a conditional of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _constants(node.body), _constants(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def _input_errors() -> list[tuple[str, ast.Call]]:
    calls = []
    for path, tree in _modules("engine"):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "InputError":
                calls.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return calls


def test_every_input_error_of_the_engine_passes_a_known_error_code():
    calls = _input_errors()
    assert len(calls) > 60  # the scan finds the raise sites (77 when this was written)
    bad = []
    for where, call in calls:
        code = next((k.value for k in call.keywords if k.arg == "code"), None)
        codes = None if code is None else _constants(code)
        if not codes or any(c not in RUNTIME_CODES or not c.startswith("KPI-E") for c in codes):
            bad.append(where)
    assert bad == []


def _warning_dicts() -> list[tuple[str, ast.Dict, dict[str, list[ast.expr]]]]:
    """Dict literals of the evaluation with a "message" key (the warnings it lists), with what
    each name of their module is assigned (a code may be chosen in a variable first)."""
    found = []
    for path, tree in _modules("engine/evaluate"):
        assigned: dict[str, list[ast.expr]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(node.value)
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
                if "message" in keys:
                    found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node, assigned))
    return found


def test_every_warning_of_the_evaluation_carries_a_known_warning_code():
    found = _warning_dicts()
    assert len(found) >= 9
    bad = []
    for where, node, assigned in found:
        values = {
            k.value: v
            for k, v in zip(node.keys, node.values, strict=True)
            if isinstance(k, ast.Constant)
        }
        code = values.get("code")
        codes: list[str] | None = None
        if isinstance(code, ast.Name):  # every value the name is given must be a code
            options = [_constants(v) for v in assigned.get(code.id, [])]
            codes = None if not options or None in options else sum(options, [])  # type: ignore[arg-type]
        elif code is not None:
            codes = _constants(code)
        if not codes or any(c not in RUNTIME_CODES or not c.startswith("KPI-W") for c in codes):
            bad.append(where)
    assert bad == []


def test_every_catalogued_code_is_used_and_every_code_used_is_catalogued():
    used: set[str] = set()
    for path, tree in _modules("engine", "api"):
        if path.name == "problems.py" and path.parent.name == "core":
            continue  # the catalogue itself
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                used |= set(CODE.findall(node.value))
    assert sorted(used - set(RUNTIME_CODES)) == []
    assert sorted(set(RUNTIME_CODES) - used) == []


def test_the_catalogue_is_consistent():
    for code, entry in RUNTIME_CODES.items():
        assert entry.code == code and CODE.fullmatch(code)
        assert entry.severity == ("error" if code[4] == "E" else "warning")
        assert entry.title and entry.hint.endswith(".")
    assert not set(RUNTIME_CODES) & set(CODES)
    numbers = {f: sorted(int(c[5:]) for c in RUNTIME_CODES if c[4] == f) for f in "EW"}
    for family, seen in numbers.items():  # numbered 1, 2, 3, … without a gap
        assert seen == list(range(1, len(seen) + 1)), family


def test_an_input_error_needs_a_catalogued_error_code():
    with pytest.raises(ValueError, match="unknown code"):
        InputError("x", code="KPI-E999")
    with pytest.raises(ValueError, match="unknown code"):
        InputError("x", code="KPI-W001")  # a warning's code is not an error's
    err = InputError("'x' is not a number", code="KPI-E017", row=2, column="a")
    assert err.to_json() == {
        "code": "KPI-E017",
        "row": 2,
        "column": "a",
        "reason": "'x' is not a number",
        "hint": None,
    }


# -- real evaluations ------------------------------------------------------------------------

PACK = """\
pack: tt
version: '1.0.0'
title: T
grain: month
dimensions: {store: {label: Store}}
params:
  factor: {label: F, value: 2}
inputs:
  orders: {label: Orders}
  visits: {label: Visits}
metrics:
  doubled: {label: D, formula: orders * factor}
  conversion: {label: C, formula: orders / visits, domain: [0, 1]}
checks:
  enough_visits: {label: V, assert: visits >= orders}
rules:
  converting: {label: R, when: conversion > 0.5}
"""


@pytest.fixture(scope="module")
def pack() -> Any:
    c, problems = check_text(PACK)
    assert c is not None, [p.render_short() for p in problems]
    return c


def _rows(**cells: Any) -> list[dict[str, Any]]:
    row = {"period": "2026-01", "store": "A", "orders": 3, "visits": 10}
    return [row | cells]


@pytest.mark.parametrize(
    ("rows", "options", "code", "column"),
    [
        (_rows(orders="abc"), {}, "KPI-E017", "orders"),
        (_rows(orders="inf"), {}, "KPI-E018", "orders"),
        (_rows(orders="１２"), {}, "KPI-E019", "orders"),
        (_rows(period="2026-13"), {}, "KPI-E014", "period"),
        (_rows(store=""), {}, "KPI-E016", "store"),
        (_rows() + _rows(), {}, "KPI-E020", "period"),
        (_rows() + _rows(period="2026-W05"), {}, "KPI-E015", "period"),
        ([{"store": "A", "orders": 1}], {}, "KPI-E013", "period"),
        ([], {}, "KPI-E012", None),
        (["not an object"], {}, "KPI-E005", None),
        (_rows(), {"grain": "day"}, "KPI-E023", None),
        (_rows(), {"grain": "fortnight"}, "KPI-E022", None),
        (_rows(), {"by": ["region"]}, "KPI-E025", None),
        (_rows(), {"locale": "fr"}, "KPI-E026", None),
        (_rows(), {"params": {"facter": 3}}, "KPI-E027", None),
        (_rows(), {"params": {"factor": "lots"}}, "KPI-E028", None),
        (_rows(), {"metrics": ["nope"]}, "KPI-E029", None),
        ([{"period": "2026-01", "store": "A", "orders": 3}], {"metrics": ["conversion"]},
         "KPI-E030", "visits"),
        (_rows(), {"as_of": date(2025, 12, 31)}, "KPI-E033", "period"),
        (_rows(), {"as_of": date(9999, 1, 1)}, "KPI-E032", None),
    ],
    ids=[
        "not-a-number", "infinite", "full-width-digits", "bad-period", "empty-dimension",
        "duplicate-row", "mixed-grains", "no-period", "no-rows", "row-not-an-object",
        "finer-grain", "unknown-grain", "unknown-by", "unknown-locale", "unknown-param",
        "param-not-a-number", "unknown-metric", "metric-inputs-missing", "nothing-before-as-of",
        "as-of-too-late",
    ],
)  # fmt: skip
def test_bad_data_and_options_raise_their_code(
    pack: Any, rows: Any, options: dict[str, Any], code: str, column: str | None
):
    with pytest.raises(InputError) as info:
        evaluate(pack, rows, **options)
    assert (info.value.code, info.value.column) == (code, column)
    assert info.value.to_json()["code"] == code


def _codes(body: dict[str, Any]) -> list[str]:
    return [w["code"] for w in body["warnings"]]


def test_an_evaluation_without_warnings_lists_none(pack: Any):
    assert evaluate(pack, _rows()).to_json()["warnings"] == []


def test_a_metric_check_and_rule_without_their_input_are_warned_with_their_codes(pack: Any):
    body = evaluate(pack, [{"period": "2026-01", "store": "A", "orders": 3}]).to_json()
    by_code = {w["code"]: w for w in body["warnings"]}
    assert sorted(by_code) == ["KPI-W001", "KPI-W003", "KPI-W004"]
    # the keys clients already read are all still there
    assert by_code["KPI-W001"]["metric"] == "conversion"
    assert by_code["KPI-W001"]["missing_inputs"] == ["visits"]
    assert by_code["KPI-W003"]["check"] == "enough_visits"
    assert by_code["KPI-W004"]["rule"] == "converting"
    assert by_code["KPI-W004"]["missing"] == ["conversion"]
    assert all(w["message"] for w in body["warnings"])


def test_left_out_rows_a_param_named_column_and_an_implausible_value_have_their_codes(
    pack: Any,
):
    rows = [
        *_rows(orders=30, factor=5),  # conversion 3: outside [0, 1]
        *_rows(period="2026-02"),
    ]
    body = evaluate(pack, rows, as_of=date(2026, 1, 31)).to_json()
    assert _codes(body) == ["KPI-W005", "KPI-W006", "KPI-W010"]
    left_out, param_column, outside = body["warnings"]
    assert (left_out["rows_left_out"], left_out["as_of"]) == (1, "2026-01-31")
    assert param_column["column"] == "factor"
    assert (outside["metric"], outside["value"], outside["domain"]) == ("conversion", 3.0, [0, 1])


def test_a_metric_asked_at_a_grain_it_cannot_be_combined_into(tmp_path: Path):
    c, problems = check_text(
        textwrap.dedent("""\
        pack: tt
        version: '1.0.0'
        title: T
        grain: month
        inputs:
          buyers: {label: Buyers, rollup: {time: none}}
        metrics:
          buyer_count: {label: B, formula: buyers}
        """)
    )
    assert c is not None, [p.render_short() for p in problems]
    rows = [{"period": "2026-01", "buyers": 4}, {"period": "2026-02", "buyers": 5}]
    body = evaluate(c, rows, grain="quarter").to_json()
    assert _codes(body) == ["KPI-W002"]
    with pytest.raises(InputError) as info:
        evaluate(c, rows, grain="quarter", metrics=["buyer_count"])
    assert info.value.code == "KPI-E031"


SOURCE_PACK = """\
pack: tt
version: '1.0.0'
title: T
grain: month
sources:
  sales:
    label: Sales
    time: sold_at
    columns: {amount: {type: number}}
inputs:
  revenue:
    label: Revenue
    measure: {source: sales, agg: sum, of: amount}
metrics:
  revenue_total: {label: R, formula: revenue}
"""


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("sold_at,amount\n", "KPI-E041"),
        ("sold_at,price\n2026-01-03,5\n", "KPI-E042"),
        ("sold_at,amount\n2026-01-03,abc\n", "KPI-E043"),
        ("sold_at,amount\n2026-01-03T10:00:00+08:00,5\n", "KPI-E043"),
        ("sold_at,amount,kpi__x\n2026-01-03,5,1\n", "KPI-E040"),
    ],
    ids=["no-records", "missing-column", "not-a-number", "utc-offset", "reserved-name"],
)
def test_bad_records_raise_their_code(tmp_path: Path, text: str, code: str):
    c, problems = check_text(SOURCE_PACK)
    assert c is not None, [p.render_short() for p in problems]
    path = tmp_path / "sales.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        evaluate_records(c, {"sales": path})
    assert info.value.code == code


def test_records_without_a_file_or_a_source_raise_their_code(tmp_path: Path):
    c, problems = check_text(SOURCE_PACK)
    assert c is not None, [p.render_short() for p in problems]
    with pytest.raises(InputError) as info:
        evaluate_records(c, {"sales": tmp_path / "nope.csv"})
    assert info.value.code == "KPI-E001"
    with pytest.raises(InputError) as info:
        evaluate_records(c, {"refunds": tmp_path / "nope.csv"})
    assert info.value.code == "KPI-E035"
    (tmp_path / "sales.csv").write_text("sold_at,amount\n2026-01-03,5\n", encoding="utf-8")
    body = evaluate_records(c, {"sales": tmp_path / "sales.csv"}).to_json()
    assert body["rows"][0]["values"]["revenue_total"] == 5.0 and body["warnings"] == []
