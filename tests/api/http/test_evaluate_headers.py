"""POST /v1/packs/{pack}/evaluate with an export as it is (issue 14): a CSV headed by the pack's
zh labels with ¥ and thousands separators gives the façade's values for the plain sample, and an
ambiguous period cell is a 422 naming its row and column."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from engine.compile.pack import compile_pack
from engine.evaluate.evaluation import evaluate, read_table
from engine.load.library import BUILTIN_ROOT, PackLibrary
from tests.api.http.conftest import assert_problem

BAKERY = "bakery-stored-value"
SAMPLE = BUILTIN_ROOT / BAKERY / "examples" / "sample.csv"
URL = f"/v1/packs/{BAKERY}/evaluate"
CSV = {"Content-Type": "text/csv; charset=utf-8"}


def _export() -> str:
    """The sample headed by zh labels, its first recharge amount written ¥33,000.00."""
    c = compile_pack(BAKERY, PackLibrary([BUILTIN_ROOT]))
    header, rest = SAMPLE.read_text(encoding="utf-8").split("\n", 1)
    labels = [
        "期间" if h == "period" else "门店" if h == "store" else c.pack.inputs[h].label.get("zh")
        for h in header.split(",")
    ]
    assert ",33000," in rest
    return ",".join(labels) + "\n" + rest.replace(",33000,", ',"¥33,000.00",', 1)


def test_an_export_headed_by_labels_gives_the_values_of_the_sample(client: TestClient) -> None:
    r = client.post(URL, content=_export().encode("utf-8"), headers=CSV)
    assert r.status_code == 200, r.text
    c = compile_pack(BAKERY, PackLibrary([BUILTIN_ROOT]))
    want = json.loads(json.dumps(evaluate(c, read_table(SAMPLE)).to_json()))
    body = r.json()
    assert body["rows"] == want["rows"]
    assert body["warnings"][0]["code"] == "KPI-W011"
    assert body["warnings"][0]["columns"]["充值金额"] == "recharge_amount"


def test_an_ambiguous_date_is_a_422_with_its_row_and_column(client: TestClient) -> None:
    text = _export().replace("2026-02,S02", "01/02/2026,S02", 1)
    body = assert_problem(
        client.post(URL, content=text.encode("utf-8"), headers=CSV), 422, "invalid-input"
    )
    err = body["errors"][0]
    assert (err["code"], err["column"]) == ("KPI-E057", "期间")
    assert err["row"] == 4 and err["hint"] == "write the year first: 2026-02-01 or 2026-01-02"
