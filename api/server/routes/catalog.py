"""Reading packs: the catalog, one pack (JSON or its YAML), versions, a metric, lineage, graph."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from api.server import openapi as doc
from api.server.auth import Owner
from api.server.catalog import PackRef
from api.server.models import Graph, Lineage, MetricDocument, PackDocument, PackList, VersionList
from api.server.packjson import metric_json, pack_json
from api.server.problems import ApiProblem, clip
from api.server.responses import conditional, dumps, json_response, wants_yaml
from api.server.routes.deps import CatalogDep, LocaleQuery, RedactDep, VersionQuery
from engine.api import CompiledPack, UnknownMetric, graph_export, lineage, pack_schema

router = APIRouter(prefix="/v1", tags=["packs"])
PackId = Annotated[
    str, Path(description="Pack id", examples=["bakery-stored-value"], max_length=200)
]
MetricId = Annotated[
    str, Path(description="Metric id", examples=["closing_amount"], max_length=200)
]


def _locale(c: CompiledPack, locale: str | None) -> str | None:
    if locale is not None and locale not in c.pack.locales:
        raise ApiProblem(
            "invalid-request",
            f"unknown locale '{clip(locale, 20)}': this pack has {', '.join(c.pack.locales)}",
            errors=[{"location": "query.locale", "message": f"one of {', '.join(c.pack.locales)}"}],
        )
    return locale


@router.get(
    "/packs",
    summary="List the packs you may read",
    response_model=None,
    responses={
        **doc.ok(PackList, "Built-in packs first, then published ones (newest version of each)"),
        **doc.NOT_MODIFIED,
        **doc.problems(401, 422),
    },
)
def list_packs(
    request: Request, catalog: CatalogDep, owner: Owner, locale: LocaleQuery = None
) -> Response:
    items, generation = catalog.listing(owner)  # stored summaries: nothing is compiled here

    def render() -> bytes:
        packs = []
        for item in items:
            rec, summary = item.record, item.summary
            packs.append(
                {
                    "id": item.id,
                    "version": item.version,
                    "title": item.text("title", locale, item.id),
                    "industry": summary["industry"] if summary else None,
                    "visibility": item.visibility,
                    "builtin": item.builtin,
                    "owner": rec.owner if rec else None,
                    "counts": dict(summary["counts"]) if summary else None,
                }
            )
        return dumps({"packs": packs})

    body, etag = catalog.rendered.get_body(
        ("listing", owner or "", generation, locale or ""), render
    )
    return conditional(request, body, "application/json", private=owner is not None, etag=etag)


@router.get(
    "/packs/{pack}",
    summary="One pack, compiled (or its YAML)",
    response_model=None,
    responses={
        **doc.ok(
            PackDocument,
            "The compiled pack, inherited definitions included",
            also={"application/yaml": {"schema": {"type": "string"}}},
        ),
        **doc.NOT_MODIFIED,
        **doc.problems(401, 404, 422),
    },
    description="With `Accept: application/yaml`, the YAML exactly as published (a built-in pack's "
    "files as one YAML stream, each document headed by its file name).",
)
def get_pack(
    request: Request,
    pack: PackId,
    catalog: CatalogDep,
    owner: Owner,
    redact: RedactDep,
    version: VersionQuery = None,
) -> Response:
    ref = catalog.resolve(pack, owner, version)
    private = ref.visibility == "private"
    if wants_yaml(request):
        text = catalog.builtin_text(ref.id) if ref.builtin else ref.source["text"]
        return conditional(request, text, "application/yaml; charset=utf-8", private=private)

    def render() -> bytes:
        body = pack_json(catalog.compiled(ref))
        body.update(
            {
                "builtin": ref.builtin,
                "owner": ref.record.owner if ref.record else None,
                "sha256": ref.record.sha256 if ref.record else None,
                "published_at": ref.record.published_at if ref.record else None,
                "extends_pinned": dict(ref.record.pins) if ref.record else {},
            }
        )
        return dumps(redact(body))

    body, etag = catalog.rendered.get_body((ref.key, "pack"), render)
    return conditional(request, body, "application/json", private=private, etag=etag)


@router.get(
    "/packs/{pack}/versions",
    summary="The versions of a pack you may read",
    response_model=None,
    responses={**doc.ok(VersionList, "Newest first"), **doc.problems(401, 404)},
)
def get_versions(pack: PackId, catalog: CatalogDep, owner: Owner) -> Response:
    if pack in catalog.builtin_ids:
        c = catalog.compiled(catalog.builtin(pack))
        versions = [
            {
                "version": c.pack.version,
                "builtin": True,
                "sha256": None,
                "owner": None,
                "visibility": "public",
                "published_at": None,
            }
        ]
    else:
        recs = catalog.readable_versions(pack, owner)
        if not recs:
            raise ApiProblem("pack-not-found", f"there is no pack '{clip(pack, 80)}'")
        versions = [
            {
                "version": r.version,
                "builtin": False,
                "sha256": r.sha256,
                "owner": r.owner,
                "visibility": r.visibility,
                "published_at": r.published_at,
            }
            for r in recs
        ]
    return json_response({"pack": pack, "versions": versions})


def _compiled(
    catalog: CatalogDep, pack: str, owner: str | None, version: str | None
) -> tuple[PackRef, CompiledPack]:
    ref = catalog.resolve(pack, owner, version)
    return ref, catalog.compiled(ref)


@router.get(
    "/packs/{pack}/metrics/{metric}",
    summary="One metric's definition",
    response_model=None,
    responses={
        **doc.ok(MetricDocument, "The definition, with what it uses and what uses it"),
        **doc.NOT_MODIFIED,
        **doc.problems(401, 404, 422),
    },
)
def get_metric(
    request: Request,
    pack: PackId,
    metric: MetricId,
    catalog: CatalogDep,
    owner: Owner,
    redact: RedactDep,
    version: VersionQuery = None,
) -> Response:
    ref, c = _compiled(catalog, pack, owner, version)
    body = metric_json(c, metric)
    if body is None:
        raise ApiProblem("metric-not-found", f"pack '{ref.id}' has no metric '{clip(metric, 80)}'")
    return conditional(
        request, dumps(redact(body)), "application/json", private=ref.visibility == "private"
    )


@router.get(
    "/packs/{pack}/metrics/{metric}/lineage",
    summary="A metric's lineage (spec §10)",
    response_model=None,
    responses={
        **doc.ok(
            Lineage,
            "Formula, expansion down to inputs, upstream graph, dependents, where it is defined",
        ),
        **doc.NOT_MODIFIED,
        **doc.problems(401, 404, 422),
    },
)
def get_lineage(
    request: Request,
    pack: PackId,
    metric: MetricId,
    catalog: CatalogDep,
    owner: Owner,
    redact: RedactDep,
    version: VersionQuery = None,
    locale: LocaleQuery = None,
) -> Response:
    ref, c = _compiled(catalog, pack, owner, version)
    locale = _locale(c, locale)

    def render() -> bytes:
        try:
            return dumps(redact(lineage(c, metric, locale, kind="metric")))
        except UnknownMetric as err:
            raise ApiProblem("metric-not-found", clip(str(err))) from None

    body, etag = catalog.rendered.get_body((ref.key, "lineage", metric, locale or ""), render)
    return conditional(
        request, body, "application/json", private=ref.visibility == "private", etag=etag
    )


CheckId = Annotated[
    str, Path(description="Check or rule id", examples=["balance_identity"], max_length=200)
]


def _site_lineage(
    request: Request,
    kind: str,
    pack: str,
    ident: str,
    catalog: Any,
    owner: Any,
    redact: Any,
    version: str | None,
    locale: str | None,
) -> Response:
    ref, c = _compiled(catalog, pack, owner, version)
    locale = _locale(c, locale)
    if ident not in (c.pack.checks if kind == "check" else c.pack.rules):
        raise ApiProblem("not-found", f"pack '{ref.id}' has no {kind} '{clip(ident, 80)}'")
    body, etag = catalog.rendered.get_body(
        (ref.key, f"{kind}-lineage", ident, locale or ""),
        lambda: dumps(redact(lineage(c, ident, locale, kind=kind))),
    )
    return conditional(
        request, body, "application/json", private=ref.visibility == "private", etag=etag
    )


@router.get(
    "/packs/{pack}/checks/{check}/lineage",
    summary="A check's lineage",
    response_model=None,
    responses={
        **doc.ok(
            Lineage,
            "Its assertion, what it is made of down to the inputs and the raw ledger, "
            "its tolerance and proof",
        ),
        **doc.NOT_MODIFIED,
        **doc.problems(401, 404, 422),
    },
)
def get_check_lineage(
    request: Request,
    pack: PackId,
    check: CheckId,
    catalog: CatalogDep,
    owner: Owner,
    redact: RedactDep,
    version: VersionQuery = None,
    locale: LocaleQuery = None,
) -> Response:
    return _site_lineage(request, "check", pack, check, catalog, owner, redact, version, locale)


@router.get(
    "/packs/{pack}/rules/{rule}/lineage",
    summary="A rule's lineage",
    response_model=None,
    responses={
        **doc.ok(
            Lineage,
            "Its condition, what it is made of down to the inputs and the raw ledger, "
            "its causes and remedies",
        ),
        **doc.NOT_MODIFIED,
        **doc.problems(401, 404, 422),
    },
)
def get_rule_lineage(
    request: Request,
    pack: PackId,
    rule: CheckId,
    catalog: CatalogDep,
    owner: Owner,
    redact: RedactDep,
    version: VersionQuery = None,
    locale: LocaleQuery = None,
) -> Response:
    return _site_lineage(request, "rule", pack, rule, catalog, owner, redact, version, locale)


_GRAPH_TYPES = {
    "json": "application/json",
    "dot": "text/vnd.graphviz; charset=utf-8",
    "mermaid": "text/plain; charset=utf-8",
}


@router.get(
    "/packs/{pack}/graph",
    summary="The dependency graph: JSON, DOT or Mermaid",
    response_model=None,
    responses={
        **doc.ok(
            Graph,
            "Nodes, edges (lagged = through previous) and evaluation order",
            also={
                "text/vnd.graphviz": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        ),
        **doc.NOT_MODIFIED,
        **doc.problems(401, 404, 422),
    },
)
def get_graph(
    request: Request,
    pack: PackId,
    catalog: CatalogDep,
    owner: Owner,
    fmt: Annotated[
        Literal["json", "dot", "mermaid"], Query(alias="format", description="json, dot or mermaid")
    ] = "json",
    version: VersionQuery = None,
    locale: LocaleQuery = None,
) -> Response:
    ref, c = _compiled(catalog, pack, owner, version)
    locale = _locale(c, locale)
    body, etag = catalog.rendered.get_body(
        (ref.key, "graph", fmt, locale or ""), lambda: graph_export(c, fmt, locale).encode("utf-8")
    )
    return conditional(
        request, body, _GRAPH_TYPES[fmt], private=ref.visibility == "private", etag=etag
    )


@router.get(
    "/schema",
    summary="The JSON Schema of packs",
    response_model=None,
    tags=["reference"],
    responses={
        200: {
            "description": "JSON Schema (draft 2020-12)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **doc.problems(),
    },
)
def get_schema(request: Request) -> Response:
    return conditional(request, dumps(pack_schema()), "application/json")
