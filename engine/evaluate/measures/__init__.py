"""Inputs computed from raw ledgers (docs/measures.md).

* :mod:`engine.evaluate.measures.sqlexpr` — formula trees as SQLGlot expressions;
* :mod:`engine.evaluate.measures.sqlparts` — dialects, grains and small SQL builders they share;
* :mod:`engine.evaluate.measures.query` — a source's measures as one query (event, to-date and
  entity measures), rendered for any of :data:`DIALECTS`; its entity part in
  :mod:`engine.evaluate.measures.entity`, its records grouped by enumerated columns first when the
  measures allow it in :mod:`engine.evaluate.measures.preagg`;
* :mod:`engine.evaluate.measures.metrics` — a whole evaluation plan as SQL (metrics too), and
  :func:`measure_sql` for any dialect;
* :mod:`engine.evaluate.measures.checks` — a source's records checked against the pack (export
  cells read first by :mod:`engine.evaluate.measures.export_cells`);
* :mod:`engine.evaluate.measures.run` — sources loaded and the queries run on DuckDB;
  sources given in memory are registered and typed by :mod:`engine.evaluate.measures.memory`.

Imports go one way: sqlexpr, sqlparts ← preagg, entity ← query ← metrics; export_cells ← checks,
memory, ledger_files ← run.
"""

from engine.evaluate.measures.checks import check_source
from engine.evaluate.measures.metrics import measure_sql, metric_query, sql_metrics, sql_plan
from engine.evaluate.measures.query import measure_query, measured_sources
from engine.evaluate.measures.run import (
    Records,
    merge_inputs,
    open_sources,
    run_measures,
)
from engine.evaluate.measures.sqlparts import DIALECTS, GRAINS

__all__ = [
    "DIALECTS",
    "GRAINS",
    "Records",
    "check_source",
    "measure_query",
    "measure_sql",
    "measured_sources",
    "merge_inputs",
    "metric_query",
    "open_sources",
    "run_measures",
    "sql_metrics",
    "sql_plan",
]
