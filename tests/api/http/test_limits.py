"""Limits: body size (declared and chunked), rate per client, CORS, settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.server import Settings, create_app
from api.server.limits import TokenBuckets
from tests.api.http.conftest import YAML, assert_problem, bearer, make_client

URL = "/v1/packs/membership-core/evaluate"


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


def test_declared_length_over_the_limit_is_413(settings: Settings):
    with make_client(settings, max_body_bytes=1000) as c:
        body = assert_problem(
            c.post("/v1/validate", content=b"#" * 1001, headers=YAML), 413, "payload-too-large"
        )
        assert "1,001 bytes" in body["detail"] and "1,000" in body["detail"]
        assert c.post("/v1/validate", content=b"#" * 999, headers=YAML).status_code == 200


def test_chunked_upload_is_counted_while_read(settings: Settings):
    with make_client(settings, max_body_bytes=100_000) as c:
        r = c.post(URL, content=_chunks(5_000_000), headers={"Content-Type": "application/json"})
        assert "content-length" not in {k.lower() for k in r.request.headers}
        assert_problem(r, 413, "payload-too-large")
        r = c.post(
            URL,
            content=iter([b'{"rows": [', b'{"period": "2026-01", "new_members": 3}', b"]}"]),
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 200, r.text


def test_rate_limit_per_client_with_retry_after(settings: Settings, keys: dict[str, str]):
    with make_client(settings, rate_limit=0.5, rate_burst=3) as c:
        codes = [c.get("/v1/schema").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = c.get("/v1/schema")
        assert_problem(r, 429, "rate-limited")
        assert r.headers["retry-after"] == "2"
        # a token has its own bucket
        assert c.get("/v1/schema", headers=bearer(keys["alice"])).status_code == 200
        assert c.get("/healthz").status_code == 200  # health checks are not limited


def test_token_bucket_refills():
    b = TokenBuckets(rate=2.0, burst=2, max_clients=2)
    assert [b.take("a", 0.0), b.take("a", 0.0)] == [0.0, 0.0]
    assert b.take("a", 0.0) == pytest.approx(0.5)
    assert b.take("a", 0.5) == 0.0  # one token back after half a second
    b.take("b", 1.0)
    b.take("c", 1.0)
    assert len(b._buckets) == 2  # the least recently seen client was dropped


def test_no_cors_by_default(client: TestClient):
    r = client.get("/v1/packs", headers={"Origin": "https://example.org"})
    assert "access-control-allow-origin" not in r.headers
    r = client.options(
        "/v1/packs",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in r.headers


def test_cors_for_named_origins_only(settings: Settings):
    with make_client(settings, cors_origins=("https://app.example.org",)) as c:
        r = c.get("/v1/packs", headers={"Origin": "https://app.example.org"})
        assert r.headers["access-control-allow-origin"] == "https://app.example.org"
        assert "access-control-allow-credentials" not in r.headers
        assert (
            "access-control-allow-origin"
            not in c.get("/v1/packs", headers={"Origin": "https://x.org"}).headers
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cors_origins": ("*",)}, "CORS"),
        ({"max_rows": 0}, "max_rows"),
        ({"eval_timeout": 0}, "eval_timeout"),
    ],
)
def test_bad_settings_are_refused(settings: Settings, change: dict[str, object], message: str):
    from dataclasses import replace

    with pytest.raises(ValueError, match=message):
        create_app(replace(settings, **change))  # type: ignore[arg-type]


def test_settings_round_trip_through_the_environment(settings: Settings):
    assert Settings.from_env(settings.to_env()) == settings
    assert Settings.from_env({}) == Settings()
