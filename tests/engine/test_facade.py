"""The public façade (engine.api): every name resolves to its stage's object, lazily."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import engine
import engine.api as api

ROOT = Path(__file__).resolve().parents[2]


def test_every_public_name_resolves_to_the_object_of_its_stage():
    import importlib

    assert api.__all__ == sorted(api._HOMES)
    for name, home in api._HOMES.items():
        assert getattr(api, name) is getattr(importlib.import_module(home), name), name


def test_engine_reexports_the_facade_except_the_evaluate_stage():
    assert set(engine.__all__) == set(api.__all__) - {"evaluate"}
    assert engine.compile_pack is api.compile_pack
    assert engine.lineage is api.lineage
    import engine.evaluate as stage  # the name is the evaluation stage's package

    assert not callable(stage)
    try:
        engine.no_such_name  # noqa: B018
    except AttributeError as err:
        assert "no_such_name" in str(err)
    else:  # pragma: no cover - the assertion below fails
        raise AssertionError("an unknown name must raise AttributeError")


def test_the_type_checking_imports_match_the_table():
    """mypy reads the TYPE_CHECKING imports; the runtime reads _HOMES: they must agree."""
    tree = ast.parse((ROOT / "engine" / "api.py").read_text(encoding="utf-8"))
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("engine."):
            for alias in node.names:
                imported[alias.asname or alias.name] = node.module
    assert imported == api._HOMES


def test_importing_the_facade_imports_no_stage_until_a_name_is_used():
    code = (
        "import sys, engine.api as a; "
        "heavy = [m for m in ('numpy', 'duckdb', 'sqlglot', 'sympy', 'engine.compile.pack') "
        "if m in sys.modules]; "
        "print(','.join(heavy)); a.check_pack; "
        "print('sqlglot' in sys.modules, 'duckdb' in sys.modules, 'engine.compile.pack' in "
        "sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.splitlines()
    assert out[0] == ""
    assert out[1] == "False False True"


def test_a_pack_compiles_and_evaluates_through_the_facade():
    c = api.compile_pack("bakery-stored-value")
    # first month: opening is initial_net; closing = 1000 + 500 - 400 + 0 (hand-computed)
    rows = [
        {
            "period": "2026-01",
            "initial_net": 1000,
            "net_income": 500,
            "net_spent": 400,
            "imported_balance": 0,
        },
        {
            "period": "2026-02",
            "initial_net": 1000,
            "net_income": 200,
            "net_spent": 350,
            "imported_balance": 10,
        },
    ]
    result = api.evaluate(c, rows, metrics=["closing_net"])
    assert isinstance(result, api.Evaluation)
    assert result.values("closing_net").tolist() == [1100.0, 960.0]  # 1100 + 200 - 350 + 10


def test_shared_terms_have_one_home():
    """Grains, sections and built-ins are defined once; the copies that must be literal (an
    OpenAPI enum, a schema enum) are checked against that one definition."""
    from typing import get_args

    from api.server.models import Grain
    from engine.core import model, periods
    from engine.formula import functions
    from engine.validate.schema import pack_schema

    assert get_args(Grain) == periods.OUTPUT_GRAINS
    assert (*periods.GRAINS, "all") == periods.OUTPUT_GRAINS
    assert set(model.SECTION_KIND) == set(model.SECTIONS)
    assert set(model.NAMESPACE) <= set(model.SECTIONS)
    assert functions.BUILTIN_NAMES == frozenset(functions.BUILTINS) == {"periods", "days"}
    assert {
        "previous", "change", "growth", "rolling_sum", "rolling_avg", "cumulative_sum",
        "rising", "falling",
    } == functions.TIME_FUNCTIONS  # fmt: skip
    schema = pack_schema()
    assert set(model.SECTIONS) <= set(schema["properties"])
    assert tuple(schema["$defs"]["grain"]["enum"]) == periods.GRAINS
