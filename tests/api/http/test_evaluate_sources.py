"""POST /v1/packs/{pack}/evaluate with the raw records of a pack's sources in place of input rows.

The pack is tests/packs/measures/ledger-demo (one source, `card_events`, by store), published
over HTTP; the ledger below is small enough to add up by hand.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.server import Settings, jobs
from api.server.sources import json_tables
from tests.api.http.conftest import YAML, assert_problem, bearer, make_client

PACK = (
    Path(__file__).resolve().parents[2] / "packs" / "measures" / "ledger-demo" / "pack.yaml"
).read_bytes()
URL = "/v1/packs/ledger-demo/evaluate"
PLAIN = b"""pack: plain-visits
version: '1.0.0'
title: {en: Plain visits}
inputs:
  visits: {label: {en: Visits}}
metrics:
  double_visits: {label: {en: Double visits}, formula: visits * 2}
"""
CSV = {"Content-Type": "text/csv"}
FIELDS = ["event_time", "store_id", "member_id", "kind", "amount", "net", "gift", "points"]
LEDGER: list[dict[str, Any]] = [
    dict(zip(FIELDS, r, strict=True))
    for r in [
        ("2026-01-02 09:00:00", "S1", "M1", "register", 0, 0, 0, 0),  # 1  new member of S1
        ("2026-01-02 09:05:00", "S1", "M1", "recharge", 200, 180, 20, 0),  # 2
        # 3  imported members are new too
        ("2026-01-10 12:00:00", "S1", "M2", "import", 50, 50, 0, 0),
        ("2026-01-15 18:30:00", "S1", "M2", "recharge", 100, 95, 5, 0),  # 4
        ("2026-01-20 08:00:00", "S2", "M3", "register", 0, 0, 0, 0),  # 5
        # 6  last second of January
        ("2026-01-31 23:59:59", "S2", "M3", "recharge", 300, 270, 30, 0),
        # 7  first second of February
        ("2026-02-01 00:00:00", "S1", "M1", "recharge", 150, 150, 0, 0),
        # 8  spending is not recharging
        ("2026-02-03 10:00:00", "S1", "M1", "consume", 80, 72, 8, 0),
        ("2026-02-14 11:00:00", "S2", "M3", "consume", 120, 108, 12, 5),  # 9
        ("2026-02-20 16:00:00", "S2", "M4", "register", 0, 0, 0, 0),  # 10
        ("2026-02-21 16:00:00", "S2", "M4", "recharge", 50, 50, 0, 0),  # 11
    ]
]
# By hand, per month and store (recharge_amount / recharge_count / new_members / gift_income):
#   2026-01 S1: 200 + 100 = 300 / 2 / 2 (M1, M2) / 20 + 5 = 25
#   2026-01 S2: 300 / 1 / 1 (M3) / 30
#   2026-02 S1: 150 / 1 / 0 / 0
#   2026-02 S2: 50 / 1 / 1 (M4) / 0
# metrics: recharge_per_visit = amount / count; gift_share_of_recharge = gift / amount;
# newcomers = new
BY_STORE = {
    ("2026-01", "S1"): {
        "recharge_per_visit": 150.0,
        "gift_share_of_recharge": 25 / 300,
        "newcomers": 2.0,
    },
    ("2026-01", "S2"): {
        "recharge_per_visit": 300.0,
        "gift_share_of_recharge": 0.1,
        "newcomers": 1.0,
    },
    ("2026-02", "S1"): {
        "recharge_per_visit": 150.0,
        "gift_share_of_recharge": 0.0,
        "newcomers": 0.0,
    },
    ("2026-02", "S2"): {
        "recharge_per_visit": 50.0,
        "gift_share_of_recharge": 0.0,
        "newcomers": 1.0,
    },
}
# Totals of the quarter: 600 + 200 = 800 recharged in 5 recharges, 55 of gift, 4 new members.
QUARTER = {"recharge_per_visit": 160.0, "gift_share_of_recharge": 55 / 800, "newcomers": 4.0}


def _csv(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()


def _publish(c: TestClient, token: str, text: bytes = PACK) -> None:
    r = c.post("/v1/packs", content=text, headers={**YAML, **bearer(token)})
    assert r.status_code == 201, r.text


@pytest.fixture
def ledger(client: TestClient, keys: dict[str, str]) -> TestClient:
    _publish(client, keys["alice"])
    return client


@pytest.fixture
def capped(settings: Settings, keys: dict[str, str]) -> Iterator[TestClient]:
    """A server taking at most 10 rows (or records) per evaluation."""
    with make_client(settings, max_rows=10) as c:
        _publish(c, keys["alice"])
        yield c


def _approx(expected: dict[tuple[str, ...], dict[str, float]]) -> dict[tuple[str, ...], Any]:
    return {key: pytest.approx(values) for key, values in expected.items()}


def _values(body: dict[str, Any]) -> dict[tuple[str, ...], dict[str, Any]]:
    return {(row["period"], *row["dims"].values()): row["values"] for row in body["rows"]}


def test_records_give_the_hand_computed_values(ledger: TestClient):
    r = ledger.post(URL, json={"sources": {"card_events": LEDGER}, "locale": "en"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pack"] == "ledger-demo" and body["grain"] == "month" and body["by"] == ["store"]
    assert _values(body) == _approx(BY_STORE)

    r = ledger.post(URL, json={"sources": {"card_events": LEDGER}, "grain": "quarter", "by": []})
    assert r.status_code == 200, r.text
    assert _values(r.json()) == _approx({("2026-Q1",): QUARTER})


def test_one_sources_csv_gives_the_same_body(ledger: TestClient):
    expected = ledger.post(
        URL, json={"sources": {"card_events": LEDGER}, "grain": "quarter", "by": [], "trace": True}
    ).json()
    r = ledger.post(
        URL,
        content=_csv(LEDGER),
        headers=CSV,
        params={"source": "card_events", "grain": "quarter", "by": "", "trace": "true"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == expected
    r = ledger.post(URL, content=_csv(LEDGER), headers=CSV, params={"source": "card_events"})
    assert _values(r.json()) == _approx(BY_STORE)


def test_records_are_written_as_data_never_as_csv_syntax(ledger: TestClient):
    """Commas, quotes and line breaks in a value stay inside it; a field a record lacks is blank."""
    store = 'S,"1"\r\nS2,x'
    records = [{**rec, "store_id": store} for rec in LEDGER[:4]]
    del records[0]["points"], records[3]["net"]  # unused fields: blank
    r = ledger.post(URL, json={"sources": {"card_events": records}})
    assert r.status_code == 200, r.text
    assert _values(r.json()) == _approx({("2026-01", store): BY_STORE[("2026-01", "S1")]})


def test_a_missing_column_is_named_by_the_engine(ledger: TestClient):
    records = [{k: v for k, v in rec.items() if k != "amount"} for rec in LEDGER]
    body = assert_problem(
        ledger.post(URL, json={"sources": {"card_events": records}}), 422, "invalid-input"
    )
    assert body["detail"].startswith("source 'card_events' (records): no column 'amount'")
    body = assert_problem(
        ledger.post(URL, content=_csv(records), headers=CSV, params={"source": "card_events"}),
        422,
        "invalid-input",
    )
    assert "'amount'" in body["detail"]


def test_a_time_that_does_not_parse_names_the_column_and_record(ledger: TestClient):
    records = [dict(rec) for rec in LEDGER]
    records[2]["event_time"] = "the tenth of January"
    body = assert_problem(
        ledger.post(URL, json={"sources": {"card_events": records}}), 422, "invalid-input"
    )
    assert (
        "card_events" in body["detail"]
        and "event_time" in body["detail"]
        and "row 3" in body["detail"]
    )


@pytest.mark.parametrize(("value", "kind"), [({"value": 100}, "an object"), ([100, 200], "a list")])
def test_a_nested_value_names_source_record_and_field(ledger: TestClient, value: object, kind: str):
    records = [dict(rec) for rec in LEDGER]
    records[4]["amount"] = value
    body = assert_problem(
        ledger.post(URL, json={"sources": {"card_events": records}}), 422, "invalid-input"
    )
    assert body["detail"].startswith(
        f"source 'card_events', record 5, field 'amount': the value is {kind}"
    )
    assert body["code"] == "KPI-E043"
    assert body["errors"] == [
        {
            "code": "KPI-E043",
            "row": 5,
            "column": "amount",
            "reason": body["errors"][0]["reason"],
            "hint": None,
        }
    ]


@pytest.mark.parametrize(
    ("records", "fragment", "code"),
    [
        (["not an object"], "record 1: a record must be an object", "KPI-E005"),
        (
            [{"event_time": "2026-01-02 09:00:00", "amount": "NUL\x00"}],
            "record 1, field 'amount': the text holds a NUL",
            "KPI-E043",
        ),
        ([], "no records", "KPI-E041"),
    ],
)
def test_bad_records_are_422(ledger: TestClient, records: list[Any], fragment: str, code: str):
    body = assert_problem(
        ledger.post(URL, json={"sources": {"card_events": records}}), 422, "invalid-input"
    )
    assert fragment in body["detail"]
    assert body["code"] == body["errors"][0]["code"] == code


@pytest.mark.parametrize(
    ("text", "status", "slug", "fragment", "code"),
    [
        (
            ",".join(FIELDS) + "\n",
            422,
            "invalid-input",
            "source 'card_events' has no records",
            "KPI-E041",
        ),
        ("", 422, "invalid-input", "the CSV of source 'card_events' is empty", "KPI-E007"),
        (
            'event_time,amount\n"2026-01-02,1\n',
            400,
            "malformed-body",
            "the CSV of source 'card_events' is not valid",
            "KPI-E006",
        ),
    ],
)
def test_bad_csv_of_a_source(
    ledger: TestClient, text: str, status: int, slug: str, fragment: str, code: str
):
    r = ledger.post(URL, content=text, headers=CSV, params={"source": "card_events"})
    body = assert_problem(r, status, slug)
    assert fragment in body["detail"] and body["code"] == code


def test_a_huge_number_is_refused_not_summed(ledger: TestClient):
    text = json.dumps({"sources": {"card_events": LEDGER[:1]}}).replace(
        '"amount": 0', '"amount": 1e999'
    )
    r = ledger.post(URL, content=text, headers={"Content-Type": "application/json"})
    body = assert_problem(r, 422, "invalid-input")
    assert "record 1, field 'amount'" in body["detail"] and "finite" in body["detail"]
    assert body["code"] == "KPI-E018"


def test_an_unknown_source_names_the_known_ones(ledger: TestClient):
    body = assert_problem(
        ledger.post(URL, json={"sources": {"card_event": LEDGER}}), 422, "invalid-request"
    )
    assert (
        body["detail"] == "pack 'ledger-demo' has no source 'card_event'; its sources: card_events"
    )
    assert body["errors"][0]["location"] == "body.sources.card_event"
    body = assert_problem(
        ledger.post(URL, content=_csv(LEDGER), headers=CSV, params={"source": "../../etc/passwd"}),
        422,
        "invalid-request",
    )
    assert (
        "its sources: card_events" in body["detail"]
        and body["errors"][0]["location"] == "query.source"
    )


def test_a_pack_without_measures_says_so(client: TestClient, keys: dict[str, str]):
    _publish(client, keys["alice"], PLAIN)
    url = "/v1/packs/plain-visits/evaluate"
    body = assert_problem(
        client.post(url, json={"sources": {"card_events": LEDGER}}), 422, "invalid-request"
    )
    assert body["detail"] == (
        "pack 'plain-visits' computes no input from raw records (none of its inputs has a "
        "`measure:`): send input rows instead"
    )
    body = assert_problem(
        client.post(url, content=_csv(LEDGER), headers=CSV, params={"source": "card_events"}),
        422,
        "invalid-request",
    )
    assert "computes no input from raw records" in body["detail"]
    r = client.post(url, json={"rows": [{"period": "2026-01", "visits": 21}]})
    assert r.status_code == 200 and r.json()["rows"][0]["values"] == {"double_visits": 42.0}


@pytest.mark.parametrize(
    ("payload", "location", "fragment"),
    [
        (
            {"rows": [{"period": "2026-01"}], "sources": {"card_events": LEDGER}},
            "body.sources",
            "not both",
        ),
        ({"sources": []}, "body.sources", "object"),
        ({"sources": {}}, "body.sources", "at least one"),
        (
            {"sources": {"card_events": {"event_time": "2026-01-02"}}},
            "body.sources.card_events",
            "list",
        ),
        (
            {"sources": {"card_events": LEDGER}, "grain": "fortnight"},
            "body.grain",
            "invalid options",
        ),
    ],
)
def test_bad_requests_are_422(
    ledger: TestClient, payload: dict[str, Any], location: str, fragment: str
):
    body = assert_problem(ledger.post(URL, json=payload), 422, "invalid-request")
    assert body["errors"][0]["location"] == location and fragment in body["detail"]


def test_null_rows_or_sources_are_absent(ledger: TestClient):
    r = ledger.post(URL, json={"rows": None, "sources": {"card_events": LEDGER}, "by": []})
    assert r.status_code == 200, r.text
    body = assert_problem(
        ledger.post(URL, json={"rows": None, "sources": None}), 422, "invalid-request"
    )
    assert "'rows'" in body["detail"] and "'sources'" in body["detail"]


def test_source_in_the_query_of_a_json_body_is_refused(ledger: TestClient):
    r = ledger.post(
        URL, json={"sources": {"card_events": LEDGER}}, params={"source": "card_events"}
    )
    assert "'sources'" in assert_problem(r, 422, "invalid-request")["detail"]


def test_records_count_against_the_row_limit(capped: TestClient):
    body = assert_problem(
        capped.post(URL, json={"sources": {"card_events": LEDGER}}), 422, "too-many-rows"
    )
    assert body["detail"] == "11 records in 'sources'; one evaluation takes at most 10"
    r = capped.post(URL, content=_csv(LEDGER), headers=CSV, params={"source": "card_events"})
    assert "at most 10" in assert_problem(r, 422, "too-many-rows")["detail"]
    assert capped.post(URL, json={"sources": {"card_events": LEDGER[:10]}}).status_code == 200


def test_the_body_limit_applies_to_records(settings: Settings, keys: dict[str, str]):
    with make_client(
        settings, max_body_bytes=2_000
    ) as c:  # the pack's YAML (1.2 kB) fits, 22 records do not
        _publish(c, keys["alice"])
        r = c.post(URL, json={"sources": {"card_events": LEDGER * 2}})
        assert_problem(r, 413, "payload-too-large")
        r = c.post(URL, content=_csv(LEDGER * 4), headers=CSV, params={"source": "card_events"})
        assert_problem(r, 413, "payload-too-large")


def test_no_record_value_comes_back_in_an_error(ledger: TestClient):
    secret = "s3cret-member-id-that-must-not-come-back"
    records = [{**rec, "member_id": secret, "amount": {"nested": secret}} for rec in LEDGER]
    r = ledger.post(URL, json={"sources": {"card_events": records}})
    assert_problem(r, 422, "invalid-input")
    assert secret not in r.text
    records = [
        {k: v for k, v in rec.items() if k != "store_id"} | {"member_id": secret} for rec in LEDGER
    ]
    r = ledger.post(URL, json={"sources": {"card_events": records}})
    assert_problem(r, 422, "invalid-input")
    assert secret not in r.text


def test_the_workers_scratch_directory_stays_empty(ledger: TestClient):
    """Records are measured in memory: nothing appears in the worker's private directory."""
    (worker,) = ledger.app.state.pool._all  # type: ignore[attr-defined]
    assert ledger.post(URL, json={"sources": {"card_events": LEDGER}}).status_code == 200
    assert worker.scratch.is_dir() and list(worker.scratch.iterdir()) == []
    records = [{k: v for k, v in rec.items() if k != "amount"} for rec in LEDGER]
    assert ledger.post(URL, json={"sources": {"card_events": records}}).status_code == 422
    assert list(worker.scratch.iterdir()) == []


def test_a_worker_killed_at_the_deadline_leaves_no_files(settings: Settings, keys: dict[str, str]):
    """A worker killed while it works cannot clean up: its whole scratch directory goes with it."""
    with make_client(
        settings, eval_timeout=30.0, max_rows=10**6, max_body_bytes=64 * 1024 * 1024
    ) as c:
        pool = c.app.state.pool  # type: ignore[attr-defined]
        _publish(c, keys["alice"])  # under a generous limit: publishing compiles in a worker
        pool.start()
        c.app.state.settings = dataclasses.replace(c.app.state.settings, eval_timeout=3.0)  # type: ignore[attr-defined]
        (worker,) = pool._all
        # 200 stores over 80 years: ~145,000 rows with their trace, over 15 s of work anywhere
        records = [
            dict(
                zip(
                    FIELDS,
                    (
                        f"{1950 + i % 80}-{(i // 80) % 12 + 1:02d}-03 10:00:00",
                        f"S{i % 200}",
                        f"M{i}",
                        "recharge",
                        10,
                        10,
                        0,
                        0,
                    ),
                    strict=True,
                )
            )
            for i in range(20_000)
        ]
        r = c.post(
            URL,
            content=json.dumps({"sources": {"card_events": records}, "trace": True}).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert_problem(r, 504, "evaluation-timeout")
        assert pool.killed == 1 and not worker.scratch.exists()
        (fresh,) = pool._all
        assert fresh.scratch.is_dir() and fresh.scratch != worker.scratch
    assert not fresh.scratch.exists()  # the server stopped: every worker's directory is gone


def test_records_become_text_columns_cell_for_cell():
    """Each field a column of text, as a CSV cell would hold it; a field a record lacks is blank."""
    table = json_tables({"card_events": [{"a": 'x,"y"\r\nz', "b": 1.5}, {"b": True, "c": None}]})[
        "card_events"
    ]
    assert table.n == 2 and table.text_only
    assert table.data == {"a": ['x,"y"\r\nz', ""], "b": ["1.5", "true"], "c": ["", ""]}


def test_evaluating_records_writes_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The job itself, in this process: with the temporary directory and the working directory
    both empty folders of their own, an evaluation over records (and one that fails) leaves them
    empty — the records reach DuckDB as in-memory tables, not as files."""
    (tmp_path / "tmp").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.chdir(tmp_path / "cwd")
    job = {
        "kind": "evaluate",
        "source": {"text": PACK, "name": "ledger-demo@1.0.0.yaml", "parents": None},
        "media": "json",
        "max_rows": 1000,
        "body": json.dumps(
            {"sources": {"card_events": LEDGER}, "grain": "quarter", "by": []}
        ).encode(),
    }
    outcome = jobs.run(job, jobs.CompileCache(4))
    assert _values(json.loads(outcome["body"])) == _approx({("2026-Q1",): QUARTER})
    broken = [{k: v for k, v in rec.items() if k != "amount"} for rec in LEDGER]
    job["body"] = json.dumps({"sources": {"card_events": broken}}).encode()
    outcome = jobs.run(job, jobs.CompileCache(4))
    assert outcome["problem"] == "invalid-input"
    assert outcome["detail"].startswith("source 'card_events' (records): no column 'amount'")
    assert list((tmp_path / "tmp").iterdir()) == [] and list((tmp_path / "cwd").iterdir()) == []
