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
    from engine.compile.expand import Expander
    from engine.compile.pack import CompiledPack, check_pack, check_text, compile_pack
    from engine.core.characters import mask_bidi
    from engine.core.display import display_text, format_value
    from engine.core.encodings import decode_text
    from engine.core.errors import (
        FormulaError,
        InputError,
        KpiError,
        PackError,
        PackNotFound,
        UnknownMetric,
    )
    from engine.core.model import Band, Definition, Metric, Pack, Text
    from engine.core.periods import GRAINS, OUTPUT_GRAINS, coarser_or_same, parse_period
    from engine.core.problem_codes import is_zh
    from engine.core.problems import CODES, Code, Problem
    from engine.core.runtime_codes import RUNTIME_CODES, RuntimeCode, code_entry
    from engine.evaluate.evaluation import (
        CheckResult,
        Evaluation,
        Judgement,
        data_grain,
        evaluate,
        read_table,
    )
    from engine.evaluate.measures import DIALECTS, measure_sql, measured_sources
    from engine.evaluate.measures.run import configure_duckdb, run_measures
    from engine.evaluate.records import evaluate_records
    from engine.evaluate.table import MAX_COLUMNS, Columns, read_csv_text, to_columns
    from engine.evaluate.workbook import XLSX_MEDIA_TYPE, read_xlsx
    from engine.formula.sites import CheckAssertion, MeasureExprs, MetricFormula, RuleCondition
    from engine.load.library import BUILTIN_ROOT, HeldPack, PackLibrary, parse_extends
    from engine.load.located import MAX_FILE_BYTES, source_lines
    from engine.load.sources import content_digest, load_pack_text, read_pack_folder
    from engine.load.stream import join_stream, read_archive, stream_files
    from engine.render.lineage import graph_export, lineage, render_text
    from engine.render.pack_docs import pack_markdown
    from engine.render.report import render_csv, render_table
    from engine.render.template import TemplateColumn, render_template, template_columns
    from engine.render.workbook import render_workbook
    from engine.validate.locales import missing_translations
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
    "missing_translations": "engine.validate.locales",
    # problems and errors
    "CODES": "engine.core.problems",
    "RUNTIME_CODES": "engine.core.runtime_codes",
    "code_entry": "engine.core.runtime_codes",
    "is_zh": "engine.core.problem_codes",
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
    "coarser_or_same": "engine.core.periods",
    "parse_period": "engine.core.periods",
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
    "render_workbook": "engine.render.workbook",
    "template_columns": "engine.render.template",
    "render_template": "engine.render.template",
    "TemplateColumn": "engine.render.template",
    # more names the CLI, the server and the web pages use
    "parse_extends": "engine.load.library",
    "load_pack_text": "engine.load.sources",
    # pack folders as one text (publish, pull) and as zip archives
    "read_pack_folder": "engine.load.sources",
    "content_digest": "engine.load.sources",
    "join_stream": "engine.load.stream",
    "stream_files": "engine.load.stream",
    "read_archive": "engine.load.stream",
    "Pack": "engine.core.model",
    "Definition": "engine.core.model",
    "Metric": "engine.core.model",
    "Band": "engine.core.model",
    "Text": "engine.core.model",
    "Expander": "engine.compile.expand",
    "Code": "engine.core.problems",
    "RuntimeCode": "engine.core.runtime_codes",
    "Columns": "engine.evaluate.table",
    "MAX_COLUMNS": "engine.evaluate.table",
    "read_csv_text": "engine.evaluate.table",
    "to_columns": "engine.evaluate.table",
    "decode_text": "engine.core.encodings",
    "read_xlsx": "engine.evaluate.workbook",
    "XLSX_MEDIA_TYPE": "engine.evaluate.workbook",
    "CheckResult": "engine.evaluate.evaluation",
    "Judgement": "engine.evaluate.evaluation",
    "data_grain": "engine.evaluate.evaluation",
    "configure_duckdb": "engine.evaluate.measures.run",
    "run_measures": "engine.evaluate.measures.run",
    "format_value": "engine.core.display",
    "display_text": "engine.core.display",
    "mask_bidi": "engine.core.characters",
    "source_lines": "engine.load.located",
    "MAX_FILE_BYTES": "engine.load.located",
}

__all__ = [
    "BUILTIN_ROOT",
    "Band",
    "CODES",
    "CheckAssertion",
    "CheckResult",
    "Code",
    "Columns",
    "CompiledPack",
    "DIALECTS",
    "Definition",
    "Evaluation",
    "Expander",
    "FormulaError",
    "GRAINS",
    "HeldPack",
    "InputError",
    "Judgement",
    "KpiError",
    "MAX_COLUMNS",
    "MAX_FILE_BYTES",
    "MeasureExprs",
    "Metric",
    "MetricFormula",
    "OUTPUT_GRAINS",
    "Pack",
    "PackError",
    "PackLibrary",
    "PackNotFound",
    "Problem",
    "RUNTIME_CODES",
    "RuleCondition",
    "RuntimeCode",
    "TemplateColumn",
    "Text",
    "UnknownMetric",
    "XLSX_MEDIA_TYPE",
    "check_pack",
    "check_text",
    "coarser_or_same",
    "code_entry",
    "compile_pack",
    "configure_duckdb",
    "content_digest",
    "data_grain",
    "decode_text",
    "display_text",
    "evaluate",
    "evaluate_records",
    "format_value",
    "graph_export",
    "is_zh",
    "join_stream",
    "lineage",
    "load_pack_text",
    "mask_bidi",
    "measure_sql",
    "measured_sources",
    "missing_translations",
    "pack_markdown",
    "pack_schema",
    "parse_extends",
    "parse_period",
    "read_archive",
    "read_csv_text",
    "read_pack_folder",
    "read_table",
    "read_xlsx",
    "render_csv",
    "render_table",
    "render_template",
    "render_text",
    "render_workbook",
    "run_measures",
    "source_lines",
    "stream_files",
    "template_columns",
    "to_columns",
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
