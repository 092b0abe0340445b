"""POST /v1/packs/{pack}/evaluate: the façade's §9 JSON, from JSON or CSV, and every bad input."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.server import Settings
from engine.compile.pack import compile_pack
from engine.evaluate.evaluation import evaluate, read_table
from engine.load.library import BUILTIN_ROOT, PackLibrary
from tests.api.http.conftest import assert_problem, make_client

BAKERY = "bakery-stored-value"
SAMPLE = BUILTIN_ROOT / BAKERY / "examples" / "sample.csv"
URL = f"/v1/packs/{BAKERY}/evaluate"
CORE = "/v1/packs/membership-core/evaluate"


def _facade(formatted: bool = False, **options: object) -> object:
    c = compile_pack(BAKERY, PackLibrary([BUILTIN_ROOT]))
    result = evaluate(c, read_table(SAMPLE), **options)  # type: ignore[arg-type]
    return json.loads(json.dumps(result.to_json(formatted=formatted)))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_json_request_gives_the_facades_response(client: TestClient):
    r = client.post(
        URL,
        json={"rows": _rows(SAMPLE), "grain": "quarter", "by": [], "locale": "en", "trace": True},
    )
    assert r.status_code == 200, r.text
    assert r.json() == _facade(grain="quarter", by=[], locale="en", trace=True)


def test_csv_request_with_options_in_the_query(client: TestClient):
    r = client.post(
        URL,
        content=SAMPLE.read_bytes(),
        headers={"Content-Type": "text/csv; charset=utf-8"},
        params={
            "grain": "quarter",
            "by": "",
            "metrics": "closing_amount,active_rate",
            "param": "high_value_factor=2",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json() == _facade(
        grain="quarter",
        by=[],
        metrics=["closing_amount", "active_rate"],
        params={"high_value_factor": "2"},
    )
    r = client.post(URL, content=SAMPLE.read_bytes(), headers={"Content-Type": "text/csv"})
    assert r.json() == _facade()  # no `by`: every dimension kept


def test_as_of_formatted_and_the_grain_all_over_http(client: TestClient):
    """The options of the CLI over HTTP, JSON and CSV: as_of (a partial period), formatted (the
    values as shown beside the exact ones), the grain all; the response says what computed it."""
    r = client.post(
        URL,
        json={
            "rows": _rows(SAMPLE),
            "grain": "quarter",
            "by": [],
            "as_of": "2026-05-15",
            "formatted": True,
            "metrics": ["active_rate", "recharge_count"],
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == _facade(
        grain="quarter",
        by=[],
        as_of=dt.date(2026, 5, 15),
        metrics=["active_rate", "recharge_count"],
        formatted=True,
    )
    assert body["as_of"] == "2026-05-15" and [x["partial"] for x in body["rows"]] == [False, True]
    assert body["extends"] == {"membership-core": "1.0.0"} and len(body["pack_sha256"]) == 64
    assert body["engine_version"]
    q2 = body["rows"][1]
    # April and May, both stores
    assert (
        q2["formatted"]["active_rate"].endswith("%")
        and q2["values"]["recharge_count"] == 230 + 352 + 230 + 300
    )
    csv_body = client.post(
        URL,
        content=SAMPLE.read_bytes(),
        headers={"Content-Type": "text/csv"},
        params={"grain": "all", "by": "", "as_of": "2026-05-15", "formatted": "true"},
    ).json()
    assert [(x["period"], x["partial"]) for x in csv_body["rows"]] == [("2026-01/2026-05", True)]
    assert csv_body == _facade(grain="all", by=[], as_of=dt.date(2026, 5, 15), formatted=True)
    bad = client.post(URL, json={"rows": _rows(SAMPLE), "as_of": "2026-13-01"})
    assert_problem(bad, 422, "invalid-request")


def test_bad_cell_names_row_and_column(client: TestClient):
    rows = _rows(SAMPLE)
    rows[2]["consume_amount"] = "12abc"
    body = assert_problem(client.post(URL, json={"rows": rows}), 422, "invalid-input")
    assert body["code"] == "KPI-E017"
    assert body["errors"] == [
        {
            "code": "KPI-E017",
            "row": 3,
            "column": "consume_amount",
            "reason": "'12abc' is not a number",
            "hint": None,
        }
    ]
    text = "period,store,consume_amount\n2026-01,S01,1\n2026-02,S01,x\n"
    body = assert_problem(
        client.post(URL, content=text, headers={"Content-Type": "text/csv"}), 422, "invalid-input"
    )
    assert body["errors"][0]["row"] == 2 and body["errors"][0]["column"] == "consume_amount"
    assert body["code"] == body["errors"][0]["code"] == "KPI-E017"
    body = assert_problem(
        client.post(URL, content="period,store\n2026-01\n", headers={"Content-Type": "text/csv"}),
        422,
        "invalid-input",
    )
    assert body["errors"][0]["row"] == 1 and body["code"] == "KPI-E006"  # a ragged row


@pytest.mark.parametrize(
    ("request_json", "fragment"),
    [
        ({"rows": [{"period": "2026-13", "store": "S1"}]}, "period"),
        ({"rows": [{"period": "2026-01"}], "metrics": ["closing_amount"]}, "needs the column"),
        ({"rows": [{"period": "2026-01"}], "metrics": ["no_such_metric"]}, "unknown metric"),
        ({"rows": [{"period": "2026-01"}], "params": {"nope": 1}}, "unknown param"),
        ({"rows": [{"period": "2026-01"}], "by": ["region"]}, "region"),
        ({"rows": [{"period": "2026-01"}], "locale": "fr"}, "unknown locale"),
        ({"rows": [{"period": "2026-Q1"}], "grain": "month"}, "finer"),
        (
            {"rows": [{"period": "2026-01", "store": "S1"}, {"period": "2026-01", "store": "S1"}]},
            "row",
        ),
        ({"rows": ["not an object"]}, "object"),
    ],
)
def test_engine_input_errors_are_422(
    client: TestClient, request_json: dict[str, object], fragment: str
):
    body = assert_problem(client.post(URL, json=request_json), 422, "invalid-input")
    assert fragment in body["detail"] and len(body["errors"]) == 1


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b'{"rows": [{"period": "2026-01", "consume_amount": NaN}]}', "NaN"),
        (b'{"rows": [{"period": "2026-01", "consume_amount": ' + b"9" * 5000 + b"}]}", "digits"),
        (b'{"rows": [{"period": "2026-01", "consume_amount": Infinity}]}', "Infinity"),
        (b'{"rows": [', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),
    ],
)
def test_malformed_json_is_400(client: TestClient, payload: bytes, fragment: str):
    body = assert_problem(
        client.post(URL, content=payload, headers={"Content-Type": "application/json"}),
        400,
        "malformed-body",
    )
    assert fragment in body["detail"]


def test_huge_float_is_an_input_error_not_a_crash(client: TestClient):
    payload = b'{"rows": [{"period": "2026-01", "store": "S1", "consume_amount": 1e999}]}'
    body = assert_problem(
        client.post(URL, content=payload, headers={"Content-Type": "application/json"}),
        422,
        "invalid-input",
    )
    assert body["errors"][0]["column"] == "consume_amount"


@pytest.mark.parametrize(
    ("payload", "location"),
    [
        ({"rows": [], "grain": "fortnight"}, "body.grain"),
        ({"rows": [], "by": "store"}, "body.by"),
        ({"rows": [], "trace": "maybe"}, "body.trace"),
        ({"rows": [], "params": {"high_value_factor": True}}, "body.params.high_value_factor"),
        ({"rows": [], "colour": "red"}, "body.colour"),
        ({"rows": {"period": "2026-01"}}, "body.rows"),
        ({"grain": "month"}, "body.rows"),
        ([1, 2], "body.rows"),
    ],
)
def test_bad_options_are_422_without_echo(client: TestClient, payload: object, location: str):
    body = assert_problem(client.post(URL, json=payload), 422, "invalid-request")
    assert body["errors"][0]["location"].startswith(location)
    assert "fortnight" not in json.dumps(body) and "maybe" not in json.dumps(body)


def test_query_options_with_a_json_body_are_refused(client: TestClient):
    assert_problem(
        client.post(URL, json={"rows": []}, params={"grain": "year"}), 422, "invalid-request"
    )


def test_bad_csv_param_and_bad_query_value(client: TestClient):
    body = assert_problem(
        client.post(
            URL,
            content="period\n2026-01\n",
            headers={"Content-Type": "text/csv"},
            params={"param": "novalue"},
        ),
        422,
        "invalid-request",
    )
    assert "name=value" in body["detail"]
    assert_problem(
        client.post(
            URL,
            content="period\n2026-01\n",
            headers={"Content-Type": "text/csv"},
            params={"trace": "perhaps"},
        ),
        422,
        "invalid-request",
    )


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "application/xml", None]
)
def test_wrong_content_type_is_415(client: TestClient, content_type: str | None):
    headers = {"Content-Type": content_type} if content_type else {}
    body = assert_problem(
        client.post(URL, content=b"period\n2026-01\n", headers=headers),
        415,
        "unsupported-media-type",
    )
    assert "text/csv" in body["detail"]


def test_too_many_rows_is_422(settings: Settings):
    with make_client(settings, max_rows=3) as c:
        rows = [
            {"period": f"2026-0{i}", "new_members": 1, "marketing_spend": 2} for i in range(1, 5)
        ]
        body = assert_problem(c.post(CORE, json={"rows": rows}), 422, "too-many-rows")
        assert "at most 3" in body["detail"]
        text = "period,new_members\n" + "".join(f"2026-0{i},1\n" for i in range(1, 5))
        assert_problem(
            c.post(CORE, content=text, headers={"Content-Type": "text/csv"}), 422, "too-many-rows"
        )
        assert c.post(CORE, json={"rows": rows[:3]}).status_code == 200


def test_the_evaluation_worker_is_killed_at_the_deadline(settings: Settings):
    """A tiny time limit and a large evaluation: 504,
    the worker process is gone, the server goes on."""
    with make_client(
        settings, eval_timeout=30.0, max_body_bytes=64 * 1024 * 1024, max_rows=10**6
    ) as c:
        pool = c.app.state.pool  # type: ignore[attr-defined]
        # warm up under a generous limit (a cold worker on a loaded machine takes its time), then
        # give the big evaluation (about 20 s of work) a limit it cannot meet on any machine
        assert (
            c.post(CORE, json={"rows": [{"period": "2026-01", "new_members": 1}]}).status_code
            == 200
        )
        c.app.state.settings = dataclasses.replace(c.app.state.settings, eval_timeout=3.0)  # type: ignore[attr-defined]
        before = pool.pids
        rows = [
            {
                "period": f"{2000 + i // 12}-{i % 12 + 1:02d}",
                "store": f"S{j}",
                "new_members": i,
                "marketing_spend": j,
            }
            for i in range(300)
            for j in range(400)
        ]
        body = io.BytesIO(json.dumps({"rows": rows, "trace": True}).encode())
        r = c.post(CORE, content=body.getvalue(), headers={"Content-Type": "application/json"})
        assert_problem(r, 504, "evaluation-timeout")
        assert pool.killed == 1 and pool.pids != before and pool.alive == 1
        for pid in before:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        assert c.get("/healthz").json()["workers"] == 1
        # the replacement worker starts cold (imports, compiles the pack): on a busy machine that
        # alone can take longer than the tiny limit, so the server's going on is checked with a
        # normal one
        c.app.state.settings = dataclasses.replace(c.app.state.settings, eval_timeout=30.0)  # type: ignore[attr-defined]
        r = c.post(
            CORE,
            json={
                "rows": [{"period": "2026-01", "new_members": 4, "marketing_spend": 100}],
                "metrics": ["cac"],
            },
        )
        assert r.status_code == 200 and r.json()["rows"][0]["values"] == {"cac": 25.0}
