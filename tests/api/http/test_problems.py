"""One error shape for the whole API: every problem type, produced by a real request.

Each type of :data:`api.server.problems.TYPES` has a case here that makes the server answer
with it, and every answer is RFC 9457 problem+json without a traceback, a server path, a token
or the request's body (ids taken from the URL may be named: "no pack 'x'").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.server import Settings
from api.server.problems import TYPES
from tests.api.http.conftest import (
    GYM,
    YAML,
    assert_problem,
    bearer,
    disconnecting_upload,
    make_client,
    memory_hungry_csv,
    worker_data_bytes,
)

SECRET = "s3cret-value-that-must-not-come-back"
Case = Callable[[TestClient, dict[str, str]], object]

CASES: dict[str, Case] = {
    "malformed-body": lambda c, k: c.post(
        "/v1/packs/membership-core/evaluate",
        content=b'{"rows": [' + SECRET.encode(),
        headers={"Content-Type": "application/json"},
    ),
    "unauthorized": lambda c, k: c.post(
        "/v1/packs", content=GYM, headers={**YAML, **bearer(SECRET)}
    ),
    "forbidden": lambda c, k: c.post(
        "/v1/packs",
        content=GYM.replace(b"gym-membership", b"membership-core"),
        headers={**YAML, **bearer(k["alice"])},
    ),
    "not-found": lambda c, k: c.get("/v1/nothing-here"),
    "pack-not-found": lambda c, k: c.get("/v1/packs/no-such-pack"),
    "version-not-found": lambda c, k: c.get(
        "/v1/packs/membership-core", params={"version": "0.0.1"}
    ),
    "metric-not-found": lambda c, k: c.get("/v1/packs/membership-core/metrics/nope/lineage"),
    "method-not-allowed": lambda c, k: c.delete("/v1/packs/membership-core"),
    "version-conflict": lambda c, k: [
        c.post("/v1/packs", content=GYM, headers={**YAML, **bearer(k["alice"])}),
        c.post("/v1/packs", content=GYM + b"# changed\n", headers={**YAML, **bearer(k["alice"])}),
    ][-1],
    "payload-too-large": lambda c, k: c.post(
        "/v1/validate", content=b"x" * 2_000_000, headers=YAML
    ),
    "unsupported-media-type": lambda c, k: c.post(
        "/v1/validate",
        content=SECRET,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    "invalid-request": lambda c, k: c.get(
        "/v1/packs/membership-core/graph", params={"format": SECRET}
    ),
    "pack-invalid": lambda c, k: c.post(
        "/v1/packs",
        content=GYM.replace(b"pt_revenue / pt_sessions", b"pt_revenue / " + SECRET.encode()),
        headers={**YAML, **bearer(k["alice"])},
    ),
    "extends-private": lambda c, k: [
        c.post(
            "/v1/packs",
            content=GYM.replace(b"visibility: public", b"visibility: private"),
            headers={**YAML, **bearer(k["alice"])},
        ),
        c.post(
            "/v1/packs",
            content=b"pack: child\nversion: 1.0.0\ntitle: x\nextends: [gym-membership]\n"
            b"inputs: {}\nmetrics: {}\n",
            headers={**YAML, **bearer(k["alice"])},
        ),
    ][-1],
    "invalid-input": lambda c, k: c.post(
        "/v1/packs/membership-core/evaluate",
        json={"rows": [{"period": "2026-01", "new_members": True}]},
    ),
    "too-many-rows": lambda c, k: c.post(
        "/v1/packs/membership-core/evaluate", json={"rows": [{"period": "2026-01"}] * 11}
    ),
    "quota-exceeded": lambda c, k: [
        c.post("/v1/packs", content=GYM, headers={**YAML, **bearer(k["alice"])}),
        c.post(
            "/v1/packs",
            content=GYM.replace(b"pack: gym-membership", b"pack: gym-two"),
            headers={**YAML, **bearer(k["alice"])},
        ),
    ][-1],
    "result-too-large": lambda c, k: c.post(
        "/v1/packs/membership-core/evaluate",
        json={"rows": [{"period": f"2026-{m:02d}", "new_members": 3} for m in range(1, 9)]},
    ),
    "out-of-memory": lambda c, k: c.post(
        "/v1/packs/bakery-stored-value/evaluate",
        content=memory_hungry_csv(),
        headers={"Content-Type": "text/csv"},
    ),
    "client-disconnected": lambda c, k: disconnecting_upload(c.app, "/v1/validate"),  # type: ignore[arg-type]
    "rate-limited": lambda c, k: [c.get("/v1/schema") for _ in range(30)][-1],
    "internal-error": lambda c, k: c.get("/v1/packs"),
    "server-busy": lambda c, k: _busy(c),
    "evaluation-timeout": lambda c, k: c.post(
        "/v1/packs/membership-core/evaluate",
        content=_big(),
        headers={"Content-Type": "application/json"},
    ),
}


def _big() -> bytes:
    rows = ",".join(
        f'{{"period":"{2000 + i // 12}-{i % 12 + 1:02d}","store":"S{j}","new_members":{i}}}'
        for i in range(300)
        for j in range(300)
    )
    return f'{{"rows":[{rows}],"trace":true}}'.encode()


def _busy(c: TestClient) -> object:
    pool = c.app.state.pool  # type: ignore[attr-defined]
    pool.start()
    worker = pool._idle.get()  # every worker busy
    try:
        return c.post("/v1/packs/membership-core/evaluate", json={"rows": []})
    finally:
        pool._idle.put(worker)


def test_every_problem_type_has_a_case():
    assert set(CASES) == set(TYPES)


@pytest.mark.parametrize("slug", sorted(CASES))
def test_problem_shape(
    slug: str, settings: Settings, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
):
    changes: dict[str, object] = {"max_rows": 10, "max_body_bytes": 1_000_000}
    if slug == "rate-limited":
        changes.update(rate_limit=1.0, rate_burst=5)
    if slug == "quota-exceeded":
        changes.update(quota_packs=1)
    if slug == "result-too-large":
        changes.update(max_result_values=5)
    if slug == "out-of-memory":
        changes.update(
            worker_memory_bytes=worker_data_bytes() + 48 * 1024 * 1024,
            max_rows=10**6,
            max_body_bytes=64_000_000,
            eval_timeout=120,
        )
    if slug in ("server-busy", "evaluation-timeout"):
        # a hang guard, not a speed goal: the big evaluation is tens of seconds of work
        changes.update(eval_timeout=3.0, max_body_bytes=64_000_000, max_rows=10**6)
    with make_client(settings, **changes) as c:
        if slug == "internal-error":
            monkeypatch.setattr(c.app.state.catalog, "listing", _boom)  # type: ignore[attr-defined]
        r = CASES[slug](c, keys)
        body = assert_problem(r, TYPES[slug].status, slug)
        assert body["title"] == TYPES[slug].title
        assert SECRET not in r.text
        assert set(body) <= {
            "type",
            "title",
            "status",
            "detail",
            "code",
            "problems",
            "errors",
            "values",
            "bytes",
            "limit",
        }
        if slug == "pack-invalid":
            assert body["problems"] and {"code", "line", "column", "file", "message"} <= set(
                body["problems"][0]
            )
        if slug == "invalid-input":
            assert body["code"] == "KPI-E017"  # true is not a number
            assert body["errors"] == [
                {
                    "code": "KPI-E017",
                    "row": 1,
                    "column": "new_members",
                    "reason": body["errors"][0]["reason"],
                    "hint": None,
                }
            ]
        if slug == "too-many-rows":
            assert body["code"] == "KPI-E009"
        if slug == "rate-limited":
            assert int(r.headers["retry-after"]) >= 1
        if slug != "client-disconnected":  # (that one never reaches a client)
            assert (
                r.headers["x-frame-options"] == "DENY"
                and r.headers["x-content-type-options"] == "nosniff"
            )
        if slug == "unauthorized":
            assert r.headers["www-authenticate"].startswith("Bearer")


def _boom(owner: object) -> object:
    raise RuntimeError(f"bug while reading {Path('/work/secret/path')}")


def test_fastapi_default_422_is_replaced(client: TestClient):
    r = client.get("/v1/packs/membership-core/graph", params={"format": "x" * 50})
    body = assert_problem(r, 422, "invalid-request")
    assert body["errors"] == [{"location": "query.format", "message": body["errors"][0]["message"]}]
    assert "input" not in r.text and "x" * 50 not in r.text


def test_a_bad_cell_is_quoted_only_briefly(client: TestClient):
    """The reason quotes the offending cell (as `kpi eval` does), cut to 40 characters."""
    r = client.post(
        "/v1/packs/membership-core/evaluate",
        json={"rows": [{"period": "2026-01", "new_members": "x" * 10_000}]},
    )
    body = assert_problem(r, 422, "invalid-input")
    assert body["errors"][0]["reason"] == "'" + "x" * 36 + "… is not a number"
    assert len(r.content) < 1000
