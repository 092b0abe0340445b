"""One real server: ``uvicorn`` in its own process on a free loopback port, called with httpx."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.server.registry import Registry
from tests.api.http.conftest import GYM

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(tmp_path: Path, data: Path, *options: str) -> tuple[subprocess.Popen[bytes], str]:
    """`kpi serve` in its own process, as a user starts it; returns once it answers."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.server_cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data),
            "--eval-workers",
            "1",
            *options,
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read().decode() if proc.stdout else ""
            proc.kill()
            pytest.fail(f"uvicorn did not start: {out[-2000:]}")
        time.sleep(0.1)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    data = tmp_path / "data"
    token = Registry(data).create_key("alice")
    proc, url = _start(tmp_path, data)
    try:
        yield url, token
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server started by :func:`_start`: politely, then for good."""
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:  # pragma: no cover
        proc.kill()
        proc.wait()
    if proc.stdout:
        proc.stdout.close()


def test_a_real_server_publishes_evaluates_and_explains(server: tuple[str, str]):
    url, token = server
    with httpx.Client(base_url=url, timeout=30) as http:
        assert http.get("/healthz").json()["status"] == "ok"
        r = http.post(
            "/v1/packs",
            content=GYM,
            headers={"Content-Type": "application/yaml", "Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201, r.text
        r = http.post(
            "/v1/packs/gym-membership/evaluate",
            params={"by": "", "metrics": "class_utilisation"},
            content="period,club,class_bookings,class_capacity\n2026-01,C1,75,100\n2026-01,C2,25,100\n",
            headers={"Content-Type": "text/csv"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["rows"][0]["values"] == {"class_utilisation": 0.5}
        lin = http.get("/v1/packs/gym-membership/metrics/class_utilisation/lineage").json()
        assert lin["inputs"] == ["class_bookings", "class_capacity"]
        assert lin["defined_in"]["file"] == "gym-membership@1.0.0.yaml"
        lin = http.get(
            "/v1/packs/gym-membership/metrics/cac/lineage"
        ).json()  # the server runs outside the repo
        assert lin["defined_in"]["file"] == "metrics/membership-core/metrics.yaml"
        r = http.get(
            "/v1/packs/gym-membership/metrics/class_utilisation/lineage",
            headers={
                "If-None-Match": http.get(
                    "/v1/packs/gym-membership/metrics/class_utilisation/lineage"
                ).headers["etag"]
            },
        )
        assert r.status_code == 304
        r = http.post(
            "/v1/packs/gym-membership/evaluate",
            content=b'{"rows": [{"n": ' + b"1" * 5000 + b"}]}",
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
        assert http.get("/docs").status_code == 200
        assert "server" not in r.headers  # no server banner


def test_a_publish_survives_kill_9_and_a_revoked_key_stops_working(tmp_path: Path):
    data = tmp_path / "data"
    registry = Registry(data)
    token = registry.create_key("alice")
    proc, url = _start(tmp_path, data)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/yaml"}
    try:
        r = httpx.post(f"{url}/v1/packs", content=GYM, headers=auth, timeout=60)
        assert r.status_code == 201, r.text
        sha = r.json()["sha256"]
    finally:
        proc.kill()  # SIGKILL: no shutdown, no flush — the answer above must already be durable
        proc.wait(15)
        if proc.stdout:
            proc.stdout.close()
    [key] = registry.list_keys("alice")
    assert registry.revoke_key(key["key_id"])
    proc, url = _start(tmp_path, data)
    try:
        versions = httpx.get(f"{url}/v1/packs/gym-membership/versions", timeout=30).json()
        assert [v["sha256"] for v in versions["versions"]] == [sha]
        r = httpx.post(f"{url}/v1/packs", content=GYM, headers=auth, timeout=60)
        assert r.status_code == 401  # the revoked token no longer authenticates
    finally:
        proc.terminate()
        proc.wait(15)
        if proc.stdout:
            proc.stdout.close()
