"""A source given in memory (column name → values) as a DuckDB view, typed as its CSV would be.

A table of text (what the HTTP API builds from posted records) is registered in DuckDB as it is,
a NumPy array of strings per column, and a view named after the source types each column the way
:func:`engine.evaluate.measures.run._load` reads the same records from a CSV file:

- the time, dimension, entity and declared columns stay text (the checks and the query cast them);
- every other column takes the first of these types that fits all its values (blanks aside), as
  DuckDB's CSV sniffer chooses over a whole file: BOOLEAN (``true``/``false``/``t``/``f``/``yes``/
  ``no``, any case), BIGINT and HUGEINT (digits, no ``+`` and no leading zero unless negative, or
  hexadecimal ``0x…``), DOUBLE (``1.5``, ``.5``, ``1e5``, ``nan``; not ``inf``), TIME
  (``10:00:00``), DATE (ISO ``2026-01-02``), TIMESTAMP (ISO, ``T`` or a space), TIMESTAMP WITH TIME
  ZONE (every value with an offset or ``Z``); otherwise VARCHAR;
- a blank (``None`` or an empty text) is NULL.

Where the sniffer goes further than this, the types differ: dates written day-first or with
slashes (``03/04/2025``) stay text here, integers past HUGEINT are DOUBLE here (DuckDB's own
big-integer type from a CSV), and a column mixing timestamps with and without an offset stays
text here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from sqlglot import exp

from engine.core.errors import InputError

#: the label of an in-memory source in messages, in place of a file name
LABEL = "records"

_TRUE = ("true", "t", "yes")
_FALSE = ("false", "f", "no")
_INTEGER = r"\s*(-[0-9]+|0|[1-9][0-9]*|0[xX][0-9A-Fa-f]+)\s*"
#: a decimal may have spaces before it, not after (an integer may have both: _INTEGER)
_DOUBLE = r"\s*(-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[nN][aA][nN])"
_LEADING_ZERO = r"\s*0[0-9].*"
_TIME = r"[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
_DATE = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
_TIMESTAMP = rf"{_DATE}[ T]{_TIME}"
_OFFSET = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)"
_PADDED = {
    "TIME": rf"\s*{_TIME}\s*",
    "DATE": rf"\s*{_DATE}\s*",
    "TIMESTAMP": rf"\s*{_TIMESTAMP}\s*",
    "TIMESTAMPTZ": rf"\s*{_TIMESTAMP}{_OFFSET}\s*",
}


def _q(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _s(text: str) -> str:
    return exp.Literal.string(text).sql("duckdb")


def _match(value: str, pattern: str) -> str:
    return f"regexp_full_match({value}, {_s(pattern)})"


def _candidates(v: str) -> list[tuple[str, str]]:
    """(type, SQL condition that a non-blank value ``v`` fits it), in the sniffer's order."""
    words = ", ".join(_s(w) for w in (*_TRUE, *_FALSE))
    return [
        ("BOOLEAN", f"lower({v}) IN ({words})"),
        ("BIGINT", f"{_match(v, _INTEGER)} AND TRY_CAST({v} AS BIGINT) IS NOT NULL"),
        ("HUGEINT", f"{_match(v, _INTEGER)} AND TRY_CAST({v} AS HUGEINT) IS NOT NULL"),
        (
            "DOUBLE",
            f"({_match(v, _DOUBLE)} OR {_match(v, _INTEGER)}) AND NOT {_match(v, _LEADING_ZERO)} "
            f"AND TRY_CAST({v} AS DOUBLE) IS NOT NULL",
        ),
        *(
            (kind, f"{_match(v, pattern)} AND TRY_CAST({v} AS {kind}) IS NOT NULL")
            for kind, pattern in _PADDED.items()
        ),
    ]


def _cell(value: Any) -> str | None:
    """A value as the text of a CSV cell: None → blank; true/false; numbers as written."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else str(value)
    return str(value)


def _arrays(sid: str, table: Mapping[str, Sequence[Any]]) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    lengths: set[int] = set()
    for name, values in table.items():
        if not isinstance(name, str) or not name:
            raise InputError(
                f"source '{sid}' ({LABEL}): a column has an empty or non-text name",
                code="KPI-E046",
            )
        cells = [_cell(v) for v in values]
        lengths.add(len(cells))
        arrays[name] = np.array(cells, dtype=object)
    if not arrays:
        raise InputError(f"source '{sid}' ({LABEL}) has no columns", code="KPI-E046")
    if len(lengths) > 1:
        raise InputError(
            f"source '{sid}' ({LABEL}): the columns have different lengths "
            f"({', '.join(f'{n:,}' for n in sorted(lengths))})",
            code="KPI-E046",
        )
    return arrays


def infer_types(con: Any, relation: str, columns: Iterable[str]) -> dict[str, str]:
    """The type of each of ``columns`` of the text relation ``relation`` (one scan of it)."""
    names = list(columns)
    if not names:
        return {}
    tests: list[tuple[str, str]] = []  # (column, type) of each count below
    counts: list[str] = []
    for name in names:
        v = f"NULLIF({_q(name)}, '')"
        counts.append(f"count({v})")
        tests.append((name, ""))
        for kind, fits in _candidates(v):
            counts.append(f"count(*) FILTER (WHERE {v} IS NOT NULL AND NOT ({fits}))")
            tests.append((name, kind))
    row = con.execute(f"SELECT {', '.join(counts)} FROM {_q(relation)}").fetchall()[0]
    types: dict[str, str] = {}
    values: dict[str, int] = {}
    for (name, kind), count in zip(tests, row, strict=True):
        if not kind:
            values[name] = int(count)
        elif name not in types and values[name] and not count:
            types[name] = kind
    return {name: types.get(name, "VARCHAR") for name in names}


def _typed(name: str, kind: str) -> str:
    v = f"NULLIF({_q(name)}, '')"
    if kind == "VARCHAR":
        return f"{v} AS {_q(name)}"
    if kind == "BOOLEAN":
        trues = ", ".join(_s(w) for w in _TRUE)
        return f"(CASE WHEN {v} IS NULL THEN NULL ELSE lower({v}) IN ({trues}) END) AS {_q(name)}"
    return f"CAST({v} AS {kind}) AS {_q(name)}"


def register_table(
    con: Any, sid: str, table: Mapping[str, Sequence[Any]], text_columns: set[str]
) -> None:
    """A view named ``sid`` over the in-memory ``table``: ``text_columns`` as text, the other
    columns typed as DuckDB's CSV sniffer would type them (see the module's docstring)."""
    raw = f"kpi__memory__{sid}"
    con.register(raw, _arrays(sid, table))
    guessed = infer_types(con, raw, [n for n in table if n not in text_columns])
    select = ", ".join(_typed(name, guessed.get(name, "VARCHAR")) for name in table)
    con.execute(f"CREATE OR REPLACE VIEW {_q(sid)} AS SELECT {select} FROM {_q(raw)}")
