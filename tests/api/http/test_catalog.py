"""Reading packs: catalog, pack JSON and YAML, versions, metric, lineage, graph, schema, ETags."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from engine.compile.pack import compile_pack
from engine.load.library import BUILTIN_ROOT, PackLibrary
from engine.render.lineage import graph_export, lineage
from engine.validate.schema import pack_schema
from tests.api.http.conftest import assert_problem

BAKERY = "bakery-stored-value"


def test_the_catalog_lists_the_builtin_packs_with_counts(client: TestClient):
    packs = {p["id"]: p for p in client.get("/v1/packs", params={"locale": "en"}).json()["packs"]}
    c = compile_pack(BAKERY, PackLibrary([BUILTIN_ROOT]))
    bakery = packs[BAKERY]
    assert (
        bakery["title"] == "Bakery member stored-value analysis"
        and bakery["version"] == c.pack.version
    )
    assert bakery["builtin"] is True and bakery["owner"] is None and bakery["industry"] == "bakery"
    assert bakery["counts"] == {
        "inputs": len(c.pack.inputs),
        "metrics": len(c.pack.metrics),
        "checks": len(c.pack.checks),
        "rules": len(c.pack.rules),
    }
    zh = {p["id"]: p for p in client.get("/v1/packs", params={"locale": "zh"}).json()["packs"]}
    assert zh[BAKERY]["title"] == "烘焙会员储值分析"


def test_a_pack_as_compiled_json(client: TestClient):
    r = client.get(f"/v1/packs/{BAKERY}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    doc = r.json()
    assert doc["id"] == BAKERY and doc["extends"] == ["membership-core"] and doc["builtin"] is True
    closing = doc["metrics"]["closing_amount"]
    assert (
        closing["formula"]
        == "opening_amount + recharge_amount + points_to_balance - consume_amount"
    )
    assert closing["defined_in"]["file"].startswith(f"metrics/{BAKERY}/")
    assert doc["metrics"]["cac"]["defined_in"]["pack"] == "membership-core"  # inherited
    band = doc["metrics"]["active_rate"]["bands"][0]
    assert isinstance(band["min"], float | None) and band["status"] in (
        "good",
        "fair",
        "warning",
        "critical",
    )
    assert doc["checks"]["balance_identity"]["proof"]["status"] in ("proved", "depends_on_data")
    assert "/work/" not in r.text


def test_a_builtin_pack_as_yaml_is_its_files(client: TestClient):
    r = client.get(f"/v1/packs/{BAKERY}", headers={"Accept": "application/yaml"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/yaml")
    text = r.text
    for f in sorted((BUILTIN_ROOT / BAKERY).glob("*.yaml")):
        assert f"# file: metrics/{BAKERY}/{f.name}\n---\n" in text
        assert f.read_text(encoding="utf-8").strip() in text


def test_versions_metric_and_unknowns(client: TestClient):
    assert client.get(f"/v1/packs/{BAKERY}/versions").json() == {
        "pack": BAKERY,
        "versions": [
            {
                "version": "1.0.0",
                "builtin": True,
                "sha256": None,
                "owner": None,
                "visibility": "public",
                "published_at": None,
            }
        ],
    }
    assert client.get(f"/v1/packs/{BAKERY}", params={"version": "1.0.0"}).status_code == 200
    assert_problem(
        client.get(f"/v1/packs/{BAKERY}", params={"version": "9.9.9"}), 404, "version-not-found"
    )
    m = client.get(f"/v1/packs/{BAKERY}/metrics/active_rate").json()
    assert m["id"] == "active_rate" and m["pack"] == BAKERY and "avg_members" in m["upstream"]
    assert_problem(client.get(f"/v1/packs/{BAKERY}/metrics/nope"), 404, "metric-not-found")
    body = assert_problem(
        client.get(f"/v1/packs/{BAKERY}/metrics/closing_amout/lineage"), 404, "metric-not-found"
    )
    assert "closing_amount" in body["detail"]  # the engine's suggestion
    assert_problem(client.get("/v1/packs/no-such-pack"), 404, "pack-not-found")
    assert_problem(client.get("/v1/packs/no-such-pack/graph"), 404, "pack-not-found")


@pytest.mark.parametrize("locale", [None, "en", "zh"])
def test_lineage_is_the_engines(client: TestClient, locale: str | None):
    params = {"locale": locale} if locale else {}
    r = client.get(f"/v1/packs/{BAKERY}/metrics/closing_amount/lineage", params=params)
    assert r.status_code == 200
    expected = lineage(compile_pack(BAKERY, PackLibrary([BUILTIN_ROOT])), "closing_amount", locale)
    expected["defined_in"]["file"] = (
        "metrics/" + expected["defined_in"]["file"].split("metrics/", 1)[1]
    )
    assert r.json() == json.loads(json.dumps(expected, ensure_ascii=False))


def test_checks_and_rules_have_their_lineage_route(client: TestClient):
    c = compile_pack(BAKERY, PackLibrary([BUILTIN_ROOT]))
    for kind, ident in (("checks", "member_flow"), ("rules", "churn_too_high")):
        r = client.get(f"/v1/packs/{BAKERY}/{kind}/{ident}/lineage", params={"locale": "en"})
        assert r.status_code == 200, r.text
        expected = lineage(c, ident, "en", kind=kind[:-1])
        expected["defined_in"]["file"] = (
            "metrics/" + expected["defined_in"]["file"].split("metrics/", 1)[1]
        )
        assert r.json() == json.loads(json.dumps(expected, ensure_ascii=False))
        assert r.json()["measured_from"]  # down to the card ledger
    assert_problem(
        client.get(f"/v1/packs/{BAKERY}/checks/churn_too_high/lineage"), 404, "not-found"
    )
    # a check is not a metric: the metrics route does not answer for it
    assert_problem(
        client.get(f"/v1/packs/{BAKERY}/metrics/member_flow/lineage"), 404, "metric-not-found"
    )


def test_unknown_locale_is_a_clear_422(client: TestClient):
    body = assert_problem(
        client.get(f"/v1/packs/{BAKERY}/metrics/closing_amount/lineage", params={"locale": "fr"}),
        422,
        "invalid-request",
    )
    assert "zh, en" in body["detail"]


@pytest.mark.parametrize(
    ("fmt", "media"),
    [("json", "application/json"), ("dot", "text/vnd.graphviz"), ("mermaid", "text/plain")],
)
def test_graph_formats(client: TestClient, fmt: str, media: str):
    r = client.get(f"/v1/packs/{BAKERY}/graph", params={"format": fmt, "locale": "en"})
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    assert r.text == graph_export(compile_pack(BAKERY, PackLibrary([BUILTIN_ROOT])), fmt, "en")


def test_bad_graph_format_is_422_without_echo(client: TestClient):
    body = assert_problem(
        client.get(f"/v1/packs/{BAKERY}/graph", params={"format": "svg<script>"}),
        422,
        "invalid-request",
    )
    assert body["errors"][0]["location"] == "query.format" and "svg" not in json.dumps(body)


def test_schema(client: TestClient):
    assert client.get("/v1/schema").json() == pack_schema()


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/packs/{BAKERY}",
        f"/v1/packs/{BAKERY}/metrics/active_rate/lineage",
        f"/v1/packs/{BAKERY}/graph?format=dot",
        f"/v1/packs/{BAKERY}/metrics/active_rate",
    ],
)
def test_etag_and_if_none_match(client: TestClient, path: str):
    first = client.get(path)
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"] == "no-cache"
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(path, headers={"If-None-Match": f'W/{etag}, "x"'}).status_code == 304


def test_etag_differs_by_representation(client: TestClient):
    a = client.get(f"/v1/packs/{BAKERY}/graph", params={"format": "dot"}).headers["etag"]
    b = client.get(f"/v1/packs/{BAKERY}/graph", params={"format": "mermaid"}).headers["etag"]
    c = client.get(f"/v1/packs/{BAKERY}/graph", params={"format": "dot", "locale": "en"}).headers[
        "etag"
    ]
    assert len({a, b, c}) == 3


def test_healthz(client: TestClient):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "version": "1.0.0", "workers": 1}
