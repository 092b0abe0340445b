"""KPI-R001 unknown references (with "did you mean"), KPI-R016 a metric that uses itself."""

from __future__ import annotations

from collections.abc import Iterator

from engine.core.problems import Problem
from engine.formula.sites import MetricFormula
from engine.validate.context import Context, Suggester


def check_references(ctx: Context) -> Iterator[Problem]:
    names = ctx.names()
    hint_for = Suggester(names)
    for site in ctx.sites():
        for ref in site.parsed.refs:
            if ref.name not in names:
                yield Problem.at(
                    "KPI-R001",
                    f"unknown name '{ref.name}' in the {site.what} of '{site.owner.id}'",
                    site.loc(ref.offset),
                    path=site.path,
                    hint=hint_for(ref.name) or "define it under inputs, metrics or params",
                )
            elif isinstance(site, MetricFormula) and ref.name == site.id and not ref.lagged:
                yield Problem.at(
                    "KPI-R016",
                    f"metric '{ref.name}' uses itself",
                    site.loc(ref.offset),
                    path=site.path,
                    hint=f"to use last period's value write previous({ref.name})",
                )
