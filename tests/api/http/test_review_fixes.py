"""Regressions from the API review: each of these once gave a 500, a bypass or a stall."""

from __future__ import annotations

import stat
from pathlib import Path

from fastapi.testclient import TestClient

from api.server.app import create_app
from api.server.config import Settings
from api.server.limits import client_key


def make_client(tmp_path: Path, **settings) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path, **settings)))


EVAL = "/v1/packs/bakery-stored-value/evaluate"


def test_a_lone_surrogate_in_json_is_a_400_not_a_500(tmp_path: Path):
    with make_client(tmp_path) as client:
        for body in ('{"rows": [{"period": "\\ud800"}]}', '{"rows": [], "metrics": ["\\udfff"]}'):
            r = client.post(EVAL, content=body, headers={"Content-Type": "application/json"})
            assert r.status_code == 400, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
        # the connection is still healthy
        assert client.get("/healthz").status_code == 200


def test_a_huge_finite_number_is_evaluated_without_infinity(tmp_path: Path):
    csv = (
        "period,store,recharge_amount,consume_amount,recharge_count,consume_count\n"
        "2026-01,S1,1e308,1,1,1\n"
    )
    with make_client(tmp_path) as client:
        r = client.post(
            EVAL + "?metrics=monthly_recharge_amount,consume_to_recharge_ratio",
            content=csv,
            headers={"Content-Type": "text/csv"},
        )
    assert r.status_code == 200, r.text
    values = r.json()["rows"][0]["values"]
    assert values["monthly_recharge_amount"] == 1e308


def test_a_strict_csv_refuses_unclosed_quotes_and_nul(tmp_path: Path):
    with make_client(tmp_path) as client:
        for body in ('period\n"2026-01\n', "period,store\n2026-01\x00,S1\n"):
            r = client.post(EVAL, content=body, headers={"Content-Type": "text/csv"})
            assert r.status_code == 400, r.text


def test_trace_must_be_a_real_boolean(tmp_path: Path):
    with make_client(tmp_path) as client:
        r = client.post(EVAL, json={"rows": [], "trace": "yes"})
    assert r.status_code == 422


def test_rate_limit_buckets_follow_the_verified_owner_not_the_header_spelling():
    owners = {"tok": "carol"}

    def key(header: bytes) -> str:
        scope = {"headers": [(b"authorization", header)], "client": ("10.0.0.9", 1)}
        return client_key(scope, owners.get)

    assert key(b"Bearer tok") == key(b"bearer   tok") == key(b"BEARER tok ") == "owner:carol"
    # junk shares the address's bucket
    assert key(b"Bearer junk1") == key(b"Bearer junk2") == "ip:10.0.0.9"


def test_the_registry_is_readable_by_its_owner_only(tmp_path: Path):
    with make_client(tmp_path) as client:
        assert client.get("/healthz").status_code == 200
    mode = stat.S_IMODE((tmp_path / "registry.sqlite3").stat().st_mode)
    assert mode == 0o600


def test_the_docs_page_never_calls_the_swagger_validator(tmp_path: Path):
    with make_client(tmp_path) as client:
        html = client.get("/docs").text
        init = client.get("/docs/init.js").text
    assert '<script src="/docs/init.js"></script>' in html
    assert "validatorUrl: null" in init
