"""KPI-R017 unknown sources, KPI-R018 what a source cannot give, KPI-R019 measure fields that do
not fit together, and the formula problems of measures' expressions.

Event and to-date measures parse ``of`` / ``where`` in measure mode (text literals and
``in (…)``); entity measures parse ``of`` / ``having`` in entity mode (plus the entity
attributes) and ``since`` / ``until`` in measure mode. See docs/measures.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from engine.core.errors import FormulaError
from engine.core.model import DataSource, Input, Measure
from engine.core.problems import Problem
from engine.formula import ENTITY_FUNCTIONS, ENTITY_NAMES, FUNCTIONS, ParsedFormula, parse_formula
from engine.formula.functions import TIME_FUNCTIONS
from engine.formula.sites import MeasureExprs
from engine.validate.context import Context, suggest
from engine.validate.measure_types import TypeMismatch, column_types, type_of

#: functions of the language that SQL engines round differently from the evaluator (half-up)
NOT_IN_SQL = frozenset({"round"})

#: (field, expected kind, parser mode) of each expression of a measure, by kind of measure
_EVENT_FIELDS = (("of", "any", "measure"), ("where", "condition", "measure"))
_ENTITY_FIELDS = (
    ("of", "number", "entity"),
    ("having", "condition", "entity"),
    ("since", "condition", "measure"),
    ("until", "condition", "measure"),
)
_ENTITY_ONLY = ("since", "until", "having")


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
        yield Problem.at(
            "KPI-R017",
            f"input '{i.id}': unknown source '{m.source}'",
            src.doc.key_loc((*path, "source")),
            path=f"inputs.{i.id}.measure.source",
            hint=suggest(m.source, set(ctx.pack.sources)) or "define it under sources",
        )
        return
    shape = list(_shape(i, m, source))
    for field, message, hint in shape:
        yield Problem.at(
            "KPI-R018" if field == "per" else "KPI-R019",
            f"input '{i.id}': {message}",
            src.doc.key_loc((*path, field)),
            path=f"inputs.{i.id}.measure.{field}",
            hint=hint,
        )
    if shape:
        return
    entity = m.per == "entity"
    types = column_types(source)
    params = set(ctx.pack.params)
    parsed_fields: dict[str, list[ParsedFormula]] = {}
    failed = False
    for field, expect, mode, text, where in _expressions(m, path, entity):
        try:
            parsed = parse_formula(text, expect=expect, mode=mode)  # type: ignore[arg-type]
        except FormulaError as err:
            failed = True
            yield Problem.at(
                err.code,
                err.message,
                src.doc.locate_in_scalar(where, err.offset),
                path=f"inputs.{i.id}.measure.{field}",
                hint=err.hint,
            )
            continue
        parsed_fields.setdefault(field, []).append(parsed)
        for name in sorted(parsed.functions & (TIME_FUNCTIONS | NOT_IN_SQL)):
            yield Problem.at(
                "KPI-R018",
                f"input '{i.id}': {name}() is not available in a measure",
                src.doc.locate_in_scalar(where, 0),
                path=f"inputs.{i.id}.measure.{field}",
                hint="a measure is computed from records in SQL; use "
                + ("time functions" if name in TIME_FUNCTIONS else f"{name}()")
                + " in metrics",
            )
        if field == "of" and m.agg not in ("count", "count_distinct") and _is_text(parsed, source):
            yield Problem.at(
                "KPI-R018",
                f"input '{i.id}': agg {m.agg} needs numbers, and '{text}' is text",
                src.doc.locate_in_scalar(where, 0),
                path=f"inputs.{i.id}.measure.{field}",
                hint="count its distinct values with agg: "
                "count_distinct, or count records with a where",
            )
        for message, offset, hint in _names(
            ctx, m, source, parsed, outside_columns=entity and mode == "entity"
        ):
            yield Problem.at(
                "KPI-R018",
                f"input '{i.id}': {message}",
                src.doc.locate_in_scalar(where, offset),
                path=f"inputs.{i.id}.measure.{field}",
                hint=hint,
            )
        yield from _types(i, m, field, text, parsed, types, params, src.doc.locate_in_scalar, where)
    if not failed:  # kept for every later stage: measure expressions are parsed only here

        def one(name: str) -> ParsedFormula | None:
            return parsed_fields[name][0] if name in parsed_fields else None

        ctx.measures[i.id] = MeasureExprs(
            i,
            tuple(parsed_fields.get("of", ())),
            one("where"),
            one("since"),
            one("until"),
            one("having"),
        )


def _types(
    i: Input,
    m: Measure,
    field: str,
    text: str,
    parsed: ParsedFormula,
    types: dict[str, str],
    params: set[str],
    locate: Any,
    where: tuple[str | int, ...],
) -> Iterator[Problem]:
    """KPI-R020: the expression's types do not fit together, or do not fit the aggregate."""
    try:
        kind = type_of(parsed, types, params)
    except TypeMismatch as err:
        yield Problem.at(
            "KPI-R020",
            f"input '{i.id}': {err.message}",
            locate(where, _offset(parsed, err.name)),
            path=f"inputs.{i.id}.measure.{field}",
            hint=err.hint,
        )
        return
    if field == "of" and m.agg in ("sum", "avg", "min", "max") and kind in ("time", "condition"):
        what = "a time" if kind == "time" else "a condition"
        yield Problem.at(
            "KPI-R020",
            f"input '{i.id}': agg {m.agg} needs numbers, and '{text}' is {what}",
            locate(where, 0),
            path=f"inputs.{i.id}.measure.{field}",
            hint="count records with agg: count, or distinct days with agg: count_distinct and "
            "of: day(<time>)"
            if kind == "time"
            else "use if(condition, 1, 0)",
        )


def _expressions(
    m: Measure, path: tuple[str | int, ...], entity: bool
) -> Iterator[tuple[str, str, str, str, tuple[str | int, ...]]]:
    """(field, expected kind, parser mode, text, path in the document) of each expression."""
    for field, expect, mode in _ENTITY_FIELDS if entity else _EVENT_FIELDS:
        if field == "of" and m.more:
            for k, text in enumerate(m.terms):
                yield field, expect, mode, text, (*path, field, k)
            continue
        text = getattr(m, field)
        if text is not None:
            yield field, expect, mode, text, (*path, field)


def _offset(parsed: ParsedFormula, name: str | None) -> int:
    """Where ``name`` first appears in the expression (0 if it does not)."""
    return next((r.offset for r in parsed.refs if r.name == name), 0) if name else 0


def _shape(i: Input, m: Measure, source: DataSource) -> Iterator[tuple[str, str, str]]:
    """(field, message, hint) for fields that do not fit together."""
    if m.per == "entity":
        if not source.entity:
            yield (
                "per",
                f"source '{m.source}' declares no entity to count",
                f"add entity: <column> (e.g. member_id) to sources.{m.source}",
            )
        if m.where is not None:
            yield (
                "where",
                "an entity measure has no 'where'",
                "say which records count inside the attributes, "
                "e.g. having: \"count(kind == 'consume') > 0\"",
            )
        if m.agg == "count_distinct":
            yield ("agg", "an entity measure counts entities with agg: count", "write agg: count")
        elif m.more:
            yield (
                "of",
                "an entity measure's 'of' is one expression of attributes",
                "give one expression",
            )
        elif m.agg == "count" and m.of is not None:
            yield (
                "of",
                "agg: count of entities takes no 'of'",
                "remove 'of', or use agg: sum / avg / min / max of an attribute",
            )
        elif m.agg != "count" and m.of is None:
            yield (
                "agg",
                f"agg: {m.agg} over entities needs 'of' (an expression of attributes)",
                "e.g. of: \"days_since_last(kind == 'consume')\"",
            )
        return
    for field in _ENTITY_ONLY:
        if getattr(m, field) is not None:
            yield (field, f"'{field}' belongs to entity measures", "add per: entity, or remove it")
    if m.as_of is not None and m.agg not in ("sum", "count"):
        yield (
            "agg",
            f"a to-date measure (as_of) adds records up: agg: {m.agg} is not available",
            "use agg: sum or count, or drop as_of",
        )
    if m.of is None and m.agg != "count":
        yield (
            "of",
            f"the measure's '{m.agg}' needs 'of' (what to aggregate)",
            "add e.g. of: amount",
        )
    if m.more and m.agg != "count_distinct":
        yield (
            "of",
            "a list in 'of' counts distinct combinations: "
            f"it needs agg: count_distinct, not {m.agg}",
            "write agg: count_distinct, or give one expression",
        )


def _names(
    ctx: Context, m: Measure, source: DataSource, parsed: ParsedFormula, *, outside_columns: bool
) -> Iterator[tuple[str, int, str]]:
    """Names that are neither the source's columns nor (where allowed) params."""
    kind: Literal["column", "value"]
    for ref in parsed.refs:
        if ref.name in FUNCTIONS or ref.name in ENTITY_FUNCTIONS:
            continue
        kind = "value" if outside_columns and not ref.in_attribute else "column"
        if ref.name in ctx.pack.params or (kind == "value" and ref.name in ENTITY_NAMES):
            continue
        if kind == "value":
            if ref.name in source.columns or not source.columns:
                yield (
                    f"'{ref.name}' is a column of the records: use it inside an attribute",
                    ref.offset,
                    f"e.g. total({ref.name}) or count({ref.name} > 0)",
                )
            else:
                yield (
                    f"unknown name '{ref.name}'",
                    ref.offset,
                    suggest(ref.name, set(ctx.pack.params))
                    or "outside attributes: params, days and grain_days only",
                )
        elif source.columns and ref.name not in source.columns:
            yield (
                f"source '{m.source}' has no column '{ref.name}'",
                ref.offset,
                suggest(ref.name, set(source.columns))
                or f"declare it under sources.{m.source}.columns",
            )


def _is_text(parsed: ParsedFormula, source: DataSource) -> bool:
    """A text literal, or a lone name of a column declared as text."""
    if parsed.kind == "text":
        return True
    expr = parsed.expr
    column = (
        source.columns.get(getattr(expr, "name", "")) if getattr(expr, "is_Symbol", False) else None
    )
    return column is not None and column.type == "text"
