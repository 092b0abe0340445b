"""Files the pages offer (docs/web.md, docs/excel.md): a pack's template to fill in, and the
report as an Excel workbook — the example data's (GET) or posted CSV (POST, as the report page
posts it), evaluated the way of the report page (a worker, the server's limits).

    GET  /packs/{pack}/template.csv | template.xlsx   [?source=<source id>]
    GET  /packs/{pack}/report.xlsx?data=example&grain=&by=&view=&as_of=
    POST /packs/{pack}/report.xlsx                     (text/csv, or the page's form with csv=)

An error is a page, as on every page address (api.web.pages.errors_as_pages).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.server.auth import Owner
from api.server.catalog import PackRef
from api.server.limits import read_body
from api.server.problems import ApiProblem, clip
from api.server.redact import Redactor
from api.server.responses import media_type
from api.server.routes.deps import CatalogDep, PoolDep, RedactDep, SettingsDep
from api.server.routes.evaluate import download_name
from engine.api import XLSX_MEDIA_TYPE, CompiledPack, KpiError, render_template

from . import i18n, report, views

router = APIRouter(include_in_schema=False)

PackId = Annotated[str, PathParam(max_length=200)]
Choice = Annotated[str, Query(max_length=64)]
CSV_MEDIA = "text/csv; charset=utf-8"


def _pack(catalog: CatalogDep, pack: str, owner: str | None) -> tuple[PackRef, CompiledPack]:
    ref = catalog.resolve(pack, owner)  # 404 for what the owner may not read, as in the API
    return ref, catalog.compiled(ref)


def _attachment(data: bytes, media: str, name: str, private: bool) -> Response:
    return Response(
        data,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store" if private else "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/packs/{pack}/template.{kind}")
def template_file(
    request: Request,
    pack: PackId,
    kind: Annotated[str, PathParam(pattern="^(csv|xlsx)$")],
    catalog: CatalogDep,
    owner: Owner,
    source: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The pack's template (``kpi template``) in the visitor's language."""
    ref, c = _pack(catalog, pack, owner)
    locale = views.pack_locale(c.pack, i18n.chosen(request))
    try:
        data = render_template(c, kind, locale, source or None)
    except KpiError as err:
        raise ApiProblem("invalid-request", clip(str(err))) from None
    name = f"{download_name(ref.id)}-template{'-' + download_name(source) if source else ''}"
    media = XLSX_MEDIA_TYPE if kind == "xlsx" else CSV_MEDIA
    return _attachment(data, media, f"{name}.{kind}", ref.visibility == "private")


async def _workbook(
    request: Request,
    ref: PackRef,
    c: CompiledPack,
    body: bytes,
    choice: tuple[str, str, str, str],
    pool: PoolDep,
    settings: SettingsDep,
    redact: Redactor,
) -> Response:
    grain, by, view, as_of = choice
    locale = views.pack_locale(c.pack, i18n.chosen(request))
    opts = report.options(c, grain, by, view, locale, as_of)
    outcome = await report.evaluate_csv(pool, settings, ref, body, opts, output="xlsx")
    if "body" not in outcome:  # the report page's failure block: the offending rows in context
        from .pages import render

        failure = await run_in_threadpool(report.failure, outcome, body, redact)
        return await run_in_threadpool(
            lambda: render(
                request,
                "error.html",
                status=failure["status"],
                private=True,
                code=failure["status"],
                title=failure["title"],
                detail=failure["detail"],
                failure=failure,
            )
        )
    name = f"{download_name(ref.id)}-report.xlsx"
    return _attachment(outcome["body"], XLSX_MEDIA_TYPE, name, private=True)


@router.get("/packs/{pack}/report.xlsx")
async def report_workbook(
    request: Request,
    pack: PackId,
    catalog: CatalogDep,
    owner: Owner,
    pool: PoolDep,
    settings: SettingsDep,
    redact: RedactDep,
    grain: Choice = "",
    by: Choice = "",
    view: Choice = "",
    data: Choice = "",
    as_of: Choice = "",
) -> Response:
    """The report over the pack's example data as a workbook."""
    ref, c = await run_in_threadpool(_pack, catalog, pack, owner)
    body = await run_in_threadpool(report.example_csv, ref) if data == "example" else None
    if body is None:
        raise ApiProblem(
            "invalid-request", "this address gives the example data's report (data=example)"
        )
    return await _workbook(request, ref, c, body, (grain, by, view, as_of), pool, settings, redact)


@router.post("/packs/{pack}/report.xlsx")
async def report_workbook_upload(
    request: Request,
    pack: PackId,
    catalog: CatalogDep,
    owner: Owner,
    pool: PoolDep,
    settings: SettingsDep,
    redact: RedactDep,
    grain: Choice = "",
    by: Choice = "",
    view: Choice = "",
    as_of: Choice = "",
) -> Response:
    """Posted CSV (``text/csv``, options in the query; or the page's form, options in it)."""
    from .pages import form_fields

    ref, c = await run_in_threadpool(_pack, catalog, pack, owner)
    kind = media_type(request)
    if kind not in ("text/csv", "application/x-www-form-urlencoded"):
        raise ApiProblem(
            "unsupported-media-type", "send the CSV file as text/csv, or paste it in the form"
        )
    body = await read_body(request, settings.max_body_bytes)
    if kind == "application/x-www-form-urlencoded":
        fields = await run_in_threadpool(form_fields, body)
        first = {name: values[0] for name, values in fields.items() if values}
        grain, by, view, as_of = (
            clip(first.get(k, v), 64)
            for k, v in (("grain", grain), ("by", by), ("view", view), ("as_of", as_of))
        )
        body = first.get("csv", "").encode("utf-8")
    return await _workbook(request, ref, c, body, (grain, by, view, as_of), pool, settings, redact)
