"""Stage 4, evaluate: a compiled pack over data → values. The plan (what to compute, at which
grain), input tables, frames at a grain, the NumPy backend, and measures: inputs computed from
raw ledgers, and whole plans rendered as SQL for DuckDB, Spark and other engines."""
