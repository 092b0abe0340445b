"""KPI Forge engine: YAML packs → located documents → schema → pack model → formulas (sympy)
→ semantic rules → dependency graph → proofs → lineage.

The public façade is re-exported here, loaded lazily so that importing one stage (say
``engine.formula``) does not import them all.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CompiledPack": "engine.compile",
    "check_pack": "engine.compile",
    "check_text": "engine.compile",
    "compile_pack": "engine.compile",
    "FormulaError": "engine.errors",
    "KpiError": "engine.errors",
    "PackError": "engine.errors",
    "PackNotFound": "engine.errors",
    "UnknownMetric": "engine.errors",
    "PackLibrary": "engine.library",
    "graph_export": "engine.lineage",
    "lineage": "engine.lineage",
    "CODES": "engine.problems",
    "Problem": "engine.problems",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'engine' has no attribute '{name}'")
