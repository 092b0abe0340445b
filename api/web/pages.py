"""The web pages' routes: catalog, pack, indicator, report, and the language switch.

Who may read a pack is decided by the API's own catalog (``Catalog.listing`` and
``Catalog.resolve`` with the owner of a verified token, else anonymous), exactly as the
``/v1/packs`` routes decide it. Every page is rendered by Jinja2 with autoescaping and sent
with a strict Content-Security-Policy: no inline script or style, nothing from elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api.server.auth import Owner
from api.server.catalog import PackRef
from api.server.limits import read_body
from api.server.problems import ApiProblem, clip
from api.server.responses import media_type
from api.server.routes.deps import CatalogDep, PoolDep, RedactDep, SettingsDep
from engine.compile import CompiledPack
from engine.errors import UnknownMetric
from engine.model import GRAINS

from . import i18n, report, views

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
_ENV = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True)

router = APIRouter(include_in_schema=False)
PackId = Annotated[str, PathParam(max_length=200)]
Choice = Annotated[str, Query(max_length=64)]


def render(request: Request, name: str, *, status: int = 200, private: bool = False, **ctx: Any) -> HTMLResponse:
    locale = i18n.chosen(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    html = _ENV.get_template(name).render(t=i18n.words(locale), locale=locale, here=here, **ctx)
    return HTMLResponse(html, status_code=status, headers={
        "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY", "Cache-Control": "private, no-cache" if private else "no-cache",
        "Vary": "Cookie, Accept-Language, Authorization"})


def error_page(request: Request, err: ApiProblem) -> HTMLResponse:
    return render(request, "error.html", status=err.type.status, code=err.type.status, title=err.type.title,
                  detail=err.detail)


def _pack(catalog: CatalogDep, pack: str, owner: str | None) -> tuple[PackRef, CompiledPack]:
    ref = catalog.resolve(pack, owner)  # 404 for what the owner may not read, as in the API
    return ref, catalog.compiled(ref)


@router.get("/", response_class=HTMLResponse)
def catalog_page(request: Request, catalog: CatalogDep, owner: Owner,
                 q: Annotated[str, Query(max_length=200)] = "") -> Response:
    locale = i18n.chosen(request)
    packs = views.catalog_entries(catalog, catalog.listing(owner), locale, q)
    return render(request, "catalog.html", packs=packs, query=q, private=owner is not None)


@router.get("/lang")
def switch_language(to: Choice = "", next: Annotated[str, Query(max_length=2000)] = "/") -> Response:
    """Remember the visitor's language (a cookie) and go back to the page (same site only)."""
    safe = next.startswith("/") and not next.startswith("//") and "\\" not in next and next.isprintable()
    response = RedirectResponse(next if safe else "/", status_code=303)
    if to in i18n.LOCALES:
        response.set_cookie(i18n.COOKIE, to, max_age=365 * 24 * 3600, path="/", samesite="lax", httponly=True)
    return response


@router.get("/packs/{pack}", response_class=HTMLResponse)
def pack_page(request: Request, pack: PackId, catalog: CatalogDep, owner: Owner) -> Response:
    try:
        ref, c = _pack(catalog, pack, owner)
    except ApiProblem as err:
        return error_page(request, err)
    page = views.pack_page(c, views.pack_locale(c.pack, i18n.chosen(request)))
    return render(request, "pack.html", p=page, private=ref.visibility == "private")


@router.get("/packs/{pack}/metrics/{ident}", response_class=HTMLResponse)
def node_page(request: Request, pack: PackId, ident: Annotated[str, PathParam(max_length=200)],
              catalog: CatalogDep, owner: Owner, redact: RedactDep) -> Response:
    try:
        ref, c = _pack(catalog, pack, owner)
        locale = views.pack_locale(c.pack, i18n.chosen(request))
        try:
            page = views.node_page(c, ident, locale, redact)
        except UnknownMetric as err:
            raise ApiProblem("metric-not-found", clip(str(err))) from None
    except ApiProblem as err:
        return error_page(request, err)
    return render(request, "metric.html", n=page, pack=c.pack, pack_title=c.pack.title.get(locale, c.pack.id),
                  private=ref.visibility == "private")


@router.get("/packs/{pack}/report", response_class=HTMLResponse)
async def report_page(request: Request, pack: PackId, catalog: CatalogDep, owner: Owner, pool: PoolDep,
                      settings: SettingsDep, redact: RedactDep, grain: Choice = "", by: Choice = "",
                      view: Choice = "", data: Choice = "") -> Response:
    try:
        ref, c = await run_in_threadpool(_pack, catalog, pack, owner)
    except ApiProblem as err:
        return error_page(request, err)
    body = report.example_csv(ref) if data == "example" else None
    return await _report(request, ref, c, body, (grain, by, view), pool, settings, redact, source="example")


@router.post("/packs/{pack}/report", response_class=HTMLResponse)
async def report_upload(request: Request, pack: PackId, catalog: CatalogDep, owner: Owner, pool: PoolDep,
                        settings: SettingsDep, redact: RedactDep, grain: Choice = "", by: Choice = "",
                        view: Choice = "") -> Response:
    """An uploaded CSV (``text/csv``, sent by the page's script) or pasted CSV text (a plain form)."""
    try:
        ref, c = await run_in_threadpool(_pack, catalog, pack, owner)
    except ApiProblem as err:
        return error_page(request, err)
    pasted, refused = "", None
    try:
        kind = media_type(request)
        if kind not in ("text/csv", "application/x-www-form-urlencoded"):
            raise ApiProblem("unsupported-media-type", "send the CSV file as text/csv, or paste it in the form")
        body = await read_body(request, settings.max_body_bytes)  # 413 past the limit, chunked uploads too
    except ApiProblem as err:
        body, refused = b"", {"problem": err.type.slug, "detail": err.detail, **err.extra}
    if refused is None and kind == "application/x-www-form-urlencoded":
        fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=16)
        pasted = (fields.get("csv") or [""])[0]
        body = pasted.encode("utf-8")
    return await _report(request, ref, c, body, (grain, by, view), pool, settings, redact, source="upload",
                         pasted=pasted, refused=refused)


async def _report(request: Request, ref: PackRef, c: CompiledPack, body: bytes | None, choice: tuple[str, str, str],
                  pool: PoolDep, settings: SettingsDep, redact: RedactDep, *, source: str,
                  pasted: str = "", refused: dict[str, Any] | None = None) -> Response:
    grain, by, view = choice
    p = c.pack
    locale = views.pack_locale(p, i18n.chosen(request))
    words = i18n.words(i18n.chosen(request))
    query = {k: v for k, v in (("grain", grain), ("by", by), ("view", view)) if v}
    ctx: dict[str, Any] = {
        "pack": p, "pack_title": p.title.get(locale, p.id), "grains": GRAINS,
        "dims": [(d.id, d.label.get(locale, d.id)) for d in p.dimensions.values()],
        "views": [(v.id, v.label.get(locale, v.id)) for v in p.views.values()],
        "chosen": {"grain": grain, "by": by, "view": view}, "query": f"?{urlencode(query)}" if query else "",
        "has_example": report.example_csv(ref) is not None, "failure": None, "result": None, "pasted": pasted,
        "source_label": words["example_data"] if source == "example" else words["upload"]}
    status = 200
    if body is not None:
        outcome = refused or await report.evaluate_csv(pool, settings, ref, body,
                                                       report.options(c, grain, by, view, locale))
        if "body" in outcome:
            ctx["result"] = await run_in_threadpool(report.layout, c, outcome["body"], locale, words)
        else:
            ctx["failure"] = report.failure(outcome, body, redact)
            # the page's script asks for the results to show in place: the request itself worked
            # (a 4xx would be logged in the browser's console as a failed load)
            status = 200 if request.headers.get("x-kpi-results") == "1" else ctx["failure"]["status"]
    return render(request, "report.html", status=status, private=ref.visibility == "private", **ctx)
