"""KPI Forge engine: a KPI pack's YAML → a compiled, validated, explainable pack → values.

The pipeline, one package per stage::

    load/      pack files (or posted text) → located document; packs by id; extends resolved
    validate/  the JSON Schema and the semantic rules (problems with stable codes)
    formula/   the formula language: text → an unevaluated sympy tree, and back
    compile/   parsed formulas, dependency graph, proofs of the checks → CompiledPack
    evaluate/  plan, tables, frames, the NumPy backend; measures and SQL (DuckDB, Spark …)
    render/    lineage, reports, pack catalogs
    core/      what every stage shares: errors, problem codes, the pack model, periods, numbers
    demo/      a seeded bakery ledger (not part of the pipeline)

The public, typed façade is :mod:`engine.api`; its names are also importable from ``engine``
itself (loaded lazily), except ``evaluate``, which is the name of the evaluation stage here:
use ``engine.api.evaluate``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.api import (
        BUILTIN_ROOT,
        CODES,
        DIALECTS,
        GRAINS,
        MAX_COLUMNS,
        MAX_FILE_BYTES,
        OUTPUT_GRAINS,
        RUNTIME_CODES,
        XLSX_MEDIA_TYPE,
        Band,
        CheckAssertion,
        CheckResult,
        Code,
        Columns,
        CompiledPack,
        Definition,
        Evaluation,
        Expander,
        FormulaError,
        HeldPack,
        InputError,
        Judgement,
        KpiError,
        MeasureExprs,
        Metric,
        MetricFormula,
        Pack,
        PackError,
        PackLibrary,
        PackNotFound,
        Problem,
        RuleCondition,
        RuntimeCode,
        TemplateColumn,
        Text,
        UnknownMetric,
        check_pack,
        check_text,
        coarser_or_same,
        code_entry,
        compile_pack,
        configure_duckdb,
        content_digest,
        data_grain,
        decode_text,
        display_text,
        evaluate_records,
        format_value,
        graph_export,
        is_zh,
        join_stream,
        lineage,
        load_pack_text,
        mask_bidi,
        measure_sql,
        measured_sources,
        missing_translations,
        pack_markdown,
        pack_schema,
        parse_extends,
        parse_period,
        read_archive,
        read_csv_text,
        read_pack_folder,
        read_table,
        read_xlsx,
        render_csv,
        render_table,
        render_template,
        render_text,
        render_workbook,
        run_measures,
        source_lines,
        stream_files,
        template_columns,
        to_columns,
    )

#: stage packages whose names the façade also uses
_STAGES = frozenset({"evaluate"})


def __getattr__(name: str) -> Any:
    from engine import api

    if name in _STAGES or name not in api.__all__:
        raise AttributeError(f"module 'engine' has no attribute '{name}'")
    return getattr(api, name)


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
