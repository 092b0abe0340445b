"""Issue 12: each attack of the adversarial probe, reproduced, and the server's answer to it."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.server import Settings
from api.server.catalog import Catalog
from api.server.jobs import CompileCache, compile_source, compiled_weight
from api.server.redact import Redactor
from api.server.registry import Registry
from api.server.responses import Lru
from api.server.worker import WorkerPool
from engine.load.library import BUILTIN_ROOT
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

GYM_TEXT = GYM.decode("utf-8")
BAKERY_EVAL = "/v1/packs/bakery-stored-value/evaluate"
EXAMPLE_CSV = (BUILTIN_ROOT / "bakery-stored-value" / "examples" / "sample.csv").read_bytes()


def gym(pack: str = "gym-membership", version: str = "1.0.0", title: str | None = None) -> bytes:
    """The gym pack under another id / version (both
    written as given, YAML-quoted by the caller)."""
    text = GYM_TEXT.replace("pack: gym-membership", f"pack: {pack}", 1).replace(
        "version: 1.0.0", f"version: {version}", 1
    )
    if title is not None:
        text = text.replace("Gym membership indicators", title)
    return text.encode("utf-8")


def publish(client: TestClient, token: str, body: bytes) -> Any:
    return client.post("/v1/packs", content=body, headers={**YAML, **bearer(token)})


# -- 1. exact ids -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "pack, version",
    [
        ('"membership-core\\n"', "1.0.0"),
        ('"gym-membership\\n"', "1.0.0"),
        ("gym-membership", '"1.0.0\\n"'),
        ("gym-membership", '"1.0.0 "'),
    ],
)
def test_an_id_or_version_with_a_trailing_newline_is_refused(
    client: TestClient, keys: dict[str, str], pack: str, version: str
):
    r = publish(client, keys["alice"], gym(pack, version))
    assert_problem(r, 422, "pack-invalid")
    assert "location" not in r.headers
    # nothing was stored: the real pack can still be published as 1.0.0, once
    assert publish(client, keys["alice"], GYM).status_code == 201
    versions = client.get("/v1/packs/gym-membership/versions").json()["versions"]
    assert [v["version"] for v in versions] == ["1.0.0"]


def test_a_built_in_id_cannot_be_taken_with_a_trailing_newline(
    client: TestClient, keys: dict[str, str]
):
    r = publish(client, keys["alice"], gym('"membership-core\\n"'))
    assert_problem(r, 422, "pack-invalid")
    ids = [p["id"] for p in client.get("/v1/packs").json()["packs"]]
    assert ids.count("membership-core") == 1 and not any("\n" in i for i in ids)


def test_location_is_percent_encoded():
    from api.server.routes.publish import _location

    assert (
        _location({"pack": "gym-membership", "version": "1.0.0-rc.1"})
        == "/v1/packs/gym-membership?version=1.0.0-rc.1"
    )
    assert _location({"pack": "a\nb", "version": "1 0"}) == "/v1/packs/a%0Ab?version=1%200"


def test_server_paths_are_redacted_whatever_a_folder_is_called(tmp_path: Path):
    root = tmp_path / "data1" / "libraries"
    redact = Redactor(root)
    leaked = (
        f"cannot read {root}/0a1b2c/membership-core\n/membership-core\n@1.0.0.yaml: it is not YAML"
    )
    assert redact(leaked) == "cannot read membership-core\n@1.0.0.yaml: it is not YAML"
    assert str(tmp_path) not in redact(f"{tmp_path}/data1/registry.sqlite3 is locked")
    assert redact({"a": [f"see {root}/k/p/p@1.yaml line 3"]}) == {"a": ["see p@1.yaml line 3"]}


# -- 2. listings never compile -----------------------------------------------------------------
def test_listing_and_search_read_stored_summaries_and_never_compile(
    app: FastAPI, client: TestClient, keys: dict[str, str]
):
    for i in range(3):
        assert (
            publish(client, keys["alice"], gym(f"gym-{i}", title=f"Gym {i} indicators")).status_code
            == 201
        )
    catalog: Catalog = app.state.catalog
    client.get("/v1/packs")  # the built-in packs' summaries are made once per process
    catalog.cache = CompileCache(256)  # forget every compiled pack
    listed = {p["id"]: p for p in client.get("/v1/packs", params={"locale": "en"}).json()["packs"]}
    page = client.get("/", params={"q": "gym 1"})
    assert len(catalog.cache) == 0  # neither the listing nor the search page compiled anything
    assert listed["gym-1"]["title"] == "Gym 1 indicators" and listed["gym-1"]["version"] == "1.0.0"
    full = client.get("/v1/packs/gym-1").json()  # compiles, to check the stored counts against
    assert listed["gym-1"]["counts"] == {
        k: len(full[k]) for k in ("inputs", "metrics", "checks", "rules")
    }
    assert listed["gym-1"]["counts"]["metrics"] == 40  # its own and membership-core's
    assert listed["bakery-stored-value"]["counts"]["metrics"] > 10
    assert (
        page.status_code == 200
        and 'href="/packs/gym-1"' in page.text
        and 'href="/packs/gym-2"' not in page.text
    )


def test_a_registry_from_before_summaries_is_migrated_and_listed_without_compiling(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    db = sqlite3.connect(data / "registry.sqlite3")
    db.executescript("""
        CREATE TABLE packs (pack_id TEXT PRIMARY KEY, owner TEXT NOT NULL,
            created_at TEXT NOT NULL);
        CREATE TABLE versions (pack_id TEXT NOT NULL, version TEXT NOT NULL, yaml BLOB NOT NULL,
            sha256 TEXT NOT NULL, owner TEXT NOT NULL, visibility TEXT NOT NULL, pins TEXT NOT NULL,
            warnings TEXT NOT NULL, published_at TEXT NOT NULL, PRIMARY KEY (pack_id, version));
        INSERT INTO packs VALUES ('gym-membership', 'alice', '2026-01-01T00:00:00Z');
    """)
    db.execute(
        "INSERT INTO versions VALUES ('gym-membership', '1.0.0', ?, "
        "'x', 'alice', 'public', '{}', '[]', '2026-01-01T00:00:00Z')",
        (GYM,),
    )
    db.commit()
    db.close()
    with make_client(Settings(data_dir=data, rate_limit=0, eval_workers=1)) as client:
        listed = {p["id"]: p for p in client.get("/v1/packs").json()["packs"]}
        assert (
            listed["gym-membership"]["version"] == "1.0.0"
            and listed["gym-membership"]["counts"] is None
        )
        # still readable
        assert client.get("/v1/packs/gym-membership").json()["id"] == "gym-membership"


# -- 3. memory bounded in bytes, quotas ------------------------------------------------------------
def test_a_large_text_heavy_pack_is_kept_in_the_cache():
    # 3.5 MB of descriptions: the estimate must stay
    # within the default budget, or every read recompiles
    pads = "".join(
        f"  pad_{i}: {{label: {{en: Pad {i}, zh: 填充{i}}}, description: "
        f'{{en: "{"word " * 390}", zh: "{"很长的说明" * 390}"}}}}\n'
        for i in range(450)
    )
    text = GYM_TEXT.replace("\ninputs:\n", "\ninputs:\n" + pads, 1)
    source = {"text": text.encode("utf-8"), "name": "big.yaml", "parents": None}
    cache = CompileCache(size=10, max_bytes=256 * 1024 * 1024 * 11 // 16)
    compiled, _ = cache.get("big", source)
    assert compiled is not None and len(source["text"]) > 3_000_000
    assert len(cache) == 1 and cache.total_bytes < cache.max_bytes


def test_a_summary_is_bounded_whatever_the_pack_holds():
    from api.server.jobs import summary_of

    text = GYM_TEXT.replace(
        "title: {zh: 健身房会员指标, en: Gym membership indicators}",
        "title: {"
        + ", ".join(f"{chr(97 + i // 26)}{chr(97 + i % 26)}: {'t' * 4000}" for i in range(50))
        + "}",
    )
    compiled, problems = compile_source({"text": text.encode(), "name": "x.yaml", "parents": None})
    assert compiled is not None, problems
    summary = summary_of(compiled)
    assert len(summary["title"]) == 8 and all(len(t) <= 200 for _, t in summary["title"])
    assert len(json.dumps(summary)) < 20_000


def test_the_compile_cache_is_bounded_in_estimated_bytes():
    sources = [
        {"text": gym(f"gym-{i}"), "name": f"gym-{i}.yaml", "parents": None} for i in range(4)
    ]
    weight = compiled_weight(sources[0], compile_source(sources[0])[0])
    # its text, and its 40 metrics (its own and inherited)
    assert weight > 12 * len(GYM) + 40 * 12 * 1024
    cache = CompileCache(size=100, max_bytes=int(weight * 2.5))
    for i, src in enumerate(sources):
        compiled, _ = cache.get(f"k{i}", src)
        assert compiled is not None
    assert len(cache) == 2 and cache.total_bytes <= cache.max_bytes


def test_byte_bounded_lru_drops_the_least_recently_used():
    lru: Lru[bytes] = Lru(10, len)
    lru.get(("a",), lambda: b"12345")
    lru.get(("b",), lambda: b"12345")
    lru.get(("a",), lambda: b"never made")  # a hit: now b is the least recently used
    lru.get(("c",), lambda: b"123")
    assert lru.total <= 10 and len(lru) == 2
    assert lru.get(("b",), lambda: b"new") == b"new"  # b was dropped
    # too heavy to keep
    assert lru.get(("big",), lambda: b"x" * 11) == b"x" * 11 and lru.total <= 10


def test_server_caches_stay_within_their_byte_budget(settings: Settings, keys: dict[str, str]):
    source = {"text": GYM, "name": "gym.yaml", "parents": None}
    # ~2 compiled gym packs (11/16 of it)
    budget = compiled_weight(source, compile_source(source)[0]) * 4
    with make_client(settings, cache_bytes=budget) as client:
        catalog: Catalog = client.app.state.catalog  # type: ignore[attr-defined]
        for i in range(6):
            assert publish(client, keys["alice"], gym(f"gym-{i}")).status_code == 201
            assert client.get(f"/v1/packs/gym-{i}").status_code == 200
            assert (
                client.get(f"/v1/packs/gym-{i}/metrics/class_utilisation/lineage").status_code
                == 200
            )
        assert catalog.cache.total_bytes <= budget * 11 // 16
        assert catalog.rendered.total <= budget // 8
        assert 1 <= len(catalog.cache) <= 2


def test_owner_quotas_on_packs_versions_and_bytes(settings: Settings, keys: dict[str, str]):
    with make_client(settings, quota_packs=1) as client:
        assert publish(client, keys["alice"], GYM).status_code == 201
        body = assert_problem(publish(client, keys["alice"], gym("gym-two")), 403, "quota-exceeded")
        assert "1 packs and the limit is 1" in body["detail"]
        # a new version is fine
        assert publish(client, keys["alice"], gym(version="1.0.1")).status_code == 201
        # quotas are per owner
        assert publish(client, keys["bob"], gym("bobs-gym")).status_code == 201
    with make_client(settings, quota_versions=2) as client:
        body = assert_problem(
            publish(client, keys["alice"], gym(version="1.0.2")), 403, "quota-exceeded"
        )
        assert "2 versions" in body["detail"]
    with make_client(settings, quota_bytes=len(GYM) * 3 + 10) as client:
        # 3 versions stored
        assert publish(client, keys["alice"], gym(version="2.0.0")).status_code == 201
        body = assert_problem(
            publish(client, keys["alice"], gym(version="2.0.1")), 403, "quota-exceeded"
        )
        assert "bytes" in body["detail"]
    versions = [v.version for v in Registry(settings.data_dir).versions("gym-membership")]
    assert versions == ["2.0.0", "1.0.1", "1.0.0"]  # nothing refused was stored


def test_a_pack_larger_than_the_pack_limit_is_refused_before_parsing(
    settings: Settings, keys: dict[str, str]
):
    with make_client(settings, max_pack_bytes=len(GYM) - 1) as client:
        for path in ("/v1/validate", "/v1/packs"):
            body = assert_problem(
                client.post(path, content=GYM, headers={**YAML, **bearer(keys["alice"])}),
                413,
                "payload-too-large",
            )
            assert "split it into packs" in body["detail"]


# -- 4. posted YAML is parsed in the workers -------------------------------------------------------
def test_posted_yaml_is_never_parsed_in_the_server_process(
    client: TestClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
):
    import api.server.jobs
    import engine.load.sources

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the server process parsed a posted pack")

    monkeypatch.setattr(
        engine.load.sources, "load_pack_text", refuse
    )  # the workers are other processes
    monkeypatch.setattr(api.server.jobs, "load_pack_text", refuse)
    r = client.post("/v1/validate", content=GYM, headers=YAML)
    assert r.status_code == 200 and r.json()["valid"] is True, r.text
    r = client.post("/v1/validate", content=b"pack: [unclosed", headers=YAML)
    assert (
        r.status_code == 200
        and r.json()["valid"] is False
        and r.json()["problems"][0]["code"].startswith("KPI-L")
    )
    assert publish(client, keys["alice"], GYM).status_code == 201


# -- 5. bounded results and worker memory ----------------------------------------------------------
def test_a_result_with_too_many_values_is_refused_with_how_to_narrow_it(settings: Settings):
    with make_client(settings, max_result_values=50) as client:
        r = client.post(BAKERY_EVAL, content=EXAMPLE_CSV, headers={"Content-Type": "text/csv"})
        body = assert_problem(r, 413, "result-too-large")
        assert body["limit"] == 50 and body["values"] > 50
        assert (
            "metrics=" in body["detail"] and "by=" in body["detail"] and "grain" in body["detail"]
        )
        r = client.post(
            BAKERY_EVAL,
            params={"by": "", "metrics": "closing_amount", "grain": "year"},
            content=EXAMPLE_CSV,
            headers={"Content-Type": "text/csv"},
        )
        assert r.status_code == 200, r.text  # the narrowed request is answered


def test_a_result_larger_than_the_byte_limit_is_refused(settings: Settings):
    with make_client(settings, max_result_bytes=2000) as client:
        body = assert_problem(
            client.post(BAKERY_EVAL, content=EXAMPLE_CSV, headers={"Content-Type": "text/csv"}),
            413,
            "result-too-large",
        )
        assert body["limit"] == 2000 and body["bytes"] > 2000


def test_the_report_page_lays_out_a_bounded_result(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    import api.web.report

    monkeypatch.setattr(api.web.report, "PAGE_MAX_VALUES", 20)
    with make_client(settings) as client:
        r = client.get("/packs/bakery-stored-value/report", params={"data": "example"})
        assert r.status_code == 413  # with the page's own choices as advice, not metrics=...
        assert "show totals (by: none), a coarser grain, a view, or fewer rows" in r.text


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_a_worker_past_its_memory_limit_answers_cleanly_and_is_replaced():
    pool = WorkerPool(1, memory_bytes=worker_data_bytes() + 48 * 1024 * 1024)
    pool.start()
    try:
        before = pool.pids
        job = {
            "kind": "evaluate",
            "key": "bakery",
            "source": {"builtin": str(BUILTIN_ROOT / "bakery-stored-value")},
            "body": memory_hungry_csv(),
            "media": "csv",
            "options": {},
            "max_rows": 10**6,
        }
        outcome = asyncio.run(pool.run(job, 120))
        assert outcome["problem"] == "out-of-memory", str(outcome)[:300]
        assert "recycle" not in outcome
        assert pool.pids != before and pool.alive == 1  # the worker was replaced
        small = {
            **job,
            "body": b"period,store,recharge_amount,consume_amount,recharge_count,consume_count\n"
            b"2026-01,S1,100,50,1,1\n",
        }
        assert "body" in asyncio.run(pool.run(small, 120))  # and the new one works
    finally:
        pool.close()


# -- 6. the smaller ones ---------------------------------------------------------------------------
def test_a_client_that_disconnects_mid_upload_is_not_logged_as_a_server_error(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.INFO):
        r = disconnecting_upload(app, "/v1/validate")
    assert r.status_code == 400 and r.json()["type"].endswith("/client-disconnected")
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR or rec.exc_info]


def test_405_lists_every_method_of_the_path(client: TestClient):
    r = client.delete("/v1/packs")
    assert_problem(r, 405, "method-not-allowed")
    assert r.headers["allow"] == "GET, POST"
    assert client.put("/v1/packs/membership-core/evaluate").headers["allow"] == "POST"
    # below a mount
    assert client.post("/static/docs/swagger-ui.css").headers["allow"] == "GET, HEAD"


def test_openapi_marks_the_token_optional_on_anonymous_routes(client: TestClient):
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/v1/packs"]["get"]["security"] == [{}, {"bearer": []}]
    assert paths["/v1/packs/{pack}/evaluate"]["post"]["security"] == [{}, {"bearer": []}]
    assert paths["/v1/validate"]["post"]["security"] == [{}, {"bearer": []}]
    assert paths["/v1/packs"]["post"]["security"] == [{"bearer": []}]  # publishing needs one


def test_docs_page_has_a_csp_frame_protection_and_no_inline_script(client: TestClient):
    r = client.get("/docs")
    csp = r.headers["content-security-policy"]
    assert (
        "frame-ancestors 'none'" in csp
        and "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert r.headers["x-frame-options"] == "DENY"
    assert "<script>" not in r.text and '<script src="/docs/init.js"></script>' in r.text
    init = client.get("/docs/init.js")
    assert (
        init.status_code == 200
        and "SwaggerUIBundle" in init.text
        and "validatorUrl: null" in init.text
    )
    api = client.get("/v1/packs")
    assert (
        api.headers["x-frame-options"] == "DENY"
        and api.headers["x-content-type-options"] == "nosniff"
    )


def test_a_listing_is_cached_until_the_next_publication_and_revalidates(
    client: TestClient, keys: dict[str, str]
):
    first = client.get("/v1/packs")
    assert (
        client.get("/v1/packs", headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    )
    assert publish(client, keys["alice"], GYM).status_code == 201
    after = client.get("/v1/packs", headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and "gym-membership" in [p["id"] for p in after.json()["packs"]]
    mine = client.get("/v1/packs", headers=bearer(keys["alice"]))  # another reader: its own entry
    assert mine.headers["cache-control"].startswith("private")


def test_the_catalog_page_is_read_page_by_page(
    settings: Settings, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
):
    from api.web import pages

    monkeypatch.setattr(pages, "CATALOG_PAGE_SIZE", 2)
    with make_client(settings) as client:
        for i in range(3):
            assert publish(client, keys["alice"], gym(f"gym-{i}")).status_code == 201
        en = {"Accept-Language": "en"}
        one = client.get("/", headers=en).text  # 2 built-in + 3 published = 5 packs, 2 a page
        assert (
            one.count('class="card"') == 2
            and "Packs 1–2 of 5" in one
            and 'rel="next" href="/?q=&amp;page=2"' in one
        )
        three = client.get("/", params={"page": 3}, headers=en).text
        assert (
            three.count('class="card"') == 1
            and 'href="/packs/gym-2"' in three
            and 'rel="next"' not in three
        )
        found = client.get("/", params={"q": "gym-1"}, headers=en).text
        assert found.count('class="card"') == 1 and "paging" not in found


def test_a_large_result_is_streamed_from_the_worker_and_equals_the_whole_one(
    app: FastAPI, client: TestClient
):
    from api.server import jobs
    from api.server.worker import STREAM_CHUNK

    body = memory_hungry_csv(stores=400)
    r = client.post(BAKERY_EVAL, content=body, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text[:300]
    # it came in several chunks
    assert int(r.headers["content-length"]) == len(r.content) > 2 * STREAM_CHUNK
    whole = jobs.run(
        {
            "kind": "evaluate",
            "key": None,
            "source": {"builtin": str(BUILTIN_ROOT / "bakery-stored-value")},
            "body": body,
            "media": "csv",
            "options": {},
            "max_rows": 10**6,
        },
        CompileCache(4),
    )
    assert r.content == whole["body"]  # byte for byte what the worker made
    pool: WorkerPool = app.state.pool
    assert pool.killed == 0 and pool.alive == 1  # the worker went back once the stream was read
    assert (
        client.post(
            BAKERY_EVAL, content=EXAMPLE_CSV, headers={"Content-Type": "text/csv"}
        ).status_code
        == 200
    )


def test_a_streamed_result_frees_its_worker_at_once_whatever_the_client_reads():
    pool = WorkerPool(1)
    pool.start()
    try:
        job = {
            "kind": "evaluate",
            "key": "b",
            "source": {"builtin": str(BUILTIN_ROOT / "bakery-stored-value")},
            "body": memory_hungry_csv(stores=400),
            "media": "csv",
            "options": {},
            "max_rows": 10**6,
            "stream": True,
        }
        outcome = asyncio.run(pool.run(job, 120))
        chunks = outcome["chunks"]
        first = next(chunks)  # a slow client: it has read one chunk, and stops there
        assert outcome["stream"] > len(first) > 0
        # the worker is free
        assert pool.killed == 0 and pool._idle is not None and pool._idle.qsize() == 1
        small = {**job, "body": EXAMPLE_CSV, "stream": False}
        assert "body" in asyncio.run(pool.run(small, 120))  # and answers others meanwhile
        rest = b"".join(chunks)
        assert len(first) + len(rest) == outcome["stream"]
        assert json.loads(first + rest)["rows"]
    finally:
        pool.close()


def test_a_worker_bounds_duckdb_within_its_memory_limit(monkeypatch: pytest.MonkeyPatch):
    from api.server.worker import bound_duckdb
    from engine.evaluate.measures import run

    monkeypatch.setattr(run, "DUCKDB_CONFIG", {})
    bound_duckdb(2 * 1024**3)
    assert {
        "threads": str(min(os.cpu_count() or 1, 4)),
        "memory_limit": "1024MB",
    } == run.DUCKDB_CONFIG
    con = run._connect()
    try:
        threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    finally:
        con.close()
    assert int(threads) == min(os.cpu_count() or 1, 4)
    assert limit.replace(" ", "") in (
        "1024.0MiB",
        "1.0GiB",
        "1024MiB",
        "1GiB",
        "976.5MiB",
        "1.0GB",
        "1024.0MB",
    ), limit
