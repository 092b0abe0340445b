"""Event measures: SQL built as a syntax tree, run on DuckDB, equal to a plain-Python count of
the demo ledger written here independently of the engine."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from engine.compile.pack import check_pack, check_text
from engine.demo.bakery import bakery_ledger, write_ledger
from engine.evaluate.measures import DIALECTS, measure_sql, run_measures
from engine.load.library import PackLibrary

PACK = Path(__file__).resolve().parent.parent / "packs" / "measures" / "ledger-demo"


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    data = bakery_ledger(stores=3, months=4, members=150, seed=11)
    out = tmp_path_factory.mktemp("ledger")
    write_ledger(data, out)
    return data, out


def expected(data: dict) -> dict[tuple[str, str], dict[str, float]]:
    """Per (month, store): the same inputs, counted in plain Python over the ledger's rows."""
    out: dict[tuple[str, str], dict[str, float]] = defaultdict(
        lambda: {"recharge_amount": 0.0, "recharge_count": 0, "gift_income": 0.0, "new": set()}
    )
    for time, store, member, kind, amount, gift in zip(
        data["event_time"],
        data["store_id"],
        data["member_id"],
        data["kind"],
        data["amount"],
        data["gift"],
        strict=True,
    ):
        cell = out[(str(time)[:7], str(store))]
        if kind == "recharge":
            cell["recharge_amount"] += float(amount)
            cell["recharge_count"] += 1
            cell["gift_income"] += float(gift)
        if kind in ("register", "import"):
            cell["new"].add(str(member))
    return {
        k: {
            **{n: v[n] for n in ("recharge_amount", "recharge_count", "gift_income")},
            "new_members": len(v["new"]),
        }
        for k, v in out.items()
    }


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_duckdb_computes_the_inputs_a_plain_count_gives(ledger, fmt: str):
    data, folder = ledger
    c, problems = check_pack(PACK, PackLibrary([]))
    assert c is not None and not problems
    cols = run_measures(c, {"card_events": folder / f"card_events.{fmt}"})
    got = {
        (p, s): {
            n: cols[n][i]
            for n in ("recharge_amount", "recharge_count", "gift_income", "new_members")
        }
        for i, (p, s) in enumerate(zip(cols["period"], cols["store"], strict=True))
    }
    want = expected(data)
    assert set(got) == set(want)
    for key, values in want.items():
        for name, value in values.items():
            assert got[key][name] == pytest.approx(value, abs=1e-6), (key, name)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_same_tree_renders_for_every_dialect(dialect: str):
    c, _ = check_pack(PACK, PackLibrary([]))
    text = measure_sql(c, dialect)["card_events"]
    assert "recharge" in text and "IN ('register', 'import')" in text


def test_kpi_run_and_kpi_sql(ledger):
    _, folder = ledger
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "run",
            str(PACK),
            "--source",
            f"card_events={folder / 'card_events.parquet'}",
            "--grain",
            "quarter",
            "--by",
            "",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [r["period"] for r in body["rows"]] == ["2025-Q1", "2025-Q2"]
    sql = runner.invoke(app, ["sql", str(PACK), "--dialect", "spark"])
    assert (
        sql.exit_code == 0 and "DATE_TRUNC('MONTH', CAST(`event_time` AS TIMESTAMP))" in sql.stdout
    )
    missing = runner.invoke(app, ["run", str(PACK), "--source", f"other={folder}"])
    assert (
        missing.exit_code == 2
        and "error KPI-E035: pack 'ledger-demo' has no source 'other' (its sources: card_events)"
        in missing.output
    )
    dialect = runner.invoke(app, ["sql", str(PACK), "--dialect", "oracle"])
    assert dialect.exit_code == 2
    assert dialect.output.startswith("error KPI-E034: unknown SQL dialect 'oracle'")


def test_kpi_run_as_of_the_grain_all_inputs_and_kpi_sql_with_the_same_options(ledger):
    """The options of kpi run: --as-of (a partial last period), --grain all, inputs in --metrics,
    --formatted; kpi sql takes --grain, --by and --as-of and prints that plan's SQL."""
    _, folder = ledger
    runner = CliRunner()
    source = f"card_events={folder / 'card_events.parquet'}"
    result = runner.invoke(
        app,
        [
            "run",
            str(PACK),
            "--source",
            source,
            "--as-of",
            "2025-03-10",
            "--by",
            "",
            "--metrics",
            "recharge_count,recharge_per_visit",
            "--formatted",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["as_of"] == "2025-03-10" and [
        (r["period"], r["partial"]) for r in body["rows"]
    ] == [("2025-01", False), ("2025-02", False), ("2025-03", True)]  # nothing after 10 March
    assert set(body["rows"][0]["values"]) == {"recharge_count", "recharge_per_visit"}
    assert set(body["rows"][0]["formatted"]) == {"recharge_count", "recharge_per_visit"}
    lifetime = json.loads(
        runner.invoke(
            app, ["run", str(PACK), "--source", source, "--grain", "all", "--by", ""]
        ).stdout
    )
    assert [r["period"] for r in lifetime["rows"]] == ["2025-01/2025-04"] and lifetime[
        "grain"
    ] == "all"
    table = runner.invoke(
        app, ["run", str(PACK), "--source", source, "--as-of", "2025-05-10", "--format", "table"]
    )
    assert "data as of 2025-05-10" in table.stdout and "== 2025-05 * " in table.stdout
    sql = runner.invoke(
        app, ["sql", str(PACK), "--grain", "quarter", "--by", "", "--as-of", "2025-05-10"]
    )
    assert (
        sql.exit_code == 0
        and "CAST('2025-05-11' AS TIMESTAMP)" in sql.stdout
        and "kpi__r AS" in sql.stdout
    )
    bad = runner.invoke(app, ["run", str(PACK), "--source", source, "--as-of", "10/05/2025"])
    assert bad.exit_code == 2 and "must be a day such as" in bad.output


@pytest.mark.parametrize(
    ("measure", "code"),
    [
        ("{source: ledger, agg: sum, of: amount}", "KPI-R017"),
        ("{source: events, agg: sum, of: amont}", "KPI-R018"),
        ("{source: events, agg: sum, of: 'previous(amount)'}", "KPI-R018"),
        ('{source: events, agg: sum, of: amount, where: "kind == \'x"}', "KPI-F001"),
        ("{source: events, agg: sum}", "KPI-R019"),
    ],
    ids=[
        "unknown-source",
        "undeclared-column",
        "time-function",
        "unclosed-string",
        "sum-without-of",
    ],
)
def test_bad_measures_are_located_problems(measure: str, code: str):
    text = (
        "pack: bad-measure\nversion: '1.0.0'\ntitle: T\nsources:\n"
        "  events: {time: t, columns: {amount: {type: number}, kind: {type: text}, t: "
        f"{{type: time}}}}}}\ninputs:\n  x:\n    label: X\n    measure: {measure}\n"
        "metrics: {m: {label: M, formula: x}}\n"
    )
    _, problems = check_text(text)
    # the measure: line
    assert [(p.code, p.line) for p in problems if p.severity == "error"] == [(code, 9)]
