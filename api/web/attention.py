"""What a store manager reads first on the report page, and what the page leaves out on purpose.

* :func:`fired_entry`: a fired rule with the values of its condition (the value of every name
  it uses on that row, and each parameter's value), for the "needs attention" summary and the
  list of fired rules.
* :func:`by_severity`: the summary, fired rules grouped critical → warning → info.
* :func:`empty_metrics`: the indicators null on every row, hidden from the tables and charts
  and named in one line with the engine's reasons.
* :func:`grains_for`: the grains a report over data of one grain can be shown by (that grain
  and the coarser ones; "all" too).
* :func:`in_view`: whether a fired rule belongs to the chosen view, so that a view never hides
  a rule: the rest are counted and listed apart.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from itertools import islice
from typing import Any

from engine.api import (
    OUTPUT_GRAINS,
    Band,
    CompiledPack,
    KpiError,
    Metric,
    coarser_or_same,
    decode_text,
    display_text,
    format_value,
    read_csv_text,
)
from engine.api import data_grain as engine_data_grain

from .views import remedy_entry

SEVERITIES = ("critical", "warning", "info")
MAX_REASONS = 2  # distinct reasons named for one empty indicator


def fired_entry(
    c: CompiledPack, row: dict[str, Any], member: str, rule: dict[str, Any], locale: str
) -> dict[str, Any]:
    """A fired rule on one row: label, severity, period and member, its metric's value, the
    condition as written with the values of the names it uses, causes and remedies."""
    p = c.pack
    rid = rule["id"]
    spec = p.rules.get(rid)
    metric = spec.metric if spec else None
    node = p.node(metric) if metric else None
    site = c.rules.get(rid)
    names = site.names if site else set()
    values = []
    kinds = {name: 0 if name in p.metrics else 1 if name in p.inputs else 2 for name in names}
    for name in sorted(names, key=lambda n: (kinds[n], n)):  # metrics, inputs, then parameters
        d = p.node(name)
        label = d.label.get(locale, name) if d else name
        if name in p.params:
            text = display_text(float(p.params[name].value), None)
            kind = "param"
        elif name in row["values"]:
            text = display_text(row["values"][name], p.metrics.get(name))
            kind = "metric" if name in p.metrics else "input"
        else:
            continue
        values.append({"id": name, "label": label, "text": text, "kind": kind})
    band = row["bands"].get(metric) if metric else None
    m = p.metrics.get(metric) if metric else None
    value = row["values"].get(metric) if metric else None
    edges = _band_edges(m, value) if m is not None and band and value is not None else None
    return {
        "period": row["period"],
        "member": member,
        "id": rid,
        "label": rule["label"] or rid,
        "severity": rule["severity"],
        "causes": rule.get("causes", []),
        "metric": metric,
        "metric_label": node.label.get(locale, metric) if node and metric else metric,
        "value": display_text(row["values"].get(metric), p.metrics.get(metric))
        if metric and metric in row["values"]
        else None,
        "band": band["label"] if band else None,  # None: the page shows the translated status
        "status": band["status"] if band else None,
        "band_edges": edges,
        "when": spec.when if spec else "",
        "named": values,
        "remedies": [remedy_entry(c, x["id"], locale) for x in rule.get("remedies", [])],
    }


def _band_edges(m: Metric, value: float) -> str | None:
    """The bounds of the band ``value`` is in, as the metric shows values: "> 20.0%, ≤ 25.0%".

    The band is found the way the engine judges (:meth:`Band.contains`, the first band that
    holds the exact value), not by status or label: two bands may share both."""
    band: Band | None = next((b for b in m.bands if b.contains(value)), None)
    if band is None:
        return None
    parts = []
    if band.min is not None:
        low = format_value(float(band.min), m.format, m.decimals)
        parts.append(f"{'≥' if band.min_inclusive else '>'} {low}")
    if band.max is not None:
        high = format_value(float(band.max), m.format, m.decimals)
        parts.append(f"{'≤' if band.max_inclusive else '<'} {high}")
    return ", ".join(parts) or None


def by_severity(fired: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fired rules grouped by severity, the most severe first (unknown severities last)."""
    order = [*SEVERITIES, *sorted({f["severity"] for f in fired} - set(SEVERITIES))]
    groups = []
    for severity in order:
        items = [f for f in fired if f["severity"] == severity]
        if items:
            groups.append({"severity": severity, "items": items})
    return groups


def in_view(c: CompiledPack, rid: str, metrics: set[str] | None) -> bool:
    """Whether rule ``rid`` belongs to a view of ``metrics`` (None: no view, every rule does):
    its metric is in the view, or, for a rule without one, a name of its condition is."""
    if metrics is None:
        return True
    rule = c.pack.rules.get(rid)
    if rule is not None and rule.metric:
        return rule.metric in metrics
    site = c.rules.get(rid)
    return bool(site and site.names & metrics)


def empty_metrics(
    c: CompiledPack, rows: Sequence[dict[str, Any]], metrics: Sequence[str], locale: str
) -> list[dict[str, Any]]:
    """The ``metrics`` null on every row, each with its label and the engine's reasons (the
    first :data:`MAX_REASONS` distinct ones, and whether there are more)."""
    out = []
    for mid in metrics:
        if any(r["values"].get(mid) is not None for r in rows):
            continue
        # "x is empty in the data for 2026-01", "… for 2026-02": one reason, said once
        said = (
            (r.get("undefined", {}).get(mid) or "").replace(f" for {r['period']}", "") for r in rows
        )
        reasons = [x for x in dict.fromkeys(said) if x]
        m = c.pack.metrics[mid]
        out.append(
            {
                "id": mid,
                "label": m.label.get(locale, mid),
                "why": reasons[:MAX_REASONS],
                "more": len(reasons) > MAX_REASONS,
            }
        )
    return out


def data_grain(c: CompiledPack, body: bytes | None) -> str | None:
    """The grain of a CSV body's periods, read as the engine reads them (the worker's decoding,
    label headers such as 期间, export periods such as 2026年1月), judged by its header and
    first data row (the engine refuses mixed grains); None when it cannot be told (no period
    column, no row, not a period: the evaluation says why). The page asks this only when the
    worker did not say (``data_grain`` of its outcome): when the evaluation failed."""
    if not body:
        return None
    try:
        text = decode_text(body)[0]  # whole: the encoding is judged as the worker judges it
        first = list(islice(filter(None, csv.reader(io.StringIO(text, newline=""))), 2))
        if len(first) < 2:
            return None
        out = io.StringIO()
        csv.writer(out).writerows(first)
        return engine_data_grain(c, read_csv_text(out.getvalue()))
    except (KpiError, csv.Error, ValueError):
        return None


def grains_for(grain: str | None) -> tuple[str, ...]:
    """The grains a report over data of ``grain`` may ask for (every grain when unknown)."""
    if grain is None or grain not in OUTPUT_GRAINS:
        return OUTPUT_GRAINS
    return tuple(g for g in OUTPUT_GRAINS if coarser_or_same(grain, g))
