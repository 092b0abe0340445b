"""Links between definitions: KPI-R007 remedies of rules, KPI-R008 owners of remedies,
KPI-R009 metrics of views and role focus, rules of checks and the metric of a rule."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from engine.core.model import Definition
from engine.core.problems import Problem
from engine.validate.context import Context, suggest

_HOME = {"remedy": "remedies", "metric": "metrics", "rule": "rules"}


def _refs(
    code: str,
    owner: Definition,
    section: str,
    field: str,
    ids: tuple[str, ...],
    known: Mapping[str, object],
    what: str,
) -> Iterator[Problem]:
    """One problem per id in ``ids`` that ``known`` does not define."""
    for k, ident in enumerate(ids):
        if ident not in known:
            hint = suggest(ident, set(known)) or f"define it under {_HOME[what]}"
            yield Problem.at(
                code,
                f"{owner.kind} '{owner.id}': unknown {what} '{ident}' in '{field}'",
                owner.loc(field, k),
                path=f"{section}.{owner.id}.{field}.{k}",
                hint=hint,
            )


def check_links(ctx: Context) -> Iterator[Problem]:
    p = ctx.pack
    for r in p.rules.values():
        yield from _refs("KPI-R007", r, "rules", "remedies", r.remedies, p.remedies, "remedy")
        if r.metric is not None and r.metric not in p.metrics:
            yield Problem.at(
                "KPI-R009",
                f"rule '{r.id}': unknown metric '{r.metric}'",
                r.loc("metric"),
                path=f"rules.{r.id}.metric",
                hint=suggest(r.metric, set(p.metrics)),
            )
    for rem in p.remedies.values():
        if rem.owner is not None and rem.owner not in p.roles:
            yield Problem.at(
                "KPI-R008",
                f"remedy '{rem.id}': unknown role '{rem.owner}'",
                rem.loc("owner"),
                path=f"remedies.{rem.id}.owner",
                hint=suggest(rem.owner, set(p.roles)) or "define the role under roles",
            )
    for v in p.views.values():
        yield from _refs("KPI-R009", v, "views", "metrics", v.metrics, p.metrics, "metric")
    for role in p.roles.values():
        yield from _refs("KPI-R009", role, "roles", "focus", role.focus, p.metrics, "metric")
    for c in p.checks.values():
        yield from _refs("KPI-R009", c, "checks", "rules", c.rules, p.rules, "rule")
