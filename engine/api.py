"""The public façade of the engine: everything the CLI, the HTTP server and the web pages (and
any Python user) need, typed, from one module.

    from engine.api import compile_pack, evaluate, lineage

    pack = compile_pack("bakery-stored-value")
    result = evaluate(pack, rows, grain="quarter")
    result.to_json()

Names load lazily, on first use: ``from engine.api import check_pack`` imports the compiler but
not NumPy, DuckDB or SQLGlot, so that ``kpi validate`` starts fast. Anything not listed in
:data:`__all__` is internal to its stage and may change between releases.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.compile.pack import CompiledPack, check_pack, check_text, compile_pack
    from engine.core.errors import (
        FormulaError,
        InputError,
        KpiError,
        PackError,
        PackNotFound,
        UnknownMetric,
    )
    from engine.core.periods import GRAINS, OUTPUT_GRAINS
    from engine.core.problems import CODES, RUNTIME_CODES, Problem
    from engine.evaluate.evaluation import Evaluation, evaluate, read_table
    from engine.evaluate.measures import DIALECTS, measure_sql, measured_sources
    from engine.evaluate.records import evaluate_records
    from engine.formula.sites import CheckAssertion, MeasureExprs, MetricFormula, RuleCondition
    from engine.load.library import BUILTIN_ROOT, HeldPack, PackLibrary
    from engine.render.lineage import graph_export, lineage, render_text
    from engine.render.pack_docs import pack_markdown
    from engine.render.report import render_csv, render_table
    from engine.validate.schema import pack_schema

#: public name → the module that defines it
_HOMES = {
    # packs: find, compile, check
    "BUILTIN_ROOT": "engine.load.library",
    "PackLibrary": "engine.load.library",
    "HeldPack": "engine.load.library",
    "CompiledPack": "engine.compile.pack",
    "check_pack": "engine.compile.pack",
    "check_text": "engine.compile.pack",
    "compile_pack": "engine.compile.pack",
    "MetricFormula": "engine.formula.sites",
    "CheckAssertion": "engine.formula.sites",
    "RuleCondition": "engine.formula.sites",
    "MeasureExprs": "engine.formula.sites",
    "pack_schema": "engine.validate.schema",
    # problems and errors
    "CODES": "engine.core.problems",
    "RUNTIME_CODES": "engine.core.problems",
    "Problem": "engine.core.problems",
    "KpiError": "engine.core.errors",
    "PackError": "engine.core.errors",
    "PackNotFound": "engine.core.errors",
    "FormulaError": "engine.core.errors",
    "InputError": "engine.core.errors",
    "UnknownMetric": "engine.core.errors",
    # evaluation
    "GRAINS": "engine.core.periods",
    "OUTPUT_GRAINS": "engine.core.periods",
    "Evaluation": "engine.evaluate.evaluation",
    "evaluate": "engine.evaluate.evaluation",
    "read_table": "engine.evaluate.evaluation",
    "evaluate_records": "engine.evaluate.records",
    "DIALECTS": "engine.evaluate.measures",
    "measure_sql": "engine.evaluate.measures",
    "measured_sources": "engine.evaluate.measures",
    # for people and auditors
    "lineage": "engine.render.lineage",
    "graph_export": "engine.render.lineage",
    "render_text": "engine.render.lineage",
    "pack_markdown": "engine.render.pack_docs",
    "render_table": "engine.render.report",
    "render_csv": "engine.render.report",
}

__all__ = [
    "BUILTIN_ROOT",
    "CODES",
    "CheckAssertion",
    "CompiledPack",
    "DIALECTS",
    "Evaluation",
    "FormulaError",
    "GRAINS",
    "HeldPack",
    "InputError",
    "KpiError",
    "MeasureExprs",
    "MetricFormula",
    "OUTPUT_GRAINS",
    "PackError",
    "PackLibrary",
    "PackNotFound",
    "Problem",
    "RUNTIME_CODES",
    "RuleCondition",
    "UnknownMetric",
    "check_pack",
    "check_text",
    "compile_pack",
    "evaluate",
    "evaluate_records",
    "graph_export",
    "lineage",
    "measure_sql",
    "measured_sources",
    "pack_markdown",
    "pack_schema",
    "read_table",
    "render_csv",
    "render_table",
    "render_text",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'engine.api' has no attribute '{name}'")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return __all__
