"""The example datasets of the built-in packs: generated reproducibly, every rule fires, goldens
hold.

``metrics/bakery-stored-value/examples/stores-24m.csv`` (5 shops × 24 months) and
``metrics/membership-core/examples/sample.csv`` (3 regions × 12 months) are made by committed,
seeded generator scripts; their evaluations are committed as golden files and reviewed by hand
(see each examples ``README.md``). After an intended change of a pack or of the engine,
regenerate the goldens with ``KPI_UPDATE_GOLDEN=1 pytest tests/test_pack_examples.py`` and
review the diff.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from engine.compile.pack import compile_pack
from engine.load.library import PackLibrary

ROOT = Path(__file__).resolve().parent.parent
BAKERY = ROOT / "metrics" / "bakery-stored-value" / "examples"
CORE = ROOT / "metrics" / "membership-core" / "examples"
STORES = BAKERY / "stores-24m.csv"
CORE_SAMPLE = CORE / "sample.csv"
# (pack, data, golden, options of `kpi eval`)
GOLDENS = [
    ("bakery-stored-value", STORES, BAKERY / "stores-24m.expected.json", ["--grain", "quarter"]),
    ("membership-core", CORE_SAMPLE, CORE / "sample.expected.json", []),
]
GENERATORS = [(BAKERY / "make_stores_24m.py", STORES), (CORE / "make_sample.py", CORE_SAMPLE)]
runner = CliRunner()


def _eval(pack: str, data: Path, *options: str) -> str:
    result = runner.invoke(
        app, ["eval", pack, "--inputs", str(data), *options], env={"NO_COLOR": "1"}
    )
    assert result.exit_code == 0, result.output
    return result.output


def _fired(body: dict, dim: str) -> dict[str, list[str]]:
    fired: dict[str, list[str]] = defaultdict(list)
    for r in body["rows"]:
        for x in r["rules"]:
            fired[x["id"]].append(f"{r['dims'][dim]} {r['period']}")
    return fired


@pytest.fixture(scope="module")
def stores_monthly() -> dict:
    return json.loads(_eval("bakery-stored-value", STORES))


# -- (a) every rule fires ------------------------------------------------------------------------


def test_every_bakery_rule_fires_at_least_once_on_stores_24m(stores_monthly: dict):
    rules = set(compile_pack("bakery-stored-value", PackLibrary.default()).pack.rules)
    fired = _fired(stores_monthly, "store")
    assert sorted(rules - set(fired)) == []
    assert set(fired) <= rules


def test_every_core_rule_fires_at_least_once_on_the_core_sample():
    rules = set(compile_pack("membership-core", PackLibrary.default()).pack.rules)
    fired = _fired(json.loads(_eval("membership-core", CORE_SAMPLE)), "region")
    assert sorted(rules - set(fired)) == []


def test_the_troubled_shop_is_where_the_critical_problems_are(stores_monthly: dict):
    fired = _fired(stores_monthly, "store")
    # the story of README.md: S05 (old town) loses members to a competitor from mid-2025
    for rule in ("churn_too_high", "low_activity"):
        assert {x.split()[0] for x in fired[rule]} == {"S05"}, rule
    assert fired["churn_too_high"] == ["S05 2026-10", "S05 2026-11", "S05 2026-12"]
    s05 = [x for x in fired["low_sedimentation"] if x.startswith("S05")]
    assert len(s05) >= 18  # most of its 24 months
    # the Spring Festival campaigns (2025-01, 2026-02) push every shop's bonus share above 20%
    spring = {x for x in fired["gift_share_too_high"] if x.endswith(("2025-01", "2026-02"))}
    assert spring == {f"S0{i} {p}" for i in range(1, 6) for p in ("2025-01", "2026-02")}
    assert fired["small_balance_gap"] == [
        "S01 2026-03",
        "S02 2025-06",
        "S03 2025-11",
        "S05 2026-07",
    ]


def test_stores_24m_keeps_its_identities():
    with STORES.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5 * 24
    assert {r["store"] for r in rows} == {"S01", "S02", "S03", "S04", "S05"}
    closing: dict[str, int] = {}
    for r in rows:  # export order: by month, then shop
        n = {
            k: int(v)
            for k, v in r.items()
            if k not in ("period", "store", "reported_closing_amount")
        }
        assert n["recharge_amount"] == n["net_income"] + n["gift_income"], r["period"]
        assert n["consume_amount"] == n["net_spent"] + n["gift_spent"], r["period"]
        assert (
            n["closing_members"] == n["opening_members"] + n["new_members"] - n["churned_members"]
        )
        assert n["points_converted"] == 100 * n["points_to_balance"]
        if r["store"] in closing:
            assert n["opening_members"] == closing[r["store"]], (r["store"], r["period"])
        closing[r["store"]] = n["closing_members"]
        assert (n["members_at_start"], n["total_members"]) == (
            n["opening_members"],
            n["closing_members"],
        )
        assert n["passives"] + n["promoters"] + n["detractors"] == n["survey_responses"]


# -- (b) the goldens -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pack", "data", "golden", "options"), GOLDENS, ids=[g[0] for g in GOLDENS]
)
def test_the_golden_is_the_current_output(
    pack: str, data: Path, golden: Path, options: list[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(ROOT)
    actual = _eval(pack, data.relative_to(ROOT), *options)
    if os.environ.get("KPI_UPDATE_GOLDEN"):
        golden.write_text(actual, encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == actual, (
        f"{golden.relative_to(ROOT)} differs from `kpi eval {pack} --inputs "
        f"{data.relative_to(ROOT)} {' '.join(options)}`; if the change is intended, regenerate "
        "with `KPI_UPDATE_GOLDEN=1 pytest tests/test_pack_examples.py` and review the diff"
    )


def test_the_bakery_golden_is_quarterly_by_store():
    body = json.loads((BAKERY / "stores-24m.expected.json").read_text(encoding="utf-8"))
    assert (body["pack"], body["grain"], body["by"]) == (
        "bakery-stored-value",
        "quarter",
        ["store"],
    )
    assert len(body["rows"]) == 5 * 8
    # hand-checked in examples/README.md: S03 2026-Q1
    s03 = next(
        r for r in body["rows"] if r["dims"] == {"store": "S03"} and r["period"] == "2026-Q1"
    )
    assert s03["values"]["closing_amount"] == 6251  # 6,970 + 59,938 + 62 - 60,719
    # 8,108.17
    assert s03["values"]["avg_balance"] == pytest.approx((7_844.5 + 8_857 + 7_623) / 3, rel=1e-12)
    # 0.559
    assert s03["values"]["active_rate"] == pytest.approx(2_089 / 3 / (3_740 / 3), rel=1e-12)


# -- (c) the generators reproduce the committed data -----------------------------------------------


@pytest.mark.parametrize(("script", "committed"), GENERATORS, ids=[g[0].name for g in GENERATORS])
def test_the_generator_reproduces_the_committed_csv(script: Path, committed: Path, tmp_path: Path):
    out = tmp_path / committed.name
    subprocess.run(
        [sys.executable, str(script.relative_to(ROOT)), "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert out.read_bytes() == committed.read_bytes(), (
        f"{script.name} no longer produces {committed.relative_to(ROOT)}"
    )


@pytest.mark.parametrize(("script", "committed"), GENERATORS, ids=[g[0].name for g in GENERATORS])
def test_the_generator_does_not_use_the_engine(script: Path, committed: Path):
    text = script.read_text(encoding="utf-8")
    assert "import engine" not in text and "from engine" not in text and "from api" not in text
