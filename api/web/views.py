"""What the catalog, pack and indicator pages show, as plain values for the templates.

Everything is read from a compiled pack (:class:`engine.compile.pack.CompiledPack`) that the API's
catalog resolved for the visitor: these functions never decide who may read what.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.server.catalog import Listed
from engine.api import CompiledPack, Expander, Metric, Pack, format_value, lineage

from .mathml import Budget, to_mathml
from .svg import band_scale, lineage_graph


def pack_locale(pack: Pack, locale: str) -> str:
    """The visitor's language if the pack has it, else the pack's first."""
    return locale if locale in pack.locales else pack.default_locale


Card = tuple[dict[str, Any], str]  # a catalog card and the lower-cased text search looks through


def catalog_cards(items: list[Listed], locale: str) -> list[Card]:
    """One card per readable pack, from the summaries stored at publish time (a listing never
    compiles a pack), with the text that search matches: every language, every field."""
    out = []
    for item in items:
        rec, summary = item.record, item.summary
        entry: dict[str, Any] = {
            "id": item.id,
            "builtin": item.builtin,
            "visibility": item.visibility,
            "owner": rec.owner if rec else None,
            "compiled": summary is not None,
            "version": item.version,
            "title": item.id,
            "description": "",
            "industry": None,
            "counts": None,
        }
        haystack = [item.id]
        if summary is not None:
            locales = [str(x) for x in summary.get("locales", [])]
            entry.update(
                {
                    "title": item.text("title", locale, item.id),
                    "description": item.text("description", locale),
                    "industry": summary.get("industry"),
                    "locales": locales,
                    "counts": dict(summary["counts"]),
                }
            )
            haystack += [str(v) for _, v in summary.get("title", [])]
            haystack += [str(v) for _, v in summary.get("description", [])]
            haystack.append(str(summary.get("industry") or ""))
        out.append((entry, " ".join(haystack).lower()))
    return out


def search(cards: list[Card], query: str) -> list[dict[str, Any]]:
    """The cards that hold every word of ``query``."""
    terms = query.lower().split()
    return [entry for entry, text in cards if all(t in text for t in terms)]


def rules_by_node(c: CompiledPack) -> dict[str, list[str]]:
    """For each node, the rules whose condition uses it or that are attached to it (pack order)."""
    refs = {rid: site.names for rid, site in c.rules.items()}
    out: dict[str, list[str]] = {}
    for rid, rule in c.pack.rules.items():
        for ident in refs.get(rid, set()) | ({rule.metric} if rule.metric else set()):
            out.setdefault(ident, []).append(rid)
    return out


def _rules_using(c: CompiledPack, ident: str) -> list[str]:
    return rules_by_node(c).get(ident, [])


def rule_entry(
    c: CompiledPack, rid: str, locale: str, budget: Budget | None = None
) -> dict[str, Any]:
    rule = c.pack.rules[rid]
    site = c.rules.get(rid)
    return {
        "id": rid,
        "label": rule.label.get(locale, rid),
        "severity": rule.severity,
        "when": rule.when,
        "mathml": to_mathml(site.parsed.expr, rule.when, budget) if site else None,
        "causes": [cause.get(locale) for cause in rule.causes],
        "remedies": [remedy_entry(c, r, locale) for r in rule.remedies],
    }


def remedy_entry(c: CompiledPack, rid: str, locale: str) -> dict[str, Any]:
    remedy = c.pack.remedies.get(rid)
    if remedy is None:
        return {"id": rid, "label": rid, "detail": "", "owner": None}
    owner = c.pack.roles.get(remedy.owner) if remedy.owner else None
    return {
        "id": rid,
        "label": remedy.label.get(locale, rid),
        "detail": remedy.detail.get(locale),
        "owner": owner.label.get(locale, owner.id) if owner else remedy.owner,
    }


def metric_entry(
    c: CompiledPack,
    m: Metric,
    locale: str,
    budget: Budget | None = None,
    rules: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An indicator as the pack and indicator pages show it (``rules``: the entries of the rules
    that use it, if the caller has them already)."""
    site = c.metrics.get(m.id)
    p = c.pack
    return {
        "id": m.id,
        "label": m.label.get(locale, m.id),
        "description": m.description.get(locale),
        "formula": m.formula,
        "mathml": to_mathml(site.parsed.expr, m.formula, budget) if site else None,
        "unit": m.unit,
        "direction": m.direction,
        "benchmark": m.benchmark.get(locale),
        "scale": band_scale(m.bands, m.format, m.decimals, locale),
        "bands": [
            {
                "status": b.status,
                "label": b.label.get(locale, b.status),
                "advice": b.advice.get(locale),
                "min": None if b.min is None else format_value(float(b.min), m.format, m.decimals),
                "max": None if b.max is None else format_value(float(b.max), m.format, m.decimals),
                "remedies": [remedy_entry(c, r, locale) for r in b.remedies],
            }
            for b in m.bands
        ],
        "rules": rules
        if rules is not None
        else [rule_entry(c, r, locale, budget) for r in _rules_using(c, m.id)],
        "views": [
            {"id": v.id, "label": v.label.get(locale, v.id)}
            for v in p.views.values()
            if m.id in v.metrics
        ],
        "roles": [
            {"id": r.id, "label": r.label.get(locale, r.id)}
            for r in p.roles.values()
            if m.id in r.focus
        ],
    }


def pack_page(c: CompiledPack, locale: str) -> dict[str, Any]:
    """The pack page: header, indicators by category, inputs, checks with proofs, views, roles.

    Formulas are drawn as MathML within one :class:`Budget` for the page; past it they are text.
    """
    p = c.pack
    budget = Budget()
    rules = {rid: rule_entry(c, rid, locale, budget) for rid in p.rules}
    using = rules_by_node(c)
    categories: dict[str, list[dict[str, Any]]] = {}
    for m in p.metrics.values():
        entry = metric_entry(c, m, locale, budget, [rules[r] for r in using.get(m.id, [])])
        categories.setdefault(m.category or "", []).append(entry)
    checks = []
    for check in p.checks.values():
        site = c.checks.get(check.id)
        proof = c.proofs.get(check.id)
        checks.append(
            {
                "id": check.id,
                "label": check.label.get(locale, check.id),
                "assert": check.assertion,
                "mathml": to_mathml(site.parsed.expr, check.assertion, budget) if site else None,
                "severity": check.severity,
                "status": proof.status if proof else None,
                "residual": proof.residual if proof else None,
            }
        )
    return {
        "id": p.id,
        "version": p.version,
        "title": p.title.get(locale, p.id),
        "description": p.description.get(locale),
        "industry": p.industry,
        "locales": p.locales,
        "extends": p.extends,
        "grain": p.grain,
        "categories": sorted(categories.items(), key=lambda kv: (kv[0] == "", kv[0])),
        "inputs": [
            {
                "id": d.id,
                "kind": "input",
                "label": d.label.get(locale, d.id),
                "unit": d.unit,
                "description": d.description.get(locale),
            }
            for d in p.inputs.values()
        ],
        "params": [
            {
                "id": d.id,
                "kind": "param",
                "label": d.label.get(locale, d.id),
                "unit": d.unit,
                "value": d.value,
                "description": d.description.get(locale),
            }
            for d in p.params.values()
        ],
        "checks": checks,
        "rules": list(rules.values()),
        "views": [
            {
                "id": v.id,
                "label": v.label.get(locale, v.id),
                "description": v.description.get(locale),
                "metrics": [(mid, _label(p, mid, locale)) for mid in v.metrics],
            }
            for v in p.views.values()
        ],
        "roles": [
            {
                "id": r.id,
                "label": r.label.get(locale, r.id),
                "description": r.description.get(locale),
                "scenarios": [s.get(locale) for s in r.scenarios],
                "focus": [(mid, _label(p, mid, locale)) for mid in r.focus],
            }
            for r in p.roles.values()
        ],
        "has_example": False,
    }


def _label(p: Pack, ident: str, locale: str) -> str:
    d = p.node(ident)
    return d.label.get(locale, ident) if d else ident


def node_page(
    c: CompiledPack, ident: str, locale: str, redact: Callable[[Any], Any]
) -> dict[str, Any]:
    """The indicator page (also for an input or a param). Raises UnknownMetric."""
    info: dict[str, Any] = redact(lineage(c, ident, locale, kind="metric"))
    p = c.pack
    d = p.node(ident)
    labels = {n["id"]: n["label"] for n in info["upstream"]["nodes"]}
    labels.update({n: _label(p, n, locale) for n in info["downstream"]})
    out: dict[str, Any] = {
        "info": info,
        "kind": info["kind"],
        "labels": labels,
        "graph": lineage_graph(c.graph.graph, info, labels),
        "description": d.description.get(locale) if d else "",
        "metric": None,
        "expanded_mathml": None,
    }
    if isinstance(d, Metric):
        out["metric"] = metric_entry(c, d, locale)
        expr = Expander(c.metrics, c.graph).metric(ident)
        out["expanded_mathml"] = (
            to_mathml(expr, info.get("expanded") or "") if expr is not None else None
        )
    proofs = []
    for cid in info["downstream_checks"]:
        check, proof = p.checks[cid], c.proofs.get(cid)
        site = c.checks.get(cid)
        proofs.append(
            {
                "id": cid,
                "label": check.label.get(locale, cid),
                "assert": check.assertion,
                "mathml": to_mathml(site.parsed.expr, check.assertion) if site else None,
                "status": proof.status if proof else None,
                "residual": proof.residual if proof else None,
                "reason": proof.reason if proof else "",
                "using": list(proof.using) if proof else [],
            }
        )
    out["proofs"] = proofs
    out["rules"] = [rule_entry(c, r, locale) for r in info["downstream_rules"]]
    return out
