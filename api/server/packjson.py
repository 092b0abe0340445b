"""A compiled pack as JSON: its header and every definition, with where each is defined.

A plain walk over the frozen dataclasses of :mod:`engine.core.model`, so that a field added to the
model appears here without a change: localized text becomes ``{locale: text}``, exact
fractions (band bounds) become numbers, ``origin`` becomes ``defined_in``. Candidate for a
move into the engine (a ``Pack.to_json``) so that the CLI can print the same.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from engine.api import CompiledPack, Definition, Problem, Text

_RENAME = {"source_ref": "source", "assertion": "assert", "origin": "defined_in"}
_SKIP = {"sources", "kind"}
_SECTIONS = (
    "dimensions",
    "params",
    "inputs",
    "metrics",
    "checks",
    "rules",
    "remedies",
    "views",
    "roles",
)


def plain(value: Any) -> Any:
    """Model values as JSON values."""
    if isinstance(value, Text):
        return value.to_json()
    if isinstance(value, Fraction):
        return float(value)
    if isinstance(value, Definition):
        return definition(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            _RENAME.get(f.name, f.name): plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in _SKIP
        }
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def definition(d: Definition) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(d):
        if f.name in _SKIP or f.name == "has_default":
            continue
        out[_RENAME.get(f.name, f.name)] = plain(getattr(d, f.name))
    return out


def pack_json(c: CompiledPack, warnings: list[Problem] | None = None) -> dict[str, Any]:
    """The whole compiled pack; checks carry what the compiler proved about them."""
    p = c.pack
    out: dict[str, Any] = {
        "id": p.id,
        "version": p.version,
        "title": p.title.to_json(),
        "description": p.description.to_json(),
        "industry": p.industry,
        "visibility": p.visibility,
        "locales": list(p.locales),
        "grain": p.grain,
        "extends": list(p.extends),
        "ancestors": list(p.ancestors),
    }
    for section in _SECTIONS:
        out[section] = {ident: definition(d) for ident, d in p.section(section).items()}
    for cid, proof in c.proofs.items():
        out["checks"][cid]["proof"] = proof.to_json()
    out["order"] = [list(g) for g in c.graph.generations]
    out["warnings"] = [w.to_json() for w in (c.warnings if warnings is None else warnings)]
    return out


def metric_json(c: CompiledPack, metric: str) -> dict[str, Any] | None:
    """One metric's definition (None if the pack has no such metric)."""
    d = c.pack.metrics.get(metric)
    if d is None:
        return None
    out = {"pack": c.pack.id, "version": c.pack.version, **definition(d)}
    out["upstream"] = sorted(c.graph.upstream(metric))
    out["downstream"] = sorted(c.graph.downstream(metric))
    return out
