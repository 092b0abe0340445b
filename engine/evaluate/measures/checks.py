"""Stage: a source's records checked against the pack before anything is measured — reserved
and missing columns, times, dimension members, declared types, values and minimums, and the
columns the measures read as numbers (export-style cells read first: export_cells.py). One
InputError (KPI-E039…E043) for the first problem found, naming rows and the file's headers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from engine.compile.pack import CompiledPack
from engine.core.errors import InputError
from engine.core.model import DataSource
from engine.evaluate.cells import export_number
from engine.evaluate.measures.export_cells import read_export_numbers
from engine.formula import ENTITY_FUNCTIONS, FUNCTIONS
from engine.validate.measure_types import column_types, number_columns

#: bad rows shown in a message
SAMPLE_ROWS = 5
_FOREIGN_DIGITS = "a number written with digits other than 0-9"


def _q(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def used_columns(c: CompiledPack, sid: str) -> list[str]:
    """Columns the pack's measures on ``sid`` name (for sources that declare none), in the order
    the measures first name them."""
    names: dict[str, None] = {}
    for x in c.measures.values():
        if x.measure.source != sid:
            continue
        for parsed, mode in x.each():
            for r in parsed.refs:
                if (
                    r.name not in c.pack.params
                    and r.name not in FUNCTIONS
                    and r.name not in ENTITY_FUNCTIONS
                    and (r.in_attribute or mode == "measure")
                ):
                    names.setdefault(r.name, None)
    return list(names)


def check_source(con: Any, c: CompiledPack, sid: str, label: str) -> None:
    """Check a loaded source against the pack; raise one InputError for the first problem found."""
    import duckdb

    try:
        _check(con, c, sid, label)
    except duckdb.Error as err:  # a value DuckDB cannot read at all
        raise InputError(
            f"source '{sid}' ({label}): {str(err).splitlines()[0]}", code="KPI-E039"
        ) from None


def _check(con: Any, c: CompiledPack, sid: str, label: str) -> None:
    source: DataSource = c.pack.sources[sid]
    cursor = con.execute(f"SELECT * FROM {_q(sid)} LIMIT 0")
    described = cursor.description
    cursor.fetchall()
    have = [d[0] for d in described]
    reserved = [n for n in have if n.lower().startswith("kpi__")]
    if reserved:
        raise InputError(
            f"source '{sid}' ({label}): column '{reserved[0]}' has a name reserved for the engine "
            "(kpi__…): rename it",
            code="KPI-E040",
        )
    if not con.execute(f"SELECT count(*) FROM {_q(sid)}").fetchall()[0][0]:
        raise InputError(f"source '{sid}' ({label}) has no records", code="KPI-E041")
    needed = {
        source.time,
        *source.dimensions.values(),
        *([source.entity] if source.entity else []),
        *source.columns,
        *used_columns(c, sid),
    }
    missing = sorted(n for n in needed if n not in have)
    if missing:
        raise InputError(
            f"source '{sid}' ({label}): no column {', '.join(repr(n) for n in missing)} "
            f"(it has: {', '.join(have[:30])}{' …' if len(have) > 30 else ''})",
            code="KPI-E042",
        )
    numbers = [n for n, spec in source.columns.items() if spec.type == "number"]
    if read_export_numbers(con, sid, [*numbers, *number_columns_of(c, sid)]):
        cursor = con.execute(f"SELECT * FROM {_q(sid)} LIMIT 0")
        described = cursor.description
        cursor.fetchall()
    tests: list[tuple[str, str, str]] = []  # (column, what is wrong, SQL condition of a bad row)
    types = {d[0]: str(d[1]) for d in described}
    if (
        "TIME ZONE" in types.get(source.time, "").upper()
        or "TZ" in types.get(source.time, "").upper()
    ):
        raise InputError(
            f"source '{sid}' ({label}), column '{source.time}': times with a time zone; give local "
            "business time (the wall clock of the shop), without an offset",
            code="KPI-E043",
        )
    tests.append(
        (
            source.time,
            "a time that does not parse as an ISO date or time (or is empty)",
            f"TRY_CAST({_q(source.time)} AS TIMESTAMP) IS NULL",
        )
    )
    tests.append(
        (
            source.time,
            "a time with a UTC offset (give local business time, without the offset)",
            f"regexp_matches(CAST({_q(source.time)} AS "
            "VARCHAR), '(Z|[+-][0-9][0-9]:?[0-9][0-9])$')",
        )
    )
    for column in [*source.dimensions.values(), *([source.entity] if source.entity else [])]:
        tests.append(
            (
                column,
                "an empty value",
                f"{_q(column)} IS NULL OR CAST({_q(column)} AS VARCHAR) = ''",
            )
        )
    for name, spec in source.columns.items():
        if spec.type == "number":
            tests += _number_tests(name)
        elif spec.type == "time":
            tests.append(
                (
                    name,
                    "a time that does not parse",
                    f"{_q(name)} IS NOT NULL AND TRY_CAST({_q(name)} AS TIMESTAMP) IS NULL",
                )
            )
        if spec.values is not None:
            allowed = ", ".join(exp.Literal.string(v).sql("duckdb") for v in spec.values)
            shown = ", ".join(spec.values[:15]) + (" …" if len(spec.values) > 15 else "")
            tests.append(
                (
                    name,
                    f"a value outside the declared values ({shown})",
                    f"{_q(name)} IS NOT NULL AND CAST({_q(name)} AS VARCHAR) NOT IN ({allowed})",
                )
            )
        if spec.min is not None:
            tests.append(
                (
                    name,
                    f"a value below the declared minimum {spec.min:g}",
                    f"TRY_CAST({_q(name)} AS DOUBLE) < {spec.min!r}",
                )
            )
    # columns not declared that the measures sum or compare with numbers: checked the same way,
    # rather than left to fail in the query as a SQL engine's type error
    for name in number_columns_of(c, sid):
        tests += _number_tests(name)
    numbered = f"(SELECT *, row_number() OVER () AS kpi__row FROM {_q(sid)})"
    counts = con.execute(
        "SELECT "
        + ", ".join(f"count(*) FILTER (WHERE {cond})" for _, _, cond in tests)
        + f" FROM {_q(sid)}"
    ).fetchall()[0]
    for (column, what, cond), bad in zip(tests, counts, strict=True):
        if not bad:
            continue
        rows = con.execute(
            f"SELECT kpi__row, CAST({_q(column)} AS VARCHAR) FROM {numbered} WHERE {cond} "
            f"ORDER BY kpi__row LIMIT {SAMPLE_ROWS}"
        ).fetchall()
        sample = "; ".join(f"row {r}: {_show(v)}" for r, v in rows)
        header = f" (header '{source.headers[column]}')" if column in source.headers else ""
        err = InputError(
            f"source '{sid}' ({label}), column '{column}'{header}: {bad} row{'s' * (bad != 1)} "
            f"with {what} — {sample}{' …' if bad > len(rows) else ''}",
            code="KPI-E043",
        )
        # structured, for API clients
        err.row, err.column = ((int(rows[0][0]) if rows else None), column)
        err.hint = "write digits 0-9" if what == _FOREIGN_DIGITS else _export_hint(rows)
        raise err


def _number_tests(name: str) -> list[tuple[str, str, str]]:
    """The checks of a number column: (column, what is wrong, SQL condition of a bad row)."""
    return [
        # the digits of other scripts (١٢٣, １２３): not numbers to DuckDB either, but say why
        (
            name,
            _FOREIGN_DIGITS,
            f"TRY_CAST({_q(name)} AS DOUBLE) IS NULL AND regexp_matches(regexp_replace("
            f"CAST({_q(name)} AS VARCHAR), '[0-9]', '', 'g'), '\\p{{Nd}}')",
        ),
        (
            name,
            "a value that is not a number",
            f"{_q(name)} IS NOT NULL AND (TRY_CAST({_q(name)} AS DOUBLE) IS NULL "
            f"OR lower(CAST({_q(name)} AS VARCHAR)) IN ('true', 'false'))",
        ),
        (
            name,
            "a value that is not a finite number",
            f"isinf(TRY_CAST({_q(name)} AS DOUBLE)) OR isnan(TRY_CAST({_q(name)} AS DOUBLE))",
        ),
    ]


def number_columns_of(c: CompiledPack, sid: str) -> list[str]:
    """Columns the source does not declare that its measures read as numbers (engine.validate.
    measure_types.number_columns): an ``of`` summed, an operand of arithmetic, a comparison with
    a number."""
    source = c.pack.sources[sid]
    types = column_types(source)
    params = set(c.pack.params)
    names: set[str] = set()
    for x in c.measures.values():
        if x.measure.source != sid:
            continue
        summed = x.measure.agg in ("sum", "avg", "min", "max")
        for parsed in x.of:
            names |= number_columns(parsed, types, params, number=summed)
        for other in (x.where, x.since, x.until, x.having):
            if other is not None:
                names |= number_columns(other, types, params)
    return sorted(names - set(source.columns))


def _export_hint(rows: Sequence[tuple[Any, Any]]) -> str | None:
    """A hint when a ledger's bad number cells look like export forms that are still not read:
    a number that could be read two ways (1,20), or a percent (a ledger's column has no unit).
    Export forms that read one way (1,200, ¥80, (120), 300元) are read (export_cells.py)."""
    for _, value in rows:
        try:
            export_number(str(value), percent=False, row=1, column="")
        except InputError as err:
            return f"{err.reason}; {err.hint}" if err.hint else err.reason
    return None


def _show(value: Any) -> str:
    if value is None:
        return "empty"
    text = str(value)
    return repr(text if len(text) <= 40 else text[:40] + "…")
