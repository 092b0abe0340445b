"""Fixtures of the HTTP tests: an app over a fresh data dir, its test client, and API keys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.server import Settings, create_app
from api.server.registry import Registry

PACKS = Path(__file__).resolve().parent / "packs"
GYM = (PACKS / "gym-membership.yaml").read_bytes()
YAML = {"Content-Type": "application/yaml"}
PROBLEM = "application/problem+json"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    """The response is RFC 9457 problem+json of the given type; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://kpi-forge.dev/problems/{slug}", body
    assert body["status"] == status and body["title"] and body["detail"], body
    assert (
        "Traceback" not in response.text
        and "/work/" not in response.text
        and "/tmp/" not in response.text
    )
    return body


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", rate_limit=0, eval_workers=1, eval_timeout=30)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.pool.close()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def keys(settings: Settings) -> dict[str, str]:
    reg = Registry(settings.data_dir)
    return {"alice": reg.create_key("alice"), "bob": reg.create_key("bob")}


def make_client(settings: Settings, **changes: Any) -> Any:
    """A client over a new app with changed settings (use as a context manager)."""
    return _Client(create_app(replace(settings, **changes)))


class _Client:
    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.client = TestClient(app, raise_server_exceptions=False)

    def __enter__(self) -> TestClient:
        return self.client.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.client.__exit__(*exc)
        self.app.state.pool.close()


def worker_data_bytes() -> int:
    """The writable memory (VmData) of an idle evaluation worker on this machine."""
    from api.server.worker import WorkerPool

    pool = WorkerPool(1)
    pool.start()
    try:
        status = Path(f"/proc/{pool.pids[0]}/status").read_text()
    finally:
        pool.close()
    return next(
        int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmData:")
    )


def memory_hungry_csv(stores: int = 3000) -> bytes:
    """Input rows of the bakery pack that take ~100 MB of a worker's memory to evaluate by store."""
    rows = "\n".join(
        f"2026-{m:02d},S{s},{s * 1000 + m},1,1,1" for s in range(stores) for m in range(1, 13)
    )
    return (
        "period,store,recharge_amount,consume_amount,recharge_count,consume_count\n" + rows
    ).encode()


def disconnecting_upload(app: FastAPI, path: str) -> Any:
    """Call ``app`` with a body whose client goes away after the first chunk; the answer as an
    httpx response (nobody would read it: what matters is that the server answers cleanly)."""
    import asyncio

    import httpx

    sent: list[dict[str, Any]] = []
    messages = [
        {"type": "http.request", "body": b"pack: gym", "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/yaml"), (b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return httpx.Response(
        start["status"],
        headers=[(k.decode(), v.decode()) for k, v in start["headers"]],
        content=body,
    )
