"""Stage: an evaluation request → a plan of what to compute, at which grain, from which inputs.

The plan decides which metrics can be computed from the columns present (a metric is
available when every input it is made of — through ``previous`` too — is present, or optional
with a default), which ones must first be computed at the base grain because they declare
their own ``rollup``, and which checks and rules can be evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.compile import CompiledPack
from engine.errors import InputError
from engine.periods import GRAINS, coarser_or_same
from engine.validate.context import suggest


@dataclass(frozen=True)
class Plan:
    compiled: CompiledPack
    data_grain: str
    grain: str
    dims: tuple[str, ...]  # dimension columns present in the data, in pack order
    by: tuple[str, ...]
    inputs: tuple[str, ...]  # inputs to read: present, or optional with a default
    metrics: tuple[str, ...]  # every metric to compute, in evaluation order
    output: tuple[str, ...]  # metrics whose values are returned
    base_metrics: tuple[str, ...]  # computed at the base grain first (metrics with rollup + what they use)
    rolled: tuple[str, ...]  # metrics with rollup, aggregated like inputs into the output grain
    checks: tuple[str, ...]
    rules: tuple[str, ...]
    params: Mapping[str, float]
    locale: str
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def aggregates(self) -> bool:
        """Whether rows are rolled up (coarser grain, or fewer dimensions)."""
        return self.grain != self.data_grain or self.by != self.dims


def make_plan(
    c: CompiledPack,
    columns: Sequence[str],
    data_grain: str,
    *,
    grain: str | None = None,
    by: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    params: Mapping[str, Any] | None = None,
    locale: str | None = None,
) -> Plan:
    pack = c.pack
    present = set(columns)
    grain = grain or data_grain
    if grain not in GRAINS:
        raise InputError(f"unknown grain '{grain}': use one of {', '.join(GRAINS)}")
    if not coarser_or_same(data_grain, grain):
        raise InputError(f"the data is by {data_grain}; it cannot be shown by {grain}, which is finer",
                         hint=f"ask for grain {data_grain} or a coarser one")
    dims = tuple(d for d in pack.dimensions if d in present)
    if by is None:
        by_t = dims
    else:
        by_t = tuple(dict.fromkeys(b for b in by if b))
        for b in by_t:
            if b not in dims:
                known = ", ".join(dims) or "none"
                what = "is not a dimension of the pack" if b not in pack.dimensions else "is not a column of the data"
                raise InputError(f"'{b}' {what} (dimensions in the data: {known})", hint=suggest(b, set(dims)))
    locale = locale or pack.default_locale
    if locale not in pack.locales:
        raise InputError(f"unknown locale '{locale}': this pack has {', '.join(pack.locales)}")
    values = _params(c, params or {})

    available_inputs = {i for i, d in pack.inputs.items() if i in present or not d.required}
    available = _available_metrics(c, available_inputs)
    order = c.graph.order
    warnings: list[dict[str, Any]] = []
    if metrics:
        wanted = list(dict.fromkeys(metrics))
        for m in wanted:
            if m not in pack.metrics:
                raise InputError(f"unknown metric '{m}'", hint=suggest(m, set(pack.metrics)))
            if m not in available:
                missing = _missing(c, m, available_inputs)
                raise InputError(f"metric '{m}' needs the column(s) {', '.join(missing)}, which the data lacks",
                                 column=missing[0])
        needed = set(wanted)
        for m in wanted:
            needed |= {n for n in c.graph.upstream(m) if n in pack.metrics}
        output = tuple(m for m in pack.metrics if m in set(wanted))  # definition order
    else:
        needed = set(available)
        output = tuple(m for m in pack.metrics if m in available)
        for m in pack.metrics:
            if m not in available:
                missing = _missing(c, m, available_inputs)
                warnings.append({"metric": m, "missing_inputs": missing,
                                 "message": f"{m} is not computed: the data lacks {', '.join(missing)}"})
    computed = tuple(m for m in order if m in needed)
    names = set(computed) | available_inputs | set(pack.params) | {"periods", "days"}
    checks = tuple(s.owner.id for s in c.sites if s.field == "assert" and _refs(s) <= names)
    rules = tuple(s.owner.id for s in c.sites if s.field == "when" and _refs(s) <= names)
    if not metrics:  # say what is skipped, as for metrics
        for site in c.sites:
            if site.field in ("assert", "when") and site.owner.id not in checks + rules:
                missing = sorted(_refs(site) - names)
                kind = "check" if site.field == "assert" else "rule"
                warnings.append({kind: site.owner.id, "missing": missing,
                                 "message": f"{kind} {site.owner.id} is not evaluated: it needs {', '.join(missing)}"})
    for column in sorted(present & set(pack.params)):
        warnings.append({"column": column, "message": f"column '{column}' has the name of a param: params come "
                         "from the pack (override them with params), so the column is not used"})

    rolled: tuple[str, ...] = ()
    base: tuple[str, ...] = ()
    aggregates = grain != data_grain or by_t != dims
    if aggregates:
        rolled = tuple(m for m in computed if pack.metrics[m].rollup is not None)
        base_set = set(rolled)
        for m in rolled:
            base_set |= {n for n in c.graph.upstream(m) if n in pack.metrics}
        base = tuple(m for m in order if m in base_set)
    inputs = tuple(i for i in pack.inputs if i in available_inputs)
    return Plan(c, data_grain, grain, dims, by_t, inputs, computed, output, base, rolled, checks, rules,
                values, locale, warnings)


def _refs(site: Any) -> set[str]:
    return {r.name for r in site.parsed.refs}


def _params(c: CompiledPack, overrides: Mapping[str, Any]) -> dict[str, float]:
    values = {k: p.value for k, p in c.pack.params.items()}
    for key, raw in overrides.items():
        if key not in values:
            raise InputError(f"unknown param '{key}'", hint=suggest(key, set(values)) or
                             (f"params of this pack: {', '.join(values)}" if values else "this pack has no params"))
        try:
            if isinstance(raw, str) and "_" in raw:
                raise ValueError(raw)  # float() reads 1_000 as 1000; cells refuse it, so do params
            value = float(raw)
        except (TypeError, ValueError):
            raise InputError(f"param '{key}' must be a number, not {_clip(raw)}") from None
        if isinstance(raw, bool) or value != value or value in (float("inf"), float("-inf")):
            raise InputError(f"param '{key}' must be a finite number, not {_clip(raw)}")
        values[key] = value
    return values


def _clip(raw: Any) -> str:
    text = repr(raw)
    return text if len(text) <= 40 else text[:37] + "…"


def _available_metrics(c: CompiledPack, inputs: set[str]) -> set[str]:
    """Metrics whose every input (through previous too) is available: a fixpoint over the graph."""
    g = c.graph.graph
    ok = set(c.pack.metrics)
    changed = True
    while changed:
        changed = False
        for m in list(ok):
            for dep in g.predecessors(m):
                kind = g.nodes[dep]["kind"]
                if (kind == "input" and dep not in inputs) or (kind == "metric" and dep not in ok):
                    ok.discard(m)
                    changed = True
                    break
    return ok


def _missing(c: CompiledPack, metric: str, inputs: set[str]) -> list[str]:
    return sorted(n for n in c.graph.upstream(metric)
                  if c.graph.graph.nodes[n]["kind"] == "input" and n not in inputs)
