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
    assert "Traceback" not in response.text and "/work/" not in response.text and "/tmp/" not in response.text
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
