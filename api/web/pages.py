"""The web pages' routes: catalog, pack, indicator, report, and the language switch.

Who may read a pack is decided by the API's own catalog (``Catalog.listing`` and
``Catalog.resolve`` with the owner of a verified token, else anonymous), exactly as the
``/v1/packs`` routes decide it. Every page is rendered by Jinja2 with autoescaping and sent
with a strict Content-Security-Policy: no inline script or style, nothing from elsewhere.
An error on a page's address (anything outside the API's ``/v1``, ``/docs``, ``/healthz``
and ``/openapi.json``) is a page too, with the same headers (:func:`errors_as_pages`).

Rendering is CPU work: the async report routes run it (and the layout of a result) in the
thread pool, never on the event loop. A pack page is cached by the pack's content key and the
language: published versions never change.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from api.server.auth import Owner
from api.server.catalog import PackRef
from api.server.limits import read_body
from api.server.problems import MEDIA_TYPE, ApiProblem, clip, log
from api.server.responses import Lru, media_type
from api.server.routes.deps import CatalogDep, PoolDep, RedactDep, SettingsDep
from engine.api import XLSX_MEDIA_TYPE, CompiledPack, UnknownMetric, template_columns

from . import attention, i18n, report, views

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
API_PATHS = ("/v1/", "/docs", "/healthz", "/openapi.json")  # answered as problem+json, not pages
MAX_FORM_FIELDS = 16
PAGE_CACHE_BYTES = 64 * 1024 * 1024
_ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

router = APIRouter(include_in_schema=False)
PackId = Annotated[str, PathParam(max_length=200)]
Choice = Annotated[str, Query(max_length=64)]
PAGE = ["GET", "HEAD"]


def card_cache() -> Lru[list[views.Card]]:
    """Catalog cards by (reader, registry generation, language), weighed by their text."""
    return Lru(PAGE_CACHE_BYTES // 4, lambda cards: sum(512 + 4 * len(text) for _, text in cards))


class PageCache(Lru[bytes]):
    """Rendered pages of immutable content, least recently used first out, bounded in bytes."""

    def __init__(self, max_bytes: int = PAGE_CACHE_BYTES) -> None:
        super().__init__(max_bytes, len)


def html_text(request: Request, name: str, *, here: str | None = None, **ctx: Any) -> str:
    """A template rendered for the visitor's language
    (``here``: the address the language links return to)."""
    locale = i18n.chosen(request)
    if here is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return _ENV.get_template(name).render(t=i18n.words(locale), locale=locale, here=here, **ctx)


def page(
    html: str | bytes,
    *,
    status: int = 200,
    private: bool = False,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            **(headers or {}),
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "Cache-Control": "private, no-cache" if private else "no-cache",
            "Vary": "Cookie, Accept-Language, Authorization",
        },
    )


def render(
    request: Request, name: str, *, status: int = 200, private: bool = False, **ctx: Any
) -> HTMLResponse:
    return page(html_text(request, name, **ctx), status=status, private=private)


def error_page(request: Request, err: ApiProblem) -> HTMLResponse:
    return render(
        request,
        "error.html",
        status=err.type.status,
        code=err.type.status,
        title=err.type.title,
        detail=err.detail,
    )


# -- errors on page addresses ---------------------------------------------------------------
def is_page_path(path: str) -> bool:
    return not (path == "/v1" or path.startswith(API_PATHS))


Handler = Callable[[Request, Any], Response | Awaitable[Response]]
_KEPT_HEADERS = ("allow", "www-authenticate", "retry-after")


def _as_page(api_handler: Handler) -> Handler:
    async def handler(request: Request, exc: Exception) -> Response:
        answer = api_handler(request, exc)
        response = await answer if inspect.isawaitable(answer) else answer
        if not is_page_path(request.url.path) or response.media_type != MEDIA_TYPE:
            return response
        try:
            problem = json.loads(bytes(response.body))
            kept = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
            html = html_text(
                request,
                "error.html",
                code=problem["status"],
                title=problem["title"],
                detail=problem["detail"],
            )
        except Exception:  # never fail while answering a failure: the API's answer stands
            log.exception("could not render the error page of %s", request.url.path)
            return response
        return page(html, status=response.status_code, headers=kept)

    return handler


def errors_as_pages(app: FastAPI) -> None:
    """Answer errors on page addresses as HTML pages (the API's own handlers decide the status
    and the message; they must be installed first)."""
    for kind in (ApiProblem, RequestValidationError, StarletteHTTPException, Exception):
        api_handler = app.exception_handlers[kind]
        app.add_exception_handler(kind, _as_page(api_handler))


# -- pages ----------------------------------------------------------------------------------
def _pack(catalog: CatalogDep, pack: str, owner: str | None) -> tuple[PackRef, CompiledPack]:
    ref = catalog.resolve(pack, owner)  # 404 for what the owner may not read, as in the API
    return ref, catalog.compiled(ref)


#: cards on one catalog page (a long catalog is read page by page)
CATALOG_PAGE_SIZE = 60


@router.api_route("/", methods=PAGE, response_class=HTMLResponse)
def catalog_page(
    request: Request,
    catalog: CatalogDep,
    owner: Owner,
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    locale = i18n.chosen(request)
    items, generation = catalog.listing(owner)
    cards_cache: Lru[list[views.Card]] = request.app.state.web_cards
    cards = cards_cache.get(
        (owner or "", generation, locale), lambda: views.catalog_cards(items, locale)
    )
    packs = views.search(cards, q)
    pages = max(1, -(-len(packs) // CATALOG_PAGE_SIZE))
    page = min(page, pages)
    first = (page - 1) * CATALOG_PAGE_SIZE
    shown = packs[first : first + CATALOG_PAGE_SIZE]
    paging = {
        "page": page,
        "pages": pages,
        "first": first + 1,
        "last": first + len(shown),
        "total": len(packs),
        "previous": urlencode({"q": q, "page": page - 1}) if page > 1 else None,
        "next": urlencode({"q": q, "page": page + 1}) if page < pages else None,
    }
    return render(
        request, "catalog.html", packs=shown, paging=paging, query=q, private=owner is not None
    )


@router.api_route("/lang", methods=PAGE)
def switch_language(
    to: Choice = "", next: Annotated[str, Query(max_length=2000)] = "/"
) -> Response:
    """Remember the visitor's language (a cookie) and go back to the page (same site only)."""
    safe = (
        next.startswith("/")
        and not next.startswith("//")
        and "\\" not in next
        and next.isprintable()
    )
    response = RedirectResponse(next if safe else "/", status_code=303)
    if to in i18n.LOCALES:
        response.set_cookie(
            i18n.COOKIE, to, max_age=365 * 24 * 3600, path="/", samesite="lax", httponly=True
        )
    return response


@router.api_route("/packs/{pack}", methods=PAGE, response_class=HTMLResponse)
def pack_page(request: Request, pack: PackId, catalog: CatalogDep, owner: Owner) -> Response:
    try:
        ref, c = _pack(catalog, pack, owner)
    except ApiProblem as err:
        return error_page(request, err)
    ui = i18n.chosen(request)
    path = request.url.path  # the page does not depend on the query: one cached page per language

    def make() -> bytes:
        p = views.pack_page(c, views.pack_locale(c.pack, ui))
        return html_text(request, "pack.html", here=path, p=p).encode("utf-8")

    cache: PageCache = request.app.state.web_pages
    return page(cache.get(("pack", ref.key, path, ui), make), private=ref.visibility == "private")


@router.api_route("/packs/{pack}/metrics/{ident}", methods=PAGE, response_class=HTMLResponse)
def node_page(
    request: Request,
    pack: PackId,
    ident: Annotated[str, PathParam(max_length=200)],
    catalog: CatalogDep,
    owner: Owner,
    redact: RedactDep,
) -> Response:
    try:
        ref, c = _pack(catalog, pack, owner)
        locale = views.pack_locale(c.pack, i18n.chosen(request))
        try:
            node = views.node_page(c, ident, locale, redact)
        except UnknownMetric as err:
            raise ApiProblem("metric-not-found", clip(str(err))) from None
    except ApiProblem as err:
        return error_page(request, err)
    return render(
        request,
        "metric.html",
        n=node,
        pack=c.pack,
        pack_title=c.pack.title.get(locale, c.pack.id),
        private=ref.visibility == "private",
    )


@router.api_route("/packs/{pack}/report", methods=PAGE, response_class=HTMLResponse)
async def report_page(
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
    try:
        ref, c = await run_in_threadpool(_pack, catalog, pack, owner)
    except ApiProblem as err:
        return await run_in_threadpool(error_page, request, err)
    body = await run_in_threadpool(report.example_csv, ref) if data == "example" else None
    return await _report(
        request, ref, c, body, (grain, by, view, as_of), pool, settings, redact, source="example"
    )


def form_fields(body: bytes) -> dict[str, list[str]]:
    """A urlencoded form body's fields; 400 for more than a form of this page sends."""
    try:
        return parse_qs(
            body.decode("utf-8", errors="replace"),
            keep_blank_values=True,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except ValueError:
        raise ApiProblem(
            "malformed-body", f"the form has more than {MAX_FORM_FIELDS} fields"
        ) from None


@router.post("/packs/{pack}/report", response_class=HTMLResponse)
async def report_upload(
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
    """An uploaded CSV or Excel workbook (``text/csv`` or the .xlsx media type, sent by the
    page's script, options in the query; the first sheet is read), or pasted CSV text (the
    options form posted as ``application/x-www-form-urlencoded``, options in it)."""
    try:
        ref, c = await run_in_threadpool(_pack, catalog, pack, owner)
    except ApiProblem as err:
        return await run_in_threadpool(error_page, request, err)
    pasted, refused, media = "", None, "csv"
    try:
        kind = media_type(request)
        if kind not in ("text/csv", XLSX_MEDIA_TYPE, "application/x-www-form-urlencoded"):
            raise ApiProblem(
                "unsupported-media-type",
                "send the CSV file as text/csv (an .xlsx workbook as "
                f"{XLSX_MEDIA_TYPE}), or paste it in the form",
            )
        media = "xlsx" if kind == XLSX_MEDIA_TYPE else "csv"
        # 413 past the limit, chunked uploads too
        body = await read_body(request, settings.max_body_bytes)
        if kind == "application/x-www-form-urlencoded":
            fields = await run_in_threadpool(form_fields, body)
            first = {name: values[0] for name, values in fields.items() if values}
            pasted = first.get("csv", "")
            grain, by, view, as_of = (
                clip(first.get(k, v), 64)
                for k, v in (("grain", grain), ("by", by), ("view", view), ("as_of", as_of))
            )
            body = pasted.encode("utf-8")
    except ApiProblem as err:
        body, refused = b"", {"problem": err.type.slug, "detail": err.detail, **err.extra}
    return await _report(
        request,
        ref,
        c,
        body,
        (grain, by, view, as_of),
        pool,
        settings,
        redact,
        source="upload",
        pasted=pasted,
        refused=refused,
        media=media,
    )


async def _report(
    request: Request,
    ref: PackRef,
    c: CompiledPack,
    body: bytes | None,
    choice: tuple[str, str, str, str],
    pool: PoolDep,
    settings: SettingsDep,
    redact: RedactDep,
    *,
    source: str,
    pasted: str = "",
    refused: dict[str, Any] | None = None,
    media: str = "csv",
) -> Response:
    grain, by, view, as_of = choice
    p = c.pack
    locale = views.pack_locale(p, i18n.chosen(request))
    words = i18n.words(i18n.chosen(request))
    query = {k: v for k, v in (("grain", grain), ("by", by), ("view", view), ("as_of", as_of)) if v}
    ctx: dict[str, Any] = {
        "pack": p,
        "pack_title": p.title.get(locale, p.id),
        "grains": attention.grains_for(None),  # every grain until there is data
        "dims": [(d.id, d.label.get(locale, d.id)) for d in p.dimensions.values()],
        "views": [(v.id, v.label.get(locale, v.id)) for v in p.views.values()],
        "chosen": {"grain": grain, "by": by, "view": view, "as_of": report.day(as_of) or ""},
        "query": f"?{urlencode(query)}" if query else "",
        "has_example": await run_in_threadpool(report.has_example, ref),
        "needed_columns": await run_in_threadpool(template_columns, c, locale),
        "failure": None,
        "result": None,
        "pasted": pasted,
        "source_label": words["example_data"] if source == "example" else words["upload"],
    }
    status = 200
    if body is not None:
        chosen_view = p.views.get(view)
        outcome = refused or await report.evaluate_csv(
            pool,
            settings,
            ref,
            body,
            report.options(c, grain, by, view, locale, as_of),
            media,
            view=chosen_view.metrics if chosen_view else None,
        )
        # the data's grain and the coarser ones (a finer one is an error): as the worker read
        # the data, or, when it failed, from a CSV's first row (a workbook is read only there)
        grain_of = outcome.get("data_grain")
        if grain_of is None and media == "csv":
            grain_of = await run_in_threadpool(attention.data_grain, c, body)
        ctx["grains"] = attention.grains_for(grain_of)
        if "body" in outcome:
            ctx["result"] = await run_in_threadpool(
                report.layout, c, outcome["body"], locale, words, view
            )
        else:
            ctx["failure"] = await run_in_threadpool(
                report.failure, outcome, body if media == "csv" else None, redact
            )
            # the page's script asks for the results to show in place: the request itself worked
            # (a 4xx would be logged in the browser's console as a failed load)
            status = (
                200 if request.headers.get("x-kpi-results") == "1" else ctx["failure"]["status"]
            )
    return await run_in_threadpool(
        lambda: render(
            request, "report.html", status=status, private=ref.visibility == "private", **ctx
        )
    )
