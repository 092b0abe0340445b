"""Links between definitions: KPI-R007 remedies of rules, KPI-R008 owners of remedies,
KPI-R009 metrics of views and role focus, rules of checks and the metric of a rule."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from engine.core.characters import describe_full_width
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
            hint = (
                _full_width_comma(ident, known)
                or suggest(ident, set(known))
                or f"define it under {_HOME[what]}"
            )
            yield Problem.at(
                code,
                f"{owner.kind} '{owner.id}': unknown {what} '{ident}' in '{field}'",
                owner.loc(field, k),
                path=f"{section}.{owner.id}.{field}.{k}",
                hint=hint,
            )


def _full_width_comma(ident: str, known: Mapping[str, object]) -> str | None:
    """`[净充值，消费占比]`: YAML reads one item, since a full-width comma is no separator."""
    found = re.search("[\uff0c\u3001]", ident)
    parts = [x.strip() for x in re.split("[\uff0c\u3001]", ident)]
    if found is None or not all(x in known for x in parts):
        return None
    return (
        f"{describe_full_width(found.group())} does not separate list items in YAML: "
        f"write [{', '.join(parts)}] with the half-width ','"
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
