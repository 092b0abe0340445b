"""A source's ``headers``: the columns of an export read under the names the pack gives them.

A POS export heads its columns ``会员编号`` and ``金额``; the pack's measures say ``member_id`` and
``amount``. With ``headers: {member_id: 会员编号, amount: 金额}`` on the source, the view the
measures read renames the file's headers to the pack's names (``SELECT "会员编号" AS
"member_id", …``: identifiers quoted by SQLGlot, never spliced as text), before anything is
checked or measured. Headers are matched exactly, after trimming spaces (docs/measures.md,
"Headers"). ``recode`` reads a column's values as the pack's codes in the same view (``充值`` as
``recharge``: docs/measures.md, "Recoding values").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlglot import exp

from engine.core.errors import InputError
from engine.core.model import DataSource


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def rename_headers(con: Any, source: DataSource, sid: str, label: str) -> None:
    """Replace the view ``sid`` (the file as it is) by one with the pack's column names and
    values (``headers``, ``recode``); raises KPI-E058 when a mapped header is not in the file, or
    the file also has the pack's name."""
    if not source.headers and not source.recode:
        return
    cursor = con.execute(f"SELECT * FROM {_ident(sid).sql('duckdb')} LIMIT 0")
    have = [d[0] for d in cursor.description]
    cursor.fetchall()  # a result left open blocks the connection
    by_header = {h.strip(): h for h in have}
    column_of: dict[str, str] = {}  # the file's header -> the pack's name
    for name, header in source.headers.items():
        found = by_header.get(header.strip())
        if found is None:
            shown = ", ".join(have[:30]) + (" …" if len(have) > 30 else "")
            raise InputError(
                f"source '{sid}' ({label}): no header '{header}' (headers maps column '{name}' "
                f"to it; the file has: {shown})",
                code="KPI-E058",
                hint=f"correct sources.{sid}.headers.{name}, or the file's header",
            )
        if name in by_header and by_header[name] != found:
            raise InputError(
                f"source '{sid}' ({label}): the file has both a column '{name}' and the header "
                f"'{header}' that headers maps to '{name}'",
                code="KPI-E058",
                hint="drop one of the two columns, or the mapping",
            )
        column_of[found] = name
    raw = f"kpi__file__{sid}"
    # a file is a view over it; a converted one (non-UTF-8 CSV, a workbook) a table
    (tables,) = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [sid]
    ).fetchone()
    kind = "TABLE" if tables else "VIEW"
    con.execute(f"ALTER {kind} {_ident(sid).sql('duckdb')} RENAME TO {_ident(raw).sql('duckdb')}")
    select = exp.select(
        *(_read(h, column_of.get(h, h), source.recode.get(column_of.get(h, h))) for h in have)
    ).from_(exp.Table(this=_ident(raw)))
    view = exp.Create(this=exp.Table(this=_ident(sid)), kind="VIEW", expression=select)
    con.execute(view.sql("duckdb"))


def _read(header: str, name: str, codes: Mapping[str, str] | None) -> exp.Expression:
    """The file's column ``header`` as the pack's column ``name``: its values recoded when the
    source says so (a value written with spaces around it is matched trimmed; any other value is
    read as it is, and checked against the declared values like any cell)."""
    column: exp.Expression = exp.column(_ident(header))
    if codes:
        text = exp.Trim(this=exp.cast(column.copy(), "varchar"))
        column = exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=text.copy(), expression=exp.Literal.string(written.strip())),
                    true=exp.Literal.string(value),
                )
                for written, value in codes.items()
            ],
            default=exp.cast(column.copy(), "varchar"),  # a recoded column is text
        )
    if name == header and not codes:
        return column
    return exp.Alias(this=column, alias=_ident(name))


def header_names(source: DataSource, names: set[str]) -> set[str]:
    """``names`` (columns of the source) with the file's headers they are read from."""
    return names | {source.headers[n] for n in names if n in source.headers}
