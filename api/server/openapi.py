"""OpenAPI details the routes share: the problem responses each route can give, request
bodies that are read by hand (YAML, CSV, strict JSON), and the document's extra schemas."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from api.server.models import EvaluateRequest, Problem
from api.server.problems import MEDIA_TYPE, TYPES

_PROBLEM = {"$ref": "#/components/schemas/Problem"}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Response docs for error statuses (422, 429 and 500
    always): problem+json, with the types each carries."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, 422, 429, 500}):
        kinds = [t for t in TYPES.values() if t.status == status]
        text = "; ".join(f"`{t.slug}`: {t.title}" for t in kinds)
        out[status] = {"description": text, "content": {MEDIA_TYPE: {"schema": _PROBLEM}}}
    return out


def ok(
    model: type[BaseModel],
    description: str,
    example: Any = None,
    also: dict[str, Any] | None = None,
) -> dict[int | str, Any]:
    """The 200 response: ``model`` as JSON (with an example), and ``also`` other media types."""
    entry: dict[str, Any] = {"model": model, "description": description}
    content: dict[str, Any] = {}
    if example is not None:
        content["application/json"] = {"example": example}
    content.update(also or {})
    if content:
        entry["content"] = content
    return {200: entry}


NOT_MODIFIED: dict[int | str, Any] = {
    304: {"description": "Not modified: the `If-None-Match` ETag is current"}
}
YAML_BODY = {
    "schema": {
        "type": "string",
        "description": "One YAML document (a whole pack), or the files of a pack folder as one "
        "YAML stream: each document headed by a line `# file: NAME.yaml` before its `---` (the "
        "shape `GET /v1/packs/{pack}` answers with `Accept: application/yaml`)",
    },
    "examples": {
        "document": {
            "summary": "One document",
            "value": "pack: gym-membership\nversion: 1.0.0\ntitle: {en: Gym membership}\n"
            "extends: [membership-core]\ninputs: {}\nmetrics: {}\n",
        },
        "folder": {
            "summary": "A folder's files as one stream",
            "value": "# file: metrics.yaml\n---\ninputs: {}\nmetrics: {}\n"
            "# file: pack.yaml\n---\n"
            "pack: gym-membership\nversion: 1.0.0\ntitle: {en: Gym membership}\n"
            "extends: [membership-core]\n",
        },
    },
}
ZIP_BODY = {
    "schema": {
        "type": "string",
        "format": "binary",
        "description": "A zip archive of a pack folder: at most 64 *.yaml/*.yml files (and "
        "README.md, skipped) at its top or in one folder, no links or subfolders, the files "
        "inflating to at most the pack size limit",
    }
}
PACK_BODY = {
    "required": True,
    "content": {
        **{t: YAML_BODY for t in ("application/yaml", "text/yaml", "text/plain")},
        "application/zip": ZIP_BODY,
    },
}
EVALUATE_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/EvaluateRequest"}},
        "text/csv": {
            "schema": {"type": "string"},
            "examples": {
                "rows": {
                    "summary": "Input rows",
                    "value": "period,store,marketing_spend,new_members\n2026-01,S01,100000,200\n",
                },
                "records": {
                    "summary": "Raw records of one source (with ?source=card_events)",
                    "value": "event_time,store_id,member_id,kind,amount,net,gift,points\n"
                    "2026-01-02 09:05:00,S1,M1,recharge,200,180,20,0\n",
                },
            },
        },
        # the raw bytes of an .xlsx file (engine.api.XLSX_MEDIA_TYPE); options in the query
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            "schema": {"type": "string", "format": "binary"}
        },
    },
}

EXTRA_MODELS: tuple[type[BaseModel], ...] = (Problem, EvaluateRequest)


#: in a route's ``openapi_extra``: the route needs a token (every other one reads without one)
TOKEN_REQUIRED = "x-token-required"


def _optional_auth(doc: dict[str, Any]) -> None:
    """Routes that answer with or without a token say so: ``security: [{}, {bearer: []}]`` (the
    empty requirement is anonymous access); routes marked :data:`TOKEN_REQUIRED` keep
    ``[{bearer: []}]``."""
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            if not isinstance(op, dict):
                continue
            if op.pop(TOKEN_REQUIRED, False):
                continue
            if op.get("security"):
                op["security"] = [{}, *op["security"]]


def install(app: FastAPI) -> None:
    """Generate the document once, with the schemas of bodies that routes read by hand."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for model in EXTRA_MODELS:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in schema.pop("$defs", {}).items():
                schemas.setdefault(name, sub)
            schemas.setdefault(model.__name__, schema)
        _optional_auth(doc)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
