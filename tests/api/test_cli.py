"""The kpi command: compiler-style output, exit codes, JSON, lineage and graphs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1"})


@pytest.fixture
def broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "pack.yaml").write_text(
        textwrap.dedent("""\
        pack: shop
        version: '1.0.0'
        title: Shop
        inputs:
          revenue: {label: Revenue}
          orders: {label: Orders}
        metrics:
          aov:
            label: Average order value
            formula: revenu / orders
          total: {label: Revenue total, formula: revenue}
    """),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    return folder


def test_validate_prints_problems_like_a_compiler_and_exits_1(broken: Path):
    result = run("validate", "shop")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert (
        lines[0]
        == "shop/pack.yaml:10:14: error KPI-R001: unknown name 'revenu' in the formula of 'aov'"
    )
    assert lines[1] == "  10 |     formula: revenu / orders"
    assert lines[2] == "     |              ^~~~~~"
    assert lines[3] == "  hint: did you mean 'revenue'?"


def test_validate_json_reports_problems_as_data(broken: Path):
    result = run("validate", "shop", "--json")
    assert result.exit_code == 1
    [entry] = json.loads(result.output)
    assert entry["valid"] is False
    assert entry["problems"] == [
        {
            "code": "KPI-R001",
            "severity": "error",
            "message": "unknown name 'revenu' in the formula of 'aov'",
            "file": "shop/pack.yaml",
            "line": 10,
            "column": 14,
            "path": "metrics.aov.formula",
            "hint": "did you mean 'revenue'?",
        }
    ]


def test_validate_the_builtin_packs_succeeds():
    result = run("validate")
    assert result.exit_code == 0, result.output
    assert "✓ bakery-stored-value 1.0.0" in result.output
    assert "✓ membership-core 1.0.0" in result.output


def test_a_missing_pack_is_an_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    result = run("validate", "no-such-pack")
    assert result.exit_code == 1
    assert "KPI-L009" in result.output and "Traceback" not in result.output
    result = run("lineage", "no-such-pack", "x")
    assert result.exit_code == 2
    assert "no pack 'no-such-pack'" in result.output


def test_lineage_of_an_unknown_metric_suggests_the_closest():
    result = run("lineage", "bakery-stored-value", "closing_amout")
    assert result.exit_code == 2
    assert "did you mean 'closing_amount'?" in result.output


def test_lineage_text_shows_the_expansion_and_the_tree():
    result = run("lineage", "bakery-stored-value", "closing_amount", "--locale", "en")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("closing_amount — ")
    assert (
        "  formula      opening_amount + recharge_amount + points_to_balance - consume_amount"
        in out
    )
    assert "previous(closing_net, default=initial_net)" in out
    assert "imported_balance" in out and "(see above)" not in out.split("made of:")[0]


def test_lineage_json_has_the_contract_keys():
    result = run("lineage", "bakery-stored-value", "closing_amount", "--json")
    info = json.loads(result.output)
    for key in (
        "pack",
        "version",
        "metric",
        "label",
        "formula",
        "expanded",
        "latex",
        "inputs",
        "params",
        "upstream",
        "downstream",
        "defined_in",
        "source",
    ):
        assert key in info
    assert info["defined_in"]["file"].endswith(".yaml")


@pytest.mark.parametrize(
    ("fmt", "start"),
    [("json", "{"), ("dot", 'digraph "bakery-stored-value" {'), ("mermaid", "flowchart LR")],
)
def test_graph_formats(fmt: str, start: str):
    result = run("graph", "bakery-stored-value", "--format", fmt)
    assert result.exit_code == 0
    assert result.output.startswith(start)
    if fmt == "json":
        data = json.loads(result.output)
        assert {"from": "closing_net", "to": "opening_net", "lagged": True} in data["edges"]


def test_graph_rejects_an_unknown_format():
    result = run("graph", "bakery-stored-value", "--format", "png")
    assert result.exit_code == 2
    assert "choose json, dot or mermaid" in result.output


def test_schema_prints_the_json_schema():
    result = run("schema")
    assert json.loads(result.output)["title"] == "KPI Forge pack"


@pytest.mark.parametrize(
    "command", ["validate", "lineage", "graph", "checks", "schema", "codes", "packs"]
)
def test_every_command_has_help(command: str):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Usage: kpi " + command in " ".join(result.output.split())


def test_demo_data_writes_a_ledger_that_reads_back(tmp_path: Path):
    import duckdb

    result = run(
        "demo-data",
        "bakery",
        "--out",
        str(tmp_path / "ledger"),
        "--stores",
        "2",
        "--months",
        "3",
        "--members",
        "60",
        "--seed",
        "3",
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect()
    [(n_csv,)] = con.execute(
        f"SELECT count(*) FROM read_csv_auto('{tmp_path / 'ledger' / 'card_events.csv'}')"
    ).fetchall()
    [(n_pq, stores)] = con.execute(
        "SELECT count(*), count(DISTINCT store_id) "
        f"FROM '{tmp_path / 'ledger' / 'card_events.parquet'}'"
    ).fetchall()
    assert n_csv == n_pq > 0 and stores == 2
    assert f"{n_pq:,} events" in result.output
    bad = run("demo-data", "bakery", "--out", str(tmp_path / "x"), "--start", "2025-13")
    assert bad.exit_code == 2 and "must be a month" in bad.output


def test_a_bidi_control_is_reported_without_reordering_the_echoed_line():
    pack = Path(__file__).resolve().parents[1] / "packs" / "invalid" / "l012_bidi_control" / "pack"
    result = run("validate", str(pack))
    assert result.exit_code == 1
    assert "KPI-L012" in result.output and "U+202E (RIGHT-TO-LEFT OVERRIDE)" in result.output
    echoed = [line for line in result.output.splitlines() if line.lstrip().startswith("10 |")]
    assert echoed and "\ufffd" in echoed[0]
    assert not any(
        ch in result.output for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    )
