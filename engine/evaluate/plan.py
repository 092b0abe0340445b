"""Stage: an evaluation request → a plan of what to compute, at which grain, from which inputs.

One plan drives every path: the in-process evaluator (:mod:`engine.evaluate.evaluation`) and the
SQL that :mod:`engine.evaluate.measures.metrics` generates for DuckDB, Spark and other engines, so
that they compute the same thing (docs/evaluation.md, "Grain and by").

The plan decides:

* which inputs are read at the base grain (present in the data, or optional with a default);
* which inputs cannot be combined into the output grain or ``by``: a ``none`` rollup (a
  distinct count — the members active in a quarter are not the sum, nor the largest, of the
  months'). From raw records such an input is measured again directly at the output grain and
  ``by`` (:attr:`Plan.direct`); from input rows it is unavailable, and every metric that needs it
  is named in ``warnings`` (or is an error when it was asked for by name);
* which metrics are available (every input they are made of is, at the level they are computed);
* which metrics are computed at the base grain first because they declare their own ``rollup``
  (and what they are made of), and which checks and rules can be evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from engine.compile.pack import CompiledPack
from engine.core.characters import foreign_digit
from engine.core.errors import InputError
from engine.core.model import Input, Rollup
from engine.core.periods import OUTPUT_GRAINS, coarser_or_same
from engine.formula import ENTITY_NAMES
from engine.formula.functions import BUILTIN_NAMES
from engine.validate.context import suggest


@dataclass(frozen=True)
class Plan:
    compiled: CompiledPack
    data_grain: str
    grain: str  # the output grain: day … year, or "all" (one period over the whole range)
    dims: tuple[str, ...]  # dimension columns present in the data, in pack order
    by: tuple[str, ...]
    inputs: tuple[str, ...]  # inputs read at the base grain: present, or optional with a default
    direct: tuple[str, ...]  # inputs measured from raw records at the output grain and `by`
    # inputs read at the base grain that cannot be combined (only base metrics use them)
    uncombined: tuple[str, ...]
    metrics: tuple[str, ...]  # every metric to compute, in evaluation order
    output: tuple[str, ...]  # the inputs and metrics whose values are returned
    # computed at the base grain first (metrics with rollup + what they use)
    base_metrics: tuple[str, ...]
    rolled: tuple[str, ...]  # metrics with rollup, aggregated like inputs into the output grain
    checks: tuple[str, ...]
    rules: tuple[str, ...]
    params: Mapping[str, float]
    locale: str
    as_of: date | None = None  # the data is measured as of the end of this day
    records: bool = False  # the inputs come from raw records (measures), not input rows
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def aggregates(self) -> bool:
        """Whether rows are rolled up (coarser grain, or fewer dimensions)."""
        return self.grain != self.data_grain or self.by != self.dims

    @property
    def combined(self) -> tuple[str, ...]:
        """The inputs rolled up from the base grain (every read input that can be)."""
        return tuple(i for i in self.inputs if i not in self.direct and i not in self.uncombined)


#: the last day an as_of may be (the period after it must exist)
LAST_AS_OF = date(9998, 12, 30)


def check_as_of(day: date | None) -> None:
    """An as_of the engine can measure up to (periods stop in 9998); raises InputError."""
    if day is not None and day > LAST_AS_OF:
        raise InputError(
            f"as_of {day.isoformat()} is too late: days after "
            f"{LAST_AS_OF.isoformat()} are not supported",
            code="KPI-E032",
        )


def records_grain(pack_grain: str, grain: str | None) -> str:
    """The base grain to measure raw records at: the pack's, or the grain asked when it is finer
    (a monthly pack's weekly activity is measured week by week)."""
    if grain is not None and grain not in OUTPUT_GRAINS:
        raise InputError(
            f"unknown grain '{grain}': use one of {', '.join(OUTPUT_GRAINS)}", code="KPI-E022"
        )
    if grain is not None and grain != "all" and not coarser_or_same(pack_grain, grain):
        return grain
    return pack_grain


def grain_dependent(c: CompiledPack, i: Input) -> bool:
    """Whether an input's measure depends on the length of the period (an entity measure that
    uses the built-in ``days``: a churn line crossed in the period, a lapse window as long as the
    period): measured per month and combined, it would mean something else at a quarter."""
    exprs = c.measures.get(i.id)
    if exprs is None or exprs.measure.per != "entity":
        return False
    for parsed in (exprs.having, *exprs.of[:1]):
        if parsed is not None and any(
            r.name in ENTITY_NAMES and not r.in_attribute for r in parsed.refs
        ):
            return True
    return False


def blocked(rollup: Rollup, across_time: bool, across_dims: bool) -> str | None:
    """Why values with this rollup cannot be combined ("time" / "dims"), or None."""
    if across_time and rollup.time == "none":
        return "time"
    if across_dims and rollup.dims == "none":
        return "dims"
    return None


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
    records: bool = False,
    as_of: date | None = None,
) -> Plan:
    """The plan of one evaluation. ``columns``: the names the data has (inputs, dimensions);
    ``records``: the inputs are measured from raw records, so the inputs that cannot be
    combined can be measured again at the output grain."""
    pack = c.pack
    present = set(columns)
    grain = grain or data_grain
    if grain not in OUTPUT_GRAINS:
        raise InputError(
            f"unknown grain '{grain}': use one of {', '.join(OUTPUT_GRAINS)}", code="KPI-E022"
        )
    if not coarser_or_same(data_grain, grain):
        raise InputError(
            f"the data is by {data_grain}; it cannot be shown by {grain}, which is finer",
            code="KPI-E023",
            hint=f"ask for grain {data_grain} or a coarser one",
        )
    dims = tuple(d for d in pack.dimensions if d in present)
    by_t = _by(pack.dimensions, dims, by)
    locale = locale or pack.default_locale
    if locale not in pack.locales:
        raise InputError(
            f"unknown locale '{locale}': this pack has {', '.join(pack.locales)}", code="KPI-E026"
        )
    values = _params(c, params or {})
    across_time, across_dims = grain != data_grain, by_t != dims
    aggregates = across_time or across_dims

    base_inputs = {i for i, d in pack.inputs.items() if i in present or not d.required}
    direct: set[str] = set()
    why_not: dict[str, str] = {}  # input -> why it is not available at the output grain
    for i in sorted(base_inputs):
        spec = pack.inputs[i]
        measured = records and spec.measure is not None and i in present
        if measured and across_time and grain_dependent(c, spec):
            # its definition depends on the period's length: measured at the grain asked
            direct.add(i)
            continue
        reason = blocked(spec.rollup, across_time, across_dims)
        if reason is None:
            continue
        if measured:
            direct.add(i)
        else:
            why_not[i] = _uncombined(i, reason, data_grain, grain)
    out_inputs = (base_inputs - set(why_not)) | direct
    base_ok = _available(c, base_inputs, set(), aggregates=False)
    rolled_ok = {
        m
        for m in base_ok
        if pack.metrics[m].rollup is not None
        and aggregates
        and blocked(pack.metrics[m].rollup, across_time, across_dims) is None  # type: ignore[arg-type]
    }
    out_ok = _available(c, out_inputs, rolled_ok, aggregates=aggregates)
    for m in pack.metrics:
        rollup = pack.metrics[m].rollup
        if aggregates and rollup is not None and m in base_ok and m not in rolled_ok:
            why_not[m] = _uncombined(
                m, blocked(rollup, across_time, across_dims) or "time", data_grain, grain
            )
    order = c.graph.order
    warnings: list[dict[str, Any]] = []
    if metrics:
        wanted = list(dict.fromkeys(metrics))
        for m in wanted:
            if m in pack.inputs:
                if m not in out_inputs:
                    raise InputError(
                        why_not.get(m) or f"input '{m}' is not in the data",
                        code="KPI-E031" if why_not.get(m) else "KPI-E030",
                        column=m,
                    )
                continue
            if m not in pack.metrics:
                raise InputError(
                    f"unknown metric '{m}'",
                    code="KPI-E029",
                    hint=suggest(m, set(pack.metrics) | set(pack.inputs)),
                )
            if m not in out_ok:
                missing = _missing(c, m, out_inputs, why_not, rolled_ok)
                absent = [n for n in missing if n not in why_not]
                if absent:
                    raise InputError(
                        f"metric '{m}' needs the column(s) "
                        f"{', '.join(absent)}, which the data lacks",
                        code="KPI-E030",
                        column=absent[0],
                    )
                raise InputError(
                    f"metric '{m}' cannot be computed by {grain}: {why_not[missing[0]]}",
                    code="KPI-E031",
                    column=missing[0],
                    hint=_uncombined_hint(records),
                )
        asked = [m for m in wanted if m in pack.metrics]
        needed = set(asked)
        for m in asked:
            needed |= {n for n in c.graph.upstream(m) if n in pack.metrics}
        output = (
            *(i for i in pack.inputs if i in set(wanted)),
            *(m for m in pack.metrics if m in set(asked)),
        )
    else:
        needed = set(out_ok)
        output = tuple(m for m in pack.metrics if m in out_ok)
        for m in pack.metrics:
            if m not in out_ok:
                missing = _missing(c, m, out_inputs, why_not, rolled_ok)
                absent = [n for n in missing if n not in why_not]
                if absent:
                    code = "KPI-W001"
                    message = f"{m} is not computed: the data lacks {', '.join(absent)}"
                else:
                    code = "KPI-W002"
                    message = f"{m} is not computed by {grain}: {why_not[missing[0]]}"
                warnings.append(
                    {"code": code, "metric": m, "missing_inputs": missing, "message": message}
                )
    computed = tuple(m for m in order if m in needed)
    names = set(computed) | out_inputs | set(pack.params) | BUILTIN_NAMES
    checks = tuple(k for k, s in c.checks.items() if s.names <= names)
    rules = tuple(r for r, s in c.rules.items() if s.names <= names)
    if not metrics:  # say what is skipped, as for metrics
        skipped = [
            *(("check", s) for k, s in c.checks.items() if k not in checks),
            *(("rule", s) for r, s in c.rules.items() if r not in rules),
        ]
        for kind, site in skipped:
            missing = sorted(site.names - names)
            warnings.append(
                {
                    "code": "KPI-W003" if kind == "check" else "KPI-W004",
                    kind: site.owner.id,
                    "missing": missing,
                    "message": f"{kind} {site.owner.id} is not "
                    f"evaluated: it needs {', '.join(missing)}",
                }
            )
    if records and data_grain != pack.grain and not coarser_or_same(pack.grain, data_grain):
        warnings.append(
            {
                "code": "KPI-W007",
                "grain": data_grain,
                "message": f"the records are measured by {data_grain}, finer than "
                f"the pack's {pack.grain}: `periods` counts {data_grain}s, so "
                f"figures per {pack.grain} (… / periods) are per {data_grain} here, "
                f"and bands written for a {pack.grain} judge {data_grain}ly values",
            }
        )
    for column in sorted(present & set(pack.params)):
        warnings.append(
            {
                "code": "KPI-W006",
                "column": column,
                "message": f"column '{column}' has the name of a param: params come "
                "from the pack (override them with params), so the column is not used",
            }
        )

    rolled: tuple[str, ...] = ()
    base: tuple[str, ...] = ()
    if aggregates:
        rolled = tuple(m for m in computed if m in rolled_ok)
        base_set = set(rolled)
        for m in rolled:
            base_set |= {n for n in c.graph.upstream(m) if n in pack.metrics}
        base = tuple(m for m in order if m in base_set)
    inputs = tuple(i for i in pack.inputs if i in base_inputs)
    # measure again only what the output grain uses: the inputs of its metrics, checks and rules
    g = c.graph.graph
    used = {n for m in computed if m not in rolled for n in g.predecessors(m)} | set(output)
    for site in [*(c.checks[k] for k in checks), *(c.rules[r] for r in rules)]:
        used |= site.names
    unused = direct - used  # neither measured again nor rolled up (a none rollup cannot be)
    direct -= unused
    if (
        across_time
    ):  # rows combined where the pack's measure would count something else at this grain
        for i in sorted(used & base_inputs - direct - set(why_not), key=list(pack.inputs).index):
            if grain_dependent(c, pack.inputs[i]):
                rule = pack.inputs[i].rollup.time
                warnings.append(
                    {
                        "code": "KPI-W008",
                        "input": i,
                        "message": f"{i} is combined from {data_grain} rows by its "
                        f"rollup ({rule}); its measure depends on the period's "
                        f"length, so counted from the records by {grain} it can "
                        "differ (kpi run --source … counts it at that grain)",
                    }
                )
    return Plan(
        c,
        data_grain,
        grain,
        dims,
        by_t,
        inputs,
        tuple(i for i in inputs if i in direct),
        tuple(i for i in inputs if i in why_not or i in unused),
        computed,
        output,
        base,
        rolled,
        checks,
        rules,
        values,
        locale,
        as_of,
        records,
        warnings,
    )


def _by(
    declared: Mapping[str, Any], dims: tuple[str, ...], by: Sequence[str] | None
) -> tuple[str, ...]:
    if by is None:
        return dims
    by_t = tuple(dict.fromkeys(b for b in by if b))
    for b in by_t:
        if b not in dims:
            known = ", ".join(dims) or "none"
            what = (
                "is not a dimension of the pack"
                if b not in declared
                else "is not a column of the data"
            )
            raise InputError(
                f"'{b}' {what} (dimensions in the data: {known})",
                code="KPI-E025",
                hint=suggest(b, set(dims)),
            )
    return by_t


def _uncombined(name: str, reason: str, data_grain: str, grain: str) -> str:
    if reason == "time":
        return (
            f"{name} cannot be combined from {data_grain} rows into {grain} (rollup "
            "time: none — a distinct count is not the sum of its periods' counts)"
        )
    return (
        f"{name} cannot be combined across dimension members (rollup dims: none — a distinct count)"
    )


def _uncombined_hint(records: bool) -> str:
    if records:
        return "its measure needs the source's records"
    return (
        "give the raw records (kpi run --source …) so it "
        "is counted at this grain, or rows at this grain"
    )


def _params(c: CompiledPack, overrides: Mapping[str, Any]) -> dict[str, float]:
    values = {k: p.value for k, p in c.pack.params.items()}
    for key, raw in overrides.items():
        if key not in values:
            raise InputError(
                f"unknown param '{key}'",
                code="KPI-E027",
                hint=suggest(key, set(values))
                or (
                    f"params of this pack: {', '.join(values)}"
                    if values
                    else "this pack has no params"
                ),
            )
        try:
            if isinstance(raw, str) and ("_" in raw or foreign_digit(raw) is not None):
                # float() reads 1_000 and １２ as numbers; cells refuse them, so do params
                raise ValueError(raw)
            value = float(raw)
        except (TypeError, ValueError):
            raise InputError(
                f"param '{key}' must be a number, not {_clip(raw)}",
                code="KPI-E028",
                hint="write digits 0-9" if isinstance(raw, str) and foreign_digit(raw) else None,
            ) from None
        if isinstance(raw, bool) or value != value or value in (float("inf"), float("-inf")):
            raise InputError(
                f"param '{key}' must be a finite number, not {_clip(raw)}", code="KPI-E028"
            )
        values[key] = value
    return values


def _clip(raw: Any) -> str:
    text = repr(raw)
    return text if len(text) <= 40 else text[:37] + "…"


def _available(
    c: CompiledPack, inputs: set[str], rolled: set[str], *, aggregates: bool
) -> set[str]:
    """Metrics whose every input (through previous too) is available: a fixpoint over the graph.
    With ``aggregates``, a metric that declares a rollup is available at the output grain when it
    is in ``rolled`` (computed at the base grain and combinable), whatever its inputs there."""
    g = c.graph.graph
    pack = c.pack
    ok = set(pack.metrics)
    if aggregates:
        ok = {m for m in ok if pack.metrics[m].rollup is None or m in rolled}
    changed = True
    while changed:
        changed = False
        for m in list(ok):
            if m in rolled:
                continue
            for dep in g.predecessors(m):
                kind = g.nodes[dep]["kind"]
                if (kind == "input" and dep not in inputs) or (kind == "metric" and dep not in ok):
                    ok.discard(m)
                    changed = True
                    break
    return ok


def _missing(
    c: CompiledPack,
    metric: str,
    inputs: set[str],
    why_not: Mapping[str, str],
    rolled: set[str] | frozenset[str] = frozenset(),
) -> list[str]:
    """The inputs (or metrics that cannot be combined) that keep ``metric`` from being computed;
    a metric computed at the base grain and rolled up (``rolled``) is not looked into."""
    g = c.graph.graph
    found: set[str] = set()
    seen = {metric}
    stack = [metric]
    while stack:
        node = stack.pop()
        if g.nodes[node]["kind"] == "metric" and node in why_not:
            found.add(node)
            continue
        if node in rolled and node != metric:
            continue
        for dep in g.predecessors(node):
            kind = g.nodes[dep]["kind"]
            if kind == "input" and dep not in inputs:
                found.add(dep)
            elif kind == "metric" and dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return sorted(found)
