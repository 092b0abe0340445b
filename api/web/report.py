"""The report page: evaluate a pack over CSV through the API's workers, and lay out the result.

An evaluation goes exactly the way of ``POST /v1/packs/{pack}/evaluate`` with a CSV body: the
body is read under the server's size limit, the job goes to a worker process that is killed at
the deadline, and the row cap is enforced there (see :mod:`api.server.worker` and
:mod:`api.server.jobs`). Nothing is evaluated in the request's own thread, and the page's own
work (:func:`layout`, :func:`failure`) runs off the event loop.

A page shows a bounded part of a large result (``MAX_*`` below), with a note of what was left
out: every row of the result stays available from the JSON API, or as totals (``by=-``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from api.server.catalog import PackRef
from api.server.config import Settings
from api.server.problems import ApiProblem, clip
from api.server.redact import Redactor
from api.server.worker import WorkerPool
from engine.api import (
    BUILTIN_ROOT,
    OUTPUT_GRAINS,
    CompiledPack,
    InputError,
    decode_text,
    display_text,
)

from . import attention
from .svg import trend_chart

CONTEXT_ROWS = 2  # data rows shown either side of an offending row
MAX_CELL = 40
MAX_TABLES = 50  # member tables on one page
MAX_LINES = 10  # members drawn in one trend chart
MAX_PERIODS = 60  # the latest periods, as table columns and chart points
MAX_FIRED = 200  # fired rules listed
MAX_CHECKS = 500  # check results listed (failures first)


def _example(ref: PackRef) -> Path | None:
    if not ref.builtin:
        return None
    path = BUILTIN_ROOT / ref.id / "examples" / "sample.csv"
    return path if path.is_file() else None


def example_csv(ref: PackRef) -> bytes | None:
    """A built-in pack's ``examples/sample.csv`` (published packs have none)."""
    path = _example(ref)
    return path.read_bytes() if path else None


def has_example(ref: PackRef) -> bool:
    return _example(ref) is not None


def options(
    c: CompiledPack, grain: str, by: str, view: str, locale: str, as_of: str = ""
) -> dict[str, Any]:
    """The evaluation options of the report form (unknown choices are ignored, as if not given).

    ``view`` does not change them: a view narrows what the page shows (:func:`layout`), not
    what is evaluated, so that every rule the data allows is judged and the page can say which
    fired outside the view. (An export of the page that wants only the view's indicators filters
    the result by ``c.pack.views[view].metrics``.)
    """
    return {
        "grain": grain if grain in OUTPUT_GRAINS else None,
        "by": [] if by == "-" else [by] if by in c.pack.dimensions else None,
        "metrics": None,
        "params": None,
        "locale": locale,
        "trace": False,
        "as_of": day(as_of),
    }


def day(text: str) -> str | None:
    """The form's "data as of" (YYYY-MM-DD), or None when it is empty or not a day."""
    try:
        return (
            date.fromisoformat(text).isoformat()
            if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text)
            else None
        )
    except ValueError:
        return None


#: most values of a result a report page reads (the page is laid out in the server process from
#: the result's JSON; it shows the first MAX_TABLES members of it); with a view, the values of
#: its metrics and of the names the rules use (the rest is not sent)
PAGE_MAX_VALUES = 300_000


async def evaluate_csv(
    pool: WorkerPool,
    settings: Settings,
    ref: PackRef,
    body: bytes,
    opts: dict[str, Any],
    media: str = "csv",
    output: str = "json",
    view: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The worker's outcome for a CSV body (``media`` "xlsx": an Excel workbook's first sheet):
    ``{"body": bytes}`` (JSON, or ``output`` "xlsx": the workbook) or ``{"problem": slug,
    "detail": …}``.

    ``view``: the chosen view's metrics. The JSON then holds those and what the rules judged
    need (``api.server.jobs.page_names``), and :data:`PAGE_MAX_VALUES` counts only them: a view
    is the page's way to show a part of a wide result."""
    job = {
        "kind": "evaluate",
        "key": ref.key,
        "source": ref.source,
        "body": body,
        "media": media,
        "options": opts,
        "max_rows": settings.max_rows,
        "max_values": settings.max_result_values,
        "max_bytes": settings.max_result_bytes,
        "output": output,
        "page": {"view": None if view is None else list(view), "max_values": PAGE_MAX_VALUES},
    }
    try:
        return await pool.run(job, settings.eval_timeout)
    except ApiProblem as err:
        return {"problem": err.type.slug, "detail": err.detail, **err.extra}


def failure(outcome: dict[str, Any], body: bytes | None, redact: Redactor) -> dict[str, Any]:
    """A problem outcome for the page: its status, message, and the offending rows in context."""
    problem = ApiProblem(outcome["problem"], redact(str(outcome["detail"])))
    errors = []
    for e in redact(outcome.get("errors") or []):
        if isinstance(e, dict):
            row = e.get("row") if isinstance(e.get("row"), int) else None
            errors.append(
                {
                    "row": row,
                    "column": e.get("column"),
                    "reason": e.get("reason") or e.get("message"),
                    "hint": e.get("hint"),
                    "location": e.get("location"),
                    "context": rows_around(body, row, e.get("column")) if body and row else None,
                }
            )
    return {
        "status": problem.type.status,
        "title": problem.type.title,
        "detail": problem.detail,
        "slug": problem.type.slug,
        "errors": errors,
        "problems": [
            p.get("message") for p in redact(outcome.get("problems") or []) if isinstance(p, dict)
        ],
    }


def rows_around(body: bytes, row: int, column: Any) -> dict[str, Any] | None:
    """The header and the data rows around ``row`` (1-based,
    blank lines not counted, as the reader counts)."""
    try:  # as the worker decoded it (UTF-8, UTF-16 or GB18030)
        text = decode_text(body)[0]
    except InputError:
        text = body.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            return None
        shown: list[tuple[int, list[str]]] = []
        n = 0
        for record in reader:
            if not record:
                continue
            n += 1
            if n > row + CONTEXT_ROWS:
                break
            if n >= row - CONTEXT_ROWS:
                shown.append((n, record))
    except csv.Error:
        return None
    names = [h.strip() for h in header]
    col = names.index(column) if isinstance(column, str) and column in names else None
    return {
        "header": [clip(h, MAX_CELL) for h in header[:60]],
        "column": col,
        "row": row,
        "rows": [
            {"n": i, "cells": [clip(c, MAX_CELL) for c in r[:60]], "bad": i == row}
            for i, r in shown
        ],
    }


def _member(dims: dict[str, Any]) -> str:
    return " · ".join(str(v) for v in dims.values())


def layout(
    c: CompiledPack, outcome_body: bytes, locale: str, words: dict[str, str], view: str = ""
) -> dict[str, Any]:
    """The evaluation JSON (§9) as a "needs attention" summary, tables per dimension member,
    fired rules, checks and trend charts.

    Indicators null on every row are not drawn: ``empty`` names them with the engine's reasons.
    With a ``view``, only its indicators are drawn, and the rules that fired outside it are
    counted and listed apart (``outside``): a view never hides a fired rule.

    At most ``MAX_TABLES`` tables, ``MAX_LINES`` lines a chart, the latest ``MAX_PERIODS``
    periods, ``MAX_FIRED`` fired rules and ``MAX_CHECKS`` check results: ``notes`` says what
    was left out and where to get all of it.
    """
    result = json.loads(outcome_body)
    p = c.pack
    rows: Sequence[dict[str, Any]] = result["rows"]
    all_periods = list(dict.fromkeys(r["period"] for r in rows))
    members = list(dict.fromkeys(_member(r["dims"]) or words["totals"] for r in rows))
    periods = all_periods[-MAX_PERIODS:]
    present = {m for r in rows for m in r["values"]}
    chosen_view = p.views.get(view)
    in_view = set(chosen_view.metrics) if chosen_view else None
    metrics = [m for m in p.metrics if m in present and (in_view is None or m in in_view)]
    empty = attention.empty_metrics(c, rows, metrics, locale)
    metrics = [m for m in metrics if m not in {e["id"] for e in empty}]
    at = {(r["period"], _member(r["dims"]) or words["totals"]): r for r in rows}
    tables = []
    for member in members[:MAX_TABLES]:
        lines = []
        for mid in metrics:
            m = p.metrics[mid]
            cells = []
            for period in periods:
                r = at.get((period, member))
                value = r["values"].get(mid) if r else None
                band = r["bands"].get(mid) if r else None
                implausible = (r or {}).get("implausible", {}).get(mid)
                cells.append(
                    {
                        "text": display_text(value, m),
                        "status": band["status"] if band else None,
                        "band": band["label"] if band else None,
                        "why": (r or {}).get("undefined", {}).get(mid)
                        if value is None
                        else implausible,
                        "implausible": bool(implausible),
                    }
                )
            lines.append(
                {"id": mid, "label": m.label.get(locale, mid), "unit": m.unit, "cells": cells}
            )
        tables.append({"member": member, "lines": lines})
    fired: list[dict[str, Any]] = []
    outside: list[dict[str, Any]] = []
    checks, fired_total, outside_total = [], 0, 0
    for r in rows:
        member = _member(r["dims"]) or words["totals"]
        for rule in r["rules"]:
            if attention.in_view(c, rule["id"], in_view):
                fired_total += 1
                if len(fired) < MAX_FIRED:
                    fired.append(attention.fired_entry(c, r, member, rule, locale))
            else:
                outside_total += 1
                if len(outside) < MAX_FIRED:
                    outside.append(attention.fired_entry(c, r, member, rule, locale))
        for check in r["checks"]:
            checks.append({"period": r["period"], "member": member, **check})
    for prefix, entries in (("fired", fired), ("outside", outside)):
        for n, entry in enumerate(entries, 1):
            entry["anchor"] = f"{prefix}-{n}"
    checks.sort(key=lambda x: x["status"] == "pass")
    charts = []
    drawn = members[:MAX_LINES]
    for mid in metrics:
        m = p.metrics[mid]
        series = {
            member: [
                at[(period, member)]["values"].get(mid) if (period, member) in at else None
                for period in periods
            ]
            for member in drawn
        }
        chart = trend_chart(periods, series, m.bands, m.format, m.decimals, locale)
        if chart is not None:
            charts.append({"id": mid, "label": m.label.get(locale, mid), "chart": chart})
    notes = [
        words[key].format(shown=limit, total=total)
        for key, limit, total in (
            ("capped_tables", MAX_TABLES, len(members)),
            ("capped_lines", MAX_LINES, len(members)),
            ("capped_periods", MAX_PERIODS, len(all_periods)),
            ("capped_fired", MAX_FIRED, fired_total),
            ("capped_fired", MAX_FIRED, outside_total),
            ("capped_checks", MAX_CHECKS, len(checks)),
        )
        if total > limit
    ]
    if notes:
        notes.append(words["capped_rest"].format(pack=p.id))
    return {
        "grain": result["grain"],
        "by": result["by"],
        "periods": periods,
        "members": members,
        "tables": tables,
        "attention": attention.by_severity(fired),
        "fired": fired,
        "fired_total": fired_total,
        "outside": outside,
        "outside_total": outside_total,
        "empty": empty,
        "checks": checks[:MAX_CHECKS],
        "checks_total": len(checks),
        "charts": charts,
        "notes": notes,
        "as_of": result.get("as_of"),
        "partial": sorted({r["period"] for r in rows if r.get("partial")}),
        "warnings": [w.get("message", "") for w in result.get("warnings", [])[:100]],
    }
