"""Raw records of a pack's sources (docs/measures.md) in place of input rows, in a worker.

    JSON  {"sources": {"card_events": [{"event_time": "2026-01-05 10:00:00", "amount": 100, …},
                                       …], …}
    CSV   POST /v1/packs/{pack}/evaluate?source=card_events   (text/csv, header row first)

:func:`check_sources` holds a request against the pack (it computes inputs from sources, and
every source sent is one of its sources); :func:`json_tables` turns each source's records into
text columns (scalars only), the in-memory tables that
:func:`engine.evaluate.records.evaluate_records` measures (typed as DuckDB types a CSV of the
same records; nothing is written to disk). Problems raise :class:`ApiProblem`; the worker answers
them as outcomes. No record value is ever quoted in a problem, only source ids, record numbers
(1-based) and field names.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from api.server.problems import ApiProblem, clip
from engine.api import MAX_COLUMNS, Columns, CompiledPack, measured_sources


def check_sources(compiled: CompiledPack, given: Iterable[str], location: str) -> None:
    """422 ``invalid-request`` unless the pack computes inputs from sources and every source sent
    is one of its sources. A source of the pack that is
    not sent is left to the engine (its inputs are missing). ``location``: ``body.sources`` or
    ``query.source``."""
    pack = compiled.pack
    if not measured_sources(compiled):
        raise ApiProblem(
            "invalid-request",
            f"pack '{pack.id}' computes no input from raw records (none of its "
            "inputs has a `measure:`): send input rows instead",
            errors=[{"location": location, "message": "the pack has no measured inputs"}],
        )
    known = ", ".join(pack.sources)
    for sid in given:
        if sid not in pack.sources:
            where = location if location.startswith("query") else f"{location}.{clip(sid, 60)}"
            raise ApiProblem(
                "invalid-request",
                f"pack '{pack.id}' has no source '{clip(sid, 60)}'; its sources: {known}",
                errors=[{"location": where, "message": f"unknown source; known: {known}"}],
            )


def _bad(sid: str, record: int, field: str | None, reason: str, *, code: str) -> ApiProblem:
    """``code``: the KPI-E… code of docs/errors.md."""
    what = f"source '{sid}', record {record}" + (
        f", field '{clip(field, 60)}'" if field is not None else ""
    )
    return ApiProblem(
        "invalid-input",
        f"{what}: {reason}",
        code=code,
        errors=[
            {
                "code": code,
                "row": record,
                "column": None if field is None else clip(field, 100),
                "reason": f"source '{sid}': {reason}",
                "hint": None,
            }
        ],
    )


def no_records(sid: str) -> ApiProblem:
    return ApiProblem(
        "invalid-input",
        f"source '{sid}' has no records: send at least one",
        code="KPI-E041",
        errors=[
            {
                "code": "KPI-E041",
                "row": None,
                "column": None,
                "reason": f"source '{sid}' has no records",
                "hint": None,
            }
        ],
    )


def _cell(sid: str, record: int, field: str, value: Any) -> str:
    """A JSON scalar as the text of a cell: null →
    empty (a blank), true/false, numbers as written."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _bad(
                sid, record, field, "the number is too large to be a finite number", code="KPI-E018"
            )
        return repr(value)
    if isinstance(value, str):
        if "\x00" in value:
            raise _bad(sid, record, field, "the text holds a NUL character", code="KPI-E043")
        return value
    kind = (
        "an object"
        if isinstance(value, dict)
        else "a list"
        if isinstance(value, list)
        else "not a scalar"
    )
    raise _bad(
        sid,
        record,
        field,
        f"the value is {kind}: a record's values must be text, numbers, true/false or null",
        code="KPI-E043",
    )


def json_tables(sources: Mapping[str, list[Any]]) -> dict[str, Columns]:
    """Each source's records (flat objects) as text
    columns; a field missing from a record is blank."""
    tables: dict[str, Columns] = {}
    for sid, records in sources.items():
        if not records:
            raise no_records(sid)
        names: dict[str, list[str]] = {}
        for n, record in enumerate(records, 1):
            if not isinstance(record, dict):
                raise _bad(
                    sid, n, None, "a record must be an object of field: value", code="KPI-E005"
                )
            for field, value in record.items():
                column = names.get(field)
                if column is None:
                    if not field or "\x00" in field:
                        raise _bad(
                            sid,
                            n,
                            None,
                            "a field has an empty name or a NUL character in its name",
                            code="KPI-E011",
                        )
                    if len(names) >= MAX_COLUMNS:
                        raise _bad(
                            sid,
                            n,
                            field,
                            f"the records have more than {MAX_COLUMNS:,} fields",
                            code="KPI-E008",
                        )
                    column = names[field] = [""] * (n - 1)
                column.append(_cell(sid, n, field, value))
            for column in names.values():  # fields this record lacks are blank
                if len(column) < n:
                    column.append("")
        tables[sid] = Columns(len(records), names, text_only=True)
    return tables
