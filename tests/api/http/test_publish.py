"""Publishing: the end-to-end story, owners and tokens, immutability, durability, extends."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.server import Settings
from tests.api.http.conftest import GYM, YAML, assert_problem, bearer, make_client

ROWS = [
    {
        "period": "2026-01",
        "club": "C1",
        "class_bookings": 820,
        "class_capacity": 1000,
        "pt_sessions": 120,
        "pt_revenue": 36000,
        "active_members": 600,
        "visits": 5400,
        "churned_members": 30,
        "members_at_start": 1000,
    },
    {
        "period": "2026-01",
        "club": "C2",
        "class_bookings": 300,
        "class_capacity": 800,
        "pt_sessions": 50,
        "pt_revenue": 17500,
        "active_members": 350,
        "visits": 2100,
        "churned_members": 40,
        "members_at_start": 500,
    },
]


def test_a_pack_of_another_industry_is_published_evaluated_and_explained(
    client: TestClient, keys: dict[str, str]
):
    r = client.post("/v1/packs", content=GYM, headers={**YAML, **bearer(keys["alice"])})
    assert r.status_code == 201, r.text
    stored = r.json()
    assert (
        stored["pack"] == "gym-membership"
        and stored["version"] == "1.0.0"
        and stored["owner"] == "alice"
    )
    assert stored["visibility"] == "public" and len(stored["sha256"]) == 64
    assert r.headers["location"] == "/v1/packs/gym-membership?version=1.0.0"

    listed = {p["id"]: p for p in client.get("/v1/packs", params={"locale": "en"}).json()["packs"]}
    assert listed["gym-membership"]["title"] == "Gym membership indicators"
    assert listed["gym-membership"]["owner"] == "alice" and not listed["gym-membership"]["builtin"]

    r = client.post(
        "/v1/packs/gym-membership/evaluate",
        json={
            "rows": ROWS,
            "metrics": ["class_utilisation", "churn_rate", "pt_price"],
            "locale": "en",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pack"] == "gym-membership" and body["by"] == ["club"]
    c1, c2 = body["rows"]
    assert c1["dims"] == {"club": "C1"} and c1["values"] == {
        "class_utilisation": 0.82,
        "churn_rate": 0.03,
        "pt_price": 300.0,
    }
    assert c1["bands"]["class_utilisation"] == {"status": "good", "label": "Full classes"}
    # the gym's own bands override the core's
    assert c1["bands"]["churn_rate"]["status"] == "warning"
    assert c2["values"]["class_utilisation"] == 0.375
    assert [rule["id"] for rule in c2["rules"]] == ["empty_classes"]
    assert c2["rules"][0]["remedies"] == [
        {"id": "reshape_timetable", "label": "Move classes to peak hours"}
    ]

    r = client.get(
        "/v1/packs/gym-membership/metrics/visit_target_gap/lineage", params={"locale": "en"}
    )
    assert r.status_code == 200, r.text
    lin = r.json()
    assert lin["formula"] == "weekly_visits_per_member - target_visits_per_week"
    assert lin["expanded"] == "visits / active_members * 7 / days - target_visits_per_week"
    assert lin["inputs"] == ["active_members", "visits"] and lin["params"] == [
        "target_visits_per_week"
    ]
    assert lin["defined_in"] == {
        "pack": "gym-membership",
        "file": "gym-membership@1.0.0.yaml",
        "line": 62,
    }
    r = client.get("/v1/packs/gym-membership/metrics/cac/lineage")
    assert r.json()["defined_in"]["file"] == "metrics/membership-core/metrics.yaml"


def test_publishing_needs_a_valid_token(client: TestClient, keys: dict[str, str]):
    body = assert_problem(client.post("/v1/packs", content=GYM, headers=YAML), 401, "unauthorized")
    assert "kpi keys create" in body["detail"]
    r = client.post("/v1/packs", content=GYM, headers={**YAML, **bearer("kpi_not-a-token")})
    assert_problem(r, 401, "unauthorized")
    assert "invalid_token" in r.headers["www-authenticate"]
    assert_problem(
        client.post("/v1/packs", content=GYM, headers={**YAML, "Authorization": "Basic eDp5"}),
        401,
        "unauthorized",
    )
    assert client.get("/v1/packs/gym-membership").status_code == 404  # nothing was stored


def test_only_the_owner_publishes_versions(client: TestClient, keys: dict[str, str]):
    assert (
        client.post("/v1/packs", content=GYM, headers={**YAML, **bearer(keys["alice"])}).status_code
        == 201
    )
    v2 = GYM.replace(b"version: 1.0.0", b"version: 1.1.0")
    body = assert_problem(
        client.post("/v1/packs", content=v2, headers={**YAML, **bearer(keys["bob"])}),
        403,
        "forbidden",
    )
    assert "another owner" in body["detail"]
    assert (
        client.post("/v1/packs", content=v2, headers={**YAML, **bearer(keys["alice"])}).status_code
        == 201
    )
    builtin = GYM.replace(b"pack: gym-membership", b"pack: membership-core").replace(
        b"extends: [membership-core]", b""
    )
    assert_problem(
        client.post("/v1/packs", content=builtin, headers={**YAML, **bearer(keys["bob"])}),
        403,
        "forbidden",
    )


def test_a_private_pack_is_invisible_to_everyone_else(client: TestClient, keys: dict[str, str]):
    private = GYM.replace(b"visibility: public", b"visibility: private")
    assert (
        client.post(
            "/v1/packs", content=private, headers={**YAML, **bearer(keys["alice"])}
        ).status_code
        == 201
    )
    for path in (
        "/v1/packs/gym-membership",
        "/v1/packs/gym-membership/versions",
        "/v1/packs/gym-membership/metrics/class_utilisation/lineage",
        "/v1/packs/gym-membership/graph",
    ):
        for headers in ({}, bearer(keys["bob"])):
            assert_problem(client.get(path, headers=headers), 404, "pack-not-found")
        r = client.get(path, headers=bearer(keys["alice"]))
        assert r.status_code == 200, r.text
        assert (
            r.headers["cache-control"].startswith("private")
            if path != "/v1/packs/gym-membership/versions"
            else True
        )
    assert_problem(
        client.post(
            "/v1/packs/gym-membership/evaluate", json={"rows": []}, headers=bearer(keys["bob"])
        ),
        404,
        "pack-not-found",
    )
    ids = [p["id"] for p in client.get("/v1/packs", headers=bearer(keys["bob"])).json()["packs"]]
    assert "gym-membership" not in ids
    ids = [p["id"] for p in client.get("/v1/packs", headers=bearer(keys["alice"])).json()["packs"]]
    assert "gym-membership" in ids


def test_versions_are_immutable(client: TestClient, keys: dict[str, str]):
    auth = {**YAML, **bearer(keys["alice"])}
    first = client.post("/v1/packs", content=GYM, headers=auth)
    again = client.post("/v1/packs", content=GYM, headers=auth)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()  # a no-op answers with the same body
    changed = GYM.replace(b"value: 2\n", b"value: 3\n")
    body = assert_problem(
        client.post("/v1/packs", content=changed, headers=auth), 409, "version-conflict"
    )
    assert "immutable" in body["detail"]
    assert (
        client.get("/v1/packs/gym-membership", headers={"Accept": "application/yaml"}).content
        == GYM
    )
    versions = client.get("/v1/packs/gym-membership/versions").json()["versions"]
    assert [v["version"] for v in versions] == ["1.0.0"]


def test_published_packs_survive_a_restart(settings: Settings, keys: dict[str, str]):
    with make_client(settings) as c:
        assert (
            c.post("/v1/packs", content=GYM, headers={**YAML, **bearer(keys["alice"])}).status_code
            == 201
        )
    with make_client(settings) as c:  # a new app over the same data dir
        r = c.get("/v1/packs/gym-membership", headers={"Accept": "application/yaml"})
        assert r.status_code == 200 and r.content == GYM
        assert c.get("/v1/packs/gym-membership").json()["owner"] == "alice"
        v2 = GYM.replace(b"version: 1.0.0", b"version: 2.0.0")
        assert (
            c.post("/v1/packs", content=v2, headers={**YAML, **bearer(keys["bob"])}).status_code
            == 403
        )


def test_extends_resolves_to_the_publishers_packs_pinned_at_publish_time(
    client: TestClient, keys: dict[str, str]
):
    alice = {**YAML, **bearer(keys["alice"])}
    assert client.post("/v1/packs", content=GYM, headers=alice).status_code == 201
    child = (
        b"pack: gym-boutique\nversion: 1.0.0\ntitle: {en: Boutique gym}\nlocales: [en]\n"
        b"extends: ['gym-membership@>=1,<2']\ninputs: {}\n"
        b"metrics:\n  class_utilisation:\n    override: true\n    label: {en: Studio fill rate}\n"
    )
    r = client.post("/v1/packs", content=child, headers={**YAML, **bearer(keys["bob"])})
    assert r.status_code == 201, r.text
    assert r.json()["extends_pinned"] == {"gym-membership": "1.0.0"}
    v2 = GYM.replace(b"version: 1.0.0", b"version: 1.5.0").replace(
        b"pt_price:", b"pt_session_price:"
    )
    v2 = v2.replace(b"pt_price * pt_sessions", b"pt_session_price * pt_sessions")
    assert client.post("/v1/packs", content=v2, headers=alice).status_code == 201
    doc = client.get("/v1/packs/gym-boutique").json()
    # still the pinned 1.0.0
    assert "pt_price" in doc["metrics"] and "pt_session_price" not in doc["metrics"]
    assert doc["metrics"]["class_utilisation"]["label"] == {"en": "Studio fill rate"}
    lin = client.get("/v1/packs/gym-boutique/metrics/pt_price/lineage").json()
    assert lin["defined_in"]["file"] == "gym-membership@1.0.0.yaml"


def test_published_parents_are_resolved_in_memory_without_files(
    client: TestClient, keys: dict[str, str], settings: Settings
):
    """Validating, publishing and reading a child of a published pack: the pinned
    parent reaches the engine as text, and nothing is written under the data dir's libraries/."""
    alice = {**YAML, **bearer(keys["alice"])}
    assert client.post("/v1/packs", content=GYM, headers=alice).status_code == 201
    child = (
        b"pack: gym-boutique\nversion: 1.0.0\ntitle: {en: Boutique gym}\nlocales: [en]\n"
        b"extends: [gym-membership]\ninputs: {}\n"
        b"metrics:\n  pt_price_x2: {label: {en: Twice}, formula: pt_price * 2}\n"
    )
    r = client.post("/v1/validate", content=child, headers=YAML)
    assert r.status_code == 200 and r.json()["valid"] is True, r.text
    r = client.post("/v1/packs", content=child, headers=alice)
    assert r.status_code == 201 and r.json()["extends_pinned"] == {"gym-membership": "1.0.0"}
    doc = client.get("/v1/packs/gym-boutique").json()
    assert {"pt_price", "pt_price_x2"} <= set(doc["metrics"])
    lin = client.get("/v1/packs/gym-boutique/metrics/pt_price/lineage").json()
    assert lin["defined_in"]["file"] == "gym-membership@1.0.0.yaml"
    assert not (settings.data_dir / "libraries").exists()
    assert list(settings.data_dir.rglob("*.y*ml")) == []  # the registry holds the texts


def test_a_public_pack_cannot_extend_a_private_one(client: TestClient, keys: dict[str, str]):
    alice = {**YAML, **bearer(keys["alice"])}
    private = GYM.replace(b"visibility: public", b"visibility: private")
    assert client.post("/v1/packs", content=private, headers=alice).status_code == 201
    child = (
        b"pack: gym-child\nversion: 1.0.0\ntitle: {en: Child}\nextends: [gym-membership]\n"
        b"inputs: {}\nmetrics: {}\n"
    )
    assert_problem(client.post("/v1/packs", content=child, headers=alice), 422, "extends-private")
    private_child = child.replace(b"title:", b"visibility: private\ntitle:")
    assert client.post("/v1/packs", content=private_child, headers=alice).status_code == 201
    r = client.post(
        "/v1/packs",
        content=child.replace(b"gym-child", b"gym-other"),
        headers={**YAML, **bearer(keys["bob"])},
    )
    body = assert_problem(r, 422, "pack-invalid")  # bob cannot see alice's private pack at all
    assert [p["code"] for p in body["problems"]] == ["KPI-R012"]
    assert body["problems"][0]["file"] == "<request>" and body["problems"][0]["line"] == 4


def test_an_invalid_pack_is_refused_with_every_problem(client: TestClient, keys: dict[str, str]):
    bad = GYM.replace(b"formula: pt_revenue / pt_sessions", b"formula: pt_revenue / pt_sesions")
    r = client.post("/v1/packs", content=bad, headers={**YAML, **bearer(keys["alice"])})
    body = assert_problem(r, 422, "pack-invalid")
    problem = next(p for p in body["problems"] if p["code"] == "KPI-R001")
    assert problem["file"] == "<request>" and problem["line"] == 54 and problem["column"] == 27
    assert "pt_sessions" in problem["hint"]
    assert client.get("/v1/packs/gym-membership").status_code == 404


def test_validate_reports_problems_and_stores_nothing(client: TestClient, keys: dict[str, str]):
    r = client.post("/v1/validate", content=GYM, headers=YAML)
    assert r.status_code == 200, r.text
    assert r.json()["valid"] is True and r.json()["pack"]["pack"] == "gym-membership"
    assert r.json()["pack"]["checks"]["pt_revenue_identity"]["status"] == "proved"
    r = client.post("/v1/validate", content=b"pack: x\nversion: 1\n", headers=YAML)
    body = r.json()
    assert r.status_code == 200 and body["valid"] is False and body["pack"] is None
    assert {p["code"] for p in body["problems"]} >= {"KPI-S001"}
    assert all(p["file"] == "<request>" for p in body["problems"])
    r = client.post("/v1/validate", content=b"a: [1, 2\n", headers=YAML)
    assert r.json()["problems"][0]["code"] == "KPI-L002"
    assert client.get("/v1/packs/gym-membership").status_code == 404
