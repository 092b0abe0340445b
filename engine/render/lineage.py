"""Stage 8: lineage — what a number is made of, down to the raw inputs, and where it came from.

:func:`lineage` gives the JSON of ``pack-language.md`` §10 (with more keys), :func:`render_text`
a tree for the terminal, and :func:`graph_export` the whole graph as JSON, DOT or Mermaid.
"""

from __future__ import annotations

import json
from typing import Any

from engine.compile.expand import MAX_EXPANDED_DEPTH, MAX_EXPANDED_NODES, SIZE_CAP, Expander
from engine.compile.pack import CompiledPack
from engine.core.errors import UnknownMetric
from engine.core.model import NAMESPACE, Check, Input, Metric, Rule
from engine.formula import ENTITY_NAMES, to_latex, to_text
from engine.formula.functions import BUILTINS
from engine.validate.context import suggest

_KIND_ORDER = {"metric": 0, "input": 1, "param": 2, "builtin": 3}


def _labels(c: CompiledPack, locale: str) -> dict[str, str]:
    names = {k: k for k in BUILTINS}
    for section in NAMESPACE:
        for ident, d in c.pack.section(section).items():
            names[ident] = d.label.get(locale, ident)
    return names


def _node(c: CompiledPack, ident: str, locale: str) -> dict[str, Any]:
    kind = c.graph.graph.nodes[ident]["kind"]
    d = c.pack.node(ident)
    out: dict[str, Any] = {
        "id": ident,
        "kind": kind,
        "label": d.label.get(locale, ident) if d else ident,
    }
    if isinstance(d, Metric):
        out["formula"] = d.formula
    if d is not None and getattr(d, "unit", None):
        out["unit"] = d.unit
    rollup = getattr(d, "rollup", None)
    if rollup is not None:  # how the value combines at a coarser grain (balances are semi-additive)
        out["rollup"] = {"time": rollup.time, "dims": rollup.dims}
    if isinstance(d, Input) and d.measure is not None:
        out["measure"] = measure_json(c, d, locale)
    if kind == "builtin":
        out["description"] = BUILTINS[ident]
    return out


def measure_json(c: CompiledPack, i: Input, locale: str) -> dict[str, Any]:
    """How an input is computed from the raw ledger: its source, aggregate, expressions, the
    columns they read, and a sentence that says it."""
    m = i.measure
    assert m is not None
    source = c.pack.sources.get(m.source)
    columns: set[str] = set()
    for parsed, mode in c.measures[i.id].each():
        columns |= {
            r.name
            for r in parsed.refs
            if r.name not in c.pack.params
            and r.name not in ENTITY_NAMES
            and (r.in_attribute or mode == "measure")
        }
    out: dict[str, Any] = {
        "source": m.source,
        "source_label": source.label.get(locale, m.source) if source else m.source,
        "agg": m.agg,
        "of": list(m.terms) if m.more else m.of,
        "where": m.where,
        "as_of": m.as_of,
        "per": m.per,
        "since": m.since,
        "until": m.until,
        "having": m.having,
        "columns": sorted(columns),
        "params": sorted(
            {r.name for p, _ in c.measures[i.id].each() for r in p.refs if r.name in c.pack.params}
        ),
    }
    if source is not None:
        out.update(
            {"time": source.time, "entity": source.entity, "dimensions": dict(source.dimensions)}
        )
    out["text"] = measure_text(m)
    return out


def measure_text(m: Any) -> str:
    """A measure in one line: 'sum of amount where kind == 'recharge' over card_events'."""
    of = ", ".join(m.terms) if m.terms else None
    if m.per == "entity":
        what = f"{m.agg} of entities" if m.agg == "count" else f"{m.agg} of {of} over entities"
        parts = [what]
        if m.since:
            parts.append(f"in life from {m.since}" + (f" until {m.until}" if m.until else ""))
        elif m.until:
            parts.append(f"until {m.until}")
        if m.having:
            parts.append(f"having {' '.join(m.having.split())}")
    else:
        what = {"count": "count of records", "count_distinct": f"distinct ({of})"}.get(
            m.agg, f"{m.agg} of {of}"
        )
        if m.agg == "count" and of:
            what = f"count of {of}"
        parts = [what]
        if m.where:
            parts.append(f"where {' '.join(m.where.split())}")
    if m.as_of:
        parts.append(f"as of the period's {m.as_of}")
    return " ".join(parts) + f" — source {m.source}"


def lineage(
    c: CompiledPack, ident: str, locale: str | None = None, kind: str | None = None
) -> dict[str, Any]:
    """The lineage of a metric (or of an input or param: then only its dependents), or of a check
    or a rule (``kind``: "check" / "rule"; without it, a metric, input or param first): what its
    formula is made of, down to the inputs and, for measured inputs, the raw ledger."""
    pack = c.pack
    locale = locale or pack.default_locale
    d = pack.node(ident) if kind in (None, "metric", "input", "param") else None
    if d is None and kind in (None, "check", "rule"):
        owner = (pack.checks.get(ident) if kind in (None, "check") else None) or (
            pack.rules.get(ident) if kind in (None, "rule") else None
        )
        if owner is not None:
            return _site_lineage(c, owner, locale)
    if d is None:
        known = (
            set(pack.metrics)
            | set(pack.inputs)
            | set(pack.params)
            | set(pack.checks)
            | set(pack.rules)
        )
        hint = suggest(ident, known)
        raise UnknownMetric(
            f"pack '{pack.id}' has no metric, input, param, check or rule '{ident}'"
            + (f"; {hint}" if hint else "")
        )
    g = c.graph
    names = _labels(c, locale)
    up = g.upstream(ident)
    order = {n: i for i, n in enumerate(g.graph.nodes)}
    members = sorted(
        up | {ident}, key=lambda n: (n != ident, _KIND_ORDER[g.graph.nodes[n]["kind"]], order[n])
    )
    member_set = set(members)
    edges = sorted(
        ((a, b) for a, b in g.graph.subgraph(member_set).edges),
        key=lambda e: (order[e[1]], order[e[0]]),
    )
    down = g.downstream(ident)
    out: dict[str, Any] = {
        "pack": pack.id,
        "version": pack.version,
        "metric": ident,
        "kind": d.kind,
        "label": d.label.get(locale, ident),
        "labels": d.label.to_json(),
        "locale": locale,
        "formula": d.formula if isinstance(d, Metric) else None,
    }
    if isinstance(d, Metric):
        out.update(_expansion(c, ident, names))
    out.update(
        {
            "inputs": sorted(n for n in up if g.graph.nodes[n]["kind"] == "input"),
            "params": sorted(n for n in up if g.graph.nodes[n]["kind"] == "param"),
            "builtins": sorted(n for n in up if g.graph.nodes[n]["kind"] == "builtin"),
            "upstream": {
                "nodes": [_node(c, n, locale) for n in members],
                "edges": [[a, b] for a, b in edges],
                "lagged_edges": [[a, b] for a, b in edges if g.lagged(a, b)],
            },
            "downstream": sorted((n for n in down if n != ident), key=order.__getitem__),
            "downstream_checks": sorted(
                k for k, s in c.checks.items() if s.names & ({ident} | down)
            ),
            "downstream_rules": sorted(r for r, s in c.rules.items() if s.names & ({ident} | down)),
            "defined_in": {**d.origin.to_json()},
            "inherited_from": d.inherited_from,
            "source": getattr(d, "source_ref", None),
            "unit": getattr(d, "unit", None),
        }
    )
    if isinstance(d, Metric):
        out["benchmark"] = d.benchmark.get(locale) or None
    out["measured_from"] = _ledger(c, members, locale)
    return out


def _ledger(c: CompiledPack, members: list[str], locale: str) -> list[dict[str, Any]]:
    """The measured inputs among ``members``, each with how the raw ledger gives it."""
    out = []
    for n in members:
        i = c.pack.inputs.get(n)
        if i is not None and i.measure is not None:
            out.append({"input": n, **measure_json(c, i, locale)})
    return out


def _site_lineage(c: CompiledPack, owner: Check | Rule, locale: str) -> dict[str, Any]:
    """The lineage of a check's assertion or a rule's condition."""
    kind = "check" if isinstance(owner, Check) else "rule"
    site = c.checks[owner.id] if isinstance(owner, Check) else c.rules[owner.id]
    g = c.graph
    refs = {r.name for r in site.parsed.refs if r.name in g.graph}
    up: set[str] = set(refs)
    for r in refs:
        up |= g.upstream(r)
    order = {n: i for i, n in enumerate(g.graph.nodes)}
    members = sorted(up, key=lambda n: (_KIND_ORDER[g.graph.nodes[n]["kind"]], order[n]))
    edges = sorted(
        ((a, b) for a, b in g.graph.subgraph(set(members)).edges),
        key=lambda e: (order[e[1]], order[e[0]]),
    )
    names = _labels(c, locale)
    text = owner.assertion if isinstance(owner, Check) else owner.when
    out: dict[str, Any] = {
        "pack": c.pack.id,
        "version": c.pack.version,
        "metric": owner.id,
        "kind": kind,
        "label": owner.label.get(locale, owner.id),
        "labels": owner.label.to_json(),
        "locale": locale,
        "formula": text,
        "formula_labeled": to_text(site.parsed.expr, names),
        "formula_latex": to_latex(site.parsed.expr),
        "names": sorted(refs, key=order.__getitem__),
        "inputs": sorted(n for n in up if g.graph.nodes[n]["kind"] == "input"),
        "params": sorted(n for n in up if g.graph.nodes[n]["kind"] == "param"),
        "builtins": sorted(n for n in up if g.graph.nodes[n]["kind"] == "builtin"),
        "upstream": {
            "nodes": [_node(c, n, locale) for n in members],
            "edges": [[a, b] for a, b in edges],
            "lagged_edges": [[a, b] for a, b in edges if g.lagged(a, b)],
        },
        "downstream": [],
        "downstream_checks": [],
        "downstream_rules": [],
        "defined_in": {**owner.origin.to_json()},
        "inherited_from": owner.inherited_from,
        "source": owner.source_ref,
        "severity": owner.severity,
        "measured_from": _ledger(c, members, locale),
    }
    if isinstance(owner, Check):
        proof = c.proofs.get(owner.id)
        out.update(
            {
                "tolerance": owner.tolerance,
                "tolerance_relative": owner.tolerance_relative,
                "rules": list(owner.rules),
                "proof": proof.to_json() if proof else None,
            }
        )
    else:
        out.update(
            {
                "causes": [t.get(locale) for t in owner.causes],
                "remedies": list(owner.remedies),
                "metric_of_rule": owner.metric,
            }
        )
    return out


def _expansion(c: CompiledPack, ident: str, names: dict[str, str]) -> dict[str, Any]:
    expander = Expander(c.metrics, c.graph)
    parsed = c.metrics[ident].parsed
    expr = expander.metric(ident)
    out: dict[str, Any] = {
        "formula_labeled": to_text(parsed.expr, names),
        "formula_latex": to_latex(parsed.expr),
    }
    if expr is None:
        out.update(
            {
                "expanded": None,
                "expanded_labeled": None,
                "latex": None,
                "latex_labeled": None,
                "expanded_note": f"too large to expand: {_parts(expander.size(ident))} (the "
                f"limit is {MAX_EXPANDED_NODES:,} parts and {MAX_EXPANDED_DEPTH} levels)",
            }
        )
        return out
    out.update(
        {
            "expanded": to_text(expr),
            "expanded_labeled": to_text(expr, names),
            "latex": to_latex(expr),
            "latex_labeled": to_latex(expr, names),
        }
    )
    return out


def _parts(size: int) -> str:
    return f"{size:,} parts" if size < SIZE_CAP else f"more than {SIZE_CAP:,} parts"


def render_text(info: dict[str, Any], c: CompiledPack, max_lines: int = 200) -> str:
    """Lineage as a person reads it in a terminal: header, formulas and the upstream tree."""
    locale = info["locale"]
    lines = [f"{info['metric']} — {info['label']}", ""]
    d = info["defined_in"]
    lines.append(f"  defined in   {d['file']}:{d['line']} (pack {d['pack']})")
    if info.get("inherited_from"):
        lines.append(f"  overrides    the definition of pack {info['inherited_from']}")
    if info.get("source"):
        lines.append(f"  source       {info['source']}")
    if info.get("formula"):
        lines.append(f"  formula      {info['formula']}")
        lines.append(f"  in words     {info['formula_labeled']}")
        expanded = info.get("expanded")
        if info["kind"] == "metric":
            lines.append(
                f"  expanded     {expanded}"
                if expanded
                else f"  expanded     ({info.get('expanded_note')})"
            )
    for key in ("inputs", "params", "builtins"):
        if info[key]:
            lines.append(f"  {key:<12} {', '.join(info[key])}")
    lines += ["", "  made of:"]
    if info["kind"] in ("check", "rule"):
        for name in info["names"]:
            lines += _tree(c, name, locale, max_lines)
    else:
        lines += _tree(c, info["metric"], locale, max_lines)
    if info.get("measured_from"):
        lines += ["", "  from the raw ledger:"]
        for m in info["measured_from"]:
            lines.append(f"    {m['input']} = {m['text']}")
    if info["downstream"]:
        lines += ["", f"  used by      {', '.join(info['downstream'])}"]
    for key, title in (("downstream_checks", "checks"), ("downstream_rules", "rules")):
        if info[key]:
            lines.append(f"  {title:<12} {', '.join(info[key])}")
    return "\n".join(lines)


def _tree(c: CompiledPack, root: str, locale: str, max_lines: int) -> list[str]:
    """The upstream tree; a node already shown is marked instead of repeated."""
    g = c.graph.graph
    shown: set[str] = set()
    out: list[str] = []
    order = {n: i for i, n in enumerate(g.nodes)}
    stack: list[tuple[str, str, bool, bool, bool]] = [(root, "    ", True, False, True)]
    while stack and len(out) < max_lines:
        node, prefix, last, lagged, top = stack.pop()
        d = c.pack.node(node)
        label = d.label.get(locale, node) if d else node
        kind = g.nodes[node]["kind"]
        connector = "" if top else ("└── " if last else "├── ")
        tag = "previous " if lagged else ""
        text = f"{prefix}{connector}{tag}{node} ({label})"
        if isinstance(d, Metric):
            text += f" = {d.formula}"
        elif kind != "metric":
            text += f" [{kind}]"
        if node in shown and kind == "metric":
            out.append(text.split(" = ")[0] + " (see above)")
            continue
        out.append(text)
        shown.add(node)
        children = sorted(g.predecessors(node), key=order.__getitem__)
        child_prefix = prefix if top else prefix + ("    " if last else "│   ")
        for i, child in reversed(list(enumerate(children))):
            stack.append(
                (
                    child,
                    child_prefix,
                    i == len(children) - 1,
                    bool(g.edges[child, node].get("lagged")),
                    False,
                )
            )
    if stack:
        out.append("    … (tree truncated)")
    return out


def graph_export(c: CompiledPack, fmt: str, locale: str | None = None) -> str:
    """The whole dependency graph as ``json``, ``dot`` or ``mermaid`` text."""
    locale = locale or c.pack.default_locale
    g = c.graph.graph
    nodes = [_node(c, n, locale) for n in g.nodes]
    edges = [(a, b, bool(lag)) for a, b, lag in g.edges(data="lagged")]
    if fmt == "json":
        return json.dumps(
            {
                "pack": c.pack.id,
                "version": c.pack.version,
                "nodes": nodes,
                "edges": [{"from": a, "to": b, "lagged": lag} for a, b, lag in edges],
                "order": [list(gen) for gen in c.graph.generations],
            },
            ensure_ascii=False,
            indent=2,
        )
    if fmt == "dot":
        shapes = {"metric": "box", "input": "ellipse", "param": "diamond", "builtin": "plaintext"}
        lines = [f"digraph {_dot_id(c.pack.id)} {{", "  rankdir=LR;"]
        lines += [
            f"  {_dot_id(n['id'])} [label={_dot_id(n['id'] + chr(10) + n['label'])}, "
            f"shape={shapes[n['kind']]}];"
            for n in nodes
        ]
        lines += [
            f"  {_dot_id(a)} -> {_dot_id(b)}{' [style=dashed, label=previous]' if lag else ''};"
            for a, b, lag in edges
        ]
        return "\n".join([*lines, "}"])
    if fmt == "mermaid":
        key = {n["id"]: f"n{i}" for i, n in enumerate(nodes)}
        shape = {
            "metric": ('["', '"]'),
            "input": ('(["', '"])'),
            "param": ('{{"', '"}}'),
            "builtin": ('>"', '"]'),
        }
        lines = ["flowchart LR"]
        for n in nodes:
            open_, close = shape[n["kind"]]
            text = f"{n['id']}<br/>{_mermaid(n['label'])}"
            lines.append(f"  {key[n['id']]}{open_}{text}{close}")
        lines += [
            f"  {key[a]} {'-. previous .->' if lag else '-->'} {key[b]}" for a, b, lag in edges
        ]
        return "\n".join(lines)
    raise ValueError(f"unknown graph format '{fmt}' (json, dot or mermaid)")


def _mermaid(text: str) -> str:
    """Label text that Mermaid shows literally (its entity codes; no markup from labels)."""
    text = (
        text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )
    return " ".join(text.split())


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
