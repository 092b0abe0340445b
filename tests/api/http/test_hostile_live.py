"""The hostile-request corpus of issue 12, run against one live ``kpi serve`` (uvicorn, loopback).

Each case is a request an attacker sent to a live server, with the answer the server must give.
They run in order against one server (some build on earlier ones: the quota counts the packs
published before it), and at the end the server's own log must hold no traceback: every
attack was answered as problem+json, none became a server error.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from api.server.registry import Registry
from tests.api.http.conftest import GYM
from tests.api.http.test_live_server import _start

GYM_TEXT = GYM.decode("utf-8")
PROBLEM = "application/problem+json"


def gym(old: str = "", new: str = "", *, pack: str = "gym-membership") -> bytes:
    text = GYM_TEXT.replace("pack: gym-membership", f"pack: {pack}", 1)
    return (text.replace(old, new, 1) if old else text).encode("utf-8")


def big_csv() -> bytes:
    """Input rows by store and month: small to send, a large result (the probe's 150 MB case)."""
    rows = [
        f"2025-{m:02d},S{s:04d},{1000 + s},{500 + m},3,2" for s in range(400) for m in range(1, 13)
    ]
    return (
        "period,store,recharge_amount,consume_amount,recharge_count,consume_count\n"
        + "\n".join(rows)
    ).encode()


@dataclass
class Case:
    name: str
    method: str
    path: str
    status: int
    slug: str | None = None  # the problem type, for an error answer
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    auth: bool = False
    check: Callable[[httpx.Response], None] | None = None


YAML = {"Content-Type": "application/yaml"}
CSV = {"Content-Type": "text/csv"}


def _location(r: httpx.Response) -> None:
    assert r.headers["location"] == "/v1/packs/gym-membership?version=1.0.0"


def _no_server_path(r: httpx.Response) -> None:
    assert "libraries" not in r.text and "/tmp" not in r.text and "data/" not in r.text, r.text[
        :500
    ]


def _listing(r: httpx.Response) -> None:
    ids = [p["id"] for p in r.json()["packs"]]
    assert (
        ids.count("membership-core") == 1
        and "gym-membership" in ids
        and not any(i != i.strip() for i in ids)
    )


def _allow(r: httpx.Response) -> None:
    assert r.headers["allow"] == "GET, POST"


def _docs(r: httpx.Response) -> None:
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY" and "<script>" not in r.text


def _narrow(r: httpx.Response) -> None:
    body = r.json()
    assert body["limit"] == 20_000 and body["values"] > 20_000 and "metrics=" in body["detail"]


def _refused(code: str) -> Callable[[httpx.Response], None]:
    def check(r: httpx.Response) -> None:
        body = r.json()
        assert body["valid"] is False and code in [p["code"] for p in body["problems"]], r.text[
            :500
        ]

    return check


def _security(r: httpx.Response) -> None:
    paths = r.json()["paths"]
    assert paths["/v1/packs"]["get"]["security"] == [{}, {"bearer": []}]
    assert paths["/v1/packs"]["post"]["security"] == [{"bearer": []}]


CORPUS = [
    Case(
        "a built-in id with a trailing newline",
        "POST",
        "/v1/packs",
        422,
        "pack-invalid",
        gym(pack='"membership-core\\n"'),
        YAML,
        auth=True,
    ),
    Case(
        "a version with a trailing newline",
        "POST",
        "/v1/packs",
        422,
        "pack-invalid",
        gym("version: 1.0.0", 'version: "1.0.0\\n"'),
        YAML,
        auth=True,
    ),
    Case("the real pack", "POST", "/v1/packs", 201, None, GYM, YAML, auth=True, check=_location),
    Case(
        "a pack extending an id with a newline",
        "POST",
        "/v1/packs",
        422,
        "pack-invalid",
        b'pack: gym-child\nversion: 1.0.0\ntitle: x\nextends: ["gym-membership\\n"]\ninputs: {}\n'
        b"metrics: {}\n",
        YAML,
        auth=True,
        check=_no_server_path,
    ),
    Case("the listing", "GET", "/v1/packs", 200, check=_listing),
    Case(
        "a method the path does not have",
        "DELETE",
        "/v1/packs",
        405,
        "method-not-allowed",
        check=_allow,
    ),
    Case("the docs page in a frame", "GET", "/docs", 200, check=_docs),
    Case("the OpenAPI document", "GET", "/openapi.json", 200, check=_security),
    Case(
        "a result far larger than the request",
        "POST",
        "/v1/packs/bakery-stored-value/evaluate",
        413,
        "result-too-large",
        big_csv(),
        CSV,
        check=_narrow,
    ),
    Case(
        "a pack over the pack size limit",
        "POST",
        "/v1/validate",
        413,
        "payload-too-large",
        GYM + b"#" + b"x" * 200_000 + b"\n",
        YAML,
    ),
    Case(
        "a second pack within the quota",
        "POST",
        "/v1/packs",
        201,
        None,
        gym(pack="gym-two"),
        YAML,
        auth=True,
    ),
    Case(
        "a third pack past the quota of two",
        "POST",
        "/v1/packs",
        403,
        "quota-exceeded",
        gym(pack="gym-three"),
        YAML,
        auth=True,
    ),
    Case(
        "a Cyrillic look-alike beside a Latin id",
        "POST",
        "/v1/validate",
        200,
        None,
        gym("  class_utilisation:", "  cl\u0430ss_utilisation:"),
        YAML,
        check=_refused("KPI-R022"),
    ),
    Case(
        "full-width letters in an id",
        "POST",
        "/v1/validate",
        200,
        None,
        gym("  class_utilisation:", "  ｃlass_utilisation:"),
        YAML,
        check=_refused("KPI-R022"),
    ),
    Case(
        "a right-to-left override in a label",
        "POST",
        "/v1/packs",
        422,
        "pack-invalid",
        gym("Class utilisation", "Class \u202eutilisation"),
        YAML,
        auth=True,
    ),
    Case(
        "Arabic-Indic digits in a data cell",
        "POST",
        "/v1/packs/bakery-stored-value/evaluate",
        422,
        "invalid-input",
        "period,store,recharge_amount\n2026-01,S1,١٢٣\n".encode(),
        CSV,
    ),
    Case(
        "NaN in JSON",
        "POST",
        "/v1/packs/membership-core/evaluate",
        400,
        "malformed-body",
        b'{"rows": [{"period": "2026-01", "new_members": NaN}]}',
        {"Content-Type": "application/json"},
    ),
]


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    tmp = tmp_path_factory.mktemp("hostile")
    data = tmp / "data"
    token = Registry(data).create_key("mallory")
    proc, url = _start(
        tmp,
        data,
        "--max-result-values",
        "20000",
        "--quota-packs",
        "2",
        "--max-pack-bytes",
        "100000",
        "--rate-limit",
        "0",
    )
    try:
        yield url, token, proc
    finally:
        proc.terminate()
        proc.wait(15)


def test_the_corpus_is_answered_as_expected(live: tuple[str, str, subprocess.Popen[bytes]]):
    url, token, _ = live
    with httpx.Client(base_url=url, timeout=60) as http:
        for case in CORPUS:
            headers = {
                **case.headers,
                **({"Authorization": f"Bearer {token}"} if case.auth else {}),
            }
            r = http.request(case.method, case.path, content=case.body, headers=headers)
            assert r.status_code == case.status, f"{case.name}: {r.status_code} {r.text[:300]}"
            if case.slug is not None:
                assert r.headers["content-type"].startswith(PROBLEM), case.name
                assert r.json()["type"].endswith("/" + case.slug), f"{case.name}: {r.text[:300]}"
                assert "Traceback" not in r.text, case.name
            if case.check is not None:
                case.check(r)


def test_an_upload_cut_off_mid_body_leaves_the_server_healthy_and_its_log_clean(
    live: tuple[str, str, subprocess.Popen[bytes]],
):
    url, _, proc = live
    host, port = url.removeprefix("http://").split(":")
    for _ in range(5):
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(
                b"POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\n"
                b"Content-Length: 100000\r\n\r\npack: gym"
            )
    assert httpx.get(f"{url}/healthz", timeout=30).json()["status"] == "ok"
    proc.terminate()
    out, _ = proc.communicate(timeout=30)
    log = out.decode("utf-8", "replace")
    assert "Traceback" not in log and "ERROR" not in log, log[-3000:]
