"""The interactive docs work offline, and the OpenAPI document describes every route."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.server.problems import TYPES


def test_docs_page_uses_only_local_assets(client: TestClient):
    r = client.get("/docs")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ["']([^"']+)["']""", r.text)
    found = [u for pair in urls for u in pair if u]
    assert found and all(u.startswith("/") for u in found), found
    assert "cdn" not in r.text.lower()
    for asset in ("/static/docs/swagger-ui-bundle.js", "/static/docs/swagger-ui.css"):
        got = client.get(asset)
        assert got.status_code == 200 and len(got.content) > 10_000


def test_openapi_documents_the_routes_with_problem_responses(client: TestClient):
    doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    assert set(paths) == {
        "/v1/packs",
        "/v1/packs/{pack}",
        "/v1/packs/{pack}/versions",
        "/v1/packs/{pack}/metrics/{metric}",
        "/v1/packs/{pack}/metrics/{metric}/lineage",
        "/v1/packs/{pack}/checks/{check}/lineage",
        "/v1/packs/{pack}/rules/{rule}/lineage",
        "/v1/packs/{pack}/graph",
        "/v1/schema",
        "/v1/packs/{pack}/evaluate",
        "/v1/validate",
        "/healthz",
    }
    evaluate = paths["/v1/packs/{pack}/evaluate"]["post"]
    assert set(evaluate["requestBody"]["content"]) == {
        "application/json",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    assert {"200", "400", "404", "413", "415", "422", "429", "503", "504"} <= set(
        evaluate["responses"]
    )
    assert evaluate["responses"]["422"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    schemas = doc["components"]["schemas"]
    assert {"Problem", "EvaluateRequest", "Evaluation", "Lineage", "PackList", "Published"} <= set(
        schemas
    )
    assert schemas["EvaluateRequest"]["examples"]
    assert "bearer" in doc["components"]["securitySchemes"]
    described = " ".join(
        r.get("description", "")
        for p in paths.values()
        for op in p.values()
        for r in op["responses"].values()
    )
    for slug in set(TYPES) - {"method-not-allowed"}:  # 405 belongs to no route
        assert f"`{slug}`" in described, slug


def test_docs_api_md_documents_every_problem_type_and_setting():
    from dataclasses import fields
    from pathlib import Path

    from api.server import Settings

    text = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text(encoding="utf-8")
    for slug, kind in TYPES.items():
        assert f"| `{slug}` | {kind.status} |" in text, slug
    for f in fields(Settings):
        assert f"KPI_{f.name.upper()}" in text, f.name
