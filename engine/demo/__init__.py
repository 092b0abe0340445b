"""Demo data, outside the pipeline: a seeded bakery card ledger for ``kpi demo-data`` and
``make run``."""
