"""KPI Forge engine: YAML packs → located documents → schema → pack model → formulas (sympy)
→ semantic rules → dependency graph → proofs → lineage.

The public façade is re-exported here, loaded lazily so that importing one stage (say
``engine.formula``) does not import them all.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CompiledPack": "engine.compile.pack",
    "check_pack": "engine.compile.pack",
    "check_text": "engine.compile.pack",
    "compile_pack": "engine.compile.pack",
    "FormulaError": "engine.core.errors",
    "KpiError": "engine.core.errors",
    "PackError": "engine.core.errors",
    "PackNotFound": "engine.core.errors",
    "UnknownMetric": "engine.core.errors",
    "PackLibrary": "engine.load.library",
    "graph_export": "engine.render.lineage",
    "lineage": "engine.render.lineage",
    "CODES": "engine.core.problems",
    "Problem": "engine.core.problems",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'engine' has no attribute '{name}'")
