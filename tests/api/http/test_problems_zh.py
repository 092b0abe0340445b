"""Problem titles in Chinese after ``Accept-Language: zh``: the type's title, and a ``title`` for
each item of ``problems`` / ``errors`` that carries a code of docs/errors.md. English stays the
default, and the details and messages stay English."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.server.problems import TYPES, accepts_zh
from tests.api.http.conftest import GYM, YAML, assert_problem, bearer

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
BAD_CELL = {"rows": [{"period": "2026-01", "new_members": True}]}


def test_an_evaluation_error_carries_the_chinese_titles(client: TestClient):
    r = client.post("/v1/packs/membership-core/evaluate", json=BAD_CELL, headers=ZH)
    body = assert_problem(r, 422, "invalid-input")
    assert body["title"] == "计算的数据或选项无效"
    assert body["code"] == "KPI-E017"
    [error] = body["errors"]
    assert error["code"] == "KPI-E017" and error["title"] == "不是数字"
    assert error["reason"].endswith("is not a number")  # the message itself stays English
    assert set(error) == {"code", "title", "row", "column", "reason", "hint"}
    assert r.headers["vary"] == "Accept-Language"


def test_english_is_the_default_and_adds_no_field(client: TestClient):
    for headers in ({}, {"Accept-Language": "en-US"}, {"Accept-Language": "zh;q=0.1, en"}):
        r = client.post("/v1/packs/membership-core/evaluate", json=BAD_CELL, headers=headers)
        body = assert_problem(r, 422, "invalid-input")
        assert body["title"] == "The evaluation data or options are not valid"
        assert set(body["errors"][0]) == {"code", "row", "column", "reason", "hint"}


def test_pack_problems_carry_their_codes_chinese_title(client: TestClient, keys: dict[str, str]):
    broken = GYM.replace(b"pt_revenue / pt_sessions", b"pt_revenue / pt_sesions")
    r = client.post("/v1/packs", content=broken, headers={**YAML, **bearer(keys["alice"]), **ZH})
    body = assert_problem(r, 422, "pack-invalid")
    assert body["title"] == "指标包有错误"
    errors = [p for p in body["problems"] if p["severity"] == "error"]
    assert [(p["code"], p["title"]) for p in errors] == [("KPI-R001", "未知引用")]
    assert errors[0]["message"].startswith("unknown name 'pt_sesions'")
    assert errors[0]["hint"] == "did you mean 'pt_sessions'?"


def test_routing_errors_and_request_validation_too(client: TestClient):
    r = client.get("/v1/nothing-here", headers={"Accept-Language": "zh"})
    assert assert_problem(r, 404, "not-found")["title"] == "没有这个资源"
    r = client.get("/v1/packs/no-such-pack", headers=ZH)
    assert assert_problem(r, 404, "pack-not-found")["title"] == "没有这个指标包"
    r = client.get("/v1/packs/membership-core/graph", params={"format": "x"}, headers=ZH)
    body = assert_problem(r, 422, "invalid-request")
    assert body["title"] == "请求参数无效"
    assert "title" not in body["errors"][0]  # {location, message}: no code, no title


@pytest.mark.parametrize(
    ("header", "zh"),
    [
        ("zh", True),
        ("zh-CN", True),
        ("ZH-tw, en;q=0.5", True),
        ("en, zh;q=0.9", False),
        ("zh;q=0.1, en;q=0.9", False),
        ("fr, zh;q=0.5", True),
        ("fr", False),
        ("", False),
        (None, False),
        ("zh;q=abc", False),
        ("zh;q=0", False),
    ],
)
def test_accept_language_chooses_chinese_by_weight(header: str | None, zh: bool):
    assert accepts_zh(header) is zh


def test_every_problem_type_has_a_chinese_title():
    for t in TYPES.values():
        assert t.title_zh and t.title_zh != t.title, t.slug
        assert any("\u4e00" <= ch <= "\u9fff" for ch in t.title_zh), t.slug
