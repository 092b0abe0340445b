"""KPI-R014 optional inputs need a default, KPI-R011 inputs nothing uses (warning)."""

from __future__ import annotations

from collections.abc import Iterator

from engine.core.problems import Problem
from engine.formula import RESERVED_WORDS
from engine.validate.context import Context


def check_inputs(ctx: Context) -> Iterator[Problem]:
    used = {ref.name for site in ctx.sites() for ref in site.parsed.refs}
    for i in ctx.pack.inputs.values():
        if not i.required and not i.has_default:
            yield Problem.at(
                "KPI-R014",
                f"input '{i.id}' is optional (required: false) but has no default",
                i.loc("required"),
                path=f"inputs.{i.id}",
                hint="add 'default: 0' (or 'default: null' to leave it empty when missing)",
            )
        if (
            i.id not in used
            and i.inherited_from is None
            and i.origin.pack == ctx.pack.id
            and i.id.isidentifier()
            and i.id not in RESERVED_WORDS
            and not i.id.startswith("__")
        ):
            yield Problem.at(
                "KPI-R011",
                f"input '{i.id}' is not used by any metric, check or rule",
                i.loc(),
                path=f"inputs.{i.id}",
                hint="remove it, or use it in a formula",
            )
