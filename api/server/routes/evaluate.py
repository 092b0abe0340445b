"""Evaluating a pack over data (spec §9): a JSON request, or CSV rows with options in the query.

Either input rows, or the raw records of the pack's sources (docs/measures.md) from which the
worker computes the measured inputs first: JSON ``sources``, or one source's CSV or .xlsx with
``source=``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from api.server import openapi as doc
from api.server.auth import Owner
from api.server.limits import read_body
from api.server.models import Evaluation, Grain
from api.server.problems import ApiProblem, clip
from api.server.redact import Redactor
from api.server.responses import require_media
from api.server.routes.deps import (
    CatalogDep,
    LocaleQuery,
    PoolDep,
    RedactDep,
    SettingsDep,
    VersionQuery,
)
from engine.api import XLSX_MEDIA_TYPE

router = APIRouter(prefix="/v1", tags=["evaluation"])
#: the body's media type → the job's ``media``
_MEDIA = {"application/json": "json", "text/csv": "csv", XLSX_MEDIA_TYPE: "xlsx"}

_EXAMPLE = {
    "pack": "membership-core",
    "version": "1.0.0",
    "grain": "month",
    "by": [],
    "rows": [
        {
            "period": "2026-01",
            "dims": {},
            "values": {"cac": 500.0, "avg_order_value": 125.0},
            "undefined": {},
            "bands": {},
            "rules": [],
            "checks": [],
        }
    ],
    "warnings": [],
}


def wants_workbook(request: Request) -> bool:
    """Whether the client asks for the Excel workbook (``Accept``) rather than JSON."""
    return XLSX_MEDIA_TYPE in request.headers.get("accept", "").lower()


def download_name(pack: str) -> str:
    """A file name for a download: the pack id's safe characters."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", pack).strip("._") or "report"


def answer(outcome: dict[str, Any], redact: Redactor, name: str = "report") -> Response:
    """A worker's outcome as an HTTP response (a
    large result streamed from the worker in chunks)."""
    if "body" in outcome:
        media = outcome.get("media", "application/json")
        headers = None
        if media == XLSX_MEDIA_TYPE:
            headers = {"Content-Disposition": f'attachment; filename="{download_name(name)}.xlsx"'}
        return Response(outcome["body"], media_type=media, headers=headers)
    if "stream" in outcome:
        return StreamingResponse(
            outcome["chunks"],
            media_type="application/json",
            headers={"Content-Length": str(outcome["stream"])},
        )
    extra = {k: redact(v) for k, v in outcome.items() if k not in ("problem", "detail")}
    raise ApiProblem(outcome["problem"], redact(outcome["detail"]), **extra)


def _csv_options(
    grain: str | None,
    by: str | None,
    metrics: str | None,
    locale: str | None,
    trace: bool | None,
    param: list[str],
    as_of: date | None,
    formatted: bool | None,
) -> dict[str, Any]:
    params: dict[str, str] = {}
    for item in param:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ApiProblem(
                "invalid-request",
                f"param '{clip(item, 60)}' must look like name=value",
                errors=[{"location": "query.param", "message": "name=value"}],
            )
        params[key.strip()] = value.strip()
    return {
        "grain": grain,
        "by": None if by is None else [b.strip() for b in by.split(",") if b.strip()],
        "metrics": [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None,
        "params": params or None,
        "locale": locale,
        "trace": bool(trace),
        "as_of": as_of,
        "formatted": bool(formatted),
    }


@router.post(
    "/packs/{pack}/evaluate",
    summary="Evaluate a pack over data",
    response_model=None,
    openapi_extra={"requestBody": doc.EVALUATE_BODY},
    responses={
        **doc.ok(
            Evaluation,
            "Values, bands, rules and checks per period and dimension member; with "
            f"`Accept: {XLSX_MEDIA_TYPE}`, the same as an Excel workbook (docs/excel.md)",
            _EXAMPLE,
            also={XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        ),
        **doc.problems(400, 401, 404, 413, 415, 422, 503, 504),
    },
    description="JSON: the §9 request `{rows, grain, by, metrics, params, locale, trace}` (the "
    "query options must then be absent). CSV (`Content-Type: text/csv`, header row first; "
    "UTF-8, UTF-16 with a byte-order mark or GB18030) or an Excel workbook (`Content-Type: "
    f"{XLSX_MEDIA_TYPE}`, the raw .xlsx bytes; `sheet=` names the sheet, default the first): "
    "the options as query parameters; `by=` (empty) totals across every dimension.\n\n"
    "Raw records instead of input rows, for a pack whose inputs are computed from `sources:` "
    "(`measure:`): JSON `sources` `{source id: [record, …]}` in place of `rows`, or one "
    "source's CSV or workbook with `?source=<id>`. Records count against the row limit; "
    "either `rows` or `sources`, not both.\n\n"
    f"`Accept: {XLSX_MEDIA_TYPE}` answers with the evaluation as an Excel workbook (a sheet per "
    "view, every value, the rules fired, the checks and the lineage; docs/excel.md) instead of "
    "JSON; errors stay problem+json.",
)
async def evaluate_pack(
    request: Request,
    pack: Annotated[
        str, Path(description="Pack id", examples=["bakery-stored-value"], max_length=200)
    ],
    catalog: CatalogDep,
    workers: PoolDep,
    settings: SettingsDep,
    redact: RedactDep,
    owner: Owner,
    version: VersionQuery = None,
    grain: Annotated[Grain | None, Query(description="CSV only: output grain")] = None,
    by: Annotated[
        str | None,
        Query(
            description="CSV only: dimensions kept, comma-separated; empty = totals",
            max_length=1000,
        ),
    ] = None,
    metrics: Annotated[
        str | None, Query(description="CSV only: metrics, comma-separated", max_length=10000)
    ] = None,
    locale: LocaleQuery = None,
    trace: Annotated[bool | None, Query(description="CSV only: explain each value")] = None,
    param: Annotated[
        list[str] | None, Query(description="CSV only: a param override, name=value (repeatable)")
    ] = None,
    source: Annotated[
        str | None,
        Query(
            description="CSV only: the body holds the raw records of this source of the "
            "pack (its inputs are computed from them), not input rows",
            examples=["card_events"],
            max_length=200,
        ),
    ] = None,
    as_of: Annotated[
        date | None, Query(description="CSV only: the data is complete up to the end of this day")
    ] = None,
    formatted: Annotated[
        bool | None, Query(description="CSV only: add each value as shown")
    ] = None,
    sheet: Annotated[
        str | None,
        Query(
            description="xlsx only: the sheet to read (default: the first)",
            examples=["流水"],
            max_length=200,
        ),
    ] = None,
) -> Response:
    kind = require_media(request, ("application/json", "text/csv", XLSX_MEDIA_TYPE))
    ref = await run_in_threadpool(catalog.resolve, pack, owner, version)
    options = None
    if sheet is not None and kind != XLSX_MEDIA_TYPE:
        raise ApiProblem(
            "invalid-request",
            "sheet= chooses a sheet of an .xlsx body only",
            errors=[{"location": "query.sheet", "message": "only with an .xlsx body"}],
        )
    if kind != "application/json":
        options = _csv_options(grain, by, metrics, locale, trace, param or [], as_of, formatted)
    elif any(
        v is not None for v in (grain, by, metrics, locale, trace, param, source, as_of, formatted)
    ):
        raise ApiProblem(
            "invalid-request",
            "with a JSON body, give grain, by, metrics, params, locale and trace "
            "in the body, not in the query, and raw records as 'sources'",
            errors=[{"location": "query", "message": "options belong in the JSON body"}],
        )
    body = await read_body(request, settings.max_body_bytes)
    job = {
        "kind": "evaluate",
        "key": ref.key,
        "source": ref.source,
        "body": body,
        "media": _MEDIA[kind],
        "options": options,
        "max_rows": settings.max_rows,
        "records_of": source if kind != "application/json" else None,
        "sheet": sheet,
        "max_values": settings.max_result_values,
        "max_bytes": settings.max_result_bytes,
        "stream": True,
    }
    if wants_workbook(request):  # sent whole: a workbook is read as one file, not streamed
        job.update({"output": "xlsx", "stream": False})
    return answer(await workers.run(job, settings.eval_timeout), redact, ref.id)
