"""KPI-R005 bad ids, KPI-R002 one id in two of inputs / metrics / params."""

from __future__ import annotations

import re
from collections.abc import Iterator

from engine.formula import RESERVED_WORDS
from engine.problems import Problem
from engine.validate.context import Context

_SECTIONS = ("dimensions", "sources", "params", "inputs", "metrics", "checks", "rules", "remedies", "views",
             "roles")
_SHARED = ("inputs", "params", "metrics")  # one namespace: formulas name them alike (and data columns,
# with the dimensions)


def check_ids(ctx: Context) -> Iterator[Problem]:
    for section in _SECTIONS:
        for ident, d in ctx.pack.section(section).items():
            if not ident.isidentifier():
                why = "starts with a digit" if ident[:1].isdigit() else "holds characters other than letters, digits and _"
                yield Problem.at("KPI-R005", f"'{ident}' is not a valid id: it {why}", d.loc(),
                                 path=f"{section}.{ident}", hint=_fix(ident))
            elif ident.startswith("__"):
                yield Problem.at("KPI-R005", f"'{ident}' starts with two underscores, which formulas refuse",
                                 d.loc(), path=f"{section}.{ident}", hint=f"use '{ident.lstrip('_')}' instead")
            elif ident == "period" and section in ("inputs", "metrics", "params", "dimensions"):
                yield Problem.at("KPI-R005", "'period' is the name of the data's period column", d.loc(),
                                 path=f"{section}.{ident}", hint="choose another id, e.g. 'period_value'")
            elif ident in RESERVED_WORDS:
                yield Problem.at("KPI-R005", f"'{ident}' is a reserved word of the formula language", d.loc(),
                                 path=f"{section}.{ident}", hint=f"choose another id, e.g. '{ident}_value'")
    seen: dict[str, str] = {}
    for section in ("dimensions", *_SHARED):
        for ident, d in ctx.pack.section(section).items():
            if ident in seen:
                first = ctx.pack.section(seen[ident])[ident]
                yield Problem.at(
                    "KPI-R002", f"'{ident}' is both {_a(seen[ident])} ({first.origin.file}:{first.origin.line}) "
                    f"and {_a(section)}", d.loc(), path=f"{section}.{ident}",
                    hint="inputs, metrics, params and dimensions share one set of ids (they are the data's "
                    "columns and the formulas' names); rename one of them")
            else:
                seen[ident] = section


def _a(section: str) -> str:
    return {"inputs": "an input", "params": "a param", "metrics": "a metric", "dimensions": "a dimension"}[section]


def _fix(ident: str) -> str:
    candidate = re.sub(r"\W", "_", ident)
    if candidate[:1].isdigit():
        candidate = "_" + candidate
    return f"use letters, digits and _ only, e.g. '{candidate}'" if candidate.isidentifier() else "use letters, digits and _"
