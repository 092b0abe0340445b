"""KPI-R017 unknown sources, KPI-R018 what a source cannot give, and the formula problems of
measures' ``of`` / ``where`` (parsed in measure mode: text literals and ``in (…)`` allowed)."""

from __future__ import annotations

from collections.abc import Iterator

from engine.errors import FormulaError
from engine.formula import FUNCTIONS, parse_formula
from engine.model import Input
from engine.problems import Problem
from engine.validate.context import Context, suggest

#: functions that reach into other periods: not computable from one period's records
TIME_FUNCTIONS = frozenset({"previous", "change", "growth", "rolling_sum", "rolling_avg", "cumulative_sum",
                            "rising", "falling"})


def check_measures(ctx: Context) -> Iterator[Problem]:
    for i in ctx.pack.inputs.values():
        if i.measure is not None:
            yield from _check(ctx, i)


def _check(ctx: Context, i: Input) -> Iterator[Problem]:
    m = i.measure
    assert m is not None
    src = i.field_source("measure")
    path = (*src.path, "measure")
    source = ctx.pack.sources.get(m.source)
    if source is None:
        yield Problem.at("KPI-R017", f"input '{i.id}': unknown source '{m.source}'", src.doc.key_loc((*path, "source")),
                         path=f"inputs.{i.id}.measure.source",
                         hint=suggest(m.source, set(ctx.pack.sources)) or "define it under sources")
        return
    if m.of is None and m.agg != "count":
        yield Problem.at("KPI-S001", f"input '{i.id}': the measure's '{m.agg}' needs 'of' (what to aggregate)",
                         src.doc.key_loc(path), path=f"inputs.{i.id}.measure", hint="add e.g. of: amount")
    for field, text, expect in (("of", m.of, "any"), ("where", m.where, "condition")):
        if text is None:
            continue
        where = (*path, field)
        try:
            parsed = parse_formula(text, expect=expect, mode="measure")  # type: ignore[arg-type]
        except FormulaError as err:
            yield Problem.at(err.code, err.message, src.doc.locate_in_scalar(where, err.offset),
                             path=f"inputs.{i.id}.measure.{field}", hint=err.hint)
            continue
        for name in sorted(parsed.functions & TIME_FUNCTIONS):
            yield Problem.at("KPI-R018", f"input '{i.id}': {name}() is not available in a measure",
                             src.doc.locate_in_scalar(where, 0), path=f"inputs.{i.id}.measure.{field}",
                             hint="a measure is computed from one period's records; use time functions in metrics")
        if source.columns:
            for ref in parsed.refs:
                if ref.name not in source.columns and ref.name not in FUNCTIONS:
                    yield Problem.at(
                        "KPI-R018", f"input '{i.id}': source '{m.source}' has no column '{ref.name}'",
                        src.doc.locate_in_scalar(where, ref.offset), path=f"inputs.{i.id}.measure.{field}",
                        hint=suggest(ref.name, set(source.columns)) or f"declare it under sources.{m.source}.columns")
