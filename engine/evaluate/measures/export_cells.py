"""A ledger's number cells as exports write them (``1,200``, ``¥1,200.50``, ``(120)``, ``300元``),
read as the numbers they are by the rule input rows follow (:func:`engine.evaluate.cells.
export_number`): one rule, in Python, for rows and ledgers alike (docs/measures.md, "Cells as
exports write them").

Only the cells DuckDB cannot read as a number are looked at: their distinct values are read in
Python, and the source is replaced by a table where each such cell holds the plain number
(``1200.0``). A cell that is no export form, or could be read two ways (``1,20``, ``1.200,50``),
or is a percent (a ledger's column has no unit), is left as it was, so that the source's checks
refuse it with its row (KPI-E043). Row order is kept (a projection, no join); a column whose
cells are then all numbers is typed DOUBLE, as DuckDB types a column of plain numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from sqlglot import exp

from engine.core.errors import InputError
from engine.evaluate.cells import export_number

#: most distinct unreadable values of one column read in Python (beyond: left to the checks)
MAX_DISTINCT = 1_000_000


def _q(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _reading(cell: str) -> str | None:
    """The plain text of the number an export cell stands for, or None."""
    try:
        value = export_number(cell, percent=False, row=0, column="")
    except InputError:  # reads two ways, or a percent: refused by the checks, with its row
        return None
    if value is None or not math.isfinite(value):
        return None
    return repr(value)


def _lookup(read: dict[str, str]) -> Any:
    def reading(cell: str) -> str:  # one parameter: DuckDB reads the function's signature
        return read.get(cell, cell)

    return reading


def read_export_numbers(con: Any, sid: str, names: Iterable[str]) -> int:
    """Replace source ``sid`` by a table whose text columns ``names`` hold plain numbers where
    their cells were export forms; returns how many cells of those columns DuckDB could not read
    as numbers (0: nothing changed)."""
    cursor = con.execute(f"SELECT * FROM {_q(sid)} LIMIT 0")
    types = {d[0]: str(d[1]).upper() for d in cursor.description}
    cursor.fetchall()
    text = [n for n in dict.fromkeys(names) if types.get(n) == "VARCHAR"]
    if not text:
        return 0
    unread = {n: f"{_q(n)} IS NOT NULL AND TRY_CAST({_q(n)} AS DOUBLE) IS NULL" for n in text}
    counts = con.execute(
        "SELECT "
        + ", ".join(f"count(*) FILTER (WHERE {cond})" for cond in unread.values())
        + f" FROM {_q(sid)}"
    ).fetchall()[0]
    readings: dict[str, dict[str, str]] = {}
    for name, count in zip(text, counts, strict=True):
        if not count:
            continue
        values = con.execute(
            f"SELECT DISTINCT CAST({_q(name)} AS VARCHAR) FROM {_q(sid)} "
            f"WHERE {unread[name]} LIMIT {MAX_DISTINCT}"
        ).fetchall()
        read = {v: r for (v,) in values if (r := _reading(v)) is not None}
        if read:
            readings[name] = read
    if not readings:
        return 0
    replaced = []
    for k, (name, read) in enumerate(readings.items()):
        fn = f"kpi__export_{k}"
        con.create_function(fn, _lookup(read), ["VARCHAR"], "VARCHAR", side_effects=False)
        replaced.append(
            f"CASE WHEN {unread[name]} THEN {fn}(CAST({_q(name)} AS VARCHAR)) "
            f"ELSE {_q(name)} END AS {_q(name)}"
        )
    (tables,) = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [sid]
    ).fetchone()
    raw = f"kpi__export__{sid}"
    con.execute(f"ALTER {'TABLE' if tables else 'VIEW'} {_q(sid)} RENAME TO {_q(raw)}")
    con.execute(
        f"CREATE TABLE {_q(sid)} AS SELECT * REPLACE ({', '.join(replaced)}) FROM {_q(raw)}"
    )
    for name in readings:  # all read: a number column again, as DuckDB would have typed it
        (left,) = con.execute(
            f"SELECT count(*) FILTER (WHERE {unread[name]}) FROM {_q(sid)}"
        ).fetchone()
        if not left:
            con.execute(f"ALTER TABLE {_q(sid)} ALTER {_q(name)} TYPE DOUBLE")
    return sum(c for n, c in zip(text, counts, strict=True) if n in readings)
